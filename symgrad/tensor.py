"""Small N-D symbolic array helpers: pad, dilate, rot180, correlate, crop.

Symbolic tensors are numpy integer arrays of symbol ids (see `symbols.py`), with ZERO (-1) for an
entry that is identically zero (padding, the zeros a dilation inserts). Correlating two such arrays
gives a sum of products per output entry; that is a `Terms` table: term i adds
`coef[i] * factor a[i] * factor b[i]` to the entry `entry[i]` (a flat index into `shape`). ONE (-2)
stands for the factor 1 (a bias term has no second factor).

Everything here is exact integer bookkeeping, so identities can be compared structurally: two term
tables are equal when their canonical forms (sorted, merged, zero terms dropped) are equal.

>>> import numpy as np
>>> t = correlate(np.array([0, 1, 2]), np.array([3, 4]))
>>> t.shape, t.entry.tolist(), t.a.tolist(), t.b.tolist()
((2,), [0, 0, 1, 1], [0, 1, 1, 2], [3, 4, 3, 4])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ZERO = -1
ONE = -2

_INT = np.int64


@dataclass(frozen=True, eq=False)
class Terms:
    """A tensor of sums of products, one row per product term (see module doc)."""

    shape: tuple[int, ...]
    entry: np.ndarray
    a: np.ndarray
    b: np.ndarray
    coef: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> "Terms":
        z = np.zeros(0, dtype=_INT)
        return cls(tuple(shape), z, z, z, z)

    @classmethod
    def make(cls, shape, entry, a, b, coef=None) -> "Terms":
        entry = np.asarray(entry, dtype=_INT).ravel()
        a = np.asarray(a, dtype=_INT).ravel()
        b = np.asarray(b, dtype=_INT).ravel()
        coef = np.ones_like(entry) if coef is None else np.asarray(coef, dtype=_INT).ravel()
        keep = (a != ZERO) & (b != ZERO) & (coef != 0)
        if not keep.all():
            entry, a, b, coef = entry[keep], a[keep], b[keep], coef[keep]
        return cls(tuple(int(s) for s in shape), entry, a, b, coef)

    def __len__(self) -> int:
        return int(self.entry.size)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def swapped(self) -> "Terms":
        """The same sums with the two factors of every product exchanged (a*b = b*a)."""
        return Terms(self.shape, self.entry, self.b, self.a, self.coef)

    def canonical(self) -> "Terms":
        """Sorted by (entry, a, b), equal products merged by adding coefficients, zero terms removed."""
        if len(self) == 0:
            return self
        order = np.lexsort((self.b, self.a, self.entry))
        entry, a, b, coef = self.entry[order], self.a[order], self.b[order], self.coef[order]
        new_group = np.ones(entry.size, dtype=bool)
        new_group[1:] = (entry[1:] != entry[:-1]) | (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        starts = np.flatnonzero(new_group)
        merged = np.add.reduceat(coef, starts)
        keep = merged != 0
        return Terms(self.shape, entry[starts][keep], a[starts][keep], b[starts][keep], merged[keep])

    def same_sums(self, other: "Terms") -> bool:
        """True when both tables denote the same tensor of polynomials (compared structurally)."""
        if self.shape != other.shape:
            return False
        x, y = self.canonical(), other.canonical()
        return all(np.array_equal(p, q) for p, q in ((x.entry, y.entry), (x.a, y.a), (x.b, y.b), (x.coef, y.coef)))

    def entry_slices(self) -> np.ndarray:
        """For a table sorted by entry: start offsets of each entry's terms (length size + 1)."""
        return np.searchsorted(self.entry, np.arange(self.size + 1), side="left")

    def sorted_by_entry(self) -> "Terms":
        order = np.argsort(self.entry, kind="stable")
        return Terms(self.shape, self.entry[order], self.a[order], self.b[order], self.coef[order])


def concat(tables: list[Terms]) -> Terms:
    """The entrywise sum of tables of one shape."""
    shape = tables[0].shape
    assert all(t.shape == shape for t in tables)
    return Terms(
        shape,
        np.concatenate([t.entry for t in tables]),
        np.concatenate([t.a for t in tables]),
        np.concatenate([t.b for t in tables]),
        np.concatenate([t.coef for t in tables]),
    )


def stack(tables: list[Terms], lead: tuple[int, ...]) -> Terms:
    """Stack tables of one shape S into one of shape lead + S (row-major over lead)."""
    inner = tables[0].shape
    count = int(np.prod(inner, dtype=np.int64)) if inner else 1
    return Terms(
        tuple(lead) + tuple(inner),
        np.concatenate([t.entry + i * count for i, t in enumerate(tables)]),
        np.concatenate([t.a for t in tables]),
        np.concatenate([t.b for t in tables]),
        np.concatenate([t.coef for t in tables]),
    )


def pad(ids: np.ndarray, widths: tuple[int, ...]) -> np.ndarray:
    """Zero-pad every axis by widths[i] on both sides."""
    return np.pad(ids, [(w, w) for w in widths], constant_values=ZERO)


def source_index(n: int, before: int, after: int, mode: str = "zeros") -> np.ndarray:
    """For each position of an axis padded by `before` and `after`, the input index it holds (−1: a zero).
    reflect mirrors without repeating the edge, replicate repeats the edge, circular wraps (PyTorch's modes).

    >>> source_index(3, 2, 2, "reflect").tolist(), source_index(3, 1, 1, "circular").tolist()
    ([2, 1, 0, 1, 2, 1, 0], [2, 0, 1, 2, 0])
    """
    i = np.arange(-before, n + after)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    return np.where((i >= 0) & (i < n), i, -1)


def pad_mode(ids: np.ndarray, before: tuple[int, ...], after: tuple[int, ...], mode: str = "zeros") -> np.ndarray:
    """Pad every spatial axis of one channel's ids: zeros (ZERO), or copies of input cells (the other modes)."""
    maps = [source_index(n, b, a, mode) for n, b, a in zip(ids.shape, before, after)]
    inside = np.ones((1,) * ids.ndim, dtype=bool)
    for axis, m in enumerate(maps):
        inside = inside & (m >= 0).reshape([-1 if j == axis else 1 for j in range(ids.ndim)])
    picked = ids[np.ix_(*[np.clip(m, 0, None) for m in maps])]
    return np.where(inside, picked, ZERO)


def fold(terms: Terms, shape: tuple[int, ...], before: tuple[int, ...], after: tuple[int, ...], mode: str) -> Terms:
    """The gradient of a padded tensor folded back onto the input: each padded cell's terms go to the input
    cell it copies (zeros mode: the padding is dropped, which is the crop)."""
    maps = [source_index(n, b, a, mode) for n, b, a in zip(shape, before, after)]
    pos = np.unravel_index(terms.entry, terms.shape)
    src = [m[p] for m, p in zip(maps, pos)]
    keep = np.all([s >= 0 for s in src], axis=0) if src else np.ones(terms.entry.size, dtype=bool)
    entry = np.ravel_multi_index(tuple(s[keep] for s in src), tuple(shape))
    return Terms(tuple(shape), np.asarray(entry, dtype=_INT), terms.a[keep], terms.b[keep], terms.coef[keep])


def windows(ids: np.ndarray, output_size, kernel, stride, dilation, padding, padding_end=None,
            mode: str = "zeros") -> np.ndarray:
    """Every receptive field of a channel-first id array: `ids[c, s*o + d*k - p]` for each channel c,
    output position o and kernel offset k, shape (C, *output_size, *kernel); ZERO where it falls in
    the padding. Convolution's forward pass and pooling's windows both read the input this way.

    >>> windows(np.arange(5)[None], (2,), (3,), (2,), (1,), (1,)).tolist()
    [[[-1, 0, 1], [1, 2, 3]]]
    """
    n = len(output_size)
    grid = np.indices((*output_size, *kernel), sparse=True)
    if mode != "zeros":  # the padded cells hold copies of input cells
        ends = padding_end if padding_end is not None else padding
        maps = [source_index(size, b, a, mode) for size, b, a in zip(ids.shape[1:], padding, ends)]
        positions = [m[s * o + d * k] for m, o, k, s, d in zip(maps, grid[:n], grid[n:], stride, dilation)]
        return ids[(slice(None), *positions)]
    positions = [s * o + d * k - p for o, k, s, d, p in zip(grid[:n], grid[n:], stride, dilation, padding)]
    inside = np.ones((1,) * len(grid), dtype=bool)
    for pos, size in zip(positions, ids.shape[1:]):
        inside = inside & (pos >= 0) & (pos < size)
    clipped = [np.clip(pos, 0, size - 1) for pos, size in zip(positions, ids.shape[1:])]
    return np.where(inside[None], ids[(slice(None), *clipped)], ZERO)


def dilate(ids: np.ndarray, factors: tuple[int, ...]) -> np.ndarray:
    """Insert factor-1 zeros between neighbouring entries along every axis."""
    shape = tuple((n - 1) * f + 1 for n, f in zip(ids.shape, factors))
    out = np.full(shape, ZERO, dtype=_INT)
    out[tuple(slice(None, None, f) for f in factors)] = ids
    return out


def rot180(ids: np.ndarray) -> np.ndarray:
    """Reverse every axis (a 180-degree rotation in 2-D)."""
    return np.flip(ids, axis=tuple(range(ids.ndim))).copy()


def correlate(data: np.ndarray, kernel: np.ndarray) -> Terms:
    """Valid cross-correlation: out[o] = sum_k data[o + k] * kernel[k]. Factor a from data, b from kernel.

    Only products of two non-ZERO entries are made, in entry order and kernel order within an entry.
    Dilated and padded operands are mostly ZERO, so the work is the cheaper of (outputs x non-zero
    kernel entries) and (non-zero data entries x non-zero kernel entries), never outputs x kernel
    size: a kernel dilated 5999 times, or a 100x100 kernel over a tiny dilated gradient, costs what
    its real terms cost."""
    out_shape = tuple(n - k + 1 for n, k in zip(data.shape, kernel.shape))
    if any(s < 1 for s in out_shape):
        raise ValueError(f"kernel {kernel.shape} larger than data {data.shape}")
    k_pos = np.nonzero(kernel != ZERO)  # kernel positions, in row-major (kernel) order
    n_out = int(np.prod(out_shape, dtype=np.int64))
    d_pos = np.nonzero(data != ZERO)
    if n_out <= d_pos[0].size:  # every output against the kernel's non-zero entries
        windows = np.lib.stride_tricks.sliding_window_view(data, kernel.shape)
        a = windows[(Ellipsis, *k_pos)].reshape(n_out, -1)
        b = np.broadcast_to(kernel[k_pos].reshape(1, -1), a.shape)
        entry = np.broadcast_to(np.arange(n_out, dtype=_INT).reshape(n_out, 1), a.shape)
        return Terms.make(out_shape, entry, a, b)
    # few non-zero data entries: pair each with each non-zero kernel entry, keep o = p - k in range
    o = [p[:, None] - k[None, :] for p, k in zip(d_pos, k_pos)]
    keep = np.ones(o[0].shape, dtype=bool) if o else np.ones((1, 1), dtype=bool)
    for axis, n in zip(o, out_shape):
        keep &= (axis >= 0) & (axis < n)
    data_index, kernel_index = np.nonzero(keep)
    entry = np.ravel_multi_index(tuple(axis[keep] for axis in o), out_shape) if o else np.zeros(keep.sum(), dtype=_INT)
    order = np.lexsort((kernel_index, entry))
    a = data[d_pos][data_index][order]
    b = kernel[k_pos][kernel_index][order]
    return Terms.make(out_shape, np.asarray(entry, dtype=_INT)[order], a, b)


def full_correlate(data: np.ndarray, kernel: np.ndarray) -> Terms:
    """Full cross-correlation: pad data with kernel-1 zeros on each side, then correlate (valid)."""
    return correlate(pad(data, tuple(k - 1 for k in kernel.shape)), kernel)


def take(terms: Terms, start: tuple[int, ...], step: tuple[int, ...], count: tuple[int, ...]) -> Terms:
    """Keep the entries on the grid start + step*i (i < count) of every axis; the rest is dropped."""
    pos = np.unravel_index(terms.entry, terms.shape) if terms.shape else ()
    keep = np.ones(terms.entry.size, dtype=bool)
    new_pos = []
    for p, s0, st, c in zip(pos, start, step, count):
        rel = p - s0
        keep &= (rel >= 0) & (rel % st == 0) & (rel // st < c)
        new_pos.append(rel // st)
    new_entry = np.ravel_multi_index(tuple(q[keep] for q in new_pos), tuple(count)) if terms.shape else terms.entry
    return Terms(tuple(count), np.asarray(new_entry, dtype=_INT), terms.a[keep], terms.b[keep], terms.coef[keep])


def crop(terms: Terms, widths: tuple[int, ...]) -> Terms:
    """Remove widths[i] entries from both ends of every axis."""
    return take(terms, widths, (1,) * len(widths), tuple(n - 2 * w for n, w in zip(terms.shape, widths)))


def embed(terms: Terms, shape: tuple[int, ...]) -> Terms:
    """Place a table at the start of a larger zero tensor (zeros appended at the end of every axis)."""
    pos = np.unravel_index(terms.entry, terms.shape)
    return Terms(tuple(shape), np.asarray(np.ravel_multi_index(pos, shape), dtype=_INT), terms.a, terms.b, terms.coef)
