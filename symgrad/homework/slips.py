"""Slips: the entries a student gets by a known mistake, built by hand from the derivation.

A wrong entry shows a slip when it equals the entry computed that wrong way: the closed form of dL/dX
without rot180 or without dilating dL/dZ, dL/dX cut from the padded gradient at the wrong place, rows
and columns swapped, and max or average pooling's gradient spread the wrong way. `build_variants`
gives, per answer key, the slips that apply and for each a function from an entry to its polynomials
under that slip (`Problem.variants` caches it); each table is built only when a wrong entry first asks.
The slips' descriptions are part of the report model (report.SLIPS).

>>> from symgrad.homework.problem import Problem
>>> p = Problem.build("conv", {"input": "5x5", "kernel": "3x3", "stride": 2}, None)
>>> [slip for slip, _ in p.variants("grad_input")]
['no_rot180', 'no_dilation', 'rows_cols_swapped']
>>> p.poly_text(dict(p.variants("grad_input"))["no_rot180"](0)[0])
'w_3_3*dz_1_1'
"""

from __future__ import annotations

import numpy as np

from ..tensor import ONE, Terms, take
from .poly import Poly
from .report import SLIPS

__all__ = ["SLIPS", "build_variants"]


def build_variants(problem, key: str) -> list[tuple[str, object]]:
    """(slip id, entry -> the entry's polynomials under that slip) for each slip that applies to the
    answer key of this `Problem`."""
    from ..layers.conv import input_closed_form, kernel_closed_form

    d, spec, symbols, out = problem.derivation, problem.spec, problem.symbols, []

    def table_variant(slip: str, make):
        polys: list = []

        def entry(e: int) -> list[Poly]:
            if not polys:
                table, divisor = make()
                polys.extend(problem.expand(table, divisor))
            return [polys[e]]

        out.append((slip, entry))

    if d.layer == "conv" and key == "grad_input":
        table_variant("no_rot180", lambda: (input_closed_form(spec, symbols, rotate=False), 1))
        if any(s > 1 for s in spec.stride):
            table_variant("no_dilation", lambda: (input_closed_form(spec, symbols, dilate_grad=False), 1))
        if spec.padded and spec.padding_mode != "zeros":
            table_variant("no_fold", lambda: (input_closed_form(spec, symbols, fold_padding=False), 1))
        if spec.padded:
            shape = spec.input_shape
            table_variant("padding_not_cropped", lambda: (
                take(input_closed_form(spec, symbols, crop_padding=False), (0,) * len(shape), (1,) * len(shape), shape), 1))
    undilated = (np.prod([p - o + 1 for p, o in zip(spec.padded_size, spec.output_size)]) * np.prod(spec.output_size)
                 if d.layer == "conv" else 0)
    if d.layer == "conv" and key == "grad_kernel" and any(s > 1 for s in spec.stride) and undilated <= 1_000_000:
        # (the undilated correlation is (Npad - O + 1) x O wide: huge padding would make it huge)
        table_variant("no_dilation", lambda: (kernel_closed_form(spec, symbols, dilate_grad=False), 1))
    if d.layer == "pool" and key == "grad_input":
        table = d.grad_input
        ones = Terms(table.shape, table.entry, table.a, np.full_like(table.b, ONE), np.ones_like(table.coef))
        if spec.mode == "max":
            table_variant("every_cell", lambda: (ones, 1))
            table_variant("averaged", lambda: _averaged(d, ones))
            if spec.ties == "first" and d.numeric is not None and d.numeric.masks is not None and _has_ties(d):
                table_variant("ties_split", lambda: _ties_split(d))
        else:
            table_variant("not_divided", lambda: (ones, 1))
            if spec.uniform_divisor is None or not spec.count_include_pad:  # the window size where it differs
                table_variant("wrong_divisor", lambda: (ones, spec.window_count))
    group = problem.answer_group(key)
    if len(group.spatial) >= 2:
        out.append(("rows_cols_swapped", _swapped_entry(problem, key, group)))
    return out


def _has_ties(d) -> bool:
    return any(len(tied) > 1 for tied, _ in filter(None, map(d.maxima, range(d.windows.shape[0]))))


def _ties_split(d) -> tuple[Terms, int]:
    """Max pooling with numbers, a tie shared by the tied cells (the `split` policy) where the problem gives
    the gradient to the first: each window's gradient times each cell's share, over a common denominator."""
    from fractions import Fraction
    from math import lcm

    from ..layers.pool import window_masks

    real = d.windows != -1
    x = np.zeros(d.windows.shape, dtype=object)
    x[:] = 0
    x[real] = d.numeric.number[d.windows[real]]
    shares = window_masks(d.windows, x, "split", True)
    common = lcm(*[Fraction(s).denominator for s in shares[real]]) if real.any() else 1
    k, cell = np.nonzero(real & (shares != 0))
    g = d.symbols["grad_output"].ids.ravel()
    coef = np.array([int(Fraction(shares[a, b]) * common) for a, b in zip(k, cell)], dtype=np.int64)
    return Terms.make(d.spec.input_shape, d.windows[k, cell] - d.symbols["input"].offset, g[k], np.full(k.size, ONE), coef), common


def _averaged(d, ones: Terms) -> tuple[Terms, int]:
    """Max pooling's gradient shared equally among each window's real cells (the average pooling rule)."""
    counts = np.count_nonzero(d.windows != -1, axis=1)  # real cells per window (ZERO is -1)
    common = int(np.lcm.reduce(counts)) if counts.size else 1
    g0 = d.symbols["grad_output"].offset
    coef = common // counts[ones.a - g0]
    return Terms(ones.shape, ones.entry, ones.a, ones.b, coef), common


def _swapped_entry(problem, key: str, group):
    """Entry e -> what it would be with rows and columns swapped: the transposed entry, or the right
    entry with the row and column indices of one tensor's symbols exchanged (x_2_1 for x_1_2)."""
    shape = group.shape
    swappable = [_transposed(problem.symbols[g.key]) for g in problem.groups.values() if len(g.spatial) >= 2 and g.key != "output"]
    done: dict[int, list[Poly]] = {}  # a class makes the same slip on the same entries: each built once

    def entry(e: int) -> list[Poly]:
        if e not in done:
            done[e] = swapped(e)
        return done[e]

    def swapped(e: int) -> list[Poly]:
        out = []
        index = list(np.unravel_index(e, shape))
        index[-1], index[-2] = index[-2], index[-1]
        if index[-1] < shape[-1] and index[-2] < shape[-2]:
            out.append(problem.expected(key)[int(np.ravel_multi_index(index, shape))])
        for transposed in swappable:
            relabelled = _relabel(transposed, problem.expected(key)[e])
            if relabelled is not None:
                out.append(relabelled)
        return out

    return entry


def _transposed(group) -> dict[int, int]:
    """Each symbol of a group -> the symbol with its row and column indices exchanged (-1: none)."""
    shape = group.shape
    ids = np.arange(group.size).reshape(shape)
    swapped = np.full(shape, -1, dtype=np.int64)
    rows, cols = shape[-2], shape[-1]
    square = min(rows, cols)
    swapped[..., :square, :square] = np.swapaxes(ids[..., :square, :square], -1, -2)
    return dict(zip((group.offset + ids.ravel()).tolist(), np.where(swapped.ravel() < 0, -1, group.offset + swapped.ravel()).tolist()))


def _relabel(transposed: dict[int, int], p: Poly) -> Poly | None:
    """`p` with every symbol of one group replaced by its transpose (None if one does not exist)."""
    out = Poly()
    for monomial, coef in p.terms.items():
        atoms = [transposed.get(atom, atom) for atom in monomial]
        if -1 in atoms:
            return None
        out.add_term(tuple(sorted(atoms)), coef)
    return out
