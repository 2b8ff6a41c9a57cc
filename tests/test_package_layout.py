"""The shape of ``lstm_course`` (DESIGN.md, "The package"): a dozen rooms at most, imports
running one way with no cycle (lazy imports inside functions included), ``__all__`` at
the top of every public module, no module reaching into another's private helpers, and
a package docstring and a README table that map every room."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import lstm_course

PACKAGE = Path(lstm_course.__file__).parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)

# Imports may only point to the same room or a lower one. The top-level __init__ sits
# above everything, since it gathers the notebook helpers.
RANK = {
    "checks": 0,
    "runtime": 0,
    "data": 1,
    "scratch": 1,
    "plot": 1,
    "diagrams": 1,
    "layers": 2,
    "training": 3,
    "perf": 3,
    "book_tools": 3,
    "experiments": 4,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


NAMES = {module_name(p) for p in MODULES}


def course_imports(path: Path) -> list[tuple[str, str, int]]:
    """Every (module, imported name, line) of the course that ``path`` imports, at any depth
    of the file (lazy imports in functions count). ``from pkg import sub`` resolves to the
    submodule when ``sub`` is one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [
                (a.name, "", node.lineno) for a in node.names if a.name.startswith("lstm_course")
            ]
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("lstm_course")
        ):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                target = sub if sub in NAMES else node.module
                found.append((target, "" if sub in NAMES else alias.name, node.lineno))
    return found


GRAPH = {module_name(p): {target for target, _, _ in course_imports(p)} for p in MODULES}


def test_at_most_twelve_entries_at_the_top():
    entries = [
        p.name for p in PACKAGE.iterdir() if p.name != "__pycache__" and not p.name.startswith(".")
    ]
    assert len(entries) <= 12, sorted(entries)


ROOMS = sorted(
    entry.name + ("/" if entry.is_dir() else "")
    for entry in PACKAGE.iterdir()
    if entry.name not in {"__init__.py", "__pycache__"} and not entry.name.startswith(".")
)


def test_package_docstring_maps_every_room():
    doc = lstm_course.__doc__
    for label in ROOMS:
        assert label in doc, f"the package docstring's map misses {label}"


def test_readme_table_maps_every_room():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    # The table's first column: "| `layers/` | ..." or "| `plot.py`, `diagrams.py` | ...".
    first_cells = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `")]
    listed = {name for cell in first_cells for name in cell.replace(",", " ").split()}
    for label in ROOMS:
        assert f"`{label}`" in listed, f"README's table of the package misses {label}"


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if state.get(nxt) is None and nxt in GRAPH:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_run_one_way(path):
    here = module_name(path)
    if here == "lstm_course":
        return
    for target, _, line in course_imports(path):
        there = room(target)
        assert there is not None, f"{here}:{line} imports the top-level package; import the module"
        assert RANK[there] <= RANK[room(here)], (
            f"{here}:{line} imports {target}: {room(here)} may not import from {there}"
        )


def test_timing_tools_import_nothing_else_of_the_course():
    path = PACKAGE / "perf" / "timing.py"
    assert course_imports(path) == []


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_private_helper_of_another_module(path):
    for target, name, line in course_imports(path):
        assert not name.startswith("_"), f"{module_name(path)}:{line} imports {target}.{name}"


PUBLIC = [p for p in MODULES if not p.name.startswith("_") or p.name == "__init__.py"]


@pytest.mark.parametrize("path", PUBLIC, ids=module_name)
def test_all_at_the_top_of_every_public_module(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__all__" for t in node.targets
        ):
            break
        assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)), (
            f"{module_name(path)} defines {node.name} before __all__"
        )
    else:
        pytest.fail(f"{module_name(path)} has no __all__")
    module = importlib.import_module(module_name(path))
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name(path)}.__all__ names what it lacks: {missing}"


@pytest.mark.parametrize(
    "sub",
    sorted(n for n in NAMES if n.count(".") == 1 and (PACKAGE / room(n) / "__init__.py").exists()),
)
def test_each_subpackage_reexports_its_main_names(sub):
    assert importlib.import_module(sub).__all__, f"{sub}/__init__.py re-exports nothing"
