"""Fuzz the answer parser and the answer-file reader for minutes; report crashes, hangs and wrong parses.

    python fuzz/fuzz_answers.py                      # 5 minutes on every core
    python fuzz/fuzz_answers.py --minutes 30 --jobs 2
    python fuzz/fuzz_answers.py --replay 1:0:4711    # rerun one case (seed:worker:case) and show it

Not part of the test suite (tests/test_answer_parse.py runs a few hundred cases in seconds). Every case
is made from its own random.Random(f"{seed}:{worker}:{case}"), so any case the report names can be
replayed. Each worker process runs cases in a loop; the parent watches them and kills a worker whose
case has run longer than --hang seconds (a hang), then starts it again at the next case.

Outcomes per case:
  parsed     the text was read as a polynomial
  refused    symgrad.homework.poly.AnswerError / SymgradError with a one-line message (correct for junk)
  crash      any other exception, or an error message that is empty or spans lines
  wrong      a generated expression parsed to a polynomial that differs from its value (the oracle:
             both are evaluated at random integer points, independently of the parser's arithmetic)
  slow       took longer than --slow seconds (reported, not a failure by itself)
  hang       killed after --hang seconds

Generators (one per case, chosen at random):
  soup       tokens of the grammar and of the problem's names, in random order
  tree       a random expression (names, numbers, + - * / ^, parentheses, \\frac, \\cdot, implicit
             products, unicode names) written in plain text, LaTeX or unicode; checked by the oracle
  mutate     a right answer with random byte-level edits (insert, delete, duplicate, splice)
  unicode    random unicode text, control characters included
  amplify    a short random pattern repeated thousands of times, or nested hundreds deep
  file       a whole answer file (TOML) from `symgrad template`, filled in and then mutated, judged
             by symgrad.homework.judge.Judge like `symgrad check` does
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from fractions import Fraction

MAX_MUTATED = 1_100_000  # characters: answer files may have 1 MB, answers 100,000 characters

PROBLEMS = [
    ("conv", {"input": "5x5", "kernel": "3x3", "stride": 2}),
    ("conv", {"input": "4x4", "kernel": "2x2", "padding": 1, "in_channels": 2, "out_channels": 2, "bias": True}),
    ("conv", {"input": "6", "kernel": "3", "dilation": 2, "index": "flat", "names": "a,k,y", "loss": "mse"}),
    ("conv", {"input": "3x3x3", "kernel": "2x2x2"}),
    ("pool", {"input": "4x4", "window": "2x2"}),
    ("pool", {"input": "5x5", "window": "3x3", "stride": 2, "mode": "avg"}),
]

GRAMMAR = ["+", "-", "*", "**", "^", "/", "(", ")", "[", "]", "{", "}", ",", ".", " ", "=", "$", "$$", "\\(", "\\)",
           "0", "1", "2", "7", "12", "1e3", "1e-3", ".5", "3.", "_", "\\frac", "\\cdot", "\\times", "\\left(", "\\right)",
           "\\partial", "\\mathit{", "\\,", "\\dfrac", "\\input", "\\write18", "{x}", "dL/d", "∂L/∂", "·", "−", "×",
           "₁", "₂", "₁₁", "²", "Max(", "max(", "Heaviside(", "H(", "θ(", "9**9", "^{", "}^", "__", "%", "#", "\\\\",
           "nan", "inf", "0x1", "1_000", "e", "E", "j", "'", '"', "\n", "\t", "\x00", "\u200b", "１"]


def load_problems():
    from symgrad.homework.judge import Problem

    out = []
    for layer, options in PROBLEMS:
        problem = Problem.build(layer, options, None)
        data = json.loads(_json_of(problem))
        names = []
        for key in ("input", "kernel", "grad_output", "bias"):
            names.extend(_leaves(data["symbols"].get(key)))
        answers = {key: _leaves(data[key]) for key in ("grad_kernel", "grad_input", "grad_bias", "forward") if key in data}
        out.append((layer, options, problem, names, answers))
    return out


def _json_of(problem) -> str:
    from symgrad.render.json import render_json

    return render_json(problem.derivation)


def _leaves(value):
    if value is None:
        return []
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


# --- generators


def gen_soup(rng, names, answers):
    alphabet = GRAMMAR + rng.sample(names, min(len(names), 8))
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))), None


def gen_unicode(rng, names, answers):
    pools = [(0x20, 0x7E), (0x00, 0x1F), (0x80, 0x2FF), (0x2070, 0x209F), (0x2200, 0x22FF), (0x1D400, 0x1D7FF),
             (0xFF00, 0xFFEF), (0x300, 0x36F)]
    chars = []
    for _ in range(rng.randint(0, 80)):
        lo, hi = rng.choice(pools)
        chars.append(chr(rng.randint(lo, hi)))
    return "".join(chars), None


def gen_mutate(rng, names, answers):
    key = rng.choice(sorted(answers))
    text = rng.choice(answers[key]) if answers[key] else "0"
    for _ in range(rng.randint(1, 6)):
        text = _mutate(rng, text)
    return text, None


def _mutate(rng, text: str) -> str:
    if not text:
        return rng.choice(GRAMMAR)
    i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    op = rng.randrange(6)
    if op == 0:
        return text[:i] + rng.choice(GRAMMAR) + text[i:]
    if op == 1:
        return text[:i] + text[j:]
    if op == 2:  # duplicate a piece, keeping the text a little over symgrad's limits at most
        times = max(1, min(rng.randint(2, 50), (MAX_MUTATED - len(text)) // max(1, j - i)))
        return text[:i] + text[i:j] * times + text[j:]
    if op == 3:
        return text[:i] + chr(rng.randint(0, 0x2FFF)) + text[i + 1:]
    if op == 4:
        return "(" * rng.randint(1, 80) + text + ")" * rng.randint(0, 80)
    return text[j:] + text[:i]


def gen_amplify(rng, names, answers):
    unit = "".join(rng.choice(GRAMMAR + names[:4]) for _ in range(rng.randint(1, 6)))
    kind = rng.randrange(4)
    if kind == 0:
        return unit * rng.randint(100, 20000), None
    if kind == 1:
        depth = rng.randint(10, 400)
        return "(" * depth + unit + ")" * depth, None
    if kind == 2:
        depth = rng.randint(5, 120)
        return "\\frac{" * depth + unit + "}{2}" * depth, None
    name = rng.choice(names)
    return "(" + " + ".join([name] * rng.randint(2, 40)) + ")^" + str(rng.randint(2, 80)), None


def gen_tree(rng, names, answers):
    """A random expression, written in one style, with its value as a function of an assignment."""
    style = rng.choice(["plain", "plain", "latex", "unicode"])
    leaves = [n for n in names if rng.random() < 0.5][:12] or names[:3]
    text, value = _tree(rng, leaves, style, depth=rng.randint(1, 5))
    if style == "latex":
        text = rng.choice(["${}$", "$${}$$", "\\({}\\)", "{}"]).format(text)
    return text, value


def _tree(rng, leaves, style, depth):
    """(text, value) where value(evaluate_name) -> Fraction."""
    if depth <= 0 or rng.random() < 0.25:
        if rng.random() < 0.3:
            return _number(rng, style)
        name = rng.choice(leaves)
        return _spell(name, style), (lambda ev, name=name: ev(name))
    kind = rng.choice(["+", "-", "*", "*", "neg", "pow", "div", "implicit"])
    if kind == "neg":
        text, value = _tree(rng, leaves, style, depth - 1)
        return f"-({text})", (lambda ev, v=value: -v(ev))
    if kind == "pow":
        text, value = _tree(rng, leaves, style, depth - 2)
        e = rng.randint(0, 3)
        if style == "latex":
            return f"\\left({text}\\right)^{{{e}}}", (lambda ev, v=value, e=e: v(ev) ** e)
        return f"({text}){rng.choice(['**', '^'])}{e}", (lambda ev, v=value, e=e: v(ev) ** e)
    if kind == "div":
        text, value = _tree(rng, leaves, style, depth - 1)
        d = rng.choice([1, 2, 3, 7, -4])
        if style == "latex":
            return f"\\frac{{{text}}}{{{d}}}", (lambda ev, v=value, d=d: v(ev) / d)
        return f"({text})/({d})", (lambda ev, v=value, d=d: v(ev) / d)
    if kind == "implicit":
        a_text, a_value = _number(rng, style)
        b_text, b_value = _tree(rng, leaves, style, depth - 1)
        if a_text.startswith("-"):
            a_text = f"({a_text})"
        return f"{a_text}({b_text})", (lambda ev, a=a_value, b=b_value: a(ev) * b(ev))
    a_text, a_value = _tree(rng, leaves, style, depth - 1)
    b_text, b_value = _tree(rng, leaves, style, depth - 1)
    space = rng.choice(["", " ", "  "])
    if kind == "*":
        op = {"plain": rng.choice(["*", "*", " "]), "latex": rng.choice(["\\cdot", "\\times", " "]),
              "unicode": rng.choice(["·", "×", "*"])}[style]
        if op == " ":
            space = ""
        return f"({a_text}){space}{op}{space}({b_text})", (lambda ev, a=a_value, b=b_value: a(ev) * b(ev))
    op = kind if style != "unicode" or kind == "+" else rng.choice(["-", "−"])
    sign = 1 if kind == "+" else -1
    return f"{a_text}{space}{op}{space}({b_text})", (lambda ev, a=a_value, b=b_value, s=sign: a(ev) + s * b(ev))


def _number(rng, style):
    kind = rng.randrange(3)
    if kind == 0:
        n = rng.randint(0, 99)
        return str(n), (lambda ev, n=n: Fraction(n))
    if kind == 1:
        p, q = rng.randint(1, 9), rng.randint(1, 9)
        if style == "latex":
            return f"\\frac{{{p}}}{{{q}}}", (lambda ev, p=p, q=q: Fraction(p, q))
        return f"({p}/{q})", (lambda ev, p=p, q=q: Fraction(p, q))
    text = f"{rng.randint(0, 9)}.{rng.randint(0, 99):02d}"
    return text, (lambda ev, t=text: Fraction(t))


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _spell(name: str, style: str) -> str:
    letters, *indices = name.split("_")
    if style == "latex":
        if letters.startswith("d") and len(letters) > 1:
            return f"\\frac{{\\partial L}}{{\\partial {letters[1:]}_{{{','.join(indices)}}}}}"
        return f"{letters}_{{{','.join(indices)}}}"
    if style == "unicode" and all(len(i) == 1 for i in indices):
        sub = "".join(indices).translate(_SUB)
        if letters.startswith("d") and len(letters) > 1:
            return f"∂L/∂{letters[1:]}{sub}"
        return f"{letters}{sub}"
    return name


# --- running one case


def run_case(problems, seed, worker, case, tmpdir):
    """(outcome, generator, text, detail)."""
    from symgrad.errors import SymgradError
    from symgrad.homework.parse import parse_answer

    rng = random.Random(f"{seed}:{worker}:{case}")
    layer, options, problem, names, answers = rng.choice(problems)
    generator = rng.choice(["soup", "tree", "tree", "mutate", "unicode", "amplify", "file"])
    if generator == "file":
        return run_file_case(rng, layer, options, answers, tmpdir, worker)
    make = {"soup": gen_soup, "tree": gen_tree, "mutate": gen_mutate, "unicode": gen_unicode, "amplify": gen_amplify}
    text, value = make[generator](rng, names, answers)
    try:
        result = parse_answer(text, problem)
    except SymgradError as error:
        message = str(error)
        if not message or "\n" in message:
            return "crash", generator, text, f"message not one line: {message!r}"
        return "refused", generator, text, message
    except Exception:
        return "crash", generator, text, traceback.format_exc(limit=6)
    if value is not None:
        problem_detail = _oracle(rng, problem, names, result, value)
        if problem_detail:
            return "wrong", generator, text, problem_detail
    return "parsed", generator, text, ""


def _oracle(rng, problem, names, result, value) -> str:
    """Evaluate the parsed polynomial and the generated expression at two random integer points."""
    from symgrad.homework.parse import parse_answer

    atom_of = {}
    for name in names:
        atom = parse_answer(name, problem).single_atom()
        if atom is not None:
            atom_of[name] = atom
    for _ in range(2):
        point = {}

        def at(atom):
            if atom not in point:
                point[atom] = Fraction(rng.randint(-9, 9))
            return point[atom]

        def evaluate(poly):
            total = Fraction(0)
            for monomial, coef in poly.terms.items():
                term = Fraction(coef)
                for atom in monomial:
                    term *= at(atom)
                total += term
            return total

        def ev(name):
            return evaluate(parse_answer(name, problem)) if name not in atom_of else at(atom_of[name])

        expected, got = value(ev), evaluate(result)
        if expected != got:
            return f"parsed to {problem.poly_text(result)[:200]}; at a random point it is {got}, expected {expected}"
    return ""


def run_file_case(rng, layer, options, answers, tmpdir, worker):
    from symgrad.errors import SymgradError
    from symgrad.homework.judge import Judge

    lines = [f'student = "fuzz {worker}"', "[problem]", f'layer = "{layer}"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in options.items()]
    lines.append("[answer]")
    for key, texts in answers.items():
        lines.append(f"{key} = {json.dumps(texts)}")
    text = "\n".join(lines) + "\n"
    for _ in range(rng.choice([0, 1, 1, 2, 4, 8])):
        text = _mutate(rng, text)
    path = os.path.join(tmpdir, f"fuzz-{worker}.toml")
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(text)
    try:
        report = Judge().judge_file(path)
        if any("\n" in error for error in report.errors):
            return "crash", "file", text, f"an error line spans lines: {report.errors!r}"
        return ("refused" if report.errors else "parsed"), "file", text, ""
    except SymgradError as error:
        return "refused", "file", text, str(error)
    except Exception:
        return "crash", "file", text, traceback.format_exc(limit=6)


# --- workers and the watchdog


def worker_main(seed, worker, first_case, current, results, slow_limit, tmpdir):
    problems = load_problems()
    case = first_case
    while True:
        current.value = case
        start = time.perf_counter()
        outcome, generator, text, detail = run_case(problems, seed, worker, case, tmpdir)
        elapsed = time.perf_counter() - start
        report = outcome in ("crash", "wrong") or elapsed > slow_limit
        results.put((worker, case, outcome, generator, elapsed, text[:300] if report else "", detail[:600] if report else ""))
        case += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang", type=float, default=5.0, help="seconds after which a case counts as a hang")
    parser.add_argument("--slow", type=float, default=0.5, help="seconds after which a case is reported as slow")
    parser.add_argument("--replay", help="seed:worker:case of one case to rerun and print")
    args = parser.parse_args()
    tmpdir = tempfile.mkdtemp(prefix="symgrad-fuzz-")

    if args.replay:
        seed, worker, case = (int(part) for part in args.replay.split(":"))
        start = time.perf_counter()
        outcome, generator, text, detail = run_case(load_problems(), seed, worker, case, tmpdir)
        print(f"{outcome} ({generator}, {time.perf_counter() - start:.3f} s)\ntext ({len(text):,} characters): {text[:400]!r}\n{detail}")
        return 0 if outcome in ("parsed", "refused") else 1

    results: mp.Queue = mp.Queue()
    workers: dict[int, tuple] = {}

    def start_worker(worker: int, first_case: int):
        current = mp.Value("q", first_case)
        process = mp.Process(target=worker_main, args=(args.seed, worker, first_case, current, results, args.slow, tmpdir),
                             daemon=True)
        process.start()
        workers[worker] = (process, current, first_case, time.monotonic())

    for worker in range(args.jobs):
        start_worker(worker, 0)
    counts: Counter = Counter()
    by_generator: Counter = Counter()
    findings: list[str] = []
    seen = {w: (0, time.monotonic()) for w in workers}  # last case seen running, since when
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline:
        try:
            worker, case, outcome, generator, elapsed, text, detail = results.get(timeout=0.2)
            counts[outcome] += 1
            by_generator[generator] += 1
            if elapsed > args.slow:
                counts["slow"] += 1
                findings.append(f"slow  {args.seed}:{worker}:{case} {generator} {elapsed:.2f} s  {text[:120]!r}")
            if outcome in ("crash", "wrong"):
                findings.append(f"{outcome} {args.seed}:{worker}:{case} {generator}  {text[:160]!r}\n      {detail}")
        except Exception:
            pass
        now = time.monotonic()
        for worker, (process, current, _, _) in list(workers.items()):
            case = current.value
            if seen[worker][0] != case:
                seen[worker] = (case, now)
            elif now - seen[worker][1] > args.hang and process.is_alive():
                process.kill()
                process.join()
                counts["hang"] += 1
                findings.append(f"hang  {args.seed}:{worker}:{case}  (killed after {args.hang:.0f} s; replay it)")
                start_worker(worker, case + 1)
                seen[worker] = (case + 1, time.monotonic())
            elif not process.is_alive():
                counts["crash"] += 1
                findings.append(f"crash {args.seed}:{worker}:{case}  (the worker process died, exit {process.exitcode})")
                start_worker(worker, case + 1)
                seen[worker] = (case + 1, time.monotonic())
    for process, *_ in workers.values():
        process.kill()
    total = sum(counts[k] for k in ("parsed", "refused", "crash", "wrong"))
    print(f"symgrad answer fuzzing: {total:,} cases in {args.minutes:g} min on {args.jobs} worker(s), seed {args.seed}")
    print(f"  parsed {counts['parsed']:,}   refused {counts['refused']:,}   crash {counts['crash']}   "
          f"wrong {counts['wrong']}   hang {counts['hang']}   slow (> {args.slow:g} s) {counts['slow']}")
    print("  cases per generator: " + ", ".join(f"{g} {n:,}" for g, n in sorted(by_generator.items())))
    for line in findings[:50]:
        print("  " + line)
    if len(findings) > 50:
        print(f"  ... and {len(findings) - 50} more")
    return 1 if counts["crash"] or counts["wrong"] or counts["hang"] else 0


if __name__ == "__main__":
    sys.exit(main())
