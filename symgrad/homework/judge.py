"""Judging answer files: whether each answer equals its entry, and which slip a wrong one shows.

An answer is parsed into a polynomial over the problem's atoms (problem.py) and compared with the
expected entry as a polynomial: exactly when the problem is symbolic, coefficient by coefficient within
a tolerance when it has values. A wrong entry lists its missing and extra terms and the slips it
equals (slips.py). `judge_entry` judges one entry, `judge_key` one tensor of a file, and `Judge` a
batch of files, building each distinct problem once; the verdicts are the report model (report.py).

>>> p = Problem.build("conv", {"input": "3x3", "kernel": "2x2"}, None)
>>> r = judge_entry(p, "grad_kernel", 0, "x_1_1*dz_1_1 + x_1_2*dz_1_2 + x_2_1*dz_2_1 + x_2_2*dz_2_2")
>>> r.status, r.name
('right', 'dL/dw_1_1')
>>> r = judge_entry(p, "grad_kernel", 1, "x_1_1*dz_1_1 + x_1_2*dz_1_2 + x_2_1*dz_2_1 + x_2_2*dz_2_2")
>>> r.status, r.missing, r.extra
('wrong', ('x_1_2*dz_1_1', 'x_1_3*dz_1_2', 'x_2_2*dz_2_1', 'x_2_3*dz_2_2'), ('x_1_1*dz_1_1', 'x_1_2*dz_1_2', 'x_2_1*dz_2_1', 'x_2_2*dz_2_2'))
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

import numpy as np

from ..errors import AnswerError, SymgradError
from ..spec import CHECK_MAX_TERMS
from ..values import ValuesError, flatten, kept_axes
from .answers import AnswerFile, AnswerFileError
from .parse import MAX_TEXT
from .poly import MAX_FILE_WORK, Budget, Poly, number_text, reading_order
from .problem import DEFAULT_TOLERANCE, Problem
from .report import SLIPS, EntryVerdict, FileReport, KeyReport, shared_slip

SHOWN_TERMS = 50  # missing / extra terms kept per entry


# --- comparing


def same(problem: Problem, x: Poly, y: Poly) -> bool:
    """Equal as polynomials (coefficients within the problem's tolerance, for a problem with values);
    no sorting or listing, so the slip checks of a huge wrong answer stay cheap."""
    if x.terms == y.terms:
        return True
    if problem.tolerance is None:
        return False
    return all(_close(problem, x.terms.get(m, 0), y.terms.get(m, 0)) for m in x.terms.keys() | y.terms.keys())


def differences(problem: Problem, answer: Poly, expected: Poly) -> tuple[list, list]:
    """(missing, extra): expected terms the answer lacks (or has with another coefficient), and
    answer terms that should not be there, each in reading order (ordered_terms)."""
    if answer.terms == expected.terms:
        return [], []
    given, wanted = answer.terms, expected.terms
    if problem.tolerance is None:
        missing = [(m, c) for m, c in wanted.items() if given.get(m) != c]
        extra = [(m, c) for m, c in given.items() if wanted.get(m) != c]
    else:
        missing = [(m, c) for m, c in wanted.items() if not _close(problem, given.get(m, 0), c)]
        extra = [(m, c) for m, c in given.items() if not _close(problem, c, wanted.get(m, 0))]
    return sorted(missing, key=reading_order), sorted(extra, key=reading_order)


def _close(problem: Problem, a, e) -> bool:
    if problem.tolerance is None:
        return a == e
    return abs(a - e) <= problem.tolerance * max(1, abs(e))


# --- judging


def judge_entry(problem: Problem, key: str, e: int, item, budget: Budget | None = None,
                answer: Poly | None = None) -> EntryVerdict:
    """The verdict on one answer entry (a string to parse, or a number; `answer`: the string already parsed)."""
    index, name = problem.entry_labels(key)[e]
    if type(item) is str:
        text = item
    elif isinstance(item, Number):
        text, item = item.text, item.value
    else:
        text = number_text(item)
    verdict = partial(EntryVerdict, key, index, name, answer=text)
    if isinstance(item, str) and (not item or item.isspace()):
        return verdict("unanswered")
    try:
        if answer is None:
            answer = problem.parse(item, budget, key == "forward") if isinstance(item, str) else Poly.const(item)
    except AnswerError as error:
        return verdict("error", message=str(error))
    expected = problem.expected(key)[e]
    if answer.terms == expected.terms:  # most answers: no differences to list
        return EntryVerdict.right(key, index, name, text)
    missing, extra = differences(problem, answer, expected)
    if not missing and not extra:
        return verdict("right")
    variants = problem.variants(key) if answer.terms else ()  # a 0 matching a slip's 0 proves nothing
    slips = tuple(slip for slip, variant in variants
                  if any(not same(problem, c, expected) and same(problem, answer, c) for c in variant(e)))
    message = ""
    if _constant(expected) is not None and _constant(answer) is not None:  # numbers: say them, not terms
        value = _constant(expected)
        shown = str(value) if problem.numeric is not None and problem.numeric.exact and isinstance(value, Fraction) else number_text(value)
        why = ""
        if shown == text.strip():  # alike on paper: show every digit, and say why they still differ
            shown = repr(float(value))
            why = ": equal within rounding, but --tolerance 0 compares exactly" if not problem.tolerance else ""
        message = f"expected {shown}, you wrote {text}{why}"
    return verdict("wrong", missing=tuple(problem.term_text(m, c) for m, c in missing[:SHOWN_TERMS]),
                   extra=tuple(problem.term_text(m, c) for m, c in extra[:SHOWN_TERMS]),
                   missing_count=len(missing), extra_count=len(extra), slips=slips, message=message)


def _constant(p: Poly):
    """The number a polynomial is, or None when it has a symbol."""
    if any(monomial for monomial in p.terms):
        return None
    return p.terms.get((), 0)


def _answer_leaf(item, path: str, where: str):
    """One answer entry from the file: its text, or a number (int / float as written)."""
    if isinstance(item, str):
        if len(item) > MAX_TEXT:
            raise ValuesError(f"{where}: {path} has {len(item):,} characters; at most {MAX_TEXT:,} are allowed")
        return item
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        from .answers import _kind

        raise ValuesError(f'{where}: {path} is {_kind(item)}; expected a string like "x_1_1*dz_1_1 + ..." or a number')
    if isinstance(item, float):
        if item != item or item in (float("inf"), float("-inf")):
            raise ValuesError(f"{where}: {path} is {item}, not a finite number")
        return Number(Fraction(repr(item)), repr(item))
    if abs(item) >= 10**40:
        raise ValuesError(f"{where}: {path} is a number with more than 40 digits")
    return Number(Fraction(item), str(item))


def _plain_answers(row: list) -> bool:
    """A row of answers that _answer_leaf would take as they are: strings within the length limit."""
    return all(type(item) is str for item in row) and max(map(len, row)) <= MAX_TEXT


@dataclass(frozen=True)
class Number:
    """A number given as an answer: its exact value (a float's decimal digits) and the text it was written as."""

    value: Fraction
    text: str


def judge_key(problem: Problem, path: str, key: str, value, budget: Budget | None = None) -> KeyReport:
    """One tensor of a file's answers judged: every entry, or why the tensor cannot be read."""
    group = problem.answer_group(key)
    report = partial(KeyReport, key, group.shape)
    where = f"{path}: [answer]"
    if value is _UNANSWERED:
        return report(tuple(judge_entry(problem, key, e, "") for e in range(group.size)),
                      note="not answered (the key is missing from [answer])")
    try:
        entries = flatten(key, value, group, where, leaf=_answer_leaf, accept=_plain_answers)
        kept = kept_axes(value, group)
    except ValuesError as error:
        entries = _padded_answer(problem, key, value, group, where)
        if entries is None:
            return report(error=str(error).removeprefix(f"{path}: "))
        spec = problem.spec
        verdicts = tuple(_padded_verdict(judge_entry(problem, key, e, item, budget)) for e, item in enumerate(entries))
        return report(verdicts, note=(
            f"dL/dX was given in the padded shape {'x'.join(map(str, spec.padded_size))}; crop the padding "
            f"{'x'.join(map(str, spec.padding))} from each side to get {'x'.join(map(str, spec.input_size))} "
            "(each entry is judged at its place inside the padding)"))
    verdicts = _zeros_join_the_slip(problem, key, _judge_entries(problem, key, entries, budget))
    return report(verdicts, note=shared_slip(verdicts), kept=kept)


def _judge_entries(problem: Problem, key: str, entries: list, budget: Budget | None) -> tuple[EntryVerdict, ...]:
    """judge_entry on every entry, with the common cases made cheap: a right answer of the common shape
    (its terms looked up, terms.py), a mistake the class made before (its verdict kept by polynomial),
    and an answer written exactly as in another file (its verdict kept by text: a class handed the
    same generator, or copying, writes the same strings)."""
    expected, labels, forward = problem.expected_ids(key), problem.entry_labels(key), key == "forward"
    seen = problem.wrong_verdicts  # a class makes the same mistakes: (key, entry, answer) -> its verdict
    by_text, once = problem.answer_verdicts, problem.seen_answers
    verdicts = []
    for e, item in enumerate(entries):
        answer = None
        if type(item) is str:
            written = (key, e, item)
            verdict = by_text.get(written)
            if verdict is not None:
                verdicts.append(verdict)
                continue
            ids = problem.quick_ids(item, forward)
            if ids is not None:
                if ids == expected[e]:
                    index, name = labels[e]
                    verdict = EntryVerdict.right(key, index, name, item)
                else:
                    mistake = (key, e, tuple(ids))
                    verdict = seen.get(mistake)
                    if verdict is None:
                        verdict = judge_entry(problem, key, e, item, budget, problem.poly_of_ids(ids))
                        if len(seen) < 100_000 and not verdict.message:  # (a message may quote the answer)
                            seen[mistake] = verdict
                    else:
                        verdict = verdict.answered(item)
                verdicts.append(verdict)
                _remember(written, verdict, by_text, once)
                continue
        verdicts.append(judge_entry(problem, key, e, item, budget, answer))
    return tuple(verdicts)


MAX_REMEMBERED = 50_000  # answers kept by text, per problem


def _remember(written: tuple, verdict: EntryVerdict, by_text: dict, once: set) -> None:
    """Keep an answer's verdict by its text the second time the text is seen (so a class of answers that
    are all different keeps no text, and one of repeated answers judges each only once)."""
    mark = hash(written)
    if mark not in once:
        if len(once) < 20 * MAX_REMEMBERED:
            once.add(mark)
    elif len(by_text) < MAX_REMEMBERED and not verdict.message:
        by_text[written] = verdict


def _zeros_join_the_slip(problem: Problem, key: str, verdicts: tuple[EntryVerdict, ...]) -> tuple[EntryVerdict, ...]:
    """A wrong 0 proves nothing alone, but when every other wrong entry shows one slip and that slip gives
    this entry 0 too, the 0 is part of the slip: it is tagged with it."""
    wrong = [v for v in verdicts if v.status == "wrong"]
    slipped = [v for v in wrong if v.slips]
    zeros = [e for e, v in enumerate(verdicts) if v.status == "wrong" and not v.slips and _is_zero(problem, key, v.answer)]
    if not slipped or not zeros or len(slipped) + len(zeros) != len(wrong):
        return verdicts
    shared = set(slipped[0].slips).intersection(*(set(v.slips) for v in slipped[1:]))
    variants = dict(problem.variants(key))
    for slip in (s for s in SLIPS if s in shared):
        if all(any(not c.terms for c in variants[slip](e)) for e in zeros):
            tagged = list(verdicts)
            for e in zeros:
                tagged[e] = dataclasses.replace(tagged[e], slips=(slip,))
            return tuple(tagged)
    return verdicts


def _is_zero(problem: Problem, key: str, text: str) -> bool:
    try:
        return not problem.parse(text, None, key == "forward").terms
    except AnswerError:
        return False


def _judge_any_key(problem, path: str, key: str, value, budget: Budget) -> KeyReport:
    """judge_key for a layer's problem, or for a network's `stageK.key` by that stage's problem."""
    if problem.layer != "net":
        return judge_key(problem, path, key, value, budget)
    stage, inner = problem.stage_problem(key)
    report = judge_key(stage, path, inner, value, budget)
    verdicts = tuple(dataclasses.replace(v, key=key) for v in report.verdicts)
    return dataclasses.replace(report, key=key, verdicts=verdicts, error=report.error.replace(f"[answer]: \"{inner}\"", f"[answer.{key.split('.')[0]}]: \"{inner}\""))


def _padded_answer(problem: Problem, key: str, value, group, where: str):
    """The entries of a grad_input given in the padded shape (the interior, row-major), else None."""
    spec = problem.spec
    if key != "grad_input" or not any(spec.padding):
        return None
    padded_group = dataclasses.replace(group, shape=(group.shape[0], *spec.padded_size))
    try:
        entries = flatten(key, value, padded_group, where, leaf=_answer_leaf)
    except ValuesError:
        return None
    grid = np.empty(len(entries), dtype=object)
    grid[:] = entries
    grid = grid.reshape(padded_group.shape)
    inner = grid[(slice(None),) + tuple(slice(p, p + n) for p, n in zip(spec.padding, spec.input_size))]
    return list(inner.ravel())


def _padded_verdict(v: EntryVerdict) -> EntryVerdict:
    """An entry of a dL/dX given in the padded shape: never right, and it shows padding_not_cropped."""
    if v.status == "right":
        v = dataclasses.replace(v, status="wrong", message="right value, but dL/dX was given in the padded shape")
    if v.status == "wrong" and "padding_not_cropped" not in v.slips:
        v = dataclasses.replace(v, slips=(*v.slips, "padding_not_cropped"))
    return v


_UNANSWERED = object()  # an asked key the file left out: every entry unanswered (see judge_key)


def _problem_error(path: str, error: Exception) -> AnswerFileError:
    """A layer or values error of a file's problem, said in the file's terms: "[problem] stride ..."."""
    where = "[problem.values]" if isinstance(error, ValuesError) else "[problem]"
    message = str(error).removeprefix("values: ").removeprefix("values ")
    # the file's keys, not the command line's options: "stride", not "--stride"
    message = re.sub(r"--(?!max-terms)([a-z]+(?:-[a-z]+)*)", lambda m: m.group(1).replace("-", "_"), message)
    return AnswerFileError(f"{path}: {where} {message}")


class Judge:
    """Judges answer files, building each distinct problem once (a batch shares them)."""

    def __init__(self, tolerance: float = DEFAULT_TOLERANCE, max_terms: int = CHECK_MAX_TERMS, cache_size: int = 32,
                 reference: str | None = None, variants=None):
        """reference: an answer file (usually the template handed out) whose [problem] and [answer] keys
        every file is judged by: a file cannot change the problem, and a key it leaves out is unanswered.
        variants: a variants.Variants (roster and seed): each file is judged with its student's values."""
        from .answers import load_answer_file, require_answers

        self.tolerance = tolerance
        self.max_terms = max_terms
        self.cache_size = cache_size
        self.reference_path = reference
        self.variants = variants
        self._problems: dict[str, Problem] = {}
        self.reference = None
        if reference is not None:  # a bad reference fails the whole run, before any file is judged
            try:
                self.reference = load_answer_file(reference)
                self.problem(self.reference)
                require_answers(self.reference)
            except SymgradError as error:
                raise type(error)(f"--problem {error}") from None

    def settings(self) -> dict:
        """What builds an equal judge (in another process)."""
        return {"tolerance": self.tolerance, "max_terms": self.max_terms, "cache_size": self.cache_size,
                "reference": self.reference_path, "variants": self.variants}

    def problem(self, answer_file: AnswerFile) -> Problem:
        import json

        key = json.dumps([answer_file.layer, answer_file.options, answer_file.values], sort_keys=True, default=str)
        if key not in self._problems:
            try:
                if answer_file.layer == "net":
                    from .net import NetProblem

                    problem = NetProblem.build(answer_file.options, answer_file.values, self.tolerance, self.max_terms)
                else:
                    problem = Problem.build(answer_file.layer, answer_file.options, answer_file.values, self.tolerance, self.max_terms)
            except SymgradError as error:
                raise _problem_error(answer_file.path, error) from None
            if len(self._problems) >= self.cache_size:
                self._problems.pop(next(iter(self._problems)))
            self._problems[key] = problem
        return self._problems[key]

    def judge_file(self, path: str) -> FileReport:
        """One file judged; never raises: an unusable file is a report with its error (internal=True
        for a bug, so the batch can exit 3)."""
        from .answers import load_answer_file, require_answers

        student, described, keys, notes = "", "", [], []
        try:
            answer_file = load_answer_file(path, self.reference)
            student = answer_file.student
            if self.reference is not None:
                ref = self.reference
                ours, theirs = (answer_file.layer, answer_file.options, answer_file.values), (ref.layer, ref.options, ref.values)
                if answer_file.layer is None:
                    notes.append(f"it has no usable [problem]; judged against the reference {ref.path}")
                elif ours[: 2 if self.variants else 3] != theirs[: 2 if self.variants else 3]:  # (variants: values differ)
                    notes.append(f"its [problem] differs from the reference {ref.path}; judged against the reference's problem")
                extra = [k for k in answer_file.answers or {} if k not in ref.answers]
                if extra:
                    notes.append(f"[answer] {', '.join(extra)} not asked for in {ref.path}; not judged")
                answers = {k: (answer_file.answers or {}).get(k, _UNANSWERED) for k in ref.answers}
                answer_file = dataclasses.replace(ref, path=path, student=answer_file.student, answers=answers)
            if self.variants is not None:
                try:
                    answer_file = self.variants.apply(answer_file, notes)
                except AnswerFileError:
                    raise
                except SymgradError as error:  # the layer's options, found bad while drawing its values
                    raise _problem_error(path, error) from None
            if self.reference is None:
                self.problem(answer_file)  # a bad problem is named before missing answers
                require_answers(answer_file)
            problem = self.problem(answer_file)
            described = problem.describe()
            unknown = [k for k in answer_file.answers if k not in problem.answer_keys()]
            if unknown and problem.layer == "net":
                raise AnswerFileError(f"{path}: [answer] has {unknown[0]}, which this network's stages do not have (or "
                                      f"cannot be judged without values); expected some of {', '.join(problem.answer_keys())}")
            if unknown:
                raise AnswerFileError(f"{path}: [answer] has grad_bias, but the layer has no bias (add bias = true to [problem])")
            budget = Budget(MAX_FILE_WORK)
            for key in problem.answer_keys():
                if key in answer_file.answers:
                    keys.append(_judge_any_key(problem, path, key, answer_file.answers[key], budget))
        except SymgradError as error:
            return FileReport(path, student, described, error=str(error), notes=tuple(notes))
        except RecursionError:
            return FileReport(path, student, described, error=f"{path}: is nested too deeply", notes=tuple(notes))
        except MemoryError:
            return FileReport(path, student, described, notes=tuple(notes),
                              error=f"{path}: is too large to judge in memory; use a smaller problem or --max-terms")
        except Exception as error:  # a bug: judge the other files, report it, exit 3
            return FileReport(path, student, described, internal=True, notes=tuple(notes), error=(
                f"{path}: internal error ({type(error).__name__}: {' '.join(str(error).split())[:200]}); please report it"))
        return FileReport(path, student, described, tuple(keys), notes=tuple(notes))
