"""--padding same|valid and --padding-mode reflect|replicate|circular: the spec's rules, sympy.diff through
padded copies, the fold identity failing without the fold, and `check` naming the slip of forgetting it.
(PyTorch agreement: tests/test_parity_oracle.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy

import symgrad
from symgrad import ConvSpec, cli
from symgrad.errors import SpecError
from symgrad.layers.conv import input_closed_form

from test_check import answer_file, check_json, _slips


def test_same_pads_the_odd_zero_at_the_end():
    spec = ConvSpec.build("5x6", "2x3", padding="same")
    assert (spec.padding, spec.padding_end, spec.output_size) == ((0, 1), (1, 1), (5, 6))
    dilated = ConvSpec.build("7", "3", padding="same", dilation=2)
    assert (dilated.padding, dilated.padding_end, dilated.output_size) == ((2,), (2,), (7,))
    assert ConvSpec.build("5x5", "3x3", padding="valid").padding == (0, 0)
    assert ConvSpec.build("5x5", "2x2", padding="same").padding_text == "same (0 before, 1 after)"


@pytest.mark.parametrize("options, message", [
    (dict(padding="same", stride=2), "--padding same needs stride 1 (PyTorch's rule), got --stride 2; give the padding as numbers for a strided layer"),
    (dict(padding="half"), "--padding must be a non-negative integer, one per axis like 1x0, same or valid; got 'half'"),
    (dict(padding=3, padding_mode="reflect"), "--padding-mode reflect needs padding smaller than the input: padding 3 along the height axis of size 3 (PyTorch's rule); expected at most 2"),
    (dict(padding=4, padding_mode="circular"), "--padding-mode circular needs padding at most the input: padding 4 along the height axis of size 3 (PyTorch's rule); expected at most 3"),
    (dict(padding_mode="mirror"), "--padding-mode must be one of zeros, reflect, replicate, circular, got 'mirror'"),
])
def test_bad_padding_is_one_line(options, message):
    with pytest.raises(SpecError) as error:
        ConvSpec.build("3x3", "2x2", **options)
    assert str(error.value) == message


def _padded_by_hand(n: int, p: int, mode: str) -> list[int]:
    """The input index each padded position copies, with plain index arithmetic."""
    out = []
    for q in range(-p, n + p):
        if 0 <= q < n:
            out.append(q)
        elif mode == "reflect":
            out.append(-q if q < 0 else 2 * (n - 1) - q)
        elif mode == "replicate":
            out.append(0 if q < 0 else n - 1)
        else:
            out.append(q % n)
    return out


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_sympy_diff_through_the_padded_copies(mode):
    """L = Σ_o g_o·z_o with z built from an explicitly padded input; sympy.diff equals symgrad's gradients."""
    n, k, p, s = 5, 3, 2, 2
    d = symgrad.conv(str(n), str(k), stride=s, padding=p, padding_mode=mode)
    x = sympy.symbols(f"x1:{n + 1}")
    w = sympy.symbols(f"w1:{k + 1}")
    g = sympy.symbols(f"dz1:{d.spec.output_size[0] + 1}")
    padded = [x[i] for i in _padded_by_hand(n, p, mode)]
    z = [sum(w[j] * padded[s * o + j] for j in range(k)) for o in range(len(g))]
    loss = sum(gi * zi for gi, zi in zip(g, z))
    names = {str(sym): sym for sym in (*x, *w, *g)}
    for key, symbols in (("grad_input", x), ("grad_kernel", w)):
        for i, sym in enumerate(symbols):
            got = d.gradient_expr(key, i).subs({s_: names[str(s_).replace("_", "")] for s_ in d.gradient_expr(key, i).free_symbols})
            assert sympy.expand(got - sympy.diff(loss, sym)) == 0, (key, i)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_the_identity_fails_without_the_fold(mode):
    d = symgrad.conv("5x5", "3x3", padding=1, padding_mode=mode)
    assert d.all_hold
    assert not input_closed_form(d.spec, d.symbols, fold_padding=False).same_sums(d.grad_input)
    assert input_closed_form(d.spec, d.symbols).same_sums(d.grad_input)


def test_the_fold_is_shown(capsys):
    assert cli.main(["conv", "--input", "4x4", "--kernel", "3x3", "--padding", "1", "--padding-mode", "reflect",
                     "--show", "identities"]) == 0
    out = capsys.readouterr().out
    assert "✓ dL/dX = fold_reflect(full-conv(dilate(dL/dZ), rot180(W)))" in out
    assert "For example x₂₂ appears at padded positions (1, 1), (1, 3), (3, 1), (3, 3):" in out
    assert "Copies of each input cell in the padded input (reflect)" in out


def test_documents_json_and_template(tmp_path, capsys):
    d = symgrad.conv("4x4", "2x2", padding="same", padding_mode="circular")
    md = d.to_markdown()
    assert "padding same (0 before, 1 after) (circular)" in md
    assert r"\operatorname{fold}_{\text{circular}}" in md
    options = json.loads(d.to_json())["options"]
    assert options["padding"] == [0, 0] and options["padding_end"] == [1, 1] and options["padding_mode"] == "circular"
    out = tmp_path / "t.toml"
    assert cli.main(["template", "conv", "--input", "4x4", "--kernel", "2x2", "--padding", "same", "--padding-mode",
                     "circular", "-o", str(out)]) == 0
    text = out.read_text()
    assert 'padding = "same"\npadding_mode = "circular"' in text


def test_check_names_the_missing_fold(tmp_path, capsys):
    """dL/dX of a reflect-padded layer computed as if the padding were zeros (cropped, not folded), by hand."""
    problem = {"layer": "conv", "input": "4", "kernel": "3", "padding": 1, "padding_mode": "reflect"}
    n, k, p = 4, 3, 1
    o_count = n + 2 * p - k + 1
    padded_grad = [[] for _ in range(n + 2 * p)]
    for o in range(o_count):
        for j in range(k):
            padded_grad[o + j].append(f"w_{j + 1}*dz_{o + 1}")
    cropped = [" + ".join(cell) for cell in padded_grad[p:p + n]]
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", problem, {"grad_input": cropped})], capsys)
    assert code == 1
    slips = _slips(data, "grad_input")
    assert slips and all("no_fold" in s for s in slips), slips
    assert len(slips) == 2  # the two edge cells, whose mirror copies were left out


def test_pictures_show_the_copies_in_the_padding():
    from symgrad.render.frames import animation

    d = symgrad.conv("4x4", "2x2", padding=1, padding_mode="reflect")
    first = animation(d, "forward").frames[0].panels[0]
    assert first.label == "X (padded, reflect)" and first.shape == (6, 6)
    # padded row 0 mirrors input row 2 (index 1): x₂₂ x₂₁ x₂₂ x₂₃ x₂₄ x₂₃, all drawn as padding
    assert [first.texts[0][j] for j in range(6)] == ["x₂₂", "x₂₁", "x₂₂", "x₂₃", "x₂₄", "x₂₃"]
    assert {(0, j) for j in range(6)} <= first.padding and (1, 1) not in first.padding
    same = animation(symgrad.conv("3x3", "2x2", padding="same"), "forward").frames[0].panels[0]
    assert same.shape == (4, 4) and same.texts[3][3] == "0" and same.texts[0][0] == "x₁₁"
