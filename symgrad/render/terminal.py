"""The terminal renderer (rich): the derivation as a person reads it, sized to the console.

Large layers are summarised: at most `max_entries` entries per section and `max_terms` terms per
sum and a window of each matrix, always saying what was left out and how to see it all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.text import Text

from ..derivation import ConvDerivation, Identity, Intermediate
from ..spec import axis_names
from ..tensor import ONE, ZERO
from .common import GRADIENT_OF, SECTIONS, TITLES, entry_terms, product

HOW_TO_SEE_ALL = "use --full to print everything, or --format json"


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
        yield Group(*_Layout(self.d, self.settings, width).render())


def render_rich(derivation: ConvDerivation, settings: TextSettings | None = None) -> TerminalView:
    return TerminalView(derivation, settings)


class _Layout:
    def __init__(self, d: ConvDerivation, settings: TextSettings, width: int):
        self.d, self.s, self.width = d, settings, width
        self.sym = d.symbols
        self.g0 = self.sym["grad_output"].offset
        self.out0 = self.sym["output"].offset
        self.t0 = self.sym["target"].offset
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
        if self.sym["grad_output"].contains(np.array(i)):
            return self.grad_output(i)
        return self.name(i)

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
        show = self.s.show
        self.title()
        if "setup" in show:
            self.setup()
        if "forward" in show:
            self.forward()
        for key, table in self.d.gradients():
            if key.replace("_", "-") in show:
                self.gradient(key, table)
        if "identities" in show:
            self.identities()
        return self.out

    # --- sections

    def title(self) -> None:
        spec = self.d.spec
        parts = [f"input {spec.input_text}", f"kernel {spec.kernel_text}"]
        for label, values in (("stride", spec.stride), ("padding", spec.padding), ("dilation", spec.dilation)):
            parts.append(f"{label} {_x(values)}")
        if spec.in_channels > 1 or spec.out_channels > 1:
            parts.append(f"channels {spec.in_channels}→{spec.out_channels}")
        if spec.bias:
            parts.append("bias")
        self.out.extend(Text(p, style="bold") for p in _wrap_words("symgrad conv · " + " · ".join(parts), self.width))

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
        if d.loss == "generic":
            self.line("  loss: generic; ∂L/∂z are the incoming gradients, kept as symbols")
        elif d.loss == "sum":
            self.line("  loss: L = Σ z, so every ∂L/∂z = 1")
        else:
            self.line("  loss: L = ½ Σ (z − t)², so ∂L/∂z = z − t")
        self.matrices("X", self.sym["input"].ids, channel_labels=("c",))
        self.matrices("W", self.sym["kernel"].ids, channel_labels=("f", "c"))
        if spec.bias:
            self.line("  b = [" + "  ".join(self.name(i) for i in self.sym["bias"].ids) + "]")

    def forward(self) -> None:
        self.heading("Forward: every output expanded")
        spec = self.d.spec
        formula = "z = b + Σ_c Σ_k w[f,c,k]·x[c, s·o + d·k − p]" if spec.bias else "z = Σ_c Σ_k w[f,c,k]·x[c, s·o + d·k − p]"
        why = "cross-correlation; terms that fall in the padding are 0" if any(spec.padding) else "cross-correlation"
        self.note(f"{formula}  ({why})")
        shown = 0
        for k, a, b, coef in entry_terms(self.d.forward):
            if self.limited(shown):
                break
            terms = [product([self.name(ai), self.name(bi)], ci, "·") for ai, bi, ci in zip(a.tolist(), b.tolist(), coef.tolist())]
            kept, more = self.cap(terms)
            self.equation(self.sym.unicode(self.out0 + k), kept, more)
            shown += 1
        self.left_out(self.d.forward.size - shown, "outputs")

    def gradient(self, key: str, table) -> None:
        title = TITLES[key]
        self.heading(f"{title}: chain rule, Σ_k ∂L/∂z_k · ∂z_k/∂θ, non-zero terms only")
        group = self.sym[GRADIENT_OF[key]]
        shown = 0
        for index, a, b, coef in entry_terms(table):
            if self.limited(shown):
                break
            theta = group.offset + index
            lhs = self.dL(theta)
            if a.size == 0:
                self.line(f"  {lhs} = 0   (no output depends on {self.name(theta)})")
                shown += 1
                continue
            chain = [f"∂{self.z_of(g)}/∂{self.name(theta)}·∂L/∂{self.z_of(g)}" for g in a.tolist()]
            kept, more = self.cap(chain)
            self.equation(lhs, kept, more)
            result = [product([self.name(bi), self.grad_output(g)], ci, "·") for g, bi, ci in zip(a.tolist(), b.tolist(), coef.tolist())]
            kept, more = self.cap(result)
            self.equation(" " * len(lhs), kept, more)
            shown += 1
        self.left_out(table.size - shown, f"entries of {title}")

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
        for intermediate in identity.intermediates:
            self.intermediate(intermediate)
        for text in identity.notes:
            self.note(text, indent="    ")

    def intermediate(self, item: Intermediate) -> None:
        label = item.label + (f" ({item.note})" if item.note else "")
        cell = (lambda i: str(i)) if item.kind == "counts" else None
        self.matrices(label, item.ids[None, ...], channel_labels=("",), indent="    ", cell=cell)

    # --- matrices

    def matrices(self, label: str, ids: np.ndarray, channel_labels: tuple[str, ...], indent: str = "  ", cell=None) -> None:
        """Show a channel-first tensor as labelled 2-D matrices (1-D as a row; 3-D by depth slices)."""
        lead = ids.shape[: len(channel_labels)]
        spatial = ids.shape[len(channel_labels):]
        slices = []
        for lead_index in np.ndindex(*lead):
            parts = [f"{name}={i + 1}" for name, i, n in zip(channel_labels, lead_index, lead) if n > 1 and name]
            block = ids[lead_index]
            if len(spatial) == 3:
                for depth in range(spatial[0]):
                    slices.append((parts + [f"depth={depth + 1}"], block[depth]))
            else:
                slices.append((parts, block if len(spatial) == 2 else block.reshape(1, -1)))
        limit = len(slices) if self.s.full else self.s.max_slices
        for parts, block in slices[:limit]:
            title = label + (f" [{', '.join(parts)}]" if parts else "")
            self.line(f"{indent}{title} =", "")
            for row in _matrix_lines(block, cell or self.cell, self.width - len(indent) - 2, self.s.full):
                self.line(indent + "  " + row)
        if len(slices) > limit:
            self.note(f"… {len(slices) - limit} more slice(s) of {label} not shown; {HOW_TO_SEE_ALL}", indent=indent)

    # --- summarising

    def limited(self, shown: int) -> bool:
        return not self.s.full and shown >= self.s.max_entries

    def cap(self, terms: list[str]) -> tuple[list[str], int]:
        if self.s.full or len(terms) <= self.s.max_terms:
            return terms, 0
        return terms[: self.s.max_terms], len(terms) - self.s.max_terms

    def left_out(self, count: int, what: str) -> None:
        if count > 0:
            self.note(f"… {count:,} more {what} not shown; {HOW_TO_SEE_ALL}")


def _x(values) -> str:
    """`2` when every axis has the same value, else `2x1`."""
    values = list(values)
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


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


def _matrix_lines(block: np.ndarray, cell, width: int, full: bool) -> list[str]:
    """A bracketed, column-aligned matrix; middle rows/columns elided (⋯ ⋮) to fit `width`.

    Only the rows shown are turned into text: a large matrix costs no more than a small one.
    """
    rows, cols = block.shape
    keep_rows = list(range(rows)) if full or rows <= 12 else list(range(5)) + [-1] + list(range(rows - 5, rows))
    cells = {r: [cell(int(i)) for i in block[r]] for r in keep_rows if r != -1}
    col_width = [max(len(texts[c]) for texts in cells.values()) for c in range(cols)]
    keep_cols = list(range(cols))
    if not full:
        while len(keep_cols) > 2 and sum(col_width[c] + 2 for c in keep_cols) + 4 > width:
            keep_cols = _drop_middle(keep_cols)
    elide_cols = len(keep_cols) < cols
    lines = []
    for r in keep_rows:
        if r == -1:
            parts = [("⋮").center(col_width[c]) for c in keep_cols]
        else:
            parts = [cells[r][c].rjust(col_width[c]) for c in keep_cols]
        if elide_cols:
            half = (len(parts) + 1) // 2
            parts = parts[:half] + ["⋯"] + parts[half:]
        lines.append("  ".join(parts))
    if len(lines) == 1:
        return ["[ " + lines[0] + " ]"]
    brackets = [("⎡", "⎤")] + [("⎢", "⎥")] * (len(lines) - 2) + [("⎣", "⎦")]
    return [f"{left} {body} {right}" for (left, right), body in zip(brackets, lines)]


def _drop_middle(keep: list[int]) -> list[int]:
    half = len(keep) // 2
    return keep[: half - 1] + keep[half:] if len(keep) % 2 == 0 else keep[:half] + keep[half + 1 :]
