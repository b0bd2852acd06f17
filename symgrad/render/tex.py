"""TeX leaves: plain text escaped for LaTeX, numbers in math, and sums broken into rows that fit.

`tex_width` estimates the printed width of math so that long sums are broken between terms (used by
the LaTeX, Markdown and notebook layouts of the one document model).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .common import Style

# Budget for a display row, in the units of `tex_width` (about one digit of 11pt math each).
ROW_WIDTH = 80  # digits on a line of the 2 cm-margin, 11 pt article (about 87 fit; a nine-term conv sum is 75)
# A fragment goes into someone else's document: assume the standard article's narrower text block.
FRAGMENT_ROW_WIDTH = 52
# Matrices are windowed to about this width (unless full); wider ones are scaled to the line.
MATRIX_WIDTH = 70


LATEX_TEXT = {
    "\\": r"\textbackslash{}", "-": "-{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    "−": "$-$", "·": r"$\cdot$", "…": r"\dots{}", "×": r"$\times$", "→": r"$\to$", "✓": r"$\checkmark$",
    "✗": r"$\times$", "Σ": r"$\Sigma$", "∂": r"$\partial$", "½": r"$\frac12$", "²": r"$^2$", "⌊": r"$\lfloor$", "⌋": r"$\rfloor$",
    "δ": r"$\delta$", "α": r"$\alpha$", "θ": r"$\theta$", "σ": r"$\sigma$", "ᵀ": r"$^{\top}$", "∞": r"$\infty$",
}


def latex_text(text: str) -> str:
    """Plain text for LaTeX: special characters escaped; other non-ASCII characters replaced by '?'."""
    return "".join(LATEX_TEXT.get(ch, ch if ch.isascii() and (ch.isprintable() or ch == " ") else "?") for ch in text)


def tex_width(tex: str) -> float:
    """A rough printed width of math, in digits: fractions count their wider part, subscripts 0.7.

    Built for the math this package writes (fractions whose parts hold no fractions): a few regular
    expressions, so that breaking thousands of long sums stays fast.
    """
    total = 0.0

    def fraction(match: re.Match) -> str:
        nonlocal total
        scale = 0.75 if match[1] else 1.0
        total += scale * max(_flat_width(match[2]), _flat_width(match[3])) + 0.4
        return " "

    rest = _FRACTION.sub(fraction, tex)
    return total + _flat_width(rest)


_FRACTION = re.compile(r"\\(t?)frac\{((?:[^{}]|\{[^{}]*\})*)\}\{((?:[^{}]|\{[^{}]*\})*)\}")
_SCRIPT = re.compile(r"[_^](?:\{([^{}]*)\}|(\\[A-Za-z]+|.))")
_COMMAND = re.compile(r"\\[A-Za-z]+|\\.")
_WIDE = {r"\cdot": 1.2, r"\partial": 1.0, r"\quad": 2.0, r"\qquad": 4.0, r"\left": 0.0, r"\right": 0.0, r"\,": 0.3, r"\;": 0.5}
_CHAR = {"+": 2.0, "-": 2.0, "=": 2.0, ",": 1.4, "{": 0.0, "}": 0.0, " ": 0.4}


@lru_cache(maxsize=1 << 16)
def _flat_width(tex: str) -> float:
    scripts = 0.0

    def script(match: re.Match) -> str:
        nonlocal scripts
        scripts += 0.7 * _plain_width(match[1] if match[1] is not None else match[2])
        return ""

    rest = _SCRIPT.sub(script, tex)
    return scripts + _plain_width(rest)


def _plain_width(tex: str) -> float:
    width = 0.0

    def command(match: re.Match) -> str:
        nonlocal width
        width += _WIDE.get(match[0], 1.2)
        return ""

    rest = _COMMAND.sub(command, tex)
    return width + sum(_CHAR.get(ch, 1.0) for ch in rest)


def break_rows(lhs: str, terms: list[str], relation: str = "=", width: float = ROW_WIDTH) -> list[tuple[str, str]]:
    """`lhs = t1 t2 ...` as aligned rows of at most `width`, breaking between terms."""
    room = max(20.0, width - tex_width(lhs))
    rows, current, used = [], f"{relation} {terms[0]}", tex_width(terms[0]) + 2
    for term in terms[1:]:
        w = tex_width(term) + 1
        if used + w > room:
            rows.append(current)
            current, used = rf"\quad {term}", 4 + w
        else:
            current, used = f"{current} {term}", used + w
    rows.append(current)
    return [(lhs if i == 0 else "", row) for i, row in enumerate(rows)]


def tex_number(x) -> str:
    from ..values import format_number

    if isinstance(x, np.integer):
        x = int(x)
    elif isinstance(x, np.floating):
        x = float(x)
    return format_number(x, "latex")


TEX = Style(number=tex_number, times=" ", times_numbers=r" \cdot ", minus="-", paren=(r"\left(", r"\right)"))


