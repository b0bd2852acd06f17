"""`symgrad quiz`: jupyterquiz's JSON (validated against its documented schemas with jsonschema), one right
choice per many-choice question and every wrong one different, numeric answers equal to PyTorch's, seeds
reproducible, and the MyST page's embedded quiz displayed by jupyterquiz in a real kernel."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

import symgrad
from symgrad.homework.quiz import quiz, render_quiz

from conftest import run

jsonschema = pytest.importorskip("jsonschema")

# jupyterquiz's question formats, as its README documents them (many_choice / multiple_choice; numeric)
MANY_CHOICE = {
    "type": "object", "required": ["type", "question", "answers"],
    "properties": {"question": {"type": "string"}, "type": {"enum": ["many_choice", "multiple_choice"]},
                   "answers": {"type": "array", "minItems": 2, "items": {
                       "type": "object", "required": ["answer", "correct"],
                       "properties": {"answer": {"type": "string"}, "correct": {"type": "boolean"}, "feedback": {"type": "string"}}}}},
}
NUMERIC = {
    "type": "object", "required": ["type", "question", "answers"],
    "properties": {"question": {"type": "string"}, "type": {"const": "numeric"}, "precision": {"type": "integer"},
                   "answers": {"type": "array", "items": {"anyOf": [
                       {"type": "object", "required": ["value", "correct"], "properties": {"value": {"type": "number"},
                                                                                            "correct": {"type": "boolean"}}},
                       {"type": "object", "required": ["range", "correct"], "properties": {"range": {"type": "array", "minItems": 2, "maxItems": 2}}},
                       {"type": "object", "required": ["type", "feedback"], "properties": {"type": {"const": "default"}}},
                   ]}}},
}


def check_questions(questions):
    for q in questions:
        jsonschema.validate(q, MANY_CHOICE if q["type"] != "numeric" else NUMERIC)
        if q["type"] == "many_choice":
            assert sum(a["correct"] for a in q["answers"]) == 1, q
            texts = [a["answer"] for a in q["answers"]]
            assert len(set(texts)) == len(texts), q  # every wrong choice differs from the right one
            assert all(a.get("feedback") for a in q["answers"])
        else:
            values = [a["value"] for a in q["answers"] if "value" in a]
            assert len(set(values)) == len(values) and sum(a.get("correct", False) for a in q["answers"]) == 1


@pytest.mark.parametrize("make", [
    lambda: symgrad.conv("5x5", "3x3", stride=2),
    lambda: symgrad.conv("5x5", "3x3", stride=2, padding=1, bias=True),
    lambda: symgrad.conv("4x4", "2x2", in_channels=2, out_channels=2),
    lambda: symgrad.pool("4x4", "2x2"),
    lambda: symgrad.pool("5x5", "3x3", stride=2, mode="avg"),
    lambda: symgrad.net("3x3", "conv 2x2 | relu | flatten | dense 1 | mse"),
])
def test_quizzes_follow_jupyterquiz_formats(make):
    questions = quiz(make(), count=8, seed=5)
    assert len(questions) >= 3
    check_questions(questions)
    assert {"many_choice", "numeric"} <= {q["type"] for q in questions}


def test_wrong_choices_are_named_slips():
    questions = quiz(symgrad.conv("5x5", "3x3", stride=2, padding=1), count=12, seed=0)
    feedback = " ".join(a["feedback"] for q in questions if q["type"] == "many_choice" for a in q["answers"])
    assert "without rot180" in feedback and "not dilated by the stride" in feedback


def test_numeric_answers_equal_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (5, 5)).tolist()
    w = rng.integers(-2, 3, (3, 3)).tolist()
    g = rng.integers(-2, 3, (2, 2)).tolist()
    d = symgrad.conv("5x5", "3x3", stride=2, values={"input": x, "kernel": w, "grad_output": g})
    xt = torch.tensor(x, dtype=torch.float64)[None, None].requires_grad_(True)
    wt = torch.tensor(w, dtype=torch.float64)[None, None].requires_grad_(True)
    (torch.nn.functional.conv2d(xt, wt, stride=2) * torch.tensor(g, dtype=torch.float64)).sum().backward()
    truth = {"x": xt.grad[0, 0].numpy(), "w": wt.grad[0, 0].numpy()}
    checked = 0
    for seed in range(12):
        for q in quiz(d, count=6, seed=seed):
            match = re.fullmatch(r"With these values, what is ∂L/∂([xw])([₀-₉]+)\?", q["question"])
            if q["type"] != "numeric" or not match:
                continue
            r, c = (int(ch.translate(str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789"))) - 1 for ch in match.group(2))
            right = next(a["value"] for a in q["answers"] if a.get("correct"))
            assert right == pytest.approx(truth[match.group(1)][r, c]), q
            checked += 1
    assert checked >= 5


def test_which_matrix_questions():
    """The whole tensor, against the whole tensor under each slip (no rot180 and no dilation here)."""
    questions = [q for q in quiz(symgrad.conv("5x5", "3x3", stride=2), count=20, seed=1) if q["question"].startswith("Which matrix")]
    check_questions(questions)
    grad_input = next(q for q in questions if q["question"] == "Which matrix is ∂L/∂X?")
    assert all(a["answer"].startswith("$\\begin{bmatrix}") for a in grad_input["answers"])
    feedback = " ".join(a["feedback"] for a in grad_input["answers"])
    assert "without rot180" in feedback and "not dilated" in feedback


def test_seeds_make_quizzes_reproducible_and_different():
    d = symgrad.conv("6x6", "3x3", stride=2)
    assert quiz(d, count=5, seed=4) == quiz(d, count=5, seed=4)
    assert quiz(d, count=5, seed=4) != quiz(d, count=5, seed=5)


def test_cli_and_the_myst_page(tmp_path, capsys):
    code, out, err = run(["quiz", "conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--count", "4"], capsys)
    assert code == 0 and err == ""
    questions = json.loads(out)
    assert len(questions) == 4
    check_questions(questions)
    code, _, _ = run(["quiz", "pool", "--input", "4x4", "--window", "2x2", "--format", "myst", "-o", str(tmp_path / "q.md")], capsys)
    page = (tmp_path / "q.md").read_text()
    encoded = re.search(r'<span style="display:none" class="symgrad-quiz">([A-Za-z0-9+/=]+)</span>', page).group(1)
    check_questions(json.loads(base64.b64decode(encoded)))
    assert 'display_quiz("#symgrad-quiz")' in page and "```{code-cell} ipython3" in page
    for args, message in [(["--count", "0"], "--count must be a positive integer"), (["--seed", "x"], "--seed must be a whole number"),
                          (["--format", "html"], "--format must be one of json, myst")]:
        code, _, err = run(["quiz", "conv", "--input", "5x5", "--kernel", "3x3", *args], capsys)
        assert code == 2 and message in err


@pytest.mark.slow
def test_display_quiz_runs_in_a_kernel(tmp_path):
    pytest.importorskip("jupyterquiz")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    questions = quiz(symgrad.conv("4x4", "2x2"), count=3, seed=0)
    path = tmp_path / "quiz.json"
    path.write_text(render_quiz(questions, "json", "t"))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"from jupyterquiz import display_quiz\ndisplay_quiz({str(path)!r})")])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert outputs and not any(o.get("output_type") == "error" for o in outputs)
    shown = json.dumps([o.get("data", {}) for o in outputs])
    assert "Which expression is" in shown or "quizWrap" in shown or "application/javascript" in shown
