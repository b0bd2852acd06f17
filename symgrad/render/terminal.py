"""The terminal renderer (rich): the derivation as a person reads it, sized to the console.

Large layers are summarised: at most `max_entries` entries per section and `max_terms` terms per
sum and a window of each matrix, always saying what was left out and how to see it all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.cells import cell_len
from rich.text import Text

from ..derivation import ConvDerivation, Identity, Intermediate
from ..spec import axis_names
from ..tensor import ONE, ZERO
from ..numeric import cell_shares
from .document import values_phrase
from .common import (GRADIENT_OF, SECTIONS, TITLES, Style, entry_terms, gap_at, indicator, keep_columns, layer_parts,
                     matrix_slices, product, render_sections, signed_terms, window_maxima)

HOW_TO_SEE_ALL = "use --full to print everything, or --format json"


def _number(x) -> str:
    from ..values import format_number

    return format_number(x, "text").replace("-", "−")


TEXT = Style(number=_number, times="·", times_numbers="·", minus="−", wrap_fractions=True)


@dataclass(frozen=True)
class TextSettings:
    show: frozenset[str] = field(default_factory=lambda: frozenset(SECTIONS))
    full: bool = False
    max_entries: int = 25
    max_terms: int = 12
    max_slices: int = 3


class TerminalView:
    """A rich renderable for a derivation; lays itself out for the console's width."""

    def __init__(self, derivation: ConvDerivation, settings: TextSettings | None = None):
        self.d = derivation
        self.settings = settings or TextSettings()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max(40, options.max_width)
        layout = _PoolLayout if self.d.layer == "pool" else _Layout
        yield Group(*layout(self.d, self.settings, width).render())


def render_rich(derivation: ConvDerivation, settings: TextSettings | None = None) -> TerminalView:
    return TerminalView(derivation, settings)


class _Layout:
    def __init__(self, d: ConvDerivation, settings: TextSettings, width: int):
        self.d, self.s, self.width = d, settings, width
        self.sym = d.symbols
        self.g0 = self.sym["grad_output"].offset
        self.g_end = self.g0 + self.sym["grad_output"].size
        self.out0 = self.sym["output"].offset
        self.t0 = self.sym["target"].offset if "target" in self.sym.groups else -1
        self.num = d.numeric
        self.out: list[Text] = []

    # --- names

    def name(self, i: int) -> str:
        return "1" if i == ONE else self.sym.unicode(int(i))

    def dL(self, i: int) -> str:
        """∂L/∂θ for a symbol id."""
        return f"∂L/∂{self.sym.unicode(int(i))}"

    def z_of(self, g: int) -> str:
        return self.sym.unicode(self.out0 + int(g) - self.g0)

    def grad_output(self, g: int) -> str:
        """dL/dz_k as the loss defines it."""
        if self.d.loss == "generic":
            return f"∂L/∂{self.z_of(g)}"
        if self.d.loss == "sum":
            return "1"
        return f"({self.z_of(g)} − {self.sym.unicode(self.t0 + int(g) - self.g0)})"

    def cell(self, i: int) -> str:
        """A matrix cell: a symbol, a dL/dz_k, or 0."""
        if i == ZERO:
            return "0"
        if self.g0 <= i < self.g_end:
            return self.grad_output(i)
        return self.name(i)

    def factor(self, i: int) -> tuple[str, bool]:
        """A factor of a product as (text, is_number); the 1 of a bias term (and of --loss sum) is empty."""
        if i == ONE or (self.d.loss == "sum" and self.g0 <= i < self.g_end):
            return "", True
        return self.cell(i), False

    def plugged(self, i: int) -> tuple[str, bool]:
        """A factor with its number put in, when --values gave it one."""
        value = self.num.value(int(i)) if i != ONE else None
        if value is not None:
            return _number(value), True
        if self.d.loss == "mse" and self.g0 <= i < self.g_end:
            k = int(i) - self.g0  # ∂L/∂z_k = z_k − t_k with whatever is known put in
            z, t = self.num.output_value(k), self.num.value(self.t0 + k)
            z_text = _number(z) if z is not None else self.z_of(i)
            t_text = _number(t) if t is not None else self.sym.unicode(self.t0 + k)
            return f"({z_text} − {t_text})", False
        return self.factor(i)

    def numeric_cell(self, i: int) -> str:
        if i == ZERO:
            return "0"
        return self.plugged(i)[0]

    # --- output helpers

    def heading(self, text: str) -> None:
        if self.out:
            self.out.append(Text(""))
        self.out.append(Text(text, style="bold cyan"))

    def line(self, text: str, style: str = "") -> None:
        self.out.append(Text(text, style=style))

    def note(self, text: str, indent: str = "  ") -> None:
        for piece in _wrap_words(text, self.width - len(indent)):
            self.out.append(Text(indent + piece, style="dim"))

    def equation(self, lhs: str, terms: list[str], more: int = 0, prefix: str = "  ") -> None:
        """lhs = t1 + t2 + ... wrapped at '+' with a hanging indent; `more` terms noted as left out."""
        if more:
            terms = terms + [f"… ({more} more terms)"]
        head = f"{prefix}{lhs} = "
        self.out.extend(Text(piece) for piece in _wrap_sum(head, terms or ["0"], self.width))

    def render(self) -> list[Text]:
        self.title()
        render_sections(self, self.d, self.s.show)
        return self.out

    # --- sections

    def title(self) -> None:
        title = f"symgrad {self.d.layer} · " + " · ".join(layer_parts(self.d))
        self.out.extend(Text(p, style="bold") for p in _wrap_words(title, self.width))

    def setup(self) -> None:
        spec, d = self.d.spec, self.d
        self.heading("Setup")
        self.line(f"  X: input, {spec.in_channels} channel(s) of {_shape(spec.input_size)}   shape {_shape(spec.input_shape)}")
        self.line(f"  W: kernel, {spec.out_channels}×{spec.in_channels} of {_shape(spec.kernel_size)}   shape {_shape(spec.kernel_shape)}")
        self.line(f"  Z: output, {spec.out_channels} channel(s) of {_shape(spec.output_size)}   shape {_shape(spec.output_shape)}")
        self.line("  output size, per axis: floor((N + 2p − d(k−1) − 1)/s) + 1")
        for axis, name in enumerate(axis_names(spec.ndim)):
            n, k, s, p, dl = (spec.input_size[axis], spec.kernel_size[axis], spec.stride[axis], spec.padding[axis], spec.dilation[axis])
            top = n + 2 * p - dl * (k - 1) - 1
            rest = f"  (remainder {top % s}: the last {top % s} padded row(s) are never read)" if top % s else ""
            self.line(f"    {name}: floor(({n} + 2·{p} − {dl}·({k}−1) − 1)/{s}) + 1 = {top // s + 1}{rest}")
        z = d.naming.output
        if d.loss == "generic":
            self.line(f"  loss: generic; ∂L/∂{z} are the incoming gradients, kept as symbols")
        elif d.loss == "sum":
            self.line(f"  loss: L = Σ {z}, so every ∂L/∂{z} = 1")
        else:
            self.line(f"  loss: L = ½ Σ ({z} − t)², so ∂L/∂{z} = {z} − t")
        if self.num is not None:
            kind = "exact (integers and fractions)" if self.num.exact else "floating point"
            self.note(f"{values_phrase(self.num)} for: {', '.join(self.num.given) or 'none'}; arithmetic is {kind}")
        self.matrices("X", self.sym["input"].ids, channel_labels=("c",))
        self.matrices("W", self.sym["kernel"].ids, channel_labels=("f", "c"))
        if spec.bias and self.num is not None and "bias" in self.num.given:
            self.matrices("b", self.sym["bias"].ids.reshape(1, -1), channel_labels=("",))
        elif spec.bias:
            self.line("  b = [" + "  ".join(self.name(i) for i in self.sym["bias"].ids) + "]")
        if self.num is not None and d.loss == "generic" and "grad_output" in self.num.given:
            self.matrices("dL/dZ", self.sym["grad_output"].ids, channel_labels=("f",))

    def forward(self) -> None:
        self.heading("Forward: every output expanded")
        spec = self.d.spec
        n = self.d.naming
        formula = f"{n.output} = {'b + ' if spec.bias else ''}Σ_c Σ_k {n.kernel}[f,c,k]·{n.input}[c, s·o + d·k − p]"
        why = "cross-correlation; terms that fall in the padding are 0" if any(spec.padding) else "cross-correlation"
        self.note(f"{formula}  ({why})")
        shown = 0
        for k, a, b, coef in entry_terms(self.d.forward):
            if self.limited(shown):
                break
            total = len(a)
            a, b, coef = self.head(a, b, coef)
            terms = [product([self.name(ai), self.name(bi)], ci, "·") for ai, bi, ci in zip(a.tolist(), b.tolist(), coef.tolist())]
            kept, more = self.cap(terms, total)
            lhs = self.sym.unicode(self.out0 + k)
            self.equation(lhs, kept, more)
            if self.num is not None:
                self.numeric_rows(" " * len(lhs), a, b, coef, total, self.num.forward, k, kept)
            shown += 1
        self.left_out(self.d.forward.size - shown, "outputs")
        self.result_matrix("forward", "Z")

    def gradient(self, key: str, table) -> None:
        title = TITLES[key]
        self.gradient_intro(title)
        self.gradient_entries(key, table)
        self.result_matrix(key, title)

    def gradient_intro(self, title: str) -> None:
        z = self.d.naming.output
        self.heading(f"{title}: chain rule, Σ_k ∂L/∂{z}_k · ∂{z}_k/∂θ, non-zero terms only")

    # why a gradient entry is 0 (pooling says "no window holds")
    nothing_depends = "no output depends on"

    def gradient_entries(self, key: str, table) -> None:
        """Every entry: the chain rule, the local derivatives evaluated, and (with --values) the numbers."""
        group = self.sym[GRADIENT_OF[key]]
        shown = 0
        for index, a, b, coef in entry_terms(table):
            if self.limited(shown):
                break
            theta = group.offset + index
            lhs = self.dL(theta)
            shown += 1
            if a.size == 0:
                self.line(f"  {lhs} = 0   ({self.nothing_depends} {self.name(theta)})")
                continue
            total = len(a)
            a, b, coef = self.head(a, b, coef)
            chain = [f"∂{self.z_of(g)}/∂{self.name(theta)}·∂L/∂{self.z_of(g)}" for g in a.tolist()]
            kept, more = self.cap(chain, total)
            self.equation(lhs, kept, more)
            kept, more = self.cap(self.local_terms(a, b, coef), total)
            self.equation(" " * len(lhs), kept, more)
            if self.num is not None:
                plugged = self.cap(self.plugged_terms(a, b, coef), total)
                self.numeric_rows(" " * len(lhs), b, a, coef, total, self.num.gradients[key], index, kept, plugged)
        self.left_out(table.size - shown, f"entries of {TITLES[key]}")

    def local_terms(self, g, leaf, coef) -> list[str]:
        """Each term: dz_k/dθ evaluated (the other factor of the product) times dL/dz_k."""
        return [product([self.name(bi), self.grad_output(gi)], ci, "·") for gi, bi, ci in zip(g.tolist(), leaf.tolist(), coef.tolist())]

    def plugged_terms(self, g, leaf, coef) -> list[str]:
        """The same terms with the numbers put in, each carrying its sign."""
        return signed_terms([(c, [self.plugged(bi), self.plugged(gi)]) for gi, bi, c in zip(g.tolist(), leaf.tolist(), coef.tolist())], TEXT)

    def numeric_rows(self, pad: str, a, b, coef, total: int, numeric, index: int, symbolic: list[str],
                     plugged: tuple[list[str], int] | None = None) -> None:
        """With --values: the sum with the numbers put in (unless given), then what it comes to (each when it differs)."""
        if plugged is None:
            items = [(c, [self.plugged(ai), self.plugged(bi)]) for ai, bi, c in zip(a.tolist(), b.tolist(), coef.tolist())]
            plugged = self.cap(signed_terms(items, TEXT), total)
        plugged, more = plugged
        if " ".join(plugged) != " + ".join(symbolic):
            self.signed_equation(pad, plugged, more)
        lo, hi = np.searchsorted(numeric.entry, [index, index + 1])
        ma, mb, mc = self.head(numeric.a[lo:hi], numeric.b[lo:hi], numeric.coef[lo:hi])
        merged_items = [(c, [self.plugged(ai), self.plugged(bi)]) for ai, bi, c in zip(ma.tolist(), mb.tolist(), mc.tolist())]
        merged, more_merged = self.cap(signed_terms(merged_items, TEXT) or ["0"], int(hi - lo))
        if (merged, more_merged) != (plugged, more):
            self.signed_equation(pad, merged, more_merged)

    def signed_equation(self, pad: str, terms: list[str], more: int) -> None:
        """Like equation(), for terms that carry their own sign ('+ x', '− y')."""
        if more:
            terms = terms + [f"+ … ({more} more terms)"]
        head = f"  {pad} = "
        indent = " " * min(len(head), max(4, self.width // 3))
        lines, current = [], head + terms[0]
        for term in terms[1:]:
            if len(current) + 1 + len(term) > self.width:
                lines.append(current)
                current = indent + term
            else:
                current += " " + term
        self.out.extend(Text(piece) for piece in lines + [current])

    def result_matrix(self, key: str, label: str) -> None:
        """With --values, when a result is all numbers: it as a matrix."""
        values = self.num.result(key) if self.num is not None else None
        if values is None:
            return
        if key == "grad_bias":
            values = values.reshape(1, -1)
        labels = {"forward": ("f",), "grad_kernel": ("f", "c"), "grad_input": ("c",), "grad_bias": ("",)}[key]
        self.matrices(f"{label} with the values", values, channel_labels=labels, cell=_number, literal=True)

    def identities(self) -> None:
        self.heading("Identities: the closed forms, computed by pad / dilate / rot180 / correlate")
        for identity in self.d.identities:
            self.identity(identity)

    def identity(self, identity: Identity) -> None:
        mark, style = ("✓", "bold green") if identity.holds else ("✗", "bold red")
        verdict = "equals the chain rule" if identity.holds else "DIFFERS from the chain rule"
        tail = f"{verdict} ({identity.compared_terms:,} terms)"
        if len(identity.statement) + len(tail) + 6 <= self.width:
            self.out.append(Text.assemble(("  " + mark + " ", style), (identity.statement, "bold"), "  " + tail))
        else:
            self.out.append(Text.assemble(("  " + mark + " ", style), (identity.statement, "bold")))
            self.out.append(Text("    " + tail))
        if self.num is not None and identity.name in self.num.identities:
            same = self.num.identities[identity.name]
            self.out.append(Text("    with the values put in, both sides are " + ("equal" if same else "DIFFERENT"), style="" if same else "bold red"))
        for intermediate in identity.intermediates:
            self.intermediate(intermediate)
        for text in identity.notes:
            self.note(text, indent="    ")

    def intermediate(self, item: Intermediate) -> None:
        label = item.label + (f" ({item.note})" if item.note else "")
        counts = item.kind == "counts"
        cell = (lambda i: str(i)) if counts else None
        self.matrices(label, item.ids[None, ...], channel_labels=("",), indent="    ", cell=cell, literal=counts)

    # --- matrices

    def matrices(self, label: str, ids: np.ndarray, channel_labels: tuple[str, ...], indent: str = "  ", cell=None, literal: bool = False) -> None:
        """Show a channel-first tensor as labelled 2-D matrices (1-D as a row; 3-D by depth slices).

        With --values, the numbers stand beside the symbols (below them when too wide); `literal`
        means the array already holds what to print (numbers, counts), not symbol ids.
        """
        slices = matrix_slices(ids, channel_labels, lambda depth: f"depth={depth}")
        limit = len(slices) if self.s.full else self.s.max_slices
        for parts, block in slices[:limit]:
            title = label + (f" [{', '.join(parts)}]" if parts else "")
            self.line(f"{indent}{title} =", "")
            room = self.width - len(indent) - 2
            lines, columns = _matrix_lines(block, cell or self.cell, room, self.s.full, literal)
            if self.num is not None and not literal and self.num.any_known(block):
                numbers, _ = _matrix_lines(block, self.numeric_cell, room, self.s.full, columns=columns)
                lines = _beside(lines, numbers, room)
            for row in lines:
                self.line(indent + "  " + row)
        if len(slices) > limit:
            self.note(f"… {len(slices) - limit} more slice(s) of {label} not shown; {HOW_TO_SEE_ALL}", indent=indent)

    # --- summarising

    def limited(self, shown: int) -> bool:
        return not self.s.full and shown >= self.s.max_entries

    def head(self, *arrays):
        """The first max_terms terms of a sum (all with --full): text is built for those only."""
        return arrays if self.s.full else tuple(x[: self.s.max_terms] for x in arrays)

    def cap(self, terms: list[str], total: int | None = None) -> tuple[list[str], int]:
        """At most max_terms terms, and how many more the sum has (`total` terms in all)."""
        total = len(terms) if total is None else total
        if self.s.full or total <= self.s.max_terms:
            return terms, 0
        return terms[: self.s.max_terms], total - self.s.max_terms

    def left_out(self, count: int, what: str) -> None:
        if count > 0:
            self.note(f"… {count:,} more {what} not shown; {HOW_TO_SEE_ALL}")


def _shape(values) -> str:
    return "x".join(map(str, values))


def _wrap_words(text: str, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return lines + [current]


def _wrap_sum(head: str, terms: list[str], width: int) -> list[str]:
    """Lay out `head t1 + t2 + ...` in lines of at most `width`, breaking before '+'."""
    indent = " " * min(len(head), max(4, width // 3))
    lines, current = [], head + terms[0]
    for term in terms[1:]:
        piece = " + " + term
        if len(current) + len(piece) > width:
            lines.append(current)
            current = indent + "+ " + term
        else:
            current += piece
    return lines + [current]


def _beside(left: list[str], right: list[str], width: int) -> list[str]:
    """Two matrices as `left = right` side by side, or one above the other when that is too wide."""
    lw = max(cell_len(line) for line in left)
    if lw + 3 + max(cell_len(line) for line in right) > width:
        return left + ["="] + right
    middle = (len(left) - 1) // 2
    rows = max(len(left), len(right))
    left = left + [""] * (rows - len(left))
    right = right + [""] * (rows - len(right))
    return [
        (l + " " * (lw - cell_len(l))) + (" = " if i == middle else "   ") + r for i, (l, r) in enumerate(zip(left, right))
    ]


def _matrix_lines(block: np.ndarray, cell, width: int, full: bool, literal: bool = False, columns: list[int] | None = None):
    """A bracketed, column-aligned matrix; middle rows/columns elided (⋯ ⋮) to fit `width`.

    Returns the lines and the columns shown (pass `columns` to show the same ones of another matrix).
    Only the rows shown are turned into text: a large matrix costs no more than a small one.
    """
    rows, cols = block.shape
    keep_rows = list(range(rows)) if full or rows <= 12 else list(range(5)) + [-1] + list(range(rows - 5, rows))
    shown = [r for r in keep_rows if r != -1]
    texts: dict[tuple[int, int], str] = {}

    def text(r: int, c: int) -> str:  # only the cells of columns that are tried or shown
        if (r, c) not in texts:
            i = block[r, c]
            texts[r, c] = cell(i if literal else int(i))
        return texts[r, c]

    def col_width(c: int) -> int:
        return max(len(text(r, c)) for r in shown)

    if columns is None:
        columns = keep_columns(cols, lambda c: col_width(c) + 2, width - 6, full)
    widths = {c: col_width(c) for c in columns}
    gap = gap_at(columns)
    lines = []
    for r in keep_rows:
        if r == -1:
            parts = [("⋮").center(widths[c]) for c in columns]
        else:
            parts = [text(r, c).rjust(widths[c]) for c in columns]
        if gap is not None:
            parts = parts[:gap] + ["⋯"] + parts[gap:]
        lines.append("  ".join(parts))
    if len(lines) == 1:
        return ["[ " + lines[0] + " ]"], columns
    brackets = [("⎡", "⎤")] + [("⎢", "⎥")] * (len(lines) - 2) + [("⎣", "⎦")]
    return [f"{left} {body} {right}" for (left, right), body in zip(brackets, lines)], columns


class _PoolLayout(_Layout):
    """The same sections for pooling: windows instead of kernel sums, the max indicator as a factor."""

    def name(self, i: int) -> str:
        if i >= 0 and self.sym["mask"].contains(np.array(i)):
            return self.indicator(int(i))
        return super().name(i)

    def indicator(self, mask_id: int) -> str:
        """∂y_k/∂x_i of max pooling as SymPy writes it: H(x_i − max(the other cells of window k))."""
        parts = indicator(self.d, mask_id, self.sym.unicode, lambda xs: f"max({', '.join(xs)})", 8, lambda y: f"max(rest of window {y})")
        return "1" if parts is None else f"H({parts[0]} − {parts[1]})"

    def setup(self) -> None:
        spec = self.d.spec
        self.heading("Setup")
        self.line(f"  X: input, {spec.channels} channel(s) of {_shape(spec.input_size)}   shape {_shape(spec.input_shape)}")
        self.line(f"  Y: output, {spec.channels} channel(s) of {_shape(spec.output_size)}   shape {_shape(spec.output_shape)}")
        self.line("  output size, per axis: floor((N + 2p − k)/s) + 1")
        for axis, name in enumerate(axis_names(spec.ndim)):
            n, k, s, p = spec.input_size[axis], spec.window[axis], spec.stride[axis], spec.padding[axis]
            top = n + 2 * p - k
            rest = f"  (remainder {top % s}: the last {top % s} padded position(s) are in no window)" if top % s else ""
            self.line(f"    {name}: floor(({n} + 2·{p} − {k})/{s}) + 1 = {top // s + 1}{rest}")
        if spec.mode == "max":
            self.line("  y = max(window); padding is −∞ (it is never the maximum)")
        else:
            self.line(f"  y = sum(window)/{spec.window_count}; padded cells count as 0 (PyTorch's count_include_pad)")
        if self.num is not None:
            kind = "exact (integers and fractions)" if self.num.exact else "floating point"
            self.note(f"{values_phrase(self.num)} for: {', '.join(self.num.given) or 'none'}; arithmetic is {kind}")
        self.matrices("X", self.sym["input"].ids, channel_labels=("c",))
        if self.num is not None and "grad_output" in self.num.given:
            self.matrices("dL/dY", self.sym["grad_output"].ids, channel_labels=("c",))

    def forward(self) -> None:
        spec, d = self.d.spec, self.d
        self.heading("Forward: every window")
        self.note("y = max of the window's cells" if spec.mode == "max" else f"y = (sum of the window's cells)/{spec.window_count}")
        if spec.mode == "avg" and any(spec.padding):
            self.note(f"a window at the border also holds padded zeros: they add nothing but still count in the divisor {spec.window_count}")
        values = self.num.result("forward") if self.num is not None else None
        shown = 0
        for k in range(d.windows.shape[0]):
            if self.limited(shown):
                break
            cells = d.real_cells(k)
            lhs = self.sym.unicode(self.out0 + k)
            names, more = self.cap([self.sym.unicode(c) for c in cells])
            listed = ", ".join(names) + (f", … ({more} more)" if more else "")
            pad = " " * len(lhs)
            if spec.mode == "max":
                self.out.extend(Text(t) for t in _wrap_sum(f"  {lhs} = max(", [listed + ")"], self.width))
            else:
                total = len(cells)
                names, more = self.cap([self.sym.unicode(c) for c in cells], total)
                terms = names + ([f"… ({more} more)"] if more else [])
                self.out.extend(Text(t) for t in _wrap_sum(f"  {lhs} = (", [" + ".join(terms) + f")/{spec.window_count}"], self.width))
            if values is not None:
                numbers = [_number(self.num.number[c]) for c in cells]
                shown_numbers, more = self.cap(numbers)
                inner = ", ".join(shown_numbers) + (", …" if more else "")
                plugged = f"max({inner})" if spec.mode == "max" else f"({' + '.join(shown_numbers)}{' + …' if more else ''})/{spec.window_count}"
                self.line(f"  {pad} = {plugged}")
                self.line(f"  {pad} = {_number(values.ravel()[k])}{self.winner_note(k, cells)}")
            shown += 1
        self.left_out(d.windows.shape[0] - shown, "outputs")
        self.result_matrix("forward", "Y")

    def winner_note(self, k: int, cells: list[int]) -> str:
        """Max pooling with numbers: which cell of window k takes its gradient (and how a tie went)."""
        maxima = window_maxima(self.d, self.num, k)
        if maxima is None:
            return ""
        tied, winners = ([self.sym.unicode(c) for c in group] for group in maxima)
        if len(tied) == 1:
            return f"   (at {tied[0]})"
        if len(winners) == 1:
            return f"   (tie between {', '.join(tied)}; ties: first → {winners[0]})"
        return f"   (tie between {', '.join(tied)}; ties: split → each gets 1/{len(winners)})"

    nothing_depends = "no window holds"

    def gradient_intro(self, title: str) -> None:
        spec = self.d.spec
        if spec.mode == "max":
            self.heading(f"{title}: chain rule, Σ_k ∂L/∂y_k · ∂y_k/∂x, over the windows that hold x")
            self.note(
                "∂y_k/∂x = H(x − max(the other cells of window k)) (SymPy's Heaviside): the indicator that x is "
                "the window's maximum, 1 if it is and 0 if not; so only the maximum of each window receives its gradient"
            )
            if self.num is not None and self.num.masks is not None:
                self.note(
                    "ties: " + ("first - the first maximal cell of a window (row-major) gets it all, as PyTorch does"
                                if spec.ties == "first" else "split - tied maximal cells share the gradient equally")
                )
        else:
            self.heading(f"{title}: chain rule, Σ_k ∂L/∂y_k · ∂y_k/∂x, with ∂y_k/∂x = 1/{spec.window_count}")

    def local_terms(self, g, leaf, coef) -> list[str]:
        div = self.d.divisor
        return super().local_terms(g, leaf, coef) if div == 1 else [f"∂L/∂{self.z_of(gi)}/{div}" for gi in g.tolist()]

    def plugged_terms(self, g, leaf, coef) -> list[str]:
        div = self.d.divisor
        if div == 1:
            return super().plugged_terms(g, leaf, coef)
        return [("+ " if i else "") + f"{self.plugged(gi)[0]}/{div}" for i, gi in enumerate(g.tolist())]

    def identities(self) -> None:
        self.heading("Identities: the routing rule, computed by upsampling dL/dY window offset by window offset")
        for identity in self.d.identities:
            self.identity(identity)

    def identity(self, identity: Identity) -> None:
        super().identity(identity)
        if self.num is not None and self.num.masks is not None:
            self.matrices(f"mask: each cell's share of its windows' gradient (ties: {self.d.spec.ties})",
                          cell_shares(self.d, self.num), channel_labels=("c",), indent="    ", cell=_number, literal=True)
