"""Benchmark the refusals: every bad input of tests/test_hardening.py run as a real `symgrad` process.

    python benchmarks/bench_errors.py            # the table in the README
    python benchmarks/bench_errors.py --all      # one line per input

Each case is timed from process start to exit (Python start-up and imports included), which is what a
user waits for. Cases are checked as in the tests: exit 2 and one `Error:` line on stderr.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_hardening import BAD, UNUSABLE, fill, make_bad_files  # noqa: E402

GROUPS = ("conv", "pool", "template", "check")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="print every case")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="symgrad-bad-"))
    make_bad_files(folder)
    # unreadable.* files are unreadable only through the tests' patched open() (chmod 000 does not stop root)
    cases = [(fill(a, folder), "refused") for a, _ in BAD if not any("unreadable." in x for x in a)]
    cases += [(["check", str(folder / name) if name else str(folder)], "unusable file") for name, _ in UNUSABLE
              if not name.startswith("unreadable.")]
    times: dict[str, list[float]] = {g: [] for g in GROUPS}
    failures = []
    slowest = []
    for argv, kind in cases:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "symgrad", *argv], capture_output=True, text=True, timeout=60)
        seconds = time.perf_counter() - start
        group = argv[0] if argv and argv[0] in GROUPS else "conv"
        times[group].append(seconds)
        slowest.append((seconds, " ".join(argv)))
        lines = done.stderr.splitlines()
        if done.returncode != 2 or len(lines) != 1 or not lines[0].startswith("Error: ") or "Traceback" in done.stderr:
            failures.append((argv, done.returncode, done.stderr[:300]))
        if args.all:
            print(f"{seconds:6.3f} s  exit {done.returncode}  {' '.join(argv)[:100]}")
    print(f"symgrad refusals: {len(cases)} bad inputs, each a fresh process (Python start-up included)\n")
    print(f"{'command':<10} {'cases':>5} {'median':>8} {'max':>8}")
    for group in GROUPS:
        if times[group]:
            print(f"{group:<10} {len(times[group]):>5} {statistics.median(times[group]):>7.2f}s {max(times[group]):>7.2f}s")
    every = [t for ts in times.values() for t in ts]
    print(f"{'all':<10} {len(every):>5} {statistics.median(every):>7.2f}s {max(every):>7.2f}s")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import symgrad.cli"], check=True)
    print(f"\n(Python start-up and `import symgrad.cli` alone: {time.perf_counter() - start:.2f} s)")
    print("slowest: " + "; ".join(f"{s:.2f} s {a[:60]}" for s, a in sorted(slowest, reverse=True)[:3]))
    for argv, code, err in failures:
        print(f"NOT A ONE-LINE REFUSAL: exit {code}: {' '.join(argv)}\n  {err}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
