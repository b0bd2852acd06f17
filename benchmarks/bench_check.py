"""Benchmark `symgrad check`: a batch of answer files judged by one process, as a grader runs it.

    python benchmarks/bench_check.py             # the table in the README
    python benchmarks/bench_check.py --files 1000

For each problem, --files answer files are written: a third right (plain text), a third right in
LaTeX, a third with a slip (the last kernel name's indices swapped); each file lists every sum's terms
in its own random order, so no answer string repeats across files and every entry is parsed. Times are
whole-process wall time (Python start-up and imports included), best of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time

import symgrad

PROBLEMS = [
    ("seed 000: 5x5, 3x3, stride 2", {"layer": "conv", "input": "5x5", "kernel": "3x3", "stride": 2}, None),
    ("2->3 channels, 6x6, 3x3, pad 1, bias", {"layer": "conv", "input": "6x6", "kernel": "3x3", "padding": 1,
                                               "in_channels": 2, "out_channels": 3, "bias": True}, None),
    ("16x16, 5x5 (dL/dW entries of 144 terms)", {"layer": "conv", "input": "16x16", "kernel": "5x5"}, None),
    ("3x3, 2x2 with values", {"layer": "conv", "input": "3x3", "kernel": "2x2"},
     {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, "1/2"], [0, 2]], "grad_output": [[1, -1], [2, 3]]}),
    ("pool 8x8, 2x2 max, with input", {"layer": "pool", "input": "8x8", "window": "2x2"},
     {"input": [[(7 * i + 3 * j) % 11 for j in range(8)] for i in range(8)]}),
]


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    if "'" not in value and "\n" not in value:
        return f"'{value}'"  # a literal string, as the template writes answers (TOML reads them ~9x faster than escaped ones)
    return json.dumps(value)


def latex(text: str) -> str:
    """A right answer (of a 2-D problem) rewritten in LaTeX, as a student would type it."""

    def name(match: re.Match) -> str:
        grad, letter, indices = match.group(1), match.group(2), match.group(3).split("_")[1:]
        spatial = [] if letter == "b" else indices[-2:]
        channels = indices[: len(indices) - len(spatial)]
        joined = ("," if any(len(i) > 1 for i in spatial) else "").join(spatial)
        sub = ",".join(channels + ([joined] if spatial else []))
        return f"\\frac{{\\partial L}}{{\\partial {letter}_{{{sub}}}}}" if grad else f"{letter}_{{{sub}}}"

    return "$" + re.sub(r"\b(d?)([a-z])((?:_\d+)+)", name, text).replace("*", " \\cdot ") + "$"


def write_batch(folder: str, problem: dict, values, count: int) -> list[str]:
    options = {k: v for k, v in problem.items() if k != "layer"}
    derivation = (symgrad.conv if problem["layer"] == "conv" else symgrad.pool)(**options, values=values)
    data = json.loads(derivation.to_json())
    keys = [key for key, _ in derivation.gradients()]
    paths = []
    for n in range(count):
        rng = random.Random(n)  # each student's terms in their own order: no two files share an answer string
        answers = {key: _map(data[key], lambda text: " + ".join(rng.sample(text.split(" + "), text.count(" + ") + 1))) for key in keys}
        if n % 3 == 1:
            answers = {key: _map(value, latex) for key, value in answers.items()}
        elif n % 3 == 2:
            answers = {key: _map(value, lambda s: re.sub(r"w_(\d+)_(\d+)$", r"w_\2_\1", s)) for key, value in answers.items()}
        lines = [f'student = "s{n:04d}"', "[problem]"] + [f"{k} = {toml_value(v)}" for k, v in problem.items()]
        if values:
            lines += ["[problem.values]"] + [f"{k} = {toml_value(v)}" for k, v in values.items()]
        lines += ["[answer]"] + [f"{k} = {toml_value(v)}" for k, v in answers.items()]
        path = f"{folder}/s{n:04d}.toml"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        paths.append(path)
    return paths


def _map(value, function):
    return [_map(v, function) for v in value] if isinstance(value, list) else function(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print("| problem | files | entries judged | text | json | gradescope (1 file) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, problem, values in PROBLEMS:
        with tempfile.TemporaryDirectory() as folder:
            paths = write_batch(folder, problem, values, args.files)
            times = {}
            entries = 0
            for fmt in ("text", "json"):
                best = float("inf")
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    result = subprocess.run([sys.executable, "-m", "symgrad", "check", *paths, "--format", fmt, "-o", f"{folder}/out"],
                                            capture_output=True, text=True)
                    best = min(best, time.perf_counter() - start)
                    assert result.returncode in (0, 1), result.stderr[-500:]
                times[fmt] = best
                if fmt == "json":
                    with open(f"{folder}/out") as handle:
                        report = json.load(handle)
                    entries = report["summary"]["max_score"]
                    assert report["summary"]["right"] >= args.files // 3, report["summary"]
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "symgrad", "check", paths[0], "--format", "gradescope", "-o", f"{folder}/r"],
                           capture_output=True)
            single = time.perf_counter() - start
        print(f"| {name} | {args.files} | {entries:,} | {times['text']:.2f} s | {times['json']:.2f} s | {single:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
