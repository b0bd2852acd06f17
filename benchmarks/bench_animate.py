"""Benchmark `symgrad animate`: whole-process time and file size of the pictures.

    python benchmarks/bench_animate.py          # the table in the README

The seed example's forward pass (4 frames) and a 28x28 / 5x5 layer's (576 steps; --frames default 36),
as GIF, SVG and a PNG sheet; best of --repeat runs, the child's peak memory.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bench_conv import measure  # noqa: E402

CASES = [
    ("seed 000: 5x5, 3x3, stride 2, forward", ["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--pass", "forward"]),
    ("28x28, 5x5, forward (36 of 576 steps)", ["conv", "--input", "28x28", "--kernel", "5x5", "--pass", "forward"]),
    ("28x28, 5x5, grad-input (36 of 784 steps)", ["conv", "--input", "28x28", "--kernel", "5x5", "--pass", "grad-input"]),
    ("pool 8x8, 2x2, routing", ["pool", "--input", "8x8", "--window", "2x2"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| animation | gif | svg | png sheet | peak memory |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for label, options in CASES:
            cells, peak = [], 0.0
            for ext in ("gif", "svg", "png"):
                path = os.path.join(folder, f"out.{ext}")
                seconds, memory = measure(["symgrad", "animate", *options, "-o", path], args.repeat)
                cells.append(f"{seconds:.2f} s, {os.path.getsize(path) / 1024:,.0f} KB")
                peak = max(peak, memory)
            print(f"| {label} | {' | '.join(cells)} | {peak:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
