"""Where numba caches the compiled kernel, when the usual places are not writable.

numba caches beside the source (``__pycache__``), else in the user's cache directory
(``NUMBA_CACHE_DIR``, else ``~/.cache``); an install read-only to its user, run with no writable
home, has neither, and ``@njit(cache=True)`` then fails at import ("cannot cache function").
:func:`cache_setting` probes once with a function of the kernel's own file and falls back to a
private directory under the temporary directory, or to no cache at all, saying so in one line.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _can_cache(probe: Callable[..., Any]) -> bool:
    from numba import njit

    try:
        njit(cache=True)(probe)
    except RuntimeError as e:
        if "cannot cache" not in str(e):
            raise
        return False
    return True


def _private_dir() -> Path | None:
    """``<tmp>/keirin-sim-numba-<uid>``, made ours alone (mode 700); None when it cannot be,
    or when someone else made it (a cache is code this process will run)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    d = Path(tempfile.gettempdir()) / f"keirin-sim-numba-{uid}"
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        st = d.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o022:
        return None
    if hasattr(os, "getuid") and st.st_uid != uid:
        return None
    return d


def cache_setting(probe: Callable[..., Any], where: str) -> bool:
    """Whether the kernel (defined in the file of ``probe``, described as ``where``) may be
    compiled with ``cache=True``: numba's own places first, then a private temporary
    directory (exported as ``NUMBA_CACHE_DIR``, so worker processes use it too), else no
    cache; a fallback prints one ``keirin-sim: note:`` line on standard error."""
    if _can_cache(probe):
        return True
    import numba

    tried = os.environ.get("NUMBA_CACHE_DIR") or "~/.cache"
    d = _private_dir()
    if d is not None:
        old = numba.config.CACHE_DIR
        numba.config.CACHE_DIR = str(d)
        if _can_cache(probe):
            os.environ["NUMBA_CACHE_DIR"] = str(d)
            print(
                f"keirin-sim: note: numba cannot write its cache beside {where} nor in {tried}: "
                f"caching the compiled kernel in {d} (set NUMBA_CACHE_DIR to choose)",
                file=sys.stderr,
            )
            return True
        numba.config.CACHE_DIR = old
    if not os.environ.get("KEIRIN_SIM_NO_CACHE_NOTED"):
        os.environ["KEIRIN_SIM_NO_CACHE_NOTED"] = "1"  # once, not again in each worker
        print(
            f"keirin-sim: note: numba cannot write its cache beside {where}, in {tried} nor in "
            f"{tempfile.gettempdir()}: compiling the kernel afresh in each process (set "
            "NUMBA_CACHE_DIR to a writable directory)",
            file=sys.stderr,
        )
    return False
