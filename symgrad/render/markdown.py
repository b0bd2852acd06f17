"""The Markdown renderer: MyST / Jupyter Book, with a heading per section and `$$` display math.

The math is the LaTeX renderer's (see render/document.py); MathJax and KaTeX both read it.
"""

from __future__ import annotations

import re

from ..derivation import ConvDerivation
from .document import Display, Document, DocumentSettings, Equations, Heading, Para, build

_SPECIAL = re.compile(r"([\\`*_\[\]<>|$~])")


def markdown_text(text: str) -> str:
    """Plain text for Markdown: characters with a meaning in MyST are backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", text)


def render_markdown(d: ConvDerivation, settings: DocumentSettings | None = None) -> str:
    doc = build(d, settings)
    return "\n".join([f"# {markdown_text(doc.title)}", ""] + _body(doc))


# A notebook's LaTeX display (`_repr_latex_`): the same blocks, headings set in bold math, prose plain.
NOTEBOOK_TERMS = 2_000


def render_notebook_latex(d: ConvDerivation) -> str:
    doc = build(d, DocumentSettings.choose(d, budget=NOTEBOOK_TERMS))
    return "\n".join([_bold(doc.title), ""] + _body(doc, notebook=True))


def _bold(text: str) -> str:
    return r"$$\textbf{" + _math_text(text) + "}$$"


def _math_text(text: str) -> str:
    """Text inside \\text{} / \\textbf{} in MathJax: braces, backslashes and dollars escaped."""
    return "".join({"\\": r"\backslash ", "{": r"\{", "}": r"\}", "$": r"\$", "_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&"}.get(c, c) for c in text)


def _inline(parts, notebook: bool = False) -> str:
    plain = _plain if notebook else markdown_text
    return "".join(plain(text) if kind == "text" else f"${text}$" for kind, text in parts)


def _plain(text: str) -> str:
    return text.replace("$", r"\$")


def _body(doc: Document, notebook: bool = False) -> list[str]:
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            if notebook:
                math = "".join(_math_text(t) if k == "text" else "$" + t + "$" for k, t in block.parts)
                out += [r"$$\textbf{" + math + "}$$", ""]
            else:
                out += [f"## {_inline(block.parts)}", ""]
        elif isinstance(block, Para):
            text = _inline(block.parts, notebook)
            out += [f"*{text}*" if block.small and not notebook else text, ""]
        elif isinstance(block, Equations):
            rows = " \\\\[3pt]\n".join(" \\\\\n".join(f"{left} &{right}" for left, right in eq) for eq in block.equations)
            out += ["$$", r"\begin{aligned}", rows, r"\end{aligned}", "$$", ""]
        elif isinstance(block, Display):
            out += ["$$", block.tex, "$$", ""]
    return out
