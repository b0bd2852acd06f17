"""Write the example book's pages from symgrad's own exports: `python docs/pages.py` (from anywhere).

Every page but index.md is generated; the commands below are the ones a reader would type. Run it after
changing a renderer (tests/test_book.py fails while a committed page differs from what this writes).
Then `jupyter book build --html` in docs/ builds the site (it downloads the book theme once), or
`jupyter book start` serves it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (page, the symgrad command that writes it); run in docs/, so values/ and figures/ are relative to it
COMMANDS = [
    ("conv.md", ["conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--notation", "delta",
                 "--figures", "figures/conv"]),
    ("pool.md", ["pool", "--input", "4x4", "--window", "2x2", "--values", "values/pool.json",
                 "--figures", "figures/pool"]),
    ("net.md", ["net", "--input", "5x5", "--layers", "conv 3x3 stride=2 | flatten | dense 1 | mse",
                "--index", "flat", "--names", "a,z", "--values", "values/seed_net.json", "--lr", "0.1"]),
]
QUIZZES = [
    ("quiz.md", ["quiz", "conv", "--input", "5x5", "--kernel", "3x3", "--stride", "2", "--count", "6",
                 "--seed", "1", "--format", "myst"]),
    ("quiz-pool.json", ["quiz", "pool", "--input", "4x4", "--window", "2x2", "--values", "values/pool.json",
                        "--count", "4", "--seed", "2", "--format", "json"]),
]
NOTEBOOK = "notebook.ipynb"
NOTEBOOK_CELLS = [
    ("markdown", "# In a notebook\n\nA derivation shows itself: its Markdown display puts the prose as text "
                 "and the math typeset; a large layer's sections fold away (HTML `<details>`). Its `repr` is "
                 "one line."),
    ("code", "import symgrad\n\nd = symgrad.conv(input=\"3x3\", kernel=\"2x2\")\nd"),
    ("markdown", "The source chapter's layer is longer: its sections are folded, the first one open."),
    ("code", "seed = symgrad.conv(input=\"5x5\", kernel=\"3x3\", stride=2)\nseed"),
    ("code", "repr(seed)"),
    ("markdown", "A quiz from the same derivation, shown by jupyterquiz:"),
    ("code", "from jupyterquiz import display_quiz\n\ndisplay_quiz(\"quiz-pool.json\")"),
]


def run(args: list[str], out: Path, cwd: Path) -> None:
    argv = [sys.executable, "-m", "symgrad", *args]
    if args[0] != "quiz" and "--format" not in args:
        argv += ["--format", "markdown"]
    subprocess.run(argv + ["-o", str(out)], check=True, cwd=cwd)


def notebook(path: Path, cwd: Path) -> None:
    """The notebook page, executed in a real kernel (nbclient), with the run's timings taken out so the
    file only changes when its outputs do."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in NOTEBOOK_CELLS]
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    nb.metadata.pop("language_info", None)
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index + 1}"
        cell.metadata.pop("execution", None)
    text = nbformat.writes(nb)
    for quiz_id in set(re.findall(r'<div id=\\"([A-Za-z]{12})\\" data-shufflequestions', text)):
        text = text.replace(quiz_id, "symgradQuiz")  # jupyterquiz's random element id, made stable
    path.write_text(text + "\n", encoding="utf-8")


def write_pages(target: Path = HERE) -> list[Path]:
    """Write every generated page (and its figures) into `target`, a copy of docs/ or docs/ itself."""
    target = target.resolve()
    for folder in ("figures",):
        shutil.rmtree(target / folder, ignore_errors=True)
    written = []
    for page, args in COMMANDS + QUIZZES:
        run(args, target / page, target)
        written.append(target / page)
    notebook(target / NOTEBOOK, target)
    written.append(target / NOTEBOOK)
    return written + sorted((target / "figures").rglob("*.*"))


if __name__ == "__main__":
    for path in write_pages():
        print(path.relative_to(HERE))
