"""The blocks a document is made of (document.py builds them; the renderers lay them out): headings,
prose, equations of signed terms, identity statements, matrices of lazily made cells, figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

@dataclass(frozen=True)
class Heading:
    parts: tuple[tuple[str, str], ...]  # ("text", s) or ("math", s)
    level: int = 2  # 2: a section of a layer; a network has parts (1), stages (2) and their sections (3)


@dataclass(frozen=True)
class Para:
    parts: tuple[tuple[str, str], ...]
    small: bool = False  # a note: what was left out, how a step was done
    level: int = 0  # indentation in the terminal (1: under an identity)


@dataclass(frozen=True)
class Equation:
    """lhs = row 1, then each further row starting with '='; a row is signed terms ('x', '+ y', '− z')
    that a layout may break between. `why`: a remark after a single row (a zero entry's reason)."""

    lhs: str
    rows: tuple[tuple[str, ...], ...]
    why: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Statement:
    """A closed form, displayed, with its verdict mark (True ✓, False ✗)."""

    math: str
    holds: bool


@dataclass(frozen=True)
class Grid:
    """A 2-D block to print as a matrix: cells are made by `cell` (from symbol ids, or from the values
    themselves when literal), lazily, so a layout asks only for the cells it shows."""

    block: np.ndarray
    cell: Callable[[object], str]
    literal: bool = False
    _texts: dict = field(default_factory=dict, compare=False, repr=False)

    def text(self, r: int, c: int) -> str:
        """Cell (r, c) as text, made once."""
        if (r, c) not in self._texts:
            value = self.block[r, c]
            self._texts[r, c] = self.cell(value if self.literal else int(value))
        return self._texts[r, c]

    def rows(self, full: bool) -> list[int]:
        """The rows to show: all of them, or the first and last five with -1 where the rest are elided."""
        count = self.block.shape[0]
        return list(range(count)) if full or count <= 12 else list(range(5)) + [-1] + list(range(count - 5, count))


@dataclass(frozen=True)
class Matrix:
    """`tag = grid = grid ...` (the numbers beside the symbols); `tag` may be empty."""

    tag: str
    grids: tuple[Grid, ...]
    level: int = 0
    ops: tuple[str, ...] = ()  # between the grids (default "="): a matrix equation like X ⋆ G


@dataclass(frozen=True)
class Figure:
    """A picture of one pass (--figures): the file it is in, and what it shows."""

    path: str
    caption: str


@dataclass(frozen=True)
class Document:
    title: tuple[str, ...]  # the layer in a few parts: "conv", "input 5x5", ...
    blocks: tuple
    full_matrices: bool

    @property
    def title_text(self) -> str:
        """`symgrad conv: input 5x5, kernel 3x3, ...` (the terminal joins the parts with · instead)."""
        return f"symgrad {self.title[0]}: " + ", ".join(self.title[1:])
