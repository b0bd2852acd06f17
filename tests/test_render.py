"""Renderers, pinned as exact strings (checked by hand against the seeds before pinning)."""

from __future__ import annotations

import io
import json

from rich.console import Console

import symgrad
from symgrad.render.json import render_json, to_data
from symgrad.render.terminal import TerminalView, TextSettings


def render(derivation, show, width=80):
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None).print(TerminalView(derivation, TextSettings(show=frozenset(show))))
    return buffer.getvalue()


SEED_001_GRAD_INPUT = 'symgrad conv · input 3x3 · kernel 2x2 · stride 1 · padding 0 · dilation 1\n\nGradient ∂L/∂X: the chain rule, term by term\n  ∂L/∂θ = Σ_k ∂L/∂o_k · ∂o_k/∂θ; only the outputs that contain θ contribute.\n  ∂L/∂x₁₁ = ∂o₁₁/∂x₁₁·∂L/∂o₁₁\n          = w₁₁·∂L/∂o₁₁\n  ∂L/∂x₁₂ = ∂o₁₁/∂x₁₂·∂L/∂o₁₁ + ∂o₁₂/∂x₁₂·∂L/∂o₁₂\n          = w₁₂·∂L/∂o₁₁ + w₁₁·∂L/∂o₁₂\n  ∂L/∂x₁₃ = ∂o₁₂/∂x₁₃·∂L/∂o₁₂\n          = w₁₂·∂L/∂o₁₂\n  ∂L/∂x₂₁ = ∂o₁₁/∂x₂₁·∂L/∂o₁₁ + ∂o₂₁/∂x₂₁·∂L/∂o₂₁\n          = w₂₁·∂L/∂o₁₁ + w₁₁·∂L/∂o₂₁\n  ∂L/∂x₂₂ = ∂o₁₁/∂x₂₂·∂L/∂o₁₁ + ∂o₁₂/∂x₂₂·∂L/∂o₁₂ + ∂o₂₁/∂x₂₂·∂L/∂o₂₁\n            + ∂o₂₂/∂x₂₂·∂L/∂o₂₂\n          = w₂₂·∂L/∂o₁₁ + w₂₁·∂L/∂o₁₂ + w₁₂·∂L/∂o₂₁ + w₁₁·∂L/∂o₂₂\n  ∂L/∂x₂₃ = ∂o₁₂/∂x₂₃·∂L/∂o₁₂ + ∂o₂₂/∂x₂₃·∂L/∂o₂₂\n          = w₂₂·∂L/∂o₁₂ + w₁₂·∂L/∂o₂₂\n  ∂L/∂x₃₁ = ∂o₂₁/∂x₃₁·∂L/∂o₂₁\n          = w₂₁·∂L/∂o₂₁\n  ∂L/∂x₃₂ = ∂o₂₁/∂x₃₂·∂L/∂o₂₁ + ∂o₂₂/∂x₃₂·∂L/∂o₂₂\n          = w₂₂·∂L/∂o₂₁ + w₂₁·∂L/∂o₂₂\n  ∂L/∂x₃₃ = ∂o₂₂/∂x₃₃·∂L/∂o₂₂\n          = w₂₂·∂L/∂o₂₂\n'


def test_seed_001_grad_input_text():
    """Seed 001's 3x3 input, 2x2 kernel: all nine dE/dx right (the handwritten notes garble several)."""
    assert render(symgrad.conv("3x3", "2x2", names="x,w,o"), {"grad-input"}) == SEED_001_GRAD_INPUT


MSE_1D_WITH_BIAS = "symgrad conv · input 4 · kernel 2 · stride 2 · padding 0 · dilation 1 · bias\n\nSetup\n  Input X: 1 channel of 4, shape 1×4; kernel W, shape 1×1×2; output Z: 1\n  channel, shape 1×2.\n  Output size per axis (PyTorch's rule): floor((N + 2p − d(k−1) − 1)/s) + 1.\n  length = floor((4 + 2·0 − 1·(2−1) − 1)/2) + 1 = 2\n  Loss: L = ½ Σ_k (z_k − t_k)², so ∂L/∂z_k = z_k − t_k.\n  X =\n    [ x₁  x₂  x₃  x₄ ]\n  W =\n    [ w₁  w₂ ]\n  b =\n    [ b ]\n\nGradient ∂L/∂W: the chain rule, term by term\n  ∂L/∂θ = Σ_k ∂L/∂z_k · ∂z_k/∂θ; only the outputs that contain θ contribute.\n  ∂L/∂w₁ = ∂z₁/∂w₁·∂L/∂z₁ + ∂z₂/∂w₁·∂L/∂z₂\n         = x₁·(z₁ − t₁) + x₃·(z₂ − t₂)\n  ∂L/∂w₂ = ∂z₁/∂w₂·∂L/∂z₁ + ∂z₂/∂w₂·∂L/∂z₂\n         = x₂·(z₁ − t₁) + x₄·(z₂ − t₂)\n\nGradient ∂L/∂b: the chain rule, term by term\n  ∂L/∂θ = Σ_k ∂L/∂z_k · ∂z_k/∂θ; only the outputs that contain θ contribute.\n  ∂L/∂b = ∂z₁/∂b·∂L/∂z₁ + ∂z₂/∂b·∂L/∂z₂\n        = (z₁ − t₁) + (z₂ − t₂)\n"


def test_mse_bias_1d_text():
    d = symgrad.conv("4", "2", stride=2, bias=True, loss="mse")
    assert render(d, {"setup", "grad-kernel", "grad-bias"}) == MSE_1D_WITH_BIAS


def test_json_exact_1d():
    d = symgrad.conv("5", "3", stride=2, padding=1, bias=True)
    assert to_data(d) == {
        "layer": "conv",
        "input_shape": [1, 5],
        "kernel_shape": [1, 1, 3],
        "output_shape": [1, 3],
        "options": {"stride": [2], "padding": [1], "dilation": [1], "bias": True, "index": "matrix", "names": "x,w,z"},
        "loss": {"name": "generic"},
        "symbols": {
            "input": [["x_1", "x_2", "x_3", "x_4", "x_5"]],
            "kernel": [[["w_1", "w_2", "w_3"]]],
            "grad_output": [["dz_1", "dz_2", "dz_3"]],
            "bias": ["b"],
        },
        "forward": [["w_2*x_1 + w_3*x_2 + b", "w_1*x_2 + w_2*x_3 + w_3*x_4 + b", "w_1*x_4 + w_2*x_5 + b"]],
        "grad_kernel": [[["x_2*dz_2 + x_4*dz_3", "x_1*dz_1 + x_3*dz_2 + x_5*dz_3", "x_2*dz_1 + x_4*dz_2"]]],
        "grad_input": [["w_2*dz_1", "w_3*dz_1 + w_1*dz_2", "w_2*dz_2", "w_3*dz_2 + w_1*dz_3", "w_2*dz_3"]],
        "grad_bias": ["dz_1 + dz_2 + dz_3"],
        "identities": [
            {"name": "grad_kernel", "statement": "dL/dW = conv(X, dilate(dL/dZ))", "holds": True, "terms_compared": 7, "notes": []},
            {
                "name": "grad_input",
                "statement": "dL/dX = full-conv(dilate(dL/dZ), rot180(W))",
                "holds": True,
                "terms_compared": 7,
                "notes": ["padding 1 is cropped from each side to get dL/dX of size 5"],
            },
            {"name": "grad_bias", "statement": "dL/db = sum of dL/dZ over positions", "holds": True, "terms_compared": 3, "notes": []},
        ],
    }
    assert json.loads(render_json(d)) == to_data(d)


def test_rich_hook():
    """A derivation shows itself in a rich console (the __rich__ hook hands off to the terminal renderer)."""
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(symgrad.conv("3x3", "2x2"))
    assert "✓ dL/dX = full-conv(dilate(dL/dZ), rot180(W))" in buffer.getvalue()
