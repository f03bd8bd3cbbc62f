"""Shared fixtures: the shipped Tokyo scenario and its replay (computed once per session)."""

from __future__ import annotations

import pytest

from keirin_sim import load_scenario, simulate


@pytest.fixture(scope="session")
def tokyo():
    return load_scenario()


@pytest.fixture(scope="session")
def tokyo_result(tokyo):
    return simulate(tokyo)
