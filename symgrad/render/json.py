"""The JSON renderer: the machine-readable contract of DESIGN §3.

Names are plain identifiers; expressions use + - * / **, parentheses, numbers and those names only.
"""

from __future__ import annotations

import json

from ..errors import TooLargeError
import numpy as np

from ..tensor import ONE
from ..values import format_number, json_number
from .common import Style, entry_terms, nest, signed_terms, sum_texts, symbol_or_one


def to_data(d) -> dict:
    """The derivation as plain JSON-able data (the contract), by the kind's own builder."""
    return DATA[d.kind.name](d)


def conv_data(d) -> dict:
    """layer "conv": symbols, forward, grad_kernel/input/bias, loss, identities (and values)."""
    spec, symbols = d.spec, d.symbols
    ident = symbols.identifier
    factor = symbol_or_one(ident)
    forward = _Lazy(lambda: sum_texts(d.forward, factor, factor, "*"))  # the symbolic sums, made only if used

    g0 = symbols["grad_output"].offset
    t0 = symbols["target"].offset
    if d.loss == "generic":
        grad_output_text = ident
    elif d.loss == "sum":
        grad_output_text = lambda g: "1"  # noqa: E731
    else:
        t0 = symbols["target"].offset
        grad_output_text = lambda g: f"({forward.value[g - g0]} - {ident(t0 + g - g0)})"  # noqa: E731

    def symbolic_gradient(key):
        table = getattr(d, key)
        return nest(sum_texts(table, grad_output_text, factor, "*", swap=True), table.shape)

    numeric = d.numeric

    def mse_text(k: int) -> str:
        """dL/dz_k = z_k - t_k with whatever --values made known put in."""
        z, t = numeric.output_value(k), numeric.value(t0 + k)
        z_text = format_number(z, "json") if z is not None else f"({forward.value[k]})"
        t_text = format_number(t, "json") if t is not None else ident(t0 + k)
        return f"({z_text} - {t_text})"

    if numeric is not None:
        # with --values the same keys carry the sums with the numbers put in (merged, exact or float)
        def named(i: int) -> tuple[str, bool]:
            if i == ONE:
                return "", True
            if d.loss == "mse" and symbols["grad_output"].contains(i):
                return mse_text(i - g0), False
            return (grad_output_text(i) if symbols["grad_output"].contains(i) else ident(i)), False

        def substituted(table):
            texts = []
            for _, a, b, coef in entry_terms(table):
                items = [(c, [named(ai), named(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]
                texts.append(" ".join(signed_terms(items, JSON)) or "0")
            return nest(texts, table.shape)

        forward_data = substituted(numeric.forward)
        gradient = lambda key: substituted(numeric.gradients[key])  # noqa: E731
    else:
        forward_data = nest(forward.value, spec.output_shape)
        gradient = symbolic_gradient

    symbol_data = {
        "input": symbols.nested_identifiers("input"),
        "kernel": symbols.nested_identifiers("kernel"),
        "grad_output": symbols.nested_identifiers("grad_output") if d.loss == "generic" else None,
        "bias": symbols.nested_identifiers("bias") if spec.bias else None,
    }
    if d.loss == "mse":
        symbol_data["target"] = symbols.nested_identifiers("target")
    loss = {"name": d.loss}
    if d.loss != "generic":
        def loss_gradient(k: int) -> str:
            if numeric is None:
                return grad_output_text(g0 + k)
            value = numeric.value(g0 + k)
            if value is not None:
                return format_number(value, "json")
            return mse_text(k) if d.loss == "mse" else grad_output_text(g0 + k)

        loss["grad_output"] = nest([loss_gradient(k) for k in range(d.forward.size)], spec.output_shape)
    data = {
        "layer": "conv",
        "input_shape": list(spec.input_shape),
        "kernel_shape": list(spec.kernel_shape),
        "output_shape": list(spec.output_shape),
        "options": {
            "stride": list(spec.stride),
            "padding": list(spec.padding),
            "dilation": list(spec.dilation),
            "bias": spec.bias,
            "index": d.naming.index,
            "names": ",".join([d.naming.input, d.naming.kernel, d.naming.output]),
            **({"groups": spec.groups} if spec.groups > 1 else {}),
            **({"padding_end": list(spec.padding_end)} if spec.padding_end != spec.padding else {}),
            **({"padding_mode": spec.padding_mode} if spec.padding_mode != "zeros" else {}),
        },
        "loss": loss,
        "symbols": symbol_data,
        "forward": forward_data,
        "grad_kernel": gradient("grad_kernel"),
        "grad_input": gradient("grad_input"),
        "grad_bias": gradient("grad_bias") if d.grad_bias is not None else None,
        "identities": _identities_data(d),
        **({"values": _values_data(d)} if numeric is not None else {}),
    }
    if d.update is not None:
        from .net_json import update_data

        result = {"lr": format_number(d.lr, "json")}
        result.update(update_data(d.update, {param: param for param in d.update}, symbols, numeric, data, d.lr))
        data["update"] = result
    return data


class _Lazy:
    """A value computed on first use."""

    def __init__(self, make):
        self._make, self._value = make, None

    @property
    def value(self):
        if self._value is None:
            self._value = self._make()
        return self._value


def _identities_data(d) -> list[dict]:
    """Every closed form checked: its statement, verdict, size, notes (and verdict on the numbers)."""
    return [
        {
            "name": identity.name,
            "statement": identity.statement,
            "holds": identity.holds,
            "terms_compared": identity.compared_terms,
            "notes": list(identity.notes),
            **({"holds_with_values": d.numeric.identities[identity.name]} if d.numeric is not None else {}),
        }
        for identity in d.identities
    ]


def _values_data(d) -> dict:
    """The numbers that were put in, under the keys of the values file, plus whether arithmetic was exact."""
    numeric, symbols = d.numeric, d.symbols
    data: dict = {"exact": numeric.exact}
    for key in numeric.given:
        numbers = numeric.tensor(symbols[key].ids)
        data[key] = np.vectorize(json_number, otypes=[object])(numbers).tolist()
    return data


JSON = Style(number=lambda x: format_number(x, "json"), times="*", times_numbers="*")


def check_size(d, max_terms: int) -> None:
    """Refuse before writing when the JSON would exceed `max_terms` product terms (the kind says why:
    mse writes each z inside every gradient term, symbolic max pooling names every window's cells)."""
    problem = d.json_problem(max_terms)
    if problem:
        raise TooLargeError(problem)


def render_json(d) -> str:
    return json.dumps(to_data(d), indent=1, ensure_ascii=False) + "\n"


# --- pooling: layer "pool", no kernel keys; Max(...) and Heaviside(...) in the symbolic expressions


def pool_data(d) -> dict:
    spec, symbols, numeric = d.spec, d.symbols, d.numeric
    ident = symbols.identifier
    n_out = d.windows.shape[0]

    window_names: dict[int, list[str]] = {}

    def names_of(k: int) -> list[str]:
        if k not in window_names:
            window_names[k] = [ident(c) for c in d.real_cells(k)]
        return window_names[k]

    def mask_text(mask_id: int) -> str:
        parts = d.indicator(mask_id, ident, lambda xs: f"Max({', '.join(xs)})", 10**9, str)
        return "1" if parts is None else f"Heaviside({parts[0]} - {parts[1]})"

    def cells(k: int) -> str:
        return ", ".join(names_of(k))

    if numeric is not None and numeric.forward is not None:
        forward = [format_number(v, "json") for v in numeric.result("forward").ravel()]
    elif spec.mode == "max":
        forward = [f"Max({cells(k)})" for k in range(n_out)]
    else:
        forward = [f"({cells(k).replace(', ', ' + ')})/{d.window_divisor(k)}" for k in range(n_out)]

    def named(i: int) -> tuple[str, bool]:
        text = "" if i == ONE else mask_text(i) if symbols["mask"].contains(i) else ident(i)
        return ("", True) if text in ("", "1") else (text, False)  # a window of one cell: dy, not dy*1

    if numeric is not None:
        table, divisor = numeric.gradients["grad_input"], 1
    else:
        table, divisor = d.grad_input, d.divisor
    grad = []
    for _, a, b, coef in entry_terms(table):
        items = [(c, [named(ai), named(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]
        text = " ".join(signed_terms(items, JSON)) or "0"
        if divisor != 1 and items:  # each window's own divisor: the common one over the term's coefficient
            text = " + ".join(f"{ident(ai)}/{divisor // c}" for ai, c in zip(a.tolist(), coef.tolist()))
        grad.append(text)
    data = {
        "layer": "pool",
        "input_shape": list(spec.input_shape),
        "output_shape": list(spec.output_shape),
        "options": {
            "window": list(spec.window), "stride": list(spec.stride), "padding": list(spec.padding),
            "mode": spec.mode, "ties": spec.ties, "index": d.naming.index,
            "names": f"{d.naming.input},{d.naming.output}",
            **({"dilation": list(spec.dilation)} if spec.dilation else {}),
            **({"ceil_mode": True} if spec.ceil_mode else {}),
            **({"count_include_pad": False} if not spec.count_include_pad else {}),
            **({"divisor": spec.divisor_override} if spec.divisor_override else {}),
            **({"output_size": list(spec.adaptive_size)} if spec.adaptive_size else {}),
            **({"divisors": nest([str(n) for n in spec.divisors()] * spec.channels, spec.output_shape)}
               if spec.mode == "avg" and spec.uniform_divisor is None else {}),
        },
        "symbols": {"input": symbols.nested_identifiers("input"), "grad_output": symbols.nested_identifiers("grad_output")},
        "forward": nest(forward, spec.output_shape),
        "grad_input": nest(grad, spec.input_shape),
        "identities": _identities_data(d),
    }
    if numeric is not None:
        data["values"] = _values_data(d)
        if numeric.masks is not None:
            masks = np.vectorize(json_number, otypes=[object])(numeric.masks)
            data["masks"] = masks.reshape(*spec.output_shape, *spec.window).tolist()
    return data


def _net_data(d) -> dict:
    from .net_json import net_data

    return net_data(d, DATA, JSON)


def convtranspose_data(d) -> dict:
    """layer "convtranspose": convolution's keys, with the transposed layer's options."""
    data = conv_data(d)
    spec = d.spec
    data["layer"] = "convtranspose"
    data["options"] = {
        "stride": list(spec.stride), "padding": list(spec.padding), "output_padding": list(spec.output_padding),
        "dilation": list(spec.dilation), "groups": spec.groups, "bias": spec.bias, "index": d.naming.index,
        "names": ",".join([d.naming.input, d.naming.kernel, d.naming.output]),
    }
    return data


DATA = {"conv": conv_data, "pool": pool_data, "convtranspose": convtranspose_data, "net": _net_data}  # each kind's JSON builder
