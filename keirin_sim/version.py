"""The package's version, from its installed metadata (``pyproject.toml`` is the one place it is
written); a plain checkout run with ``PYTHONPATH=.`` reads that file instead."""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _version() -> str:
    try:
        return version("keirin-sim")
    except PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        m = re.search(r'(?m)^version\s*=\s*"([^"]+)"', pyproject.read_text(encoding="utf-8"))
        return m.group(1) if m else "0+unknown"


#: The version of keirin-sim (``keirin-sim --version`` prints it).
__version__ = _version()
