"""One entry of a layer (`symgrad conv ... --entry x_3_3`): its chain rule or its sum, and the cells
involved, as grids.

Everything comes from the derivation's own data: convolution's forward term table (each product names
its output, kernel entry and input cell) and pooling's windows, so what is marked is exactly what the
sums hold. A grid cell is `◆x₃₃` for the entry itself, `●w₂₂` for a cell involved (with what it meets
there), `·` otherwise: the marks read without colour (in a pipe, for colour-blind users); the terminal
colours them too.

>>> from symgrad import conv
>>> d = conv("5x5", "3x3", stride=2)
>>> involvement(d, d.symbols.lookup("x_3_3", ENTRY_GROUPS))["output"][0].tolist()
[['●w₃₃', '●w₃₁'], ['●w₁₃', '●w₁₁']]
"""

from __future__ import annotations

import numpy as np

from ..errors import OptionError
from ..tensor import ONE, ZERO
from .document import Builder, Document, DocumentSettings
from .notation import TEXT, Notation

SELF, MARK, NONE = "◆", "●", "·"
ENTRY_GROUPS = ("input", "kernel", "bias", "output", "grad_output")


def find_entry(d, text: str) -> int:
    """The symbol id `--entry` names, or one OptionError line that quotes it and lists the valid forms."""
    symbol = d.symbols.lookup(text, ENTRY_GROUPS)
    if symbol is None:
        ranges = []
        for key in ENTRY_GROUPS:
            group = d.symbols.groups.get(key)
            if group is not None and group.size:
                first, last = d.symbols.identifier(group.offset), d.symbols.identifier(group.offset + group.size - 1)
                ranges.append(first if group.size == 1 else f"{first} .. {last}")
        raise OptionError(f"--entry {text!r} is not a name of this layer; expected one of {', '.join(ranges)} "
                          f"(as the JSON writes them; x33 and x₃₃ also work)")
    return symbol


def involvement(d, symbol: int, n: Notation = TEXT) -> dict[str, np.ndarray]:
    """Per tensor ("input", "kernel", "output"): a grid of cell texts shaped like it, marking the entry
    (◆) and every cell its sum or chain rule involves (●, with what it meets there)."""
    sym = d.symbols
    name = lambda i: n.symbol(sym, int(i))  # noqa: E731
    group = sym.group_of(symbol)
    key = "output" if group.key == "grad_output" else group.key
    index = symbol - group.offset
    grids = {k: np.full(sym[k].shape, NONE, dtype=object) for k in ("input", "kernel", "bias", "output") if k in sym.groups and sym[k].size}
    grids[key].flat[index] = SELF + name(sym[key].offset + index)
    x0, o0 = sym["input"].offset, sym["output"].offset
    if hasattr(d, "windows"):  # pooling: the windows
        windows = d.windows
        if key == "input":
            for k in np.flatnonzero((windows == symbol).any(axis=1)):
                grids["output"].flat[k] = MARK + name(o0 + k)
        else:
            for cell in windows[index]:
                if cell != ZERO:
                    grids["input"].flat[cell - x0] = MARK + name(cell)
        return grids
    forward = d.forward  # convolution: entry = output, a = kernel (or bias), b = input (or ONE)
    if key == "input":
        rows = np.flatnonzero(forward.b == symbol)
        for o, w in zip(forward.entry[rows], forward.a[rows]):
            grids["output"].flat[o] = MARK + name(w)
    elif key in ("kernel", "bias"):
        rows = np.flatnonzero(forward.a == symbol)
        for o, x in zip(forward.entry[rows], forward.b[rows]):
            grids["output"].flat[o] = MARK + (name(x) if x != ONE else "")
            if x != ONE:
                grids["input"].flat[x - x0] = MARK + name(o0 + o)
    else:
        rows = np.flatnonzero(forward.entry == index)
        for w, x in zip(forward.a[rows], forward.b[rows]):
            if x != ONE:
                grids["input"].flat[x - x0] = MARK + name(w)
                if sym["kernel"].contains(np.array(w)):
                    grids["kernel"].flat[w - sym["kernel"].offset] = MARK + name(x)
    return grids


def entry_document(d, symbol: int, full: bool = False, n: Notation = TEXT) -> Document:
    """The entry's equation (the chain rule of its gradient, or the sum it is) and the grids."""
    b = Builder(d, DocumentSettings(full_matrices=full, max_slices=None), n)
    sym = d.symbols
    group = sym.group_of(symbol)
    index = symbol - group.offset
    name = n.symbol(sym, symbol)
    b.heading("Entry ", b.math(name))
    gradient = {value: key for key, value in d.kind.gradient_of.items()}.get(group.key)
    if gradient is not None:
        b.para("Its gradient, by the chain rule:")
        b.gradient_entries(gradient, dict(d.gradients())[gradient], only=index)
    elif hasattr(d, "windows"):
        cells = [n.symbol(sym, c) for c in d.windows[index] if c != ZERO]
        b.para(f"The window it {'is' if group.key == 'output' else 'receives its gradient from'}:")
        rule = f"max({', '.join(cells)})" if d.spec.mode == "max" else f"({' + '.join(cells)})/{d.window_divisor(index)}"
        b.equation(n.symbol(sym, sym["output"].offset + index), [[rule]])
    else:
        b.para("The sum it is" + (" (its gradient ∂L/∂ of it reaches these cells)" if group.key == "grad_output" else "") + ":")
        numeric = b.num.forward if b.num is not None else None
        b.sum_entries(d.forward, lambda k: n.symbol(sym, sym["output"].offset + k), numeric, "outputs", only=index)
    grids = involvement(d, symbol, n)
    what = {
        "input": ("Outputs that read it (● and the kernel entry it meets there)" if not hasattr(d, "windows")
                  else "Windows that hold it (● its output)"),
        "kernel": "Inputs it multiplies (● and the output they make there)",
        "bias": "Outputs it is added to",
        "output": "Its receptive field (● and the kernel entry that meets each cell)" if not hasattr(d, "windows") else "Its window",
        "grad_output": "Where its gradient goes: the receptive field (● and the kernel entry)",
    }[group.key]
    b.para(what + f"; {SELF} marks {name}, {NONE} a cell not involved:")
    labels = d.kind.content.channel_labels
    order = ("output", "input", "bias") if group.key in ("input", "bias") else ("input", "kernel", "output")
    for key in order:
        if key not in grids or (key == "input" and group.key == "bias"):
            continue
        letter = {"input": "X", "kernel": "W", "bias": "b", "output": "Z" if not hasattr(d, "windows") else "Y"}[key]
        grid = grids[key].reshape(1, -1) if key == "bias" else grids[key]
        b.matrices(letter, grid, ("",) if key == "bias" else labels[key], literal=True, cell=str)
    title = list(d.kind.content.title(d)) + [f"entry {sym.identifier(symbol)}"]
    return Document(tuple(title), tuple(b.blocks), full)
