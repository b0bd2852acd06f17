"""A network's loss, as a stage kind: softmax cross-entropy, mean squared error (½Σ) or a plain sum.

- softmax-ce: p = softmax(y), L = −log p_t for the target class t (numbered 1..N), so
  dL/dy_k = p_k − [k = t];
- mse:        L = ½ Σ_k (y_k − t_k)², so dL/dy_k = y_k − t_k (as `symgrad conv --loss mse`);
- sum:        L = Σ_k y_k, so dL/dy_k = 1.

The loss is where the backward pass starts: its gradient needs no incoming δ.

>>> d = derive_loss("mse", (2,), Naming(input="y"))
>>> str(d.loss_expr()), str(d.gradient_expr("grad_input", 0))
('(-t_1 + y_1)**2/2 + (-t_2 + y_2)**2/2', '-t_1 + y_1')
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..naming import Naming
from ..numeric import Numeric, divide
from ..symbols import SymbolTable
from ..tensor import Terms
from .base import M, Derivation, Kind

if TYPE_CHECKING:
    import sympy

LOSS_KINDS = ("softmax-ce", "mse", "sum")


@dataclass(frozen=True, eq=False, repr=False)
class LossDerivation(Derivation):
    """L of the last stage's output y; grad_input: dL/dy_k by the loss's own rule."""

    function: str
    shape: tuple[int, ...]
    naming: Naming
    symbols: SymbolTable
    identities: tuple = ()
    numeric: Numeric | None = None
    target_class: int | None = None  # softmax-ce with a known target: 0-based
    value: object = None  # L, when the numbers give it
    grad: tuple | None = None  # (which dL/dy_k are numbers, their values), with values

    loss = "generic"

    def tensor_name(self, key: str) -> str:
        return self.naming.input

    def gradients(self) -> list[tuple[str, Terms]]:
        return []  # written by the content (no chain rule: the backward pass starts here)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def forward_terms(self) -> int:
        return 2 * self.size

    def json_problem(self, max_terms: int) -> str | None:
        return None

    def y(self, k: int) -> "sympy.Symbol":
        return self.symbols.sympy_symbol(self.symbols["input"].offset + k)

    def target(self, k: int = 0) -> "sympy.Expr":
        """t_k (mse); the class t (softmax-ce), a number when the values give it (1-based)."""
        import sympy

        if self.function == "softmax-ce":
            return sympy.Integer(self.target_class + 1) if self.target_class is not None else sympy.Symbol("t")
        return self.symbols.sympy_symbol(self.symbols["target"].offset + k)

    def onehot(self, k: int) -> "sympy.Expr":
        import sympy

        return sympy.KroneckerDelta(k + 1, self.target())

    def loss_expr(self) -> "sympy.Expr":
        """L in the stage's names (y, and t)."""
        import sympy

        ys = [self.y(k) for k in range(self.size)]
        if self.function == "sum":
            return sympy.Add(*ys)
        if self.function == "mse":
            return sympy.Rational(1, 2) * sympy.Add(*[(ys[k] - self.target(k)) ** 2 for k in range(self.size)])
        if self.target_class is not None:
            return sympy.log(sympy.Add(*[sympy.exp(y) for y in ys])) - ys[self.target_class]
        return sympy.log(sympy.Add(*[sympy.exp(y) for y in ys])) - sympy.Add(*[self.onehot(k) * ys[k] for k in range(self.size)])

    def forward_expr(self, k: int = 0) -> "sympy.Expr":
        return self.loss_expr()

    def gradient_expr(self, key: str, k: int) -> "sympy.Expr":
        """dL/dy_k: p_k − [k = t], y_k − t_k, or 1."""
        import sympy

        if self.function == "sum":
            return sympy.Integer(1)
        if self.function == "mse":
            return self.y(k) - self.target(k)
        ys = [self.y(j) for j in range(self.size)]
        return sympy.exp(ys[k]) / sympy.Add(*[sympy.exp(y) for y in ys]) - self.onehot(k)


def derive_loss(function: str, shape: tuple[int, ...], naming: Naming, target_class: int | None = None) -> LossDerivation:
    axes = 1 if len(shape) > 1 else 0
    shown = (shape[0] > 1,) if axes else ()
    layout = [
        ("input", naming.input, shape, axes, shown),
        ("grad_output", "dL", (0,), 0, ()),
        ("output", "L", (1,), 0, ()),
        ("target", naming.target, shape if function == "mse" else (0,), axes, shown),
    ]
    return LossDerivation(function, tuple(shape), naming, SymbolTable.from_layout(naming, layout), target_class=target_class)


# --- numbers


def softmax(y: np.ndarray) -> np.ndarray:
    y = y.astype(np.float64)
    e = np.exp(y - y.max())
    return e / e.sum()


def evaluate(d: LossDerivation, known: np.ndarray, number: np.ndarray, exact: bool) -> tuple[object, np.ndarray, np.ndarray]:
    """(L or None, which dL/dy_k are numbers, their values)."""
    g = d.symbols["input"]
    y_known = known[g.offset: g.offset + g.size]
    y = number[g.offset: g.offset + g.size]
    grad = np.zeros(g.size, dtype=object if exact else np.float64)
    if d.function == "sum":
        grad[:] = 1
        return (sum(y.tolist()) if y_known.all() else None), np.ones(g.size, dtype=bool), grad
    if d.function == "mse":
        t = d.symbols["target"]
        t_known = known[t.offset: t.offset + t.size]
        diff = y - number[t.offset: t.offset + t.size]
        both = y_known & t_known
        grad[both] = diff[both]
        value = None
        if both.all():
            value = divide(sum((x * x for x in diff.tolist()), 0), 2, exact)
        return value, both, grad
    if not y_known.all() or d.target_class is None:
        return None, np.zeros(g.size, dtype=bool), grad
    p = softmax(y)
    grad = p.copy()
    grad[d.target_class] -= 1.0
    y_float = y.astype(np.float64)
    top = y_float.max()
    value = float(top + math.log(np.exp(y_float - top).sum()) - y_float[d.target_class])
    return value, np.ones(g.size, dtype=bool), grad


# --- content


FORMULAS = {
    "softmax-ce": (M("p = softmax(y), L = −log p_t", r"p = \operatorname{softmax}(y),\quad L = -\log p_t"),
                   M("∂L/∂y_k = p_k − [k = t]", r"\frac{\partial L}{\partial y_k} = p_k - [k = t]")),
    "mse": (M("L = ½ Σ_k (y_k − t_k)²", r"L = \tfrac12 \sum_k (y_k - t_k)^2"),
            M("∂L/∂y_k = y_k − t_k", r"\frac{\partial L}{\partial y_k} = y_k - t_k")),
    "sum": (M("L = Σ_k y_k", r"L = \sum_k y_k"), M("∂L/∂y_k = 1", r"\frac{\partial L}{\partial y_k} = 1")),
}


class Content:
    channel_labels = {"input": ("c",), "target": ("c",)}
    value_words = {"input": "the scores", "target": "the target"}
    nothing_depends = ""

    @staticmethod
    def title(d: LossDerivation) -> list[str]:
        return ["loss", d.function]

    @staticmethod
    def name(doc, i: int):
        return None

    @staticmethod
    def setup(doc) -> None:
        d = doc.d
        forward, _ = FORMULAS[d.function]
        doc.heading("The loss")
        letter = d.naming.input
        formula = M(forward.text.replace("y", letter), forward.tex.replace("y", letter))
        doc.para(doc.math(formula), _target_words(d) + ".")

    @staticmethod
    def forward(doc) -> None:
        d, n = doc.d, doc.n
        value = d.value
        ys = [n.symbol(doc.sym, doc.sym["input"].offset + k) for k in range(d.size)]
        known = [doc.num.value(doc.sym["input"].offset + k) if doc.num is not None else None for k in range(d.size)]
        if d.function == "softmax-ce":
            t = str(d.target_class + 1) if d.target_class is not None else "t"
            y_t = ys[d.target_class] if d.target_class is not None else (f"{d.naming.input}_{{t}}" if n.tex else f"{d.naming.input}_t")
            exps = [(rf"e^{{{y}}}" if n.tex else f"e^{y}") for y in ys]
            rows = [[(r"-\log p_{" + t + "}") if n.tex else f"−log p_{t}"],
                    [(rf"\log\bigl({' + '.join(exps)}\bigr) - {y_t}") if n.tex else f"log({' + '.join(exps)}) − {y_t}"]]
        elif d.function == "mse":
            ts = [n.symbol(doc.sym, doc.sym["target"].offset + k) for k in range(d.size)]
            half = r"\tfrac12" if n.tex else "½"
            rows = [[f"{half}(" + " + ".join(f"({y} {n.style.minus} {t})" + ("^2" if n.tex else "²") for y, t in zip(ys, ts)) + ")"]]
        else:
            rows = [[" + ".join(ys)]]
        if all(v is not None for v in known) and d.function != "softmax-ce":
            numbers = [n.number(v) for v in known]
            if d.function == "sum":
                rows.append([" + ".join(numbers)])
        if value is not None:
            rows.append([n.number(value)])
        doc.equation("L", rows)

    @staticmethod
    def loss_gradient(doc) -> None:
        d, n = doc.d, doc.n
        _, derivative = FORMULAS[d.function]
        letter = d.naming.input
        doc.heading("The loss's gradient ", doc.math(n.partial("L", letter)), ": where the backward pass starts")
        doc.para(doc.math(M(derivative.text.replace("y", letter), derivative.tex.replace("y", letter))),
                 (", with p = softmax(" + letter + ")" if d.function == "softmax-ce" else "") + ".")
        grads = d.grad
        y0 = doc.sym["input"].offset
        for k in range(min(d.size, doc.s.max_entries or d.size)):
            y = n.symbol(doc.sym, y0 + k)
            if d.function == "sum":
                rows = [["1"]]
            elif d.function == "mse":
                t = n.symbol(doc.sym, doc.sym["target"].offset + k)
                rows = [[f"{y} {n.style.minus} {t}"]]
                yv = doc.num.value(y0 + k) if doc.num is not None else None
                tv = doc.num.value(doc.sym["target"].offset + k) if doc.num is not None else None
                if yv is not None and tv is not None:
                    rows.append([f"{n.number(yv)} {n.style.minus} {n.style.paren[0] if tv < 0 else ''}{n.number(tv)}{n.style.paren[1] if tv < 0 else ''}"])
            else:
                p = f"p_{{{k + 1}}}" if n.tex else f"p{k + 1}".translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
                onehot = (("1" if k == d.target_class else "0") if d.target_class is not None else
                          (rf"[{k + 1} = t]" if n.tex else f"[{k + 1} = t]"))
                rows = [[f"{p} {n.style.minus} {onehot}"]]
                if grads is not None and grads[0][k]:
                    prob = grads[1][k] + (1 if k == d.target_class else 0)
                    rows.append([f"{n.number(prob)} {n.style.minus} {onehot}"])
            if grads is not None and grads[0][k] and d.function != "sum":
                rows.append([n.number(grads[1][k])])
            doc.equation(n.partial("L", y), rows)
        doc.left_out(d.size - min(d.size, doc.s.max_entries or d.size), "entries")

    @staticmethod
    def gradient_intro(doc, key: str) -> None:
        return None

    @staticmethod
    def identities(doc) -> None:
        return None


def _target_words(d: LossDerivation) -> str:
    if d.function == "softmax-ce":
        return f", target class t = {d.target_class + 1}" if d.target_class is not None else ", target class t (1.." f"{d.size})"
    if d.function == "mse":
        return ", targets t"
    return ""


KIND = Kind(
    name="loss",
    sections=("setup", "forward"),
    gradient_of={},
    tensor_of={},
    answers=(),
    options=(),
    required=(),
    noun="loss",
    content=Content,
)
LossDerivation.kind = KIND
