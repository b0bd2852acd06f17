"""--values without PyTorch: partial values, exact round trips through JSON, mse, refusals."""

from __future__ import annotations

import json

import pytest

import symgrad
from symgrad.errors import SymgradError


def test_partial_values_leave_the_rest_symbolic():
    """Only the input given: dL/dW is a combination of the dL/dz symbols with the input's numbers."""
    d = symgrad.conv("3x3", "2x2", values={"input": [[1, 2, 0], [0, 1, 3], [2, 1, 1]]})
    assert d.numeric.result("grad_kernel") is None
    data = json.loads(d.to_json())
    assert data["grad_kernel"][0][0] == [
        ["dz_1_1 + 2*dz_1_2 + dz_2_2", "2*dz_1_1 + dz_2_1 + 3*dz_2_2"],
        ["dz_1_2 + 2*dz_2_1 + dz_2_2", "dz_1_1 + 3*dz_1_2 + dz_2_1 + dz_2_2"],
    ]
    # dL/dX does not involve the input at all: unchanged
    assert data["grad_input"][0][1][1] == "w_2_2*dz_1_1 + w_2_1*dz_1_2 + w_1_2*dz_2_1 + w_1_1*dz_2_2"
    assert data["values"] == {"exact": True, "input": [[[1, 2, 0], [0, 1, 3], [2, 1, 1]]]}


def test_values_json_round_trips_exactly():
    """Fractions come back as "p/q" strings and floats as exact reprs, so the output can be fed back."""
    data = {"input": [["1/3", 0.1, 2]], "kernel": [[1, 1]]}
    d = symgrad.conv("1x3", "1x2", values=data)
    out = json.loads(d.to_json())
    assert out["values"]["exact"] is False
    assert out["forward"] == [[["0.43333333333333335", "2.1"]]]
    exact = json.loads(symgrad.conv("1x3", "1x2", values={"input": [["1/3", "1/10", 2]], "kernel": [[1, 1]]}).to_json())
    assert exact["forward"] == [[["13/30", "21/10"]]] and exact["values"]["input"] == [[[["1/3", "1/10", 2]]]][0]


def test_bad_values_are_refused_with_the_key_and_shape():
    with pytest.raises(SymgradError, match=r'"kernel".*3x3'):
        symgrad.conv("5x5", "3x3", values={"kernel": [[1, 2], [3, 4]]})
    with pytest.raises(SymgradError, match="grad_output"):
        symgrad.conv("5x5", "3x3", loss="sum", values={"grad_output": [[1, 2], [3, 4]]})


def test_mse_with_some_values_puts_in_what_is_known():
    """Input and kernel known, targets not: dL/dz = (z - t) with z's number; then the targets alone."""
    import sympy

    d = symgrad.conv("2x2", "1x1", loss="mse", values={"input": [[1, 2], [3, 4]], "kernel": [[2]]})
    data = json.loads(d.to_json())
    assert data["loss"]["grad_output"] == [[["(2 - t_1_1)", "(4 - t_1_2)"], ["(6 - t_2_1)", "(8 - t_2_2)"]]]
    expr = sympy.sympify(data["grad_kernel"][0][0][0][0])
    t = {sympy.Symbol(f"t_{i}_{j}"): v for (i, j), v in zip([(1, 1), (1, 2), (2, 1), (2, 2)], [1, 2, 3, 4])}
    assert expr.subs(t) == 1 * 1 + 2 * 2 + 3 * 3 + 4 * 4  # = 30, as with every value given
    full = symgrad.conv("2x2", "1x1", loss="mse", values={"input": [[1, 2], [3, 4]], "kernel": [[2]], "target": [[1, 2], [3, 4]]})
    assert full.numeric.result("grad_kernel").tolist() == [[[[30]]]]
    only_targets = json.loads(symgrad.conv("2x2", "1x1", loss="mse", values={"target": [[1, 2], [3, 4]]}).to_json())
    assert only_targets["loss"]["grad_output"][0][0][0] == "((w_1_1*x_1_1) - 1)"


def test_float_overflow_is_refused():
    with pytest.raises(SymgradError, match="overflows floating point"):
        symgrad.conv("2x2", "1x1", values={"input": [[1e300, 1], [1, 1]], "kernel": [[1e300]]})
