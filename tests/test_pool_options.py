"""PyTorch's other pooling options: ceil_mode, dilation (max), count_include_pad=False and divisor_override
(avg), adaptive pooling. The output sizes and divisors by hand, sympy.diff of the means and maxima, the
documents' words, and `check` naming the wrong divisor. (PyTorch agreement: tests/test_parity_oracle.py.)"""

from __future__ import annotations

import json

import pytest
import sympy

import symgrad
from symgrad.spec import PoolSpec

from test_check import answer_file, check_json, _slips


def test_ceil_mode_adds_a_window_and_drops_one_that_would_start_in_the_padding():
    assert PoolSpec.build("5x5", "2x2").output_size == (2, 2)
    assert PoolSpec.build("5x5", "2x2", ceil_mode=True).output_size == (3, 3)
    # N=5, k=2, s=2, p=1: ceil(5/2) + 1 = 4, but the 4th window would start at 6 - 1 = 5 >= N + p: dropped
    assert PoolSpec.build("5", "2", padding=1, ceil_mode=True).output_size == (3,)


def test_divisors_as_pytorch_counts_them():
    # 5x5, 2x2, ceil: the last window along each axis covers 1 of its 2 cells
    assert PoolSpec.build("5x5", "2x2", mode="avg", ceil_mode=True).divisors().tolist() == [4, 4, 2, 4, 4, 2, 2, 2, 1]
    # 5, window 3, stride 2, padding 1: with padding counted 3 each; without, 2, 3, 2
    assert PoolSpec.build("5", "3", stride=2, padding=1, mode="avg").divisors().tolist() == [3, 3, 3]
    assert PoolSpec.build("5", "3", stride=2, padding=1, mode="avg", count_include_pad=False).divisors().tolist() == [2, 3, 2]
    assert PoolSpec.build("5", "3", stride=2, padding=1, mode="avg", divisor=7).divisors().tolist() == [7, 7, 7]
    # adaptive 7 -> 3: windows 0-2, 2-4, 4-6 (floor(i*7/3) .. ceil((i+1)*7/3))
    spec = PoolSpec.build("7", mode="avg", output_size="3")
    assert spec.spans(0) == [(0, 3), (2, 5), (4, 7)] and spec.divisors().tolist() == [3, 3, 3]
    assert PoolSpec.build("5", mode="avg", output_size="3").spans(0) == [(0, 2), (1, 4), (3, 5)]


@pytest.mark.parametrize("options", [
    dict(input="5", window="2", mode="avg", ceil_mode=True),
    dict(input="5", window="3", stride=2, padding=1, mode="avg", count_include_pad=False),
    dict(input="5", mode="avg", output_size="3"),
    dict(input="6", window="3", stride=2, padding=1, mode="avg", divisor=5),
])
def test_sympy_diff_of_the_means(options):
    d = symgrad.pool(**options)
    spec = d.spec
    x = sympy.symbols(f"x_1:{spec.input_size[0] + 1}")
    g = sympy.symbols(f"dy_1:{spec.output_size[0] + 1}")
    loss = 0
    for k, (start, end) in enumerate(spec.spans(0)):
        cells = [x[i] for i in range(max(start, 0), min(end, spec.input_size[0]))]
        loss += g[k] * sympy.Add(*cells) / int(spec.divisors()[k])
    for i in range(spec.input_size[0]):
        got = d.gradient_expr("grad_input", i)
        want = sympy.diff(loss, x[i])
        assert sympy.simplify(got.subs({s: sympy.Symbol(str(s)) for s in got.free_symbols}) - want) == 0, i


def test_sympy_diff_of_dilated_maxima():
    d = symgrad.pool("7", "3", dilation=2, stride=1)
    x = sympy.symbols("x_1:8", real=True)
    for i in range(7):
        got = d.gradient_expr("grad_input", i)
        dy = [sympy.Symbol(f"dy_{k + 1}") for k in range(3)]
        want = sum(dy[k] * sympy.diff(sympy.Max(x[k], x[k + 2], x[k + 4]), x[i]) for k in range(3))
        names = {str(s): s for s in x}
        assert sympy.simplify(got.subs({s: names.get(str(s), s) for s in got.free_symbols}) - want) == 0, i


def test_documents_state_each_rule():
    text = symgrad.pool("5x5", "2x2", mode="avg", ceil_mode=True).to_markdown()
    assert r"\left\lceil \frac{5 + 2 \cdot 0 - 2}{2} \right\rceil + 1 = 3" in text
    assert r"y_{13} &= \tfrac{1}{2}(x_{15} + x_{25})" in text and "the window's own divisor" in text
    adaptive = symgrad.pool("7x5", mode="avg", output_size="3x2").to_markdown()
    assert "output size 3x2 (adaptive)" in adaptive and "Windows along the height (cells, counting from 1): 1–3, 3–5, 5–7." in adaptive
    data = json.loads(symgrad.pool("5", "3", stride=2, padding=1, mode="avg", count_include_pad=False).to_json())
    assert data["options"]["count_include_pad"] is False and data["options"]["divisors"] == [["2", "3", "2"]]
    assert data["forward"] == [["(x_1 + x_2)/2", "(x_2 + x_3 + x_4)/3", "(x_4 + x_5)/2"]]
    assert data["grad_input"] == [["dy_1/2", "dy_1/2 + dy_2/3", "dy_2/3", "dy_2/3 + dy_3/2", "dy_3/2"]]


def test_check_names_the_wrong_divisor(tmp_path, capsys):
    """Average pooling without count_include_pad, answered as if every window divided by 3 (by hand)."""
    problem = {"layer": "pool", "input": "5", "window": "3", "stride": 2, "padding": 1, "mode": "avg",
               "count_include_pad": False}
    # windows over the padded input: cells 1-2, 2-4, 4-5 (1-based); dividing each by 3
    wrong = ["dy_1/3", "dy_1/3 + dy_2/3", "dy_2/3", "dy_2/3 + dy_3/3", "dy_3/3"]
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", problem, {"grad_input": wrong})], capsys)
    assert code == 1
    slips = _slips(data, "grad_input")
    assert slips and all("wrong_divisor" in s for s in slips), slips
    right = ["dy_1/2", "dy_1/2 + dy_2/3", "dy_2/3", "dy_2/3 + dy_3/2", "dy_3/2"]
    code, data, _ = check_json([answer_file(tmp_path / "b.toml", problem, {"grad_input": right})], capsys)
    assert code == 0, data
