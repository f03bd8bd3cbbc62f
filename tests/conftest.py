"""Shared fixtures: the shipped Tokyo scenario and its replay, the early-versus-late variants
(computed once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keirin_sim import load_scenario, simulate


@pytest.fixture(scope="session")
def tokyo():
    return load_scenario()


@pytest.fixture(scope="session")
def tokyo_result(tokyo):
    return simulate(tokyo)


@pytest.fixture(scope="session")
def early():
    """The early-versus-late scenario: the Tokyo field with Kenny's tactic varied."""
    return load_scenario(Path(__file__).parents[1] / "scenarios" / "early_vs_late.toml")


@pytest.fixture(scope="session")
def scripted():
    """The Tokyo final with the field on the scripted tactics (tests/data/tokyo_scripted.toml)."""
    return load_scenario(Path(__file__).parent / "data" / "tokyo_scripted.toml")


@pytest.fixture(scope="session")
def scripted_result(scripted):
    return simulate(scripted)


@pytest.fixture
def loopback_cluster():
    """The address of a Dask cluster of two threaded workers on 127.0.0.1 (skipped without
    dask.distributed)."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address
