"""Derivation data: what was derived, as frozen dataclasses. No text is produced here.

Renderers (symgrad/render/) turn these into terminal, JSON and other formats; the `__rich__` and
`_repr_latex_` hooks hand off to them, so a notebook or rich console shows a derivation without this
module knowing about either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .naming import Naming
from .spec import ConvSpec, PoolSpec
from .symbols import SymbolTable
from .tensor import ONE, Terms

if TYPE_CHECKING:
    import sympy

    from .numeric import Numeric

LOSSES = ("generic", "sum", "mse")


@dataclass(frozen=True, eq=False)
class Intermediate:
    """A symbolic matrix shown on the way to a closed form (e.g. dilated dL/dZ, rot180 W)."""

    label: str
    ids: np.ndarray  # symbol ids (ZERO for zeros), or plain counts when kind == "counts"; spatial axes only
    note: str = ""
    kind: str = "symbols"


@dataclass(frozen=True, eq=False)
class Identity:
    """One closed form, computed independently by tensor operations and compared with the chain rule."""

    name: str  # grad_kernel, grad_input, grad_bias
    statement: str  # the formula, plain text
    holds: bool
    compared_terms: int
    computed: Terms
    intermediates: tuple[Intermediate, ...] = ()
    notes: tuple[str, ...] = ()


class _Displayable:
    """The display hooks every derivation shares: each hands off to a renderer."""

    def __rich__(self):
        from .render.terminal import render_rich

        return render_rich(self)

    def _repr_latex_(self) -> str:
        """Jupyter's LaTeX display: the derivation as display math (summarised when large)."""
        from .render.notebook import render_notebook_latex

        return render_notebook_latex(self)

    def to_latex(self, fragment: bool = False, full: bool = False) -> str:
        """A standalone LaTeX document (or its body, with fragment=True)."""
        from .render.document import DocumentSettings
        from .render.latex import render_latex

        return render_latex(self, DocumentSettings.choose(self, full=full), fragment=fragment)

    def to_markdown(self, full: bool = False) -> str:
        """MyST Markdown for a Jupyter Book page."""
        from .render.document import DocumentSettings
        from .render.markdown import render_markdown

        return render_markdown(self, DocumentSettings.choose(self, full=full))

    def to_json(self) -> str:
        """The JSON contract (DESIGN §3) as text."""
        from .render.json import render_json

        return render_json(self)


@dataclass(frozen=True, eq=False)
class ConvDerivation(_Displayable):
    """Everything `symgrad conv` derives for one layer.

    forward:      z[f, o] as sums of products (factor a: kernel or bias symbol, b: input symbol or ONE)
    grad_kernel:  dL/dW, one chain-rule sum per entry (factor a: grad_output symbol, b: input symbol)
    grad_input:   dL/dX (a: grad_output, b: kernel)
    grad_bias:    dL/db (a: grad_output, b: ONE), or None without --bias
    numeric:      with --values, the numbers put in and what the sums come to (else None)
    """

    spec: ConvSpec
    naming: Naming
    loss: str
    symbols: SymbolTable
    forward: Terms
    grad_kernel: Terms
    grad_input: Terms
    grad_bias: Terms | None
    identities: tuple[Identity, ...] = field(default=())
    numeric: "Numeric | None" = None

    layer = "conv"

    @property
    def all_hold(self) -> bool:
        return all(identity.holds for identity in self.identities)

    def gradients(self) -> list[tuple[str, Terms]]:
        """(key, table) for each gradient that exists, in display order."""
        out = [("grad_kernel", self.grad_kernel), ("grad_input", self.grad_input)]
        if self.grad_bias is not None:
            out.append(("grad_bias", self.grad_bias))
        return out

    @property
    def mse_expanded_terms(self) -> int:
        """Terms of the gradients when every dL/dz_k is written out as z_k - t_k with z_k expanded (what
        JSON and the judge's expected answers hold under --loss mse; 0 for the other losses)."""
        if self.loss != "mse":
            return 0
        per_output = len(self.forward) / max(1, self.forward.size)
        return int(sum(len(table) for _, table in self.gradients()) * (per_output + 1))

    # --- SymPy views (for LaTeX, notebooks and the tests' oracles). Built on demand, entry by entry.

    def _factor(self, symbol_id: int) -> "sympy.Expr":
        import sympy

        if symbol_id == ONE:
            return sympy.Integer(1)
        return self.symbols.sympy_symbol(int(symbol_id))

    def forward_expr(self, flat_index: int) -> "sympy.Expr":
        """z_k as a SymPy sum of products."""
        return _sum_of_products(self.forward, flat_index, self._factor, self._factor)

    def grad_output_expr(self, output_index: int) -> "sympy.Expr":
        """dL/dz_k under the chosen loss: a symbol (generic), 1 (sum) or z_k - t_k expanded (mse)."""
        import sympy

        if self.loss == "generic":
            return self.symbols.sympy_symbol(self.symbols["grad_output"].offset + output_index)
        if self.loss == "sum":
            return sympy.Integer(1)
        target = self.symbols.sympy_symbol(self.symbols["target"].offset + output_index)
        return self.forward_expr(output_index) - target

    def loss_expr(self) -> "sympy.Expr":
        """L as a SymPy expression. For the generic loss, the linear part sum_k dz_k * z_k (its gradient
        is the chain rule with unknown dL/dz_k)."""
        import sympy

        outputs = range(self.forward.size)
        if self.loss == "generic":
            g = self.symbols["grad_output"].offset
            return sympy.Add(*[self.symbols.sympy_symbol(g + k) * self.forward_expr(k) for k in outputs])
        if self.loss == "sum":
            return sympy.Add(*[self.forward_expr(k) for k in outputs])
        t = self.symbols["target"].offset
        return sympy.Rational(1, 2) * sympy.Add(
            *[(self.forward_expr(k) - self.symbols.sympy_symbol(t + k)) ** 2 for k in outputs]
        )

    def gradient_expr(self, key: str, flat_index: int) -> "sympy.Expr":
        """One gradient entry as a SymPy expression, with dL/dz_k as the loss defines it."""
        table = dict(self.gradients())[key]
        g0 = self.symbols["grad_output"].offset
        return _sum_of_products(table, flat_index, lambda g: self.grad_output_expr(int(g) - g0), self._factor)


@dataclass(frozen=True, eq=False)
class PoolDerivation(_Displayable):
    """Everything `symgrad pool` derives for one layer.

    windows:     input ids of each window's cells, shape (outputs, cells per window); ZERO for padding
    grad_input:  dL/dX, one chain-rule sum per input cell (factor a: grad_output symbol; factor b: the
                 mask symbol of that window cell for max pooling, ONE for average pooling)
    divisor:     1 for max pooling; the window size for average pooling (every term is divided by it)
    numeric:     with --values, the numbers put in, the masks, and what the sums come to (else None)
    """

    spec: PoolSpec
    naming: Naming
    symbols: SymbolTable
    windows: np.ndarray
    grad_input: Terms
    identities: tuple[Identity, ...] = ()
    numeric: "Numeric | None" = None

    layer = "pool"
    loss = "generic"

    @property
    def all_hold(self) -> bool:
        return all(identity.holds for identity in self.identities)

    @property
    def divisor(self) -> int:
        return self.spec.window_count if self.spec.mode == "avg" else 1

    def gradients(self) -> list[tuple[str, Terms]]:
        return [("grad_input", self.grad_input)]

    @property
    def named_cells(self) -> int:
        """Cells named by symbolic max pooling's Heaviside(x - Max(other cells)) terms (window squared
        per output; 0 when the input's numbers decide the masks, or for average pooling)."""
        return self.spec.symbolic_max_cost if self.numeric is None or self.numeric.masks is None else 0

    def real_cells(self, k: int) -> list[int]:
        """Input ids of window k's cells that are not padding."""
        return [int(i) for i in self.windows[k] if i != -1]

    def mask_cell(self, mask_id: int) -> tuple[int, int]:
        """(window k, input id of the cell) for a mask symbol."""
        k, j = divmod(int(mask_id) - self.symbols["mask"].offset, self.windows.shape[1])
        return k, int(self.windows[k, j])

    # --- SymPy views

    def forward_expr(self, k: int) -> "sympy.Expr":
        """y_k: Max of the window (max pooling) or its sum over the window size (average pooling)."""
        import sympy

        cells = [self.symbols.sympy_symbol(i) for i in self.real_cells(k)]
        if self.spec.mode == "max":
            return sympy.Max(*cells)
        return sympy.Add(*cells) / self.divisor

    def mask_expr(self, mask_id: int) -> "sympy.Expr":
        """dy_k/dx_i for a window cell, as SymPy gives it: Heaviside(x_i - Max(the other cells))."""
        import sympy

        k, x = self.mask_cell(mask_id)
        return sympy.diff(self.forward_expr(k), self.symbols.sympy_symbol(x))

    def gradient_expr(self, key: str, flat_index: int | None = None) -> "sympy.Expr":
        """dL/dx_i as a SymPy expression (`gradient_expr("grad_input", i)` or `gradient_expr(i)`)."""
        import sympy

        index = key if flat_index is None else flat_index
        mask = self.grad_input.entry == index
        terms = []
        for g, b, c in zip(self.grad_input.a[mask], self.grad_input.b[mask], self.grad_input.coef[mask]):
            factor = sympy.Integer(1) / self.divisor if b == ONE else self.mask_expr(int(b))
            terms.append(int(c) * self.symbols.sympy_symbol(int(g)) * factor)
        return sympy.Add(*terms)


def _sum_of_products(table: Terms, flat_index: int, first, second) -> "sympy.Expr":
    import sympy

    mask = table.entry == flat_index
    return sympy.Add(
        *[int(c) * first(a) * second(b) for a, b, c in zip(table.a[mask], table.b[mask], table.coef[mask])]
    )
