"""Elementwise activations, as one layer kind: ReLU, sigmoid and tanh; a = f(z) entry by entry.

The chain rule of an elementwise stage has one term per entry: dL/dz_k = f'(z_k) * dL/da_k. Each
f'(z_k) is a symbol of its own here (the "slope" group), shown as H(z_k) for ReLU (the Heaviside
step with H(0) = 0, as PyTorch's ReLU has derivative 0 at 0), a_k(1 − a_k) for the sigmoid and
1 − a_k² for tanh; with numbers it is computed and substituted, like max pooling's masks.

>>> d = derive_activation("relu", (1, 2, 2), Naming(input="z", output="a"))
>>> str(d.gradient_expr("grad_input", 1))
'da_1_2*Heaviside(z_1_2, 0)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..naming import Naming
from ..numeric import Numeric, finite, substitute
from ..symbols import SymbolTable
from ..tensor import Terms
from .base import M, Derivation, Kind

if TYPE_CHECKING:
    import sympy

FUNCTIONS = ("relu", "sigmoid", "tanh")
EXACT = {"relu": True, "sigmoid": False, "tanh": False}  # whether the function keeps exact numbers exact


@dataclass(frozen=True, eq=False, repr=False)
class ActivationDerivation(Derivation):
    """a = f(z) entrywise. grad_input: dL/dz_k = dL/da_k * slope_k (factor a: grad_output, b: slope)."""

    function: str
    shape: tuple[int, ...]
    naming: Naming
    symbols: SymbolTable
    grad_input: Terms
    identities: tuple = ()
    numeric: Numeric | None = None

    loss = "generic"

    def tensor_name(self, key: str) -> str:
        return self.naming.input

    def gradients(self) -> list[tuple[str, Terms]]:
        return [("grad_input", self.grad_input)]

    @property
    def forward_terms(self) -> int:
        return self.symbols["output"].size

    def json_problem(self, max_terms: int) -> str | None:
        return None

    # --- SymPy views

    def forward_expr(self, k: int) -> "sympy.Expr":
        import sympy

        z = self.symbols.sympy_symbol(self.symbols["input"].offset + k)
        return {"relu": lambda: sympy.Max(0, z), "sigmoid": lambda: 1 / (1 + sympy.exp(-z)), "tanh": lambda: sympy.tanh(z)}[self.function]()

    def slope_expr(self, k: int) -> "sympy.Expr":
        """f'(z_k) as a SymPy expression of z_k (ReLU: Heaviside(z_k, 0), so H(0) = 0)."""
        import sympy

        z = self.symbols.sympy_symbol(self.symbols["input"].offset + k)
        if self.function == "relu":
            return sympy.Heaviside(z, 0)
        return sympy.diff(self.forward_expr(k), z)

    def gradient_expr(self, key: str, k: int) -> "sympy.Expr":
        return self.symbols.sympy_symbol(self.symbols["grad_output"].offset + k) * self.slope_expr(k)


def derive_activation(function: str, shape: tuple[int, ...], naming: Naming) -> ActivationDerivation:
    """The chain rule of an elementwise activation over a tensor of `shape` (channel-first)."""
    axes = 1 if len(shape) > 1 else 0
    shown = (shape[0] > 1,) if axes else ()
    layout = [
        ("input", naming.input, shape, axes, shown),
        ("grad_output", naming.grad_output, shape, axes, shown),
        ("output", naming.output, shape, axes, shown),
        ("slope", naming.output + "slope", shape, axes, shown),
    ]
    symbols = SymbolTable.from_layout(naming, layout)
    size = symbols["input"].size
    grad_input = Terms.make(shape, np.arange(size), symbols["grad_output"].ids.ravel(), symbols["slope"].ids.ravel())
    return ActivationDerivation(function, tuple(shape), naming, symbols, grad_input)


# --- numbers


def apply(function: str, z: np.ndarray, exact: bool) -> np.ndarray:
    """f(z) entrywise: exact for ReLU on exact numbers, float otherwise."""
    if function == "relu":
        return np.where(z > 0, z, 0 if exact else 0.0).astype(object if exact else np.float64)
    z = z.astype(np.float64)
    if function == "sigmoid":
        return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
    return np.tanh(z)


def slope(function: str, z: np.ndarray, exact: bool) -> np.ndarray:
    """f'(z) entrywise: H(z) with H(0) = 0 for ReLU (PyTorch), σ(1 − σ), 1 − tanh²."""
    if function == "relu":
        return np.where(z > 0, 1, 0).astype(object if exact else np.float64)
    a = apply(function, z, exact)
    return a * (1 - a) if function == "sigmoid" else 1 - a * a


def forward_numbers(d: ActivationDerivation, known: np.ndarray, number: np.ndarray, exact: bool):
    """(which outputs are numbers, their values): f of every known input."""
    g = d.symbols["input"]
    k = known[g.offset: g.offset + g.size]
    z = number[g.offset: g.offset + g.size]
    values = np.zeros(g.size, dtype=object if exact else np.float64)
    if k.any():
        values[k] = apply(d.function, z[k], exact)
    return k.copy(), values


@finite
def evaluate(d: ActivationDerivation, known: np.ndarray, number: np.ndarray, exact: bool, given: tuple[str, ...], source: str) -> Numeric:
    """The slopes of the known inputs put in, then the chain rule substituted."""
    known, number = known.copy(), number.copy()
    g, s = d.symbols["input"], d.symbols["slope"]
    k = known[g.offset: g.offset + g.size]
    z = number[g.offset: g.offset + g.size]
    slopes = number[s.offset: s.offset + s.size].copy()
    if k.any():
        slopes[k] = slope(d.function, z[k], exact)
    known[s.offset: s.offset + s.size] = k
    number[s.offset: s.offset + s.size] = slopes
    out_known, out = forward_numbers(d, known, number, exact)
    ones = np.full(int(out_known.sum()), -2)
    forward = Terms(d.shape, np.flatnonzero(out_known), ones, ones, out[out_known])
    return Numeric(exact, given, source, known, number, forward, {"grad_input": substitute(d.grad_input, known, number, exact)})


# --- content


FORMULAS = {
    "relu": (M("a = max(0, z)", r"a = \max(0, z)"),
             M("∂a/∂z = H(z): 1 where z > 0, else 0 (also at z = 0, as in PyTorch)",
               r"\frac{\partial a}{\partial z} = H(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}")),
    "sigmoid": (M("a = σ(z) = 1/(1 + e^(−z))", r"a = \sigma(z) = \frac{1}{1 + e^{-z}}"),
                M("∂a/∂z = σ(z)(1 − σ(z)) = a(1 − a)", r"\frac{\partial a}{\partial z} = \sigma(z)\bigl(1 - \sigma(z)\bigr) = a(1 - a)")),
    "tanh": (M("a = tanh(z)", r"a = \tanh(z)"),
             M("∂a/∂z = 1 − tanh²(z) = 1 − a²", r"\frac{\partial a}{\partial z} = 1 - \tanh^2(z) = 1 - a^2")),
}


class Content:
    channel_labels = {"input": ("c",), "output": ("c",), "grad_output": ("c",), "slope": ("c",)}
    value_words = {"input": "the input", "grad_output": "the incoming gradient"}
    nothing_depends = "nothing depends on"

    @staticmethod
    def title(d: ActivationDerivation) -> list[str]:
        return [d.function, "shape " + "x".join(map(str, d.shape))]

    @staticmethod
    def name(doc, i: int):
        """A slope symbol is f'(z_k), written in the stage's names: H(z_k), a_k(1 − a_k), 1 − a_k²."""
        s = doc.sym["slope"]
        if not s.offset <= i < s.offset + s.size:
            return None
        k = i - s.offset
        z = doc.n.symbol(doc.sym, doc.sym["input"].offset + k)
        a = doc.n.symbol(doc.sym, doc.sym["output"].offset + k)
        minus = doc.n.style.minus
        if doc.d.function == "relu":
            return rf"H({z})" if doc.n.tex else f"H({z})"
        if doc.d.function == "sigmoid":
            return f"{a}(1 {minus} {a})"
        return f"(1 {minus} {a}^2)" if doc.n.tex else f"(1 {minus} {a}²)"

    @staticmethod
    def setup(doc) -> None:
        d, n = doc.d, doc.n
        doc.heading("Setup")
        forward, _ = FORMULAS[d.function]
        doc.para(f"Elementwise {d.function}: ", doc.math(forward), ", shape ", doc.math(n.shape(d.shape)), ".")

    @staticmethod
    def forward(doc) -> None:
        d, n = doc.d, doc.n
        doc.heading("Forward pass: every entry")
        values = doc.num.result("forward") if doc.num is not None and doc.num.forward is not None else None
        z0, a0 = doc.sym["input"].offset, doc.out0
        shown = 0
        for k in range(doc.sym["input"].size):
            if doc.limited(shown):
                break
            z = n.symbol(doc.sym, z0 + k)
            rows = [[_call(d.function, z, n.tex)]]
            x = doc.num.value(z0 + k) if doc.num is not None else None
            if x is not None:
                rows.append([_call(d.function, n.number(x), n.tex)])
                if values is not None and len(doc.num.forward) and k in doc.num.forward.entry:
                    rows.append([n.number(doc.num.forward.coef[np.searchsorted(doc.num.forward.entry, k)])])
            doc.equation(n.symbol(doc.sym, a0 + k), rows)
            shown += 1
        doc.left_out(doc.sym["input"].size - shown, "entries")

    @staticmethod
    def gradient_intro(doc, key: str) -> None:
        doc.heading("Gradient ", doc.math(doc.n.partial("L", doc.d.naming.input)), ": one term per entry")
        _, derivative = FORMULAS[doc.d.function]
        doc.para(doc.math(derivative), ".")

    @staticmethod
    def identities(doc) -> None:
        return None


def _call(function: str, x: str, tex: bool) -> str:
    if function == "relu":
        return rf"\max(0, {x})" if tex else f"max(0, {x})"
    if function == "sigmoid":
        return rf"\sigma({x})" if tex else f"σ({x})"
    return rf"\tanh({x})" if tex else f"tanh({x})"


KIND = Kind(
    name="activation",
    sections=("setup", "forward", "grad-input"),
    gradient_of={"grad_input": "input"},
    tensor_of={"grad_input": "Z"},
    answers=("forward", "grad_input"),
    options=(),
    required=(),
    noun="activation",
    content=Content,
)
ActivationDerivation.kind = KIND
