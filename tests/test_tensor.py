"""symgrad.tensor: exact small cases for every helper, and numeric properties against numpy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.tensor import (
    ONE,
    ZERO,
    Terms,
    concat,
    correlate,
    crop,
    dilate,
    embed,
    full_correlate,
    pad,
    rot180,
    stack,
    take,
)

Z = ZERO


def rows(t: Terms) -> list[tuple[int, int, int, int]]:
    """(entry, a, b, coef) of the canonical form, as plain tuples."""
    c = t.canonical()
    return list(zip(c.entry.tolist(), c.a.tolist(), c.b.tolist(), c.coef.tolist()))


def table(shape, *terms) -> Terms:
    """Terms from (entry, a, b[, coef]) tuples."""
    entry = [t[0] for t in terms]
    a = [t[1] for t in terms]
    b = [t[2] for t in terms]
    coef = [t[3] if len(t) > 3 else 1 for t in terms]
    return Terms.make(shape, entry, a, b, coef)


# --- pad, dilate, rot180


def test_pad():
    assert pad(np.array([0, 1, 2]), (2,)).tolist() == [Z, Z, 0, 1, 2, Z, Z]
    assert pad(np.array([[0, 1], [2, 3]]), (1, 0)).tolist() == [[Z, Z], [0, 1], [2, 3], [Z, Z]]
    assert pad(np.array([[0, 1], [2, 3]]), (0, 1)).tolist() == [[Z, 0, 1, Z], [Z, 2, 3, Z]]
    assert pad(np.arange(8).reshape(2, 2, 2), (1, 0, 2)).shape == (4, 2, 6)
    assert pad(np.array([4, 5]), (0,)).tolist() == [4, 5]


def test_dilate():
    assert dilate(np.array([0, 1, 2]), (2,)).tolist() == [0, Z, 1, Z, 2]
    assert dilate(np.array([0, 1, 2]), (3,)).tolist() == [0, Z, Z, 1, Z, Z, 2]
    assert dilate(np.array([0, 1, 2]), (1,)).tolist() == [0, 1, 2]
    assert dilate(np.array([7]), (5,)).tolist() == [7]
    assert dilate(np.array([[0, 1], [2, 3]]), (2, 3)).tolist() == [
        [0, Z, Z, 1],
        [Z, Z, Z, Z],
        [2, Z, Z, 3],
    ]
    cube = dilate(np.arange(8).reshape(2, 2, 2), (2, 1, 2))
    assert cube.shape == (3, 2, 3)
    assert cube[::2, :, ::2].tolist() == np.arange(8).reshape(2, 2, 2).tolist()
    assert (cube[1] == Z).all() and (cube[:, :, 1] == Z).all()


def test_rot180():
    assert rot180(np.array([0, 1, 2])).tolist() == [2, 1, 0]
    assert rot180(np.array([[0, 1, 2], [3, 4, 5]])).tolist() == [[5, 4, 3], [2, 1, 0]]
    w = np.array([[11, 12], [21, 22]])
    assert rot180(w).tolist() == [[22, 21], [12, 11]]
    cube = np.arange(8).reshape(2, 2, 2)
    assert rot180(cube)[0, 0, 0] == 7 and rot180(cube)[1, 0, 1] == cube[0, 1, 0]
    assert rot180(rot180(cube)).tolist() == cube.tolist()
    out = rot180(w)
    out[0, 0] = -5  # a copy, not a view
    assert w.tolist() == [[11, 12], [21, 22]]


# --- correlate and full_correlate


def test_correlate_1d_doc_example():
    t = correlate(np.array([0, 1, 2]), np.array([3, 4]))
    assert t.shape == (2,)
    assert rows(t) == [(0, 0, 3, 1), (0, 1, 4, 1), (1, 1, 3, 1), (1, 2, 4, 1)]


def test_correlate_2d():
    data = np.arange(9).reshape(3, 3)  # ids 0..8
    kernel = np.array([[9, 10], [11, 12]])
    t = correlate(data, kernel)
    assert t.shape == (2, 2)
    assert rows(t) == sorted([
        (0, 0, 9, 1), (0, 1, 10, 1), (0, 3, 11, 1), (0, 4, 12, 1),
        (1, 1, 9, 1), (1, 2, 10, 1), (1, 4, 11, 1), (1, 5, 12, 1),
        (2, 3, 9, 1), (2, 4, 10, 1), (2, 6, 11, 1), (2, 7, 12, 1),
        (3, 4, 9, 1), (3, 5, 10, 1), (3, 7, 11, 1), (3, 8, 12, 1),
    ])


def test_correlate_drops_zero_factors():
    t = correlate(np.array([Z, 1, 2]), np.array([3, Z]))
    assert rows(t) == [(1, 1, 3, 1)]  # entry 0: Z*3 + 1*Z; entry 1: 1*3 + 2*Z
    assert len(t) == 1


def test_correlate_refuses_a_kernel_larger_than_the_data():
    with pytest.raises(ValueError):
        correlate(np.array([0, 1]), np.array([2, 3, 4]))


def test_full_correlate():
    t = full_correlate(np.array([0, 1]), np.array([2, 3]))
    assert t.shape == (3,)
    # [Z, 0, 1, Z] against [2, 3]: (Z*2 + 0*3), (0*2 + 1*3), (1*2 + Z*3)
    assert rows(t) == [(0, 0, 3, 1), (1, 0, 2, 1), (1, 1, 3, 1), (2, 1, 2, 1)]
    assert full_correlate(np.zeros((2, 3), dtype=np.int64), np.zeros((2, 2), dtype=np.int64)).shape == (3, 4)


def _numeric(t: Terms, values: np.ndarray) -> np.ndarray:
    out = np.zeros(t.size)
    np.add.at(out, t.entry, t.coef * values[t.a] * values[t.b])
    return out.reshape(t.shape)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_correlate_agrees_with_numpy_1d(n, k, seed):
    k = min(k, n)
    gen = np.random.default_rng(seed)
    data, kernel = np.arange(n), np.arange(n, n + k)
    values = gen.standard_normal(n + k)
    valid = _numeric(correlate(data, kernel), values)
    np.testing.assert_allclose(valid, np.correlate(values[:n], values[n:], "valid"), rtol=1e-12, atol=1e-12)
    full = _numeric(full_correlate(data, kernel), values)
    np.testing.assert_allclose(full, np.correlate(values[:n], values[n:], "full"), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3)), min_size=1, max_size=3), st.integers(0, 2**31 - 1))
def test_correlate_agrees_with_a_loop_nd(axes, seed):
    data_shape = tuple(n for n, _ in axes)
    kernel_shape = tuple(min(k, n) for n, k in axes)
    gen = np.random.default_rng(seed)
    data = np.arange(int(np.prod(data_shape))).reshape(data_shape)
    data = np.where(gen.random(data_shape) < 0.2, Z, data)  # some zeros, as padding leaves
    kernel = np.arange(data.size, data.size + int(np.prod(kernel_shape))).reshape(kernel_shape)
    values = gen.standard_normal(data.size + kernel.size)
    dv = np.where(data == Z, 0.0, values[np.maximum(data, 0)])
    kv = values[kernel]
    out_shape = tuple(n - k + 1 for n, k in zip(data_shape, kernel_shape))
    expected = np.zeros(out_shape)
    for o in itertools.product(*map(range, out_shape)):
        for kk in itertools.product(*map(range, kernel_shape)):
            expected[o] += dv[tuple(a + b for a, b in zip(o, kk))] * kv[kk]
    t = correlate(data, kernel)
    assert not np.any(t.a == Z)
    np.testing.assert_allclose(_numeric(t, values), expected, rtol=1e-12, atol=1e-12)


# --- take, crop, embed


def test_take():
    t = table((5,), *[(i, 10 + i, 20 + i) for i in range(5)])
    got = take(t, (1,), (2,), (2,))
    assert got.shape == (2,)
    assert rows(got) == [(0, 11, 21, 1), (1, 13, 23, 1)]
    assert rows(take(t, (0,), (3,), (2,))) == [(0, 10, 20, 1), (1, 13, 23, 1)]
    grid = table((3, 4), *[(i, 100 + i, ONE) for i in range(12)])
    got = take(grid, (1, 0), (1, 2), (2, 2))  # rows 1..2, columns 0 and 2
    assert got.shape == (2, 2)
    assert rows(got) == [(0, 104, ONE, 1), (1, 106, ONE, 1), (2, 108, ONE, 1), (3, 110, ONE, 1)]


def test_crop():
    t = table((5,), *[(i, 10 + i, 20 + i) for i in range(5)])
    got = crop(t, (1,))
    assert got.shape == (3,)
    assert rows(got) == [(0, 11, 21, 1), (1, 12, 22, 1), (2, 13, 23, 1)]
    assert crop(t, (0,)).same_sums(t)
    grid = table((4, 3), *[(i, 100 + i, ONE) for i in range(12)])
    got = crop(grid, (1, 0))
    assert got.shape == (2, 3)
    assert rows(got) == [(j, 103 + j, ONE, 1) for j in range(6)]


def test_embed():
    t = table((2, 2), (0, 1, 2), (3, 4, 5), (3, 6, 7, 2))
    got = embed(t, (3, 4))
    assert got.shape == (3, 4)
    assert rows(got) == [(0, 1, 2, 1), (5, 4, 5, 1), (5, 6, 7, 2)]  # (1, 1) is entry 5 of a 3x4 grid
    assert crop(embed(table((1,), (0, 1, 2)), (3,)), (1,)).shape == (1,)


# --- concat, stack, and the term table itself


def test_concat_and_stack():
    p = table((2,), (0, 1, 2), (1, 3, 4))
    q = table((2,), (1, 5, 6))
    assert rows(concat([p, q])) == [(0, 1, 2, 1), (1, 3, 4, 1), (1, 5, 6, 1)]
    s = stack([p, q], (2,))
    assert s.shape == (2, 2)
    assert rows(s) == [(0, 1, 2, 1), (1, 3, 4, 1), (3, 5, 6, 1)]
    s2 = stack([p, q, p, q], (2, 2))
    assert s2.shape == (2, 2, 2)
    assert s2.entry.max() == 7 and rows(s2)[-1] == (7, 5, 6, 1)


def test_make_drops_zero_factors_and_zero_coefficients():
    t = Terms.make((2,), [0, 0, 1, 1], [1, Z, 3, 4], [2, 5, Z, 6], [1, 1, 1, 0])
    assert len(t) == 1 and rows(t) == [(0, 1, 2, 1)]
    assert len(Terms.make((2,), [0], [1], [ONE])) == 1  # ONE is a factor, not a zero


def test_canonical_sorts_merges_and_drops():
    t = Terms(
        (3,),
        np.array([2, 0, 0, 1, 1, 0]),
        np.array([5, 1, 1, 3, 3, 7]),
        np.array([6, 2, 2, 4, 4, 8]),
        np.array([1, 1, 2, 1, -1, 4]),
    )
    c = t.canonical()
    assert c.entry.tolist() == [0, 0, 2]
    assert c.a.tolist() == [1, 7, 5]
    assert c.b.tolist() == [2, 8, 6]
    assert c.coef.tolist() == [3, 4, 1]  # 1 + 2 merged; 1 - 1 dropped
    assert rows(Terms.empty((4,))) == []


def test_same_sums():
    p = table((2,), (0, 1, 2), (1, 3, 4), (1, 5, 6))
    assert p.same_sums(table((2,), (1, 5, 6), (0, 1, 2), (1, 3, 4)))  # order does not matter
    assert p.same_sums(table((2,), (1, 5, 6), (0, 1, 2, 3), (1, 3, 4), (0, 1, 2, -2)))  # merged coefficients
    assert not p.same_sums(table((2,), (0, 1, 2), (1, 3, 4)))  # a term missing
    assert not p.same_sums(table((2,), (0, 1, 2), (1, 3, 4), (1, 5, 6, 2)))  # a coefficient differs
    assert not p.same_sums(table((2,), (0, 1, 2), (0, 3, 4), (1, 5, 6)))  # a term in the wrong entry
    assert not p.same_sums(table((3,), (0, 1, 2), (1, 3, 4), (1, 5, 6)))  # another shape
    assert not p.same_sums(table((2,), (0, 1, 2), (1, 3, 4), (1, 5, 7)))  # another factor
    assert not p.same_sums(p.swapped())  # compared structurally: factor order is part of the form
    assert p.swapped().swapped().same_sums(p)
    assert Terms.empty((2,)).same_sums(table((2,), (0, 1, 2, 1), (0, 1, 2, -1)))
    assert not Terms.empty((2,)).same_sums(p)
    assert not p.same_sums(Terms.empty((2,)))


def test_sorted_by_entry_and_entry_slices():
    t = table((3,), (2, 1, 2), (0, 3, 4), (2, 5, 6), (0, 7, 8))
    s = t.sorted_by_entry()
    assert s.entry.tolist() == [0, 0, 2, 2]
    assert s.a.tolist() == [3, 7, 1, 5]  # stable within an entry
    assert s.entry_slices().tolist() == [0, 2, 2, 4]
    assert len(t) == 4 and t.size == 3


def test_correlate_makes_only_nonzero_products_in_order():
    """Both ways correlate() works (outputs x kernel entries, or data entries x kernel entries when the
    data is mostly ZERO) give exactly the brute-force rows, in entry order, kernel order within one."""
    from symgrad.tensor import ZERO, correlate

    rng = np.random.default_rng(0)
    for _ in range(300):
        ndim = int(rng.integers(1, 4))
        kshape = tuple(int(k) for k in rng.integers(1, 4, size=ndim))
        dshape = tuple(k + int(rng.integers(0, 4)) for k in kshape)
        data, kernel = rng.integers(0, 50, size=dshape), rng.integers(50, 99, size=kshape)
        data[rng.random(dshape) < rng.random()] = ZERO
        kernel[rng.random(kshape) < 0.8 * rng.random()] = ZERO
        out_shape = tuple(n - k + 1 for n, k in zip(dshape, kshape))
        want = [(int(np.ravel_multi_index(o, out_shape)), int(data[tuple(i + j for i, j in zip(o, k))]), int(kernel[k]))
                for o in np.ndindex(out_shape) for k in np.ndindex(kshape)
                if data[tuple(i + j for i, j in zip(o, k))] != ZERO and kernel[k] != ZERO]
        t = correlate(data, kernel)
        assert list(zip(t.entry.tolist(), t.a.tolist(), t.b.tolist())) == want
