"""The matrix (im2col) form of a convolution, as CS231n-style implementations compute it.

- X_col: one column per output position o, one row per (input channel c, kernel position k), in the
  kernel's own order: the input cell that kernel entry k of channel c meets at o (0 in the padding);
- W_row: one row per filter f, the kernel W[f] flattened in that same (c, k) order;
- Z = W_row · X_col (+ b), an (F × O) matrix: the layer is one matrix product.

Backward, by the matrix-product rule: dL/dW_row = dL/dZ · X_colᵀ (reshaped to W's shape), and
dL/dX_col = W_rowᵀ · dL/dZ, which col2im adds back into the cells X_col was read from (entries read from
the padding are dropped; a cell read by several outputs collects all of them). Both are built here from
the index arrays alone and compared with the chain rule term by term, like the closed forms.

The transpose here and the rot180 of the closed form are one fact seen from two sides: W_rowᵀ·dL/dZ sends
w_k·δ_o to the cell o·s + d·k; gathered from the cell's side, cell i collects w_k from the outputs
o = (i − d·k)/s, which is a full correlation with the kernel read backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..spec import ConvSpec
from ..symbols import SymbolTable
from ..tensor import ZERO, Terms, windows
from .base import Identity, Intermediate


@dataclass(frozen=True, eq=False)
class MatrixForm:
    """The layer's matrices, as symbol ids (ZERO for a zero)."""

    x_col: np.ndarray  # (C·K, O)
    w_row: np.ndarray  # (F, C·K)
    grad: np.ndarray  # (F, O): dL/dZ, one row per filter
    cell: np.ndarray  # (C·K, O): the flat input index X_col's entry was read from, -1 in the padding


def matrix_form(spec: ConvSpec, symbols: SymbolTable) -> MatrixForm:
    n, C, F = spec.ndim, spec.in_channels, spec.out_channels
    fields = windows(symbols["input"].ids, spec.output_size, spec.kernel_size, spec.stride, spec.dilation, spec.padding,
                     spec.padding_end, spec.padding_mode)
    # (C, *O, *K) -> (C, *K, *O) -> (C·K, O): rows in the kernel's order, columns in the output's
    x_col = np.moveaxis(fields, tuple(range(1, 1 + n)), tuple(range(1 + n, 1 + 2 * n))).reshape(C * int(np.prod(spec.kernel_size)), -1)
    offset = symbols["input"].offset
    cell = np.where(x_col == ZERO, -1, x_col - offset)
    # W_row[f] over every input channel: zeros outside f's group (a block-diagonal matrix when groups > 1)
    w_full = np.full((F, C, *spec.kernel_size), ZERO, dtype=np.int64)
    for f in range(F):
        first = spec.input_channel(f, 0)
        w_full[f, first : first + spec.group_in] = symbols["kernel"].ids[f]
    w_row = w_full.reshape(F, -1)
    grad = symbols["grad_output"].ids.reshape(F, -1)
    return MatrixForm(x_col, w_row, grad, cell)


def kernel_product(spec: ConvSpec, form: MatrixForm) -> Terms:
    """dL/dW_row[f, r] = Σ_o dL/dZ[f, o] · X_col[r, o], reshaped to W's shape (F, C/G, *K): with groups, only
    the rows of f's own group are weights (the rest of W_row is zeros)."""
    F, R = form.w_row.shape
    K = R // spec.in_channels
    f, r, o = np.ix_(np.arange(F), np.arange(R), np.arange(form.x_col.shape[1]))
    local = r - (f // spec.group_out) * spec.group_in * K  # the row within f's group
    inside = (local >= 0) & (local < spec.group_in * K)
    shape = (F, R, o.size)
    keep = np.broadcast_to(inside, shape)
    entry = np.broadcast_to(f * spec.group_in * K + local, shape)[keep]
    return Terms.make(spec.kernel_shape, entry, np.broadcast_to(form.grad[f, o], shape)[keep],
                      np.broadcast_to(form.x_col[r, o], shape)[keep]).sorted_by_entry()


def input_product(spec: ConvSpec, form: MatrixForm) -> Terms:
    """col2im(W_rowᵀ · dL/dZ): (W_rowᵀ·dL/dZ)[r, o] = Σ_f W_row[f, r] · dL/dZ[f, o], added into the input
    cell X_col[r, o] was read from; entries from the padding are dropped."""
    F, R = form.w_row.shape
    f, r, o = np.ix_(np.arange(F), np.arange(R), np.arange(form.x_col.shape[1]))
    shape = (F, R, o.size)
    cell = np.broadcast_to(form.cell[r, o], shape)
    keep = cell >= 0
    a = np.broadcast_to(form.grad[f, o], shape)[keep]
    b = np.broadcast_to(form.w_row[f, r], shape)[keep]
    return Terms.make(spec.input_shape, cell[keep], a, b).sorted_by_entry()


def identities(spec: ConvSpec, symbols: SymbolTable) -> tuple[Identity, Identity]:
    """The two matrix-form identities, not yet checked (ConvDerivation checks them against the chain rule)."""
    form = matrix_form(spec, symbols)
    O, R = form.x_col.shape[1], form.x_col.shape[0]
    shape_note = (f"X_col is {R}x{O} (one row per input channel and kernel position, one column per output "
                  f"position), W_row is {spec.out_channels}x{R} and dL/dZ is {spec.out_channels}x{O} (one row per filter)")
    kernel = kernel_product(spec, form)
    grad_kernel = Identity(
        "im2col_grad_kernel", "dL/dW = reshape(dL/dZ · X_colᵀ)", False, len(kernel), kernel,
        (Intermediate("dL/dZ", form.grad), Intermediate("X_colᵀ", form.x_col.T)),
        (shape_note, "the product has W_row's shape; its row f, reshaped, is dL/dW for filter f"), "·", "grad_kernel")
    inp = input_product(spec, form)
    plane = int(np.prod(spec.input_size))
    reads = np.bincount(form.cell[(form.cell >= 0) & (form.cell < plane)], minlength=plane)  # channel 1
    notes = ["the col2im step adds entry (r, o) of W_rowᵀ · dL/dZ into the input cell that X_col read at (r, o); "
             + ("entries read from the padding are dropped; " if spec.padded and spec.padding_mode == "zeros" else
                "entries read from a padded cell add into the input cell it copies (the fold); " if spec.padded else "")
             + f"a cell read by several outputs collects them all (here up to {int(reads.max()) if reads.size else 0} per channel)",
             "the transpose is where the closed form's rot180 comes from: W_rowᵀ · dL/dZ sends kernel entry k times "
             "output o's gradient to the cell o·s + d·k; gathered from a cell's side, that is a correlation of dL/dZ "
             "with the kernel read backwards"]
    grad_input = Identity(
        "im2col_grad_input", "dL/dX = col2im(W_rowᵀ · dL/dZ)", False, len(inp), inp,
        (Intermediate("W_rowᵀ", form.w_row.T), Intermediate("dL/dZ", form.grad)),
        tuple(notes), "·", "grad_input")
    return grad_kernel, grad_input
