"""The architecture, checked from the source: the import graph (imports inside functions counted) has
no cycle except through the display hooks that hand a derivation to render/; only render/ imports rich;
only the CLI imports typer; every layer kind is registered once and renderers never test a layer's name."""

from __future__ import annotations

import ast
from pathlib import Path

import symgrad
from symgrad.layers import KINDS

PACKAGE = Path(symgrad.__file__).parent
DISPLAY_HOOKS = {"__rich__", "_repr_latex_", "_repr_markdown_", "to_latex", "to_markdown", "to_json", "animation"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, str]]:
    """(imported symgrad module, the function it is imported in or '') for every import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = []

    def visit(node, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    target = f"{base}.{child.module}" if child.module else base
                else:
                    target = child.module or ""
                names = [f"{target}.{alias.name}" for alias in child.names]
                found.extend((name if _is_module(name) else target, function) for name in names)
            elif isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            visit(child, inner)

    visit(tree, "")
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def test_the_import_graph_has_no_cycle_but_the_display_hooks():
    edges = {name: {target for target, function in imports if target in MODULES and function not in DISPLAY_HOOKS}
             for name, imports in GRAPH.items()}
    # a package's __init__ re-exports its modules; importing from a package is importing those
    state: dict[str, int] = {}
    cycles = []

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own modules
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, stack + [nxt])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            walk(name, [name])
    assert cycles == []


def test_only_render_imports_rich_and_only_the_cli_imports_typer():
    for name, imports in GRAPH.items():
        targets = {target.split(".")[0] for target, _ in imports}
        if "rich" in targets:
            assert name.startswith("symgrad.render"), name
        if "typer" in targets or "click" in targets:
            assert name in ("symgrad.cli", "symgrad.cli_parts", "symgrad.cli_animate", "symgrad.cli_quiz", "symgrad.cli_template"), name


def test_renderers_never_test_a_layer_by_name():
    for name in KINDS:
        for path in (PACKAGE / "render").glob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert f'layer == "{name}"' not in text and f"layer == '{name}'" not in text, path


def test_every_kind_is_registered_with_its_sections_and_content():
    assert set(KINDS) == {"conv", "pool", "convtranspose"}
    for kind in KINDS.values():
        assert kind.sections[0] == "setup" and "identities" in kind.sections
        for hook in ("title", "name", "setup", "forward", "gradient_intro", "identities"):
            assert callable(getattr(kind.content, hook)), (kind.name, hook)
        assert set(kind.gradient_of) == set(kind.tensor_of)
