"""Numbers for symbols: read and check a values file, lay its numbers out by symbol id, format numbers.

A values file is a JSON object with any of "input", "kernel", "bias", "grad_output" (generic loss) and
"target" (mse loss), each nested like its tensor, channel-first without batch. A channel level of size 1
may be left out. Numbers are ints, floats or exact strings ("1/3", "-0.25"); with no float anywhere the
numbers stay exact (int or Fraction), otherwise all of them become float64.

>>> from symgrad.naming import Naming
>>> from symgrad.spec import ConvSpec
>>> from symgrad.symbols import SymbolTable
>>> spec = ConvSpec.build("3x3", "2x2")
>>> symbols = SymbolTable.for_conv(spec, Naming())
>>> values = parse_values({"kernel": [[1, "1/2"], ["0.25", -3]]}, symbols, spec, "generic")
>>> values.exact, [format_number(v) for v in values.tensor("kernel", symbols).ravel()]
(True, ['1', '1/2', '1/4', '-3'])
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .losses import LOSSES
from .errors import OptionError, ValuesError
from .files import decode_text, read_small_text
from .symbols import SymbolTable

KEYS = ("input", "kernel", "bias", "grad_output", "target")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TEXT = 40  # longest number string accepted (and longest text quoted in a message)
MAX_ABS = 10**18  # ints, numerators and denominators must be smaller than this
_NUMBER_RE = re.compile(r"\s*([+-]?)(?:([0-9]+)\s*/\s*([0-9]+)|([0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*")
_EXPECTED = 'expected a number like 2, -0.5 or "1/3"'



@dataclass(frozen=True, eq=False)
class Values:
    """Numbers for some symbols, indexed by symbol id (`known` says which ids have one)."""

    exact: bool  # True: numbers are int / Fraction (dtype object); False: all float64
    known: np.ndarray  # bool per symbol id
    number: np.ndarray  # per symbol id; 0 where not known
    given: tuple[str, ...]  # keys present, in KEYS order
    source: str  # file name, "-" for standard input, or "" for a dict from Python

    def tensor(self, key: str, symbols: SymbolTable) -> np.ndarray | None:
        """The numbers of one group shaped like it (a copy), or None if `key` was not given."""
        if key not in self.given:
            return None
        group = symbols[key]
        return self.number[group.offset : group.offset + group.size].reshape(group.shape).copy()


FROM_PYTHON = ""  # the source of values given as a dict from Python (no file name)
STDIN = "-"  # --values - reads standard input


def _where(source: str) -> str:
    if source == FROM_PYTHON:
        return "values"
    return "values on standard input" if source == STDIN else f"values file {source!r}"


def _quote(text) -> str:
    """A string quoted JSON-style on one line, cut to MAX_TEXT characters."""
    text = str(text)
    return json.dumps(text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "...")


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if shape else "a single number"


# --- reading a file


def byte_limit(symbols: SymbolTable) -> int:
    """The largest values file a layer can need: 1 MB, plus 200 bytes per symbol (a long number,
    pretty-printed), at most MAX_FILE_BYTES. A file far larger than its layer is refused before it
    is parsed, so it cannot cost seconds."""
    return min(MAX_FILE_BYTES, 1024 * 1024 + 200 * sum(g.size for g in symbols.groups.values()))


def load_values(path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[dict, str]:
    """Read a values file: (the JSON object, the file name). Every problem is one ValuesError line."""
    if not str(path).strip():
        raise ValuesError("--values got an empty path; expected a JSON file (or - for standard input)")
    where = _where(str(path))

    def fail(problem: str) -> ValuesError:
        return ValuesError(f"{where} {problem}")

    if path == STDIN:
        text = decode_text(sys.stdin.buffer.read(max_bytes + 1), "a JSON file", max_bytes, fail)
    else:
        text = read_small_text(path, "a JSON file", max_bytes, fail)

    def reject_constant(name: str):
        raise fail(f"contains {name}; expected finite numbers (NaN and Infinity are not allowed)")

    def parse_int(digits: str) -> int:
        if len(digits.lstrip("-")) > 18:
            raise fail(f"contains the number {_quote(digits)}, which is too large: at most 18 digits")
        return int(digits)

    def unique_keys(pairs: list) -> dict:
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise fail(f"has the key {_quote(key)} twice; expected each key once")
            seen[key] = value
        return seen

    try:
        data = json.loads(text, parse_constant=reject_constant, parse_int=parse_int, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as error:
        raise fail(f"is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise fail("is nested too deeply; expected an object of nested lists of numbers") from None
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", type(None): "null", bool: "a boolean"}.get(type(data), "a number")
        raise fail(f'must hold a JSON object like {{"kernel": [[1, 2], [3, 4]]}}, but holds {kind}')
    return data, str(path)


# --- checking and laying out


def parse_values(data, symbols: SymbolTable, spec, loss: str, source: str = FROM_PYTHON) -> Values:
    """Check `data` (a dict of nested lists, arrays or numbers) against the layer and lay it out by symbol id."""
    where = _where(source)
    if loss not in LOSSES:
        raise OptionError(f"--loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if not isinstance(data, dict):
        raise ValuesError(f'{where} must be an object like {{"kernel": [[1, 2], [3, 4]]}}, got {type(data).__name__}')
    allowed = spec.value_keys(loss)
    wrong = [key for key in data if key not in allowed]
    if wrong:
        problems = "; ".join(spec.value_key_problem(key, loss) or f"unknown key {_quote(key)}" for key in wrong)
        shown = ", ".join(f'"{key}"' for key in allowed)
        raise ValuesError(f"{where}: {problems}; allowed keys for this {spec.values_layer_words(loss)}: {shown}")

    given = tuple(key for key in KEYS if key in data)
    entries = {key: flatten(key, data[key], symbols[key], where) for key in given}
    exact = not any(isinstance(v, float) for flat in entries.values() for v in flat)
    total = max(g.offset + g.size for g in symbols.groups.values())
    known = np.zeros(total, dtype=bool)
    number = np.zeros(total, dtype=object if exact else np.float64)  # object zeros are the int 0
    for key, flat in entries.items():
        group = symbols[key]
        known[group.offset : group.offset + group.size] = True
        column = np.empty(len(flat), dtype=object)
        column[:] = flat if exact else [float(v) for v in flat]
        number[group.offset : group.offset + group.size] = column
    return Values(exact, known, number, given, source)


def nestings(group) -> dict[int, tuple[int, ...]]:
    """Every way of leaving out channel levels of size 1: the axes kept, keyed by the nesting depth."""
    by_depth: dict[int, tuple[int, ...]] = {}
    for drop in itertools.product((False, True), repeat=group.channel_axes):
        if all(not d or group.shape[axis] == 1 for axis, d in enumerate(drop)):
            kept = tuple(axis for axis in range(len(group.shape)) if axis >= group.channel_axes or not drop[axis])
            by_depth.setdefault(len(kept), kept)
    return by_depth


def kept_axes(value, group) -> tuple[int, ...] | None:
    """The axes of the group's shape that a nested value (one flatten() accepts) has."""
    depth = 0
    while _is_list(value) and value:
        value, depth = value[0], depth + 1
    return nestings(group).get(depth)


def flatten(key: str, value, group, where: str, leaf=None, accept=None) -> list:
    """The entries of one key in row-major order, after checking its nesting against the group's shape.

    `leaf(item, path, where)` checks and converts one entry (default: a number, as values files hold);
    a row (innermost list) for which `accept(row)` is true is taken as it is, without calling `leaf`."""
    leaf = leaf or _number
    shape = group.shape
    if isinstance(value, np.ndarray):
        value = value.tolist()  # Python scalars (a 0-d array gives one)
    by_depth = {depth: tuple(shape[axis] for axis in axes) for depth, axes in nestings(group).items()}
    note = "; channel levels of size 1 may be left out" if len(by_depth) > 1 else ""

    def fail(like: str, problem: str) -> ValuesError:
        shown = f"{key} shape {_shape_text(shape)}{note}"
        return ValuesError(f'{where}: "{key}" must be nested like {like} ({shown}), but {problem}')

    options = " or ".join(_shape_text(s) for s in sorted(by_depth.values(), key=len, reverse=True))

    depth, probe, path = 0, value, key
    while _is_list(probe) and depth <= len(shape):
        if len(probe) == 0:
            raise fail(options, f"{path} is an empty list")
        depth, probe, path = depth + 1, probe[0], path + "[0]"
    if depth not in by_depth:
        if depth == 0:
            got = f"it is {_kind(value)}"
        elif depth > len(shape):
            got = f"it is nested more than {len(shape)} levels deep"
        else:
            got = f"it is nested {depth} level{'s' if depth > 1 else ''} deep"
        raise fail(options, got)

    flat: list = []
    like = _shape_text(by_depth[depth])

    def walk(item, dims: tuple[int, ...], path: str) -> None:
        if not dims:
            if _is_list(item):
                raise fail(like, f"{path} is a list, not a number")
            flat.append(leaf(item, path, where))
            return
        if not _is_list(item):
            raise fail(like, f"{path} is {_kind(item)}, not a list of {dims[0]}")
        if len(item) != dims[0]:
            raise fail(like, f"{path} is an empty list" if len(item) == 0 else f"{path} has {_entries(len(item))}")
        if len(dims) == 1 and accept is not None and accept(item):
            flat.extend(item)
            return
        for i, sub in enumerate(item):
            walk(sub, dims[1:], f"{path}[{i}]")

    walk(value, by_depth[depth], key)
    return flat


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def _is_list(item) -> bool:
    return isinstance(item, (list, tuple)) or (isinstance(item, np.ndarray) and item.ndim > 0)


def _kind(item) -> str:
    if item is None:
        return "null"
    if isinstance(item, (bool, np.bool_)):
        return "a boolean"
    if isinstance(item, (int, float, Fraction, np.number)):
        return "a number"
    return {dict: "an object", str: "a string"}.get(type(item), f"a {type(item).__name__}")


def _number(item, path: str, where: str) -> int | Fraction | float:
    """One entry as int, Fraction (exact strings) or float; anything else is a ValuesError naming `path`."""
    if isinstance(item, np.ndarray):  # 0-d
        item = item.item()
    if isinstance(item, (bool, np.bool_)):
        raise ValuesError(f"{where}: {path} is a boolean ({str(bool(item)).lower()}); {_EXPECTED}")
    if isinstance(item, (int, np.integer, Fraction)):
        return _bounded(Fraction(item) if isinstance(item, Fraction) else Fraction(int(item)), path, where)
    if isinstance(item, (float, np.floating)):
        if not math.isfinite(float(item)):
            raise ValuesError(f"{where}: {path} is {float(item)}, not a finite number; {_EXPECTED}")
        return float(item)
    if isinstance(item, str):
        if len(item) > MAX_TEXT:
            raise ValuesError(f"{where}: {path} is {_quote(item)}, too long: at most {MAX_TEXT} characters")
        match = _NUMBER_RE.fullmatch(item)
        if not match:
            raise ValuesError(f"{where}: {path} is {_quote(item)}, not a number; {_EXPECTED}")
        sign, numerator, denominator, decimal = match.groups()
        if denominator is not None and int(denominator) == 0:
            raise ValuesError(f"{where}: {path} is {_quote(item)}: division by zero")
        value = Fraction(int(numerator), int(denominator)) if denominator is not None else Fraction(decimal)
        return _bounded(-value if sign == "-" else value, path, where, item.strip())
    raise ValuesError(f"{where}: {path} is {_kind(item)}; {_EXPECTED}")


def _bounded(value: Fraction, path: str, where: str, text: str | None = None) -> int | Fraction:
    """`value` as int or Fraction, if its numerator and denominator have at most 18 digits."""
    if abs(value.numerator) >= MAX_ABS or value.denominator >= MAX_ABS:
        shown = f" {_quote(text)}," if text is not None else ""  # no str() of a huge int: it may have 10**5 digits
        raise ValuesError(f"{where}: {path} is{shown} too large: at most 18 digits")
    return value.numerator if value.denominator == 1 else value


# --- formatting


def format_number(x, style: str = "text") -> str:
    """A number for people ("text", "latex") or for JSON text ("json": floats round-trip exactly)."""
    if style not in ("text", "json", "latex"):
        raise ValueError(f"unknown number style {style!r}")
    if isinstance(x, (int, np.integer)) or (isinstance(x, Fraction) and x.denominator == 1):
        return str(int(x))
    if isinstance(x, Fraction):
        if style == "latex":
            return f"{'-' if x < 0 else ''}\\frac{{{abs(x.numerator)}}}{{{x.denominator}}}"
        return f"{x.numerator}/{x.denominator}"
    if style == "json":
        return repr(float(x))
    text = format(float(x), ".10g")
    if text == "-0":
        return "0"
    if style == "latex" and "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa} \\times 10^{{{int(exponent)}}}"
    return text


def json_number(x):
    """A number for JSON data, encoded as a values file accepts it: int, "p/q" string, or float."""
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    return float(x)
