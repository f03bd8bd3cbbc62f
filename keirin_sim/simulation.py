"""Racing a scenario: the engine wired to the riders' default decisions."""

from __future__ import annotations

from keirin_sim.behaviour import decide
from keirin_sim.engine.controls import Policy
from keirin_sim.engine.race import Outcome, Race
from keirin_sim.results.result import Result
from keirin_sim.scenario.scenario import Scenario


def build_race(
    scenario: Scenario,
    traces: bool = True,
    dt: float | None = None,
    keep_log: bool = True,
    policy: Policy = decide,
) -> Race:
    """A :class:`~keirin_sim.engine.race.Race` of ``scenario``, ready to run, its riders
    deciding by ``policy`` (by default by its tactic kind: :func:`keirin_sim.behaviour.decide`)."""
    return Race(scenario, policy, traces=traces, dt=dt, keep_log=keep_log)


def simulate(
    scenario: Scenario, traces: bool = True, dt: float | None = None, policy: Policy = decide
) -> Result:
    """Replay ``scenario`` once.  ``traces=False`` skips the per-step traces (faster; used by
    the Monte Carlo); ``dt`` overrides the kernel step (s); ``policy`` replaces the riders'
    decisions (see :mod:`keirin_sim.engine.controls`)."""
    return build_race(scenario, traces=traces, dt=dt, policy=policy).run()


def simulate_outcome(scenario: Scenario, dt: float | None = None) -> Outcome:
    """Replay ``scenario`` once without traces and keep only its :class:`Outcome` (the same
    times and catch as :func:`simulate`, without the cost of building a :class:`Result`)."""
    return build_race(scenario, traces=False, dt=dt, keep_log=False).run_outcome()
