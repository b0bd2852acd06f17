"""Format dispatch: a derivation, or `check`'s reports, as the text of the format a user names.

The command line (and a script) names a format; this module picks its renderer and returns the text
to write. The terminal view is printed with rich: straight to the terminal (returning "") or, for a
file, as plain text at the width of $COLUMNS (default 100).

    >>> from symgrad import conv
    >>> text = render_layer(conv("3", "2"), "json", show=frozenset(), max_terms=1000)
    >>> text.startswith('{') and '"layer": "conv"' in text
    True
"""

from __future__ import annotations

import io
import os
import re

from ..errors import OptionError

LAYER_FORMATS = ("text", "json", "latex", "markdown")
CHECK_FORMATS = ("text", "json", "gradescope", "markdown")
NOTATIONS = ("partial", "delta")


def check_format(format: str, formats: tuple[str, ...], fragment: bool = False, *, entry: str | None = None,
                 figures: str | None = None, notation: str = "partial") -> None:
    """Refuse, before any work, a format that is not one of `formats`, and an option the format cannot
    take: --fragment without LaTeX, --entry without text, --figures without Markdown or LaTeX."""
    if format not in formats:
        raise OptionError(f"--format must be one of {', '.join(formats)}, got {format!r}")
    if fragment and format != "latex":
        raise OptionError(f"--fragment only applies to --format latex (got --format {format})")
    if entry is not None and format != "text":
        raise OptionError(f"--entry shows one entry in the terminal; it works with --format text, not {format}")
    if notation not in NOTATIONS:
        raise OptionError(f"--notation must be partial or delta, got {notation!r}")
    if figures is not None and format not in ("latex", "markdown"):
        raise OptionError(f"--figures puts pictures into a document: it works with --format markdown or latex, not {format}")


def render_entry(derivation, name: str, format: str, *, full: bool = False, to_file: bool = True) -> str:
    """`--entry NAME`: one entry's equation and the cells involved, in the terminal (text only: check_format)."""
    from .entry import find_entry
    from .terminal import EntryView

    return print_rich(EntryView(derivation, find_entry(derivation, name), full), to_file)


def write_figures(derivation, folder: str, format: str, show) -> tuple[str, str]:
    """--figures DIR: draw the kind's passes shown into DIR (GIF for Markdown, a PNG sheet for LaTeX);
    returns (folder, extension) for the document to embed them."""
    import os

    from ..files import write_atomic
    from .draw import render
    from .frames import animation

    if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", folder) or folder.startswith("-"):
        raise OptionError(f"--figures {folder!r}: expected a folder name of letters, digits, '.', '_', '-' and '/'")
    if derivation.spec.ndim > 2:
        raise OptionError("--figures draws 1-D and 2-D layers; this one has 3 axes")
    ext = "gif" if format == "markdown" else "png"
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise OptionError(f"--figures {folder!r} cannot be made: {error.strerror}") from None
    for section, pass_ in derivation.kind.figures:
        if show is None or section in show or section.replace("_", "-") in show:
            write_atomic(os.path.join(folder, f"{pass_}.{ext}"), render(animation(derivation, pass_), ext))
    return folder, ext


def render_layer(derivation, format: str, *, show, full: bool = False, fragment: bool = False, max_terms: int,
                 to_file: bool = True, figures: str | None = None, notation: str = "partial") -> str:
    """The derivation in `format` (one of LAYER_FORMATS): its text, or "" when the text view was printed
    straight to the terminal (to_file=False). `show` is the set of sections to show; `max_terms` bounds
    the JSON (which has no summary); `fragment` gives LaTeX without its preamble."""
    if format == "json":
        from .json import check_size, render_json

        check_size(derivation, max_terms)
        return render_json(derivation)
    if format in ("latex", "markdown"):
        from .document import DocumentSettings

        settings = DocumentSettings.choose(derivation, show, full)
        if notation == "delta":
            from dataclasses import replace

            settings = replace(settings, delta=True)
        if figures is not None:
            from dataclasses import replace

            settings = replace(settings, figures=write_figures(derivation, figures, format, show))
        if format == "latex":
            from .latex import render_latex

            return render_latex(derivation, settings, fragment=fragment)
        from .markdown import render_markdown

        return render_markdown(derivation, settings)
    if format == "text":
        from .terminal import TerminalView, TextSettings

        return print_rich(TerminalView(derivation, TextSettings(show=show, full=full, delta=notation == "delta")), to_file)
    raise ValueError(f"unknown format {format!r}; expected one of {', '.join(LAYER_FORMATS)}")


def render_check(reports, format: str, *, tolerance: float, full: bool = False, to_file: bool = True, parts=None,
                 width: int | None = None) -> str | list[bytes]:
    """`check`'s reports in `format` (one of CHECK_FORMATS): the text, or "" when the text view was
    printed straight to the terminal (to_file=False). `parts`: each file's part, laid out already by
    file_part(format, full, width, colours) (text: as a file has it, or in the terminal's colours when
    to_file=False; width: default columns()); JSON's parts are
    UTF-8, and the report is then its UTF-8 pieces (emit and files.write_atomic write them in turn)."""
    from . import check

    if format == "json":
        return check.render_check_json(reports, tolerance, parts)
    if format == "gradescope":
        return check.render_gradescope(reports)
    if format == "markdown":
        return check.render_check_markdown(reports, full, parts)
    from . import check_text  # (only the text view loads rich)

    if format == "text" and parts is not None and to_file:
        return "".join(parts) + check_text.summary_text(reports, width or columns())
    if format == "text" and parts is not None:  # a terminal's: the files' parts in its colours, then the summary
        from ..files import write_stdout

        write_stdout("".join(parts))
        return print_rich(check_text.check_view(reports, full, files=False), False)
    if format == "text":
        return print_rich(check_text.check_view(reports, full), to_file)
    raise ValueError(f"unknown format {format!r}; expected one of {', '.join(CHECK_FORMATS)}")


def file_part(format: str, full: bool, width: int, colours: str | None = None):
    """What lays out one file's part of a `format` report (text: as written to a file, `width` columns;
    or as rich prints it on a terminal of rich's `colours` system, see stdout_layout), to run where the
    file is judged (`check --jobs`: on every core); render_check then joins the parts. None for a format
    not laid out file by file (gradescope)."""
    from functools import partial

    if format == "json":
        from .check import file_json_utf8

        return file_json_utf8
    if format == "markdown":
        from .check import file_markdown

        return partial(file_markdown, full=full)
    if format == "text":  # (only the text view loads rich)
        from .check_text import file_text

        return partial(file_text, full=full, width=width, colours=colours)
    return None


def print_rich(view, to_file: bool, width: int | None = None) -> str:
    """Print a rich renderable to the terminal (returning ""), or return it as plain text for a file
    (`width` columns; default columns())."""
    from rich.console import Console

    if to_file:
        buffer = io.StringIO()
        Console(file=buffer, width=width or columns(), color_system=None, soft_wrap=False).print(view)
        return buffer.getvalue()
    from ..errors import OutputClosed
    from ..files import silence_stdout, stdout_errors

    def closed() -> None:  # rich would exit 1 on a closed pipe; symgrad goes on to its own exit code
        raise OutputClosed()

    try:
        with stdout_errors():
            console = Console(soft_wrap=False)
            console.on_broken_pipe = closed
            console.print(view)
            console.file.flush()
    except OutputClosed:
        silence_stdout()
    return ""


def stdout_layout() -> tuple[int, str | None] | None:
    """(width, colour system) of the text rich prints on standard output: no colours (None) on a pipe
    or a file (`check ... > report.txt`), the terminal's otherwise. Every core can then lay a file's
    part out exactly as rich would print it there (file_part). None where rich does more than print
    (a notebook, a legacy Windows console): the parent prints the report itself."""
    from rich.console import Console

    console = Console(soft_wrap=False)
    if console.is_jupyter or console.legacy_windows or (console.color_system is not None and not console.is_terminal):
        return None
    return console.width, console.color_system


def columns() -> int:
    """The width of text written to a file: $COLUMNS when it is a plain number, else 100."""
    value = os.environ.get("COLUMNS", "")
    return int(value) if re.fullmatch("[0-9]{1,4}", value) and int(value) > 0 else 100
