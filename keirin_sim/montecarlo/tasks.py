"""Any per-run work on the batch executors: ``fn(item)`` for many items, in order, in this
process, on a local process pool or on a Dask cluster, with the batch's progress bar.

The Monte Carlo's rows go through :mod:`.chunk`; the counterfactual bands (a critical
hesitation per drawn race) and the sensitivity samples (a race per input row) are not rows of
that kind, so they run here.  Results come back in the order of the items whatever the
workers, so the answers are reproducible for any number of them.  ``fn`` must be picklable (a
module-level function, or a :func:`functools.partial` of one).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from keirin_sim.montecarlo.errors import BatchError
from keirin_sim.montecarlo.executors import import_dask, process_context, worker_count, worker_init
from keirin_sim.montecarlo.runner import progress_bar

T = TypeVar("T")
R = TypeVar("R")


def _chunk(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    return [fn(x) for x in items]


def map_tasks(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    unit: str = "race",
    warm: Callable[[], Any] | None = None,
) -> list[R]:
    """``[fn(x) for x in items]`` on the batch executors (``workers``: default all cores, 1 =
    this process; ``scheduler``: a Dask address or ``Client``).  ``warm`` runs once here first
    (a race, so forked workers inherit the compiled kernel).  ``progress``: a bar on stderr
    (default: when stderr is a terminal)."""
    items = list(items)
    if workers is not None and scheduler is not None:
        raise BatchError("keirin-sim: scheduler: cannot be combined with workers")
    if progress is None:
        progress = sys.stderr.isatty()
    n_workers = 1 if scheduler is not None else worker_count(workers)
    bar = progress_bar(len(items), 0) if progress else None
    if bar is not None:
        bar.unit = unit
    try:
        if warm is not None:
            warm()
        if scheduler is None and (n_workers == 1 or len(items) <= 1):
            out = []
            for x in items:
                out.append(fn(x))
                if bar is not None:
                    bar.update(1)
            return out
        size = max(1, math.ceil(len(items) / (8 * max(n_workers, 1))))
        chunks = [items[k : k + size] for k in range(0, len(items), size)]
        results: list[list[R] | None] = [None] * len(chunks)
        if scheduler is not None:
            distributed = import_dask()
            own = not isinstance(scheduler, distributed.Client)
            try:
                client = distributed.Client(scheduler, timeout="10s") if own else scheduler
            except (OSError, TimeoutError, ValueError) as e:
                raise BatchError(
                    f"{scheduler}: --scheduler: cannot connect: {' '.join(str(e).split())}"
                ) from None
            try:
                futs = {client.submit(_chunk, fn, c, pure=False): k for k, c in enumerate(chunks)}
                for f in distributed.as_completed(list(futs)):
                    results[futs[f]] = f.result()
                    if bar is not None:
                        bar.update(len(chunks[futs[f]]))
            finally:
                if own:
                    client.close()
        else:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(
                max_workers=n_workers, mp_context=process_context(), initializer=worker_init
            ) as ex:
                futs = {ex.submit(_chunk, fn, c): k for k, c in enumerate(chunks)}
                for f in as_completed(futs):
                    results[futs[f]] = f.result()
                    if bar is not None:
                        bar.update(len(chunks[futs[f]]))
        return [r for part in results for r in (part or [])]
    finally:
        if bar is not None:
            bar.close()


__all__ = ["map_tasks"]
