"""--values, end to end: numbers put into the derivation must give PyTorch's forward and gradients.

The values go in the way a user gives them (nested lists, ints, "p/q" strings, floats; channel levels
of size 1 left out); the numeric results come from the derivation (`d.numeric`), not from the oracle
helpers, so the whole substitute-and-merge path is tested.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

import symgrad
from symgrad import ConvSpec
from symgrad.errors import SymgradError

from test_torch_oracle import CONFIGS, close, torch_reference  # noqa: E402

torch = pytest.importorskip("torch")

NUMERIC_CONFIGS = CONFIGS[::4]  # 60 of the 240 random layers


def as_user_data(array: np.ndarray, leave_out: int) -> list:
    """A tensor as nested lists, with `leave_out` leading size-1 channel levels dropped."""
    for _ in range(leave_out):
        assert array.shape[0] == 1
        array = array[0]
    return array.tolist()


def spec_kwargs(cfg) -> dict:
    x = lambda t: "x".join(map(str, t))  # noqa: E731
    return dict(input=x(cfg.input), kernel=x(cfg.kernel), stride=x(cfg.stride), padding=x(cfg.padding),
                dilation=x(cfg.dilation), in_channels=cfg.in_channels, out_channels=cfg.out_channels, bias=cfg.bias)


@pytest.mark.parametrize("cfg", NUMERIC_CONFIGS, ids=[cfg.id for cfg in NUMERIC_CONFIGS])
def test_exact_values_match_torch(cfg):
    """Small integers and halves as "p/2" strings: exact arithmetic, compared with float64 autograd."""
    spec = cfg.spec()
    gen = np.random.default_rng(cfg.index)
    ints = {key: gen.integers(-4, 5, size=shape) for key, shape in
            (("input", spec.input_shape), ("kernel", spec.kernel_shape), ("grad_output", spec.output_shape), ("bias", (spec.out_channels,)))}
    data = {
        "input": as_user_data(ints["input"], 1 if spec.in_channels == 1 else 0),
        "kernel": np.vectorize(lambda v: f"{v}/2", otypes=[object])(ints["kernel"]).tolist(),
        "grad_output": as_user_data(ints["grad_output"], 1 if spec.out_channels == 1 else 0),
    }
    if spec.bias:
        data["bias"] = ints["bias"].tolist()
    d = symgrad.conv(**spec_kwargs(cfg), values=data)
    assert d.numeric.exact
    ref = torch_reference(spec, {
        "input": ints["input"].astype(float), "kernel": ints["kernel"] / 2,
        "grad_output": ints["grad_output"].astype(float), "bias": ints["bias"].astype(float),
    })
    for key in ("forward", "grad_kernel", "grad_input") + (("grad_bias",) if spec.bias else ()):
        got = d.numeric.result(key)
        assert got is not None, key
        assert all(isinstance(v, (int, Fraction)) for v in got.ravel()), key
        close(got.astype(float), ref[key], key)
    assert all(d.numeric.identities.values()) and len(d.numeric.identities) == len(d.identities)


@pytest.mark.parametrize("cfg", NUMERIC_CONFIGS[::2], ids=[cfg.id for cfg in NUMERIC_CONFIGS[::2]])
def test_float_values_match_torch(cfg):
    spec = cfg.spec()
    gen = np.random.default_rng(1000 + cfg.index)
    values = {"input": gen.standard_normal(spec.input_shape), "kernel": gen.standard_normal(spec.kernel_shape),
              "grad_output": gen.standard_normal(spec.output_shape), "bias": gen.standard_normal((spec.out_channels,))}
    data = {k: v.tolist() for k, v in values.items() if k != "bias" or spec.bias}
    d = symgrad.conv(**spec_kwargs(cfg), values=data)
    assert not d.numeric.exact
    ref = torch_reference(spec, values)
    for key in ("forward", "grad_kernel", "grad_input") + (("grad_bias",) if spec.bias else ()):
        close(d.numeric.result(key).astype(float), ref[key], key)


@pytest.mark.parametrize("loss", ["sum", "mse"])
def test_sum_and_mse_losses_with_values(loss):
    """dL/dz is 1 (sum) or z - t (mse, from the numeric forward pass and the targets)."""
    spec = ConvSpec.build("4x3", "2x2", stride="2x1", padding="1x0", out_channels=2, bias=True)
    gen = np.random.default_rng(7)
    x, w, b, t = (gen.integers(-3, 4, size=s) for s in (spec.input_shape, spec.kernel_shape, (2,), spec.output_shape))
    data = {"input": x[0].tolist(), "kernel": w.tolist(), "bias": b.tolist()}
    if loss == "mse":
        data["target"] = t.tolist()
    d = symgrad.conv("4x3", "2x2", stride="2x1", padding="1x0", out_channels=2, bias=True, loss=loss, values=data)

    xt = torch.tensor(x[None], dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    z = torch.nn.functional.conv2d(xt, wt, bt, stride=(2, 1), padding=(1, 0))
    L = z.sum() if loss == "sum" else 0.5 * ((z - torch.tensor(t[None], dtype=torch.float64)) ** 2).sum()
    L.backward()
    close(d.numeric.result("forward").astype(float), z.detach().numpy()[0], "forward")
    close(d.numeric.result("grad_kernel").astype(float), wt.grad.numpy(), "dL/dW")
    close(d.numeric.result("grad_input").astype(float), xt.grad.numpy()[0], "dL/dX")
    close(d.numeric.result("grad_bias").astype(float), bt.grad.numpy(), "dL/db")


def test_partial_values_leave_the_rest_symbolic():
    """Only the input given: dL/dW is a combination of the dL/dz symbols with the input's numbers."""
    d = symgrad.conv("3x3", "2x2", values={"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]]})
    assert d.numeric.result("grad_kernel") is None
    data = json.loads(d.to_json())
    assert data["grad_kernel"][0][0] == [
        ["dz_1_1 + 2*dz_1_2 + dz_2_2", "2*dz_1_1 + dz_2_1 + 3*dz_2_2"],
        ["dz_1_2 + 2*dz_2_1 + dz_2_2", "dz_1_1 + 3*dz_1_2 + dz_2_1 + dz_2_2"],
    ]
    # dL/dX does not involve the input at all: unchanged
    assert data["grad_input"][0][1][1] == "w_2_2*dz_1_1 + w_2_1*dz_1_2 + w_1_2*dz_2_1 + w_1_1*dz_2_2"
    assert data["values"] == {"exact": True, "input": [[[1, 2, 0], [0, 1, 3], [2, 1, 1]]]}


def test_values_json_round_trips_exactly():
    """Fractions come back as "p/q" strings and floats as exact reprs, so the output can be fed back."""
    data = {"input": [["1/3", 0.1, 2]], "kernel": [[1, 1]]}
    d = symgrad.conv("1x3", "1x2", values=data)
    out = json.loads(d.to_json())
    assert out["values"]["exact"] is False
    assert out["forward"] == [[["0.43333333333333335", "2.1"]]]
    exact = json.loads(symgrad.conv("1x3", "1x2", values={"input": [["1/3", "1/10", 2]], "kernel": [[1, 1]]}).to_json())
    assert exact["forward"] == [[["13/30", "21/10"]]] and exact["values"]["input"] == [[[["1/3", "1/10", 2]]]][0]


def test_bad_values_are_refused_with_the_key_and_shape():
    with pytest.raises(SymgradError, match=r'"kernel".*3x3'):
        symgrad.conv("5x5", "3x3", values={"kernel": [[1, 2], [3, 4]]})
    with pytest.raises(SymgradError, match="grad_output"):
        symgrad.conv("5x5", "3x3", loss="sum", values={"grad_output": [[1, 2], [3, 4]]})


def test_mse_with_some_values_puts_in_what_is_known():
    """Input and kernel known, targets not: dL/dz = (z - t) with z's number; then the targets alone."""
    import sympy

    d = symgrad.conv("2x2", "1x1", loss="mse", values={"input": [[1, 2], [3, 4]], "kernel": [[2]]})
    data = json.loads(d.to_json())
    assert data["loss"]["grad_output"] == [[["(2 - t_1_1)", "(4 - t_1_2)"], ["(6 - t_2_1)", "(8 - t_2_2)"]]]
    expr = sympy.sympify(data["grad_kernel"][0][0][0][0])
    t = {sympy.Symbol(f"t_{i}_{j}"): v for (i, j), v in zip([(1, 1), (1, 2), (2, 1), (2, 2)], [1, 2, 3, 4])}
    assert expr.subs(t) == 1 * 1 + 2 * 2 + 3 * 3 + 4 * 4  # = 30, as with every value given
    full = symgrad.conv("2x2", "1x1", loss="mse", values={"input": [[1, 2], [3, 4]], "kernel": [[2]], "target": [[1, 2], [3, 4]]})
    assert full.numeric.result("grad_kernel").tolist() == [[[[30]]]]
    only_targets = json.loads(symgrad.conv("2x2", "1x1", loss="mse", values={"target": [[1, 2], [3, 4]]}).to_json())
    assert only_targets["loss"]["grad_output"][0][0][0] == "((w_1_1*x_1_1) - 1)"


def test_float_overflow_is_refused():
    with pytest.raises(SymgradError, match="overflows floating point"):
        symgrad.conv("2x2", "1x1", values={"input": [[1e300, 1], [1, 1]], "kernel": [[1e300]]})
