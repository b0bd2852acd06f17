"""A network specification: `--layers 'conv 3x3 out=2 bias | relu | maxpool 2x2 | flatten | dense 3 | softmax-ce'`
parsed into checked stages whose shapes chain.

Each stage is a kind, then an optional size, then `key=value` options and flags. Every stage's
shapes are worked out here, once; a stage that does not fit its input, or an unknown option, is one
SpecError line that quotes the stage (`stage 3 'maxpool 2x2 strid=2': unknown option 'strid'; ...`).

>>> net = NetSpec.build("6x6", "conv 3x3 out=2 bias | relu | maxpool 2x2 | flatten | dense 3 bias | softmax-ce")
>>> [(s.kind, s.output_shape) for s in net.stages]
[('conv', (2, 4, 4)), ('relu', (2, 4, 4)), ('maxpool', (2, 2, 2)), ('flatten', (8,)), ('dense', (3,)), ('softmax-ce', (1,))]
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .errors import SpecError, TooLargeError
from .spec import DEFAULT_MAX_TERMS, ConvSpec, ConvTransposeSpec, PoolSpec, _shown, parse_count, parse_size

ACTIVATIONS = ("relu", "sigmoid", "tanh")
LOSS_STAGES = ("softmax-ce", "mse", "sum")
POOLS = ("maxpool", "avgpool")
CONVS = ("conv", "convtranspose")  # the stages with a kernel (and maybe a bias)
KINDS = (*CONVS, *POOLS, *ACTIVATIONS, "flatten", "dense", *LOSS_STAGES)

# per kind: (takes a size: "required" / None, options with values, flags)
_GRAMMAR = {
    "conv": ("required", ("out", "stride", "padding", "dilation", "groups", "padding_mode"), ("bias",)),
    "convtranspose": ("required", ("out", "stride", "padding", "output_padding", "dilation", "groups"), ("bias",)),
    "maxpool": ("required", ("stride", "padding", "ties", "dilation", "output_size"), ("ceil_mode",)),
    "avgpool": ("required", ("stride", "padding", "divisor", "output_size"), ("ceil_mode", "no_count_include_pad")),
    "dense": ("required", (), ("bias",)),
    **{kind: (None, (), ()) for kind in (*ACTIVATIONS, "flatten", *LOSS_STAGES)},
}
_EXAMPLES = {
    "conv": "conv 3x3 out=2 stride=1 padding=0 dilation=1 bias",
    "convtranspose": "convtranspose 3x3 out=2 stride=2 padding=1 output_padding=1 bias",
    "maxpool": "maxpool 2x2 stride=2 padding=0 ties=first",
    "avgpool": "avgpool 2x2 stride=2 padding=0",
    "dense": "dense 10 bias",
}
# Letters of the tensors each kind makes (several stages of a kind are numbered: z1, z2)
OUTPUT_LETTERS = {"conv": "z", "convtranspose": "z", "maxpool": "p", "avgpool": "p", "relu": "a", "sigmoid": "a", "tanh": "a",
                  "flatten": "f", "dense": "y"}
PARAM_LETTERS = {"conv": {"kernel": "w", "bias": "b"}, "convtranspose": {"kernel": "w", "bias": "b"}, "dense": {"weight": "v", "bias": "c"}}
MAX_STAGES = 64


@dataclass(frozen=True)
class Stage:
    """One checked stage: its kind, the text it was written as, its shapes and its layer spec."""

    index: int  # 1-based
    text: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    layer: object = None  # ConvSpec / PoolSpec for conv and pool stages; None for the others
    bias: bool = False  # conv and dense
    options: dict = field(default_factory=dict)

    @property
    def is_loss(self) -> bool:
        return self.kind in LOSS_STAGES

    @property
    def params(self) -> tuple[str, ...]:
        """The parameter groups this stage has (in update order)."""
        if self.kind in CONVS:
            return ("kernel", "bias") if self.bias else ("kernel",)
        if self.kind == "dense":
            return ("weight", "bias") if self.bias else ("weight",)
        return ()

    @property
    def label(self) -> str:
        return f"stage {self.index} {_shown(self.text)}"

    @property
    def estimated_terms(self) -> int:
        if self.layer is not None:
            return self.layer.estimated_terms
        n_in, n_out = math.prod(self.input_shape), math.prod(self.output_shape)
        if self.kind == "dense":
            return 2 * n_in * n_out + n_in + 3 * n_out
        return 4 * (n_in + n_out)


@dataclass(frozen=True)
class NetSpec:
    input_shape: tuple[int, ...]  # channel-first
    stages: tuple[Stage, ...]
    index: str = "matrix"

    @classmethod
    def build(cls, input, layers: str, in_channels=1, index: str = "matrix",
              max_terms: int | None = DEFAULT_MAX_TERMS) -> "NetSpec":
        size = parse_size(input, "--input")
        shape = (parse_count(in_channels, "--in-channels"), *size)
        if not isinstance(layers, str) or not layers.strip():
            raise SpecError(f"--layers must list stages separated by |, like 'conv 3x3 | relu | flatten | dense 2 | mse'; "
                            f"got {_shown(layers)}")
        texts = [part.strip() for part in layers.split("|")]
        if len(texts) > MAX_STAGES:
            raise SpecError(f"--layers has {len(texts)} stages; at most {MAX_STAGES} are supported")
        stages = []
        for i, text in enumerate(texts, 1):
            if not text:
                raise SpecError(f"stage {i} of --layers {_shown(layers)} is empty; expected a stage between each pair of |")
            stage = _stage(i, text, shape, last=i == len(texts))
            stages.append(stage)
            shape = stage.output_shape
        net = cls(stages[0].input_shape, tuple(stages), index)
        if max_terms is not None:
            cost = sum(stage.estimated_terms for stage in stages)
            if cost > max_terms:
                raise TooLargeError(f"network too large: about {cost:,} product terms over its {len(stages)} stages "
                                    f"exceeds the limit of {max_terms:,}", TooLargeError.LAYER_ADVICE)
        return net

    @property
    def loss(self) -> Stage | None:
        return self.stages[-1] if self.stages[-1].is_loss else None

    @property
    def output_shape(self) -> tuple[int, ...]:
        """The shape of the last stage that is not the loss (what the loss reads)."""
        return self.stages[-1].input_shape if self.loss is not None else self.stages[-1].output_shape


def _stage(i: int, text: str, shape: tuple[int, ...], last: bool) -> Stage:
    label = f"stage {i} {_shown(text)}"

    def fail(problem: str) -> SpecError:
        return SpecError(f"{label}: {problem}")

    words = text.split()
    kind = words[0].lower()
    if kind not in _GRAMMAR:
        raise fail(f"unknown stage {_shown(words[0])}; expected one of {', '.join(KINDS)}")
    takes_size, keys, flags = _GRAMMAR[kind]
    rest = words[1:]
    size = None
    if takes_size and rest and "=" not in rest[0] and rest[0] not in flags:
        size, rest = rest[0], rest[1:]
    options, set_flags = {}, set()
    for word in rest:
        if "=" in word:
            key, _, value = word.partition("=")
            if key not in keys:
                raise fail(f"unknown option {_shown(key)}; " + (f"expected {_listed([k + '=' for k in keys])}" if keys
                                                                else f"{kind} takes no options"))
            if key in options:
                raise fail(f"option {_shown(key)} is given twice")
            options[key] = value
        elif word in flags:
            set_flags.add(word)
        else:
            expected = f"like '{_EXAMPLES[kind]}'" if kind in _EXAMPLES else f"just '{kind}'"
            raise fail(f"unexpected {_shown(word)}; expected {expected}")
    if takes_size and size is None and "output_size" not in options:
        raise fail(f"needs a size; expected {_EXAMPLES[kind]!r}")
    if kind in LOSS_STAGES and not last:
        raise fail(f"{kind} is a loss, so it must be the last stage")
    spatial = len(shape) >= 2
    where = f"its input has shape {'x'.join(map(str, shape))}"

    def rename(error: SpecError) -> SpecError:
        message = str(error)
        for option, key in (("--padding-mode", "padding_mode="), ("--output-size", "output_size="),
                            ("--no-count-include-pad", "no_count_include_pad"), ("--ceil-mode", "ceil_mode"),
                            ("--divisor", "divisor="), ("--output-padding", "output_padding="), ("--kernel", "size"), ("--window", "size"), ("--stride", "stride="), ("--padding", "padding="),
                            ("--dilation", "dilation="), ("--out-channels", "out="), ("--groups", "groups="), ("--in-channels", "the input's channels"), ("--ties", "ties="), ("--input", "input")):
            if key.endswith("="):  # "--groups 2 must ..." -> "groups=2 must ..."
                message = re.sub(re.escape(option) + r" (?=[0-9]|(?:same|valid|zeros|reflect|replicate|circular)\b)", key, message)
            message = message.replace(option, key)
        return fail(message)

    if kind in CONVS or kind in POOLS:
        if not spatial:
            raise fail(f"{where}, a vector; {kind} needs channels and spatial axes, so put it before flatten")
        try:
            if kind == "convtranspose":
                layer = ConvTransposeSpec.build(shape[1:], size, options.get("stride", 1), options.get("padding", 0),
                                                options.get("output_padding", 0), options.get("dilation", 1), shape[0],
                                                options.get("out", 1), options.get("groups", 1), "bias" in set_flags,
                                                max_terms=None)
            elif kind == "conv":
                layer = ConvSpec.build(shape[1:], size, options.get("stride", 1), options.get("padding", 0),
                                       options.get("dilation", 1), shape[0], options.get("out", 1),
                                       "bias" in set_flags, max_terms=None, groups=options.get("groups", 1),
                                       padding_mode=options.get("padding_mode", "zeros"))
            else:
                layer = PoolSpec.build(shape[1:], size, options.get("stride"), options.get("padding", 0),
                                       kind[:3], shape[0], options.get("ties", "first"), max_terms=None,
                                       dilation=options.get("dilation", 1), ceil_mode="ceil_mode" in set_flags,
                                       count_include_pad="no_count_include_pad" not in set_flags,
                                       divisor=options.get("divisor"), output_size=options.get("output_size"))
        except SpecError as error:
            raise rename(error) from None
        return Stage(i, text, kind, shape, layer.output_shape, layer, "bias" in set_flags, options)
    if kind == "dense":
        if len(shape) != 1:
            raise fail(f"{where}; dense needs a vector, so put a flatten stage before it")
        if not re.fullmatch(r"[0-9]{1,9}", size) or int(size) < 1:
            raise fail(f"the size must be a positive number of outputs like 'dense 10', got {_shown(size)}")
        return Stage(i, text, kind, shape, (int(size),), None, "bias" in set_flags)
    if kind == "flatten":
        return Stage(i, text, kind, shape, (math.prod(shape),))
    if kind == "softmax-ce" and len(shape) != 1:
        raise fail(f"{where}; softmax-ce needs a vector of class scores, so put flatten (and dense) before it")
    if kind in LOSS_STAGES:
        return Stage(i, text, kind, shape, (1,))
    return Stage(i, text, kind, shape, shape)  # an activation


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
