"""The matrix (im2col) form: Z = W_row·X_col, dL/dW = dL/dZ·X_colᵀ, dL/dX = col2im(W_rowᵀ·dL/dZ).

PyTorch's unfold/fold and autograd check it on the 240 random layers of test_torch_oracle.py; here:
sympy.diff of the matrix product, identities that fail when an ingredient is wrong, and every output
format.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import sympy

import symgrad
from symgrad import ConvSpec, cli
from symgrad.layers.im2col import MatrixForm, input_product, kernel_product, matrix_form
from symgrad.tensor import ZERO, windows


def _symbols(ids: np.ndarray) -> sympy.Matrix:
    return sympy.Matrix(ids.shape[0], ids.shape[1], lambda r, c: 0 if ids[r, c] == ZERO else sympy.Symbol(f"s{ids[r, c]}"))


def _expressions(table) -> list:
    out = [sympy.Integer(0)] * int(np.prod(table.shape))
    for entry, a, b, coef in zip(table.entry, table.a, table.b, table.coef):
        out[entry] += int(coef) * sympy.Symbol(f"s{a}") * sympy.Symbol(f"s{b}")
    return out


@pytest.mark.parametrize("options", [
    dict(input="4x4", kernel="2x2"),
    dict(input="5x4", kernel="3x2", stride="2x1", padding="1x0"),
    dict(input="4x5", kernel="2x2", dilation=2, in_channels=2, out_channels=2),
    dict(input="6", kernel="3", stride=2, padding=1),
])
def test_sympy_diff_of_the_matrix_product(options):
    """L = Σ dL/dZ ∘ (W_row·X_col), differentiated by sympy, gives the matrix form's gradients."""
    d = symgrad.conv(**options, im2col=True)
    form = matrix_form(d.spec, d.symbols)
    loss = sum((_symbols(form.grad).multiply_elementwise(_symbols(form.w_row) * _symbols(form.x_col))), sympy.Integer(0))
    for group, table in (("kernel", kernel_product(d.spec, form)), ("input", input_product(d.spec, form))):
        expected = [sympy.diff(loss, sympy.Symbol(f"s{i}")) for i in d.symbols[group].ids.ravel()]
        got = _expressions(table)
        assert [sympy.expand(e - g) for e, g in zip(expected, got)] == [0] * len(expected), group


def _reversed_kernel(form: MatrixForm, spec: ConvSpec) -> MatrixForm:
    """X_col with each channel's rows in reverse: the kernel read backwards (rot180 where there is none)."""
    K = int(np.prod(spec.kernel_size))
    rows = np.concatenate([c * K + np.arange(K)[::-1] for c in range(spec.in_channels)])
    return MatrixForm(form.x_col[rows], form.w_row, form.grad, form.cell[rows])


@pytest.mark.parametrize("options", [
    dict(input="5x5", kernel="3x3", stride=2),
    dict(input="4x4", kernel="2x2", padding=1, in_channels=2, out_channels=3),
    dict(input="7", kernel="3", stride=2, dilation=2),
])
def test_each_identity_fails_when_an_ingredient_is_wrong(options):
    d = symgrad.conv(**options, im2col=True)
    spec, form = d.spec, matrix_form(d.spec, d.symbols)
    assert kernel_product(spec, form).same_sums(d.grad_kernel) and input_product(spec, form).same_sums(d.grad_input)
    backwards = _reversed_kernel(form, spec)
    assert not kernel_product(spec, backwards).same_sums(d.grad_kernel)  # X_col read with the kernel reversed
    # col2im that writes instead of adding: each cell keeps one output's share
    product = input_product(spec, form)
    _, first = np.unique(product.entry, return_index=True)
    overwritten = type(product)(product.shape, product.entry[first], product.a[first], product.b[first], product.coef[first])
    assert not overwritten.same_sums(d.grad_input)
    # col2im that forgets the padding: each entry added into cell s·o + d·k instead of s·o + d·k − p
    if any(spec.padding):
        fields = windows(d.symbols["input"].ids, spec.output_size, spec.kernel_size, spec.stride, spec.dilation,
                         (0,) * spec.ndim)
        n = spec.ndim
        shifted = np.moveaxis(fields, tuple(range(1, 1 + n)), tuple(range(1 + n, 1 + 2 * n))).reshape(form.cell.shape)
        cells = np.where(shifted == ZERO, -1, shifted - d.symbols["input"].offset)
        assert not input_product(spec, MatrixForm(form.x_col, form.w_row, form.grad, cells)).same_sums(d.grad_input)
    transposed = MatrixForm(form.x_col, form.w_row[:, ::-1], form.grad, form.cell)  # W_row read backwards
    assert not input_product(spec, transposed).same_sums(d.grad_input)


def test_default_documents_leave_the_matrix_form_out(capsys):
    assert cli.main(["conv", "--input", "4x4", "--kernel", "2x2"]) == 0
    out = capsys.readouterr().out
    assert "im2col" not in out and "X_col" not in out
    assert [i.name for i in symgrad.conv("4x4", "2x2").identities] == ["grad_kernel", "grad_input"]


def test_terminal_view(capsys):
    assert cli.main(["conv", "--input", "3x3", "--kernel", "2x2", "--show", "im2col"]) == 0
    out = capsys.readouterr().out
    assert "The matrix form (im2col)" in out and "Setup" not in out
    assert "✓ dL/dW = reshape(dL/dZ · X_colᵀ)" in out and "✓ dL/dX = col2im(W_rowᵀ · dL/dZ)" in out
    # X_col of a 3x3 input and a 2x2 kernel: row k holds the cell kernel entry k meets at each output
    assert "⎡ x₁₁  x₁₂  x₂₁  x₂₂ ⎤" in out and "⎣ x₂₂  x₂₃  x₃₂  x₃₃ ⎦" in out
    assert "W_row =\n    [ w₁₁  w₁₂  w₂₁  w₂₂ ]" in out


def test_json_names_the_identities_and_checks_them_on_numbers(tmp_path):
    values = tmp_path / "v.json"
    values.write_text(json.dumps({"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "kernel": [[1, "-1/2"], [0, 2]],
                                  "grad_output": [[1, -1], [0, 2]]}))
    out = tmp_path / "out.json"
    assert cli.main(["conv", "--input", "3x3", "--kernel", "2x2", "--show", "im2col", "--values", str(values),
                     "--format", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    named = {i["name"]: i for i in data["identities"]}
    assert set(named) == {"grad_kernel", "grad_input", "im2col_grad_kernel", "im2col_grad_input"}
    for name in ("im2col_grad_kernel", "im2col_grad_input"):
        assert named[name]["holds"] is True and named[name]["holds_with_values"] is True
        assert named[name]["terms_compared"] == 16
    assert named["im2col_grad_input"]["statement"] == "dL/dX = col2im(W_rowᵀ · dL/dZ)"


def test_latex_and_markdown(tmp_path):
    d = symgrad.conv("4x4", "3x3", stride=2, padding=1, in_channels=2, out_channels=2, bias=True, im2col=True)
    md = d.to_markdown()
    assert "## The matrix form (im2col)" in md
    assert r"X_{\text{col}} = \begin{bmatrix}" in md and r"\frac{\partial L}{\partial Z} \cdot X_{\text{col}}^{\top}" not in md
    assert r"$\frac{\partial L}{\partial Z}$ $\cdot$ $X_{\text{col}}^{\top}$" in md
    assert r"Z = W_{\text{row}} X_{\text{col}} + b" in md
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    (tmp_path / "m.tex").write_text(d.to_latex(), encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "m.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    log = (tmp_path / "m.log").read_text(errors="replace")
    assert done.returncode == 0, log[-2000:]
    assert "Overfull" not in log


def test_net_conv_stages_carry_the_matrix_form(capsys):
    values = {"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "layers": [{"kernel": [[1, -1], [0, 2]]}, {}, {}]}
    net = symgrad.net("3x3", "conv 2x2 | relu | sum", values=values, im2col=True)
    conv_stage = net.stages[0]
    assert [i.name for i in conv_stage.d.identities] == ["grad_kernel", "grad_input", "im2col_grad_kernel", "im2col_grad_input"]
    assert all(i.holds for i in conv_stage.d.identities) and all(conv_stage.d.numeric.identities.values())
    assert cli.main(["net", "--input", "3x3", "--layers", "conv 2x2 | relu | sum", "--show", "im2col"]) == 0
    out = capsys.readouterr().out
    assert "The matrix form (im2col)" in out and "✓ dL/dX = col2im(W_rowᵀ · dL/dZ)" in out
    assert "im2col" not in symgrad.net("3x3", "conv 2x2 | relu | sum").to_markdown()
