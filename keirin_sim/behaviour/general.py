"""The general racing behaviour: what a keirin rider decides for itself (``Tactic.kind =
"race"``, the default kind).  A scenario scripts a part only where a race report describes it
(an attack as the derny leaves, a gap let open); everything else a rider decides here, from race
events, its place, the distance to go and its own style.

One SimPy process per rider (:func:`run_racer`) sleeps on events (a mark, the derny leaving, a
rival's launch, a gap opening) and sets a control law the kernel carries out until the next one.
What it decides, in race order (the style fields are :class:`~keirin_sim.model.tactic.Tactic`'s):

1. **Behind the derny**, after the first lap, a rider inclined to take the front
   (``takes_front``, a probability) that is third or further back moves up on the outside to
   the wheel of the rider behind the derny; the outside line is longer (the kernel's path above
   the measurement line), so the move costs distance.  The rider behind the derny holds its
   place: nobody may pass the derny.
2. **The derny leaves.**  Whoever leads, with no wheel to follow, winds the speed up towards
   ``windup_kmh`` spending at most ``windup_pace`` of its available power; the others hold the
   wheel ahead, sheltered.  A rider inclined to take the front (a second, independent draw)
   moves up to it at a point drawn between the pull-off and its launch.
3. **When to go**: at its own launch point, ``launch_m_to_go`` +- ``launch_spread_m`` (drawn
   for the race: long range against late kick); earlier when a rival goes and the rider is
   within :data:`REACH` times its launch point (after ``reaction_s``).
4. **An attack** (a rival clear on an effort, farther out than the rider would go with it): the
   rider nearest behind the attacker chases once the gap exceeds its tolerance, ``tow_gap_m``
   drawn within +-50 % (its reluctance to tow the others); a rider further back, who would
   have to come round, needs :data:`ROUND_M` more per place.  Until then the line rides its
   tempo: the hesitation is what this waiting game produces.  ``hesitation_s``, when set, is a
   scripted wait instead (the counterfactual of ``keirin-sim catch``).
5. **Boxed**: a rider on an effort that closes on a wheel with a rival alongside on its outside
   cannot come out: it sits on the wheel until the box opens (kernel.reflex, race.py).

6. **The jump from the wheel**: ``sit_off_m`` before its launch point a rider on a wheel drops
   back to a gap of ``jump_gap_m`` (drawn within +-50 %: a bike length or two) so that it
   jumps with a run in the slipstream, and swings out only when it would touch the wheel (the
   kernel's steering reflex); with probability ``high_share`` it rides ``high_m`` up the
   banking meanwhile, to watch, and comes down as it jumps.  A rider is a late kicker (launch
   point ``kick_m_to_go`` +-25 %) with probability ``kick_share``, else a long-range rider
   (``launch_m_to_go`` +- ``launch_spread_m``).

Every draw comes from the race's own stream (``Scenario.seed``, one per race in a Monte
Carlo), eight per rider in the scenario's order, so a race replays exactly.  The style defaults
are modelling choices (no published values), documented in docs/racing.md.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any, NamedTuple

from keirin_sim.behaviour.scripted import sit_off, start_scripted_moves
from keirin_sim.engine.controls import Controls
from keirin_sim.engine.events import first_of
from keirin_sim.model.tactic import Tactic

#: A rival's launch makes a rider go too when it is within this many times its own launch
#: point; farther out the rival's move is an attack (decision 4).  Modelling choice.
REACH = 1.5
#: A rider this far (m) behind an attacker's back wheel is not on it: it must chase to close.
#: Modelling choice (about a bike length of daylight).
WHEEL_GAP_M = 2.0
#: A gap this long (m) opening in front of the wheel a rider holds makes it come round.
#: Modelling choice (a few bike lengths: more than a wheel-to-wheel line breathes).
DROP_M = 5.0
#: Extra gap (m) a rider further back in the chasing line waits for per place behind the
#: nearest chaser: it would have to come round the line to chase.  Modelling choice.
ROUND_M = 10.0
#: Speed (km/h) above its own a rider moving up on the outside rides.  Modelling choice.
MOVE_UP_KMH = 6.0
#: A move up ends after this long even if the rider has not got there (s).
MOVE_UP_MAX_S = 25.0
#: A rider that moved up behind the derny holds the first rider's wheel this long (s) before it
#: rides its line again.
SETTLE_S = 5.0
#: A rider moves up to the front after the pull-off no later than this far before its launch
#: point (m): a front-taker goes early enough to lead the line, not to start its sprint.
FRONT_BEFORE_LAUNCH_M = 100.0


def launch_point(tac: Tactic, u: float) -> float | None:
    """The launch point (m to go) a uniform draw ``u`` gives: ``launch_m_to_go`` +-
    ``launch_spread_m``, never under 50 m."""
    if tac.launch_m_to_go is None:
        return None
    return max(tac.launch_m_to_go + tac.launch_spread_m * (2.0 * u - 1.0), 50.0)


def kick_point(tac: Tactic, u: float) -> float | None:
    """A late kicker's launch point (m to go) for a uniform draw ``u``: ``kick_m_to_go``
    +- a quarter of it."""
    if tac.launch_m_to_go is None:
        return None
    return tac.kick_m_to_go * (0.75 + 0.5 * u)


def run_racer(race: Controls, i: int, tac: Tactic) -> Generator[Any, Any, None]:
    """The SimPy process of rider ``i`` racing on the general behaviour.  The state events it
    watched and no longer waits for are let go when it is done (``Race.forget``)."""
    mine: list[Any] = []
    try:
        yield from _racer(race, i, tac, mine)
    finally:
        race.forget(*mine)


class Choices(NamedTuple):
    """A rider's choices on the day, drawn from the race's own stream (:func:`draw_choices`)."""

    #: where it launches (m to go; None: it never does on its own)
    launch_m_to_go: float | None
    #: whether it races as a late kicker (``Tactic.kick_share``)
    kicker: bool
    #: the gap it lets an attacker open before it chases (m)
    tow_gap_m: float
    #: the wheel gap it sits off to before its jump (m)
    jump_gap_m: float
    #: how high up the banking it watches from while it sits off (m; 0: it does not)
    high_m: float
    #: the draws that decide whether and when it moves up to the front
    u_pos: float
    u_front: float
    u_when: float


#: Uniform draws a rider racing on the general behaviour takes from the race's stream, in order.
DRAWS_PER_RIDER = 8


def draw_choices(tac: Tactic, rng: random.Random) -> Choices:
    """Rider's choices for ``tac``, taking :data:`DRAWS_PER_RIDER` draws from ``rng`` (the race's
    stream, in the scenario's order of riders): the one place they are drawn, so a
    reconstruction reads exactly what the riders raced on."""
    u_launch, u_tow, u_pos, u_front, u_when, u_kick, u_gap, u_high = (
        rng.random() for _ in range(DRAWS_PER_RIDER)
    )
    # (a launch point fixed by the scenario, launch_spread_m = 0, is never replaced by a kick)
    kicker = u_kick < tac.kick_share and tac.launch_spread_m > 0.0
    launch_at = kick_point(tac, u_launch) if kicker else launch_point(tac, u_launch)
    return Choices(
        launch_m_to_go=launch_at,
        kicker=kicker,
        tow_gap_m=tac.tow_gap_m * (0.5 + u_tow),
        jump_gap_m=tac.jump_gap_m * (0.5 + u_gap),
        high_m=tac.high_m if u_high < tac.high_share else 0.0,
        u_pos=u_pos,
        u_front=u_front,
        u_when=u_when,
    )


def _racer(race: Controls, i: int, tac: Tactic, mine: list[Any]) -> Generator[Any, Any, None]:
    ch = draw_choices(tac, race.rng)
    launch_at, tow = ch.launch_m_to_go, ch.tow_gap_m
    u_pos, u_front, u_when = ch.u_pos, ch.u_front, ch.u_when
    if launch_at is not None and tac.jump_gap_m > tac.follow_gap_m:
        # the jump from the wheel: sit off it a bike length or two before the launch point
        race.spawn(sit_off(race, i, launch_at + tac.sit_off_m, ch.jump_gap_m, ch.high_m))
    lap = race.scenario.track.lap_m
    start_scripted_moves(race, i, tac, hold_gap=True)
    if u_pos < tac.takes_front and tac.let_gap_m is None and tac.move_up_m_to_go is None:
        race.spawn(_position(race, i, lap))
    yield race.derny_off
    race.pace(i, tac.windup_kmh, tac.windup_pace)
    pull_off = race.scenario.derny.pull_off_m_to_go
    if u_front < tac.takes_front:
        lo = (launch_at or 0.0) + FRONT_BEFORE_LAUNCH_M
        if pull_off - 50.0 > lo:
            race.spawn(_take_front(race, i, tac, lo + (pull_off - 50.0 - lo) * u_when))
    env = race.env
    own = race.mark(i, launch_at) if launch_at is not None else None
    mine.append(own)
    scripted = tac.hesitation_s is not None
    # the scripted wait starts when a rival is clear by gap_trigger_m; the waiting game's
    # tolerance is set when the attack comes (below)
    brk: Any = race.breakaway(tac.gap_trigger_m, fresh=True) if scripted else None
    mine.append(brk)
    timer: Any = None
    coming: Any = None  # a rival launched from behind comes alongside
    seen = 0  # launches (race.launches) already reacted to
    round_wait = False  # waiting for the larger gap that makes coming round worth it
    dropped: Any = None  # the wheel it holds is being let go
    quarry: int = -1  # the rider this one chases
    caught: Any = None  # the chase has closed on the quarry
    while not race.launched(i):
        # the rivals' launches since the last look (one at this very instant included)
        go = False
        for j in race.launches[seen:]:
            if j == i:
                continue
            late = launch_at is not None and race.m_to_go(i) <= REACH * launch_at
            if race.position(j) < race.position(i):
                if late and race.places()[0] == i:
                    # the leader sees a rival going from behind when it comes alongside
                    alongside = race.passed(j, i, -race.bike_length)
                    mine.append(alongside)
                    coming = alongside if coming is None else first_of(env, [coming, alongside])
                continue  # others take its wheel as it comes past (the kernel's reflex)
            # a gap opening beyond the one it holds (a rider sitting off to jump holds more)
            held = max(race.sitting_off(i) - tac.follow_gap_m, 0.0)
            gap_open = race.rider_ahead(i) == j and race.wheel_gap(j, i) > WHEEL_GAP_M + held
            if gap_open and late:
                go = True  # a gap opens just ahead late in the race: close it at once
            elif not late and not scripted and brk is None and not race.chase_started.triggered:
                # an attack far out: the waiting game, with a tolerance that shrinks with the
                # distance left
                share = min(1.0, race.m_to_go(i) / pull_off) if pull_off > 0 else 1.0
                brk = race.breakaway(max(tow * share, tac.gap_trigger_m), fresh=True)
                mine.append(brk)
            if gap_open and not late and not scripted and not race.chase_started.triggered:
                # closing the gap would tow the others up to him: the rider nearest rides
                # its own tempo
                race.hesitate(i, tac.windup_kmh)
            elif not go and not race.hesitating(i):
                # hold the line, on the wheel just ahead, whatever the speed (a rider who has
                # lost it closes the gap)
                ahead = race.rider_ahead(i)
                if ahead is not None and ahead != race.following(i):
                    race.take_wheel(i, ahead)
        if go:
            yield env.timeout(tac.reaction_s)
            race.launch(i, 1.0, "launch")
            return
        seen = len(race.launches)
        # the wheel this rider holds is let go by the rider ahead of it: a gap opens
        was = dropped
        dropped = _wheel_dropped(race, i) if race.launches and caught is None else None
        if dropped is not was:
            race.forget(was)
            mine.append(dropped)
        waits = (race.next_launch, dropped, coming, caught, own, brk, timer)
        yield first_of(env, [ev for ev in waits if ev is not None])
        if race.launched(i) or race.finished_rider(i):
            return
        if own is not None and own.triggered:
            out = _bend_exit_to_go(race, i) if race.on_wheel(i) else None
            if out is not None:
                # on a wheel in a bend: come past in the next straight, not over the top
                yield race.mark(i, out)
                if race.launched(i) or race.finished_rider(i):
                    return
            race.launch(i, 1.0, "launch")
            return
        if caught is not None and caught.triggered:
            # the chase has closed the gap: on the wheel it chased, to go at its own point
            caught = None
            if not race.finished_rider(quarry):
                race.sit_on(i, quarry)
            continue
        if dropped is not None and dropped.triggered:
            # its wheel is losing the one ahead: come round it (a sprint if this late, else
            # the chase)
            yield env.timeout(tac.reaction_s)
            if race.launched(i) or race.finished_rider(i):
                return
            if launch_at is not None and race.m_to_go(i) <= REACH * launch_at:
                race.launch(i, 1.0, "launch")
                return
            quarry, caught = _chase(race, i, tac)
            mine.append(caught)
            continue
        if coming is not None and coming.triggered:
            # the leader sees the rival alongside: it defends, all out
            yield env.timeout(tac.reaction_s)
            race.launch(i, 1.0, "launch")
            return
        if timer is not None and timer.triggered:
            # the scripted wait is over: lead the chase, or take the wheel of whoever did
            timer = None
            if race.chase_started.triggered:
                race.take_wheel(i, race.chase_started.value)
            elif race.nearest_chaser(i):
                race.chase(i, tac.chase_effort)
                return
            continue
        if brk is not None and brk.triggered:
            leader = brk.value
            brk = None
            if leader == i:
                continue
            if scripted:
                race.hesitate(i, tac.cruise_kmh)
                timer = env.timeout(tac.hesitation_s)
                continue
            if race.chase_started.triggered:
                continue  # somebody is chasing already: this rider holds its wheel
            behind = race.places_behind_chase_front(i)
            if behind == 0 or round_wait:
                # (from further back: coming round the line)
                quarry, caught = _chase(race, i, tac)
                mine.append(caught)
                continue
            round_wait = True
            brk = race.breakaway(tow + ROUND_M * behind, fresh=True)
            mine.append(brk)


def _chase(race: Controls, i: int, tac: Tactic) -> tuple[int, Any]:
    """Rider ``i`` chases the leader on the road: the leader, and the event of the chase
    closing to a metre behind its back wheel (a watch only this rider asks for: ``forget``)."""
    quarry = race.places()[0]
    race.chase(i, tac.chase_effort)
    return quarry, race.passed(i, quarry, -(race.bike_length + 1.0))


def _wheel_dropped(race: Controls, i: int) -> Any:
    """Event: the rider whose wheel ``i`` holds falls :data:`DROP_M` behind the rider ahead of
    it (None when ``i`` holds no wheel, or that rider leads or waits on purpose)."""
    k = race.following(i)
    if k is None or race.finished_rider(k) or race.hesitating(k):
        return None  # a wheel that lets a gap go on purpose: the waiting game decides
    j = race.rider_ahead(k)
    if j is None or race.wheel_gap(j, k) >= DROP_M:
        return None  # no wheel ahead of it, or one it is not holding (a chase, a gap let go)
    return race.passed(j, k, race.bike_length + DROP_M)


def _bend_exit_to_go(race: Controls, i: int) -> float | None:
    """Where the bend rider ``i`` is in ends (m to go), or None on a straight."""
    track = race.scenario.track
    x = race.position(i)
    lap = track.lap_m
    s = x % lap
    b = track.bends()
    for lo, hi in ((b[0], b[1]), (b[2], b[3])):
        if lo <= s < hi:
            return max(race.race_m - (x - s + hi), 0.0)
    return None


def _position(race: Controls, i: int, lap: float) -> Generator[Any, Any, None]:
    """Behind the derny: from third or further back, move up to the first rider's wheel."""
    yield race.mark(i, race.race_m - lap)
    if race.derny_off.triggered:
        return
    places = race.places()
    if places.index(i) < 2:
        return
    first, second = places[0], places[1]
    race.move_out(i, 0.0)
    race.take_wheel(i, first)  # outside the line, up to the first rider's wheel
    yield first_of(
        race.env,
        [
            # level with the second rider (who then gives way): drop in
            race.passed(i, second, -0.3),
            race.env.timeout(MOVE_UP_MAX_S),
            race.derny_off,
        ],
    )
    if race.launched(i) or race.derny_off.triggered:
        return
    race.move_in(i)  # on the first rider's wheel, and settle there
    yield first_of(race.env, [race.env.timeout(SETTLE_S), race.derny_off])
    race.release_wheel(i)


def _take_front(
    race: Controls, i: int, tac: Tactic, at_m_to_go: float
) -> Generator[Any, Any, None]:
    """After the pull-off: move up on the outside to the front of the line and lead it."""
    yield race.mark(i, at_m_to_go)
    if race.launched(i) or race.anyone_on_effort():
        return
    places = race.places()
    if places and places[0] == i:
        return
    front = places[0]
    race.move_out(i, MOVE_UP_KMH)
    race.pace(i, race.speed_kmh(i) + MOVE_UP_KMH, 1.0)  # a move up is ridden hard
    yield first_of(
        race.env, [race.passed(i, front, race.bike_length + 1.0), race.env.timeout(MOVE_UP_MAX_S)]
    )
    if not race.launched(i):
        race.move_in(i)
        race.pace(i, tac.windup_kmh, tac.windup_pace)
