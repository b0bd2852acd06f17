"""The report model of `symgrad check`: what was judged, entry by entry, and what a batch adds up to.

Plain frozen data, built by judge.py and laid out by render/check.py and check_text.py (text, JSON, Gradescope,
Markdown); nothing here judges, prints or imports rich. The batch's outcome is here too: the one error
line for stderr (`error_line`) and the exit code (`exit_code`), so every front end tells a class's
result the same way.

>>> right = FileReport("a.toml", keys=(KeyReport("grad_bias", (1,), (EntryVerdict("grad_bias", (0,), "dL/db_1", "right"),)),))
>>> wrong = FileReport("b.toml", keys=(KeyReport("grad_bias", (1,), (EntryVerdict("grad_bias", (0,), "dL/db_1", "wrong"),)),))
>>> unusable = FileReport("c.toml", error="c.toml: is not valid TOML")
>>> [r.status for r in (right, wrong, unusable)], exit_code([right, wrong]), exit_code([right, wrong, unusable])
(['right', 'wrong', 'error'], 1, 2)
>>> print(error_line([right]))
None
>>> error_line([wrong, unusable])
'c.toml: is not valid TOML'
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from itertools import chain, compress, repeat
from operator import attrgetter, eq


SLIPS = {  # the slips a wrong entry may show (slips.py computes them), and how reports describe them
    "no_rot180": "dL/dX computed without rot180 (the kernel was not rotated by 180°)",
    "no_dilation": "dL/dZ not dilated by the stride (stride > 1 needs stride-1 zeros between its entries)",
    "padding_not_cropped": "padding not cropped (the answer keeps rows or columns of the padding; dL/dX is the "
                           "padded gradient with p cut from each side)",
    "no_fold": "the padded gradient cropped instead of folded (with reflect, replicate or circular padding the padded "
               "cells are copies, so their gradient must be added into the cells they copy)",
    "rows_cols_swapped": "row and column indices swapped",
    "every_cell": "the max-pool gradient given to every cell of the window, not only to its maximum",
    "averaged": "the max-pool gradient averaged over the window, as for average pooling",
    "not_divided": "the average-pool gradient not divided by the window size",
    "ties_split": "a tie for the maximum shared among the tied cells, where this problem gives it to the first "
                  "(ties = \"first\", PyTorch's choice)",
    "wrong_divisor": "the average-pool gradient divided by the full window size, where PyTorch divides this window by "
                     "fewer cells (count_include_pad=False, ceil mode or adaptive windows)",
    "activation_derivative_left_out": "the activation's derivative left out (dL/dz written as dL/da)",
    "relu_slope_one_at_zero": "ReLU's derivative at 0 taken as 1 (it is 0, as in PyTorch)",
    "loss_gradient_sign": "the loss gradient's sign flipped (softmax-ce: t − p instead of p − t)",
    "update_added": "the update added: w + α·dL/dw instead of w − α·dL/dw",
    "lr_not_applied": "the learning rate not applied: w − dL/dw instead of w − α·dL/dw",
}
TITLES = {"forward": "forward", "grad_kernel": "dL/dW", "grad_input": "dL/dX", "grad_bias": "dL/db"}
STAGE_TITLES = {"forward": "forward", "grad_input": "dL/d(input)", "grad_kernel": "dL/dW", "grad_weight": "dL/dV",
                "grad_bias": "dL/db", "new_kernel": "updated W", "new_weight": "updated V", "new_bias": "updated b"}


def title(key: str) -> str:
    """How reports name an answer key: dL/dW, or `stage 2 dL/d(input)` for a network's stage2.grad_input."""
    if "." in key:
        stage, inner = key.split(".", 1)
        return f"stage {stage.removeprefix('stage')} {STAGE_TITLES.get(inner, inner)}"
    return TITLES[key]



@dataclass(frozen=True)
class EntryVerdict:
    """One answer entry judged."""

    key: str  # grad_kernel, grad_input, grad_bias or forward
    index: tuple[int, ...]  # 0-based, in the tensor's full shape (channels first)
    name: str  # dL/dw_1_2, or z_1_1 for forward
    status: str  # right | wrong | unanswered | error
    answer: str = ""  # as written (a number as its text)
    missing: tuple[str, ...] = ()  # expected terms the answer lacks (the first few; missing_count counts all)
    extra: tuple[str, ...] = ()  # answer terms that should not be there
    missing_count: int = 0
    extra_count: int = 0
    slips: tuple[str, ...] = ()  # ids of SLIPS the wrong answer equals
    message: str = ""  # why it could not be read (status error), or what else is wrong

    @classmethod
    def right(cls, key: str, index: tuple[int, ...], name: str, answer: str) -> "EntryVerdict":
        """A right entry, made without the frozen __init__ (a sixth of the cost: a batch makes tens of
        thousands); the other fields are the class's defaults, as __init__ would leave them."""
        verdict = object.__new__(cls)
        verdict.__dict__.update(key=key, index=index, name=name, status="right", answer=answer)
        return verdict

    def answered(self, answer: str) -> "EntryVerdict":
        """This verdict for another answer written otherwise (the same polynomial: the same verdict)."""
        verdict = object.__new__(type(self))
        verdict.__dict__.update(self.__dict__, answer=answer)
        return verdict


def shared_slip(verdicts: list[EntryVerdict]) -> str:
    """A tensor's note when every wrong entry (two or more) shows one slip; else ""."""
    wrong = [v for v in verdicts if v.status == "wrong"]
    if len(wrong) < 2:
        return ""
    shared = set(wrong[0].slips).intersection(*(set(v.slips) for v in wrong[1:]))
    if not shared:
        return ""
    slip = next(s for s in SLIPS if s in shared)
    return f"all {len(wrong)} wrong entries match one slip: {SLIPS[slip]}"


@dataclass(frozen=True)
class KeyReport:
    """One tensor of answers ([answer] grad_kernel = [...]) judged."""

    key: str
    shape: tuple[int, ...]
    verdicts: tuple[EntryVerdict, ...] = ()
    error: str = ""  # the whole tensor could not be read (wrong shape)
    note: str = ""  # e.g. a slip shared by every wrong entry
    kept: tuple[int, ...] | None = None  # the axes the file's nesting has (size-1 channel levels may be left out)

    def file_index(self, index: tuple[int, ...]) -> tuple[int, ...]:
        """An entry's index as the file nests it: answer.grad_kernel[1][0] for a 2x2 kernel written
        without its channel levels, not [0][0][1][0]."""
        return index if self.kept is None else tuple(index[axis] for axis in self.kept)

    @property
    def max_score(self) -> int:
        return math.prod(self.shape)

    @property
    def note_names_the_slip(self) -> bool:
        """The note is the one that says every wrong entry shows one slip (so entries need not repeat it)."""
        return bool(self.note) and self.note == shared_slip(list(self.verdicts))

    @cached_property  # (reports are frozen: counted once, however often a renderer asks)
    def score(self) -> int:
        return sum(v.status == "right" for v in self.verdicts)


@dataclass(frozen=True)
class FileReport:
    """One answer file judged."""

    path: str
    student: str = ""
    problem: str = ""  # the layer in a few words
    keys: tuple[KeyReport, ...] = ()
    error: str = ""  # the file is unusable
    internal: bool = False  # an unexpected error (a bug), not the file's fault
    notes: tuple[str, ...] = ()  # e.g. the file's [problem] differs from the reference

    @cached_property
    def score(self) -> int:
        return sum(k.score for k in self.keys)

    @property
    def max_score(self) -> int:
        return sum(k.max_score for k in self.keys)

    @cached_property
    def errors(self) -> list[str]:
        """One line per unusable part: the file, a tensor, or an entry."""
        if self.error:
            return [self.error]
        out = []
        for k in self.keys:
            if k.error:
                out.append(f"{self.path}: {k.error}")
            out += [f"{self.path}: answer.{v.key}{_index_text(k.file_index(v.index))}: {v.message}"
                    for v in k.verdicts if v.status == "error"]
        return out

    def digest(self) -> "FileReport":
        """This report as a batch's summary and exit code need it (statuses, slips, errors), without what
        its part of the report shows (answers, missing and extra terms). A process's digests share their
        verdicts (a right entry's is one object for the class), so a worker's run of them pickles small and
        loads fast in the parent, which would otherwise spend longer loading reports than judging."""
        keys = tuple(replace(k, verdicts=tuple(map(_digested, k.verdicts))) for k in self.keys)
        return replace(self, keys=keys)

    @cached_property
    def status(self) -> str:
        """right (every entry right), wrong, or error (unusable, or an entry could not be read)."""
        if self.errors:
            return "error"
        return "right" if self.score == self.max_score else "wrong"


def _digested(v: EntryVerdict) -> EntryVerdict:
    """`v` without its answer and terms, one object for all that are alike."""
    return _digest(v.key, v.index, v.name, v.status, v.slips, v.message, v.missing_count, v.extra_count)


@lru_cache(maxsize=200_000)
def _digest(key: str, index: tuple, name: str, status: str, slips: tuple, message: str, missing_count: int,
            extra_count: int) -> EntryVerdict:
    return EntryVerdict(key, index, name, status, slips=slips, message=message, missing_count=missing_count,
                        extra_count=extra_count)


def _index_text(index: tuple[int, ...]) -> str:
    return "".join(f"[{i}]" for i in index)


# --- a batch of files


def summary(reports: list[FileReport], statistics: bool = True) -> dict:
    """Counts over a batch: files, right, wrong, unusable (the file could not be judged at all),
    with_unreadable_entries (judged, but some entries could not be read), score, max_score; and
    the class_statistics unless statistics=False."""
    return {
        "files": len(reports),
        "right": sum(r.status == "right" for r in reports),
        "wrong": sum(r.status == "wrong" for r in reports),
        "unusable": sum(r.status == "error" and bool(r.error) for r in reports),
        "with_unreadable_entries": sum(r.status == "error" and not r.error for r in reports),
        "score": sum(r.score for r in reports),
        "max_score": sum(r.max_score for r in reports),
        **(class_statistics(reports) if statistics else {}),
    }


def class_statistics(reports: list[FileReport]) -> dict:
    """What a teacher re-teaches: `slips`, for each slip the number of files showing it (most first), and
    `entries`, for each answer entry the files that got it right out of the files that were judged on it."""
    slips: dict[str, int] = {}
    judged: dict[str, Counter] = {}  # answer key -> files judged on each entry (by name)
    right: dict[str, Counter] = {}
    for r in reports:
        shown: set[str] = set()
        for k in r.keys:
            names = list(map(_NAME, k.verdicts))
            judged.setdefault(k.key, Counter()).update(names)
            right.setdefault(k.key, Counter()).update(compress(names, map(eq, map(_STATUS, k.verdicts), repeat("right"))))
            shown.update(chain.from_iterable(map(_SLIPS, k.verdicts)))
        for slip in shown:
            slips[slip] = slips.get(slip, 0) + 1
    order = list(SLIPS)
    return {"slips": dict(sorted(slips.items(), key=lambda item: (-item[1], order.index(item[0])))),
            "entries": [{"key": key, "name": name, "right": right[key][name], "files": files}
                        for key, counts in judged.items() for name, files in counts.items()]}


_NAME, _STATUS, _SLIPS = attrgetter("name"), attrgetter("status"), attrgetter("slips")


def error_line(reports: list[FileReport]) -> str | None:
    """The one line for stderr when some part of a batch is unusable: the first problem, and how many
    more the report lists (`(and 4 more problems in 3 files; the report lists them all)`); None when
    every file and entry could be read."""
    problems = [(report.path, line) for report in reports for line in report.errors]
    if not problems:
        return None
    files = len({path for path, _ in problems})
    more = len(problems) - 1
    rest = "" if not more else (f" (and {more} more problem{'s' if more > 1 else ''}"
                                + (f" in {files} files" if files > 1 else "") + "; the report lists them all)")
    return problems[0][1] + rest


def exit_code(reports: list[FileReport]) -> int:
    """3 an internal error (a bug) in some file; 2 a file or an entry unusable; 1 an entry wrong or
    unanswered; 0 every entry right."""
    if any(r.internal for r in reports):
        return 3
    if any(r.status == "error" for r in reports):
        return 2
    if any(r.status == "wrong" for r in reports):
        return 1
    return 0
