"""The API reference pages (docs/api/*.md, built by tools/build-docs.sh) cover the package: every
public module is documented once, and each package's ``__all__`` is the list of names its page
gives, each pointing at the object the package exports.  Sphinx is not needed: the pages are
parsed here; the build itself (warnings as errors) checks that every reference resolves."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import keirin_sim

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"
PAGES = sorted(API.glob("*.md"))
AUTOMODULE = re.compile(r"^\.\. automodule:: ([\w.]+)\s*$", re.M)
NAME = re.compile(r"^- \{py:obj\}`([\w]+) <([\w.]+)>`\s*$", re.M)
TOCTREE = re.compile(r"```\{toctree\}\n(.*?)```", re.S)


def _public_modules() -> list[str]:
    out = ["keirin_sim"]
    for m in pkgutil.walk_packages(keirin_sim.__path__, "keirin_sim."):
        # keirin_sim.scenarios holds the shipped TOML files, no code
        if not any(part.startswith("_") for part in m.name.split(".")) and not m.name.endswith(
            ".scenarios"
        ):
            out.append(m.name)
    return sorted(out)


def _documented() -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for page in PAGES:
        for mod in AUTOMODULE.findall(page.read_text()):
            out.setdefault(mod, []).append(page)
    return out


def _package_pages() -> dict[str, Path]:
    """The page of each package: the one whose first automodule is that package."""
    out = {}
    for page in PAGES:
        mods = AUTOMODULE.findall(page.read_text())
        if mods:
            out[mods[0]] = page
    return out


def _packages_with_all() -> list[str]:
    out = []
    for name in _public_modules():
        mod = importlib.import_module(name)
        if hasattr(mod, "__path__") and hasattr(mod, "__all__"):
            out.append(name)
    return out


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for name in parts[k:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(dotted)


def test_api_pages_exist():
    assert (API / "index.md").is_file()
    assert len(PAGES) >= 10
    assert "keirin_sim" in _package_pages()


def test_every_public_module_is_documented_once():
    documented = _documented()
    missing = [m for m in _public_modules() if m not in documented]
    assert not missing, f"modules without an automodule on docs/api/*.md: {missing}"
    twice = {m: [p.name for p in pages] for m, pages in documented.items() if len(pages) > 1}
    assert not twice, f"modules documented on more than one page: {twice}"
    unknown = [m for m in documented if m not in _public_modules()]
    assert not unknown, f"docs/api/*.md documents modules that do not exist: {unknown}"


@pytest.mark.parametrize("package", _packages_with_all())
def test_all_is_the_documented_list(package):
    page = _package_pages().get(package)
    assert page is not None, f"{package} has __all__ but no page in docs/api/ starts with it"
    names = NAME.findall(page.read_text())
    documented = [n for n, _ in names]
    exported = importlib.import_module(package).__all__
    assert len(documented) == len(set(documented)), f"{page.name} lists a name twice"
    assert sorted(documented) == sorted(exported), (
        f"{page.name}: not documented {sorted(set(exported) - set(documented))}, "
        f"not in {package}.__all__ {sorted(set(documented) - set(exported))}"
    )
    pkg = importlib.import_module(package)
    for name, target in names:
        assert _resolve(target) is getattr(pkg, name), f"{page.name}: {name} -> {target}"


def test_every_api_page_is_in_the_api_toctree():
    (toc,) = TOCTREE.findall((API / "index.md").read_text())
    listed = {line.strip() for line in toc.splitlines() if line.strip() and ":" not in line}
    assert listed == {p.stem for p in PAGES if p.stem != "index"}


def test_the_docs_index_links_the_api_reference():
    assert "(api/index.md)" in (ROOT / "docs" / "index.md").read_text()
