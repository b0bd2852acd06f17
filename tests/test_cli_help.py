"""What a new user meets first: --help and -h, --version, placeholders that say what they want, hints
for an option of the other layer kind, and a start-up that imports only what the command needs."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run

import symgrad

PACKAGE = Path(symgrad.__file__).resolve().parent
SEED = ["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2"]
PAGES = [[], ["conv"], ["convtranspose"], ["pool"], ["net"], ["animate"], ["animate", "conv"], ["animate", "pool"], ["animate", "net"], ["template"], ["template", "conv"], ["template", "convtranspose"], ["template", "pool"], ["template", "net"], ["check"]]


def options_of(page: str) -> str:
    return page[page.index("\nOptions:"):]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: " ".join(p) or "symgrad")
def test_dash_h_is_help_everywhere(page, capsys):
    code, long, err = run([*page, "--help"], capsys)
    assert code == 0 and err == "" and long.startswith(f"Usage: {' '.join(['symgrad', *page])} ")
    code, short, err = run([*page, "-h"], capsys)
    assert code == 0 and err == "" and short == long
    assert "-h, --help" in long


@pytest.mark.parametrize("page", PAGES, ids=lambda p: " ".join(p) or "symgrad")
def test_help_reads_well_at_80_columns(page, capsys):
    _, out, _ = run([*page, "--help"], capsys)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "<str>" not in out and "<list" not in out and "{" not in out  # typer's type names and braces
    for line in out.splitlines():
        assert not re.search(r"[a-z]-$", line), f"a word cut at its hyphen: {line!r}"
        assert not line.endswith("[default:"), f"a default cut in two: {line!r}"


def test_top_level_help_lists_every_command_in_full(capsys):
    _, out, _ = run(["--help"], capsys)
    commands = out[out.index("\nCommands:"):]
    assert "..." not in commands  # no description cut off
    for name, text in [("conv", "Convolution backprop"), ("pool", "pooling backprop"), ("check", "Judge answer files"),
                       ("template", "answer file")]:
        assert re.search(rf"^  {name} +.*{text}", commands, re.M), (name, commands)
    assert "--version" in out and "symgrad conv --input 5x5 --kernel 3x3 --stride 2" in out


def test_placeholders_say_what_they_want(capsys):
    _, conv, _ = run(["conv", "--help"], capsys)
    assert conv.startswith("Usage: symgrad conv --input SIZE --kernel SIZE [OPTIONS]\n")
    for option in ["--input SIZE", "--kernel SIZE", "--stride N", "--padding N", "--dilation N", "--in-channels N",
                   "--out-channels N", "--names LETTERS", "--show LIST", "--values FILE", "--format FORMAT",
                   "--max-terms N", "-o, --output FILE"]:
        assert f"\n  {option} " in conv, option
    _, pool, _ = run(["pool", "--help"], capsys)
    assert pool.startswith("Usage: symgrad pool --input SIZE --window SIZE [OPTIONS]\n")
    for option in ["--window SIZE", "--mode MODE", "--channels N", "--ties RULE"]:
        assert f"\n  {option} " in pool, option
    _, check, _ = run(["check", "--help"], capsys)
    assert check.startswith("Usage: symgrad check [OPTIONS] FILES...\n")
    assert "\n  FILES...  Answer files" in check
    for option in ["--problem FILE", "--tolerance NUMBER", "--format FORMAT"]:
        assert f"\n  {option} " in check, option
    _, template, _ = run(["template", "conv", "--help"], capsys)
    assert "\n  --ask LIST " in template and "\n  --student ID " in template


@pytest.mark.parametrize("kind", ["conv", "pool"])
def test_show_help_lists_the_sections_the_layer_has(kind, capsys):
    from symgrad.layers import KINDS

    _, out, _ = run([kind, "--help"], capsys)
    listed = re.search(r"--show LIST Sections to show \(all by default\), comma-separated: (.*?)\.", " ".join(out.split()))
    assert listed and tuple(listed.group(1).split(", ")) == KINDS[kind].sections


def test_template_pool_help_offers_only_what_pooling_accepts(capsys):
    _, out, _ = run(["template", "pool", "--help"], capsys)
    options = options_of(out)
    for foreign in ["--kernel", "--bias", "--groups", "--padding-mode", "--in-channels", "--loss", "grad-kernel", "grad-bias"]:
        assert foreign not in options, foreign
    assert "forward, grad-input" in options
    for own in ["--dilation", "--ceil-mode", "--no-count-include-pad", "--divisor", "--output-size"]:  # PyTorch's pooling options
        assert own in options, own
    _, conv, _ = run(["template", "conv", "--help"], capsys)
    assert "grad-kernel" in options_of(conv) and "--window" not in options_of(conv)


def test_version(capsys):
    code, out, err = run(["--version"], capsys)
    assert (code, out, err) == (0, f"symgrad {symgrad.__version__}\n", "")
    code, out, _ = run(["--version", "--debug"], capsys)  # --version takes no value: --debug is the option
    assert code == 0 and out == f"symgrad {symgrad.__version__}\n"


# An option of the other layer kind: (arguments, what the one error line must say)
OTHER_KIND = [
    (["pool", "--input", "4x4", "--kernel", "2x2"], ["No such option: --kernel", "--window", "symgrad pool --help"]),
    (["template", "pool", "--input", "4x4", "--kernel", "2x2"],
     ["No such option: --kernel", "--window", "symgrad template pool --help"]),
    (["conv", "--input", "5x5", "--window", "3x3"], ["No such option: --window", "--kernel", "symgrad conv --help"]),
    (["pool", "--input", "4x4", "--window", "2x2", "--in-channels", "2"], ["No such option: --in-channels", "--channels"]),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--channels", "2"], ["No such option: --channels", "--in-channels"]),
    (["template"], ["Missing command: one of conv, convtranspose, pool, net", "symgrad template --help"]),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--bogus", "1"], ["No such option: --bogus", "symgrad conv --help"]),
]


@pytest.mark.parametrize("args,parts", OTHER_KIND, ids=[" ".join(a) for a, _ in OTHER_KIND])
def test_usage_errors_say_what_to_use_instead(args, parts, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    for part in parts:
        assert part in err, (part, err)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "80"})


@pytest.mark.parametrize("args", [SEED, ["pool", "--input", "4x4", "--window", "2x2"], ["--help"], ["conv", "--help"],
                                  ["check", "--help"], ["conv", "--input", "5x5", "--bogus", "1"]],
                         ids=lambda a: " ".join(a))
def test_a_run_does_not_import_pydantic(args):
    """typer would coerce every option through pydantic (0.1 s of imports); the CLI's values are text and
    flags, handed on as they are. The command still runs and checks its options as before."""
    done = _python("import sys\nfrom symgrad.cli import main\ncode = main(%r)\n"
                   "print('imported:', sorted(m for m in ('pydantic', 'typer._adapters') if m in sys.modules))\n"
                   "sys.exit(code)" % (args,))
    assert done.returncode in (0, 2), done.stderr
    assert done.stdout.rstrip().endswith("imported: []"), done.stdout[-300:]


def test_the_cli_imports_rich_only_through_the_renderers():
    done = _python("import sys, symgrad.cli; print('rich' in sys.modules)")
    assert done.returncode == 0 and done.stdout == "False\n", done.stderr
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "render" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            offenders += [f"{path.name}: {name}" for name in names if name == "rich" or name.startswith("rich.")]
    assert offenders == []


def test_values_reach_the_command_unchanged(tmp_path, capsys):
    """Options are handed on as the text typed (no coercion): spaces, a leading zero, several files."""
    code, out, _ = run(["conv", "--input", " 3 ", "--kernel", "02", "--format", "json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert (data["input_shape"], data["kernel_shape"]) == ([1, 3], [1, 1, 2])
    code, _, err = run(["check", str(tmp_path / "a.toml"), str(tmp_path / "b.toml"), "--format", "json"], capsys)
    assert code == 2 and "a.toml" in err and "(and 1 more problem" in err


def test_help_and_usage_errors_do_not_load_numpy():
    """--help and a usage error read only the specs' text rules: numpy (0.1 s) waits for a layer to be built."""
    for args in (["--help"], ["pool", "--help"], ["conv", "--input", "5x5", "--bogus", "1"]):
        done = _python("import sys\nfrom symgrad.cli import main\ncode = main(%r)\nprint('numpy' in sys.modules)" % (args,))
        assert done.stdout.rstrip().endswith("False"), (args, done.stdout[-200:])
