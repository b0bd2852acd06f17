"""Oracle 2: numbers. Evaluate symgrad's term tables at random values and compare with PyTorch autograd.

For every configuration the forward outputs, dL/dW, dL/dX, dL/db (with dL/dZ = G random, i.e. the
loss sum(Z * G)) and the closed-form identity tables are evaluated straight from their arrays
(value[a] * value[b] * coef, summed per entry) and compared with torch.nn.functional.conv{1,2,3}d.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest
import sympy

from symgrad import ConvSpec, derive_conv
from symgrad.tensor import ZERO

from conftest import evaluate, value_vector

torch = pytest.importorskip("torch")
torch_functional = pytest.importorskip("torch.nn.functional")

CONV = {1: torch_functional.conv1d, 2: torch_functional.conv2d, 3: torch_functional.conv3d}
CONFIG_COUNT = 240
MAX_SIZE = {1: 11, 2: 7, 3: 5}  # largest input length per axis, by number of axes


@dataclass(frozen=True)
class Config:
    index: int
    input: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    in_channels: int
    out_channels: int
    bias: bool

    @property
    def ndim(self) -> int:
        return len(self.input)

    @property
    def id(self) -> str:
        x = lambda t: "x".join(map(str, t))
        return (
            f"{self.index:03d}-{self.ndim}d-in{x(self.input)}-k{x(self.kernel)}-s{x(self.stride)}"
            f"-p{x(self.padding)}-d{x(self.dilation)}-c{self.in_channels}f{self.out_channels}"
            + ("-bias" if self.bias else "")
        )

    def spec(self) -> ConvSpec:
        x = lambda t: "x".join(map(str, t))
        return ConvSpec.build(
            input=x(self.input), kernel=x(self.kernel), stride=x(self.stride), padding=x(self.padding),
            dilation=x(self.dilation), in_channels=self.in_channels, out_channels=self.out_channels, bias=self.bias,
        )


def random_configs(count: int, seed: int = 20250101) -> list[Config]:
    rng = random.Random(seed)
    configs = []
    for index in range(count):
        ndim = rng.choice([1, 1, 2, 2, 2, 3, 3])
        axes = []
        for _ in range(ndim):
            k = rng.randint(1, 3 if ndim == 3 else 4)
            d = rng.choice([1, 1, 2])
            p = rng.choice([0, 0, 1, 2])
            s = rng.choice([1, 2, 2, 3, 3])
            extent = d * (k - 1) + 1
            n = rng.randint(max(1, extent - 2 * p), max(extent, MAX_SIZE[ndim]))
            axes.append((n, k, s, p, d))
        n, k, s, p, d = (tuple(column) for column in zip(*axes))
        configs.append(Config(index, n, k, s, p, d, rng.randint(1, 3), rng.randint(1, 3), rng.random() < 0.5))
    return configs


CONFIGS = random_configs(CONFIG_COUNT)


def torch_conv(cfg_or_spec, x, w, b):
    spec = cfg_or_spec
    conv = CONV[spec.ndim]
    return conv(x, w, b, stride=spec.stride, padding=spec.padding, dilation=spec.dilation)


def random_values(d, seed: int) -> dict[str, np.ndarray]:
    gen = np.random.default_rng(seed)
    values = {key: gen.standard_normal(d.symbols[key].shape) for key in ("input", "kernel", "grad_output")}
    if d.spec.bias:
        values["bias"] = gen.standard_normal(d.symbols["bias"].shape)
    return values


def close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * scale, err_msg=what)


def torch_reference(spec: ConvSpec, values: dict[str, np.ndarray]):
    """Forward output and autograd gradients of sum(conv(X) * G), batch 1, float64."""
    x = torch.tensor(values["input"][None], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(values["kernel"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(values["bias"], dtype=torch.float64, requires_grad=True) if spec.bias else None
    out = torch_conv(spec, x, w, b)
    (out * torch.tensor(values["grad_output"][None], dtype=torch.float64)).sum().backward()
    ref = {
        "forward": out.detach().numpy()[0],
        "grad_kernel": w.grad.numpy(),
        "grad_input": x.grad.numpy()[0],
    }
    if spec.bias:
        ref["grad_bias"] = b.grad.numpy()
    return ref


def test_the_configurations_cover_the_hard_cases():
    """The random sample must actually exercise what it claims to."""
    specs = [cfg.spec() for cfg in CONFIGS]
    assert len(CONFIGS) >= 200
    assert {cfg.ndim for cfg in CONFIGS} == {1, 2, 3}
    assert sum(any(spec.unused_tail) for spec in specs) >= 50  # stride not dividing: floor drops a tail
    assert sum(any(cfg.padding) for cfg in CONFIGS) >= 50
    assert sum(any(d > 1 for d in cfg.dilation) for cfg in CONFIGS) >= 50
    assert sum(any(s > 1 for s in cfg.stride) for cfg in CONFIGS) >= 100
    assert sum(cfg.in_channels > 1 and cfg.out_channels > 1 for cfg in CONFIGS) >= 50
    assert 50 <= sum(cfg.bias for cfg in CONFIGS) <= len(CONFIGS) - 50
    assert sum(any(p > 0 and s > 1 and d > 1 for p, s, d in zip(c.padding, c.stride, c.dilation)) for c in CONFIGS) >= 5


@pytest.mark.parametrize("cfg", CONFIGS, ids=[cfg.id for cfg in CONFIGS])
def test_against_torch_autograd(cfg: Config):
    spec = cfg.spec()
    d = derive_conv(spec, im2col=True)
    values = random_values(d, seed=cfg.index)
    vec = value_vector(d.symbols, values)
    ref = torch_reference(spec, values)

    assert spec.output_shape == ref["forward"].shape
    close(evaluate(d.forward, vec), ref["forward"], "forward")
    close(evaluate(d.grad_kernel, vec), ref["grad_kernel"], "dL/dW")
    close(evaluate(d.grad_input, vec), ref["grad_input"], "dL/dX")
    if spec.bias:
        close(evaluate(d.grad_bias, vec), ref["grad_bias"], "dL/db")
    else:
        assert d.grad_bias is None

    names = [identity.name for identity in d.identities]
    assert names == ["grad_kernel", "grad_input"] + (["grad_bias"] if spec.bias else []) + ["im2col_grad_kernel", "im2col_grad_input"]
    for identity in d.identities:
        assert identity.holds, f"identity {identity.name} does not hold"
        close(evaluate(identity.computed, vec), ref[identity.of], f"identity {identity.name}")
    assert d.all_hold
    check_matrix_form(spec, d, vec, values, ref)


def check_matrix_form(spec, d, vec, values, ref):
    """The im2col matrices themselves, as numbers: X_col is torch's unfold of the input, Z = W_row·X_col,
    dL/dW = dL/dZ·X_colᵀ and dL/dX = col2im(W_rowᵀ·dL/dZ) (torch's fold), computed with numpy's matmul."""
    from symgrad.layers.im2col import matrix_form

    form = matrix_form(spec, d.symbols)
    number = lambda ids: np.where(ids == ZERO, 0.0, vec[np.clip(ids, 0, None)])  # noqa: E731
    x_col, w_row, grad = number(form.x_col), number(form.w_row), number(form.grad)
    if spec.ndim == 2:
        unfolded = torch_functional.unfold(torch.tensor(values["input"][None]), spec.kernel_size, dilation=spec.dilation,
                                           padding=spec.padding, stride=spec.stride)[0].numpy()
        close(x_col, unfolded, "X_col = unfold(X)")
        folded = torch_functional.fold(torch.tensor((w_row.T @ grad)[None]), spec.input_size, spec.kernel_size,
                                       dilation=spec.dilation, padding=spec.padding, stride=spec.stride)[0].numpy()
        close(folded, ref["grad_input"], "fold(W_rowᵀ·dL/dZ)")
    forward = (w_row @ x_col).reshape(spec.output_shape)
    if spec.bias:
        forward = forward + values["bias"].reshape(-1, *([1] * spec.ndim))
    close(forward, ref["forward"], "Z = W_row·X_col")
    close((grad @ x_col.T).reshape(spec.kernel_shape), ref["grad_kernel"], "dL/dW = dL/dZ·X_colᵀ")
    cols = w_row.T @ grad
    keep = form.cell >= 0
    col2im = np.bincount(form.cell[keep], weights=cols[keep], minlength=int(np.prod(spec.input_shape)))
    close(col2im.reshape(spec.input_shape), ref["grad_input"], "col2im(W_rowᵀ·dL/dZ)")


def test_a_wrong_gradient_would_be_caught():
    """The comparison above is not vacuous: a kernel gradient read without rot/offset errors differs from torch."""
    spec = ConvSpec.build("5x5", "3x3", stride=2)
    d = derive_conv(spec)
    values = random_values(d, seed=1)
    vec = value_vector(d.symbols, values)
    ref = torch_reference(spec, values)
    flipped = evaluate(d.grad_kernel, vec)[:, :, ::-1, ::-1]
    with pytest.raises(AssertionError):
        close(flipped, ref["grad_kernel"], "flipped dL/dW")
    with pytest.raises(AssertionError):
        close(evaluate(d.grad_input, vec)[:, ::-1, ::-1], ref["grad_input"], "flipped dL/dX")


# --- the sum and mse losses, through the SymPy views, on tiny layers

LOSS_LAYERS = [
    dict(input="4", kernel="2", stride=2, bias=True),
    dict(input="5", kernel="2", padding=1, dilation=2, in_channels=2),
    dict(input="3x3", kernel="2x2", bias=True),
    dict(input="4x3", kernel="2x2", stride="2x1", padding="1x0", out_channels=2, bias=True),
    dict(input="3x4", kernel="2x2", dilation="1x2", in_channels=2, out_channels=2),
    dict(input="2x2x3", kernel="1x2x2", stride="1x1x2", bias=True),
]


def _loss_id(params: dict) -> str:
    return "-".join(f"{k}{v}" for k, v in params.items())


@pytest.mark.parametrize("loss", ["sum", "mse"])
@pytest.mark.parametrize("params", LOSS_LAYERS, ids=[_loss_id(p) for p in LOSS_LAYERS])
def test_sum_and_mse_losses_against_torch(params, loss):
    spec = ConvSpec.build(**params)
    d = derive_conv(spec, loss=loss)
    gen = np.random.default_rng(len(str(params)) + len(loss))
    values = {key: gen.standard_normal(d.symbols[key].shape) for key in ("input", "kernel", "target")}
    if spec.bias:
        values["bias"] = gen.standard_normal(d.symbols["bias"].shape)
    subs = {}
    for key, array in values.items():
        for symbol_id, value in zip(d.symbols[key].ids.ravel(), array.ravel()):
            subs[d.symbols.sympy_symbol(int(symbol_id))] = sympy.Float(value, 30)

    x = torch.tensor(values["input"][None], dtype=torch.float64, requires_grad=True)
    w = torch.tensor(values["kernel"], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(values["bias"], dtype=torch.float64, requires_grad=True) if spec.bias else None
    out = torch_conv(spec, x, w, b)
    if loss == "sum":
        total = out.sum()
    else:
        total = 0.5 * ((out - torch.tensor(values["target"][None], dtype=torch.float64)) ** 2).sum()
    total.backward()

    def numeric(key: str) -> np.ndarray:
        size = int(np.prod(d.symbols[{"grad_kernel": "kernel", "grad_input": "input", "grad_bias": "bias"}[key]].shape))
        return np.array([float(d.gradient_expr(key, i).xreplace(subs)) for i in range(size)])

    assert float(d.loss_expr().xreplace(subs)) == pytest.approx(total.item(), rel=1e-12, abs=1e-12)
    close(numeric("grad_kernel").reshape(spec.kernel_shape), w.grad.numpy(), f"{loss} dL/dW")
    close(numeric("grad_input").reshape(spec.input_shape), x.grad.numpy()[0], f"{loss} dL/dX")
    if spec.bias:
        close(numeric("grad_bias"), b.grad.numpy(), f"{loss} dL/db")
