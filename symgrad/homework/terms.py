r"""The fast path of the answer grammar: the common shape of an answer, a sum of products of names in
any notation (`x_1_1*dz_1_1 + ...`, `x_{11} \cdot \frac{\partial L}{\partial z_{11}} + ...`,
`x₁₁·∂L/∂z₁₁ + ...`), read by term instead of by token.

A batch's answers repeat the same few thousand terms, in a few spellings each. So an answer is split at
`+`, and each term, as written, is looked up in a `TermCache`; a term seen for the first time is cut
into whole names (at `*`, `\cdot`, or with one regular expression where names stand side by side),
each name is resolved once by the general parser (parse.py), and the product is numbered as a
monomial. An answer is then a sorted list of monomial numbers, compared with the expected entry's list
(`Problem.expected_ids`). Anything else (a minus, a number, a bracket, a power, a name that stands for
a number or a sum) gives None, and the general parser reads the answer, with the same result: the
tests compare the two on every spelling.

>>> from symgrad.homework.problem import Problem
>>> p = Problem.build("conv", {"input": "3x3", "kernel": "2x2"}, None)
>>> cache = TermCache()
>>> term_ids("x_1_1*dz_1_1 + dz_1_2*x_1_2", p, cache) == term_ids("$x_{12} \\cdot \\frac{\\partial L}{\\partial z_{12}} + x₁₁·∂L/∂z₁₁$".strip("$"), p, cache)
True
>>> term_ids("x_1_1*dz_1_1 - x_1_2*dz_1_2", p, cache) is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import AnswerError
from .parse import Parser
from .poly import MAX_DEGREE, MAX_TERMS, Budget, Poly
from .tokens import tokenize

_INDICES = r"(?:_[0-9]{1,9})+(?![_0-9{₀-₉])|_ ?\{[0-9, ]{1,40}\}(?![_₀-₉])|[₀-₉]+(?:,[₀-₉]+)*(?![_0-9₀-₉])"
_CHUNK = (rf"(?:[A-Za-z]+|δ|\\delta ?)(?:{_INDICES})"  # x_1_2, x_{12}, x₁₂, δ_11, \delta_{11}
          rf"|\\frac ?\{{ ?\\partial ?L ?\}} ?\{{ ?\\partial ?[A-Za-z]+(?:{_INDICES}) ?\}}"  # \frac{\partial L}{\partial z_{11}}
          rf"|∂L/∂[A-Za-z]+(?:{_INDICES})|dL/d[A-Za-z]+(?:{_INDICES})")  # ∂L/∂z₁₁, dL/dz_1_1
_CHUNK_RE = re.compile(_CHUNK)
_SPLIT_RE = re.compile(f"({_CHUNK})")
_TIMES = ("*", "\\cdot", "\\times", "·", "⋅", "×", "")  # what may stand between the names of a product
MAX_CACHED = 200_000  # terms (and names) remembered per problem, as written
MAX_MONOMIALS = 1_000_000  # monomials numbered per problem
_UNSEEN = object()


class Monomials:
    """Monomials numbered as they are first seen, so that an answer can be a sorted list of numbers: two
    answers are the same polynomial with whole positive coefficients exactly when those lists are equal
    (a term written twice appears twice), which compares faster than their dicts."""

    def __init__(self):
        self.ids: dict[tuple[int, ...], int] = {}
        self.monomials: list[tuple[int, ...]] = []

    def id(self, monomial: tuple[int, ...]) -> int:
        found = self.ids.get(monomial)
        if found is None:
            found = self.ids[monomial] = len(self.monomials)
            self.monomials.append(monomial)
        return found

    def sorted_ids(self, p: Poly) -> list[int] | None:
        """`p` as its sorted list of monomial ids, when every coefficient is a small whole positive number."""
        if not all(type(c) is int and 0 < c <= 64 for c in p.terms.values()):
            return None
        return sorted(i for monomial, c in p.terms.items() for i in [self.id(monomial)] * c)

    def poly(self, ids: list[int]) -> Poly:
        """The polynomial of a list of monomial ids."""
        monomials = self.monomials
        terms = dict.fromkeys(map(monomials.__getitem__, ids), 1)
        if len(terms) != len(ids):  # a term written twice: its coefficient is how often
            terms = {}
            for i in ids:
                terms[monomials[i]] = terms.get(monomials[i], 0) + 1
        return Poly(terms)


@dataclass
class TermCache:
    """What the terms and names of a batch's answers stand for, as written (a problem keeps one: students
    write the same terms, in a few spellings, again and again)."""

    terms: dict = field(default_factory=dict)  # `x_1_2*dz_1_1 ` -> its monomial's id
    names: dict = field(default_factory=dict)  # `x_{12}` -> its atom, or None when it is not one atom
    monomials: Monomials = field(default_factory=Monomials)


def term_ids(body: str, names, cache: TermCache) -> list[int] | None:
    """The monomial ids of an answer that is a sum of products of names, sorted: the answer is split at
    `+`, and each term, as written, is looked up in `cache` (see _monomial the first time). None for any
    other shape (a minus, a number, a bracket, a power), or when a name stands for more than one atom (a
    number, an output's expansion)."""
    terms = f" {body} ".split("+")  # (every term spaced alike, `x*y + ...` and `... + x*y` too: fewer spellings)
    if len(terms) > MAX_TERMS:
        return None
    known = cache.terms
    try:
        ids = list(map(known.__getitem__, terms))
    except KeyError:
        ids = []
        numbering = cache.monomials
        for term in terms:
            found = known.get(term)
            if found is None:
                monomial = _monomial(term, names, cache.names)
                if monomial is None or len(numbering.monomials) >= MAX_MONOMIALS:
                    return None
                found = numbering.id(monomial)
                if len(known) < MAX_CACHED:
                    known[term] = found
            ids.append(found)
    ids.sort()
    return ids


def _monomial(term: str, names, atoms: dict) -> tuple[int, ...] | None:
    """A term that is a product of whole names (`x_1_1*dz_1_1`, `x_{11} \\cdot w_{11}`, `x₁₁ w₁₁`) as the
    sorted tuple of their atoms; None for anything else."""
    text = term if term.isascii() else term.replace("·", "*").replace("⋅", "*").replace("×", "*")
    if "\\" in text:
        text = text.replace("\\cdot ", "*").replace("\\times ", "*")
    pieces = [piece.strip(" ") for piece in text.split("*")]
    if not all(map(_CHUNK_RE.fullmatch, pieces)):  # names side by side, or other spacing: cut them out
        parts = _SPLIT_RE.split(term)
        if len(parts) < 3 or parts[0].strip() or parts[-1].strip() or not all(
                _product(between, name) for between, name in zip(parts[2:-1:2], parts[3::2])):
            return None
        pieces = parts[1::2]
    if len(pieces) > MAX_DEGREE:
        return None
    found = []
    for piece in pieces:
        atom = atoms.get(piece, _UNSEEN)
        if atom is _UNSEEN:
            atom = _name_atom(piece, names)
            if len(atoms) < MAX_CACHED:
                atoms[piece] = atom
        if atom is None:
            return None
        found.append(atom)
    return tuple(sorted(found))


def _product(between: str, name: str) -> bool:
    """Whether `between`, the text between two names, makes them a product as the tokenizer reads it: a
    times sign or nothing, with spaces around only (`\\ cdot` is not `\\cdot`), and a LaTeX command not
    run into the next name's letters (`\\cdotdL/dz_1_1` is one unknown command, `\\cdotdL`)."""
    sign = between.strip(" ")
    if sign not in _TIMES:
        return False
    return not (sign.startswith("\\") and between.endswith(sign) and name[:1].isascii() and name[:1].isalpha())


def _name_atom(name: str, names) -> int | None:
    """The atom a whole name stands for, by the general parser; None when it is not one atom with
    coefficient 1 (or not a name of the problem: the general parser then says why, at its place)."""
    try:
        return Parser(tokenize(name), names, Budget()).parse().single_atom()
    except AnswerError:
        return None
