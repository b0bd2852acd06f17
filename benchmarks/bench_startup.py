"""Benchmark start-up: the CPU a short `symgrad` command costs as a whole process, next to Python's floor.

    python benchmarks/bench_startup.py           # 15 runs of each command
    python benchmarks/bench_startup.py -n 41     # steadier medians on a busy machine
    python benchmarks/bench_startup.py --cold    # symgrad's modules compiled on every run

Each command runs as a fresh process; its CPU time (user + sys, read from the kernel with wait4, so
other processes on the machine do not count) is taken over N runs and the median printed, with the
ratio to `python -c 'import numpy'`, the floor of any command that computes. Wall-clock time is not
measured: on a shared machine it says more about the neighbours than about symgrad.

By default every module's bytecode is cached, as on a user's machine after the first run (the caches
go to a temporary folder, PYTHONPYCACHEPREFIX, not into the source tree). With --cold, symgrad's own
modules are compiled on every run, as under PYTHONDONTWRITEBYTECODE=1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def symgrad_command() -> list[str]:
    """The `symgrad` console script next to this Python, as a user runs it (else `python -m symgrad`)."""
    script = Path(sys.executable).with_name("symgrad")
    if script.exists():
        return [str(script)]
    found = shutil.which("symgrad")
    return [found] if found else [sys.executable, "-m", "symgrad"]


def commands() -> list[tuple[str, list[str]]]:
    symgrad = symgrad_command()
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -c 'import numpy'", [sys.executable, "-c", "import numpy"]),
        ("symgrad --help", [*symgrad, "--help"]),
        ("symgrad conv --input 5x5 --kernel 3x3 --stride 2", [*symgrad, "conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2"]),
        ("symgrad pool --input 4x4 --window 2x2", [*symgrad, "pool", "--input", "4x4", "--window", "2x2"]),
    ]


def environment(cold: bool, cache: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHONPYCACHEPREFIX")}
    env["COLUMNS"] = "80"
    if cold:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    """User + system CPU of one run of argv (its children included), from the kernel's accounting."""
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read() if process.stderr else b""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {process.returncode}: {stderr.decode(errors='replace')[:300]}")
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=15, help="runs of each command (default 15)")
    parser.add_argument("--cold", action="store_true", help="compile symgrad's modules on every run")
    args = parser.parse_args()
    cases = commands()
    with tempfile.TemporaryDirectory(prefix="symgrad-pycache-") as cache:
        env = environment(args.cold, cache)
        for _, argv in cases:  # warm the file cache and the bytecode caches
            cpu_seconds(argv, env)
        samples: dict[str, list[float]] = {name: [] for name, _ in cases}
        for _ in range(args.runs):  # interleaved, so a busy moment hits every command alike
            for name, argv in cases:
                samples[name].append(cpu_seconds(argv, env))
    medians = {name: statistics.median(times) for name, times in samples.items()}
    numpy = medians["python -c 'import numpy'"]
    mode = "symgrad compiled on every run" if args.cold else "bytecode cached"
    print(f"start-up CPU (user + sys), median of {args.runs} runs, {mode}; Python {sys.version.split()[0]}\n")
    print(f"| {'command':<50} | {'CPU':>8} | {'/ numpy':>7} |")
    print(f"|{'-' * 52}|{'-' * 10}|{'-' * 9}|")
    for name, seconds in medians.items():
        print(f"| {name:<50} | {seconds:>6.3f} s | {seconds / numpy:>6.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
