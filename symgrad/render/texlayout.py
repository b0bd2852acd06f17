"""The document model laid out as TeX, shared by the LaTeX, Markdown and notebook renderers: sums
broken into aligned rows that fit the line, consecutive equations grouped into one aligned display,
matrices as bmatrix windowed to the page, identities displayed with their ✓.
"""

from __future__ import annotations

from .common import gap_at, keep_columns
from .document import Document, Equation, Figure, Grid, Heading, Matrix, Para, Statement
from .tex import MATRIX_WIDTH, ROW_WIDTH, break_rows, tex_width

# Consecutive equations share one aligned display of at most this many rows.
GROUP_ROWS = 24


def tex_blocks(doc: Document, row_width: float = ROW_WIDTH) -> tuple[list[tuple], int]:
    """("heading", parts) / ("para", parts, small) / ("align", equations) / ("display", tex) items, and
    the most columns of any matrix (for \\setcounter{MaxMatrixCols})."""
    out: list[tuple] = []
    max_cols = 10
    for block in doc.blocks:
        if isinstance(block, Heading):
            out.append(("heading", block.parts, block.level))
        elif isinstance(block, Para):
            out.append(("para", block.parts, block.small))
        elif isinstance(block, Equation):
            rows = equation_rows(block, row_width)
            last = out[-1] if out else None
            if last is not None and last[0] == "align" and sum(len(e) for e in last[1]) + len(rows) <= GROUP_ROWS:
                out[-1] = ("align", last[1] + [rows])
            else:
                out.append(("align", [rows]))
        elif isinstance(block, Figure):
            out.append(("figure", block.path, block.caption))
        elif isinstance(block, Statement):
            out.append(("display", block.math + (r" \qquad \checkmark" if block.holds else r" \qquad \times")))
        elif isinstance(block, Matrix):
            shown, columns = [], None
            for grid in block.grids:
                tex, columns = bmatrix(grid, doc.full_matrices, None if block.ops else columns)  # an equation's matrices differ
                shown.append(tex)
                max_cols = max(max_cols, len(columns) + (1 if gap_at(columns) is not None else 0))
            joined = shown[0]
            for i, tex in enumerate(shown[1:]):
                joined += f" {block.ops[i] if i < len(block.ops) else '='} {tex}"
            out.append(("display", " = ".join(([block.tag] if block.tag else []) + [joined])))
    return out, max_cols


def equation_rows(block: Equation, width: float) -> list[tuple[str, str]]:
    """lhs = the first row, each further row starting with '=' in the same aligned column."""
    rows: list[tuple[str, str]] = []
    for i, terms in enumerate(block.rows):
        rows.extend(break_rows(block.lhs if i == 0 else "", list(terms), width=width - (0 if i == 0 else tex_width(block.lhs))))
    if block.why:
        why = "".join(rf"\text{{{text}}}" if kind == "text" else text for kind, text in block.why)
        rows[-1] = (rows[-1][0], rows[-1][1] + r" \qquad " + why)
    return rows


def aligned(equations: list[list[tuple[str, str]]]) -> str:
    """Equations as the body of `align*`/`aligned` (rows split by \\\\, a little space between equations)."""
    return " \\\\[3pt]\n".join(" \\\\\n".join(f"{left} &{right}" for left, right in eq) for eq in equations)


def bmatrix(grid: Grid, full: bool, columns: list[int] | None = None) -> tuple[str, list[int]]:
    """A bmatrix, rows and columns elided to fit unless full; returns it and the columns shown."""
    keep_rows = grid.rows(full)
    shown = [r for r in keep_rows if r != -1]
    text = grid.text  # only the cells of the columns tried or shown are made
    if columns is None:
        columns = keep_columns(grid.block.shape[1], lambda c: max(tex_width(text(r, c)) for r in shown) + 1.5, MATRIX_WIDTH - 2, full)
    gap = gap_at(columns)
    lines = []
    for r in keep_rows:
        row = [r"\vdots"] * len(columns) if r == -1 else [text(r, c) for c in columns]
        if gap is not None:
            row = row[:gap] + [r"\ddots" if r == -1 else r"\cdots"] + row[gap:]
        lines.append(" & ".join(row))
    # a matrix of fractions (∂L/∂z cells) gets room between its rows, so subscripts do not touch the row below
    separator = r" \\[6pt] " if any(r"\frac" in line for line in lines) else r" \\ "
    return r"\begin{bmatrix} " + separator.join(lines) + r" \end{bmatrix}", columns
