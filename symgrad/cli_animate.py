"""`symgrad animate conv|pool|net`: a pass drawn one step a frame (see render/frames.py and render/draw.py)."""

# No `from __future__ import annotations` here: typer would evaluate every annotation string on every run.

import os
from typing import Optional

import typer

from .cli_parts import (
    ANIMATION_OUTPUT, BIAS, CHANNELS, CONV_NAMES, CONV_VALUES, Command, DILATION, FRAMES, INDEX, INPUT, IN_CHANNELS, KERNEL,
    MODE, NET_LAYERS, NET_NAMES, NET_VALUES, OUT_CHANNELS, GROUPS, PADDING_MODE, PADDING, PASS, POOL_NAMES, POOL_PADDING, POOL_STRIDE,
    POOL_VALUES, STRIDE, TIES, WINDOW,
    OUTPUT_SIZE, POOL_DILATION, CEIL_MODE, NO_COUNT_INCLUDE_PAD, DIVISOR, pool_options, check_output, emit, parse_count, sub_app,
)
from .errors import OptionError

animate_app = sub_app("Draw a pass of a conv or pool layer (or a network's stage), one step a frame: an animated GIF or SVG, or a PNG sheet.",
)



@animate_app.command("conv", cls=Command, short_help="Animate a convolution: forward, grad-kernel or grad-input.",
                     options_metavar="--input SIZE --kernel SIZE --pass PASS -o FILE [OPTIONS]")
def animate_conv(
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
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    values: Optional[str] = CONV_VALUES,
    pass_: Optional[str] = PASS,
    frames: Optional[str] = FRAMES,
    channel: str = typer.Option("1", "--channel", metavar="N", help="The input channel drawn."),
    filter: str = typer.Option("1", "--filter", metavar="N", help="The output channel (filter) drawn."),
    output: str = ANIMATION_OUTPUT,
) -> None:
    """Animate a convolution pass, one step a frame, with the sum each step writes.

    \b
    Examples:
      symgrad animate conv --input 5x5 --kernel 3x3 --stride 2 \\
                           --pass forward -o fwd.gif
      symgrad animate conv --input 5x5 --kernel 3x3 --stride 2 --padding 1 \\
                           --pass grad-input -o grad-input.svg
      symgrad animate conv --input 6x6 --kernel 3x3 --pass grad-kernel \\
                           -o sheet.png
    """
    from . import api

    _animate(lambda: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias, "generic",
                              index, names, values=values, groups=groups, padding_mode=padding_mode),
             pass_, frames, channel, filter, values, output)


@animate_app.command("pool", cls=Command, short_help="Animate pooling: each window and where its gradient goes.",
                     options_metavar="--input SIZE --window SIZE -o FILE [OPTIONS]")
def animate_pool(
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
    pass_: Optional[str] = PASS,
    frames: Optional[str] = FRAMES,
    channel: str = typer.Option("1", "--channel", metavar="N", help="The channel drawn."),
    output: str = ANIMATION_OUTPUT,
) -> None:
    """Animate pooling's routing: each window, its maximum (or average share), where its gradient goes.

    \b
    Examples:
      symgrad animate pool --input 4x4 --window 2x2 --values numbers.json \\
                           -o routing.gif
      symgrad animate pool --input 5x5 --window 3x3 --stride 2 --mode avg \\
                           -o avg.svg
    """
    from . import api

    _animate(lambda: api.pool(input, window, stride, padding, mode, channels, ties, index, names, values=values,
                              **pool_options(dilation, ceil_mode, no_count_include_pad, divisor, output_size)),
             pass_ or "routing", frames, channel, "1", values, output)


@animate_app.command("net", cls=Command, short_help="Animate one conv or pool stage of a network.",
                     options_metavar="--input SIZE --layers STAGES --stage K --pass PASS -o FILE [OPTIONS]")
def animate_net(
    input: str = INPUT,
    layers: str = NET_LAYERS,
    in_channels: str = IN_CHANNELS,
    values: Optional[str] = NET_VALUES,
    index: str = INDEX,
    names: Optional[str] = NET_NAMES,
    stage: str = typer.Option(..., "--stage", metavar="K", help="The stage drawn (a conv or pool stage), numbered from 1."),
    pass_: Optional[str] = PASS,
    frames: Optional[str] = FRAMES,
    channel: str = typer.Option("1", "--channel", metavar="N", help="The input channel drawn."),
    filter: str = typer.Option("1", "--filter", metavar="N", help="The output channel (filter) drawn."),
    output: str = ANIMATION_OUTPUT,
) -> None:
    """Animate a pass of one conv or pool stage of a network, in the stage's own names and numbers.

    \b
    Examples:
      symgrad animate net --input 6x6 --layers 'conv 3x3 | relu | maxpool 2x2 |
                          flatten | dense 2 | mse' --stage 1 --pass grad-kernel \\
                          -o s1.gif
    """
    from . import api

    def derive():
        net = api.net(input, layers, in_channels, values, None, index, names)
        k = parse_count(stage, "--stage")
        if k > len(net.stages) or net.stages[k - 1].kind not in ("conv", "maxpool", "avgpool"):
            drawable = ", ".join(str(s.spec.index) for s in net.stages if s.kind in ("conv", "maxpool", "avgpool")) or "none"
            raise OptionError(f"--stage {k} is not a conv or pool stage of this network; these are: {drawable}")
        return net.stages[k - 1].d

    _animate(derive, pass_, frames, channel, filter, values, output)


def _animate(derive, pass_: str | None, frames: str | None, channel: str, filter: str, values: str | None, output: str) -> None:
    from .render.draw import FORMATS, render
    from .render.frames import DEFAULT_FRAMES, animation

    fmt = os.path.splitext(output)[1].lower().lstrip(".")
    if fmt not in FORMATS:
        raise OptionError(f"-o {output!r}: an animation is written as .gif, .svg or .png; got {'.' + fmt if fmt else 'no extension'}")
    count = parse_count(frames, "--frames") if frames is not None else DEFAULT_FRAMES
    path = check_output(output, {"the --values file": values})
    if path is None:
        raise OptionError("-o - cannot take a picture; give a file name ending in .gif, .svg or .png")
    d = derive()
    if pass_ is None and d.kind.name == "pool":
        pass_ = "routing"
    if pass_ is None:
        raise OptionError("--pass is needed: forward, grad-kernel or grad-input")
    emit(render(animation(d, pass_, count, parse_count(channel, "--channel"), parse_count(filter, "--filter")), fmt), path)
