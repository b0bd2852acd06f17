"""Leaf formatting: how the two notations write a symbol, a partial derivative, a number, a product.

The document model (document.py) is built once per notation; everything above the leaves — which
sections, sentences, sums and matrices — is the same for the terminal (unicode) and for LaTeX,
Markdown and the notebook (TeX). A layer kind that needs a formula of its own gives it in both
notations as `M(text, tex)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..layers.base import M
from ..values import format_number
from .common import Style
from .tex import TEX


def _text_number(x) -> str:
    return format_number(x, "text").replace("-", "−")


TEXT_STYLE = Style(number=_text_number, times="·", times_numbers="·", minus="−", wrap_fractions=True)


@dataclass(frozen=True)
class Notation:
    tex: bool
    style: Style
    symbol: Callable  # (symbol table, id) -> name
    partial_form: Callable[[str, str], str]
    scaled_form: Callable[[int, str], str]

    def pick(self, m: M | str) -> str:
        return m if isinstance(m, str) else (m.tex if self.tex else m.text)

    def partial(self, top: str, bottom: str) -> str:
        """∂top/∂bottom."""
        return self.partial_form(top, bottom)

    def scaled(self, divisor: int, x: str) -> str:
        """x divided by a whole number, as a fraction times x."""
        return self.scaled_form(divisor, x)

    def number(self, x) -> str:
        return self.style.number(x)

    def shape(self, values) -> str:
        return (r" \times " if self.tex else "×").join(map(str, values))

    def call(self, name: str, args: list[str]) -> str:
        """`max(a, b)` (the list may be broken between items by the layout)."""
        return f"\\{name}({', '.join(args)})" if self.tex else f"{name}({', '.join(args)})"


TEXT = Notation(
    tex=False,
    style=TEXT_STYLE,
    symbol=lambda symbols, i: symbols.unicode(int(i)),
    partial_form=lambda top, bottom: f"∂{top}/∂{bottom}",
    scaled_form=lambda n, x: f"(1/{n})·{x}",
)

LATEX = Notation(
    tex=True,
    style=TEX,
    symbol=lambda symbols, i: symbols.latex(int(i)),
    partial_form=lambda top, bottom: rf"\frac{{\partial {top}}}{{\partial {bottom}}}",
    scaled_form=lambda n, x: rf"\tfrac{{1}}{{{n}}} {x}",
)
