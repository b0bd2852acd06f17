"""Benchmark `symgrad net` on LeNet-5, and exact fractions against integers.

    python benchmarks/bench_net.py            # the tables in the README

LeNet-5 (1x32x32: conv 5x5 out=6 bias, relu, maxpool 2x2, conv 5x5 out=16 bias, relu, maxpool 2x2,
flatten, dense 120, relu, dense 84, relu, dense 10, softmax-ce) with every value given and --lr: whole
process as a user runs it (start-up included), best of --repeat, and the peak resident memory. The
exact rows end in mse instead of softmax-ce (softmax makes floats) and give every value as an integer,
or as a "p/q" fraction; the last rows compare the same for LeNet's first layer alone (symgrad conv).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bench_conv import measure  # noqa: E402

LENET = ("conv 5x5 out=6 bias | relu | maxpool 2x2 | conv 5x5 out=16 bias | relu | maxpool 2x2 | flatten | "
         "dense 120 bias | relu | dense 84 bias | relu | dense 10 bias | softmax-ce")


def nested(shape, make):
    return [nested(shape[1:], make) for _ in range(shape[0])] if shape else make()


def net_values(layers: str, make, target) -> dict:
    from symgrad.netspec import NetSpec

    spec = NetSpec.build("32x32", layers)
    data = {"input": nested(spec.input_shape, make), "layers": []}
    for stage in spec.stages:
        item = {}
        if stage.kind == "conv":
            item = {"kernel": nested(stage.layer.kernel_shape, make), "bias": nested((stage.layer.out_channels,), make)}
        elif stage.kind == "dense":
            item = {"weight": nested((stage.output_shape[0], stage.input_shape[0]), make), "bias": nested(stage.output_shape, make)}
        elif stage.kind == "softmax-ce":
            item = {"target": 3}
        elif stage.kind == "mse":
            item = {"target": nested(stage.input_shape, target)}
        data["layers"].append(item)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(0)
    floats = lambda: round(rng.uniform(-0.2, 0.2), 4)  # noqa: E731
    ints = lambda: rng.randint(-2, 2)  # noqa: E731
    fractions = lambda: f"{rng.randint(-4, 4)}/{rng.choice([2, 3, 4, 5])}"  # noqa: E731
    exact = LENET.replace("softmax-ce", "mse")
    cases = [
        ("LeNet-5, float values, softmax-ce", LENET, floats, floats, "0.01"),
        ("LeNet-5 (mse), integer values", exact, ints, ints, "1/10"),
        ("LeNet-5 (mse), \"p/q\" values", exact, fractions, fractions, "1/10"),
    ]
    with tempfile.TemporaryDirectory() as folder:
        print("| network | text | json | latex | peak memory |")
        print("|---|---:|---:|---:|---:|")
        for label, layers, make, target, lr in cases:
            path = os.path.join(folder, f"{len(os.listdir(folder))}.json")
            with open(path, "w") as handle:
                json.dump(net_values(layers, make, target), handle)
            row, peak = [], 0.0
            for fmt in ("text", "json", "latex"):
                seconds, memory = measure(["symgrad", "net", "--input", "32x32", "--layers", layers, "--values", path, "--lr", lr,
                                           "--format", fmt], args.repeat)
                row.append(f"{seconds:.2f} s")
                peak = max(peak, memory)
            print(f"| {label} | {' | '.join(row)} | {peak:.0f} MB |", flush=True)

        print("\nLeNet's first layer alone (symgrad conv, 3x32x32 -> 6, 5x5, bias, every value given, JSON):\n")
        print("| values | json | peak memory |")
        print("|---|---:|---:|")
        from symgrad import ConvSpec

        spec = ConvSpec.build("32x32", "5x5", in_channels=3, out_channels=6, bias=True)
        for label, make in (("integers", ints), ("\"p/q\" fractions", fractions)):
            path = os.path.join(folder, f"conv-{len(os.listdir(folder))}.json")
            with open(path, "w") as handle:
                json.dump({"input": nested(spec.input_shape, make), "kernel": nested(spec.kernel_shape, make),
                           "bias": nested((6,), make), "grad_output": nested(spec.output_shape, make)}, handle)
            seconds, memory = measure(["symgrad", "conv", "--input", "32x32", "--kernel", "5x5", "--in-channels", "3",
                                       "--out-channels", "6", "--bias", "--values", path, "--format", "json"], args.repeat)
            print(f"| {label} | {seconds:.2f} s | {memory:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
