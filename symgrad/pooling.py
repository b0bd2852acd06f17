"""Pooling: the forward windows, the chain rule, and the routing identity, side by side.

Max pooling: y_k = Max(window k). Its derivative by a cell x_i of the window is, as SymPy writes it,
Heaviside(x_i - Max(the other cells)): 1 where x_i is the window's maximum, else 0. Each such
indicator is a symbol of its own here (the "mask" group, one per window cell), so the chain rule
dL/dx_i = sum_k dL/dy_k * mask[k, i] is exact bookkeeping, as for convolution. With numbers, the
mask is computed (ties resolved by the policy) and substituted.

Average pooling: y_k = (sum of window k) / |window| (padded cells count as zeros, as in PyTorch), so
dL/dx_i = sum_k dL/dy_k / |window| over the windows that contain x_i.

>>> from symgrad.spec import PoolSpec
>>> d = derive_pool(PoolSpec.build("4x4", "2x2"))
>>> str(d.forward_expr(0)), str(d.gradient_expr(0))
('Max(x_1_1, x_1_2, x_2_1, x_2_2)', 'dy_1_1*Heaviside(x_1_1 - Max(x_1_2, x_2_1, x_2_2))')
>>> d.all_hold
True
"""

from __future__ import annotations

import dataclasses
import os
from fractions import Fraction

import numpy as np

from .derivation import Identity, Intermediate, PoolDerivation
from .naming import Naming
from .spec import PoolSpec
from .symbols import SymbolTable
from .tensor import ONE, ZERO, Terms, crop, dilate, stack


def derive_pool(spec: PoolSpec, naming: Naming | None = None, values=None) -> PoolDerivation:
    """Expand every window, differentiate by the chain rule, and check the routing identity."""
    naming = naming or Naming(output="y")  # x, y and dy, as in the seeds
    symbols = SymbolTable.for_pool(spec, naming)
    windows = window_cells(spec, symbols)
    grad_input = chain_rule(spec, symbols, windows)
    identity = _check(routing_identity(spec, symbols), grad_input)
    derivation = PoolDerivation(spec, naming, symbols, windows, grad_input, (identity,))
    if values is None:
        return derivation
    return dataclasses.replace(derivation, numeric=_numeric(derivation, values))


def window_cells(spec: PoolSpec, symbols: SymbolTable) -> np.ndarray:
    """Input ids of every window's cells, shape (outputs, cells per window); ZERO where a cell is padding."""
    n, C, O, K = spec.ndim, spec.channels, spec.output_size, spec.window
    grid = np.indices((C, *O, *K), sparse=True)
    c, o, k = grid[0], grid[1 : 1 + n], grid[1 + n :]
    positions = [s * oi + ki - p for oi, ki, s, p in zip(o, k, spec.stride, spec.padding)]
    inside = np.ones((1,) * len(grid), dtype=bool)
    for pos, size in zip(positions, spec.input_size):
        inside = inside & (pos >= 0) & (pos < size)
    clipped = [np.clip(pos, 0, size - 1) for pos, size in zip(positions, spec.input_size)]
    cells = np.where(inside, symbols["input"].ids[(c, *clipped)], ZERO)
    cells = np.broadcast_to(cells, (C, *O, *K))
    return cells.reshape(int(np.prod((C, *O))), spec.window_count).copy()


def chain_rule(spec: PoolSpec, symbols: SymbolTable, windows: np.ndarray) -> Terms:
    """dL/dx_i = sum over the windows k holding x_i of dL/dy_k * dy_k/dx_i.

    Factor a: the dL/dy_k symbol; factor b: the mask symbol of (window k, cell) for max pooling
    (dy_k/dx_i as an indicator), or ONE for average pooling (the 1/|window| is the derivation's divisor).
    """
    g = symbols["grad_output"].ids.ravel()
    k, cell = np.nonzero(windows != ZERO)
    x = windows[k, cell] - symbols["input"].offset
    second = symbols["mask"].ids.reshape(windows.shape)[k, cell] if spec.mode == "max" else np.full(k.size, ONE)
    table = Terms.make(spec.input_shape, x, g[k], second)
    order = np.lexsort((table.a, table.entry))
    return Terms(table.shape, table.entry[order], table.a[order], table.b[order], table.coef[order])


def routing_identity(spec: PoolSpec, symbols: SymbolTable) -> Identity:
    """dL/dX = crop_p( sum over window offsets j of shift_j( dilate_s(dL/dY * mask_j) ) ).

    The upsampling view: each window offset j sends dL/dy (times the mask at j, for max) to the input
    cells s*o + j of the padded input; overlapping windows add up; the padding is cropped at the end.
    """
    G = symbols["grad_output"].ids
    mask = symbols["mask"].ids.reshape(spec.channels, -1, spec.window_count) if spec.mode == "max" else None
    # every (window offset j, output o) at once, j outer: input cell s*o + offset_j of the padded input
    outputs = np.indices(spec.output_size).reshape(spec.ndim, 1, -1)
    offsets = np.array(list(np.ndindex(*spec.window))).T.reshape(spec.ndim, -1, 1)
    stride = np.array(spec.stride).reshape(spec.ndim, 1, 1)
    entry = np.ravel_multi_index(tuple(stride * outputs + offsets), spec.padded_size)
    per_channel = []
    for c in range(spec.channels):
        g = np.broadcast_to(G[c].reshape(1, -1), entry.shape)
        second = mask[c].T if mask is not None else np.full(entry.shape, ONE)
        per_channel.append(crop(Terms.make(spec.padded_size, entry, g, second), spec.padding))
    computed = stack(per_channel, (spec.channels,))
    statement = (
        "dL/dX = sum over windows of mask ⊙ upsample(dL/dY)" if spec.mode == "max"
        else f"dL/dX = sum over windows of upsample(dL/dY) / {spec.window_count}"
    )
    notes = []
    if spec.mode == "max":
        notes.append(
            "mask: 1 where a cell is its window's maximum, else 0 (SymPy: Heaviside(x_i - Max(other cells)))"
        )
        notes.append(
            f"ties: {'first' if spec.ties == 'first' else 'split'} - "
            + ("the first maximal cell in the window (row-major) takes the gradient, as PyTorch does"
               if spec.ties == "first" else "tied maximal cells share the gradient equally")
        )
    if any(s < k for s, k in zip(spec.stride, spec.window)):
        notes.append("windows overlap (stride smaller than the window): a cell in several windows adds up their gradients")
    if any(spec.padding):
        pad_note = "padding is -inf for max (never the maximum)" if spec.mode == "max" else "padded cells count as zeros in each window's average"
        notes.append(f"{pad_note}; it is cropped at the end")
    counts = np.bincount(computed.entry, minlength=int(np.prod(spec.input_shape))).reshape(spec.input_shape)[0]
    intermediates = (
        Intermediate("dL/dY upsampled by the stride (channel 1)" if spec.channels > 1 else "dL/dY upsampled by the stride", dilate(G[0], spec.stride)),
        Intermediate("windows holding each input cell", counts, "", "counts"),
    )
    return Identity("grad_input", statement, False, len(computed), computed, intermediates, tuple(notes))


def _check(identity: Identity, chain: Terms) -> Identity:
    return dataclasses.replace(identity, holds=identity.computed.same_sums(chain))


# --- numbers


def window_masks(windows: np.ndarray, x: np.ndarray, ties: str, exact: bool) -> np.ndarray:
    """Per window and cell: the share of dL/dy the cell receives (1 at the maximum; ties per policy).

    `x` holds the numbers of the cells (same shape as windows); padding cells never win.
    """
    real = windows != ZERO
    values = np.where(real, x, -np.inf)
    best = values.max(axis=1)
    tied = real & (values == best[:, None])
    if ties == "first":
        out = np.zeros(windows.shape, dtype=np.int64)
        out[np.arange(windows.shape[0]), tied.argmax(axis=1)] = 1
        return out.astype(object) if exact else out.astype(np.float64)
    counts = tied.sum(axis=1)
    if not exact:
        return tied / counts[:, None]
    share = np.array([Fraction(1, int(n)) if n > 1 else 1 for n in counts], dtype=object)
    out = np.zeros(windows.shape, dtype=object)
    out[:] = 0
    rows, cols = np.nonzero(tied)
    out[rows, cols] = share[rows]
    return out


def _numeric(d: PoolDerivation, values):
    from .numeric import evaluate_pool
    from .values import FROM_PYTHON, byte_limit, load_values, parse_values

    if isinstance(values, (str, os.PathLike)):
        data, source = load_values(os.fspath(values), byte_limit(d.symbols))
    else:
        data, source = values, FROM_PYTHON
    v = parse_values(data, d.symbols, d.spec, "generic", source)
    return evaluate_pool(d, v.known, v.number, v.exact, v.given, v.source)
