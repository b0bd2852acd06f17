"""The command line as a user meets it: output, exit codes, and one clear line for every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import counting_work, run
from rich.cells import cell_len


MAIN = ["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2"]


def test_main_command_shows_every_step(capsys):
    code, out, err = run(MAIN, capsys)
    assert code == 0 and err == ""
    assert "z₁₁ = w₁₁·x₁₁ + w₁₂·x₁₂ + w₁₃·x₁₃ + w₂₁·x₂₁ + w₂₂·x₂₂ + w₂₃·x₂₃ + w₃₁·x₃₁" in out
    assert "= x₁₁·∂L/∂z₁₁ + x₁₃·∂L/∂z₁₂ + x₃₁·∂L/∂z₂₁ + x₃₃·∂L/∂z₂₂" in out
    assert "∂L/∂x₃₃ = ∂z₁₁/∂x₃₃·∂L/∂z₁₁ + ∂z₁₂/∂x₃₃·∂L/∂z₁₂ + ∂z₂₁/∂x₃₃·∂L/∂z₂₁" in out
    assert "= w₃₃·∂L/∂z₁₁ + w₃₁·∂L/∂z₁₂ + w₁₃·∂L/∂z₂₁ + w₁₁·∂L/∂z₂₂" in out
    assert "✓ dL/dW = conv(X, dilate(dL/dZ))" in out
    assert "✓ dL/dX = full-conv(dilate(dL/dZ), rot180(W))" in out
    assert "⎡ w₃₃  w₃₂  w₃₁ ⎤" in out  # rot180(W)
    assert "height = floor((5 + 2·0 − 1·(3−1) − 1)/2) + 1 = 2" in out


def test_seed_000_naming(capsys):
    code, out, _ = run(MAIN + ["--index", "flat", "--names", "a,w,z", "--show", "grad-kernel"], capsys)
    assert code == 0
    assert "= a₁·∂L/∂z₁ + a₃·∂L/∂z₂ + a₁₁·∂L/∂z₃ + a₁₃·∂L/∂z₄" in out
    assert "= a₂·∂L/∂z₁ + a₄·∂L/∂z₂ + a₁₂·∂L/∂z₃ + a₁₄·∂L/∂z₄" in out
    assert "Forward" not in out and "Identities" not in out


@pytest.mark.parametrize("columns", [80, 160])
@pytest.mark.parametrize(
    "args",
    [
        MAIN,
        ["conv", "--input", "28x28", "--kernel", "5x5"],
        ["conv", "--input", "6x9x9", "--kernel", "2x3x3", "--in-channels", "2", "--out-channels", "2", "--bias", "--stride", "2", "--padding", "1"],
        ["conv", "--input", "12", "--kernel", "3", "--dilation", "2", "--loss", "mse"],
    ],
)
def test_text_fits_the_terminal(args, columns, capsys):
    code, out, _ = run(args, capsys, columns)
    assert code == 0
    widest = max(cell_len(line) for line in out.splitlines())
    assert widest <= columns, f"a line is {widest} cells wide at {columns} columns"


def test_large_layer_is_summarised_and_full_shows_all(capsys):
    code, out, _ = run(["conv", "--input", "28x28", "--kernel", "5x5"], capsys)
    assert code == 0
    assert "… 551 more outputs not shown; use --full" in out  # 576 outputs, 25 shown
    assert "… 759 more entries of ∂L/∂X not shown" in out
    assert "more terms)" in out
    _, bigger, _ = run(["conv", "--input", "80x80", "--kernel", "5x5"], capsys)
    assert abs(len(bigger.splitlines()) - len(out.splitlines())) < 40  # the summary does not grow with the layer
    code, full, _ = run(["conv", "--input", "28x28", "--kernel", "5x5", "--full", "--show", "forward"], capsys)
    assert code == 0 and "not shown" not in full
    assert "z₂₄,₂₄ = " in full  # the last output, indices above 9 separated by a comma


def test_json_contract(capsys):
    import sympy

    code, out, _ = run(MAIN + ["--index", "flat", "--names", "a,w,z", "--bias", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["layer"] == "conv"
    assert data["input_shape"] == [1, 5, 5] and data["kernel_shape"] == [1, 1, 3, 3] and data["output_shape"] == [1, 2, 2]
    assert data["symbols"]["input"][0][0] == ["a_1", "a_2", "a_3", "a_4", "a_5"]
    assert data["symbols"]["kernel"][0][0][2] == ["w_7", "w_8", "w_9"]
    assert data["symbols"]["grad_output"] == [[["dz_1", "dz_2"], ["dz_3", "dz_4"]]]
    assert data["symbols"]["bias"] == ["b"]
    names = {n for group in ("input", "kernel", "grad_output") for n in _flatten(data["symbols"][group])} | {"b"}
    local = {n: sympy.Symbol(n) for n in names}
    expected = sympy.sympify("a_1*dz_1 + a_3*dz_2 + a_11*dz_3 + a_13*dz_4", locals=local)
    assert sympy.sympify(data["grad_kernel"][0][0][0][0], locals=local) == expected
    assert sympy.sympify(data["grad_bias"][0], locals=local) == sympy.sympify("dz_1 + dz_2 + dz_3 + dz_4", locals=local)
    assert data["forward"][0][0][0].endswith(" + b")
    for expr in _flatten([data["forward"], data["grad_kernel"], data["grad_input"], data["grad_bias"]]):
        parsed = sympy.sympify(expr, locals=local)  # our own output, trusted here
        assert {str(s) for s in parsed.free_symbols} <= names
    assert [(i["name"], i["holds"]) for i in data["identities"]] == [("grad_kernel", True), ("grad_input", True), ("grad_bias", True)]


def test_json_losses(capsys):
    _, out, _ = run(["conv", "--input", "3", "--kernel", "2", "--loss", "mse", "--format", "json"], capsys)
    data = json.loads(out)
    assert data["symbols"]["grad_output"] is None
    assert data["symbols"]["target"] == [["t_1", "t_2"]]
    assert data["loss"]["grad_output"] == [["(w_1*x_1 + w_2*x_2 - t_1)", "(w_1*x_2 + w_2*x_3 - t_2)"]]
    _, out, _ = run(["conv", "--input", "3", "--kernel", "2", "--loss", "sum", "--format", "json"], capsys)
    data = json.loads(out)
    assert data["grad_input"] == [["w_1", "w_2 + w_1", "w_2"]]
    assert data["grad_kernel"] == [[["x_1 + x_2", "x_2 + x_3"]]]


def test_exit_1_and_cross_when_an_identity_fails(capsys, monkeypatch):
    import numpy as np

    from symgrad.layers import conv

    monkeypatch.setattr(conv, "rot180", lambda ids: np.array(ids))  # the classic slip: no rotation
    code, out, _ = run(MAIN + ["--show", "identities"], capsys)
    assert code == 1
    assert "✗ dL/dX = full-conv(dilate(dL/dZ), rot180(W))" in out and "DIFFERS" in out
    assert "✓ dL/dW" in out
    code, out, _ = run(MAIN + ["--format", "json"], capsys)
    assert code == 1 and json.loads(out)["identities"][1]["holds"] is False


BAD = [
    (["conv", "--kernel", "3x3"], "Missing option '--input'"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--bogus", "1"], "No such option: --bogus"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride"], "Option '--stride' requires an argument"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["conv", "--input", "0x5", "--kernel", "3x3"], "--input must have positive sizes, got '0x5'"),
    (["conv", "--input", "-5", "--kernel", "3"], "--input must be a size like 5, 5x5 or 3x5x5"),
    (["conv", "--input", "5x5", "--kernel", "three"], "--kernel must be a size like"),
    (["conv", "--input", "5x5x5x5", "--kernel", "3"], "--input has more than 3 axes"),
    (["conv", "--input", "5x5", "--kernel", "3"], "--kernel '3' has 1 axis but --input '5x5' has 2"),
    (["conv", "--input", "5x5", "--kernel", "7x7"], "kernel 7x7 is larger than the padded input 5x5"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--dilation", "3"], "kernel 3x3 with dilation 3 spans 7"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "0"], "--stride must be a positive integer, got '0'"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "-1"], "--stride must be a positive integer"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2x1x1"], "--stride has 3 axes ('2x1x1') but the input has 2"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--padding", "-1"], "--padding must be a non-negative integer"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--dilation", "0"], "--dilation must be a positive integer"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--in-channels", "0"], "--in-channels must be a positive integer, got '0'"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--out-channels", "two"], "--out-channels must be a positive integer, got 'two'"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--format", "xml"], "--format must be one of text, json, latex, markdown, got 'xml'"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--loss", "l1"], "--loss must be one of generic, sum, mse, got 'l1'"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--index", "diagonal"], "--index must be one of flat, matrix"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--names", "a,b"], "--names must be three comma-separated letters"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--names", "x,x,z"], "--names 'x,x,z' clashes"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--show", "everything"], "--show got 'everything'"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--max-terms", "lots"], "--max-terms must be a positive integer"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--max-terms", "10"], "layer too large: about 124 product terms (input 5x5, kernel 3x3, 1->1 channels) exceeds the limit of 10"),
    (["conv", "--input", "100000x100000", "--kernel", "5x5"], "layer too large"),
    (["conv", "--input", "999999999999x999999999999x999999999999", "--kernel", "1x1x1", "--in-channels", "999999999"], "layer too large"),
    (["conv", "--input", "32x32", "--kernel", "5x5", "--in-channels", "3", "--out-channels", "6", "--loss", "mse", "--format", "json"], "--loss mse --format json writes each z expanded inside every gradient term"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "-o", "/nonexistent/folder/out.txt"], "-o '/nonexistent/folder/out.txt': folder"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "-o", "/tmp"], "-o '/tmp' is a directory"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--format", "markdown", "--fragment"], "--fragment only applies to --format latex"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--values", "/nonexistent.json"], "values file '/nonexistent.json' does not exist"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--values", "/tmp"], "values file '/tmp'"),
]

BAD_POOL = [
    (["pool", "--window", "2x2"], "Missing option '--input'"),
    (["pool", "--input", "4x4"], "--window is needed (or --output-size for adaptive pooling)"),
    (["pool", "--input", "4x4", "--window", "2"], "--window '2' has 1 axis but --input '4x4' has 2"),
    (["pool", "--input", "4x4", "--window", "5x5"], "window 5x5 is larger than the padded input 4x4"),
    (["pool", "--input", "4x4", "--window", "2x2", "--padding", "2"], "--padding 2x2 is more than half the window 2x2"),
    (["pool", "--input", "4x4", "--window", "2x2", "--stride", "0"], "--stride must be a positive integer, got '0'"),
    (["pool", "--input", "4x4", "--window", "2x2", "--mode", "min"], "--mode must be one of max, avg, got 'min'"),
    (["pool", "--input", "4x4", "--window", "2x2", "--ties", "last"], "--ties must be one of first, split, got 'last'"),
    (["pool", "--input", "4x4", "--window", "2x2", "--channels", "-1"], "--channels must be a positive integer"),
    (["pool", "--input", "4x4", "--window", "2x2", "--names", "a"], "--names for pooling must be two comma-separated letters"),
    (["pool", "--input", "4x4", "--window", "2x2", "--show", "grad-kernel"], "--show got 'grad-kernel'; expected a comma-separated list of: setup, forward, grad-input, identities"),
    (["pool", "--input", "4x4", "--window", "2x2", "--format", "pdf"], "--format must be one of text, json, latex, markdown"),
    (["pool", "--input", "4x4", "--window", "2x2", "--kernel", "3x3"], "No such option: --kernel"),
    (["pool", "--input", "99999x99999", "--window", "2x2"], "layer too large"),
    (["pool", "--input", "4x4", "--window", "2x2", "--values", "/nonexistent.json"], "values file '/nonexistent.json' does not exist"),
]


@pytest.mark.parametrize("args,message", BAD_POOL, ids=[" ".join(a[1:]) for a, _ in BAD_POOL])
def test_bad_pool_input_is_one_clear_line(args, message, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("Error: "), err
    assert message in err and "Traceback" not in err


def test_pool_values_that_do_not_belong(tmp_path, capsys):
    path = tmp_path / "v.json"
    path.write_text('{"kernel": [[1]], "input": [[1, 2], [3, 4]]}')
    code, _, err = run(["pool", "--input", "2x2", "--window", "2x2", "--values", str(path)], capsys)
    assert code == 2 and '"kernel" is given but a pooling layer has no kernel' in err


def test_pool_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"input": [[1, 3, 2, 0], [4, 0, 1, 1], [5, 5, 0, 0], [1, 2, 9, 9]], "grad_output": [[1, 2], [3, 4]]}))
    code, out, err = run(["pool", "--input", "4x4", "--window", "2x2", "--values", str(path)], capsys, columns=100)
    assert code == 0 and err == ""
    assert "  y₂₁ = max(x₃₁, x₃₂, x₄₁, x₄₂)\n      = max(5, 5, 1, 2)\n      = 5   (tie between x₃₁, x₃₂; ties: first → x₃₁)\n" in out
    assert "  ∂L/∂x₃₁ = ∂y₂₁/∂x₃₁·∂L/∂y₂₁\n          = H(x₃₁ − max(x₃₂, x₄₁, x₄₂))·∂L/∂y₂₁\n          = 1·3\n          = 3\n" in out
    assert "ties: first" in out and "✓ dL/dX = sum over windows of mask ⊙ upsample(dL/dY)" in out
    code, out, _ = run(["pool", "--input", "4x4", "--window", "2x2", "--values", str(path), "--ties", "split", "--format", "json"], capsys)
    data = json.loads(out)
    assert data["layer"] == "pool" and "kernel_shape" not in data and "grad_kernel" not in data
    assert data["grad_input"][0][2] == ["3/2", "3/2", "0", "0"]  # the two 5s share dy_21 = 3
    assert data["masks"][0][1][0] == [["1/2", "1/2"], [0, 0]]
    symbolic = json.loads(run(["pool", "--input", "4", "--window", "2", "--format", "json"], capsys)[1])
    assert symbolic["forward"] == [["Max(x_1, x_2)", "Max(x_3, x_4)"]]
    assert symbolic["grad_input"] == [["dy_1*Heaviside(x_1 - x_2)", "dy_1*Heaviside(x_2 - x_1)", "dy_2*Heaviside(x_3 - x_4)", "dy_2*Heaviside(x_4 - x_3)"]]


def test_pool_json_expressions_parse_with_sympy(capsys):
    """The contract: expression strings any reader parses; they equal the derivation's own SymPy views."""
    import sympy

    from symgrad import api

    args = ["pool", "--input", "3x4", "--window", "2x2", "--stride", "1", "--padding", "1"]
    for mode in ("max", "avg"):
        data = json.loads(run(args + ["--mode", mode, "--format", "json"], capsys)[1])
        d = api.pool("3x4", "2x2", stride=1, padding=1, mode=mode)
        flat = [text for row in data["grad_input"][0] for text in row]
        for i, text in enumerate(flat):
            parsed = sympy.sympify(text, locals={"Max": sympy.Max, "Heaviside": sympy.Heaviside})
            assert sympy.simplify(parsed - d.gradient_expr("grad_input", i)) == 0, text


# --values files with mistakes: (file content, what the error line must say)
BAD_VALUES = [
    ('{"kernel": [[1, 2], [3, 4]]}', '"kernel" must be nested like 3x3'),
    ('{"input": [[1, 2, 3, 4, 5]]}', '"input" must be nested like 5x5'),
    ('{"grad_output": [[1, 2, 3], [3, "x", 1], [0, 0, 0]]}', 'grad_output[1][1] is "x", not a number'),
    ('{"bias": [1]}', '"bias" is given but the layer has no bias (add --bias)'),
    ('{"weights": [[1]]}', '"weights"'),
    ('{"kernel": [[1, 2, 3], [4, 5, 6], [7, 8, NaN]]}', "NaN"),
    ('{"kernel": [[1, 2, 3], [4, 5, 6], [7, 8, true]]}', "kernel[2][2]"),
    ('{"kernel": [[1, 2, 3], [4, 5, 6], [7, 8, "9**9**9**9"]]}', "not a number"),
    ('{"kernel": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]', "not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ("", "not valid JSON"),
]


@pytest.mark.parametrize("content,message", BAD_VALUES, ids=[m for _, m in BAD_VALUES])
def test_bad_values_file_is_one_clear_line(content, message, tmp_path, capsys):
    path = tmp_path / "v.json"
    path.write_text(content)
    code, out, err = run(["conv", "--input", "5x5", "--kernel", "3x3", "--values", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"Error: values file '{path}'"), err
    assert message in err


def test_values_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "kernel": [[1, "-1/2"], [0, 2]], "grad_output": [[1, -1], [0, 2]]}))
    code, out, err = run(["conv", "--input", "3x3", "--kernel", "2x2", "--values", str(path)], capsys, columns=100)
    assert code == 0 and err == ""
    # dL/dx22 = w22·1 + w21·(−1) + w12·0 + w11·2 = 2 + 0 + 0 + 2
    assert "          = 2·1 + 0·(−1) + (−1/2)·0 + 1·2\n          = 4\n" in out
    assert "⎣ w₂₁  w₂₂ ⎦   ⎣ 0     2 ⎦" in out  # numbers beside the symbols
    assert "With the values put in, both sides are equal." in out
    code, out, _ = run(["conv", "--input", "3x3", "--kernel", "2x2", "--values", str(path), "--format", "json"], capsys)
    data = json.loads(out)
    assert data["grad_input"][0][1][1] == "4" and data["values"]["kernel"] == [[[[1, "-1/2"], [0, 2]]]]
    assert all(identity["holds_with_values"] for identity in data["identities"])


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a[1:]) or a[0] for a, _ in BAD])
def test_bad_input_is_one_clear_line(args, message, capsys):
    # refused from an estimate, never by trying: a layer too large is never started, and no refusal runs
    # more lines of symgrad than showing a small layer does (about 16,000); trying would run millions
    with counting_work(build="layer too large" not in message, max_lines=50_000) as work:
        code, out, err = run(args, capsys)
    assert work.lines <= 50_000, work
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("Error: "), err
    assert message in err
    assert "Traceback" not in err


def test_output_file_is_written_atomically(tmp_path, capsys):
    target = tmp_path / "d.json"
    code, out, _ = run(MAIN + ["--format", "json", "-o", str(target)], capsys)
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["output_shape"] == [1, 2, 2]
    before = target.read_bytes()
    code, _, err = run(["conv", "--input", "5x5", "--kernel", "9x9", "--format", "json", "-o", str(target)], capsys)
    assert code == 2 and target.read_bytes() == before  # a failed run leaves the old file alone
    text_target = tmp_path / "d.txt"
    assert run(MAIN + ["-o", str(text_target)], capsys)[0] == 0
    assert "✓ dL/dX" in text_target.read_text() and "\x1b[" not in text_target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json", "d.txt"]  # no temporary files left


@pytest.mark.parametrize("fmt", ["text", "json", "latex", "markdown"])
def test_a_failed_run_never_touches_the_output_file(fmt, tmp_path, capsys):
    target = tmp_path / "out"
    target.write_text("precious")
    bad_values = tmp_path / "v.json"
    bad_values.write_text('{"kernel": [[1]]}')
    for args in (["--kernel", "9x9"], ["--kernel", "3x3", "--values", str(bad_values)]):
        code, _, _ = run(["conv", "--input", "5x5", *args, "--format", fmt, "-o", str(target)], capsys)
        assert code == 2 and target.read_text() == "precious"
    missing = tmp_path / "new"
    assert run(["conv", "--input", "5x5", "--kernel", "9x9", "--format", fmt, "-o", str(missing)], capsys)[0] == 2
    assert not missing.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "v.json"]
    assert run(["conv", "--input", "5x5", "--kernel", "3x3", "--format", fmt, "-o", str(target)], capsys)[0] == 0
    assert target.read_text() != "precious" and len(target.read_text()) > 500


def test_unexpected_error_is_one_line_and_debug_shows_traceback(capsys, monkeypatch):
    from symgrad.layers import conv

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(conv, "derive_conv", boom)
    code, _, err = run(MAIN, capsys)
    assert code == 3 and err.count("\n") == 1 and "internal error (RuntimeError: simulated bug)" in err
    code, _, err = run(MAIN + ["--debug"], capsys)
    assert code == 3 and "Traceback" in err


def test_help(capsys):
    code, out, _ = run([], capsys)
    assert code == 0 and "conv" in out
    code, out, _ = run(["conv", "--help"], capsys)
    assert code == 0 and "symgrad conv --input 5x5 --kernel 3x3 --stride 2" in out and "Exit codes" in out


def test_console_script_end_to_end():
    done = subprocess.run([sys.executable, "-m", "symgrad", *MAIN], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "✓ dL/dX" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "symgrad", "conv", "--input", "5x5", "--kernel", "3x3", "--stride", "0"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr == "Error: --stride must be a positive integer, got '0'\n"


def _flatten(value):
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif value is not None:
        yield value


def test_output_follows_symlinks_and_keeps_permissions(tmp_path, capsys):
    real = tmp_path / "real.txt"
    real.write_text("old")
    real.chmod(0o644)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert run(MAIN + ["-o", str(link)], capsys)[0] == 0
    assert link.is_symlink() and "✓ dL/dX" in real.read_text()
    assert oct(real.stat().st_mode & 0o777) == "0o644"
    fresh = tmp_path / "new.txt"
    old_mask = os.umask(0o022)
    try:
        assert run(MAIN + ["-o", str(fresh)], capsys)[0] == 0
    finally:
        os.umask(old_mask)
    assert oct(fresh.stat().st_mode & 0o777) == "0o644"  # the umask's permissions, not mkstemp's 600


def test_output_to_a_pipe_is_written_not_replaced(tmp_path, capsys):
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, encoding="utf-8").read()))
    reader.start()
    assert run(MAIN + ["--format", "json", "-o", str(fifo)], capsys)[0] == 0
    reader.join(timeout=30)
    assert json.loads(received[0])["layer"] == "conv"
    assert fifo.is_fifo()  # still a pipe, not replaced by a regular file
