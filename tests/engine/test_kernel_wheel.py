"""Coming off the wheel (issue 26): the jump from a bike length or two back, the swing-out only
before touching the wheel, the pass's width, the inside gap late in the straight, the banking's
energy."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from keirin_sim import simulate
from keirin_sim.engine import kernel as K
from keirin_sim.engine.course import SWING_M, kernel_globals
from keirin_sim.model.banking import BANK_BEND_DEG, height_m, speed_from_drop
from keirin_sim.model.derny import BIKE_LENGTH_M
from keirin_sim.model.track import Track

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_duel import DUEL_DT_S, duel  # noqa: E402


@pytest.fixture(scope="module")
def jump():
    """The duel: the leader goes at 250 m, the follower sits off to 2.5 m and jumps at 150 m."""
    sc = duel(250.0, 150.0, gap_m=2.5, sit_off_m=40.0)
    return sc, simulate(sc)


def test_the_follower_sits_off_before_it_jumps(jump):
    sc, r = jump
    tr = r.traces
    ev = {e.kind: e for e in r.events if e.rider == "Follower"}
    assert ev["sit_off"].detail == "2.5 m"
    k = int(np.searchsorted(tr.t, ev["launch"].time_s))
    gap = tr.x_m[k, 0] - tr.x_m[k, 1] - BIKE_LENGTH_M
    assert 1.8 < gap < 3.5  # a bike length or two back when it goes
    # it had been on the wheel (0.3 m) before it sat off
    k0 = int(np.searchsorted(tr.t, ev["sit_off"].time_s))
    assert tr.x_m[k0, 0] - tr.x_m[k0, 1] - BIKE_LENGTH_M < 1.5


def test_it_swings_out_only_when_it_would_touch_the_wheel():
    """Closing on a slower wheel, the rider stays in the slipstream until the gap is down to
    what its closing speed covers while it gets a shoulder clear; then it swings out by
    SWING_M above the wheel's line."""
    sc = duel(250.0, 150.0, gap_m=2.5, sit_off_m=40.0)
    # a leader that only tempos: the follower comes past it
    sc = sc.with_tactic("Leader", kind="follow", launch_m_to_go=None)
    r = simulate(sc)
    tr = r.traces
    swing = next(e for e in r.events if e.kind == "go_round" and e.rider == "Follower")
    launch = next(e for e in r.events if e.kind == "launch" and e.rider == "Follower")
    assert swing.time_s > launch.time_s + 0.3  # it built speed in the slipstream first
    k = int(np.searchsorted(tr.t, swing.time_s))
    gap = tr.x_m[k, 0] - tr.x_m[k, 1] - BIKE_LENGTH_M
    dv = tr.v_ms[k, 1] - tr.v_ms[k, 0]
    assert dv > 0.5  # with a speed difference
    assert gap < 0.3 + dv * 0.5 / 1.0 + 0.3  # BLOCK_M + dv * IN_LINE_M / LATERAL_MS, a step's slack
    assert tr.lane_m[k:, 1].max() == pytest.approx(sc.lane_m + SWING_M, abs=0.02)
    assert r.finish_order[0] == "Follower"


def _blocked_state(x: float, lane_wheel: float, lane_rider: float):
    """Two riders: 0 ahead (following, slower), 1 on an effort closing on it, in line."""
    tr = Track()
    gp = kernel_globals(tr, 1500.0, 0.1, lane_m=0.25)
    S = np.zeros((2, K.NSTATE))
    S[0, [K.SX, K.SV, K.SLANE]] = (x, 18.0, lane_wheel)
    S[1, [K.SX, K.SV, K.SLANE]] = (x - BIKE_LENGTH_M - 0.3, 19.0, lane_rider)
    PR = np.zeros((2, K.NPARAM))
    PR[:, K.PR_LANE0] = 0.25
    C = np.zeros((2, K.NCTRL))
    C[0, K.CT_MODE], C[1, K.CT_MODE] = K.MODE_FOLLOW, K.MODE_EFFORT
    C[0, K.CT_LANE_TGT], C[1, K.CT_LANE_TGT] = lane_wheel, lane_rider
    WK = np.array([[K.W_BLOCKED, 1, -1, 1, K.RX_STEER]], dtype=np.int64)
    WV = np.array([0.3])
    rlog = np.zeros((8, K.NRL))
    hs = np.zeros(K.NHS)
    assert K.watch_value(K.W_BLOCKED, 1, -1, 0.3, S, np.zeros(2), PR, C, gp) > 0.0
    K.reflex(0, 0.0, S, np.zeros(2), C, PR, gp, WK, WV, rlog, hs)
    return C[1, K.CT_LANE_TGT]


def test_the_pass_goes_over_the_top_and_late_in_the_straight_through_the_inside():
    # mid-race: over the top, SWING_M above the wheel
    assert _blocked_state(900.0, 1.0, 0.8) == pytest.approx(1.0 + SWING_M)
    # in the final straight (20 m to go) with the wheel up the track: through the gap inside
    assert _blocked_state(1480.0, 1.0, 0.8) == pytest.approx(0.25)
    # in the final straight with the wheel on the black line: no gap inside
    assert _blocked_state(1480.0, 0.25, 0.25) == pytest.approx(0.25 + SWING_M)


def test_the_banking_gives_back_what_climbing_costs():
    """The climb rate integrates to the height: up in a bend costs sin(45 deg) per metre
    across; coming down in a straight gives back only sin(12 deg); riding round a lap at a
    constant height above the line nets nothing."""
    tr = Track()
    gp = kernel_globals(tr, 1500.0, 0.1, lane_m=0.25)
    b = tr.bends()
    mid = 0.5 * (b[0] + b[1])
    assert K._climb_rate(mid, 0.0, 1.0, 0.0, gp) == pytest.approx(
        math.sin(math.radians(BANK_BEND_DEG))
    )
    # a lap at 1.5 m up: the height changes with the banking, and comes back
    xs = np.linspace(0.0, tr.lap_m, 25001)
    rate = np.array([K._climb_rate(x, 1.5, 0.0, 1.0, gp) for x in xs])
    h = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(xs))])
    expect = height_m(tr, xs, 1.5) - float(height_m(tr, 0.0, 1.5))
    assert np.max(np.abs(h - expect)) < 0.01
    assert abs(h[-1]) < 1e-3
    # what a drop from 1.5 m up the bend is worth at 60 km/h
    dv = speed_from_drop(60 / 3.6, float(height_m(tr, mid, 1.5))) - 60 / 3.6
    assert 0.5 < dv < 0.8


def test_watching_high_costs_and_coming_down_pays_in_a_race():
    """A rider told to watch from up the banking climbs there (its energy accounts for it) and
    comes down to its line when it jumps."""
    sc = duel(250.0, 120.0, gap_m=1.0)
    sc = sc.with_tactic("Follower", kind="race", launch_m_to_go=120.0, launch_spread_m=0.0)
    sc = sc.with_tactic("Follower", high_share=1.0, high_m=1.5, kick_share=0.0, sit_off_m=40.0)
    r = simulate(sc)
    tr = r.traces
    hi = next(e for e in r.events if e.kind == "go_high")
    # it comes down as it goes: at its launch, or at a chase if the leader got away meanwhile
    go = next(e for e in r.events if e.kind in ("launch", "chase") and e.rider == "Follower")
    assert hi.time_s < go.time_s
    k = int(np.searchsorted(tr.t, go.time_s))
    assert tr.lane_m[k, 1] > sc.lane_m + 1.2  # up there when it jumps
    assert tr.lane_m[-1, 1] < sc.lane_m + 0.3 + SWING_M  # down again
    e = r.energy_j["Follower"]
    rhs = e["drag_j"] + e["rolling_j"] + e["kinetic_change_j"] + e["potential_change_j"]
    assert abs(e["wheel_work_j"] - rhs) < 1e-3 * e["wheel_work_j"]


def test_the_duel_a_follower_jumping_from_a_length_back_can_win():
    """Issue 26's duel (benchmarks/bench_duel.py): the leader goes at 250 m; a follower that
    sits off 120 m before and jumps from a bike length or two back wins from at least one
    launch point between 150 and 60 m to go, reaching the line faster."""
    wins = []
    for f in (150.0, 120.0, 90.0, 60.0):
        for g in (1.75, 2.5):
            r = simulate(duel(250.0, f, g, 120.0), traces=False, dt=DUEL_DT_S)
            if r.finish_order[0] == "Follower":
                wins.append((f, g))
                assert r.top_speed_kmh["Follower"] > r.top_speed_kmh["Leader"] + 2.0
    assert wins
