"""What the command line is built from, apart from its commands: typer's command classes made to
take option values as given (no pydantic at start-up) and to print usage lines that read well, the
options shared by several commands (defined once), and the process boundary: usage errors as one line
(with what to use instead when an option belongs to the other layer kind), --debug, and internal errors.
"""

# No `from __future__ import annotations` here: typer would evaluate every annotation string on every run.

import re
import sys

import typer
from typer.core import TyperCommand, TyperGroup

from .errors import OptionError, printable
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


class Group(_PlainValues, TyperGroup):
    """typer's group, its options (--version, --help) coerced by `_AsGiven`."""


class Command(_PlainValues, TyperCommand):
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


# Options shared by several commands (defined once, reused).
INPUT = typer.Option(..., "--input", metavar="SIZE", help="Input size: N, HxW or DxHxW.")
KERNEL = typer.Option(..., "--kernel", metavar="SIZE", help="Kernel size, with as many axes as --input.")
STRIDE = typer.Option("1", "--stride", metavar="N", help="Step between outputs: one number, or one per axis (2x1).")
PADDING = typer.Option("0", "--padding", metavar="N",
                       help="Padding on both sides: one number, one per axis, same or valid.")
DILATION = typer.Option("1", "--dilation", metavar="N", help="Spacing of kernel taps: one number, or one per axis.")
IN_CHANNELS = typer.Option("1", "--in-channels", metavar="N", help="Input channels.")
OUT_CHANNELS = typer.Option("1", "--out-channels", metavar="N", help="Output channels (filters).")
TRANSPOSE_PADDING = typer.Option("0", "--padding", metavar="N",
                                 help="Cells cut from both ends of the output: one number, or one per axis.")
OUTPUT_PADDING = typer.Option("0", "--output-padding", metavar="N",
                              help="Extra cells at the end of the output (less than the stride or the dilation).")
PADDING_MODE = typer.Option("zeros", "--padding-mode", metavar="MODE",
                            help="What the padding holds: zeros, reflect, replicate or circular (PyTorch's modes).")
GROUPS = typer.Option("1", "--groups", metavar="G",
                      help="Channel groups, as PyTorch: each output channel reads in/G input channels (G = in: depthwise).")
BIAS = typer.Option(False, "--bias", help="Add a bias b_f to each output channel.")
LOSS = typer.Option("generic", "--loss", metavar="LOSS",
                    help="generic (dL/dz stay symbols), sum, or mse (half the squared error).")
INDEX = typer.Option("matrix", "--index", metavar="STYLE", help="matrix (x_1_2) or flat (x_7).")
CONV_NAMES = typer.Option(None, "--names", metavar="LETTERS", help="Letters for input, kernel, output, e.g. a,w,z.")
CONV_VALUES = typer.Option(None, "--values", metavar="FILE",
                           help="JSON numbers for any of input, kernel, bias, grad_output, nested like the tensors.")
WINDOW = typer.Option(None, "--window", metavar="SIZE", help="Window size, with as many axes as --input.")
OUTPUT_SIZE = typer.Option(None, "--output-size", metavar="SIZE",
                           help="Adaptive pooling: the output size instead of a window (PyTorch's rule).")
POOL_DILATION = typer.Option("1", "--dilation", metavar="N", help="Max pooling: spacing of window cells.")
CEIL_MODE = typer.Option(False, "--ceil-mode", help="Round the output size up, as PyTorch's ceil_mode.")
NO_COUNT_INCLUDE_PAD = typer.Option(False, "--no-count-include-pad",
                                    help="Average pooling: leave padded cells out of the divisor.")
DIVISOR = typer.Option(None, "--divisor", metavar="N", help="Average pooling: divide every window by N.")
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
NOTATION = typer.Option("partial", "--notation", metavar="STYLE",
                        help="partial (∂L/∂z) or delta (δ) for each output's gradient.")
ENTRY = typer.Option(None, "--entry", metavar="NAME",
                     help="Show one entry (x_3_3, w_1_2, z_2_1, ...): its chain rule and the cells involved, as grids.")
FIGURES = typer.Option(None, "--figures", metavar="DIR",
                       help="With --format markdown or latex: draw each pass into DIR and embed it (GIF / PNG sheet).")
OUTPUT = typer.Option(None, "-o", "--output", metavar="FILE", help="Write to FILE (atomically), not to standard output.")
TEMPLATE_MAX_TERMS = typer.Option(str(CHECK_MAX_TERMS), "--max-terms", metavar="N",
                                  help="Refuse problems whose derivation exceeds N product terms (as check does).")
STUDENT = typer.Option("", "--student", metavar="ID", help="Fill in the student's id.")
VARIANTS = typer.Option(None, "--variants", metavar="ROSTER",
                        help="One answer file per student id in ROSTER (one id per line), each with numbers of its own, "
                             "written as DIR/<id>.toml (-o DIR, with --seed).")
VARIANT_SEED = typer.Option(None, "--seed", metavar="S", help="With --variants: the seed of every student's numbers "
                                                               "(the same seed and id, the same numbers).")


def show_option(sections: tuple[str, ...]):
    return typer.Option(None, "--show", metavar="LIST",
                        help=f"Sections to show (all by default), comma-separated: {', '.join(sections)}.")


_COMMANDS = ("conv", "pool", "net", "animate", "quiz", "check", "template")

# An option of the other layer kind, given to this one: (command, option) -> what to say instead.
_OTHER_KIND = {
    ("pool", "--kernel"): "pooling has a --window, not a --kernel",
    ("pool", "--in-channels"): "pooling has --channels (each pooled on its own)",
    ("pool", "--out-channels"): "pooling has --channels (each pooled on its own)",
    ("conv", "--window"): "a convolution has a --kernel, not a --window",
    ("conv", "--channels"): "a convolution has --in-channels and --out-channels",
    ("conv", "--mode"): "--mode is for pooling (symgrad pool)",
}


def usage_message(error, args: list[str]) -> str:
    """Click's usage error as one line, with what to use instead when an option belongs to the other
    layer kind, and where to read more."""
    ctx = getattr(error, "ctx", None)
    command = getattr(getattr(ctx, "command", None), "name", None)
    message = one_line(error.format_message())
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


def is_click(error: BaseException, name: str) -> bool:
    """Whether `error` is click's (or typer's vendored click's) exception class `name`."""
    return any(cls.__name__ == name for cls in type(error).__mro__)


_FLAGS = {"--bias", "--full", "--fragment", "--help", "--version"}  # options that take no value


def take_debug(args: list[str]) -> tuple[list[str], bool]:
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


def internal_error(error: Exception, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    fail(f"internal error ({type(error).__name__}: {one_line(str(error))[:200]}); please report it with the command you ran, or rerun with --debug")
    return 3


def one_line(text: str) -> str:
    return " ".join(text.split())


def fail(message: str) -> None:
    try:
        sys.stderr.write(f"Error: {printable(message)}\n")  # one line, whatever a file name or an input holds
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or full: the exit code still tells
        pass


# --- shared by the command modules (cli.py, cli_animate.py, cli_template.py)

LR = typer.Option(None, "--lr", metavar="NUMBER", help="Learning rate α: show the update w − α·∂L/∂w (0.1 and 1/10 are exact).")
NET_VALUES = typer.Option(None, "--values", metavar="FILE", help='JSON numbers for "input" and, in "layers", each stage (README).')
NET_NAMES = typer.Option(None, "--names", metavar="LETTERS",
                         help="Letters for the input and each stage's output, e.g. a,z (blank keeps a default).")


NET_LAYERS = typer.Option(..., "--layers", metavar="STAGES",
                          help="Stages separated by |: conv SIZE [out=F stride=S padding=P dilation=D bias], "
                               "maxpool|avgpool SIZE [stride=S padding=P ties=first|split ...] (or output_size=O), relu, sigmoid, tanh, "
                               "flatten, dense N [bias]; last, a loss: mse, sum or softmax-ce.")



def check_output(output: str | None, inputs: dict[str, str | None]) -> str | None:
    """The -o path (None for `-o -`, standard output), refused at once (before any work) if it
    cannot be written, including when it would overwrite one of the command's inputs."""
    if output == "-":
        return None
    if output is not None:
        from .files import check_target

        check_target(output, inputs)
    return output


def pool_options(dilation, ceil_mode: bool, no_count_include_pad: bool, divisor, output_size) -> dict:
    """PyTorch's other pooling options, as the pool commands take them, for api.pool."""
    return dict(dilation=dilation, ceil_mode=ceil_mode, count_include_pad=not no_count_include_pad, divisor=divisor,
                output_size=output_size)


def parse_limit(text: str) -> int:
    if not re.fullmatch(r"\s*[0-9]{1,12}\s*", text) or int(text) < 1:
        raise OptionError(f"--max-terms must be a positive integer, got {text!r}")
    return int(text)


def emit(text: str, output: str | None) -> None:
    from .files import write_atomic, write_stdout

    if output is not None:
        write_atomic(output, text)
    elif text:
        write_stdout(text)


def parse_count(text: str, option: str) -> int:
    if not re.fullmatch(r"\s*[0-9]{1,6}\s*", str(text)) or int(text) < 1:
        raise OptionError(f"{option} must be a positive integer, got {text!r}")
    return int(text)



PASS = typer.Option(None, "--pass", metavar="PASS", help="forward, grad-kernel or grad-input (conv); routing (pool).")

FRAMES = typer.Option(None, "--frames", metavar="N", help="At most N frames (the first N steps).  [default: 36]")

ANIMATION_OUTPUT = typer.Option(..., "-o", "--output", metavar="FILE", help="FILE.gif, FILE.svg or FILE.png (written atomically).")


SETTINGS = {"help_option_names": ["-h", "--help"]}


def sub_app(help: str) -> typer.Typer:
    """A command group (`symgrad animate ...`, `symgrad template ...`) with the root's settings."""
    return typer.Typer(cls=Group, add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False,
                       context_settings=SETTINGS, help=help)
