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

The text is cut into tokens by tokens.py (names, numbers, operators, LaTeX commands); this module
parses them. (The most common shape, a sum of products of names, is read faster by terms.py.)

Limits (each refusal is one `AnswerError` line): the text, the nesting depth, numbers' digits
(tokens.py), exponents (whole numbers, at most 64; a symbol's power at most the degree limit), and
through `poly.Budget` the terms and work of multiplying out.

>>> from symgrad.homework.poly import Poly
>>> class Names:
...     letters = {"x", "w"}
...     def name(self, letters, groups, text): return Poly.atom({"x": 0, "w": 1}[letters])
>>> p = parse_answer("$2 x_{11} \\\\cdot w_{11}^2$", Names())
>>> sorted(p.terms.items())
[((0, 1, 1), Fraction(2, 1))]
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import AnswerError
from .poly import MAX_TERMS, Budget, Poly, multiply, power
from .tokens import Token, quote, strip_delimiters, tokenize

MAX_TEXT = 100_000  # characters in one answer
MAX_DEPTH = 60  # nesting of brackets, signs and powers
MAX_EXPONENT = 64

FUNCTIONS = {"max": "max", "Max": "max", "Heaviside": "heaviside", "H": "heaviside", "theta": "heaviside"}
LOSS_LETTERS = {"L", "E", "J", "C"}  # ∂L/∂z, ∂E/∂z (seed 001 uses E)


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
        if len(args) == 2 and args[1].is_constant() and args[1].constant() == 0:
            args = args[:1]  # Heaviside(z, 0): SymPy's H with H(0) = 0, as the JSON writes ReLU's derivative
            if args[0].is_constant():
                return Poly.const(Fraction(1) if args[0].constant() > 0 else Fraction(0))
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


def parse_answer(text: str, names, file_budget: Budget | None = None) -> Poly:
    """Parse one answer into a Poly. `names` resolves names (see `problem.Problem`); raises AnswerError.
    `file_budget` is the work left for the answer's file."""
    if len(text) > MAX_TEXT:
        raise AnswerError(f"the answer has {len(text):,} characters; at most {MAX_TEXT:,} are allowed")
    return Parser(tokenize(strip_delimiters(text)), names, Budget(file=file_budget)).parse()
