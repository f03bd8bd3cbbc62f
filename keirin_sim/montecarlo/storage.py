"""The rows on disk: the output file (Parquet or CSV), the ``<out>.parts/`` chunk files of an
unfinished batch, the fingerprint that lets ``--resume`` complete only the same batch.

swept parameters, not from noise).

Rows (one per race, see :func:`.runner.run_batch`) are written a chunk at a time into
``<out>.parts/`` (one complete Parquet file per chunk, renamed into place) and joined into
``out`` (Parquet or CSV by extension) at the end; an interrupted batch (Ctrl-C, SIGTERM, a killed
worker) writes what it has into ``out`` and keeps ``<out>.parts/``; after SIGKILL the chunk
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keirin_sim.files import write_text_atomically
from keirin_sim.montecarlo.errors import BatchError
from keirin_sim.montecarlo.schema import FORMAT_VERSION
from keirin_sim.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

    from keirin_sim.montecarlo.jobs import Job

#: Output formats by extension.
OUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


# --- chunk files -----------------------------------------------------------------------------
_CHUNK_RE = re.compile(r"^chunk-(\d{6})-(\d{10})\.parquet$")


def parts_dir(out: str | os.PathLike[str]) -> Path:
    """The directory where a batch writing ``out`` keeps its chunks until it completes."""
    p = Path(out)
    return p.with_name(p.name + ".parts")


class ChunkParts:
    """``<out>.parts/``: ``meta.json`` (what the batch is) and one Parquet file per finished
    chunk, each written to a temporary name, flushed and renamed (so it is complete or absent,
    whatever kills the process)."""

    def __init__(self, out: Path, meta: dict[str, Any]):
        self.out, self.dir, self.meta = out, parts_dir(out), meta

    def open(self, resume: bool) -> dict[str, Any]:
        mf = self.dir / "meta.json"
        if self.dir.exists():
            if not resume:
                raise BatchError(
                    f"{self.dir}: --resume: holds an unfinished batch: add --resume "
                    "to complete it, or delete the directory"
                )
            try:
                old = json.loads(mf.read_text())
            except (OSError, ValueError):
                old = None
            if not isinstance(old, dict) or old.get("fingerprint") != self.meta["fingerprint"]:
                what = ""
                if isinstance(old, dict):
                    what = f" (seed {old.get('seed')}, {old.get('runs')} runs"
                    what += f", {old.get('points')} points)" if old.get("points", 1) > 1 else ")"
                raise BatchError(
                    f"{self.dir}: --resume: was written by a different batch{what}: use the same "
                    "scenario, seed, runs, options and keirin-sim version, or delete it"
                )
            self.meta = old
            return old
        self.dir.mkdir()
        write_text_atomically(mf, json.dumps(self.meta, indent=1))
        return self.meta

    def done(self) -> list[tuple[int, int]]:
        out = []
        for p in self.dir.iterdir():
            m = _CHUNK_RE.match(p.name)
            if m:
                out.append((int(m.group(1)), int(m.group(2))))
        return sorted(out)

    def path(self, key: tuple[int, int]) -> Path:
        return self.dir / f"chunk-{key[0]:06d}-{key[1]:010d}.parquet"

    def write(self, key: tuple[int, int], table: pa.Table) -> None:
        import pyarrow.parquet as pq

        final = self.path(key)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(table, fh, compression="lz4")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()

    def read(self, key: tuple[int, int]) -> pa.Table:
        import pyarrow.parquet as pq

        # not pq.read_table: it goes through pyarrow.dataset, which imports pandas
        with pq.ParquetFile(self.path(key)) as f:
            return f.read()

    def consolidate(self, schema: pa.Schema, fmt: str) -> None:
        """Join the finished chunks, in run order, into ``out`` (atomically)."""
        keys = self.done()

        def tables() -> Iterator[pa.Table]:
            for k in keys:
                t = self.read(k)
                # the parts were written with this schema (cast would import pyarrow.compute)
                yield t if t.schema.equals(schema) else t.cast(schema)

        _write_rows(self.out, fmt, schema, tables())

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _write_rows(out: Path, fmt: str, schema: pa.Schema, tables: Iterable[pa.Table]) -> None:
    """Stream ``tables`` into ``out`` (Parquet row groups of about 64k rows, or CSV) through a
    temporary file renamed at the end."""
    import pyarrow as pa

    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
                buf: list[pa.Table] = []
                rows = 0
                for t in tables:
                    buf.append(t)
                    rows += t.num_rows
                    if rows >= 65536:
                        w.write_table(pa.concat_tables(buf))
                        buf, rows = [], 0
                if buf or not w:
                    w.write_table(pa.concat_tables(buf) if buf else schema.empty_table())
        else:
            import pyarrow.csv as pcsv

            with pcsv.CSVWriter(tmp, schema) as w:
                for t in tables:
                    w.write_table(t)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if fmt == "csv":  # CSV has no metadata of its own: a sidecar beside it
            meta = (schema.metadata or {}).get(b"keirin_sim", b"{}").decode()
            write_text_atomically(sidecar(out), json.dumps(json.loads(meta), indent=1))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def sidecar(out: str | os.PathLike[str]) -> Path:
    """Where a CSV batch file's metadata is kept (``runs.csv`` -> ``runs.csv.meta.json``);
    a Parquet file keeps it in its own schema metadata."""
    p = Path(out)
    return p.with_name(p.name + ".meta.json")


def batch_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """How a batch file was made (scenario, seed, runs, step, version, attacker...): from the
    Parquet schema's metadata or a CSV file's sidecar; ``{}`` when it records nothing."""
    p = Path(path)
    if OUT_FORMATS.get(p.suffix.lower()) == "csv":
        try:
            return json.loads(sidecar(p).read_text())
        except (OSError, ValueError):
            return {}
    import pyarrow.parquet as pq

    meta = (pq.read_schema(p).metadata or {}).get(b"keirin_sim")
    return json.loads(meta) if meta else {}


class BatchLock:
    """``<out>.lock``: one batch at a time writes ``out`` and its ``.parts``.  A
    :class:`filelock.SoftFileLock`: the file records the writer's pid and host, a lock whose
    process is gone (on this host) is taken over, and the file is removed on release."""

    def __init__(self, out: Path):
        self.path = out.with_name(out.name + ".lock")
        self._lock: Any = None

    @property
    def held(self) -> bool:
        return self._lock is not None

    def __enter__(self) -> BatchLock:
        from filelock import SoftFileLock, Timeout

        lock = SoftFileLock(self.path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            pid = lock.pid
            who = f"pid {pid}" if pid is not None else "another process"
            raise BatchError(
                f"{self.path.with_suffix('')}: --out: another keirin-sim batch ({who}) is "
                "writing this file: wait for it to finish, or choose another --out"
            ) from None
        except OSError as e:
            raise BatchError(
                f"{self.path}: --out: cannot create the lock: {e.strerror or e}"
            ) from None
        self._lock = lock
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._lock is not None:
            try:
                self._lock.release(force=True)
            except OSError:
                pass
            self._lock = None


def point_values(path: str | os.PathLike[str], point: int, params: list[str]) -> dict | None:
    """The swept values of grid point ``point`` in a sweep's file (None: no such point),
    read from those columns alone."""
    p = Path(path)
    cols = ["point", *params]
    if OUT_FORMATS.get(p.suffix.lower()) == "csv":
        import pandas as pd

        df = pd.read_csv(p, usecols=cols, float_precision="round_trip")
        rows = df[df["point"] == point]
        if rows.empty:
            return None
        return {k: rows.iloc[0][k].item() for k in params}
    import pyarrow.parquet as pq

    t = pq.read_table(p, columns=cols, filters=[("point", "==", point)])
    if not t.num_rows:
        return None
    return {k: t.column(k)[0].as_py() for k in params}


class IncompleteBatchWarning(UserWarning):
    """The file holds an interrupted batch: fewer rows than its ``runs`` (its metadata has
    ``complete: false`` and ``runs_done``); ``--resume`` completes it."""


def load_runs(path: str | os.PathLike[str], *, incomplete: str = "warn") -> pd.DataFrame:
    """Read the rows a batch wrote (Parquet or CSV) into a DataFrame; ``df.attrs`` holds the
    batch's metadata (scenario, seed, runs, attacker; ``complete`` and ``runs_done``).

    ``incomplete``: what an interrupted batch's file does: ``"warn"`` (an
    :class:`IncompleteBatchWarning`), ``"raise"`` (a :class:`BatchError`) or ``"ignore"``."""
    import pandas as pd

    if incomplete not in ("warn", "raise", "ignore"):
        raise BatchError(f"keirin-sim: incomplete: {incomplete!r}: use 'warn', 'raise' or 'ignore'")
    p = Path(path)
    if OUT_FORMATS.get(p.suffix.lower()) == "csv":
        df = pd.read_csv(p, float_precision="round_trip")
        df.attrs.update(batch_metadata(p))
    else:
        import pyarrow.parquet as pq

        t = pq.read_table(p)
        df = t.to_pandas()
        meta = (t.schema.metadata or {}).get(b"keirin_sim")
        if meta:
            df.attrs.update(json.loads(meta))
    if df.attrs.get("complete") is False and incomplete != "ignore":
        total = int(df.attrs.get("runs", 0)) * int(df.attrs.get("points", 1) or 1)
        msg = (
            f"{p}: an interrupted batch: {df.attrs.get('runs_done', len(df))} of {total} runs "
            "(complete it with the same command and --resume)"
        )
        if incomplete == "raise":
            raise BatchError(msg)
        import warnings

        warnings.warn(msg, IncompleteBatchWarning, stacklevel=2)
    return df


def job_fingerprint(job: Job) -> str:
    # another engine gives other rows: never resume across versions
    h = hashlib.sha256()
    for part in (
        job.kind,
        job.seed,
        job.runs,
        job.attacker,
        job.params,
        FORMAT_VERSION,
        __version__,
    ):
        h.update(repr(part).encode())
    for pt in job.points:
        h.update(repr(dataclasses.replace(pt.base, source="")).encode())
        h.update(repr(pt.values).encode())
        h.update(repr(pt.plan.columns).encode())
        for a in (pt.plan.lo, pt.plan.hi, pt.plan.mu, pt.plan.sd, pt.plan.ulo, pt.plan.uw):
            h.update(a.tobytes())
        h.update(repr(pt.plan.lot).encode())
        if pt.plan.lot_slots:
            h.update(repr(pt.plan.lot_slots).encode())
    return h.hexdigest()


def check_out_path(out: str | os.PathLike[str] | None) -> tuple[Path | None, str | None]:
    if out is None:
        return None, None
    p = Path(out)
    fmt = OUT_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise BatchError(
            f"{p}: --out: extension {p.suffix or '(none)'!r}: use {', '.join(OUT_FORMATS)}"
        )
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise BatchError(f"{p}: --out: directory {os.fspath(parent)!r} does not exist")
    if p.is_dir():
        raise BatchError(f"{p}: --out: is a directory")
    return p, fmt
