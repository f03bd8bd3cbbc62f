"""The riders' decisions: SimPy processes that use only the race's
:class:`~keirin_sim.engine.controls.Controls`.

- :mod:`.general`: the general racing behaviour, what a rider decides for itself (kind
  ``race``, the default);
- :mod:`.scripted`: the scripted tactics a race report describes (``follow``,
  ``late_sprint``, ``attack``, ``hesitate_chase``) and scripted moves.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from keirin_sim.behaviour.general import run_racer
from keirin_sim.behaviour.scripted import run_tactic
from keirin_sim.engine.controls import Controls
from keirin_sim.model.tactic import Tactic


def decide(race: Controls, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    """The default policy: rider ``i`` races for itself (kind ``race``) or rides its scripted
    tactic."""
    return run_racer(race, i, tac) if tac.kind == "race" else run_tactic(race, i, tac)


__all__ = ["decide", "run_racer", "run_tactic"]
