"""A derivation shows itself in a real Jupyter kernel: the output carries a text/latex display."""

from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_notebook_shows_the_latex_display():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import symgrad\n"
            "symgrad.conv(input='5x5', kernel='3x3', stride=2, index='flat', names='a,w,z')"
        ),
        nbformat.v4.new_code_cell(
            "d = symgrad.conv(input='3x3', kernel='2x2', values={'input': [[1, 2, 0], [0, 1, 3], [2, 1, 1]], "
            "'kernel': [[1, '-1/2'], [0, 2]], 'grad_output': [[1, -1], [0, 2]]})\n"
            "d"
        ),
        nbformat.v4.new_code_cell("symgrad.pool(input='4x4', window='2x2')"),
    ]
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3")
    client.execute()

    first = notebook.cells[0].outputs
    assert len(first) == 1 and first[0]["output_type"] == "execute_result"
    latex = first[0]["data"]["text/latex"]
    assert latex.startswith("$$")
    # seed 000: dL/dw_1 = a_1 dL/dz_1 + a_3 dL/dz_2 + a_11 dL/dz_3 + a_13 dL/dz_4
    assert (
        r"&= a_{1} \frac{\partial L}{\partial z_{1}} + a_{3} \frac{\partial L}{\partial z_{2}} "
        r"+ a_{11} \frac{\partial L}{\partial z_{3}} + a_{13} \frac{\partial L}{\partial z_{4}}"
    ) in latex
    assert r"\checkmark" in latex and latex.count("$$") % 2 == 0

    numeric = notebook.cells[1].outputs[0]["data"]["text/latex"]
    # dL/dx_22 = w22*1 + w21*(-1) + w12*0 + w11*2 = 2 + 0 + 0 + 2 = 4
    assert r"\frac{\partial L}{\partial x_{22}}" in numeric
    assert r"&= 2 \cdot 1 + 0 \cdot \left(-1\right) + \left(-\frac{1}{2}\right) \cdot 0 + 1 \cdot 2 \\" + "\n &= 4" in numeric

    pool = notebook.cells[2].outputs[0]["data"]["text/latex"]
    assert r"H\left(x_{11} - \max(x_{12}, x_{21}, x_{22})\right) \frac{\partial L}{\partial y_{11}}" in pool

    markdown = first[0]["data"]["text/markdown"]  # the display with prose as text and math typeset
    assert markdown.startswith("# symgrad conv: input 5x5")
    # long: each section folds away under its heading, the first one open
    assert "\n<details open>\n<summary><strong>Setup</strong></summary>\n\n" in markdown
    assert "\n<details>\n<summary><strong>Forward pass: every output expanded</strong></summary>\n\n" in markdown
    assert markdown.count("<details") == markdown.count("</details>") == 5
    assert "$$" in markdown and "a_{13} \\frac{\\partial L}{\\partial z_{4}}" in markdown


def test_a_short_display_is_not_folded():
    import symgrad

    small = symgrad.conv(input="3x3", kernel="2x2")._repr_markdown_()
    assert "<details" not in small and "\n## Forward pass: every output expanded\n" in small
