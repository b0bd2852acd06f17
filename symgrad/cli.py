"""The command line: read options, call one library function, hand the result to a renderer, exit.

Every bad input ends with exit code 2 and one line on stderr: `Error: <what was wrong>`.
"""

# No `from __future__ import annotations` here: typer would evaluate every annotation string on every run.

import contextlib
import os
import re
import sys
from typing import Optional

import typer

from .cli_parts import (
    BIAS, CHANNELS, CONV_NAMES, CONV_VALUES, Command, DILATION, ENTRY, FIGURES, FORMAT, FRAGMENT, FULL, Group,
    INDEX, INPUT, IN_CHANNELS, KERNEL, LAYER_MAX_TERMS, LOSS, MODE, OUTPUT, OUT_CHANNELS, PADDING,
    POOL_NAMES, POOL_PADDING, POOL_STRIDE, POOL_VALUES, STRIDE, STUDENT, TEMPLATE_MAX_TERMS, TIES,
    WINDOW, fail, internal_error, is_click, show_option, take_debug, usage_message,
)
from .errors import OptionError, SymgradError, TooLargeError, printable
from .render.formats import CHECK_FORMATS, LAYER_FORMATS, check_format, render_check, render_entry, render_layer
from .spec import DEFAULT_MAX_TERMS


_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    cls=Group,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=_SETTINGS,
)

def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        sys.stdout.write(f"symgrad {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    """Derive backpropagation through CNN layers symbolically and show every step.

    \b
    Examples:
      symgrad conv --input 5x5 --kernel 3x3 --stride 2
      symgrad pool --input 4x4 --window 2x2 --mode avg
      symgrad net --input 6x6 --layers 'conv 3x3 | relu | flatten | dense 2 | mse'
      symgrad animate conv --input 5x5 --kernel 3x3 --pass forward -o a.gif
      symgrad template conv --input 3x3 --kernel 2x2 > hw.toml
      symgrad check hw.toml

    Run `symgrad COMMAND -h` for a command's options.
    """


# The sections --show lists in --help. The layer registry (symgrad.layers.KINDS) is what --show accepts;
# it is not imported here, so that --help and usage errors load no layer, and tests/test_cli_help.py
# holds the two equal.
CONV_SECTIONS = ("setup", "forward", "grad-kernel", "grad-input", "grad-bias", "identities", "update")
POOL_SECTIONS = ("setup", "forward", "grad-input", "identities")
LR = typer.Option(None, "--lr", metavar="NUMBER", help="Learning rate α: show the update w − α·∂L/∂w (0.1 and 1/10 are exact).")
NET_VALUES = typer.Option(None, "--values", metavar="FILE", help='JSON numbers for "input" and, in "layers", each stage (README).')
NET_NAMES = typer.Option(None, "--names", metavar="LETTERS",
                         help="Letters for the input and each stage's output, e.g. a,z (blank keeps a default).")


@app.command(cls=Command, short_help="Convolution backprop, every term shown and proved.",
             options_metavar="--input SIZE --kernel SIZE [OPTIONS]")
def conv(
    input: str = INPUT,
    kernel: str = KERNEL,
    stride: str = STRIDE,
    padding: str = PADDING,
    dilation: str = DILATION,
    in_channels: str = IN_CHANNELS,
    out_channels: str = OUT_CHANNELS,
    bias: bool = BIAS,
    loss: str = LOSS,
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    show: Optional[str] = show_option(CONV_SECTIONS),
    values: Optional[str] = CONV_VALUES,
    lr: Optional[str] = LR,
    entry: Optional[str] = ENTRY,
    figures: Optional[str] = FIGURES,
    format: str = FORMAT,
    fragment: bool = FRAGMENT,
    full: bool = FULL,
    max_terms: str = LAYER_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """Convolution backprop, term by term, proved against the closed forms.

    \b
    Examples:
      symgrad conv --input 5x5 --kernel 3x3 --stride 2
      symgrad conv --input 5x5 --kernel 3x3 --stride 2 \\
                   --index flat --names a,w,z
      symgrad conv --input 3x3 --kernel 2x2 --names x,w,o --show identities
      symgrad conv --input 5x5 --kernel 3x3 --stride 2 --entry x_3_3
      symgrad conv --input 3x3 --kernel 2x2 --values numbers.json \\
                   --lr 0.1
      symgrad conv --input 5x5 --kernel 3x3 --format latex -o conv.tex
      symgrad conv --input 32x32 --kernel 5x5 --in-channels 3 \\
                   --out-channels 6 --format json -o lenet.json

    Exit codes: 0 all identities hold; 1 an identity failed; 2 bad input.
    """
    from . import api

    check_format(format, LAYER_FORMATS, fragment)
    sections = _parse_show(show, "conv")
    if show is not None and "grad-bias" in sections and not bias:
        raise OptionError("--show grad-bias needs --bias (this layer has no bias)")
    if show is not None and "update" in sections and lr is None:
        raise OptionError("--show update needs --lr (the learning rate of the update)")
    _show_layer(lambda limit: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias, loss,
                                       index, names, max_terms=limit, values=values, lr=lr),
                sections, format, full, fragment, max_terms, values, output, entry, figures)


@app.command(cls=Command, short_help="Max or average pooling backprop, every term shown and proved.",
             options_metavar="--input SIZE --window SIZE [OPTIONS]")
def pool(
    input: str = INPUT,
    window: str = WINDOW,
    stride: Optional[str] = POOL_STRIDE,
    padding: str = POOL_PADDING,
    mode: str = MODE,
    channels: str = CHANNELS,
    ties: str = TIES,
    index: str = INDEX,
    names: Optional[str] = POOL_NAMES,
    show: Optional[str] = show_option(POOL_SECTIONS),
    values: Optional[str] = POOL_VALUES,
    entry: Optional[str] = ENTRY,
    figures: Optional[str] = FIGURES,
    format: str = FORMAT,
    fragment: bool = FRAGMENT,
    full: bool = FULL,
    max_terms: str = LAYER_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """Max or average pooling backprop: the gradient routed to each window's maximum (or shared).

    \b
    Examples:
      symgrad pool --input 4x4 --window 2x2
      symgrad pool --input 4x4 --window 2x2 --values numbers.json
      symgrad pool --input 5x5 --window 3x3 --stride 2 --entry x_3_3
      symgrad pool --input 5x5 --window 3x3 --stride 2 --padding 1 --mode avg
      symgrad pool --input 4x4 --window 2x2 --format latex -o pool.tex

    Exit codes: 0 the identity holds; 1 it failed; 2 bad input.
    """
    from . import api

    check_format(format, LAYER_FORMATS, fragment)
    sections = _parse_show(show, "pool")
    _show_layer(lambda limit: api.pool(input, window, stride, padding, mode, channels, ties, index, names,
                                       max_terms=limit, values=values),
                sections, format, full, fragment, max_terms, values, output, entry, figures)


NET_SECTIONS = ("setup", "forward", "backward", "identities", "update")
NET_LAYERS = typer.Option(..., "--layers", metavar="STAGES",
                          help="Stages separated by |: conv SIZE [out=F stride=S padding=P dilation=D bias], "
                               "maxpool|avgpool SIZE [stride=S padding=P ties=first|split], relu, sigmoid, tanh, "
                               "flatten, dense N [bias]; last, a loss: mse, sum or softmax-ce.")


@app.command(cls=Command, short_help="Backprop through a small CNN, stage by stage, with the update.",
             options_metavar="--input SIZE --layers STAGES [OPTIONS]")
def net(
    input: str = INPUT,
    layers: str = NET_LAYERS,
    in_channels: str = IN_CHANNELS,
    values: Optional[str] = NET_VALUES,
    lr: Optional[str] = LR,
    index: str = INDEX,
    names: Optional[str] = NET_NAMES,
    show: Optional[str] = show_option(NET_SECTIONS),
    format: str = FORMAT,
    fragment: bool = FRAGMENT,
    full: bool = FULL,
    max_terms: str = LAYER_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """Backprop through a small network: every stage's forward and chain rule, the links, the update.

    \b
    Examples:
      symgrad net --input 6x6 --layers 'conv 3x3 out=2 bias | relu |
                  maxpool 2x2 | flatten | dense 3 bias | softmax-ce'
      symgrad net --input 4x4 --layers 'conv 3x3 | flatten | dense 1 | mse' \\
                  --values net.json --lr 0.1
      symgrad net --input 5x5 --layers 'conv 3x3 stride=2 | flatten |
                  dense 1 | mse' --index flat --names a,z
      symgrad net --input 6x6 --layers 'conv 3x3 | relu | flatten | dense 2 |
                  softmax-ce' --format json -o net.json

    Exit codes: 0 every identity holds; 1 an identity failed; 2 bad input.
    """
    from . import api

    check_format(format, LAYER_FORMATS, fragment)
    sections = _parse_sections(show, NET_SECTIONS)
    _show_layer(lambda limit: api.net(input, layers, in_channels, values, lr, index, names, max_terms=limit),
                sections, format, full, fragment, max_terms, values, output)


def _show_layer(derive, sections, format: str, full: bool, fragment: bool, max_terms: str, values: str | None,
                output: str | None, entry: str | None = None, figures: str | None = None) -> None:
    """The shared body of `conv`, `pool` and `net`: derive(limit) builds the layer, which is rendered
    (or one `entry` of it) and written; exit 1 if an identity fails."""
    if entry is not None and format != "text":
        raise OptionError(f"--entry shows one entry in the terminal; it works with --format text, not {format}")
    if figures is not None and format not in ("latex", "markdown"):
        raise OptionError(f"--figures puts pictures into a document: it works with --format markdown or latex, not {format}")
    limit = _parse_limit(max_terms)
    output = _check_output(output, {"the --values file": values})
    with _full_limit(full and format != "json", max_terms) as build_limit:
        derivation = derive(build_limit or limit)
    if entry is not None:
        _emit(render_entry(derivation, entry, format, full=full, to_file=output is not None), output)
    else:
        _emit(render_layer(derivation, format, show=sections, full=full, fragment=fragment, max_terms=limit,
                           to_file=output is not None, figures=figures), output)
    if not derivation.all_hold:
        raise typer.Exit(1)


animate_app = typer.Typer(
    cls=Group,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=_SETTINGS,
    help="Draw a pass of a conv or pool layer (or a network's stage), one step a frame: an animated GIF or SVG, or a PNG sheet.",
)
app.add_typer(animate_app, name="animate", short_help="Animate a pass: GIF, SVG or a PNG sheet of frames.")

PASS = typer.Option(None, "--pass", metavar="PASS", help="forward, grad-kernel or grad-input (conv); routing (pool).")
FRAMES = typer.Option(None, "--frames", metavar="N", help="At most N frames (the first N steps).  [default: 36]")
ANIMATION_OUTPUT = typer.Option(..., "-o", "--output", metavar="FILE", help="FILE.gif, FILE.svg or FILE.png (written atomically).")


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
                              index, names, values=values),
             pass_, frames, channel, filter, values, output)


@animate_app.command("pool", cls=Command, short_help="Animate pooling: each window and where its gradient goes.",
                     options_metavar="--input SIZE --window SIZE -o FILE [OPTIONS]")
def animate_pool(
    input: str = INPUT,
    window: str = WINDOW,
    stride: Optional[str] = POOL_STRIDE,
    padding: str = POOL_PADDING,
    mode: str = MODE,
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

    _animate(lambda: api.pool(input, window, stride, padding, mode, channels, ties, index, names, values=values),
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
        k = _parse_count(stage, "--stage")
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
    count = _parse_count(frames, "--frames") if frames is not None else DEFAULT_FRAMES
    path = _check_output(output, {"the --values file": values})
    if path is None:
        raise OptionError("-o - cannot take a picture; give a file name ending in .gif, .svg or .png")
    d = derive()
    if pass_ is None and d.kind.name == "pool":
        pass_ = "routing"
    if pass_ is None:
        raise OptionError("--pass is needed: forward, grad-kernel or grad-input")
    _emit(render(animation(d, pass_, count, _parse_count(channel, "--channel"), _parse_count(filter, "--filter")), fmt), path)


def _parse_count(text: str, option: str) -> int:
    if not re.fullmatch(r"\s*[0-9]{1,6}\s*", str(text)) or int(text) < 1:
        raise OptionError(f"{option} must be a positive integer, got {text!r}")
    return int(text)


template_app = typer.Typer(
    cls=Group,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=_SETTINGS,
    help="Write an empty answer file (TOML) for a conv, pool or net problem, to fill in and `symgrad check`.",
)
app.add_typer(template_app, name="template", short_help="Write an empty answer file for a problem, to fill in and check.")


@template_app.command("conv", cls=Command, short_help="An answer file for a convolution problem.",
                      options_metavar="--input SIZE --kernel SIZE [OPTIONS]")
def template_conv(
    input: str = INPUT,
    kernel: str = KERNEL,
    stride: str = STRIDE,
    padding: str = PADDING,
    dilation: str = DILATION,
    in_channels: str = IN_CHANNELS,
    out_channels: str = OUT_CHANNELS,
    bias: bool = BIAS,
    loss: str = LOSS,
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    values: Optional[str] = CONV_VALUES,
    ask: Optional[str] = typer.Option(None, "--ask", metavar="LIST",
                                      help="Answers to ask for: forward, grad-kernel, grad-input, grad-bias (needs "
                                           "--bias), as a comma-separated list.  [default: every gradient]"),
    student: str = STUDENT,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a convolution problem: the problem filled in, every answer ''.

    \b
    Examples:
      symgrad template conv --input 5x5 --kernel 3x3 --stride 2 > hw3.toml
      symgrad template conv --input 3x3 --kernel 2x2 --values numbers.json \\
                            -o hw3.toml
      symgrad template conv --input 4x4 --kernel 3x3 --ask grad-input
    """
    from . import api

    _write_template(lambda limit: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias,
                                           loss, index, names, max_terms=limit, values=values),
                    values, ask, student, max_terms, output)


@template_app.command("pool", cls=Command, short_help="An answer file for a pooling problem.",
                      options_metavar="--input SIZE --window SIZE [OPTIONS]")
def template_pool(
    input: str = INPUT,
    window: str = WINDOW,
    stride: Optional[str] = POOL_STRIDE,
    padding: str = POOL_PADDING,
    mode: str = MODE,
    channels: str = CHANNELS,
    ties: str = TIES,
    index: str = INDEX,
    names: Optional[str] = POOL_NAMES,
    values: Optional[str] = POOL_VALUES,
    ask: Optional[str] = typer.Option(None, "--ask", metavar="LIST",
                                      help="Answers to ask for: forward, grad-input, or both as forward,grad-input.  "
                                           "[default: grad-input]"),
    student: str = STUDENT,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a pooling problem: the problem filled in, every answer ''.

    \b
    Examples:
      symgrad template pool --input 4x4 --window 2x2 --values numbers.json \\
                            > pool.toml
      symgrad template pool --input 5x5 --window 3x3 --stride 2 --mode avg
    """
    from . import api

    _write_template(lambda limit: api.pool(input, window, stride, padding, mode, channels, ties, index, names,
                                           max_terms=limit, values=values),
                    values, ask, student, max_terms, output)


@template_app.command("net", cls=Command, short_help="An answer file for a network problem.",
                      options_metavar="--input SIZE --layers STAGES [OPTIONS]")
def template_net(
    input: str = INPUT,
    layers: str = NET_LAYERS,
    in_channels: str = IN_CHANNELS,
    values: Optional[str] = NET_VALUES,
    lr: Optional[str] = LR,
    index: str = INDEX,
    names: Optional[str] = NET_NAMES,
    ask: Optional[str] = typer.Option(None, "--ask", metavar="LIST",
                                      help="Answers to ask for: forward, gradients, update (needs --lr), comma-separated.  "
                                           "[default: gradients and the update]"),
    student: str = STUDENT,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a network problem: one [answer.stageK] table per stage, every answer ''.

    \b
    Examples:
      symgrad template net --input 3x3 --layers 'conv 2x2 | relu | flatten |
                           dense 1 | mse' --lr 0.1 > net.toml
      symgrad template net --input 4x4 --layers 'conv 3x3 | flatten | dense 2 |
                           softmax-ce' --values net.json --lr 0.1 -o net.toml
    """
    from . import api
    from .homework.problem import check_judgeable
    from .homework.template import net_answer_template

    limit = _parse_limit(max_terms)
    output = _check_output(output, {"the --values file": values})
    _check_student(student)
    derivation = api.net(input, layers, in_channels, values, lr, index, names, max_terms=limit)
    for stage in derivation.stages:  # handed out only for a problem check can judge
        if stage.kind in ("conv", "maxpool", "avgpool"):
            check_judgeable(stage.d, limit)
    _emit(net_answer_template(derivation, ask, student), output)


def _check_student(student: str) -> None:
    from .homework.answers import MAX_STUDENT

    if len(student) > MAX_STUDENT:
        raise OptionError(f"--student is {len(student)} characters long; expected a plain id of at most {MAX_STUDENT}")
    if any(not ch.isprintable() for ch in student):
        raise OptionError(f"--student \"{printable(student)}\" contains a control character; expected a plain id")


def _write_template(derive, values: str | None, ask: str | None, student: str, max_terms: str, output: str | None) -> None:
    """The shared body of `template conv` and `template pool`: derive(limit) builds the layer."""
    from .homework.problem import check_judgeable
    from .homework.template import answer_template, parse_ask

    limit = _parse_limit(max_terms)
    output = _check_output(output, {"the --values file": values})
    derivation = derive(limit)
    _check_student(student)
    check_judgeable(derivation, limit)  # a template is handed out only for a problem check can judge
    _emit(answer_template(derivation, parse_ask(ask, derivation), student), output)


@app.command(cls=Command, short_help="Judge answer files: each entry right or wrong, and why.")
def check(
    files: list[str] = typer.Argument(..., help="Answer files (TOML), one student's answers in each."),
    format: str = typer.Option("text", "--format", metavar="FORMAT",
                               help="text, json, gradescope (an autograder's results.json) or markdown (a class report)."),
    tolerance: str = typer.Option("1e-6", "--tolerance", metavar="NUMBER",
                                  help="Numeric answers: right when "
                                       "|answer - expected| <= NUMBER * max(1, |expected|)."),
    full: bool = typer.Option(False, "--full", help="Explain every wrong entry; list every missing and extra term."),
    max_terms: str = TEMPLATE_MAX_TERMS,
    problem: Optional[str] = typer.Option(None, "--problem", metavar="FILE",
                                          help="The answer file handed out (a template): every file is judged "
                                               "by its [problem] and [answer] keys."),
    output: Optional[str] = OUTPUT,
) -> None:
    """Judge answer files: every entry right or wrong, with the missing and extra terms and the slip it shows.

    \b
    Examples:
      symgrad template conv --input 5x5 --kernel 3x3 --stride 2 > hw.toml
      symgrad check hw.toml
      symgrad check submissions/*.toml --format json -o grades.json
      symgrad check submission.toml --problem hw.toml --format gradescope \\
                    -o /autograder/results/results.json

    Symbolic answers are compared exactly, as polynomials; with [problem.values], numbers within
    --tolerance. Exit codes: 0 every entry right; 1 an entry is wrong; 2 a file (or an entry) cannot
    be read. The report is written in every case, naming what was unreadable.
    """
    from .homework.judge import Judge
    from .homework.report import error_line, exit_code

    check_format(format, CHECK_FORMATS)
    tol = _parse_tolerance(tolerance)
    output = _check_output(output, {"the --problem file": problem, **{f"the answer file {path!r}": path for path in files}})
    judge = Judge(tolerance=tol, max_terms=_parse_limit(max_terms), reference=problem)
    reports = [judge.judge_file(path) for path in files]
    _emit(render_check(reports, format, tolerance=tol, full=full, to_file=output is not None), output)
    line = error_line(reports)
    if line is not None:  # one line: the first problem, and how many more the report lists
        fail(line)
    code = exit_code(reports)
    if code:
        raise typer.Exit(code)


FULL_MAX_TERMS = 250_000  # --full text/LaTeX/Markdown of 250,000 product terms: about 30 s and 50 MB


@contextlib.contextmanager
def _full_limit(full: bool, max_terms: str):
    """With --full and the default --max-terms, a lower limit (everything printed: about 30 s and 50 MB
    of text at 250,000 terms); a --max-terms given on the command line is the user insisting."""
    if not full or max_terms.strip() != str(DEFAULT_MAX_TERMS):
        yield None
        return
    try:
        yield FULL_MAX_TERMS
    except TooLargeError as error:
        raise TooLargeError(f"{error.problem}: --full writes every term of it",
                            "leave out --full for a summary, or give --max-terms to insist") from None


def _check_output(output: str | None, inputs: dict[str, str | None]) -> str | None:
    """The -o path (None for `-o -`, standard output), refused at once (before any work) if it
    cannot be written, including when it would overwrite one of the command's inputs."""
    if output == "-":
        return None
    if output is not None:
        from .files import check_target

        check_target(output, inputs)
    return output


def _parse_tolerance(text: str) -> float:
    import math

    try:
        value = float(text) if text.isascii() else -1.0
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or not 0 <= value < 1:
        raise OptionError(f"--tolerance must be a number from 0 to below 1, like 1e-6 or 0.005; got {text!r}")
    return value


def _parse_show(show: str | None, kind: str) -> frozenset[str]:
    from .layers import KINDS

    return _parse_sections(show, KINDS[kind].sections)


def _parse_sections(show: str | None, sections: tuple[str, ...]) -> frozenset[str]:
    if show is None:
        return frozenset(sections)
    chosen = [part.strip() for part in show.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in sections]
    if unknown or not chosen:
        raise OptionError(f"--show got {show!r}; expected a comma-separated list of: {', '.join(sections)}")
    return frozenset(chosen)


def _parse_limit(text: str) -> int:
    if not re.fullmatch(r"\s*[0-9]{1,12}\s*", text) or int(text) < 1:
        raise OptionError(f"--max-terms must be a positive integer, got {text!r}")
    return int(text)


def _emit(text: str, output: str | None) -> None:
    from .files import write_atomic, write_stdout

    if output is not None:
        write_atomic(output, text)
    elif text:
        write_stdout(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning every error into one line and an exit code."""
    args, debug = take_debug(list(argv if argv is not None else sys.argv[1:]))
    if not args:
        args = ["--help"]
    for variable in ("COLUMNS", "LINES"):  # rich reads these and fails on anything but ASCII digits
        if variable in os.environ and not re.fullmatch("[1-9][0-9]{0,3}", os.environ[variable]):
            del os.environ[variable]
    if int(os.environ.get("COLUMNS", 80)) < 40:  # narrower, and nothing (0) or a column of wrapped characters
        os.environ["COLUMNS"] = "40"
    try:
        result = app(args=args, prog_name="symgrad", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except SymgradError as error:
        fail(str(error))
        code = error.exit_code
    except typer.Exit as error:
        code = error.exit_code
    except KeyboardInterrupt:
        fail("interrupted")
        code = 130
    except BrokenPipeError:
        code = 0
    except MemoryError:
        fail("out of memory; try a smaller layer or a lower --max-terms")
        code = 2
    except Exception as error:  # the last guard: never a raw traceback
        if is_click(error, "UsageError"):
            fail(usage_message(error, args))
            code = 2
        elif is_click(error, "Exit"):
            code = getattr(error, "exit_code", 0)
        elif is_click(error, "Abort"):
            fail("aborted")
            code = 130
        else:
            code = internal_error(error, debug)
    if argv is None:
        sys.exit(code)
    return code


