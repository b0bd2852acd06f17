"""Network homework: `symgrad template net` and `symgrad check` on net answer files, symbolic (δ symbols)
and numeric, right answers taken from symgrad's JSON (and, for numbers, from PyTorch), and every
network slip built by hand."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import numpy as np
import pytest

import symgrad
from symgrad.homework.net import NetProblem

from conftest import run

SYMBOLIC = ("3x3", "conv 2x2 bias | relu | flatten | dense 2 bias | mse")
VALUES = {"input": [[1, -2, 0], [2, 0, 1], [0, -1, 3]],
          "layers": [{"kernel": [[1, "1/2"], [0, -1]], "bias": [0]}, {}, {}, {"weight": [[1, 2, 0, -1], [0, 1, 1, 1]], "bias": [0, 1]},
                     {"target": [2, -1]}]}


def stage_answers(net, asked: dict[str, list[str]]) -> dict[str, dict[str, list]]:
    """The right answers of every asked key, from the network's JSON (update values included)."""
    data = json.loads(net.to_json())
    out = {}
    for table, keys in asked.items():
        i = int(table.removeprefix("stage")) - 1
        stage = data["stages"][i]
        out[table] = {}
        for key in keys:
            if key.startswith("new_"):
                out[table][key] = data["update"]["layers"][i][key.removeprefix("new_")]
            else:
                out[table][key] = stage[key]
    return out


def fill(template: str, answers: dict[str, dict[str, list]]) -> str:
    """The template's '' entries replaced, in order, by the answers of their [answer.stageK] key."""
    out, table, key = [], None, None
    queues = {(t, k): _leaves(v) for t, keys in answers.items() for k, v in keys.items()}
    for line in template.splitlines():
        header = re.match(r"^\[answer\.(stage[0-9]+)\]", line)
        if header:
            table = header.group(1)
        match = re.match(r"^(\w+) = ", line)
        if match:
            key = match.group(1)
        while "''" in line and (table, key) in queues:
            line = line.replace("''", json.dumps(str(queues[(table, key)].pop(0))), 1)
        out.append(line)
    return "\n".join(out) + "\n"


def _leaves(value):
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def asked_keys(template: str) -> dict[str, list[str]]:
    asked, table = {}, None
    for line in template.splitlines():
        header = re.match(r"^\[answer\.(stage[0-9]+)\]", line)
        if header:
            table = header.group(1)
            asked[table] = []
        match = re.match(r"^(\w+) = ", line)
        if match and table is not None:
            asked[table].append(match.group(1))
    return asked


def check(tmp_path, capsys, text: str, *extra):
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run(["check", str(path), "--format", "json", *extra], capsys)
    return code, json.loads(out), err


@pytest.mark.parametrize("values", [None, VALUES], ids=["symbolic", "numeric"])
def test_template_filled_with_the_json_answers_is_all_right(values, tmp_path, capsys):
    (tmp_path / "v.json").write_text(json.dumps(values or {}))
    args = ["template", "net", "--input", SYMBOLIC[0], "--layers", SYMBOLIC[1], "--lr", "1/10"]
    if values:
        args += ["--values", str(tmp_path / "v.json")]
    code, template, err = run(args, capsys)
    assert code == 0 and err == ""
    assert "[answer.stage1]" in template and "new_kernel = [" in template and "[answer.stage5]" in template
    net = symgrad.net(*SYMBOLIC, values=values, lr="1/10")
    asked = asked_keys(template)
    assert asked["stage2"] == ["grad_input"] and "new_weight" in asked["stage4"]
    code, data, err = check(tmp_path, capsys, fill(template, stage_answers(net, asked)))
    assert err == "" and code == 0, data
    report = data["files"][0]
    assert report["score"] == report["max_score"] > 20
    assert report["problem"].startswith("net 3x3: conv 2x2 bias | relu")


def test_symbolic_relu_answers_and_slips(tmp_path, capsys):
    """Stage 2 (ReLU): dL/dz_11 = H(z_11)·dL/da_11, written several ways; dL/da alone is the slip."""
    problem = NetProblem.build({"input": "3x3", "layers": SYMBOLIC[1]}, None)
    stage, key = problem.stage_problem("stage2.grad_input")
    want = stage.expected(key)[0]
    for text in ("Heaviside(z_1_1)*da_1_1", "da_1_1*Heaviside(z_1_1, 0)", "$H(z_{11}) \\cdot \\frac{\\partial L}{\\partial a_{11}}$"):
        assert stage.parse(text) == want, text
    base = {"student": "s", "problem": {"layer": "net", "input": "3x3", "layers": SYMBOLIC[1]}}
    text = _toml(base) + '\n[answer.stage2]\ngrad_input = [["da_1_1", "da_1_2"], ["da_2_1", "Heaviside(z_2_2)*da_2_2"]]\n'
    code, data, _ = check(tmp_path, capsys, text)
    entries = data["files"][0]["answers"]["stage2.grad_input"]["entries"]
    assert code == 1 and [e["status"] for e in entries] == ["wrong", "wrong", "wrong", "right"]
    assert all(slips(e) == ["activation_derivative_left_out"] for e in entries[:3])
    assert data["files"][0]["answers"]["stage2.grad_input"]["note"].startswith("all 3 wrong entries match one slip: the activation's")


def test_numeric_slips_of_the_update_and_the_loss(tmp_path, capsys):
    """With values: new w = w + α·g is `update_added`, w − g is `lr_not_applied`; dL/dy = t − y is
    `loss_gradient_sign`; ReLU'(0) = 1 is `relu_slope_one_at_zero` (z_2_1 = 0 here)."""
    net = symgrad.net(*SYMBOLIC, values=VALUES, lr="1/10")
    conv = net.stages[0]
    g = conv.d.numeric.result("grad_kernel").ravel()
    w = np.array([1, Fraction(1, 2), 0, -1], dtype=object)
    lr = Fraction(1, 10)
    added = [str(v) for v in w + lr * g]
    not_applied = [str(v) for v in w - g]
    z = net.stages[0].d.numeric.result("forward").ravel()
    assert z.tolist() == [Fraction(-1), Fraction(1, 2), Fraction(0), Fraction(-5, 2)] or 0 in z.tolist()
    delta = net.stages[1].d.numeric.result("grad_input")  # dL/dz, H(0) = 0
    da = [net.stages[1].d.numeric.value(net.stages[1].d.symbols["grad_output"].offset + k) for k in range(4)]
    slope_one = [str(da[k]) if z[k] == 0 else str(delta.ravel()[k]) for k in range(4)]
    y_grad = net.stages[4].d.grad[1]
    flipped = [str(-v) for v in y_grad]
    base = {"student": "s", "problem": {"layer": "net", "input": "3x3", "layers": SYMBOLIC[1], "lr": "1/10"}}
    text = (_toml(base) + "\n[problem.values]\n" + _values_toml(VALUES)
            + f"\n[answer.stage1]\nnew_kernel = [{json.dumps(added[:2])}, {json.dumps(added[2:])}]\n"
            + f"\n[answer.stage2]\ngrad_input = [{json.dumps(slope_one[:2])}, {json.dumps(slope_one[2:])}]\n"
            + f"\n[answer.stage5]\ngrad_input = {json.dumps(flipped)}\n")
    code, data, _ = check(tmp_path, capsys, text)
    answers = data["files"][0]["answers"]
    assert code == 1
    wrong = [e for e in answers["stage1.new_kernel"]["entries"] if e["status"] == "wrong"]
    assert wrong and all("update_added" in slips(e) for e in wrong)
    relu = answers["stage2.grad_input"]["entries"]
    zero = [k for k in range(4) if z[k] == 0]
    assert zero and all(relu[k]["status"] == "wrong" and "relu_slope_one_at_zero" in slips(relu[k]) for k in zero if da[k] != 0)
    assert all(relu[k]["status"] == "right" for k in range(4) if k not in zero)
    assert all("loss_gradient_sign" in slips(e) for e in answers["stage5.grad_input"]["entries"] if e["status"] == "wrong")
    text2 = (_toml(base) + "\n[problem.values]\n" + _values_toml(VALUES)
             + f"\n[answer.stage1]\nnew_kernel = [{json.dumps(not_applied[:2])}, {json.dumps(not_applied[2:])}]\n")
    code, data, _ = check(tmp_path, capsys, text2)
    wrong = [e for e in data["files"][0]["answers"]["stage1.new_kernel"]["entries"] if e["status"] == "wrong"]
    assert code == 1 and wrong and all("lr_not_applied" in slips(e) for e in wrong)


def test_softmax_numbers_are_judged_against_pytorch(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    layers = "conv 2x2 | relu | flatten | dense 3 | softmax-ce"
    values = {"input": [[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [0.0, 1.0, -2.0]],
              "layers": [{"kernel": [[0.5, -0.25], [1.0, 0.75]]}, {}, {}, {"weight": [[0.1, -0.2, 0.3, 0.4], [0.5, 0.1, -0.3, 0.2], [-0.4, 0.3, 0.2, 0.1]]},
                         {"target": 2}]}
    x = torch.tensor(values["input"], dtype=torch.float64)[None, None]
    w = torch.tensor(values["layers"][0]["kernel"], dtype=torch.float64)[None, None].requires_grad_(True)
    v = torch.tensor(values["layers"][3]["weight"], dtype=torch.float64).requires_grad_(True)
    loss = torch.nn.functional.cross_entropy((torch.relu(torch.nn.functional.conv2d(x, w)).flatten() @ v.T)[None], torch.tensor([1]))
    loss.backward()
    base = {"student": "s", "problem": {"layer": "net", "input": "3x3", "layers": layers}}
    text = (_toml(base) + "\n[problem.values]\n" + _values_toml(values)
            + f"\n[answer.stage1]\ngrad_kernel = {json.dumps(w.grad[0, 0].tolist())}\n"
            + f"\n[answer.stage4]\ngrad_weight = {json.dumps(v.grad.tolist())}\n"
            + f"\n[answer.stage5]\nforward = [{float(loss.detach())}]\n")
    code, data, err = check(tmp_path, capsys, text)
    assert code == 0 and err == "", data


def test_bad_net_answer_files_are_one_line(tmp_path, capsys):
    base = {"student": "s", "problem": {"layer": "net", "input": "3x3", "layers": SYMBOLIC[1]}}
    cases = [
        ("\n[answer]\ngrad_input = [1]\n", "a network's answers go in tables [answer.stage1]"),
        ("\n[answer.stage2]\ngrad_kernel = [1]\n", "[answer] has stage2.grad_kernel, which this network's stages do not have"),
        ("\n[answer.stage9]\ngrad_input = [1]\n", "[answer] has stage9.grad_input"),
        ("\n[answer.stage1]\ngrad_weights = [1]\n", "[answer.stage1] has the unknown key \"grad_weights\""),
    ]
    for tail, message in cases:
        code, data, err = check(tmp_path, capsys, _toml(base) + tail)
        assert code == 2 and message in data["files"][0]["error"], (tail, data["files"][0]["error"])
        assert err.count("\n") == 1
    bad = {"student": "s", "problem": {"layer": "net", "input": "3x3", "layers": "conv 2x2 | dense 2"}}
    code, data, err = check(tmp_path, capsys, _toml(bad) + "\n[answer.stage1]\ngrad_input = [1]\n")
    assert code == 2 and "stage 2 'dense 2'" in data["files"][0]["error"]


def test_sigmoid_stage_without_values_is_not_asked(capsys):
    code, template, _ = run(["template", "net", "--input", "3x3", "--layers", "conv 2x2 | sigmoid | flatten | sum"], capsys)
    assert code == 0 and "[answer.stage2]" not in template and "(needs exp" in template and "[answer.stage1]" in template


def slips(entry: dict) -> list[str]:
    return [slip["id"] for slip in entry.get("slips", [])]


def _toml(data: dict) -> str:
    lines = [f"student = {json.dumps(data['student'])}", "[problem]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in data["problem"].items()]
    return "\n".join(lines) + "\n"


def _values_toml(values: dict) -> str:
    def value(v):
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    return "\n".join(f"{key} = {value(v)}" for key, v in values.items()) + "\n"


def test_numbered_letters_are_read_as_the_json_writes_them(tmp_path, capsys):
    """Two conv stages: their kernels are w1 and w2; answers name them w2_1_1 and dz2_1_1."""
    layers = "conv 2x2 | conv 2x2 | flatten | sum"
    net = symgrad.net("4x4", layers)
    code, template, _ = run(["template", "net", "--input", "4x4", "--layers", layers], capsys)
    assert code == 0 and "w2_1_1 .. w2_2_2" in template
    answers = stage_answers(net, asked_keys(template))
    assert answers["stage2"]["grad_kernel"][0][0][0][0].startswith("z1_1_1*dz2_1_1")
    code, data, err = check(tmp_path, capsys, fill(template, answers))
    assert code == 0 and err == "", data
