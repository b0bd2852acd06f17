"""The terminal renderer (rich): the document model in unicode, laid out for the console's width.

Sums are wrapped between terms with a hanging indent, prose between words, and matrices are windowed
(middle rows and columns elided with ⋮ and ⋯) to fit; with values, the numbers stand beside the symbols.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.text import Text

from .common import gap_at, keep_columns
from .compose import build
from .document import DocumentSettings, Equation, Grid, Heading, Matrix, Para, Statement
from .notation import TEXT


@dataclass(frozen=True)
class TextSettings:
    show: frozenset[str] | None = None  # None: every section
    full: bool = False
    delta: bool = False  # --notation delta


class TerminalView:
    """A rich renderable for a derivation; lays itself out for the console's width."""

    def __init__(self, derivation, settings: TextSettings | None = None):
        self.d = derivation
        self.settings = settings or TextSettings()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        settings = DocumentSettings.choose(self.d, self.settings.show, self.settings.full, budget=0)
        if self.settings.delta:
            from dataclasses import replace

            settings = replace(settings, delta=True)
        yield Group(*lay_out(build(self.d, settings, TEXT), max(40, options.max_width)))


def render_rich(derivation, settings: TextSettings | None = None) -> TerminalView:
    return TerminalView(derivation, settings)


class EntryView:
    """One entry of a layer (--entry): its equation and the grids of the cells involved, marks coloured."""

    def __init__(self, derivation, symbol: int, full: bool = False):
        self.d, self.symbol, self.full = derivation, symbol, full

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from .entry import entry_document

        lines = lay_out(entry_document(self.d, self.symbol, self.full, TEXT), max(40, options.max_width))
        for line in lines:
            line.highlight_regex(r"◆[^\s⎤⎥⎦\]]+", "bold magenta")
            line.highlight_regex(r"●[^\s⎤⎥⎦\]]*", "bold yellow")
        yield Group(*lines)


def lay_out(doc, width: int) -> list[Text]:
    out = [Text(piece, style="bold") for piece in wrap_words("symgrad " + " · ".join(doc.title), width)]
    for block in doc.blocks:
        indent = "  " * (1 + getattr(block, "level", 0))
        if isinstance(block, Heading):
            text = _plain(block.parts)
            if block.level == 1:  # a part of a network's story
                out += [Text(""), Text(text.upper(), style="bold magenta"), Text("═" * min(width, len(text)), style="magenta")]
            elif block.level == 3:  # a stage's section
                out += [Text(""), Text("  " + text, style="cyan")]
            else:
                out += [Text(""), Text(text, style="bold cyan")]
        elif isinstance(block, Para):
            out += [Text(indent + piece, style="dim" if block.small else "") for piece in wrap_words(_plain(block.parts), width - len(indent))]
        elif isinstance(block, Equation):
            out += [Text(line) for line in _equation(block, width)]
        elif isinstance(block, Statement):
            mark, style = ("✓", "bold green") if block.holds else ("✗", "bold red")
            lines = wrap_words(block.math, width - 4)  # a long statement wraps under itself, not to column 0
            out.append(Text.assemble(("  " + mark + " ", style), (lines[0], "bold")))
            out += [Text("    " + line, style="bold") for line in lines[1:]]
        elif isinstance(block, Matrix):
            room = width - len(indent) - 2
            if block.tag:  # a long tag wraps under itself, not back to column 0
                out += [Text(indent + piece) for piece in wrap_words(f"{block.tag} =", width - len(indent))]
            lines, columns = matrix_lines(block.grids[0], room, doc.full_matrices)
            for i, grid in enumerate(block.grids[1:]):
                op = block.ops[i] if i < len(block.ops) else "="
                other = matrix_lines(grid, room, doc.full_matrices, None if block.ops else columns)[0]
                lines = _beside(lines, other, room, op)
            out += [Text(indent + "  " + line) for line in lines]
    return out


def _plain(parts) -> str:
    return "".join(text for _, text in parts)


def _equation(block: Equation, width: int) -> list[str]:
    lines = []
    for i, row in enumerate(block.rows):
        head = f"  {block.lhs if i == 0 else ' ' * cell_len(block.lhs)} = "
        lines += wrap_terms(head, list(row), width)
    if block.why:
        lines[-1] += "   " + _plain(block.why)
    return lines


def wrap_words(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split(" "):
        if current and cell_len(current) + 1 + cell_len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return lines + [current]


def wrap_terms(head: str, terms: list[str], width: int) -> list[str]:
    """`head t1 + t2 - t3 ...` (terms carry their signs) in lines of at most `width`, breaking before a
    term, continued with a hanging indent."""
    indent = " " * min(cell_len(head), max(4, width // 3))
    lines, current = [], head + terms[0]
    for term in terms[1:]:
        if cell_len(current) + 1 + cell_len(term) > width:
            lines.append(current)
            current = indent + term
        else:
            current += " " + term
    return lines + [current]


def _beside(left: list[str], right: list[str], width: int, op: str = "=") -> list[str]:
    """Two matrices as `left = right` (or another operator) side by side, or one above the other when
    that is too wide."""
    lw = max(cell_len(line) for line in left)
    if lw + 3 + max(cell_len(line) for line in right) > width:
        return left + [op] + right
    middle = (len(left) - 1) // 2
    rows = max(len(left), len(right))
    left = left + [""] * (rows - len(left))
    right = right + [""] * (rows - len(right))
    return [(l + " " * (lw - cell_len(l))) + (f" {op} " if i == middle else "   ") + r for i, (l, r) in enumerate(zip(left, right))]


def matrix_lines(grid: Grid, width: int, full: bool, columns: list[int] | None = None) -> tuple[list[str], list[int]]:
    """A bracketed, column-aligned matrix; middle rows/columns elided (⋯ ⋮) to fit `width`.

    Returns the lines and the columns shown (pass `columns` to show the same ones of another matrix).
    Only the rows shown are turned into text: a large matrix costs no more than a small one.
    """
    keep_rows = grid.rows(full)
    shown = [r for r in keep_rows if r != -1]
    text = grid.text  # only the cells of the columns tried or shown are made

    def col_width(c: int) -> int:
        return max(cell_len(text(r, c)) for r in shown)

    if columns is None:
        columns = keep_columns(grid.block.shape[1], lambda c: col_width(c) + 2, width - 6, full)
    widths = {c: col_width(c) for c in columns}
    gap = gap_at(columns)
    lines = []
    for r in keep_rows:
        if r == -1:
            parts = ["⋮".center(widths[c]) for c in columns]
        else:
            parts = [" " * (widths[c] - cell_len(text(r, c))) + text(r, c) for c in columns]
        if gap is not None:
            parts = parts[:gap] + ["⋯"] + parts[gap:]
        lines.append("  ".join(parts))
    if len(lines) == 1:
        return ["[ " + lines[0] + " ]"], columns
    brackets = [("⎡", "⎤")] + [("⎢", "⎥")] * (len(lines) - 2) + [("⎣", "⎦")]
    return [f"{left} {body} {right}" for (left, right), body in zip(brackets, lines)], columns
