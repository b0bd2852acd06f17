"""Oracle 4: the worked examples of the source material (../shared/seeds), in their own naming.

Seed 000: 5x5 input a_1..a_25, 3x3 kernel w_1..w_9, stride 2, outputs z_1..z_4 (flat index).
Seed 001: 3x3 input x_11..x_33, 2x2 kernel w_11..w_22, stride 1, outputs o_11..o_22 (matrix index).
Seed 001's handwritten dE/dx lines are garbled; the expected values below are the correct ones.
Seed 002: the index-notation statement about which entries meet in the last output.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symgrad import ConvSpec, Naming, derive_conv
from symgrad.tensor import correlate, dilate, full_correlate, rot180, stack

S = sympy.Symbol


def same(got: sympy.Expr, want: sympy.Expr) -> bool:
    return sympy.expand(got - want) == 0


# --- seed 000 -------------------------------------------------------------------------------------

# The a-indices each z reads, w_1..w_9 in order, written out from the seed's pattern
# (z_1 = w_1 a_1 + w_2 a_2 + w_3 a_3 + w_4 a_6 ... w_9 a_13, z_2 starts at a_3, z_3 at a_11, z_4 at a_13).
SEED000_READS = {
    1: [1, 2, 3, 6, 7, 8, 11, 12, 13],
    2: [3, 4, 5, 8, 9, 10, 13, 14, 15],
    3: [11, 12, 13, 16, 17, 18, 21, 22, 23],
    4: [13, 14, 15, 18, 19, 20, 23, 24, 25],
}


def identifiers(derivation, key):
    """The identifiers of a symbol group, flat, in row-major order."""
    return [derivation.symbols.identifier(int(i)) for i in derivation.symbols[key].ids.ravel()]


@pytest.fixture(scope="module")
def seed000():
    return derive_conv(ConvSpec.build(input="5x5", kernel="3x3", stride=2), Naming.build("flat", "a,w,z"))


def a(i):
    return S(f"a_{i}")


def w(i):
    return S(f"w_{i}")


def dz(i):
    return S(f"dz_{i}")


def test_seed000_names(seed000):
    ident = lambda key: identifiers(seed000, key)  # noqa: E731
    assert ident("input") == [f"a_{i}" for i in range(1, 26)]
    assert ident("kernel") == [f"w_{i}" for i in range(1, 10)]
    assert ident("output") == ["z_1", "z_2", "z_3", "z_4"]
    assert ident("grad_output") == ["dz_1", "dz_2", "dz_3", "dz_4"]
    assert seed000.spec.output_size == (2, 2)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_seed000_forward(seed000, k):
    want = sympy.Add(*[w(i + 1) * a(j) for i, j in enumerate(SEED000_READS[k])])
    got = seed000.forward_expr(k - 1)
    assert same(got, want), f"z_{k} = {got}"
    assert len(sympy.Add.make_args(got)) == 9


def test_seed000_grad_w1_and_w2_as_written_in_the_seed(seed000):
    want_w1 = a(1) * dz(1) + a(3) * dz(2) + a(11) * dz(3) + a(13) * dz(4)
    want_w2 = a(2) * dz(1) + a(4) * dz(2) + a(12) * dz(3) + a(14) * dz(4)
    assert same(seed000.gradient_expr("grad_kernel", 0), want_w1)
    assert same(seed000.gradient_expr("grad_kernel", 1), want_w2)
    assert str(seed000.gradient_expr("grad_kernel", 0)) == "a_1*dz_1 + a_11*dz_3 + a_13*dz_4 + a_3*dz_2"


@pytest.mark.parametrize("i", range(1, 10))
def test_seed000_grad_every_weight(seed000, i):
    """dL/dw_i = sum_k (the a that w_i multiplies in z_k) * dL/dz_k, read off the forward table."""
    want = sympy.Add(*[a(SEED000_READS[k][i - 1]) * dz(k) for k in range(1, 5)])
    assert same(seed000.gradient_expr("grad_kernel", i - 1), want)


def test_seed000_grad_input_entries(seed000):
    # a_13 is the centre of the input: w_9 in z_1, w_7 in z_2, w_3 in z_3, w_1 in z_4.
    assert same(seed000.gradient_expr("grad_input", 12), w(9) * dz(1) + w(7) * dz(2) + w(3) * dz(3) + w(1) * dz(4))
    assert same(seed000.gradient_expr("grad_input", 0), w(1) * dz(1))
    assert same(seed000.gradient_expr("grad_input", 2), w(3) * dz(1) + w(1) * dz(2))
    assert same(seed000.gradient_expr("grad_input", 24), w(9) * dz(4))
    # Every a_j against the forward table: dL/da_j = sum over (k, i) with a_j = READS[k][i] of w_i dz_k.
    for j in range(1, 26):
        want = sympy.Add(*[w(i + 1) * dz(k) for k, reads in SEED000_READS.items() for i, r in enumerate(reads) if r == j])
        assert same(seed000.gradient_expr("grad_input", j - 1), want), f"dL/da_{j}"


def test_seed000_dl_dw_is_a_stride_1_convolution_with_the_dilated_output_gradient(seed000):
    X, G = seed000.symbols["input"].ids[0], seed000.symbols["grad_output"].ids[0]
    g_dilated = dilate(G, (2, 2))
    assert g_dilated.shape == (3, 3)
    assert (g_dilated[::2, ::2] == G).all() and (g_dilated[1, :] == -1).all() and (g_dilated[:, 1] == -1).all()
    assert stack([correlate(X, g_dilated).swapped()], (1, 1)).same_sums(seed000.grad_kernel)
    assert not stack([correlate(X[:3, :3], G).swapped()], (1, 1)).same_sums(seed000.grad_kernel)
    assert seed000.all_hold


# --- seed 001 -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed001():
    return derive_conv(ConvSpec.build(input="3x3", kernel="2x2", stride=1), Naming.build("matrix", "x,w,o"))


def x(ij):
    return S(f"x_{ij // 10}_{ij % 10}")


def k(ij):
    return S(f"w_{ij // 10}_{ij % 10}")


def do(ij):
    return S(f"do_{ij // 10}_{ij % 10}")


def test_seed001_names(seed001):
    ident = lambda key: identifiers(seed001, key)  # noqa: E731
    assert ident("input") == ["x_1_1", "x_1_2", "x_1_3", "x_2_1", "x_2_2", "x_2_3", "x_3_1", "x_3_2", "x_3_3"]
    assert ident("kernel") == ["w_1_1", "w_1_2", "w_2_1", "w_2_2"]
    assert ident("output") == ["o_1_1", "o_1_2", "o_2_1", "o_2_2"]
    assert ident("grad_output") == ["do_1_1", "do_1_2", "do_2_1", "do_2_2"]


SEED001_FORWARD = {
    11: k(11) * x(11) + k(12) * x(12) + k(21) * x(21) + k(22) * x(22),
    12: k(11) * x(12) + k(12) * x(13) + k(21) * x(22) + k(22) * x(23),
    21: k(11) * x(21) + k(12) * x(22) + k(21) * x(31) + k(22) * x(32),
    22: k(11) * x(22) + k(12) * x(23) + k(21) * x(32) + k(22) * x(33),
}

SEED001_GRAD_W = {
    11: do(11) * x(11) + do(12) * x(12) + do(21) * x(21) + do(22) * x(22),
    12: do(11) * x(12) + do(12) * x(13) + do(21) * x(22) + do(22) * x(23),
    21: do(11) * x(21) + do(12) * x(22) + do(21) * x(31) + do(22) * x(32),
    22: do(11) * x(22) + do(12) * x(23) + do(21) * x(32) + do(22) * x(33),
}

SEED001_GRAD_X = {  # the correct nine (the seed's handwritten lines drop or garble factors)
    11: k(11) * do(11),
    12: k(12) * do(11) + k(11) * do(12),
    13: k(12) * do(12),
    21: k(21) * do(11) + k(11) * do(21),
    22: k(22) * do(11) + k(21) * do(12) + k(12) * do(21) + k(11) * do(22),
    23: k(22) * do(12) + k(12) * do(22),
    31: k(21) * do(21),
    32: k(22) * do(21) + k(21) * do(22),
    33: k(22) * do(22),
}


def flat(ij: int, width: int) -> int:
    return (ij // 10 - 1) * width + (ij % 10 - 1)


@pytest.mark.parametrize("ij", sorted(SEED001_FORWARD))
def test_seed001_forward(seed001, ij):
    assert same(seed001.forward_expr(flat(ij, 2)), SEED001_FORWARD[ij])


@pytest.mark.parametrize("ij", sorted(SEED001_GRAD_W))
def test_seed001_grad_kernel(seed001, ij):
    assert same(seed001.gradient_expr("grad_kernel", flat(ij, 2)), SEED001_GRAD_W[ij])


@pytest.mark.parametrize("ij", sorted(SEED001_GRAD_X))
def test_seed001_grad_input_all_nine(seed001, ij):
    got = seed001.gradient_expr("grad_input", flat(ij, 3))
    assert same(got, SEED001_GRAD_X[ij]), f"dE/dx_{ij} = {got}"


def test_seed001_garbled_lines_are_not_reproduced(seed001):
    # The seed writes dE/dx_12 with a bare "1" for dO_12's factor and dE/dx_22 without w_22 dE/do_11.
    assert not same(seed001.gradient_expr("grad_input", flat(12, 3)), k(12) * do(11) + do(12))
    assert not same(seed001.gradient_expr("grad_input", flat(22, 3)), k(21) * do(12) + k(12) * do(21) + k(11) * do(22))


def test_seed001_summary_formulas(seed001):
    X = seed001.symbols["input"].ids[0]
    W = seed001.symbols["kernel"].ids[0, 0]
    G = seed001.symbols["grad_output"].ids[0]
    rotated = rot180(W)
    names = [[seed001.symbols.identifier(int(i)) for i in row] for row in rotated]
    assert names == [["w_2_2", "w_2_1"], ["w_1_2", "w_1_1"]]
    # dE/dW = X * dE/dO (valid correlation); dE/dX = full-correlation(dE/dO, rot180(W)).
    assert stack([correlate(X, G).swapped()], (1, 1)).same_sums(seed001.grad_kernel)
    full = full_correlate(G, rotated)
    assert full.shape == (3, 3)
    assert stack([full], (1,)).same_sums(seed001.grad_input)
    assert not stack([full_correlate(G, W)], (1,)).same_sums(seed001.grad_input)
    assert seed001.all_hold


# --- seed 002 -------------------------------------------------------------------------------------


def test_seed002_last_filter_entry_meets_last_input_in_the_last_output():
    """X m x n, F m' x n': O is (m-m'+1) x (n-n'+1) and F_{m'n'} multiplies X_{mn} in O_{m-m'+1, n-n'+1}."""
    m, n, mp, np_ = 4, 5, 2, 3
    d = derive_conv(ConvSpec.build(f"{m}x{n}", f"{mp}x{np_}"), Naming.build("matrix", "x,f,o"))
    assert d.spec.output_size == (m - mp + 1, n - np_ + 1)
    last = d.forward_expr(d.forward.size - 1)
    assert S(f"f_{mp}_{np_}") * S(f"x_{m}_{n}") in sympy.Add.make_args(last)
    # ... and F_11 multiplies X_11 only in O_11: dL/dX_11 = F_11 dL/dO_11.
    assert same(d.gradient_expr("grad_input", 0), S("f_1_1") * S("do_1_1"))
    counts = np.bincount(d.grad_input.entry, minlength=m * n).reshape(m, n)
    assert counts[0, 0] == 1 and counts[m - 1, n - 1] == 1 and counts.max() == mp * np_
