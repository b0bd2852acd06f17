"""Per-student variants: every student of a roster gets the same layer with numbers of their own.

The numbers are a function of the seed, the student's id, the tensor and the entry, through SHA-256:
the same on every machine and Python, whatever the roster's order, and for one student whatever the
others are. So `template ... --variants ROSTER --seed S` can hand out DIR/<id>.toml, and `check FILES
--variants ROSTER --seed S` rebuild each student's problem from the id alone, whatever their file says.

Numbers are small integers, -4 to 4 (so answers stay exact); a softmax-ce target is a class from 1 to N.
The input of a max-pooling layer is drawn without repeats (distinct integers around 0), so no window has
a tie, unless the problem shares ties (`ties = "split"`: then ties are what it is about).

>>> draw_values("conv", {"input": "2x2", "kernel": "1x1"}, 7, "alice") == draw_values("conv", {"input": "2x2", "kernel": "1x1"}, 7, "alice")
True
>>> draw_values("pool", {"input": "2x2", "window": "2x2"}, 7, "alice")["input"]
[[[2, -4], [4, -1]]]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..errors import OptionError, printable

LOW, HIGH = -4, 4
MAX_ROSTER = 100_000
MAX_ROSTER_BYTES = 10 * 1024 * 1024
MAX_SEARCH = 2000  # roster ids searched for the owner of a copied file's values


def read_roster(path: str) -> list[str]:
    """The student ids of a roster file: one per line (blank lines and `#` comments skipped), each a plain
    id that can name a file, none twice. Every problem is one OptionError line naming the line."""
    from ..files import read_small_text
    from .answers import MAX_STUDENT

    text = read_small_text(path, "a roster (one student id per line)", MAX_ROSTER_BYTES,
                           lambda problem: OptionError(f"--variants {path!r} {problem}"), regular_only=True)
    ids: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        student = line.strip()
        if not student or student.startswith("#"):
            continue
        where = f"--variants {path!r} line {number}"
        if len(student) > MAX_STUDENT:
            raise OptionError(f"{where}: the id is {len(student)} characters long; expected a plain id of at most {MAX_STUDENT}")
        if not student.isprintable() or any(c in student for c in '/\\:*?"<>|') or student in (".", "..") or student.startswith("."):
            raise OptionError(f"{where}: {printable(student)!r} cannot name a file; expected an id like s1234567 "
                              "(letters, digits, - _ @ . + and spaces, not starting with a dot)")
        if student in seen:
            raise OptionError(f"{where}: {printable(student)!r} is already on line {seen[student]}; every id once")
        seen[student] = number
        ids.append(student)
        if len(ids) > MAX_ROSTER:
            raise OptionError(f"--variants {path!r} has more than {MAX_ROSTER:,} ids")
    if not ids:
        raise OptionError(f"--variants {path!r} has no student ids; expected one id per line")
    return ids


def parse_seed(text: str, option: str = "--seed") -> int:
    if not str(text).strip().isdigit() or len(str(text).strip()) > 18:
        raise OptionError(f"{option} must be a whole number like 0 or 2026, got {text!r}")
    return int(text)


def _numbers(seed: int, student: str, key: str, count: int, low: int = LOW, high: int = HIGH) -> list[int]:
    """`count` integers from low to high, each from the hash of (seed, student, key, its place)."""
    span = high - low + 1
    return [low + int.from_bytes(hashlib.sha256(f"{seed}\x00{student}\x00{key}\x00{k}".encode()).digest()[:8], "big") % span
            for k in range(count)]


def _distinct(seed: int, student: str, key: str, count: int) -> list[int]:
    """`count` different integers around 0, in an order drawn from the hash."""
    low = -(max(count, HIGH - LOW + 1) // 2)
    pool = range(low, low + max(count, HIGH - LOW + 1))
    order = sorted(pool, key=lambda v: hashlib.sha256(f"{seed}\x00{student}\x00{key}\x00order\x00{v}".encode()).digest())
    return order[:count]


def _tensor(seed: int, student: str, key: str, shape: tuple[int, ...], distinct: bool = False) -> list:
    count = int(np.prod(shape, dtype=np.int64))
    flat = _distinct(seed, student, key, count) if distinct else _numbers(seed, student, key, count)
    return np.array(flat, dtype=object).reshape(shape).tolist()


def draw_values(layer: str, options: dict, seed: int, student: str) -> dict:
    """The values of one student's variant of a layer ([problem] layer and options, as an answer file
    holds them): every tensor a values file may give for it. SymgradError when the options are bad."""
    if layer == "net":
        return _net_values(options, seed, student)
    return {key: _tensor(seed, student, key, shape, distinct)
            for key, shape, distinct in _value_shapes(layer, json.dumps(options, sort_keys=True))}


@lru_cache(maxsize=16)
def _value_shapes(layer: str, options: str) -> tuple[tuple[str, tuple[int, ...], bool], ...]:
    """(key, shape, drawn without repeats) for each tensor a values file of this layer may give: a max
    pooling input has no repeats unless the problem shares ties (ties = "split": ties are its subject)."""
    from .. import api

    derivation = {"conv": api.conv, "pool": api.pool, "convtranspose": api.convtranspose}[layer](**json.loads(options))
    spec, symbols = derivation.spec, derivation.symbols
    distinct = layer == "pool" and spec.mode == "max" and spec.ties != "split"
    return tuple((key, symbols[key].shape, distinct and key == "input") for key in spec.value_keys(derivation.loss))


def _net_values(options: dict, seed: int, student: str) -> dict:
    from ..layers.net import param_shape
    from ..netspec import NetSpec

    keep = {key: options[key] for key in ("input", "layers", "in_channels", "index") if key in options}
    spec = NetSpec.build(**keep)
    layers = []
    for stage in spec.stages:
        at = f"stage{stage.index}"
        item = {key: _tensor(seed, student, f"{at}.{key}", param_shape(stage, key)) for key in stage.params}
        if stage.kind == "softmax-ce":
            item["target"] = _numbers(seed, student, f"{at}.target", 1, 1, stage.input_shape[0])[0]
        elif stage.kind == "mse":
            item["target"] = _tensor(seed, student, f"{at}.target", param_shape(stage, "target"))
        layers.append(item)
    values = {"input": _tensor(seed, student, "input", spec.input_shape), "layers": layers}
    if not spec.stages[-1].is_loss:
        values["grad_output"] = _tensor(seed, student, "grad_output", spec.stages[-1].output_shape)
    return values


@dataclass(frozen=True)
class Variants:
    """A roster and a seed: what `check --variants` judges each file by."""

    roster: str  # the roster file, as given
    seed: int
    students: frozenset[str]

    @classmethod
    def read(cls, roster: str, seed: str) -> "Variants":
        return cls(roster, parse_seed(seed), frozenset(read_roster(roster)))

    def apply(self, answer_file, notes: list[str]):
        """The answer file with the values the seed gives its student; AnswerFileError when the student is
        not on the roster. A file whose own values differ gets a note (the seed's are the ones judged)."""
        from .answers import AnswerFileError

        path, student = answer_file.path, answer_file.student
        if not student:
            raise AnswerFileError(f'{path}: has no student id; with --variants each file is judged by the values '
                                  f'of its student (student = "..." at its top, as the template wrote it)')
        if student not in self.students:
            raise AnswerFileError(f"{path}: student {printable(student)!r} is not on the roster {self.roster!r} "
                                  f"({len(self.students)} ids); expected the id the file was handed out with")
        values = draw_values(answer_file.layer, answer_file.options, self.seed, student)
        if answer_file.values is not None and _flat(answer_file.values) != _flat(values):
            note = f"its [problem.values] are not the ones seed {self.seed} gives student {printable(student)!r}"
            owner = self.owner(answer_file)
            if owner is not None:
                note += f" but the ones it gives {printable(owner)!r} (a copy of their file?)"
            notes.append(note + "; judged against the seed's for " + repr(printable(student)))
        return replace(answer_file, values=values)

    def owner(self, answer_file) -> str | None:
        """The student (of a roster up to MAX_SEARCH ids) whose numbers an answer file's values are."""
        if len(self.students) > MAX_SEARCH:
            return None
        given = _flat(answer_file.values)
        return next((other for other in sorted(self.students)
                     if _flat(draw_values(answer_file.layer, answer_file.options, self.seed, other)) == given), None)


def _flat(value):
    """Nested values as one flat list per key (a file may leave out channel levels of size 1)."""
    if isinstance(value, dict):
        return {key: _flat(item) for key, item in value.items()}
    if isinstance(value, list):
        return [number for item in value for number in (_flat(item) if isinstance(item, list) else [_flat(item)])]
    return value
