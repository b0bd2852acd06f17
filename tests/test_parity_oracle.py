"""PyTorch parity for the options beyond the first release (issue 16): groups, ... — random layers of
every new option against torch.nn.functional autograd in float64, with every identity (the closed forms
and the matrix form) holding and equal to autograd's numbers."""

from __future__ import annotations

import random

import numpy as np
import pytest

from symgrad import ConvSpec, derive_conv

from conftest import evaluate, value_vector

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
MAX_SIZE = {1: 10, 2: 6, 3: 4}


def _x(values) -> str:
    return "x".join(map(str, values))


def random_conv_options(rng: random.Random, index: int) -> dict:
    """A random conv layer that uses groups > 1."""
    ndim = rng.choice([1, 2, 2, 3])
    axes = []
    for _ in range(ndim):
        k = rng.randint(1, 3)
        d = rng.choice([1, 1, 2])
        p = rng.choice([0, 0, 1])
        s = rng.choice([1, 1, 2, 3])
        extent = d * (k - 1) + 1
        axes.append((rng.randint(max(1, extent - 2 * p), max(extent, MAX_SIZE[ndim])), k, s, p, d))
    n, k, s, p, d = zip(*axes)
    groups = rng.choice([2, 2, 3, 4])
    per_in, per_out = rng.choice([1, 1, 2]), rng.choice([1, 2])
    return dict(input=_x(n), kernel=_x(k), stride=_x(s), padding=_x(p), dilation=_x(d), groups=groups,
                in_channels=groups * per_in, out_channels=groups * per_out, bias=rng.random() < 0.5)


GROUP_CONFIGS = [random_conv_options(random.Random(1000 + i), i) for i in range(80)]


def torch_conv(spec: ConvSpec, values: dict):
    x = torch.tensor(values["input"][None], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(values["kernel"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(values["bias"], dtype=torch.float64, requires_grad=True) if spec.bias else None
    out = CONV[spec.ndim](x, w, b, stride=spec.stride, padding=spec.padding, dilation=spec.dilation, groups=spec.groups)
    (out * torch.tensor(values["grad_output"][None], dtype=torch.float64)).sum().backward()
    ref = {"forward": out.detach().numpy()[0], "grad_kernel": w.grad.numpy(), "grad_input": x.grad.numpy()[0]}
    if spec.bias:
        ref["grad_bias"] = b.grad.numpy()
    return ref


def close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * max(1.0, float(np.abs(want).max(initial=0))), err_msg=what)


def check_conv_against_torch(options: dict, seed: int) -> None:
    spec = ConvSpec.build(**options)
    d = derive_conv(spec, im2col=True)
    gen = np.random.default_rng(seed)
    values = {key: gen.standard_normal(d.symbols[key].shape) for key in ("input", "kernel", "grad_output")}
    if spec.bias:
        values["bias"] = gen.standard_normal(d.symbols["bias"].shape)
    vec = value_vector(d.symbols, values)
    ref = torch_conv(spec, values)
    close(evaluate(d.forward, vec), ref["forward"], "forward")
    for key, table in d.gradients():
        close(evaluate(table, vec), ref[key], key)
    for identity in d.identities:
        assert identity.holds, identity.name
        close(evaluate(identity.computed, vec), ref[identity.of], identity.name)


@pytest.mark.parametrize("options", GROUP_CONFIGS, ids=[f"groups-{i:02d}" for i in range(len(GROUP_CONFIGS))])
def test_groups_against_torch(options):
    check_conv_against_torch(options, seed=len(options["input"]))


def test_group_configs_cover_depthwise_and_grouped():
    specs = [ConvSpec.build(**o) for o in GROUP_CONFIGS]
    assert sum(s.group_in == 1 for s in specs) >= 20  # depthwise (one input channel per filter)
    assert sum(s.group_in > 1 for s in specs) >= 20
    assert sum(s.group_out > 1 for s in specs) >= 20
    assert {s.ndim for s in specs} == {1, 2, 3}
