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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

if TYPE_CHECKING:  # pragma: no cover
    from .race import Race

KINDS = ("race", "follow", "late_sprint", "attack", "hesitate_chase")
ROLES = ("chase", "wheel")
_JUMP = frozenset({"jump_gap_m", "sit_off_m"})
_LAUNCH = frozenset({"launch_m_to_go", "launch_on_wprime", "wprime_factor"}) | _JUMP
_HESITATE = frozenset({"hesitation_s", "gap_trigger_m", "role", "chase_effort", "cruise_kmh"})
_STYLE = (
    frozenset(
        {"launch_spread_m", "reaction_s", "takes_front", "windup_kmh", "windup_pace", "tow_gap_m"}
        | {"kick_share", "kick_m_to_go", "high_share", "high_m"}
    )
    | _JUMP
)
#: What the general behaviour reads besides its style: it launches at its point (never on W'),
#: and an attacker must be clear by at least ``gap_trigger_m`` before anyone chases (racing.py).
_RACE = _STYLE | {"launch_m_to_go", "hesitation_s", "cruise_kmh", "chase_effort", "gap_trigger_m"}
#: The tactic fields only some kinds read (the others - wheel gap, tempo, moving up, letting a
#: gap open - every kind reads).
KIND_FIELDS: dict[str, frozenset[str]] = {
    "race": _RACE,
    "follow": _LAUNCH,
    "late_sprint": _LAUNCH,
    "attack": frozenset({"attack_m_to_go"}),
    "hesitate_chase": _LAUNCH | _HESITATE,
}
_SPECIFIC = frozenset().union(*KIND_FIELDS.values())


def ignores(kind: str, field: str) -> bool:
    """Whether a tactic of ``kind`` never reads ``field`` (an attack has no launch point, a
    follower no hesitation...)."""
    return field in _SPECIFIC and field not in KIND_FIELDS.get(kind, _SPECIFIC)


@dataclass(frozen=True)
class Tactic:
    """A rider's plan.  Distances are metres to go; speeds km/h; times seconds.

    The jump: ``sit_off_m`` before its launch point a rider on a wheel drops back to
    ``jump_gap_m`` (a bike length or two: it builds speed in the slipstream before it swings
    out); a "race" rider is a late kicker with probability ``kick_share`` (launch point about
    ``kick_m_to_go``), and goes ``high_m`` up the banking to watch while it sits off with
    probability ``high_share`` (coming down when it jumps).  Modelling choices (docs/racing.md).

    Defaults are calibration choices (tactics are not published quantities): a 200 m launch is
    the classic final-sprint distance (the keirin's timed last 200 m), a 0.3 m wheel gap is
    wheel-to-wheel riding, a 5 m gap is when a rival is said to have gone clear.  ``tempo_kmh``
    is the pace a rider with no wheel to follow keeps once the derny has left (its final 50 km/h
    by default); ``cruise_kmh`` is how slowly a hesitating rider soft-pedals.
    """

    kind: str = "race"
    launch_m_to_go: float | None = 200.0
    launch_on_wprime: bool = False
    wprime_factor: float = 1.0
    attack_m_to_go: float | None = None
    hesitation_s: float | None = None
    gap_trigger_m: float = 5.0
    role: str = "wheel"
    chase_effort: float = 1.0
    cruise_kmh: float = 48.0
    tempo_kmh: float = 50.0
    follow_gap_m: float = 0.3
    move_up_m_to_go: float | None = None
    move_up_kmh: float = 5.0
    let_gap_m: float | None = None
    let_gap_at_m_to_go: float | None = None
    # the style of the general behaviour (kind "race"; racing.py, docs/racing.md)
    launch_spread_m: float = 100.0
    reaction_s: float = 0.4
    takes_front: float = 0.3
    windup_kmh: float = 66.0
    windup_pace: float = 0.4
    tow_gap_m: float = 20.0
    # the jump from the wheel (every kind that launches; racing.py draws the gap per race)
    jump_gap_m: float = 1.5
    sit_off_m: float = 120.0
    kick_share: float = 0.1
    kick_m_to_go: float = 120.0
    high_share: float = 0.2
    high_m: float = 1.5


class Waiter:
    """The callback :func:`first_of` leaves on each event it waits for; once its ``out`` has
    fired it waits for nothing (race.py's ``forget`` looks for events only such waiters hold)."""

    __slots__ = ("out",)

    def __init__(self, out: simpy.Event):
        self.out = out

    def __call__(self, ev: simpy.Event) -> None:
        if not self.out.triggered:
            self.out.succeed(ev)


def first_of(env: simpy.Environment, events: list[simpy.Event]) -> simpy.Event:
    """An event that fires with the first of ``events`` to fire (a light ``AnyOf``: the
    tactics only ask *whether* something happened, via each event's ``triggered``)."""
    out = env.event()
    fire = Waiter(out)
    for ev in events:
        if ev.callbacks is None:  # already processed
            fire(ev)
            break
        ev.callbacks.append(fire)
    return out


def run_tactic(race: Race, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    """The SimPy process of rider ``i`` for ``tac.kind`` (its side processes, moving up and
    letting a gap open, are started here)."""
    start_scripted_moves(race, i, tac)
    if tac.kind == "attack":
        return _attack(race, i, tac)
    if tac.kind == "hesitate_chase":
        return _hesitate_chase(race, i, tac)
    return _final_sprint(race, i, tac)


def start_scripted_moves(race: Race, i: int, tac: Tactic, hold_gap: bool = False) -> None:
    """Start the side processes a scenario scripts for any kind: moving up at
    ``move_up_m_to_go``, letting a gap open at ``let_gap_at_m_to_go`` (kept open past the
    derny's pull-off with ``hold_gap``)."""
    if tac.move_up_m_to_go is not None:
        race.spawn(_move_up(race, i, tac))
    if tac.let_gap_m is not None and tac.let_gap_at_m_to_go is not None:
        race.spawn(_let_gap(race, i, tac, hold_gap))


def _final_sprint(race: Race, i: int, tac: Tactic) -> Generator[Any, Any, None]:
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
    race: Race, i: int, at_m_to_go: float, gap_m: float, high_m: float
) -> Generator[Any, Any, None]:
    """At ``at_m_to_go``, a rider still on a wheel drops back to a wheel gap of ``gap_m`` to
    jump from there (and rides ``high_m`` up the banking to watch, if any): the jump from the
    wheel.  Its launch brings it back down (race.launch)."""
    yield race.mark(i, at_m_to_go)
    if race.launched(i) or race.finished_rider(i) or race.hesitating(i):
        return
    if race.following(i) is None and race.rider_ahead(i) is None:
        return  # nobody to sit off
    race.sit_off(i, gap_m)
    if high_m > 0.0:
        race.go_high(i, high_m)


def _attack(race: Race, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    if tac.attack_m_to_go is None:
        yield race.derny_off
    else:
        yield race.derny_off
        yield race.mark(i, tac.attack_m_to_go)
    race.launch(i, 1.0, "attack")


def _hesitate_chase(race: Race, i: int, tac: Tactic) -> Generator[Any, Any, None]:
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


def _move_up(race: Race, i: int, tac: Tactic) -> Generator[Any, Any, None]:
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


def _let_gap(race: Race, i: int, tac: Tactic, hold: bool) -> Generator[Any, Any, None]:
    """Open the gap at its mark; close it again as the derny leaves, or with ``hold`` (the
    general behaviour) keep it until the rider chases, launches or rides on (race.py)."""
    yield race.mark(i, tac.let_gap_at_m_to_go or 0.0)
    race.set_gap(i, tac.let_gap_m or 0.0)
    if hold:
        return
    yield race.derny_off
    race.set_gap(i, tac.follow_gap_m)
