"""One document model for every format: a derivation as headings, prose, equations and matrices.

`build(derivation, settings, notation)` returns a `Document`: a list of blocks whose math is written in
one notation (unicode for the terminal, TeX for LaTeX, Markdown and the notebook; see notation.py).
The facts are computed once, here and in the layer kind's content (layers/<kind>.py); the renderers
only lay the blocks out (wrap, break, align, window the matrices). One summarising policy
(`DocumentSettings.choose`) decides for every format how many entries, terms and matrix slices are
shown, and every cut is followed by a note saying what was left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import printable
from ..losses import grad_output_rule
from ..naming import latex_letter, unicode_name
from ..tensor import ONE, ZERO, Terms
from .blocks import Document, Equation, Figure, Grid, Heading, Matrix, Para, Statement  # (re-exported)
from .common import entry_terms, matrix_slices, signed_terms
from .notation import LATEX, M, Notation

_SUBSCRIPT = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")

# Up to this many product terms, a document shows every entry and every term (like --full).
DOCUMENT_TERMS = 20_000
HOW_TO_SEE_ALL = "use --full for every entry and term, or --format json"
SMALL_RESULT = 36  # a symbolic gradient of at most this many entries ...
SMALL_SUM = 4  # ... each a sum of at most this many terms is also shown as a matrix


@dataclass(frozen=True)
class DocumentSettings:
    show: frozenset[str] | None = None  # None: every section of the kind
    max_entries: int | None = None  # None: every entry
    max_terms: int | None = None  # None: every term of every sum
    full_matrices: bool = False
    max_slices: int | None = 3
    figures: tuple[str, str] | None = None  # (folder, file extension) of the pictures to embed, or None
    delta: bool = False  # --notation delta: the incoming gradients ∂L/∂z₁₁ written δ₁₁

    @classmethod
    def choose(cls, d, show: frozenset[str] | None = None, full: bool = False, budget: int = DOCUMENT_TERMS) -> "DocumentSettings":
        """The one summarising policy: everything with `full` or when the derivation has at most `budget`
        product terms and entries (the terminal's budget is 0); otherwise 25 entries per section,
        12 terms per sum and 3 slices per tensor."""
        if full:
            return cls(show, None, None, True, None)
        if document_size(d) <= budget:
            return cls(show, max_slices=None)
        return cls(show, max_entries=25, max_terms=12)


def document_size(d) -> int:
    """Product terms and entries a document of `d` would show in full (a network: all its stages)."""
    if hasattr(d, "stages"):
        return sum(document_size(stage.d) for stage in d.stages)
    entries = d.symbols["output"].size + sum(table.size for _, table in d.gradients())  # a zero entry is a row too
    return d.forward_terms + sum(len(table) for _, table in d.gradients()) + entries


def build(d, settings: DocumentSettings | None = None, notation: Notation = LATEX) -> Document:
    """A layer's document (compose.build also takes a network)."""
    return Builder(d, settings or DocumentSettings.choose(d), notation).document()


# dL/dW, X_col, W_rowᵀ, x₁₂ (a symbol as the terminal writes it) in a note
_FORMULA = re.compile(r"\b(dL/d[A-Za-z]|[A-Z]_(?:col|row)ᵀ?|[A-Za-z][₀₁₂₃₄₅₆₇₈₉]+(?:,[₀₁₂₃₄₅₆₇₈₉]+)*)(?![A-Za-z])")
_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_WORDED = re.compile(r"(.*?)((?<![A-Za-z])[A-Za-z]|dL/d[A-Za-z])?")  # "the kernel W", "dL/dZ": words, then a symbol


def values_phrase(numeric) -> str:
    """`values from v.json`, or `values given` when they came as a dict from Python."""
    if numeric.source == "":
        return "values given"
    if numeric.source == "-":
        return "values from standard input"
    if numeric.source.startswith("/dev/"):
        return f"values from {printable(numeric.source)}"
    return f"values from {printable(Path(numeric.source).name)}"  # the file's name: no directories in a worked solution


def _parts(parts) -> tuple[tuple[str, str], ...]:
    """Plain strings are text; (kind, text) pairs are kept."""
    return tuple(("text", p) if isinstance(p, str) else p for p in parts)


class Builder:
    """Writes the blocks. The layer kind's content calls it section by section (kind.content); the
    sums, gradients, matrices and identities that every kind has are written here."""

    def __init__(self, d, settings: DocumentSettings, notation: Notation, level: int = 2, in_net: bool = False):
        self.d, self.s, self.n = d, settings, notation
        self.level, self.in_net = level, in_net  # heading level of the sections; a stage of a network
        self.sym, self.num = d.symbols, d.numeric
        self.content = d.kind.content
        g = self.sym["grad_output"]
        self.g0, self.g_end = g.offset, g.offset + g.size
        self.out0 = self.sym["output"].offset
        self.t0 = self.sym["target"].offset if "target" in self.sym.groups else -1
        self.blocks: list = []

    def document(self) -> Document:
        show = self.s.show if self.s.show is not None else frozenset(self.d.kind.sections)
        if self.s.delta and self.g_end > self.g0:
            z = self.n.symbol(self.sym, self.out0)
            self.para("Notation: ", ("math", self.dl_dz(self.g0)), " stands for ", ("math", self.n.partial("L", z)),
                      ", the gradient arriving at output ", ("math", z), " (and likewise for every output).", small=True)
        if "setup" in show:
            self.content.setup(self)
        if "forward" in show:
            self.content.forward(self)
            self.figure("forward")
        self.gradients(show)
        if "identities" in show:
            self.content.identities(self)
        if "im2col" in show and hasattr(self.content, "im2col"):
            self.content.im2col(self)
        if "update" in show and hasattr(self.content, "update"):
            self.content.update(self)
        return Document(tuple(self.content.title(self.d)), tuple(self.blocks), self.s.full_matrices)

    def gradients(self, show) -> None:
        """Each gradient section shown: the kind's introduction, every entry, the result as a matrix."""
        for key, table in self.d.gradients():
            if key.replace("_", "-") in show:
                self.content.gradient_intro(self, key)
                self.gradient_entries(key, table)
                self.result_matrix(key, self.n.partial("L", self.d.tensor_name(key)))
                self.figure(key)

    def figure(self, section: str) -> None:
        """With --figures: the picture of the pass this section shows (the kind says which)."""
        if self.s.figures is None or self.in_net:
            return
        passes = dict(self.d.kind.figures)
        if section in passes:
            folder, ext = self.s.figures
            kind = "animation" if ext in ("gif", "svg") else "frames"
            self.blocks.append(Figure(f"{folder}/{passes[section]}.{ext}",
                                      f"The {passes[section]} pass, one step a frame ({kind}; symgrad animate)."))

    # --- names, in this notation

    def pick(self, m: M | str) -> str:
        return self.n.pick(m)

    def name(self, i: int) -> str:
        if i == ONE:
            return "1"
        special = self.content.name(self, int(i))
        return special if special is not None else self.n.symbol(self.sym, i)

    def z_of(self, g: int) -> str:
        return self.n.symbol(self.sym, self.out0 + int(g) - self.g0)

    def is_grad(self, i: int) -> bool:
        return self.g0 <= i < self.g_end

    def grad_output(self, g: int) -> str:
        """dL/dz_k as the loss defines it."""
        z = self.z_of(g)
        t = self.n.symbol(self.sym, self.t0 + int(g) - self.g0) if self.t0 >= 0 else ""
        return grad_output_rule(self.d.loss, z, t, self.dl_dz(g), self.n.style.minus, self.n.style.paren)

    def dl_dz(self, g: int) -> str:
        """The incoming gradient of output g: ∂L/∂z₁₁, or δ₁₁ with --notation delta."""
        if self.s.delta and not self.in_net:
            sub = self.sym.subscript(self.out0 + int(g) - self.g0)
            return rf"\delta_{{{sub}}}" if self.n.tex else "δ" + sub.translate(_SUBSCRIPT)
        return self.n.partial("L", self.z_of(g))

    def cell(self, i: int) -> str:
        """A matrix cell: a symbol, a dL/dz_k, or 0."""
        if i == ZERO:
            return "0"
        return self.grad_output(i) if self.is_grad(i) else self.name(i)

    def factor(self, i: int) -> tuple[str, bool]:
        """A factor of a product as (text, is_number); the 1 of a bias term (and of --loss sum) is empty."""
        if i == ONE or (self.d.loss == "sum" and self.is_grad(i)):
            return "", True
        return self.cell(i), False

    def plugged(self, i: int) -> tuple[str, bool]:
        """A factor with its number put in, when the values give it one."""
        value = self.num.value(int(i)) if self.num is not None and i != ONE else None
        if value is not None:
            return self.n.number(value), True
        if self.d.loss == "mse" and self.num is not None and self.is_grad(i):
            k = int(i) - self.g0  # dL/dz_k = z_k - t_k with whatever is known put in
            z, t = self.num.output_value(k), self.num.value(self.t0 + k)
            z_text = self.n.number(z) if z is not None else self.z_of(i)
            t_text = self.n.number(t) if t is not None else self.n.symbol(self.sym, self.t0 + k)
            return grad_output_rule("mse", z_text, t_text, "", self.n.style.minus, self.n.style.paren), False
        return self.factor(i)

    def numeric_cell(self, i: int) -> str:
        return "0" if i == ZERO else self.plugged(i)[0]

    # --- blocks

    def heading(self, *parts) -> None:
        self.blocks.append(Heading(_parts(parts), self.level))

    def para(self, *parts, small: bool = False, level: int = 0) -> None:
        self.blocks.append(Para(_parts(parts), small, level))

    def note(self, text: str, level: int = 0) -> None:
        self.para(*self.prose(text), small=True, level=level)

    def prose(self, text: str) -> list:
        """Text with its formulas set as math: `dL/dW` → ∂L/∂W, `X_colᵀ` → X_colᵀ with a subscript (the
        kinds' notes are written for the terminal and the JSON; a document writes formulas, not code)."""
        parts: list = []
        for i, piece in enumerate(_FORMULA.split(text)):
            if i % 2:
                parts.append(("math", self._formula(piece)))
            elif piece:
                parts.append(piece)
        return parts

    def _formula(self, token: str) -> str:
        if token.startswith("dL/d"):
            return self.n.partial("L", token[4:])
        if not self.n.tex:
            return token
        if token[1] != "_":  # x₁₂: the symbol with its subscript
            return f"{token[0]}_{{{token[1:].translate(_SUBSCRIPTS)}}}"
        letter, which = token[0], token[2:5]
        return rf"{letter}_{{\text{{{which}}}}}" + (r"^{\top}" if token.endswith("ᵀ") else "")

    def math(self, m: M | str) -> tuple[str, str]:
        return ("math", self.pick(m))

    def equation(self, lhs: str, rows: list[list[str]], why=()) -> None:
        self.blocks.append(Equation(lhs, tuple(tuple(row or ["0"]) for row in rows), _parts(why)))

    # --- summarising

    def limited(self, shown: int) -> bool:
        return self.s.max_entries is not None and shown >= self.s.max_entries

    def head(self, *arrays):
        """The first max_terms terms of a sum (all of them when unlimited): text is built for those only."""
        limit = self.s.max_terms
        return arrays if limit is None else tuple(x[:limit] for x in arrays)

    def cap(self, terms: list[str], total: int | None = None) -> list[str]:
        """At most max_terms terms, then a marker of how many more the sum has (`total` in all)."""
        limit, total = self.s.max_terms, len(terms) if total is None else total
        if limit is None or total <= limit:
            return terms
        more = f"({total - limit:,} more terms)"
        return terms[:limit] + [(r"+ \dots \text{ " + more + "}") if self.n.tex else f"+ … {more}"]

    def left_out(self, count: int, what: str) -> None:
        if count > 0:
            self.note(f"… {count:,} more {what} not shown; {HOW_TO_SEE_ALL}.")

    # --- sums of products (the forward pass of conv; every gradient)

    def signed(self, items) -> list[str]:
        return signed_terms(items, self.n.style)

    def sum_entries(self, table: Terms, lhs_of: Callable[[int], str], numeric: Terms | None, what: str,
                    only: int | None = None) -> None:
        """Every entry of a table of products (or the one `only`): the sum, and (with values) the numbers put in."""
        shown = 0
        for k, a, b, coef in entry_terms(table):
            if only is not None and k != only:
                continue
            if self.limited(shown):
                break
            total = len(a)
            a, b, coef = self.head(a, b, coef)
            rows = [self.cap(self.signed([(c, [self.factor(ai), self.factor(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]), total)]
            if numeric is not None:
                rows += self.numeric_rows(a, b, coef, total, numeric, k, rows[-1])
            self.equation(lhs_of(k), rows)
            shown += 1
        if only is None:
            self.left_out(table.size - shown, what)

    def gradient_entries(self, key: str, table: Terms, only: int | None = None) -> None:
        """Every entry (or the one `only`): the chain rule, the local derivatives evaluated, and (with
        values) the numbers."""
        group = self.sym[self.d.kind.gradient_of[key]]
        numeric = self.num.gradients[key] if self.num is not None else None
        divisor = self.d.divisor
        shown = 0
        for index, a, b, coef in entry_terms(table):
            if only is not None and index != only:
                continue
            if self.limited(shown):
                break
            theta = group.offset + index
            lhs = self.n.partial("L", self.name(theta))
            shown += 1
            if a.size == 0:
                self.equation(lhs, [["0"]], why=[f"({self.content.nothing_depends} ", ("math", self.name(theta)), ")"])
                continue
            total = len(a)
            a, b, coef = self.head(a, b, coef)
            times = self.n.style.times
            chain = [self.n.partial(self.z_of(g), self.name(theta)) + times + self.dl_dz(g) for g in a.tolist()]
            rows = [self.cap([t if i == 0 else "+ " + t for i, t in enumerate(chain)], total)]
            if divisor == 1:
                local = self.signed([(c, [self.factor(bi), self.factor(gi)]) for gi, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())])
                plugged = self.signed([(c, [self.plugged(bi), self.plugged(gi)]) for gi, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())])
            else:  # average pooling: every term is dL/dy_k over the window size
                local = [("+ " if i else "") + self.n.scaled(divisor // c, self.grad_output(g)) for i, (g, c) in enumerate(zip(a.tolist(), coef.tolist()))]
                plugged = [("+ " if i else "") + self.n.scaled(divisor // c, self.plugged(g)[0]) for i, (g, c) in enumerate(zip(a.tolist(), coef.tolist()))]
            rows.append(self.cap(local, total))
            if numeric is not None:
                rows += self.numeric_rows(b, a, coef, total, numeric, index, rows[-1], self.cap(plugged, total))
            self.equation(lhs, rows)
        if only is None:
            self.left_out(table.size - shown, f"entries of dL/d{self.d.tensor_name(key)}")

    def numeric_rows(self, a, b, coef, total: int, numeric: Terms, index: int, previous: list[str],
                     plugged: list[str] | None = None) -> list[list[str]]:
        """With values: the sum with the numbers put in (unless it reads as the row before), then what it
        comes to (when that differs)."""
        if plugged is None:
            items = [(c, [self.plugged(ai), self.plugged(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]
            plugged = self.cap(self.signed(items), total)
        lo, hi = np.searchsorted(numeric.entry, [index, index + 1])
        ma, mb, mc = self.head(numeric.a[lo:hi], numeric.b[lo:hi], numeric.coef[lo:hi])
        merged = self.cap(self.signed([(c, [self.plugged(ai), self.plugged(bi)]) for ai, bi, c in zip(ma.tolist(), mb.tolist(), mc.tolist())]), int(hi - lo)) or ["0"]
        rows = [] if plugged == previous else [plugged]
        open_, close = self.n.style.paren
        if len(plugged) == 1 and len(merged) == 1 and plugged[0] == open_ + merged[0] + close:
            rows = [] if merged == previous else [merged]  # (−6) = −6: a single number is not written twice
            return rows
        return rows + ([] if merged == plugged else [merged])

    # --- matrices

    def matrices(self, label: str, ids: np.ndarray, channel_labels: tuple[str, ...], literal: bool = False,
                 cell: Callable | None = None, level: int = 0) -> None:
        """A channel-first tensor as labelled 2-D matrices (1-D as a row, 3-D by depth); with values the
        numbers stand beside the symbols. `literal`: the array holds what to print (numbers, counts)."""
        if ids.ndim <= len(channel_labels):  # a vector (a network's dense or flattened stage): one row
            channel_labels = channel_labels[: max(0, ids.ndim - 1)]
        depth = (lambda k: rf"\text{{depth }}{k}") if self.n.tex else (lambda k: f"depth={k}")
        slices = matrix_slices(ids, channel_labels, depth)
        limit = self.s.max_slices if self.s.max_slices is not None else len(slices)
        for parts, block in slices[:limit]:
            if not parts:
                tag = label
            elif self.n.tex:
                tag = f"{label}^{{({', '.join(parts)})}}" if label else f"({', '.join(parts)})"
            else:
                tag = f"{label} [{', '.join(parts)}]"
            if literal:
                grids = (Grid(block, cell or self.number_cell, literal=True),)
            else:
                grids = (Grid(block, self.cell),)
                if self.num is not None and self.num.any_known(block):
                    grids += (Grid(block, self.numeric_cell),)
            self.blocks.append(Matrix(tag, grids, level))
        if len(slices) > limit:
            more = len(slices) - limit
            self.note(f"… {more} more {'slice' if more == 1 else 'slices'} not shown; use --full to show them all.", level)

    def number_cell(self, value) -> str:
        return "0" if value is None else self.n.number(value)

    def result_matrix(self, key: str, label: str) -> None:
        """The result as a matrix, as a textbook writes it: its numbers (with values, when all are numbers),
        or for a small symbolic gradient its sums (up to SMALL_RESULT entries of at most SMALL_SUM terms)."""
        values = self.num.result(key) if self.num is not None else None
        group = self.sym[self.d.kind.gradient_of.get(key, "output")]
        channel_labels = self.content.channel_labels[group.key]
        cell = None
        if values is None:
            values = self._symbolic_result(key)
            if values is None:
                return
            cell = str
            self.para("As a matrix:")
        else:
            self.para("With the values:")
        if key == "grad_bias":
            values, channel_labels = values.reshape(1, -1), ("",)
        self.matrices(label, values, channel_labels, literal=True, cell=cell)

    def _symbolic_result(self, key: str):
        """A small gradient's entries as their chain-rule sums (local derivatives evaluated), or None."""
        if key == "forward" or self.d.divisor != 1 or self.in_net or not self.n.tex:
            return None  # documents only: the terminal has every entry just above, at its width
        table = dict(self.d.gradients()).get(key)
        if table is None or table.size > SMALL_RESULT:
            return None
        if self.num is not None:  # what each entry comes to with the values put in (the last row of its sum)
            table, order = self.num.gradients[key], lambda a, b: [self.plugged(a), self.plugged(b)]
        else:
            order = lambda g, other: [self.factor(other), self.factor(g)]  # noqa: E731
        texts = []
        for _, a, b, coef in entry_terms(table):
            if len(a) > SMALL_SUM:
                return None
            terms = self.signed([(c, order(ai, bi)) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())])
            texts.append(" ".join(terms) or "0")
        out = np.empty(len(texts), dtype=object)
        out[:] = texts
        return out.reshape(table.shape)

    # --- the update w − α·∂L/∂w

    def update_entries(self, group, gradient: str, known: np.ndarray, new: np.ndarray, lr, channel_labels) -> None:
        """Per entry of a parameter group: its new value w − α·∂L/∂w, with the numbers when known; then
        the new values as a matrix when every one is a number."""
        n, numeric = self.n, self.num
        alpha = r"\alpha" if n.tex else "α"
        values = numeric.result(gradient) if numeric is not None else None
        flat_grad = values.ravel() if values is not None else None
        shown = 0
        for j in range(group.size):
            if self.limited(shown):
                break
            w = n.symbol(self.sym, group.offset + j)
            rows = [[f"{w} {n.style.minus} {alpha}{n.style.times}{n.partial('L', w)}"]]
            rate = n.number(lr)
            if not n.tex and "/" in rate:
                rate = f"({rate})"
            w_value = numeric.value(group.offset + j) if numeric is not None else None
            if w_value is None or flat_grad is None:
                rows.append([f"{w} {n.style.minus} {rate}{n.style.times}{n.partial('L', w)}"])
            else:
                g_text = n.number(flat_grad[j])
                if g_text.startswith(("-", "−")) or (not n.tex and "/" in g_text):
                    g_text = n.style.paren[0] + g_text + n.style.paren[1]
                rows.append([f"{n.number(w_value)} {n.style.minus} {rate}{n.style.times_numbers}{g_text}"])
            if known[j]:
                rows.append([n.number(new[j])])
            self.equation(rf"{{{w}}}^{{\text{{new}}}}" if n.tex else f"new {w}", rows)
            shown += 1
        self.left_out(group.size - shown, "entries")
        if known.all():
            self.para("The updated values:")
            label = "{" + latex_letter(group.letter) + r"_{\text{new}}}" if n.tex else unicode_name(group.letter, "") + " new"
            self.matrices(label, np.asarray(new, dtype=object).reshape(group.shape), channel_labels, literal=True)

    # --- identities

    def identity(self, identity, statement: M | str, notes: tuple[str, ...] | None = None) -> None:
        """A closed form: its statement and verdict, the intermediate matrices and the notes (the
        identity's own, unless the kind gives the ones that apply to this document)."""
        self.blocks.append(Statement(self.pick(statement), identity.holds))
        verdict = "Equals the chain rule" if identity.holds else "DIFFERS from the chain rule"
        tail = ""
        if self.num is not None and identity.name in self.num.identities:
            same = self.num.identities[identity.name]
            tail = " With the values put in, both sides are " + ("equal." if same else "DIFFERENT.")
        self.para(f"{verdict} ({identity.compared_terms:,} terms compared).{tail}", level=1)
        items = list(identity.intermediates)
        flat = lambda ids: ids if ids.ndim == 2 else ids.reshape(1, -1)  # noqa: E731  (1-D: one row)
        if (identity.operator and len(items) >= 2 and items[0].kind == items[1].kind == "symbols"
                and all(item.ids.ndim <= 2 for item in items[:2])
                and not (self.num is not None and any(self.num.any_known(item.ids) for item in items[:2]))):
            first, second = items.pop(0), items.pop(0)  # the closed form as a matrix equation: A ⋆ B
            op = identity.operator if not self.n.tex else {"⋆": r"\star", "·": r"\cdot"}.get(identity.operator, identity.operator)
            parts = []  # "shown for output channel 1" and "... and input channel 1": said once
            for note in (first.note, second.note):
                parts += [part for part in note.removeprefix("shown for ").split(" and ") if note and part not in parts]
            shown_for = "shown for " + " and ".join(parts) if parts else ""
            self.para(*self.label_parts(first.label), " ", ("math", op), " ", *self.label_parts(second.label),
                      (f" ({shown_for})" if shown_for else "") + ":", level=1)
            self.blocks.append(Matrix("", (Grid(flat(first.ids), self.cell), Grid(flat(second.ids), self.cell)), 1, (op,)))
        for item in items:
            self.para(*self.label_parts(item.label), (f" ({item.note})" if item.note else "") + ":", level=1)
            counts = item.kind == "counts"
            self.matrices("", item.ids[None, ...], ("",), literal=counts, cell=str if counts else None, level=1)
        for text in identity.notes if notes is None else notes:
            self.note((text if text.startswith("dL/d") else text[0].upper() + text[1:]) + ".", level=1)

    def label_parts(self, label: str) -> list:
        """An intermediate's label with its math set as math: `dL/dZ dilated ...` → ∂L/∂Z, `X padded` → X,
        `rot180(W)` → rot180(W), so documents write formulas, not code."""
        match = re.match(r"dL/d([A-Z])\b(.*)$", label)
        if match:
            return [("math", self.n.partial("L", match.group(1))), *self.prose(match.group(2))]
        if _FORMULA.match(label):
            return self.prose(label)
        match = re.match(r"rot180\(W( dilated)?\)(.*)$", label)
        if match:
            inner = "W" + (r"_{\text{dilated}}" if self.n.tex and match.group(1) else " dilated" if match.group(1) else "")
            return [("math", (r"\operatorname{rot180}" if self.n.tex else "rot180") + f"({inner})"), match.group(2)]
        match = re.match(r"([A-Z])\b(.*)$", label)
        if match:
            return [("math", match.group(1)), *self.prose(match.group(2))]
        return self.prose(label[:1].upper() + label[1:])

    def output_size(self, formula: M, rows: list[tuple[str, str, int, int]], tail: tuple[int, ...], unread: str,
                    ceil: bool = False) -> None:
        """The output-size arithmetic per axis (axis name, numerator text, stride, output), and the
        floor-stride tail: per axis, the trailing positions of the padded input that `unread`."""
        self.para("Output size per axis (PyTorch's rule): ", self.math(formula), ".")
        lines = []
        for axis, top_text, s, out in rows:
            if self.n.tex:
                lhs = rf"O_{{\text{{{axis}}}}}"
                left, right = (r"\left\lceil", r"\right\rceil") if ceil else (r"\left\lfloor", r"\right\rfloor")
                lines.append(Equation(lhs, ((rf"{left} \frac{{{top_text}}}{{{s}}} {right} + 1 = {out}",),)))
            else:
                lines.append(Equation(f"{axis}", ((f"{'ceil' if ceil else 'floor'}(({top_text})/{s}) + 1 = {out}",),)))
        self.blocks.extend(lines)
        for (axis, *_), count in zip(rows, tail):
            if count:
                self.note(f"Along the {axis} the division leaves remainder {count}: the last "
                          f"{'position' if count == 1 else f'{count} positions'} of the padded input {unread}.")

    def values_sentence(self) -> None:
        if self.num is not None:
            kind = "exact (integers and fractions)" if self.num.exact else "floating point"
            given: list = []
            for key in self.num.given:
                words, letter = _WORDED.fullmatch(self.content.value_words[key]).groups()
                given += [", " if given else "", words] + ([self.math(self._letter(letter))] if letter else [])
            self.para(f"Numbers ({values_phrase(self.num)}) for ", *(given or ["nothing"]), f"; arithmetic is {kind}.", small=True)

    def _letter(self, letter: str) -> str:
        """`X` as math, `dL/dY` as ∂L/∂Y."""
        return self.n.partial("L", letter[4:]) if letter.startswith("dL/d") else letter


__all__ = ["Builder", "Document", "DocumentSettings", "Equation", "Figure", "Grid", "Heading", "Matrix", "Para", "Statement", "build", "values_phrase"]
