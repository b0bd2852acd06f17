"""`--entry NAME`: one entry's chain rule and the cells involved. The marked cells are checked against
receptive fields computed here with plain index loops (not with symgrad's windows or term tables)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

import symgrad
from symgrad.render.entry import MARK, NONE, SELF, involvement

from conftest import run


def field(out_pos, spec_kernel, stride, dilation, padding, size):
    """{kernel offset: input position} of one output, by index loops (None where it falls in the padding)."""
    cells = {}
    for k in itertools.product(*[range(n) for n in spec_kernel]):
        pos = tuple(s * o + d * kk - p for o, kk, s, d, p in zip(out_pos, k, stride, dilation, padding))
        cells[k] = pos if all(0 <= q < n for q, n in zip(pos, size)) else None
    return cells


def random_conv(rng):
    ndim = rng.choice([1, 2])
    size = tuple(rng.randint(3, 7) for _ in range(ndim))
    kernel = tuple(rng.randint(1, 3) for _ in range(ndim))
    stride = tuple(rng.randint(1, 3) for _ in range(ndim))
    dilation = tuple(rng.randint(1, 2) for _ in range(ndim))
    padding = tuple(rng.randint(0, 2) for _ in range(ndim))
    x = lambda t: "x".join(map(str, t))  # noqa: E731
    try:
        return symgrad.conv(x(size), x(kernel), x(stride), x(padding), x(dilation)), size, kernel, stride, dilation, padding
    except symgrad.SymgradError:
        return random_conv(rng)


@pytest.mark.parametrize("seed", range(12))
def test_conv_entries_mark_the_receptive_fields(seed):
    d, size, kernel, stride, dilation, padding = random_conv(random.Random(seed))
    sym = d.symbols
    out_size = d.spec.output_size
    name = lambda i: sym.unicode(int(i))  # noqa: E731
    kernel_id = lambda k: sym["kernel"].offset + int(np.ravel_multi_index(k, kernel))  # noqa: E731
    input_id = lambda p: sym["input"].offset + int(np.ravel_multi_index(p, size))  # noqa: E731
    for o in itertools.product(*[range(n) for n in out_size]):
        k_out = int(np.ravel_multi_index(o, out_size))
        grids = involvement(d, sym["output"].offset + k_out)
        want = np.full((1, *size), NONE, dtype=object)
        for k, pos in field(o, kernel, stride, dilation, padding, size).items():
            if pos is not None:
                want[(0, *pos)] = MARK + name(kernel_id(k))
        assert grids["input"].tolist() == want.tolist(), (o, d.spec)
        assert grids["output"].flat[k_out] == SELF + name(sym["output"].offset + k_out)
    for p in itertools.product(*[range(n) for n in size]):
        grids = involvement(d, input_id(p))
        want = np.full((1, *out_size), NONE, dtype=object)
        for o in itertools.product(*[range(n) for n in out_size]):
            for k, pos in field(o, kernel, stride, dilation, padding, size).items():
                if pos == p:
                    want[(0, *o)] = MARK + name(kernel_id(k))
        assert grids["output"].tolist() == want.tolist(), (p, d.spec)


def test_pool_entries_mark_the_windows():
    d = symgrad.pool("5x5", "3x3", stride=2, padding=1)  # overlapping windows with padding
    sym = d.symbols
    for o in itertools.product(range(3), range(3)):
        k = int(np.ravel_multi_index(o, (3, 3)))
        grids = involvement(d, sym["output"].offset + k)
        marked = {tuple(int(v) for v in np.unravel_index(i, (5, 5))) for i, cell in enumerate(grids["input"].ravel()) if cell.startswith(MARK)}
        want = {(2 * o[0] + a - 1, 2 * o[1] + b - 1) for a in range(3) for b in range(3)}
        assert marked == {p for p in want if 0 <= p[0] < 5 and 0 <= p[1] < 5}
    for p in itertools.product(range(5), range(5)):
        grids = involvement(d, sym["input"].offset + int(np.ravel_multi_index(p, (5, 5))))
        holding = {o for o in itertools.product(range(3), range(3))
                   if all(2 * oo - 1 <= pp <= 2 * oo + 1 for oo, pp in zip(o, p))}
        assert {o for o in itertools.product(range(3), range(3)) if grids["output"][(0, *o)].startswith(MARK)} == holding, p


@pytest.mark.parametrize("args,name", [
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--bias"], "x_3_3"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--bias"], "w_1_2"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--bias"], "b"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--bias"], "z_2_1"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--bias"], "dz_2_1"),
    (["conv", "--input", "4x4", "--kernel", "2x2", "--in-channels", "2", "--out-channels", "2"], "w_2_1_1_2"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--index", "flat", "--names", "a,w,z"], "a13"),
    (["pool", "--input", "4x4", "--window", "2x2"], "x₂₃"),
    (["pool", "--input", "4x4", "--window", "2x2", "--mode", "avg"], "y_2_2"),
])
def test_entry_for_every_tensor(args, name, capsys):
    code, out, err = run([*args, "--entry", name], capsys)
    assert code == 0 and err == "", err
    assert "Entry " in out and SELF in out and MARK in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_entry_numbers_and_exact_text(capsys):
    code, out, _ = run(["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--entry", "x_3_3"], capsys)
    assert "= w₃₃·∂L/∂z₁₁ + w₃₁·∂L/∂z₁₂ + w₁₃·∂L/∂z₂₁ + w₁₁·∂L/∂z₂₂" in out
    assert "⎡ ●w₃₃  ●w₃₁ ⎤" in out and "⎣ ●w₁₃  ●w₁₁ ⎦" in out


@pytest.mark.parametrize("name", ["q_1", "x_6_1", "x_1", "w", "", "x_1_1_1"])
def test_a_bad_entry_is_one_line(name, capsys):
    code, out, err = run(["conv", "--input", "5x5", "--kernel", "3x3", "--entry", name], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"Error: --entry {name!r} is not a name of this layer; expected one of x_1_1 .. x_5_5, w_1_1 .. w_3_3")


def test_entry_needs_the_text_format(capsys):
    code, _, err = run(["conv", "--input", "5x5", "--kernel", "3x3", "--entry", "x_1_1", "--format", "json"], capsys)
    assert code == 2 and "--entry shows one entry in the terminal; it works with --format text, not json" in err
