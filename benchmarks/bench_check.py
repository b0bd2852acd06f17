"""Benchmark `symgrad check` on a class: its time side by side with merely loading the answer files.

    python benchmarks/bench_check.py               # the tables in the README
    python benchmarks/bench_check.py --files 1000  # a bigger class

For each problem, --files answer files are written as students would: a third right in plain text, a
third right in LaTeX, a third with a named slip (dL/dX without rot180 where the layer has it, else rows
and columns swapped); every file lists each sum's terms (and each product's factors) in its own random
order, so no answer string repeats and every answer is read. The fifth problem gives every student a
variant of their own (`template --variants`), answered with numbers; the last has every file hold the
same right answers, as a script that computed them writes them (a class's repeated answers).

Side by side, best of --repeat runs, whole processes (Python start-up included):
- load: a process that only reads the same files with tomllib (the floor: what reading them costs);
- check: `symgrad check FILES -o report` (text, then JSON), with the default --jobs (the machine's
  cores), then with --jobs 1; the ratio is check (text) over load, and files/s is files over check (text);
- one file: `check FILE --format gradescope` (an autograder's run), the slowest of a right, a LaTeX and
  a slipped file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

import symgrad
from symgrad.homework.problem import Problem
from symgrad.homework.variants import draw_values

PROBLEMS = [
    ("seed 000: 5x5, 3x3, stride 2", {"layer": "conv", "input": "5x5", "kernel": "3x3", "stride": 2}, None),
    ("2->3 channels, 6x6, 3x3, pad 1, bias", {"layer": "conv", "input": "6x6", "kernel": "3x3", "padding": 1,
                                               "in_channels": 2, "out_channels": 3, "bias": True}, None),
    ("16x16, 5x5 (dL/dW entries of 144 terms)", {"layer": "conv", "input": "16x16", "kernel": "5x5"}, None),
    ("3x3, 2x2 with values", {"layer": "conv", "input": "3x3", "kernel": "2x2"},
     {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, "1/2"], [0, 2]], "grad_output": [[1, -1], [2, 3]]}),
    ("pool 8x8, 2x2 max, with input", {"layer": "pool", "input": "8x8", "window": "2x2"},
     {"input": [[(7 * i + 3 * j) % 11 for j in range(8)] for i in range(8)]}),
    ("seed 000, a variant per student (numbers)", {"layer": "conv", "input": "5x5", "kernel": "3x3", "stride": 2}, "variants"),
    ("16x16, 5x5, every file one generator's right answers", {"layer": "conv", "input": "16x16", "kernel": "5x5"}, "alike"),
]
LOAD = "import sys, tomllib\nfor path in sys.argv[1:]:\n    with open(path, 'rb') as handle:\n        tomllib.load(handle)\n"


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    if "'" not in value and "\n" not in value:
        return f"'{value}'"  # a literal string, as the template writes answers
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


def shuffled(text: str, rng: random.Random) -> str:
    """The same sum with its terms, and each product's factors, in a random order."""
    terms = text.replace(" - ", " + -").split(" + ")
    if not all(re.fullmatch(r"-?[a-z]\w*(\*[a-z]\w*)*", t) for t in terms):
        return text
    out = []
    for term in rng.sample(terms, len(terms)):
        sign, factors = ("-", term[1:].split("*")) if term.startswith("-") else ("", term.split("*"))
        out.append(sign + "*".join(rng.sample(factors, len(factors))))
    return " + ".join(out).replace("+ -", "- ")


def write_batch(folder: str, problem: dict, values, count: int) -> list[str]:
    options = {k: v for k, v in problem.items() if k != "layer"}
    students = [f"s{n:04d}" for n in range(count)]
    alike, values = values == "alike", None if values == "alike" else values
    shared = None if values == "variants" else Problem.build(problem["layer"], options, values)
    paths = []
    for n, student in enumerate(students):
        rng = random.Random(n)
        own = draw_values(problem["layer"], options, 2026, student) if values == "variants" else values
        p = shared or Problem.build(problem["layer"], options, own)
        answers = {}
        for key, _ in p.derivation.gradients():
            expected = p.expected(key)
            if alike:  # the same strings in every file, as a script that computed them writes them
                answers[key] = np.array([p.poly_text(poly) for poly in expected], dtype=object).reshape(
                    p.answer_group(key).shape).tolist()
                continue
            if n % 3 == 2:  # a named slip
                slips = dict(p.variants(key))
                slip = slips.get("no_rot180") or slips.get("rows_cols_swapped") or next(iter(slips.values()), None)
                expected = [slip(e)[0] for e in range(len(expected))] if slip else expected
            texts = [shuffled(p.poly_text(poly), rng) for poly in expected]
            if n % 3 == 1 and own is None:
                texts = [latex(t) for t in texts]
            answers[key] = np.array(texts, dtype=object).reshape(p.answer_group(key).shape).tolist()
        lines = [f'student = "{student}"', "[problem]"] + [f"{k} = {toml_value(v)}" for k, v in problem.items()]
        if own:
            lines += ["[problem.values]"] + [f"{k} = {toml_value(v)}" for k, v in own.items()]
        lines += ["[answer]"] + [f"{k} = {toml_value(v)}" for k, v in answers.items()]
        path = f"{folder}/{student}.toml"
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        paths.append(path)
    if values == "variants":
        with open(f"{folder}/roster.txt", "w", encoding="utf-8") as handle:
            handle.write("\n".join(students) + "\n")
    return paths


def best(args: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        assert done.returncode in (0, 1), done.stderr[-500:]
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from symgrad.homework.batch import default_jobs

    jobs = default_jobs()
    print(f"symgrad {symgrad.__version__}, {os.cpu_count()} cores, --jobs {jobs} by default\n")
    print("| problem | files | entries judged | load TOML | check (text) | check / load | check (json) | --jobs 1 (text) | files/s | one file (gradescope) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, problem, values in PROBLEMS:
        with tempfile.TemporaryDirectory() as folder:
            paths = write_batch(folder, problem, values, args.files)
            extra = ["--variants", f"{folder}/roster.txt", "--seed", "2026"] if values == "variants" else []
            check = [sys.executable, "-m", "symgrad", "check", *paths, *extra]
            load = best([sys.executable, "-c", LOAD, *paths], args.repeat)
            text = best(check + ["-o", f"{folder}/out.txt"], args.repeat)
            as_json = best(check + ["--format", "json", "-o", f"{folder}/out.json"], args.repeat)
            single = best(check + ["--jobs", "1", "-o", f"{folder}/out1.txt"], args.repeat)
            alone = max(best([sys.executable, "-m", "symgrad", "check", path, *extra, "--format", "gradescope", "-o", f"{folder}/r.json"],
                             args.repeat) for path in paths[:3])  # a right, a LaTeX and a slipped file: the slowest
            with open(f"{folder}/out.json", encoding="utf-8") as handle:
                summary = json.load(handle)["summary"]
            if values == "alike":
                assert summary["right"] == args.files, summary
            else:
                assert summary["right"] >= args.files // 3 and summary["wrong"] >= args.files // 3 - 1, summary
        print(f"| {name} | {args.files} | {summary['max_score']:,} | {load:.2f} s | {text:.2f} s | {text / load:.1f}x | "
              f"{as_json:.2f} s | {single:.2f} s | {args.files / text:,.0f} | {alone:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
