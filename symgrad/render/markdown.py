"""The Markdown renderer: MyST / Jupyter Book, with a heading per section and `$$` display math.

The math is the LaTeX renderer's (see render/document.py); MathJax and KaTeX both read it.
"""

from __future__ import annotations

import re

from ..derivation import ConvDerivation
from ..errors import printable
from .document import Display, Document, DocumentSettings, Equations, Heading, Para, build

_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~&#!{}])")


def markdown_text(text: str) -> str:
    """Plain text for Markdown: characters with a meaning in MyST (emphasis, links, HTML, entities,
    math, roles, table cells, headings) are backslash-escaped; control characters and line breaks
    are written as \\u escapes, so text from a user stays inline text on its line."""
    return _SPECIAL.sub(r"\\\1", printable(text))


def markdown_code(text: str) -> str:
    """Text as an inline code span, fenced with more backticks than it contains (nothing inside a
    code span is interpreted); on one line, with | escaped for table cells."""
    flat = printable(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def render_markdown(d: ConvDerivation, settings: DocumentSettings | None = None) -> str:
    doc = build(d, settings)
    return "\n".join([f"# {markdown_text(doc.title)}", ""] + _body(doc))


def _inline(parts) -> str:
    return "".join(markdown_text(text) if kind == "text" else f"${text}$" for kind, text in parts)


def aligned(block: Equations) -> str:
    """An Equations block as the body of `aligned` (rows split by \\\\, a little space between equations)."""
    return " \\\\[3pt]\n".join(" \\\\\n".join(f"{left} &{right}" for left, right in eq) for eq in block.equations)


def _body(doc: Document) -> list[str]:
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += [f"## {_inline(block.parts)}", ""]
        elif isinstance(block, Para):
            text = _inline(block.parts)
            out += [f"*{text}*" if block.small else text, ""]
        elif isinstance(block, Equations):
            out += ["$$", r"\begin{aligned}", aligned(block), r"\end{aligned}", "$$", ""]
        elif isinstance(block, Display):
            out += ["$$", block.tex, "$$", ""]
    return out
