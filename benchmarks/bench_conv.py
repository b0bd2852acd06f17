"""Benchmark `symgrad conv`: whole-process wall time and peak memory, and the core's scaling.

    python benchmarks/bench_conv.py            # the table in the README
    python benchmarks/bench_conv.py --naive    # also time the naive SymPy approach (slow: ~1 min)

Whole-process numbers include Python start-up and imports, as a user sees them. Each is the best of
--repeat runs. Peak memory is the child's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CASES = [
    ("seed 000: 5x5, 3x3, stride 2", ["--input", "5x5", "--kernel", "3x3", "--stride", "2"]),
    ("16x16, 5x5", ["--input", "16x16", "--kernel", "5x5"]),
    ("20x20, 5x5", ["--input", "20x20", "--kernel", "5x5"]),
    ("28x28, 5x5", ["--input", "28x28", "--kernel", "5x5"]),
    ("40x40, 5x5", ["--input", "40x40", "--kernel", "5x5"]),
    ("80x80, 5x5", ["--input", "80x80", "--kernel", "5x5"]),
    ("LeNet conv1: 3x32x32 -> 6, 5x5, bias", ["--input", "32x32", "--kernel", "5x5", "--in-channels", "3", "--out-channels", "6", "--bias"]),
    ("3-D: 3x16x16x16 -> 4, 3x3x3, stride 2, pad 1", ["--input", "16x16x16", "--kernel", "3x3x3", "--in-channels", "3", "--out-channels", "4", "--stride", "2", "--padding", "1"]),
]

FORMATS = ("text", "json", "latex", "markdown")
VALUE_CASES = [CASES[0], CASES[2], CASES[6]]
POOL_CASES = [
    ("seed: 4x4, 2x2 max", ["--input", "4x4", "--window", "2x2"], (1, 4, 4)),
    ("LeNet pool1: 6x28x28, 2x2 max", ["--input", "28x28", "--window", "2x2", "--channels", "6"], (6, 28, 28)),
    ("64x56x56, 3x3 stride 2 pad 1 max", ["--input", "56x56", "--window", "3x3", "--stride", "2", "--padding", "1", "--channels", "64",
                                          "--max-terms", "5000000"], (64, 56, 56)),  # its symbolic JSON names 4 million cells
    ("64x56x56, 3x3 stride 2 pad 1 avg", ["--input", "56x56", "--window", "3x3", "--stride", "2", "--padding", "1", "--channels", "64", "--mode", "avg"], (64, 56, 56)),
]


def write_values(folder: str, options: list[str]) -> str:
    """A values file with small random integers for every symbol of the layer."""
    import random

    from symgrad import ConvSpec

    bias = "--bias" in options
    pairs = [a for a in options if a != "--bias"]
    spec = ConvSpec.build(bias=bias, **dict(zip([a.lstrip("-").replace("-", "_") for a in pairs[::2]], pairs[1::2])))
    rng = random.Random(0)

    def nested(shape):
        return [nested(shape[1:]) for _ in range(shape[0])] if shape else rng.randint(-5, 5)

    data = {"input": nested(spec.input_shape), "kernel": nested(spec.kernel_shape), "grad_output": nested(spec.output_shape)}
    if bias:
        data["bias"] = nested((spec.out_channels,))
    path = f"{folder}/values-{len(os.listdir(folder))}.json"
    with open(path, "w") as handle:
        json.dump(data, handle)
    return path


_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(elapsed, peak_kb, done.returncode)
"""


def measure(command: list[str], repeat: int) -> tuple[float, float]:
    """Best wall time (s) and peak RSS (MB) of a command, each run in a fresh measuring process."""
    best_time, peak = float("inf"), 0.0
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
        elapsed, kb, code = out.stdout.split()
        if code != "0":
            raise SystemExit(f"{' '.join(command)} exited {code}")
        best_time = min(best_time, float(elapsed))
        peak = max(peak, int(kb) / 1024)
    return best_time, peak


def core_time(args: list[str]) -> tuple[int, float]:
    """In-process: product terms in the expansion and seconds to derive + check (no rendering)."""
    from symgrad import ConvSpec, derive_conv

    bias = "--bias" in args
    pairs = [a for a in args if a != "--bias"]
    options = dict(zip([a.lstrip("-").replace("-", "_") for a in pairs[::2]], pairs[1::2]))
    spec = ConvSpec.build(bias=bias, max_terms=None, **options)
    start = time.perf_counter()
    d = derive_conv(spec)
    return len(d.forward), time.perf_counter() - start


def naive_time(size: int, kernel: int) -> float:
    """The naive way: expand the whole loss, sympy.diff it for every symbol, expand each result."""
    import sympy

    start = time.perf_counter()
    X = sympy.Matrix(size, size, lambda i, j: sympy.Symbol(f"x_{i + 1}_{j + 1}"))
    W = sympy.Matrix(kernel, kernel, lambda i, j: sympy.Symbol(f"w_{i + 1}_{j + 1}"))
    out = size - kernel + 1
    loss = 0
    for i in range(out):
        for j in range(out):
            z = sum(W[a, b] * X[i + a, j + b] for a in range(kernel) for b in range(kernel))
            loss += sympy.Symbol(f"dz_{i + 1}_{j + 1}") * z
    for symbol in list(W) + list(X):
        sympy.expand(sympy.diff(loss, symbol))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive", action="store_true", help="also time the naive SymPy approach (8x8..16x16)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()

    rows = []
    print("| layer | product terms | core (derive + check) | text | json | latex | markdown | peak memory |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, options in CASES:
        terms, core = core_time(options)
        row = dict(layer=label, terms=terms, core=core, memory=0.0)
        for fmt in FORMATS:
            seconds, memory = measure(["symgrad", "conv", *options, "--format", fmt], args.repeat)
            row[fmt], row["memory"] = seconds, max(row["memory"], memory)
        rows.append(row)
        times = " | ".join(f"{row[fmt]:.2f} s" for fmt in FORMATS)
        print(f"| {label} | {terms:,} | {core:.3f} s | {times} | {row['memory']:.0f} MB |", flush=True)
    print("\nWith --values (every input, kernel, bias and dL/dz given; exact integers):\n")
    print("| layer | text | json | latex | peak memory |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for label, options in VALUE_CASES:
            path = write_values(folder, options)
            cells, peak = [], 0.0
            for fmt in ("text", "json", "latex"):
                seconds, memory = measure(["symgrad", "conv", *options, "--values", path, "--format", fmt], args.repeat)
                cells.append(f"{seconds:.2f} s")
                peak = max(peak, memory)
            print(f"| {label} | {' | '.join(cells)} | {peak:.0f} MB |", flush=True)
    print("\n`symgrad pool` (whole process, best of --repeat):\n")
    print("| layer | text | json | latex | with --values (text) | peak memory |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for label, options, shape in POOL_CASES:
            path = f"{folder}/pool.json"
            rng = __import__("random").Random(0)
            nested = lambda s: [nested(s[1:]) for _ in range(s[0])] if s else rng.randint(-9, 9)  # noqa: E731
            with open(path, "w") as handle:
                json.dump({"input": nested(shape)}, handle)
            cells, peak = [], 0.0
            for extra in (["--format", "text"], ["--format", "json"], ["--format", "latex"], ["--values", path]):
                seconds, memory = measure(["symgrad", "pool", *options, *extra], args.repeat)
                cells.append(f"{seconds:.2f} s")
                peak = max(peak, memory)
            print(f"| {label} | {' | '.join(cells)} | {peak:.0f} MB |", flush=True)
    baseline, _ = measure([sys.executable, "-c", "import sys"], args.repeat)
    print(f"\nPython start-up alone: {baseline:.2f} s")
    if args.naive:
        print("\n| naive SymPy (diff whole loss per symbol, expand) | seconds |")
        print("|---|---:|")
        for size in (8, 12, 16):
            print(f"| {size}x{size}, 5x5 | {naive_time(size, 5):.1f} s |", flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
