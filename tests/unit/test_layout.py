"""The package's layout rules, checked on its source: only the pytest layer imports pytest, and
no two modules import each other (directly or around a circle)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pytest_oscura"
# The pytest layer: hook wiring, hook objects, options and collection nodes. Everything else
# must be usable from a script.
PYTEST_LAYER = {"plugin", "hooks", "options", "collect", "_xdist"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path) -> set[str]:
    """Every module name an import statement of ``path`` names, wherever the statement is."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_only_the_pytest_layer_imports_pytest() -> None:
    offenders = []
    for module, path in _modules().items():
        if module.split(".")[1:2] and module.split(".")[1] in PYTEST_LAYER:
            continue
        found = {n for n in _imported(module, path) if n.split(".")[0] in ("pytest", "_pytest")}
        if found:
            offenders.append(f"{module}: {sorted(found)}")
    assert offenders == []


def test_at_most_five_modules_import_pytest() -> None:
    importers = [
        module
        for module, path in _modules().items()
        if any(n.split(".")[0] in ("pytest", "_pytest") for n in _imported(module, path))
    ]
    assert len(importers) <= 5, importers


def test_no_import_circles() -> None:
    modules = _modules()
    graph = {m: {n for n in _imported(m, p) if n in modules and n != m} for m, p in modules.items()}
    # Tarjan's strongly connected components: any component of two or more is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_the_checks_see_a_circle_and_a_pytest_import(tmp_path: Path) -> None:
    # The helpers above must find what they look for, or the tests pass vacuously.
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pytest\n"
        "def f():\n    from pytest_oscura.jobs import run_job\n"
    )
    assert {"pytest", "pytest_oscura.jobs", "pytest_oscura.jobs.run_job"} <= _imported(
        "pytest_oscura.m", source
    )
