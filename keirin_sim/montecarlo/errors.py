"""Why a batch cannot run or stopped early."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    pass


class BatchError(ValueError):
    """A batch that cannot run (bad output path, a mismatched ``--resume``, no Dask...).  The
    message is one line: ``"<file or option>: <key>: <problem>"``."""


class BatchInterrupted(RuntimeError):
    """The batch stopped early: ``reason`` is ``"interrupted"`` (Ctrl-C), ``"terminated"``
    (SIGTERM) or ``"worker died"``.  ``done`` of ``total`` runs are kept in ``out`` (and its
    ``.parts`` directory, for ``resume=True``)."""

    def __init__(self, reason: str, done: int, total: int, out: Path | None, detail: str = ""):
        self.reason, self.done, self.total, self.out = reason, done, total, out
        self.detail = detail
        where = (
            f"{done} of {total} runs kept in {out}; run again with --resume (resume=True) "
            "to complete them"
            if out is not None
            else f"{done} of {total} runs done, none kept (no output file)"
        )
        super().__init__(f"{reason}{f' ({detail})' if detail else ''}: {where}")

    @property
    def exit_code(self) -> int:
        return {"interrupted": 130, "terminated": 143}.get(self.reason, 1)
