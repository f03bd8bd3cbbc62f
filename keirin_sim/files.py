"""Writing output files safely: a temporary file beside the target, renamed onto it when
complete, so an error or Ctrl-C never leaves a half-written file.  Used by the charts, the
batch storage and the command line alike."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


class OutputError(OSError):
    """An output file that cannot be written; the message is one line
    ``"<file>: <key>: cannot write: <reason>"``."""


def _line(path: Path, key: str, problem: str) -> str:
    return " ".join(f"{os.fspath(path)}: {key}: {problem}".split())


def write_atomically(
    path: str | os.PathLike[str], writer: Callable[[str], Any], key: str = "output"
) -> Path:
    """Call ``writer(tmp)`` to write a temporary file next to ``path`` (same extension, so
    format-by-extension writers work), then rename it onto ``path``.  On any error, Ctrl-C
    included, the temporary file is removed and ``path`` is untouched.  An ``OSError`` becomes
    an :class:`OutputError` naming the file."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".tmp{p.suffix}", dir=parent)
    except OSError as e:
        raise OutputError(_line(p, key, f"cannot write: {e.strerror or e}")) from None
    os.close(fd)
    try:
        writer(tmp)
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as e:
        raise OutputError(_line(p, key, f"cannot write: {e.strerror or e}")) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def write_text_atomically(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`write_atomically` for a small text file, flushed to disk before the rename."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    return write_atomically(path, write)


__all__ = ["OutputError", "write_atomically", "write_text_atomically"]
