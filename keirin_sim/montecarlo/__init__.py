"""Batch Monte Carlo: many races of one scenario with its uncertain inputs drawn per run, win
probabilities, sweeps over a grid of parameters; reproducible for any number of workers and
resumable.  One module per concept:

- :mod:`.jobs`: what a batch runs (grid points, the ``--param`` syntax);
- :mod:`.sampling`: the per-run random streams, drawing and applying inputs;
- :mod:`.chunk`: racing one chunk of runs into columns;
- :mod:`.executors`: serial, local process pool, Dask;
- :mod:`.schema`: the rows' Arrow schema, and their tidy long view (:func:`.schema.tidy_rows`);
- :mod:`.storage`: output files, chunk files, resume, the batch lock;
- :mod:`.summary`: win probabilities and the rest of what a batch says;
- :mod:`.runner`: :func:`run_batch`, :func:`sweep`, :func:`replay_run`.

The ``[uncertainty]`` section itself is read by :mod:`keirin_sim.scenario.uncertainty`.
"""

from __future__ import annotations

from keirin_sim.montecarlo.errors import BatchError, BatchInterrupted
from keirin_sim.montecarlo.jobs import IneffectiveParameterWarning
from keirin_sim.montecarlo.runner import Batch, replay_run, run_batch, sample_run, sweep
from keirin_sim.montecarlo.sampling import run_stream
from keirin_sim.montecarlo.schema import tidy_rows
from keirin_sim.montecarlo.storage import load_runs, parts_dir
from keirin_sim.montecarlo.summary import Summary, summarize, wilson
from keirin_sim.scenario.paths import parse_grid
from keirin_sim.scenario.uncertainty import Dist, Uncertainty, parse_uncertainty

__all__ = [
    "Batch",
    "BatchError",
    "BatchInterrupted",
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
    "tidy_rows",
    "wilson",
]
