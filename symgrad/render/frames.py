"""The frames of an animation: which cells each step of a pass highlights, as plain data.

Built from the derivation: receptive fields come from `tensor.windows` (the function convolution's
forward expansion and pooling's windows use) applied to an array of padded positions, and the products
each frame writes come from the derivation's term tables. `render/draw.py` draws these frames (Pillow
for GIF and PNG, drawsvg for SVG); the tests compare them with receptive fields computed by index loops.

Passes: conv `forward` (one output per frame: the kernel over its receptive field), `grad-kernel` (one
kernel entry per frame: X read at the stride-dilated positions of dL/dZ), `grad-input` (one input entry
per frame: the outputs whose windows hold it, and the rotated kernel entry met there; the floor-stride
tail, never read, is exactly 0); pool `routing` (one window per frame: its maximum or its average, and
where its gradient goes).

>>> from symgrad import conv
>>> a = animation(conv("4x4", "3x3"), "forward")
>>> a.total, sorted(a.frames[1].panels[0].marked)
(4, [(0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError
from ..numeric import divide
from ..tensor import ONE, ZERO, dilate, pad, rot180, source_index, windows
from .notation import TEXT

PASSES = {"conv": ("forward", "grad-kernel", "grad-input"), "pool": ("routing",)}
DEFAULT_FRAMES = 36


@dataclass(frozen=True)
class Panel:
    """One tensor (a 2-D slice) drawn as a grid of cells."""

    label: str
    shape: tuple[int, int]
    texts: tuple[tuple[str, ...], ...]  # each cell's text: a name, or its number
    padding: frozenset = frozenset()  # (row, col) of cells that are padding (or the never-read tail)
    marked: dict = field(default_factory=dict)  # (row, col) -> a small label: what the cell meets
    current: frozenset = frozenset()  # the cell this frame writes
    window: frozenset = frozenset()  # cells under a sliding window (outlined), marked or not


@dataclass(frozen=True)
class Frame:
    panels: tuple[Panel, ...]
    caption: str


@dataclass(frozen=True)
class Animation:
    title: str
    frames: tuple[Frame, ...]
    total: int  # steps of the pass (frames beyond --frames are left out, and the last frame says so)


def animation(d, pass_: str, frames: int = DEFAULT_FRAMES, channel: int = 1, filter: int = 1) -> Animation:
    """The frames of one pass of a conv or pool derivation, one (input channel, filter) pair."""
    kind = d.kind.name
    if pass_ not in PASSES.get(kind, ()):
        raise OptionError(f"--pass {pass_!r} is not a pass of {kind}; expected one of {', '.join(PASSES[kind])}")
    if d.spec.ndim > 2:
        raise OptionError(f"animations draw 1-D and 2-D layers; this one has {d.spec.ndim} axes (use --entry for one entry)")
    if frames < 1:
        raise OptionError(f"--frames must be a positive number of frames, got {frames}")
    channels = d.spec.in_channels if kind == "conv" else d.spec.channels
    filters = d.spec.out_channels if kind == "conv" else 1
    if not 1 <= channel <= channels:
        raise OptionError(f"--channel {channel} is not an input channel of this layer; expected 1..{channels}")
    if not 1 <= filter <= filters:
        raise OptionError(f"--filter {filter} is not an output channel of this layer; expected 1..{filters}")
    if kind == "conv" and d.spec.groups > 1 and d.spec.group_of_output(filter - 1) != (channel - 1) // d.spec.group_in:
        first = d.spec.input_channel(filter - 1, 0) + 1
        raise OptionError(f"--channel {channel} is not read by --filter {filter} (groups {d.spec.groups}: filter {filter} "
                          f"reads input channels {first}..{first + d.spec.group_in - 1})")
    steps = {"forward": _forward, "grad-kernel": _grad_kernel, "grad-input": _grad_input, "routing": _routing}[pass_]
    total = _step_count(d, pass_)
    shown = list(itertools.islice(steps(d, channel - 1, filter - 1), frames))  # only the frames drawn are made
    if total > frames:
        last = shown[-1]
        shown[-1] = Frame(last.panels, last.caption + f"   [{frames} of {total} steps shown; --frames {total} shows all]")
    title = f"{' · '.join(d.kind.content.title(d))} · {pass_}"
    if channels > 1 or filters > 1:
        title += f" · channel {channel}" + (f", filter {filter}" if kind == "conv" else "")
    return Animation(title, tuple(shown), total)


def _step_count(d, pass_: str) -> int:
    """Steps of a pass: outputs (forward, routing: of one filter or channel), kernel entries, input entries."""
    spatial = lambda shape: int(np.prod(shape))  # noqa: E731
    if pass_ == "grad-kernel":
        return spatial(d.spec.kernel_size)
    if pass_ == "grad-input":
        return spatial(d.spec.input_size)
    return spatial(d.spec.output_size)


# --- shared pieces


def _two_d(shape) -> tuple[int, int]:
    return (1, shape[0]) if len(shape) == 1 else (shape[-2], shape[-1])


def _cell(flat: int, shape) -> tuple[int, int]:
    """A flat index of a 1-D or 2-D spatial shape as (row, col)."""
    if len(shape) == 1:
        return 0, int(flat)
    return tuple(int(v) for v in np.unravel_index(int(flat), shape))


def _name(d, symbol: int) -> str:
    return TEXT.symbol(d.symbols, int(symbol))


def _value_or_name(d, symbol: int) -> str:
    """A cell's text: its number when the values give it (an output's once it is computed), else its name."""
    value = None
    if d.numeric is not None:
        out = d.symbols["output"]
        value = d.numeric.output_value(symbol - out.offset) if out.contains(np.array(symbol)) else d.numeric.value(int(symbol))
    return TEXT.number(value) if value is not None else _name(d, symbol)


def _positions(spatial, output_size, kernel, stride, dilation) -> np.ndarray:
    """Padded flat positions read by each (output, kernel offset): shape (*output, *kernel). The same
    receptive-field function as the derivation's (`tensor.windows`), applied to position numbers."""
    ids = np.arange(int(np.prod(spatial)), dtype=np.int64).reshape(1, *spatial)
    return windows(ids, output_size, kernel, stride, dilation, (0,) * len(spatial))[0]


def _tensor_panel(d, label: str, ids: np.ndarray, padding_widths=None, pad_text: str = "0", after=None,
                  mode: str = "zeros") -> tuple[Panel, dict]:
    """A panel of a spatial id array (1-D or 2-D), optionally padded (`padding_widths` before, `after` after,
    default the same); returns it and id -> (row, col). ZERO entries (the zeros dilate and pad insert) are
    drawn like padding, as `pad_text`; with reflect/replicate/circular padding a padded cell shows the input
    cell it copies, drawn grey like padding."""
    spatial = ids.shape
    if padding_widths is None or not (any(padding_widths) or any(after or ())):
        padding_widths, after = (0,) * len(spatial), (0,) * len(spatial)
    after = tuple(after) if after is not None else tuple(padding_widths)
    padded = tuple(n + b + a for n, b, a in zip(spatial, padding_widths, after))
    shape = _two_d(padded)
    texts = [[pad_text] * shape[1] for _ in range(shape[0])]
    where, pads = {}, set()
    maps = [source_index(n, b, a, mode) for n, b, a in zip(spatial, padding_widths, after)]
    for flat in range(int(np.prod(padded))):
        position = np.unravel_index(flat, padded)
        inside = [p - w for p, w in zip(position, padding_widths)]
        cell = _cell(flat, padded)
        interior = all(0 <= q < n for q, n in zip(inside, spatial))
        source = [int(m[p]) for m, p in zip(maps, position)]
        symbol = int(ids[tuple(source)]) if all(q >= 0 for q in source) else ZERO
        if symbol != ZERO and interior:
            texts[cell[0]][cell[1]] = _value_or_name(d, symbol)
            where[symbol] = cell
        else:  # padding (or a copy an input cell put there), or a zero a dilation put in: drawn grey
            if symbol != ZERO:
                texts[cell[0]][cell[1]] = _value_or_name(d, symbol)
            pads.add(cell)
    return Panel(label, shape, tuple(tuple(row) for row in texts), frozenset(pads)), where


def _rows(table, entry: int):
    lo, hi = np.searchsorted(table.entry, [entry, entry + 1])
    return zip(table.a[lo:hi].tolist(), table.b[lo:hi].tolist(), table.coef[lo:hi].tolist())


def _sum_text(d, terms) -> str:
    """The sum in names; with values, then `=` the sum with the numbers put in (what is known)."""
    parts, numbers, known = [], [], False
    for coef, factors in terms:
        real = [f for f in factors if f != ONE]
        text = "·".join(_name(d, f) for f in real) or "1"
        parts.append(text if coef == 1 else f"{coef}·{text}")
        values = []
        for f in real:
            value = d.numeric.value(int(f)) if d.numeric is not None else None
            known = known or value is not None
            values.append(_wrapped(TEXT.number(value)) if value is not None else _name(d, f))
        number = "·".join(values) or "1"
        numbers.append(number if coef == 1 else f"{coef}·{number}")
    if not parts:
        return "0"
    return " + ".join(parts) + (" = " + " + ".join(numbers) if known else "")


def _wrapped(text: str) -> str:
    return f"({text})" if text.startswith(("-", "−")) or "/" in text else text


def _result(d, key: str, index: int) -> str:
    values = d.numeric.result(key) if d.numeric is not None else None
    return f" = {TEXT.number(values.ravel()[index])}" if values is not None else ""


# --- convolution


def _conv_setup(d, c: int, f: int):
    spec, sym = d.spec, d.symbols
    x_panel, x_at = _tensor_panel(d, ("X (padded)" if spec.padding_mode == "zeros" else f"X (padded, {spec.padding_mode})")
                                  if spec.padded else "X", sym["input"].ids[c], spec.padding, after=spec.padding_end,
                                  mode=spec.padding_mode)
    w_panel, w_at = _tensor_panel(d, "W", sym["kernel"].ids[f, c % spec.group_in])
    z_panel, z_at = _tensor_panel(d, "Z", sym["output"].ids[f])
    positions = _positions(spec.padded_size, spec.output_size, spec.kernel_size, spec.stride, spec.dilation)
    return x_panel, x_at, w_panel, w_at, z_panel, z_at, positions


def _forward(d, c: int, f: int) -> Iterator[Frame]:
    """One frame per output of filter f: the kernel (dilated) over its receptive field in channel c."""
    spec, sym = d.spec, d.symbols
    x_panel, x_at, w_panel, w_at, z_panel, z_at, positions = _conv_setup(d, c, f)
    kernel = sym["kernel"].ids[f, c % spec.group_in]
    n_out = int(np.prod(spec.output_size))
    for o in range(n_out):
        taps = positions.reshape(n_out, -1)[o]
        marked = {_cell(p, spec.padded_size): _name(d, w) for p, w in zip(taps.tolist(), kernel.ravel().tolist())}
        out_id = int(sym["output"].ids[f].ravel()[o])
        k_global = out_id - sym["output"].offset
        terms = [(coef, (a, b)) for a, b, coef in _rows(d.forward, k_global)
                 if b == ONE or int(b) in x_at]  # this channel's products (and the bias)
        caption = f"{_name(d, out_id)} = {_sum_text(d, terms)}{_result(d, 'forward', k_global)}"
        if spec.in_channels > 1:
            caption += f"   (channel {c + 1} of {spec.in_channels} shown)"
        yield Frame((
            Panel(x_panel.label, x_panel.shape, x_panel.texts, x_panel.padding, marked),
            Panel(w_panel.label, w_panel.shape, w_panel.texts, marked={cell: "" for cell in w_at.values()}),
            Panel(z_panel.label, z_panel.shape, z_panel.texts, current=frozenset({z_at[out_id]})),
        ), caption)


def _grad_kernel(d, c: int, f: int) -> Iterator[Frame]:
    """One frame per kernel entry W[f, c, k]: dL/dZ dilated by the stride laid over X at offset d·k,
    every product x·dz of that entry's sum marked (the seed's figure)."""
    spec, sym = d.spec, d.symbols
    x_panel, x_at, w_panel, w_at, z_panel, z_at, positions = _conv_setup(d, c, f)
    g_panel, g_at = _tensor_panel(d, "∂L/∂Z dilated by the stride", dilate(sym["grad_output"].ids[f], spec.stride))
    grads = sym["grad_output"].ids[f].ravel()
    n_out, n_k = int(np.prod(spec.output_size)), int(np.prod(spec.kernel_size))
    taps = positions.reshape(n_out, n_k)
    for k, w_id in enumerate(sym["kernel"].ids[f, c % spec.group_in].ravel().tolist()):
        marked = {_cell(taps[o, k], spec.padded_size): _name(d, grads[o]) for o in range(n_out)}
        w_global = w_id - sym["kernel"].offset
        terms = [(coef, (b, a)) for a, b, coef in _rows(d.grad_kernel, w_global)]
        caption = f"∂L/∂{_name(d, w_id)} = {_sum_text(d, terms)}{_result(d, 'grad_kernel', w_global)}"
        yield Frame((
            Panel(x_panel.label, x_panel.shape, x_panel.texts, x_panel.padding, marked),
            Panel(g_panel.label, g_panel.shape, g_panel.texts, g_panel.padding,
                  marked={cell: "" for cell in g_at.values()}),
            Panel("∂L/∂W", w_panel.shape, w_panel.texts, current=frozenset({w_at[w_id]})),
        ), caption)


def _grad_input(d, c: int, f: int) -> Iterator[Frame]:
    """One frame per input entry of channel c: rot180 of the (dilated) kernel over dL/dZ dilated by the
    stride and padded for the full correlation, at that entry's place; each product marked with the kernel
    entry it meets. The floor-stride tail, where the window runs past dL/dZ, is exactly 0."""
    spec, sym = d.spec, d.symbols
    full_pad = tuple(dl * (k - 1) for dl, k in zip(spec.dilation, spec.kernel_size))
    g_ids = pad(dilate(sym["grad_output"].ids[f], spec.stride), full_pad)  # as input_closed_form builds it
    r_ids = rot180(dilate(sym["kernel"].ids[f, c % spec.group_in], spec.dilation))
    g_panel, g_at = _tensor_panel(d, "∂L/∂Z dilated, padded for the full correlation", g_ids)
    r_panel, r_at = _tensor_panel(d, "rot180(W dilated)" if any(v > 1 for v in spec.dilation) else "rot180(W)", r_ids)
    x_panel, x_at = _tensor_panel(d, "∂L/∂X" + ((" (padding cropped)" if spec.padding_mode == "zeros" else
                                               f" (padding folded back, {spec.padding_mode})") if spec.padded else ""),
                                  sym["input"].ids[c], spec.padding, after=spec.padding_end, mode=spec.padding_mode)
    g2, r2 = g_ids.reshape(_two_d(g_ids.shape)), r_ids.reshape(_two_d(r_ids.shape))
    for x_id, cell in x_at.items():
        window = g2[cell[0]:cell[0] + r2.shape[0], cell[1]:cell[1] + r2.shape[1]]
        marked, under = {}, frozenset()
        if window.shape == r2.shape:
            under = frozenset((cell[0] + i, cell[1] + j) for i in range(r2.shape[0]) for j in range(r2.shape[1]))
            for (i, j), g in np.ndenumerate(window):
                if g >= 0 and r2[i, j] >= 0:
                    marked[(cell[0] + i, cell[1] + j)] = _name(d, r2[i, j])
        x_global = x_id - sym["input"].offset
        grads = set(sym["grad_output"].ids[f].ravel().tolist())
        terms = [(coef, (b, a)) for a, b, coef in _rows(d.grad_input, x_global) if int(a) in grads]
        caption = f"∂L/∂{_name(d, x_id)} = {_sum_text(d, terms)}{_result(d, 'grad_input', x_global)}"
        if window.shape != r2.shape:
            caption += "   (past the end of dL/dZ: no output reads it, so it is exactly 0)"
        yield Frame((
            Panel(g_panel.label, g_panel.shape, g_panel.texts, g_panel.padding, marked, window=under),
            Panel(r_panel.label, r_panel.shape, r_panel.texts, r_panel.padding, {r_at[int(r2[i - cell[0], j - cell[1]])]: "" for i, j in marked}),
            Panel(x_panel.label, x_panel.shape, x_panel.texts, x_panel.padding, current=frozenset({cell})),
        ), caption)


def _flat(cell: tuple[int, int], spatial) -> int:
    return cell[1] if len(spatial) == 1 else cell[0] * spatial[1] + cell[1]


# --- pooling


def _routing(d, c: int, f: int) -> Iterator[Frame]:
    """One frame per window of channel c: its cells, its result, and the cells its gradient reaches."""
    spec, sym = d.spec, d.symbols
    x_panel, x_at = _tensor_panel(d, "X (padded)" if any(spec.padding) else "X", sym["input"].ids[c], spec.padding,
                                  pad_text="−∞" if spec.mode == "max" else "0")
    y_panel, y_at = _tensor_panel(d, "Y", sym["output"].ids[c])
    n_out = int(np.prod(spec.output_size))
    if spec.adaptive_size:  # the windows' own cells (no padding): flat input positions
        taps = d.windows[c * n_out:(c + 1) * n_out] - sym["input"].ids[c].ravel()[0]
        taps = np.where(d.windows[c * n_out:(c + 1) * n_out] == ZERO, -1, taps)
    else:  # padded positions; a ceil_mode window's cells past the padded input are -1
        taps = _positions(spec.padded_size, spec.output_size, spec.window, spec.stride, spec.dilations).reshape(n_out, -1)
    masks = d.numeric.masks if d.numeric is not None and d.numeric.masks is not None else None
    for o in range(n_out):
        y_id = int(sym["output"].ids[c].ravel()[o])
        k = y_id - sym["output"].offset
        shares = masks[k] if masks is not None else None
        marked = {}
        for j, p in enumerate(taps[o].tolist()):
            if p < 0:
                continue
            cell = _cell(p, spec.padded_size)
            if spec.mode == "avg":
                marked[cell] = f"1/{d.window_divisor(k)}"
            elif shares is not None:
                marked[cell] = "★" if shares[j] != 0 else ""
            else:
                marked[cell] = ""
        cells = [_name(d, x) for x in d.windows[k] if x >= 0]
        rule = f"max({', '.join(cells)})" if spec.mode == "max" else f"({' + '.join(cells)})/{d.window_divisor(k)}"
        caption = f"{_name(d, y_id)} = {rule}{_result(d, 'forward', k)}"
        g_id = sym["grad_output"].offset + k
        g = d.numeric.value(g_id) if d.numeric is not None else None
        g_text = f" = {TEXT.number(g)}" if g is not None else ""
        if spec.mode == "max" and shares is not None:
            winners = [_name(d, x) for x, s in zip(d.windows[k].tolist(), shares.tolist()) if x >= 0 and s != 0]
            caption += f"; ∂L/∂{_name(d, y_id)}{g_text} goes to {', '.join(winners)} (★)"
        elif spec.mode == "avg":
            share = f" = {TEXT.number(divide(g, d.window_divisor(k), d.numeric.exact))}" if g is not None else ""
            caption += f"; each cell gets ∂L/∂{_name(d, y_id)}/{d.window_divisor(k)}{share}"
        yield Frame((
            Panel(x_panel.label, x_panel.shape, x_panel.texts, x_panel.padding, marked),
            Panel(y_panel.label, y_panel.shape, y_panel.texts, current=frozenset({y_at[y_id]})),
        ), caption)
