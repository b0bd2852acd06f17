"""The homework package split by job: the report model (frozen data, a batch's error line and exit
code), names turned back into indices (`Naming.position_of`), old import paths, and the rules the
split keeps: no rich, no eval, no import cycles, no module over ~400 lines."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import symgrad
import symgrad.homework
from symgrad import cli
from symgrad.homework.report import EntryVerdict, FileReport, KeyReport, error_line, exit_code, summary
from symgrad.naming import Naming

ROOT = Path(symgrad.__file__).parent
HOMEWORK = sorted(name for _, name, _ in pkgutil.iter_modules(symgrad.homework.__path__))


def entry(status: str, index=(0,), key="grad_bias", message: str = "") -> EntryVerdict:
    return EntryVerdict(key, index, f"dL/db_{index[0] + 1}", status, message=message)


def file_report(path: str, *statuses: str, **fields) -> FileReport:
    verdicts = tuple(entry(s, (i,), message="bad" if s == "error" else "") for i, s in enumerate(statuses))
    return FileReport(path, keys=(KeyReport("grad_bias", (len(statuses),), verdicts),), **fields)


# --- the report model


def test_reports_are_frozen():
    report = file_report("a.toml", "right")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.error = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.keys[0].verdicts[0].status = "wrong"  # type: ignore[misc]
    assert all(isinstance(f, tuple) for f in (report.keys, report.notes, report.keys[0].verdicts))


def test_scores_and_statuses():
    assert file_report("a.toml", "right", "right").status == "right"
    wrong = file_report("b.toml", "right", "wrong", "unanswered")
    assert (wrong.status, wrong.score, wrong.max_score) == ("wrong", 1, 3)
    unreadable = file_report("c.toml", "right", "error")
    assert unreadable.status == "error" and unreadable.errors == ["c.toml: answer.grad_bias[1]: bad"]
    assert FileReport("d.toml", error="d.toml: is not valid TOML").errors == ["d.toml: is not valid TOML"]
    counts = summary([wrong, unreadable])
    assert {k: v for k, v in counts.items() if k not in ("slips", "entries")} == {
        "files": 2, "right": 0, "wrong": 1, "unusable": 0, "with_unreadable_entries": 1, "score": 2, "max_score": 5}


def test_file_index_follows_the_files_nesting():
    key = KeyReport("grad_kernel", (1, 1, 2, 2), kept=(2, 3))
    assert key.file_index((0, 0, 1, 0)) == (1, 0)
    assert KeyReport("grad_kernel", (1, 1, 2, 2)).file_index((0, 0, 1, 0)) == (0, 0, 1, 0)


def test_exit_code_priority():
    right, wrong = file_report("a", "right"), file_report("b", "wrong")
    unusable, internal = FileReport("c", error="c: bad"), FileReport("d", error="d: internal error", internal=True)
    assert exit_code([]) == 0 and exit_code([right]) == 0
    assert exit_code([right, wrong]) == 1
    assert exit_code([wrong, unusable]) == 2
    assert exit_code([unusable, internal, wrong]) == 3


def test_error_line_names_the_first_problem_and_counts_the_rest():
    assert error_line([file_report("a", "right"), file_report("b", "wrong")]) is None
    one = file_report("a", "error")
    assert error_line([one]) == "a: answer.grad_bias[0]: bad"
    assert error_line([file_report("a", "error", "error")]) == "a: answer.grad_bias[0]: bad (and 1 more problem; the report lists them all)"
    many = [file_report("a", "error", "error"), FileReport("b", error="b: not TOML"), file_report("c", "wrong")]
    assert error_line(many) == "a: answer.grad_bias[0]: bad (and 2 more problems in 2 files; the report lists them all)"


def test_exit_rules_match_the_command(tmp_path, capsys):
    """error_line and exit_code give what `symgrad check` prints and exits with, file by file and for a batch."""
    from symgrad.homework.judge import Judge

    problem = '[problem]\nlayer = "conv"\ninput = "3x3"\nkernel = "2x2"\n'
    right = json.loads(symgrad.conv("3x3", "2x2").to_json())["grad_kernel"]
    first = right[0][0][0][0]
    files = {
        "all_right.toml": problem + f"[answer]\ngrad_kernel = {json.dumps(right)}\n",
        "wrong.toml": problem + f'[answer]\ngrad_kernel = [["{first}", "{first}"], ["", ""]]\n',
        "unread.toml": problem + '[answer]\ngrad_kernel = [["x_1_1 +* dz", "q_1_1"], ["1", "2"]]\n',
        "not_toml.toml": "= = =\n",
        "shape.toml": problem + '[answer]\ngrad_kernel = [["a", "b", "c"]]\n',
        "ok.toml": problem + '[answer]\ngrad_bias = [""]\n',
    }
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    for batch in [[p] for p in paths] + [paths[:2], paths, paths[::-1]]:
        reports = [Judge().judge_file(p) for p in batch]
        code = cli.main(["check", *batch, "--format", "json"])
        _, err = capsys.readouterr()
        line = error_line(reports)
        assert code == exit_code(reports)
        assert err == ("" if line is None else f"Error: {line}\n")


# --- names back to indices


SHAPES = [((), (3, 3)), ((), (5,)), ((2,), (3, 3)), ((3, 2), (2, 2)), ((), (2, 3, 2)), ((2,), (10, 3)), ((12,), (3,)),
          ((3,), ()), ((), ())]


@pytest.mark.parametrize("index", ["matrix", "flat"])
@pytest.mark.parametrize("channel_sizes, spatial", SHAPES)
def test_position_of_inverts_identifier_and_subscript(index, channel_sizes, spatial):
    naming = Naming(index=index)
    for channels in itertools.product(*(range(n) for n in channel_sizes)):
        for position in itertools.product(*(range(n) for n in spatial)):
            identifier = naming.identifier("x", channels, position, spatial)
            groups = tuple(identifier.split("_")[1:])
            assert naming.position_of(groups, channel_sizes, spatial) == (channels, position), identifier
            subscript = naming.subscript(channels, position, spatial)
            if subscript:
                assert naming.position_of((subscript,), channel_sizes, spatial) == (channels, position), subscript


def test_position_of_refuses_what_names_nothing():
    n = Naming()
    assert n.position_of(("0", "1"), (), (3, 3)) is None  # indices count from 1
    assert n.position_of(("1", "4"), (), (3, 3)) is None
    assert n.position_of(("1",), (), (3, 3)) is None
    assert n.position_of(("1", "1", "1"), (), (3, 3)) is None
    assert n.position_of(("x",), (), (3,)) is None
    assert Naming(index="flat").position_of(("1", "1"), (), (5, 5)) is None
    assert Naming(index="flat").position_of(("26",), (), (5, 5)) is None


def test_the_judge_names_entries_by_position_of():
    from symgrad.homework.problem import Problem

    p = Problem.build("conv", {"input": "3x3", "kernel": "2x2", "in_channels": 2}, None)
    for spelling in ("x_2_1_3", "x_{2,13}", "x_{213}", "x₂,₁₃"):
        atom = p.parse(spelling).single_atom()
        assert p.symbols.identifier(atom) == "x_2_1_3", spelling


# --- the split's rules


def _imports(path: Path, package: str) -> set[str]:
    """symgrad modules a module imports, at its top or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
            if node.level == 0:
                module = node.module or ""
            out.add(module)
            out.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m.startswith("symgrad")}


def test_no_import_cycles_among_homework_modules():
    modules = {f"symgrad.homework.{name}": ROOT / "homework" / f"{name}.py" for name in HOMEWORK}
    graph = {m: {i for i in _imports(path, "symgrad.homework") if i in modules and i != m} for m, path in modules.items()}
    done: set[str] = set()

    def visit(module: str, stack: tuple[str, ...]) -> None:
        assert module not in stack, " -> ".join(stack + (module,))
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, stack + (module,))
        done.add(module)

    for module in graph:
        visit(module, ())


def test_render_check_reads_the_model_from_report_only():
    imported = _imports(ROOT / "render" / "check.py", "symgrad.render")
    assert {m for m in imported if m.startswith("symgrad.homework")} <= {"symgrad.homework.report"} | {
        f"symgrad.homework.report.{name}" for name in ("SLIPS", "TITLES", "title", "EntryVerdict", "FileReport", "KeyReport", "summary")}


def test_homework_imports_no_rich():
    code = ("import sys, pkgutil, importlib, symgrad.homework as h\n"
            "[importlib.import_module('symgrad.homework.' + n) for _, n, _ in pkgutil.iter_modules(h.__path__)]\n"
            "import json; print(json.dumps(sorted(m for m in sys.modules if m == 'rich' or m.startswith('rich.'))))")
    env = {**os.environ, "PYTHONPATH": str(ROOT.parent)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert json.loads(out) == []
    for name in HOMEWORK:
        assert not re.search(r"^\s*(from|import) rich\b", (ROOT / "homework" / f"{name}.py").read_text(encoding="utf-8"), re.M)


@pytest.mark.parametrize("name", HOMEWORK)
def test_no_eval_in_any_homework_module(name):
    import importlib

    source = inspect.getsource(importlib.import_module(f"symgrad.homework.{name}"))
    assert not re.search(r"(?<!re\.)\b(eval|exec|compile)\(", source)
    for forbidden in ("sympify", "parse_expr", "__import__", "literal_eval"):
        assert forbidden not in source, forbidden


@pytest.mark.parametrize("path", [f"homework/{name}.py" for name in HOMEWORK] + ["render/check.py", "render/check_text.py"])
def test_modules_stay_small(path):
    assert len((ROOT / path).read_text(encoding="utf-8").splitlines()) <= 420
