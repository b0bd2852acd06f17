"""Properties over random layers (hypothesis): the identities hold, the numbers match PyTorch, every
renderer and the template -> check round trip work, through the command line a user runs.

The layers are drawn per axis (size, kernel or window, stride, padding, dilation), in 1-D, 2-D and 3-D,
with channels, bias, losses, naming styles and letters; hypothesis shrinks any failure to the smallest
layer that shows it. Runs are derandomized so CI sees the same examples every time.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symgrad import api, cli

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
x_ = "x".join


@st.composite
def conv_layers(draw, max_size: int = 6):
    ndim = draw(st.sampled_from([1, 2, 2, 3]))
    axes = {"input": [], "kernel": [], "stride": [], "padding": [], "dilation": []}
    for _ in range(ndim):
        k = draw(st.integers(1, 3))
        d = draw(st.sampled_from([1, 1, 2]))
        p = draw(st.integers(0, 2))
        s = draw(st.integers(1, 3))
        extent = d * (k - 1) + 1
        n = draw(st.integers(max(1, extent - 2 * p), max(extent, max_size if ndim < 3 else 4)))
        for key, value in zip(axes, (n, k, s, p, d)):
            axes[key].append(str(value))
    layer = {key: x_(values) for key, values in axes.items()}
    layer.update(in_channels=draw(st.integers(1, 2)), out_channels=draw(st.integers(1, 2)), bias=draw(st.booleans()),
                 index=draw(st.sampled_from(["matrix", "flat"])),
                 names=draw(st.sampled_from([None, "a,k,y", "inp,ker,out"])))
    return layer


@st.composite
def pool_layers(draw):
    ndim = draw(st.sampled_from([1, 2, 2, 3]))
    axes = {"input": [], "window": [], "stride": [], "padding": []}
    for _ in range(ndim):
        k = draw(st.integers(1, 3))
        p = draw(st.integers(0, k // 2))
        s = draw(st.integers(1, 3))
        n = draw(st.integers(max(1, k - 2 * p), 7 if ndim < 3 else 4))
        for key, value in zip(axes, (n, k, s, p)):
            axes[key].append(str(value))
    layer = {key: x_(values) for key, values in axes.items()}
    layer.update(channels=draw(st.integers(1, 2)), mode=draw(st.sampled_from(["max", "avg"])),
                 ties=draw(st.sampled_from(["first", "split"])), index=draw(st.sampled_from(["matrix", "flat"])))
    return layer


def options(layer: dict) -> list[str]:
    args = []
    for key, value in layer.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    return args


def run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    return code, out.getvalue(), err.getvalue()


def random_values(d, seed: int, keys) -> dict[str, list]:
    gen = np.random.default_rng(seed)
    return {key: gen.integers(-4, 5, size=d.symbols[key].shape).tolist() for key in keys}


# --- conv


@pytest.mark.slow
@PROPERTY
@given(layer=conv_layers(), loss=st.sampled_from(["generic", "generic", "sum", "mse"]))
def test_conv_every_format_and_the_identities(layer, loss):
    """Every format renders; the JSON has the contract's shapes; every identity holds (exit 0)."""
    args = ["conv", *options(layer), "--loss", loss]
    for fmt in ("text", "json", "latex", "markdown"):
        code, out, err = run(args + ["--format", fmt])
        assert code == 0 and err == "", (fmt, err)
        assert out.strip()
        if fmt == "json":
            data = json.loads(out)
            spec = api.conv(**layer).spec
            assert data["input_shape"] == list(spec.input_shape) and data["output_shape"] == list(spec.output_shape)
            assert np.array(data["grad_kernel"]).shape == spec.kernel_shape
            assert np.array(data["grad_input"]).shape == spec.input_shape
            assert all(identity["holds"] for identity in data["identities"])
        if fmt == "latex":
            assert out.count(r"\begin{") == out.count(r"\end{") and out.rstrip().endswith(r"\end{document}")
            assert "\\input" not in out and "\\write18" not in out


@pytest.mark.slow
@PROPERTY
@given(layer=conv_layers(), seed=st.integers(0, 10_000))
def test_conv_with_values_matches_torch(layer, seed):
    torch = pytest.importorskip("torch")
    functional = pytest.importorskip("torch.nn.functional")
    symbolic = api.conv(**layer)
    spec = symbolic.spec
    keys = ["input", "kernel", "grad_output"] + (["bias"] if spec.bias else [])
    values = random_values(symbolic, seed, keys)
    d = api.conv(**layer, values=values)
    assert d.all_hold and all(d.numeric.identities.values())

    x = torch.tensor(np.array(values["input"], dtype=float)[None], requires_grad=True)
    w = torch.tensor(np.array(values["kernel"], dtype=float), requires_grad=True)
    b = torch.tensor(np.array(values["bias"], dtype=float), requires_grad=True) if spec.bias else None
    conv = {1: functional.conv1d, 2: functional.conv2d, 3: functional.conv3d}[spec.ndim]
    z = conv(x, w, b, stride=spec.stride, padding=spec.padding, dilation=spec.dilation)
    (z * torch.tensor(np.array(values["grad_output"], dtype=float)[None])).sum().backward()
    np.testing.assert_array_equal(d.numeric.result("forward").astype(float), z.detach().numpy()[0])
    np.testing.assert_array_equal(d.numeric.result("grad_kernel").astype(float), w.grad.numpy())
    np.testing.assert_array_equal(d.numeric.result("grad_input").astype(float), x.grad.numpy()[0])
    if spec.bias:
        np.testing.assert_array_equal(d.numeric.result("grad_bias").astype(float), b.grad.numpy())


# --- pool


@pytest.mark.slow
@PROPERTY
@given(layer=pool_layers(), seed=st.integers(0, 10_000))
def test_pool_every_format_matches_torch(layer, seed):
    torch = pytest.importorskip("torch")
    functional = pytest.importorskip("torch.nn.functional")
    for fmt in ("text", "json", "latex", "markdown"):
        code, out, err = run(["pool", *options(layer), "--format", fmt])
        assert code == 0 and err == "" and out.strip(), (fmt, err)
    symbolic = api.pool(**layer)
    spec = symbolic.spec
    gen = np.random.default_rng(seed)
    x = gen.integers(-9, 10, size=spec.input_shape)
    if layer["ties"] == "first" or layer["mode"] == "avg":  # PyTorch's choice among tied maxima is the first
        g = gen.integers(-4, 5, size=spec.output_shape)
    else:  # split ties are not PyTorch's; compare without ties
        x = gen.permutation(x.size).reshape(spec.input_shape) - x.size // 2
        g = gen.integers(-4, 5, size=spec.output_shape)
    d = api.pool(**layer, values={"input": x.tolist(), "grad_output": g.tolist()})
    assert d.all_hold and all(d.numeric.identities.values())
    xt = torch.tensor(x[None].astype(float), requires_grad=True)
    if layer["mode"] == "max":
        fn = {1: functional.max_pool1d, 2: functional.max_pool2d, 3: functional.max_pool3d}[spec.ndim]
        y = fn(xt, kernel_size=spec.window, stride=spec.stride, padding=spec.padding)
    else:  # explicit zero padding: avg_pool3d refuses an input smaller than the window
        widths = [w for p in reversed(spec.padding) for w in (p, p)]
        fn = {1: functional.avg_pool1d, 2: functional.avg_pool2d, 3: functional.avg_pool3d}[spec.ndim]
        y = fn(functional.pad(xt, widths), kernel_size=spec.window, stride=spec.stride, padding=0)
    (y * torch.tensor(g[None].astype(float))).sum().backward()
    np.testing.assert_allclose(d.numeric.result("forward").astype(float), y.detach().numpy()[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d.numeric.result("grad_input").astype(float), xt.grad.numpy()[0], rtol=1e-12, atol=1e-12)


# --- template -> answers -> check


def _fill(template: str, answers: dict[str, list]) -> str:
    """The template with each key's '' entries replaced, in order, by the right answers."""
    out = []
    current = None
    for line in template.splitlines():
        match = re.match(r"^(\w+) = ", line)
        if match:
            current = match.group(1)
        if current in answers and "''" in line:
            while "''" in line:
                line = line.replace("''", json.dumps(answers[current].pop(0)), 1)
        out.append(line)
    return "\n".join(out) + "\n"


def _leaves(value):
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


@pytest.mark.slow
@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(layer=st.one_of(conv_layers(max_size=5).map(lambda l: ("conv", l)), pool_layers().map(lambda l: ("pool", l))),
       student=st.text(alphabet=st.characters(max_codepoint=0x2FF, blacklist_categories=("Cc", "Cs")), max_size=20))
def test_template_filled_from_json_checks_right(layer, student):
    """The JSON's expressions, typed into the template, are judged right; one changed entry is wrong."""
    kind, options_ = layer
    code, template, err = run(["template", kind, *options(options_), "--student", student])
    assert code == 0, err
    code, out, err = run([kind, *options(options_), "--format", "json"])
    data = json.loads(out)
    keys = [k for k in ("grad_kernel", "grad_input", "grad_bias") if k in data and f"\n{k} = " in template]
    answers = {k: [str(leaf) for leaf in _leaves(data[k])] for k in keys}
    with tempfile.TemporaryDirectory() as folder:
        right = Path(folder) / "right.toml"
        right.write_text(_fill(template, {k: list(v) for k, v in answers.items()}), encoding="utf-8")
        code, out, err = run(["check", str(right), "--format", "json"])
        assert code == 0, (err, out)
        report = json.loads(out)["files"][0]
        assert report["student"] == student and report["score"] == report["max_score"] > 0
        wrong_answers = {k: list(v) for k, v in answers.items()}
        first = keys[0]
        wrong_answers[first][0] = f"({wrong_answers[first][0]}) + 1"
        wrong = Path(folder) / "wrong.toml"
        wrong.write_text(_fill(template, wrong_answers), encoding="utf-8")
        code, out, err = run(["check", str(wrong), "--format", "gradescope"])
        assert code == 1 and err == ""
        result = json.loads(out)
        assert result["score"] == report["max_score"] - 1
