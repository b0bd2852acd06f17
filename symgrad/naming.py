"""Symbol naming: flat (a_1 .. a_25) or matrix (x_1_1 .. x_3_3) indices, chosen letters.

Identifiers are plain names any parser accepts (`x_1_2`, `a_7`, `dz_3`); display names are for people
(unicode subscripts in the terminal, `x_{12}` in LaTeX). A channel index appears only when that
channel count is above 1. Indices are 1-based, as in the seeds.

>>> n = Naming(index="flat", input="a")
>>> n.identifier("a", (), (1, 2), (5, 5))
'a_8'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import OptionError

INDEX_STYLES = ("flat", "matrix")
RESERVED_WORDS = {"Max", "max", "Heaviside", "H", "theta"}  # function names in answers and the JSON output
LETTERS_RE = re.compile(r"[A-Za-z]{1,8}")  # letters of a name; used with fullmatch
_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


@dataclass(frozen=True)
class Naming:
    """Letters for input, kernel and output, and the index style. Bias is b, targets t, dL/dz is d<output>."""

    index: str = "matrix"
    input: str = "x"
    kernel: str = "w"
    output: str = "z"
    bias: str = "b"
    target: str = "t"

    @classmethod
    def build(cls, index: str = "matrix", names: str | None = None, reserved: bool = True) -> "Naming":
        """Validate `--index` and `--names x,w,z` (letters for input, kernel and output).

        reserved=False: the layer has no bias and no targets, so b and t are free (pooling)."""
        if index not in INDEX_STYLES:
            raise OptionError(f"--index must be one of {', '.join(INDEX_STYLES)}, got {index!r}")
        if names is None:
            return cls(index=index)
        parts = [part.strip() for part in str(names).split(",")]
        if len(parts) != 3 or not all(LETTERS_RE.fullmatch(p) for p in parts):
            raise OptionError(
                f"--names must be three comma-separated letters for input, kernel and output, "
                f"like x,w,z or a,w,z; got {names!r}"
            )
        if any(p in RESERVED_WORDS for p in parts):
            raise OptionError(f"--names {names!r} uses a function name ({', '.join(sorted(RESERVED_WORDS))}); choose other letters")
        naming = cls(index=index, input=parts[0], kernel=parts[1], output=parts[2])
        if not reserved:
            naming = cls(index=index, input=parts[0], kernel=parts[1], output=parts[2], bias="", target="")
        prefixes = [naming.input, naming.kernel, naming.output, naming.grad_output] + (
            [naming.bias, naming.target] if reserved else [])
        if len(set(prefixes)) != len(prefixes):
            raise OptionError(
                f"--names {names!r} clashes with another name (in use: b for bias, t for targets, "
                f"d{naming.output} for dL/d{naming.output}); choose distinct letters"
            )
        return naming

    @classmethod
    def for_pool(cls, index: str = "matrix", names: str | None = None) -> "Naming":
        """Naming for pooling: `--names x,y` (input, output); dL/dy is d + the output letter. A pooling
        layer has no kernel, bias or targets, so they get letters that cannot clash."""
        if names is None:
            return cls.build(index, "x,w,y")
        parts = [part.strip() for part in str(names).split(",")]
        if len(parts) != 2 or not all(LETTERS_RE.fullmatch(p) for p in parts):
            raise OptionError(f"--names for pooling must be two comma-separated letters for input and output, like x,y; got {names!r}")
        spare = [letter for letter in ("w", "k", "v", "u") if letter not in parts]
        internal = f"{parts[0]},{spare[0]},{parts[1]}"
        try:
            return cls.build(index, internal, reserved=False)
        except OptionError as error:
            raise OptionError(str(error).replace(repr(internal), repr(str(names)))) from None

    @property
    def grad_output(self) -> str:
        return "d" + self.output

    def _indices(self, channels: tuple[int, ...], position: tuple[int, ...], spatial: tuple[int, ...]) -> list[int]:
        """1-based indices: channel indices first, then the spatial part (flat or per axis)."""
        if self.index == "flat" and position:
            flat = int(np.ravel_multi_index(position, spatial)) if spatial else 0
            spatial_part = [flat + 1]
        else:
            spatial_part = [p + 1 for p in position]
        return [c + 1 for c in channels] + spatial_part

    def identifier(self, letter: str, channels: tuple[int, ...], position: tuple[int, ...], spatial: tuple[int, ...]) -> str:
        """`x_1_2`: letter, then every index separated by underscores."""
        indices = self._indices(channels, position, spatial)
        return letter if not indices else letter + "_" + "_".join(map(str, indices))

    def subscript(self, channels: tuple[int, ...], position: tuple[int, ...], spatial: tuple[int, ...]) -> str:
        """The display subscript: `12` for x_1_2, or `1,12` when the tensor has an axis of 10 or more (then
        every entry of it uses commas, so x₁,₇ and x₁,₁₈ read alike); channels comma-separated."""
        ch = [str(c + 1) for c in channels]
        if self.index == "flat" and position:
            sp = [str(int(np.ravel_multi_index(position, spatial)) + 1)]
        else:
            idx = [p + 1 for p in position]
            sp = ["".join(map(str, idx))] if all(n < 10 for n in spatial) else [",".join(map(str, idx))]
        return ",".join(ch + (sp if position else []))

    def position_of(self, groups: tuple[str, ...], channel_sizes: tuple[int, ...],
                    spatial: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The inverse of `identifier` and `subscript`: from a name's index groups as written back to
        the 0-based (channels, position) it names, or None when it names no entry of this shape.

        `groups` are the digit strings after the letters: ("1", "2") for x_1_2, ("12",) for x_{12} or
        x₁₂, ("1,2",) for x_{1,2}. `channel_sizes` are the counts of the channel axes that appear in
        names (those above 1), `spatial` the spatial shape. Accepted, besides the identifier itself:
        indices separated by commas or spaces, and one digit per axis run together when every index
        has one digit (x_{11} for x_1_1, x_{121} for x_1_2_1, channels included).

        >>> n = Naming()
        >>> n.position_of(("1", "2"), (), (3, 3)), n.position_of(("12",), (), (3, 3))
        (((), (0, 1)), ((), (0, 1)))
        >>> n.position_of(("2", "1,3"), (2,), (3, 3))  # x_{2,1,3}: channel 2, row 1, column 3
        ((1,), (0, 2))
        >>> n.position_of(("4", "1"), (), (3, 3)) is None  # row 4 of 3
        True
        >>> Naming(index="flat").position_of(("8",), (), (5, 5))  # a_8 is row 2, column 3
        ((), (1, 2))
        """
        parts = [p for g in groups for p in re.split(r"[,\s]+", g) if p]
        if not all(p.isascii() and p.isdigit() for p in parts):
            return None
        flat = self.index == "flat"
        wanted = len(channel_sizes) + (0 if not spatial else 1 if flat else len(spatial))
        if len(parts) != wanted and not flat and spatial:
            if len(parts) == len(channel_sizes) + 1 and len(parts[-1]) == len(spatial):
                parts = parts[:-1] + list(parts[-1])  # x_{11} for x_1_1: one digit per axis
        if len(parts) == 1 and len(parts[0]) == wanted > 1:
            parts = list(parts[0])  # x_{121} or x₁₂₁ for x_1_2_1: one digit per index, channels included
        if len(parts) != wanted:
            return None
        numbers = [int(p) - 1 for p in parts]
        limits = list(channel_sizes) + ([int(np.prod(spatial))] if flat and spatial else list(spatial))
        if any(not 0 <= v < n for v, n in zip(numbers, limits)):
            return None
        channels, rest = tuple(numbers[: len(channel_sizes)]), numbers[len(channel_sizes):]
        if flat and spatial:
            return channels, tuple(int(i) for i in np.unravel_index(rest[0], spatial))
        return channels, tuple(rest)


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_NUMBERED = re.compile(r"([A-Za-z]+)([0-9]+)")  # a network's numbered letters: z1 is the first conv's z


def unicode_name(letter: str, subscript: str) -> str:
    """`x₁₂` from ("x", "12"); a numbered letter of a network is z⁽¹⁾₁₂."""
    numbered = _NUMBERED.fullmatch(letter)
    if numbered:
        letter = f"{numbered.group(1)}⁽{numbered.group(2).translate(_SUP)}⁾"
    return letter + subscript.translate(_SUB)


def latex_name(letter: str, subscript: str) -> str:
    """`x_{12}` from ("x", "12"); a name of several letters is set as a word (`\\mathit{inp}_{12}`)."""
    word = latex_letter(letter)
    return f"{word}_{{{subscript}}}" if subscript else word


def latex_letter(letter: str) -> str:
    """A symbol's letter(s) for LaTeX math: `x`, or `\\mathit{inp}` so it does not read as i*n*p; a
    network's numbered letter z1 is `z^{(1)}`."""
    numbered = _NUMBERED.fullmatch(letter)
    if numbered:
        return f"{latex_letter(numbered.group(1))}^{{({numbered.group(2)})}}"
    return letter if len(letter) == 1 else f"\\mathit{{{letter}}}"
