"""Grading at scale (issue 17): the fast path reads answers exactly as the general parser does, and
`check --jobs N` gives the reports one process gives, in the same order, whatever happens to a worker."""

from __future__ import annotations

import json
import os
import random
import re

import numpy as np
import pytest
from test_answer_parse import SAME

from symgrad import cli
from symgrad.homework import batch
from symgrad.homework.judge import Judge, judge_key
from symgrad.homework.parse import parse_answer
from symgrad.homework.poly import AnswerError
from symgrad.homework.problem import Problem
from symgrad.homework.terms import TermCache, term_ids
from symgrad.homework.tokens import strip_delimiters

PROBLEMS = {
    "seed": ("conv", {"input": "5x5", "kernel": "3x3", "stride": 2}),
    "channels": ("conv", {"input": "4x4", "kernel": "2x2", "in_channels": 2, "out_channels": 2, "bias": True}),
    "wide": ("conv", {"input": "12x12", "kernel": "3x3", "padding": 1}),  # indices of two digits
    "oned": ("conv", {"input": "7", "kernel": "3", "dilation": 2}),
    "circular": ("conv", {"input": "4x4", "kernel": "3x3", "padding": 1, "padding_mode": "circular"}),  # coefficients 2
    "mse": ("conv", {"input": "3x3", "kernel": "2x2", "loss": "mse"}),  # dz stands for z - t: never one atom
    "pool": ("pool", {"input": "4x4", "window": "2x2"}),
}


@pytest.fixture(scope="module")
def problems():
    return {name: Problem.build(layer, options, None) for name, (layer, options) in PROBLEMS.items()}


def _subscript(indices: list[str], style: str) -> str:
    wide = any(len(i) > 1 for i in indices)
    if style == "braced":
        return "_{" + ("," if wide else "").join(indices) + "}"
    if style == "unicode":
        return ("," if wide else "").join(i.translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")) for i in indices)
    return "_" + "_".join(indices)


def spell(name: str, style: str, grad: str) -> str:
    """A name of the problem (x_1_2, dz_1_1) as a student might write it in `style`."""
    letters, *indices = name.split("_")
    if letters.startswith("d") and len(letters) > 1:
        z = letters[1:]
        return {"plain": name, "braced": f"d{z}{_subscript(indices, 'braced')}",
                "unicode": f"∂L/∂{z}{_subscript(indices, 'unicode')}", "frac": rf"\frac{{\partial L}}{{\partial {z}{_subscript(indices, 'braced')}}}",
                "dl": f"dL/d{z}{_subscript(indices, 'plain')}", "delta": f"δ{_subscript(indices, 'plain')}",
                "bigdelta": rf"\delta{_subscript(indices, 'braced')}"}[grad]
    return letters + _subscript(indices, {"plain": "plain", "braced": "braced", "unicode": "unicode"}[style])


TIMES = ["*", " * ", " \\cdot ", "\\cdot ", " \\times ", "·", " ", "  "]
PLUS = [" + ", "+", "  +  ", " +"]


def spellings(problem: Problem, poly, rng: random.Random, count: int):
    """`count` texts of one polynomial with whole coefficients: terms and factors in random order, every
    notation, and each term with a coefficient c written c times."""
    terms = [(m, c) for m, c in poly.terms.items() for _ in range(int(c))]
    for _ in range(count):
        style, grad = rng.choice(["plain", "braced", "unicode"]), rng.choice(["plain", "braced", "unicode", "frac", "dl", "delta", "bigdelta"])
        times, plus = rng.choice(TIMES), rng.choice(PLUS)
        written = []
        for monomial, _ in rng.sample(terms, len(terms)):
            factors = [spell(problem.atom_text(a), style, grad) for a in monomial]
            written.append(times.join(rng.sample(factors, len(factors))))
        text = plus.join(written)
        yield f"${text}$" if "\\" in text and rng.random() < 0.7 else text


def same_reading(problem: Problem, text: str, forward: bool = False):
    """The fast path's reading of `text` (None: not its shape) after checking it against the general
    parser's: when both read it, they agree; when the general parser refuses it, the fast path does too."""
    problem._outputs_forbidden = forward
    try:
        cache = TermCache()
        ids = term_ids(strip_delimiters(text), problem, cache)
        fast = None if ids is None else cache.monomials.poly(ids)
        try:
            general = parse_answer(text, problem)
        except AnswerError:
            assert fast is None, text
            return None
    finally:
        problem._outputs_forbidden = False
    assert fast is None or fast == general, text
    return fast


@pytest.mark.parametrize("name", PROBLEMS)
def test_the_fast_path_reads_every_spelling_as_the_general_parser(problems, name):
    problem, rng = problems[name], random.Random(name)
    read = tried = 0
    for key in problem.answer_keys():
        expected = problem.expected(key)
        for e in rng.sample(range(len(expected)), min(6, len(expected))):
            if not all(type(c) is int and c > 0 for c in expected[e].terms.values()):
                continue
            for text in spellings(problem, expected[e], rng, 25):
                tried += 1
                read += same_reading(problem, text, key == "forward") is not None
    if name in ("mse", "pool"):  # names that stand for sums (z - t) or Heaviside atoms: the general parser's
        return
    assert tried > 100 and read > 0.6 * tried, (read, tried)  # the common shapes do take the fast path


ATTACKS = [  # near misses: each must be read as the general parser reads it (or refused by both)
    "x_1_1*+dz_1_1", "x_1_1**dz_1_1", "x_1_1**2*dz_1_1", "x_1_1^1*dz_1_1", "\\cdotx_1_1*dz_1_1", "x_1_1\\cdotdz_1_1",
    "2x_1_1*dz_1_1", "2*x_1_1*dz_1_1", "x_1_1*dz_1_1-x_1_1*dz_1_1", "x_1_1*dz_1_1 - 0", "(x_1_1)*dz_1_1",
    "x_1_1*dz_1_1 +", "+ x_1_1*dz_1_1", "x_1_1 2*dz_1_1", "x_1_1*dz_1_1 + + x_1_2*dz_1_1", "x_1_1*dz_1_1*",
    "x_1_1_1*dz_1_1", "x_1_1dz_1_1", "x11*dz11", "x_{11}_2*dz_1_1", "x_{1 1}*dz_{1,1}", "x_1_1*dz_1_1\n+ x_1_2*dz_1_1",
    "x_1_1*dz_1_1 + x_1_1*dz_1_1", "x_9_9*dz_1_1", "q_1_1*dz_1_1", "x_1_1*z_1_1", "x_1_1*dz_1_1 = 3", "\\\\cdot x_1_1",
    "x_1_1*\\frac{\\partial L}{\\partial z_{11}}*2", "x_1_1 \\cdot\\cdot dz_1_1", "x_1_1*dL/dz_1_1/2", "δx_1_1*dz_1_1",
    "x₁₁2*dz_1_1", "x₁₁,₂*dz_1_1", "x_1_1·×dz_1_1", "x_1_1 \\, dz_1_1", "x_1_1*dz_1_1 + x_1_2 * dz_1_1^0",
    # found by an adversarial review (a fuzzer over 700,000 texts and every glue of 3 pieces): the fast path
    # read these as products, where the tokenizer reads one unknown command (\cdotdL) or a space-split one
    "x_1_1\\cdotdL/dz_1_1", "$x_{11}\\timesdL/dz_{11}$", "x_1_1 \\ cdot dz_1_1", "x_1_1 \\ti mes dz_1_1",
    "x_1_1 \\c dot dz_1_1", "x_1_1 \\ times dz_1_1", "x_1_1\\cdot\\frac{\\partial L}{\\partial z_{11}}", "x_1_1\\cdot δ_1_1",
]


@pytest.mark.parametrize("text", ATTACKS + SAME)
def test_near_misses_are_read_as_the_general_parser_reads_them(problems, text):
    for problem in (problems["seed"], problems["mse"]):
        same_reading(problem, text)
        same_reading(problem, text, forward=True)


def test_a_forward_answer_may_not_name_outputs_or_gradients_on_the_fast_path_either(problems):
    p = problems["mse"]
    assert same_reading(p, "w_1_1*x_1_1 + w_1_2*x_1_2", forward=True) is not None
    for text in ("z_1_1", "dz_1_1*w_1_1", "x_1_1*dz_1_1"):
        with pytest.raises(AnswerError):
            p.parse(text, forward=True)


def test_reports_with_and_without_the_fast_path_are_the_same(problems, monkeypatch):
    """Right, slipped, shuffled and garbled answers judged by the fast path and by the general parser alone."""
    rng = random.Random(17)
    for name, problem in problems.items():
        for key in problem.answer_keys():
            if key == "forward" and name == "pool":
                continue
            slipped = dict(problem.variants(key))
            answers = []
            for e, expected in enumerate(problem.expected(key)):
                choice = rng.random()
                target = next(iter(slipped.values()))(e)[0] if slipped and choice < 0.3 else expected
                if all(type(c) is int and c > 0 for c in target.terms.values()) and target.terms:
                    text = next(spellings(problem, target, rng, 1))
                else:
                    text = problem.poly_text(target)
                if choice > 0.9:
                    text = text.replace("+", "-", 1)
                answers.append(text)
            answers = np.array(answers, dtype=object).reshape(problem.answer_group(key).shape).tolist()
            fast = judge_key(Problem.build(*PROBLEMS[name], None), "f", key, answers)
            with monkeypatch.context() as m:
                m.setattr(Problem, "quick_ids", lambda self, text, forward=False: None)
                slow = judge_key(Problem.build(*PROBLEMS[name], None), "f", key, answers)
            assert fast == slow and not fast.error, (name, key)
            assert "right" in {v.status for v in fast.verdicts}


# --- check --jobs


def _batch(tmp_path, count=13):
    """A class: right, wrong and garbled files, one that is not TOML, one missing, one of another problem."""
    problem = Problem.build("conv", {"input": "5x5", "kernel": "3x3", "stride": 2}, None)
    no_rot180 = dict(problem.variants("grad_input"))["no_rot180"]
    paths = []
    for n in range(count):
        answers = {key: [problem.poly_text(p) for p in problem.expected(key)] for key in ("grad_kernel", "grad_input")}
        if n % 3 == 1:
            answers["grad_input"] = [problem.poly_text(no_rot180(e)[0]) for e in range(25)]
        if n % 5 == 2:
            answers["grad_kernel"][4] = "x_1_1*("
        rows = {key: [value[i:i + width] for i in range(0, len(value), width)]
                for (key, value), width in zip(answers.items(), (3, 5))}
        text = (f'student = "s{n}"\n[problem]\nlayer = "conv"\ninput = "5x5"\nkernel = "3x3"\nstride = 2\n[answer]\n'
                + "".join(f"{key} = {json.dumps(value)}\n" for key, value in rows.items()))
        path = tmp_path / f"s{n:02d}.toml"
        path.write_text(text if n != 7 else "not = [toml", encoding="utf-8")
        paths.append(str(path))
    (tmp_path / "other.toml").write_text('[problem]\nlayer = "pool"\ninput = "2x2"\nwindow = "2x2"\nmode = "avg"\n'
                                         '[answer]\ngrad_input = [["dy_1_1/4", "dy_1_1/4"], ["dy_1_1 / 4", "0.25*dy_1_1"]]\n')
    return paths[:5] + [str(tmp_path / "missing.toml"), str(tmp_path / "other.toml")] + paths[5:]


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_jobs_give_the_same_report_in_the_same_order(tmp_path, fmt):
    paths = _batch(tmp_path)
    outputs, codes = [], []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out{jobs}.{fmt}"
        codes.append(cli.main(["check", *paths, "--format", fmt, "--jobs", jobs, "-o", str(out)]))
        outputs.append(out.read_text(encoding="utf-8"))
    assert codes == [2, 2, 2] and outputs[0] == outputs[1] == outputs[2]
    if fmt == "json":
        files = json.loads(outputs[0])["files"]
        assert [f["file"] for f in files] == paths
        assert [f["status"] for f in files][:7] == ["right", "wrong", "error", "right", "wrong", "error", "right"]


def test_a_worker_that_dies_costs_time_not_reports(tmp_path):
    paths = [p for p in _batch(tmp_path, 20) if "missing" not in p]
    parent = os.getpid()

    class Dying(Judge):
        def judge_file(self, path):
            if os.getpid() != parent:
                os._exit(9)  # every worker killed in its first run: the runs they took are never sent
            return super().judge_file(path)

    alone = [Judge().judge_file(p) for p in paths]
    assert batch.judge_files(Dying(), paths, 3) == alone


def test_spawned_workers_build_their_own_judge(tmp_path, monkeypatch):
    import multiprocessing

    paths = _batch(tmp_path, 9)
    reference = str(tmp_path / "s00.toml")
    alone = [Judge(tolerance=0.01, reference=reference).judge_file(p) for p in paths]
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert batch.judge_files(Judge(tolerance=0.01, reference=reference), paths, 2) == alone


@pytest.mark.parametrize("jobs, message", [("0", "--jobs must be a positive integer, got '0'"),
                                           ("two", "--jobs must be a positive integer, got 'two'"),
                                           ("999", "--jobs must be at most 256")])
def test_bad_jobs_are_one_line(tmp_path, capsys, jobs, message):
    code = cli.main(["check", str(tmp_path / "a.toml"), "--jobs", jobs])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_a_report_joined_from_file_parts_is_the_whole_report(tmp_path, fmt, monkeypatch):
    """What the workers lay out, file by file, joins into exactly the report laid out at once."""
    from symgrad.render.formats import file_part, render_check

    monkeypatch.setenv("COLUMNS", "80")
    judge = Judge()
    paths = _batch(tmp_path)
    for reports in ([judge.judge_file(p) for p in paths], [judge.judge_file(paths[1])]):
        for full in (False, True):
            part = file_part(fmt, full, 80)
            whole = render_check(reports, fmt, tolerance=1e-6, full=full)
            joined = render_check(reports, fmt, tolerance=1e-6, full=full, parts=[part(r) for r in reports])
            assert (b"".join(joined).decode() if fmt == "json" else joined) == whole


def test_entries_are_written_as_json_dumps_writes_them(tmp_path):
    """The JSON report writes right and wrong entries by hand (for speed): each line is json.dumps's."""
    from symgrad.homework.report import EntryVerdict
    from symgrad.render.check import _encode, _entry_data, _entry_json

    judge = Judge()
    verdicts = [v for p in _batch(tmp_path) for k in judge.judge_file(p).keys for v in k.verdicts]
    verdicts.append(EntryVerdict("grad_input", (0, 1), 'dL/dx"1', "wrong", "a\\b\u2028é\n", ('x"y',), ("é",), 3, 4,
                                 ("no_rot180", "ties_split"), 'expected 1/2, you wrote "0"'))
    assert {v.status for v in verdicts} == {"right", "wrong", "error"}
    for v in verdicts:
        assert _entry_json(v) == _encode(_entry_data(v))


def test_without_worker_processes_one_process_does_it_all(tmp_path, monkeypatch):
    """A sandbox without semaphores, or without another process to start: the same reports."""
    import multiprocessing.context
    import multiprocessing.process

    paths = [p for p in _batch(tmp_path, 10) if "missing" not in p]
    alone = [Judge().judge_file(p) for p in paths]

    refused = []

    def refuse(*args, **kwargs):
        refused.append(args)
        raise OSError(38, "Function not implemented")

    with monkeypatch.context() as m:
        m.setattr(multiprocessing.context.BaseContext, "Value", refuse)
        assert batch.judge_files(Judge(), paths, 2) == alone and len(refused) == 1
    with monkeypatch.context() as m:
        m.setattr(multiprocessing.process.BaseProcess, "start", refuse)
        assert batch.judge_files(Judge(), paths, 3) == alone and len(refused) == 2


def test_the_summary_table_is_laid_out_as_rich_lays_it_out():
    """summary_text lays a fitting table out itself (rich takes a millisecond a row): the same text as
    rich's, for tables of every kind of cell (wide, combining, escaped, long) at many widths."""
    from types import SimpleNamespace

    from symgrad.render.check_text import check_view, summary_text
    from symgrad.render.formats import print_rich

    rng = random.Random(7)
    pieces = ["a", "/", "_", "é", "漢", "😀", "e\u0301", "x" * 30, " ", "\t", "\n", "ß", "0", "\x1b[31m"]
    fast = 0
    for _ in range(600):
        reports = []
        for _ in range(rng.randrange(2, 6)):
            status = rng.choice(["right", "wrong", "error", "error"])
            top = rng.choice([0, 1, 25, 281, 84300, 10**9])
            reports.append(SimpleNamespace(
                path="".join(rng.choice(pieces) for _ in range(rng.randrange(8))), keys=(), status=status,
                student="".join(rng.choice(pieces) for _ in range(rng.randrange(4))), max_score=top,
                error="bad" if status == "error" and rng.random() < 0.5 else "", score=rng.randrange(top + 1)))
        width = rng.choice([20, 40, 60, 80, 100, 160, 250])
        ours = summary_text(reports, width)
        assert ours == print_rich(check_view(reports, files=False), True, width)
        fast += ours.count("┃") == 3 and "Summary" in ours
    assert fast > 200  # (most fit: the fast layout was compared, not only rich with itself)


def test_a_report_piped_to_a_file_is_what_rich_prints(tmp_path):
    """`check ... > report.txt`: laid out file by file (on every core) at the width rich would use, and
    the same text rich prints there."""
    import subprocess
    import sys

    paths = _batch(tmp_path)
    env = {**os.environ, "COLUMNS": "90"}
    env.pop("FORCE_COLOR", None)
    script = ("import sys\nfrom symgrad.homework.judge import Judge\nfrom symgrad.render.check_text import check_view\n"
              "from symgrad.render.formats import print_rich\nj = Judge()\n"
              "print_rich(check_view([j.judge_file(p) for p in sys.argv[1:]]), False)\n")
    expected = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True, env=env).stdout
    done = subprocess.run([sys.executable, "-m", "symgrad", "check", *paths, "--jobs", "2"], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 2 and done.stdout == expected and "Summary" in expected and "│" in expected


def test_digests_add_up_as_the_reports_do(tmp_path):
    """What a worker sends back (FileReport.digest) gives the same summary, statistics, error line and
    exit code as the whole reports, and a class's right entries share one object each."""
    from symgrad.homework.report import error_line, exit_code, summary

    judge = Judge()
    reports = [judge.judge_file(p) for p in _batch(tmp_path)]
    digests = [r.digest() for r in reports]
    assert summary(digests) == summary(reports) and summary(digests)["slips"]
    assert error_line(digests) == error_line(reports) and exit_code(digests) == exit_code(reports) == 2
    assert [(r.status, r.score, r.max_score, r.errors) for r in digests] == [(r.status, r.score, r.max_score, r.errors)
                                                                              for r in reports]
    assert all(v.answer == "" and not v.missing for r in digests for k in r.keys for v in k.verdicts)
    first, second = digests[0].keys[0].verdicts[0], digests[3].keys[0].verdicts[0]
    assert first.status == "right" and first is second


class _NothingKept(dict):
    """A _Once cache that keeps nothing: rich lays every line out (the tests' reference is rich alone)."""

    def __setitem__(self, key, value):
        pass


def test_file_parts_are_what_rich_prints(tmp_path, monkeypatch):
    """file_text writes a line that fits as its own text, and leaves the rest to rich: the same text as
    rich's for whole reports (a class's, and random ones: wide, combining and escaped characters, long
    and spaced answers, notes) at many widths."""
    from symgrad.homework.report import EntryVerdict, FileReport, KeyReport
    from symgrad.render import check_text
    from symgrad.render.check_text import _file_view, _rich_text, file_text

    monkeypatch.setattr(check_text._Once, "_laid_out", _NothingKept())
    judge = Judge()
    reports = [judge.judge_file(p) for p in _batch(tmp_path)]
    # an adversarial review's: an indented text of no width (rich prints nothing), and a space rich trims
    # at the end of a line that fits but has more characters than the width (an accent written apart)
    accent = EntryVerdict("grad_input", (0,), "dL/dx_1", "wrong", "x", message="\u0301")
    reports += [FileReport("a.toml", keys=(KeyReport("grad_input", (1,), (accent,)),)),
                FileReport("a.toml", student="Jose\u0301 "), FileReport("a.toml", notes=("e\u0301 ",))]
    for width in range(8, 24):
        for r in reports[-3:]:
            assert file_text(r, False, width) == _rich_text(_file_view(r, False), width), (r, width)
    rng = random.Random(11)
    pieces = ["x_1_1", "*", " + ", "漢", "😀", "e\u0301", "\\cdot", "  ", " ", "\t", "\n", "dz_1_2" * 9, "é", "-",
              "\u0301", "\ufe0f", "\u1160", "\u200d", "🇫🇷", "\uff21", "\u00ad", "\u200b"]

    def text(n):
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(n)))

    for n in range(150):
        shape = rng.choice([(1, 1, 2, 2), (2,), (1, 1, 5, 5)])
        verdicts = []
        for e in range(int(np.prod(shape))):
            status = rng.choice(["right", "wrong", "wrong", "unanswered", "error"])
            verdicts.append(EntryVerdict("grad_input", tuple(np.unravel_index(e, shape)), f"dL/dx_{e}", status, text(12),
                                         tuple(text(6) for _ in range(rng.randrange(3))), (text(5),) * rng.randrange(2),
                                         rng.randrange(9), rng.randrange(9), ("no_rot180",) * rng.randrange(2),
                                         text(8) if status == "error" else ""))
        key = KeyReport("grad_input", shape, tuple(verdicts), note=text(10) * rng.randrange(2))
        reports.append(FileReport(text(6), text(3), text(4), (key,), notes=(text(9),) * rng.randrange(2)))
    for r in reports:
        for width in (24, 60, 80, 100, 160):
            for full in (False, True):
                assert file_text(r, full, width) == _rich_text(_file_view(r, full), width), (r.path, width, full)


@pytest.mark.parametrize("colours", ["standard", "256", "truecolor"])
def test_a_terminal_report_laid_out_file_by_file_is_what_rich_prints(tmp_path, colours):
    """On a terminal every core lays its files out in the terminal's colours (file_part with colours), and
    the parent prints the summary: the same escape codes and text as rich's print of the whole report."""
    import io

    from rich.console import Console

    from symgrad.render.check_text import check_view
    from symgrad.render.formats import file_part

    judge = Judge()
    reports = [judge.judge_file(p) for p in _batch(tmp_path)]
    for width in (60, 100):
        for full in (False, True):
            whole, summary = io.StringIO(), io.StringIO()
            for buffer, view in ((whole, check_view(reports, full)), (summary, check_view(reports, full, files=False))):
                Console(file=buffer, width=width, color_system=colours, force_terminal=True, soft_wrap=False).print(view)
            part = file_part("text", full, width, colours)
            joined = "".join(part(r) for r in reports) + summary.getvalue()
            assert joined == whole.getvalue() and "\x1b[" in joined


def test_a_report_on_a_terminal_is_laid_out_by_every_core(tmp_path):
    """`check` on a (pseudo-)terminal: the report in colours, byte for byte what one process prints."""
    pty = pytest.importorskip("pty")
    import subprocess
    import sys

    paths = _batch(tmp_path)
    outputs = []
    for jobs in ("1", "2"):
        command = [sys.executable, "-m", "symgrad", "check", *paths, "--jobs", jobs]
        primary, secondary = pty.openpty()
        env = {**os.environ, "COLUMNS": "90", "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        child = subprocess.Popen(command, stdin=secondary, stdout=secondary, stderr=subprocess.DEVNULL, env=env)
        os.close(secondary)
        chunks = []
        while True:  # read as it comes (a terminal holds little), until the child is gone
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # (EIO: no process has the terminal open any more)
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(primary)
        done = child
        done.wait(timeout=120)
        outputs.append((done.returncode, b"".join(chunks)))
    assert outputs[0] == outputs[1] and outputs[0][0] == 2 and b"\x1b[" in outputs[0][1] and b"Summary" in outputs[0][1]


def test_answers_written_alike_in_many_files_are_judged_once(tmp_path):
    """A class handed the same generator (or copying) writes the same strings: the second file with an
    answer keeps its verdict by text, and every later one reuses it. The reports are those of judging
    each file alone; a text seen once is not kept (a class of different answers keeps nothing)."""
    paths = _batch(tmp_path)
    copies = []
    for n in range(3):
        for p in paths[:5]:
            if os.path.exists(p):
                target = tmp_path / f"copy{n}_{os.path.basename(p)}"
                target.write_text(open(p, encoding="utf-8").read(), encoding="utf-8")
                copies.append(str(target))
    judge = Judge()
    together = [judge.judge_file(p) for p in paths + copies]
    alone = [Judge().judge_file(p) for p in paths + copies]
    assert together == alone
    problem = next(iter(judge._problems.values()))
    assert len(problem.answer_verdicts) >= 34  # every entry of the right and the slipped files
    right = [r for r in together if r.path.endswith("s00.toml")]
    assert len(right) == 4 and right[2].keys[0].verdicts[0] is right[3].keys[0].verdicts[0]
    once = Judge()
    once.judge_file(paths[0])
    assert not next(iter(once._problems.values())).answer_verdicts
