"""The symbol table of one derivation: every symbol has an integer id; names are made on demand.

Groups (each shaped like its tensor, channel-first): input x, kernel w, bias b, grad_output dz
(the symbols standing for dL/dz), output z (names of the outputs) and target t (for the mse loss).
Ids are contiguous per group, so "is this id a kernel symbol" is a range test.

>>> from symgrad.spec import ConvSpec
>>> table = SymbolTable.for_conv(ConvSpec.build("3x3", "2x2"), Naming())
>>> table.identifier(int(table["kernel"].ids[0, 0, 1, 0]))
'w_2_1'
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .naming import Naming, latex_name, unicode_name

_SUBSCRIPT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
from .spec import ConvSpec, PoolSpec


@dataclass(frozen=True)
class Group:
    key: str
    letter: str
    offset: int
    shape: tuple[int, ...]
    channel_axes: int  # leading axes that are channels
    shown_channels: tuple[bool, ...]  # which channel axes appear in names (count > 1)

    @cached_property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def ids(self) -> np.ndarray:
        return np.arange(self.offset, self.offset + self.size, dtype=np.int64).reshape(self.shape)

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.shape[self.channel_axes:]

    def contains(self, ids: np.ndarray) -> np.ndarray:
        return (ids >= self.offset) & (ids < self.offset + self.size)


class SymbolTable:
    """Ids and names for every symbol of a layer. Names are computed lazily and cached."""

    def __init__(self, naming: Naming, groups: list[Group]):
        self.naming = naming
        self.groups = {g.key: g for g in groups}
        self._ordered = sorted(groups, key=lambda g: g.offset)
        self._offsets = [g.offset for g in self._ordered]
        self.identifier = lru_cache(maxsize=None)(self._identifier)
        self.subscript = lru_cache(maxsize=None)(self._subscript)
        self.sympy_symbol = lru_cache(maxsize=None)(self._sympy_symbol)

    @classmethod
    def from_layout(cls, naming: Naming, layout: list[tuple]) -> "SymbolTable":
        """Groups (key, letter, shape, channel axes, shown channels) laid out one after another."""
        groups, offset = [], 0
        for key, letter, shape, axes, shown in layout:
            group = Group(key, letter, offset, tuple(shape), axes, shown)
            groups.append(group)
            offset += group.size
        return cls(naming, groups)

    @classmethod
    def for_conv(cls, spec: ConvSpec, naming: Naming) -> "SymbolTable":
        """A convolution: the kernel is (out, in/groups, *kernel), its indices shown where they vary."""
        return cls._conv_like(spec, naming, (spec.out_channels > 1, spec.group_in > 1))

    @classmethod
    def for_convtranspose(cls, spec, naming: Naming) -> "SymbolTable":
        """A transposed convolution: the kernel is (in, out/groups, *kernel), as PyTorch stores it."""
        return cls._conv_like(spec, naming, (spec.in_channels > 1, spec.group_out > 1))

    @classmethod
    def _conv_like(cls, spec, naming: Naming, kernel_shown: tuple[bool, bool]) -> "SymbolTable":
        F, C = spec.out_channels, spec.in_channels
        layout = [
            ("input", naming.input, spec.input_shape, 1, (C > 1,)),
            ("kernel", naming.kernel, spec.kernel_shape, 2, kernel_shown),
            ("bias", naming.bias, (F,) if spec.bias else (0,), 1, (F > 1,)),
            ("grad_output", naming.grad_output, spec.output_shape, 1, (F > 1,)),
            ("output", naming.output, spec.output_shape, 1, (F > 1,)),
            ("target", naming.target, spec.output_shape, 1, (F > 1,)),
        ]
        return cls.from_layout(naming, layout)

    @classmethod
    def for_pool(cls, spec: PoolSpec, naming: Naming) -> "SymbolTable":
        """Input x, dL/dy symbols dy, outputs y, and for max pooling one mask symbol per window cell
        (the indicator that the cell is its window's maximum)."""
        C = spec.channels
        cells = int(np.prod(spec.output_shape)) * spec.window_count if spec.mode == "max" else 0
        layout = [
            ("input", naming.input, spec.input_shape, 1, (C > 1,)),
            ("grad_output", naming.grad_output, spec.output_shape, 1, (C > 1,)),
            ("output", naming.output, spec.output_shape, 1, (C > 1,)),
            ("mask", "m", (cells,), 0, ()),
        ]
        return cls.from_layout(naming, layout)

    def __getitem__(self, key: str) -> Group:
        return self.groups[key]

    def group_of(self, symbol_id: int) -> Group:
        return self._ordered[bisect.bisect_right(self._offsets, symbol_id) - 1]

    def _split(self, symbol_id: int) -> tuple[Group, tuple[int, ...], tuple[int, ...]]:
        group = self.group_of(symbol_id)
        index = np.unravel_index(symbol_id - group.offset, group.shape)
        channels = tuple(int(i) for i, shown in zip(index[: group.channel_axes], group.shown_channels) if shown)
        position = tuple(int(i) for i in index[group.channel_axes:])
        return group, channels, position

    def _sympy_symbol(self, symbol_id: int):
        import sympy  # SymPy is only needed for SymPy views (LaTeX, notebooks, tests): keep start-up fast

        return sympy.Symbol(self.identifier(symbol_id))

    def _identifier(self, symbol_id: int) -> str:
        group, channels, position = self._split(symbol_id)
        return self.naming.identifier(group.letter, channels, position, group.spatial)

    def _subscript(self, symbol_id: int) -> str:
        group, channels, position = self._split(symbol_id)
        return self.naming.subscript(channels, position, group.spatial)

    def letter(self, symbol_id: int) -> str:
        return self.group_of(symbol_id).letter

    def unicode(self, symbol_id: int) -> str:
        """`x₁₂` (terminal display)."""
        return unicode_name(self.letter(symbol_id), self.subscript(symbol_id))

    def latex(self, symbol_id: int) -> str:
        """`x_{12}` (LaTeX display)."""
        return latex_name(self.letter(symbol_id), self.subscript(symbol_id))

    def lookup(self, text: str, keys: tuple[str, ...]) -> int | None:
        """The id a name stands for (`x_3_3`, `x33`, `x₃₃`, `dz_1_1`, `b`), among the groups `keys`; None if none."""
        match = re.fullmatch(r"\s*([A-Za-z]+)((?:_[0-9]{1,9})*|[0-9]{1,9}|[₀-₉,]+)\s*", str(text))
        if match is None:
            return None
        letters, rest = match.groups()
        groups = tuple(rest[1:].split("_")) if rest.startswith("_") else ((rest.translate(_SUBSCRIPT),) if rest else ())
        for key in keys:
            group = self.groups.get(key)
            if group is not None and group.letter == letters and group.size:
                return self.id_in(group, groups)
        return None

    def id_in(self, group: Group, groups: tuple[str, ...]) -> int | None:
        """The id of the entry of `group` that a name's index groups (as written) stand for, or None; channel
        axes of size 1 are not in names (see Naming.position_of)."""
        shown = [axis for axis, s in enumerate(group.shown_channels) if s]
        found = self.naming.position_of(groups, tuple(group.shape[axis] for axis in shown), group.spatial)
        if found is None:
            return None
        channels, position = found
        index = [0] * group.channel_axes
        for axis, value in zip(shown, channels):
            index[axis] = value
        return group.offset + int(np.ravel_multi_index(tuple(index) + position, group.shape))

    def nested_identifiers(self, key: str) -> list:
        """Identifiers of a group, nested like its shape (for JSON); made a whole group at a time (the
        same names as `identifier`, as tests/test_net.py checks)."""
        group = self.groups[key]
        if not group.size:
            return []
        index = [axis.ravel() + 1 for axis in np.indices(group.shape)]
        channels = [axis for axis, shown in zip(index[: group.channel_axes], group.shown_channels) if shown]
        spatial = index[group.channel_axes:]
        if self.naming.index == "flat" and spatial:
            spatial = [np.ravel_multi_index([axis - 1 for axis in spatial], group.spatial) + 1]
        columns = [axis.astype(str).tolist() for axis in channels + spatial]
        if not columns:
            names = [group.letter] * group.size
        else:
            names = [group.letter + "_" + "_".join(parts) for parts in zip(*columns)]
        return np.array(names, dtype=object).reshape(group.shape).tolist()
