"""Every command and option with wrong input: exit 2, one clear line, no traceback, fast, no file touched.

"Fast" is counted, never timed (see conftest.counting_work): lines of symgrad run, Python calls,
layers and term tables built. The tables below are also timed as real processes by
benchmarks/bench_errors.py. Paths in arguments are written with {d}, the folder `make_bad_files`
fills with broken inputs.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from conftest import counting_poly_work, counting_work

import symgrad.files
from symgrad import cli
from symgrad.spec import CHECK_MAX_TERMS, ConvSpec, PoolSpec

CONV = ["conv", "--input", "5x5", "--kernel", "3x3"]
POOL = ["pool", "--input", "4x4", "--window", "2x2"]
T_CONV = ["template", "conv", "--input", "3x3", "--kernel", "2x2"]
T_POOL = ["template", "pool", "--input", "4x4", "--window", "2x2"]
GOOD = "{d}/good.toml"
# lines of symgrad's code a refused run may execute: showing the 5x5 layer before a write to /dev/full fails
# takes about 52,000 (measured 2026-11-30: the documents now carry final matrices and matrix equations); an
# -o that no file can be made beside is refused before any work (about 1,700). Trying what was refused (a
# giant layer, the mse JSON, expanding expected answers) takes millions.
REFUSAL_LINES = 80_000

# (arguments, a piece of the one error line). Every command, every option.
BAD = [
    # sizes: malformed, out of range, non-ASCII digits, axis counts, giant
    (["conv", "--input", "5x", "--kernel", "3"], "--input must be a size like 5, 5x5 or 3x5x5 with positive integers, got '5x'"),
    (["conv", "--input", "x5", "--kernel", "3"], "got 'x5'"),
    (["conv", "--input", "5xx5", "--kernel", "3x3"], "got '5xx5'"),
    (["conv", "--input", "", "--kernel", "3"], "--input must be a size like 5, 5x5 or 3x5x5 with positive integers, got ''"),
    (["conv", "--input", "5.0", "--kernel", "3"], "got '5.0'"),
    (["conv", "--input", "1e3", "--kernel", "3"], "got '1e3'"),
    (["conv", "--input", "+5", "--kernel", "3"], "got '+5'"),
    (["conv", "--input", "５x５", "--kernel", "3x3"], "got '５x５'"),
    (["conv", "--input", "٥", "--kernel", "3"], "got '٥'"),
    (["conv", "--input", "5*5", "--kernel", "3x3"], "got '5*5'"),
    (["conv", "--input", "0", "--kernel", "1"], "--input must have positive sizes, got '0'"),
    (["conv", "--input", "99999999999999999999", "--kernel", "3"], "got '99999999999999999999'"),
    (["conv", "--input", "5x5x5x5", "--kernel", "3"], "--input has more than 3 axes"),
    (["conv", "--input", "5x5", "--kernel", "3x3x3"], "--kernel '3x3x3' has 3 axes but --input '5x5' has 2"),
    (["conv", "--input", "5", "--kernel", "6"], "kernel 6 is larger than the padded input 5"),
    (["conv", "--input", "100000x100000", "--kernel", "5x5"], "layer too large"),
    (["conv", "--input", "999999999999x999999999999x999999999999", "--kernel", "1x1x1"], "layer too large"),
    (["conv", "--input", "50x50x50", "--kernel", "3x3x3", "--in-channels", "8", "--out-channels", "8"], "layer too large: about 192,989,440 product terms"),
    (["conv", "--input", "5x5", "--kernel", "3x3", "--padding", "99999999999"], "layer too large"),
    # stride, padding, dilation
    (CONV + ["--stride", "0"], "--stride must be a positive integer, got '0'"),
    (CONV + ["--stride", "1.5"], "--stride must be a positive integer, or one per axis like 2x2, got '1.5'"),
    (CONV + ["--stride", "2,2"], "got '2,2'"),
    (CONV + ["--stride", "２"], "got '２'"),
    (CONV + ["--stride", "2x2x2"], "--stride has 3 axes ('2x2x2') but the input has 2"),
    (CONV + ["--stride", "99999999999999999999999"], "--stride must be a positive integer"),
    (CONV + ["--padding", "-1"], "--padding must be a non-negative integer"),
    (CONV + ["--padding", "1x1x1"], "--padding has 3 axes"),
    (CONV + ["--dilation", "0"], "--dilation must be a positive integer"),
    (CONV + ["--dilation", "3"], "kernel 3x3 with dilation 3 spans 7"),
    (CONV + ["--dilation", "99999999999999"], "--dilation must be a positive integer"),
    # channels
    (CONV + ["--in-channels", "0"], "--in-channels must be a positive integer, got '0'"),
    (CONV + ["--in-channels", "-2"], "--in-channels must be a positive integer, got '-2'"),
    (CONV + ["--in-channels", "1.0"], "got '1.0'"),
    (CONV + ["--out-channels", "two"], "--out-channels must be a positive integer, got 'two'"),
    (CONV + ["--out-channels", "99999999999999999999"], "--out-channels must be a positive integer"),
    (CONV + ["--in-channels", "100000", "--out-channels", "100000"], "layer too large"),
    # choices
    (CONV + ["--loss", "l1"], "--loss must be one of generic, sum, mse, got 'l1'"),
    (CONV + ["--loss", "MSE"], "got 'MSE'"),
    (CONV + ["--index", "diagonal"], "--index must be one of flat, matrix, got 'diagonal'"),
    (CONV + ["--format", "xml"], "--format must be one of text, json, latex, markdown, got 'xml'"),
    (CONV + ["--format", ""], "--format must be one of text, json, latex, markdown, got ''"),
    (CONV + ["--show", "everything"], "--show got 'everything'; expected a comma-separated list of"),
    (CONV + ["--show", ",,"], "--show got ',,'"),
    (CONV + ["--show", "grad-bias"], "--show grad-bias needs --bias"),
    (CONV + ["--fragment"], "--fragment only applies to --format latex"),
    (CONV + ["--max-terms", "0"], "--max-terms must be a positive integer, got '0'"),
    (CONV + ["--max-terms", "1e9"], "got '1e9'"),
    (CONV + ["--max-terms", "１０"], "got '１０'"),
    (CONV + ["--max-terms", "10"], "layer too large: about 124 product terms"),
    # names: letters only, never TeX, never a function name, never clashing
    (CONV + ["--names", "a,b"], "--names must be three comma-separated letters"),
    (CONV + ["--names", "\\input{/etc/passwd},w,z"], "--names must be three comma-separated letters"),
    (CONV + ["--names", "\\write18{rm},w,z"], "--names must be three comma-separated letters"),
    (CONV + ["--names", "x$,w,z"], "--names must be three comma-separated letters"),
    (CONV + ["--names", "é,w,z"], "--names must be three comma-separated letters"),
    (CONV + ["--names", "x,w,z,"], "--names must be three comma-separated letters"),
    (CONV + ["--names", "abcdefghi,w,z"], "--names must be three comma-separated letters"),
    (CONV + ["--names", "x,Max,z"], "uses a function name"),
    (CONV + ["--names", "x,x,z"], "--names 'x,x,z' clashes"),
    (CONV + ["--names", "x,dz,z"], "clashes"),
    (CONV + ["--names", "b,w,z", "--bias"], "clashes"),
    # usage
    (["conv", "--kernel", "3x3"], "Missing option '--input'"),
    (CONV + ["--stride"], "Option '--stride' requires an argument"),
    (CONV + ["--bogus", "1"], "No such option: --bogus"),
    (CONV + ["extra"], "Got unexpected extra argument"),
    (["frobnicate"], "No such command 'frobnicate'"),
    # values files
    (CONV + ["--values", "{d}/missing.json"], "values file '{d}/missing.json' does not exist"),
    (CONV + ["--values", "{d}"], "values file '{d}' is a directory"),
    (CONV + ["--values", "{d}/binary.bin"], "is not UTF-8 text"),
    (CONV + ["--values", "{d}/latin1.json"], "is not UTF-8 text (byte 0xe9"),
    (CONV + ["--values", "{d}/utf16.json"], "is not UTF-8 text (byte 0xff at offset 0)"),
    (CONV + ["--values", "{d}/empty.json"], "is not valid JSON"),
    (CONV + ["--values", "{d}/huge.json"], "is larger than 1.0 MB"),
    (CONV + ["--values", "{d}/deep.json"], "is nested too deeply"),
    (CONV + ["--values", "{d}/truncated.json"], "is not valid JSON"),
    (CONV + ["--values", "{d}/list.json"], "must hold a JSON object"),
    (CONV + ["--values", "{d}/nan.json"], "NaN"),
    (CONV + ["--values", "{d}/inf.json"], "not a finite number"),
    (CONV + ["--values", "{d}/bigint.json"], "too large"),
    (CONV + ["--values", "{d}/string.json"], 'kernel[0][0] is "nine", not a number'),
    (CONV + ["--values", "{d}/bool.json"], "kernel[0][0]"),
    (CONV + ["--values", "{d}/null.json"], "kernel[0][0]"),
    (CONV + ["--values", "{d}/shape.json"], '"kernel" must be nested like 3x3'),
    (CONV + ["--values", "{d}/extra.json"], '"weights"'),
    (CONV + ["--values", "{d}/dupkey.json"], 'has the key "kernel" twice'),
    (CONV + ["--values", "{d}/bias.json"], '"bias" is given but the layer has no bias (add --bias)'),
    (CONV + ["--values", "{d}/fifo"], "is a pipe with nothing written to it"),
    (CONV + ["--values", "{d}/unreadable.json"], "cannot be read (permission denied)"),
    # -o: never a folder, a missing folder, an input file
    (CONV + ["-o", "{d}/no-such-folder/out.txt"], "folder '{d}/no-such-folder' does not exist"),
    (CONV + ["-o", "{d}"], "is a directory; expected a file path"),
    (CONV + ["-o", "{d}/new-folder/"], "ends with '/', so it names a folder"),
    (CONV + ["-o", ""], "-o got an empty path"),
    (CONV + ["-o", "/proc/version"], "-o '/proc/version' cannot be written"),
    (CONV + ["-o", "/dev/full"], "-o '/dev/full' cannot be written: No space left on device"),
    (CONV + ["--values", "{d}/values.json", "-o", "{d}/values.json"], "is the --values file; writing there would destroy it"),
    # pool
    (["pool", "--window", "2x2"], "Missing option '--input'"),
    (POOL[:3], "--window is needed (or --output-size for adaptive pooling)"),
    (["pool", "--input", "4x4", "--window", "0x2"], "--window must have positive sizes, got '0x2'"),
    (["pool", "--input", "4x4", "--window", "2"], "--window '2' has 1 axis but --input '4x4' has 2"),
    (["pool", "--input", "4x4", "--window", "5x5"], "window 5x5 is larger than the padded input 4x4"),
    (["pool", "--input", "99999x99999", "--window", "2x2"], "layer too large"),
    (POOL + ["--stride", "0"], "--stride must be a positive integer, got '0'"),
    (POOL + ["--stride", "3x3x3"], "--stride has 3 axes"),
    (POOL + ["--padding", "2"], "--padding 2x2 is more than half the window 2x2"),
    (POOL + ["--mode", "min"], "--mode must be one of max, avg, got 'min'"),
    (POOL + ["--ties", "last"], "--ties must be one of first, split, got 'last'"),
    (POOL + ["--channels", "0"], "--channels must be a positive integer, got '0'"),
    (POOL + ["--channels", "99999999999999999999"], "--channels must be a positive integer"),
    (POOL + ["--index", "x"], "--index must be one of flat, matrix, got 'x'"),
    (POOL + ["--names", "a"], "--names for pooling must be two comma-separated letters"),
    (POOL + ["--names", "\\input,y"], "--names for pooling must be two comma-separated letters"),
    (POOL + ["--names", "x,x"], "clashes"),
    (POOL + ["--names", "Max,y"], "uses a function name"),
    (POOL + ["--show", "grad-kernel"], "--show got 'grad-kernel'"),
    (POOL + ["--format", "pdf"], "--format must be one of text, json, latex, markdown, got 'pdf'"),
    (POOL + ["--fragment"], "--fragment only applies to --format latex"),
    (POOL + ["--max-terms", "3"], "layer too large: about 36 terms"),
    (POOL + ["--max-terms", "-1"], "--max-terms must be a positive integer, got '-1'"),
    (POOL + ["--kernel", "3x3"], "No such option: --kernel"),
    (POOL + ["--groups", "2"], "No such option: --groups"),
    (POOL + ["--dilation", "2", "--mode", "avg"], "--dilation 2 is for max pooling; PyTorch's average pooling has no dilation"),
    (POOL + ["--divisor", "3"], "--divisor is for average pooling (--mode avg); max pooling divides nothing"),
    (POOL + ["--no-count-include-pad"], "--no-count-include-pad is for average pooling (--mode avg)"),
    (POOL + ["--mode", "avg", "--divisor", "0"], "--divisor must be a positive integer, got '0'"),
    (POOL + ["--output-size", "2x2"], "--output-size (adaptive pooling) sets every window itself; leave out --window"),
    (["pool", "--input", "4x4", "--output-size", "9x9"], "--output-size '9x9' is larger than the input '4x4' along the height axis; expected at most 4 outputs there"),
    (["pool", "--input", "4x4", "--output-size", "2"], "--output-size '2' has 1 axis but --input '4x4' has 2"),
    (POOL + ["--dilation", "4"], "window 2x2 with dilation 4 spans 5 and is larger than the padded input 4x4"),
    (["conv", "--input", "4x4", "--kernel", "2x2", "--padding", "same", "--stride", "2"], "--padding same needs stride 1 (PyTorch's rule)"),
    (["conv", "--input", "3x3", "--kernel", "2x2", "--padding", "3", "--padding-mode", "reflect"], "--padding-mode reflect needs padding smaller than the input"),
    (["conv", "--input", "4x4", "--kernel", "2x2", "--in-channels", "3", "--groups", "2"], "--groups 2 must divide both --in-channels 3 and --out-channels 1"),
    (POOL + ["--values", "{d}/missing.json"], "values file '{d}/missing.json' does not exist"),
    (POOL + ["--values", "{d}/kernel.json"], '"kernel" is given but a pooling layer has no kernel'),
    (POOL + ["--values", "{d}/fifo"], "is a pipe with nothing written to it"),
    (POOL + ["-o", "{d}/no-such-folder/out.txt"], "does not exist"),
    (POOL + ["--values", "{d}/values.json", "-o", "{d}/values.json"], "is the --values file"),
    # template
    (["template"], "Missing command"),
    (["template", "dense"], "No such command 'dense'"),
    (["template", "conv", "--kernel", "2x2"], "Missing option '--input'"),
    (T_CONV + ["--stride", "0"], "--stride must be a positive integer, got '0'"),
    (["template", "conv", "--input", "3x9999999", "--kernel", "2x2"], "layer too large"),
    (T_CONV + ["--ask", "bogus"], "--ask got 'bogus'; expected a comma-separated list of: forward, grad-kernel, grad-input"),
    (T_CONV + ["--ask", ""], "--ask got ''"),
    (T_CONV + ["--ask", "grad-bias"], "--ask got 'grad-bias'"),
    (T_POOL + ["--ask", "grad-kernel"], "--ask got 'grad-kernel'; expected a comma-separated list of: forward, grad-input"),
    (T_CONV + ["--student", "ann\nbob"], '--student "ann\\u000abob" contains a control character; expected a plain id'),
    (T_CONV + ["--student", "x" * 300], "--student is 300 characters long; expected a plain id of at most 200"),
    (T_CONV + ["--student", "a\x1b[31mb"], "contains a control character"),
    (T_CONV + ["--format", "json"], "No such option: --format"),
    (T_CONV + ["--values", "{d}/binary.bin"], "is not UTF-8 text"),
    (T_CONV + ["--values", "{d}/shape.json"], '"kernel" must be nested like 2x2'),
    (T_POOL + ["--values", "{d}/fifo"], "is a pipe with nothing written to it"),
    (T_CONV + ["-o", "{d}"], "is a directory"),
    (T_CONV + ["--values", "{d}/values.json", "-o", "{d}/values.json"], "is the --values file"),
    # check: options, and files that stop the whole run before anything is judged
    (["check"], "Missing argument 'files'"),
    (["check", GOOD, "--format", "xml"], "--format must be one of text, json, gradescope, markdown, got 'xml'"),
    (["check", GOOD, "--format", "latex"], "--format must be one of text, json, gradescope, markdown, got 'latex'"),
    (["check", GOOD, "--tolerance", "nan"], "--tolerance must be a number from 0 to below 1, like 1e-6 or 0.005; got 'nan'"),
    (["check", GOOD, "--tolerance", "-1"], "got '-1'"),
    (["check", GOOD, "--tolerance", "1e999"], "got '1e999'"),
    (["check", GOOD, "--tolerance", "０.１"], "got '０.１'"),
    (["check", GOOD, "--max-terms", "0"], "--max-terms must be a positive integer"),
    (["check", GOOD, "--problem", "{d}/missing.toml"], "--problem {d}/missing.toml: does not exist"),
    (["check", GOOD, "--problem", "{d}/broken.toml"], "--problem {d}/broken.toml: is not valid TOML"),
    (["check", GOOD, "--problem", "{d}/binary.bin"], "--problem {d}/binary.bin: is a binary file"),
    (["check", GOOD, "--problem", "{d}/fifo"], "--problem {d}/fifo: is not a regular file"),
    (["check", GOOD, "--problem", "{d}/giant.toml"], "layer too large"),
    (["check", GOOD, "-o", GOOD], "-o '{d}/good.toml' is the answer file '{d}/good.toml'; writing there would destroy it"),
    (["check", GOOD, "--problem", "{d}/good2.toml", "-o", "{d}/good2.toml"], "is the --problem file"),
    (["check", GOOD, "-o", "{d}/no-such-folder/report.json"], "does not exist"),
    (["check", GOOD, "-o", "{d}/"], "is a directory"),
]

# answer files that cannot be judged: the run goes on (other files are judged, the report is written, so
# Gradescope can show the student why) and ends with exit 2 and one line per problem naming the file
UNUSABLE = [
    ("missing.toml", "does not exist; expected a TOML answer file"),
    ("", "is a directory; expected a TOML answer file"),
    ("fifo", "is not a regular file (a pipe or a device)"),
    ("binary.bin", "is a binary file (it contains NUL bytes)"),
    ("latin1.toml", "is not UTF-8 text"),
    ("utf16.json", "is a binary file"),
    ("big.toml", "is larger than 1 MB"),
    ("unreadable.toml", "cannot be read (permission denied)"),
    ("empty.toml", "has no [problem] table"),
    ("broken.toml", "is not valid TOML"),
    ("dupkey.toml", "is not valid TOML"),
    ("dotted.toml", "dotted key"),
    ("student.toml", "student must be a string"),
    ("layer.toml", '[problem] layer must be "conv", "pool", "convtranspose" or "net", got "dense"'),
    ("option.toml", '[problem] has the unknown key "format"'),
    ("stride.toml", "[problem] stride must be a positive integer, got '0'"),
    ("floatstride.toml", "[problem] stride must be a string or a whole number, got a number"),
    ("giant.toml", "layer too large"),
    ("badvalues.toml", "[problem.values]"),
    ("answerkey.toml", '[answer] has the unknown key "weights"'),
    ("scalar.toml", '"grad_kernel" must be nested like'),
    ("ragged.toml", "grad_kernel[1] has 1 entry"),
    ("table.toml", "grad_kernel[1][1] is an object"),
    ("date.toml", "grad_kernel[1][1] is a TOML date"),
    ("nan.toml", "grad_kernel[1][1] is nan, not a finite number"),
    ("tex.toml", "\\input"),
    ("write18.toml", "unknown LaTeX command \"\\write\""),
    ("bomb.toml", "at most 64 is allowed"),
    ("unknown-name.toml", 'unknown name "q_1_1"'),
]

PROBLEM = 'student = "s"\n[problem]\nlayer = "conv"\ninput = "3x3"\nkernel = "2x2"\n'


def make_bad_files(d: Path) -> None:
    """Fill folder d with every broken input the tables name."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "binary.bin").write_bytes(b"\x00\x01\x02\xff\xfe")
    (d / "latin1.json").write_bytes('{"kernel": "é"}'.encode("latin-1"))
    (d / "latin1.toml").write_bytes('student = "é"\n'.encode("latin-1"))
    (d / "utf16.json").write_text('{"kernel": 1}', encoding="utf-16")
    (d / "empty.json").write_text("")
    with open(d / "huge.json", "wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: costs no disk
    (d / "big.toml").write_text("# " + "x" * (1024 * 1024) + "\n")
    (d / "deep.json").write_text('{"kernel": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (d / "truncated.json").write_text('{"kernel": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]')
    (d / "list.json").write_text("[1, 2]")
    (d / "nan.json").write_text('{"kernel": [[1, 2, 3], [4, 5, 6], [7, 8, NaN]]}')
    (d / "inf.json").write_text('{"kernel": [[1e400, 2, 3], [4, 5, 6], [7, 8, 9]]}')
    (d / "bigint.json").write_text('{"kernel": [[' + "9" * 5000 + ', 2, 3], [4, 5, 6], [7, 8, 9]]}')
    (d / "string.json").write_text('{"kernel": [["nine", 2, 3], [4, 5, 6], [7, 8, 9]]}')
    (d / "bool.json").write_text('{"kernel": [[true, 2, 3], [4, 5, 6], [7, 8, 9]]}')
    (d / "null.json").write_text('{"kernel": [[null, 2, 3], [4, 5, 6], [7, 8, 9]]}')
    (d / "shape.json").write_text('{"kernel": [[1, 2], [3, 4], [5, 6], [7, 8]]}')
    (d / "extra.json").write_text('{"weights": [[1]]}')
    (d / "dupkey.json").write_text('{"kernel": [[1]], "kernel": [[2]]}')
    (d / "bias.json").write_text('{"bias": [1]}')
    (d / "kernel.json").write_text('{"kernel": [[1]]}')
    (d / "values.json").write_text('{"input": [[1, 2], [3, 4]]}')
    (d / "unreadable.json").write_text("{}")
    (d / "unreadable.toml").write_text(PROBLEM)
    if not (d / "fifo").exists():
        os.mkfifo(d / "fifo")
    good = PROBLEM + '[answer]\ngrad_kernel = [["x_1_1*dz_1_1", "0"], ["0", "0"]]\n'
    (d / "good.toml").write_text(good)
    (d / "good2.toml").write_text(good)
    (d / "empty.toml").write_text("")
    (d / "broken.toml").write_text('student = "a"\n[problem\n')
    (d / "dupkey.toml").write_text(PROBLEM + "input = \"4x4\"\n")
    (d / "dotted.toml").write_text(PROBLEM + "[answer]\n" + ".".join(["a"] * 40) + " = 1\n")
    (d / "student.toml").write_text(PROBLEM.replace('student = "s"', "student = [5]"))
    (d / "layer.toml").write_text('[problem]\nlayer = "dense"\n[answer]\n')
    (d / "option.toml").write_text(PROBLEM + 'format = "latex"\n[answer]\n')
    (d / "stride.toml").write_text(PROBLEM + 'stride = "0"\n[answer]\n')
    (d / "floatstride.toml").write_text(PROBLEM + "stride = 1.5\n[answer]\n")
    (d / "giant.toml").write_text(PROBLEM.replace('"3x3"', '"9999x9999"') + "[answer]\n")
    (d / "badvalues.toml").write_text(PROBLEM + '[problem.values]\ninput = "abc"\n[answer]\n')
    answer = PROBLEM + "[answer]\n"
    (d / "answerkey.toml").write_text(answer + "weights = [[1, 2], [3, 4]]\n")
    (d / "scalar.toml").write_text(answer + 'grad_kernel = "x_1_1"\n')
    (d / "ragged.toml").write_text(answer + "grad_kernel = [[1, 2], [3]]\n")
    (d / "table.toml").write_text(answer + "grad_kernel = [[1, 2], [3, {a = 1}]]\n")
    (d / "date.toml").write_text(answer + "grad_kernel = [[1, 2], [3, 1970-01-01]]\n")
    (d / "nan.toml").write_text(answer + "grad_kernel = [[1, 2], [3, nan]]\n")
    (d / "tex.toml").write_text(answer + "grad_kernel = [['\\input{/etc/passwd}', '0'], ['0', '0']]\n")
    (d / "write18.toml").write_text(answer + "grad_kernel = [['\\write18{rm -rf ~}', '0'], ['0', '0']]\n")
    (d / "bomb.toml").write_text(answer + "grad_kernel = [['9**9**9**9', '0'], ['0', '0']]\n")
    (d / "unknown-name.toml").write_text(answer + "grad_kernel = [['q_1_1', '0'], ['0', '0']]\n")


def unreadable(real_open):
    """An `open` that refuses files named unreadable.* (chmod 000 does not stop root)."""

    def refuse(path, *args, **kwargs):
        if Path(str(path)).name.startswith("unreadable."):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    return refuse


@pytest.fixture(scope="module")
def d(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    make_bad_files(folder)
    return folder


@pytest.fixture(autouse=True)
def no_reading_unreadable(monkeypatch):
    monkeypatch.setattr(symgrad.files, "open", unreadable(open), raising=False)


def fill(args, d: Path) -> list[str]:
    return [a.replace("{d}", str(d)) for a in args]


def run(args, capsys, build=True, max_symbols=None, max_lines=None):
    """Exit code, stdout, stderr and the Work done (see conftest.counting_work for the options)."""
    with counting_work(build=build, max_symbols=max_symbols, max_lines=max_lines) as work:
        code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err, work


def spec_of(args):
    """The layer of a conv/pool command line, from its options."""
    options = {key.lstrip("-"): value for key, value in zip(args[1::2], args[2::2])}
    if args[0] == "pool":
        return PoolSpec.build(options["input"], options["window"], options.get("stride"), options.get("padding", 0),
                              options.get("mode", "max"))
    return ConvSpec.build(options["input"], options["kernel"], options.get("stride", 1), options.get("padding", 0),
                          options.get("dilation", 1))


def _ids(table):
    return [" ".join(a)[:70] for a, _ in table]


@pytest.mark.parametrize("args, message", BAD, ids=_ids(BAD))
def test_bad_input_is_one_clear_line(args, message, d, capsys):
    refused_from_the_estimate = "layer too large" in message  # so no layer may be built
    code, out, err, work = run(fill(args, d), capsys, build=not refused_from_the_estimate, max_lines=REFUSAL_LINES)
    assert code == 2, err
    assert out == ""
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert message.replace("{d}", str(d)) in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert work.lines <= REFUSAL_LINES, work  # bench_errors.py measures the real times


WITH_OUTPUT = [(a, m) for a, m in BAD if "-o" not in a and a[0] in ("conv", "pool", "check", "template") and len(a) > 2]


@pytest.mark.parametrize("args, message", WITH_OUTPUT, ids=_ids(WITH_OUTPUT))
def test_a_failed_run_never_touches_the_output_file(args, message, d, tmp_path, capsys):
    """An existing -o file keeps its bytes and its time stamp; a new one is never created."""
    existing = tmp_path / "report.txt"
    existing.write_text("precious")
    before = existing.stat()
    code, _, err, _ = run(fill(args, d) + ["-o", str(existing)], capsys)
    assert code == 2, err
    assert existing.read_text() == "precious" and existing.stat().st_mtime_ns == before.st_mtime_ns
    fresh = tmp_path / "fresh.txt"
    code, _, _, _ = run(fill(args, d) + ["-o", str(fresh)], capsys)
    assert code == 2 and not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]  # no temporary file left behind


@pytest.mark.parametrize("name, message", UNUSABLE, ids=[n or "folder" for n, _ in UNUSABLE])
def test_unusable_answer_file(name, message, d, tmp_path, capsys):
    path = str(d / name) if name else str(d)
    report = tmp_path / "report.json"
    code, out, err, work = run(["check", path, fill([GOOD], d)[0], "--format", "json", "-o", str(report)], capsys,
                               max_symbols=3 * CHECK_MAX_TERMS, max_lines=REFUSAL_LINES)  # (what check's budget admits)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines and all(line.startswith(f"Error: {path}: ") for line in lines), err
    assert message in err and "Traceback" not in err and "internal error" not in err
    data = json.loads(report.read_text())  # the report is complete: the good file is judged, the bad one named
    statuses = {f["file"]: f["status"] for f in data["files"]}
    assert statuses[path] == "error" and statuses[fill([GOOD], d)[0]] == "wrong"
    assert work.lines <= REFUSAL_LINES, work


def test_interrupted_is_quiet(monkeypatch, capsys):
    from symgrad.layers import conv

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(conv, "derive_conv", interrupt)
    code, out, err, _ = run(CONV, capsys)
    assert code == 130 and out == "" and err.count("\n") <= 1 and "Traceback" not in err


@pytest.mark.parametrize("columns", ["0", "²", "-5", "abc", "99999"])
def test_odd_terminal_width_never_crashes(columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", columns)
    code, out, err, _ = run(CONV + ["--stride", "2"], capsys)
    assert code == 0 and err == "" and "✓ dL/dX" in out


def test_max_pool_template_with_a_window_of_one_real_cell(tmp_path, capsys):
    """Found by the property tests: a window holding one input cell and padding crashed the template
    (its example used the padding cell's indicator); the JSON wrote dy_1*1 for that cell."""
    layer = ["--input", "3", "--window", "2", "--stride", "1", "--padding", "1"]
    code, template, err, _ = run(["template", "pool", *layer], capsys)
    assert code == 0 and err == "" and "'Heaviside(x_1 - x_2)*dy_2'" in template
    code, out, _, _ = run(["pool", *layer, "--format", "json"], capsys)
    grad = json.loads(out)["grad_input"][0]
    assert grad == ["dy_1 + dy_2*Heaviside(x_1 - x_2)", "dy_2*Heaviside(x_2 - x_1) + dy_3*Heaviside(x_2 - x_3)",
                    "dy_3*Heaviside(x_3 - x_2) + dy_4"]
    answers = tmp_path / "a.toml"
    answers.write_text(template.replace("grad_input = ['', '', '']", "grad_input = " + json.dumps(grad)))
    code, out, err, _ = run(["check", str(answers), "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["files"][0]["score"] == 3


# --- text from users reaching Markdown, LaTeX and Gradescope: escaped, never markup

CRAFTED = [
    "\\input{/etc/passwd}",
    "\\immediate\\write18{rm -rf ~}",
    "^^5cinput{/etc/passwd}",  # TeX's ^^ notation for a backslash
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1)) ![x](http://evil/x.png)",
    "**bold** _em_ `code` ~~gone~~ $x^2$ {math}`x`",
    "# heading | a | b |",
    "a & b % c # d ~ e",
    "&lt;entity&gt; &amp;",
]


def test_markdown_report_escapes_everything_from_the_files(d, tmp_path, capsys):
    """Rendered with markdown-it (CommonMark + tables, what MyST and GitHub build on), the report of files
    with crafted student ids, answers and file names has no HTML, link, image or emphasis from them,
    and every table row keeps its five cells."""
    from markdown_it import MarkdownIt

    paths = []
    for i, text in enumerate(CRAFTED):
        path = tmp_path / f"{i}`|*<b>.toml"
        path.write_text(PROBLEM.replace('student = "s"', f"student = {json.dumps(text)}")
                        + f"[answer]\ngrad_kernel = [[{json.dumps(text)}, 'x_1_1*dz_1_1'], ['0', '0']]\n")
        paths.append(str(path))
    code, out, err, _ = run(["check", *paths, "--format", "markdown", "--full"], capsys)
    assert code == 2 and err.count("\n") == 1  # the first problem, and how many more the report lists
    assert f"(and {len(CRAFTED) - 1} more problems in {len(CRAFTED)} files; the report lists them all)" in err
    html = MarkdownIt("commonmark").enable("table").render(out)
    for tag in ("<script", "<img", "<a ", "<strong>", "<em>", "<del>", "<h1>heading"):
        assert tag not in html, tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "\\input{/etc/passwd}" in html
    rows = [line for line in html.splitlines() if line.startswith("<tr>")]
    table = html[html.index("<table>"):html.index("</table>")]
    assert table.count("<tr>") == len(CRAFTED) + 1 and table.count("<td") == 5 * len(CRAFTED), rows


def test_gradescope_output_is_plain_text(d, capsys):
    code, out, _, _ = run(["check", fill([GOOD], d)[0], "--format", "gradescope"], capsys)
    data = json.loads(out)
    assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"


def test_latex_text_is_inert(tmp_path):
    """Text escaped by latex_text (every user-visible string the documents print goes through it)
    compiles without shell escape and prints literally: no \\input, no \\write18, no ^^ trick."""
    import shutil
    import subprocess

    from symgrad.render.tex import latex_text

    for text in CRAFTED:
        escaped = latex_text(text)
        assert "\\input" not in escaped and "\\write18" not in escaped and "^^" not in escaped
        assert all(f"\\{ch}" in escaped for ch in "%#&$" if ch in text)
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-base texlive-latex-recommended)")
    body = "\n\n".join(latex_text(text) for text in CRAFTED)
    (tmp_path / "t.tex").write_text("\\documentclass{article}\n\\begin{document}\n" + body + "\n\\end{document}\n")
    done = subprocess.run([pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    if shutil.which("pdftotext"):
        subprocess.run(["pdftotext", "t.pdf", "t.txt"], cwd=tmp_path, check=True, timeout=60)
        printed = " ".join((tmp_path / "t.txt").read_text().split())
        assert "\\input{/etc/passwd}" in printed and "root:" not in printed  # /etc/passwd was not read
        assert "^^5cinput" in printed.replace("ˆˆ", "^^")


@pytest.mark.parametrize("nesting, index", [
    ('[["0", "0"], ["0", "q_1"]]', "[1][1]"),  # 2x2: both size-1 channel levels left out
    ('[["0", "0"], ["0", "q_1"]]]', None),  # malformed TOML: no entry index
    ('[[["0", "0"], ["0", "q_1"]]]', "[0][1][1]"),  # one level kept
    ('[[[["0", "0"], ["0", "q_1"]]]]', "[0][0][1][1]"),  # the full shape
])
def test_error_lines_index_entries_as_the_file_nests_them(nesting, index, tmp_path, capsys):
    path = tmp_path / "a.toml"
    path.write_text(PROBLEM + f"[answer]\ngrad_kernel = {nesting}\n")
    code, _, err, _ = run(["check", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1
    if index is not None:
        assert f"answer.grad_kernel{index}: unknown name \"q_1\"" in err, err


# --- found by the adversarial review: each was a crash, minutes, or gigabytes before


def test_huge_exact_fractions_are_one_line(tmp_path, capsys):
    import sympy

    primes = [10**17]
    while len(primes) < 289:  # distinct 18-digit denominators: dL/dw's exact sum has thousands of digits
        primes.append(int(sympy.nextprime(primes[-1])))
    values = {"input": [[f"1/{primes[1 + 12 * i + j]}" for j in range(12)] for i in range(12)],
              "grad_output": [[f"1/{primes[145 + 12 * i + j]}" for j in range(12)] for i in range(12)]}
    (tmp_path / "v.json").write_text(json.dumps(values))
    code, _, err, _ = run(["conv", "--input", "12x12", "--kernel", "1x1", "--values", str(tmp_path / "v.json")], capsys)
    assert code == 2 and err.count("\n") == 1 and "the fractions' common denominator has over" in err


@pytest.mark.parametrize("redirect, message", [(">/dev/full", "cannot write to standard output: No space left on device"),
                                                (">&-", "cannot write to standard output: it is closed"),
                                                ("2>&-", None)])
def test_standard_streams_that_cannot_be_written(redirect, message):
    import subprocess
    import sys

    args = "conv --input 3x3 --kernel 2x2" if message else "conv --input bad --kernel 2x2"
    done = subprocess.run(["bash", "-c", f"{sys.executable} -m symgrad {args} {redirect}"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    if message:
        assert done.stderr == f"Error: {message}; use -o FILE\n"


@pytest.mark.parametrize("args", [
    ["conv", "--input", "100000", "--kernel", "1", "--stride", "100000"],  # matrices cut to the terminal: was quadratic
    ["conv", "--input", "20000", "--kernel", "1", "--format", "latex"],
    ["conv", "--input", "6000", "--kernel", "2", "--dilation", "5999", "--format", "json"],  # was 1.2 GB
    ["conv", "--input", "100x100", "--kernel", "100x100", "--padding", "50", "--stride", "100", "--format", "json"],  # 13 GB
    pytest.param(["pool", "--input", "80x80", "--window", "80x80", "--format", "markdown"],  # 6,399 other cells named
                 marks=pytest.mark.slow),  # per cell: 25 s; now about 1 s, 2 to 3 s with the calls counted
])
def test_layers_under_the_estimate_stay_cheap(args, tmp_path, capsys):
    code, _, err, work = run(args + ["-o", str(tmp_path / "out")], capsys)
    assert code == 0 and err == ""
    # the work stays proportional to the estimate the budget checks: the term tables cost about the
    # estimate, the text a few dozen calls per term or entry at most (bench_conv.py has the times)
    estimate = spec_of(args).estimated_terms
    assert work.products <= 2 * estimate and work.calls <= 50 * estimate, (work, estimate)


def test_sparse_closed_forms_hold_for_huge_dilation_and_kernels():
    from symgrad import api

    for layer in (dict(input="6000", kernel="2", dilation=5999), dict(input="100x100", kernel="100x100", padding=50, stride=100)):
        d = api.conv(**layer)
        assert d.all_hold and max(len(i.computed) for i in d.identities) <= 2 * len(d.grad_kernel) + len(d.grad_input)


@pytest.mark.parametrize("args, message", [
    (["pool", "--input", "80x80", "--window", "80x80", "--format", "json"], "about 40,960,000 names, over the limit of 2,000,000"),
    (["template", "pool", "--input", "30x30", "--window", "30x30"], "layer too large to judge: symbolic max pooling"),
    (["template", "pool", "--input", "100x100", "--window", "100x100"], "layer too large: about 520,001 terms"),
    (["template", "conv", "--input", "100x100", "--kernel", "3x3"], "its right answers take about 2.6 MB"),
    (["conv", "--input", "200x200", "--kernel", "7x7", "--full"], "--full writes every term of it"),
    (["template", "conv", "--input", "3x3", "--kernel", "2x2", "--max-terms", "5"], "exceeds the limit of 5"),
    (["conv", "--input", "3x3", "--kernel", "2x2", "--values", ""], "--values got an empty path"),
])
def test_refused_from_their_real_cost(args, message, capsys):
    code, out, err, work = run(args, capsys, max_lines=REFUSAL_LINES)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err
    assert work.lines <= REFUSAL_LINES, work


def test_a_long_run_of_letters_is_read_in_linear_time(d, tmp_path, capsys):
    path = tmp_path / "a.toml"
    path.write_text("# " + "a" * 900_000 + "\n" + (d / "good.toml").read_text())
    code, _, err, work = run(["check", str(path)], capsys, max_lines=REFUSAL_LINES)
    assert code == 1 and err == "" and work.lines <= REFUSAL_LINES, work  # the letters are not walked in Python


def test_the_dotted_key_scan_cannot_backtrack():
    """The scan for long dotted keys reads a run of letters once (it was quadratic: a 100 KB comment took
    over a minute): a part starts only where a word does, and no repeat gives back what it took."""
    from re import _parser

    from symgrad.homework import answers

    parsed = _parser.parse(answers._LONG_DOTTED_KEY.pattern)
    assert str(parsed[0][0]) == "ASSERT_NOT" and parsed[0][1][0] == -1, parsed  # a negative lookbehind comes first
    repeats = []

    def walk(items):
        for op, arg in items:
            if str(op) in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                repeats.append((str(op), [str(o) for o, _ in arg[2]]))
                walk(arg[2])
            elif str(op) == "SUBPATTERN":
                walk(arg[3])
            elif str(op) == "BRANCH":
                for branch in arg[1]:
                    walk(branch)

    walk(parsed)
    over_characters = [op for op, body in repeats if set(body) <= {"IN", "LITERAL", "NOT_LITERAL", "ANY"}]
    assert over_characters and set(over_characters) == {"POSSESSIVE_REPEAT"}, repeats


def test_with_problem_a_student_file_needs_no_problem_table(d, tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('student = "s"\n[answer]\ngrad_kernel = [["x_1_1*dz_1_1 + x_1_2*dz_1_2 + x_2_1*dz_2_1 + x_2_2*dz_2_2", "0"], ["0", "0"]]\n')
    code, out, err, _ = run(["check", str(path), "--problem", str(d / "good.toml"), "--format", "json"], capsys)
    report = json.loads(out)["files"][0]
    assert code == 1 and err == "" and report["score"] == 1 and "no usable [problem]" in report["notes"][0]


def test_dash_output_is_standard_output_and_debug_only_as_an_option(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _, _ = run(["conv", "--input", "2", "--kernel", "1", "--format", "json", "-o", "-"], capsys)
    assert code == 0 and json.loads(out)["layer"] == "conv" and not (tmp_path / "-").exists()
    code, out, _, _ = run(["template", "conv", "--input", "2", "--kernel", "1", "--student", "--debug"], capsys)
    assert code == 0 and 'student = "--debug"' in out


@pytest.mark.parametrize("args", [
    ["conv", "--input", "1", "--kernel", "1", "--padding", "300000", "--format", "markdown"],  # 600,001 zero outputs
    ["conv", "--input", "660000", "--kernel", "1", "--loss", "mse"],  # one row of 660,000 matrix cells
    ["pool", "--input", "12x55000", "--window", "1x1", "--mode", "avg", "--format", "latex"],
])
def test_many_entries_are_summarised_like_many_terms(args, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err, work = run(args + ["-o", str(out)], capsys)
    assert code == 0 and err == "" and out.stat().st_size < 200_000
    spec = spec_of(args)  # summarised: fewer Python calls than the layer has entries, so none is visited one by one
    assert work.calls < max(math.prod(spec.input_shape), math.prod(spec.output_shape)), work


@pytest.mark.parametrize("problem, message", [
    ('[problem]\nlayer = "conv"\ninput = "24x24"\nkernel = "15x15"\nloss = "mse"\n', "too large to judge with loss mse"),
    ('[problem]\nlayer = "pool"\ninput = "250x250"\nwindow = "250x250"\nmode = "avg"\n', "layer too large: about 3,250,001 terms"),
])
def test_check_refuses_problems_whose_expected_answers_explode(problem, message, tmp_path, capsys):
    path = tmp_path / "a.toml"
    path.write_text(problem + "[answer]\nforward = [['x_1_1']]\n")
    with counting_poly_work(0) as expanded:  # refused before any expected answer is multiplied out
        code, _, err, work = run(["check", str(path)], capsys, max_lines=REFUSAL_LINES)
    assert code == 2 and message in err and work.lines <= REFUSAL_LINES, work
    assert expanded.terms == 0, expanded


def test_a_values_file_name_never_reaches_the_terminal_raw(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "v\x1b]0;PWNED\x07\x1b[2J\n# fake.json"
    Path(name).write_text('{"input": [[1, 2], [3, 4]]}')
    for fmt in ("text", "markdown", "latex"):
        code, out, err, _ = run(["conv", "--input", "2x2", "--kernel", "1x1", "--values", name, "--format", fmt], capsys)
        assert code == 0 and "\x1b" not in out and "\x07" not in out and "\n# fake" not in out


def _piped_into_true(args: list[str]) -> tuple[int, str]:
    """Run symgrad with its standard output read by `true`, which closes the pipe at once."""
    import subprocess
    import sys as _sys

    reader = subprocess.Popen(["true"], stdin=subprocess.PIPE)
    reader.wait()  # the pipe is closed before symgrad writes a byte
    done = subprocess.run([_sys.executable, "-m", "symgrad", *args], stdout=reader.stdin, stderr=subprocess.PIPE,
                          text=True, timeout=120)
    reader.stdin.close()
    return done.returncode, done.stderr


@pytest.mark.parametrize("args, code", [
    (["conv", "--input", "9x9", "--kernel", "3x3"], 0),  # text through rich
    (["conv", "--input", "9x9", "--kernel", "3x3", "--format", "json"], 0),
    (["check", "{wrong}"], 1),  # the exit code still says the answers were wrong
])
def test_a_closed_pipe_ends_quietly_with_the_commands_own_code(args, code, tmp_path):
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('student = "s"\n[problem]\nlayer = "conv"\ninput = "3"\nkernel = "2"\n[answer]\n'
                     'grad_input = ["0", "0", "0"]\n', encoding="utf-8")
    got, err = _piped_into_true([a.replace("{wrong}", str(wrong)) for a in args])
    assert (got, err) == (code, "")
