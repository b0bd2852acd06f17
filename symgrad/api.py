"""The Python API: the same options as the CLI, returning the derivation object.

This is where a values path becomes data (the core never reads files).

>>> import symgrad
>>> d = symgrad.conv(input="5x5", kernel="3x3", stride=2, index="flat", names="a,w,z")
>>> d.all_hold, str(d.gradient_expr("grad_kernel", 0))
(True, 'a_1*dz_1 + a_11*dz_3 + a_13*dz_4 + a_3*dz_2')
"""

from __future__ import annotations

import math
import os

from typing import TYPE_CHECKING

from .naming import Naming
from .spec import DEFAULT_MAX_TERMS, ConvSpec, ConvTransposeSpec, PoolSpec
from .symbols import SymbolTable
from .values import FROM_PYTHON, MAX_FILE_BYTES, byte_limit, load_values

if TYPE_CHECKING:  # (each layer kind's module is imported by the function that derives it)
    from .layers import ConvDerivation, ConvTransposeDerivation, NetDerivation, PoolDerivation
    from .netspec import NetSpec


def conv(
    input,
    kernel,
    stride=1,
    padding=0,
    dilation=1,
    in_channels=1,
    out_channels=1,
    bias: bool = False,
    loss: str = "generic",
    index: str = "matrix",
    names: str | None = None,
    max_terms: int = DEFAULT_MAX_TERMS,
    values=None,
    lr=None,
    im2col: bool = False,
    groups=1,
    padding_mode: str = "zeros",
) -> ConvDerivation:
    """Derive backpropagation through a convolution layer. Raises SymgradError on bad options.

    values: numbers for any of input, kernel, bias, grad_output (a dict nested like the tensors,
    or the path of a JSON file with that content), as `--values` takes them; lr: the learning rate α
    of the update w − α·dL/dw ("0.1" and "1/10" are exact); im2col: also the matrix form Z = W_row·X_col and
    its identities dL/dW = dL/dZ·X_colᵀ and dL/dX = col2im(W_rowᵀ·dL/dZ); groups: PyTorch's groups (output
    channel f reads only the in_channels/groups channels of its group; the kernel is F x C/groups x ...);
    padding: numbers, or "same" / "valid"; padding_mode: zeros, reflect, replicate or circular (what the
    padded cells hold; the gradient of the copies is folded back onto the cells they copy).
    """
    spec = ConvSpec.build(input, kernel, stride, padding, dilation, in_channels, out_channels, bias, max_terms=max_terms,
                          groups=groups, padding_mode=padding_mode)
    naming = Naming.build(index, names)
    data, source = read_values(values, SymbolTable.for_conv(spec, naming))
    from .layers.conv import derive_conv

    return derive_conv(spec, naming, loss, data, source, lr, im2col)


def convtranspose(
    input,
    kernel,
    stride=1,
    padding=0,
    output_padding=0,
    dilation=1,
    in_channels=1,
    out_channels=1,
    groups=1,
    bias: bool = False,
    loss: str = "generic",
    index: str = "matrix",
    names: str | None = None,
    max_terms: int = DEFAULT_MAX_TERMS,
    values=None,
    lr=None,
) -> ConvTransposeDerivation:
    """Derive backpropagation through a transposed convolution (PyTorch's ConvTranspose, weight shape
    in × out/groups × kernel). Raises SymgradError on bad options; values and lr as for conv()."""
    spec = ConvTransposeSpec.build(input, kernel, stride, padding, output_padding, dilation, in_channels, out_channels,
                                   groups, bias, max_terms=max_terms)
    naming = Naming.build(index, names)
    data, source = read_values(values, SymbolTable.for_convtranspose(spec, naming))
    from .layers.convtranspose import derive_convtranspose

    return derive_convtranspose(spec, naming, loss, data, source, lr)


def pool(
    input,
    window=None,
    stride=None,
    padding=0,
    mode: str = "max",
    channels=1,
    ties: str = "first",
    index: str = "matrix",
    names: str | None = None,
    max_terms: int = DEFAULT_MAX_TERMS,
    values=None,
    dilation=1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor=None,
    output_size=None,
) -> PoolDerivation:
    """Derive backpropagation through max or average pooling. Raises SymgradError on bad options.

    stride defaults to the window; names are two letters, for input and output (default "x,y");
    values: numbers for input and/or grad_output (a dict or the path of a JSON file). PyTorch's other options:
    dilation (max pooling), ceil_mode, count_include_pad and divisor (divisor_override; average pooling), and
    output_size instead of window for adaptive pooling.
    """
    spec = PoolSpec.build(input, window, stride, padding, mode, channels, ties, max_terms=max_terms, dilation=dilation,
                          ceil_mode=ceil_mode, count_include_pad=count_include_pad, divisor=divisor, output_size=output_size)
    naming = Naming.for_pool(index, names)
    data, source = read_values(values, SymbolTable.for_pool(spec, naming))
    from .layers.pool import derive_pool

    return derive_pool(spec, naming, data, source)


def net(
    input,
    layers: str,
    in_channels=1,
    values=None,
    lr=None,
    index: str = "matrix",
    names: str | None = None,
    max_terms: int = DEFAULT_MAX_TERMS,
    im2col: bool = False,
) -> NetDerivation:
    """Derive backpropagation through a small network, stage by stage: `layers` like
    'conv 3x3 out=2 bias | relu | maxpool 2x2 | flatten | dense 3 bias | softmax-ce'.

    values: {"input": nested, "layers": [{...} per stage]} (a dict or the path of a JSON file);
    lr: the learning rate α of the update w − α·dL/dw ("0.1" and "1/10" are exact); im2col: conv stages also
    carry their matrix form (as conv(..., im2col=True)).
    """
    from .layers.net import derive_net
    from .netspec import NetSpec

    spec = NetSpec.build(input, layers, in_channels, index=_index(index), max_terms=max_terms)
    if isinstance(values, (str, os.PathLike)):
        values, source = load_values(os.fspath(values), net_byte_limit(spec))
    else:
        source = FROM_PYTHON
    return derive_net(spec, values, lr, names, source, im2col)


def _index(index: str) -> str:
    Naming.build(index)  # the one check of --index
    return index


def net_byte_limit(spec: NetSpec) -> int:
    """The largest values file a network can need (as byte_limit for a layer)."""
    entries = sum(math.prod(stage.input_shape) + math.prod(stage.output_shape) for stage in spec.stages)
    entries += sum(stage.layer.estimated_terms for stage in spec.stages if stage.kind in ("conv", "convtranspose"))
    entries += sum(math.prod(stage.input_shape) * math.prod(stage.output_shape) for stage in spec.stages if stage.kind == "dense")
    return min(MAX_FILE_BYTES, 1024 * 1024 + 200 * entries)


def read_values(values, symbols: SymbolTable) -> tuple[dict | None, str]:
    """(the values as data, where they came from): a path is read here (bounded by what the layer can
    need), a dict is taken as it is."""
    if isinstance(values, (str, os.PathLike)):
        return load_values(os.fspath(values), byte_limit(symbols))
    return values, FROM_PYTHON
