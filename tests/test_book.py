"""The example book under docs/: its pages are symgrad's own exports and stay current; Jupyter Book 2
builds it with no error or warning and every formula typesets (KaTeX, in mystmd); a page and the notebook
display render in headless Chromium.

The site theme is downloaded at build time, which this machine cannot do: the build here is mystmd's
site content (every page parsed, every formula typeset), against a stub theme, and the screenshots show
that content as plain HTML with KaTeX's MathML. Needs Node.js (jupyter-book runs mystmd on it) and
Chromium; each test skips cleanly without them.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS))
import pages  # noqa: E402  (docs/pages.py: the page generator)

sys.path.remove(str(DOCS))

NEEDS_KERNEL = pytest.mark.skipif(
    importlib.util.find_spec("nbclient") is None or importlib.util.find_spec("ipykernel") is None,
    reason="nbclient and ipykernel (the test extras) run the notebook page")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    """A copy of docs/ with every page written afresh by this checkout's symgrad."""
    if importlib.util.find_spec("nbclient") is None or importlib.util.find_spec("ipykernel") is None:
        pytest.skip("nbclient and ipykernel (the test extras) run the notebook page")
    target = tmp_path_factory.mktemp("book") / "docs"
    shutil.copytree(DOCS, target, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    pages.write_pages(target)
    return target


def generated(root: Path) -> list[Path]:
    files = [root / page for page, _ in pages.COMMANDS + pages.QUIZZES] + [root / pages.NOTEBOOK]
    return [p.relative_to(root) for p in files + sorted((root / "figures").rglob("*.*"))]


@NEEDS_KERNEL
def test_committed_pages_are_what_symgrad_writes_now(book):
    """docs/ holds exactly what `python docs/pages.py` writes (run it after changing a renderer)."""
    assert generated(book) == generated(DOCS), "pages or figures added or removed: run python docs/pages.py"
    stale = [str(p) for p in generated(book) if (book / p).read_bytes() != (DOCS / p).read_bytes()]
    assert not stale, f"stale pages {stale}: run python docs/pages.py"


@NEEDS_KERNEL
def test_the_notebook_page_shows_the_displays(book):
    notebook = json.loads((book / pages.NOTEBOOK).read_text(encoding="utf-8"))
    outputs = [o for cell in notebook["cells"] if cell["cell_type"] == "code" for o in cell["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    markdown = ["".join(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {})]
    small, seed = markdown
    assert "<details>" not in small and r"\frac{\partial L}{\partial w_{11}}" in small
    assert seed.count("<details") == 5 and seed.count("</details>") == 5 and "<details open>" in seed
    reprs = ["".join(o["data"]["text/plain"]) for o in outputs if "text/markdown" not in o.get("data", {}) and "text/plain" in o.get("data", {})]
    assert "'ConvDerivation(input 5x5, kernel 3x3, stride 2, padding 0, dilation 1)'" in reprs
    assert any("symgradQuiz" in "".join(o["data"].get("text/html", "")) for o in outputs if "data" in o)


def _myst() -> list[str]:
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed (Jupyter Book 2 runs mystmd on it)")
    if importlib.util.find_spec("jupyter_book") is None:
        pytest.skip("jupyter-book (the test extras) is not installed")
    return [sys.executable, "-m", "jupyter_book"]


@pytest.fixture(scope="module")
def built(book) -> Path:
    """The book's site content built by Jupyter Book 2 (--strict: any error or warning fails), with the
    notebook display of a small layer as one more page."""
    command = _myst()
    import symgrad

    (book / "display.md").write_text(symgrad.conv(input="3x3", kernel="2x2")._repr_markdown_(), encoding="utf-8")
    (book / "theme").mkdir()
    (book / "theme" / "template.yml").write_text("myst: v1\nkind: site\ntitle: offline stub\n", encoding="utf-8")
    config = (book / "myst.yml").read_text(encoding="utf-8")
    assert "template: book-theme" in config
    config = config.replace("template: book-theme", "template: ./theme").replace(
        "    - file: notebook.ipynb", "    - file: notebook.ipynb\n    - file: display.md")
    (book / "myst.yml").write_text(config, encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(command + ["build", "--site", "--strict", "--ci"], cwd=book, capture_output=True,
                          text=True, timeout=600, env=env)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "⛔" not in log and "⚠" not in log, log[-3000:]
    return book / "_build" / "site" / "content"


def _nodes(node, kind: str):
    if isinstance(node, dict):
        if node.get("type") == kind:
            yield node
        for child in node.get("children", []):
            yield from _nodes(child, kind)


def test_the_book_builds_and_every_formula_typesets(built):
    slugs = {p.stem for p in built.glob("*.json")}
    assert slugs == {"index", "conv", "pool", "net", "quiz", "notebook", "display"}
    for path in built.glob("*.json"):
        page = json.loads(path.read_text(encoding="utf-8"))
        assert page["frontmatter"]["title"], path.name
        formulas = list(_nodes(page["mdast"], "math")) + list(_nodes(page["mdast"], "inlineMath"))
        if path.stem not in ("index", "quiz", "notebook"):
            assert len(formulas) > 5, path.name
        assert not [f for f in formulas if "enumerator" in f], f"{path.name}: a $$ block got an equation number"
        for formula in formulas:
            assert "<math" in formula.get("html", "") and "katex-error" not in formula["html"], (path.name, formula["value"][:200])
    conv = json.loads((built / "conv.json").read_text(encoding="utf-8"))
    assert not conv["frontmatter"]["numbering"]["equation"]["enabled"]  # no number on every $$ block
    images = [n["url"] for n in _nodes(conv["mdast"], "image")]
    assert len(images) == 3 and all(url.endswith(".gif") for url in images)


# --- screenshots --------------------------------------------------------------------------------------

def _html(node) -> str:
    """mystmd's page tree as plain HTML: the math as KaTeX wrote it (its MathML, which Chromium draws)."""
    kind = node.get("type")
    inner = "".join(_html(child) for child in node.get("children", []))
    if kind in ("math", "inlineMath"):
        tag = "div" if kind == "math" else "span"
        return f"<{tag} class='{kind}'>{node['html']}</{tag}>"
    if kind == "text":
        return html.escape(node["value"])
    if kind == "heading":
        return f"<h{node['depth']}>{inner}</h{node['depth']}>"
    simple = {"paragraph": "p", "emphasis": "em", "strong": "strong", "inlineCode": "code", "list": "ul",
              "listItem": "li", "table": "table", "tableRow": "tr", "tableCell": "td", "details": "details",
              "summary": "summary"}
    if kind in simple:
        return f"<{simple[kind]}>{inner}</{simple[kind]}>"
    if kind == "code":
        return f"<pre>{html.escape(node['value'])}</pre>"
    return inner


def _screenshot(built: Path, slug: str, tmp_path: Path) -> tuple[str, "object"]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed")
    from PIL import Image

    page = json.loads((built / f"{slug}.json").read_text(encoding="utf-8"))
    body = f"<h1>{html.escape(page['frontmatter']['title'])}</h1>" + _html(page["mdast"])
    source = tmp_path / f"{slug}.html"
    source.write_text("<!doctype html><meta charset='utf-8'><style>body{font:16px serif;margin:2em;max-width:60em}"
                      ".katex-html{display:none}div.math{margin:1em 0}</style>" + body, encoding="utf-8")
    shot = tmp_path / f"{slug}.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1000,1400", "--hide-scrollbars",
                    f"--screenshot={shot}", source.as_uri()], capture_output=True, timeout=120, check=False)
    assert shot.exists(), "Chromium wrote no screenshot"
    return body, Image.open(shot).convert("L")


def _ink_rows(image) -> int:
    """How many pixel rows have something drawn on them (anything darker than near-white)."""
    width, height = image.size
    pixels = image.load()
    return sum(1 for y in range(height) if any(pixels[x, y] < 200 for x in range(0, width, 2)))


def test_a_page_renders_in_chromium(built, tmp_path):
    body, image = _screenshot(built, "conv", tmp_path)
    assert body.count("<math") > 30
    assert _ink_rows(image) > image.size[1] // 4, "the page rendered (nearly) blank"


def test_the_notebook_display_renders_in_chromium(built, tmp_path):
    body, image = _screenshot(built, "display", tmp_path)
    assert "<h2>Setup</h2>" in body and body.count("<math") > 20
    assert _ink_rows(image) > image.size[1] // 4, "the display rendered (nearly) blank"
