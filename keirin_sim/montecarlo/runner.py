"""Running a batch: :func:`run_batch` (Monte Carlo), :func:`sweep` (a grid), and replaying one
run alone (:func:`sample_run`, :func:`replay_run`)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keirin_sim.montecarlo.errors import BatchError, BatchInterrupted
from keirin_sim.montecarlo.executors import (
    DaskExecutor,
    PoolExecutor,
    SerialExecutor,
    Task,
    worker_count,
)
from keirin_sim.montecarlo.jobs import (
    IneffectiveParameterWarning,
    Job,
    Point,
    check_runs,
    check_seed,
    check_total,
    ineffective_params,
    mc_job,
    resolve_scenario,
    sweep_job,
)
from keirin_sim.montecarlo.sampling import apply_inputs, sample_inputs
from keirin_sim.montecarlo.schema import row_columns, rows_schema, rows_table, tidy_rows
from keirin_sim.montecarlo.storage import (
    BatchLock,
    ChunkParts,
    batch_metadata,
    check_out_path,
    job_fingerprint,
    load_runs,
)
from keirin_sim.montecarlo.summary import Accumulator, Summary
from keirin_sim.scenario.scenario import Scenario
from keirin_sim.simulation import simulate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

    from keirin_sim.results.result import Result


#: Largest chunk of runs one task simulates.
MAX_CHUNK = 1000


# --- running ---------------------------------------------------------------------------------
@dataclass
class Batch:
    """A finished batch: ``summary`` and the rows as a DataFrame (:meth:`to_dataframe`; read
    from ``out`` on first use when the rows were streamed to a file)."""

    summary: Summary
    out: Path | None = None
    _df: Any = None

    def to_dataframe(self, long: bool = False) -> pd.DataFrame:
        """The rows: one per race, wide, as written to Parquet (the columns are listed in
        :func:`run_batch`); ``long=True``: tidy, one row per race and rider
        (:func:`~keirin_sim.montecarlo.schema.tidy_rows`: ``run``, ``rider``, ``start``,
        ``place``, ``time_s``, ``margin_s``, after a sweep's ``point`` and parameters)."""
        if self._df is None:
            if self.out is None:  # pragma: no cover
                raise ValueError("no rows")
            self._df = load_runs(self.out)
        return tidy_rows(self._df) if long else self._df

    @property
    def df(self) -> pd.DataFrame:
        """The wide rows, :meth:`to_dataframe` (kept for code written before it)."""
        return self.to_dataframe()

    def __repr__(self) -> str:
        s = self.summary
        top = sorted(s.win_probability.items(), key=lambda kv: -kv[1])[:3]
        best = ", ".join(f"{r} {p:.1%}" for r, p in top)
        where = f"; rows in {self.out}" if self.out else ""
        return f"<Batch {s.runs} runs, seed {s.seed}: {best}{where}>"


class _WriteFailed(Exception):
    """A chunk file could not be written (its OSError is the argument)."""


def _consolidate(parts: ChunkParts, schema: Any, fmt: str, done: int, complete: bool) -> None:
    """Join the chunks into ``out``; its metadata says whether the batch is complete and
    how many runs it holds (``complete``, ``runs_done`` beside ``runs``), and the batch's
    fingerprint (so that ``--resume`` can tell a finished batch)."""
    meta = json.loads(schema.metadata[b"keirin_sim"])
    meta.update(complete=complete, runs_done=done, fingerprint=parts.meta["fingerprint"])
    schema = schema.with_metadata({**schema.metadata, b"keirin_sim": json.dumps(meta)})
    try:
        parts.consolidate(schema, fmt)
    except OSError as e:
        raise BatchError(
            f"{parts.out}: --out: cannot write: {e.strerror or e}; the finished chunks are "
            f"kept in {parts.dir}: run again with --resume"
        ) from None


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread while a batch runs."""


def _chunk_size(job: Job, slots: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise BatchError(
                f"keirin-sim: chunk_size: must be a positive integer, got {chunk_size!r}"
            )
        return min(chunk_size, job.runs)
    # sixteen chunks a worker: the last ones leave little idle time at the end
    target = math.ceil(job.total / (16 * slots))
    return max(1, min(MAX_CHUNK, job.runs, max(25, target)))


def _finished(path: Path, fingerprint: str) -> bool:
    """Whether ``path`` holds this very batch, complete."""
    if not path.is_file():
        return False
    try:
        meta = batch_metadata(path)
    except Exception:  # not a batch file: the caller's message says what to do
        return False
    return meta.get("fingerprint") == fingerprint and meta.get("complete") is True


def _read_chunk(parts: ChunkParts, key: tuple[int, int], job: Job, size: int) -> pa.Table:
    """A finished chunk of an unfinished batch, checked: one line naming a damaged file (cut
    short by a full disk, a copy, a hand) and how to race its runs again."""
    import pyarrow as pa

    point, a = key
    path = parts.path(key)
    b = min(a + size, job.runs)
    again = (
        f"delete it and run again with --resume to race its runs {a}-{b - 1}"
        + (f" of point {point}" if len(job.points) > 1 else "")
        + " again"
    )
    if point >= len(job.points) or a % size or a >= job.runs:
        raise BatchError(
            f"{path}: --resume: not a chunk of this batch (chunk size {size}, {job.runs} runs"
            f"{f', {len(job.points)} points' if len(job.points) > 1 else ''}): delete it"
        )
    try:
        table = parts.read(key)
    except (OSError, ValueError, pa.ArrowException) as e:
        why = " ".join(str(e).split())[:120]
        raise BatchError(f"{path}: --resume: damaged chunk ({why}): {again}") from None
    if table.num_rows != b - a:
        raise BatchError(
            f"{path}: --resume: damaged chunk ({table.num_rows} rows, {b - a} expected): {again}"
        )
    return table


def _tasks(job: Job, size: int, done: set[tuple[int, int]]) -> Iterator[Task]:
    """The chunks still to run, generated as the executor asks for them (a few in flight):
    memory does not grow with ``runs``."""
    for pt in job.points:
        for a in range(0, job.runs, size):
            if (pt.index, a) not in done:
                yield (pt, a, min(a + size, job.runs))


def _execute(
    job: Job,
    *,
    workers: int | None,
    scheduler: Any,
    out: str | os.PathLike[str] | None,
    resume: bool,
    progress: bool | None,
    chunk_size: int | None,
) -> Batch:
    t0 = time.perf_counter()
    check_total(job)
    path, fmt = check_out_path(out)
    if resume and path is None:
        raise BatchError("keirin-sim: resume: needs an output file (out) to complete")
    if scheduler is not None and workers is not None:
        raise BatchError("keirin-sim: scheduler: cannot be combined with workers")
    if scheduler is not None:
        runner: Any = DaskExecutor(job.seed, job.params, scheduler)
    else:
        w = worker_count(workers)
        runner = (
            SerialExecutor(job.seed, job.params)
            if w == 1
            else PoolExecutor(job.seed, job.params, w)
        )
    schema = rows_schema(job)
    acc = Accumulator(job.names, job.attacker, len(job.points))
    parts = None
    tables: dict[tuple[int, int], pa.Table] = {}
    done_keys: set[tuple[int, int]] = set()
    # the .parts folder records what the rows' metadata does, and the fingerprint
    meta: dict[str, Any] = {
        **json.loads(schema.metadata[b"keirin_sim"]),
        "fingerprint": job_fingerprint(job),
    }
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    reason, detail = None, ""
    main = threading.current_thread() is threading.main_thread()
    old = signal.getsignal(signal.SIGTERM) if main else None

    def on_term(signum: int, frame: Any) -> None:
        raise _Terminated()

    lock: Any = BatchLock(path) if path is not None else contextlib.nullcontext()
    resumed = 0
    try:
        with lock, runner:
            size = chunk_size
            if path is not None:
                parts = ChunkParts(path, {**meta, "chunk_size": None})
                if resume and not parts.dir.exists() and _finished(path, meta["fingerprint"]):
                    raise BatchError(
                        f"{path}: --resume: this batch is already complete ({job.total} runs): "
                        "nothing to resume"
                    )
                if resume and not parts.dir.exists():
                    raise BatchError(
                        f"{parts.dir}: --resume: no unfinished batch to complete (the folder "
                        "does not exist): run without --resume"
                    )
                if parts.dir.exists() and resume:
                    got = parts.open(True)
                    size = int(got["chunk_size"])
                else:
                    size = _chunk_size(job, runner.slots, chunk_size)
                    parts.meta["chunk_size"] = size
                    parts.open(resume)
                for key in parts.done():
                    done_keys.add(key)
                    acc.add(row_columns(_read_chunk(parts, key, job, size)))
                resumed = int(acc.runs.sum())
            else:
                size = _chunk_size(job, runner.slots, chunk_size)
            tasks = _tasks(job, size, done_keys)
            if main:
                signal.signal(signal.SIGTERM, on_term)
            if show:
                bar = progress_bar(job.total, int(acc.runs.sum()))
            if len(done_keys) < sum(math.ceil(job.runs / size) for _ in job.points):
                runner.start(job.points[0])
            for t, cols in runner.run(tasks):
                key = (t[0].index, t[1])
                table = rows_table(schema, cols)
                if parts is not None:
                    try:
                        parts.write(key, table)
                    except OSError as e:
                        raise _WriteFailed(e) from None
                else:
                    tables[key] = table
                acc.add(cols)
                if bar is not None:
                    bar.update(t[2] - t[1])
    except _WriteFailed as w:
        e = w.args[0]
        done = int(acc.runs.sum())
        raise BatchError(
            f"{parts.dir if parts else path}: --out: cannot write a chunk: "
            f"{e.strerror or e}; the {done} runs finished are kept there: make it writable "
            "and run again with --resume"
        ) from None
    except KeyboardInterrupt:
        reason = "interrupted"
    except _Terminated:
        reason = "terminated"
    except Exception as e:
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(e, BrokenProcessPool) or type(e).__name__ == "KilledWorker":
            reason, detail = "worker died", " ".join(str(e).split())[:200]
        else:
            raise
    finally:
        if main:
            signal.signal(signal.SIGTERM, old if old is not None else signal.SIG_DFL)
        if bar is not None:
            bar.close()
    if reason is not None:
        if parts is not None:
            _consolidate(parts, schema, fmt, int(acc.runs.sum()), False)
        raise BatchInterrupted(reason, int(acc.runs.sum()), job.total, path, detail)
    summary = acc.summary(job)
    summary.races_run = int(acc.runs.sum()) - resumed
    summary.elapsed_s = time.perf_counter() - t0
    if parts is not None:
        _consolidate(parts, schema, fmt, int(acc.runs.sum()), True)
        parts.remove()
        return Batch(summary, path)
    import pyarrow as pa

    df = pa.concat_tables([tables[k] for k in sorted(tables)] or [schema.empty_table()])
    frame = df.to_pandas()
    frame.attrs.update(json.loads(schema.metadata[b"keirin_sim"]))
    summary.elapsed_s = time.perf_counter() - t0
    return Batch(summary, None, frame)


def progress_bar(total: int, initial: int) -> Any:
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0  # no monitor thread: worker processes may be forked after this

    return Bar(
        total=total,
        initial=initial,
        unit="race",
        file=sys.stderr,
        ncols=min(100, shutil.get_terminal_size((80, 24)).columns or 80),
        smoothing=0.05,
        leave=False,
    )


def run_batch(
    scenario: Scenario | str | os.PathLike[str] | None,
    runs: int,
    seed: int,
    workers: int | None = None,
    scheduler: Any = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    attacker: str | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
) -> Batch:
    """Run ``runs`` races of ``scenario`` (a :class:`Scenario` or a path) with inputs drawn
    from its ``[uncertainty]`` section; returns a :class:`Batch` (``.to_dataframe()``: the rows;
    ``.summary``).

    ``seed``: run ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))``, so the rows are the
    same for any ``workers`` (default all cores; 1 runs in this process), any ``scheduler``
    (a Dask address ``"tcp://host:8786"`` or a ``dask.distributed.Client``) and any
    ``chunk_size``.  ``out`` (``.parquet``/``.pq``/``.csv``) streams the rows to disk a chunk at
    a time (memory stays flat); ``resume`` completes an interrupted batch with the same
    arguments.  ``attacker`` replaces the scenario's attacker (for the catch point and for
    ``field``).  ``progress``: a bar on stderr (default: when stderr is a terminal).

    Row columns: ``run``; one per sampled input (``"<rider>.<field>"``, ``air_density``);
    ``start.<rider>`` (start position, when drawn by lot); ``winner``, ``winning_margin_s``;
    ``pos.<rider>`` (1 = winner), ``time.<rider>`` (finish time, s), ``margin.<rider>`` (s
    behind the winner); ``caught`` (the attacker was caught), ``catch_m_to_go``,
    ``catch_time_s``, ``caught_by``; ``error`` (set for a race the engine could not finish;
    such runs are left out of the probabilities).

    Raises :class:`~keirin_sim.scenario.ScenarioError` or :class:`BatchError` (bad input, one
    line) and :class:`BatchInterrupted` (Ctrl-C, SIGTERM, a dead worker: finished chunks kept).
    """
    sc = resolve_scenario(scenario, attacker)
    job = mc_job(sc, check_runs(runs), check_seed(seed), attacker)
    return _execute(
        job,
        workers=workers,
        scheduler=scheduler,
        out=out,
        resume=resume,
        progress=progress,
        chunk_size=chunk_size,
    )


def sweep(
    scenario: Scenario | str | os.PathLike[str] | None,
    params: Sequence[str] | Mapping[str, Any] | str | None,
    runs: int,
    seed: int,
    workers: int | None = None,
    scheduler: Any = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    attacker: str | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
) -> Batch:
    """:func:`run_batch` at every point of a grid: ``params`` are ``"path=start:stop:step"``
    (or ``"path=a,b,c"``) strings, or a mapping ``path -> values``, or None for the scenario's
    ``[sweep]`` table (``"Jason Kenny.launch_m_to_go" = "150:750:50"``).  Paths are those of
    :meth:`Scenario.set_param` (``"<rider>.<field>"``, ``"field.<field>"``, ``"all.<field>"``,
    ``"air_density"``, ``"derny.end_kmh"``...).  ``runs`` races per point, with the same
    streams at every point; a swept field is not sampled even if it is uncertain.

    Rows: ``point``, one column per swept parameter (named by its path), then the columns of
    :func:`run_batch`.  ``summary.to_dataframe()`` gives the win probability per point."""
    sc = resolve_scenario(scenario, attacker)
    job = sweep_job(sc, params, check_runs(runs), check_seed(seed), attacker)
    for msg in ineffective_params(sc, job.params):
        warnings.warn(msg, IneffectiveParameterWarning, stacklevel=2)
    return _execute(
        job,
        workers=workers,
        scheduler=scheduler,
        out=out,
        resume=resume,
        progress=progress,
        chunk_size=chunk_size,
    )


def _point_for(
    sc: Scenario, params: Mapping[str, Any] | None, attacker: str | None = None
) -> tuple[Point, tuple[str, ...]]:
    if not params:
        return mc_job(sc, 1, 0, attacker).points[0], ()
    job = sweep_job(sc, {k: [v] for k, v in params.items()}, 1, 0, attacker)
    return job.points[0], job.params


def sample_run(
    scenario: Scenario | str | os.PathLike[str] | None,
    seed: int,
    run_index: int,
    *,
    attacker: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Scenario:
    """The scenario of run ``run_index`` of a batch with ``seed``: sampled inputs applied and
    riders in their drawn start order.  ``params``: a sweep point's values
    (``{"Jason Kenny.launch_m_to_go": 300}``)."""
    sc = resolve_scenario(scenario, attacker)
    seed, run_index = check_seed(seed), int(run_index)
    if run_index < 0:
        raise BatchError(
            f"keirin-sim: run_index: must be a non-negative integer, got {run_index!r}"
        )
    pt, _ = _point_for(sc, params, attacker)
    return drawn_scenario(pt, seed, run_index)


def mc_point(scenario: Scenario) -> Point:
    """The Monte Carlo's sampling point of ``scenario`` (its plan, resolved once), for
    :func:`drawn_scenario`."""
    return _point_for(scenario, None)[0]


def drawn_scenario(point: Point, seed: int, run_index: int) -> Scenario:
    """The scenario of run ``run_index`` with ``seed`` at ``point`` (see :func:`sample_run`),
    without resolving the sampling plan again: per-run work of the bands."""
    X, P, seeds = sample_inputs(point.plan, seed, [run_index])
    perm = P[0].tolist() if P is not None else None
    return apply_inputs(point.base, point.plan, X[0].tolist(), perm, seeds[0])


def replay_run(
    scenario: Scenario | str | os.PathLike[str] | None,
    seed: int,
    run_index: int,
    *,
    attacker: str | None = None,
    params: Mapping[str, Any] | None = None,
    traces: bool = False,
) -> Result:
    """Replay run ``run_index`` of a batch with ``seed`` alone: the same :class:`Result` as in
    the batch (``keirin-sim run SCENARIO --mc-seed S --mc-run I``).  ``params`` selects a sweep
    point; ``traces`` keeps the per-step traces for charts."""
    return simulate(
        sample_run(scenario, seed, run_index, attacker=attacker, params=params), traces=traces
    )
