"""Pooling, as one layer kind: the forward windows, the chain rule, the routing identity, the numbers
(the max masks, with the tie policy), and what the documents say about it, side by side.

Max pooling: y_k = Max(window k). Its derivative by a cell x_i of the window is, as SymPy writes it,
Heaviside(x_i - Max(the other cells)): 1 where x_i is the window's maximum, else 0. Each such
indicator is a symbol of its own here (the "mask" group, one per window cell), so the chain rule
dL/dx_i = sum_k dL/dy_k * mask[k, i] is exact bookkeeping, as for convolution. With numbers, the
mask is computed (ties resolved by the policy) and substituted.

Average pooling: y_k = (sum of window k) / |window| (padded cells count as zeros, as in PyTorch), so
dL/dx_i = sum_k dL/dy_k / |window| over the windows that contain x_i.

>>> from symgrad.spec import PoolSpec
>>> d = derive_pool(PoolSpec.build("4x4", "2x2"))
>>> str(d.forward_expr(0)), str(d.gradient_expr(0))
('Max(x_1_1, x_1_2, x_2_1, x_2_2)', 'dy_1_1*Heaviside(x_1_1 - Max(x_1_2, x_2_1, x_2_2))')
>>> d.all_hold
True
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..naming import Naming
from ..numeric import Numeric, divide, equal_numbers, finite, merge, substitute
from ..spec import PoolSpec, axis_names, axis_text
from ..symbols import SymbolTable
from ..tensor import ONE, ZERO, Terms, dilate, stack, take, windows
from ..values import FROM_PYTHON, parse_values
from .base import M, Derivation, Identity, Intermediate, Kind

if TYPE_CHECKING:
    import sympy


@dataclass(frozen=True, eq=False, repr=False)
class PoolDerivation(Derivation):
    """Everything `symgrad pool` derives for one layer.

    windows:     input ids of each window's cells, shape (outputs, cells per window); ZERO for padding
    grad_input:  dL/dX, one chain-rule sum per input cell (factor a: grad_output symbol; factor b: the
                 mask symbol of that window cell for max pooling, ONE for average pooling)
    divisor:     1 for max pooling; the window size for average pooling (every term is divided by it)
    numeric:     with --values, the numbers put in, the masks, and what the sums come to (else None)
    """

    spec: PoolSpec
    naming: Naming
    symbols: SymbolTable
    windows: np.ndarray
    grad_input: Terms
    identities: tuple[Identity, ...] = ()
    numeric: Numeric | None = None

    loss = "generic"

    @property
    def divisor(self) -> int:
        """Average pooling: what every term is divided by, the least common multiple of the windows'
        divisors (a window with divisor n has terms with coefficient divisor/n); 1 for max pooling."""
        return self.spec.common_divisor

    def window_divisor(self, k: int) -> int:
        """Average pooling: window k's own divisor (k over every channel's outputs)."""
        divisors = self.spec.divisors()
        return int(divisors[k % len(divisors)])

    def gradients(self) -> list[tuple[str, Terms]]:
        return [("grad_input", self.grad_input)]

    @property
    def forward_terms(self) -> int:
        """Window cells over all outputs (the documents' size estimate)."""
        return int(self.windows.size)

    @property
    def named_cells(self) -> int:
        """Cells named by symbolic max pooling's Heaviside(x - Max(other cells)) terms (window squared
        per output; 0 when the input's numbers decide the masks, or for average pooling)."""
        return self.spec.symbolic_max_cost if self.numeric is None or self.numeric.masks is None else 0

    def json_problem(self, max_terms: int) -> str | None:
        """Why --format json would be too large (None: it is not): symbolic max pooling names each
        window's other cells in every gradient term."""
        if self.named_cells <= max_terms:
            return None
        return (f"--format json of symbolic max pooling names each window's other cells in every gradient "
                f"term: about {self.named_cells:,} names, over the limit of {max_terms:,}; give the input's numbers "
                f"with --values, use --format text, or raise --max-terms")

    def real_cells(self, k: int) -> list[int]:
        """Input ids of window k's cells that are not padding."""
        return [int(i) for i in self.windows[k] if i != -1]

    def mask_cell(self, mask_id: int) -> tuple[int, int]:
        """(window k, input id of the cell) for a mask symbol."""
        k, j = divmod(int(mask_id) - self.symbols["mask"].offset, self.windows.shape[1])
        return k, int(self.windows[k, j])

    def is_mask(self, symbol_id: int) -> bool:
        return symbol_id >= 0 and bool(self.symbols["mask"].contains(np.array(symbol_id)))

    def indicator(self, mask_id: int, name, max_of, longest: int, rest_of) -> tuple[str, str] | None:
        """dy_k/dx of max pooling, H(x - max(the window's other cells)), as (x, the max part) in a
        renderer's names; None when x is alone in its window (the derivative is 1). Beyond `longest` other
        cells the list is replaced by `rest_of(name of y_k)`, so that it fits on a line."""
        k, x = self.mask_cell(mask_id)
        count = int(np.count_nonzero(self.windows[k] != -1)) - 1  # the other real cells (counted, not named: a
        if count <= 0:                                              # window of 80x80 cells has 6,399 of them)
            return None
        if count > longest:
            return name(x), rest_of(name(self.symbols["output"].offset + k))
        others = [name(c) for c in self.real_cells(k) if c != x]
        return name(x), others[0] if len(others) == 1 else max_of(others)

    def maxima(self, k: int) -> tuple[list[int], list[int]] | None:
        """Max pooling with numbers: (cells holding window k's maximum, cells that receive its gradient)."""
        numeric = self.numeric
        if numeric is None or numeric.masks is None:
            return None
        real = self.windows[k] >= 0
        cells = self.windows[k][real].tolist()
        shares = numeric.masks[k][real].tolist()
        best = max(numeric.number[c] for c in cells)
        return [c for c in cells if numeric.number[c] == best], [c for c, share in zip(cells, shares) if share != 0]

    # --- SymPy views

    def forward_expr(self, k: int) -> "sympy.Expr":
        """y_k: Max of the window (max pooling) or its sum over the window size (average pooling)."""
        import sympy

        cells = [self.symbols.sympy_symbol(i) for i in self.real_cells(k)]
        if self.spec.mode == "max":
            return sympy.Max(*cells)
        return sympy.Add(*cells) / self.divisor

    def mask_expr(self, mask_id: int) -> "sympy.Expr":
        """dy_k/dx_i for a window cell, as SymPy gives it: Heaviside(x_i - Max(the other cells))."""
        import sympy

        k, x = self.mask_cell(mask_id)
        return sympy.diff(self.forward_expr(k), self.symbols.sympy_symbol(x))

    def gradient_expr(self, key: str, flat_index: int | None = None) -> "sympy.Expr":
        """dL/dx_i as a SymPy expression (`gradient_expr("grad_input", i)` or `gradient_expr(i)`)."""
        import sympy

        index = key if flat_index is None else flat_index
        mask = self.grad_input.entry == index
        terms = []
        for g, b, c in zip(self.grad_input.a[mask], self.grad_input.b[mask], self.grad_input.coef[mask]):
            factor = sympy.Integer(1) / self.divisor if b == ONE else self.mask_expr(int(b))
            terms.append(int(c) * self.symbols.sympy_symbol(int(g)) * factor)
        return sympy.Add(*terms)


# The tie policies of max pooling with numbers (what the notes, the documents and the JSON say).
TIES = {
    "first": "the first maximal cell in the window (row-major) takes the gradient, as PyTorch does",
    "split": "tied maximal cells share the gradient equally",
}


def derive_pool(spec: PoolSpec, naming: Naming | None = None, values: dict | None = None,
                source: str = FROM_PYTHON) -> PoolDerivation:
    """Expand every window, differentiate by the chain rule, and check the routing identity."""
    naming = naming or Naming(output="y")  # x, y and dy, as in the seeds
    symbols = SymbolTable.for_pool(spec, naming)
    windows = window_cells(spec, symbols)
    grad_input = chain_rule(spec, symbols, windows)
    d = PoolDerivation(spec, naming, symbols, windows, grad_input, (routing_identity(spec, symbols).checked(grad_input),))
    if values is None:
        return d
    v = parse_values(data=values, symbols=symbols, spec=spec, loss="generic", source=source)
    return dataclasses.replace(d, numeric=evaluate(d, v.known, v.number, v.exact, v.given, v.source))


def window_cells(spec: PoolSpec, symbols: SymbolTable) -> np.ndarray:
    """Input ids of every window's cells, shape (outputs, cells per window); ZERO where a cell is padding
    (or, with ceil_mode, past the end; adaptive pooling: the slots a smaller window does not use)."""
    if not spec.adaptive_size:
        cells = windows(symbols["input"].ids, spec.output_size, spec.window, spec.stride, spec.dilations, spec.padding)
        return cells.reshape(-1, spec.window_count).copy()
    ids = symbols["input"].ids
    out = np.full((spec.channels, int(np.prod(spec.output_size)), spec.window_count), ZERO, dtype=np.int64)
    for k, ranges in enumerate(itertools.product(*[spec.spans(axis) for axis in range(spec.ndim)])):
        block = ids[(slice(None), *[slice(start, end) for start, end in ranges])].reshape(spec.channels, -1)
        out[:, k, : block.shape[1]] = block
    return out.reshape(-1, spec.window_count)


def chain_rule(spec: PoolSpec, symbols: SymbolTable, windows: np.ndarray) -> Terms:
    """dL/dx_i = sum over the windows k holding x_i of dL/dy_k * dy_k/dx_i.

    Factor a: the dL/dy_k symbol; factor b: the mask symbol of (window k, cell) for max pooling
    (dy_k/dx_i as an indicator), or ONE for average pooling (the 1/|window| is the derivation's divisor).
    """
    g = symbols["grad_output"].ids.ravel()
    k, cell = np.nonzero(windows != ZERO)
    x = windows[k, cell] - symbols["input"].offset
    second = symbols["mask"].ids.reshape(windows.shape)[k, cell] if spec.mode == "max" else np.full(k.size, ONE)
    table = Terms.make(spec.input_shape, x, g[k], second, _scales(spec)[k])
    order = np.lexsort((table.a, table.entry))
    return Terms(table.shape, table.entry[order], table.a[order], table.b[order], table.coef[order])


def _scales(spec: PoolSpec) -> np.ndarray:
    """Per window (every channel's): the coefficient of its terms over the common divisor (lcm / its own
    divisor); all 1 for max pooling and for average pooling with one divisor."""
    outputs = int(np.prod(spec.output_shape))
    if spec.mode != "avg":
        return np.ones(outputs, dtype=np.int64)
    return np.tile(spec.common_divisor // spec.divisors(), spec.channels)


def _adaptive_routing(spec: PoolSpec, symbols: SymbolTable) -> Terms:
    """Adaptive pooling's routing, window by window from PyTorch's start/end formula: output k sends its
    gradient (times the mask, for max) to every cell of its window."""
    G = symbols["grad_output"].ids.reshape(spec.channels, -1)
    mask = symbols["mask"].ids.reshape(spec.channels, -1, spec.window_count) if spec.mode == "max" else None
    scales = _scales(spec)
    entries, a, b, coef = [], [], [], []
    cells = np.arange(int(np.prod(spec.input_size))).reshape(spec.input_size)
    for k, ranges in enumerate(itertools.product(*[spec.spans(axis) for axis in range(spec.ndim)])):
        block = cells[tuple(slice(start, end) for start, end in ranges)].ravel()
        for c in range(spec.channels):
            entries.append(c * cells.size + block)
            a.append(np.full(block.size, G[c, k]))
            b.append(mask[c, k, : block.size] if mask is not None else np.full(block.size, ONE))
            coef.append(np.full(block.size, scales[k]))
    return Terms.make(spec.input_shape, np.concatenate(entries), np.concatenate(a), np.concatenate(b), np.concatenate(coef))


def routing_identity(spec: PoolSpec, symbols: SymbolTable) -> Identity:
    """dL/dX = crop_p( sum over window offsets j of shift_j( dilate_s(dL/dY * mask_j) ) ).

    The upsampling view: each window offset j sends dL/dy (times the mask at j, for max) to the input
    cells s*o + j of the padded input; overlapping windows add up; the padding is cropped at the end.
    """
    G = symbols["grad_output"].ids
    mask = symbols["mask"].ids.reshape(spec.channels, -1, spec.window_count) if spec.mode == "max" else None
    divisor = spec.uniform_divisor
    if spec.adaptive_size:
        computed = _adaptive_routing(spec, symbols)
    else:
        # every (window offset j, output o) at once, j outer: cell s*o + d*j of the padded input (on a canvas
        # long enough for a ceil_mode window that hangs over the end)
        outputs = np.indices(spec.output_size).reshape(spec.ndim, 1, -1)
        offsets = np.array(list(np.ndindex(*spec.window))).T.reshape(spec.ndim, -1, 1) * np.array(spec.dilations).reshape(spec.ndim, 1, 1)
        stride = np.array(spec.stride).reshape(spec.ndim, 1, 1)
        canvas = tuple(max(n, (o - 1) * s + e) for n, o, s, e in zip(spec.padded_size, spec.output_size, spec.stride, spec.extent))
        entry = np.ravel_multi_index(tuple(stride * outputs + offsets), canvas)
        scales = _scales(spec).reshape(spec.channels, -1)
        per_channel = []
        for c in range(spec.channels):
            g = np.broadcast_to(G[c].reshape(1, -1), entry.shape)
            second = mask[c].T if mask is not None else np.full(entry.shape, ONE)
            coef = np.broadcast_to(scales[c].reshape(1, -1), entry.shape)
            routed = Terms.make(canvas, entry, g, second, coef)
            per_channel.append(take(routed, spec.padding, (1,) * spec.ndim, spec.input_size))  # drop the padding
        computed = stack(per_channel, (spec.channels,))
    shared = "upsample(dL/dY)" if not spec.adaptive_size else "dL/dY spread over each window"
    statement = (
        f"dL/dX = sum over windows of mask ⊙ {shared}" if spec.mode == "max"
        else f"dL/dX = sum over windows of {shared} / {divisor}" if divisor is not None
        else f"dL/dX = sum over windows of {shared} / (the window's divisor)"
    )
    notes = []
    if spec.mode == "max":
        notes.append(
            "mask: 1 where a cell is its window's maximum, else 0 (SymPy: Heaviside(x_i - Max(other cells)))"
        )
        notes.append(
            f"ties: {spec.ties} - {TIES[spec.ties]}"
        )
    counts = np.bincount(computed.entry, minlength=int(np.prod(spec.input_shape))).reshape(spec.input_shape)[0]
    if not spec.adaptive_size and counts.max(initial=0) > 1:
        notes.append("windows overlap (stride smaller than the window): a cell in several windows adds up their gradients")
    if spec.adaptive_size and any(n % o for n, o in zip(spec.input_size, spec.adaptive_size)):
        notes.append("adaptive windows: output i of O along an axis of N reads floor(i·N/O) to ceil((i+1)·N/O) − 1, so "
                     "windows differ in size or overlap and a cell in several windows adds up their gradients")
    if spec.ceil_mode:
        notes.append("ceil mode: the last window along an axis may hang over the end of the padded input; it holds only "
                     "the cells it covers")
    if spec.mode == "avg" and divisor is None:
        notes.append("each window divides by its own divisor: " + _divisor_rule(spec))
    if any(spec.padding):
        pad_note = "padding is -inf for max (never the maximum)" if spec.mode == "max" else "padded cells count as zeros in each window's average"
        notes.append(f"{pad_note}; it is cropped at the end")
    intermediates = () if spec.adaptive_size else (
        Intermediate("dL/dY upsampled by the stride (channel 1)" if spec.channels > 1 else "dL/dY upsampled by the stride", dilate(G[0], spec.stride)),)
    intermediates += (Intermediate("windows holding each input cell", counts, "", "counts"),)
    if spec.mode == "avg" and divisor is None:
        intermediates += (Intermediate("each window's divisor", np.array(spec.divisors()).reshape(spec.output_size), "", "counts"),)
    return Identity("grad_input", statement, False, len(computed), computed, intermediates, tuple(notes))


def _divisor_rule(spec: PoolSpec) -> str:
    """Why average pooling's windows divide by different numbers, in words."""
    if spec.adaptive_size:
        return "the number of cells in the window (adaptive windows differ in size)"
    if not spec.count_include_pad:
        return "the number of real cells in the window (padded cells are not counted)"
    return "the cells the window covers inside input + padding (ceil mode: the last window is cut at the end)"


# --- numbers


def window_masks(windows: np.ndarray, x: np.ndarray, ties: str, exact: bool) -> np.ndarray:
    """Per window and cell: the share of dL/dy the cell receives (1 at the maximum; ties per policy).

    `x` holds the numbers of the cells (same shape as windows); padding cells never win.
    """
    real = windows != ZERO
    values = np.where(real, x, -np.inf)
    best = values.max(axis=1)
    tied = real & (values == best[:, None])
    if ties == "first":
        out = np.zeros(windows.shape, dtype=np.int64)
        out[np.arange(windows.shape[0]), tied.argmax(axis=1)] = 1
        return out.astype(object) if exact else out.astype(np.float64)
    counts = tied.sum(axis=1)
    if not exact:
        return tied / counts[:, None]
    share = np.array([Fraction(1, int(n)) if n > 1 else 1 for n in counts], dtype=object)
    out = np.zeros(windows.shape, dtype=object)
    out[:] = 0
    rows, cols = np.nonzero(tied)
    out[rows, cols] = share[rows]
    return out


@finite
def evaluate(derivation, known: np.ndarray, number: np.ndarray, exact: bool, given: tuple[str, ...], source: str) -> Numeric:
    """Numbers for a pooling layer: outputs, the max masks (ties by the policy), the routed gradient."""
    spec, windows, symbols = derivation.spec, derivation.windows, derivation.symbols
    known, number = known.copy(), number.copy()
    real = windows >= 0
    forward = masks = None
    if known[windows[real]].all():
        x = np.zeros(windows.shape, dtype=object if exact else np.float64)
        if exact:
            x[:] = 0
        x[real] = number[windows[real]]
        outputs = np.arange(windows.shape[0])
        if spec.mode == "max":
            masks = window_masks(windows, x, spec.ties, exact)
            m = symbols["mask"]
            known[m.offset : m.offset + m.size] = True
            number[m.offset : m.offset + m.size] = masks.ravel()
            values = np.where(real, x, -np.inf).max(axis=1)
        else:
            sums = x.sum(axis=1)
            per_window = [derivation.window_divisor(k) for k in range(len(sums))]
            values = ([divide(v, n, exact) for v, n in zip(sums, per_window)] if exact
                      else sums / np.array(per_window, dtype=np.float64))
        coef = np.empty(len(values), dtype=object if exact else np.float64)
        coef[:] = values
        ones = np.full(len(values), ONE)
        forward = merge(Terms(spec.output_shape, outputs, ones, ones, coef))

    def routed(table: Terms) -> Terms:
        out = substitute(table, known, number, exact)
        if derivation.divisor == 1:
            return out
        coef = np.array([divide(c, derivation.divisor, exact) for c in out.coef], dtype=object if exact else np.float64)
        return Terms(out.shape, out.entry, out.a, out.b, coef)

    gradient = routed(derivation.grad_input)
    identities = {i.name: equal_numbers(routed(i.computed), gradient, exact) for i in derivation.identities}
    return Numeric(exact, given, source, known, number, forward, {"grad_input": gradient}, identities, masks)


def cell_shares(derivation, numeric: Numeric) -> np.ndarray:
    """Max pooling: each input cell's share of its windows' gradients, summed over the windows (input-shaped)."""
    spec, windows = derivation.spec, derivation.windows
    share = np.zeros(int(np.prod(spec.input_shape)), dtype=object if numeric.exact else np.float64)
    if numeric.exact:
        share[:] = 0
    rows, cols = np.nonzero(windows >= 0)
    np.add.at(share, windows[rows, cols] - derivation.symbols["input"].offset, numeric.masks[rows, cols])
    return share.reshape(spec.input_shape)


# --- content: what the documents say, in both notations (render/document.py lays it out)


def _listed(opening: str, items: list[str], separator: str, closing: str) -> list[str]:
    """`max(a, b, c)` as terms that a layout may break between items."""
    terms = [item + separator for item in items[:-1]] + [items[-1] + closing]
    terms[0] = opening + terms[0]
    return terms


class Content:
    """The pooling sections, written through the document builder `doc` (render/document.py)."""

    channel_labels = {"input": ("c",), "output": ("c",), "grad_output": ("c",)}
    value_words = {"input": "the input X", "grad_output": "dL/dY"}
    nothing_depends = "no window holds"

    @staticmethod
    def title(d: PoolDerivation) -> list[str]:
        spec = d.spec
        if spec.adaptive_size:
            parts = ["pool", f"input {spec.input_text}", f"output size {'x'.join(map(str, spec.adaptive_size))} (adaptive)"]
        else:
            parts = ["pool", f"input {spec.input_text}", f"window {spec.window_text}", f"stride {axis_text(spec.stride)}",
                     f"padding {axis_text(spec.padding)}"]
            parts += [f"dilation {axis_text(spec.dilation)}"] if spec.dilation else []
            parts += ["ceil mode"] if spec.ceil_mode else []
            parts += ["padding not counted"] if not spec.count_include_pad else []
            parts += [f"divisor {spec.divisor_override}"] if spec.divisor_override else []
        if spec.channels > 1:
            parts.append(f"{spec.channels} channels")
        return parts + [f"{spec.mode} pooling" + (f" (ties: {spec.ties})" if spec.mode == "max" else "")]

    @staticmethod
    def name(doc, i: int):
        """A mask symbol is dy_k/dx as SymPy writes it: H(x − max(the other cells of window k))."""
        if not doc.d.is_mask(i):
            return None
        n = doc.n
        symbol = lambda j: n.symbol(doc.sym, j)  # noqa: E731
        if n.tex:
            parts = doc.d.indicator(i, symbol, lambda xs: n.call("max", xs), 5, lambda y: rf"\max(\text{{rest of window }} {y})")
            return "1" if parts is None else rf"H\left({parts[0]} - {parts[1]}\right)"
        parts = doc.d.indicator(i, symbol, lambda xs: n.call("max", xs), 8, lambda y: f"max(rest of window {y})")
        return "1" if parts is None else f"H({parts[0]} − {parts[1]})"

    @staticmethod
    def setup(doc) -> None:
        spec, n = doc.d.spec, doc.n
        channels = f"{spec.channels} channel{'s' if spec.channels > 1 else ''}"
        doc.heading("Setup")
        doc.para("Input ", doc.math("X"), f": {channels} of {spec.input_text}, shape ", doc.math(n.shape(spec.input_shape)),
                 "; output ", doc.math("Y"), ", shape ", doc.math(n.shape(spec.output_shape)), ".")
        if spec.adaptive_size:
            doc.para("Adaptive pooling: the output size is given, and output ", doc.math("i"), " of ", doc.math("O"),
                     " along an axis of ", doc.math("N"), " reads cells ",
                     doc.math(M("⌊iN/O⌋ … ⌈(i+1)N/O⌉ − 1", r"\lfloor iN/O \rfloor \dots \lceil (i+1)N/O \rceil - 1")),
                     " (PyTorch's rule, counting from 0), so windows may differ in size and overlap.")
            for axis, name in enumerate(axis_names(spec.ndim)):
                spans = ", ".join(f"{start + 1}–{end}" for start, end in spec.spans(axis))
                doc.para(f"Windows along the {name} (cells, counting from 1): {spans}.", small=True)
        else:
            rows = []
            for axis, name in enumerate(axis_names(spec.ndim)):
                N, k, p, dl = spec.input_size[axis], spec.window[axis], spec.padding[axis], spec.dilations[axis]
                span = (rf"{dl} \cdot ({k} - 1) - 1" if n.tex else f"{dl}·({k}−1) − 1") if spec.dilation else str(k)
                top_text = rf"{N} + 2 \cdot {p} - {span}" if n.tex else f"{N} + 2·{p} − {span}"
                out = spec.output_size[axis]
                rounded = -(-spec.numerator(axis) // spec.stride[axis]) + 1
                if spec.ceil_mode and rounded != out:  # the window that would start in the right padding is dropped
                    out = (rf"{rounded} - 1 = {out}" if n.tex else f"{rounded} − 1 = {out}")
                rows.append((name, top_text, spec.stride[axis], out))
            k_text = ("d(k−1) − 1", "d(k-1) - 1") if spec.dilation else ("k", "k")
            if spec.ceil_mode:
                formula = M(f"ceil((N + 2p − {k_text[0]})/s) + 1", rf"\left\lceil \frac{{N + 2p - {k_text[1]}}}{{s}} \right\rceil + 1")
            else:
                formula = M(f"floor((N + 2p − {k_text[0]})/s) + 1", rf"\left\lfloor \frac{{N + 2p - {k_text[1]}}}{{s}} \right\rfloor + 1")
            doc.output_size(formula, rows, spec.unused_tail if not spec.ceil_mode else (0,) * spec.ndim, "no window holds",
                            ceil=spec.ceil_mode)
            if spec.ceil_mode:
                doc.note("Ceil mode rounds up (a window that would start in the right padding is dropped, as PyTorch "
                         "does); the last window may hang over the end and holds only the cells it covers.")
        if spec.mode == "max":
            doc.para(doc.math(M("y = max(window)", r"y = \max(\text{window})")), "; padding is ",
                     doc.math(M("−∞", r"-\infty")), ", so it is never the maximum.")
        elif spec.uniform_divisor is not None:
            count = spec.uniform_divisor
            why = (f"the divisor is set to {count} (divisor_override)" if spec.divisor_override else
                   "padded cells count as 0 and in the divisor, as PyTorch's default does" if spec.count_include_pad else
                   "padded cells are not counted")
            doc.para(doc.math(M(f"y = (sum of the window)/{count}", rf"y = \tfrac{{1}}{{{count}}} \sum \text{{window}}")), f"; {why}.")
        else:
            doc.para(doc.math(M("y_k = (sum of window k)/n_k", r"y_k = \tfrac{1}{n_k} \sum \text{window } k")), ", where ",
                     doc.math("n_k"), " is " + _divisor_rule(spec) + ".")
        if not doc.in_net:
            doc.values_sentence()
        doc.matrices("X", doc.sym["input"].ids, ("c",))
        if doc.num is not None and "grad_output" in doc.num.given and not doc.in_net:
            doc.matrices(n.partial("L", "Y"), doc.sym["grad_output"].ids, ("c",))

    @staticmethod
    def forward(doc) -> None:
        d, spec, n = doc.d, doc.d.spec, doc.n
        doc.heading("Forward pass: every window")
        if spec.mode == "avg" and any(spec.padding) and spec.count_include_pad and not spec.divisor_override:
            doc.note("A window at the border also holds padded zeros: they add nothing but still count in its divisor.")
        if spec.mode == "max":
            opening, separator, closing = ((r"\max(", ",", ")") if n.tex else ("max(", ",", ")"))
        values = doc.num.result("forward") if doc.num is not None else None
        more = lambda total, shown: [rf"\dots \text{{ ({total - shown} more)}}" if n.tex else f"… ({total - shown} more)"] if total > shown else []  # noqa: E731
        shown = 0
        for k in range(d.windows.shape[0]):
            if doc.limited(shown):
                break
            cells = d.real_cells(k)
            if spec.mode == "avg":
                count = d.window_divisor(k)
                opening, separator, closing = ((rf"\tfrac{{1}}{{{count}}}(", " +", ")") if n.tex else ("(", " +", f")/{count}"))
            names = [n.symbol(doc.sym, c) for c in doc.head(np.array(cells))[0]]
            rows = [_listed(opening, names + more(len(cells), len(names)), separator, closing)]
            if values is not None:
                numbers = [n.number(doc.num.number[c]) for c in cells[: len(names)]] + (["…" if not n.tex else r"\dots"] if len(cells) > len(names) else [])
                rows.append(_listed(opening, numbers, separator, closing))
                rows.append([n.number(values.ravel()[k]) + Content.winner(doc, k)])
            doc.equation(n.symbol(doc.sym, doc.out0 + k), rows)
            shown += 1
        doc.left_out(d.windows.shape[0] - shown, "outputs")
        doc.result_matrix("forward", "Y")

    @staticmethod
    def winner(doc, k: int) -> str:
        """Max pooling with numbers: which cell of window k takes its gradient (and how a tie went)."""
        maxima = doc.d.maxima(k)
        if maxima is None:
            return ""
        tied, winners = ([doc.n.symbol(doc.sym, c) for c in group] for group in maxima)
        if len(tied) == 1:
            text = ("(at ", tied[0], ")")
        elif len(winners) == 1:
            text = ("(tie between ", ", ".join(tied), "; ties: first → ", winners[0], ")")
        else:
            text = ("(tie between ", ", ".join(tied), f"; ties: split, each gets 1/{len(winners)})")
        if not doc.n.tex:
            return "   " + "".join(text)
        return r" \qquad " + "".join(rf"\text{{{piece}}}".replace("→", r"} \to \text{") if i % 2 == 0 else " " + piece + " "
                                    for i, piece in enumerate(text))

    @staticmethod
    def gradient_intro(doc, key: str) -> None:
        spec, n = doc.d.spec, doc.n
        doc.heading("Gradient ", doc.math(n.partial("L", "X")), ": the chain rule, window by window")
        if spec.mode == "max":
            doc.para(doc.math(M("∂y_k/∂x = H(x − max(the other cells of window k))",
                                r"\frac{\partial y_k}{\partial x} = H\left(x - \max(\text{the other cells of window } k)\right)")),
                     ", with H the Heaviside step (SymPy's form): 1 where ", doc.math("x"), " is its window's maximum, 0 "
                     "elsewhere. Only the maximum of each window receives that window's gradient.")
            if doc.num is not None and doc.num.masks is not None:
                doc.note(f"Ties ({spec.ties}): {TIES[spec.ties]}.")
        elif spec.uniform_divisor is not None:
            count = spec.uniform_divisor
            doc.para(doc.math(M(f"∂y_k/∂x = 1/{count}", rf"\frac{{\partial y_k}}{{\partial x}} = \tfrac{{1}}{{{count}}}")),
                     " for every cell ", doc.math("x"), " of window ", doc.math("k"), ".")
        else:
            doc.para(doc.math(M("∂y_k/∂x = 1/n_k", r"\frac{\partial y_k}{\partial x} = \tfrac{1}{n_k}")),
                     " for every cell ", doc.math("x"), " of window ", doc.math("k"), ", with ", doc.math("n_k"),
                     " the window's own divisor.")

    @staticmethod
    def identities(doc) -> None:
        spec, d = doc.d.spec, doc.d
        doc.heading("Identity: routing by upsampling")
        doc.para("The gradient is computed again window offset by window offset: ", doc.math(doc.n.partial("L", "Y")),
                 " is upsampled by the stride, "
                 + ("multiplied by the mask of maxima, " if spec.mode == "max" else
                    f"divided by {spec.uniform_divisor}, " if spec.uniform_divisor else "divided by each window's divisor, ")
                 + "shifted to each cell of the window and added up; it is compared with the chain rule term by term.")
        for identity in d.identities:
            # the tie policy is stated with the gradient, and only when numbers decide the maxima
            # documents say it in words (the JSON's notes keep SymPy's form for tools)
            notes = tuple("mask: 1 where a cell is its window's maximum, else 0 (the Heaviside step of the cell "
                          "minus the largest other cell)" if note.startswith("mask:") else note
                          for note in identity.notes if not note.startswith("ties:"))
            tex = STATEMENTS[spec.mode]
            if spec.mode == "avg" and spec.uniform_divisor is not None:
                tex = tex.replace(r"\sum_{\text{windows } k} \tfrac{1}{n_k}", rf"\sum_{{\text{{windows}}}} \tfrac{{1}}{{{spec.uniform_divisor}}}")
            if spec.adaptive_size:
                tex = tex.replace(r"\operatorname{upsample}", r"\operatorname{spread}")
            doc.identity(identity, M(identity.statement, tex), notes)
        if doc.num is not None and doc.num.masks is not None:
            doc.para(f"Each cell's share of its windows' gradient (ties: {spec.ties}):", level=1)
            doc.matrices("", cell_shares(d, doc.num), ("c",), literal=True, level=1)


STATEMENTS = {  # TeX; the plain text is the identity's own statement
    "max": r"\frac{\partial L}{\partial X} = \sum_{\text{windows}} \text{mask} \odot \operatorname{upsample}\bigl(\tfrac{\partial L}{\partial Y}\bigr)",
    "avg": r"\frac{\partial L}{\partial X} = \sum_{\text{windows } k} \tfrac{1}{n_k} \operatorname{upsample}\bigl(\tfrac{\partial L}{\partial Y}\bigr)",
}

KIND = Kind(
    name="pool",
    sections=("setup", "forward", "grad-input", "identities"),
    gradient_of={"grad_input": "input"},
    tensor_of={"grad_input": "X"},
    answers=("forward", "grad_input"),
    options=("input", "window", "stride", "padding", "mode", "channels", "ties", "index", "names", "dilation", "ceil_mode",
             "count_include_pad", "divisor", "output_size"),
    required=("input",),
    noun="pooling",
    content=Content,
    figures=(("grad_input", "routing"),),
)
PoolDerivation.kind = KIND
