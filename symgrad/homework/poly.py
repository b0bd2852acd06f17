"""Polynomials with exact (or float) coefficients over numbered atoms, with hard size limits.

An answer and the expected result are both turned into a `Poly`: a dict from monomial to coefficient,
where a monomial is a sorted tuple of atom ids with repetition (x*x*y is (x, x, y)) and the empty
tuple is the constant term. Two polynomials are equal exactly when their dicts are, so "equal as
polynomials" needs no `expand` and no SymPy. Atoms are symbol ids of the layer, plus ids for the
max-pooling functions (see `problem.Problem.function_atom`).

Every operation on untrusted input goes through a `Budget`, which refuses work that would be too large
(too many terms, too high a degree, too many digits) before doing it: an answer like
`(x_1_1 + ... + x_3_3)^12` or `9^9^9^9` is refused at once instead of running for minutes.

>>> x, y = Poly.atom(0), Poly.atom(1)
>>> p = (x + y) * (x - y)
>>> sorted(p.terms.items())
[((0, 0), 1), ((1, 1), -1)]
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

from ..errors import AnswerError

Monomial = tuple[int, ...]

MAX_TERMS = 20_000  # terms in any polynomial built from an answer
MAX_WORK = 200_000  # term multiplications per answer
MAX_FILE_WORK = 1_000_000  # term multiplications per answer file (all its answers together)
MAX_DEGREE = 12  # degree of any monomial of an answer
MAX_BITS = 600  # bits in a numerator or denominator (about 180 digits)



@dataclass
class Budget:
    """Work allowed for one answer, and for the file it is in; every multiplication charges both,
    before it is done."""

    work: int = MAX_WORK
    file: "Budget | None" = None

    def charge(self, amount: int, what: str) -> None:
        self.work -= amount
        if self.work < 0:
            raise AnswerError(f"{what} is too large to expand (more than {MAX_WORK:,} term products)")
        if self.file is not None:
            self.file.work -= amount
            if self.file.work < 0:
                raise AnswerError(f"the answers of this file are too large to expand together "
                                  f"(more than {MAX_FILE_WORK:,} term products)")


class Poly:
    """A polynomial: {monomial: coefficient}, zero coefficients never stored."""

    __slots__ = ("terms",)

    def __init__(self, terms: dict[Monomial, object] | None = None):
        self.terms = terms if terms is not None else {}

    @classmethod
    def const(cls, value) -> "Poly":
        return cls({(): value} if value != 0 else {})

    @classmethod
    def atom(cls, atom_id: int) -> "Poly":
        return cls({(atom_id,): 1})

    # --- reading

    def is_constant(self) -> bool:
        return all(m == () for m in self.terms)

    def constant(self):
        """The constant term (0 when there is none)."""
        return self.terms.get((), 0)

    def single_atom(self) -> int | None:
        """The atom id when the polynomial is exactly one atom with coefficient 1, else None."""
        if len(self.terms) == 1:
            ((monomial, coef),) = self.terms.items()
            if len(monomial) == 1 and coef == 1:
                return monomial[0]
        return None

    def degree(self) -> int:
        return max((len(m) for m in self.terms), default=0)

    def __len__(self) -> int:
        return len(self.terms)

    def __eq__(self, other) -> bool:
        return isinstance(other, Poly) and self.terms == other.terms

    def __repr__(self) -> str:
        return f"Poly({self.terms!r})"

    # --- arithmetic (unbounded: for trusted, expected results; answers use the bounded functions below)

    def __add__(self, other: "Poly") -> "Poly":
        out = dict(self.terms)
        for m, c in other.terms.items():
            s = out.get(m, 0) + c
            if s == 0:
                out.pop(m, None)
            else:
                out[m] = s
        return Poly(out)

    def add_term(self, monomial: Monomial, coef) -> None:
        """self += coef * monomial, changing self (a Poly the caller has just made)."""
        total = self.terms.get(monomial, 0) + coef
        if total == 0:
            self.terms.pop(monomial, None)
        else:
            self.terms[monomial] = total

    def add_in_place(self, other: "Poly", factor=1) -> "Poly":
        """self += factor * other, changing self: for sums built term by term (a + b + c + ... would
        copy the growing dict at every +). Only for a Poly the caller has just made, never a shared one."""
        out = self.terms
        for m, c in other.terms.items():
            s = out.get(m, 0) + (c if factor == 1 else c * factor)
            if s == 0:
                out.pop(m, None)
            else:
                out[m] = s
        return self

    def __neg__(self) -> "Poly":
        return Poly({m: -c for m, c in self.terms.items()})

    def __sub__(self, other: "Poly") -> "Poly":
        return self + (-other)

    def scale(self, factor) -> "Poly":
        if factor == 0:
            return Poly()
        return Poly({m: c * factor for m, c in self.terms.items()})

    def __mul__(self, other: "Poly") -> "Poly":
        if self.is_constant():
            return other.scale(self.constant())
        if other.is_constant():
            return self.scale(other.constant())
        if len(self.terms) == 1 and len(other.terms) == 1:  # the common case: a product of two names
            ((m1, c1),), ((m2, c2),) = self.terms.items(), other.terms.items()
            return Poly({tuple(sorted(m1 + m2)): c1 * c2})
        out: dict[Monomial, object] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                m = tuple(sorted(m1 + m2))
                s = out.get(m, 0) + c1 * c2
                if s == 0:
                    out.pop(m, None)
                else:
                    out[m] = s
        return Poly(out)

    def substitute(self, meaning) -> "Poly":
        """Replace every atom a by meaning(a) (a Poly), multiplying out."""
        out = Poly()
        for monomial, coef in self.terms.items():
            term = Poly.const(coef)
            for a in monomial:
                term = term * meaning(a)
            out = out + term
        return out


# --- bounded operations for answers


def checked(p: Poly, what: str) -> Poly:
    """`p`, after checking its size, degree and digits against the limits."""
    if len(p.terms) > MAX_TERMS:
        raise AnswerError(f"{what} has more than {MAX_TERMS:,} terms when multiplied out")
    for monomial, coef in p.terms.items():
        if len(monomial) > MAX_DEGREE:
            raise AnswerError(f"{what} has degree {len(monomial)}; at most {MAX_DEGREE} is allowed")
        if isinstance(coef, (int, Fraction)):
            if coef.numerator.bit_length() > MAX_BITS or coef.denominator.bit_length() > MAX_BITS:
                raise AnswerError(f"{what} has a number with more than {MAX_BITS * 3 // 10} digits")
        elif not math.isfinite(coef):
            raise AnswerError(f"{what} overflows floating point")
    return p


def multiply(x: Poly, y: Poly, budget: Budget, what: str = "the answer") -> Poly:
    budget.charge(max(1, len(x)) * max(1, len(y)), what)
    if x.degree() + y.degree() > MAX_DEGREE:
        raise AnswerError(f"{what} has degree {x.degree() + y.degree()}; at most {MAX_DEGREE} is allowed")
    return checked(x * y, what)


def power(base: Poly, exponent: int, budget: Budget, what: str = "the answer") -> Poly:
    """base ** exponent; a constant base may have a negative exponent."""
    if base.is_constant():
        value = base.constant()
        if exponent < 0 and value == 0:
            raise AnswerError("division by zero (0 to a negative power)")
        if isinstance(value, float):
            try:
                return checked(Poly.const(value**exponent), what)
            except OverflowError:
                raise AnswerError(f"a power in {what} overflows floating point") from None
        value = Fraction(value)
        if max(value.numerator.bit_length(), value.denominator.bit_length()) * abs(exponent) > MAX_BITS:
            raise AnswerError(f"a power in {what} gives a number with more than {MAX_BITS * 3 // 10} digits")
        return Poly.const(value**exponent)
    if exponent < 0:
        raise AnswerError("a symbol to a negative power is not a polynomial; expected powers 0, 1, 2, ...")
    if base.degree() * exponent > MAX_DEGREE:
        raise AnswerError(f"{what} has degree {base.degree() * exponent}; at most {MAX_DEGREE} is allowed")
    result = Poly.const(Fraction(1))
    for _ in range(exponent):
        result = multiply(result, base, budget, what)
    return result


# --- numbers and text


def number(x):
    """A number from the derivation or a file as Fraction (exact) or float."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, numbers.Integral):  # int, bool, numpy's integers
        return Fraction(int(x))
    if isinstance(x, numbers.Real) and not isinstance(x, numbers.Rational):  # float, numpy's floats
        return float(x)
    return Fraction(x)


def number_text(x) -> str:
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


def ordered_terms(p: Poly):
    """Terms in a stable reading order: by degree descending, then by the last atom (dL/dz_k: the
    chain rule's order), then the others."""
    return sorted(p.terms.items(), key=reading_order)


def reading_order(term: tuple) -> tuple:
    """The sort key of a (monomial, coefficient) term in ordered_terms."""
    return -len(term[0]), term[0][::-1]
