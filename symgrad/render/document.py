"""The derivation as a document: headings, prose and display math, shared by LaTeX and Markdown.

`build(derivation, settings)` returns a list of blocks. The math in them is LaTeX (amsmath), written
straight from the term tables; `render/latex.py` and `render/markdown.py` only lay the blocks out.
Long sums are broken into rows by an estimate of their printed width, so nothing runs off the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..derivation import ConvDerivation, Identity, Intermediate
from ..errors import printable
from ..naming import latex_letter
from ..numeric import cell_shares
from ..spec import axis_names
from ..tensor import ONE, ZERO
from .common import (GRADIENT_OF, SECTIONS, Style, entry_terms, gap_at, indicator, keep_columns, layer_parts,
                     matrix_slices, render_sections, signed_terms, window_maxima)

# Budget for a display row, in the units of `tex_width` (about one digit of 11pt math each).
ROW_WIDTH = 74
# A fragment goes into someone else's document: assume the standard article's narrower text block.
FRAGMENT_ROW_WIDTH = 52
# Matrices are windowed to about this width (unless full); wider ones are scaled to the line.
MATRIX_WIDTH = 70
# Consecutive equations share one aligned display of at most this many rows.
GROUP_ROWS = 24
# Up to this many product terms, a document shows every entry and every term (like --full).
DOCUMENT_TERMS = 20_000


# --- blocks


@dataclass(frozen=True)
class Heading:
    parts: tuple[tuple[str, str], ...]  # ("text", s) or ("math", tex)


@dataclass(frozen=True)
class Para:
    parts: tuple[tuple[str, str], ...]
    small: bool = False  # a note: what was left out, how a step was done


@dataclass(frozen=True)
class Equations:
    """Aligned equations: each a list of rows (left, right), right starting at its relation; left "" continues."""

    equations: tuple[tuple[tuple[str, str], ...], ...]


@dataclass(frozen=True)
class Display:
    """One displayed formula (matrices); scaled down in LaTeX if wider than the line."""

    tex: str


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple
    max_matrix_cols: int


@dataclass(frozen=True)
class DocumentSettings:
    show: frozenset[str] = field(default_factory=lambda: frozenset(SECTIONS))
    max_entries: int | None = None  # None: every entry
    max_terms: int | None = None  # None: every term of every sum
    full_matrices: bool = False
    max_slices: int | None = 3
    row_width: float = ROW_WIDTH

    @classmethod
    def choose(cls, d: ConvDerivation, show: frozenset[str] | None = None, full: bool = False, budget: int = DOCUMENT_TERMS) -> "DocumentSettings":
        """Everything for a small layer (or with full); the terminal's summary for a large one."""
        show = frozenset(SECTIONS) if show is None else show
        if full:
            return cls(show, None, None, True, None)
        forward = d.windows.size if d.layer == "pool" else len(d.forward)
        outputs = d.windows.shape[0] if d.layer == "pool" else d.forward.size
        entries = outputs + sum(table.size for _, table in d.gradients())  # every entry is a row, even a zero one
        size = forward + sum(len(table) for _, table in d.gradients()) + entries
        if size <= budget:
            return cls(show, max_slices=None)
        return cls(show, max_entries=25, max_terms=12)


def build(d: ConvDerivation, settings: DocumentSettings | None = None) -> Document:
    builder = (_PoolBuilder if d.layer == "pool" else _Builder)(d, settings or DocumentSettings.choose(d))
    return Document(builder.title_text(), tuple(builder.render()), builder.max_cols)


# --- text helpers shared by the LaTeX and Markdown layouts

LATEX_TEXT = {
    "\\": r"\textbackslash{}", "-": "-{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    "−": "$-$", "·": r"$\cdot$", "…": r"\dots{}", "×": r"$\times$", "→": r"$\to$", "✓": r"$\checkmark$",
    "✗": r"$\times$", "Σ": r"$\Sigma$", "∂": r"$\partial$", "½": r"$\frac12$", "²": r"$^2$", "⌊": r"$\lfloor$", "⌋": r"$\rfloor$",
}


def latex_text(text: str) -> str:
    """Plain text for LaTeX: special characters escaped; other non-ASCII characters replaced by '?'."""
    return "".join(LATEX_TEXT.get(ch, ch if ch.isascii() and (ch.isprintable() or ch == " ") else "?") for ch in text)


def tex_width(tex: str) -> float:
    """A rough printed width of math, in digits: fractions count their wider part, subscripts 0.7.

    Built for the math this package writes (fractions whose parts hold no fractions): a few regular
    expressions, so that breaking thousands of long sums stays fast.
    """
    total = 0.0

    def fraction(match: re.Match) -> str:
        nonlocal total
        scale = 0.75 if match[1] else 1.0
        total += scale * max(_flat_width(match[2]), _flat_width(match[3])) + 0.4
        return " "

    rest = _FRACTION.sub(fraction, tex)
    return total + _flat_width(rest)


_FRACTION = re.compile(r"\\(t?)frac\{((?:[^{}]|\{[^{}]*\})*)\}\{((?:[^{}]|\{[^{}]*\})*)\}")
_SCRIPT = re.compile(r"[_^](?:\{([^{}]*)\}|(\\[A-Za-z]+|.))")
_COMMAND = re.compile(r"\\[A-Za-z]+|\\.")
_WIDE = {r"\cdot": 1.2, r"\partial": 1.0, r"\quad": 2.0, r"\qquad": 4.0, r"\left": 0.0, r"\right": 0.0, r"\,": 0.3, r"\;": 0.5}
_CHAR = {"+": 2.0, "-": 2.0, "=": 2.0, ",": 1.4, "{": 0.0, "}": 0.0, " ": 0.4}


@lru_cache(maxsize=1 << 16)
def _flat_width(tex: str) -> float:
    scripts = 0.0

    def script(match: re.Match) -> str:
        nonlocal scripts
        scripts += 0.7 * _plain_width(match[1] if match[1] is not None else match[2])
        return ""

    rest = _SCRIPT.sub(script, tex)
    return scripts + _plain_width(rest)


def _plain_width(tex: str) -> float:
    width = 0.0

    def command(match: re.Match) -> str:
        nonlocal width
        width += _WIDE.get(match[0], 1.2)
        return ""

    rest = _COMMAND.sub(command, tex)
    return width + sum(_CHAR.get(ch, 1.0) for ch in rest)


def break_rows(lhs: str, terms: list[str], relation: str = "=", width: float = ROW_WIDTH) -> list[tuple[str, str]]:
    """`lhs = t1 t2 ...` as aligned rows of at most `width`, breaking between terms."""
    room = max(20.0, width - tex_width(lhs))
    rows, current, used = [], f"{relation} {terms[0]}", tex_width(terms[0]) + 2
    for term in terms[1:]:
        w = tex_width(term) + 1
        if used + w > room:
            rows.append(current)
            current, used = rf"\quad {term}", 4 + w
        else:
            current, used = f"{current} {term}", used + w
    rows.append(current)
    return [(lhs if i == 0 else "", row) for i, row in enumerate(rows)]


def values_phrase(numeric) -> str:
    """`values from v.json`, or `values given` when they came as a dict from Python."""
    if numeric.source == "":
        return "values given"
    return "values from standard input" if numeric.source == "-" else f"values from {printable(numeric.source)}"


def tex_number(x) -> str:
    from ..values import format_number

    if isinstance(x, np.integer):
        x = int(x)
    elif isinstance(x, np.floating):
        x = float(x)
    return format_number(x, "latex")


TEX = Style(number=tex_number, times=" ", times_numbers=r" \cdot ", minus="-", paren=(r"\left(", r"\right)"))


# --- the builder


def _parts(parts) -> tuple[tuple[str, str], ...]:
    """Plain strings are text; (kind, text) pairs are kept."""
    return tuple(("text", p) if isinstance(p, str) else p for p in parts)


def _partial(top: str, bottom: str) -> str:
    return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"


def _times(values) -> str:
    values = list(values)
    return str(values[0]) if len(set(values)) == 1 else r" \times ".join(map(str, values))


STATEMENTS = {
    "pool_max": r"\frac{\partial L}{\partial X} = \sum_{\text{windows}} \text{mask} \odot \operatorname{upsample}\bigl(\tfrac{\partial L}{\partial Y}\bigr)",
    "pool_avg": r"\frac{\partial L}{\partial X} = \sum_{\text{windows}} \tfrac{1}{|\text{window}|} \operatorname{upsample}\bigl(\tfrac{\partial L}{\partial Y}\bigr)",
    "grad_kernel": r"\frac{\partial L}{\partial W} = \operatorname{conv}\Bigl(X,\ \operatorname{dilate}\bigl(\tfrac{\partial L}{\partial Z}\bigr)\Bigr)",
    "grad_input": r"\frac{\partial L}{\partial X} = \operatorname{full\text{-}conv}\Bigl(\operatorname{dilate}\bigl(\tfrac{\partial L}{\partial Z}\bigr),\ \operatorname{rot180}(W)\Bigr)",
    "grad_bias": r"\frac{\partial L}{\partial b} = \sum_{\text{positions}} \frac{\partial L}{\partial Z}",
}
TENSOR = {"grad_kernel": "W", "grad_input": "X", "grad_bias": "b"}


class _Builder:
    def __init__(self, d: ConvDerivation, settings: DocumentSettings):
        self.d, self.s = d, settings
        self.sym = d.symbols
        self.num = getattr(d, "numeric", None)
        self.g0 = self.sym["grad_output"].offset
        self.g_end = self.g0 + self.sym["grad_output"].size
        self.out0 = self.sym["output"].offset
        self.t0 = self.sym["target"].offset if "target" in self.sym.groups else -1
        self.blocks: list = []
        self.max_cols = 10

    # --- names (math)

    def name(self, i: int) -> str:
        return "1" if i == ONE else self.sym.latex(int(i))

    def z_of(self, g: int) -> str:
        return self.sym.latex(self.out0 + int(g) - self.g0)

    def grad_output(self, g: int) -> str:
        if self.d.loss == "generic":
            return _partial("L", self.z_of(g))
        if self.d.loss == "sum":
            return "1"
        return rf"\left({self.z_of(g)} - {self.sym.latex(self.t0 + int(g) - self.g0)}\right)"

    def factor(self, i: int) -> tuple[str, bool]:
        """A factor of a product: its symbol (or dL/dz as the loss defines it)."""
        is_grad = self.g0 <= i < self.g_end
        if i == ONE or (is_grad and self.d.loss == "sum"):
            return "", True
        if is_grad:
            return self.grad_output(i), False
        return self.name(i), False

    def plugged(self, i: int) -> tuple[str, bool]:
        """A factor with its number put in, when it has one."""
        value = self.num.value(int(i)) if self.num is not None and i != ONE else None
        if value is not None:
            return tex_number(value), True
        if self.d.loss == "mse" and self.num is not None and self.g0 <= i < self.g_end:
            k = int(i) - self.g0  # dL/dz_k = z_k - t_k with whatever is known put in
            z, t = self.num.output_value(k), self.num.value(self.t0 + k)
            z_text = tex_number(z) if z is not None else self.z_of(i)
            t_text = tex_number(t) if t is not None else self.sym.latex(self.t0 + k)
            return rf"\left({z_text} - {t_text}\right)", False
        return self.factor(i)

    def cell(self, i: int, numeric: bool = False) -> str:
        if i == ZERO:
            return "0"
        if numeric:
            return self.plugged(i)[0]
        return self.factor(i)[0]

    # --- blocks

    def heading(self, *parts) -> None:
        self.blocks.append(Heading(_parts(parts)))

    def para(self, *parts, small: bool = False) -> None:
        self.blocks.append(Para(_parts(parts), small))

    def note(self, text: str) -> None:
        self.para(text, small=True)

    def equation(self, lhs: str, term_rows: list[list[str]]) -> None:
        """lhs = first sum, then each further sum on its own row(s) starting with '='."""
        rows: list[tuple[str, str]] = []
        for i, terms in enumerate(term_rows):
            # in an aligned display every row starts after the left-hand column, continuation rows too
            rows.extend(break_rows(lhs if i == 0 else "", terms or ["0"], width=self.s.row_width - (0 if i == 0 else tex_width(lhs))))
        self.add_equation(tuple(rows))

    def add_equation(self, rows: tuple[tuple[str, str], ...]) -> None:
        """Join the previous aligned display when it is the last block and not yet long."""
        last = self.blocks[-1] if self.blocks else None
        if isinstance(last, Equations) and sum(len(e) for e in last.equations) + len(rows) <= GROUP_ROWS:
            self.blocks[-1] = Equations(last.equations + (rows,))
        else:
            self.blocks.append(Equations((rows,)))

    def head(self, *arrays):
        """The first max_terms terms of a sum (all of them when unlimited): text is built for those only."""
        limit = self.s.max_terms
        return arrays if limit is None else tuple(x[:limit] for x in arrays)

    def cap(self, terms: list[str], total: int | None = None) -> list[str]:
        """At most max_terms terms, then a note of how many more the sum has (`total` in all)."""
        limit, total = self.s.max_terms, len(terms) if total is None else total
        if limit is None or total <= limit:
            return terms
        return terms[:limit] + [rf"+ \dots \text{{ ({total - limit:,} more terms)}}"]

    def limited(self, shown: int) -> bool:
        return self.s.max_entries is not None and shown >= self.s.max_entries

    def left_out(self, count: int, what: str) -> None:
        if count > 0:
            self.note(f"… {count:,} more {what} not shown; use --full for every entry and term, or --format json.")

    # --- document

    def title_text(self) -> str:
        values = [values_phrase(self.num)] if self.num is not None else []
        return f"symgrad {self.d.layer}: " + ", ".join(layer_parts(self.d) + values)

    def render(self) -> list:
        render_sections(self, self.d, self.s.show)
        return self.blocks

    def setup(self) -> None:
        spec, d = self.d.spec, self.d
        z = latex_letter(d.naming.output)
        self.heading("Setup")
        shape = lambda s: r" \times ".join(map(str, s))  # noqa: E731
        self.para(
            "Input ", ("math", "X"), f": {spec.in_channels} channel(s), shape ", ("math", shape(spec.input_shape)),
            "; kernel ", ("math", "W"), ", shape ", ("math", shape(spec.kernel_shape)),
            "; output ", ("math", "Z"), ", shape ", ("math", shape(spec.output_shape)), ".",
        )
        self.para("Output size per axis (PyTorch's rule):")
        rows = []
        for axis, name in enumerate(axis_names(spec.ndim)):
            n, k, s, p, dl = (spec.input_size[axis], spec.kernel_size[axis], spec.stride[axis], spec.padding[axis], spec.dilation[axis])
            top = n + 2 * p - dl * (k - 1) - 1
            rows.append((
                rf"O_{{\text{{{name}}}}}",
                rf"= \left\lfloor \frac{{{n} + 2 \cdot {p} - {dl} \cdot ({k} - 1) - 1}}{{{s}}} \right\rfloor + 1 = {top // s + 1}",
            ))
        self.blocks.append(Equations(tuple((row,) for row in rows)))
        for axis, name in enumerate(axis_names(spec.ndim)):
            top = spec.input_size[axis] + 2 * spec.padding[axis] - spec.dilation[axis] * (spec.kernel_size[axis] - 1) - 1
            if top % spec.stride[axis]:
                self.note(f"Along the {name} the division leaves remainder {top % spec.stride[axis]}: the last {top % spec.stride[axis]} padded position(s) are never read.")
        if d.loss == "generic":
            self.para("Loss: generic. The incoming gradients ", ("math", _partial("L", f"{z}_k")), " are kept as symbols.")
        elif d.loss == "sum":
            self.para("Loss: ", ("math", rf"L = \sum_k {z}_k"), ", so every ", ("math", _partial("L", f"{z}_k") + " = 1"), ".")
        else:
            self.para("Loss: ", ("math", rf"L = \tfrac12 \sum_k ({z}_k - t_k)^2"), ", so ", ("math", _partial("L", f"{z}_k") + f" = {z}_k - t_k"), ".")
        if self.num is not None:
            given = ", ".join(self.num.given) or "nothing"
            kind = "exact (integers and fractions)" if self.num.exact else "floating point"
            self.para(f"Numbers ({values_phrase(self.num)}) for: {given}; arithmetic is {kind}.")
        self.matrices("X", self.sym["input"].ids, 1)
        self.matrices("W", self.sym["kernel"].ids, 2)
        if spec.bias:
            self.matrices("b", self.sym["bias"].ids.reshape(1, -1), 1, channel_names=("",))
        if self.num is not None and d.loss == "generic" and "grad_output" in self.num.given:
            self.matrices(_partial("L", "Z"), self.sym["grad_output"].ids, 1, channel_names=("f",))

    def forward(self) -> None:
        self.heading("Forward pass: every output expanded")
        spec = self.d.spec
        z, w, x = (latex_letter(letter) for letter in (self.d.naming.output, self.d.naming.kernel, self.d.naming.input))
        bias = "b_f + " if spec.bias else ""
        self.para(
            ("math", rf"{z}_{{f,o}} = {bias}\sum_c \sum_k {w}_{{f,c,k}}\, {x}_{{c,\, s o + d k - p}}"),
            " (cross-correlation" + ("; terms that fall in the padding are 0)." if any(spec.padding) else ")."),
        )
        table = self.d.forward
        numeric = self.num.forward if self.num is not None else None
        shown = 0
        for k, a, b, coef in entry_terms(table):
            if self.limited(shown):
                break
            total = len(a)
            a, b, coef = self.head(a, b, coef)
            items = [(c, [self.factor(ai), self.factor(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]
            sums = [self.cap(signed_terms(items, TEX), total)]
            if numeric is not None:
                sums += [row for row in self.numeric_rows(a, b, coef, total, numeric, k) if row != sums[-1]]
            self.equation(self.sym.latex(self.out0 + k), sums)
            shown += 1
        self.left_out(table.size - shown, "outputs")
        self.result_matrix("forward", "Z")

    def gradient(self, key: str, table) -> None:
        letter = TENSOR[key]
        self.gradient_intro(letter)
        self.gradient_entries(key, table)
        self.result_matrix(key, _partial("L", letter))

    def gradient_intro(self, letter: str) -> None:
        z = latex_letter(self.d.naming.output)
        self.heading("Gradient ", ("math", _partial("L", letter)), ": the chain rule, term by term")
        self.para(
            ("math", rf"\frac{{\partial L}}{{\partial \theta}} = \sum_k \frac{{\partial L}}{{\partial {z}_k}} \frac{{\partial {z}_k}}{{\partial \theta}}"),
            "; only the outputs that contain ", ("math", r"\theta"), " contribute.",
        )

    # why a gradient entry is 0 (pooling says "no window holds")
    nothing_depends = "no output depends on"

    def gradient_entries(self, key: str, table) -> None:
        """Every entry: the chain rule, the local derivatives evaluated, and (with values) the numbers."""
        group = self.sym[GRADIENT_OF[key]]
        numeric = self.num.gradients[key] if self.num is not None else None
        shown = 0
        for index, a, b, coef in entry_terms(table):
            if self.limited(shown):
                break
            theta = group.offset + index
            lhs = _partial("L", self.name(theta))
            if a.size == 0:
                self.add_equation(((lhs, rf"= 0 \qquad \text{{({self.nothing_depends} }} " + self.name(theta) + r")"),))
                shown += 1
                continue
            total = len(a)
            a, b, coef = self.head(a, b, coef)
            chain = [_partial(self.z_of(g), self.name(theta)) + " " + self.grad_output(g) for g in a.tolist()]
            chain = [t if i == 0 else "+ " + t for i, t in enumerate(chain)]
            sums = [self.cap(chain, total), self.cap(self.local_terms(a, b, coef), total)]
            if numeric is not None:
                plugged = self.cap(self.plugged_terms(a, b, coef), total)
                sums += [row for row in self.numeric_rows(b, a, coef, total, numeric, index, plugged) if row != sums[-1]]
            self.equation(lhs, sums)
            shown += 1
        self.left_out(table.size - shown, f"entries of dL/d{TENSOR[key]}")

    def local_terms(self, g, leaf, coef) -> list[str]:
        """Each term dL/dz_k times dz_k/dθ evaluated (the other factor of the product)."""
        return signed_terms([(c, [self.factor(bi), self.factor(gi)]) for gi, bi, c in zip(g.tolist(), leaf.tolist(), coef.tolist())], TEX)

    def plugged_terms(self, g, leaf, coef) -> list[str]:
        """The same terms with the numbers put in."""
        return signed_terms([(c, [self.plugged(bi), self.plugged(gi)]) for gi, bi, c in zip(g.tolist(), leaf.tolist(), coef.tolist())], TEX)

    def numeric_rows(self, a, b, coef, total: int, numeric, index: int, plugged: list[str] | None = None) -> list[list[str]]:
        """With values: the sum with numbers put in (unless given), then what it comes to (when that differs)."""
        if plugged is None:
            plugged_items = [(c, [self.plugged(ai), self.plugged(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]
            plugged = self.cap(signed_terms(plugged_items, TEX), total)
        lo, hi = np.searchsorted(numeric.entry, [index, index + 1])
        ma, mb, mc = self.head(numeric.a[lo:hi], numeric.b[lo:hi], numeric.coef[lo:hi])
        merged_items = [(c, [self.plugged(ai), self.plugged(bi)]) for ai, bi, c in zip(ma.tolist(), mb.tolist(), mc.tolist())]
        merged = self.cap(signed_terms(merged_items, TEX), int(hi - lo)) or ["0"]
        return [plugged] if merged == plugged else [plugged, merged]

    def result_matrix(self, key: str, label: str) -> None:
        if self.num is None:
            return
        values = self.num.result(key)
        if values is None:
            return
        lead = 1 if key in ("forward", "grad_input") else 2 if key == "grad_kernel" else 0
        if key == "grad_bias":
            values = values.reshape(1, -1)
            lead = 1
        names = {0: (), 1: ("f",) if key == "forward" else ("c",), 2: ("f", "c")}[lead]
        self.para("With the values:")
        self.matrices(label, values, lead, channel_names=names, literal=True)

    def identities(self) -> None:
        self.heading("Identities: the closed forms")
        self.para(
            "Each closed form is computed independently with pad, dilate, rot180 and correlate, and compared with "
            "the chain-rule result term by term."
        )
        for identity in self.d.identities:
            self.identity(identity)

    def identity(self, identity: Identity) -> None:
        mark = r"\checkmark" if identity.holds else r"\times"
        verdict = "equals the chain rule" if identity.holds else "DIFFERS from the chain rule"
        key = f"pool_{self.d.spec.mode}" if self.d.layer == "pool" else identity.name
        self.blocks.append(Display(rf"{STATEMENTS.get(key, identity.statement)} \qquad {mark}"))
        tail = ""
        if self.num is not None and identity.name in self.num.identities:
            same = self.num.identities[identity.name]
            tail = " With the values put in, both sides are " + ("equal." if same else "DIFFERENT.")
        self.para(("math", mark), f" {verdict} ({identity.compared_terms:,} terms compared).{tail}")
        for item in identity.intermediates:
            self.intermediate(item)
        for text in identity.notes:
            self.note(text[0].upper() + text[1:] + ".")

    def intermediate(self, item: Intermediate) -> None:
        label = item.label + (f" ({item.note})" if item.note else "")
        self.para(label + ":")
        if item.kind == "counts":
            self.matrices("", item.ids[None, ...], 1, channel_names=("",), literal=True)
        else:
            self.matrices("", item.ids[None, ...], 1, channel_names=("",))

    # --- matrices

    def matrices(self, label: str, ids: np.ndarray, lead: int, channel_names=None, literal: bool = False) -> None:
        """Channel-first tensor as bmatrix displays (1-D as a row, 3-D by depth); numbers beside symbols."""
        channel_names = channel_names or (("c",) if lead == 1 else ("f", "c"))
        slices = matrix_slices(ids, channel_names[:lead], lambda depth: f"\\text{{depth }}{depth}")
        limit = self.s.max_slices if self.s.max_slices is not None else len(slices)
        for parts, block in slices[:limit]:
            if parts:
                tag = f"{label}^{{({', '.join(parts)})}}" if label else f"({', '.join(parts)})"
            else:
                tag = label
            if literal:
                shown = [self.bmatrix(block, lambda v: "0" if v is None else tex_number(v), values=True)[0]]
            else:
                symbolic, columns = self.bmatrix(block, self.cell)
                shown = [symbolic]
                if self.num is not None and self.num.any_known(block):
                    shown.append(self.bmatrix(block, lambda i: self.cell(i, numeric=True), columns=columns)[0])
            self.blocks.append(Display(" = ".join(([tag] if tag else []) + shown)))
        if len(slices) > limit:
            self.note(f"… {len(slices) - limit} more slice(s) not shown; use --full to show them all.")

    def bmatrix(self, block: np.ndarray, cell, values: bool = False, columns: list[int] | None = None) -> tuple[str, list[int]]:
        """A bmatrix, rows and columns elided to fit unless full; returns it and the columns shown."""
        rows, cols = block.shape
        full = self.s.full_matrices
        keep_rows = list(range(rows)) if full or rows <= 12 else list(range(5)) + [-1] + list(range(rows - 5, rows))
        shown = [r for r in keep_rows if r != -1]
        texts: dict[tuple[int, int], str] = {}

        def text(r: int, c: int) -> str:  # only the cells of columns that are tried or shown
            if (r, c) not in texts:
                texts[r, c] = cell(block[r, c] if values else int(block[r, c]))
            return texts[r, c]

        if columns is None:
            columns = keep_columns(cols, lambda c: max(tex_width(text(r, c)) for r in shown) + 1.5, MATRIX_WIDTH - 2, full)
        gap = gap_at(columns)
        lines = []
        for r in keep_rows:
            row = [r"\vdots"] * len(columns) if r == -1 else [text(r, c) for c in columns]
            if gap is not None:
                row = row[:gap] + [r"\ddots" if r == -1 else r"\cdots"] + row[gap:]
            lines.append(" & ".join(row))
        self.max_cols = max(self.max_cols, len(columns) + (1 if gap is not None else 0))
        return r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}", columns


def _listed(opening: str, items: list[str], separator: str, closing: str) -> list[str]:
    """`max(a, b, c)` as terms that break_rows may split between items (plain parentheses, no \\left)."""
    terms = [item + separator for item in items[:-1]] + [items[-1] + closing]
    terms[0] = opening + terms[0]
    return terms


class _PoolBuilder(_Builder):
    """The same document for pooling: windows, the max indicator (Heaviside) as the local derivative."""

    def name(self, i: int) -> str:
        if i >= 0 and self.sym["mask"].contains(np.array(i)):
            return self.indicator(int(i))
        return super().name(i)

    def indicator(self, mask_id: int) -> str:
        parts = indicator(self.d, mask_id, self.sym.latex, lambda xs: rf"\max({', '.join(xs)})", 5,
                          lambda y: rf"\max(\text{{rest of window }} {y})")
        return "1" if parts is None else rf"H\left({parts[0]} - {parts[1]}\right)"

    def setup(self) -> None:
        spec = self.d.spec
        self.heading("Setup")
        shape = lambda s: r" \times ".join(map(str, s))  # noqa: E731
        self.para("Input ", ("math", "X"), f": {spec.channels} channel(s), shape ", ("math", shape(spec.input_shape)),
                  "; output ", ("math", "Y"), ", shape ", ("math", shape(spec.output_shape)), ".")
        self.para("Output size per axis (PyTorch's rule):")
        rows = []
        for axis, name in enumerate(axis_names(spec.ndim)):
            n, k, s, p = spec.input_size[axis], spec.window[axis], spec.stride[axis], spec.padding[axis]
            rows.append((rf"O_{{\text{{{name}}}}}", rf"= \left\lfloor \frac{{{n} + 2 \cdot {p} - {k}}}{{{s}}} \right\rfloor + 1 = {(n + 2 * p - k) // s + 1}"))
        self.blocks.append(Equations(tuple((row,) for row in rows)))
        if spec.mode == "max":
            self.para(("math", r"y = \max(\text{window})"), "; padding is ", ("math", r"-\infty"), ", so it is never the maximum.")
        else:
            self.para(("math", rf"y = \tfrac{{1}}{{{spec.window_count}}} \sum \text{{window}}"), "; padded cells count as 0 (PyTorch's count_include_pad).")
        if self.num is not None:
            kind = "exact (integers and fractions)" if self.num.exact else "floating point"
            self.para(f"Numbers ({values_phrase(self.num)}) for: {', '.join(self.num.given)}; arithmetic is {kind}.")
        self.matrices("X", self.sym["input"].ids, 1)
        if self.num is not None and "grad_output" in self.num.given:
            self.matrices(_partial("L", "Y"), self.sym["grad_output"].ids, 1)

    def forward(self) -> None:
        spec, d = self.d.spec, self.d
        self.heading("Forward pass: every window")
        if spec.mode == "avg" and any(spec.padding):
            self.note(f"A window at the border also holds padded zeros: they add nothing but still count in the divisor {spec.window_count}.")
        values = self.num.result("forward") if self.num is not None else None
        shown = 0
        for k in range(d.windows.shape[0]):
            if self.limited(shown):
                break
            cells = d.real_cells(k)
            total = len(cells)
            names = [self.sym.latex(c) for c in self.head(np.array(cells))[0]]
            more = [rf"\dots \text{{ ({total - len(names)} more)}}"] if total > len(names) else []
            if spec.mode == "max":
                rows = [_listed(r"\max(", names + more, ",", ")")]
            else:
                rows = [_listed(rf"\tfrac{{1}}{{{spec.window_count}}}(", names + more, " +", ")")]
            if values is not None:
                numbers = [tex_number(self.num.number[c]) for c in cells[: len(names)]] + (more and [r"\dots"])
                if spec.mode == "max":
                    rows.append(_listed(r"\max(", numbers, ",", ")"))
                else:
                    rows.append(_listed(rf"\tfrac{{1}}{{{spec.window_count}}}(", numbers, " +", ")"))
                rows.append([tex_number(values.ravel()[k]) + self.winner_note(k)])
            self.equation(self.sym.latex(self.out0 + k), rows)
            shown += 1
        self.left_out(d.windows.shape[0] - shown, "outputs")
        self.result_matrix("forward", "Y")

    def winner_note(self, k: int) -> str:
        maxima = window_maxima(self.d, self.num, k)
        if maxima is None:
            return ""
        tied, winners = ([self.sym.latex(c) for c in group] for group in maxima)
        if len(tied) == 1:
            return rf" \qquad \text{{(at }} {tied[0]}\text{{)}}"
        listed = ", ".join(tied)
        if len(winners) == 1:
            return rf" \qquad \text{{(tie between }} {listed}\text{{; ties: first }} \to {winners[0]}\text{{)}}"
        return rf" \qquad \text{{(tie between }} {listed}\text{{; ties: split, each gets }} \tfrac{{1}}{{{len(winners)}}}\text{{)}}"

    nothing_depends = "no window holds"

    def gradient_intro(self, letter: str) -> None:
        spec = self.d.spec
        self.heading("Gradient ", ("math", _partial("L", letter)), ": the chain rule, window by window")
        if spec.mode == "max":
            self.para(
                ("math", _partial("y_k", "x") + r" = H\left(x - \max(\text{the other cells of window } k)\right)"),
                ", with H the Heaviside step (SymPy's form): 1 where x is its window's maximum, 0 elsewhere. "
                "Only the maximum of each window receives that window's gradient.",
            )
            if self.num is not None and self.num.masks is not None:
                self.note("Ties: " + ("first: the first maximal cell of a window (row-major) gets it all, as PyTorch does."
                                      if spec.ties == "first" else "split: tied maximal cells share the gradient equally."))
        else:
            self.para(("math", _partial("y_k", "x") + rf" = \tfrac{{1}}{{{spec.window_count}}}"), " for every cell x of window k.")

    def local_terms(self, g, leaf, coef) -> list[str]:
        div = self.d.divisor
        if div == 1:
            return super().local_terms(g, leaf, coef)
        return [("+ " if i else "") + rf"\tfrac{{1}}{{{div}}} {self.grad_output(gi)}" for i, gi in enumerate(g.tolist())]

    def plugged_terms(self, g, leaf, coef) -> list[str]:
        div = self.d.divisor
        if div == 1:
            return super().plugged_terms(g, leaf, coef)
        return [("+ " if i else "") + rf"\tfrac{{1}}{{{div}}} \cdot {self.plugged(gi)[0]}" for i, gi in enumerate(g.tolist())]

    def result_matrix(self, key: str, label: str) -> None:
        if self.num is None or self.num.result(key) is None:
            return
        self.para("With the values:")
        self.matrices(label, self.num.result(key), 1, literal=True)

    def identities(self) -> None:
        spec = self.d.spec
        self.heading("Identity: routing by upsampling")
        self.para("The gradient is computed again window offset by window offset: dL/dY is upsampled by the stride, "
                  + ("multiplied by the mask of maxima, " if spec.mode == "max" else f"divided by {spec.window_count}, ")
                  + "shifted to each cell of the window and added up; it is compared with the chain rule term by term.")
        for identity in self.d.identities:
            self.identity(identity)
        if self.num is not None and self.num.masks is not None:
            self.para(f"Mask: each cell's share of its windows' gradient (ties: {spec.ties}):")
            self.matrices("", cell_shares(self.d, self.num), 1, literal=True)
