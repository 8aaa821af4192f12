"""The house rules, checked on the source: small rooms, no import cycles, one-way data flow.

These are the floor the project keeps (STYLE.md): no Python function over 80
lines, no file over 450 lines, no import cycle (lazy imports included), and
nothing below ``cli/`` imports click or prints.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "md5steg"
MAX_FUNCTION_LINES = 80
MAX_FILE_LINES = 450


def _modules() -> dict[str, tuple[Path, ast.Module]]:
    """Dotted module name -> (path, parsed tree) for every .py file of the package."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return modules


def _imports(name: str, path: Path, tree: ast.Module, known: set[str]) -> set[str]:
    """Package modules that ``name`` imports anywhere in its body, lazy imports included."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_cycles() -> list[list[str]]:
    """Groups of modules that import each other (the story planner's own Tarjan does the work)."""
    from md5steg.story.graph import strongly_connected_components

    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, *modules[name], known) for name in modules}
    # A package's __init__ re-exporting its submodules is not a cycle of design.
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    return [sorted(group) for group in strongly_connected_components(graph) if len(group) > 1]


def long_functions() -> list[str]:
    found = []
    for name, (_, tree) in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}.{node.name}: {length} lines")
    return found


def long_files() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{path.relative_to(PACKAGE)}: {lines} lines")
    return found


def test_no_import_cycles() -> None:
    assert import_cycles() == []


def test_no_function_over_80_lines() -> None:
    assert long_functions() == []


def test_no_python_file_over_450_lines() -> None:
    assert long_files() == []


@pytest.mark.parametrize("name", sorted(n for n in _modules() if not n.startswith("md5steg.cli")))
def test_nothing_below_the_cli_imports_click_or_prints(name: str) -> None:
    path, tree = _modules()[name]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert all(alias.name.split(".")[0] != "click" for alias in node.names), path
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "click", path
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "print", f"{path}:{node.lineno} prints"


if __name__ == "__main__":  # the figures, for closing notes: python tests/test_architecture.py
    print("cycles:", import_cycles())
    print("long functions:", long_functions())
    print("long files:", long_files())
