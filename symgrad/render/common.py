"""What every renderer shares: which symbols a gradient differentiates by, and sums as text."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ..tensor import ONE, Terms

SECTIONS = ("setup", "forward", "grad-kernel", "grad-input", "grad-bias", "identities")
GRADIENT_OF = {"grad_kernel": "kernel", "grad_input": "input", "grad_bias": "bias"}
TITLES = {"grad_kernel": "dL/dW", "grad_input": "dL/dX", "grad_bias": "dL/db"}


def entry_terms(table: Terms) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(flat index, a, b, coef) for every entry of a table sorted by entry, including empty entries."""
    bounds = table.entry_slices()
    for index in range(table.size):
        lo, hi = bounds[index], bounds[index + 1]
        yield index, table.a[lo:hi], table.b[lo:hi], table.coef[lo:hi]


def join_sum(terms: list[str], zero: str = "0") -> str:
    return " + ".join(terms) if terms else zero


def product(factors: list[str], coef: int, times: str) -> str:
    """`2*a*b`, leaving out factors equal to "1" and a coefficient of 1."""
    parts = [f for f in factors if f != "1"]
    if coef != 1 or not parts:
        parts.insert(0, str(coef))
    return times.join(parts)


def sum_texts(table: Terms, first: Callable[[int], str], second: Callable[[int], str], times: str, *, swap: bool = False) -> list[str]:
    """One text per entry: sum of coef*first(a)*second(b) (or second(b)*first(a) when swap)."""
    out = []
    for _, a, b, coef in entry_terms(table):
        terms = []
        for ai, bi, ci in zip(a.tolist(), b.tolist(), coef.tolist()):
            fa, fb = first(ai), second(bi)
            terms.append(product([fb, fa] if swap else [fa, fb], ci, times))
        out.append(join_sum(terms))
    return out


def nest(flat: list, shape: tuple[int, ...]):
    """A flat row-major list as nested lists of the given shape."""
    if not shape:
        return flat[0]
    return np.array(flat, dtype=object).reshape(shape).tolist() if flat else []


def symbol_or_one(name: Callable[[int], str]) -> Callable[[int], str]:
    return lambda i: "1" if i == ONE else name(i)
