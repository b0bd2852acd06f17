"""Layer specifications: parse "5x5", validate everything once, and do the output-size arithmetic.

A spec is plain checked data. Nothing downstream validates again.

>>> spec = ConvSpec.build(input="5x5", kernel="3x3", stride=2)
>>> spec.output_size
(2, 2)
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import SpecError, TooLargeError

if TYPE_CHECKING:
    import numpy as np

MAX_AXES = 3
# Derivations larger than this many product terms are refused before anything is built.
# LeNet's first layer (3x32x32 -> 6 channels, 5x5 kernel) costs about 370,000.
DEFAULT_MAX_TERMS = 2_000_000
CHECK_MAX_TERMS = 200_000  # `symgrad check` and `template`: homework-sized problems, answered by hand

_SIZE_RE = re.compile(r"^\s*[0-9]{1,12}(\s*[xX×]\s*[0-9]{1,12}){0,%d}\s*$" % (MAX_AXES - 1))
_SPLIT_RE = re.compile(r"\s*[xX×]\s*")


def _parse_ints(text: str | int | tuple | list, option: str, what: str) -> tuple[int, ...]:
    """Turn "5x5", "7", 3, or (2, 1) into a tuple of ints; raise SpecError quoting the input otherwise."""
    shown = _shown(text)
    if isinstance(text, bool):
        raise SpecError(f"{option} must be {what}, got {shown}")
    if isinstance(text, int):
        return (text,)
    if isinstance(text, (tuple, list)):
        if not text or len(text) > MAX_AXES or not all(isinstance(v, int) and not isinstance(v, bool) for v in text):
            raise SpecError(f"{option} must be {what}, got {shown}")
        return tuple(text)
    if not isinstance(text, str):
        raise SpecError(f"{option} must be {what}, got {shown}")
    candidate = text.strip()
    if not _SIZE_RE.match(text):
        if re.fullmatch(r"\s*[0-9]+(\s*[xX×]\s*[0-9]+)+\s*", text):
            raise SpecError(f"{option} has more than {MAX_AXES} axes: {shown}; expected {what}")
        raise SpecError(f"{option} must be {what}, got {shown}")
    return tuple(int(part) for part in _SPLIT_RE.split(candidate))


def _shown(value) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value) if value else repr(value)
    return repr(value)


def parse_size(text, option: str) -> tuple[int, ...]:
    """Parse a size like "N", "HxW" or "DxHxW"; every entry must be >= 1."""
    what = "a size like 5, 5x5 or 3x5x5 with positive integers"
    sizes = _parse_ints(text, option, what)
    for value in sizes:
        if value < 1:
            raise SpecError(f"{option} must have positive sizes, got {_shown(text)}; expected {what}")
    return sizes


def parse_per_axis(text, option: str, ndim: int, *, minimum: int) -> tuple[int, ...]:
    """Parse a stride/padding/dilation: one value for every axis, or one per axis ("2x1")."""
    kind = "a positive integer" if minimum >= 1 else "a non-negative integer"
    what = f"{kind}, or one per axis like " + "x".join(["2"] * ndim) if ndim > 1 else kind
    values = _parse_ints(text, option, what)
    for value in values:
        if value < minimum:
            raise SpecError(f"{option} must be {kind}, got {_shown(text)}")
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise SpecError(
            f"{option} has {_axes(len(values))} ({_shown(text)}) but the input has {ndim}; "
            f"give one value or {ndim}"
        )
    return values


def parse_count(value, option: str) -> int:
    """Parse a channel count: a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise SpecError(f"{option} must be a positive integer, got {_shown(value)}")
    if isinstance(value, str):
        if not re.fullmatch(r"\s*[0-9]{1,9}\s*", value) or int(value) < 1:
            raise SpecError(f"{option} must be a positive integer, got {_shown(value)}")
        return int(value)
    if value < 1:
        raise SpecError(f"{option} must be a positive integer, got {value}")
    return value


def parse_sizes(input, other, option: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Parse --input and a kernel or window size, which must have the same number of axes."""
    input_size, other_size = parse_size(input, "--input"), parse_size(other, option)
    if len(other_size) != len(input_size):
        raise SpecError(
            f"{option} {_shown(other)} has {_axes(len(other_size))} but --input {_shown(input)} "
            f"has {len(input_size)}; give both the same number of axes"
        )
    return input_size, other_size


def axis_text(values) -> str:
    """`2` when every axis has the same value, else `2x1`."""
    values = list(values)
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


class _Grouped:
    """PyTorch's groups, shared by convolution and transposed convolution."""

    in_channels: int
    out_channels: int
    groups: int

    def _check_groups(self) -> None:
        G, C, F = self.groups, self.in_channels, self.out_channels
        if C % G or F % G:
            raise SpecError(
                f"--groups {G} must divide both --in-channels {C} and --out-channels {F} (PyTorch's rule); "
                f"expected a common divisor such as {math.gcd(C, F)}"
            )

    @property
    def group_in(self) -> int:
        """Input channels each output channel reads (C / groups)."""
        return self.in_channels // self.groups

    @property
    def group_out(self) -> int:
        """Output channels per group (F / groups)."""
        return self.out_channels // self.groups


class _Spatial:
    """What every layer spec shares: spatial axes with a stride and padding, and the output-size rule
    `floor(numerator / stride) + 1` (the numerator is the kind's: N + 2p − d(k−1) − 1 for conv)."""

    input_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]

    def numerator(self, axis: int) -> int:
        raise NotImplementedError

    @property
    def ndim(self) -> int:
        return len(self.input_size)

    @property
    def padded_size(self) -> tuple[int, ...]:
        return tuple(n + 2 * p for n, p in zip(self.input_size, self.padding))

    @property
    def output_size(self) -> tuple[int, ...]:
        """PyTorch's output size per axis."""
        return tuple(self.numerator(axis) // s + 1 for axis, s in enumerate(self.stride))

    @property
    def unused_tail(self) -> tuple[int, ...]:
        """Per axis, how many trailing padded positions no output reads (the floor-division remainder)."""
        return tuple(self.numerator(axis) % s for axis, s in enumerate(self.stride))

    @property
    def input_text(self) -> str:
        return "x".join(map(str, self.input_size))

    @property
    def padded_text(self) -> str:
        return "x".join(map(str, self.padded_size))


@dataclass(frozen=True)
class ConvSpec(_Spatial, _Grouped):
    """A convolution layer, checked. Spatial tuples all have `ndim` entries; channels are counts."""

    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    in_channels: int = 1
    out_channels: int = 1
    bias: bool = False
    groups: int = 1  # PyTorch's groups: output channel f reads only the in_channels/groups inputs of its group
    padding_extra: tuple[int, ...] = ()  # 'same' with an odd total: one more zero at the end (PyTorch's placement)
    padding_mode: str = "zeros"  # zeros | reflect | replicate | circular: what the padded cells hold
    padding_word: str = ""  # "same" or "valid" when the padding was given that way

    @classmethod
    def build(
        cls,
        input,
        kernel,
        stride=1,
        padding=0,
        dilation=1,
        in_channels=1,
        out_channels=1,
        bias: bool = False,
        max_terms: int | None = DEFAULT_MAX_TERMS,
        groups=1,
        padding_mode: str = "zeros",
    ) -> "ConvSpec":
        """Parse and validate every option; raise SpecError / TooLargeError with one clear line.
        `padding` may also be "same" (stride 1; total d(k−1) per axis, the odd zero at the end, as PyTorch
        places it) or "valid" (0)."""
        input_size, kernel_size = parse_sizes(input, kernel, "--kernel")
        ndim = len(input_size)
        stride_ = parse_per_axis(stride, "--stride", ndim, minimum=1)
        dilation_ = parse_per_axis(dilation, "--dilation", ndim, minimum=1)
        word = padding.strip().lower() if isinstance(padding, str) and padding.strip().lower() in ("same", "valid") else ""
        extra: tuple[int, ...] = ()
        if word == "valid":
            padding_ = (0,) * ndim
        elif word == "same":
            if any(s != 1 for s in stride_):
                raise SpecError(f"--padding same needs stride 1 (PyTorch's rule), got --stride {axis_text(stride_)}; "
                                "give the padding as numbers for a strided layer")
            totals = [d * (k - 1) for d, k in zip(dilation_, kernel_size)]
            padding_, extra = tuple(t // 2 for t in totals), tuple(t % 2 for t in totals)
            extra = extra if any(extra) else ()
        else:
            padding_ = parse_per_axis(padding, "--padding", ndim, minimum=0) if not (
                isinstance(padding, str) and re.fullmatch(r"\s*[A-Za-z]+\s*", padding)) else _bad_padding_word(padding)
        if padding_mode not in PADDING_MODES:
            raise SpecError(f"--padding-mode must be one of {', '.join(PADDING_MODES)}, got {_shown(padding_mode)}")
        spec = cls(
            input_size=input_size,
            kernel_size=kernel_size,
            stride=stride_,
            padding=padding_,
            dilation=dilation_,
            in_channels=parse_count(in_channels, "--in-channels"),
            out_channels=parse_count(out_channels, "--out-channels"),
            bias=bool(bias),
            groups=parse_count(groups, "--groups"),
            padding_extra=extra,
            padding_mode=padding_mode,
            padding_word=word,
        )
        spec._check_groups()
        spec._check_padding_mode()
        spec._check_fits()
        if max_terms is not None:
            spec.check_budget(max_terms)
        return spec

    def _check_padding_mode(self) -> None:
        """PyTorch's limits: reflect padding smaller than the input (a cell cannot mirror past the far edge),
        circular padding at most the input (it wraps around once)."""
        for axis, (n, lo, hi) in enumerate(zip(self.input_size, self.padding, self.padding_end)):
            name = axis_names(self.ndim)[axis]
            if self.padding_mode == "reflect" and max(lo, hi) >= n:
                raise SpecError(f"--padding-mode reflect needs padding smaller than the input: padding {max(lo, hi)} "
                                f"along the {name} axis of size {n} (PyTorch's rule); expected at most {n - 1}")
            if self.padding_mode == "circular" and max(lo, hi) > n:
                raise SpecError(f"--padding-mode circular needs padding at most the input: padding {max(lo, hi)} "
                                f"along the {name} axis of size {n} (PyTorch's rule); expected at most {n}")

    @property
    def padding_end(self) -> tuple[int, ...]:
        """Padding after the last cell, per axis (the padding before it is `padding`)."""
        return tuple(p + e for p, e in zip(self.padding, self.padding_extra or (0,) * self.ndim))

    @property
    def padded_size(self) -> tuple[int, ...]:
        return tuple(n + lo + hi for n, lo, hi in zip(self.input_size, self.padding, self.padding_end))

    @property
    def padding_text(self) -> str:
        """As a title says it: `1`, `1x0`, `same` (with its numbers when they are uneven), `valid`."""
        if self.padding_word == "same" and self.padding_extra:
            return f"same ({axis_text(self.padding)} before, {axis_text(self.padding_end)} after)"
        return self.padding_word or axis_text(self.padding)

    @property
    def padded(self) -> bool:
        return any(self.padding) or any(self.padding_end)

    def group_of_output(self, f: int) -> int:
        return f // self.group_out

    def input_channel(self, f: int, local: int) -> int:
        """The input channel that output channel f reads as its `local`-th (kernel index [f, local])."""
        return self.group_of_output(f) * self.group_in + local

    def _check_fits(self) -> None:
        for axis, (n, k, padded, d) in enumerate(zip(self.input_size, self.kernel_size, self.padded_size, self.dilation)):
            extent = d * (k - 1) + 1
            if extent > padded:
                name = axis_names(self.ndim)[axis]
                dil = f" with dilation {d} spans {extent}" if d > 1 else ""
                raise SpecError(
                    f"kernel {self.kernel_text}{dil} is larger than the padded input {self.padded_text} "
                    f"along the {name} axis; expected a kernel that fits inside input + 2*padding"
                )

    def check_budget(self, max_terms: int) -> None:
        """Refuse, from arithmetic alone, a layer whose derivation would exceed `max_terms`."""
        cost = self.estimated_terms
        if cost > max_terms:
            extra = "".join(
                f", {name} {'x'.join(map(str, values))}"
                for name, values, default in (("padding", self.padding, 0), ("dilation", self.dilation, 1))
                if any(v != default for v in values)
            )
            raise TooLargeError(
                f"layer too large: about {cost:,} product terms (input {self.input_text}, kernel "
                f"{self.kernel_text}{extra}, {self.in_channels}->{self.out_channels} channels"
                f"{f', groups {self.groups}' if self.groups > 1 else ''}) exceeds the limit "
                f"of {max_terms:,}", TooLargeError.LAYER_ADVICE
            )

    @property
    def dilated_kernel_size(self) -> tuple[int, ...]:
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))

    def numerator(self, axis: int) -> int:
        """N + 2p − d(k−1) − 1 along an axis: the output size is this over the stride, floored, plus 1."""
        return self.padded_size[axis] - self.dilation[axis] * (self.kernel_size[axis] - 1) - 1

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.in_channels, *self.input_size)

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """PyTorch's weight shape: (out_channels, in_channels / groups, *kernel)."""
        return (self.out_channels, self.group_in, *self.kernel_size)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.out_channels, *self.output_size)

    @property
    def estimated_terms(self) -> int:
        """Product terms in the expansion, plus one per symbol and gradient entry (Python ints: no overflow)."""
        forward = self.out_channels * self.group_in * math.prod(self.output_size) * math.prod(self.kernel_size)
        entries = self.in_channels * math.prod(self.padded_size) + math.prod(self.kernel_shape) + math.prod(self.output_shape)
        return forward + entries

    # --- what a values file may give for this layer

    def value_keys(self, loss: str) -> tuple[str, ...]:
        """Keys a values file may have: bias only with --bias; grad_output only for the generic loss
        (sum and mse define dL/dz); target only for mse."""
        keys = ("input", "kernel", "bias", "grad_output", "target")
        return tuple(key for key in keys if (key != "bias" or self.bias) and (key != "grad_output" or loss == "generic")
                     and (key != "target" or loss == "mse"))

    def value_key_problem(self, key: str, loss: str) -> str | None:
        """Why a values key is refused (None: not a key of this layer at all)."""
        if key == "bias" and not self.bias:
            return '"bias" is given but the layer has no bias (add --bias)'
        if key == "grad_output" and loss == "sum":
            return '"grad_output" is not used with --loss sum (dL/dz is 1 there)'
        if key == "grad_output" and loss == "mse":
            return '"grad_output" is not used with --loss mse (dL/dz is z - t there; give "target")'
        if key == "target":
            return f'"target" is only used with --loss mse, not --loss {loss}'
        if key == "output":
            return '"output" cannot be given (z is computed from input, kernel and bias)'
        return None

    @staticmethod
    def values_layer_words(loss: str) -> str:
        return f"layer and --loss {loss}"

    @property
    def kernel_text(self) -> str:
        return "x".join(map(str, self.kernel_size))


PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


@dataclass(frozen=True)
class ConvTransposeSpec(_Grouped):
    """A transposed convolution (PyTorch's ConvTranspose), checked. Weight shape (in, out/groups, *kernel);
    output size (N − 1)s − 2p + d(k − 1) + output_padding + 1 per axis. Input cell n adds w_k·x_n into
    output cell n·s + d·k − p: the forward is a convolution's input-gradient map (see `as_conv`)."""

    input_size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    in_channels: int = 1
    out_channels: int = 1
    groups: int = 1
    bias: bool = False

    padding_mode = "zeros"  # what convolution's shared code reads of a spec
    padding_word = ""

    @property
    def padding_end(self) -> tuple[int, ...]:
        return self.padding

    @classmethod
    def build(cls, input, kernel, stride=1, padding=0, output_padding=0, dilation=1, in_channels=1, out_channels=1,
              groups=1, bias: bool = False, max_terms: int | None = DEFAULT_MAX_TERMS) -> "ConvTransposeSpec":
        input_size, kernel_size = parse_sizes(input, kernel, "--kernel")
        ndim = len(input_size)
        spec = cls(
            input_size=input_size,
            kernel_size=kernel_size,
            stride=parse_per_axis(stride, "--stride", ndim, minimum=1),
            padding=parse_per_axis(padding, "--padding", ndim, minimum=0),
            output_padding=parse_per_axis(output_padding, "--output-padding", ndim, minimum=0),
            dilation=parse_per_axis(dilation, "--dilation", ndim, minimum=1),
            in_channels=parse_count(in_channels, "--in-channels"),
            out_channels=parse_count(out_channels, "--out-channels"),
            groups=parse_count(groups, "--groups"),
            bias=bool(bias),
        )
        names = axis_names(ndim)
        for axis, (op, s, d) in enumerate(zip(spec.output_padding, spec.stride, spec.dilation)):
            if op >= max(s, d):
                raise SpecError(f"--output-padding {axis_text(spec.output_padding)} must be smaller than the stride or "
                                f"the dilation along the {names[axis]} axis (PyTorch's rule); got {op} with stride {s} "
                                f"and dilation {d}")
        for axis, o in enumerate(spec.output_size):
            if o < 1:
                raise SpecError(f"--padding {axis_text(spec.padding)} leaves no output along the {names[axis]} axis: "
                                f"(N − 1)s − 2p + d(k − 1) + output_padding + 1 = {o}; expected at least 1")
        spec._check_groups()
        if max_terms is not None and spec.estimated_terms > max_terms:
            raise TooLargeError(
                f"layer too large: about {spec.estimated_terms:,} product terms (input {spec.input_text}, kernel "
                f"{spec.kernel_text}, {spec.in_channels}->{spec.out_channels} channels) exceeds the limit of {max_terms:,}",
                TooLargeError.LAYER_ADVICE)
        return spec

    @property
    def ndim(self) -> int:
        return len(self.input_size)

    @property
    def output_size(self) -> tuple[int, ...]:
        return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, op, d in
                     zip(self.input_size, self.kernel_size, self.stride, self.padding, self.output_padding, self.dilation))

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.in_channels, *self.input_size)

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        """PyTorch's weight shape for ConvTranspose: (in_channels, out_channels / groups, *kernel)."""
        return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.out_channels, *self.output_size)

    @property
    def input_text(self) -> str:
        return "x".join(map(str, self.input_size))

    @property
    def kernel_text(self) -> str:
        return "x".join(map(str, self.kernel_size))

    @property
    def estimated_terms(self) -> int:
        forward = self.in_channels * math.prod(self.input_size) * self.group_out * math.prod(self.kernel_size)
        return forward + math.prod(self.input_shape) + math.prod(self.kernel_shape) + math.prod(self.output_shape)

    def as_conv(self) -> "ConvSpec":
        """The convolution whose dL/dX map is this layer's forward: input = this output's size, the same kernel,
        stride, padding and dilation, channels swapped (its kernel shape is this weight's shape)."""
        return ConvSpec.build("x".join(map(str, self.output_size)), self.kernel_text, "x".join(map(str, self.stride)),
                              "x".join(map(str, self.padding)), "x".join(map(str, self.dilation)), self.out_channels,
                              self.in_channels, groups=self.groups, max_terms=None)

    value_keys = ConvSpec.value_keys
    value_key_problem = ConvSpec.value_key_problem
    values_layer_words = staticmethod(ConvSpec.values_layer_words)


def _bad_padding_word(text: str):
    raise SpecError(f"--padding must be a non-negative integer, one per axis like 1x0, same or valid; got {_shown(text)}")


def _axes(count: int) -> str:
    return "1 axis" if count == 1 else f"{count} axes"


def axis_names(ndim: int) -> list[str]:
    """Names of the spatial axes, for messages and the output-size arithmetic."""
    return {1: ["length"], 2: ["height", "width"], 3: ["depth", "height", "width"]}[ndim]


POOL_MODES = ("max", "avg")
TIE_POLICIES = ("first", "split")


@dataclass(frozen=True)
class PoolSpec(_Spatial):
    """A pooling layer, checked: PyTorch's max_pool / avg_pool, and the adaptive ones.

    Max pooling pads with -inf (padding never wins). Average pooling counts padded zeros in the divisor
    (PyTorch's default, count_include_pad=True) unless told not to; divisor_override replaces the
    divisor. ceil_mode rounds the output size up (a window that would start in the right padding is
    dropped); such a last window may hang over the end and counts only what it covers. Adaptive pooling
    gives the output size instead of a window: output i along an axis of N reads
    floor(i·N/O) .. ceil((i+1)·N/O) − 1, so windows may differ in size and overlap.
    """

    input_size: tuple[int, ...]
    window: tuple[int, ...]  # adaptive: the largest window per axis
    stride: tuple[int, ...]  # adaptive: unused (1s)
    padding: tuple[int, ...]
    mode: str = "max"
    channels: int = 1
    ties: str = "first"
    dilation: tuple[int, ...] = ()  # max pooling only; () means 1 per axis
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: int | None = None
    adaptive_size: tuple[int, ...] = ()  # the output size of adaptive pooling; () for windowed pooling

    @classmethod
    def build(cls, input, window=None, stride=None, padding=0, mode="max", channels=1, ties="first",
              max_terms: int | None = DEFAULT_MAX_TERMS, dilation=1, ceil_mode: bool = False,
              count_include_pad: bool = True, divisor=None, output_size=None) -> "PoolSpec":
        if mode not in POOL_MODES:
            raise SpecError(f"--mode must be one of {', '.join(POOL_MODES)}, got {_shown(mode)}")
        if ties not in TIE_POLICIES:
            raise SpecError(f"--ties must be one of {', '.join(TIE_POLICIES)}, got {_shown(ties)}")
        if output_size is not None:
            return cls._adaptive(input, window, stride, padding, mode, channels, ties, max_terms, dilation, ceil_mode,
                                 count_include_pad, divisor, output_size)
        if window is None:
            raise SpecError("--window is needed (or --output-size for adaptive pooling)")
        input_size, window_size = parse_sizes(input, window, "--window")
        ndim = len(input_size)
        dilation_ = parse_per_axis(dilation, "--dilation", ndim, minimum=1)
        if mode == "avg" and any(d > 1 for d in dilation_):
            raise SpecError(f"--dilation {axis_text(dilation_)} is for max pooling; PyTorch's average pooling has no dilation")
        if mode == "max" and (not count_include_pad or divisor is not None):
            raise SpecError(("--no-count-include-pad" if not count_include_pad else "--divisor")
                            + " is for average pooling (--mode avg); max pooling divides nothing")
        spec = cls(
            input_size=input_size,
            window=window_size,
            stride=window_size if stride is None else parse_per_axis(stride, "--stride", ndim, minimum=1),
            padding=parse_per_axis(padding, "--padding", ndim, minimum=0),
            mode=mode,
            channels=parse_count(channels, "--channels"),
            ties=ties,
            dilation=dilation_ if any(d > 1 for d in dilation_) else (),
            ceil_mode=bool(ceil_mode),
            count_include_pad=bool(count_include_pad),
            divisor_override=None if divisor is None else parse_count(divisor, "--divisor"),
        )
        spec._check_fits()
        if max_terms is not None and spec.estimated_terms > max_terms:
            raise TooLargeError(
                f"layer too large: about {spec.estimated_terms:,} terms (input {spec.input_text}, window "
                f"{spec.window_text}, {spec.channels} channel{'s' if spec.channels > 1 else ''}) exceeds the limit of {max_terms:,}",
                TooLargeError.LAYER_ADVICE,
            )
        return spec

    @classmethod
    def _adaptive(cls, input, window, stride, padding, mode, channels, ties, max_terms, dilation, ceil_mode,
                  count_include_pad, divisor, output_size) -> "PoolSpec":
        given = [name for name, value, default in (("--window", window, None), ("--stride", stride, None),
                 ("--padding", padding, 0), ("--dilation", dilation, 1), ("--ceil-mode", ceil_mode, False),
                 ("--no-count-include-pad", not count_include_pad, False), ("--divisor", divisor, None))
                 if value not in (default, str(default))]
        if given:
            raise SpecError(f"--output-size (adaptive pooling) sets every window itself; leave out {', '.join(given)}")
        input_size, out_size = parse_sizes(input, output_size, "--output-size")
        for axis, (n, o) in enumerate(zip(input_size, out_size)):
            if o > n:
                raise SpecError(f"--output-size {_shown(output_size)} is larger than the input {_shown(input)} along the "
                                f"{axis_names(len(input_size))[axis]} axis; expected at most {n} outputs there")
        ndim = len(input_size)
        largest = tuple(max(-(-(i + 1) * n // o) - (i * n // o) for i in range(o)) for n, o in zip(input_size, out_size))
        spec = cls(input_size=input_size, window=largest, stride=(1,) * ndim, padding=(0,) * ndim, mode=mode,
                   channels=parse_count(channels, "--channels"), ties=ties, adaptive_size=out_size)
        if max_terms is not None and spec.estimated_terms > max_terms:
            raise TooLargeError(f"layer too large: about {spec.estimated_terms:,} terms (input {spec.input_text}, output "
                                f"size {'x'.join(map(str, out_size))}) exceeds the limit of {max_terms:,}", TooLargeError.LAYER_ADVICE)
        return spec

    @property
    def dilations(self) -> tuple[int, ...]:
        return self.dilation or (1,) * self.ndim

    @property
    def extent(self) -> tuple[int, ...]:
        """The span of a window per axis: d(k − 1) + 1."""
        return tuple(d * (k - 1) + 1 for d, k in zip(self.dilations, self.window))

    @property
    def output_size(self) -> tuple[int, ...]:
        """PyTorch's output size per axis: floor (or with ceil_mode, ceil, dropping a window that would start
        in the right padding) of (N + 2p − d(k−1) − 1)/s, plus 1; adaptive pooling's given size."""
        if self.adaptive_size:
            return self.adaptive_size
        sizes = []
        for axis, s in enumerate(self.stride):
            num = self.numerator(axis)
            out = (-(-num // s) if self.ceil_mode else num // s) + 1
            if self.ceil_mode and (out - 1) * s >= self.input_size[axis] + self.padding[axis]:
                out -= 1
            sizes.append(out)
        return tuple(sizes)

    @property
    def unused_tail(self) -> tuple[int, ...]:
        """Trailing padded positions no window reads: none with adaptive windows (they cover the input); with
        ceil_mode, what lies past the last window's end (it may hang over instead)."""
        if self.adaptive_size:
            return (0,) * self.ndim
        if self.ceil_mode:
            return tuple(max(0, n - ((o - 1) * s + e))
                         for n, o, s, e in zip(self.padded_size, self.output_size, self.stride, self.extent))
        return super().unused_tail

    def spans(self, axis: int) -> list[tuple[int, int]]:
        """Per output along an axis: [start, end) of its window in input coordinates (may run into the
        padding: start < 0 or end > N); adaptive: PyTorch's floor/ceil formula."""
        n = self.input_size[axis]
        if self.adaptive_size:
            o = self.adaptive_size[axis]
            return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]
        s, p, e = self.stride[axis], self.padding[axis], self.extent[axis]
        return [(i * s - p, i * s - p + e) for i in range(self.output_size[axis])]

    def divisors(self) -> np.ndarray:
        """Average pooling's divisor for each output of one channel (row-major, int64): the window's size
        as PyTorch counts it (cells inside input + padding; only real cells without count_include_pad; the
        override when given; adaptive: the window's size)."""
        return self._divisors

    @functools.cached_property
    def _divisors(self) -> np.ndarray:
        import numpy as np  # here, not at the top: the CLI reads spec.py before any layer is built

        if self.divisor_override:
            return np.full(math.prod(self.output_size), self.divisor_override, dtype=np.int64)
        total = np.ones((), dtype=np.int64)
        for axis in range(self.ndim):
            n, p = self.input_size[axis], self.padding[axis]
            spans = np.array(self.spans(axis), dtype=np.int64).reshape(-1, 2)
            start, end = spans[:, 0], spans[:, 1]
            if self.adaptive_size:
                counts = end - start
            elif self.count_include_pad:
                counts = np.minimum(end, n + p) - start
            else:
                counts = np.minimum(end, n) - np.maximum(start, 0)
            total = np.multiply.outer(total, counts)
        return total.ravel()

    @functools.cached_property
    def common_divisor(self) -> int:
        """Average pooling: the least common multiple of the windows' divisors (1 for max pooling)."""
        import numpy as np

        return int(np.lcm.reduce(self.divisors())) if self.mode == "avg" and self.divisors().size else 1

    @functools.cached_property
    def uniform_divisor(self) -> int | None:
        """The one divisor every window uses, or None when they differ."""
        if self.mode != "avg":
            return 1
        divisors = self.divisors()
        return int(divisors[0]) if divisors.size and (divisors == divisors[0]).all() else None

    def _check_fits(self) -> None:
        names = axis_names(self.ndim)
        for axis, (n, k, p, e) in enumerate(zip(self.input_size, self.window, self.padding, self.extent)):
            if 2 * p > k:  # PyTorch's rule counts the window's cells, not its dilated span
                raise SpecError(
                    f"--padding {'x'.join(map(str, self.padding))} is more than half the window {self.window_text} "
                    f"along the {names[axis]} axis; PyTorch allows padding at most half the window"
                )
            if e > n + 2 * p:
                raise SpecError(
                    f"window {self.window_text}{f' with dilation {self.dilations[axis]} spans {e} and' if e != k else ''} is "
                    f"larger than the padded input {self.padded_text} along the "
                    f"{names[axis]} axis; expected a window that fits inside input + 2*padding"
                )

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.channels, *self.input_size)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return (self.channels, *self.output_size)

    def numerator(self, axis: int) -> int:
        """N + 2p − d(k−1) − 1 along an axis: the output size is this over the stride, floored, plus 1."""
        return self.input_size[axis] + 2 * self.padding[axis] - self.extent[axis]

    @property
    def window_count(self) -> int:
        """Cells per window (the average's divisor)."""
        return math.prod(self.window)

    @property
    def symbolic_max_cost(self) -> int:
        """Names written for symbolic max pooling: each cell's derivative H(x - Max(the other cells))
        names its window's other cells, so window-squared per output (0 for average pooling)."""
        if self.mode != "max":
            return 0
        return self.channels * math.prod(self.output_size) * self.window_count * self.window_count

    @property
    def estimated_terms(self) -> int:
        """Window cells over all outputs, plus one per symbol (Python ints: no overflow); for a window of
        over 1,000 cells, also 50 per cell: such a window's cells are handled one by one in places (its
        max or mean in every renderer and answer, each cell's share), far beyond its term count."""
        offsets = 50 * self.window_count if self.window_count > 1000 else 0
        return self.channels * (math.prod(self.output_size) * (self.window_count + 1) + math.prod(self.padded_size)) + offsets

    # --- what a values file may give for this layer

    @staticmethod
    def value_keys(loss: str) -> tuple[str, ...]:
        return ("input", "grad_output")

    @staticmethod
    def value_key_problem(key: str, loss: str) -> str | None:
        if key in ("kernel", "bias", "target"):
            return f'"{key}" is given but a pooling layer has no {key}'
        if key == "output":
            return '"output" cannot be given (y is computed from the input)'
        return None

    @staticmethod
    def values_layer_words(loss: str) -> str:
        return "pooling layer"

    @property
    def window_text(self) -> str:
        return "x".join(map(str, self.window))
