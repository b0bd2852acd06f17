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

from .cli_animate import animate_app
from .cli_quiz import quiz_app
from .cli_template import template_app
from .cli_parts import (
    BIAS, CHANNELS, CONV_NAMES, CONV_VALUES, Command, DILATION, ENTRY, FIGURES, FORMAT, GROUPS, OUTPUT_PADDING, PADDING_MODE, TRANSPOSE_PADDING, NOTATION, FRAGMENT, FULL, Group,
    INDEX, INPUT, IN_CHANNELS, KERNEL, LAYER_MAX_TERMS, LOSS, LR, MODE, NET_LAYERS, NET_NAMES, NET_VALUES, OUTPUT,
    OUT_CHANNELS, PADDING, POOL_NAMES, POOL_PADDING, POOL_STRIDE, POOL_VALUES, SETTINGS, STRIDE, TEMPLATE_MAX_TERMS,
    TIES, WINDOW,
    OUTPUT_SIZE, POOL_DILATION, CEIL_MODE, NO_COUNT_INCLUDE_PAD, DIVISOR, pool_options, check_output, emit, fail, internal_error, is_click, parse_count, parse_limit, show_option, take_debug,
    usage_message,
)
from .errors import OptionError, OutputClosed, SymgradError, TooLargeError
from .files import silence_stdout
from .render.formats import CHECK_FORMATS, LAYER_FORMATS, check_format, render_check, render_entry, render_layer
from .spec import DEFAULT_MAX_TERMS



app = typer.Typer(
    cls=Group,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=SETTINGS,
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
CONV_SECTIONS = ("setup", "forward", "grad-kernel", "grad-input", "grad-bias", "identities", "im2col", "update")
POOL_SECTIONS = ("setup", "forward", "grad-input", "identities")
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
    groups: str = GROUPS,
    padding_mode: str = PADDING_MODE,
    bias: bool = BIAS,
    loss: str = LOSS,
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    show: Optional[str] = show_option(CONV_SECTIONS),
    values: Optional[str] = CONV_VALUES,
    lr: Optional[str] = LR,
    entry: Optional[str] = ENTRY,
    figures: Optional[str] = FIGURES,
    notation: str = NOTATION,
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

    check_format(format, LAYER_FORMATS, fragment, entry=entry, figures=figures, notation=notation)
    sections = _parse_show(show, "conv")
    if show is not None and "grad-bias" in sections and not bias:
        raise OptionError("--show grad-bias needs --bias (this layer has no bias)")
    if show is not None and "update" in sections and lr is None:
        raise OptionError("--show update needs --lr (the learning rate of the update)")
    _show_layer(lambda limit: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias, loss,
                                       index, names, max_terms=limit, values=values, lr=lr,
                                       im2col=show is not None and "im2col" in sections, groups=groups,
                                       padding_mode=padding_mode),
                sections, format, full, fragment, max_terms, values, output, entry, figures, notation)


CONVTRANSPOSE_SECTIONS = ("setup", "forward", "grad-kernel", "grad-input", "grad-bias", "identities", "update")


@app.command(cls=Command, short_help="Transposed convolution backprop, tied to convolution's closed forms.",
             options_metavar="--input SIZE --kernel SIZE [OPTIONS]")
def convtranspose(
    input: str = INPUT,
    kernel: str = KERNEL,
    stride: str = STRIDE,
    padding: str = TRANSPOSE_PADDING,
    output_padding: str = OUTPUT_PADDING,
    dilation: str = DILATION,
    in_channels: str = IN_CHANNELS,
    out_channels: str = OUT_CHANNELS,
    groups: str = GROUPS,
    bias: bool = BIAS,
    loss: str = LOSS,
    index: str = INDEX,
    names: Optional[str] = CONV_NAMES,
    show: Optional[str] = show_option(CONVTRANSPOSE_SECTIONS),
    values: Optional[str] = CONV_VALUES,
    lr: Optional[str] = LR,
    notation: str = NOTATION,
    format: str = FORMAT,
    fragment: bool = FRAGMENT,
    full: bool = FULL,
    max_terms: str = LAYER_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """Transposed convolution (PyTorch's ConvTranspose) backprop: its forward is a convolution's dL/dX
    map, its dL/dX a plain correlation; every term shown, each identity proved.

    \b
    Examples:
      symgrad convtranspose --input 3x3 --kernel 3x3 --stride 2
      symgrad convtranspose --input 3x3 --kernel 3x3 --stride 2 --padding 1 \\
                            --output-padding 1 --show identities
      symgrad convtranspose --input 4 --kernel 2 --stride 2 --format latex \\
                            -o up.tex

    Exit codes: 0 all identities hold; 1 an identity failed; 2 bad input.
    """
    from . import api

    check_format(format, LAYER_FORMATS, fragment, notation=notation)
    sections = _parse_show(show, "convtranspose")
    if show is not None and "grad-bias" in sections and not bias:
        raise OptionError("--show grad-bias needs --bias (this layer has no bias)")
    _show_layer(lambda limit: api.convtranspose(input, kernel, stride, padding, output_padding, dilation, in_channels,
                                                out_channels, groups, bias, loss, index, names, max_terms=limit,
                                                values=values, lr=lr),
                sections, format, full, fragment, max_terms, values, output, notation=notation)


@app.command(cls=Command, short_help="Max or average pooling backprop, every term shown and proved.",
             options_metavar="--input SIZE --window SIZE [OPTIONS]")
def pool(
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
    show: Optional[str] = show_option(POOL_SECTIONS),
    values: Optional[str] = POOL_VALUES,
    entry: Optional[str] = ENTRY,
    figures: Optional[str] = FIGURES,
    notation: str = NOTATION,
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

    check_format(format, LAYER_FORMATS, fragment, entry=entry, figures=figures, notation=notation)
    sections = _parse_show(show, "pool")
    _show_layer(lambda limit: api.pool(input, window, stride, padding, mode, channels, ties, index, names,
                                       max_terms=limit, values=values,
                                       **pool_options(dilation, ceil_mode, no_count_include_pad, divisor, output_size)),
                sections, format, full, fragment, max_terms, values, output, entry, figures, notation)


NET_SECTIONS = ("setup", "forward", "backward", "identities", "im2col", "update")
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
    _show_layer(lambda limit: api.net(input, layers, in_channels, values, lr, index, names, max_terms=limit,
                                      im2col=show is not None and "im2col" in sections),
                sections, format, full, fragment, max_terms, values, output)


def _show_layer(derive, sections, format: str, full: bool, fragment: bool, max_terms: str, values: str | None,
                output: str | None, entry: str | None = None, figures: str | None = None, notation: str = "partial") -> None:
    """The shared body of `conv`, `pool` and `net`: derive(limit) builds the layer, which is rendered
    (or one `entry` of it) and written; exit 1 if an identity fails."""
    limit = parse_limit(max_terms)
    output = check_output(output, {"the --values file": values})
    with _full_limit(full and format != "json", max_terms) as build_limit:
        derivation = derive(build_limit or limit)
    if entry is not None:
        emit(render_entry(derivation, entry, format, full=full, to_file=output is not None), output)
    else:
        emit(render_layer(derivation, format, show=sections, full=full, fragment=fragment, max_terms=limit,
                           to_file=output is not None, figures=figures, notation=notation), output)
    if not derivation.all_hold:
        raise typer.Exit(1)


app.add_typer(animate_app, name="animate", short_help="Animate a pass: GIF, SVG or a PNG sheet of frames.")
app.add_typer(quiz_app, name="quiz", short_help="Generate a quiz (jupyterquiz JSON or a MyST page) from a layer.")
app.add_typer(template_app, name="template", short_help="Write an empty answer file for a problem, to fill in and check.")


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
    variants: Optional[str] = typer.Option(None, "--variants", metavar="ROSTER",
                                           help="Judge each file with the numbers --seed gives its student (the roster "
                                                "`template --variants` wrote the files for); whatever its [problem.values] say."),
    seed: Optional[str] = typer.Option(None, "--seed", metavar="S", help="With --variants: the seed the files were written with."),
    jobs: Optional[str] = typer.Option(None, "--jobs", "-j", metavar="N",
                                       help="Judge with N processes (the report is the same).  [default: the machine's cores]"),
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
      symgrad check hw/*.toml --variants roster.txt --seed 2026 -o report.md \\
                    --format markdown

    Symbolic answers are compared exactly, as polynomials; with [problem.values], numbers within
    --tolerance. Exit codes: 0 every entry right; 1 an entry is wrong; 2 a file (or an entry) cannot
    be read. The report is written in every case, naming what was unreadable.
    """
    from .homework.batch import MAX_JOBS, default_jobs, judge_and_render
    from .render.formats import columns, file_part, stdout_layout
    from .homework.judge import Judge
    from .homework.report import error_line, exit_code

    check_format(format, CHECK_FORMATS)
    tol = _parse_tolerance(tolerance)
    workers = default_jobs() if jobs is None else parse_count(jobs, "--jobs")
    if workers > MAX_JOBS:
        raise OptionError(f"--jobs must be at most {MAX_JOBS} (this machine has {default_jobs()} cores), got {jobs!r}")
    if (variants is None) != (seed is None):
        raise OptionError("--variants ROSTER and --seed S go together: each file is judged with the numbers the seed gives its student")
    output = check_output(output, {"the --problem file": problem, "the --variants roster": variants,
                                   **{f"the answer file {path!r}": path for path in files}})
    chosen = None
    if variants is not None:
        from .homework.variants import Variants

        chosen = Variants.read(variants, seed)
    judge = Judge(tolerance=tol, max_terms=parse_limit(max_terms), reference=problem, variants=chosen)
    # each file's part of the report is laid out where it is judged (a terminal's colours: here, at the end)
    width, colours = None, None  # of the text: a file's; standard output's (a pipe's, or a terminal's colours)
    if output is not None:
        width = columns()
    elif format == "text":
        width, colours = stdout_layout() or (None, None)
    part = file_part(format, full, width, colours) if format != "text" or width is not None else None
    judged = judge_and_render(judge, files, workers, part)
    reports, parts = [report for report, _ in judged], [text for _, text in judged] if part else None
    plain = output is not None or (width is not None and colours is None)
    emit(render_check(reports, format, tolerance=tol, full=full, to_file=plain, parts=parts, width=width), output)
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
    except (BrokenPipeError, OutputClosed):  # the reader closed the pipe: nothing more to say
        silence_stdout()
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
        _exit(code)
    return code


def _exit(code: int) -> None:
    """End the process once its output is out, without freeing every object first: a class's reports
    (hundreds of thousands of entries) take a noticeable part of a second to free, the system none."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said
            pass
    os._exit(code)


