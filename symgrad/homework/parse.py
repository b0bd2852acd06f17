"""A grammar for answers: plain text or LaTeX in, a bounded `Poly` out. Nothing is ever evaluated.

Accepted (one grammar for both styles; `$...$`, `$$...$$`, `\\(...\\)` around LaTeX are dropped, and
with `=` in the text only the part after the last `=` is read):

    x_1_1*dz_1_1 + x_1_2*dz_1_2          names as `symgrad template` and the JSON `symbols` write them
    2*x_1_1^2 - x_1_2**2/3               + - * / ^ ** ( ) [ ], numbers 3, 0.25, 1e-3; 2x means 2*x
    $x_{11} \\cdot \\frac{\\partial L}{\\partial z_{11}} + w_{12} \\times x_{2,1}$
    x₁₁·∂L/∂z₁₁                          the terminal's display names and symbols, pasted
    dL/dz_1_1                            the gradient arriving at output z_1_1 (same as dz_1_1)
    Heaviside(x_1_1 - Max(x_1_2, x_2_1)) max pooling's indicator, as the JSON output writes it

Grammar (recursive descent; `implicit` is juxtaposition, as in `2x` or `x_{11} w_{11}`):

    expr    := [+|-] term ((+|-) term)*
    term    := factor ((*|/|implicit) factor)*
    factor  := (+|-) factor | primary [^ factor]          (^ and ** bind right: a^b^c = a^(b^c))
    primary := number | name | ( expr ) | { expr } | \\frac{expr}{expr} | function ( expr, ... )
             | ∂L/∂name | dL/dname | \\frac{\\partial L}{\\partial name}

Limits (each refusal is one `AnswerError` line): the text, the nesting depth, numbers' digits,
exponents (whole numbers, at most 64; a symbol's power at most the degree limit), and through
`poly.Budget` the terms and work of multiplying out.

>>> from symgrad.homework.poly import Poly
>>> class Names:
...     letters = {"x", "w"}
...     def name(self, letters, groups, text): return Poly.atom({"x": 0, "w": 1}[letters])
>>> p = parse_answer("$2 x_{11} \\\\cdot w_{11}^2$", Names())
>>> sorted(p.terms.items())
[((0, 1, 1), Fraction(2, 1))]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from ..errors import printable
from .poly import MAX_DEGREE, MAX_TERMS, AnswerError, Budget, Poly, multiply, power

MAX_TEXT = 100_000  # characters in one answer
MAX_DEPTH = 60  # nesting of brackets, signs and powers
MAX_NUMBER_DIGITS = 40
MAX_EXPONENT = 64
MAX_SCIENTIFIC = 300  # |e| in 1e-300

FUNCTIONS = {"max": "max", "Max": "max", "Heaviside": "heaviside", "H": "heaviside", "theta": "heaviside"}
LOSS_LETTERS = {"L", "E", "J", "C"}  # ∂L/∂z, ∂E/∂z (seed 001 uses E)

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


def tokenize(text: str) -> list[Token]:
    """Tokens of an answer (already stripped of its delimiters)."""
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
    elif command in _NAME_COMMANDS:
        while end < len(text) and text[end] == " ":
            end += 1
        close = text.find("}", end)
        word = text[end + 1 : close] if end < len(text) and text[end] == "{" and close > end else ""
        if not re.fullmatch(r" *[A-Za-z]+ *", word):
            raise AnswerError(f"\\{command} at character {i + 1} must be followed by letters in braces, like \\{command}{{x}}")
        return _name(text, i, close + 1, word.strip(), tokens)
    elif command in ("cdots", "ldots", "dots", "vdots"):
        raise AnswerError(f"\\{command} at character {i + 1}: write every term out")
    else:
        raise AnswerError(f"unknown LaTeX command {quote(chr(92) + command)} at character {i + 1}; "
                          "expected \\cdot, \\times, \\frac, \\partial, \\left( \\right)")
    return end


class Parser:
    """Recursive descent over the tokens, building a Poly with bounded operations."""

    def __init__(self, tokens: list[Token], names, budget: Budget):
        self.tokens = tokens
        self.pos = 0
        self.names = names
        self.budget = budget
        self.depth = 0

    # --- helpers

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, kind: str, what: str) -> Token:
        token = self.next()
        if token.kind != kind:
            raise AnswerError(f"expected {what} at character {token.at + 1}, found {_describe(token)}")
        return token

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise AnswerError(f"nested too deeply (more than {MAX_DEPTH} levels of brackets, signs and powers)")

    # --- grammar

    def parse(self) -> Poly:
        if self.peek.kind == "end":
            raise AnswerError("the answer is empty")
        result = self.expr()
        if self.peek.kind != "end":
            raise AnswerError(_unexpected(self.peek))
        return result

    def expr(self) -> Poly:
        self.enter()
        result = self.term()
        summed = False
        while self.peek.kind == "op" and self.peek.text in "+-":
            sign = self.next().text
            right = self.term()
            if not summed:  # a fresh polynomial to add into: term() may return a shared (cached) one
                result, summed = Poly(dict(result.terms)), True
            result.add_in_place(right, 1 if sign == "+" else -1)
            if len(result) > MAX_TERMS:
                raise AnswerError(f"the answer has more than {MAX_TERMS:,} terms")
        self.depth -= 1
        return result

    def term(self) -> Poly:
        result = self.factor()
        while True:
            token = self.peek
            if token.kind == "op" and token.text in "*/":
                self.next()
                right = self.factor()
                result = self.divide(result, right, token) if token.text == "/" else multiply(result, right, self.budget)
            elif token.kind in ("num", "name", "(", "{", "frac", "func", "partial"):
                result = multiply(result, self.factor(), self.budget)
            else:
                return result

    def factor(self) -> Poly:
        token = self.peek
        if token.kind == "op" and token.text in "+-":
            self.next()
            self.enter()
            inner = self.factor()
            self.depth -= 1
            return -inner if token.text == "-" else inner
        base = self.primary()
        if self.peek.kind == "op" and self.peek.text == "^":
            self.next()
            start = self.peek
            self.enter()
            exponent = self.factor()
            self.depth -= 1
            return power(base, self.whole_exponent(exponent, start), self.budget)
        return base

    def primary(self) -> Poly:
        token = self.next()
        if token.kind == "num":
            return Poly.const(token.value)
        if token.kind == "name":
            return self.name_or_call(token)
        if token.kind in ("(", "{"):
            inner = self.expr()
            closing = {"(": ")", "[": "]", "{": "}"}[token.text]
            end = self.next()
            if end.text != closing:
                raise AnswerError(f"expected {closing} to close the {token.text} at character {token.at + 1}, "
                                  f"found {_describe(end)}")
            return inner
        if token.kind == "frac":
            return self.fraction(token)
        if token.kind == "func":
            return self.call(token.value, token)
        if token.kind == "partial":
            return self.derivative(token)
        raise AnswerError(_unexpected(token))

    def name_or_call(self, token: Token) -> Poly:
        letters, groups = token.value
        if self.peek.kind == "(" and not groups and letters in FUNCTIONS and letters not in self.names.letters:
            return self.call(FUNCTIONS[letters], token)
        if not groups and letters in {"d" + x for x in LOSS_LETTERS} and self.peek.text == "/":
            # dL/dz_1_1: the symbol for the gradient arriving at z_1_1 (dz_1_1)
            self.next()
            target = self.expect("name", "a name like dz_1_1 after dL/")
            name_letters, name_groups = target.value
            if not name_letters.startswith("d"):
                raise AnswerError(f"expected dL/d<name> at character {token.at + 1}, like dL/dz_1_1")
            return self.names.name(name_letters, name_groups, target.text)
        return self.names.name(letters, groups, token.text)

    def derivative(self, token: Token) -> Poly:
        """∂L/∂z_11 (after the ∂ token)."""
        loss = self.expect("name", "∂L/∂<output>")
        if loss.value[0] not in LOSS_LETTERS or loss.value[1]:
            raise AnswerError(f"∂ at character {token.at + 1} may only start ∂L/∂<output>, like ∂L/∂z_11")
        slash = self.next()
        if slash.kind != "op" or slash.text != "/":
            raise AnswerError(f"expected / after ∂L at character {slash.at + 1}")
        self.expect("partial", "∂ (as in ∂L/∂z_11)")
        return self.output_gradient(self.expect("name", "an output name after ∂L/∂"))

    def output_gradient(self, token: Token) -> Poly:
        letters, groups = token.value
        return self.names.name("d" + letters, groups, "d" + token.text)

    def fraction(self, token: Token) -> Poly:
        """\\frac{a}{b}, \\frac12, or \\frac{\\partial L}{\\partial z_{11}}."""
        if self.peek.kind == "num" and self.peek.text.isdigit() and len(self.peek.text) >= 2:
            digits = self.next()
            numerator, denominator = Fraction(int(digits.text[0])), Fraction(int(digits.text[1]))
            if denominator == 0:
                raise AnswerError(f"division by zero in \\frac at character {token.at + 1}")
            rest = digits.text[2:]
            if rest:
                self.tokens.insert(self.pos, Token("num", rest, digits.at + 2, Fraction(int(rest))))
            return Poly.const(numerator / denominator)
        self.expect("{", "{ after \\frac")
        first = self.peek
        is_loss = (first.kind == "partial" and self.tokens[self.pos + 1].kind == "name"
                   and self.tokens[self.pos + 1].value[0] in LOSS_LETTERS) or (
            first.kind == "name" and first.value[0] in {"d" + x for x in LOSS_LETTERS} and not first.value[1])
        if is_loss:
            self.pos += 2 if first.kind == "partial" else 1
            self.expect("}", "} after \\partial L")
            self.expect("{", "{ for the denominator of \\frac")
            if self.peek.kind == "partial":
                self.next()
                result = self.output_gradient(self.expect("name", "an output name after \\partial"))
            else:
                name = self.expect("name", "d<output> in the denominator, like dz_{11}")
                result = self.names.name(name.value[0], name.value[1], name.text)
            self.expect("}", "} closing the \\frac")
            return result
        self.enter()
        numerator = self.expr()
        self.expect("}", "} closing the numerator")
        self.expect("{", "{ for the denominator of \\frac")
        denominator = self.expr()
        self.expect("}", "} closing the denominator")
        self.depth -= 1
        return self.divide(numerator, denominator, token)

    def call(self, function: str, token: Token) -> Poly:
        self.expect("(", f"( after {token.text}")
        self.enter()
        args = [self.expr()]
        while self.peek.kind == ",":
            self.next()
            args.append(self.expr())
            if len(args) > 1000:
                raise AnswerError(f"{token.text}(...) has more than 1000 arguments")
        self.expect(")", f") closing {token.text}(")
        self.depth -= 1
        if function == "max":
            return self.names.maximum(args, token.text)
        if len(args) != 1:
            raise AnswerError(f"{token.text}(...) takes one argument, got {len(args)}")
        return self.names.heaviside(args[0], token.text)

    def divide(self, numerator: Poly, denominator: Poly, token: Token) -> Poly:
        if not denominator.is_constant():
            raise AnswerError(f"division by an expression with symbols at character {token.at + 1}; "
                              "an answer must be a polynomial (divide by numbers only)")
        value = denominator.constant()
        if value == 0:
            raise AnswerError(f"division by zero at character {token.at + 1}")
        return multiply(numerator, Poly.const(1 / Fraction(value) if not isinstance(value, float) else 1 / value), self.budget)

    def whole_exponent(self, exponent: Poly, start: Token) -> int:
        """The value of an exponent (starting at token `start`): a whole number of at most MAX_EXPONENT."""
        where = f"the exponent at character {start.at + 1}"
        if not exponent.is_constant():
            raise AnswerError(f"{where} contains a symbol; expected a whole number")
        value = exponent.constant()
        if isinstance(value, float) or Fraction(value).denominator != 1:
            raise AnswerError(f"{where} is not a whole number")
        if abs(value) > MAX_EXPONENT:
            shown = str(value) if abs(value) < 10**30 else "a huge number"
            raise AnswerError(f"{where} is {shown}; at most {MAX_EXPONENT} is allowed")
        return int(value)


def _unexpected(token: Token) -> str:
    if token.kind == "end":
        return f"the answer ends too early (at character {token.at + 1}); something is missing"
    return f"unexpected {quote(token.text)} at character {token.at + 1}"


def _describe(token: Token) -> str:
    return "the end of the answer" if token.kind == "end" else quote(token.text)


def parse_answer(text: str, names, budget: Budget | None = None) -> Poly:
    """Parse one answer into a Poly. `names` resolves names (see `judge.Problem`); raises AnswerError."""
    if len(text) > MAX_TEXT:
        raise AnswerError(f"the answer has {len(text):,} characters; at most {MAX_TEXT:,} are allowed")
    body = strip_delimiters(text)
    fast = _sum_of_products(body, names)
    if fast is not None:
        return fast
    return Parser(tokenize(body), names, budget or Budget()).parse()


_NAME = r"[A-Za-z]+(?:_[0-9]{1,9})+"
_TERM = rf"(?:[0-9]{{1,9}}\*)?{_NAME}(?:\*{_NAME})*"
_SUM_RE = re.compile(rf" *[+-]? *{_TERM}(?: *[+-] *{_TERM})* *")
_TERM_RE = re.compile(rf"([+-]?) *(?:([0-9]{{1,9}})\*)?({_NAME}(?:\*{_NAME})*)")


def _sum_of_products(text: str, names) -> Poly | None:
    """The common shape of an answer, `x_1_1*dz_1_1 + 2*x_1_2*dz_1_2 - ...`, read without the general
    parser (the same result, several times faster). None when the text has any other shape, or a name
    stands for more than one term (an output's expansion): the general parser then reads it."""
    if not _SUM_RE.fullmatch(text):
        return None
    out: dict = {}
    for sign, number, product in _TERM_RE.findall(text):
        factors = product.split("*")
        if len(factors) > MAX_DEGREE:
            return None
        coef = int(number) if number else 1
        monomial: list[int] = []
        for factor in factors:
            letters, _, indices = factor.partition("_")
            meaning = names.name(letters, tuple(indices.split("_")), factor)
            if len(meaning.terms) != 1:
                return None
            ((atoms, value),) = meaning.terms.items()
            monomial.extend(atoms)
            if value != 1:
                coef = coef * value
        key = tuple(sorted(monomial))
        out[key] = out.get(key, 0) + (-coef if sign == "-" else coef)
    if len(out) > MAX_TERMS:
        return None
    return Poly({m: c if isinstance(c, (Fraction, float)) else Fraction(c) for m, c in out.items() if c != 0})
