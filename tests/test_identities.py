"""Oracle 3: the closed forms taught in class, and proof that the structural comparison can say "no".

    dL/dW[f,c] = corr(pad(X[c]), dilate_s(G[f])) read at offsets d*k
    dL/dX[c]   = crop_p(sum_f full-corr(dilate_s(G[f]), rot180(dilate_d(W[f,c])))), zeros appended for the floor tail

The tests rebuild these tables here from symgrad.tensor primitives, check they equal symgrad's
chain-rule tables, and check that each plausible mistake (no rot180, no stride dilation, no zero
tail, wrong crop, offsets ignoring dilation, a dropped or altered term) makes `same_sums` False.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy

from symgrad import ConvSpec, Naming, derive_conv
from symgrad.tensor import ONE, Terms, concat, correlate, crop, dilate, embed, pad, rot180, stack, take

S = sympy.Symbol


# --- closed forms rebuilt in the test, with switches for the classic mistakes


def kernel_closed_form(d, *, dilate_g: bool = True, dilated_offsets: bool = True) -> Terms:
    spec = d.spec
    X, G = d.symbols["input"].ids, d.symbols["grad_output"].ids
    blocks = []
    for f in range(spec.out_channels):
        g = dilate(G[f], spec.stride) if dilate_g else G[f]
        for c in range(spec.in_channels):
            corr = correlate(pad(X[c], spec.padding), g).swapped()  # factor a: dL/dz, b: x
            step = spec.dilation if dilated_offsets else (1,) * spec.ndim
            blocks.append(take(corr, (0,) * spec.ndim, step, spec.kernel_size))
    return stack(blocks, (spec.out_channels, spec.in_channels))


def raw_full_correlation(d, f: int, c: int, *, rotate: bool = True) -> Terms:
    spec = d.spec
    W, G = d.symbols["kernel"].ids, d.symbols["grad_output"].ids
    full_pad = tuple(dl * (k - 1) for dl, k in zip(spec.dilation, spec.kernel_size))
    w = dilate(W[f, c], spec.dilation)
    return correlate(pad(dilate(G[f], spec.stride), full_pad), rot180(w) if rotate else w)


def input_closed_form(d, *, rotate: bool = True, zero_tail: bool = True, crop_from_start: bool = False) -> Terms:
    spec = d.spec
    per_channel = []
    for c in range(spec.in_channels):
        full = concat([raw_full_correlation(d, f, c, rotate=rotate) for f in range(spec.out_channels)])
        if zero_tail:
            full = embed(full, spec.padded_size)
        if crop_from_start:  # the mistake: cut 2p from the end instead of p from each side
            per_channel.append(take(full, (0,) * spec.ndim, (1,) * spec.ndim, spec.input_size))
        else:
            per_channel.append(crop(full, spec.padding))
    return stack(per_channel, (spec.in_channels,))


def bias_closed_form(d) -> Terms:
    G = d.symbols["grad_output"].ids
    F = d.spec.out_channels
    per_f = G.reshape(F, -1)
    return Terms.make((F,), np.repeat(np.arange(F), per_f.shape[1]), per_f.ravel(), np.full(per_f.size, ONE))


# --- the identities hold, on many layers


def grid_1d():
    for n, k, s, p, dl in itertools.product(range(1, 9), range(1, 4), range(1, 4), range(0, 3), range(1, 3)):
        if dl * (k - 1) + 1 <= n + 2 * p:
            yield dict(input=n, kernel=k, stride=s, padding=p, dilation=dl)


GRID_1D = list(grid_1d())

LAYERS = [
    dict(input="5x5", kernel="3x3", stride=2),
    dict(input="3x3", kernel="2x2"),
    dict(input="6x5", kernel="3x2", stride="2x3", padding="1x0", dilation="1x2"),
    dict(input="7x7", kernel="3x3", stride=3, padding=2, dilation=2),
    dict(input="4x6", kernel="2x2", in_channels=2, out_channels=3, bias=True),
    dict(input="5x4", kernel="2x3", stride=2, padding=1, in_channels=3, out_channels=2, bias=True),
    dict(input="1x1", kernel="1x1", padding=1, bias=True),
    dict(input="4x4x4", kernel="2x2x2", stride=2),
    dict(input="3x5x4", kernel="2x3x2", stride="1x2x3", padding="1x0x1", dilation="2x1x1", in_channels=2, bias=True),
    dict(input="5x3x3", kernel="3x1x2", stride=2, dilation="2x1x1", out_channels=2),
]


def _id(params: dict) -> str:
    return "-".join(f"{k}{v}" for k, v in params.items())


def check_all(d) -> None:
    assert [i.name for i in d.identities] == ["grad_kernel", "grad_input"] + (["grad_bias"] if d.spec.bias else [])
    tables = dict(d.gradients())
    for identity in d.identities:
        assert identity.holds, f"{identity.name} does not hold"
        assert identity.computed.shape == tables[identity.name].shape
        assert identity.computed.same_sums(tables[identity.name])
    assert d.all_hold
    assert kernel_closed_form(d).same_sums(d.grad_kernel)
    assert input_closed_form(d).same_sums(d.grad_input)
    if d.spec.bias:
        assert bias_closed_form(d).same_sums(d.grad_bias)


def test_identities_hold_on_every_small_1d_layer():
    assert len(GRID_1D) > 250
    for params in GRID_1D:
        d = derive_conv(ConvSpec.build(**params))
        try:
            check_all(d)
        except AssertionError as error:
            raise AssertionError(f"{params}: {error}") from None


@pytest.mark.parametrize("params", LAYERS, ids=[_id(p) for p in LAYERS])
def test_identities_hold(params):
    check_all(derive_conv(ConvSpec.build(**params)))


# --- and they can fail


@pytest.mark.parametrize("params", LAYERS, ids=[_id(p) for p in LAYERS])
def test_a_mistake_in_the_closed_form_is_detected(params):
    d = derive_conv(ConvSpec.build(**params))
    spec = d.spec
    if any(k > 1 for k in spec.kernel_size):
        assert not input_closed_form(d, rotate=False).same_sums(d.grad_input), "rot180 made no difference"
    if any(s > 1 for s in spec.stride):
        assert not kernel_closed_form(d, dilate_g=False).same_sums(d.grad_kernel), "stride dilation made no difference"
    if any(spec.unused_tail):
        assert not input_closed_form(d, zero_tail=False).same_sums(d.grad_input), "zero tail made no difference"
    if any(spec.padding):
        assert not input_closed_form(d, crop_from_start=True).same_sums(d.grad_input), "crop side made no difference"
    if any(dl > 1 and k > 1 for dl, k in zip(spec.dilation, spec.kernel_size)):
        assert not kernel_closed_form(d, dilated_offsets=False).same_sums(d.grad_kernel), "offsets d*k made no difference"


@pytest.mark.parametrize("params", LAYERS, ids=[_id(p) for p in LAYERS])
def test_an_altered_table_is_detected(params):
    d = derive_conv(ConvSpec.build(**params))
    for identity in d.identities:
        t = identity.computed
        chain = dict(d.gradients())[identity.name]
        assert t.same_sums(chain)
        assert len(t) > 0
        dropped = Terms(t.shape, t.entry[1:], t.a[1:], t.b[1:], t.coef[1:])
        assert not dropped.same_sums(chain), "dropping a term went unnoticed"
        doubled = Terms(t.shape, t.entry, t.a, t.b, np.where(np.arange(len(t)) == 0, 2 * t.coef, t.coef))
        assert not doubled.same_sums(chain), "a doubled coefficient went unnoticed"
        if t.size > 1:
            moved = Terms(t.shape, (t.entry + 1) % t.size, t.a, t.b, t.coef)
            assert not moved.same_sums(chain), "terms moved to other entries went unnoticed"
        extra = concat([t, Terms.make(t.shape, [0], [int(t.a[0])], [int(t.a[0])])])
        assert not extra.same_sums(chain), "an extra term went unnoticed"
        # A term and its negative cancel: still the same sums.
        cancel = concat([t, Terms.make(t.shape, [0, 0], [int(t.a[0])] * 2, [int(t.a[0])] * 2, [3, -3])])
        assert cancel.same_sums(chain)
        if identity.name != "grad_bias":
            assert not t.swapped().same_sums(chain), "factors are compared in a fixed order"
        wider = Terms((*t.shape[:-1], t.shape[-1] + 1), t.entry, t.a, t.b, t.coef)
        assert not wider.same_sums(chain), "a different shape went unnoticed"


# --- the cases the identities have to treat explicitly


def test_floor_stride_tail_has_exactly_zero_gradient():
    """Input 6, kernel 3, stride 2: outputs read x_1..x_5; x_6 is never read (floor((6-3)/2) + 1 = 2)."""
    spec = ConvSpec.build(input="6", kernel="3", stride=2)
    assert spec.output_size == (2,)
    assert spec.unused_tail == (1,)
    d = derive_conv(spec)
    assert not np.any(d.grad_input.entry == 5), "dL/dx_6 must have no terms at all"
    assert d.gradient_expr("grad_input", 5) == 0

    raw = raw_full_correlation(d, 0, 0)
    assert raw.shape == (5,) and raw.shape[0] < spec.input_size[0]
    assert not stack([raw], (1,)).same_sums(d.grad_input)  # shape 1x5 vs 1x6
    assert stack([embed(raw, spec.padded_size)], (1,)).same_sums(d.grad_input)
    identity = dict((i.name, i) for i in d.identities)["grad_input"]
    assert identity.holds and identity.computed.shape == (1, 6)
    assert identity.notes, "the zero tail must be explained"

    x, w, dz = [[S(f"{letter}_{i}") for i in range(1, n + 1)] for letter, n in (("x", 6), ("w", 3), ("dz", 2))]
    expected = [
        w[0] * dz[0],
        w[1] * dz[0],
        w[2] * dz[0] + w[0] * dz[1],
        w[1] * dz[1],
        w[2] * dz[1],
        sympy.Integer(0),
    ]
    for i, want in enumerate(expected):
        assert sympy.expand(d.gradient_expr("grad_input", i) - want) == 0, f"dL/dx_{i + 1}"
    assert sympy.expand(d.gradient_expr("grad_kernel", 0) - (x[0] * dz[0] + x[2] * dz[1])) == 0


def test_floor_stride_tail_in_2d_zeroes_a_row_and_a_column():
    spec = ConvSpec.build(input="6x7", kernel="3x2", stride="2x3")  # tails: (6-3)%2 = 1, (7-2)%3 = 2
    assert spec.unused_tail == (1, 2)
    d = derive_conv(spec)
    counts = np.bincount(d.grad_input.entry, minlength=42).reshape(6, 7)
    # rows read: 2r + {0,1,2} for r in {0,1} -> 0..4; columns read: 3c + {0,1} for c in {0,1} -> 0, 1, 3, 4
    read = np.zeros((6, 7), dtype=bool)
    read[np.ix_([0, 1, 2, 3, 4], [0, 1, 3, 4])] = True
    assert np.array_equal(counts > 0, read)
    assert raw_full_correlation(d, 0, 0).shape == (5, 5)
    check_all(d)


def test_padding_is_cropped_from_both_sides():
    """Input 3, kernel 2, padding 1: Xpad = [0, x1, x2, x3, 0], four outputs; dL/dXpad has 5 entries, crop 1 each side."""
    spec = ConvSpec.build(input="3", kernel="2", padding=1)
    assert spec.output_size == (4,)
    d = derive_conv(spec)
    x1, x2, x3, w1, w2 = S("x_1"), S("x_2"), S("x_3"), S("w_1"), S("w_2")
    dz = [S(f"dz_{i}") for i in range(1, 5)]
    forward = [w2 * x1, w1 * x1 + w2 * x2, w1 * x2 + w2 * x3, w1 * x3]
    for k, want in enumerate(forward):
        assert sympy.expand(d.forward_expr(k) - want) == 0
    grad_input = [dz[0] * w2 + dz[1] * w1, dz[1] * w2 + dz[2] * w1, dz[2] * w2 + dz[3] * w1]
    for i, want in enumerate(grad_input):
        assert sympy.expand(d.gradient_expr("grad_input", i) - want) == 0
    grad_kernel = [dz[1] * x1 + dz[2] * x2 + dz[3] * x3, dz[0] * x1 + dz[1] * x2 + dz[2] * x3]
    for i, want in enumerate(grad_kernel):
        assert sympy.expand(d.gradient_expr("grad_kernel", i) - want) == 0

    raw = raw_full_correlation(d, 0, 0)
    assert raw.shape == (5,) == spec.padded_size
    assert stack([crop(raw, (1,))], (1,)).same_sums(d.grad_input)
    assert not stack([take(raw, (0,), (1,), (3,))], (1,)).same_sums(d.grad_input)
    assert not stack([take(raw, (2,), (1,), (3,))], (1,)).same_sums(d.grad_input)
    check_all(d)


def test_dilation_reads_the_kernel_gradient_at_offsets_d_times_k():
    """Input 5, kernel 2, dilation 3: z_1 = w_1 x_1 + w_2 x_4, z_2 = w_1 x_2 + w_2 x_5; x_3 is never read."""
    spec = ConvSpec.build(input="5", kernel="2", dilation=3)
    assert spec.output_size == (2,) and spec.dilated_kernel_size == (4,)
    d = derive_conv(spec, Naming.build("flat", "a,w,z"))
    a = [S(f"a_{i}") for i in range(1, 6)]
    w1, w2, dz1, dz2 = S("w_1"), S("w_2"), S("dz_1"), S("dz_2")
    assert sympy.expand(d.forward_expr(0) - (w1 * a[0] + w2 * a[3])) == 0
    assert sympy.expand(d.forward_expr(1) - (w1 * a[1] + w2 * a[4])) == 0
    assert sympy.expand(d.gradient_expr("grad_kernel", 0) - (dz1 * a[0] + dz2 * a[1])) == 0
    assert sympy.expand(d.gradient_expr("grad_kernel", 1) - (dz1 * a[3] + dz2 * a[4])) == 0
    assert d.gradient_expr("grad_input", 2) == 0
    expected_input = [w1 * dz1, w1 * dz2, 0, w2 * dz1, w2 * dz2]
    for i, want in enumerate(expected_input):
        assert sympy.expand(d.gradient_expr("grad_input", i) - want) == 0

    X, G = d.symbols["input"].ids, d.symbols["grad_output"].ids
    corr = correlate(X[0], G[0]).swapped()
    assert corr.shape == (4,)  # read at 0 and 3, not at 0 and 1
    assert stack([take(corr, (0,), (3,), (2,))], (1, 1)).same_sums(d.grad_kernel)
    assert not stack([take(corr, (0,), (1,), (2,))], (1, 1)).same_sums(d.grad_kernel)
    assert not kernel_closed_form(d, dilated_offsets=False).same_sums(d.grad_kernel)
    w_rot = rot180(dilate(d.symbols["kernel"].ids[0, 0], (3,)))
    assert w_rot.tolist() == [int(d.symbols["kernel"].ids[0, 0, 1]), -1, -1, int(d.symbols["kernel"].ids[0, 0, 0])]
    check_all(d)


def test_bias_gradient_sums_each_channel():
    spec = ConvSpec.build(input="3x3", kernel="2x2", out_channels=2, bias=True)
    d = derive_conv(spec)
    for f in range(2):
        want = sympy.Add(*[S(f"dz_{f + 1}_{i}_{j}") for i in (1, 2) for j in (1, 2)])
        assert sympy.expand(d.gradient_expr("grad_bias", f) - want) == 0
    wrong = Terms.make((2,), [0, 0, 0, 0, 1, 1, 1, 1], d.symbols["grad_output"].ids[::-1].ravel(), [ONE] * 8)
    assert not wrong.same_sums(d.grad_bias)
    check_all(d)
