"""Numbers in a derivation: substitute values into term tables and evaluate what became numeric.

A substituted table is a `Terms` whose coefficients are numbers (Python ints / Fractions in an object
array when every value was exact, float64 otherwise) and whose known factors were replaced by ONE.
Merging equal products afterwards leaves, per entry, a linear combination of what is still symbolic,
or a single constant term when everything was known.

>>> import numpy as np
>>> from symgrad.tensor import Terms
>>> t = Terms.make((1,), [0, 0], [0, 1], [2, 3])          # x0*x2 + x1*x3
>>> known = np.array([True, True, False, True]); number = np.array([2, 5, 0, 7], dtype=object)
>>> s = substitute(t, known, number, exact=True)         # 2*x2 + 35
>>> s.a.tolist(), s.b.tolist(), s.coef.tolist()
([-2, -2], [2, -2], [2, 35])
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
from fractions import Fraction

import numpy as np

from .errors import ValuesError
from .tensor import ONE, Terms
from .values import _where


def substitute(table: Terms, known: np.ndarray, number: np.ndarray, exact: bool) -> Terms:
    """Replace every known factor by its number (folded into the coefficient), then merge equal products.

    Exact numbers are worked as integers over their common denominator D (every product scaled to
    D²), in int64 when the sizes allow it, and made Fractions only once merged: a network's fractions
    then cost little more than integers."""
    if exact and len(table):
        return _substitute_scaled(table, known, number)
    coef = table.coef.astype(object if exact else np.float64)
    a, b = table.a.copy(), table.b.copy()
    for factor in (a, b):
        hit = factor >= 0
        hit[hit] = known[factor[hit]]
        if hit.any():
            coef[hit] = coef[hit] * number[factor[hit]]
            factor[hit] = ONE
    # a*b == b*a: put the two factors in a fixed order so that equal products merge
    low, high = np.minimum(a, b), np.maximum(a, b)
    return merge(Terms(table.shape, table.entry, low, high, coef))


def _substitute_scaled(table: Terms, known: np.ndarray, number: np.ndarray) -> Terms:
    """substitute() for exact numbers: numerators over the common denominator D, merged, then divided by D²."""
    used = np.zeros(known.size, dtype=bool)
    for factor in (table.a, table.b):
        real = factor[factor >= 0]
        used[real[known[real]]] = True
    ids = np.flatnonzero(used)
    values = number[ids].tolist()
    common = 1
    for den in {v.denominator for v in values if isinstance(v, Fraction)}:
        common = common * den // math.gcd(common, den)
    numerators = [int(v * common) if isinstance(v, Fraction) else int(v) * common for v in values]
    biggest = max([common] + [abs(v) for v in numerators])
    scale = max([1] + [abs(int(c)) for c in (table.coef.min(), table.coef.max())])
    small = scale * biggest * biggest * max(1, len(table)) < 2**62
    dtype = np.int64 if small else object
    scaled = np.zeros(known.size, dtype=dtype)
    scaled[ids] = numerators if small else np.array(numerators + [None], dtype=object)[:-1]
    coef = table.coef.astype(dtype)
    a, b = table.a.copy(), table.b.copy()
    for factor in (a, b):
        hit = factor >= 0
        hit[hit] = used[factor[hit]]
        coef = coef * np.where(hit, scaled[np.where(hit, factor, 0)], common)
        factor[hit] = ONE
    low, high = np.minimum(a, b), np.maximum(a, b)
    merged = merge(Terms(table.shape, table.entry, low, high, coef))
    whole = common * common
    if whole == 1:
        out = np.empty(len(merged), dtype=object)
        out[:] = merged.coef.tolist()
    else:
        out = np.array([_fraction(int(c), whole) for c in merged.coef.tolist()] + [None], dtype=object)[:-1]
    return Terms(merged.shape, merged.entry, merged.a, merged.b, out)


def _fraction(numerator: int, denominator: int):
    q = Fraction(numerator, denominator)
    return q.numerator if q.denominator == 1 else q


def merge(table: Terms) -> Terms:
    """Equal products of an entry merged (coefficients added, zeros dropped), in order of first appearance."""
    if len(table) == 0:
        return table
    order = np.lexsort((table.b, table.a, table.entry))
    entry, a, b = table.entry[order], table.a[order], table.b[order]
    new_group = np.ones(entry.size, dtype=bool)
    new_group[1:] = (entry[1:] != entry[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new_group)
    coef = np.add.reduceat(table.coef[order], starts)
    first = np.minimum.reduceat(order, starts)
    keep = np.flatnonzero(coef != 0)
    keep = keep[np.lexsort((first[keep], entry[starts][keep]))]
    coef = coef[keep]
    if coef.dtype == object:  # whole fractions back to ints: 2, not Fraction(2, 1)
        coef = np.array([c.numerator if isinstance(c, Fraction) and c.denominator == 1 else c for c in coef], dtype=object)
    return Terms(table.shape, entry[starts][keep], a[starts][keep], b[starts][keep], coef)


def divide(value, divisor: int, exact: bool):
    """value / divisor: exact (an int when whole, else a Fraction) or float."""
    if not exact:
        return value / divisor
    q = Fraction(value, divisor) if isinstance(value, int) else Fraction(value) / divisor
    return q.numerator if q.denominator == 1 else q


def constants(table: Terms, exact: bool) -> np.ndarray | None:
    """Entry values of a substituted table when nothing symbolic is left (else None), row-major flat."""
    if ((table.a != ONE) | (table.b != ONE)).any():
        return None
    out = np.zeros(table.size, dtype=object if exact else np.float64)
    if exact:
        out[:] = 0
    out[table.entry] = table.coef  # canonical: at most one constant term per entry
    return out


def entry_values(table: Terms, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per entry of a substituted table: whether it is a number (no symbol left), and which (0 where not);
    `constants` is the all-or-nothing form."""
    values = np.zeros(table.size, dtype=object if exact else np.float64)
    symbolic = (table.a != ONE) | (table.b != ONE)
    known = np.ones(table.size, dtype=bool)
    known[table.entry[symbolic]] = False
    constant = ~symbolic
    values[table.entry[constant]] = table.coef[constant] if exact else table.coef[constant].astype(np.float64)
    return known, values


def equal_numbers(x: Terms, y: Terms, exact: bool) -> bool:
    """Whether two substituted tables are the same sums: exactly, or to float tolerance."""
    return x.same_sums(y) if exact else _close(x, y)


def _close(x: Terms, y: Terms) -> bool:
    """Float comparison: the same symbolic products per entry, coefficients within rtol 1e-9."""
    scale = max([1.0] + [float(np.max(np.abs(t.coef.astype(np.float64)))) for t in (x, y) if len(t)])
    keys = {}
    for sign, table in ((1.0, x), (-1.0, y)):
        for e, a, b, c in zip(table.entry.tolist(), table.a.tolist(), table.b.tolist(), table.coef.tolist()):
            keys[(e, a, b)] = keys.get((e, a, b), 0.0) + sign * float(c)
    return all(abs(v) <= 1e-9 * scale for v in keys.values())


@dataclass(frozen=True, eq=False)
class Numeric:
    """The numeric side of a derivation with --values.

    known/number: per symbol id, whether a number stands for it and which (dL/dz included: given,
    or 1 for --loss sum, or z - t for --loss mse once z and t are numeric).
    forward and gradients: the substituted tables; identities: name -> equal after substitution.
    """

    exact: bool
    given: tuple[str, ...]
    source: str
    known: np.ndarray
    number: np.ndarray
    forward: Terms | None  # None: not every output is a number (max pooling with some input unknown)
    gradients: dict[str, Terms]
    identities: dict[str, bool] = field(default_factory=dict)
    masks: np.ndarray | None = None  # max pooling: each window cell's share of dL/dy (outputs x cells)

    def value(self, symbol_id: int):
        """The number for a symbol id, or None when it stays symbolic."""
        return self.number[symbol_id] if symbol_id >= 0 and self.known[symbol_id] else None

    def any_known(self, ids: np.ndarray) -> bool:
        """Whether any symbol of an id array (ZERO entries aside) has a number."""
        flat = ids.ravel()
        real = flat[flat >= 0]
        return bool(real.size) and bool(self.known[real].any())

    def output_value(self, k: int):
        """The number z_k comes to, or None while it is still symbolic."""
        if self.forward is None:
            return None
        lo, hi = np.searchsorted(self.forward.entry, [k, k + 1])
        if hi == lo:
            return 0
        if hi - lo == 1 and self.forward.a[lo] == ONE and self.forward.b[lo] == ONE:
            return self.forward.coef[lo]
        return None

    def tensor(self, ids: np.ndarray) -> np.ndarray | None:
        """Numbers for an id array (ZERO entries are 0), or None when any entry is not numeric."""
        flat = ids.ravel()
        real = flat >= 0
        if not self.known[flat[real]].all():
            return None
        out = np.zeros(flat.size, dtype=object if self.exact else np.float64)
        if self.exact:
            out[:] = 0
        out[real] = self.number[flat[real]]
        return out.reshape(ids.shape)

    def result(self, key: str) -> np.ndarray | None:
        """The numeric values of forward or a gradient, shaped like it, or None if still symbolic."""
        table = self.forward if key == "forward" else self.gradients[key]
        if table is None:
            return None
        flat = constants(table, self.exact)
        return None if flat is None else flat.reshape(table.shape)


MAX_EXACT_BITS = 10_000  # about 3,000 digits: exact results stay far below Python's 4,300-digit str limit


def _refuse_huge_denominators(numbers, source: str) -> None:
    """Before any arithmetic: a sum of products of the given fractions has a denominator dividing the
    square of their common denominator (the cube, with mse targets). Refusing when the cube is over the
    limit bounds every exact result (numerators too: each value is under 10^18) before any work, instead
    of after minutes of arithmetic with enormous fractions."""
    common = 1
    for value in {x.denominator for x in numbers if isinstance(x, Fraction) and x.denominator != 1}:
        common = common * value // math.gcd(common, value)
        if 3 * common.bit_length() > MAX_EXACT_BITS:
            raise ValuesError(
                f"{_where(source)}: the fractions' common denominator has over {common.bit_length() * 3 // 10:,} "
                f"digits, so exact results would be far longer; give decimals (floats) instead of \"p/q\" "
                f"strings, or fractions with small common denominators"
            )


def finite(evaluate_function):
    """Arithmetic that cannot be carried out is refused with one clear line: exact fractions whose results
    would be too long (checked before), float overflow to inf or nan (after; without numpy warnings)."""

    def checked(derivation, known, number, exact, given, source, **already):
        if exact:
            _refuse_huge_denominators(number[known], source)
        with np.errstate(all="ignore"):
            numeric = evaluate_function(derivation, known, number, exact, given, source, **already)
        if not exact:
            tables = [numeric.forward] + list(numeric.gradients.values())
            if not all(np.isfinite(t.coef.astype(np.float64)).all() for t in tables if t is not None):
                raise ValuesError(
                    f"{_where(source)}: the arithmetic overflows floating point (a result is inf or nan); "
                    f"use smaller numbers, or integers and \"p/q\" strings for exact arithmetic"
                )
        return numeric

    return checked


def descend(numeric: "Numeric | None", group, gradient: str, lr) -> tuple[np.ndarray, np.ndarray]:
    """The update w − α·dL/dw of one parameter group: (which entries are numbers, their values).
    An entry is a number when both w and its gradient are; exact when both and α are."""
    size = group.size
    if numeric is None:
        return np.zeros(size, dtype=bool), np.zeros(size, dtype=object)
    g_known, g = entry_values(numeric.gradients[gradient], numeric.exact)
    w_known = numeric.known[group.offset: group.offset + size]
    w = numeric.number[group.offset: group.offset + size]
    both = g_known & w_known
    if numeric.exact and not isinstance(lr, float):
        new = np.zeros(size, dtype=object)
        values = (w[both] - lr * g[both]).tolist()
        new[both] = [v.numerator if isinstance(v, Fraction) and v.denominator == 1 else v for v in values]
    else:
        new = np.where(both, w.astype(np.float64) - float(lr) * g.astype(np.float64), 0.0)
    return both, new


def learning_rate(lr):
    """α as given: a string like "0.1" or "1/10" is exact (int or Fraction); a Python float stays a float.
    Anything else, or α <= 0, is one OptionError line."""
    from .errors import OptionError
    from .values import _number

    problem = OptionError(f"--lr must be a positive number like 0.1 or 1/10, got {lr!r}")
    try:
        value = _number(lr, "--lr", "--lr")
    except ValuesError:
        raise problem from None
    if value <= 0:
        raise problem
    return value
