"""keirin-sim: a discrete-event keirin race simulator.

SimPy owns the clock and the riders' decisions; a compiled kernel integrates the physics
between events.  Start with :func:`load_scenario` and :func:`simulate`; :func:`run_batch`
gives odds over many races.

The package is one layer per subpackage, each importing only those below it:
:mod:`~keirin_sim.model` -> :mod:`~keirin_sim.results` -> :mod:`~keirin_sim.engine` ->
:mod:`~keirin_sim.behaviour` -> :mod:`~keirin_sim.calibration` and :mod:`~keirin_sim.scenario`
-> :mod:`~keirin_sim.simulation` -> :mod:`~keirin_sim.montecarlo` ->
:mod:`~keirin_sim.questions` -> :mod:`~keirin_sim.plots` -> :mod:`~keirin_sim.cli`.
"""

from keirin_sim.engine.race import Race, RaceError
from keirin_sim.model.rider import Rider
from keirin_sim.model.tactic import Tactic
from keirin_sim.montecarlo import Batch, run_batch
from keirin_sim.results.result import LapGap, RaceEvent, Result, Traces
from keirin_sim.scenario.checks import ScenarioError
from keirin_sim.scenario.loading import load_scenario, parse_scenario, shipped_scenarios
from keirin_sim.scenario.scenario import Scenario
from keirin_sim.simulation import simulate
from keirin_sim.version import __version__

__all__ = [
    "Batch",
    "LapGap",
    "Race",
    "RaceError",
    "RaceEvent",
    "Result",
    "Rider",
    "Scenario",
    "ScenarioError",
    "Tactic",
    "Traces",
    "__version__",
    "load_scenario",
    "parse_scenario",
    "run_batch",
    "shipped_scenarios",
    "simulate",
]
