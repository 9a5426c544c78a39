"""No import cycle inside src/s3files, counting imports inside functions and under
``TYPE_CHECKING``: the modules form a graph that points one way."""

from __future__ import annotations

import ast
from pathlib import Path

import s3files

PACKAGE = Path(s3files.__file__).parent


def module_graph(package: Path) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of ``package`` it imports anywhere."""
    paths: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        paths[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here[: len(here) - (node.level - 1)]
                    base = ".".join([*parent, base] if base else parent)
                submodules = {f"{base}.{alias.name}" for alias in node.names} & paths.keys()
                # `from package import submodule` needs the submodule, not the package's names
                imported.update(submodules or {base})
        graph[name] = {target for target in imported if target in paths and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_checker_sees_a_cycle_made_by_an_import_inside_a_function(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n    return a\n")
    (package / "c.py").write_text("from . import a\n")
    assert cycles(module_graph(package)) == [["pkg.a", "pkg.b"]]


def test_no_import_cycle_in_s3files() -> None:
    graph = module_graph(PACKAGE)
    assert "s3files.stores.s3" in graph and len(graph) > 50
    assert cycles(graph) == []


def test_the_s3_modules_sit_on_one_bottom_module() -> None:
    graph = module_graph(PACKAGE)
    bottom = "s3files.stores._s3_errors"
    assert not {m for m in graph[bottom] if m.startswith("s3files.stores")}
    for module in ("s3_direct", "s3_http", "s3_writer", "_s3_client"):
        assert bottom in graph[f"s3files.stores.{module}"]
        assert "s3files.stores.s3" not in graph[f"s3files.stores.{module}"]
    connector = {m for name in graph if name.startswith("s3files.connector") for m in graph[name]}
    assert "s3files.stores.s3" not in connector and bottom in connector
