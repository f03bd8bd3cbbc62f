"""Batch Monte Carlo: many races of one scenario with its uncertain inputs drawn per run, win
probabilities, sweeps over a grid of parameters; reproducible for any number of workers and
resumable.  One module per concept:

- :mod:`.jobs`: what a batch runs (grid points, the ``--param`` syntax);
- :mod:`.sampling`: the per-run random streams, drawing and applying inputs;
- :mod:`.chunk`: racing one chunk of runs into columns;
- :mod:`.executors`: serial, local process pool, Dask;
- :mod:`.schema`: the rows' Arrow schema;
- :mod:`.storage`: output files, chunk files, resume, the batch lock;
- :mod:`.summary`: win probabilities and the rest of what a batch says;
- :mod:`.runner`: :func:`run_batch`, :func:`sweep`, :func:`replay_run`.

The ``[uncertainty]`` section itself is read by :mod:`keirin_sim.uncertainty`.
"""

from __future__ import annotations

from .errors import BatchError, BatchInterrupted
from .jobs import IneffectiveParameterWarning, parse_grid
from .runner import Batch, replay_run, run_batch, sample_run, sweep
from .sampling import run_stream
from .storage import IncompleteBatchWarning, load_runs, parts_dir
from .summary import Summary, summarize, wilson

__all__ = [
    "Batch",
    "BatchError",
    "BatchInterrupted",
    "IncompleteBatchWarning",
    "IneffectiveParameterWarning",
    "Summary",
    "load_runs",
    "parse_grid",
    "parts_dir",
    "replay_run",
    "run_batch",
    "run_stream",
    "sample_run",
    "summarize",
    "sweep",
    "wilson",
]
