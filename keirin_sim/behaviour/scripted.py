"""Decision policies.  Each is a SimPy process that sleeps until an event it cares about
(the derny leaving, a rival opening a gap, a mark, a hesitation running out) and then changes
what the rider does; the motion kernel carries the choice out until the next decision.

Kinds (``Tactic.kind``):

- ``follow``: hold the wheel ahead; final sprint at ``launch_m_to_go`` or, with
  ``launch_on_wprime``, the moment W' allows an all-out effort to the line.
- ``late_sprint``: the same as ``follow`` (named for comparisons), 200 m launch by default.
- ``attack``: go all out at ``attack_m_to_go`` metres to go, or as the derny pulls off when
  ``attack_m_to_go`` is ``None``, and ride to the line.
- ``hesitate_chase``: follow until a rival attacks and is clear by ``gap_trigger_m``; then
  soft-pedal at ``cruise_kmh`` for ``hesitation_s``; then chase (``role = "chase"``) unless
  somebody already has, or take the chaser's wheel (``role = "wheel"``, or a chaser already
  gone); final sprint as for ``follow``.  A rider who had already jumped on the wheel of a
  rider coming past it does not hesitate: it keeps that wheel.

Every rider still following jumps on the wheel of a rider who comes past it on an effort (an
attack, a chase, a launch).  Any kind may ``move_up_m_to_go``: swing out and ride past the
riders ahead in the line, then drop back in.  ``let_gap_m`` at ``let_gap_at_m_to_go`` opens a
gap to the wheel ahead (as Glaetzer did behind Kenny in Tokyo).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from keirin_sim.engine.controls import Controls
from keirin_sim.engine.events import first_of
from keirin_sim.model.tactic import (
    Tactic,
)


def run_tactic(race: Controls, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    """The SimPy process of rider ``i`` for ``tac.kind`` (its side processes, moving up and
    letting a gap open, are started here)."""
    start_scripted_moves(race, i, tac)
    if tac.kind == "attack":
        return _attack(race, i, tac)
    if tac.kind == "hesitate_chase":
        return _hesitate_chase(race, i, tac)
    return _final_sprint(race, i, tac)


def start_scripted_moves(race: Controls, i: int, tac: Tactic, hold_gap: bool = False) -> None:
    """Start the side processes a scenario scripts for any kind: moving up at
    ``move_up_m_to_go``, letting a gap open at ``let_gap_at_m_to_go`` (kept open past the
    derny's pull-off with ``hold_gap``)."""
    if tac.move_up_m_to_go is not None:
        race.spawn(_move_up(race, i, tac))
    if tac.let_gap_m is not None and tac.let_gap_at_m_to_go is not None:
        race.spawn(_let_gap(race, i, tac, hold_gap))


def _final_sprint(race: Controls, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    """Wait for the launch point (a mark, or W' allowing all-out to the line), then sprint."""
    yield race.derny_off
    triggers = []
    if tac.launch_m_to_go is not None:
        triggers.append(race.mark(i, tac.launch_m_to_go))
    if tac.launch_on_wprime:
        triggers.append(race.sprint_ready(i, tac.wprime_factor))
    if not triggers:
        return
    if tac.launch_m_to_go is not None and tac.jump_gap_m > tac.follow_gap_m:
        race.spawn(sit_off(race, i, tac.launch_m_to_go + tac.sit_off_m, tac.jump_gap_m, 0.0))
    yield triggers[0] if len(triggers) == 1 else first_of(race.env, triggers)
    race.launch(i, 1.0, "launch")


def sit_off(
    race: Controls, i: int, at_m_to_go: float, gap_m: float, high_m: float
) -> Generator[Any, Any, None]:
    """At ``at_m_to_go``, a rider still on a wheel drops back to a wheel gap of ``gap_m`` to
    jump from there (and rides ``high_m`` up the banking to watch, if any): the jump from the
    wheel.  Its launch brings it back down (``Controls.launch``)."""
    yield race.mark(i, at_m_to_go)
    if race.launched(i) or race.finished_rider(i) or race.hesitating(i):
        return
    if race.following(i) is None and race.rider_ahead(i) is None:
        return  # nobody to sit off
    race.sit_off(i, gap_m)
    if high_m > 0.0:
        race.go_high(i, high_m)


def _attack(race: Controls, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    if tac.attack_m_to_go is None:
        yield race.derny_off
    else:
        yield race.derny_off
        yield race.mark(i, tac.attack_m_to_go)
    race.launch(i, 1.0, "attack")


def _hesitate_chase(race: Controls, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    env = race.env
    yield race.derny_off
    sprint = race.spawn(_final_sprint(race, i, tac), wait=True)
    brk = race.breakaway(tac.gap_trigger_m)
    yield first_of(env, [brk, sprint])
    if sprint.triggered or race.launched(i):
        return
    leader = brk.value
    if leader == i or race.following(i) is not None:
        return  # the attacker himself, or a rider who already jumped on a passing wheel
    race.hesitate(i, tac.cruise_kmh)
    timer = env.timeout(tac.hesitation_s or 0.0)
    yield first_of(env, [timer, sprint, race.chase_started])
    if sprint.triggered or race.launched(i):
        return
    if race.chase_started.triggered:
        race.take_wheel(i, race.chase_started.value)
        return
    if tac.role == "chase":
        race.chase(i, tac.chase_effort)
        return
    # a rider who never starts the chase takes the wheel of a rider already gone after the
    # attacker (one who jumped on his wheel), or waits for someone else to go
    gone = race.nearest_chaser_ahead(i)
    if gone is not None:
        race.take_wheel(i, gone)
        return
    yield first_of(env, [sprint, race.chase_started])
    if race.chase_started.triggered and not race.launched(i):
        race.take_wheel(i, race.chase_started.value)


def _move_up(race: Controls, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    yield race.mark(i, max(tac.move_up_m_to_go or 0.0, 0.0))
    if race.launched(i):
        return
    front = race.group_front(i)
    if front is None:
        return
    race.move_out(i, tac.move_up_kmh)
    done = race.passed(i, front, race.bike_length + 1.0)
    yield first_of(race.env, [done, race.env.timeout(30.0)])
    if not race.launched(i):
        race.move_in(i)


def _let_gap(race: Controls, i: int, tac: Tactic, hold: bool) -> Generator[Any, Any, None]:
    """Open the gap at its mark; close it again as the derny leaves, or with ``hold`` (the
    general behaviour) keep it until the rider chases, launches or rides on (race.py)."""
    yield race.mark(i, tac.let_gap_at_m_to_go or 0.0)
    race.set_gap(i, tac.let_gap_m or 0.0)
    if hold:
        return
    yield race.derny_off
    race.set_gap(i, tac.follow_gap_m)
