"""LaTeX and Markdown: exact strings for small layers, and real pdflatex compiles for several layers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import symgrad
from symgrad import cli
from symgrad.render.document import DocumentSettings
from symgrad.render.tex import latex_text, tex_width
from symgrad.render.latex import render_latex
from symgrad.render.markdown import markdown_text, render_markdown

GOLDEN = Path(__file__).parent / "golden"


def test_markdown_exact_1d():
    """input 3, kernel 2: z_1 = w_1 x_1 + w_2 x_2; dL/dx_2 = w_2 dL/dz_1 + w_1 dL/dz_2 (checked by hand)."""
    assert symgrad.conv("3", "2").to_markdown() == (GOLDEN / "conv_1d.md").read_text()


def test_latex_exact_with_values():
    """x = [1, 1/2, -2], w = [3, 1], bias symbolic: z_1 = 7/2 + b, dL/dw_2 = 1/2 dL/dz_1 - 2 dL/dz_2 (by hand)."""
    d = symgrad.conv("3", "2", bias=True, values={"input": [1, "1/2", -2], "kernel": [3, 1]})
    tex = d.to_latex(fragment=True)
    start = tex.index(r"\subsection*{Forward pass")
    end = tex.index(r"\subsection*{Gradient $\frac{\partial L}{\partial X}$")
    assert tex[start:end] == (GOLDEN / "conv_1d_values_forward_dw.tex").read_text()


def _written(args: list[str], tmp_path: Path, cwd: Path = GOLDEN) -> str:
    """What `symgrad ARGS -o FILE` writes, run in `cwd` (so a values file is named as a user names it)."""
    out = tmp_path / "out"
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        assert cli.main(args + ["-o", str(out)]) == 0
    finally:
        os.chdir(previous)
    return out.read_text(encoding="utf-8")


def test_latex_exact_2d_delta_notation(tmp_path):
    """input 3x3, kernel 2x2, --notation delta, checked by eye in the PDF: δ₁₁ stands for ∂L/∂z₁₁;
    ∂L/∂w₁₁ = x₁₁δ₁₁ + x₁₂δ₁₂ + x₂₁δ₂₁ + x₂₂δ₂₂; ∂L/∂x₂₂ = w₂₂δ₁₁ + w₂₁δ₁₂ + w₁₂δ₂₁ + w₁₁δ₂₂; both
    gradients as final matrices; each identity as X ⋆ δ and padded δ ⋆ rot180(W) with its matrices."""
    tex = _written(["conv", "--input", "3x3", "--kernel", "2x2", "--notation", "delta", "--format", "latex"], tmp_path)
    assert tex == (GOLDEN / "conv_2d_delta.tex").read_text(encoding="utf-8")


def test_markdown_exact_average_pooling(tmp_path):
    """4x4 average pooling, window 2x2 (checked by eye): y₁₁ = ¼(x₁₁ + x₁₂ + x₂₁ + x₂₂), every
    ∂L/∂x = ¼·∂L/∂y of its window, written as a fraction times the gradient (never ∂L/∂y₁₁/4)."""
    md = _written(["pool", "--input", "4x4", "--window", "2x2", "--mode", "avg", "--format", "markdown"], tmp_path)
    assert md == (GOLDEN / "pool_avg.md").read_text(encoding="utf-8")
    assert r"&= \tfrac{1}{4} \frac{\partial L}{\partial y_{11}}" in md and "/4" not in md


def test_latex_exact_max_pooling_with_values_fragment(tmp_path):
    """The README's pooling example as a fragment (checked by eye, compiled \\input into a host): ties
    named in words with a real arrow, the mask, ∂L/∂X = [[0,0,2,0],[1,0,0,0],[3,0,0,0],[0,0,4,0]]."""
    tex = _written(["pool", "--input", "4x4", "--window", "2x2", "--values", "pool_values.json", "--format", "latex",
                    "--fragment"], tmp_path)
    assert tex == (GOLDEN / "pool_max_values.tex").read_text(encoding="utf-8")
    assert r"\text{; ties: first } \to \text{ } x_{31}" in tex and "values from pool\\_values.json" in tex


def test_seed_000_names_in_latex():
    tex = symgrad.conv("5x5", "3x3", stride=2, index="flat", names="a,w,z").to_latex()
    assert (
        r"&= a_{1} \frac{\partial L}{\partial z_{1}} + a_{3} \frac{\partial L}{\partial z_{2}} "
        r"+ a_{11} \frac{\partial L}{\partial z_{3}} + a_{13} \frac{\partial L}{\partial z_{4}}"
    ) in tex
    assert r"z_{1} &= w_{1} a_{1} + w_{2} a_{2} + w_{3} a_{3}" in tex
    assert tex.startswith(r"\documentclass[11pt]{article}") and tex.rstrip().endswith(r"\end{document}")
    assert r"\allowdisplaybreaks" in tex and r"\usepackage{amsmath,amssymb,graphicx}" in tex


def test_seed_001_names_in_latex():
    tex = symgrad.conv("3x3", "2x2", names="x,w,o").to_latex()
    # dE/dx_22 has all four kernel weights, rotated
    assert (
        r"&= w_{22} \frac{\partial L}{\partial o_{11}} + w_{21} \frac{\partial L}{\partial o_{12}} "
        r"+ w_{12} \frac{\partial L}{\partial o_{21}} + w_{11} \frac{\partial L}{\partial o_{22}}"
    ) in tex


def test_fragment_is_the_body_only():
    tex = symgrad.conv("4", "2").to_latex(fragment=True)
    assert r"\documentclass" not in tex and r"\begin{document}" not in tex and r"\end{document}" not in tex
    assert tex.startswith("% symgrad conv: input 4") and r"\subsection*{Setup}" in tex


def test_long_sums_are_broken_into_rows():
    d = symgrad.conv("12x12", "5x5", padding=2)
    tex = d.to_latex()
    rows = [line for line in tex.splitlines() if line.startswith((r"\frac{\partial L}", " &", "z_"))]
    assert rows and max(tex_width(row.split("&", 1)[1]) for row in rows) <= 80
    assert any(row.startswith(r" &\quad +") for row in rows)


def test_large_layer_document_is_summarised_and_says_so():
    d = symgrad.conv("32x32", "5x5", in_channels=3, out_channels=6, bias=True)
    tex = d.to_latex()
    assert r"more entries of $\frac{\partial L}{\partial X}$ not shown; use -{}-{}full" in tex
    assert len(tex) < 400_000
    small = symgrad.conv("6x6", "3x3", in_channels=2, out_channels=2)
    assert DocumentSettings.choose(small).max_entries is None  # small layers: every entry


def test_markdown_has_a_heading_per_section_and_balanced_math():
    md = symgrad.conv("4x4", "2x2", stride=2, bias=True).to_markdown()
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == [
        "# symgrad conv: input 4x4, kernel 2x2, stride 2, padding 0, dilation 1, bias",
        "## Setup",
        "## Forward pass: every output expanded",
        r"## Gradient $\frac{\partial L}{\partial W}$: the chain rule, term by term",
        r"## Gradient $\frac{\partial L}{\partial X}$: the chain rule, term by term",
        r"## Gradient $\frac{\partial L}{\partial b}$: the chain rule, term by term",
        "## Identities: the closed forms",
    ]
    assert md.count("\n$$\n") % 2 == 0 or md.count("$$") % 2 == 0
    assert md.count(r"\begin{aligned}") == md.count(r"\end{aligned}") > 0


def test_show_selects_document_sections():
    d = symgrad.conv("4x4", "2x2")
    md = render_markdown(d, DocumentSettings.choose(d, frozenset({"grad-input"})))
    assert [line for line in md.splitlines() if line.startswith("## ")] == [
        r"## Gradient $\frac{\partial L}{\partial X}$: the chain rule, term by term"
    ]


def test_text_is_escaped():
    assert latex_text(r"\input{/etc/passwd} 50% & $x$ #1 ~_^") == (
        r"\textbackslash{}input\{/etc/passwd\} 50\% \& \$x\$ \#1 \textasciitilde{}\_\textasciicircum{}"
    )
    assert latex_text("--full") == "-{}-{}full"
    assert markdown_text("*a* [b](c) <script> $x$") == r"\*a\* \[b\](c) \<script\> \$x\$"


# --- pdflatex: the documents compile, and nothing runs off the page

LAYERS = {
    "seed-000": dict(input="5x5", kernel="3x3", stride=2, index="flat", names="a,w,z"),
    "multichannel-bias-padding": dict(input="6x6", kernel="3x3", stride=2, padding=1, in_channels=2, out_channels=2, bias=True),
    "numeric-float-and-fraction": dict(
        input="4x4", kernel="2x2", stride=2, in_channels=2, out_channels=2, bias=True,
        values={
            "input": [[[0.1234567891, -2.5, 3, 4], [1, 2, 3, 4], [5, 6, 7, 8], [1, 1, 1, 1]]] * 2,
            "kernel": [[[["1/3", 2], [3, 4]], [[1, 2], [3, 4]]], [[[1, 2], [3, 4]], [[1, 2], [3, "-7/11"]]]],
            "bias": [1, -2],
            "grad_output": [[[1, 2], [3, 4]], [[0.5, -1e-20], [3, 4]]],
        },
    ),
    "3d-dilated-channels": dict(input="3x4x4", kernel="2x2x2", dilation="1x2x1", padding=1, in_channels=2, out_channels=2),
    "1d-sum-loss-floor": dict(input="11", kernel="3", dilation=3, stride=2, padding=2, loss="sum"),
    "mse-bias": dict(input="4x4", kernel="3x3", loss="mse", bias=True),
    "long-sums": dict(input="12x12", kernel="5x5", padding=2),
    "lenet-summarised": dict(input="32x32", kernel="5x5", in_channels=3, out_channels=6, bias=True),
}

pdflatex = shutil.which("pdflatex")
needs_pdflatex = pytest.mark.skipif(pdflatex is None, reason="pdflatex not installed (apt-get install texlive-latex-base texlive-latex-recommended)")


def compile_tex(folder: Path, name: str, text: str) -> str:
    (folder / f"{name}.tex").write_text(text)
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
        cwd=folder, capture_output=True, text=True, timeout=180,
    )
    log = (folder / f"{name}.log").read_text(errors="replace")
    assert result.returncode == 0, re.findall(r"^!.*$", log, re.M)[:5] or result.stdout[-2000:]
    assert (folder / f"{name}.pdf").stat().st_size > 1000
    return log


@needs_pdflatex
@pytest.mark.parametrize("name", LAYERS)
def test_latex_compiles(name, tmp_path):
    d = symgrad.conv(**LAYERS[name])
    log = compile_tex(tmp_path, name, d.to_latex())
    overfull = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)
    assert not overfull, f"lines run off the page by {overfull} pt"


@needs_pdflatex
def test_fragment_compiles_inside_a_host_document(tmp_path):
    for name in ("a", "b"):  # two fragments in one document: the helper macros must not clash
        (tmp_path / f"{name}.tex").write_text(symgrad.conv("4x4", "2x2", bias=True).to_latex(fragment=True))
    host = "\n".join([
        r"\documentclass{article}", r"\usepackage{amsmath,amssymb,graphicx}", r"\allowdisplaybreaks",
        r"\begin{document}", r"\section{Homework 3}", r"\input{a}", r"\input{b}", r"\end{document}",
    ])
    compile_tex(tmp_path, "host", host)


@needs_pdflatex
def test_full_wide_matrix_is_scaled_to_the_line(tmp_path):
    d = symgrad.conv("1x30", "1x3")
    log = compile_tex(tmp_path, "wide", render_latex(d, DocumentSettings.choose(d, full=True)))
    assert "Overfull" not in log


def test_cli_latex_and_markdown_to_files(tmp_path, capsys):
    for fmt, suffix in (("latex", "tex"), ("markdown", "md")):
        target = tmp_path / f"out.{suffix}"
        code = cli.main(["conv", "--input", "3x3", "--kernel", "2x2", "--format", fmt, "-o", str(target)])
        assert code == 0 and capsys.readouterr().out == ""
        assert (r"\end{document}" if fmt == "latex" else "## Identities") in target.read_text()
    code = cli.main(["conv", "--input", "3x3", "--kernel", "2x2", "--format", "latex", "--fragment"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("% symgrad conv") and r"\documentclass" not in out


POOL_LAYERS = {
    "pool-seed-4x4": dict(input="4x4", window="2x2"),
    "pool-numeric-padding-overlap": dict(input="5x5", window="3x3", stride=2, padding=1,
                                         values={"input": [[1, 3, 2, 0, 1], [4, 0, 1, 1, 2], [5, 5, 0, 0, 3], [1, 2, 9, 9, 4], [0, 0, 0, 0, 0]],
                                                 "grad_output": [[1, 2, 0], [3, 4, 1], [0, 0, -1]]}),
    "pool-avg-fractions": dict(input="5x5", window="3x3", stride=2, padding=1, mode="avg",
                               values={"grad_output": [[1, 2, 0], [3, 4, 1], [0, 0, -1]]}),
    "pool-3d-large-windows": dict(input="3x6x6", window="2x3x3", stride=1, channels=2),
    "pool-1d-ties-split": dict(input="9", window="4", stride=2, padding=2, ties="split",
                               values={"input": [1, 1, 1, 1, 2, 2, 0, 0, 0]}),
}


@needs_pdflatex
@pytest.mark.parametrize("name", POOL_LAYERS)
def test_pool_latex_compiles(name, tmp_path):
    log = compile_tex(tmp_path, name, symgrad.pool(**POOL_LAYERS[name]).to_latex())
    overfull = re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)
    assert not overfull, f"lines run off the page by {overfull} pt"


def test_pool_documents_show_the_indicator_and_the_routing():
    d = symgrad.pool(**POOL_LAYERS["pool-numeric-padding-overlap"])
    tex = d.to_latex()
    # x_12 (= 3) is the maximum of no window; x_42 (= 2) is the maximum of window y_31, which gets dy_31 = 0
    assert r"&= H\left(x_{11} - \max(x_{12}, x_{21}, x_{22})\right) \frac{\partial L}{\partial y_{11}}" in tex
    assert "Ties (first)" in tex and r"\sum_{\text{windows}} \text{mask} \odot" in tex and "Heaviside(x" not in tex
    md = symgrad.pool(**POOL_LAYERS["pool-avg-fractions"]).to_markdown()
    assert "## Gradient $\\frac{\\partial L}{\\partial X}$: the chain rule, window by window" in md
    assert r"\tfrac{1}{9} \frac{\partial L}{\partial y_{11}}" in md


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_a_long_fragment_needs_only_the_documented_preamble(tmp_path):
    """Many pages of aligned sums, \\input with nothing but amsmath, amssymb and graphicx: no error, no
    overfull line (the fragment allows its own page breaks inside its group)."""
    (tmp_path / "frag.tex").write_text(symgrad.conv("9x9", "4x4", stride=1).to_latex(fragment=True, full=True))
    (tmp_path / "host.tex").write_text("\\documentclass{article}\n\\usepackage{amsmath,amssymb,graphicx}\n"
                                       "\\begin{document}\n\\input{frag.tex}\nAfter the fragment.\n\\end{document}\n")
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "host.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-1500:]
    assert "Overfull" not in result.stdout


def test_notation_delta(capsys):
    """--notation delta writes the incoming gradients δ₁₁ (and says what they stand for); the sums are
    otherwise the same."""
    from conftest import run

    code, out, _ = run(["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--notation", "delta", "--show", "grad-kernel"], capsys)
    assert code == 0 and "Notation: δ₁₁ stands for ∂L/∂z₁₁" in out
    assert "= x₁₁·δ₁₁ + x₁₃·δ₁₂ + x₃₁·δ₂₁ + x₃₃·δ₂₂" in out and "∂L/∂z₁₂" not in out.split("Notation")[1].split("\n", 2)[2]
    tex = render_latex(symgrad.conv("3x3", "2x2"), DocumentSettings(delta=True))
    assert r"&= w_{11} \delta_{11}" in tex and r"\frac{\partial L}{\partial z_{11}}" in tex  # defined once, in the note
    code, _, err = run(["conv", "--input", "3x3", "--kernel", "2x2", "--notation", "nabla"], capsys)
    assert code == 2 and "--notation must be partial or delta" in err


def test_a_multichannel_identity_reads_as_sentences(capsys):
    """The matrix equation of a 2->2 layer's identity says once which channels it shows, and its notes are
    sentences (a regression once printed a note letter by letter)."""
    from conftest import run

    code, out, _ = run(["conv", "--input", "4x4", "--kernel", "2x2", "--in-channels", "2", "--out-channels", "2",
                        "--show", "identities"], capsys, columns=120)
    assert code == 0
    assert "∂L/∂Z dilated and padded for the full correlation ⋆ rot180(W) (shown for output channel 1 and input channel 1):" in out
    assert not re.search(r"^\s+[A-Z]\.$", out, re.M)


def test_markdown_pages_ask_mystmd_not_to_number_every_display():
    """mystmd (Jupyter Book 2) numbers every $$ display by default; a page says `numbering: equation: false`.
    The notebook's Markdown display has no frontmatter (Jupyter would show it as text)."""
    d = symgrad.conv("3", "2")
    assert d.to_markdown().startswith("---\nnumbering:\n  equation: false\n---\n\n# symgrad conv")
    assert d._repr_markdown_().startswith("# symgrad conv")
