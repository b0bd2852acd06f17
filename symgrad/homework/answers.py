"""Answer files: read the TOML, check its structure, and hand back plain checked data.

    student = "optional id"
    [problem]                 # layer = "conv" | "pool", then the CLI's layer options
    [problem.values]          # optional: numbers, as a --values file holds them
    [answer]                  # any subset of the gradients (and forward), nested like the tensors

Nothing from the file is evaluated: TOML is parsed by `tomllib` (its big arrays of strings by
`toml_arrays`, to the same result), answers by `parse.py`'s grammar.
Every problem is an `AnswerFileError` naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from ..errors import AnswerFileError
from ..files import read_small_text
from ..layers import PROBLEM_KINDS as KINDS  # what a [problem] layer may be (each loaded when used)

NET_ANSWERS = ("forward", "grad_input", "grad_kernel", "grad_weight", "grad_bias", "new_kernel", "new_weight", "new_bias")
_STAGE_TABLE = re.compile(r"stage[1-9][0-9]{0,2}")
from . import toml_arrays
from .tokens import quote

MAX_FILE_BYTES = 1024 * 1024
MAX_DOTTED_KEY = 16  # parts of a dotted TOML key (tomllib is slow on very long ones)
# linear time: a part starts only where a word does (the lookbehind), and no quantifier gives back
# what it took (possessive), so a long run of letters is scanned once, not once per starting position
_LONG_DOTTED_KEY = re.compile(r"(?<![A-Za-z0-9_-])(?:(?:[A-Za-z0-9_-]++|\"[^\"\n]*+\"|'[^'\n]*+')[ \t]*+\.[ \t]*+){%d,}"
                              % MAX_DOTTED_KEY)
MAX_STUDENT = 200

TOP_KEYS = ("student", "problem", "answer")



@dataclass(frozen=True)
class AnswerFile:
    path: str
    student: str
    layer: str | None  # conv | pool; None: no usable [problem] (allowed only with a reference)
    options: dict  # layer options, keys as in the kind's `options` (only those given)
    values: dict | None  # [problem.values], or None
    answers: dict | None  # key -> nested answers, as written; None: no [answer] table (see require_answers)


def read_text(path: str, what: str = "answer file") -> str:
    """A small UTF-8 file's text; every problem is one AnswerFileError line naming the file."""
    return read_small_text(path, f"a TOML {what}", MAX_FILE_BYTES, lambda problem: AnswerFileError(f"{path}: {problem}"),
                           regular_only=True)


def parse_toml(text: str, path: str) -> dict:
    if text.count(".") >= MAX_DOTTED_KEY - 1 and _LONG_DOTTED_KEY.search(text):  # (the count: most files have no dots)
        raise AnswerFileError(f"{path}: has a dotted key of more than {MAX_DOTTED_KEY} parts; not an answer file")
    try:
        return toml_arrays.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AnswerFileError(f"{path}: is not valid TOML: {error}") from None
    except RecursionError:
        raise AnswerFileError(f"{path}: is nested too deeply to be an answer file") from None
    except ValueError:  # an integer with more digits than Python converts
        raise AnswerFileError(f"{path}: is not valid TOML: a number has too many digits") from None


def load_answer_file(path: str, reference: AnswerFile | None = None) -> AnswerFile:
    """Read and check one answer file's structure (the layer itself is checked when it is built).

    With a reference (check --problem), the file's own [problem] is not used: one that is missing or
    malformed gives layer None instead of an error."""
    data = parse_toml(read_text(path), path)
    unknown = [key for key in data if key not in TOP_KEYS]
    if unknown:
        raise AnswerFileError(
            f"{path}: unknown key {quote(unknown[0])}; expected student, [problem] and [answer]"
        )
    student = data.get("student", "")
    if isinstance(student, int) and not isinstance(student, bool):
        student = str(student)
    if not isinstance(student, str):
        raise AnswerFileError(f"{path}: student must be a string like \"s1234567\", got {_kind(student)}")
    if len(student) > MAX_STUDENT:
        raise AnswerFileError(f"{path}: student is {len(student)} characters long; at most {MAX_STUDENT}")
    if any(not ch.isprintable() for ch in student):
        raise AnswerFileError(f"{path}: student contains control characters; expected a plain id")
    try:
        layer, options, values = read_problem(data.get("problem"), path)
    except AnswerFileError:
        if reference is None:
            raise
        layer, options, values = None, {}, None
    answers = data.get("answer")
    if answers is None:
        return AnswerFile(path, student, layer, options, values, None)
    if not isinstance(answers, dict):
        raise AnswerFileError(f"{path}: answer must be a table ([answer]), got {_kind(answers)}")
    kind = KINDS[layer or reference.layer]
    if kind.name == "net":
        return AnswerFile(path, student, layer, options, values, _net_answers(answers, path))
    allowed = kind.answers
    for key in answers:
        if key not in allowed:
            elsewhere = layer is not None and any(key in other.answers for other in KINDS.values())
            hint = f" (a {kind.noun} layer has only {' and '.join(reversed(allowed))})" if elsewhere else ""
            raise AnswerFileError(f"{path}: [answer] has the unknown key {quote(key)}{hint}; expected {', '.join(allowed)}")
    return AnswerFile(path, student, layer, options, values, answers)


def _net_answers(answers: dict, path: str) -> dict:
    """A network's [answer.stageK] tables as flat keys `stageK.key`, every key checked."""
    flat = {}
    for table, inner in answers.items():
        if not _STAGE_TABLE.fullmatch(table) or not isinstance(inner, dict):
            raise AnswerFileError(f"{path}: [answer] has {quote(table)}; a network's answers go in tables "
                                  f"[answer.stage1], [answer.stage2], ... (one per stage)")
        for key, value in inner.items():
            if key not in NET_ANSWERS:
                raise AnswerFileError(f"{path}: [answer.{table}] has the unknown key {quote(key)}; expected "
                                      f"{', '.join(NET_ANSWERS)}")
            flat[f"{table}.{key}"] = value
    return flat


def require_answers(answer_file: AnswerFile) -> None:
    """Refuse a file with no answers; checked after its problem is built, so a bad problem is named first."""
    if answer_file.answers is None:
        raise AnswerFileError(f"{answer_file.path}: has no [answer] table; expected answers like grad_kernel = [[\"...\"]]")
    if not answer_file.answers and answer_file.layer == "net":
        raise AnswerFileError(f"{answer_file.path}: [answer] is empty; expected tables like [answer.stage1] with grad_input = [...]")
    if not answer_file.answers:
        allowed = KINDS[answer_file.layer].answers
        raise AnswerFileError(f"{answer_file.path}: [answer] is empty; expected at least one of {', '.join(allowed)}")


def read_problem(problem, path: str) -> tuple[str, dict, dict | None]:
    """(layer, options, values) from a [problem] table, with every key and type checked."""
    if problem is None:
        raise AnswerFileError(f"{path}: has no [problem] table; expected layer = \"conv\" and the layer's options")
    if not isinstance(problem, dict):
        raise AnswerFileError(f"{path}: problem must be a table ([problem]), got {_kind(problem)}")
    layer = problem.get("layer")
    if not isinstance(layer, str) or layer not in KINDS:
        got = "nothing" if layer is None else quote(layer) if isinstance(layer, str) else _kind(layer)
        quoted = [f'"{name}"' for name in KINDS]
        names = ", ".join(quoted[:-1]) + " or " + quoted[-1]
        raise AnswerFileError(f"{path}: [problem] layer must be {names}, got {got}")
    allowed = KINDS[layer].options
    options: dict = {}
    for key, value in problem.items():
        if key in ("layer", "values"):
            continue
        name = key.replace("-", "_")
        if name not in allowed:
            raise AnswerFileError(f"{path}: [problem] has the unknown key {quote(key)}; a {layer} layer takes "
                                  f"{', '.join(allowed)} (and values)")
        if name in options:
            raise AnswerFileError(f"{path}: [problem] gives {name} twice")
        if name in ("bias", "ceil_mode", "count_include_pad"):
            if not isinstance(value, bool):
                raise AnswerFileError(f"{path}: [problem] {name} must be true or false, got {_kind(value)}")
        elif isinstance(value, bool) or not isinstance(value, (str, int)):
            raise AnswerFileError(f"{path}: [problem] {key} must be a string or a whole number, got {_kind(value)}")
        elif isinstance(value, str) and len(value) > (1000 if name == "layers" else 100):
            raise AnswerFileError(f"{path}: [problem] {key} is too long ({len(value)} characters)")
        elif isinstance(value, int) and abs(value) > 10**9:
            raise AnswerFileError(f"{path}: [problem] {key} is {value if abs(value) < 10**30 else 'huge'}; too large")
        options[name] = value
    for required in KINDS[layer].required:
        if required not in options:
            raise AnswerFileError(f"{path}: [problem] has no {required}; expected e.g. {required} = \"3x3\"")
    values = problem.get("values")
    if values is not None and not isinstance(values, dict):
        raise AnswerFileError(f"{path}: [problem] values must be a table ([problem.values]), got {_kind(values)}")
    return layer, options, values


def _kind(item) -> str:
    from ..values import _kind as kind

    name = type(item).__name__
    return kind(item) if name not in ("datetime", "date", "time") else f"a TOML {name}"


def check_judgeable(derivation, max_terms: int) -> None:
    """Refuse a problem whose answers cannot be judged (or written) within the limits: symbolic max
    pooling whose Heaviside answers name window-squared cells, or right answers too long for an answer
    file (about 16 characters per product term)."""
    from ..errors import TooLargeError
    if derivation.layer == "pool" and derivation.named_cells > max_terms:
        raise TooLargeError(
            f"layer too large to judge: symbolic max pooling answers name each window's other cells, about "
            f"{derivation.named_cells:,} names, over the limit of {max_terms:,}; give the input's numbers in "
            f"[problem.values] (--values), use a smaller window, or raise --max-terms")
    if derivation.layer in ("conv", "convtranspose") and derivation.numeric is None:
        cost = derivation.mse_expanded_terms
        if cost > max_terms:
            raise TooLargeError(
                f"layer too large to judge with loss mse: every dL/dz is z - t with z expanded, about {cost:,} "
                f"terms in the expected answers, over the limit of {max_terms:,}; use a smaller layer, loss "
                f"generic, or raise --max-terms")
    size = 16 * sum(len(table) for _, table in derivation.gradients())
    if size > MAX_FILE_BYTES:
        raise TooLargeError(
            f"layer too large to judge: its right answers take about {size / 2**20:.1f} MB, and answer files "
            f"are read up to {MAX_FILE_BYTES // 2**20} MB; use a smaller layer")
