"""`check`'s text report (rich): per file, per tensor a ✓/✗ grid and the wrong entries explained, then a
summary table. It renders the report model of homework/report.py, like render/check.py's formats.
"""

from __future__ import annotations

from itertools import groupby

from rich.console import Group
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..errors import printable
from ..homework.report import EntryVerdict, FileReport, KeyReport, summary, title
from .check import SHOWN_TERMS, SHOWN_WRONG, GRID_LIMIT, _entry_line, _explanation


def file_text(r: FileReport, full: bool, width: int, colours: str | None = None) -> str:
    """One file's part of the text report `width` columns wide, what rich prints for _file_view(r, full):
    plain, as written to a file, or (`colours`: rich's colour system, "standard", "256", "truecolor") as
    on a terminal, escape codes and all. Line by line: see _line_text."""
    return "".join(_line_text(item, width, colours) for item in _file_lines(r, full))


_TEXTS: dict[tuple, str] = {}  # a _Once line's text, by (key, width, colours)


def _line_text(item, width: int, colours: str | None) -> str:
    """What rich prints for one line of a file's part. Rich lays a line out in about 0.1 ms, and a class's
    report has hundreds of thousands: so a repeated line (_Once) is printed once for all, and in plain
    text a line that fits the width is its own text (rich adds nothing then), an indented one too (its
    indent first); other lines are laid out by rich. The tests compare the two on whole reports and random
    lines."""
    if isinstance(item, _Once):
        key = (item.key, width, colours)
        found = _TEXTS.get(key)
        if found is None:
            if colours is None and item.key[0] == "line":
                found = _fits("".join(part for part, _ in item.key[1:]), width, 0)
            elif colours is None and item.key[0] == "indented":
                found = _fits(item.key[1], width, item.key[3])
            if found is None:
                found = _rich_text(item, width, colours)
            if len(_TEXTS) > 50_000:
                _TEXTS.clear()
            _TEXTS[key] = found
        return found
    if colours is None and isinstance(item, Text):
        lines = [_fits(line, width, 0) for line in item.plain.split("\n")]
        if None not in lines:
            return "".join(lines)
    return _rich_text(item, width, colours)


def _fits(text: str, width: int, indent: int) -> str | None:
    """`text` as one line indented by `indent`, when rich would print it so: it fits, it is printable,
    indented it has no space to trim at either end and takes some room (rich pads a wrapped paragraph's
    lines, and prints nothing for an indented text of no width), and a space at its end is not one rich
    trims (rich cuts trailing spaces when the text has more characters than the width, counting a
    combining accent as one)."""
    if not text:
        return "\n" if not indent else None
    if indent and (text[0] == " " or text[-1] == " "):
        return None
    if text[-1] == " " and indent + len(text) > width:
        return None
    if not text.isprintable():
        return None
    cells = len(text) if text.isascii() else _cell_len(text)
    if indent + cells > width or (indent and not cells):
        return None
    return " " * indent + text + "\n"


def _cell_len(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _rich_text(item, width: int, colours: str | None = None) -> str:
    """What rich prints for `item`: plain, or on a terminal of the `colours` system."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=colours, soft_wrap=False, force_terminal=colours is not None,
            legacy_windows=False).print(item)
    return buffer.getvalue()


def check_view(reports: list[FileReport], full: bool = False, files: bool = True):
    """A rich renderable: per file, per tensor a ✓/✗ grid and the wrong entries explained; a summary
    table when there are several files (files=False: the summary alone)."""
    parts = []
    for r in reports if files else ():
        parts.append(_file_view(r, full))
    if len(reports) > 1:
        parts += [_summary_table(reports), _summary_line(reports)]
    return Group(*parts)


_HEAD = (("file", "left"), ("student", "left"), ("score", "right"), ("result", "left"))
_RESULT = {"right": ("✓ right", "green"), "wrong": ("✗ wrong", "red")}


def _result(r: FileReport) -> tuple[str, str]:
    return _RESULT.get(r.status) or ("unusable" if r.error else "✗ has unreadable entries", "bold red")


def _summary_table(reports: list[FileReport]) -> Table:
    table = Table(title="Summary", title_justify="left", show_edge=False, pad_edge=False)
    for name, justify in _HEAD:
        table.add_column(name, justify=justify, overflow="fold")
    for r in reports:
        table.add_row(Text(printable(r.path)), Text(printable(r.student)), f"{r.score}/{r.max_score}", Text(*_result(r)))
    return table


def _summary_line(reports: list[FileReport]) -> Text:
    s = summary(reports, statistics=False)
    return Text(f"{s['right']} of {s['files']} files all right, {s['wrong']} with wrong entries, {s['unusable']} unusable, "
                f"{s['with_unreadable_entries']} with unreadable entries; {s['score']}/{s['max_score']} entries right in all")


def summary_text(reports: list[FileReport], width: int) -> str:
    """check_view(reports, files=False) as plain text `width` columns wide (as written to a file). Rich
    takes about a millisecond a row to lay a table out, in the one process that joins a class's report;
    so a table that fits the width (rich then gives every column its widest cell) is laid out here,
    line by line as rich does (the tests compare the two), and only a narrower one by rich."""
    from rich.cells import cell_len

    if len(reports) < 2:
        return _rich_text(check_view(reports, files=False), width)
    rows = [(printable(r.path), printable(r.student), f"{r.score}/{r.max_score}", _result(r)[0]) for r in reports]
    head = tuple(name for name, _ in _HEAD)
    widths = [max(map(cell_len, column)) for column in zip(head, *rows)]
    if sum(widths) + 3 * (len(widths) - 1) > width or not all(cell.isprintable() for row in rows for cell in row):
        return _rich_text(check_view(reports, files=False), width)

    def line(cells, bar: str) -> str:
        padded = [cell + " " * (w - cell_len(cell)) if justify == "left" else " " * (w - cell_len(cell)) + cell
                  for cell, w, (_, justify) in zip(cells, widths, _HEAD)]
        return f" {bar} ".join(padded) + "\n"

    rule = "╇".join("━" * (w + 1 + (0 < i < len(widths) - 1)) for i, w in enumerate(widths))
    total = sum(widths) + 3 * (len(widths) - 1)
    return ("Summary".ljust(total) + "\n" + line(head, "┃") + rule + "\n" + "".join(line(row, "│") for row in rows)
            + _rich_text(_summary_line(reports), width))


def _file_view(r: FileReport, full: bool) -> Group:
    return Group(*_file_lines(r, full))


def _file_lines(r: FileReport, full: bool) -> list:
    """A file's part of the report, one renderable a line (or a paragraph)."""
    head = Text()
    head.append(printable(r.path), style="bold")
    if r.student:
        head.append(f"  student {printable(r.student)}")
    if r.problem:
        head.append(f"  ({r.problem})", style="dim")
    lines = [head]
    if r.error:
        lines.append(Text(f"  unusable: {printable(r.error)}", style="bold red"))
        lines.append(Text(""))
        return lines
    for note in r.notes:
        lines.append(_line((f"  note: {note}", "yellow")))
    for k in r.keys:
        lines += _key_view(k, full)
    verdict = "all right" if r.status == "right" else "some entries wrong" if r.status == "wrong" else "some entries unreadable"
    lines.append(_line((f"  score {r.score}/{r.max_score}: {verdict}", "green" if r.status == "right" else "red")))
    lines.append(_line(("", "")))
    return lines


def _key_view(k: KeyReport, full: bool) -> list:
    shape = [n for n in k.shape[:-2] if n > 1] + list(k.shape[-2:]) if len(k.shape) > 1 else list(k.shape)
    head = (f"  {title(k.key)} ({k.key}, {'x'.join(map(str, shape))}): ", "bold")
    if k.error:
        return [_line(head, (f"unreadable: {k.error}", "bold red"))]
    if k.score == k.max_score:
        return [_line(head, (f"✓ all {k.max_score} right", "green"))]
    out = [_line(head, (f"{k.score}/{k.max_score} right", "red"))]
    out += _grid(k)
    shared = k.note_names_the_slip
    if k.note:  # said first: a slip every wrong entry shares is not repeated entry by entry
        out.append(_indented(f"note: {k.note}", "yellow", 4))
    unanswered = [v.name for v in k.verdicts if v.status == "unanswered"]
    if unanswered:
        listed = unanswered if full or len(unanswered) <= 8 else unanswered[:6] + ["..."] + unanswered[-1:]
        out.append(_indented(f"· no answer ({len(unanswered)}): {', '.join(listed)}", "red", 4))
    wrong = [v for v in k.verdicts if v.status not in ("right", "unanswered")]
    shown = wrong if full else wrong[:SHOWN_WRONG]
    for v in shown:
        out += _entry_view(v, full, shared)
    if len(shown) < len(wrong):
        out.append(_line((f"    ... and {len(wrong) - len(shown)} more wrong entries (--full shows all)", "dim")))
    return out


def _entry_view(v: EntryVerdict, full: bool, shared: bool = False) -> list:
    """A wrong entry: its name, then what is missing, what is extra and the slip (unless the tensor's note
    already says every wrong entry shows it), each on its own (wrapped, indented) line."""

    if v.status != "wrong":
        return [_indented(_entry_line(v), "red", 4)]
    out = [_indented(f"✗ {v.name}", "red", 4)]
    for kind, text in _explanation(v, None if full else SHOWN_TERMS):
        if kind == "slips" and shared:
            continue
        out.append(_indented(text, "yellow" if kind == "slips" else "", 6))
    if v.answer and (full or len(v.answer) <= 300) and not v.message.startswith("expected "):
        out.append(_indented(f"your answer: {printable(v.answer)}", "dim", 6))
    return out


class _Once:
    """A renderable laid out once for every identical one (the same key, the same width): a class's report
    repeats the same lines file after file (`✓ all 25 right`, a shared slip's explanation), and rich's
    layout is what a report costs. `make()` builds the renderable the key describes."""

    _laid_out: dict[tuple, list] = {}

    def __init__(self, key: tuple, make):
        self.key, self.make = key, make

    def __rich_console__(self, console, options):
        key = (self.key, options.max_width, options.no_wrap, options.overflow, options.justify)
        segments = self._laid_out.get(key)
        if segments is None:
            segments = list(console.render(self.make(), options))
            if len(self._laid_out) > 50_000:
                self._laid_out.clear()
            self._laid_out[key] = segments
        yield from segments

    def __rich_measure__(self, console, options):
        return Measurement.get(console, options, self.make())


def _indented(text: str, style: str, indent: int) -> _Once:
    """A line wrapped and indented (rich's Padding of a Text), laid out once."""
    return _Once(("indented", text, style, indent), lambda: Padding(Text(text, style=style), (0, 0, 0, indent), expand=False))


def _line(*parts: tuple[str, str]) -> _Once:
    """A Text of (text, style) parts, laid out once."""

    def make() -> Text:
        text = Text()
        for part, style in parts:
            text.append(part, style=style)
        return text

    return _Once(("line",) + parts, make)


def _grid(k: KeyReport) -> list:
    """✓/✗ marks laid out like the tensor (each 2-D slice), when it is small enough."""
    spatial = k.shape[-2:] if len(k.shape) >= 2 else (1, k.shape[-1])
    if spatial[0] > GRID_LIMIT or spatial[1] > GRID_LIMIT or len(k.verdicts) > 4 * GRID_LIMIT * GRID_LIMIT:
        return []
    rows, cols = spatial
    grid = Text()  # one Text, the rows and slice labels on lines of their own
    per_slice = rows * cols
    for start in range(0, len(k.verdicts), per_slice):
        chunk = k.verdicts[start : start + per_slice]
        if len(k.verdicts) > per_slice:
            lead = chunk[0].index[:-2] if len(k.shape) >= 2 else ()
            grid.append(("\n" if grid else "") + f"    [{', '.join(str(i + 1) for i in lead)}]", style="dim")
        for r in range(rows):
            grid.append(("\n" if grid else "") + "    ")
            marks = [_MARKS.get(v.status, _MARKS["wrong"]) for v in chunk[r * cols : (r + 1) * cols]]
            for (mark, style), run in groupby(marks):  # a run of equal marks is one span: far fewer to lay out
                grid.append((mark + " ") * len(list(run)), style=style)
    return [grid]


_MARKS = {"right": ("✓", "green"), "unanswered": ("·", "dim"), "wrong": ("✗", "red")}
