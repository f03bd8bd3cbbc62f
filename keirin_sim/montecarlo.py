"""Batch Monte Carlo under its first name: the same public API as :mod:`keirin_sim.batch`
(where the code lives, one module per concept), kept so that existing code and notebooks
importing ``keirin_sim.montecarlo`` go on working."""

from __future__ import annotations

from .batch import (
    Batch,
    BatchError,
    BatchInterrupted,
    IncompleteBatchWarning,
    IneffectiveParameterWarning,
    Summary,
    load_runs,
    parse_grid,
    parts_dir,
    replay_run,
    run_batch,
    run_stream,
    sample_run,
    summarize,
    sweep,
    wilson,
)
from .uncertainty import Dist, Uncertainty, parse_uncertainty

__all__ = [
    "Batch",
    "BatchError",
    "BatchInterrupted",
    "IncompleteBatchWarning",
    "Dist",
    "IneffectiveParameterWarning",
    "Summary",
    "Uncertainty",
    "load_runs",
    "parse_grid",
    "parse_uncertainty",
    "parts_dir",
    "replay_run",
    "run_batch",
    "run_stream",
    "sample_run",
    "summarize",
    "sweep",
    "wilson",
]
