"""What every counterfactual shares (the catch in :mod:`~keirin_sim.questions.catch`, the tactic
variants in :mod:`~keirin_sim.questions.variants`): the one-line error, the signed margin of one
rider, the attacker a question is about (the ranges they sweep: :mod:`keirin_sim.scenario.paths`).

Margins are *signed* and belong to one rider: positive = won by that many seconds (over second
place), negative = finished that many seconds behind the winner.
"""

from __future__ import annotations

from dataclasses import replace

from keirin_sim.results.result import Result
from keirin_sim.scenario.scenario import Scenario, ScenarioError

__all__ = ["AnalysisError", "signed_margin", "with_attacker"]


class AnalysisError(ScenarioError):
    """An analysis that cannot be run; the message is one line (file or option, key, problem)."""


def signed_margin(result: Result, rider: str) -> float:
    """Positive: won by that many seconds over second place; negative: behind the winner."""
    order = result.finish_order
    t = result.finish_times
    if order[0] == rider:
        return float(t[order[1]] - t[rider]) if len(order) > 1 else 0.0
    return -float(t[rider] - t[order[0]])


def with_attacker(scenario: Scenario, attacker: str | None) -> Scenario:
    name = attacker if attacker is not None else scenario.attacker
    if name is None:
        raise AnalysisError(
            f"{scenario.source}: attacker: the scenario names no attacker; give one"
        )
    scenario.rider_index(name)  # one-line ScenarioError for an unknown rider
    return scenario if name == scenario.attacker else replace(scenario, attacker=name)
