"""Oracle 1: SymPy's own `diff` of the loss, on small layers, against symgrad's term-walk gradients.

Everything expected here is built in the test, from PyTorch's conv formula and the naming rules,
with SymPy Symbols named like the identifiers symgrad promises:

    z[f, o] = b[f] + sum_c sum_k W[f, c, k] * X[c, s*o + d*k - p]      (zero outside X)

so a wrong index, a wrong name or a missing term shows up as a nonzero difference.
"""

from __future__ import annotations

import itertools

import pytest
import sympy

from symgrad import ConvSpec, Naming, derive_conv

# (id, ConvSpec.build kwargs, index style, letters for input/kernel/output)
LAYERS = [
    ("1d-5-k2-s2-tail", dict(input="5", kernel="2", stride=2), "matrix", "x,w,z"),
    ("1d-6-k3-p1-d2", dict(input="6", kernel="3", padding=1, dilation=2), "flat", "a,w,z"),
    ("1d-4-k2-c2f2-bias", dict(input="4", kernel="2", in_channels=2, out_channels=2, bias=True), "matrix", "x,w,y"),
    ("2d-seed001-3x3-k2x2", dict(input="3x3", kernel="2x2"), "matrix", "x,w,o"),
    ("2d-seed000-5x5-k3x3-s2", dict(input="5x5", kernel="3x3", stride=2), "flat", "a,w,z"),
    ("2d-4x5-k2x3-s2x1-p1x0", dict(input="4x5", kernel="2x3", stride="2x1", padding="1x0"), "matrix", "x,w,z"),
    ("2d-4x4-k2x2-d2", dict(input="4x4", kernel="2x2", dilation=2), "matrix", "x,k,z"),
    ("2d-3x3-k2x2-p1-bias", dict(input="3x3", kernel="2x2", padding=1, bias=True), "matrix", "x,w,z"),
    ("2d-3x4-k2x2-c2", dict(input="3x4", kernel="2x2", in_channels=2), "flat", "x,w,z"),
    ("2d-3x3-k2x2-f2-bias", dict(input="3x3", kernel="2x2", out_channels=2, bias=True), "matrix", "x,w,z"),
    ("2d-4x4-k3x3-s2-p1", dict(input="4x4", kernel="3x3", stride=2, padding=1), "matrix", "x,w,z"),
    ("2d-1x11-k1x2-s3-multidigit", dict(input="1x11", kernel="1x2", stride=3), "matrix", "x,w,z"),
    ("3d-3x3x3-k2x2x2", dict(input="3x3x3", kernel="2x2x2"), "matrix", "x,w,z"),
    ("3d-2x3x4-k1x2x2-s1x2x1-p0x0x1-bias",
     dict(input="2x3x4", kernel="1x2x2", stride="1x2x1", padding="0x0x1", bias=True), "flat", "x,w,z"),
    ("3d-3x2x2-k2x1x1-c2f2-d2x1x1",
     dict(input="3x2x2", kernel="2x1x1", in_channels=2, out_channels=2, dilation="2x1x1"), "matrix", "x,w,z"),
]
LOSSES = ["generic", "sum", "mse"]


def name(index: str, letter: str, channels: list[tuple[int, int]], position: tuple[int, ...], spatial: tuple[int, ...]) -> str:
    """The identifier symgrad promises, written out from the rules: 1-based, channel index only when its count > 1."""
    parts = [str(c + 1) for c, count in channels if count > 1]
    if position:
        if index == "flat":
            flat = 0
            for p, n in zip(position, spatial):
                flat = flat * n + p
            parts.append(str(flat + 1))
        else:
            parts.extend(str(p + 1) for p in position)
    return letter + ("_" + "_".join(parts) if parts else "")


class Expected:
    """The layer written out independently: symbols, outputs and losses."""

    def __init__(self, spec: ConvSpec, index: str, letters: str):
        self.spec = spec
        inp, ker, out = letters.split(",")
        F, C = spec.out_channels, spec.in_channels
        N, K, O = spec.input_size, spec.kernel_size, spec.output_size
        grid = lambda shape: list(itertools.product(*map(range, shape)))  # row-major, like numpy's ravel
        self.x = {(c, *p): sympy.Symbol(name(index, inp, [(c, C)], p, N)) for c in range(C) for p in grid(N)}
        self.w = {(f, c, *k): sympy.Symbol(name(index, ker, [(f, F), (c, C)], k, K))
                  for f in range(F) for c in range(C) for k in grid(K)}
        self.b = {(f,): sympy.Symbol(name(index, "b", [(f, F)], (), ())) for f in range(F)} if spec.bias else {}
        self.dz = {(f, *o): sympy.Symbol(name(index, "d" + out, [(f, F)], o, O)) for f in range(F) for o in grid(O)}
        self.t = {(f, *o): sympy.Symbol(name(index, "t", [(f, F)], o, O)) for f in range(F) for o in grid(O)}
        self.z_names = {(f, *o): name(index, out, [(f, F)], o, O) for f in range(F) for o in grid(O)}
        self.z = {}
        for f in range(F):
            for o in grid(O):
                total = self.b[(f,)] if spec.bias else sympy.Integer(0)
                for c in range(C):
                    for k in grid(K):
                        pos = tuple(s * oi + d * ki - p for oi, ki, s, d, p in
                                    zip(o, k, spec.stride, spec.dilation, spec.padding))
                        if all(0 <= q < n for q, n in zip(pos, N)):
                            total += self.w[(f, c, *k)] * self.x[(c, *pos)]
                self.z[(f, *o)] = total
        self.outputs = list(self.z)  # row-major over (f, *o): symgrad's flat output index

    def loss(self, kind: str) -> sympy.Expr:
        zs = [self.z[k] for k in self.outputs]
        if kind == "generic":
            return sympy.Add(*[self.dz[k] * z for k, z in zip(self.outputs, zs)])
        if kind == "sum":
            return sympy.Add(*zs)
        return sympy.Rational(1, 2) * sympy.Add(*[(z - self.t[k]) ** 2 for k, z in zip(self.outputs, zs)])


def build(params, index, letters, loss="generic"):
    spec = ConvSpec.build(**params)
    d = derive_conv(spec, Naming.build(index, letters), loss=loss)
    return spec, d, Expected(spec, index, letters)


def is_zero(expr) -> bool:
    return sympy.expand(expr) == 0


@pytest.mark.parametrize("layer_id, params, index, letters", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_identifiers_follow_the_naming_rules(layer_id, params, index, letters):
    spec, d, ex = build(params, index, letters)
    groups = [("input", ex.x), ("kernel", ex.w), ("grad_output", ex.dz), ("target", ex.t)]
    if spec.bias:
        groups.append(("bias", ex.b))
    for key, expected in groups:
        ids = d.symbols[key].ids
        assert ids.shape == tuple(max(i) + 1 for i in zip(*expected)), key
        for index_tuple, symbol in expected.items():
            symbol_id = int(ids[index_tuple])
            assert d.symbols.identifier(symbol_id) == symbol.name
            assert d.symbols.sympy_symbol(symbol_id) == symbol
    outputs = d.symbols["output"].ids
    for index_tuple, expected_name in ex.z_names.items():
        assert d.symbols.identifier(int(outputs[index_tuple])) == expected_name
    if not spec.bias:
        assert d.symbols["bias"].size == 0 and d.grad_bias is None


@pytest.mark.parametrize("layer_id, params, index, letters", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_forward_matches_the_pytorch_formula(layer_id, params, index, letters):
    spec, d, ex = build(params, index, letters)
    assert d.forward.shape == spec.output_shape
    assert d.forward.size == len(ex.outputs)
    for k, key in enumerate(ex.outputs):
        got = d.forward_expr(k)
        assert is_zero(got - ex.z[key]), f"z{key}: got {got}, expected {ex.z[key]}"
        # Not only equal as polynomials: no term is duplicated with a cancelling partner or a coefficient.
        assert len(sympy.Add.make_args(sympy.expand(got))) == len(sympy.Add.make_args(ex.z[key]))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("layer_id, params, index, letters", LAYERS, ids=[layer[0] for layer in LAYERS])
def test_gradients_equal_sympy_diff_of_the_loss(layer_id, params, index, letters, loss):
    spec, d, ex = build(params, index, letters, loss)
    expected_loss = ex.loss(loss)
    assert is_zero(d.loss_expr() - expected_loss)

    groups = [("grad_kernel", ex.w), ("grad_input", ex.x)]
    if spec.bias:
        groups.append(("grad_bias", ex.b))
    for key, symbols in groups:
        table = dict(d.gradients())[key]
        assert table.size == len(symbols)
        for i, theta in enumerate(symbols.values()):  # dict order is row-major, as symgrad's flat index
            want = sympy.diff(expected_loss, theta)
            got = d.gradient_expr(key, i)
            assert is_zero(got - want), f"{key}[{i}] = d/d{theta}: got {got}, expected {sympy.expand(want)}"


@pytest.mark.parametrize("layer_id, params, index, letters", LAYERS[:6], ids=[layer[0] for layer in LAYERS[:6]])
def test_grad_output_expr_follows_the_loss(layer_id, params, index, letters):
    for loss in LOSSES:
        spec, d, ex = build(params, index, letters, loss)
        for k, key in enumerate(ex.outputs):
            got = d.grad_output_expr(k)
            want = {"generic": ex.dz[key], "sum": sympy.Integer(1), "mse": ex.z[key] - ex.t[key]}[loss]
            assert is_zero(got - want), f"{loss}: dL/d{ex.z_names[key]} = {got}, expected {want}"


def test_gradients_are_not_trivially_zero():
    """Guard against an oracle that passes because both sides vanish."""
    _, d, ex = build(dict(input="3x3", kernel="2x2"), "matrix", "x,w,o")
    for i in range(4):
        assert d.gradient_expr("grad_kernel", i) != 0
    assert len(sympy.Add.make_args(d.gradient_expr("grad_input", 4))) == 4  # x_2_2 is read by all four outputs
