"""What every counterfactual shares (the catch in :mod:`keirin_sim.analysis`, the tactic
variants in :mod:`keirin_sim.variants`): the one-line error, the signed margin of one rider, the
attacker a question is about, and the ``START:STOP:STEP`` ranges the commands sweep.

Margins are *signed* and belong to one rider: positive = won by that many seconds (over second
place), negative = finished that many seconds behind the winner.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .results import Result
from .scenario import Scenario, ScenarioError

__all__ = ["AnalysisError", "parse_range", "signed_margin", "with_attacker"]


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


def parse_range(text: str, what: str = "range") -> list[float]:
    """``"START:STOP:STEP"`` (STOP included, either direction) or a single number, as a list.

    >>> parse_range("0:1:0.5")
    [0.0, 0.5, 1.0]
    >>> parse_range("750:650:50")
    [750.0, 700.0, 650.0]
    """
    parts = str(text).strip().split(":")
    if len(parts) not in (1, 3):
        eg = f"{str(text).strip()}:STEP" if len(parts) == 2 else "START:STOP:STEP"
        raise AnalysisError(
            f"{what}: {text!r} is a range of {len(parts)} parts: write START:STOP:STEP, the "
            f"step too (such as {eg}), or one number"
        )
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise AnalysisError(f"{what}: {text!r} is not START:STOP:STEP or a number") from None
    if not all(math.isfinite(v) for v in nums):
        raise AnalysisError(f"{what}: {text!r} must be finite numbers")
    if len(nums) == 1:
        return nums
    if len(nums) != 3:
        raise AnalysisError(f"{what}: {text!r} is not START:STOP:STEP or a number")
    start, stop, step = nums
    if step <= 0:
        raise AnalysisError(f"{what}: step must be positive, got {step:g}")
    n = math.floor(abs(stop - start) / step + 1e-9)
    if n > 10000:
        raise AnalysisError(f"{what}: {text!r} gives more than 10,000 values")
    sign = 1.0 if stop >= start else -1.0
    return [round(start + sign * k * step, 10) for k in range(n + 1)]
