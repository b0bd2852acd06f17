"""The LaTeX renderer: a standalone article (or, with fragment, the body only) that pdflatex compiles.

Needs only amsmath, amssymb and graphicx (texlive-latex-base). Long sums are broken into aligned rows
(`align*`, with `\\allowdisplaybreaks` so they may cross pages); a matrix wider than the line is
scaled down to fit it.
"""

from __future__ import annotations

from .compose import build
from .document import DocumentSettings
from .tex import FRAGMENT_ROW_WIDTH, ROW_WIDTH, latex_text
from .texlayout import aligned, tex_blocks

PACKAGES = r"\usepackage{amsmath,amssymb,graphicx}"

# \symgradfit{math}: typeset display math at its natural width, or scaled to the line if wider.
MACROS = r"""\makeatletter
\@ifundefined{symgradbox}{\newsavebox{\symgradbox}}{}
\makeatother
\providecommand{\symgradfit}[1]{\sbox{\symgradbox}{$\displaystyle #1$}%
  \ifdim\wd\symgradbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\symgradbox}}\else\usebox{\symgradbox}\fi}"""


def render_latex(d, settings: DocumentSettings | None = None, fragment: bool = False) -> str:
    doc = build(d, settings or DocumentSettings.choose(d))
    items, max_cols = tex_blocks(doc, FRAGMENT_ROW_WIDTH if fragment else ROW_WIDTH)
    title = latex_text(doc.title_text)
    setup = [MACROS, rf"\setcounter{{MaxMatrixCols}}{{{max_cols}}}"]
    if fragment:
        head = [
            f"% {title}",
            f"% symgrad LaTeX fragment: needs {PACKAGES} in the preamble; long derivations may break across",
            "% pages (\\allowdisplaybreaks, kept inside this fragment's group).",
        ]
        return "\n".join(head + setup + ["", r"\begingroup\allowdisplaybreaks", ""] + _body(items) + [r"\endgroup"]) + "\n"
    preamble = [
        r"\documentclass[11pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        PACKAGES,
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{4pt}",
        *setup,
        r"\begin{document}",
        rf"\section*{{{title}}}",
    ]
    return "\n".join(preamble + [""] + _body(items) + [r"\end{document}"]) + "\n"


def _inline(parts) -> str:
    return "".join(latex_text(text) if kind == "text" else f"${text}$" for kind, text in parts)


def _body(items: list[tuple]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item[0] == "heading":
            command = {1: "section", 2: "subsection"}.get(item[2], "subsubsection")
            out += [rf"\{command}*{{{_inline(item[1])}}}", ""]
        elif item[0] == "para":
            text = _inline(item[1])
            out += [r"{\small " + text + "}" if item[2] else text, ""]
        elif item[0] == "figure":
            out += [r"\begin{center}", rf"\includegraphics[width=\linewidth]{{{item[1]}}}\\", r"{\small " + latex_text(item[2]) + "}",
                    r"\end{center}", ""]
        elif item[0] == "align":
            out += [r"\begin{align*}", aligned(item[1]), r"\end{align*}", ""]
        else:
            out += [r"\[ \symgradfit{" + item[1] + r"} \]", ""]
    return out
