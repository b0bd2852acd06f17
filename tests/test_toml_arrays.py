"""homework/toml_arrays.py: answer files' big arrays of strings read fast, to exactly what tomllib reads
(the same tables, or the same error), on the template's files, a class's files, hand-made corners and
a fuzzer's mutations of them."""

import random
import tomllib

import pytest

from symgrad.homework import toml_arrays
from symgrad.homework.toml_arrays import loads


def outcome(read, text):
    try:
        return "ok", read(text)
    except Exception as error:  # the same error, said the same way
        return type(error).__name__, str(error)


def flat(value) -> list:
    """A parsed document as a flat list (compared without recursing: tables may be a thousand deep)."""
    out, stack = [], [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            out.append(("{", len(node)))
            for key in sorted(node, reverse=True):
                stack += [node[key], key]
        elif isinstance(node, list):
            out.append(("[", len(node)))
            stack += reversed(node)
        else:
            out.append((type(node).__name__, node))
    return out


def same(text):
    ours, theirs = outcome(loads, text), outcome(tomllib.loads, text)
    if ours[0] == theirs[0] == "ok":
        assert flat(ours[1]) == flat(theirs[1]), text
    else:
        assert ours == theirs, text


def cut(text):
    """Whether loads read an array of text itself (tomllib then reads only the rest)."""
    seen = []
    real = tomllib.loads

    def spy(s):
        seen.append(s)
        return real(s)

    toml_arrays.tomllib.loads = spy
    try:
        outcome(loads, text)
    finally:
        toml_arrays.tomllib.loads = real
    return seen[-1] != text.replace("\r\n", "\n")


def test_template_files_are_read_fast_and_the_same():
    from typer.testing import CliRunner

    from symgrad.cli import app

    runner = CliRunner()
    for args in (["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2"],
                 ["conv", "--input", "6x6", "--kernel", "3x3", "--in-channels", "2", "--out-channels", "3", "--bias"],
                 ["pool", "--input", "4x4", "--window", "2x2"],
                 ["convtranspose", "--input", "3x3", "--kernel", "2x2", "--stride", "2"]):
        text = runner.invoke(app, ["template", *args]).output
        assert text.startswith("# symgrad answer file"), text[:200]
        filled = text.replace("''", "'x_1_1*dz_1_1 + x_1_2*dz_1_2'")
        for t in (text, filled, filled.replace("\n", "\r\n")):
            same(t)
            assert cut(t)
        assert loads(filled)["answer"] == tomllib.loads(filled)["answer"]


def test_a_class_of_files():
    """The benchmark's files: 4-D arrays on one line, LaTeX and plain answers, [problem.values]."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from bench_check import PROBLEMS, write_batch

    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for _, problem, values in PROBLEMS:
            for path in write_batch(folder, problem, values, 3):
                text = Path(path).read_text(encoding="utf-8")
                same(text)
                assert cut(text)


CORNERS = [
    "a = ['x', 'y']\n",
    "a = ['x', 'y',]\n",
    "a = [\n  'x',  # a comment with 'quotes' and \"more\" and [brackets],\n  'y', # another\n]\n",
    "a = []\n", "a = [ ]\n", "a = [\n]\n", "a = [,]\n", "a = [ , ]\n", "a = ['x',,]\n", "a = ['x' 'y']\n",
    "a = [['x'], 'y', [[]], []]\n", "a = [[['x', 'y'], ['z']], [['w']]]\n",
    "a = ['x'] # done\n", "a = ['x'] extra\n", "a = ['x']]\n", "a = [['x']\n", "a = ['x'\n",
    "a = ['x']\nb = ['y']\na = ['z']\n",  # a key twice
    "[t]\na = ['x']\n[t]\nb = ['y']\n",  # a table twice
    "a = ['x', 1]\n", "a = [1, 2]\n", "a = [true]\n", "a = [{b = 'x'}]\n", "a = {b = ['x']}\n",
    "a.b = ['x']\n", "'a' = ['x']\n", "\"a b\" = ['x']\n", "  a = ['x']\n", "a=['x']\n", "a\t=\t['x']\n",
    "[[t]]\na = ['x']\n[[t]]\na = ['y']\n",
    "a = ['it''s']\n", "a = ['x''']\n", "a = '''\nb = ['x']\n'''\n", 'a = """\nb = [\'x\']\n"""\n',
    "a = '''x'''\nb = ['y']\n", "a = ['''x''']\n",
    "a = [\"x\", 'y', \"it's\", 'say \"hi\"']\n", "a = [\"x\\\"y\"]\n", "a = [\"x\\ny\"]\n", "a = ['x\\ny']\n",
    "a = ['#not a comment', \"#nor\"]\n", "# a = ['x']\nb = ['y']\n", "a = [ # c\n'x' # d\n, # e\n'y']\n",
    "a = ['x\ty']\n", "a = ['x\x01y']\n", "a = ['x'] # c\x01\n", "a = ['x']\x7f\n", "a = ['x\ny']\n",
    "a = ['x']\r\nb = ['y']\r\n", "a = ['x']\n\r\r\n", "a = ['x']\rb = ['y']\n", "a = [\r\n'x',\r\n]\r\n",
    "a = ['αβγ ∂L/∂z₁₁ x₁₁·w₁₁']\n", "a = ['x']\nb = 'it's'\n", "a = ['x']\nb = \"\n", "a = [']\n",
    "a = [\"]\n", "a = ['x'] ['y']\n", "b = 1\na = ['x']\n[c]\nd = ['y', 'z']\n", "a = ['x']\n[a]\n",
    "a = 'x'\n", "a = [\n  ['x', 'y'],\n  ['z', 'w'],\n]\n[b]\nc = [['x']]\n",
    "student = \"s1\"\n[problem]\nlayer = 'conv'\n[problem.values]\ninput = [[1, 2], [3, 4]]\n[answer]\ngrad_input = [['a', 'b'], ['c', 'd']]\n",
    "a = " + "[" * 20 + "'x'" + "]" * 20 + "\n", "a = " + "[" * 400 + "'x'" + "]" * 400 + "\n",
    "a = " + "[" * 3000 + "\n", "a = [" * 30 + "\n",
]


@pytest.mark.parametrize("text", CORNERS)
def test_corners(text):
    same(text)


def test_the_fast_path_is_taken_where_it_should_be():
    assert cut("a = ['x', 'y']\n")
    assert cut("[answer]\ngrad_input = [\n  ['x', 'y'],  # c\n]\n")
    assert not cut("a = '''\nb = ['x']\n'''\n")  # a multi-line string: tomllib reads it all
    assert not cut("a = ['x\\ny']\n".replace("\\n", "\n"))


def test_a_placeholder_the_file_already_has(monkeypatch):
    """A file holding the random number chosen for the placeholders is read by tomllib whole."""
    monkeypatch.setattr(toml_arrays.secrets, "randbits", lambda bits: 123456789)
    text = "n = 1234567890000\nm = 1234567890001\na = ['x']\n"
    assert loads(text) == tomllib.loads(text)
    text = "n = 0x11f71fb0450\na = ['x']\n"  # 123456789 * 10_000 + 0, written in hex
    assert loads(text) == tomllib.loads(text) == {"n": 123456789 * 10_000, "a": ["x"]}


PIECES = ["'", '"', "#", "[", "]", ",", "\n", "\r", "\t", " ", "\\", "=", "x", "0", "\x01", "'''", "[a]", "a = ", "\r\n"]


def test_fuzz():
    """Random files built from arrays of strings, then mutated a few characters at a time."""
    rng = random.Random(2026)

    def value(depth):
        if depth and rng.random() < 0.4:
            items = [value(depth - 1) for _ in range(rng.randrange(4))]
        else:
            return rng.choice(["'x_1_1*dz_1_1'", "''", '"y"', "'a # b'", "\"it's\"", "'[,]'", "1", "true"])
        spaces = ["", " ", "\n", "  # c\n", "\t"]
        inner = ("," + rng.choice(spaces)).join(items) + rng.choice(["", ",", ", "]) if items else rng.choice(spaces)
        return "[" + rng.choice(spaces) + inner + rng.choice(spaces) + "]"

    for n in range(3000):
        lines = []
        for k in range(rng.randrange(1, 5)):
            if rng.random() < 0.2:
                lines.append(f"[t{k}]")
            lines.append(f"k{k} = {value(4)}" + rng.choice(["", " # end", "  "]))
        text = "\n".join(lines) + "\n"
        same(text)
        for _ in range(3):
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(PIECES) + text[at + rng.randrange(2):]
            same(text)


def test_found_by_review():
    """An adversarial review's cases: tables a thousand deep (tomllib builds them without recursing),
    and files whose cost grew with the square of their size (many arrays, many strings)."""
    for text in ("a" + ".a" * 999 + " = 1\nx = ['s']\n", "[" + ".".join(["a"] * 1000) + "]\nx = ['s']\n",
                 "[[" + ".".join(["a"] * 1000) + "]]\nx = ['s']\n"):
        same(text)
        assert cut(text)
    many = "".join(f"k{i} = ['x']\n" for i in range(3000)) + "big = [" + "'y', " * 50_000 + "]\n"
    same(many)
    data = loads(many)
    assert data["k2999"] == ["x"] and len(data["big"]) == 50_000
    outside = "".join(f"s{i} = 'x'\nk{i} = []\n" for i in range(3000)) + "t = {" + ", ".join(f"u{i} = 'v'" for i in range(20_000)) + "}\n"
    same(outside)
    same("p = [" + "1," * 100_000 + "]\n" + "".join(f"k{i} = []\n" for i in range(9_999)))  # (more arrays than placeholders)
    same("".join(f"k{i} = []\n" for i in range(20_000)))
