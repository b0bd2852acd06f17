"""Shared helpers for the oracle tests: evaluate a term table numerically, straight from its arrays."""

from __future__ import annotations

import numpy as np

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
