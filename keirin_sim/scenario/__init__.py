"""Scenarios: a race to run, written as a TOML file.

- :mod:`.scenario`: the :class:`Scenario` and :meth:`Scenario.set_param`;
- :mod:`.loading`: reading a file (``base =``, the shipped scenarios);
- :mod:`.checks`: the bounds and cross checks a file and ``set_param`` share;
- :mod:`.paths`: the one grammar of parameter ranges and grid points;
- :mod:`.uncertainty`: the ``[uncertainty]`` section as a sampling plan.
"""

from __future__ import annotations

from keirin_sim.scenario.checks import ScenarioError
from keirin_sim.scenario.loading import load_scenario, parse_scenario, shipped_scenarios
from keirin_sim.scenario.scenario import Entry, Scenario

__all__ = [
    "Entry",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "shipped_scenarios",
]
