"""The JSON contract (DESIGN §3) is fixed: graders parse it. Each configuration's `--format json` is
pinned byte for byte against the output recorded before the layer-model refactor (issue 12), and each
template, whose answer keys a grader reads back, likewise."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from symgrad.cli import main

HERE = Path(__file__).parent / "golden" / "contract"
CASES = [line.split("|", 1) for line in (HERE / "cases.txt").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name,args", CASES, ids=[name for name, _ in CASES])
def test_json_unchanged(name, args, tmp_path, monkeypatch):
    monkeypatch.chdir(HERE)
    out = tmp_path / "out.json"
    main([*shlex.split(args), "--format", "json", "-o", str(out)])
    assert out.read_text(encoding="utf-8") == (HERE / f"out_{name}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("name,args", CASES, ids=[name for name, _ in CASES])
def test_template_unchanged(name, args, tmp_path, monkeypatch):
    monkeypatch.chdir(HERE)
    out = tmp_path / "out.toml"
    main(["template", *shlex.split(args), "-o", str(out)])
    assert out.read_text(encoding="utf-8") == (HERE / f"out_{name}.toml").read_text(encoding="utf-8")
