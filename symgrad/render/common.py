"""What every renderer shares: sums of products as text, signs pulled out, and windows of matrices."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..tensor import ONE, Terms


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


# --- sums with numbers: signs pulled out, negative factors in parentheses


@dataclass(frozen=True)
class Style:
    """How one output format writes numbers and products."""

    number: Callable[[object], str]
    times: str  # between factors when a symbol is involved
    times_numbers: str  # between two numbers
    minus: str = "-"
    paren: tuple[str, str] = ("(", ")")
    wrap_fractions: bool = False  # (1/2)·x rather than 1/2·x


def product_text(coef, factors: list[tuple[str, bool]], style: Style) -> str:
    """`coef·f1·f2` for a non-negative coef; factors are (text, is_number); empty factors (the 1 of a
    bias term) and a coefficient of 1 are left out."""
    parts = [(text, is_number) for text, is_number in factors if text]
    if coef != 1 or not parts:
        parts.insert(0, (style.number(coef), True))
    out = ""
    for i, (text, is_number) in enumerate(parts):
        if is_number and text.startswith(("-", style.minus)):
            text = style.paren[0] + style.minus + text[1:] + style.paren[1]
        elif is_number and style.wrap_fractions and "/" in text and len(parts) > 1:
            text = style.paren[0] + text + style.paren[1]
        if i:
            out += style.times_numbers if is_number and parts[i - 1][1] else style.times
        out += text
    return out


def signed_terms(items: list[tuple[object, list[tuple[str, bool]]]], style: Style) -> list[str]:
    """Terms of a sum ready to join with spaces: `x`, `+ 2·y`, `- z` (a negative coef becomes a minus)."""
    out = []
    for coef, factors in items:
        negative = coef < 0
        text = product_text(-coef if negative else coef, factors, style)
        if out:
            out.append(("- " if negative else "+ ").replace("-", style.minus) + text)
        else:
            out.append(style.minus + text if negative else text)
    return out


def keep_columns(count: int, width: Callable[[int], float], budget: float, full: bool) -> list[int]:
    """Which of `count` columns to show: all that fit, else the first and last ones (a gap between).

    Columns are taken from the two ends alternately, and `width(c)` is asked only for those tried, so a
    row of 660,000 entries costs no more than a short one."""
    if full or count <= 2:
        return list(range(count))
    used, taken = width(0) + width(count - 1), 2
    while taken < count:
        nxt = taken // 2 if taken % 2 == 0 else count - 1 - taken // 2  # the next column from the left, then right
        extra = width(nxt)
        if used + extra > budget:
            break
        used, taken = used + extra, taken + 1
    if taken == count:
        return list(range(count))
    left, right = (taken + 1) // 2, taken // 2
    return list(range(left)) + list(range(count - right, count))


def matrix_slices(ids: np.ndarray, channel_labels, depth_label: Callable[[int], str]) -> list[tuple[list[str], np.ndarray]]:
    """A channel-first tensor as 2-D blocks to print, each with its labels (`c=2`, and the depth of a
    3-D one): a channel level is labelled only when it has more than one channel; 1-D is one row."""
    lead = ids.shape[: len(channel_labels)]
    spatial = ids.shape[len(channel_labels):]
    slices = []
    for lead_index in np.ndindex(*lead):
        parts = [f"{name}={i + 1}" for name, i, n in zip(channel_labels, lead_index, lead) if n > 1 and name]
        block = ids[lead_index]
        if len(spatial) == 3:
            slices += [(parts + [depth_label(depth + 1)], block[depth]) for depth in range(spatial[0])]
        else:
            slices.append((parts, block if len(spatial) == 2 else block.reshape(1, -1)))
    return slices


def gap_at(columns: list[int]) -> int | None:
    """Where the elided columns are (insert the ellipsis before this position), or None."""
    return next((i for i in range(1, len(columns)) if columns[i] != columns[i - 1] + 1), None)
