"""Oracle: `symgrad net` against PyTorch autograd, end to end, over random networks.

Each network is a random stack of every stage kind (conv with strides that need not divide, padding,
dilation, channels and bias; max and average pooling; ReLU, sigmoid, tanh; flatten; dense; and a loss
or none), 1-D, 2-D and 3-D, with exact (integers, fractions) or float values. The same network is built
with torch.nn.functional in float64, and every stage's forward, dL/d(input), each parameter's gradient,
the loss and the update w − α·dL/dw are compared.
"""

from __future__ import annotations

import io
import json
import random
from fractions import Fraction

import numpy as np
import pytest

from rich.console import Console

from symgrad.layers.net import derive_net
from symgrad.netspec import NetSpec

torch = pytest.importorskip("torch")
F = pytest.importorskip("torch.nn.functional")

NETS = 120


def _x(values) -> str:
    return "x".join(map(str, values))


def random_net(rng: random.Random):
    """(input size, channels, layers text) of a random network that chains."""
    ndim = rng.choice([1, 1, 2, 2, 2, 3])
    size = [rng.randint(4, {1: 12, 2: 8, 3: 5}[ndim]) for _ in range(ndim)]
    channels = rng.randint(1, 2)
    stages, shape = [], [channels, *size]
    for _ in range(rng.randint(1, 3)):
        choice = rng.choice(["conv", "conv", "pool", "act"])
        spatial = shape[1:]
        if choice == "conv":
            k = [rng.randint(1, min(3, n)) for n in spatial]
            s = [rng.randint(1, 2) for _ in spatial]
            p = [rng.randint(0, 1) for _ in spatial]
            d = [rng.choice([1, 1, 2]) for _ in spatial]
            out = rng.randint(1, 2)
            text = f"conv {_x(k)} out={out} stride={_x(s)} padding={_x(p)} dilation={_x(d)}" + (" bias" if rng.random() < 0.6 else "")
            # groups from a second generator, so the networks drawn before groups existed stay the same
            extra = random.Random(repr((size, stages, text)))
            if shape[0] == out == 2 and extra.random() < 0.6:
                text += " groups=2"
            if any(p) and extra.random() < 0.5:  # padding that copies cells (PyTorch's limits are the spec's)
                text += " padding_mode=" + extra.choice(["reflect", "replicate", "circular"])
            if extra.random() < 0.2:  # a transposed convolution instead (it grows the tensor)
                op = [extra.randint(0, si - 1) for si in s]
                text = (f"convtranspose {_x(k)} out={out} stride={_x(s)} padding={_x([0] * len(s))} output_padding={_x(op)}"
                        + (" bias" if extra.random() < 0.5 else ""))
        elif choice == "pool":
            w = [rng.randint(1, min(2, n)) for n in spatial]
            s = [rng.randint(1, 2) for _ in spatial]
            p = [rng.randint(0, kk // 2) for kk in w]
            kind = rng.choice(["maxpool", "avgpool"])
            text = f"{kind} {_x(w)} stride={_x(s)} padding={_x(p)}"
            extra = random.Random(repr((size, stages, text)))  # PyTorch's other pooling options, drawn apart
            roll = extra.random()
            if roll < 0.2:
                text = f"{kind} output_size={_x([extra.randint(1, n) for n in spatial])}"
            elif roll < 0.45:
                text += " ceil_mode"
            if kind == "avgpool" and roll >= 0.2 and extra.random() < 0.4:
                text += " no_count_include_pad"
        else:
            text = rng.choice(["relu", "relu", "sigmoid", "tanh"])
        try:
            spec = NetSpec.build(_x(size), " | ".join(stages + [text]), channels)
        except Exception:
            continue
        stages.append(text)
        shape = list(spec.stages[-1].output_shape)
    if rng.random() < 0.8:
        stages.append("flatten")
        for _ in range(rng.randint(0, 2)):
            stages.append(f"dense {rng.randint(1, 3)}" + (" bias" if rng.random() < 0.6 else ""))
            if rng.random() < 0.5:
                stages.append(rng.choice(["relu", "sigmoid", "tanh"]))
        loss = rng.choice(["softmax-ce", "mse", "sum", None])
    else:
        loss = rng.choice(["mse", "sum", None])
    if loss:
        stages.append(loss)
    return _x(size), channels, " | ".join(stages)


def random_number(rng: random.Random, kind: str):
    if kind == "int":
        return rng.randint(-3, 3)
    if kind == "fraction":
        return f"{rng.randint(-6, 6)}/{rng.choice([1, 2, 3, 4])}"
    return round(rng.uniform(-2, 2), 3)


def nested(rng, shape, kind):
    if not shape:
        return random_number(rng, kind)
    return [nested(rng, shape[1:], kind) for _ in range(shape[0])]


def as_float(x) -> float:
    return float(Fraction(x)) if isinstance(x, str) else float(x)


def to_tensor(value, shape) -> "torch.Tensor":
    flat = np.vectorize(as_float, otypes=[float])(np.array(value, dtype=object)).reshape(shape)
    return torch.tensor(flat, dtype=torch.float64)


def build_values(rng, spec: NetSpec, kind: str):
    values = {"input": nested(rng, spec.input_shape, kind), "layers": []}
    for stage in spec.stages:
        item = {}
        if stage.kind in ("conv", "convtranspose"):
            item["kernel"] = nested(rng, stage.layer.kernel_shape, kind)
            if stage.bias:
                item["bias"] = nested(rng, (stage.layer.out_channels,), kind)
        elif stage.kind == "dense":
            item["weight"] = nested(rng, (stage.output_shape[0], stage.input_shape[0]), kind)
            if stage.bias:
                item["bias"] = nested(rng, stage.output_shape, kind)
        elif stage.kind == "softmax-ce":
            item["target"] = rng.randint(1, stage.input_shape[0])
        elif stage.kind == "mse":
            item["target"] = nested(rng, stage.input_shape, kind)
        values["layers"].append(item)
    if spec.loss is None:
        values["grad_output"] = nested(rng, spec.output_shape, kind)
    return values


def torch_run(spec: NetSpec, values: dict, lr: float):
    """Forward outputs, dL/d(input) of every stage, parameter gradients, the loss, the updates."""
    x = to_tensor(values["input"], spec.input_shape).requires_grad_(True)
    current, tensors, params = x, [], []
    inputs = []
    for stage, item in zip(spec.stages, values["layers"]):
        inputs.append(current)
        current.retain_grad()
        n = len(stage.input_shape) - 1
        p = {}
        if stage.kind == "conv":
            layer = stage.layer
            w = to_tensor(item["kernel"], layer.kernel_shape).requires_grad_(True)
            b = to_tensor(item["bias"], (layer.out_channels,)).requires_grad_(True) if stage.bias else None
            p = {"kernel": w, **({"bias": b} if b is not None else {})}
            conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
            pairs = [v for lo, hi in zip(reversed(layer.padding), reversed(layer.padding_end)) for v in (lo, hi)]
            mode = "constant" if layer.padding_mode == "zeros" else layer.padding_mode
            padded = F.pad(current[None], pairs, mode=mode) if any(pairs) else current[None]
            out = conv(padded, w, b, stride=layer.stride, dilation=layer.dilation, groups=layer.groups)[0]
        elif stage.kind == "convtranspose":
            layer = stage.layer
            w = to_tensor(item["kernel"], layer.kernel_shape).requires_grad_(True)
            b = to_tensor(item["bias"], (layer.out_channels,)).requires_grad_(True) if stage.bias else None
            p = {"kernel": w, **({"bias": b} if b is not None else {})}
            fn = getattr(F, f"conv_transpose{n}d")
            out = fn(current[None], w, b, stride=layer.stride, padding=layer.padding, output_padding=layer.output_padding,
                     groups=layer.groups, dilation=layer.dilation)[0]
        elif stage.kind in ("maxpool", "avgpool") and stage.layer.adaptive_size:
            pool = getattr(F, f"adaptive_{stage.kind[:3]}_pool{n}d")
            out = pool(current[None], stage.layer.adaptive_size)[0]
        elif stage.kind == "maxpool":
            layer = stage.layer
            pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]
            out = pool(current[None], layer.window, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)[0]
        elif stage.kind == "avgpool":
            layer = stage.layer
            pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
            out = pool(current[None], layer.window, layer.stride, layer.padding, ceil_mode=layer.ceil_mode,
                       count_include_pad=layer.count_include_pad)[0]
        elif stage.kind == "relu":
            out = torch.relu(current)
        elif stage.kind == "sigmoid":
            out = torch.sigmoid(current)
        elif stage.kind == "tanh":
            out = torch.tanh(current)
        elif stage.kind == "flatten":
            out = torch.flatten(current)
        elif stage.kind == "dense":
            v = to_tensor(item["weight"], (stage.output_shape[0], stage.input_shape[0])).requires_grad_(True)
            c = to_tensor(item["bias"], stage.output_shape).requires_grad_(True) if stage.bias else None
            p = {"weight": v, **({"bias": c} if c is not None else {})}
            out = F.linear(current, v, c)
        elif stage.kind == "softmax-ce":
            out = F.cross_entropy(current[None], torch.tensor([item["target"] - 1]), reduction="sum")
        elif stage.kind == "mse":
            out = 0.5 * ((current - to_tensor(item["target"], stage.input_shape)) ** 2).sum()
        else:
            out = current.sum()
        tensors.append(out)
        params.append(p)
        current = out
    if spec.loss is not None:
        loss = current
    else:
        loss = (current * to_tensor(values["grad_output"], spec.output_shape)).sum()
    loss.backward()
    grads_in = [t.grad for t in inputs]
    updates = [{k: (t - lr * t.grad).detach() for k, t in p.items()} for p in params]
    return tensors, grads_in, params, float(loss.detach()), updates


def close(got, want, what):
    got = np.vectorize(float, otypes=[float])(np.asarray(got, dtype=object))
    want = want.detach().numpy()
    assert got.shape == want.shape, (what, got.shape, want.shape)
    assert np.allclose(got, want, rtol=1e-7, atol=1e-9), f"{what}:\n{got}\nvs torch\n{want}"


@pytest.mark.parametrize("seed", range(NETS))
def test_random_net_matches_torch(seed):
    rng = random.Random(9000 + seed)
    size, channels, layers = random_net(rng)
    spec = NetSpec.build(size, layers, channels)
    kind = rng.choice(["int", "fraction", "float"])
    values = build_values(rng, spec, kind)
    lr = "1/10" if kind != "float" else 0.05
    d = derive_net(spec, values, lr=lr)
    tensors, grads_in, params, loss, updates = torch_run(spec, values, float(Fraction(lr)) if isinstance(lr, str) else lr)
    where = f"{size} c{channels} '{layers}' {kind}"
    for i, stage in enumerate(d.stages):
        label = f"{where}: stage {i + 1} {stage.kind}"
        if stage.spec.is_loss:
            assert d.loss_value is not None, label
            assert abs(float(d.loss_value) - loss) <= 1e-7 * max(1, abs(loss)), (label, d.loss_value, loss)
            g_known, g = stage.d.grad
            assert g_known.all(), label
            close(g.reshape(stage.spec.input_shape), grads_in[i], label + " dL/dy")
            continue
        numeric = stage.d.numeric
        close(numeric.result("forward").reshape(stage.spec.output_shape), tensors[i], label + " forward")
        close(numeric.result("grad_input"), grads_in[i], label + " dL/d(input)")
        for param, tensor in params[i].items():
            key = {"kernel": "grad_kernel", "weight": "grad_weight", "bias": "grad_bias"}[param]
            close(numeric.result(key), tensor.grad, f"{label} dL/d{param}")
            known, new = stage.update[param]
            assert known.all(), label
            close(new.reshape(tensor.shape), updates[i][param], f"{label} update of {param}")
        assert all(numeric.identities.values()), label
    assert d.all_hold
    # every format renders it (the documents are checked for content in test_net.py)
    data = json.loads(d.to_json())
    assert [stage["kind"] for stage in data["stages"]] == [stage.kind for stage in spec.stages]
    assert d.to_markdown().count("\n### Stage ") == 2 * len(spec.stages) + sum(1 for stage in spec.stages if stage.params)
    Console(file=io.StringIO(), width=100).print(d)
    if kind != "float" and not d.float_stages:
        assert d.exact
        assert all(not isinstance(v, float) for v in [d.loss_value] if v is not None)


def test_the_oracle_covers_every_kind():
    """The random networks above reach every stage kind, 1-D, 2-D and 3-D, and each value kind."""
    kinds, dims, values, grouped, modes, pools = set(), set(), set(), 0, set(), set()
    for seed in range(NETS):
        rng = random.Random(9000 + seed)
        size, channels, layers = random_net(rng)
        spec = NetSpec.build(size, layers, channels)
        kinds |= {stage.kind for stage in spec.stages}
        grouped += any(stage.kind == "conv" and stage.layer.groups > 1 for stage in spec.stages)
        modes |= {stage.layer.padding_mode for stage in spec.stages if stage.kind == "conv" and stage.layer.padded}
        pools |= {option for stage in spec.stages if stage.kind in ("maxpool", "avgpool")
                  for option, on in (("adaptive", stage.layer.adaptive_size), ("ceil", stage.layer.ceil_mode),
                                     ("no_count", not stage.layer.count_include_pad)) if on}
        dims.add(len(spec.input_shape) - 1)
        values.add(rng.choice(["int", "fraction", "float"]))
    assert kinds == {"conv", "convtranspose", "maxpool", "avgpool", "relu", "sigmoid", "tanh", "flatten", "dense", "softmax-ce", "mse", "sum"}
    assert dims == {1, 2, 3} and values == {"int", "fraction", "float"}
    assert grouped >= 5, grouped  # grouped convolutions (groups=2)
    assert modes == {"zeros", "reflect", "replicate", "circular"}, modes
    assert pools == {"adaptive", "ceil", "no_count"}, pools
