"""Pooling against PyTorch: max_pool / avg_pool forward and autograd backward over random layers.

Values are distinct (a random permutation), so the maximum of every window is unique; ties are
tested separately. The numbers come from the derivation's own numeric path (`--values`), and the
symbolic chain rule is also checked with SymPy's Max/Heaviside on small layers. Only the comparisons
with PyTorch need torch (they skip without it); the SymPy checks and seed 002's example do not.
"""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
import sympy

import symgrad
from symgrad.spec import PoolSpec



@pytest.fixture(scope="module")
def F():
    """torch.nn.functional: the tests that take it skip when torch is not installed."""
    pytest.importorskip("torch")
    return pytest.importorskip("torch.nn.functional")


def random_layers(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    layers = []
    for index in range(count):
        ndim = rng.choice([1, 2, 2, 3])
        axes = []
        for _ in range(ndim):
            k = rng.randint(1, 3 if ndim == 3 else 4)
            p = rng.randint(0, k // 2)
            s = rng.choice([1, 2, k, k + 1]) if rng.random() < 0.8 else k
            n = rng.randint(max(1, k - 2 * p), 9 if ndim < 3 else 5)
            axes.append((n, k, max(1, s), p))
        n, k, s, p = (tuple(column) for column in zip(*axes))
        layers.append(dict(index=index, input=n, window=k, stride=s, padding=p, channels=rng.randint(1, 3),
                           mode=rng.choice(["max", "avg"])))
    return layers


LAYERS = random_layers(160)
x_ = lambda t: "x".join(map(str, t))  # noqa: E731


def layer_id(layer: dict) -> str:
    return (f"{layer['index']:03d}-{layer['mode']}-in{x_(layer['input'])}-k{x_(layer['window'])}"
            f"-s{x_(layer['stride'])}-p{x_(layer['padding'])}-c{layer['channels']}")


def torch_pool(F, layer: dict, x: np.ndarray, g: np.ndarray):
    import torch

    xt = torch.tensor(x[None], dtype=torch.float64, requires_grad=True)
    fn = getattr(F, f"{layer['mode']}_pool{len(layer['input'])}d")  # max_pool2d, avg_pool3d, ...
    if layer["mode"] == "avg" and len(layer["input"]) == 3 and any(n < k for n, k in zip(layer["input"], layer["window"])):
        # avg_pool3d refuses an unpadded input smaller than the window (avg_pool1d/2d and max_pool do
        # not); with count_include_pad=True its result is that of explicit zero padding
        widths = [w for p in reversed(layer["padding"]) for w in (p, p)]
        y = fn(F.pad(xt, widths), kernel_size=layer["window"], stride=layer["stride"], padding=0)
    else:
        y = fn(xt, kernel_size=layer["window"], stride=layer["stride"], padding=layer["padding"])
    (y * torch.tensor(g[None], dtype=torch.float64)).sum().backward()
    return y.detach().numpy()[0], xt.grad.numpy()[0]


def test_the_layers_cover_the_hard_cases():
    specs = [PoolSpec.build(x_(l["input"]), x_(l["window"]), x_(l["stride"]), x_(l["padding"]), l["mode"], l["channels"]) for l in LAYERS]
    assert {len(l["input"]) for l in LAYERS} == {1, 2, 3}
    assert sum(any(s < k for s, k in zip(l["stride"], l["window"])) for l in LAYERS) >= 30  # overlapping windows
    assert sum(any(l["padding"]) for l in LAYERS) >= 30
    assert sum(any((n + 2 * p - k) % s for n, k, s, p in zip(sp.input_size, sp.window, sp.stride, sp.padding)) for sp in specs) >= 30  # floor drops cells
    assert sum(l["channels"] > 1 for l in LAYERS) >= 50
    assert 50 <= sum(l["mode"] == "max" for l in LAYERS) <= 110


@pytest.mark.parametrize("layer", LAYERS, ids=[layer_id(l) for l in LAYERS])
def test_against_torch(layer, F):
    spec = PoolSpec.build(x_(layer["input"]), x_(layer["window"]), x_(layer["stride"]), x_(layer["padding"]), layer["mode"], layer["channels"])
    gen = np.random.default_rng(layer["index"])
    x = gen.permutation(int(np.prod(spec.input_shape))).reshape(spec.input_shape).astype(float) - 7.5
    g = gen.integers(-5, 6, size=spec.output_shape).astype(float)
    d = symgrad.pool(input=x_(layer["input"]), window=x_(layer["window"]), stride=x_(layer["stride"]),
                     padding=x_(layer["padding"]), mode=layer["mode"], channels=layer["channels"],
                     values={"input": (x * 2).astype(int).tolist(), "grad_output": g.astype(int).tolist()})
    want_y, want_dx = torch_pool(F, layer, x * 2, g)
    assert d.all_hold and all(d.numeric.identities.values())
    got_y = d.numeric.result("forward").astype(float)
    got_dx = d.numeric.result("grad_input").astype(float)
    np.testing.assert_allclose(got_y, want_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_dx, want_dx, rtol=1e-12, atol=1e-12)


TIES_X = [[1, 5, 5, 0], [5, 2, 0, 0], [3, 3, 1, 1], [3, 3, 1, 1]]
TIES_G = [[1, 2], [4, 8]]


def test_ties_first_is_pytorchs_choice(F):
    x, g = TIES_X, TIES_G
    first = symgrad.pool("4x4", "2x2", values={"input": x, "grad_output": g})
    _, want = torch_pool(F, dict(input=(4, 4), window=(2, 2), stride=(2, 2), padding=(0, 0), mode="max"),
                         np.array([x], dtype=float), np.array([g], dtype=float))
    np.testing.assert_array_equal(first.numeric.result("grad_input").astype(float), want)


def test_ties_first_takes_the_first_and_split_shares():
    x, g = TIES_X, TIES_G
    first = symgrad.pool("4x4", "2x2", values={"input": x, "grad_output": g})
    split = symgrad.pool("4x4", "2x2", ties="split", values={"input": x, "grad_output": g})
    # windows: [1 5; 5 2] two 5s share dy=1; [5 0; 0 0] one 5 takes dy=2; [3 3; 3 3] and [1 1; 1 1]
    # four-way ties share dy=4 and dy=8
    assert split.numeric.result("grad_input").tolist() == [[
        [0, Fraction(1, 2), 2, 0],
        [Fraction(1, 2), 0, 0, 0],
        [1, 1, 2, 2],
        [1, 1, 2, 2],
    ]]
    assert first.numeric.result("grad_input").tolist() == [[[0, 1, 2, 0], [0, 0, 0, 0], [4, 0, 8, 0], [0, 0, 0, 0]]]
    assert sum(split.numeric.result("grad_input").ravel()) == 1 + 2 + 4 + 8  # nothing lost, nothing doubled


def test_overlapping_windows_add_up():
    """3x3 windows, stride 1: the centre cell is the max of all four windows and receives all of dL/dY."""
    x = [[0, 1, 0, 2], [1, 9, 1, 0], [0, 1, 0, 3], [4, 0, 1, 0]]
    d = symgrad.pool("4x4", "3x3", stride=1, values={"input": x, "grad_output": [[1, 2], [3, 4]]})
    assert d.numeric.result("grad_input")[0, 1, 1] == 10
    assert d.numeric.result("forward").tolist() == [[[9, 9], [9, 9]]]


@pytest.mark.parametrize("params", [
    dict(input="4x4", window="2x2"),
    dict(input="5", window="3", stride=2, padding=1),
    dict(input="3x4", window="2x3", stride="1x2", padding="1x1", channels=2),
    dict(input="3x3", window="2x2", stride=1, mode="avg", padding=1),
])
def test_chain_rule_matches_sympy_diff(params):
    """dL/dx_i from the derivation equals sympy.diff of sum_k dy_k * y_k, with y_k = Max(...) or the mean."""
    d = symgrad.pool(**params)
    loss = sympy.Add(*[d.symbols.sympy_symbol(d.symbols["grad_output"].offset + k) * d.forward_expr(k)
                       for k in range(d.windows.shape[0])])
    for i in range(int(np.prod(d.spec.input_shape))):
        x = d.symbols.sympy_symbol(d.symbols["input"].offset + i)
        assert sympy.simplify(sympy.diff(loss, x) - d.gradient_expr("grad_input", i)) == 0


def test_seed_002_four_by_four_two_by_two():
    """The seeds' 4x4 input, 2x2 window, stride 2: each dL/dx is dy of its window times the indicator."""
    d = symgrad.pool("4x4", "2x2", stride=2)
    assert str(d.forward_expr(0)) == "Max(x_1_1, x_1_2, x_2_1, x_2_2)"
    assert str(d.gradient_expr("grad_input", 1)) == "dy_1_1*Heaviside(x_1_2 - Max(x_1_1, x_2_1, x_2_2))"
    assert str(d.gradient_expr("grad_input", 15)) == "dy_2_2*Heaviside(x_4_4 - Max(x_3_3, x_3_4, x_4_3))"
