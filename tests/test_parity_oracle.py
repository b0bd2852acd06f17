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
pytestmark = pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths")
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


def random_padding_options(rng: random.Random) -> dict:
    """A random conv layer with 'same'/'valid' padding or a padding mode other than zeros."""
    ndim = rng.choice([1, 2, 2, 3])
    word = rng.choice(["same", "same", "valid", None])
    mode = rng.choice(["zeros", "reflect", "reflect", "replicate", "circular"]) if word != "valid" else "zeros"
    axes = []
    for _ in range(ndim):
        k = rng.randint(1, 4 if ndim < 3 else 3)
        d = rng.choice([1, 1, 2])
        s = 1 if word == "same" else rng.choice([1, 2, 3])
        extent = d * (k - 1) + 1
        n = rng.randint(max(extent, 3), max(extent, MAX_SIZE[ndim]) + 1)
        p = (d * (k - 1) + 1) // 2 if word == "same" else rng.choice([0, 1, 2])
        if mode == "reflect":
            p = min(p, n - 1)
        axes.append((n, k, s, min(p, n), d))
    n, k, s, p, d = zip(*axes)
    groups = rng.choice([1, 1, 2])
    return dict(input=_x(n), kernel=_x(k), stride=_x(s), padding=word or _x(p), dilation=_x(d), padding_mode=mode,
                in_channels=groups * rng.randint(1, 2), out_channels=groups * rng.randint(1, 2), groups=groups,
                bias=rng.random() < 0.5)


def _pad_configs(count: int) -> list[dict]:
    out, seed = [], 5000
    while len(out) < count:
        options = random_padding_options(random.Random(seed))
        seed += 1
        try:
            ConvSpec.build(**options)
        except Exception:  # a draw PyTorch refuses too (reflect padding as large as the input, ...)
            continue
        out.append(options)
    return out


PAD_CONFIGS = _pad_configs(130)


def torch_conv(spec: ConvSpec, values: dict):
    x = torch.tensor(values["input"][None], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(values["kernel"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(values["bias"], dtype=torch.float64, requires_grad=True) if spec.bias else None
    # F.pad takes (before, after) pairs from the last axis back; reflect/replicate/circular as nn.Conv does
    pairs = [v for before, after in zip(reversed(spec.padding), reversed(spec.padding_end)) for v in (before, after)]
    mode = "constant" if spec.padding_mode == "zeros" else spec.padding_mode
    padded = F.pad(x, pairs, mode=mode) if any(pairs) else x
    out = CONV[spec.ndim](padded, w, b, stride=spec.stride, dilation=spec.dilation, groups=spec.groups)
    if spec.padding_word == "same" and spec.padding_mode == "zeros":  # and PyTorch's own 'same' agrees
        same = CONV[spec.ndim](x, w, b, padding="same", dilation=spec.dilation, groups=spec.groups)
        assert torch.equal(same, out)
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


@pytest.mark.parametrize("options", PAD_CONFIGS, ids=[f"pad-{i:03d}" for i in range(len(PAD_CONFIGS))])
def test_padding_words_and_modes_against_torch(options):
    check_conv_against_torch(options, seed=len(options["padding"]))


def test_padding_configs_cover_each_mode():
    specs = [ConvSpec.build(**o) for o in PAD_CONFIGS]
    for mode in ("reflect", "replicate", "circular"):
        assert sum(s.padding_mode == mode and s.padded for s in specs) >= 15, mode
    assert sum(s.padding_word == "same" for s in specs) >= 40
    assert sum(s.padding_word == "same" and bool(s.padding_extra) for s in specs) >= 15  # the odd zero at the end
    assert sum(s.padding_word == "valid" for s in specs) >= 10
    assert {s.ndim for s in specs if s.padding_mode == "reflect"} == {1, 2, 3}


def test_group_configs_cover_depthwise_and_grouped():
    specs = [ConvSpec.build(**o) for o in GROUP_CONFIGS]
    assert sum(s.group_in == 1 for s in specs) >= 20  # depthwise (one input channel per filter)
    assert sum(s.group_in > 1 for s in specs) >= 20
    assert sum(s.group_out > 1 for s in specs) >= 20
    assert {s.ndim for s in specs} == {1, 2, 3}


# --- pooling: ceil_mode, dilation (max), count_include_pad=False, divisor_override (avg), adaptive


def random_pool_options(rng: random.Random) -> dict:
    ndim = rng.choice([1, 2, 2, 3])
    mode = rng.choice(["max", "avg"])
    kind = rng.choice(["ceil", "dilation", "no_count", "divisor", "adaptive"] if mode == "avg" or True else [])
    if mode == "avg" and kind == "dilation":
        kind = "no_count"
    if mode == "max" and kind in ("no_count", "divisor"):
        kind = rng.choice(["ceil", "dilation"])
    size = [rng.randint(3, MAX_SIZE[ndim] + 2) for _ in range(ndim)]
    options = dict(input=_x(size), mode=mode, channels=rng.randint(1, 2))
    if kind == "adaptive":
        options["output_size"] = _x([rng.randint(1, n) for n in size])
        return options
    window = [rng.randint(1, min(3, n)) for n in size]
    dilation = [rng.choice([1, 2]) if kind == "dilation" else 1 for _ in size]
    extent = [d * (k - 1) + 1 for d, k in zip(dilation, window)]
    padding = [rng.randint(0, e // 2) for e in extent]
    stride = [rng.randint(1, 3) for _ in size]
    options.update(window=_x(window), stride=_x(stride), padding=_x(padding))
    if kind == "dilation":
        options["dilation"] = _x(dilation)
    options["ceil_mode"] = kind == "ceil" or rng.random() < 0.3
    if kind == "no_count" or (mode == "avg" and rng.random() < 0.3):
        options["count_include_pad"] = False
    if kind == "divisor":
        options["divisor"] = rng.randint(1, 7)
    return options


def _pool_configs(count: int) -> list[dict]:
    from symgrad.spec import PoolSpec

    out, seed = [], 7000
    while len(out) < count:
        options = random_pool_options(random.Random(seed))
        seed += 1
        try:
            PoolSpec.build(**options)
        except Exception:  # a window that does not fit, as PyTorch would refuse it too
            continue
        out.append(options)
    return out


POOL_CONFIGS = _pool_configs(140)


def torch_pool(spec, x: np.ndarray, g: np.ndarray):
    xt = torch.tensor(x[None], dtype=torch.float64, requires_grad=True)
    n = spec.ndim
    if spec.adaptive_size:
        fn = getattr(F, f"adaptive_{spec.mode}_pool{n}d")
        y = fn(xt, spec.adaptive_size)
    elif spec.mode == "max":
        y = getattr(F, f"max_pool{n}d")(xt, spec.window, spec.stride, spec.padding, dilation=spec.dilations,
                                         ceil_mode=spec.ceil_mode)
    else:
        args = dict(ceil_mode=spec.ceil_mode, count_include_pad=spec.count_include_pad)
        if n > 1:
            y = getattr(F, f"avg_pool{n}d")(xt, spec.window, spec.stride, spec.padding, divisor_override=spec.divisor_override, **args)
        else:  # avg_pool1d has no divisor_override: the same pooling as 2-D over a unit axis
            y = F.avg_pool2d(xt[..., None], (*spec.window, 1), (*spec.stride, 1), (*spec.padding, 0),
                             divisor_override=spec.divisor_override, **args)[..., 0]
    (y * torch.tensor(g[None], dtype=torch.float64)).sum().backward()
    return y.detach().numpy()[0], xt.grad.numpy()[0]


@pytest.mark.parametrize("options", POOL_CONFIGS, ids=[f"pool-{i:03d}" for i in range(len(POOL_CONFIGS))])
def test_pooling_options_against_torch(options):
    import symgrad
    from symgrad.spec import PoolSpec

    spec = PoolSpec.build(**options)
    gen = np.random.default_rng(len(POOL_CONFIGS) + sum(map(ord, repr(options))))
    x = gen.permutation(int(np.prod(spec.input_shape))).reshape(spec.input_shape) - 7  # distinct: one maximum per window
    g = gen.integers(-5, 6, size=spec.output_shape)
    d = symgrad.pool(**options, values={"input": x.tolist(), "grad_output": g.tolist()})
    assert d.spec.output_shape == spec.output_shape
    want_y, want_dx = torch_pool(spec, x.astype(float), g.astype(float))
    assert d.all_hold and all(d.numeric.identities.values())
    np.testing.assert_allclose(d.numeric.result("forward").astype(float), want_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.numeric.result("grad_input").astype(float), want_dx, rtol=1e-12, atol=1e-12)


def test_pool_configs_cover_each_option():
    from symgrad.spec import PoolSpec

    specs = [PoolSpec.build(**o) for o in POOL_CONFIGS]
    windowed = [s for s in specs if not s.adaptive_size]
    assert sum(s.ceil_mode and s.output_size != PoolSpec.build(**{**o, "ceil_mode": False}).output_size
               for s, o in zip(specs, POOL_CONFIGS) if not s.adaptive_size) >= 15  # ceil adds a window
    assert sum(bool(s.dilation) for s in windowed) >= 15
    assert sum(s.mode == "avg" and not s.count_include_pad and any(s.padding) for s in windowed) >= 10
    assert sum(bool(s.divisor_override) for s in windowed) >= 10
    assert sum(s.mode == "max" for s in specs if s.adaptive_size) >= 8 and sum(s.mode == "avg" for s in specs if s.adaptive_size) >= 8
    assert sum(any(n % o for n, o in zip(s.input_size, s.adaptive_size)) for s in specs if s.adaptive_size) >= 8  # uneven windows
    assert {s.ndim for s in specs} == {1, 2, 3}


# --- transposed convolution


def random_transpose_options(rng: random.Random) -> dict:
    ndim = rng.choice([1, 2, 2, 3])
    axes = []
    for _ in range(ndim):
        k = rng.randint(1, 3)
        s = rng.choice([1, 2, 2, 3])
        d = rng.choice([1, 1, 2])
        op = rng.randint(0, max(s, d) - 1)
        p = rng.choice([0, 0, 1, 2])
        axes.append((rng.randint(1, {1: 5, 2: 4, 3: 3}[ndim]), k, s, p, op, d))
    n, k, s, p, op, d = zip(*axes)
    groups = rng.choice([1, 1, 2])
    return dict(input=_x(n), kernel=_x(k), stride=_x(s), padding=_x(p), output_padding=_x(op), dilation=_x(d),
                in_channels=groups * rng.randint(1, 2), out_channels=groups * rng.randint(1, 2), groups=groups,
                bias=rng.random() < 0.5)


def _transpose_configs(count: int) -> list[dict]:
    from symgrad.spec import ConvTransposeSpec

    out, seed = [], 9000
    while len(out) < count:
        options = random_transpose_options(random.Random(seed))
        seed += 1
        try:
            ConvTransposeSpec.build(**options)
        except Exception:  # no output left (padding too large for the layer): PyTorch refuses it too
            continue
        out.append(options)
    return out


TRANSPOSE_CONFIGS = _transpose_configs(100)


@pytest.mark.parametrize("options", TRANSPOSE_CONFIGS, ids=[f"transpose-{i:03d}" for i in range(len(TRANSPOSE_CONFIGS))])
def test_convtranspose_against_torch(options):
    from symgrad.layers.convtranspose import derive_convtranspose
    from symgrad.spec import ConvTransposeSpec

    spec = ConvTransposeSpec.build(**options)
    d = derive_convtranspose(spec)
    gen = np.random.default_rng(sum(map(ord, repr(options))))
    values = {key: gen.standard_normal(d.symbols[key].shape) for key in ("input", "kernel", "grad_output")}
    if spec.bias:
        values["bias"] = gen.standard_normal(d.symbols["bias"].shape)
    vec = value_vector(d.symbols, values)
    x = torch.tensor(values["input"][None], requires_grad=True)
    w = torch.tensor(values["kernel"], requires_grad=True)
    b = torch.tensor(values["bias"], requires_grad=True) if spec.bias else None
    fn = getattr(F, f"conv_transpose{spec.ndim}d")
    out = fn(x, w, b, stride=spec.stride, padding=spec.padding, output_padding=spec.output_padding, groups=spec.groups,
             dilation=spec.dilation)
    (out * torch.tensor(values["grad_output"][None])).sum().backward()
    ref = {"forward": out.detach().numpy()[0], "grad_kernel": w.grad.numpy(), "grad_input": x.grad.numpy()[0]}
    if spec.bias:
        ref["grad_bias"] = b.grad.numpy()
    close(evaluate(d.forward, vec), ref["forward"], "forward")
    for key, table in d.gradients():
        close(evaluate(table, vec), ref[key], key)
    assert [i.name for i in d.identities] == ["forward", "grad_kernel", "grad_input"]
    for identity in d.identities:
        assert identity.holds, identity.name
        close(evaluate(identity.computed, vec), ref[identity.of], identity.name)


def test_transpose_configs_cover_each_option():
    from symgrad.spec import ConvTransposeSpec

    specs = [ConvTransposeSpec.build(**o) for o in TRANSPOSE_CONFIGS]
    assert sum(any(s.output_padding) for s in specs) >= 20
    assert sum(any(op >= st for op, st in zip(s.output_padding, s.stride)) for s in specs) >= 3  # op < dilation only
    assert sum(any(s.padding) for s in specs) >= 30 and sum(s.groups > 1 for s in specs) >= 20
    assert sum(any(d > 1 for d in s.dilation) for s in specs) >= 20 and {s.ndim for s in specs} == {1, 2, 3}
