"""--values, end to end: numbers put into the derivation must give PyTorch's forward and gradients.

The values go in the way a user gives them (nested lists, ints, "p/q" strings, floats; channel levels
of size 1 left out); the numeric results come from the derivation (`d.numeric`), not from the oracle
helpers, so the whole substitute-and-merge path is tested.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import symgrad
from symgrad import ConvSpec

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
