"""The Markdown renderer: MyST / Jupyter Book, with a heading per section and `$$` display math.

The math is the LaTeX renderer's (see render/document.py); MathJax and KaTeX both read it.
"""

from __future__ import annotations

import re

from ..errors import printable
from .compose import build
from .document import DocumentSettings
from .texlayout import aligned, tex_blocks

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


# A page's frontmatter: MyST (mystmd, Jupyter Book 2) numbers every $$ display unless told not to.
FRONTMATTER = ["---", "numbering:", "  equation: false", "---", ""]


# A notebook display longer than this many lines folds its sections (all but the first) away
FOLD_LINES = 150


def render_markdown(d, settings: DocumentSettings | None = None, page: bool = True) -> str:
    """MyST Markdown. page=False is a notebook's Markdown display: no frontmatter, and when it is long,
    each top-level section is an HTML `<details>` the reader opens (the first one open)."""
    doc = build(d, settings)
    items, _ = tex_blocks(doc)
    # the page title is the one "#": a network's parts (level 1) go one level below it
    shift = 1 if any(item[0] == "heading" and item[2] == 1 for item in items) else 0
    body = _body(items, shift)
    if not page and "\n".join(body).count("\n") > FOLD_LINES:
        body = _folded(items, shift)
    return "\n".join((FRONTMATTER if page else []) + [f"# {markdown_text(doc.title_text)}", ""] + body)


def _folded(items: list[tuple], shift: int) -> list[str]:
    """The body with each top-level section in `<details>`: its heading is the summary (math in `$...$`,
    which Jupyter typesets there too); blank lines around the content keep it Markdown."""
    top = min(item[2] for item in items if item[0] == "heading")
    out: list[str] = []
    sections: list[list[tuple]] = [[]]
    for item in items:
        if item[0] == "heading" and item[2] == top:
            sections.append([])
        sections[-1].append(item)
    out += _body(sections[0], shift)
    for number, section in enumerate(sections[1:]):
        out += ["<details open>" if number == 0 else "<details>",
                f"<summary><strong>{_inline(section[0][1])}</strong></summary>", ""]
        out += _body(section[1:], shift) + ["</details>", ""]
    return out


def _inline(parts) -> str:
    return "".join(markdown_text(text) if kind == "text" else f"${text}$" for kind, text in parts)


def _body(items: list[tuple], shift: int = 0) -> list[str]:
    out: list[str] = []
    for item in items:
        if item[0] == "heading":
            out += [f"{'#' * (item[2] + shift)} {_inline(item[1])}", ""]
        elif item[0] == "para":
            text = _inline(item[1])
            out += [f"*{text}*" if item[2] else text, ""]
        elif item[0] == "figure":
            out += [f"```{{figure}} {item[1]}", f":alt: {markdown_text(item[2])}", ":width: 100%", "", markdown_text(item[2]), "```", ""]
        elif item[0] == "align":
            out += ["$$", r"\begin{aligned}", aligned(item[1]), r"\end{aligned}", "$$", ""]
        else:
            out += ["$$", item[1], "$$", ""]
    return out
