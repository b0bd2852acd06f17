r"""The answer grammar's tokens: answer text (plain, LaTeX, or the terminal's names pasted) as a list of `Token`s.

`strip_delimiters` drops `$...$`, `$$...$$`, `\(...\)` or `\[...\]` and keeps the part after the
last `=`; `tokenize` reads what is left. Names come out as (letters, index groups as written): x_1_2
is ("x", ("1", "2")), x_{12} and x₁₂ are ("x", ("12",)); `Naming.position_of` turns the groups into a
position. LaTeX commands other than the arithmetic ones are refused by name, `...` is refused, and
numbers are bounded (digits, scientific exponents); each refusal is one `AnswerError` line.

>>> [(t.kind, t.text) for t in tokenize(strip_delimiters(r"$2x_{11} \cdot \frac{\partial L}{\partial z_{11}}$"))][:4]
[('num', '2'), ('name', 'x_{11}'), ('op', '*'), ('frac', '\\frac')]
>>> tokenize("x₁₂·dz_1_1")[0].value
('x', ('12',))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import AnswerError, printable

MAX_NUMBER_DIGITS = 40
MAX_SCIENTIFIC = 300  # |e| in 1e-300

_SPACE_COMMANDS = {",", ";", ":", "!", " ", "quad", "qquad", "left", "right", "big", "Big", "bigg", "Bigg",
                   "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "displaystyle"}
_TIMES_COMMANDS = {"cdot", "cdotp", "times", "ast"}
_NAME_COMMANDS = {"mathit", "mathrm", "mathcal", "mathbf", "operatorname", "text", "textit", "mathsf"}
_UNICODE = {"·": "*", "⋅": "*", "×": "*", "∗": "*", "−": "-", "–": "-", "²": "^2", "³": "^3", "÷": "/"}
_SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"

_NUMBER_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+(?![A-Za-z_]))?")
_LETTERS_RE = re.compile(r"[A-Za-z]+")
_PLAIN_NAME_RE = re.compile(r"([A-Za-z]+)((?:_[0-9]{1,9})+)(?![_0-9{₀-₉])")
_COMMAND_RE = re.compile(r"\\([A-Za-z]+|.)", re.S)
_BRACED_INDEX_RE = re.compile(r"\{([0-9, ]*)\}")


@dataclass(frozen=True)
class Token:
    kind: str  # num name op ( ) { } , frac partial func end
    text: str
    at: int  # character offset, for messages
    value: object = None  # num: Fraction; name: (letters, groups); func: "max" / "heaviside"


def quote(text: str, limit: int = 60) -> str:
    """Text quoted on one line for a message, cut to `limit` characters."""
    flat = printable(" ".join(str(text).split()))
    return '"' + (flat if len(flat) <= limit else flat[: limit - 3] + "...") + '"'


def strip_delimiters(text: str) -> str:
    """The expression inside `$...$`, `$$...$$`, `\\(...\\)` or `\\[...\\]`, after the last `=`."""
    body = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if body.startswith(left) and body.endswith(right) and len(body) >= len(left) + len(right):
            body = body[len(left) : len(body) - len(right)].strip()
            break
    if "=" in body:
        body = body.rsplit("=", 1)[1]
    return body


# Spellings students use, read as the usual ones: \partial{L} as \partial L, {{\partial L}} as {\partial L}
_PARTIAL_BRACED_RE = re.compile(r"\\partial\s*\{\s*([A-Za-z]+(?:\s*_\s*(?:\{[0-9, ]*\}|[0-9]+))*)\s*\}")
_DOUBLE_BRACED_RE = re.compile(r"\{\s*\{\s*(\\partial\s*[A-Za-z]+(?:\s*_\s*(?:\{[0-9, ]*\}|[0-9]+))*)\s*\}\s*\}")


def _usual(text: str) -> str:
    if "\\partial" not in text:
        return text
    text = _PARTIAL_BRACED_RE.sub(lambda m: "\\partial " + m.group(1), text)
    return _DOUBLE_BRACED_RE.sub(lambda m: "{" + m.group(1) + "}", text)


def tokenize(text: str) -> list[Token]:
    """Tokens of an answer (already stripped of its delimiters). δ_11 (or \\delta_{11}) is the gradient
    arriving at output 11, as the documents' delta notation writes it."""
    text = _usual(text)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch == "~":
            i += 1
        elif ch in _UNICODE:
            replacement = _UNICODE[ch]
            if replacement.startswith("^"):
                tokens.append(Token("op", "^", i))
                tokens.append(Token("num", replacement[1:], i, Fraction(int(replacement[1:]))))
            else:
                tokens.append(Token("op", replacement, i))
            i += 1
        elif ch == "∂":
            tokens.append(Token("partial", ch, i))
            i += 1
        elif ch == "δ":  # δ_11: a name whose letters the problem reads as its output gradient's
            i = _name(text, i, i + 1, "δ", tokens)
        elif ch == "*":
            if text.startswith("**", i):
                tokens.append(Token("op", "^", i))
                i += 2
            else:
                tokens.append(Token("op", "*", i))
                i += 1
        elif ch in "+-/^":
            tokens.append(Token("op", ch, i))
            i += 1
        elif ch in "([":
            tokens.append(Token("(", ch, i))
            i += 1
        elif ch in ")]":
            tokens.append(Token(")", ch, i))
            i += 1
        elif ch in "{}":
            tokens.append(Token(ch, ch, i))
            i += 1
        elif ch == ",":
            tokens.append(Token(",", ch, i))
            i += 1
        elif text.startswith("...", i) or ch == "…":
            raise AnswerError(f'"..." at character {i + 1}: write every term out')
        elif ch.isdigit() and ch.isascii() or ch == ".":
            i = _number(text, i, tokens)
        elif ch.isascii() and ch.isalpha():
            match = _PLAIN_NAME_RE.match(text, i)
            if match:  # the common case, x_1_2: no need for the general subscript reader
                tokens.append(Token("name", match.group(), i, (match.group(1), tuple(match.group(2)[1:].split("_")))))
                i = match.end()
                continue
            match = _LETTERS_RE.match(text, i)
            i = _name(text, i, match.end(), match.group(), tokens)
        elif ch == "\\":
            i = _command(text, i, tokens)
        else:
            raise AnswerError(f"unexpected character {quote(ch)} at character {i + 1}")
    tokens.append(Token("end", "", n))
    return tokens


def _number(text: str, i: int, tokens: list[Token]) -> int:
    match = _NUMBER_RE.match(text, i)
    if not match:
        raise AnswerError(f"unexpected {quote(text[i:i + 10])} at character {i + 1}")
    literal = match.group()
    mantissa, _, exponent = literal.lower().partition("e")
    if len(mantissa.replace(".", "")) > MAX_NUMBER_DIGITS:
        raise AnswerError(f"the number at character {i + 1} has more than {MAX_NUMBER_DIGITS} digits")
    if exponent and abs(int(exponent)) > MAX_SCIENTIFIC:
        raise AnswerError(f"the number {quote(literal)} is out of range (exponents up to {MAX_SCIENTIFIC})")
    tokens.append(Token("num", literal, i, Fraction(literal)))
    return match.end()


def _name(text: str, start: int, i: int, letters: str, tokens: list[Token]) -> int:
    """A name: letters, then subscripts `_1`, `_{1,2}`, `₁₂`, or digits right after the letters (`x11`)."""
    groups: list[str] = []
    n = len(text)
    if i < n and text[i].isdigit() and text[i].isascii():
        j = i
        while j < n and text[j].isdigit() and text[j].isascii():
            j += 1
        groups.append(text[i:j])
        i = j
    while i < n:
        if text[i] == "_":
            j = i + 1
            while j < n and text[j] == " ":
                j += 1
            if j < n and text[j] == "{":
                match = _BRACED_INDEX_RE.match(text, j)
                if not match:
                    raise AnswerError(f"the subscript at character {j + 1} must hold indices like {{11}} or {{1,2}}")
                groups.append(match.group(1))
                i = match.end()
                continue
            k = j
            while k < n and text[k].isdigit() and text[k].isascii():
                k += 1
            if k == j:
                raise AnswerError(f"expected an index after the _ at character {i + 1}")
            groups.append(text[j:k])
            i = k
        elif text[i] in _SUBSCRIPTS:
            j = i
            while j < n and (text[j] in _SUBSCRIPTS or (text[j] == "," and j + 1 < n and text[j + 1] in _SUBSCRIPTS)):
                j += 1
            groups.append(text[i:j].translate(_SUBSCRIPT_DIGITS))
            i = j
        else:
            break
    if sum(len(g) for g in groups) > 200:
        raise AnswerError(f"the name at character {start + 1} has too long an index")
    tokens.append(Token("name", text[start:i], start, (letters, tuple(groups))))
    return i


def _command(text: str, i: int, tokens: list[Token]) -> int:
    match = _COMMAND_RE.match(text, i)
    if not match:
        raise AnswerError(f"a lone backslash at character {i + 1}")
    command, end = match.group(1), match.end()
    if command in _SPACE_COMMANDS:
        return end
    if command in _TIMES_COMMANDS:
        tokens.append(Token("op", "*", i))
    elif command in ("frac", "dfrac", "tfrac"):
        tokens.append(Token("frac", "\\" + command, i))
    elif command == "partial":
        tokens.append(Token("partial", "\\partial", i))
    elif command == "max":
        tokens.append(Token("func", "\\max", i, "max"))
    elif command == "delta":
        return _name(text, i, end, "δ", tokens)
    elif command in _NAME_COMMANDS:
        while end < len(text) and text[end] == " ":
            end += 1
        close = text.find("}", end)
        word = text[end + 1 : close] if end < len(text) and text[end] == "{" and close > end else ""
        if not re.fullmatch(r" *[A-Za-z]+ *", word):
            raise AnswerError(f"\\{command} at character {i + 1} must be followed by letters in braces, like \\{command}{{x}}")
        after = close + 1
        while word.strip() == "d" and after < len(text) and text[after] == " ":
            after += 1
        letters = _LETTERS_RE.match(text, after) if word.strip() == "d" else None
        if letters:  # \mathrm{d}L, \mathrm{d}z_{11}: the upright d of a derivative, read as dL, dz_{11}
            return _name(text, i, letters.end(), "d" + letters.group(), tokens)
        return _name(text, i, close + 1, word.strip(), tokens)
    elif command in ("cdots", "ldots", "dots", "vdots"):
        raise AnswerError(f"\\{command} at character {i + 1}: write every term out")
    else:
        raise AnswerError(f"unknown LaTeX command {quote(chr(92) + command)} at character {i + 1}; "
                          "expected \\cdot, \\times, \\frac, \\partial, \\left( \\right)")
    return end

