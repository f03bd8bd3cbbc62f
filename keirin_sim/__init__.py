"""keirin-sim: a discrete-event keirin race simulator.

SimPy owns the clock and the riders' decisions; a compiled kernel integrates the physics
between events.  Start with :func:`load_scenario` and :func:`simulate`.
"""

from .race import Race, RaceError, simulate
from .results import Event, LapGap, Result, Traces
from .rider import Rider
from .scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from .tactics import Tactic

__version__ = "0.6.1"

__all__ = [
    "Event",
    "LapGap",
    "Race",
    "RaceError",
    "Result",
    "Rider",
    "Scenario",
    "ScenarioError",
    "Tactic",
    "Traces",
    "load_scenario",
    "parse_scenario",
    "simulate",
]
