"""Any per-run work on the batch executors: results in the order of the items, whatever runs
them (this process, a local pool, a Dask cluster)."""

from __future__ import annotations

import functools

import pytest

from keirin_sim.montecarlo import BatchError
from keirin_sim.montecarlo.tasks import map_tasks


def _square_plus(k: int, x: int) -> int:
    return x * x + k


ITEMS = list(range(37))
WANT = [x * x + 5 for x in ITEMS]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_the_order_of_the_items(workers):
    fn = functools.partial(_square_plus, 5)
    assert map_tasks(fn, ITEMS, workers=workers, progress=False) == WANT


def test_on_a_dask_cluster_the_same(tokyo, loopback_cluster):
    from keirin_sim.questions.bands import catch_band

    addr = loopback_cluster
    got = map_tasks(functools.partial(_square_plus, 5), ITEMS, scheduler=addr, progress=False)
    band = catch_band(tokyo, 3, seed=2, scheduler=addr, progress=False)
    assert got == WANT
    assert band.values == catch_band(tokyo, 3, seed=2, workers=1, progress=False).values


def test_workers_and_a_scheduler_together_are_refused():
    with pytest.raises(BatchError, match="scheduler: cannot be combined with workers"):
        map_tasks(abs, [1], workers=1, scheduler="tcp://127.0.0.1:1", progress=False)
