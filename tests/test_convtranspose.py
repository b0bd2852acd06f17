"""symgrad convtranspose: PyTorch's ConvTranspose, tied to convolution. sympy.diff of the scatter, the
identities failing without an ingredient, every format, template and check. (PyTorch agreement:
tests/test_parity_oracle.py, 100 random layers.)"""

from __future__ import annotations

import json
from fractions import Fraction
import shutil
import subprocess

import pytest
import sympy

import symgrad
from symgrad import cli
from symgrad.errors import SpecError
from symgrad.layers.conv import input_closed_form
from symgrad.layers.convtranspose import _roles
from symgrad.spec import ConvTransposeSpec
from symgrad.tensor import take

from test_check import answer_file, check_json


def test_output_size_and_weight_shape_as_pytorch():
    spec = ConvTransposeSpec.build("3x3", "3x3", stride=2, padding=1, output_padding=1, in_channels=4, out_channels=6, groups=2)
    assert spec.output_size == (6, 6) and spec.kernel_shape == (4, 3, 3, 3)
    assert ConvTransposeSpec.build("4", "2", stride=2).output_size == (8,)


@pytest.mark.parametrize("options, message", [
    (dict(stride=2, output_padding=2), "--output-padding 2 must be smaller than the stride or the dilation along the length axis (PyTorch's rule); got 2 with stride 2 and dilation 1"),
    (dict(padding=4), "--padding 4 leaves no output along the length axis"),
    (dict(in_channels=3, groups=2), "--groups 2 must divide both --in-channels 3 and --out-channels 1"),
])
def test_bad_options_are_one_line(options, message):
    with pytest.raises(SpecError) as error:
        ConvTransposeSpec.build("3", "2", **options)
    assert message in str(error.value)


def test_sympy_diff_of_the_scatter():
    """L = Σ g·y with y built by scattering x_n·w_k to n·s + d·k − p by hand; sympy.diff equals symgrad's."""
    n, k, s, p, op, dl = 3, 3, 2, 1, 1, 1
    d = symgrad.convtranspose(str(n), str(k), stride=s, padding=p, output_padding=op, dilation=dl)
    out = (n - 1) * s - 2 * p + dl * (k - 1) + op + 1
    x, w, g = sympy.symbols(f"x_1:{n + 1}"), sympy.symbols(f"w_1:{k + 1}"), sympy.symbols(f"dz_1:{out + 1}")
    y = [sympy.Integer(0)] * out
    for i in range(n):
        for j in range(k):
            o = i * s + dl * j - p
            if 0 <= o < out:
                y[o] += x[i] * w[j]
    loss = sum(gi * yi for gi, yi in zip(g, y))
    names = {str(v): v for v in (*x, *w, *g)}
    for key, group in (("grad_input", x), ("grad_kernel", w)):
        for i, sym in enumerate(group):
            got = d.gradient_expr(key, i)
            assert sympy.expand(got.subs({v: names[str(v)] for v in got.free_symbols}) - sympy.diff(loss, sym)) == 0
    for o in range(out):
        got = d.forward_expr(o)
        assert sympy.expand(got.subs({v: names[str(v)] for v in got.free_symbols}) - y[o]) == 0


@pytest.mark.parametrize("options", [dict(input="3x3", kernel="3x3", stride=2, padding=1, output_padding=1),
                                     dict(input="4", kernel="2", stride=3, padding=1)])
def test_the_forward_identity_fails_without_the_crop_or_with_another_output_padding(options):
    d = symgrad.convtranspose(**options)
    spec, symbols = d.spec, d.symbols
    roles = _roles(spec, symbols, kernel=symbols["kernel"].ids, grad_output=symbols["input"].ids)
    right = take(input_closed_form(roles.conv, roles.table).swapped(), (0,) * (spec.ndim + 1), (1,) * (spec.ndim + 1), spec.output_shape)
    assert right.same_sums(d.forward)
    uncropped = input_closed_form(roles.conv, roles.table, crop_padding=False).swapped()
    assert not uncropped.same_sums(d.forward)
    other = ConvTransposeSpec.build(options["input"], options["kernel"], options["stride"], options["padding"],
                                    (options.get("output_padding", 0) + 1) % options["stride"])
    wrong = symgrad.convtranspose(**{**options, "output_padding": (options.get("output_padding", 0) + 1) % options["stride"]})
    assert other.output_size != spec.output_size and not wrong.forward.same_sums(d.forward)


def test_cli_and_json(capsys, tmp_path):
    out = tmp_path / "ct.json"
    assert cli.main(["convtranspose", "--input", "2", "--kernel", "2", "--stride", "2", "--bias", "--format", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["layer"] == "convtranspose" and data["kernel_shape"] == [1, 1, 2] and data["output_shape"] == [1, 4]
    assert data["forward"] == [["w_1*x_1 + b", "w_2*x_1 + b", "w_1*x_2 + b", "w_2*x_2 + b"]]
    assert data["grad_input"] == [["w_1*dz_1 + w_2*dz_2", "w_1*dz_3 + w_2*dz_4"]]
    assert [i["name"] for i in data["identities"]] == ["forward", "grad_kernel", "grad_input"] and all(i["holds"] for i in data["identities"])
    assert data["options"]["output_padding"] == [0]
    assert cli.main(["convtranspose", "--input", "2", "--kernel", "2", "--stride", "2"]) == 0
    text = capsys.readouterr().out
    assert "✓ dL/dX = conv(dL/dZ, W): a plain correlation" in text


def test_with_values_and_the_update():
    d = symgrad.convtranspose("2", "2", stride=2, values={"input": [[1, 2]], "kernel": [[[3, "1/2"]]], "grad_output": [[1, 0, 2, 1]]}, lr="1/10")
    assert d.numeric.result("forward").tolist() == [[3, Fraction(1, 2), 6, 1]]  # x_1·w_1, x_1·w_2, x_2·w_1, x_2·w_2
    # dL/dw_1 = x_1·g_1 + x_2·g_3 = 1 + 4; dL/dw_2 = x_1·g_2 + x_2·g_4 = 0 + 2
    assert [int(v) for v in d.numeric.result("grad_kernel").ravel()] == [5, 2]
    assert all(d.numeric.identities.values())
    assert d.update["kernel"][1].tolist() == [Fraction(5, 2), Fraction(3, 10)]  # 3 − 5/10, 1/2 − 2/10


def test_latex_compiles(tmp_path):
    tex = symgrad.convtranspose("3x3", "2x2", stride=2, padding=1, output_padding=1, in_channels=2, out_channels=2,
                                groups=2, bias=True).to_latex()
    assert r"\operatorname{crop}_p" in tex
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (tmp_path / "t.tex").write_text(tex, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert done.returncode == 0, log[-2000:]
    assert "Overfull" not in log


def test_check_judges_a_transposed_convolution(tmp_path, capsys):
    problem = {"layer": "convtranspose", "input": "3", "kernel": "2", "stride": 2, "padding": 1}
    d = symgrad.convtranspose("3", "2", stride=2, padding=1)
    data = json.loads(d.to_json())
    answers = {"grad_kernel": data["grad_kernel"][0][0], "grad_input": data["grad_input"][0]}
    code, report, _ = check_json([answer_file(tmp_path / "a.toml", problem, answers)], capsys)
    assert code == 0 and report["files"][0]["status"] == "right"
    # the weight's gradient written the convolution way (X correlated with dL/dZ, no stride): wrong
    answers["grad_kernel"] = ["x_1*dz_1 + x_2*dz_2 + x_3*dz_3", "x_1*dz_2 + x_2*dz_3 + x_3*dz_4"]
    code, report, _ = check_json([answer_file(tmp_path / "b.toml", problem, answers)], capsys)
    assert code == 1 and report["files"][0]["answers"]["grad_kernel"]["score"] == 0
