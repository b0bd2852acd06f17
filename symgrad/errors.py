"""Errors symgrad raises. Each message is one line: what was wrong, quoting the input, and what was expected."""


def printable(text: str) -> str:
    """`text` with control characters (newlines, escapes) written as \\u escapes, so a message stays one
    line and nothing from a file name or an answer reaches a terminal raw."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in str(text))


class OutputClosed(Exception):
    """Standard output was closed by the reader (`symgrad ... | head`): the run ends quietly with 0. Not an
    OSError, so that click does not catch it first and exit 1 (its EPIPE handling)."""


class SymgradError(Exception):
    """Base class: anything a user did wrong. The CLI turns it into one line and exit code 2."""

    exit_code = 2


class SpecError(SymgradError):
    """A layer option is malformed or inconsistent (sizes, stride, padding, channels...)."""


class TooLargeError(SymgradError):
    """The layer would produce a derivation too large to build; refused from an estimate, before allocating.

    The message is the problem, then what to do about it; a caller that knows better advice (cli's
    --full) replaces the advice and keeps the problem."""

    LAYER_ADVICE = "use a smaller layer or raise the limit with --max-terms"

    def __init__(self, problem: str, advice: str = ""):
        super().__init__(f"{problem}; {advice}" if advice else problem)
        self.problem, self.advice = problem, advice


class OptionError(SymgradError):
    """An output or naming option is unknown or malformed (format, --show, --names, --loss...)."""


class ValuesError(SymgradError):
    """A values file (or dict) is unreadable, malformed, or does not fit the layer."""


class OutputError(SymgradError):
    """The output file cannot be written."""


class AnswerFileError(SymgradError):
    """An answer file cannot be used: unreadable, malformed TOML, unknown keys, a bad problem."""


class AnswerError(SymgradError):
    """An answer cannot be read: bad syntax, an unknown name, or it is too large."""
