"""Time trials in the race kernel: the events, the standing start, the dive, the bends."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from keirin_sim.calibration import default_rider
from keirin_sim.engine.timetrial import EVENTS, ride
from keirin_sim.model.rider import Rider, anaerobic_reserve_j, apr_power
from keirin_sim.model.track import Track


@pytest.fixture(scope="module")
def man() -> Rider:
    return default_rider("men")


@pytest.mark.parametrize("event", list(EVENTS))
def test_every_event_rides_its_distance_with_ordered_splits(man, event):
    tt = ride(event, man)
    ev = EVENTS[event]
    assert tt.split_m[-1] == ev.distance_m
    assert tt.splits_s == sorted(tt.splits_s) and tt.splits_s[-1] == tt.time_s
    # the traces reach the line: distance from the timing start up to the timed distance
    assert tt.distance_m[-1] == pytest.approx(ev.distance_m, abs=3.0)
    assert (tt.launch_m is not None) == ev.flying


def test_default_elite_man_inside_the_published_range(man):
    f200 = ride("flying200", man)
    assert 9.15 <= f200.time_s <= 9.45
    assert 76.0 <= f200.top_speed_kmh <= 80.5
    assert 145.0 <= f200.top_cadence_rpm <= 165.0


def test_default_elite_woman_flying_200_inside_the_published_range():
    assert 10.05 <= ride("flying200", default_rider("women")).time_s <= 10.45


def test_standing_start_from_rest_is_torque_limited(man):
    tt = ride("standing-lap", man)
    assert tt.speed_kmh[0] == pytest.approx(0.0, abs=0.5)
    # early power far below Pmax (low cadence), rising as the cadence rises
    early = tt.power_w[(tt.t > 0.2) & (tt.t < 1.0)]
    assert early.max() < 0.5 * man.pmax_w
    assert tt.peak_power_w > 0.8 * man.pmax_w


def test_an_explicit_launch_is_never_better_than_the_optimised_one(man):
    best = ride("flying200", man, traces=False)
    for lm in (100.0, best.launch_m + 60.0, 600.0):
        assert ride("flying200", man, launch_m=lm, traces=False).time_s >= best.time_s - 1e-3


def test_thinner_air_rides_faster(man):
    sea = ride("kilo", man, traces=False).time_s
    assert ride("kilo", man, air_density=1.0, traces=False).time_s < sea - 0.5


def test_the_lean_in_the_bends_shortens_the_lap(man, monkeypatch):
    """Fitton & Symons 2018: the centre of mass rides a shorter radius than the wheels.  With
    a negligible centre-of-mass height the same rider needs longer for a flying lap."""
    from keirin_sim.engine import course

    lean = ride("flying-lap", man, traces=False).time_s
    monkeypatch.setattr(course, "COM_HEIGHT_M", 1e-6)
    upright = ride("flying-lap", man, traces=False).time_s
    assert 0.005 * upright < upright - lean < 0.05 * upright


def test_tighter_bends_are_slower(man):
    # more of the lap in bends, where the tyres carry the centripetal load too
    wide = ride("flying-lap", man, track=Track(bend_radius_m=25.0), traces=False).time_s
    tight = ride("flying-lap", man, track=Track(bend_radius_m=19.0), traces=False).time_s
    assert tight > wide


def test_a_bigger_gear_starts_slower(man):
    small = ride("standing-lap", replace(man, development_m=7.5), traces=False)
    big = ride("standing-lap", replace(man, development_m=9.5), traces=False)
    assert big.splits_s[0] > small.splits_s[0]


def test_unknown_event_is_an_error(man):
    with pytest.raises(ValueError, match="unknown event"):
        ride("pursuit", man)


def test_all_out_power_follows_the_two_component_curve():
    """All out at the (fatigue-shifted) optimal cadence the kernel's law gives
    P(t) = CP + (Pmax - CP)(f exp(-k t) + (1 - f) exp(-s k t)) when the reserve is
    (Pmax - CP) / k: Weyand et al.'s APR with a slow component (rider.py)."""
    from keirin_sim.engine.kernel import FADE_FAST, FADE_SLOW, STAND_GAIN

    k = 0.04
    r = Rider("x", pmax_w=2000.0, cp_w=450.0, w_prime_j=anaerobic_reserve_j(2000.0, 450.0, k))
    dt, w, t = 0.001, r.w_prime_j, 0.0
    out = {}
    v_opt = r.cadence_opt_rpm * r.development_m / 60.0  # fresh optimal speed
    a = r.cp_w / r.pmax_w
    while t < 60.0 + dt / 2:
        # the peak of the shifted curve sits at phi * the fresh optimum
        q = w / r.w_prime_j
        phi = np.sqrt(a + (1 - a) * (FADE_FAST * q + (1 - FADE_FAST) * q**FADE_SLOW))
        p = float(r.available_power(phi * v_opt, w))
        for mark in (10.0, 20.0, 60.0):
            if abs(t - mark) < dt / 2:
                out[mark] = p / (1.0 + STAND_GAIN * (1.0 - phi))  # the seated peak
        w += float(r.w_balance_rate(p, w, phi * v_opt)) * dt
        t += dt
    for mark, p in out.items():
        g = FADE_FAST * np.exp(-k * mark) + (1 - FADE_FAST) * np.exp(-FADE_SLOW * k * mark)
        assert p == pytest.approx(r.cp_w + (r.pmax_w - r.cp_w) * g, rel=3e-3), mark
    # and it is not Weyand's one exponential: the slow component holds more at 60 s
    assert out[60.0] > apr_power(60.0, r.pmax_w, r.cp_w, k)


def test_fatigue_hits_high_cadence_hardest():
    """The parallel shift of the force-cadence line: with half the reserve gone, power above
    the optimal cadence falls by a larger share than at it."""
    r = Rider("x", pmax_w=2000.0, cp_w=450.0, w_prime_j=60000.0)
    v_opt = r.cadence_opt_rpm * r.development_m / 60.0
    at_opt = r.available_power(v_opt, 30000.0) / r.envelope(v_opt)
    high = r.available_power(1.2 * v_opt, 30000.0) / r.envelope(1.2 * v_opt)
    assert high < at_opt < 1.0


@pytest.mark.parametrize("event", ["standing-lap", "kilo", "flying200"])
def test_the_energy_account_closes(man, event):
    """Work at the wheel = drag + rolling + kinetic energy gained, from rest too (the forces at
    the first instants are taken at 0.5 m/s); a flying effort's dive adds its drop besides."""
    from keirin_sim.engine.timetrial import DIVE_HEIGHT_M

    e = ride(event, man, traces=False).energy_j
    spent = e["drag_j"] + e["rolling_j"] + e["kinetic_change_j"]
    dive = man.mass_kg * 9.81 * DIVE_HEIGHT_M if EVENTS[event].flying else 0.0
    assert e["wheel_work_j"] + dive == pytest.approx(spent, rel=2e-3)
