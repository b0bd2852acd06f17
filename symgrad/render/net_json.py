"""The JSON contract of `symgrad net` (DESIGN §3): one object per stage, in order, and the update.

Each stage's expressions are in its own names: its input's symbols, its parameters, and the δ symbols
(`dz_1_1`: dL/dz_1_1) of the gradient it receives. With values, what is known is put in, exactly as
for a single layer. Expressions are strings SymPy's `parse_expr` reads (numbers, names, + - * / **,
parentheses, exp, log, tanh, Max, Heaviside, KroneckerDelta).
"""

from __future__ import annotations

import numpy as np

from ..layers.net import GRADIENT_OF, PARAM_GROUP
from ..tensor import ONE
from ..values import format_number
from .common import entry_terms, nest, signed_terms, sum_texts, symbol_or_one



def _number(x) -> str:
    return format_number(x, "json")


def net_data(net, layer_data: dict, JSON) -> dict:
    """The network's data; `layer_data` are the layer builders (render/json.DATA) that conv and pool
    stages reuse, `JSON` the JSON number style."""
    pool_data = layer_data["pool"]
    stages = []
    for stage in net.stages:
        d, spec = stage.d, stage.spec
        data = {"kind": spec.kind, "text": spec.text, "input_shape": list(spec.input_shape), "output_shape": list(spec.output_shape)}
        if spec.kind in ("conv", "convtranspose"):
            full = layer_data[spec.kind](d)
            data.update({key: full[key] for key in ("kernel_shape", "symbols", "forward", "grad_input", "grad_kernel")})
            if spec.bias:
                data["grad_bias"] = full["grad_bias"]
            data["symbols"] = {key: value for key, value in full["symbols"].items() if value is not None}
            data["identities"] = full["identities"]
        elif spec.kind in ("maxpool", "avgpool"):
            full = pool_data(d)
            data.update({key: full[key] for key in ("symbols", "forward", "grad_input", "identities")})
            if "masks" in full:
                data["masks"] = full["masks"]
        elif spec.kind in ("dense", "flatten"):
            data.update(_linear(d, JSON))
        elif spec.is_loss:
            data.update(_loss(d))
        else:
            data.update(_activation(d, JSON))
        stages.append(data)
    out = {
        "layer": "net",
        "input_shape": list(net.spec.input_shape),
        "options": {"layers": " | ".join(s.spec.text for s in net.stages), "index": net.spec.index},
        "stages": stages,
    }
    if net.loss_stage is not None:
        value = net.loss_value
        out["loss"] = {"name": net.loss_stage.kind, "value": _number(value) if value is not None else stages[-1]["forward"][0]}
    if net.values_given:
        out["values"] = {"exact": net.exact, "float_stages": list(net.float_stages)}
    if net.lr is not None:
        out["update"] = {"lr": _number(net.lr), "layers": [_update(stage, data, net.lr) for stage, data in zip(net.stages, stages)]}
    return out


def _named(symbols, special=None):
    """(text, is_number) of a factor id in a substituted table: "" for ONE, else its identifier."""

    def named(i: int) -> tuple[str, bool]:
        if i == ONE:
            return "", True
        if special is not None:
            text = special(i)
            if text is not None:
                return text, False
        return symbols.identifier(i), False

    return named


def _substituted(table, named, style) -> list[str]:
    texts = []
    for _, a, b, coef in entry_terms(table):
        items = [(c, [named(ai), named(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]
        texts.append(" ".join(signed_terms(items, style)) or "0")
    return texts


def _linear(d, style) -> dict:
    """Dense and flatten: sums of products, as conv's (symbolic, or with the numbers put in)."""
    symbols, numeric = d.symbols, d.numeric
    factor = symbol_or_one(symbols.identifier)
    keys = ["input", "grad_output"] + (["kernel"] if "kernel" in symbols.groups else []) + (["bias"] if d.bias else [])
    names = {"kernel": "weight"}
    data = {"symbols": {names.get(key, key): symbols.nested_identifiers(key) for key in keys}}
    if numeric is None:
        data["forward"] = nest(sum_texts(d.forward, factor, factor, "*"), d.forward.shape)
        for key, table in d.gradients():
            data[key] = nest(sum_texts(table, factor, factor, "*", swap=True), table.shape)
    else:
        named = _named(symbols)
        data["forward"] = nest(_substituted(numeric.forward, named, style), d.forward.shape)
        for key, table in d.gradients():
            data[key] = nest(_substituted(numeric.gradients[key], named, style), table.shape)
    data["identities"] = [{"name": i.name, "statement": i.statement, "holds": i.holds, "terms_compared": i.compared_terms}
                          for i in d.identities]
    return data


def _activation(d, style) -> dict:
    symbols, numeric = d.symbols, d.numeric
    z0, s = symbols["input"].offset, symbols["slope"]
    ident = symbols.identifier

    def z(k: int) -> str:
        value = numeric.value(z0 + k) if numeric is not None else None
        return _number(value) if value is not None else ident(z0 + k)

    def call(k: int) -> str:
        x = z(k)
        if d.function == "relu":
            return f"Max(0, {x})"
        if d.function == "sigmoid":
            return f"1/(1 + exp(-({x})))"
        return f"tanh({x})"

    def slope_text(i: int) -> str | None:
        if not s.offset <= i < s.offset + s.size:
            return None
        x = z(i - s.offset)
        if d.function == "relu":
            return f"Heaviside({x}, 0)"
        if d.function == "sigmoid":
            return f"exp(-({x}))/(1 + exp(-({x})))**2"
        return f"(1 - tanh({x})**2)"

    size = symbols["input"].size
    known = numeric.forward if numeric is not None else None
    values = {}
    if known is not None:
        values = dict(zip(known.entry.tolist(), known.coef.tolist()))
    forward = [_number(values[k]) if k in values else call(k) for k in range(size)]
    table = numeric.gradients["grad_input"] if numeric is not None else d.grad_input
    grad = _substituted(table, _named(symbols, slope_text), style)
    return {
        "symbols": {"input": symbols.nested_identifiers("input"), "grad_output": symbols.nested_identifiers("grad_output")},
        "forward": nest(forward, d.shape),
        "grad_input": nest(grad, d.shape),
    }


def _loss(d) -> dict:
    """The loss and dL/dy: numbers when known, else SymPy's text with what is known put in."""
    symbols, numeric = d.symbols, d.numeric
    data = {"symbols": {"input": symbols.nested_identifiers("input")}}
    if d.function == "mse":
        data["symbols"]["target"] = symbols.nested_identifiers("target")
    if d.function == "softmax-ce" and d.target_class is None:
        data["symbols"]["target"] = "t"
    known = d.grad[0] if d.grad is not None else np.zeros(d.size, dtype=bool)
    substitutions = None

    def expression(expr) -> str:
        nonlocal substitutions
        if substitutions is None:
            substitutions = {}
            if numeric is not None:
                import sympy

                for i in np.flatnonzero(numeric.known):
                    value = numeric.number[i]
                    substitutions[symbols.sympy_symbol(int(i))] = sympy.Float(value) if isinstance(value, float) else sympy.Rational(str(value))
        return str(expr.xreplace(substitutions))

    data["forward"] = [_number(d.value) if d.value is not None else expression(d.loss_expr())]
    grad = [_number(d.grad[1][k]) if known[k] else expression(d.gradient_expr("grad_input", k)) for k in range(d.size)]
    data["grad_input"] = nest(grad, d.shape)
    if d.function == "softmax-ce" and d.target_class is not None:
        data["target"] = d.target_class + 1
    return data


def _update(stage, data: dict, lr) -> dict:
    """w − α·dL/dw for each parameter of a stage."""
    if stage.update is None:
        return {}
    return update_data(stage.update, PARAM_GROUP, stage.d.symbols, stage.d.numeric, data, lr)


def update_data(update: dict, groups: dict, symbols, numeric, data: dict, lr) -> dict:
    """Each parameter's new values w − α·dL/dw: the number when both are known, else the expression
    (with the gradient's text from `data`, the layer's JSON)."""
    out = {}
    for param, (known, new) in update.items():
        group = symbols[groups[param]]
        grads = np.array(data[GRADIENT_OF[param]], dtype=object).ravel()
        texts = []
        for j in range(group.size):
            if known[j]:
                texts.append(_number(new[j]))
                continue
            value = numeric.value(group.offset + j) if numeric is not None else None
            w = _number(value) if value is not None else symbols.identifier(group.offset + j)
            texts.append(f"{w} - {_number(lr)}*({grads[j]})")
        out[param] = nest(texts, group.shape)
    return out
