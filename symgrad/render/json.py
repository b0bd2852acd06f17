"""The JSON renderer: the machine-readable contract of DESIGN §3.

Names are plain identifiers; expressions use + - * / **, parentheses, numbers and those names only.
"""

from __future__ import annotations

import json

from ..derivation import ConvDerivation
from ..errors import TooLargeError
from .common import nest, sum_texts, symbol_or_one


def to_data(d: ConvDerivation) -> dict:
    """The derivation as plain JSON-able data (the contract)."""
    spec, symbols = d.spec, d.symbols
    ident = symbols.identifier
    factor = symbol_or_one(ident)
    forward = sum_texts(d.forward, factor, factor, "*")

    g0 = symbols["grad_output"].offset
    if d.loss == "generic":
        grad_output_text = ident
    elif d.loss == "sum":
        grad_output_text = lambda g: "1"  # noqa: E731
    else:
        t0 = symbols["target"].offset
        grad_output_text = lambda g: f"({forward[g - g0]} - {ident(t0 + g - g0)})"  # noqa: E731

    def gradient(table):
        return nest(sum_texts(table, grad_output_text, factor, "*", swap=True), table.shape)

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
        loss["grad_output"] = nest([grad_output_text(g0 + k) for k in range(d.forward.size)], spec.output_shape)
    return {
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
        },
        "loss": loss,
        "symbols": symbol_data,
        "forward": nest(forward, spec.output_shape),
        "grad_kernel": gradient(d.grad_kernel),
        "grad_input": gradient(d.grad_input),
        "grad_bias": gradient(d.grad_bias) if d.grad_bias is not None else None,
        "identities": [
            {
                "name": identity.name,
                "statement": identity.statement,
                "holds": identity.holds,
                "terms_compared": identity.compared_terms,
                "notes": list(identity.notes),
            }
            for identity in d.identities
        ],
    }


def check_size(d: ConvDerivation, max_terms: int) -> None:
    """Refuse before writing when the JSON would exceed `max_terms` product terms.

    With --loss mse, dL/dz_k = (z_k - t_k) is written out in every gradient term, so the JSON holds
    (gradient terms) x (terms per output) products: far more than the derivation itself.
    """
    if d.loss != "mse":
        return
    per_output = len(d.forward) / max(1, d.forward.size)
    cost = int(sum(len(table) for _, table in d.gradients()) * (per_output + 1)) + len(d.forward)
    if cost > max_terms:
        raise TooLargeError(
            f"--loss mse --format json writes each z expanded inside every gradient term: about {cost:,} "
            f"product terms, over the limit of {max_terms:,}; use --loss generic (dL/dz as symbols), "
            f"--format text, or raise --max-terms"
        )


def render_json(d: ConvDerivation) -> str:
    return json.dumps(to_data(d), indent=1, ensure_ascii=False) + "\n"
