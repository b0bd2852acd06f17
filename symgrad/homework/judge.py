"""Judging answer files: what each entry should be, whether the answer equals it, and which slip it shows.

One `Problem` per distinct [problem] table (cached across a batch): the derivation, the meaning of
every name as a polynomial (values put in, dL/dz as the loss defines it, z as its expansion), the
expected polynomial of every entry, and the same for each known slip, all built from the derivation's
term tables. An answer is parsed into a polynomial over the same atoms and compared as a polynomial:
exactly when the problem is symbolic, coefficient by coefficient within a tolerance when it has values.

>>> p = Problem.build("conv", {"input": "3x3", "kernel": "2x2"}, None)
>>> r = judge_entry(p, "grad_kernel", 0, "x_1_1*dz_1_1 + x_1_2*dz_1_2 + x_2_1*dz_2_1 + x_2_2*dz_2_2")
>>> r.status, r.name
('right', 'dL/dw_1_1')
>>> r = judge_entry(p, "grad_kernel", 1, "x_1_1*dz_1_1 + x_1_2*dz_1_2 + x_2_1*dz_2_1 + x_2_2*dz_2_2")
>>> r.status, r.missing, r.extra
('wrong', ['x_1_2*dz_1_1', 'x_1_3*dz_1_2', 'x_2_2*dz_2_1', 'x_2_3*dz_2_2'], ['x_1_1*dz_1_1', 'x_1_2*dz_1_2', 'x_2_1*dz_2_1', 'x_2_2*dz_2_2'])
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np

from ..errors import SymgradError
from ..spec import CHECK_MAX_TERMS, ConvSpec, PoolSpec
from ..tensor import ONE, Terms, take
from ..values import ValuesError, flatten, kept_axes
from .answers import AnswerFile, AnswerFileError
from .parse import MAX_TEXT, parse_answer, quote
from .poly import MAX_FILE_WORK, AnswerError, Budget, Poly

DEFAULT_TOLERANCE = 1e-6
SHOWN_TERMS = 50  # missing / extra terms kept per entry

SLIPS = {
    "no_rot180": "dL/dX computed without rot180 (the kernel was not rotated by 180°)",
    "no_dilation": "dL/dZ not dilated by the stride (stride > 1 needs stride-1 zeros between its entries)",
    "padding_not_cropped": "padding not cropped (the answer keeps rows or columns of the padding; dL/dX is the "
                           "padded gradient with p cut from each side)",
    "rows_cols_swapped": "row and column indices swapped",
    "every_cell": "the max-pool gradient given to every cell of the window, not only to its maximum",
    "averaged": "the max-pool gradient averaged over the window, as for average pooling",
    "not_divided": "the average-pool gradient not divided by the window size",
}
GROUP_WORDS = {  # how messages (first) and templates (second) name each group of symbols
    "input": ("input", "input X"), "kernel": ("kernel", "kernel W"), "bias": ("bias", "bias b"),
    "grad_output": ("dL/d{z}", "dL/d{z}"), "output": ("outputs", "outputs {z}"), "target": ("targets", "targets t"),
}
TITLES = {"forward": "forward", "grad_kernel": "dL/dW", "grad_input": "dL/dX", "grad_bias": "dL/db"}
ANSWER_GROUP = {"forward": "output", "grad_kernel": "kernel", "grad_input": "input", "grad_bias": "bias"}


# --- verdicts


@dataclass
class EntryVerdict:
    key: str
    index: tuple[int, ...]  # 0-based, in the tensor's full shape (channels first)
    name: str  # dL/dw_1_2, or z_1_1 for forward
    status: str  # right | wrong | unanswered | error
    answer: str = ""
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    slips: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class KeyReport:
    key: str
    shape: tuple[int, ...]
    verdicts: list[EntryVerdict] = field(default_factory=list)
    error: str = ""  # the whole tensor could not be read (wrong shape)
    note: str = ""  # e.g. a slip shared by every wrong entry
    kept: tuple[int, ...] | None = None  # the axes the file's nesting has (size-1 channel levels may be left out)

    def file_index(self, index: tuple[int, ...]) -> tuple[int, ...]:
        """An entry's index as the file nests it: answer.grad_kernel[1][0] for a 2x2 kernel written
        without its channel levels, not [0][0][1][0]."""
        return index if self.kept is None else tuple(index[axis] for axis in self.kept)

    @property
    def max_score(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def score(self) -> int:
        return sum(v.status == "right" for v in self.verdicts)


@dataclass
class FileReport:
    path: str
    student: str = ""
    problem: str = ""  # the layer in a few words
    keys: list[KeyReport] = field(default_factory=list)
    error: str = ""  # the file is unusable
    internal: bool = False  # an unexpected error (a bug), not the file's fault
    notes: list[str] = field(default_factory=list)  # e.g. the file's [problem] differs from the reference

    @property
    def score(self) -> int:
        return sum(k.score for k in self.keys)

    @property
    def max_score(self) -> int:
        return sum(k.max_score for k in self.keys)

    @property
    def errors(self) -> list[str]:
        """One line per unusable part: the file, a tensor, or an entry."""
        if self.error:
            return [self.error]
        out = []
        for k in self.keys:
            if k.error:
                out.append(f"{self.path}: {k.error}")
            out += [f"{self.path}: answer.{v.key}{_index_text(k.file_index(v.index))}: {v.message}"
                    for v in k.verdicts if v.status == "error"]
        return out

    @property
    def status(self) -> str:
        if self.errors:
            return "error"
        return "right" if self.score == self.max_score else "wrong"


def _index_text(index: tuple[int, ...]) -> str:
    return "".join(f"[{i}]" for i in index)


# --- the problem: derivation, names, meanings, expected entries and slips


class Problem:
    """Everything needed to judge answers to one problem; built once per distinct [problem] table."""

    def __init__(self, derivation, tolerance: float | None):
        self.derivation = derivation
        self.symbols = derivation.symbols
        self.numeric = derivation.numeric
        self.tolerance = tolerance if self.numeric is not None else None  # None: compare exactly
        self.base = max(g.offset + g.size for g in self.symbols.groups.values())
        self.atom_keys: dict[tuple, int] = {}
        self.atom_of: list[tuple] = []
        self._meaning: dict[int, Poly] = {}
        self._names: dict[tuple, Poly] = {}
        self._parsed: dict[tuple, Poly] = {}
        self._outputs_forbidden = False
        self._expected: dict[str, list[Poly]] = {}  # answer key -> every entry's expected polynomial
        self._variants: dict[str, list] = {}  # answer key -> the slips that apply, see variants()
        spec = derivation.spec
        accepted = ["input", "grad_output", "output"]
        if derivation.layer == "conv":
            accepted += ["kernel"] + (["bias"] if spec.bias else []) + (["target"] if derivation.loss == "mse" else [])
        self.groups = {self.symbols[key].letter: self.symbols[key] for key in accepted}
        self.letters = set(self.groups)

    @classmethod
    def build(cls, layer: str, options: dict, values: dict | None, tolerance: float = DEFAULT_TOLERANCE,
              max_terms: int = CHECK_MAX_TERMS) -> "Problem":
        """The problem of an answer file; SymgradError (one line) when the layer or its values are bad."""
        from .. import api

        build = api.conv if layer == "conv" else api.pool
        derivation = build(**options, max_terms=max_terms, values=values)
        check_judgeable(derivation, max_terms)
        return cls(derivation, tolerance)

    @property
    def spec(self) -> ConvSpec | PoolSpec:
        return self.derivation.spec

    def describe(self) -> str:
        """The layer in a few words: `conv 5x5, kernel 3x3, stride 2` (+ `with values`)."""
        spec = self.spec
        words = [self.derivation.layer, "x".join(map(str, spec.input_size))]
        if isinstance(spec, ConvSpec):
            words[-1] += ","
            words += ["kernel", spec.kernel_text]
            extras = [("stride", spec.stride, 1), ("padding", spec.padding, 0), ("dilation", spec.dilation, 1)]
            channels = f"{spec.in_channels}->{spec.out_channels} channels" if (spec.in_channels, spec.out_channels) != (1, 1) else ""
        else:
            words[-1] += ","
            words += [spec.mode, "window", "x".join(map(str, spec.window))]
            extras = [("stride", spec.stride, None), ("padding", spec.padding, 0)]
            channels = f"{spec.channels} channels" if spec.channels > 1 else ""
        text = " ".join(words)
        for name, value, default in extras:
            if default is None or any(v != default for v in value):
                text += f", {name} {per_axis(value)}"
        if channels:
            text += f", {channels}"
        if isinstance(spec, ConvSpec) and spec.bias:
            text += ", bias"
        if self.derivation.loss != "generic":
            text += f", {self.derivation.loss} loss"
        if self.numeric is not None:
            text += ", with values"
        return text

    # --- atoms and their meaning

    def function_atom(self, key: tuple) -> Poly:
        if key not in self.atom_keys:
            self.atom_keys[key] = self.base + len(self.atom_of)
            self.atom_of.append(key)
        return Poly.atom(self.atom_keys[key])

    def meaning(self, symbol_id: int) -> Poly:
        """A symbol as a polynomial: its number if known, dL/dz as the loss defines it, z expanded."""
        if symbol_id == ONE:
            return Poly.const(Fraction(1))
        cached = self._meaning.get(symbol_id)
        if cached is None:
            cached = self._meaning[symbol_id] = self._compute_meaning(symbol_id)
        return cached

    def _compute_meaning(self, symbol_id: int) -> Poly:
        if self.numeric is not None and self.numeric.known[symbol_id]:
            return Poly.const(_number(self.numeric.number[symbol_id]))
        group = self.symbols.group_of(symbol_id)
        k = symbol_id - group.offset
        d = self.derivation
        if group.key == "grad_output" and d.loss == "sum":
            return Poly.const(Fraction(1))
        if group.key == "grad_output" and d.loss == "mse":
            return self.meaning(self.symbols["output"].offset + k) - self.meaning(self.symbols["target"].offset + k)
        if group.key == "output":
            return self._output(k)
        if group.key == "mask":
            window, cell = d.mask_cell(symbol_id)
            if cell == -1:  # a padding cell: never an input, never the maximum
                return Poly()
            others = frozenset(d.real_cells(window)) - {cell}
            return self.function_atom(("H", cell, others)) if others else Poly.const(Fraction(1))
        return Poly.atom(symbol_id)

    def _output(self, k: int) -> Poly:
        d = self.derivation
        if d.layer == "conv":
            lo, hi = np.searchsorted(d.forward.entry, [k, k + 1])
            return self._sum(d.forward, range(lo, hi), 1)
        if self.numeric is not None and self.numeric.output_value(k) is not None:
            return Poly.const(_number(self.numeric.output_value(k)))
        cells = d.real_cells(k)
        if d.spec.mode == "avg":
            total = Poly()
            for cell in cells:
                total.add_in_place(self.meaning(cell))
            return total.scale(Fraction(1, d.divisor))
        return self.maximum([self.meaning(c) for c in cells], "Max")

    def _sum(self, table: Terms, rows, divisor) -> Poly:
        total = Poly()
        for r in rows:
            term = self.meaning(int(table.a[r])) * self.meaning(int(table.b[r]))
            total.add_in_place(term, _number(table.coef[r]) / divisor if divisor != 1 else _number(table.coef[r]))
        return total

    def expand(self, table: Terms, divisor: int = 1) -> list[Poly]:
        """Every entry of a term table as a polynomial (values and meanings put in)."""
        ordered = table.sorted_by_entry()
        slices = ordered.entry_slices()
        return [self._sum(ordered, range(slices[e], slices[e + 1]), divisor) for e in range(ordered.size)]

    # --- names (the parser's callbacks)

    def name(self, letters: str, groups: tuple[str, ...], text: str) -> Poly:
        if self._outputs_forbidden and letters == self.symbols["output"].letter:
            raise AnswerError(f"{quote(text)} is an output: write what it is, in terms of the inputs")
        key = (letters, groups)
        found = self._names.get(key)
        if found is None:
            group = self.groups.get(letters)
            if group is None:
                raise AnswerError(f"unknown name {quote(text)}; this problem's names are {self.names_hint}")
            found = self.meaning(group.offset + self._flat_index(group, groups, text))
            if len(self._names) < 1_000_000:
                self._names[key] = found
        return found

    def parse(self, text: str, file_budget: Budget | None = None, forward: bool = False) -> Poly:
        """An answer's polynomial; a batch's repeated answers are parsed once. In a forward answer,
        output names are refused (z_1_1 = z_1_1 would be right otherwise)."""
        found = self._parsed.get((forward, text))
        if found is None:
            self._outputs_forbidden = forward
            try:
                found = parse_answer(text, self, Budget(file=file_budget))
            finally:
                self._outputs_forbidden = False
            if len(self._parsed) < 200_000:
                self._parsed[(forward, text)] = found
        return found

    def _flat_index(self, group, groups: tuple[str, ...], text: str) -> int:
        parts = [p for g in groups for p in re.split(r"[,\s]+", g) if p]
        shown = [axis for axis, s in enumerate(group.shown_channels) if s]
        spatial = group.spatial
        flat_style = self.symbols.naming.index == "flat"
        wanted = len(shown) + (0 if not spatial else 1 if flat_style else len(spatial))
        if len(parts) != wanted and not flat_style and spatial:
            if len(parts) == len(shown) + 1 and len(parts[-1]) == len(spatial):
                parts = parts[:-1] + list(parts[-1])  # x_{11} for x_1_1: one digit per axis
        if len(parts) == 1 and len(parts[0]) == wanted > 1:
            parts = list(parts[0])  # x_{121} or x₁₂₁ for x_1_2_1: one digit per index, channels included
        if len(parts) != wanted:
            raise AnswerError(f"{quote(text)} is not a name of this problem; expected {self.name_range(group)}")
        numbers = [int(p) for p in parts]
        channel_index = [0] * group.channel_axes
        for axis, value in zip(shown, numbers):
            channel_index[axis] = value - 1
        rest = [n - 1 for n in numbers[len(shown):]]
        limits = [group.shape[axis] for axis in shown] + ([int(np.prod(spatial))] if flat_style and spatial else list(spatial))
        if any(not 0 <= v - 1 < n for v, n in zip(numbers, limits)):
            raise AnswerError(f"{quote(text)} is not a name of this problem; expected {self.name_range(group)}")
        position = list(np.unravel_index(rest[0], spatial)) if flat_style and spatial else rest
        return int(np.ravel_multi_index(tuple(channel_index) + tuple(position), group.shape))

    def name_range(self, group) -> str:
        """`x_1_1 .. x_3_3`: the first and last names of a group."""
        first, last = self.symbols.identifier(group.offset), self.symbols.identifier(group.offset + group.size - 1)
        return f"{first} .. {last}" if group.size > 1 else first

    @cached_property
    def names_hint(self) -> str:
        z = self.symbols["output"].letter
        return "; ".join(f"{self.name_range(g)} ({GROUP_WORDS[g.key][0].format(z=z)})" for g in self.groups.values())

    def maximum(self, args: list[Poly], text: str) -> Poly:
        if all(a.is_constant() for a in args):
            return Poly.const(max(a.constant() for a in args))
        cells = set()
        for a in args:
            atom = a.single_atom()
            if atom is None or not (atom < self.base and self.symbols.group_of(atom).key == "input"):
                raise AnswerError(f"{text}(...) takes input cells like {self.symbols.identifier(self.symbols['input'].offset)}")
            cells.add(atom)
        return Poly.atom(next(iter(cells))) if len(cells) == 1 else self.function_atom(("max", frozenset(cells)))

    def heaviside(self, arg: Poly, text: str) -> Poly:
        if arg.is_constant():
            v = arg.constant()
            return Poly.const(Fraction(1) if v > 0 else Fraction(0) if v < 0 else Fraction(1, 2))
        plus = [m for m, c in arg.terms.items() if c == 1 and len(m) == 1]
        minus = [m for m, c in arg.terms.items() if c == -1 and len(m) == 1]
        form = f"{text}(...) must be a cell minus the max of the other cells, like Heaviside(x_1_1 - Max(x_1_2, x_2_1))"
        if len(arg.terms) != 2 or len(plus) != 1 or len(minus) != 1:
            raise AnswerError(form)
        cell, other = plus[0][0], minus[0][0]
        if cell >= self.base or self.symbols.group_of(cell).key != "input":
            raise AnswerError(form)
        if other < self.base:
            if self.symbols.group_of(other).key != "input":
                raise AnswerError(form)
            others = frozenset({other})
        else:
            kind, *rest = self.atom_of[other - self.base]
            if kind != "max":
                raise AnswerError(form)
            others = rest[0]
        if cell in others:
            raise AnswerError(f"{text}(...): the max must be over the other cells of the window, without the cell itself")
        return self.function_atom(("H", cell, others))

    # --- text of atoms and terms

    def atom_text(self, atom: int) -> str:
        if atom < self.base:
            return self.symbols.identifier(atom)
        key = self.atom_of[atom - self.base]
        if key[0] == "max":
            return "Max(" + ", ".join(self.symbols.identifier(i) for i in sorted(key[1])) + ")"
        others = sorted(key[2])
        rest = self.symbols.identifier(others[0]) if len(others) == 1 else self.atom_text(self.function_atom(("max", key[2])).single_atom())
        return f"Heaviside({self.symbols.identifier(key[1])} - {rest})"

    def term_text(self, monomial: tuple[int, ...], coef) -> str:
        factors = []
        for atom in sorted(set(monomial), key=monomial.index):
            count = monomial.count(atom)
            factors.append(self.atom_text(atom) + (f"**{count}" if count > 1 else ""))
        number = _number_text(coef)
        if not factors:
            return number
        if number in ("1", "-1"):
            return ("-" if number == "-1" else "") + "*".join(factors)
        return f"{number}*" + "*".join(factors)

    def poly_text(self, p: Poly) -> str:
        if not p.terms:
            return "0"
        text = " + ".join(self.term_text(m, c) for m, c in _ordered(p))
        return text.replace("+ -", "- ")

    # --- expected entries and slips

    def answer_group(self, key: str):
        return self.symbols[ANSWER_GROUP[key]]

    def answer_keys(self) -> tuple[str, ...]:
        return ("forward",) + tuple(key for key, _ in self.derivation.gradients())

    def expected(self, key: str) -> list[Poly]:
        if key not in self._expected:
            if key == "forward":
                out = self.symbols["output"]
                self._expected[key] = [self.meaning(out.offset + k) for k in range(out.size)]
            else:
                table = dict(self.derivation.gradients())[key]
                divisor = getattr(self.derivation, "divisor", 1)
                self._expected[key] = self.expand(table, divisor)
        return self._expected[key]

    def variants(self, key: str) -> list[tuple[str, object]]:
        """(slip id, entry -> the entry's polynomials under that slip) for each slip that applies."""
        if key not in self._variants:
            self._variants[key] = self._build_variants(key)
        return self._variants[key]

    def _build_variants(self, key: str) -> list[tuple[str, object]]:
        from ..convolution import input_closed_form, kernel_closed_form

        d, spec, out = self.derivation, self.spec, []

        def table_variant(slip: str, make):
            polys: list = []

            def entry(e: int) -> list[Poly]:
                if not polys:
                    table, divisor = make()
                    polys.extend(self.expand(table, divisor))
                return [polys[e]]

            out.append((slip, entry))

        if d.layer == "conv" and key == "grad_input":
            table_variant("no_rot180", lambda: (input_closed_form(spec, self.symbols, rotate=False), 1))
            if any(s > 1 for s in spec.stride):
                table_variant("no_dilation", lambda: (input_closed_form(spec, self.symbols, dilate_grad=False), 1))
            if any(spec.padding):
                shape = spec.input_shape
                table_variant("padding_not_cropped", lambda: (
                    take(input_closed_form(spec, self.symbols, crop_padding=False), (0,) * len(shape), (1,) * len(shape), shape), 1))
        undilated = np.prod([p - o + 1 for p, o in zip(spec.padded_size, spec.output_size)]) * np.prod(spec.output_size)
        if d.layer == "conv" and key == "grad_kernel" and any(s > 1 for s in spec.stride) and undilated <= 1_000_000:
            # (the undilated correlation is (Npad - O + 1) x O wide: huge padding would make it huge)
            table_variant("no_dilation", lambda: (kernel_closed_form(spec, self.symbols, dilate_grad=False), 1))
        if d.layer == "pool" and key == "grad_input":
            table = d.grad_input
            ones = Terms(table.shape, table.entry, table.a, np.full_like(table.b, ONE), table.coef)
            if spec.mode == "max":
                table_variant("every_cell", lambda: (ones, 1))
                table_variant("averaged", lambda: (ones, spec.window_count))
            else:
                table_variant("not_divided", lambda: (ones, 1))
        group = self.answer_group(key)
        if len(group.spatial) >= 2:
            out.append(("rows_cols_swapped", self._swapped_entry(key, group)))
        return out

    def _swapped_entry(self, key: str, group):
        """Entry e -> what it would be with rows and columns swapped: the transposed entry, or the right
        entry with the row and column indices of one tensor's symbols exchanged (x_2_1 for x_1_2)."""
        shape = group.shape
        swappable = [g.key for g in self.groups.values() if len(g.spatial) >= 2 and g.key != "output"]

        def entry(e: int) -> list[Poly]:
            out = []
            index = list(np.unravel_index(e, shape))
            index[-1], index[-2] = index[-2], index[-1]
            if index[-1] < shape[-1] and index[-2] < shape[-2]:
                out.append(self.expected(key)[int(np.ravel_multi_index(index, shape))])
            for swapped_group in swappable:
                relabelled = self._relabel(self.expected(key)[e], swapped_group)
                if relabelled is not None:
                    out.append(relabelled)
            return out

        return entry

    def _relabel(self, p: Poly, group_key: str) -> Poly | None:
        """`p` with every symbol of one group replaced by its transpose (None if one does not exist)."""
        group = self.symbols[group_key]
        out = Poly()
        for monomial, coef in p.terms.items():
            atoms = []
            for atom in monomial:
                if group.offset <= atom < group.offset + group.size:
                    index = list(np.unravel_index(atom - group.offset, group.shape))
                    index[-1], index[-2] = index[-2], index[-1]
                    if index[-1] >= group.shape[-1] or index[-2] >= group.shape[-2]:
                        return None
                    atom = group.offset + int(np.ravel_multi_index(index, group.shape))
                atoms.append(atom)
            out.add_in_place(Poly({tuple(sorted(atoms)): coef}))
        return out

    # --- comparing

    def same(self, x: Poly, y: Poly) -> bool:
        """Equal as polynomials (coefficients within the tolerance, for a problem with values); no
        sorting or listing, so the slip checks of a huge wrong answer stay cheap."""
        if x.terms == y.terms:
            return True
        if self.tolerance is None:
            return False
        return all(self._close(x.terms.get(m, 0), y.terms.get(m, 0)) for m in x.terms.keys() | y.terms.keys())

    def differences(self, answer: Poly, expected: Poly) -> tuple[list, list]:
        """(missing, extra): expected terms the answer lacks (or has with another coefficient), and
        answer terms that should not be there."""
        if answer.terms == expected.terms:
            return [], []
        missing, extra = [], []
        for monomial, _ in _ordered(Poly({**answer.terms, **expected.terms})):
            a, e = answer.terms.get(monomial, 0), expected.terms.get(monomial, 0)
            if self._close(a, e):
                continue
            if e != 0:
                missing.append((monomial, e))
            if a != 0:
                extra.append((monomial, a))
        return missing, extra

    def _close(self, a, e) -> bool:
        if self.tolerance is None:
            return a == e
        return abs(a - e) <= self.tolerance * max(1, abs(e))


def check_judgeable(derivation, max_terms: int) -> None:
    """Refuse a problem whose answers cannot be judged (or written) within the limits: symbolic max
    pooling whose Heaviside answers name window-squared cells, or right answers too long for an answer
    file (about 16 characters per product term)."""
    from ..errors import TooLargeError
    from .answers import MAX_FILE_BYTES

    if derivation.layer == "pool" and derivation.named_cells > max_terms:
        raise TooLargeError(
            f"layer too large to judge: symbolic max pooling answers name each window's other cells, about "
            f"{derivation.named_cells:,} names, over the limit of {max_terms:,}; give the input's numbers in "
            f"[problem.values] (--values), use a smaller window, or raise --max-terms")
    if derivation.layer == "conv" and derivation.numeric is None:
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


def per_axis(values: tuple[int, ...]):
    """One value when every axis has it (2), else one per axis ("2x1")."""
    return values[0] if len(set(values)) == 1 else "x".join(map(str, values))


def _number(x):
    """A number from the derivation or a file as Fraction (exact) or float."""
    if isinstance(x, (float, np.floating)):
        return float(x)
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    return x if isinstance(x, Fraction) else Fraction(x)


def _number_text(x) -> str:
    """int, p/q, or a decimal when the fraction is one with at most 12 decimals (17.71, not 1771/100)."""
    from ..values import format_number

    if isinstance(x, Fraction) and x.denominator != 1:
        d, twos, fives = x.denominator, 0, 0
        while d % 2 == 0:
            d, twos = d // 2, twos + 1
        while d % 5 == 0:
            d, fives = d // 5, fives + 1
        if d == 1 and max(twos, fives) <= 12:
            places = max(twos, fives)
            digits = str(abs(x.numerator) * 10**places // x.denominator).rjust(places + 1, "0")
            return ("-" if x < 0 else "") + digits[:-places] + "." + digits[-places:]
    return format_number(x.numerator if isinstance(x, Fraction) and x.denominator == 1 else x)


def _ordered(p: Poly):
    """Terms in a stable reading order: by degree descending, then by the last atom (dL/dz_k: the
    chain rule's order), then the others."""
    return sorted(p.terms.items(), key=lambda item: (-len(item[0]), item[0][::-1]))


# --- judging


def judge_entry(problem: Problem, key: str, e: int, item, budget: Budget | None = None) -> EntryVerdict:
    """The verdict on one answer entry (a string to parse, or a number)."""
    group = problem.answer_group(key)
    index = tuple(int(i) for i in np.unravel_index(e, group.shape))
    symbol = problem.symbols.identifier(group.offset + e)
    name = symbol if key == "forward" else f"dL/d{symbol}"
    if isinstance(item, Number):
        text, item = item.text, item.value
    else:
        text = item if isinstance(item, str) else _number_text(item)
    verdict = EntryVerdict(key, index, name, "wrong", answer=text)
    if isinstance(item, str) and not item.strip():
        verdict.status = "unanswered"
        return verdict
    try:
        answer = problem.parse(item, budget, key == "forward") if isinstance(item, str) else Poly.const(item)
    except AnswerError as error:
        verdict.status, verdict.message = "error", str(error)
        return verdict
    expected = problem.expected(key)[e]
    missing, extra = problem.differences(answer, expected)
    if not missing and not extra:
        verdict.status = "right"
        return verdict
    verdict.missing = [problem.term_text(m, c) for m, c in missing[:SHOWN_TERMS]]
    verdict.extra = [problem.term_text(m, c) for m, c in extra[:SHOWN_TERMS]]
    verdict.missing_count, verdict.extra_count = len(missing), len(extra)
    for slip, variant in problem.variants(key) if answer.terms else ():  # a 0 matching a slip's 0 proves nothing
        if any(not problem.same(c, expected) and problem.same(answer, c) for c in variant(e)):
            verdict.slips.append(slip)
    return verdict


def _answer_leaf(item, path: str, where: str):
    """One answer entry from the file: its text, or a number (int / float as written)."""
    if isinstance(item, str):
        if len(item) > MAX_TEXT:
            raise ValuesError(f"{where}: {path} has {len(item):,} characters; at most {MAX_TEXT:,} are allowed")
        return item
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        from .answers import _kind

        raise ValuesError(f'{where}: {path} is {_kind(item)}; expected a string like "x_1_1*dz_1_1 + ..." or a number')
    if isinstance(item, float):
        if item != item or item in (float("inf"), float("-inf")):
            raise ValuesError(f"{where}: {path} is {item}, not a finite number")
        return Number(Fraction(repr(item)), repr(item))
    if abs(item) >= 10**40:
        raise ValuesError(f"{where}: {path} is a number with more than 40 digits")
    return Number(Fraction(item), str(item))


@dataclass(frozen=True)
class Number:
    """A number given as an answer: its exact value (a float's decimal digits) and the text it was written as."""

    value: Fraction
    text: str


def judge_key(problem: Problem, path: str, key: str, value, budget: Budget | None = None) -> KeyReport:
    group = problem.answer_group(key)
    report = KeyReport(key, group.shape)
    where = f"{path}: [answer]"
    if value is _UNANSWERED:
        report.verdicts = [judge_entry(problem, key, e, "") for e in range(group.size)]
        report.note = "not answered (the key is missing from [answer])"
        return report
    try:
        entries = flatten(key, value, group, where, leaf=_answer_leaf)
        padded = False
        report.kept = kept_axes(value, group)
    except ValuesError as error:
        entries, padded = _padded_answer(problem, key, value, group, where), True
        if entries is None:
            report.error = str(error).removeprefix(f"{path}: ")
            return report
    for e, item in enumerate(entries):
        report.verdicts.append(judge_entry(problem, key, e, item, budget))
    if padded:
        spec = problem.spec
        for v in report.verdicts:
            if v.status == "right":
                v.status, v.message = "wrong", "right value, but dL/dX was given in the padded shape"
            if v.status == "wrong" and "padding_not_cropped" not in v.slips:
                v.slips.append("padding_not_cropped")
        report.note = (f"dL/dX was given in the padded shape {'x'.join(map(str, spec.padded_size))}; crop the padding "
                       f"{'x'.join(map(str, spec.padding))} from each side to get {'x'.join(map(str, spec.input_size))} "
                       "(each entry is judged at its place inside the padding)")
    else:
        report.note = _shared_slip(report)
    return report


def _padded_answer(problem: Problem, key: str, value, group, where: str):
    """The entries of a grad_input given in the padded shape (the interior, row-major), else None."""
    spec = problem.spec
    if key != "grad_input" or not any(spec.padding):
        return None
    import dataclasses

    padded_group = dataclasses.replace(group, shape=(group.shape[0], *spec.padded_size))
    try:
        entries = flatten(key, value, padded_group, where, leaf=_answer_leaf)
    except ValuesError:
        return None
    grid = np.empty(len(entries), dtype=object)
    grid[:] = entries
    grid = grid.reshape(padded_group.shape)
    inner = grid[(slice(None),) + tuple(slice(p, p + n) for p, n in zip(spec.padding, spec.input_size))]
    return list(inner.ravel())


_UNANSWERED = object()  # an asked key the file left out: every entry unanswered (see judge_key)


def _shared_slip(report: KeyReport) -> str:
    wrong = [v for v in report.verdicts if v.status == "wrong"]
    if len(wrong) < 2:
        return ""
    shared = set(wrong[0].slips).intersection(*(set(v.slips) for v in wrong[1:]))
    if not shared:
        return ""
    slip = next(s for s in SLIPS if s in shared)
    return f"all {len(wrong)} wrong entries match one slip: {SLIPS[slip]}"


class Judge:
    """Judges answer files, building each distinct problem once (a batch shares them)."""

    def __init__(self, tolerance: float = DEFAULT_TOLERANCE, max_terms: int = CHECK_MAX_TERMS, cache_size: int = 32,
                 reference: str | None = None):
        """reference: an answer file (usually the template handed out) whose [problem] and [answer] keys
        every file is judged by: a file cannot change the problem, and a key it leaves out is unanswered."""
        from .answers import load_answer_file, require_answers

        self.tolerance = tolerance
        self.max_terms = max_terms
        self.cache_size = cache_size
        self._problems: dict[str, Problem] = {}
        self.reference = None
        if reference is not None:  # a bad reference fails the whole run, before any file is judged
            try:
                self.reference = load_answer_file(reference)
                self.problem(self.reference)
                require_answers(self.reference)
            except SymgradError as error:
                raise type(error)(f"--problem {error}") from None

    def problem(self, answer_file: AnswerFile) -> Problem:
        import json

        key = json.dumps([answer_file.layer, answer_file.options, answer_file.values], sort_keys=True, default=str)
        if key not in self._problems:
            try:
                problem = Problem.build(answer_file.layer, answer_file.options, answer_file.values, self.tolerance, self.max_terms)
            except SymgradError as error:
                where = "[problem.values]" if isinstance(error, ValuesError) else "[problem]"
                message = str(error).removeprefix("values: ").removeprefix("values ")
                # the file's keys, not the command line's options: "stride", not "--stride"
                message = re.sub(r"--(?!max-terms)([a-z]+(?:-[a-z]+)*)", lambda m: m.group(1).replace("-", "_"), message)
                raise AnswerFileError(f"{answer_file.path}: {where} {message}") from None
            if len(self._problems) >= self.cache_size:
                self._problems.pop(next(iter(self._problems)))
            self._problems[key] = problem
        return self._problems[key]

    def judge_file(self, path: str) -> FileReport:
        from .answers import load_answer_file, require_answers

        report = FileReport(path)
        try:
            answer_file = load_answer_file(path, self.reference)
            report.student = answer_file.student
            if self.reference is None:
                self.problem(answer_file)  # a bad problem is named before missing answers
                require_answers(answer_file)
            else:
                ref = self.reference
                if answer_file.layer is None:
                    report.notes.append(f"it has no usable [problem]; judged against the reference {ref.path}")
                elif (answer_file.layer, answer_file.options, answer_file.values) != (ref.layer, ref.options, ref.values):
                    report.notes.append(f"its [problem] differs from the reference {ref.path}; judged against the reference's problem")
                extra = [k for k in answer_file.answers or {} if k not in ref.answers]
                if extra:
                    report.notes.append(f"[answer] {', '.join(extra)} not asked for in {ref.path}; not judged")
                answers = {k: (answer_file.answers or {}).get(k, _UNANSWERED) for k in ref.answers}
                answer_file = dataclasses.replace(ref, path=path, student=answer_file.student, answers=answers)
            problem = self.problem(answer_file)
            report.problem = problem.describe()
            if any(k not in problem.answer_keys() for k in answer_file.answers):
                raise AnswerFileError(f"{path}: [answer] has grad_bias, but the layer has no bias (add bias = true to [problem])")
            budget = Budget(MAX_FILE_WORK)
            for key in problem.answer_keys():
                if key in answer_file.answers:
                    report.keys.append(judge_key(problem, path, key, answer_file.answers[key], budget))
        except SymgradError as error:
            report.error = str(error)
            report.keys = []
        except RecursionError:
            report.error = f"{path}: is nested too deeply"
            report.keys = []
        except MemoryError:
            report.error = f"{path}: is too large to judge in memory; use a smaller problem or --max-terms"
            report.keys = []
        except Exception as error:  # a bug: judge the other files, report it, exit 3
            report.error = f"{path}: internal error ({type(error).__name__}: {' '.join(str(error).split())[:200]}); please report it"
            report.internal = True
            report.keys = []
        return report
