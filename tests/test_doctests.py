"""The examples in the modules' docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import symgrad

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(symgrad.__path__, "symgrad.") if name != "symgrad.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
