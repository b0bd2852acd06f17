r"""TOML with big arrays of strings read fast, meaning exactly what `tomllib` reads.

An answer file is mostly arrays of strings (`grad_input = [['...', '...'], ...]`), and tomllib reads
them character by character in Python: a class's files spent half their check there. So `loads`
reads the file's strings and comments with one regular expression (C speed), leaving a skeleton: the
file with each string a `'` and no comments (keys, tables, brackets and commas where they were). An
array that is a value at the start of a line (`key = [`) and holds only strings is, in the skeleton,
brackets, commas and quotes: `json` reads its shape (C speed again). What remains of the file, with a
unique number where each array stood and its other strings put back, is read by tomllib, which checks
every key, table and value as always; the numbers are then swapped for the arrays.

The whole text goes to tomllib instead at anything else: a control character, a multi-line string (a
line inside one would not be a line's start), a string over two lines, an escape, a quote that opens
no string, an error (so the message is tomllib's own). The tests compare the two on the template's
files, the benchmark's and a fuzzer's; an adversarial review compared them on 60 million more (every
short text over small alphabets, a grammar-aware generator) and found none that differ, and found the
deep tables and the quadratic costs the tests now include. One difference is left: this function's own
frames come before tomllib's, so a text nested to within a frame or two of Python's recursion limit
(arrays about 490 deep, which tomllib reads by recursing) can raise RecursionError here where tomllib
alone just manages it (answers.py says "nested too deeply"; no answer file nests past 4).

>>> loads("a = 1\n[t]\nb = [['x', \"y\"],  # c\n  ['z'],\n]\n") == {'a': 1, 't': {'b': [['x', 'y'], ['z']]}}
True
"""

from __future__ import annotations

import json
import re
import secrets
import tomllib
from itertools import chain

_CONTROL = str.maketrans("", "", "".join(map(chr, [*range(0, 9), *range(11, 32), 127])))  # all but \t and \n
_TOKENS = re.compile(r"""('[^']*'|"[^"]*"|#.*)""")  # strings and comments, as TOML reads them (checked after)
_KEY = re.compile(r"^[ \t]*[A-Za-z0-9_-]+[ \t]*=[ \t]*(?=\[)", re.M)  # `key = [` at a line's start
_RUN = re.compile(r"\[[\[\],' \t\n]*")  # an array of strings (each a ' in the skeleton), and maybe more
_TRAILING_COMMA = re.compile(r",(?=[ \t\n]*\])")
_LEADING_COMMA = re.compile(r"\[[ \t\n]*,")  # `[,]`: not an array in TOML, though `[]` is
_JSON = json.JSONDecoder()
MAX_DEPTH = 16  # nesting of an array read here (answers have at most 4: out, in, row, column)
_SPARE = 10_000  # placeholders: a random number times this, plus the array's index


def loads(text: str) -> dict:
    """What `tomllib.loads(text)` gives (or raises), faster when text holds big arrays of strings."""
    original = text
    if "\r" in text:  # (as tomllib does first, once; a lone \r is then its error)
        text = text.replace("\r\n", "\n")
    if len(text.translate(_CONTROL)) != len(text):
        return tomllib.loads(original)
    parts = _TOKENS.split(text)  # text, token, text, token, ..., text
    tokens, marks = parts[1::2], []
    for token in tokens:
        if token[0] == "#":
            marks.append("")
        elif "\n" in token or (token[0] == '"' and "\\" in token):  # not one line, or an escape
            return tomllib.loads(original)
        else:
            marks.append("'")
    strings = [token for token in tokens if token[0] != "#"]
    # the skeleton: each string a ', comments gone (lines, keys, brackets and commas stay where they were)
    skeleton = "".join(chain.from_iterable(zip(parts[0::2], marks))) + parts[-1]
    if skeleton.count("'") != len(strings) or '"' in skeleton or "''" in skeleton:  # a quote that opens no
        # string, or two strings side by side (a multi-line string's three quotes too)
        return tomllib.loads(original)
    cuts = []  # (start, end, its first string's index, shape) of each array cut out of the skeleton
    counted, quotes = 0, 0  # strings before skeleton[counted] (counted as the cuts go: linear time)
    for key in _KEY.finditer(skeleton):
        start = key.end()
        if cuts and start < cuts[-1][1]:
            continue
        run = _RUN.match(skeleton, start).group()
        if _LEADING_COMMA.search(run):
            continue
        shaped = _TRAILING_COMMA.sub(" ", run).replace("'", "0")
        try:
            shape, end = _JSON.raw_decode(shaped)
        except (ValueError, RecursionError):  # (left where it is: tomllib reads it, or says what is wrong)
            continue
        if len(cuts) == _SPARE - 1:
            return tomllib.loads(original)
        quotes += skeleton.count("'", counted, start)
        counted = start
        cuts.append((start, start + end, quotes, shape))
    if not cuts:
        return tomllib.loads(original)
    base = secrets.randbits(60)
    if str(base) in text:  # (so no number in the file is a placeholder)
        return tomllib.loads(original)
    pieces, at, taken = [], 0, 0
    for n, (start, end, first, shape) in enumerate(cuts):
        pieces.append(_restored(skeleton[at:start], strings, taken))
        pieces.append(str(base * _SPARE + n))
        at, taken = end, first + skeleton.count("'", start, end)
    pieces.append(_restored(skeleton[at:], strings, taken))
    try:
        data = tomllib.loads("".join(pieces))
    except tomllib.TOMLDecodeError:  # say it as tomllib says it of the whole text
        return tomllib.loads(original)
    arrays = [(shape, first) for _, _, first, shape in cuts]
    try:
        placed = _place(data, base * _SPARE, arrays, strings)
    except _TooDeep:  # (tomllib's own limit, or none: let it say)
        return tomllib.loads(original)
    if placed != len(arrays):  # (cannot happen: see the placeholders above)
        return tomllib.loads(original)
    return data


def _restored(skeleton: str, strings: list[str], first: int) -> str:
    """A piece of the skeleton with its strings back, the first of them strings[first]."""
    between = skeleton.split("'")
    if len(between) == 1:
        return skeleton
    return "".join(chain.from_iterable(zip(between, strings[first : first + len(between) - 1]))) + between[-1]


def _place(data: dict, base: int, arrays: list, strings: list[str]) -> int:
    """Swap the placeholders (base + the array's index) in parsed tables for their arrays: (shape, index of
    its first string); how many were swapped (-1: one twice).
    (A walk with a stack of its own: dotted keys nest tables a thousand deep without tomllib recursing.)"""
    count, stack = 0, [data]
    while stack:
        node = stack.pop()
        for k, value in node.items() if isinstance(node, dict) else enumerate(node):
            if type(value) is int and base <= value < base + len(arrays):
                if arrays[value - base] is None:
                    return -1
                shape, at = arrays[value - base]
                node[k] = _fill(shape, strings, at)[0]
                arrays[value - base] = None
                count += 1
            elif isinstance(value, (dict, list)):
                stack.append(value)
    return count


class _TooDeep(Exception):
    pass


def _fill(shape: list, strings: list[str], at: int, depth: int = 1) -> tuple[list, int]:
    """The nested lists of `shape` (a 0 for each string) with the contents of strings[at], strings[at + 1],
    ..., and the index after the last one used."""
    if depth > MAX_DEPTH:
        raise _TooDeep
    if shape.count(0) == len(shape):  # a row of strings
        return [s[1:-1] for s in strings[at : at + len(shape)]], at + len(shape)
    out = []
    for item in shape:
        if item == 0:
            out.append(strings[at][1:-1])
            at += 1
        else:
            inner, at = _fill(item, strings, at, depth + 1)
            out.append(inner)
    return out, at
