"""Where the chunks run: in this process, on a local process pool, or on a Dask cluster."""

from __future__ import annotations

import gc
import itertools
import os
import signal
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.montecarlo.chunk import run_chunk
from keirin_sim.montecarlo.errors import BatchError
from keirin_sim.montecarlo.jobs import Point
from keirin_sim.simulation import simulate

if TYPE_CHECKING:  # pragma: no cover
    pass


# --- executors -------------------------------------------------------------------------------
def worker_init() -> None:
    """Pool workers: Ctrl-C is for the parent (which stops them); exit if the parent dies.
    The objects inherited from the parent are frozen out of the cyclic garbage collector and
    it runs less often: a race leaves no cycles behind (``Race._release``), and collecting
    after every 700 new objects cost the workers about 3 % of their time."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def process_context() -> Any:
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return mp.get_context("fork")  # cheapest start; safe without other threads
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["keirin_sim.montecarlo.chunk"])
        return ctx
    return mp.get_context("spawn")


Task = tuple[Point, int, int]


def _noop() -> None:
    return None


class SerialExecutor:
    slots = 1

    def __init__(self, seed: int, params: tuple[str, ...]):
        self.seed, self.params = seed, params

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def start(self, point: Point) -> None:
        return None

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, np.ndarray]]]:
        for t in tasks:
            yield t, run_chunk(self.seed, t[0], t[1], t[2], self.params)


class PoolExecutor:
    """A local process pool with a bounded number of chunks in flight."""

    def __init__(self, seed: int, params: tuple[str, ...], workers: int):
        self.seed, self.params, self.slots = seed, params, workers

    def __enter__(self) -> PoolExecutor:
        from concurrent.futures import ProcessPoolExecutor

        self.ex = ProcessPoolExecutor(
            max_workers=self.slots, mp_context=process_context(), initializer=worker_init
        )
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is None:
            self.ex.shutdown(wait=True)
            return
        procs = list((getattr(self.ex, "_processes", None) or {}).values())
        self.ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)

    def start(self, point: Point) -> None:
        """Load the compiled kernel here once (forked workers inherit it), then start the
        workers."""
        try:
            simulate(point.base, traces=False)
        except Exception:  # the batch reports failures per run
            pass
        self.ex.submit(_noop).result()

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, np.ndarray]]]:
        from concurrent.futures import FIRST_COMPLETED, wait

        it = iter(tasks)
        pending: dict[Any, Task] = {}

        def fill() -> None:
            while len(pending) < 2 * self.slots + 1:
                t = next(it, None)
                if t is None:
                    return
                f = self.ex.submit(run_chunk, self.seed, t[0], t[1], t[2], self.params)
                pending[f] = t

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in sorted(done, key=lambda f: (pending[f][0].index, pending[f][1])):
                t = pending.pop(f)
                yield t, f.result()
            fill()


class DaskExecutor:
    """A Dask distributed cluster: ``scheduler`` is an address or a ``Client``."""

    def __init__(self, seed: int, params: tuple[str, ...], scheduler: Any):
        self.seed, self.params, self.scheduler = seed, params, scheduler

    def __enter__(self) -> DaskExecutor:
        distributed = import_dask()
        if isinstance(self.scheduler, distributed.Client):
            self.client, self.own = self.scheduler, False
        else:
            try:
                self.client = distributed.Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as e:
                raise BatchError(
                    f"{self.scheduler}: --scheduler: cannot connect: {' '.join(str(e).split())}"
                ) from None
            self.own = True
        self.slots = max(1, sum(self.client.nthreads().values()))
        self.futures: list[Any] = []
        return self

    def start(self, point: Point) -> None:
        return None

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        try:
            if et is not None and self.futures:
                self.client.cancel(self.futures)
        finally:
            if self.own:
                self.client.close()

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, np.ndarray]]]:
        distributed = import_dask()
        it = iter(tasks)
        remote: dict[int, Any] = {}
        key: dict[Any, Task] = {}

        def submit(t: Task) -> Any:
            pt = t[0]
            if pt.index not in remote:
                remote[pt.index] = self.client.scatter(pt, broadcast=True, hash=False)
            f = self.client.submit(
                run_chunk, self.seed, remote[pt.index], t[1], t[2], self.params, pure=False
            )
            key[f] = t
            self.futures.append(f)
            return f

        first = [submit(t) for t in itertools.islice(it, 2 * self.slots + 1)]
        ac = distributed.as_completed(first)
        for f in ac:
            t = key.pop(f)
            cols = f.result()
            self.futures.remove(f)
            f.release()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(submit(nxt))
            yield t, cols


def import_dask() -> Any:
    try:
        import dask.distributed as distributed
    except ImportError:
        raise BatchError(
            "keirin-sim: --scheduler: Dask is not installed: pip install 'keirin-sim[dask]'"
        ) from None
    return distributed


class TooManyWorkersWarning(UserWarning):
    """More worker processes asked for than this machine has cores: capped at the cores (the
    races are CPU-bound; extra processes only cost memory and switching)."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def worker_count(workers: int | None) -> int:
    if workers is None:
        return cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BatchError(f"keirin-sim: workers: must be a positive integer, got {workers!r}")
    n = cores()
    if workers > n:
        warnings.warn(
            f"--workers {workers} is more than the {n} cores here: using {n}",
            TooManyWorkersWarning,
            stacklevel=3,
        )
        return n
    return workers
