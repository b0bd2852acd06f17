"""The losses a single layer's output may feed, and every rule that depends on the choice.

- generic: L is unknown; dL/dz_k are symbols (`dz_k`), the incoming gradients.
- sum:     L = Σ_k z_k, so dL/dz_k = 1.
- mse:     L = ½ Σ_k (z_k − t_k)², so dL/dz_k = z_k − t_k.

>>> grad_output_rule("mse", "z_1", "t_1", "dL/dz_1")
'(z_1 - t_1)'
"""

from __future__ import annotations

import numpy as np

from .errors import OptionError

LOSSES = ("generic", "sum", "mse")


def check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise OptionError(f"--loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    return loss


def grad_output_rule(loss: str, z: str, t: str, symbol: str, minus: str = "-", paren=("(", ")")) -> str:
    """dL/dz_k as the loss defines it, in a renderer's names: the symbol (generic), 1 (sum), (z − t) (mse)."""
    if loss == "generic":
        return symbol
    if loss == "sum":
        return "1"
    return f"{paren[0]}{z} {minus} {t}{paren[1]}"


def fill_grad_output(loss: str, symbols, known: np.ndarray, number: np.ndarray, z_values) -> None:
    """Put in the numbers the loss gives dL/dz (in place): 1 for sum; z − t for mse once the outputs
    `z_values` are numbers (targets not given count as unknown)."""
    g = symbols["grad_output"]
    if loss == "sum":
        known[g.offset : g.offset + g.size] = True
        number[g.offset : g.offset + g.size] = 1
    elif loss == "mse" and z_values is not None:
        t = symbols["target"]
        t_known = known[t.offset : t.offset + t.size]
        number[g.offset : g.offset + g.size] = z_values - np.where(t_known, number[t.offset : t.offset + t.size], 0)
        known[g.offset : g.offset + g.size] = t_known


def grad_output_expr(d, k: int):
    """dL/dz_k as a SymPy expression: a symbol (generic), 1 (sum) or z_k − t_k expanded (mse)."""
    import sympy

    if d.loss == "generic":
        return d.symbols.sympy_symbol(d.symbols["grad_output"].offset + k)
    if d.loss == "sum":
        return sympy.Integer(1)
    return d.forward_expr(k) - d.symbols.sympy_symbol(d.symbols["target"].offset + k)


def loss_expr(d):
    """L as a SymPy expression. For the generic loss, the linear part Σ_k dz_k·z_k (its gradient is the
    chain rule with unknown dL/dz_k)."""
    import sympy

    outputs, symbol = range(d.forward.size), d.symbols.sympy_symbol
    if d.loss == "generic":
        g = d.symbols["grad_output"].offset
        return sympy.Add(*[symbol(g + k) * d.forward_expr(k) for k in outputs])
    if d.loss == "sum":
        return sympy.Add(*[d.forward_expr(k) for k in outputs])
    t = d.symbols["target"].offset
    return sympy.Rational(1, 2) * sympy.Add(*[(d.forward_expr(k) - symbol(t + k)) ** 2 for k in outputs])
