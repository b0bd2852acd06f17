"""The LaTeX renderer: a standalone article (or, with fragment, the body only) that pdflatex compiles.

Needs only amsmath, amssymb and graphicx (texlive-latex-base). Long sums are broken into aligned rows
(`align*`, with `\\allowdisplaybreaks` so they may cross pages); a matrix wider than the line is
scaled down to fit it.
"""

from __future__ import annotations

import dataclasses

from ..derivation import ConvDerivation
from .document import FRAGMENT_ROW_WIDTH, Display, Document, DocumentSettings, Equations, Heading, Para, build, latex_text

PACKAGES = r"\usepackage{amsmath,amssymb,graphicx}"

# \symgradfit{math}: typeset display math at its natural width, or scaled to the line if wider.
MACROS = r"""\makeatletter
\@ifundefined{symgradbox}{\newsavebox{\symgradbox}}{}
\makeatother
\providecommand{\symgradfit}[1]{\sbox{\symgradbox}{$\displaystyle #1$}%
  \ifdim\wd\symgradbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\symgradbox}}\else\usebox{\symgradbox}\fi}"""


def render_latex(d: ConvDerivation, settings: DocumentSettings | None = None, fragment: bool = False) -> str:
    settings = settings or DocumentSettings.choose(d)
    if fragment:
        settings = dataclasses.replace(settings, row_width=FRAGMENT_ROW_WIDTH)
    doc = build(d, settings)
    body = _body(doc)
    setup = [MACROS, rf"\setcounter{{MaxMatrixCols}}{{{max(10, doc.max_matrix_cols)}}}"]
    if fragment:
        head = [
            f"% {latex_text(doc.title)}",
            f"% symgrad LaTeX fragment: needs {PACKAGES} in the preamble (and \\allowdisplaybreaks for long derivations)",
        ]
        return "\n".join(head + setup + [""] + body) + "\n"
    preamble = [
        r"\documentclass[11pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        PACKAGES,
        r"\allowdisplaybreaks",
        r"\setlength{\parindent}{0pt}",
        r"\setlength{\parskip}{4pt}",
        *setup,
        r"\begin{document}",
        rf"\section*{{{latex_text(doc.title)}}}",
    ]
    return "\n".join(preamble + [""] + body + [r"\end{document}"]) + "\n"


def _inline(parts) -> str:
    return "".join(latex_text(text) if kind == "text" else f"${text}$" for kind, text in parts)


def _body(doc: Document) -> list[str]:
    out: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += [rf"\subsection*{{{_inline(block.parts)}}}", ""]
        elif isinstance(block, Para):
            text = _inline(block.parts)
            out += [r"{\small " + text + "}" if block.small else text, ""]
        elif isinstance(block, Equations):
            rows = " \\\\[3pt]\n".join(" \\\\\n".join(f"{left} &{right}" for left, right in eq) for eq in block.equations)
            out += [r"\begin{align*}", rows, r"\end{align*}", ""]
        elif isinstance(block, Display):
            out += [r"\[ \symgradfit{" + block.tex + r"} \]", ""]
    return out
