"""Convolution: the forward expansion, the chain rule, and the closed-form identities, side by side.

>>> from symgrad.spec import ConvSpec
>>> d = derive_conv(ConvSpec.build("5x5", "3x3", stride=2), Naming.build("flat", "a,w,z"))
>>> str(d.gradient_expr("grad_kernel", 0))
'a_1*dz_1 + a_11*dz_3 + a_13*dz_4 + a_3*dz_2'
>>> d.all_hold
True
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from .derivation import LOSSES, ConvDerivation, Identity, Intermediate
from .errors import OptionError
from .naming import Naming
from .spec import ConvSpec, axis_names
from .symbols import SymbolTable
from .tensor import ONE, ZERO, Terms, concat, correlate, crop, dilate, embed, pad, rot180, stack, take


def derive_conv(spec: ConvSpec, naming: Naming | None = None, loss: str = "generic", values=None) -> ConvDerivation:
    """Expand every output, differentiate by the chain rule, and check the closed forms.

    `values`: numbers for some symbols (the contract's dict, or a path to a JSON file); the sums are
    then also evaluated with them, and the identities checked again on the numbers.
    """
    if loss not in LOSSES:
        raise OptionError(f"--loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    naming = naming or Naming()
    symbols = SymbolTable.for_conv(spec, naming)
    forward = expand_forward(spec, symbols)
    g_ids = symbols["grad_output"].ids
    grad_kernel = chain_rule(forward, symbols["kernel"].ids, g_ids)
    grad_input = chain_rule(forward, symbols["input"].ids, g_ids)
    grad_bias = chain_rule(forward, symbols["bias"].ids, g_ids) if spec.bias else None
    identities = [
        _check(kernel_identity(spec, symbols), grad_kernel),
        _check(input_identity(spec, symbols), grad_input),
    ]
    if grad_bias is not None:
        identities.append(_check(bias_identity(spec, symbols), grad_bias))
    derivation = ConvDerivation(spec, naming, loss, symbols, forward, grad_kernel, grad_input, grad_bias, tuple(identities))
    if values is None:
        return derivation
    return dataclasses.replace(derivation, numeric=_numeric(derivation, values))


def _numeric(derivation: ConvDerivation, values):
    from .numeric import evaluate
    from .values import FROM_PYTHON, byte_limit, load_values, parse_values

    if isinstance(values, (str, os.PathLike)):
        data, source = load_values(os.fspath(values), byte_limit(derivation.symbols))
    else:
        data, source = values, FROM_PYTHON
    v = parse_values(data, derivation.symbols, derivation.spec, derivation.loss, source)
    return evaluate(derivation, v.known, v.number, v.exact, v.given, v.source)


# --- forward: z[f, o] = b[f] + sum_c sum_k W[f, c, k] * Xpad[c, s*o + d*k]


def expand_forward(spec: ConvSpec, symbols: SymbolTable) -> Terms:
    """Every output as a sum of products, in the order c, then kernel position, then the bias."""
    n, F, C = spec.ndim, spec.out_channels, spec.in_channels
    O, K, N = spec.output_size, spec.kernel_size, spec.input_size
    grid = np.indices((F, *O, C, *K), sparse=True)
    f, o, c, k = grid[0], grid[1 : 1 + n], grid[1 + n], grid[2 + n :]
    positions = [s * oi + d * ki - p for oi, ki, s, d, p in zip(o, k, spec.stride, spec.dilation, spec.padding)]
    inside = np.ones((1,) * len(grid), dtype=bool)
    for pos, size in zip(positions, N):
        inside = inside & (pos >= 0) & (pos < size)
    clipped = [np.clip(pos, 0, size - 1) for pos, size in zip(positions, N)]
    x = np.where(inside, symbols["input"].ids[(c, *clipped)], ZERO)
    w = symbols["kernel"].ids[(f, c, *k)]
    out = np.ravel_multi_index((f, *o), (F, *O))
    full = np.broadcast_shapes(x.shape, w.shape, np.shape(out))
    terms = Terms.make(spec.output_shape, np.broadcast_to(out, full), np.broadcast_to(w, full), np.broadcast_to(x, full))
    if spec.bias:
        outputs = np.arange(int(np.prod(spec.output_shape)), dtype=np.int64)
        per_output = outputs // max(1, int(np.prod(O)))
        bias = Terms.make(spec.output_shape, outputs, symbols["bias"].ids[per_output], np.full_like(outputs, ONE))
        terms = concat([terms, bias])
    return terms.sorted_by_entry()


# --- chain rule: dL/dθ = sum_k dL/dz_k * dz_k/dθ, by a walk over the product terms of every z_k


def chain_rule(forward: Terms, group_ids: np.ndarray, grad_output_ids: np.ndarray) -> Terms:
    """Differentiate every output by every symbol of a group and weight by dL/dz_k.

    The derivative of a product term `a*b` by `a` is `b` (and by `b` is `a`); terms without the
    symbol vanish. Each surviving term contributes dL/dz_k * (the other factor) to dL/dθ.
    Result: factor a = dL/dz_k symbol, factor b = dz_k/dθ; sorted by θ, then k.
    """
    lo, size = int(group_ids.flat[0]) if group_ids.size else 0, group_ids.size
    g_flat = grad_output_ids.ravel()
    parts = []
    for wrt, other in ((forward.a, forward.b), (forward.b, forward.a)):
        hit = (wrt >= lo) & (wrt < lo + size)
        parts.append(Terms(group_ids.shape, wrt[hit] - lo, g_flat[forward.entry[hit]], other[hit], forward.coef[hit]))
    table = concat(parts)
    order = np.lexsort((table.a, table.entry))
    return Terms(table.shape, table.entry[order], table.a[order], table.b[order], table.coef[order])


# --- closed forms, built from pad / dilate / rot180 / correlate / crop alone


def kernel_closed_form(spec: ConvSpec, symbols: SymbolTable, dilate_grad: bool = True) -> Terms:
    """dL/dW[f,c] = valid-corr(pad(X[c]), dilate_s(G[f])), read at offsets d*k.

    dilate_grad=False leaves out the dilation of dL/dZ by the stride: a classic slip (`symgrad check`
    names it), which equals the right answer only for stride 1.
    """
    X, G = symbols["input"].ids, symbols["grad_output"].ids
    blocks = []
    for f in range(spec.out_channels):
        g_dilated = dilate(G[f], spec.stride if dilate_grad else (1,) * spec.ndim)
        for c in range(spec.in_channels):
            corr = correlate(pad(X[c], spec.padding), g_dilated).swapped()
            blocks.append(take(corr, (0,) * spec.ndim, spec.dilation, spec.kernel_size))
    return stack(blocks, (spec.out_channels, spec.in_channels))


def input_closed_form(spec: ConvSpec, symbols: SymbolTable, rotate: bool = True, dilate_grad: bool = True,
                      crop_padding: bool = True) -> Terms:
    """dL/dX[c] = crop_p(sum_f full-corr(dilate_s(G[f]), rot180(dilate_d(W[f,c])))) with zero tail rows.

    The flags leave out one step each (the slips `symgrad check` names): rotate=False keeps W unrotated,
    dilate_grad=False leaves dL/dZ undilated, crop_padding=False returns dL/dXpad (the padded shape).
    """
    W, G = symbols["kernel"].ids, symbols["grad_output"].ids
    full_pad = tuple(d * (k - 1) for d, k in zip(spec.dilation, spec.kernel_size))
    per_channel = []
    for c in range(spec.in_channels):
        parts = []
        for f in range(spec.out_channels):
            g_padded = pad(dilate(G[f], spec.stride if dilate_grad else (1,) * spec.ndim), full_pad)
            w = dilate(W[f, c], spec.dilation)
            parts.append(correlate(g_padded, rot180(w) if rotate else w))
        full = embed(concat(parts), spec.padded_size)
        per_channel.append(crop(full, spec.padding) if crop_padding else full)
    return stack(per_channel, (spec.in_channels,))


def kernel_identity(spec: ConvSpec, symbols: SymbolTable) -> Identity:
    """The closed form for dL/dW, with the notes and intermediate matrices shown beside it."""
    X, G = symbols["input"].ids, symbols["grad_output"].ids
    computed = kernel_closed_form(spec, symbols)
    corr_size = tuple(np_ - (s * (o - 1) + 1) + 1 for np_, s, o in zip(spec.padded_size, spec.stride, spec.output_size))
    notes = []
    if any(d > 1 for d in spec.dilation):
        notes.append(
            f"the correlation is {_x(corr_size)}; with dilation {_x(spec.dilation)}, dL/dW is read from it at "
            f"offsets d·k (k = 0, 1, …), i.e. in steps of {_x(spec.dilation)}"
        )
    elif corr_size != spec.kernel_size:
        notes.append(f"the correlation is {_x(corr_size)}; dL/dW is its first {_x(spec.kernel_size)} entries")
    intermediates = (
        Intermediate("X padded" if any(spec.padding) else "X", pad(X[0], spec.padding), _channel_note(spec, "c")),
        Intermediate("dL/dZ dilated by the stride", dilate(G[0], spec.stride), _channel_note(spec, "f")),
    )
    return Identity(
        "grad_kernel",
        "dL/dW = conv(X, dilate(dL/dZ))",
        False,
        len(computed),
        computed,
        intermediates,
        tuple(notes),
    )


def input_identity(spec: ConvSpec, symbols: SymbolTable) -> Identity:
    """The closed form for dL/dX, with the notes and intermediate matrices shown beside it."""
    W, G = symbols["kernel"].ids, symbols["grad_output"].ids
    full_pad = tuple(d * (k - 1) for d, k in zip(spec.dilation, spec.kernel_size))
    computed = input_closed_form(spec, symbols)
    full_size = tuple(s * (o - 1) + 1 + dk - 1 for s, o, dk in zip(spec.stride, spec.output_size, spec.dilated_kernel_size))
    notes = []
    tail = spec.unused_tail
    if any(tail):
        unread = " and ".join(
            f"the last {t} position(s) along the {name}" for t, name in zip(tail, axis_names(spec.ndim)) if t
        )
        notes.append(
            f"the full correlation is {_x(full_size)} but the padded input is {_x(spec.padded_size)}: "
            f"{unread} are never read by any output (floor division in the output size), so their "
            f"gradient is exactly 0 and zeros are appended there"
        )
    if any(spec.padding):
        notes.append(f"padding {_x(spec.padding)} is cropped from each side to get dL/dX of size {_x(spec.input_size)}")
    intermediates = (
        Intermediate("dL/dZ dilated and padded for the full correlation", pad(dilate(G[0], spec.stride), full_pad), _channel_note(spec, "f")),
        Intermediate("rot180(W)" if not any(d > 1 for d in spec.dilation) else "rot180(W dilated)", rot180(dilate(W[0, 0], spec.dilation)), _channel_note(spec, "fc")),
    )
    if any(tail) or any(spec.padding):
        first_channel = computed.entry[computed.entry < int(np.prod(spec.input_size))]
        counts = np.bincount(first_channel, minlength=int(np.prod(spec.input_size))).reshape(spec.input_size)
        intermediates += (
            Intermediate("terms per entry of dL/dX (0: no output reads it)", counts, _channel_note(spec, "c"), "counts"),
        )
    return Identity(
        "grad_input",
        "dL/dX = full-conv(dilate(dL/dZ), rot180(W))",
        False,
        len(computed),
        computed,
        intermediates,
        tuple(notes),
    )


def bias_identity(spec: ConvSpec, symbols: SymbolTable) -> Identity:
    """dL/db[f] = sum over the outputs of channel f of dL/dz."""
    G = symbols["grad_output"].ids
    per_f = G.reshape(spec.out_channels, -1)
    entry = np.repeat(np.arange(spec.out_channels), per_f.shape[1])
    computed = Terms.make((spec.out_channels,), entry, per_f.ravel(), np.full(per_f.size, ONE))
    return Identity("grad_bias", "dL/db = sum of dL/dZ over positions", False, len(computed), computed)


def _check(identity: Identity, chain: Terms) -> Identity:
    holds = identity.computed.same_sums(chain)
    return Identity(identity.name, identity.statement, holds, identity.compared_terms, identity.computed, identity.intermediates, identity.notes)


def _channel_note(spec: ConvSpec, which: str) -> str:
    parts = []
    if "f" in which and spec.out_channels > 1:
        parts.append("output channel 1")
    if "c" in which and spec.in_channels > 1:
        parts.append("input channel 1")
    return f"shown for {' and '.join(parts)}" if parts else ""


def _x(values) -> str:
    return "x".join(map(str, values))
