"""The general racing behaviour (racing.py): each decision on its own, on the neutral field
(six equal riders) or the Tokyo final."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from keirin_sim import load_scenario, simulate
from keirin_sim.behaviour.general import REACH, WHEEL_GAP_M, kick_point, launch_point
from keirin_sim.behaviour.scripted import Tactic
from keirin_sim.model.aero import IN_LINE_M
from keirin_sim.model.derny import BIKE_LENGTH_M


@pytest.fixture(scope="module")
def field():
    return load_scenario("neutral_field.toml")


def race(sc, seed, **tactic):
    """``sc`` raced with the race stream ``seed`` and every rider's tactic changed so."""
    if tactic:
        riders = tuple(replace(e, tactic=replace(e.tactic, **tactic)) for e in sc.riders)
        sc = replace(sc, riders=riders)
    return simulate(replace(sc, seed=seed))


def events(res, kind, rider=None):
    return [e for e in res.events if e.kind == kind and (rider is None or e.rider == rider)]


# --- the race's own random stream ---------------------------------------------------------------
def test_same_seed_same_race_other_seed_other_race(field):
    a, b, c = race(field, 5), race(field, 5), race(field, 6)
    assert a.finish_times == b.finish_times and a.events == b.events
    assert a.finish_times != c.finish_times


def test_launch_points_are_drawn_from_the_race_stream(field):
    """Each rider draws eight uniforms in the scenario's order, the first its launch point:
    ``launch_m_to_go`` +- ``launch_spread_m``, or for a late kicker (the sixth draw under
    ``kick_share``) ``kick_m_to_go`` +- 25 %.  A rider that nobody went before launches
    exactly there."""
    tac = field.riders[0].tactic
    seed = 11
    rng = random.Random(seed)
    draws = [[rng.random() for _ in range(8)] for _ in field.riders]
    points = [
        kick_point(tac, d[0]) if d[5] < tac.kick_share else launch_point(tac, d[0]) for d in draws
    ]
    lo = min(tac.kick_m_to_go * 0.75, tac.launch_m_to_go - tac.launch_spread_m)
    assert all(lo <= p <= 300.0 for p in points)  # 200 +- 100 m, or the kick
    res = race(field, seed, takes_front=0.0)
    first = min(events(res, "launch"), key=lambda e: e.time_s)
    i = field.rider_index(first.rider)
    assert first.detail == f"{points[i]:.0f} m to go"


def test_no_spread_no_randomness_in_the_launch():
    tac = Tactic(launch_spread_m=0.0)
    assert launch_point(tac, 0.0) == launch_point(tac, 1.0) == 200.0
    assert launch_point(Tactic(launch_m_to_go=None), 0.5) is None


# --- the pace after the derny --------------------------------------------------------------------
def test_the_leader_winds_up_and_pays_for_it(field):
    """Nobody moves: the rider behind the derny leads the line after the pull-off and winds it
    up to 60-72 km/h by the bell, spending more of its reserve than the wheel behind."""
    res = race(field, 3, takes_front=0.0)
    assert res.story.bell_leader == "Rider 1"
    assert 60.0 <= res.story.bell_leader_speed_kmh <= 72.0
    tr = res.traces
    bell = int(np.argmax(tr.x_m.max(axis=1) >= res.race_m - 250.0))
    w = tr.w_bal_j[bell]
    assert w[0] < w[1] - 3000.0  # the leader has spent at least 3 kJ more than its wheel


def test_a_slower_wind_up_arrives_slower_at_the_bell(field):
    """Everyone launching at 200 m: the bell leader's speed (bell to 200 m) is its wind-up."""
    slow = race(field, 3, takes_front=0.0, launch_spread_m=0.0, windup_kmh=55.0)
    fast = race(field, 3, takes_front=0.0, launch_spread_m=0.0)
    assert slow.story.bell_leader_speed_kmh < 56.5  # (the lean: the line runs inside the CoM)
    assert fast.story.bell_leader_speed_kmh > slow.story.bell_leader_speed_kmh + 3.0


# --- positioning ---------------------------------------------------------------------------------
def test_moving_up_behind_the_derny_costs_distance(field):
    """A rider ready to take the front moves up on the outside, after the first lap, to the
    wheel of the rider behind the derny; riding outside costs it metres of the lap."""
    sc = field
    for k, e in enumerate(sc.riders):
        t = 1.0 if k == 4 else 0.0
        sc = sc.with_tactic(e.rider.name, takes_front=t)
    res = simulate(replace(sc, seed=2))
    mover = "Rider 5"
    up = events(res, "move_up", mover)
    assert up and float(up[0].detail.split()[0]) == pytest.approx(res.race_m - 250.0, abs=1.0)
    places = res.story.places[mover]
    assert places[5] == 5 and places[3] == 2  # fifth after the first lap, second at the pull-off
    i = sc.rider_index(mover)
    tr = res.traces
    assert tr.lane_m[:, i].max() == pytest.approx(sc.lane_m + 2 * IN_LINE_M, abs=0.01)


def test_a_rider_ready_to_take_the_front_leads_at_the_bell(field):
    sc = field
    for e in sc.riders:
        t = 1.0 if e.rider.name == "Rider 6" else 0.0
        sc = sc.with_tactic(e.rider.name, takes_front=t, launch_spread_m=0.0)
    res = simulate(replace(sc, seed=1))
    # behind the derny, then to the front (unless it already leads when its moment comes)
    assert len(events(res, "move_up", "Rider 6")) in (1, 2)
    assert res.story.bell_leader == "Rider 6"


# --- when to go ----------------------------------------------------------------------------------
def test_the_leader_defends_when_a_rival_comes_alongside(field):
    """A rival launching from behind is seen when its front wheel reaches the leader's back
    wheel; the leader goes ``reaction_s`` later, before its own point."""
    tac = field.riders[0].tactic
    for seed in range(30):
        own = launch_point(tac, random.Random(seed).random())  # Rider 1 draws first
        res = race(field, seed, takes_front=0.0)
        leader = next(e for e in events(res, "launch") if e.rider == "Rider 1")
        if float(leader.detail.split()[0]) <= own + 0.5:
            continue  # it went at its own point
        tr = res.traces
        seen = leader.time_s - tac.reaction_s
        i = tr.names.index("Rider 1")
        xi = float(np.interp(seen, tr.t, tr.x_m[:, i]))
        xs = [float(np.interp(seen, tr.t, tr.x_m[:, k])) for k in range(len(tr.names))]
        if max(xs) > xi:
            continue  # not leading: it went for another reason (a gap opening ahead)
        rivals = [e.rider for e in events(res, "launch") if e.time_s < seen]
        gaps = [float(np.interp(seen, tr.t, tr.x_m[:, tr.names.index(r)])) - xi for r in rivals]
        assert any(g == pytest.approx(-BIKE_LENGTH_M, abs=0.05) for g in gaps), gaps
        return
    pytest.fail("no race in which the leader answered a rival before its own point")


def test_a_wheel_follower_waits_for_the_straight(field):
    """A rider on a wheel whose launch point falls in a bend goes at the bend's end."""
    tr_ = field.track
    b = tr_.bends()
    lap = tr_.lap_m
    # the last bend: from lap - b[3] + (b[3] - b[2]) to lap - b[3] metres to go
    exit_to_go = lap - b[3]
    in_bend = exit_to_go + 30.0
    sc = field
    for e in sc.riders:
        # (nobody sits off its wheel: a rider sitting a length off when its wheel goes late in
        # the race goes with it at once, issue 26)
        sc = sc.with_tactic(
            e.rider.name,
            takes_front=0.0,
            launch_spread_m=0.0,
            launch_m_to_go=in_bend,
            jump_gap_m=0.3,
        )
    res = simulate(replace(sc, seed=0))
    goes = {e.rider: float(e.detail.split()[0]) for e in events(res, "launch")}
    # the leader is on no wheel: it goes at its point, in the bend; the others on the straight
    assert goes["Rider 1"] == pytest.approx(in_bend, abs=1.0) or goes["Rider 1"] > in_bend
    late = [m for n, m in goes.items() if n != "Rider 1"]
    assert late and all(m <= exit_to_go + 1.0 or m > in_bend for m in late)


# --- an attack: the waiting game ---------------------------------------------------------------
def test_the_nearest_rider_waits_then_chases(tokyo, tokyo_result):
    """Glaetzer, with a gap of more than WHEEL_GAP_M already open, rides his tempo; he chases
    when the gap passes his drawn tolerance; a bigger tolerance makes a longer wait."""
    ev = tokyo_result.events
    hes = [e for e in ev if e.kind == "hesitate"]
    assert [e.rider for e in hes] == ["Matthew Glaetzer"]
    assert WHEEL_GAP_M < 6.0  # his scripted gap is more than a wheel
    t_chase = next(e.time_s for e in ev if e.kind == "chase")
    sc = tokyo.set_param("field.tow_gap_m", 40.0)
    later = next(e.time_s for e in simulate(sc, traces=False).events if e.kind == "chase")
    assert later > t_chase + 1.0


def test_a_late_attack_is_answered_at_once(tokyo):
    """Within REACH times its launch point the nearest rider does not wait: a gap opening just
    ahead is closed at once."""
    sc = tokyo.with_tactic("Jason Kenny", attack_m_to_go=200.0)
    res = simulate(sc, traces=False)
    attack = next(e for e in res.events if e.kind == "attack")
    assert not [e for e in res.events if e.kind == "hesitate" and e.time_s >= attack.time_s]
    assert REACH * 100.0 <= 200.0 <= REACH * 300.0  # inside every drawn rider's reach


def test_a_scripted_hesitation_replaces_the_waiting_game(tokyo):
    """``hesitation_s`` set: the field waits that long once the attacker is ``gap_trigger_m``
    clear, then the nearest chases (the counterfactual ``keirin-sim catch`` sweeps)."""
    sc = tokyo.set_param("field.hesitation_s", 3.0)
    ev = simulate(sc, traces=False).events
    gap = next(e for e in ev if e.kind == "gap_opened")
    chase = next(e for e in ev if e.kind == "chase")
    assert chase.time_s == pytest.approx(gap.time_s + 3.0, abs=1e-6)
    assert chase.rider == "Matthew Glaetzer"


# --- boxed -------------------------------------------------------------------------------------
def test_a_boxed_rider_stays_in_until_the_box_opens(field):
    """Boxed: a rival was alongside on the outside when the rider closed on the wheel ahead;
    it stays in its line until that rival is a bike length clear either way."""
    for seed in range(10):
        res = race(field, seed)
        boxed = events(res, "boxed")
        if not boxed:
            continue
        e = boxed[0]
        rival = e.detail.removeprefix("by ")
        tr = res.traces
        i, j = tr.names.index(e.rider), tr.names.index(rival)
        k = int(np.searchsorted(tr.t, e.time_s))
        assert abs(tr.x_m[k, j] - tr.x_m[k, i]) < BIKE_LENGTH_M + 0.1
        assert tr.lane_m[k, j] > tr.lane_m[k, i]
        out = next((u for u in events(res, "unboxed", e.rider) if u.time_s > e.time_s), None)
        end = out.time_s if out else res.finish_times[e.rider]
        inside = (tr.t > e.time_s + 0.5) & (tr.t < end)
        if not inside.any():
            continue  # a box that opened within half a second: look at another race
        assert tr.lane_m[inside, i].max() < tr.lane_m[k, i] + 0.05  # it did not come out
        return
    pytest.fail("no boxed rider in ten races")


def test_a_rider_can_come_through_on_the_inside(field):
    """A rider that went over the top and stays out leaves the inside line open: riders behind
    come through underneath it in the last lap (no reflex forbids it, none is needed)."""
    for seed in range(10):
        tr = race(field, seed).traces
        x, lane = tr.x_m, tr.lane_m
        last_lap = x.max(axis=1) > field.race_m - field.track.lap_m
        for a in range(x.shape[1]):
            for b in range(x.shape[1]):
                d = x[:, a] - x[:, b]
                passes = np.flatnonzero((d[:-1] < 0) & (d[1:] >= 0) & last_lap[:-1])
                if any(lane[k, a] < lane[k, b] - IN_LINE_M for k in passes):
                    return
    pytest.fail("nobody came through on the inside in ten races")
