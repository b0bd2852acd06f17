"""Quizzes generated from a derivation, in jupyterquiz's own JSON (its many_choice and numeric schemas).

A many-choice question asks for one entry ("Which expression is ∂L/∂w₁₁?"): the right answer is the
entry the derivation gives, and each wrong choice is that entry under a named slip (slips.py: no rot180,
no dilation, padding not cropped, rows and columns swapped, every cell, averaged, not divided, the
activation's derivative left out, ...), with feedback naming the slip; when a layer has too few slips
for an entry, another entry's expression fills in (its feedback says which entry it is). With values,
numeric questions ask for an entry's number (the slips' numbers are wrong answers with their feedback);
every layer also gets the output size. `seed` picks the entries, so a quiz is reproducible.

>>> from symgrad import conv
>>> questions = quiz(conv("5x5", "3x3", stride=2), count=3, seed=1)
>>> [q["type"] for q in questions], sum(a["correct"] for a in questions[0]["answers"])
(['many_choice', 'numeric', 'many_choice'], 1)
"""

from __future__ import annotations

import base64
import json
import random
from fractions import Fraction

from ..errors import OptionError
from .poly import Poly
from .report import SLIPS, STAGE_TITLES

MAX_CHOICES = 5
FORMATS = ("json", "myst")


def quiz(d, count: int = 6, seed: int = 0) -> list[dict]:
    """Up to `count` questions about a layer (conv, pool) or a network, reproducible by `seed`."""
    if count < 1:
        raise OptionError(f"--count must be a positive number of questions, got {count}")
    rng = random.Random(seed)
    problems = _problems(d)
    builders = []
    for _ in range(count):  # each key may be asked several times, about different entries
        for label, problem in problems:
            for key in problem.answer_keys():
                if key == "forward" or key.startswith("new_") and problem.numeric is None:
                    continue
                builders.append((_many_choice, label, problem, key))
                if _matrix_shape(problem, key) is not None:
                    builders.append((_matrix_choice, label, problem, key))
                if problem.numeric is not None:
                    builders.append((_numeric, label, problem, key))
    rng.shuffle(builders)
    asked: set = set()
    for label, problem in problems:  # the output size: one question, second in line
        if hasattr(problem.spec, "output_size"):
            builders.insert(min(1, len(builders)), (_output_size, label, problem, None))
            break
    questions = []
    for builder, label, problem, key in builders:
        question = builder(problem, key, label, rng, asked)
        if question is not None:
            questions.append(question)
        if len(questions) == count:
            break
    if not questions:
        raise OptionError("this layer has no entry to ask about")
    return _interleave(questions)


def _interleave(questions: list[dict]) -> list[dict]:
    """Alternate many-choice and numeric questions, so a short quiz has both."""
    choice = [q for q in questions if q["type"] == "many_choice"]
    numeric = [q for q in questions if q["type"] == "numeric"]
    out = []
    while choice or numeric:
        for group in (choice, numeric):
            if group:
                out.append(group.pop(0))
    return out


def _problems(d) -> list[tuple[str, object]]:
    from .problem import Problem

    if getattr(d, "layer", "") == "net":
        from .net import NetProblem

        net = NetProblem(d, 1e-6)
        return [(f"stage {p.stage.spec.index} ({p.stage.spec.text}): ", p) for p in net.stages]
    return [("", Problem(d, 1e-6))]


def _entry_name(problem, key: str, e: int) -> str:
    group = problem.answer_group(key)
    symbol = problem.symbols.unicode(group.offset + e)
    if key == "forward":
        return symbol
    if key.startswith("new_"):
        return f"the updated {symbol}"
    return f"∂L/∂{symbol}"


def _pick(problem, key: str, rng, asked: set, kind: str) -> int | None:
    """A random entry not asked yet whose expected value is not zero (a zero makes a poor question)."""
    expected = problem.expected(key)
    candidates = [e for e, p in enumerate(expected) if p.terms and (id(problem), key, e, kind) not in asked]
    if not candidates:
        return None
    e = rng.choice(candidates)
    asked.add((id(problem), key, e, kind))
    return e


def _many_choice(problem, key: str, label: str, rng, asked: set) -> dict | None:
    e = _pick(problem, key, rng, asked, "choice")
    if e is None:
        return None
    right = problem.expected(key)[e]
    choices = [(right, True, "Right.")]
    seen = [right]
    for slip, variant in problem.variants(key):
        for poly in variant(e):
            if not any(poly == other for other in seen) and poly.terms:
                choices.append((poly, False, f"Not this one: {SLIPS[slip]}."))
                seen.append(poly)
    others = [i for i in range(len(problem.expected(key))) if i != e]
    rng.shuffle(others)
    for i in others:
        if len(choices) >= 4:
            break
        poly = problem.expected(key)[i]
        if poly.terms and not any(poly == other for other in seen):
            choices.append((poly, False, f"Not this one: that is {_entry_name(problem, key, i)}."))
            seen.append(poly)
    if len(choices) < 2:
        return None
    choices = choices[:1] + choices[1:MAX_CHOICES]
    rng.shuffle(choices)
    return {
        "question": f"{label}Which expression is {_entry_name(problem, key, e)}?",
        "type": "many_choice",
        "answers": [{"answer": _expression(problem, poly), "correct": correct, "feedback": feedback}
                    for poly, correct, feedback in choices],
    }


MATRIX_ENTRIES = 25  # "Which matrix is dL/dX?" for tensors of at most this many entries


def _matrix_shape(problem, key: str) -> tuple[int, int] | None:
    """The 2-D shape of a small gradient whose channel levels are all 1 (else None: no matrix question)."""
    group = problem.answer_group(key)
    spatial = [n for n in group.shape if n > 1] or [1]
    if group.size > MATRIX_ENTRIES or len(spatial) > 2 or any(n > 1 for n in group.shape[:group.channel_axes]):
        return None
    return (1, spatial[0]) if len(spatial) == 1 else (spatial[0], spatial[1])


def _matrix_choice(problem, key: str, label: str, rng, asked: set) -> dict | None:
    """"Which matrix is dL/dX?": the whole tensor, and the whole tensor under each slip that changes it."""
    if (id(problem), key, "matrix") in asked:
        return None
    asked.add((id(problem), key, "matrix"))
    shape = _matrix_shape(problem, key)
    right = problem.expected(key)
    choices, seen = [(right, True, "Right.")], [right]
    for slip, variant in problem.variants(key):
        polys = []
        for e in range(len(right)):
            found = [p for p in variant(e) if not p == right[e]]
            polys.append(found[0] if found else right[e])
        if not any(all(p == q for p, q in zip(polys, other)) for other in seen):
            choices.append((polys, False, f"Not this one: {SLIPS[slip]}."))
            seen.append(polys)
    if len(choices) < 2:
        return None
    choices = choices[:MAX_CHOICES]  # the right one is first: always kept
    rng.shuffle(choices)
    group = problem.answer_group(key)
    title = {"kernel": "W", "input": "X", "bias": "b"}.get(group.key, problem.symbols.letter(group.offset))
    return {
        "question": f"{label}Which matrix is ∂L/∂{title}?",
        "type": "many_choice",
        "answers": [{"answer": _matrix_tex(problem, polys, shape), "correct": correct, "feedback": feedback}
                    for polys, correct, feedback in choices],
    }


def _matrix_tex(problem, polys, shape) -> str:
    rows = [" & ".join(_expression(problem, polys[r * shape[1] + c]).strip("$") for c in range(shape[1])) for r in range(shape[0])]
    return r"$\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}$"


def _numeric(problem, key: str, label: str, rng, asked: set) -> dict | None:
    e = _pick(problem, key, rng, asked, "number")
    if e is None:
        return None
    right = problem.expected(key)[e]
    if not right.is_constant():
        return None
    value = right.constant()
    answers = [{"type": "value", "value": _number(value), "correct": True, "feedback": "Right."}]
    for slip, variant in problem.variants(key):
        for poly in variant(e):
            if poly.is_constant() and poly.constant() != value and all(a.get("value") != _number(poly.constant()) for a in answers):
                answers.append({"type": "value", "value": _number(poly.constant()), "correct": False,
                                "feedback": f"Not quite: {SLIPS[slip]}."})
    answers.append({"type": "default", "feedback": "Not quite: sum, over the terms of the chain rule, each local derivative "
                                                   "times the gradient it meets."})
    what = STAGE_TITLES.get(key, key) if key.startswith("new_") else _entry_name(problem, key, e)
    return {"question": f"{label}With these values, what is {_entry_name(problem, key, e) if not key.startswith('new_') else what}?"
                        + (" (exact: a fraction like 3/4 is accepted)" if isinstance(value, Fraction) and value.denominator != 1 else ""),
            "type": "numeric", "precision": 6, "answers": answers}


def _output_size(problem, key, label: str, rng, asked: set) -> dict | None:
    spec = problem.spec
    axis = rng.randrange(spec.ndim)
    names = {1: ["length"], 2: ["height", "width"], 3: ["depth", "height", "width"]}[spec.ndim]
    right = spec.output_size[axis]
    top = spec.numerator(axis)
    answers = [{"type": "value", "value": right, "correct": True, "feedback": "Right: floor((N + 2p − d(k−1) − 1)/s) + 1."}]
    wrong = {top // spec.stride[axis]: "Not quite: add 1 after dividing (the first output sits at position 0).",
             top + 1: "Not quite: divide by the stride.",
             spec.input_size[axis]: "Not quite: that is the input's size."}
    for value, feedback in wrong.items():
        if value != right:
            answers.append({"type": "value", "value": value, "correct": False, "feedback": feedback})
    answers.append({"type": "default", "feedback": "Not quite: floor((N + 2p − d(k−1) − 1)/s) + 1 per axis (pooling: d = 1)."})
    return {"question": f"{label}What is the output's {names[axis]} (its size along that axis)?", "type": "numeric",
            "precision": 6, "answers": answers}


def _number(value):
    value = Fraction(value) if not isinstance(value, float) else value
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return float(value)


def _expression(problem, poly: Poly) -> str:
    """A choice as inline math ($...$) in the problem's names; dz stands for ∂L/∂z."""
    if not poly.terms:
        return "$0$"
    parts = []
    for monomial, coef in sorted(poly.terms.items(), key=lambda item: (-len(item[0]), item[0][::-1])):
        factors = []
        for atom in sorted(set(monomial), key=monomial.index):
            text = _atom_tex(problem, atom)
            count = monomial.count(atom)
            factors.append(text + (f"^{count}" if count > 1 else ""))
        number = abs(coef)
        number_text = (str(int(number)) if isinstance(number, Fraction) and number.denominator == 1 else
                       rf"\tfrac{{{number.numerator}}}{{{number.denominator}}}" if isinstance(number, Fraction) else f"{float(number):.6g}")
        body = " \\cdot ".join(([number_text] if number_text != "1" or not factors else []) + factors)
        parts.append(("-" if coef < 0 else "+") + " " + body)
    text = " ".join(parts).lstrip("+ ").strip()
    return f"${text}$"


def _atom_tex(problem, atom: int) -> str:
    if atom >= problem.base:
        return r"\text{" + problem.atom_text(atom).replace("_", r"\_") + "}"
    symbols = problem.symbols
    group = symbols.group_of(atom)
    if group.key == "grad_output":
        out = symbols["output"].offset + atom - group.offset
        return rf"\frac{{\partial L}}{{\partial {symbols.latex(out)}}}"
    return symbols.latex(atom)


def render_quiz(questions: list[dict], fmt: str, title: str) -> str:
    """jupyterquiz's JSON, or a MyST page that embeds it (a hidden span with a class, for JupyterLab 4.2.5
    and later, and the display_quiz cell)."""
    text = json.dumps(questions, indent=1, ensure_ascii=False) + "\n"
    if fmt == "json":
        return text
    if fmt != "myst":
        raise OptionError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    encoded = base64.b64encode(json.dumps(questions, ensure_ascii=False).encode("utf-8")).decode("ascii")
    return "\n".join([
        "---", "jupytext:", "  text_representation:", "    format_name: myst", "kernelspec:", "  name: python3",
        "  display_name: Python 3", "---", "", f"# Quiz: {title}", "",
        f'<span style="display:none" class="symgrad-quiz">{encoded}</span>', "",
        "```{code-cell} ipython3", "from jupyterquiz import display_quiz", 'display_quiz("#symgrad-quiz")', "```", ""])
