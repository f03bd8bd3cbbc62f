"""The package's shape: no import cycles between its modules (imports inside functions
included, those under ``if TYPE_CHECKING:`` not, since they never run), no library module that
imports the command line, and no module over 800 lines."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "keirin_sim"
MAX_LINES = 800
#: The compiled kernel is one numba-compiled unit: its step, event location and reflexes
#: call each other as jitted functions of one module, and splitting it would cost compile
#: caching across modules for no reader's gain.
EXEMPT = {"kernel"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports anywhere except under TYPE_CHECKING."""
    tree = ast.parse(path.read_text())
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for n in node.orelse:
                visit(n)
            return
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in known:
                    out.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = base[: len(base) - node.level + 1]
                mod = ".".join(root + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod in known:
                out.add(mod)
            for a in node.names:  # "from . import plots" imports the module plots
                sub = f"{mod}.{a.name}"
                if sub in known:
                    out.add(sub)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(name)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    g = {}
    for name, path in mods.items():
        deps = imports(name, path, known)
        # importing a.b.c runs a/__init__ and a/b/__init__ first
        for d in list(deps):
            parts = d.split(".")
            deps |= {".".join(parts[:k]) for k in range(1, len(parts))} & known
        deps.discard(name)
        g[name] = {d for d in deps if not name.startswith(d + ".")}  # a parent is loaded already
    return g


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(g.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v) :] + [v]
            if v not in state:
                c = dfs(v)
                if c:
                    return c
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(g):
        if u not in state:
            c = dfs(u)
            if c:
                return c
    return None


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle)


def test_cycle_finder_sees_imports_inside_functions(tmp_path):
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    assert find_cycle(g) == ["a", "b", "c", "a"]
    src = tmp_path / "m.py"
    src.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .x import X\n"
        "def f():\n    from .y import Y\n"
    )
    assert imports("keirin_sim.m", src, {"keirin_sim.x", "keirin_sim.y"}) == {"keirin_sim.y"}


def test_only_the_command_line_imports_the_command_line():
    g = graph()
    offenders = [
        m
        for m, deps in g.items()
        if not m.startswith("keirin_sim.cli")
        and any(d == "keirin_sim.cli" or d.startswith("keirin_sim.cli.") for d in deps)
        and m != "keirin_sim.__main__"
    ]
    assert offenders == []


def test_no_module_over_800_lines():
    long = {
        name: n
        for name, path in modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
        and name.rsplit(".", 1)[-1] not in EXEMPT
    }
    assert long == {}, f"split these by concept: {long}"


def test_every_subpackage_is_installed():
    """``pip install .`` (not editable) ships every package of keirin_sim: pyproject.toml lists
    them one by one, so a new subpackage must be added there."""
    from keirin_sim.scenario import tomllib

    listed = set(
        tomllib.loads((PKG.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {module_name(p.parent / "__init__.py") for p in PKG.rglob("__init__.py")}
    assert found | {"keirin_sim.scenarios"} == listed
