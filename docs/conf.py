"""Sphinx configuration: the Markdown pages of docs/ as they are (MyST), the API reference from
the docstrings (autodoc) and the notebooks as stored (myst-nb, not executed).

Build: ``bash tools/build-docs.sh`` (or ``python -m sphinx -W --keep-going -b html docs
docs/_build/html``); warnings are errors, and ``nitpicky`` makes every cross-reference that
does not resolve a warning.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # a plain checkout builds too

from keirin_sim.version import __version__  # noqa: E402

project = "keirin-sim"
author = "The keirin-sim developers"
copyright = "the keirin-sim developers"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "myst_nb"]

root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# --- the pages ------------------------------------------------------------------------------
# The Markdown pages are written for GitHub too: there they link to the README, the changelog,
# the notebooks and scenario files by relative paths outside docs/.  On the site the notebooks
# are pages (copied into docs/notebooks/, not executed: rendered as stored) and the other files
# are links to the repository.
REPO_BLOB = "https://github.com/keirin-sim/keirin-sim/blob/main/"
NOTEBOOKS = ROOT / "notebooks"
SITE_NOTEBOOKS = DOCS / "notebooks"  # generated; in .gitignore


def _copy_notebooks() -> list[str]:
    SITE_NOTEBOOKS.mkdir(exist_ok=True)
    names = []
    for nb in sorted(NOTEBOOKS.glob("*.ipynb")):
        target = SITE_NOTEBOOKS / nb.name
        if not target.exists() or target.read_bytes() != nb.read_bytes():
            shutil.copyfile(nb, target)
        names.append(f"notebooks/{nb.stem}")
    for stale in SITE_NOTEBOOKS.glob("*.ipynb"):
        if not (NOTEBOOKS / stale.name).exists():
            stale.unlink()
    return names


NOTEBOOK_PAGES = _copy_notebooks()
PAGES = [p.stem for p in sorted(DOCS.glob("*.md")) if p.stem != "index"]
TOCTREE = "\n".join(
    [
        "",
        "```{toctree}",
        ":hidden:",
        ":maxdepth: 2",
        "",
        *PAGES,
        "api/index",
        *NOTEBOOK_PAGES,
        "```",
        "",
    ]
)
LINK = re.compile(r"\]\(\.\./([^)\s]+)\)")


def _site_links(app, docname: str, source: list[str]) -> None:
    """Point the pages' links out of docs/ at the rendered notebooks or the repository, and give
    the index page the site's table of contents."""

    def target(m: re.Match[str]) -> str:
        path = m.group(1)
        if path.startswith("notebooks/") and path.split("#")[0].endswith(".ipynb"):
            return f"]({path})"
        return f"]({REPO_BLOB}{path})"

    if docname.startswith("notebooks/"):
        return
    source[0] = LINK.sub(target, source[0])
    if docname == root_doc:
        source[0] += TOCTREE


# --- names as the code reads them ---------------------------------------------------------
# A docstring names things the way its module's code does: ``:class:`Result``` where the module
# imported Result, ``:func:`keirin_sim.montecarlo.run_batch``` through the package that
# re-exports it.  Sphinx knows each object only where it is defined, so a reference it cannot
# find is looked up as Python would (the module's namespace, its imports under TYPE_CHECKING,
# then attributes) and sent to the object's defining module.  What that lookup cannot find
# stays a warning, and so an error: a name that does not exist.
def _imports(module: ModuleType) -> dict[str, str]:
    """The names a module's top-level (and ``if TYPE_CHECKING:``) imports bind."""
    out: dict[str, str] = {}
    try:
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    except (OSError, SyntaxError):  # pragma: no cover
        return out
    body = list(tree.body)
    for stmt in tree.body:
        if isinstance(stmt, ast.If):
            body.extend(stmt.body)
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
            for a in stmt.names:
                out[a.asname or a.name] = f"{stmt.module}.{a.name}"
        elif isinstance(stmt, ast.Import):
            for a in stmt.names:
                out[a.asname or a.name.split(".")[0]] = a.asname and a.name or a.name.split(".")[0]
    return out


def _attr(owner: Any, name: str) -> Any:
    if hasattr(owner, name):
        return getattr(owner, name)
    if isinstance(owner, ModuleType):
        dotted = _imports(owner).get(name)
        if dotted:
            return _load(dotted)
    if name in getattr(owner, "__dataclass_fields__", {}):
        return None  # a field without a class-level value
    raise AttributeError(name)


def _load(dotted: str) -> Any:
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for name in parts[k:]:
            obj = _attr(obj, name)
        return obj
    raise ImportError(dotted)


def _canonical(target: str, modname: str | None) -> tuple[str, Any] | None:
    """``(dotted path where it is defined, object)`` of a name as module ``modname`` reads it."""
    parts = target.lstrip(".~").split(".")
    starts: list[tuple[Any, str, list[str]]] = []
    if modname:
        try:
            starts.append((importlib.import_module(modname), modname, parts))
        except ImportError:
            pass
    for k in range(len(parts), 0, -1):
        try:
            starts.append(
                (importlib.import_module(".".join(parts[:k])), ".".join(parts[:k]), parts[k:])
            )
            break
        except ImportError:
            continue
    for obj, path, rest in starts:
        try:
            for name in rest:
                owner, obj = obj, _attr(obj, name)
                if isinstance(obj, ModuleType):
                    path = obj.__name__
                elif isinstance(obj, type) or inspect.isroutine(obj):
                    path = f"{getattr(obj, '__module__', '')}.{obj.__qualname__}"
                elif isinstance(owner, ModuleType) and name in _imports(owner):
                    path = _imports(owner)[name]  # data imported from where it is defined
                else:
                    path = f"{path}.{name}"
        except (AttributeError, ImportError):
            continue
        return path, obj
    return None


def _resolve(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    if node.get("refdomain") != "py":
        return None
    found = _canonical(node["reftarget"], node.get("py:module"))
    if found is None:
        return None
    path, obj = found
    if not path.startswith("keirin_sim") or isinstance(obj, TypeVar):
        return contnode  # another project's name (no intersphinx offline) or a type variable
    if path == node["reftarget"]:
        return None
    py = env.get_domain("py")
    return py.resolve_xref(env, node["refdoc"], app.builder, "obj", path, node, contnode)


def _signature(
    app: Any, what: str, name: str, obj: Any, options: Any, sig: str | None, ret: str | None
):
    """A dataclass field with a ``default_factory`` shows as ``<factory>``, which is not Python:
    Sphinx then cannot parse the signature (nor link its types).  Show ``...`` instead."""
    if sig and "<factory>" in sig:
        return sig.replace("<factory>", "..."), ret
    return None


def setup(app: Any) -> None:
    app.connect("source-read", _site_links)
    app.connect("autodoc-process-signature", _signature)
    app.connect("missing-reference", _resolve)


# --- MyST and the notebooks -----------------------------------------------------------------
nb_execution_mode = "off"  # the notebooks as stored: tests/test_notebooks.py runs them
myst_heading_anchors = 3  # the pages link to #headings as GitHub does

# --- autodoc --------------------------------------------------------------------------------
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = False

# every reference must resolve: only names from other projects (no network for intersphinx in
# CI) and private helpers that appear in signatures are let through
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|pandas|pd|matplotlib|simpy|pyarrow|pa|dask|distributed|SALib)(\..*)?"),
    (r"py:.*", r"(typing|collections\.abc|pathlib|argparse|dataclasses|concurrent|os)\..*"),
    (r"py:.*", r".*\._(?!_)\w+"),  # private helpers named in signatures (not __dunders__)
]

html_theme = "alabaster"
html_title = f"keirin-sim {release}"
