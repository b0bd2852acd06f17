"""Shared test helpers: evaluate a term table numerically, straight from its arrays; count work, never time it."""

from __future__ import annotations

import contextlib
import cProfile
import os
import pstats
import sys

import numpy as np
import pytest

from symgrad.tensor import ONE, ZERO


def value_vector(symbols, values: dict[str, np.ndarray]) -> np.ndarray:
    """One float per symbol id, laid out by the groups' offsets; groups not given are NaN (so a stray use shows)."""
    total = max(g.offset + g.size for g in symbols.groups.values())
    vec = np.full(total, np.nan)
    for key, array in values.items():
        group = symbols[key]
        array = np.asarray(array, dtype=np.float64)
        assert array.shape == group.shape, (key, array.shape, group.shape)
        vec[group.offset : group.offset + group.size] = array.ravel()
    return vec


def _factor_values(ids: np.ndarray, vec: np.ndarray) -> np.ndarray:
    assert not np.any(ids == ZERO), "a term table kept a ZERO factor"
    assert np.all((ids == ONE) | ((ids >= 0) & (ids < vec.size))), "a factor id is out of range"
    out = np.ones(ids.shape, dtype=np.float64)
    real = ids != ONE
    out[real] = vec[ids[real]]
    return out


def evaluate(terms, vec: np.ndarray) -> np.ndarray:
    """sum of coef * value[a] * value[b] per entry, reshaped to the table's shape."""
    assert np.all((terms.entry >= 0) & (terms.entry < terms.size)), "an entry index is out of range"
    products = terms.coef * _factor_values(terms.a, vec) * _factor_values(terms.b, vec)
    out = np.zeros(terms.size, dtype=np.float64)
    np.add.at(out, terms.entry, products)
    return out.reshape(terms.shape)


# --- slow tests in files owned elsewhere: marked here, not in their files (`pytest -m "not slow"` skips them)

SLOW_ELSEWHERE = {
    ("test_notebook.py", "test_notebook_shows_the_latex_display"),  # starts a Jupyter kernel: about 3 s
    ("test_documents.py", "test_latex_compiles[long-sums]"),  # pdflatex on long sums: over 2 s
}


def pytest_collection_modifyitems(items):
    for item in items:
        if (item.path.name, item.name) in SLOW_ELSEWHERE:
            item.add_marker(pytest.mark.slow)


# --- work counted, never timed: a count is the same on a loaded machine as on an idle one


class Work:
    """What a piece of code did, counted: Python calls made by or into symgrad's own code (cProfile's
    exact count), lines of symgrad's code run (when traced: this counts loops that make no calls too),
    layers started (symbol tables built) and product terms made (rows handed to `Terms.make`, zeros
    included: what the term tables cost before they are trimmed)."""

    def __init__(self):
        self.calls = 0
        self.lines = 0
        self.layers = 0
        self.products = 0

    def __repr__(self) -> str:
        return f"Work(calls={self.calls:,}, lines={self.lines:,}, layers={self.layers}, products={self.products:,})"


@contextlib.contextmanager
def patched(owner, name: str, value):
    """setattr for the length of a `with` (usable where pytest's monkeypatch fixture is not, under hypothesis)."""
    old = owner.__dict__[name]
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


@contextlib.contextmanager
def counting_work(*, build: bool = True, max_symbols: int | None = None, max_lines: int | None = None):
    """Count the work done inside the `with` into the Work it yields. build=False: building any layer
    fails the test at once (a refusal must come from an estimate, before anything is built);
    max_symbols: so does a layer of more symbols (failing before its arrays exist, not after minutes);
    max_lines: trace symgrad's lines (several times slower: for refusals and small runs) and fail the
    test as soon as more than max_lines have run, so a runaway loop fails at once instead of hanging."""
    import symgrad
    from symgrad.symbols import SymbolTable
    from symgrad.tensor import Terms

    root = os.path.dirname(symgrad.__file__) + os.sep
    work = Work()
    table_init, make = SymbolTable.__init__, Terms.__dict__["make"].__func__

    def counted_table(self, *args, **kwargs):
        if not build:
            pytest.fail("a layer was built (a symbol table) before the refusal")
        work.layers += 1
        table_init(self, *args, **kwargs)
        symbols = sum(group.size for group in self.groups.values())
        if max_symbols is not None and symbols > max_symbols:
            pytest.fail(f"a layer of {symbols:,} symbols was built (more than {max_symbols:,})")

    def counted_make(cls, shape, entry, *args, **kwargs):
        if not build:
            pytest.fail("a term table was built before the refusal")
        work.products += int(np.size(entry))
        return make(cls, shape, entry, *args, **kwargs)

    def line(frame, event, arg):
        if event == "line":
            work.lines += 1
            if work.lines > max_lines:
                pytest.fail(f"more than {max_lines:,} lines of symgrad run: {work!r}")
        return line

    def call(frame, event, arg):
        return line if frame.f_code.co_filename.startswith(root) else None

    profile, tracing = cProfile.Profile(), sys.gettrace()
    with patched(SymbolTable, "__init__", counted_table), patched(Terms, "make", classmethod(counted_make)):
        if max_lines is not None:
            sys.settrace(call)
        profile.enable()
        try:
            yield work
        finally:
            profile.disable()
            sys.settrace(tracing)
            work.calls = _calls_by_or_into(profile, root)


def _calls_by_or_into(profile, root: str) -> int:
    """Calls whose caller or callee is a function in the folder `root` (imports and other libraries'
    own internals are left out, so the count does not depend on what earlier tests imported)."""
    total = 0
    for (file, _, _), (_, _, _, _, callers) in pstats.Stats(profile).stats.items():
        ours = file.startswith(root)
        for (caller_file, _, _), counts in callers.items():
            if ours or caller_file.startswith(root):
                total += counts[1]
    return total


class PolyWork:
    """The polynomial work of parsing answers: term products (len x len of every Poly product, counted
    before it is done), terms of every Poly built, and the largest coefficient in bits."""

    def __init__(self, max_products: int):
        self.max_products = max_products
        self.products = 0
        self.terms = 0
        self.bits = 0

    def __repr__(self) -> str:
        return f"PolyWork(products={self.products:,}, terms={self.terms:,}, bits={self.bits:,})"


@contextlib.contextmanager
def counting_poly_work(max_products: int):
    """Count `Poly` work inside the `with`; a product that would take the count past `max_products`
    fails the test before it is multiplied out (so a missing budget fails fast instead of hanging)."""
    from fractions import Fraction

    from symgrad.homework.poly import Poly

    work = PolyWork(max_products)
    init, mul = Poly.__init__, Poly.__mul__

    def counted_init(self, terms=None):
        init(self, terms)
        work.terms += len(self.terms)
        for coef in self.terms.values():
            if isinstance(coef, (int, Fraction)):
                work.bits = max(work.bits, coef.numerator.bit_length(), coef.denominator.bit_length())

    def counted_mul(self, other):
        work.products += max(1, len(self.terms)) * max(1, len(other.terms))
        if work.products > max_products:
            pytest.fail(f"more than {max_products:,} term products: {work!r}")
        return mul(self, other)

    with patched(Poly, "__init__", counted_init), patched(Poly, "__mul__", counted_mul):
        yield work


def run(args, capsys, columns=80):
    """The CLI in-process at a given width: (exit code, stdout, stderr)."""
    from symgrad import cli

    os.environ["COLUMNS"] = str(columns)
    try:
        code = cli.main(list(args))
    finally:
        os.environ.pop("COLUMNS", None)
    out, err = capsys.readouterr()
    return code, out, err
