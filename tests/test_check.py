"""`symgrad template` and `symgrad check`: right answers pass, wrong ones are explained, slips are named,
bad files exit 2 naming the file and the entry, and the reports keep their shape."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import sympy

import symgrad
from symgrad import cli


def run(args, capsys, columns=100):
    os.environ["COLUMNS"] = str(columns)
    try:
        code = cli.main([str(a) for a in args])
    finally:
        os.environ.pop("COLUMNS", None)
    out, err = capsys.readouterr()
    return code, out, err


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)  # JSON string escapes are TOML basic-string escapes


def answer_file(path, problem: dict, answers: dict, values: dict | None = None, student: str = "s1") -> str:
    lines = [f"student = {json.dumps(student)}", "[problem]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in problem.items()]
    if values:
        lines.append("[problem.values]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    lines.append("[answer]")
    lines += [f"{key} = {toml_value(value)}" for key, value in answers.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def right_answers(problem: dict, values=None) -> dict:
    """The right answers as symgrad's JSON writes them (any reader may use these strings)."""
    options = {k: v for k, v in problem.items() if k != "layer"}
    derivation = (symgrad.conv if problem["layer"] == "conv" else symgrad.pool)(**options, values=values)
    data = json.loads(derivation.to_json())
    return {key: _squeeze(data[key]) for key, _ in derivation.gradients()}


def _squeeze(nested):
    """Leave out leading levels of size 1 (channels), as answer files may."""
    while isinstance(nested, list) and len(nested) == 1 and isinstance(nested[0], list) and isinstance(nested[0][0], list):
        nested = nested[0]
    return nested


def check_json(paths, capsys, *extra):
    code, out, err = run(["check", *paths, "--format", "json", *extra], capsys)
    return code, json.loads(out), err


def entries(data, file=0, key="grad_input"):
    return data["files"][file]["answers"][key]["entries"]


# --- right answers are judged right, in many layers

LAYERS = [
    {"layer": "conv", "input": "5x5", "kernel": "3x3", "stride": 2},
    {"layer": "conv", "input": "5x5", "kernel": "2x2", "stride": 2, "padding": 1},
    {"layer": "conv", "input": "6x6", "kernel": "2x2", "dilation": 2, "stride": "2x1"},
    {"layer": "conv", "input": "4x4", "kernel": "2x2", "in_channels": 2, "out_channels": 3, "bias": True},
    {"layer": "conv", "input": "7", "kernel": "3", "stride": 2, "padding": 1},
    {"layer": "conv", "input": "3x3x3", "kernel": "2x2x2"},
    {"layer": "conv", "input": "5x5", "kernel": "3x3", "index": "flat", "names": "a,w,z"},
    {"layer": "conv", "input": "4x4", "kernel": "2x2", "loss": "sum", "bias": True},
    {"layer": "conv", "input": "4", "kernel": "2", "loss": "mse", "bias": True},
    {"layer": "conv", "input": "12x3", "kernel": "3x2"},  # subscripts with commas (an axis of 10 or more)
    {"layer": "conv", "input": "4x4", "kernel": "2x2", "in_channels": 4, "out_channels": 2, "groups": 2},
    {"layer": "conv", "input": "5", "kernel": "2", "in_channels": 3, "out_channels": 3, "groups": 3, "bias": True},
    {"layer": "pool", "input": "4x4", "window": "2x2"},
    {"layer": "pool", "input": "5x5", "window": "3x3", "stride": 2, "padding": 1},
    {"layer": "pool", "input": "4x4", "window": "2x2", "mode": "avg", "channels": 2},
    {"layer": "pool", "input": "6", "window": "3", "stride": 2, "mode": "avg", "padding": 1},
    {"layer": "pool", "input": "5x5", "window": "2x2", "mode": "avg", "ceil_mode": True, "count_include_pad": False},
    {"layer": "pool", "input": "7x5", "output_size": "3x2", "mode": "avg"},
    {"layer": "pool", "input": "7", "window": "3", "dilation": 2, "padding": 1, "ceil_mode": True},
    {"layer": "pool", "input": "6", "window": "4", "stride": 2, "padding": 2, "mode": "avg", "divisor": 3},
]


@pytest.mark.parametrize("problem", LAYERS, ids=lambda p: " ".join(f"{k}={v}" for k, v in p.items()))
def test_right_answers_from_the_json_are_right(problem, tmp_path, capsys):
    path = answer_file(tmp_path / "a.toml", problem, right_answers(problem))
    code, data, err = check_json([path], capsys)
    assert (code, err) == (0, ""), data
    report = data["files"][0]
    assert report["status"] == "right" and report["score"] == report["max_score"] > 0


VALUES = [
    ({"layer": "conv", "input": "3x3", "kernel": "2x2"},
     {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, "-1/2"], [0, 2]], "grad_output": [[1, -1], [2, "1/3"]]}),
    ({"layer": "conv", "input": "3x3", "kernel": "2x2", "bias": True}, {"kernel": [[1, -1], [0.5, 2]], "bias": [0.25]}),
    ({"layer": "conv", "input": "4", "kernel": "2", "loss": "mse"}, {"input": [1, 2, 3, 4], "kernel": [1, -1], "target": [0, 1, 2]}),
    ({"layer": "pool", "input": "4x4", "window": "2x2"},
     {"input": [[1, 5, 2, 2], [3, 4, 2, 0], [0, 0, 9, 1], [7, 1, 3, 3]], "grad_output": [[1, 2], [3, 4]]}),
    ({"layer": "pool", "input": "4x4", "window": "3x3", "stride": 1, "mode": "avg"}, {"grad_output": [[1, 2], [3, 4]]}),
    ({"layer": "pool", "input": "4x4", "window": "2x2"}, {"input": [[1, 5, 2, 2], [3, 4, 2, 0], [0, 0, 9, 1], [7, 1, 3, 3]]}),
]


@pytest.mark.parametrize("problem, values", VALUES)
def test_right_numeric_answers_are_right(problem, values, tmp_path, capsys):
    answers = right_answers(problem, values)
    path = answer_file(tmp_path / "a.toml", problem, answers, values)
    code, data, err = check_json([path], capsys)
    assert (code, err) == (0, ""), data
    assert "with values" in data["files"][0]["problem"]


def test_sympy_diff_answers_are_right(tmp_path, capsys):
    """Answers written by SymPy's own diff of the loss (the independent oracle) are judged right."""
    problem = {"layer": "conv", "input": "4", "kernel": "2", "loss": "mse", "bias": True}
    d = symgrad.conv("4", "2", loss="mse", bias=True)
    loss = d.loss_expr()
    answers = {}
    for key in ("grad_kernel", "grad_input", "grad_bias"):
        group = d.symbols[{"grad_kernel": "kernel", "grad_input": "input", "grad_bias": "bias"}[key]]
        answers[key] = [str(sympy.diff(loss, d.symbols.sympy_symbol(group.offset + i))) for i in range(group.size)]
    path = answer_file(tmp_path / "a.toml", problem, answers)
    code, data, _ = check_json([path], capsys)
    assert code == 0, data
    assert data["files"][0]["score"] == 2 + 4 + 1


def test_template_round_trip(tmp_path, capsys):
    code, out, err = run(["template", "conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--student", "ada"], capsys)
    assert code == 0 and err == ""
    data = tomllib.loads(out)
    assert data["student"] == "ada"
    assert data["problem"] == {"layer": "conv", "input": "5x5", "kernel": "3x3", "stride": 2, "padding": 0, "dilation": 1,
                               "in_channels": 1, "out_channels": 1, "bias": False, "loss": "generic"}
    assert data["answer"]["grad_kernel"] == [[""] * 3] * 3 and data["answer"]["grad_input"] == [[""] * 5] * 5
    assert "#   input X        x_1_1 .. x_5_5" in out and "#   dL/dz          dz_1_1 .. dz_2_2" in out
    assert "grad_kernel = [\n  ['', '', ''],  # dL/dw_1_1, dL/dw_1_2, dL/dw_1_3" in out
    # the empty template checks as all unanswered
    (tmp_path / "t.toml").write_text(out)
    code, report, _ = check_json([tmp_path / "t.toml"], capsys)
    assert code == 1 and {e["status"] for e in entries(report)} == {"unanswered"}
    # filled in with the right answers (LaTeX, as a student would type it, in a literal string)
    right = right_answers({"layer": "conv", "input": "5x5", "kernel": "3x3", "stride": 2})
    filled = out.replace("grad_kernel = [", "grad_kernel = " + toml_value(right["grad_kernel"]) + "\nold_kernel = [")
    filled = filled.replace("grad_input = [", "grad_input = " + toml_value(right["grad_input"]) + "\nold_input = [")
    filled = re.sub(r"old_(kernel|input) = \[\n(  \[.*\n)*\]\n", "", filled)
    latex = "'$x_{11} \\cdot \\frac{\\partial L}{\\partial z_{11}} + x_{13}\\frac{\\partial L}{\\partial z_{12}} + x_{31} dz_{21} + x_{33} \\times dz_{22}$'"
    filled = filled.replace(json.dumps(right["grad_kernel"][0][0]), latex, 1)
    (tmp_path / "f.toml").write_text(filled)
    code, out, err = run(["check", tmp_path / "f.toml"], capsys)
    assert (code, err) == (0, ""), out
    assert "✓ all 9 right" in out and "score 34/34: all right" in out


def test_template_with_values_and_ask(tmp_path, capsys):
    values = tmp_path / "v.json"
    values.write_text(json.dumps({"input": [[1, 2], [3, "1/2"]], "grad_output": [[0.5, 1], [2, 3]]}))
    code, out, _ = run(["template", "pool", "--input", "2x2", "--window", "1x1", "--values", values, "--ask", "grad-input"], capsys)
    assert code == 0
    data = tomllib.loads(out)
    assert data["problem"]["values"] == {"input": [[1.0, 2.0], [3.0, 0.5]], "grad_output": [[0.5, 1.0], [2.0, 3.0]]}
    assert list(data["answer"]) == ["grad_input"]
    code, _, err = run(["template", "conv", "--input", "3x3", "--kernel", "2x2", "--ask", "grad-bias"], capsys)
    assert code == 2 and "--ask got 'grad-bias'; expected a comma-separated list of: forward, grad-kernel, grad-input" in err


# --- wrong answers: missing and extra terms

PROBLEM = {"layer": "conv", "input": "5x5", "kernel": "3x3", "stride": 2}


def test_missing_and_extra_terms(tmp_path, capsys):
    answers = right_answers(PROBLEM)
    answers["grad_kernel"][0][1] = "x_1_2*dz_1_1 + x_1_4*dz_1_2 + x_3_2*dz_2_1 + 2*x_3_4*dz_2_2 + x_5_5*dz_2_2"
    answers["grad_kernel"][2][2] = "x_5_5*dz_2_2"
    path = answer_file(tmp_path / "a.toml", PROBLEM, answers)
    code, data, err = check_json([path], capsys)
    assert code == 1 and err == ""
    by_name = {e["name"]: e for e in entries(data, key="grad_kernel")}
    assert by_name["dL/dw_1_2"]["missing"] == ["x_3_4*dz_2_2"]
    assert by_name["dL/dw_1_2"]["extra"] == ["2*x_3_4*dz_2_2", "x_5_5*dz_2_2"]
    assert by_name["dL/dw_3_3"]["missing"] == ["x_3_3*dz_1_1", "x_3_5*dz_1_2", "x_5_3*dz_2_1"]
    assert by_name["dL/dw_3_3"]["extra"] == []
    assert data["files"][0]["score"] == 34 - 2
    assert [e["status"] for e in entries(data, key="grad_kernel")].count("right") == 7


def test_text_report(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    answers = right_answers(PROBLEM)
    answers["grad_kernel"][0][1] = "x_1_2*dz_1_1"
    path = answer_file(Path("a.toml"), PROBLEM, answers, student="ada")
    code, out, _ = run(["check", path], capsys, columns=80)
    assert code == 1
    assert f"{path}  student ada  (conv 5x5, kernel 3x3, stride 2)" in out
    assert "  dL/dW (grad_kernel, 3x3): 8/9 right\n    ✓ ✗ ✓ \n    ✓ ✓ ✓ \n    ✓ ✓ ✓ \n    ✗ dL/dw_1_2\n" in out
    assert "      missing: x_1_4*dz_1_2, x_3_2*dz_2_1, x_3_4*dz_2_2\n" in out
    assert "  dL/dX (grad_input, 5x5): ✓ all 25 right" in out
    assert "score 33/34: some entries wrong" in out
    assert max(len(line) for line in out.splitlines()) <= 80


# --- slips, each built here by hand (loops over indices), not by symgrad's closed forms


def _x(i, j):
    return f"x_{i + 1}_{j + 1}"


def _w(i, j):
    return f"w_{i + 1}_{j + 1}"


def _g(i, j):
    return f"dz_{i + 1}_{j + 1}"


def _sums(shape, pairs):
    out = [[[] for _ in range(shape[1])] for _ in range(shape[0])]
    for (i, j), term in pairs:
        if 0 <= i < shape[0] and 0 <= j < shape[1]:
            out[i][j].append(term)
    return [[" + ".join(cell) if cell else "0" for cell in row] for row in out]


def _slips(data, key):
    """The slips named on each wrong entry (an answer of 0 is never taken as evidence of a slip)."""
    return [{s["id"] for s in e.get("slips", [])} for e in entries(data, key=key) if e["status"] == "wrong" and e["answer"] != "0"]


def test_slip_no_rot180(tmp_path, capsys):
    # dL/dx[n] = sum_o G[o] W[n - s*o] (right); without rot180 the kernel index runs backwards
    N, K, S, O = 5, 3, 2, 2
    pairs = [((S * a + i, S * b + j), f"{_w(K - 1 - i, K - 1 - j)}*{_g(a, b)}")
             for a in range(O) for b in range(O) for i in range(K) for j in range(K)]
    answers = {"grad_input": _sums((N, N), pairs)}
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", PROBLEM, answers)], capsys)
    assert code == 1
    slips = _slips(data, "grad_input")
    assert slips and all("no_rot180" in s for s in slips)
    assert "all 21 wrong entries match one slip: dL/dX computed without rot180" in data["files"][0]["answers"]["grad_input"]["note"]


def test_slip_no_dilation(tmp_path, capsys):
    # stride 2, but dL/dZ used undilated: dW[i][j] = sum_o G[o] X[o + (i, j)]; dX[n] = sum_o G[o] W[n - o]
    N, K, O = 5, 3, 2
    kernel = [[" + ".join(f"{_x(a + i, b + j)}*{_g(a, b)}" for a in range(O) for b in range(O)) for j in range(K)] for i in range(K)]
    pairs = [((a + i, b + j), f"{_w(i, j)}*{_g(a, b)}") for a in range(O) for b in range(O) for i in range(K) for j in range(K)]
    answers = {"grad_kernel": kernel, "grad_input": _sums((N, N), pairs)}
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", PROBLEM, answers)], capsys)
    assert code == 1
    assert all("no_dilation" in s for s in _slips(data, "grad_kernel")) and len(_slips(data, "grad_kernel")) == 9
    assert all("no_dilation" in s for s in _slips(data, "grad_input"))
    # the wrong entries answered 0 are 0 under the slip too: they join it, and the note says every wrong entry shares it
    wrong = [e for e in entries(data) if e["status"] == "wrong"]
    zeros = [e for e in wrong if e["answer"] == "0"]
    assert len(zeros) == 9 and all({s["id"] for s in e["slips"]} == {"no_dilation"} for e in zeros)
    assert data["files"][0]["answers"]["grad_input"]["note"].startswith(f"all {len(wrong)} wrong entries match one slip: dL/dZ not dilated")


def test_slip_padding_not_cropped(tmp_path, capsys):
    problem = {"layer": "conv", "input": "4x4", "kernel": "3x3", "padding": 1}
    N, K, P = 4, 3, 1
    O = N + 2 * P - K + 1
    padded = _sums((N + 2 * P, N + 2 * P),
                   [((a + i, b + j), f"{_w(i, j)}*{_g(a, b)}") for a in range(O) for b in range(O) for i in range(K) for j in range(K)])
    # the padded gradient handed in whole (6x6), and cut to 4x4 at the wrong place (the top-left corner)
    for answer, expect_note in ((padded, True), ([row[:N] for row in padded[:N]], False)):
        code, data, err = check_json([answer_file(tmp_path / "a.toml", problem, {"grad_input": answer})], capsys)
        assert code == 1 and err == ""
        slips = _slips(data, "grad_input")
        assert slips and all("padding_not_cropped" in s for s in slips)
        note = data["files"][0]["answers"]["grad_input"].get("note", "")
        assert ("padded shape 6x6" in note) == expect_note


def test_slip_rows_and_columns_swapped(tmp_path, capsys):
    right = right_answers(PROBLEM)
    transposed = [list(row) for row in zip(*right["grad_kernel"])]
    swapped_w = [[re.sub(r"w_(\d)_(\d)", r"w_\2_\1", cell) for cell in row] for row in right["grad_input"]]
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", PROBLEM, {"grad_kernel": transposed, "grad_input": swapped_w})], capsys)
    assert code == 1
    for key in ("grad_kernel", "grad_input"):
        slips = _slips(data, key)
        assert slips and all("rows_cols_swapped" in s for s in slips), key


def _windows(N, K, S):
    return [((a, b), [(S * a + i, S * b + j) for i in range(K) for j in range(K)]) for a in range((N - K) // S + 1) for b in range((N - K) // S + 1)]


@pytest.mark.parametrize("divide, slip", [(False, "every_cell"), (True, "averaged")])
def test_slip_max_pool_every_cell_or_averaged(divide, slip, tmp_path, capsys):
    problem = {"layer": "pool", "input": "4x4", "window": "2x2"}
    values = {"input": [[1, 5, 2, 2], [3, 4, 2, 0], [0, 0, 9, 1], [7, 1, 3, 3]]}
    pairs = [(cell, f"dy_{a + 1}_{b + 1}" + ("/4" if divide else "")) for (a, b), cells in _windows(4, 2, 2) for cell in cells]
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", problem, {"grad_input": _sums((4, 4), pairs)}, values)], capsys)
    assert code == 1
    slips = _slips(data, "grad_input")
    assert len(slips) == (16 if divide else 12) and all(slip in s for s in slips)  # without /4 the 4 maxima are right
    assert data["files"][0]["score"] == (0 if divide else 4)


def test_slip_avg_pool_not_divided(tmp_path, capsys):
    problem = {"layer": "pool", "input": "4x4", "window": "2x2", "mode": "avg"}
    pairs = [(cell, f"dy_{a + 1}_{b + 1}") for (a, b), cells in _windows(4, 2, 2) for cell in cells]
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", problem, {"grad_input": _sums((4, 4), pairs)})], capsys)
    assert code == 1 and all("not_divided" in s for s in _slips(data, "grad_input"))


def test_max_pool_symbolic_heaviside(tmp_path, capsys):
    problem = {"layer": "pool", "input": "2x2", "window": "2x2"}
    answers = {"grad_input": [["Heaviside(x_1_1 - Max(x_2_2, x_1_2, x_2_1))*dy_1_1", "dy_1_1*Heaviside(x_1_2 - Max(x_1_1, x_2_1, x_2_2))"],
                              ["Heaviside(x_2_1 - Max(x_1_1, x_1_2, x_2_2))*dy_1_1", "Heaviside(x_2_2 - Max(x_1_1, x_1_2))*dy_1_1"]]}
    code, data, _ = check_json([answer_file(tmp_path / "a.toml", problem, answers)], capsys)
    assert code == 1
    assert [e["status"] for e in entries(data)] == ["right", "right", "right", "wrong"]
    assert entries(data)[3]["missing"] == ["dy_1_1*Heaviside(x_2_2 - Max(x_1_1, x_1_2, x_2_1))"]


# --- numbers and tolerance


def test_numeric_tolerance(tmp_path, capsys):
    problem = {"layer": "conv", "input": "2", "kernel": "1"}
    values = {"input": [1, 2], "grad_output": ["1/3", "2/3"]}
    path = answer_file(tmp_path / "a.toml", problem, {"grad_kernel": [1.6666667], "grad_input": ["w_1/3", "2*w_1/3"]}, values)
    assert check_json([path], capsys)[0] == 0  # dL/dw = 1*1/3 + 2*2/3 = 5/3
    path = answer_file(tmp_path / "a.toml", problem, {"grad_kernel": ["5/3"], "grad_input": ["0.3333*w_1", "0.6667*w_1"]}, values)
    code, data, _ = check_json([path], capsys)
    assert code == 1 and [e["status"] for e in entries(data)] == ["wrong", "wrong"]
    assert entries(data, key="grad_kernel")[0]["status"] == "right"
    assert check_json([path], capsys, "--tolerance", "0.001")[0] == 0
    # a symbolic problem is judged exactly, whatever the tolerance
    exact = answer_file(tmp_path / "b.toml", problem, {"grad_kernel": ["x_1*dz_1 + 1.0000001*x_2*dz_2"]})
    assert check_json([exact], capsys, "--tolerance", "0.01")[0] == 1


# --- reports


def test_gradescope_results(tmp_path, capsys):
    answers = right_answers(PROBLEM)
    answers["grad_input"][2][2] = "w_1_1*dz_1_1"
    path = answer_file(tmp_path / "a.toml", PROBLEM, answers)
    code, out, _ = run(["check", path, "--format", "gradescope"], capsys)
    assert code == 1
    data = json.loads(out)
    assert data["score"] == 33
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in data["tests"]] == [
        ("dL/dW (grad_kernel)", 9, 9, "passed"), ("dL/dX (grad_input)", 24, 25, "failed")]
    assert data["tests"][1]["output"].startswith("✗ dL/dx_3_3: missing: w_3_3*dz_1_1, w_3_1*dz_1_2")
    assert all(isinstance(t["output"], str) for t in data["tests"])
    # several files (parts of one submission) merge into one results.json; an unusable file scores 0 and says why
    bad = tmp_path / "bad.toml"
    bad.write_text("[problem\n")
    code, out, err = run(["check", path, bad, "--format", "gradescope"], capsys)
    assert code == 2
    merged = json.loads(out)
    assert merged["score"] == 33
    assert [t["name"] for t in merged["tests"]] == [f"{path}: dL/dW (grad_kernel)", f"{path}: dL/dX (grad_input)", f"{bad}: answer file"]
    assert "is not valid TOML" in merged["tests"][2]["output"]
    assert err.startswith(f"Error: {bad}: is not valid TOML")
    # files of two students are not one submission: refused, not merged into one grade
    alice = answer_file(tmp_path / "alice.toml", PROBLEM, answers, student="alice")
    bob = answer_file(tmp_path / "bob.toml", PROBLEM, answers, student="bob")
    code, out, err = run(["check", alice, bob, "--format", "gradescope"], capsys)
    assert (code, out) == (2, "")
    assert err == ("Error: --format gradescope grades one submission, but these files are from 2 different students "
                   "('alice', 'bob'); run it once per student, or use --format json\n")


def test_reference_problem_pins_the_problem_and_the_keys(tmp_path, capsys):
    """A student cannot make the problem easier or drop a question: --problem judges by the template."""
    code, template, _ = run(["template", "conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2"], capsys)
    reference = tmp_path / "hw.toml"
    reference.write_text(template)
    right = right_answers(PROBLEM)
    easier = answer_file(tmp_path / "easy.toml", {"layer": "conv", "input": "1", "kernel": "1"}, {"grad_kernel": ["x_1*dz_1"]})
    partial = answer_file(tmp_path / "part.toml", PROBLEM, {"grad_kernel": right["grad_kernel"]})
    code, data, err = check_json([easier, partial], capsys, "--problem", reference)
    assert code == 2  # x_1 is not a name of the real problem
    easy, part = data["files"]
    assert "differs from the reference" in easy["notes"][0] and easy["max_score"] == 34
    assert part["score"] == 9 and part["max_score"] == 34
    assert part["answers"]["grad_input"]["note"] == "not answered (the key is missing from [answer])"
    # outputs may not stand for themselves in a forward answer
    forward = answer_file(tmp_path / "fw.toml", PROBLEM, {"forward": [["z_1_1", "z_1_2"], ["z_2_1", "z_2_2"]]})
    code, _, err = run(["check", forward], capsys)
    assert code == 2 and '"z_1_1" is an output: write what it is, in terms of the inputs' in err
    # nor may a gradient: under mse, dz_1 + t_1 is z_1 (it was full marks)
    mse = answer_file(tmp_path / "mse.toml", {"layer": "conv", "input": "2", "kernel": "1", "loss": "mse"},
                      {"forward": ["dz_1 + t_1", "w_1*x_2"]})
    code, data, err = check_json([mse], capsys)
    assert code == 2 and '"dz_1" is a gradient: a forward answer is written in terms of the inputs' in err
    assert data["files"][0]["score"] == 1


def test_json_report_shape(tmp_path, capsys):
    path = answer_file(tmp_path / "a.toml", PROBLEM, {"grad_kernel": right_answers(PROBLEM)["grad_kernel"]}, student="ada")
    code, data, _ = check_json([path], capsys)
    assert code == 0
    assert data["tolerance"] == 1e-6
    assert data["summary"] == {"files": 1, "right": 1, "wrong": 0, "unusable": 0, "with_unreadable_entries": 0, "score": 9, "max_score": 9,
                               "slips": {}, "entries": data["summary"]["entries"]}
    f = data["files"][0]
    assert (f["file"], f["student"], f["status"]) == (path, "ada", "right")
    assert f["answers"]["grad_kernel"]["shape"] == [1, 1, 3, 3]
    assert f["answers"]["grad_kernel"]["entries"][1] == {"index": [0, 0, 0, 1], "name": "dL/dw_1_2", "status": "right",
                                                          "answer": "x_1_2*dz_1_1 + x_1_4*dz_1_2 + x_3_2*dz_2_1 + x_3_4*dz_2_2"}


def test_batch_exit_codes_and_summary(tmp_path, capsys):
    right = answer_file(tmp_path / "right.toml", PROBLEM, right_answers(PROBLEM), student="r")
    wrong_answers = right_answers(PROBLEM)
    wrong_answers["grad_kernel"][0][0] = "0"
    wrong = answer_file(tmp_path / "wrong.toml", PROBLEM, wrong_answers, student="w")
    assert run(["check", right, right], capsys)[0] == 0
    code, out, _ = run(["check", right, wrong], capsys, columns=120)
    assert code == 1
    assert "Summary" in out and "1 of 2 files all right, 1 with wrong entries" in out
    assert re.search(r"wrong\.toml\s+│ w\s+│ 33/34 │ ✗ wrong", out)


def test_report_written_atomically(tmp_path, capsys):
    path = answer_file(tmp_path / "a.toml", PROBLEM, right_answers(PROBLEM))
    target = tmp_path / "results.json"
    target.write_text("old")
    code, _, _ = run(["check", path, "--format", "nope", "-o", target], capsys)
    assert code == 2 and target.read_text() == "old"
    code, out, _ = run(["check", path, "--format", "gradescope", "-o", target], capsys)
    assert code == 0 and out == "" and json.loads(target.read_text())["score"] == 34


# --- unusable files: exit 2, one line naming the file and the entry

BAD_FILES = [
    ("[problem\n", r"is not valid TOML"),
    ('student = "a"\nfoo = 1\n[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[["",""],["",""]]\n',
     r'unknown key "foo"; expected student, \[problem\] and \[answer\]'),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\nsize=3\n[answer]\ngrad_kernel=[["",""],["",""]]\n',
     r'\[problem\] has the unknown key "size"'),
    ('[problem]\nlayer="dense"\ninput="3x3"\n[answer]\n', r'layer must be "conv", "pool", "convtranspose" or "net", got "dense"'),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="4x4"\n[answer]\ngrad_kernel=[[""]]\n', r"\[problem\] kernel 4x4 is larger than the padded input"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\nstride=0\n[answer]\ngrad_kernel=[[""]]\n', r"\[problem\] stride must be a positive integer"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_weights=[[""]]\n', r'\[answer\] has the unknown key "grad_weights"'),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_bias=[""]\n', r"has grad_bias, but the layer has no bias"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n', r"has no \[answer\] table"),
    ('[answer]\ngrad_kernel=[[""]]\n', r"has no \[problem\] table"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[problem.values]\ninput=[[1,2],[3,4]]\n[answer]\ngrad_kernel=[["",""],["",""]]\n',
     r'\[problem.values\].*"input" must be nested like 3x3'),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[["x_1_1","x_1_2"],["x_2_1"]]\n',
     r'\[answer\]: "grad_kernel" must be nested like 2x2 .* grad_kernel\[1\] has 1 entry'),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[["x_1_1","x_7_7"],["",""]]\n',
     r'answer\.grad_kernel\[0\]\[1\]: "x_7_7" is not a name of this problem; expected x_1_1 \.\. x_3_3'),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[["9**9**9**9",""],["",""]]\n',
     r"answer\.grad_kernel\[0\]\[0\]: the exponent at character 7 is 387420489"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[[true,""],["",""]]\n',
     r"grad_kernel\[0\]\[0\] is a boolean; expected a string"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[[1979-05-27,""],["",""]]\n',
     r"grad_kernel\[0\]\[0\] is a TOML date"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[[nan,""],["",""]]\n', r"not a finite number"),
    ('[problem]\nlayer="conv"\ninput="300x300"\nkernel="100x100"\n[answer]\ngrad_kernel=[[""]]\n', r"layer too large"),
    ('[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=' + "[" * 5000 + "]" * 5000 + "\n",
     r"nested|not valid TOML"),
    ('x = ' + "9" * 5000 + "\n", r"not valid TOML|unknown key"),
    ('student = "\\u0007bell"\n[problem]\nlayer="conv"\ninput="3x3"\nkernel="2x2"\n[answer]\ngrad_kernel=[[""]]\n', r"control characters"),
]


@pytest.mark.parametrize("text, message", BAD_FILES, ids=[m[:40] for _, m in BAD_FILES])
def test_unusable_files(text, message, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = run(["check", path], capsys)
    assert code == 2
    lines = err.splitlines()
    assert lines and all(line.startswith(f"Error: {path}: ") for line in lines), err
    assert re.search(message, err), err
    assert "Traceback" not in out + err


@pytest.mark.parametrize("content, message", [
    (b"\x00\x01binary", "is a binary file"),
    (b"student = '\xff\xfe'", "is not UTF-8 text"),
    (None, "does not exist"),
    ("dir", "is a directory"),
])
def test_unreadable_files(content, message, tmp_path, capsys):
    path = tmp_path / "f.toml"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    code, _, err = run(["check", path], capsys)
    assert code == 2 and err == f"Error: {path}: {message}" + err.split(message, 1)[1]
    assert len(err.splitlines()) == 1


def test_bad_check_options(tmp_path, capsys):
    path = answer_file(tmp_path / "a.toml", PROBLEM, right_answers(PROBLEM))
    for args, message in ((["--tolerance", "abc"], "--tolerance must be a number from 0 to below 1"),
                          (["--tolerance", "nan"], "--tolerance must be"),
                          (["--format", "pdf"], "--format must be one of text, json, gradescope"),
                          (["--max-terms", "0"], "--max-terms must be a positive integer")):
        code, out, err = run(["check", path, *args], capsys)
        assert code == 2 and err.startswith(f"Error: {message}") and len(err.splitlines()) == 1, (args, err)
    code, _, err = run(["check"], capsys)
    assert code == 2 and "Missing argument" in err


def test_the_problem_is_built_once_per_batch(tmp_path):
    from symgrad.homework.judge import Judge

    judge = Judge()
    paths = [answer_file(tmp_path / f"{i}.toml", PROBLEM, right_answers(PROBLEM)) for i in range(3)]
    reports = [judge.judge_file(p) for p in paths]
    assert [r.status for r in reports] == ["right"] * 3 and len(judge._problems) == 1
    assert np.all([r.score == 34 for r in reports])


def test_zeros_alone_prove_no_slip(tmp_path, capsys):
    """Every entry answered 0: no other wrong entry shows a slip, so none is named (a 0 alone proves nothing)."""
    zeros = [["0"] * 5 for _ in range(5)]
    code, data, _ = check_json([answer_file(tmp_path / "z.toml", PROBLEM, {"grad_input": zeros})], capsys)
    assert code == 1
    assert all(not e.get("slips") for e in entries(data)) and not data["files"][0]["answers"]["grad_input"].get("note")


def test_a_split_tie_is_named_and_the_shared_slip_is_said_first(tmp_path, capsys):
    """Max pooling with a tie, ties = "first": a student who shared the gradient between the tied cells."""
    problem = {"layer": "pool", "input": "2x2", "window": "2x2"}
    path = answer_file(tmp_path / "t.toml", problem, {"grad_input": [[2, 2], [0, 0]]},
                       values={"input": [[5, 5], [1, 2]], "grad_output": [[4]]})
    code, data, _ = check_json([path], capsys)
    assert code == 1
    wrong = [e for e in entries(data) if e["status"] == "wrong"]
    assert len(wrong) == 2 and all({s["id"] for s in e["slips"]} == {"ties_split"} for e in wrong)
    code, out, _ = run(["check", path], capsys)
    note = out.index("note: all 2 wrong entries match one slip: a tie for the maximum shared")
    assert note < out.index("✗ dL/dx_1_1") and "looks like" not in out  # said once, before the entries


def test_numbers_are_explained_as_expected_and_written(tmp_path, capsys):
    """A numeric problem's wrong entry: `expected -1/2, you wrote -0.4` (exact, as the problem is), not terms."""
    problem = {"layer": "conv", "input": "2", "kernel": "1"}
    path = answer_file(tmp_path / "n.toml", problem, {"forward": [-0.4, "-1"], "grad_input": ["-1/2", 0.5]},
                       values={"input": [1, 2], "kernel": ["-1/2"], "grad_output": [1, 1]})
    code, out, _ = run(["check", path], capsys)
    assert code == 1
    assert "expected -1/2, you wrote -0.4" in out and "expected -1/2, you wrote 0.5" in out
    assert "missing:" not in out and "extra:" not in out and "your answer" not in out


def test_class_statistics_show_what_to_reteach(tmp_path, capsys):
    """Three students: one right, two with dL/dX without rot180 (one also wrong on dL/dw_1_1)."""
    right = right_answers(PROBLEM)
    N, K, S, O = 5, 3, 2, 2
    pairs = [((S * a + i, S * b + j), f"{_w(K - 1 - i, K - 1 - j)}*{_g(a, b)}")
             for a in range(O) for b in range(O) for i in range(K) for j in range(K)]
    unrotated = {"grad_kernel": right["grad_kernel"], "grad_input": _sums((N, N), pairs)}
    worse = {"grad_kernel": [["0"] + row[1:] if r == 0 else row for r, row in enumerate(right["grad_kernel"])],
             "grad_input": _sums((N, N), pairs)}
    files = [answer_file(tmp_path / f"{name}.toml", PROBLEM, answers, student=name)
             for name, answers in (("ada", right), ("bob", unrotated), ("cy", worse))]
    code, data, _ = check_json(files, capsys)
    assert code == 1
    summary = data["summary"]
    # most common first (ties in the slips' order); some unrotated entries also read as rows and columns swapped
    assert list(summary["slips"].items())[0] == ("no_rot180", 2) and set(summary["slips"]) <= {"no_rot180", "rows_cols_swapped"}
    by_name = {(e["key"], e["name"]): (e["right"], e["files"]) for e in summary["entries"]}
    assert by_name[("grad_kernel", "dL/dw_1_1")] == (2, 3) and by_name[("grad_kernel", "dL/dw_2_2")] == (3, 3)
    assert by_name[("grad_input", "dL/dx_1_1")] == (1, 3)  # w_3_3·dz_1_1 written as w_1_1·dz_1_1
    code, out, _ = run(["check", *files, "--format", "markdown"], capsys)
    table = out[out.index("## What to re-teach: the slips"):]
    assert "| `no_rot180` | 2 of 3 | dL/dX computed without rot180" in table
    hardest = out[out.index("## The entries most often wrong"):]
    assert "| dL/dX | dL/dx\\_1\\_1 | 1 of 3 |" in hardest


def test_tolerance_zero_says_why_alike_numbers_differ(tmp_path, capsys):
    """0.1 + 0.2 + 0.3 is 0.6000000000000001 in floats: with --tolerance 0 a written 0.6 is wrong, and says why
    (it read 'missing: 0.6 / extra: 0.6')."""
    path = answer_file(tmp_path / "t.toml", {"layer": "conv", "input": "3", "kernel": "3"}, {"forward": [0.6]},
                       values={"input": [0.1, 0.2, 0.3], "kernel": [1, 1, 1]})
    code, out, _ = run(["check", path, "--tolerance", "0"], capsys)
    assert code == 1 and "expected 0.6000000000000001, you wrote 0.6: equal within rounding, but --tolerance 0" in " ".join(out.split())
    assert run(["check", path], capsys)[0] == 0
