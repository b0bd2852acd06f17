"""A dense (fully connected) layer and flatten, as layer kinds: both are sums of products, so the
forward expansion, the chain rule and the numbers are convolution's term walk (conv.py) on other
term tables.

Dense, as torch.nn.Linear: y = V·a + c, V of shape N × inputs. Its closed forms, checked against the
chain rule term by term: dL/dV = δ·aᵀ (an outer product), dL/da = Vᵀ·δ, dL/dc = δ, with δ = dL/dy.
Flatten, as torch.flatten (channel-first, row-major): f_k = a[k], so dL/da is dL/df reshaped.

>>> d = derive_dense(3, 2, True, Naming(input="f", kernel="v", output="y", bias="c"))
>>> str(d.forward_expr(0)), str(d.gradient_expr("grad_weight", 1))
('c_1 + f_1*v_1_1 + f_2*v_1_2 + f_3*v_1_3', 'dy_1*f_2')
>>> d.all_hold
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..naming import Naming, latex_letter
from ..numeric import Numeric
from ..symbols import SymbolTable
from ..tensor import ONE, Terms, concat
from .base import M, Derivation, Identity, Kind, sum_of_products
from .conv import chain_rule, evaluate as evaluate_products

if TYPE_CHECKING:
    import sympy


@dataclass(frozen=True, eq=False, repr=False)
class LinearDerivation(Derivation):
    """Dense or flatten: forward sums of products, one chain-rule table per gradient (as conv's)."""

    naming: Naming
    symbols: SymbolTable
    forward: Terms
    tables: tuple[tuple[str, Terms], ...]
    identities: tuple[Identity, ...] = field(default=())
    numeric: Numeric | None = None
    bias: bool = False
    kind: Kind | None = None

    loss = "generic"

    def tensor_name(self, key: str) -> str:
        return {"grad_weight": "V", "grad_bias": "c"}.get(key, self.naming.input)

    def gradients(self) -> list[tuple[str, Terms]]:
        return list(self.tables)

    @property
    def forward_terms(self) -> int:
        return len(self.forward)

    def json_problem(self, max_terms: int) -> str | None:
        return None

    def _factor(self, symbol_id: int) -> "sympy.Expr":
        import sympy

        return sympy.Integer(1) if symbol_id == ONE else self.symbols.sympy_symbol(int(symbol_id))

    def forward_expr(self, k: int) -> "sympy.Expr":
        return sum_of_products(self.forward, k, self._factor, self._factor)

    def gradient_expr(self, key: str, k: int) -> "sympy.Expr":
        return sum_of_products(dict(self.tables)[key], k, self._factor, self._factor)


evaluate = evaluate_products


def derive_dense(inputs: int, outputs: int, bias: bool, naming: Naming) -> LinearDerivation:
    """y_n = c_n + Σ_i v_ni a_i: the expansion, the chain rule and the three closed forms."""
    layout = [
        ("input", naming.input, (inputs,), 0, ()),
        ("kernel", naming.kernel, (outputs, inputs), 0, ()),
        ("bias", naming.bias, (outputs,) if bias else (0,), 0, ()),
        ("grad_output", naming.grad_output, (outputs,), 0, ()),
        ("output", naming.output, (outputs,), 0, ()),
    ]
    symbols = SymbolTable.from_layout(naming, layout)
    a, v, c, g = (symbols[key].ids for key in ("input", "kernel", "bias", "grad_output"))
    n, i = np.indices((outputs, inputs))
    forward = Terms.make((outputs,), n, v, a[i])
    if bias:
        forward = concat([forward, Terms.make((outputs,), np.arange(outputs), c, np.full(outputs, ONE))])
    forward = forward.sorted_by_entry()
    tables = [("grad_weight", chain_rule(forward, v, g)), ("grad_input", chain_rule(forward, a, g))]
    # closed forms, from the matrix algebra alone: δ·aᵀ, Vᵀ·δ, δ
    outer = Terms.make((outputs, inputs), n * inputs + i, g[n], a[i])
    transposed = Terms.make((inputs,), i, g[n], v)
    x, y = naming.input, naming.output
    identities = [Identity("grad_weight", f"dL/dV = dL/d{y} · {x}ᵀ", False, len(outer), outer).checked(tables[0][1]),
                  Identity("grad_input", f"dL/d{x} = Vᵀ · dL/d{y}", False, len(transposed), transposed).checked(tables[1][1])]
    if bias:
        tables.append(("grad_bias", chain_rule(forward, c, g)))
        plain = Terms.make((outputs,), np.arange(outputs), g, np.full(outputs, ONE))
        identities.append(Identity("grad_bias", f"dL/dc = dL/d{y}", False, len(plain), plain).checked(tables[2][1]))
    return LinearDerivation(naming, symbols, forward, tuple(tables), tuple(identities), bias=bias, kind=DENSE)


def derive_flatten(shape: tuple[int, ...], naming: Naming) -> LinearDerivation:
    """f_k = a[k] in channel-first, row-major order; dL/da is dL/df put back in shape."""
    axes = 1 if len(shape) > 1 else 0
    size = int(np.prod(shape))
    layout = [
        ("input", naming.input, shape, axes, (shape[0] > 1,) if axes else ()),
        ("grad_output", naming.grad_output, (size,), 0, ()),
        ("output", naming.output, (size,), 0, ()),
    ]
    symbols = SymbolTable.from_layout(naming, layout)
    k = np.arange(size)
    forward = Terms.make((size,), k, symbols["input"].ids.ravel(), np.full(size, ONE))
    grad = chain_rule(forward, symbols["input"].ids, symbols["grad_output"].ids)
    reshaped = Terms.make(shape, k, symbols["grad_output"].ids, np.full(size, ONE))
    statement = f"dL/d{naming.input} = reshape(dL/d{naming.output})"
    identity = Identity("grad_input", statement, False, len(reshaped), reshaped).checked(grad)
    return LinearDerivation(naming, symbols, forward, (("grad_input", grad),), (identity,), kind=FLATTEN)


# --- content


class DenseContent:
    channel_labels = {"input": (), "kernel": (), "bias": (), "output": (), "grad_output": ()}  # vectors and V: no channels
    value_words = {"input": "the input", "kernel": "the weights V", "bias": "the bias c", "grad_output": "dL/dy"}
    nothing_depends = "no output depends on"

    @staticmethod
    def title(d) -> list[str]:
        out, inp = d.symbols["kernel"].shape
        return ["dense", f"{inp} → {out}"] + (["bias"] if d.bias else [])

    @staticmethod
    def name(doc, i: int):
        return None

    @staticmethod
    def setup(doc) -> None:
        d, n = doc.d, doc.n
        out, inp = d.symbols["kernel"].shape
        v, y, a = d.naming.kernel, d.naming.output, d.naming.input
        doc.heading("Setup")
        formula = M(f"{y} = V·{a}" + (" + c" if d.bias else ""), f"{y} = V {a}" + (" + c" if d.bias else ""))
        doc.para("Dense layer (torch.nn.Linear): ", doc.math(formula), ", with ", doc.math("V"), " of shape ",
                 doc.math(n.shape((out, inp))), f" (entries {v}).")
        doc.matrices("V", doc.sym["kernel"].ids, ())

    @staticmethod
    def forward(doc) -> None:
        doc.heading("Forward pass: every output expanded")
        numeric = doc.num.forward if doc.num is not None else None
        doc.sum_entries(doc.d.forward, lambda k: doc.n.symbol(doc.sym, doc.out0 + k), numeric, "outputs")
        doc.result_matrix("forward", doc.d.naming.output)

    @staticmethod
    def gradient_intro(doc, key: str) -> None:
        doc.heading("Gradient ", doc.math(doc.n.partial("L", doc.d.tensor_name(key))), ": the chain rule, term by term")

    @staticmethod
    def identities(doc) -> None:
        doc.heading("Identities: the matrix forms")
        doc.para("Each matrix form is computed from the matrix algebra alone and compared with the chain rule term by term.")
        x, y = (latex_letter(letter) for letter in (doc.d.naming.input, doc.d.naming.output))
        tex = {"grad_weight": rf"\frac{{\partial L}}{{\partial V}} = \frac{{\partial L}}{{\partial {y}}}\, {{{x}}}^{{\mathsf T}}",
               "grad_input": rf"\frac{{\partial L}}{{\partial {x}}} = V^{{\mathsf T}} \frac{{\partial L}}{{\partial {y}}}",
               "grad_bias": rf"\frac{{\partial L}}{{\partial c}} = \frac{{\partial L}}{{\partial {y}}}"}
        for identity in doc.d.identities:
            doc.identity(identity, M(identity.statement, tex[identity.name]))


class FlattenContent(DenseContent):
    channel_labels = {"input": ("c",), "output": (), "grad_output": ()}

    @staticmethod
    def title(d) -> list[str]:
        return ["flatten", "x".join(map(str, d.symbols["input"].shape)) + f" → {d.symbols['output'].size}"]

    @staticmethod
    def setup(doc) -> None:
        doc.heading("Setup")
        doc.para("Flatten (torch.flatten): the entries in channel-first, row-major order, ",
                 doc.math(doc.n.shape(doc.d.symbols["input"].shape)), " → ", doc.math(str(doc.d.symbols["output"].size)), ".")

    @staticmethod
    def gradient_intro(doc, key: str) -> None:
        doc.heading("Gradient ", doc.math(doc.n.partial("L", doc.d.naming.input)), ": each entry takes its own")

    @staticmethod
    def identities(doc) -> None:
        doc.heading("Identity")
        for identity in doc.d.identities:
            x, f = (latex_letter(letter) for letter in (doc.d.naming.input, doc.d.naming.output))
            doc.identity(identity, M(identity.statement, rf"\frac{{\partial L}}{{\partial {x}}} = \operatorname{{reshape}}\Bigl(\frac{{\partial L}}{{\partial {f}}}\Bigr)"))


DENSE = Kind(
    name="dense",
    sections=("setup", "forward", "grad-weight", "grad-input", "grad-bias", "identities"),
    gradient_of={"grad_weight": "kernel", "grad_input": "input", "grad_bias": "bias"},
    tensor_of={"grad_weight": "V", "grad_input": "a", "grad_bias": "c"},
    answers=("forward", "grad_weight", "grad_input", "grad_bias"),
    options=(),
    required=(),
    noun="dense layer",
    content=DenseContent,
)
FLATTEN = Kind(
    name="flatten",
    sections=("setup", "forward", "grad-input", "identities"),
    gradient_of={"grad_input": "input"},
    tensor_of={"grad_input": "a"},
    answers=("forward", "grad_input"),
    options=(),
    required=(),
    noun="flatten",
    content=FlattenContent,
)
