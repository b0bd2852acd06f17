"""`symgrad quiz conv|pool|net`: questions generated from the derivation, in jupyterquiz's JSON or a MyST page."""

# No `from __future__ import annotations` here: typer would evaluate every annotation string on every run.

from typing import Optional

import typer

from .cli_parts import (
    BIAS, CHANNELS, CONV_NAMES, CONV_VALUES, Command, DILATION, INDEX, INPUT, IN_CHANNELS, KERNEL, LOSS, LR, MODE,
    NET_LAYERS, NET_NAMES, NET_VALUES, OUTPUT, OUT_CHANNELS, GROUPS, PADDING_MODE, PADDING, POOL_NAMES, POOL_PADDING, POOL_STRIDE,
    POOL_VALUES, STRIDE, TIES, WINDOW,
    OUTPUT_SIZE, POOL_DILATION, CEIL_MODE, NO_COUNT_INCLUDE_PAD, DIVISOR, pool_options, check_output, emit, parse_count, sub_app,
)
from .errors import OptionError

quiz_app = sub_app("Generate a quiz from a layer or a network: many-choice questions whose wrong choices are the "
                   "named slips, numeric ones with values; jupyterquiz's JSON or a MyST page.")

COUNT = typer.Option("6", "--count", metavar="N", help="Questions in the quiz.  [default: 6]")
SEED = typer.Option("0", "--seed", metavar="S", help="Which entries are asked (the same seed, the same quiz).  [default: 0]")
QUIZ_FORMAT = typer.Option("json", "--format", metavar="FORMAT", help="json (jupyterquiz's) or myst (a page that shows it).")


@quiz_app.command("conv", cls=Command, short_help="A quiz on a convolution layer.",
                  options_metavar="--input SIZE --kernel SIZE [OPTIONS]")
def quiz_conv(
    input: str = INPUT,
    kernel: str = KERNEL,
    stride: str = STRIDE,
    padding: str = PADDING,
    dilation: str = DILATION,
    in_channels: str = IN_CHANNELS,
    out_channels: str = OUT_CHANNELS,
    groups: str = GROUPS,
    padding_mode: str = PADDING_MODE,
    bias: bool = BIAS,
    loss: str = LOSS,
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    values: Optional[str] = CONV_VALUES,
    lr: Optional[str] = LR,
    count: str = COUNT,
    seed: str = SEED,
    format: str = QUIZ_FORMAT,
    output: Optional[str] = OUTPUT,
) -> None:
    """A quiz on a convolution layer: which expression is an entry of dL/dW or dL/dX, its number, the output size.

    \b
    Examples:
      symgrad quiz conv --input 5x5 --kernel 3x3 --stride 2 -o quiz.json
      symgrad quiz conv --input 4x4 --kernel 2x2 --values v.json --count 4 \\
                        --seed 7 --format myst -o quiz.md
    """
    from . import api

    _quiz(lambda: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias, loss, index, names,
                           values=values, lr=lr, groups=groups, padding_mode=padding_mode), count, seed, format, values, output)


@quiz_app.command("pool", cls=Command, short_help="A quiz on a pooling layer.",
                  options_metavar="--input SIZE --window SIZE [OPTIONS]")
def quiz_pool(
    input: str = INPUT,
    window: Optional[str] = WINDOW,
    output_size: Optional[str] = OUTPUT_SIZE,
    stride: Optional[str] = POOL_STRIDE,
    padding: str = POOL_PADDING,
    dilation: str = POOL_DILATION,
    ceil_mode: bool = CEIL_MODE,
    mode: str = MODE,
    no_count_include_pad: bool = NO_COUNT_INCLUDE_PAD,
    divisor: Optional[str] = DIVISOR,
    channels: str = CHANNELS,
    ties: str = TIES,
    index: str = INDEX,
    names: Optional[str] = POOL_NAMES,
    values: Optional[str] = POOL_VALUES,
    count: str = COUNT,
    seed: str = SEED,
    format: str = QUIZ_FORMAT,
    output: Optional[str] = OUTPUT,
) -> None:
    """A quiz on a pooling layer: where each window's gradient goes, the numbers, the output size.

    \b
    Examples:
      symgrad quiz pool --input 4x4 --window 2x2 --values v.json -o quiz.json
    """
    from . import api

    _quiz(lambda: api.pool(input, window, stride, padding, mode, channels, ties, index, names, values=values,
                           **pool_options(dilation, ceil_mode, no_count_include_pad, divisor, output_size)),
          count, seed, format, values, output)


@quiz_app.command("net", cls=Command, short_help="A quiz on a network, stage by stage.",
                  options_metavar="--input SIZE --layers STAGES [OPTIONS]")
def quiz_net(
    input: str = INPUT,
    layers: str = NET_LAYERS,
    in_channels: str = IN_CHANNELS,
    values: Optional[str] = NET_VALUES,
    lr: Optional[str] = LR,
    index: str = INDEX,
    names: Optional[str] = NET_NAMES,
    count: str = COUNT,
    seed: str = SEED,
    format: str = QUIZ_FORMAT,
    output: Optional[str] = OUTPUT,
) -> None:
    """A quiz on a network: entries of each stage's gradients (and, with values and --lr, the update).

    \b
    Examples:
      symgrad quiz net --input 4x4 --layers 'conv 3x3 | relu | flatten | dense 2 |
                       mse' --values net.json --lr 0.1 -o quiz.json
    """
    from . import api

    _quiz(lambda: api.net(input, layers, in_channels, values, lr, index, names), count, seed, format, values, output)


def _quiz(derive, count: str, seed: str, format: str, values, output) -> None:
    from .homework.quiz import FORMATS, quiz, render_quiz

    if format not in FORMATS:
        raise OptionError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    n = parse_count(count, "--count")
    if not seed.strip().isdigit() or len(seed.strip()) > 9:
        raise OptionError(f"--seed must be a whole number like 0 or 42, got {seed!r}")
    path = check_output(output, {"the --values file": values})
    d = derive()
    title = " · ".join(d.kind.content.title(d))
    emit(render_quiz(quiz(d, n, int(seed)), format, title), path)
