"""Per-student variants (issue 17): `template ... --variants ROSTER --seed S -o DIR` and `check FILES
--variants ROSTER --seed S`. Answers are computed independently (PyTorch autograd) from each file's own
numbers; swapped, copied and edited files are judged by the numbers the seed gives their student."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from symgrad import cli
from symgrad.errors import OptionError
from symgrad.homework.variants import draw_values, read_roster

ROSTER = "# class of 2026\nalice\nbob\n\ns1234567\nchen.li@uni.edu\n"
IDS = ["alice", "bob", "s1234567", "chen.li@uni.edu"]


def run(args, capsys):
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def roster(tmp_path) -> str:
    path = tmp_path / "roster.txt"
    path.write_text(ROSTER, encoding="utf-8")
    return str(path)


# --- the numbers


def test_numbers_are_a_function_of_seed_and_id_alone():
    conv = {"input": "3x3", "kernel": "2x2", "bias": True}
    alice = draw_values("conv", conv, 7, "alice")
    # pinned: a course regrades next year with another Python, NumPy and symgrad, and gets these numbers
    assert alice == {"input": [[[1, -2, -4], [2, -1, 3], [-3, -2, 3]]], "kernel": [[[[0, 1], [-4, 1]]]], "bias": [-3],
                     "grad_output": [[[2, 3], [4, -1]]]}
    assert draw_values("conv", {**conv, "stride": 1}, 7, "alice") == alice  # options spelled otherwise: same numbers
    others = [draw_values("conv", conv, seed, who) for seed, who in [(7, "bob"), (8, "alice"), (7, "Alice"), (7, "alice ")]]
    assert all(other != alice for other in others)
    for values in [alice] + others:
        flat = np.array(values["input"]).ravel().tolist() + np.array(values["kernel"]).ravel().tolist()
        assert all(isinstance(v, int) and -4 <= v <= 4 for v in flat)
    mse = draw_values("conv", {**conv, "loss": "mse"}, 7, "alice")
    assert set(mse) == {"input", "kernel", "bias", "target"} and set(draw_values("conv", {**conv, "loss": "sum"}, 7, "x")) == {"input", "kernel", "bias"}


def test_max_pooling_inputs_have_no_ties_unless_ties_are_shared():
    for who in [f"s{n}" for n in range(40)]:
        cells = np.array(draw_values("pool", {"input": "4x4", "window": "2x2"}, 1, who)["input"]).ravel()
        assert len(set(cells.tolist())) == 16
        big = np.array(draw_values("pool", {"input": "6x6", "window": "3x3", "channels": 2}, 1, who)["input"]).ravel()
        assert len(set(big.tolist())) == 72
    split = np.array(draw_values("pool", {"input": "4x4", "window": "2x2", "ties": "split"}, 1, "s1")["input"]).ravel()
    assert len(set(split.tolist())) < 16  # 16 cells from -4..4: ties, the subject of a `split` problem
    assert set(draw_values("pool", {"input": "4x4", "window": "2x2", "mode": "avg"}, 1, "s1")) == {"input", "grad_output"}


def test_network_numbers_follow_its_stages():
    values = draw_values("net", {"input": "3x3", "layers": "conv 2x2 bias | relu | flatten | dense 3 | softmax-ce"}, 5, "bob")
    assert np.array(values["input"]).shape == (1, 3, 3)
    kernel, relu, flat, dense, loss = values["layers"]
    assert np.array(kernel["kernel"]).shape == (1, 1, 2, 2) and len(kernel["bias"]) == 1 and relu == flat == {}
    assert np.array(dense["weight"]).shape == (3, 4) and "bias" not in dense and loss["target"] in (1, 2, 3)
    assert "grad_output" in draw_values("net", {"input": "4", "layers": "flatten | dense 2"}, 5, "bob")


def test_rosters_are_checked_line_by_line(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text(ROSTER, encoding="utf-8")
    assert read_roster(str(path)) == IDS
    for text, message in [("alice\nbob\nalice\n", "line 3: 'alice' is already on line 1"),
                          ("alice\n../etc/passwd\n", "line 2: '../etc/passwd' cannot name a file"),
                          ("a/b\n", "line 1: 'a/b' cannot name a file"), (".hidden\n", "cannot name a file"),
                          ("al\x07ice\n", "cannot name a file"), ("# only a comment\n\n", "has no student ids"),
                          ("x" * 201 + "\n", "201 characters long")]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(OptionError, match=message.replace(".", r"\.").replace("(", r"\(")):
            read_roster(str(path))
    with pytest.raises(OptionError, match="does not exist"):
        read_roster(str(tmp_path / "missing.txt"))


# --- template --variants


def test_template_writes_one_file_per_student(tmp_path, roster, capsys):
    out = tmp_path / "hw"
    code, stdout, err = run(["template", "conv", "--input", "4x4", "--kernel", "3x3", "--stride", "1", "--bias",
                             "--variants", roster, "--seed", "7", "-o", str(out)], capsys)
    assert code == 0 and err == "" and stdout.startswith("wrote 4 answer files to")
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{who}.toml" for who in IDS)
    for who in IDS:
        data = tomllib.loads((out / f"{who}.toml").read_text(encoding="utf-8"))
        assert data["student"] == who and data["answer"]["grad_kernel"][0] == ["", "", ""]
        drawn = draw_values("conv", {k: v for k, v in data["problem"].items() if k not in ("layer", "values")}, 7, who)
        assert np.array(data["problem"]["values"]["input"]).ravel().tolist() == np.array(drawn["input"]).ravel().tolist()
        assert np.ravel(data["problem"]["values"]["bias"]).tolist() == drawn["bias"]
    again = tmp_path / "again"
    run(["template", "conv", "--input", "4x4", "--kernel", "3x3", "--bias", "--variants", roster, "--seed", "7", "-o", str(again)], capsys)
    assert (again / "bob.toml").read_text() == (out / "bob.toml").read_text()  # reproducible


@pytest.mark.parametrize("extra, message", [
    (["--seed", "7"], "--variants ROSTER and --seed S go together"),
    (["--variants", "ROSTER"], "--variants ROSTER and --seed S go together"),
    (["--variants", "ROSTER", "--seed", "7", "--values", "v.json"], "leave out --values"),
    (["--variants", "ROSTER", "--seed", "7", "--student", "x"], "leave out --student"),
    (["--variants", "ROSTER", "--seed", "7"], "give -o DIR"),
    (["--variants", "ROSTER", "--seed", "seven", "-o", "hw"], "--seed must be a whole number"),
    (["--variants", "ROSTER", "--seed", "7", "-o", "ROSTER"], "is a file; with --variants, -o names a folder"),
    (["--variants", "nowhere.txt", "--seed", "7", "-o", "hw"], "'nowhere.txt' does not exist"),
])
def test_template_variant_mistakes_are_one_line(tmp_path, roster, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    extra = [roster if e == "ROSTER" else e for e in extra]
    code, _, err = run(["template", "conv", "--input", "3x3", "--kernel", "2x2", *extra], capsys)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "hw").exists()


# --- check --variants, with answers computed independently


torch = pytest.importorskip("torch", reason="PyTorch computes the answers independently")
F = torch.nn.functional


def _tensor(values, shape):
    return torch.tensor(np.array(values, dtype=np.float64).reshape(shape), dtype=torch.float64)


def _numbers(t):
    return [_numbers(x) for x in t] if t.dim() else round(float(t), 9)


def _answer(path: Path, answers: dict) -> None:
    """The file with its [answer] table replaced by `answers` (tables for a network's stages)."""
    head = path.read_text(encoding="utf-8").split("\n[answer")[0]
    lines = []
    for key, value in answers.items():
        if isinstance(value, dict):
            lines += [f"[answer.{key}]"] + [f"{k} = {json.dumps(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text(head + "\n[answer]\n" + "\n".join(lines) + "\n", encoding="utf-8")


def solve_conv(data: dict) -> dict:
    """dL/dW, dL/dX, dL/db of a 2-channel, stride-2 conv with bias, by autograd from the file's numbers."""
    v = data["problem"]["values"]
    x = _tensor(v["input"], (1, 2, 5, 5)).requires_grad_()
    w = _tensor(v["kernel"], (3, 2, 3, 3)).requires_grad_()
    b = _tensor(v["bias"], (3,)).requires_grad_()
    F.conv2d(x, w, b, stride=2, padding=1).backward(_tensor(v["grad_output"], (1, 3, 3, 3)))
    return {"grad_kernel": _numbers(w.grad), "grad_input": _numbers(x.grad[0]), "grad_bias": _numbers(b.grad)}


def solve_pool(data: dict) -> dict:
    v = data["problem"]["values"]
    x = _tensor(v["input"], (1, 1, 6, 6)).requires_grad_()
    F.max_pool2d(x, 3, stride=2, padding=1).backward(_tensor(v["grad_output"], (1, 1, 3, 3)))
    return {"grad_input": _numbers(x.grad[0, 0])}


def solve_net(data: dict) -> dict:
    """A network conv 2x2 bias | relu | flatten | dense 2 bias | mse with lr 1/2, stage by stage."""
    v, lr = data["problem"]["values"], 0.5
    first, _, _, dense, loss = v["layers"]
    x = _tensor(v["input"], (1, 1, 3, 3)).requires_grad_()
    w, b = _tensor(first["kernel"], (1, 1, 2, 2)).requires_grad_(), _tensor(first["bias"], (1,)).requires_grad_()
    m, c = _tensor(dense["weight"], (2, 4)).requires_grad_(), _tensor(dense["bias"], (2,)).requires_grad_()
    z = F.conv2d(x, w, b)
    a = F.relu(z)
    f = a.flatten(1)
    y = f @ m.T + c
    for t in (z, a, f, y):
        t.retain_grad()
    (0.5 * ((y - _tensor(loss["target"], (1, 2))) ** 2).sum()).backward()
    return {"stage1": {"grad_kernel": _numbers(w.grad[0, 0]), "grad_input": _numbers(x.grad[0, 0]), "grad_bias": _numbers(b.grad),
                       "new_kernel": _numbers((w - lr * w.grad)[0, 0].detach()), "new_bias": _numbers((b - lr * b.grad).detach())},
            "stage2": {"grad_input": _numbers(z.grad[0, 0])}, "stage3": {"grad_input": _numbers(a.grad[0, 0])},
            "stage4": {"grad_weight": _numbers(m.grad), "grad_input": _numbers(f.grad[0]), "grad_bias": _numbers(c.grad),
                       "new_weight": _numbers((m - lr * m.grad).detach()), "new_bias": _numbers((c - lr * c.grad).detach())},
            "stage5": {"grad_input": _numbers(y.grad[0])}}


CASES = {
    "conv": (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--padding", "1", "--in-channels", "2",
              "--out-channels", "3", "--bias"], solve_conv),
    "pool": (["pool", "--input", "6x6", "--window", "3x3", "--stride", "2", "--padding", "1"], solve_pool),
    "net": (["net", "--input", "3x3", "--layers", "conv 2x2 bias | relu | flatten | dense 2 bias | mse", "--lr", "1/2"], solve_net),
}


@pytest.mark.parametrize("case", CASES)
def test_independent_answers_are_right_and_swapped_ones_are_not(tmp_path, roster, capsys, case):
    layer, solve = CASES[case]
    hw = tmp_path / "hw"
    assert run(["template", *layer, "--variants", roster, "--seed", "2026", "-o", str(hw)], capsys)[0] == 0
    files = sorted(hw.glob("*.toml"))
    answers = {p.stem: solve(tomllib.loads(p.read_text(encoding="utf-8"))) for p in files}
    for p in files:
        _answer(p, answers[p.stem])
    check = ["check", *map(str, files), "--variants", roster, "--seed", "2026", "--format", "json", "-o", str(tmp_path / "r.json")]
    assert run(check, capsys)[0] == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["right"] == len(IDS) and all(not f.get("notes") for f in report["files"])
    # another seed: every file is someone else's problem now
    assert run(check[:-6] + ["--seed", "2027"], capsys)[0] == 1
    # alice hands in bob's answers
    _answer(hw / "alice.toml", answers["bob"])
    assert run(check, capsys)[0] == 1
    files_report = {f["student"]: f for f in json.loads((tmp_path / "r.json").read_text())["files"]}
    assert files_report["alice"]["status"] == "wrong" and files_report["bob"]["status"] == "right"


def test_edited_and_copied_values_are_judged_by_the_seed(tmp_path, roster, capsys):
    layer, solve = CASES["conv"]
    hw = tmp_path / "hw"
    run(["template", *layer, "--variants", roster, "--seed", "1", "-o", str(hw)], capsys)
    alice, bob = hw / "alice.toml", hw / "bob.toml"

    def judged(path):
        code, _, _ = run(["check", str(path), "--variants", roster, "--seed", "1", "--format", "json", "-o", str(tmp_path / "r.json")], capsys)
        return code, json.loads((tmp_path / "r.json").read_text())["files"][0]

    # alice sets every number to 0 and answers her edited problem (all zeros)
    values = tomllib.loads(alice.read_text())["problem"]["values"]
    text = alice.read_text()
    for key, value in values.items():
        text = text.replace(f"{key} = {json.dumps(value)}", f"{key} = {json.dumps(np.zeros(np.array(value).shape, dtype=int).tolist())}")
    alice.write_text(text)
    _answer(alice, solve(tomllib.loads(alice.read_text())))
    code, report = judged(alice)
    assert code == 1 and report["status"] == "wrong" and report["score"] < report["max_score"] // 2
    assert report["notes"] == ["its [problem.values] are not the ones seed 1 gives student 'alice'; judged against the seed's for 'alice'"]
    # bob hands in a copy of s1234567's file with his name on it, answered for s1234567's numbers
    copy = (hw / "s1234567.toml").read_text().replace('student = "s1234567"', 'student = "bob"')
    bob.write_text(copy)
    _answer(bob, solve(tomllib.loads(copy)))
    code, report = judged(bob)
    assert code == 1 and report["status"] == "wrong"
    assert "but the ones it gives 's1234567' (a copy of their file?)" in report["notes"][0]


def test_students_off_the_roster_are_one_clear_line(tmp_path, roster, capsys):
    hw = tmp_path / "hw"
    run(["template", "conv", "--input", "3x3", "--kernel", "2x2", "--variants", roster, "--seed", "3", "-o", str(hw)], capsys)
    stranger = tmp_path / "mallory.toml"
    stranger.write_text((hw / "bob.toml").read_text().replace('student = "bob"', 'student = "mallory"'))
    nobody = tmp_path / "nobody.toml"
    nobody.write_text((hw / "bob.toml").read_text().replace('student = "bob"', 'student = ""'))
    code, _, err = run(["check", str(stranger), "--variants", roster, "--seed", "3"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"student 'mallory' is not on the roster {roster!r} (4 ids); expected the id the file was handed out with" in err
    code, _, err = run(["check", str(nobody), "--variants", roster, "--seed", "3"], capsys)
    assert code == 2 and "has no student id; with --variants each file is judged by the values of its student" in err
    code, _, err = run(["check", str(nobody), "--seed", "3"], capsys)
    assert code == 2 and "--variants ROSTER and --seed S go together" in err


def test_variants_with_a_pinned_problem_and_jobs(tmp_path, roster, capsys):
    """--problem pins the layer (a student who edits [problem] is judged by the handed-out one) and
    --jobs gives the same report."""
    hw = tmp_path / "hw"
    run(["template", *CASES["conv"][0], "--variants", roster, "--seed", "9", "-o", str(hw)], capsys)
    for p in hw.glob("*.toml"):
        _answer(p, solve_conv(tomllib.loads(p.read_text())))
    edited = hw / "bob.toml"
    edited.write_text(edited.read_text().replace("stride = 2", "stride = 1"))
    files = [str(p) for p in sorted(hw.glob("*.toml"))] * 3  # enough files for the workers
    outputs = []
    for jobs in ("1", "2"):
        code, _, _ = run(["check", *files, "--variants", roster, "--seed", "9", "--problem", str(hw / "alice.toml"),
                          "--jobs", jobs, "--format", "json", "-o", str(tmp_path / f"r{jobs}.json")], capsys)
        outputs.append((tmp_path / f"r{jobs}.json").read_text())
        assert code == 0
    assert outputs[0] == outputs[1]
    bob = next(f for f in json.loads(outputs[0])["files"] if f["student"] == "bob")
    assert bob["status"] == "right" and "its [problem] differs from the reference" in bob["notes"][0]
