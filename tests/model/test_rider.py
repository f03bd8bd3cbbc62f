"""Rider physiology: power-cadence envelope, W' balance, power-duration (keirin-reference.md 6)."""

from __future__ import annotations

import numpy as np
import pytest

from keirin_sim.model.rider import Rider, kmh, ms, solo_speed_for_power


def test_envelope_is_the_published_parabola():
    """Seated (from the optimal cadence up) the envelope is Dorel's parabola; below it the
    standing start's gain lifts it (rider.py)."""
    from keirin_sim.engine.kernel import STAND_GAIN

    r = Rider(name="r", pmax_w=1800.0, cadence_opt_rpm=130.0, development_m=8.8)
    v_opt = 130.0 * 8.8 / 60.0
    assert r.envelope(v_opt) == pytest.approx(1800.0)
    assert r.envelope(1.5 * v_opt) == pytest.approx(1800.0 * 1.5 * 0.5)
    assert r.envelope(v_opt / 2) == pytest.approx(1800.0 * 0.5 * 1.5 * (1 + STAND_GAIN * 0.5))
    assert r.envelope(2.2 * v_opt) == 0.0  # never negative
    # the linear fade of the standing gain lifts the peak by 1.2 % and moves it to 0.9 of the
    # optimal cadence (docs/model.md)
    v = np.linspace(1, 2 * v_opt, 2000)
    env = r.envelope(v)
    assert 0.85 * v_opt < v[np.argmax(env)] < 0.95 * v_opt
    assert 1800.0 < env.max() < 1.015 * 1800.0


def test_torque_limited_at_derny_speed():
    """At 30 km/h a 110-inch gear turns under 60 rpm (keirin-reference.md section 6): even out
    of the saddle the rider makes well under its peak there."""
    r = Rider(name="r")
    assert r.cadence_rpm(ms(30.0)) < 60.0
    assert r.envelope(ms(30.0)) < 0.8 * r.pmax_w


def test_available_power_shrinks_with_w_prime_to_cp():
    r = Rider(name="r")
    v = 16.0
    full = r.available_power(v, r.w_prime_j)
    assert full == pytest.approx(r.envelope(v))
    assert r.available_power(v, 0.0) == pytest.approx(min(r.cp_w, r.envelope(v)))
    assert r.available_power(v, 0.0) < r.available_power(v, 0.5 * r.w_prime_j) < full


def test_w_balance_rates():
    """Above CP the time-based drain: the fatigued peak's excess over CP times the share of
    the capacity above CP used; below CP Skiba's refill."""
    r = Rider(name="r", cp_w=450.0, w_prime_j=28000.0)
    v = r.cadence_opt_rpm * r.development_m / 60.0
    w = 10000.0
    lim = r.available_power(v, w)
    assert r.w_balance_rate(lim, w, v) == pytest.approx(-(r.pmax_w - 450.0) * w / 28000.0)
    assert r.w_balance_rate(450.0, w, v) == pytest.approx(0.0)
    # below CP it recovers towards W', faster the emptier it is
    assert r.w_balance_rate(150.0, 7000.0, v) == pytest.approx(300.0 * 21000.0 / 28000.0)
    assert r.w_balance_rate(150.0, 28000.0, v) == pytest.approx(0.0)


def test_power_duration_is_a_sprinters():
    """A 30 s all-out effort averages well below Pmax (the calibration aim of section 6)."""
    r = Rider(name="r", pmax_w=1900.0, cp_w=450.0, w_prime_j=28000.0)
    v = 130.0 * 8.8 / 60.0  # at the optimal cadence
    p30 = r.all_out_mean_power(30.0, v)
    assert 900.0 < p30 < 0.75 * r.pmax_w
    assert r.all_out_mean_power(5.0, v) > p30 > r.all_out_mean_power(120.0, v) > r.cp_w
    # Morton's 3-parameter curve starts at Pmax and falls towards CP
    assert r.morton_power(0.0) == pytest.approx(r.pmax_w)
    assert r.cp_w < r.morton_power(600.0) < r.morton_power(30.0) < r.pmax_w


def test_flying_200m_speed_is_human():
    """About 1,300-1,500 W sustains 70-80 km/h solo: the flying 200 m record is 79 km/h."""
    r = Rider(name="r")
    v = solo_speed_for_power(r, 1400.0, 1.17)
    assert 70.0 < kmh(v) < 82.0
    assert kmh(solo_speed_for_power(r, 450.0, 1.17)) < 55.0


def test_effective_mass_adds_the_wheels():
    r = Rider(name="r", mass_kg=95.0)
    assert r.effective_mass == pytest.approx(95.0 + 0.14 / 0.311**2)


def test_kernel_holds_the_riders_fatigue_and_standing_constants():
    """The compiled kernel keeps its own copies (numba freezes globals into its cache): they
    must be the rider model's."""
    from keirin_sim.engine import kernel
    from keirin_sim.model import rider

    for name in ("STAND_GAIN", "STAND_IX", "FADE_FAST", "FADE_SLOW", "FADE_SOFT_W"):
        assert getattr(kernel, name) == getattr(rider, name), name
