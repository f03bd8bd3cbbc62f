"""The package's shape.  The layers (each package imports only those below it, imports inside
functions and under ``TYPE_CHECKING`` included) are import-linter's contract in pyproject.toml,
run here and in CI; this file adds what the tool does not check: no private name imported from
another module, no module over 800 lines, tests that mirror the packages, and a contract that
would fail if the layers were broken."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "keirin_sim"
MAX_LINES = 800
#: The compiled kernel is one numba-compiled unit: its step, event location and reflexes
#: call each other as jitted functions of one module, and splitting it would cost compile
#: caching across modules for no reader's gain.
EXEMPT = {"kernel"}
#: The layers, top to bottom, as the contract lists them.
LAYERS = [
    "cli",
    "plots",
    "questions",
    "montecarlo",
    "simulation",
    "scenario",
    "calibration",
    "behaviour",
    "engine",
    "results",
    "model",
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PKG.rglob("*.py")}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    return subprocess.run([exe], cwd=cwd, capture_output=True, text=True)


def test_contract_lists_every_layer():
    from keirin_sim.scenario.loading import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = cfg["contracts"][0]["layers"]
    assert layers[: len(LAYERS)] == [f"keirin_sim.{n}" for n in LAYERS]
    top = {p.stem for p in PKG.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    listed = {x.strip().split(".")[1] for layer in layers for x in layer.split("|")}
    assert top - {"__init__", "__main__", "scenarios", "__pycache__"} == listed


@pytest.mark.skipif(
    not (shutil.which("lint-imports") or (Path(sys.executable).parent / "lint-imports").exists()),
    reason="import-linter is a dev dependency",
)
def test_layers_contract_holds_and_catches_an_import_inside_a_function(tmp_path):
    ok = lint_imports(ROOT)
    assert ok.returncode == 0, ok.stdout[-2000:]
    # the same tree with one upward import hidden in a function breaks the contract
    shutil.copytree(PKG, tmp_path / "keirin_sim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    aero = tmp_path / "keirin_sim" / "model" / "aero.py"
    aero.write_text(aero.read_text() + "\n\ndef _up():\n    from keirin_sim.engine import kernel\n")
    env_path = f"{tmp_path}"
    bad = subprocess.run(
        [shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": str(Path(sys.executable).parent)},
    )
    assert bad.returncode != 0 and "keirin_sim.model.aero -> keirin_sim.engine.kernel" in bad.stdout


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keirin_sim"):
                offenders += [
                    f"{name}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
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


def test_tests_mirror_the_packages():
    """Every test of a layer's module lives in tests/<layer>/ (tests/engine/test_race.py);
    top-level modules' tests and the whole-project checks stay in tests/."""
    tests = ROOT / "tests"
    packages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    for d in tests.iterdir():
        if d.is_dir() and d.name not in ("data", "__pycache__"):
            assert d.name in packages, f"tests/{d.name} mirrors no package"
            mods = {p.stem for p in (PKG / d.name).glob("*.py")} | {d.name}
            for t in d.glob("test_*.py"):
                stem = t.stem.removeprefix("test_")
                assert any(stem == m or stem.startswith(m + "_") for m in mods), (
                    f"{t.relative_to(ROOT)} tests no module of keirin_sim/{d.name}/"
                )


def test_docs_layout_lists_every_module():
    page = (ROOT / "docs" / "layout.md").read_text()
    missing = [
        str(p.relative_to(ROOT))
        for p in PKG.rglob("*.py")
        if p.name != "__init__.py" and f"`{p.relative_to(ROOT)}`" not in page
    ]
    assert missing == []


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports anywhere: inside functions and under
    ``TYPE_CHECKING`` too (a typing import is still a dependency a reader must follow)."""
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in known}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = base[: len(base) - node.level + 1]
                mod = ".".join(root + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod in known:
                out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known}
    out.discard(name)
    return out


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


def test_no_import_cycles_between_modules():
    """The layers contract forbids upward imports between packages; within a package two
    modules must not import each other either (a package's ``__init__`` importing its own
    modules does not count: it is the package's table of contents)."""
    mods = modules()
    known = set(mods)
    g = {
        n: {d for d in _imports(n, p, known) if not n.startswith(d + ".") and d != "keirin_sim"}
        for n, p in mods.items()
        if p.name != "__init__.py"
    }
    cycle = find_cycle(g)
    assert cycle is None, " -> ".join(cycle)


def test_cycle_finder_finds_a_cycle_through_a_typing_import(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    src = tmp_path / "m.py"
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .x import X\n")
    assert _imports("keirin_sim.m", src, {"keirin_sim.x"}) == {"keirin_sim.x"}
