r"""The meaning of a problem: what every name in an answer stands for, and what every entry should be.

One `Problem` per distinct [problem] table (a batch shares it, see judge.Judge): the derivation, the
meaning of every name as a polynomial (values put in, dL/dz as the loss defines it, z as its
expansion, max pooling's Max and Heaviside as numbered function atoms), the expected polynomial of
every entry and, through slips.py, the entries under each known slip, all built from the
derivation's term tables. It is the `names` the answer grammar (parse.py) resolves names with; a name
is turned back into its index by `Naming.position_of`.

>>> p = Problem.build("conv", {"input": "3x3", "kernel": "2x2"}, None)
>>> p.describe()
'conv 3x3, kernel 2x2'
>>> p.poly_text(p.parse("$x_{12} \\cdot \\frac{\\partial L}{\\partial z_{11}} + x_{13} \\cdot dz_{12}$"))
'x_1_2*dz_1_1 + x_1_3*dz_1_2'
>>> p.poly_text(p.expected("grad_kernel")[1]) == "x_1_2*dz_1_1 + x_1_3*dz_1_2 + x_2_2*dz_2_1 + x_2_3*dz_2_2"
True
"""

from __future__ import annotations

from fractions import Fraction
from functools import cached_property

import numpy as np

from ..errors import AnswerError
from ..spec import CHECK_MAX_TERMS, ConvSpec, ConvTransposeSpec, PoolSpec
from ..tensor import ONE, Terms
from .answers import check_judgeable
from .parse import MAX_TEXT, parse_answer
from .poly import Budget, Poly, number, number_text, ordered_terms
from .slips import build_variants
from .terms import Monomials, TermCache, term_ids
from .tokens import quote, strip_delimiters

DEFAULT_TOLERANCE = 1e-6
PARSED_TEXT = 300  # answers up to this long are kept parsed for the batch
_DELIMITED = ("$", "\\", " ", "\t", "\n", "\r")  # how an answer in $...$ or \(...\) (or with spaces around) starts

GROUP_WORDS = {  # how messages (first) and templates (second) name each group of symbols
    "input": ("input", "input X"), "kernel": ("kernel", "kernel W"), "bias": ("bias", "bias b"),
    "grad_output": ("dL/d{z}", "dL/d{z}"), "output": ("outputs", "outputs {z}"), "target": ("targets", "targets t"),
}
ANSWER_GROUP = {"forward": "output", "grad_kernel": "kernel", "grad_input": "input", "grad_bias": "bias"}


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
        numbering = Monomials()  # the terms and names of answers, as written (parse.term_ids); [forward]
        self._cache = (TermCache(monomials=numbering), TermCache(monomials=numbering))
        self._expected_ids: dict[str, list] = {}  # answer key -> each entry as sorted monomial ids (or None)
        self._outputs_forbidden = False
        self._expected: dict[str, list[Poly]] = {}  # answer key -> every entry's expected polynomial
        self._variants: dict[str, list] = {}  # answer key -> the slips that apply, see variants()
        self._labels: dict[str, list] = {}  # answer key -> each entry's index and name, see entry_labels()
        self._term_texts: dict[tuple, str] = {}
        self.wrong_verdicts: dict[tuple, object] = {}  # (key, entry, answer's monomial ids) -> verdict (judge.py)
        self.seen_answers: set[int] = set()  # hashes of (key, entry, answer as written) judged once (judge.py)
        self.answer_verdicts: dict[tuple, object] = {}  # (key, entry, answer as written twice or more) -> verdict
        spec = getattr(derivation, "spec", None)  # a network's dense, activation and loss stages have none
        accepted = ["input", "grad_output", "output"]
        if derivation.layer in ("conv", "convtranspose"):
            accepted += ["kernel"] + (["bias"] if spec.bias else []) + (["target"] if derivation.loss == "mse" else [])
        self.groups = {self.symbols[key].letter: self.symbols[key] for key in accepted}
        self.letters = set(self.groups)

    @classmethod
    def build(cls, layer: str, options: dict, values: dict | None, tolerance: float = DEFAULT_TOLERANCE,
              max_terms: int = CHECK_MAX_TERMS) -> "Problem":
        """The problem of an answer file; SymgradError (one line) when the layer or its values are bad."""
        from .. import api

        build = {"conv": api.conv, "pool": api.pool, "convtranspose": api.convtranspose}[layer]
        derivation = build(**options, max_terms=max_terms, values=values)
        check_judgeable(derivation, max_terms)
        return cls(derivation, tolerance)

    @property
    def layer(self) -> str:
        return self.derivation.layer

    @property
    def spec(self) -> ConvSpec | PoolSpec:
        return self.derivation.spec

    def describe(self) -> str:
        """The layer in a few words: `conv 5x5, kernel 3x3, stride 2` (+ `with values`)."""
        spec = self.spec
        words = [self.derivation.layer, "x".join(map(str, spec.input_size))]
        if isinstance(spec, (ConvSpec, ConvTransposeSpec)):
            words[-1] += ","
            words += ["kernel", spec.kernel_text]
            extras = [("stride", spec.stride, 1), ("padding", spec.padding, 0), ("dilation", spec.dilation, 1)]
            extras += [("output padding", spec.output_padding, 0)] if isinstance(spec, ConvTransposeSpec) else []
            channels = f"{spec.in_channels}->{spec.out_channels} channels" if (spec.in_channels, spec.out_channels) != (1, 1) else ""
            channels += f" in {spec.groups} groups" if spec.groups > 1 else ""
        else:
            words[-1] += ","
            words += [spec.mode] + (["output size", "x".join(map(str, spec.adaptive_size)), "(adaptive)"] if spec.adaptive_size
                                    else ["window", "x".join(map(str, spec.window))])
            extras = [] if spec.adaptive_size else [("stride", spec.stride, None), ("padding", spec.padding, 0),
                                                    ("dilation", spec.dilations, 1)]
            channels = f"{spec.channels} channels" if spec.channels > 1 else ""
            flags = [word for word, on in (("ceil mode", spec.ceil_mode), ("padding not counted", not spec.count_include_pad),
                                           (f"divisor {spec.divisor_override}", spec.divisor_override)) if on]
            channels = ", ".join(([channels] if channels else []) + flags)
        text = " ".join(words)
        for name, value, default in extras:
            if default is None or any(v != default for v in value):
                text += f", {name} {per_axis(value)}"
        if channels:
            text += f", {channels}"
        if isinstance(spec, (ConvSpec, ConvTransposeSpec)) and spec.bias:
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
            return Poly.const(number(self.numeric.number[symbol_id]))
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
        if d.layer in ("conv", "convtranspose"):
            lo, hi = np.searchsorted(d.forward.entry, [k, k + 1])
            return self._sum(d.forward, range(lo, hi), 1)
        if self.numeric is not None and self.numeric.output_value(k) is not None:
            return Poly.const(number(self.numeric.output_value(k)))
        cells = d.real_cells(k)
        if d.spec.mode == "avg":
            total = Poly()
            for cell in cells:
                total.add_in_place(self.meaning(cell))
            return total.scale(Fraction(1, d.divisor))
        return self.maximum([self.meaning(c) for c in cells], "Max")

    def _sum(self, table: Terms, rows: range, divisor) -> Poly:
        """The sum of a term table's rows, meanings and numbers put in (added up in row order)."""
        total, meaning = Poly(), self.meaning
        lo, hi = rows.start, rows.stop
        for a, b, coef in zip(table.a[lo:hi].tolist(), table.b[lo:hi].tolist(), table.coef[lo:hi].tolist()):
            factor = number(coef) / divisor if divisor != 1 else number(coef)
            if type(factor) is Fraction and factor.denominator == 1:  # whole coefficients stay ints: they compare fast
                factor = factor.numerator
            first, second = meaning(a), meaning(b)
            if len(first) == 1 and len(second) == 1:  # the common case, two atoms (or numbers): no Poly to build
                ((m1, c1),), ((m2, c2),) = first.terms.items(), second.terms.items()
                total.add_term(tuple(sorted(m1 + m2)) if m1 and m2 else m1 or m2, c1 * c2 * factor)
            else:
                total.add_in_place(first * second, factor)
        return total

    def expand(self, table: Terms, divisor: int = 1) -> list[Poly]:
        """Every entry of a term table as a polynomial (values and meanings put in)."""
        ordered = table.sorted_by_entry()
        slices = ordered.entry_slices()
        return [self._sum(ordered, range(slices[e], slices[e + 1]), divisor) for e in range(ordered.size)]

    # --- names (the parser's callbacks)

    def name(self, letters: str, groups: tuple[str, ...], text: str) -> Poly:
        """What a name stands for (letters and index groups as the tokenizer read them); AnswerError if none.
        δ_11 is the gradient arriving at output 11 (the documents' delta notation)."""
        if letters == "δ":
            letters = self.symbols["grad_output"].letter
        if self._outputs_forbidden and letters == self.symbols["output"].letter:
            raise AnswerError(f"{quote(text)} is an output: write what it is, in terms of the inputs")
        if self._outputs_forbidden and letters == self.symbols["grad_output"].letter:  # under mse, dz_1 + t_1 is z_1
            raise AnswerError(f"{quote(text)} is a gradient: a forward answer is written in terms of the inputs")
        key = (letters, groups)
        found = self._names.get(key)
        if found is None:
            group = self.groups.get(letters)
            if group is None:
                raise AnswerError(f"unknown name {quote(text)}; this problem's names are {self.names_hint}")
            found = self.meaning(self._symbol_id(group, groups, text))
            if len(self._names) < 1_000_000:
                self._names[key] = found
        return found

    def parse(self, text: str, file_budget: Budget | None = None, forward: bool = False) -> Poly:
        """An answer's polynomial; short answers (they repeat across a class) are parsed once a batch.
        In a forward answer, output names are refused (z_1_1 = z_1_1 would be right otherwise), and
        gradient names too (under mse, dz_1 + t_1 is z_1)."""
        short = len(text) <= PARSED_TEXT
        found = self._parsed.get((forward, text)) if short else None
        if found is None:
            ids = self.quick_ids(text, forward)
            if ids is not None:
                found = self.poly_of_ids(ids)
            else:
                self._outputs_forbidden = forward
                try:
                    found = parse_answer(text, self, file_budget)
                finally:
                    self._outputs_forbidden = False
            if short and len(self._parsed) < 200_000:
                self._parsed[(forward, text)] = found
        return found

    def quick_ids(self, text: str, forward: bool = False) -> list[int] | None:
        """An answer of the common shape as its sorted monomial ids (compare with expected_ids), else None."""
        if len(text) > MAX_TEXT:
            return None
        self._outputs_forbidden = forward
        try:
            return term_ids(strip_delimiters(text) if text[:1] in _DELIMITED or "=" in text else text.strip(),
                            self, self._cache[forward])
        finally:
            self._outputs_forbidden = False

    def poly_of_ids(self, ids: list[int]) -> Poly:
        return self._cache[0].monomials.poly(ids)

    def expected_ids(self, key: str) -> list:
        """Each entry's expected polynomial as sorted monomial ids (None where a coefficient is not a small
        whole positive number: that entry is compared as polynomials)."""
        if key not in self._expected_ids:
            numbering = self._cache[0].monomials
            self._expected_ids[key] = [numbering.sorted_ids(p) for p in self.expected(key)]
        return self._expected_ids[key]

    def _symbol_id(self, group, groups: tuple[str, ...], text: str) -> int:
        """The id of the symbol a name of `group` stands for (channel axes of size 1 are not in names)."""
        found = self.symbols.id_in(group, groups)
        if found is None:
            raise AnswerError(f"{quote(text)} is not a name of this problem; expected {self.name_range(group)}")
        return found

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
        found = self._term_texts.get((monomial, coef))
        if found is None:
            found = self._term_text(monomial, coef)
            if len(self._term_texts) < 200_000:  # (the terms a class gets wrong repeat from file to file)
                self._term_texts[(monomial, coef)] = found
        return found

    def _term_text(self, monomial: tuple[int, ...], coef) -> str:
        factors = []
        for atom in sorted(set(monomial), key=monomial.index):
            count = monomial.count(atom)
            factors.append(self.atom_text(atom) + (f"**{count}" if count > 1 else ""))
        written = number_text(coef)
        if not factors:
            return written
        if written in ("1", "-1"):
            return ("-" if written == "-1" else "") + "*".join(factors)
        return f"{written}*" + "*".join(factors)

    def poly_text(self, p: Poly) -> str:
        if not p.terms:
            return "0"
        text = " + ".join(self.term_text(m, c) for m, c in ordered_terms(p))
        return text.replace("+ -", "- ")

    # --- expected entries and slips

    def answer_group(self, key: str):
        return self.symbols[ANSWER_GROUP[key]]

    def answer_keys(self) -> tuple[str, ...]:
        return ("forward",) + tuple(key for key, _ in self.derivation.gradients())

    def entry_labels(self, key: str) -> list[tuple[tuple[int, ...], str]]:
        """Each entry of an answer key: its index (0-based, channels first) and name (`dL/dw_1_2`, `z_1_1`)."""
        found = self._labels.get(key)
        if found is None:
            group = self.answer_group(key)
            indices = zip(*(axis.ravel().tolist() for axis in np.indices(group.shape))) if group.size else ()
            prefix = "" if key == "forward" else "dL/d"
            found = self._labels[key] = [(index, prefix + self.symbols.identifier(group.offset + e))
                                         for e, index in enumerate(indices)]
        return found

    def expected(self, key: str) -> list[Poly]:
        if key not in self._expected:
            if key == "forward":
                out = self.symbols["output"]
                self._expected[key] = [self.meaning(out.offset + k) for k in range(out.size)]
            else:
                table = dict(self.derivation.gradients())[key]
                divisor = self.derivation.divisor
                self._expected[key] = self.expand(table, divisor)
        return self._expected[key]

    def variants(self, key: str) -> list[tuple[str, object]]:
        """(slip id, entry -> the entry's polynomials under that slip) for each slip that applies (slips.py)."""
        if key not in self._variants:
            self._variants[key] = build_variants(self, key)
        return self._variants[key]


def per_axis(values: tuple[int, ...]):
    """One value when every axis has it (2), else one per axis ("2x1")."""
    return values[0] if len(set(values)) == 1 else "x".join(map(str, values))
