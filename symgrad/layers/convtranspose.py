"""Transposed convolution (PyTorch's ConvTranspose), as one layer kind: the forward scatter, the chain rule,
and the identities that tie it to convolution, side by side.

Input cell n of channel c adds w[c, f, k]·x[c, n] into output cell n·s + d·k − p of channel f (cells outside
0..O−1 fall away; output_padding only lengthens the output). The chain rule then gives, per entry,

    dL/dW[c, f, k] = Σ_n x[c, n]·dL/dy[f, n·s + d·k − p]      dL/dX[c, n] = Σ_f Σ_k w[c, f, k]·dL/dy[f, n·s + d·k − p]

and three identities check them against convolution's own closed forms, with the roles swapped (the
convolution `spec.as_conv()` has this layer's output size as its input and this weight as its kernel):

- the forward is that convolution's dL/dX map, with X in the place of dL/dZ: full-conv(dilate(X), rot180(W));
- dL/dX is a plain (strided, dilated) correlation: that convolution's forward applied to dL/dZ;
- dL/dW is that convolution's kernel gradient with dL/dZ as its input and X as its dL/dZ.

>>> from symgrad.spec import ConvTransposeSpec
>>> d = derive_convtranspose(ConvTransposeSpec.build("2", "2", stride=2))
>>> [str(d.forward_expr(k)) for k in range(4)]
['w_1*x_1', 'w_2*x_1', 'w_1*x_2', 'w_2*x_2']
>>> d.all_hold
True
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .. import losses
from ..naming import Naming, latex_letter
from ..spec import ConvTransposeSpec, axis_names, axis_text
from ..symbols import SymbolTable
from ..tensor import ZERO, Terms, concat, dilate, take
from ..values import FROM_PYTHON
from .base import M, Identity, Intermediate, Kind
from .conv import (ConvDerivation, Content as ConvContent, bias_terms, expand_forward, gradient_tables,
                   input_closed_form, kernel_closed_form, with_update, with_values)


@dataclass(frozen=True, eq=False, repr=False)
class ConvTransposeDerivation(ConvDerivation):
    """Everything `symgrad convtranspose` derives: the same tables as a convolution's (forward, grad_kernel,
    grad_input, grad_bias), with the spec of a transposed convolution."""

    spec: ConvTransposeSpec


def derive_convtranspose(spec: ConvTransposeSpec, naming: Naming | None = None, loss: str = "generic",
                         values: dict | None = None, source: str = FROM_PYTHON, lr=None) -> ConvTransposeDerivation:
    """Scatter every input cell, differentiate by the chain rule, and check the identities with convolution."""
    losses.check_loss(loss)
    naming = naming or Naming()
    symbols = SymbolTable.for_convtranspose(spec, naming)
    forward = expand_forward_transposed(spec, symbols)
    grad_kernel, grad_input, grad_bias = gradient_tables(forward, symbols, spec.bias)
    identities = [forward_identity(spec, symbols).checked(forward),
                  kernel_identity(spec, symbols).checked(grad_kernel), input_identity(spec, symbols).checked(grad_input)]
    d = ConvTransposeDerivation(spec, naming, loss, symbols, forward, grad_kernel, grad_input, grad_bias, tuple(identities))
    return with_update(with_values(d, values, source), lr)


def expand_forward_transposed(spec: ConvTransposeSpec, symbols: SymbolTable) -> Terms:
    """Every output as a sum of products: input cell n of channel c meets w[c, f_local, k] at output n·s + d·k − p."""
    n, C = spec.ndim, spec.in_channels
    N, K = spec.input_size, spec.kernel_size
    grid = np.indices((C, *N, spec.group_out, *K), sparse=True)
    c, cell, f_local, k = grid[0], grid[1:1 + n], grid[1 + n], grid[2 + n:]
    f = (c // spec.group_in) * spec.group_out + f_local  # the output channel, in c's group
    position = [q * s + dl * kk - p for q, kk, s, dl, p in zip(cell, k, spec.stride, spec.dilation, spec.padding)]
    inside = np.ones((1,) * (2 + 2 * n), dtype=bool)
    for pos, size in zip(position, spec.output_size):
        inside = inside & (pos >= 0) & (pos < size)
    full = np.broadcast_shapes(f.shape, *[np.shape(p) for p in position])
    keep = np.broadcast_to(inside, full)
    out = np.ravel_multi_index((np.broadcast_to(f, full)[keep], *[np.broadcast_to(p, full)[keep] for p in position]),
                               spec.output_shape)
    w = np.broadcast_to(symbols["kernel"].ids[(c, f_local, *k)], full)[keep]
    x = np.broadcast_to(symbols["input"].ids[(c, *cell)], full)[keep]
    terms = Terms.make(spec.output_shape, out, w, x)
    if spec.bias:
        terms = concat([terms, bias_terms(spec.output_shape, symbols["bias"].ids)])
    order = np.lexsort((terms.entry,))
    return Terms(terms.shape, terms.entry[order], terms.a[order], terms.b[order], terms.coef[order])


def _roles(spec: ConvTransposeSpec, symbols: SymbolTable, **ids) -> SimpleNamespace:
    """Symbol arrays under convolution's names, for its closed forms (`as_conv()`'s shapes; ZERO-filled where
    this layer has no cell: output_padding ≥ stride makes the convolution's output longer than this input)."""
    conv = spec.as_conv()
    groups = {}
    for key, array in ids.items():
        shape = {"grad_output": conv.output_shape, "input": conv.input_shape, "kernel": conv.kernel_shape}[key]
        full = np.full(shape, ZERO, dtype=np.int64)
        full[tuple(slice(0, s) for s in array.shape)] = array
        groups[key] = SimpleNamespace(ids=full)
    return SimpleNamespace(conv=conv, table=groups)


def forward_identity(spec: ConvTransposeSpec, symbols: SymbolTable) -> Identity:
    """y = conv's dL/dX map applied to X: full-conv(dilate_s(X), rot180(dilate_d(W))), cropped by p."""
    roles = _roles(spec, symbols, kernel=symbols["kernel"].ids, grad_output=symbols["input"].ids)
    computed = input_closed_form(roles.conv, roles.table).swapped()  # as the forward's terms: w first, then x
    computed = take(computed, (0,) * (spec.ndim + 1), (1,) * (spec.ndim + 1), spec.output_shape)
    if spec.bias:  # and b_f on every output of channel f
        computed = concat([computed, bias_terms(spec.output_shape, symbols["bias"].ids)])
    return Identity("forward", "Z = conv's dL/dX map applied to X: full-conv(dilate(X), rot180(W)), cropped by p"
                    + (", plus b" if spec.bias else ""), False,
                    len(computed), computed,
                    (Intermediate("X dilated by the stride", _dilated_first(spec, symbols)),),
                    (f"the convolution with input {axis_text(roles.conv.input_size)}, this kernel, stride "
                     f"{axis_text(spec.stride)}, padding {axis_text(spec.padding)} and dilation {axis_text(spec.dilation)} "
                     f"maps a gradient of its output ({axis_text(roles.conv.output_size)}) to one of its input: this layer's "
                     "forward is that map, with X in the place of the gradient",), "")


def _dilated_first(spec, symbols) -> np.ndarray:
    return dilate(symbols["input"].ids[0], spec.stride)


def kernel_identity(spec: ConvTransposeSpec, symbols: SymbolTable) -> Identity:
    """dL/dW = conv's kernel gradient with dL/dZ as its input and X as its dL/dZ: corr(pad(dL/dZ), dilate_s(X))."""
    roles = _roles(spec, symbols, input=symbols["grad_output"].ids, grad_output=symbols["input"].ids)
    computed = kernel_closed_form(roles.conv, roles.table).swapped()
    return Identity("grad_kernel", "dL/dW = conv(dL/dZ, dilate(X)): conv's kernel gradient with the roles swapped",
                    False, len(computed), computed, (), (), "")


def input_identity(spec: ConvTransposeSpec, symbols: SymbolTable) -> Identity:
    """dL/dX = a plain correlation: the convolution's forward (stride s, padding p, dilation d) of dL/dZ with W."""
    roles = _roles(spec, symbols, input=symbols["grad_output"].ids, kernel=symbols["kernel"].ids)
    computed = expand_forward(roles.conv, roles.table).swapped()
    computed = take(computed, (0,) * (spec.ndim + 1), (1,) * (spec.ndim + 1), spec.input_shape)
    return Identity("grad_input", "dL/dX = conv(dL/dZ, W): a plain correlation with stride, padding and dilation",
                    False, len(computed), computed,
                    (Intermediate("dL/dZ", symbols["grad_output"].ids[0]), Intermediate("W", symbols["kernel"].ids[0, 0])),
                    ("no rot180 and no dilation of the gradient here: the transposed layer's input gradient is the "
                     "ordinary convolution of dL/dZ with the same kernel, stride, padding and dilation",), "⋆")


# --- content


STATEMENTS = {
    "forward": r"Z = \operatorname{crop}_p\Bigl(\operatorname{full\text{-}conv}\bigl(\operatorname{dilate}(X),\ \operatorname{rot180}(W)\bigr)\Bigr)",
    "grad_kernel": r"\frac{\partial L}{\partial W} = \operatorname{conv}\Bigl(\tfrac{\partial L}{\partial Z},\ \operatorname{dilate}(X)\Bigr)",
    "grad_input": r"\frac{\partial L}{\partial X} = \operatorname{conv}\Bigl(\tfrac{\partial L}{\partial Z},\ W\Bigr)",
}


class Content(ConvContent):
    """The transposed convolution's sections; the gradient sections and the update are convolution's."""

    @staticmethod
    def title(d) -> list[str]:
        spec = d.spec
        parts = ["convtranspose", f"input {spec.input_text}", f"kernel {spec.kernel_text}", f"stride {axis_text(spec.stride)}",
                 f"padding {axis_text(spec.padding)}"]
        parts += [f"output padding {axis_text(spec.output_padding)}"] if any(spec.output_padding) else []
        parts += [f"dilation {axis_text(spec.dilation)}"]
        if spec.in_channels > 1 or spec.out_channels > 1:
            parts.append(f"channels {spec.in_channels}→{spec.out_channels}")
        parts += [f"groups {spec.groups}"] if spec.groups > 1 else []
        return parts + (["bias"] if spec.bias else [])

    @staticmethod
    def setup(doc) -> None:
        spec, n = doc.d.spec, doc.n
        doc.heading("Setup")
        channels = lambda count: f"{count} channel{'s' if count > 1 else ''}"  # noqa: E731
        doc.para("Input ", doc.math("X"), f": {channels(spec.in_channels)} of {spec.input_text}, shape ", doc.math(n.shape(spec.input_shape)),
                 "; kernel ", doc.math("W"), ", shape ", doc.math(n.shape(spec.kernel_shape)), " (PyTorch's ConvTranspose: in × out/groups × kernel)",
                 "; output ", doc.math("Z"), f": {channels(spec.out_channels)}, shape ", doc.math(n.shape(spec.output_shape)), ".")
        rows = []
        for axis, name in enumerate(axis_names(spec.ndim)):
            N, k, s, p, op, dl = (spec.input_size[axis], spec.kernel_size[axis], spec.stride[axis], spec.padding[axis],
                                  spec.output_padding[axis], spec.dilation[axis])
            rows.append(rf"O_{{\text{{{name}}}}} &= ({N} - 1) \cdot {s} - 2 \cdot {p} + {dl} \cdot ({k} - 1) + {op} + 1 = {spec.output_size[axis]}"
                        if n.tex else f"{name} = ({N}−1)·{s} − 2·{p} + {dl}·({k}−1) + {op} + 1 = {spec.output_size[axis]}")
        doc.para("Output size per axis (PyTorch's rule): ", doc.math(M("(N − 1)s − 2p + d(k − 1) + output_padding + 1",
                                                                       r"(N - 1)s - 2p + d(k - 1) + \mathit{op} + 1")), ".")
        for row in rows:
            lhs, rhs = row.split(" &= " if n.tex else " = ", 1)
            doc.equation(lhs, [[rhs]])
        ConvContent.loss_sentences(doc)
        doc.matrices("X", doc.sym["input"].ids, ("c",))
        doc.matrices("W", doc.sym["kernel"].ids, ("c", "f"))
        if spec.bias:
            doc.matrices("b", doc.sym["bias"].ids.reshape(1, -1), ("",))

    @staticmethod
    def forward(doc) -> None:
        d, n = doc.d, doc.n
        doc.heading("Forward pass: every output, gathered from the scatter")
        w, x = (latex_letter(letter) if n.tex else letter for letter in (d.naming.kernel, d.naming.input))
        doc.para("Each input cell ", doc.math(M(f"{x}_n", f"{x}_n")), " adds ", doc.math(M(f"{w}_k·{x}_n", f"{w}_k {x}_n")), " into output cell ",
                 doc.math(M("n·s + d·k − p", r"n s + d k - p")),
                 " (cells that land outside the output fall away); so each output is the sum of what lands on it.")
        numeric = doc.num.forward if doc.num is not None else None
        doc.sum_entries(d.forward, lambda k: doc.n.symbol(doc.sym, doc.out0 + k), numeric, "outputs")
        doc.result_matrix("forward", "Z")

    @staticmethod
    def identities(doc) -> None:
        doc.heading("Identities: the transposed convolution and convolution")
        doc.para("Each identity is computed independently with convolution's own closed forms, the roles of the "
                 "tensors swapped, and compared with the chain-rule result term by term.")
        for identity in doc.d.identities:
            doc.identity(identity, M(identity.statement, STATEMENTS[identity.name]))

    @staticmethod
    def im2col(doc) -> None:
        return None


KIND = Kind(
    name="convtranspose",
    sections=("setup", "forward", "grad-kernel", "grad-input", "grad-bias", "identities", "update"),
    gradient_of={"grad_kernel": "kernel", "grad_input": "input", "grad_bias": "bias"},
    tensor_of={"grad_kernel": "W", "grad_input": "X", "grad_bias": "b"},
    answers=("forward", "grad_kernel", "grad_input", "grad_bias"),
    options=("input", "kernel", "stride", "padding", "output_padding", "dilation", "in_channels", "out_channels",
             "groups", "bias", "loss", "index", "names"),
    required=("input", "kernel"),
    noun="transposed convolution",
    content=Content,
)
ConvTransposeDerivation.kind = KIND
