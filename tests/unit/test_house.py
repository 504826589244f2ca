"""The house rules of docs/architecture.md, checked on the package's own source.

Imports are read with :mod:`ast` (nothing is imported): every ``import`` and ``from ...
import``, at module level, inside functions and under ``TYPE_CHECKING`` alike.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "jx_mlops"
MAX_LINES = 500
MAX_ROOT_MODULES = 12

# docs/architecture.md's floors: a room imports only from rooms on a higher number.
# Packages are rooms; root modules are rooms of their own.
FLOORS: dict[str, int] = {
    "__main__": 0,
    "cli": 1,
    "views": 2,
    "ci": 3,
    "project": 4,
    "promote": 5,
    "registry": 6,
    "evaluation": 7,
    "environments": 7,
    "config": 8,
    "forge": 9,
    "report": 10,
    "compare": 11,
    "identity": 12,
    "git": 13,
    "dvc": 13,
    "compute": 13,
    "prometheus": 13,
    "signing": 13,
    "oci": 13,
    # the ground floor, itself in order
    "fsutil": 14,
    "console": 14,
    "failpoints": 14,
    "yamlio": 15,
    "errors": 16,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imported(path: Path) -> Iterator[tuple[ast.stmt, str]]:
    """(statement, module) for every jx_mlops module ``path`` imports, anywhere in it."""
    name = _module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("jx_mlops"):
                    yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")[: (None if path.name == "__init__.py" else -1)]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if not module.startswith("jx_mlops"):
                continue
            for alias in node.names:  # `from pkg import module` imports the module
                sub = f"{module}.{alias.name}"
                yield node, sub if sub in MODULES else module


def _room(module: str) -> str:
    return module.split(".")[1] if "." in module else "__init__"


def _edges() -> dict[str, set[str]]:
    return {name: {m for _node, m in _imported(path) if m in MODULES and m != name}
            for name, path in MODULES.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` (empty when there is none)."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return []


def test_every_room_has_a_floor() -> None:
    rooms = {_room(m) for m in MODULES} - {"__init__"}
    assert sorted(rooms - set(FLOORS)) == [], "add the new package to FLOORS and to the docs"


def test_no_import_circle_between_modules() -> None:
    graph = _edges()
    # A package's __init__ is imported by every `from jx_mlops.pkg.mod import`: leave it
    # out (the next test keeps __init__ files to a docstring).
    graph = {k: {m for m in v if MODULES[m].name != "__init__.py"} for k, v in graph.items()}
    assert _cycle(graph) == []


def test_arrows_point_down_between_rooms() -> None:
    upward = sorted(f"{src} -> {dst}" for src, dsts in _edges().items() for dst in dsts
                    if _room(src) != _room(dst) and _room(dst) != "__init__"
                    and FLOORS.get(_room(dst), 99) <= FLOORS.get(_room(src), -1)
                    and _room(src) != "__init__")
    assert upward == []


def test_init_files_hold_a_docstring_only() -> None:
    for name, path in MODULES.items():
        if path.name != "__init__.py" or name == "jx_mlops":
            continue
        body = ast.parse(path.read_text(encoding="utf-8")).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), f"{path}: more than a docstring"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_silent_reexport_or_alias(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                assert alias.asname != alias.name.rsplit(".", 1)[-1], \
                    f"{name}: `import {alias.name} as {alias.asname}` re-exports it"
                imported.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Name):
            assert node.value.id not in imported, \
                f"{name}: line {node.lineno} aliases {node.value.id}: import it where it is used"


def test_no_module_past_the_limit() -> None:
    long = {name: n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_root_holds_the_ground_floor_only() -> None:
    root = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(root) <= MAX_ROOT_MODULES, sorted(root)
