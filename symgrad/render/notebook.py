"""A notebook's LaTeX display (`_repr_latex_`): the document as a run of `$$` display math.

Jupyter typesets text/latex output with MathJax, which reads math only; so headings become bold
`\\textbf`, prose becomes `\\text` lines (wrapped here, since MathJax does not wrap them), and the
equations are the same `aligned` blocks as the Markdown renderer's. Large layers are summarised.
"""

from __future__ import annotations

from .compose import build
from .document import DocumentSettings
from .texlayout import aligned, tex_blocks

NOTEBOOK_TERMS = 2_000  # show everything up to this many product terms, else the terminal's summary
LINE = 90  # characters of prose per line

_TEXT_ESCAPES = {"→": " to ", "\\": r"\backslash ", "{": r"\{", "}": r"\}", "$": r"\$", "_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&", "^": r"\hat{}", "~": r"\sim "}


def render_notebook_latex(d) -> str:
    doc = build(d, DocumentSettings.choose(d, budget=NOTEBOOK_TERMS))
    items, _ = tex_blocks(doc)
    out = [_display(_line([("text", doc.title_text)], bold=True)), ""]
    for item in items:
        if item[0] == "heading":
            out.append(_display(_line(item[1], bold=True)))
        elif item[0] == "para":
            lines = [_line(parts) for parts in _wrap(item[1])]
            out.append(_display(r"\begin{array}{l} " + r" \\ ".join(lines) + r" \end{array}"))
        elif item[0] == "align":
            out.append(_display(r"\begin{aligned}" + "\n" + aligned(item[1]) + "\n" + r"\end{aligned}"))
        else:
            out.append(_display(item[1]))
        out.append("")
    return "\n".join(out)


def _display(tex: str) -> str:
    return f"$$\n{tex}\n$$"


def text_in_math(text: str) -> str:
    """Plain text for \\text{...} inside math: TeX's special characters escaped."""
    return "".join(_TEXT_ESCAPES.get(ch, ch) for ch in text)


def _line(parts, bold: bool = False) -> str:
    macro = r"\textbf" if bold else r"\text"
    return " ".join(f"{macro}{{{text_in_math(text)}}}" if kind == "text" else text for kind, text in parts if text)


def _wrap(parts) -> list[list[tuple[str, str]]]:
    """Split prose into lines of about LINE characters, breaking text at spaces, never inside math."""
    lines, current, used = [], [], 0
    for kind, text in parts:
        if kind == "math":
            current.append((kind, text))
            used += len(text) // 4 + 1
            continue
        words = text.split(" ")
        piece = ""
        for i, word in enumerate(words):
            sep = " " if i else ""
            if used + len(piece) + len(sep) + len(word) > LINE and (piece or current):
                current.append(("text", piece))
                lines.append(current)
                current, used, piece, sep = [], 0, "", ""
            piece += sep + word
        current.append(("text", piece))
        used += len(piece)
    if current:
        lines.append(current)
    return lines
