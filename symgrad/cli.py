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
from typer.core import TyperCommand, TyperGroup

from .errors import OptionError, SymgradError, TooLargeError, printable
from .render.formats import CHECK_FORMATS, LAYER_FORMATS, check_format, render_check, render_layer
from .spec import CHECK_MAX_TERMS, DEFAULT_MAX_TERMS


class _AsGiven:
    """Coercion of a command-line value that is already what the command takes: text, or a flag's bool.

    typer coerces every value through a pydantic TypeAdapter that it builds on first use, and importing
    pydantic for that costs about 0.1 s of CPU on every run, a fifth of the seed example. Every option
    here is a str (the library parses and checks it) or a flag, so `_PlainValues` gives the parameters
    this coercion in place of the adapter (typer builds one only for a parameter that has none). Were a
    typer release to stop asking, its own coercion would run again (the same values, only slower), and
    tests/test_cli_help.py says so.
    """

    def coerce(self, value, param, ctx):
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        return list(value) if isinstance(value, (list, tuple)) else value


_AS_GIVEN = _AsGiven()


class _PlainValues:
    """Mixin for typer's command and group classes: text and flag parameters coerced by `_AsGiven`."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        for param in params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is not None and descriptor.annotation in (str, bool, list[str]):
                param._runtime_param = _AS_GIVEN
        return params


class _Group(_PlainValues, TyperGroup):
    """typer's group, its options (--version, --help) coerced by `_AsGiven`."""


class _Command(_PlainValues, TyperCommand):
    """typer's command, its options coerced by `_AsGiven`, and its arguments shown as `FILES...` (not
    typer's `{files}...` and `files... <list[str]>`)."""

    def collect_usage_pieces(self, ctx):
        arguments = [param for param in self.get_params(ctx) if param.param_type_name == "argument"]
        return [self.options_metavar, *map(_placeholder, arguments)]

    def format_options(self, ctx, formatter) -> None:
        params = [param for param in self.get_params(ctx) if not getattr(param, "hidden", False)]
        arguments = [(_placeholder(param), param.help or "") for param in params if param.param_type_name == "argument"]
        options = [record for param in params if param.param_type_name == "option"
                   for record in [param.get_help_record(ctx)] if record]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _placeholder(argument) -> str:
    return (argument.metavar or argument.name.upper()) + ("..." if argument.nargs != 1 else "")


_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    cls=_Group,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=_SETTINGS,
)

# Options shared by several commands (defined once, reused).
INPUT = typer.Option(..., "--input", metavar="SIZE", help="Input size: N, HxW or DxHxW.")
KERNEL = typer.Option(..., "--kernel", metavar="SIZE", help="Kernel size, with as many axes as --input.")
STRIDE = typer.Option("1", "--stride", metavar="N", help="Step between outputs: one number, or one per axis (2x1).")
PADDING = typer.Option("0", "--padding", metavar="N", help="Zeros on both sides: one number, or one per axis.")
DILATION = typer.Option("1", "--dilation", metavar="N", help="Spacing of kernel taps: one number, or one per axis.")
IN_CHANNELS = typer.Option("1", "--in-channels", metavar="N", help="Input channels.")
OUT_CHANNELS = typer.Option("1", "--out-channels", metavar="N", help="Output channels (filters).")
BIAS = typer.Option(False, "--bias", help="Add a bias b_f to each output channel.")
LOSS = typer.Option("generic", "--loss", metavar="LOSS",
                    help="generic (dL/dz stay symbols), sum, or mse (half the squared error).")
INDEX = typer.Option("matrix", "--index", metavar="STYLE", help="Indices: matrix (x_1_2) or flat (x_7).")
CONV_NAMES = typer.Option(None, "--names", metavar="LETTERS", help="Letters for input, kernel, output, e.g. a,w,z.")
CONV_VALUES = typer.Option(None, "--values", metavar="FILE",
                           help="JSON numbers for any of input, kernel, bias, grad_output, nested like the tensors.")
WINDOW = typer.Option(..., "--window", metavar="SIZE", help="Window size, with as many axes as --input.")
POOL_STRIDE = typer.Option(None, "--stride", metavar="N",
                           help="Step between windows: one number, or one per axis (2x1).  [default: the window]")
POOL_PADDING = typer.Option("0", "--padding", metavar="N",
                            help="Padding on both sides, at most half the window: one number, or one per axis.")
MODE = typer.Option("max", "--mode", metavar="MODE", help="max or avg.")
CHANNELS = typer.Option("1", "--channels", metavar="N", help="Channels, each pooled on its own.")
TIES = typer.Option("first", "--ties", metavar="RULE",
                    help="With --values, a window's gradient goes to its first maximum (first, PyTorch's choice) "
                         "or is shared by equal maxima (split).")
POOL_NAMES = typer.Option(None, "--names", metavar="LETTERS", help="Letters for input and output, e.g. x,y.")
POOL_VALUES = typer.Option(None, "--values", metavar="FILE", help="JSON numbers for input and/or grad_output.")
FORMAT = typer.Option("text", "--format", metavar="FORMAT", help="text, json, latex or markdown (MyST, Jupyter Book).")
FRAGMENT = typer.Option(False, "--fragment", help="LaTeX: the body only, to \\input into your own document.")
FULL = typer.Option(False, "--full", help="Print every entry, term and matrix cell, however large.")
LAYER_MAX_TERMS = typer.Option(str(DEFAULT_MAX_TERMS), "--max-terms", metavar="N",
                               help="Refuse layers whose derivation exceeds N product terms.")
OUTPUT = typer.Option(None, "-o", "--output", metavar="FILE", help="Write to FILE (atomically), not to standard output.")
TEMPLATE_MAX_TERMS = typer.Option(str(CHECK_MAX_TERMS), "--max-terms", metavar="N",
                                  help="Refuse problems whose derivation exceeds N product terms (as check does).")
STUDENT = typer.Option("", "--student", metavar="ID", help="Fill in the student's id.")


def _show_option(sections: tuple[str, ...]):
    return typer.Option(None, "--show", metavar="LIST",
                        help=f"Sections, comma-separated: {', '.join(sections)}.  [default: all]")


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
      symgrad template conv --input 3x3 --kernel 2x2 > hw.toml
      symgrad check hw.toml

    Run `symgrad COMMAND -h` for a command's options.
    """


# The sections --show lists in --help. The layer registry (symgrad.layers.KINDS) is what --show accepts;
# it is not imported here, so that --help and usage errors load no layer, and tests/test_cli_help.py
# holds the two equal.
CONV_SECTIONS = ("setup", "forward", "grad-kernel", "grad-input", "grad-bias", "identities")
POOL_SECTIONS = ("setup", "forward", "grad-input", "identities")


@app.command(cls=_Command, short_help="Convolution backprop, every term shown and proved.",
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
    show: Optional[str] = _show_option(CONV_SECTIONS),
    values: Optional[str] = CONV_VALUES,
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
      symgrad conv --input 3x3 --kernel 2x2 --values numbers.json
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
    _show_layer(lambda limit: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias, loss,
                                       index, names, max_terms=limit, values=values),
                sections, format, full, fragment, max_terms, values, output)


@app.command(cls=_Command, short_help="Max or average pooling backprop, every term shown and proved.",
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
    show: Optional[str] = _show_option(POOL_SECTIONS),
    values: Optional[str] = POOL_VALUES,
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
      symgrad pool --input 5x5 --window 3x3 --stride 2 --padding 1 --mode avg
      symgrad pool --input 4x4 --window 2x2 --format latex -o pool.tex

    Exit codes: 0 the identity holds; 1 it failed; 2 bad input.
    """
    from . import api

    check_format(format, LAYER_FORMATS, fragment)
    sections = _parse_show(show, "pool")
    _show_layer(lambda limit: api.pool(input, window, stride, padding, mode, channels, ties, index, names,
                                       max_terms=limit, values=values),
                sections, format, full, fragment, max_terms, values, output)


def _show_layer(derive, sections, format: str, full: bool, fragment: bool, max_terms: str, values: str | None,
                output: str | None) -> None:
    """The shared body of `conv` and `pool`: derive(limit) builds the layer, which is rendered and
    written; exit 1 if an identity fails."""
    limit = _parse_limit(max_terms)
    output = _check_output(output, {"the --values file": values})
    with _full_limit(full and format != "json", max_terms) as build_limit:
        derivation = derive(build_limit or limit)
    _emit(render_layer(derivation, format, show=sections, full=full, fragment=fragment, max_terms=limit,
                       to_file=output is not None), output)
    if not derivation.all_hold:
        raise typer.Exit(1)


template_app = typer.Typer(
    cls=_Group,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings=_SETTINGS,
    help="Write an empty answer file (TOML) for a conv or pool problem, to fill in and `symgrad check`.",
)
app.add_typer(template_app, name="template", short_help="Write an empty answer file for a problem, to fill in and check.")


@template_app.command("conv", cls=_Command, short_help="An answer file for a convolution problem.",
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


@template_app.command("pool", cls=_Command, short_help="An answer file for a pooling problem.",
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


def _write_template(derive, values: str | None, ask: str | None, student: str, max_terms: str, output: str | None) -> None:
    """The shared body of `template conv` and `template pool`: derive(limit) builds the layer."""
    from .homework.answers import MAX_STUDENT
    from .homework.judge import check_judgeable
    from .homework.template import answer_template, parse_ask

    limit = _parse_limit(max_terms)
    output = _check_output(output, {"the --values file": values})
    derivation = derive(limit)
    if len(student) > MAX_STUDENT:
        raise OptionError(f"--student is {len(student)} characters long; expected a plain id of at most {MAX_STUDENT}")
    if any(not ch.isprintable() for ch in student):
        raise OptionError(f"--student \"{printable(student)}\" contains a control character; expected a plain id")
    check_judgeable(derivation, limit)  # a template is handed out only for a problem check can judge
    _emit(answer_template(derivation, parse_ask(ask, derivation), student), output)


@app.command(cls=_Command, short_help="Judge answer files: each entry right or wrong, and why.")
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

    check_format(format, CHECK_FORMATS)
    tol = _parse_tolerance(tolerance)
    output = _check_output(output, {"the --problem file": problem, **{f"the answer file {path!r}": path for path in files}})
    judge = Judge(tolerance=tol, max_terms=_parse_limit(max_terms), reference=problem)
    reports = [judge.judge_file(path) for path in files]
    _emit(render_check(reports, format, tolerance=tol, full=full, to_file=output is not None), output)
    problems = [(report.path, line) for report in reports for line in report.errors]
    if problems:  # one line: the first problem, and how many more the report lists
        files = len({path for path, _ in problems})
        more = len(problems) - 1
        rest = "" if not more else (f" (and {more} more problem{'s' if more > 1 else ''}"
                                    + (f" in {files} files" if files > 1 else "") + "; the report lists them all)")
        _fail(problems[0][1] + rest)
    if any(r.internal for r in reports):
        raise typer.Exit(3)
    if any(r.status == "error" for r in reports):
        raise typer.Exit(2)
    if any(r.status == "wrong" for r in reports):
        raise typer.Exit(1)


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

    sections = KINDS[kind].sections
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
    args, debug = _take_debug(list(argv if argv is not None else sys.argv[1:]))
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
        _fail(str(error))
        code = error.exit_code
    except typer.Exit as error:
        code = error.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        code = 130
    except BrokenPipeError:
        code = 0
    except MemoryError:
        _fail("out of memory; try a smaller layer or a lower --max-terms")
        code = 2
    except Exception as error:  # the last guard: never a raw traceback
        if _is_click(error, "UsageError"):
            _fail(_usage_message(error, args))
            code = 2
        elif _is_click(error, "Exit"):
            code = getattr(error, "exit_code", 0)
        elif _is_click(error, "Abort"):
            _fail("aborted")
            code = 130
        else:
            code = _internal_error(error, debug)
    if argv is None:
        sys.exit(code)
    return code


_COMMANDS = ("conv", "pool", "check", "template")

# An option of the other layer kind, given to this one: (command, option) -> what to say instead.
_OTHER_KIND = {
    ("pool", "--kernel"): "pooling has a --window, not a --kernel",
    ("pool", "--in-channels"): "pooling has --channels (each pooled on its own)",
    ("pool", "--out-channels"): "pooling has --channels (each pooled on its own)",
    ("conv", "--window"): "a convolution has a --kernel, not a --window",
    ("conv", "--channels"): "a convolution has --in-channels and --out-channels",
    ("conv", "--mode"): "--mode is for pooling (symgrad pool)",
}


def _usage_message(error, args: list[str]) -> str:
    """Click's usage error as one line, with what to use instead when an option belongs to the other
    layer kind, and where to read more."""
    ctx = getattr(error, "ctx", None)
    command = getattr(getattr(ctx, "command", None), "name", None)
    message = _one_line(error.format_message())
    instead = _OTHER_KIND.get((command, getattr(error, "option_name", None)))
    if instead:
        message = f"No such option: {error.option_name}; {instead}"
    elif message == "Missing command." and ctx is not None and hasattr(ctx.command, "list_commands"):
        message = f"Missing command: one of {', '.join(ctx.command.list_commands(ctx))}"
    if ctx is not None and getattr(ctx, "command_path", ""):
        where = ctx.command_path
    else:
        where = f"symgrad {args[0]}" if args and args[0] in _COMMANDS else "symgrad"
    return f"{message} (see: {where} --help)"


def _is_click(error: BaseException, name: str) -> bool:
    """Whether `error` is click's (or typer's vendored click's) exception class `name`."""
    return any(cls.__name__ == name for cls in type(error).__mro__)


_FLAGS = {"--bias", "--full", "--fragment", "--help", "--version"}  # options that take no value


def _take_debug(args: list[str]) -> tuple[list[str], bool]:
    """Remove --debug where it is an option of its own: not after `--`, and not the value of an option
    (`--student --debug` is a student id)."""
    out, debug = [], False
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:], debug
        prev = args[i - 1] if i else ""
        is_value = (prev.startswith("--") or prev == "-o") and "=" not in prev and prev not in _FLAGS | {"--debug"}
        if arg == "--debug" and not is_value:
            debug = True
            continue
        out.append(arg)
    return out, debug


def _internal_error(error: Exception, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    _fail(f"internal error ({type(error).__name__}: {_one_line(str(error))[:200]}); please report it with the command you ran, or rerun with --debug")
    return 3


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(message: str) -> None:
    try:
        sys.stderr.write(f"Error: {printable(message)}\n")  # one line, whatever a file name or an input holds
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or full: the exit code still tells
        pass
