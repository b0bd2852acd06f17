"""The command line: read options, call one function, pick a renderer, print.

Every bad input ends with exit code 2 and one line on stderr: `Error: <what was wrong>`.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import traceback
from typing import Optional

import typer

from .errors import OptionError, SymgradError, TooLargeError, printable
from .spec import CHECK_MAX_TERMS, DEFAULT_MAX_TERMS

FORMATS = ("text", "json", "latex", "markdown")

app = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Derive backpropagation through CNN layers symbolically and show every step.",
)

# Options shared by several commands (defined once, reused).
INPUT = typer.Option(..., "--input", help="Input size: N, HxW or DxHxW.")
KERNEL = typer.Option(..., "--kernel", help="Kernel size, same number of axes as --input.")
STRIDE = typer.Option("1", "--stride", help="One value, or one per axis (2x1).")
PADDING = typer.Option("0", "--padding", help="Zero padding on both sides; one value or one per axis.")
DILATION = typer.Option("1", "--dilation", help="Kernel dilation; one value or one per axis.")
IN_CHANNELS = typer.Option("1", "--in-channels", help="Input channels C.")
OUT_CHANNELS = typer.Option("1", "--out-channels", help="Output channels (filters) F.")
BIAS = typer.Option(False, "--bias", help="Add a bias b_f per output channel.")
LOSS = typer.Option("generic", "--loss", help="generic (dL/dz are symbols), sum, or mse (1/2 sum (z - t)^2).")
INDEX = typer.Option("matrix", "--index", help="Symbol indices: matrix (x_1_2) or flat (x_7).")
CONV_NAMES = typer.Option(None, "--names", help="Letters for input, kernel, output, e.g. a,w,z.")
CONV_VALUES = typer.Option(
    None, "--values", help="JSON file with numbers for any of input, kernel, bias, grad_output (nested like the tensors)."
)
WINDOW = typer.Option(..., "--window", help="Window size, same number of axes as --input.")
POOL_STRIDE = typer.Option(None, "--stride", help="One value, or one per axis (default: the window).")
POOL_PADDING = typer.Option("0", "--padding", help="Padding on both sides (at most half the window); one value or one per axis.")
MODE = typer.Option("max", "--mode", help="max or avg.")
CHANNELS = typer.Option("1", "--channels", help="Channels C (pooled independently).")
TIES = typer.Option("first", "--ties", help="Max pooling with --values: first (PyTorch's choice) or split (share equally).")
POOL_NAMES = typer.Option(None, "--names", help="Letters for input and output, e.g. x,y.")
POOL_VALUES = typer.Option(None, "--values", help="JSON file with numbers for input and/or grad_output.")
FULL = typer.Option(False, "--full", help="Print every entry, term and matrix cell, however large.")
OUTPUT = typer.Option(None, "-o", "--output", help="Write to this file (atomically) instead of stdout.")
TEMPLATE_MAX_TERMS = typer.Option(str(CHECK_MAX_TERMS), "--max-terms", help="Refuse problems whose derivation exceeds this many product terms (as check does).")


@app.callback()
def _root() -> None:
    """Derive backpropagation through CNN layers symbolically and show every step."""


@app.command()
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
    show: Optional[str] = typer.Option(
        None, "--show", help="Sections, comma-separated: setup,forward,grad-kernel,grad-input,grad-bias,identities."
    ),
    values: Optional[str] = CONV_VALUES,
    format: str = typer.Option("text", "--format", help="text (default), json, latex or markdown (MyST / Jupyter Book)."),
    fragment: bool = typer.Option(False, "--fragment", help="LaTeX: the body only, to \\input into your own document."),
    full: bool = FULL,
    max_terms: str = typer.Option(
        str(DEFAULT_MAX_TERMS), "--max-terms", help="Refuse layers whose derivation exceeds this many product terms."
    ),
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
    from .render.common import SECTIONS

    _check_format(format, fragment)
    sections = _parse_show(show, SECTIONS)
    if show is not None and "grad-bias" in sections and not bias:
        raise OptionError("--show grad-bias needs --bias (this layer has no bias)")
    _show_layer(lambda limit: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias, loss,
                                       index, names, max_terms=limit, values=values),
                sections, format, full, fragment, max_terms, values, output)


POOL_SECTIONS = ("setup", "forward", "grad-input", "identities")


@app.command()
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
    show: Optional[str] = typer.Option(None, "--show", help="Sections, comma-separated: setup,forward,grad-input,identities."),
    values: Optional[str] = POOL_VALUES,
    format: str = typer.Option("text", "--format", help="text (default), json, latex or markdown (MyST / Jupyter Book)."),
    fragment: bool = typer.Option(False, "--fragment", help="LaTeX: the body only, to \\input into your own document."),
    full: bool = FULL,
    max_terms: str = typer.Option(str(DEFAULT_MAX_TERMS), "--max-terms", help="Refuse layers larger than this many terms."),
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

    _check_format(format, fragment)
    sections = _parse_show(show, POOL_SECTIONS)
    _show_layer(lambda limit: api.pool(input, window, stride, padding, mode, channels, ties, index, names,
                                       max_terms=limit, values=values),
                sections, format, full, fragment, max_terms, values, output)


def _check_format(format: str, fragment: bool) -> None:
    if format not in FORMATS:
        raise OptionError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    if fragment and format != "latex":
        raise OptionError(f"--fragment only applies to --format latex (got --format {format})")


def _show_layer(derive, sections, format: str, full: bool, fragment: bool, max_terms: str, values: str | None,
                output: str | None) -> None:
    """The shared body of `conv` and `pool`: derive(limit) builds the layer, which is rendered and
    written; exit 1 if an identity fails."""
    limit = _parse_limit(max_terms)
    output = _check_output(output, {"the --values file": values})
    with _full_limit(full and format != "json", max_terms) as build_limit:
        derivation = derive(build_limit or limit)
    _emit(_render(derivation, format, sections, full, fragment, limit, to_file=output is not None), output)
    if not derivation.all_hold:
        raise typer.Exit(1)


template_app = typer.Typer(
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Write an empty answer file (TOML) for a conv or pool problem, to fill in and `symgrad check`.",
)
app.add_typer(template_app, name="template")

ASK = typer.Option(None, "--ask", help="Answers to ask for, comma-separated: forward,grad-kernel,grad-input,grad-bias (default: every gradient).")
STUDENT = typer.Option("", "--student", help="Fill in the student id.")


@template_app.command("conv")
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
    ask: Optional[str] = ASK,
    student: str = STUDENT,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a convolution problem: the problem filled in, every answer ''.

    \b
    Examples:
      symgrad template conv --input 5x5 --kernel 3x3 --stride 2 > hw3.toml
      symgrad template conv --input 3x3 --kernel 2x2 --values numbers.json -o hw3.toml
      symgrad template conv --input 4x4 --kernel 3x3 --ask grad-input
    """
    from . import api

    _write_template(lambda limit: api.conv(input, kernel, stride, padding, dilation, in_channels, out_channels, bias,
                                           loss, index, names, max_terms=limit, values=values),
                    values, ask, student, max_terms, output)


@template_app.command("pool")
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
    ask: Optional[str] = ASK,
    student: str = STUDENT,
    max_terms: str = TEMPLATE_MAX_TERMS,
    output: Optional[str] = OUTPUT,
) -> None:
    """An answer file for a pooling problem: the problem filled in, every answer ''.

    \b
    Examples:
      symgrad template pool --input 4x4 --window 2x2 --values numbers.json > pool.toml
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


CHECK_FORMATS = ("text", "json", "gradescope", "markdown")


@app.command()
def check(
    files: list[str] = typer.Argument(..., help="Answer files (TOML), one student's answers each."),
    format: str = typer.Option("text", "--format", help="text (default), json, gradescope (an autograder results.json), or markdown (a class report)."),
    tolerance: str = typer.Option(
        "1e-6", "--tolerance", help="Problems with values: a number is right when |answer - expected| <= tolerance * max(1, |expected|)."
    ),
    full: bool = typer.Option(False, "--full", help="Explain every wrong entry and list every missing/extra term."),
    max_terms: str = typer.Option(str(CHECK_MAX_TERMS), "--max-terms", help="Refuse problems whose derivation exceeds this many product terms."),
    problem: Optional[str] = typer.Option(
        None, "--problem", help="The answer file handed out (a template): every file is judged by its [problem] and [answer] keys."
    ),
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

    if format not in CHECK_FORMATS:
        raise OptionError(f"--format must be one of {', '.join(CHECK_FORMATS)}, got {format!r}")
    tol = _parse_tolerance(tolerance)
    output = _check_output(output, {"the --problem file": problem, **{f"the answer file {path!r}": path for path in files}})
    judge = Judge(tolerance=tol, max_terms=_parse_limit(max_terms), reference=problem)
    reports = [judge.judge_file(path) for path in files]
    if format == "json":
        from .render.check import render_check_json

        text = render_check_json(reports, tol)
    elif format == "gradescope":
        from .render.check import render_gradescope

        text = render_gradescope(reports)
    elif format == "markdown":
        from .render.check import render_check_markdown

        text = render_check_markdown(reports, full)
    else:
        text = _render_check_text(reports, full, to_file=output is not None)
    _emit(text, output)
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


def _render_check_text(reports, full: bool, to_file: bool) -> str:
    from .render.check import check_view

    return _print_rich(check_view(reports, full), to_file)


def _columns() -> int:
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if re.fullmatch("[0-9]{1,4}", columns) and int(columns) > 0 else 100


def _parse_show(show: str | None, sections: tuple[str, ...]) -> frozenset[str]:
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


def _render(derivation, format: str, sections, full: bool, fragment: bool, limit: int, to_file: bool) -> str:
    """The output text in the chosen format ("" when text was printed straight to the terminal)."""
    if format == "json":
        from .render.json import check_size, render_json

        check_size(derivation, limit)
        return render_json(derivation)
    if format in ("latex", "markdown"):
        from .render.document import DocumentSettings

        settings = DocumentSettings.choose(derivation, sections, full)
        if format == "latex":
            from .render.latex import render_latex

            return render_latex(derivation, settings, fragment=fragment)
        from .render.markdown import render_markdown

        return render_markdown(derivation, settings)
    return _render_text(derivation, sections, full, to_file)


def _render_text(derivation, sections, full: bool, to_file: bool) -> str:
    from .render.terminal import TerminalView, TextSettings

    return _print_rich(TerminalView(derivation, TextSettings(show=sections, full=full)), to_file)


def _print_rich(view, to_file: bool) -> str:
    """Print a rich renderable to the terminal (returning ""), or return it as plain text for a file."""
    from rich.console import Console

    if to_file:
        buffer = io.StringIO()
        Console(file=buffer, width=_columns(), color_system=None, soft_wrap=False).print(view)
        return buffer.getvalue()
    from .files import stdout_errors

    with stdout_errors():
        console = Console(soft_wrap=False)
        console.print(view)
        console.file.flush()
    return ""


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
            name = args[0] if args and args[0] in _COMMANDS else None
            hint = f" (see: symgrad {name} --help)" if name else " (see: symgrad --help)"
            _fail(_one_line(error.format_message()) + hint)
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


def _is_click(error: BaseException, name: str) -> bool:
    """Whether `error` is click's (or typer's vendored click's) exception class `name`."""
    return any(cls.__name__ == name for cls in type(error).__mro__)


_FLAGS = {"--bias", "--full", "--fragment", "--help"}  # options that take no value


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
