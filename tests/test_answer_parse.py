"""The answer grammar: every accepted spelling means the same polynomial; every attack is refused fast."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from conftest import counting_poly_work
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from symgrad.homework.judge import Problem
from symgrad.homework.parse import parse_answer
from symgrad.homework.poly import MAX_BITS, MAX_WORK, AnswerError, Poly


@pytest.fixture(scope="module")
def conv():
    return Problem.build("conv", {"input": "5x5", "kernel": "3x3", "stride": 2}, None)


@pytest.fixture(scope="module")
def channels():
    return Problem.build("conv", {"input": "3x3", "kernel": "2x2", "in_channels": 2, "out_channels": 2, "bias": True}, None)


def poly(problem, text):
    return parse_answer(text, problem)


def text_of(problem, text):
    return problem.poly_text(poly(problem, text))


# --- spellings that mean the same thing

SAME = [
    "x_3_3*dz_1_1 + x_3_5*dz_1_2",
    "x_3_5*dz_1_2 + x_3_3*dz_1_1",
    "dz_1_1*x_3_3 + dz_1_2*x_3_5",
    "x_3_3 dz_1_1 + x_3_5 dz_1_2",
    "x33*dz11 + x35*dz12",
    "x_{33}*dz_{11} + x_{3,5}*dz_{1,2}",
    "x_3_3*dL/dz_1_1 + x_3_5*dL/dz_1_2",
    "$x_{33} \\cdot \\frac{\\partial L}{\\partial z_{11}} + x_{35} \\times \\frac{\\partial L}{\\partial z_{12}}$",
    "$$x_{33}\\,\\frac{\\partial E}{\\partial z_{11}} + x_{35}\\frac{dL}{dz_{12}}$$",
    "\\(x_{33} \\frac{\\partial \\mathcal{L}}{\\partial z_{1 1}} + x_{35} \\partial L / \\partial z_{12}\\)",
    "x₃₃·∂L/∂z₁₁ + x₃₅·∂L/∂z₁₂",
    "x₃₃⋅dz₁₁ + x₃₅×dz₁₂",
    "dL/dw_2_2 = x_3_3*dz_1_1 + x_3_5*dz_1_2",
    "(x_3_3 + 0) * (dz_1_1) + [x_3_5]*dz_1_2",
    "2*x_3_3*dz_1_1/2 + 0.5*x_3_5*dz_1_2*2",
    "x_3_3*dz_1_1 + x_3_5*dz_1_2 + x_1_1*dz_1_1 - x_1_1*dz_1_1",
    "$\\left(x_{33}\\right) \\cdot \\frac{\\partial L}{\\partial z_{11}} + {x_{35}} {dz_{12}}$",
    "x_3_3*dz_1_1 + x_3_5*dz_1_2 + 0*x_1_1",
    "x_3_3*dz_1_1 + x_3_5*dz_1_2 + (x_1_1 - x_1_1)^2",
    # the notations of issue 17 (they were read as errors)
    "x_3_3*δ_1_1 + x_3_5*δ_1_2",
    "x₃₃·δ₁₁ + x₃₅·δ₁₂",
    "$x_{33} \\delta_{11} + x_{35} \\delta_{12}$",
    "$x_{33} \\frac{\\partial{L}}{\\partial z_{11}} + x_{35} \\frac{\\partial{L}}{\\partial{z_{12}}}$",
    "$x_{33} \\frac{{\\partial L}}{{\\partial z_{11}}} + x_{35} \\frac{{\\partial L}}{{\\partial z_{12}}}$",
    "$x_{33} \\frac{\\mathrm{d}L}{\\mathrm{d}z_{11}} + x_{35} \\frac{\\mathrm{d} L}{\\mathrm{d} z_{12}}$",
]


@pytest.mark.parametrize("text", SAME)
def test_spellings_of_one_answer(conv, text):
    assert text_of(conv, text) == "x_3_3*dz_1_1 + x_3_5*dz_1_2"


def test_powers_and_numbers(conv):
    assert poly(conv, "x_1_1^2") == poly(conv, "x_1_1**2") == poly(conv, "x_1_1*x_1_1") == poly(conv, "$x_{11}^{2}$")
    assert poly(conv, "x₁₁²") == poly(conv, "x_1_1^2")
    assert poly(conv, "2^-1*x_1_1") == poly(conv, "x_1_1/2") == poly(conv, "$\\frac{1}{2} x_{11}$") == poly(conv, "$\\frac12 x_{11}$")
    assert poly(conv, "-x_1_1^2") == -poly(conv, "x_1_1^2")
    assert poly(conv, "2^3^2").constant() == 512  # right-associative, as in Python and SymPy
    assert poly(conv, "1e-3").constant() == Fraction(1, 1000)
    assert poly(conv, "0.1").constant() == Fraction(1, 10)  # decimals are exact
    assert poly(conv, "(x_1_1 + x_1_2)*(x_1_1 - x_1_2)") == poly(conv, "x_1_1^2 - x_1_2^2")
    assert poly(conv, "3 - - 2").constant() == 5
    assert poly(conv, "x_1_1 - (x_1_2 - x_1_3)") == poly(conv, "x_1_1 - x_1_2 + x_1_3")


def test_channel_and_bias_names(channels):
    assert text_of(channels, "x_2_1_1*dz_1_1_1") == text_of(channels, "$x_{2,11} \\cdot \\frac{\\partial L}{\\partial z_{1,11}}$")
    assert text_of(channels, "b_1 + b_2") == "b_1 + b_2"
    assert text_of(channels, "w_1_2_2_1") == text_of(channels, "$w_{1,2,21}$")


def test_flat_names():
    p = Problem.build("conv", {"input": "5x5", "kernel": "3x3", "index": "flat", "names": "a,w,z"}, None)
    assert text_of(p, "a_11*dz_1 + a_{12} \\cdot dz_{2}") == "a_11*dz_1 + a_12*dz_2"
    with pytest.raises(AnswerError, match=r'"a_1_1" is not a name of this problem; expected a_1 \.\. a_25'):
        poly(p, "a_1_1")


def test_outputs_stand_for_their_expansion():
    p = Problem.build("conv", {"input": "3", "kernel": "2", "loss": "mse"}, None)
    # dL/dw_1 = (z_1 - t_1) x_1 + (z_2 - t_2) x_2 with z written as a name or expanded: the same polynomial
    short = poly(p, "(z_1 - t_1)*x_1 + (z_2 - t_2)*x_2")
    long = poly(p, "(w_1*x_1 + w_2*x_2 - t_1)*x_1 + (w_1*x_2 + w_2*x_3 - t_2)*x_2")
    assert short == long == p.expected("grad_kernel")[0]


# --- refusals: one AnswerError line each, quickly

REFUSED = [
    ("9**9**9**9", r"exponent .* is 387420489; at most 64"),
    ("9^9^9^9^9^9^9", r"exponent"),
    ("x_1_1^100", r"exponent .* is 100; at most 64"),
    ("x_1_1^13", r"degree 13; at most 12"),
    ("(x_1_1+x_1_2+x_1_3+x_1_4+x_1_5+x_2_1+x_2_2+x_2_3+x_2_4+x_2_5)^12", r"too large|more than"),
    ("2^(1/2)", r"not a whole number"),
    ("x_1_1^x_1_2", r"contains a symbol"),
    ("1/x_1_1", r"division by an expression with symbols"),
    ("x_1_1/0", r"division by zero"),
    ("0^-1", r"division by zero"),
    ("__import__('os').system('id')", r"unexpected character|not a name"),
    ("eval(x_1_1)", r"unknown name"),
    ("x_1_1; import os", r"unexpected character"),
    ("lambda: 0", r"unknown name|unexpected"),
    ("$\\input{/etc/passwd}$", r'unknown LaTeX command "\\input"'),
    ("$\\write18{rm -rf /}$", r'unknown LaTeX command "\\write"'),
    ("$\\def\\x{1}$", r"unknown LaTeX command"),
    ("x_1_1 + ... + x_3_3", r"write every term out"),
    ("$x_{11} + \\cdots$", r"write every term out"),
    ("(" * 200 + "x_1_1" + ")" * 200, r"nested too deeply"),
    ("-" * 500 + "x_1_1", r"nested too deeply"),
    ("1" * 100, r"more than 40 digits"),
    ("1e999999999", r"out of range"),
    ("x_9_9", r'"x_9_9" is not a name of this problem; expected x_1_1 \.\. x_5_5'),
    ("q_1_1", r'unknown name "q_1_1"; this problem\'s names are x_1_1 \.\. x_5_5 \(input\)'),
    ("x_1_1 +", r"ends too early"),
    ("(x_1_1", r"expected \) to close the \( at character 1, found the end of the answer"),
    ("(x_1_1]", r"expected \) to close the \("),
    ("x_1_1)", r"unexpected"),
    ("", r"empty"),
    ("x_", r"expected an index"),
    ("x_{a}", r"must hold indices"),
    ("Max(x_1_1, dz_1_1)", r"takes input cells"),
    ("\\", r"lone backslash"),
    ("x_1_1 \x00", r"unexpected character"),
    ("x" * 200_000, r"at most 100,000"),
]


@pytest.mark.parametrize("text, message", REFUSED, ids=[t[:30] for t, _ in REFUSED])
def test_refused_quickly(conv, text, message):
    # quickly = within one answer's budget of term products (a bomb that ran would do millions), and
    # with numbers no larger than a product of two allowed ones: counted, not timed
    with counting_poly_work(MAX_WORK) as work, pytest.raises(AnswerError, match=message) as caught:
        poly(conv, text)
    assert work.products <= MAX_WORK and work.bits <= 2 * MAX_BITS, work
    assert "\n" not in str(caught.value)


def test_no_eval_or_sympify_anywhere():
    """The parser modules never call eval, exec, compile, sympify or parse_expr."""
    import inspect

    from symgrad.homework import answers, judge, parse, poly as poly_module

    for module in (parse, poly_module, judge, answers):
        source = inspect.getsource(module)
        assert not re.search(r"(?<!re\.)\b(eval|exec|compile)\(", source), module.__name__
        for forbidden in ("sympify", "parse_expr", "__import__", "literal_eval"):
            assert forbidden not in source, (module.__name__, forbidden)


# --- fuzzing: any text either parses or raises AnswerError, fast

ALPHABET = list("xwdzbt_0123456789+-*/^()[]{},. $=\\") + ["**", "\\frac", "\\cdot", "\\partial", "x_1_1", "dz_1_1",
                                                        "w_2_2", "Max(", "Heaviside(", "∂", "₁", "·", "^{", "9**9"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
@example("(9**9)^64")  # a bomb spelled with the alphabet's tokens: a number of 1,826 bits
def test_fuzz_grammar_tokens(text):
    problem = _fuzz_problem()
    with counting_poly_work(MAX_WORK) as work:
        try:
            result = parse_answer(text, problem)
            assert isinstance(result, Poly)
        except AnswerError as error:
            assert str(error) and "\n" not in str(error)
    assert work.products <= MAX_WORK and work.bits <= 2 * MAX_BITS, work


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_fuzz_any_text(text):
    problem = _fuzz_problem()
    try:
        parse_answer(text, problem)
    except AnswerError:
        pass


_PROBLEM = []


def _fuzz_problem() -> Problem:
    if not _PROBLEM:
        _PROBLEM.append(Problem.build("pool", {"input": "4x4", "window": "2x2"}, None))
    return _PROBLEM[0]
