"""Velodrome geometry (keirin-reference.md section 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keirin_sim.model.track import Track


@pytest.mark.parametrize(
    "track",
    [Track(), Track(lap_m=333.33, bend_radius_m=25.0), Track(lap_m=400.0, bend_radius_m=30.0)],
)
def test_each_bend_turns_half_a_circle(track):
    s = np.linspace(0.0, track.lap_m, 200001)
    total = np.trapezoid(track.curvature(s), s)
    assert total == pytest.approx(2.0 * math.pi, rel=1e-4)


def test_riding_higher_costs_two_pi_d_per_lap():
    t = Track()
    assert t.lap_length(1.0) - t.lap_length(0.0) == pytest.approx(2.0 * math.pi)
    # the same from the curvature law the kernel integrates: ds_rider = ds * (1 + d * kappa)
    s = np.linspace(0.0, t.lap_m, 200001)
    extra = np.trapezoid(1.0 * t.curvature(s), s)
    assert extra == pytest.approx(2.0 * math.pi, rel=1e-4)


def test_straights_and_bends_add_up():
    t = Track()
    b = t.bends()
    assert b[1] - b[0] == pytest.approx(math.pi * t.bend_radius_m)
    assert 2 * t.straight_m + 2 * math.pi * t.bend_radius_m == pytest.approx(t.lap_m)
    assert t.straight_m == pytest.approx((250 - 2 * math.pi * 22) / 2)  # 55.9 m
    assert t.in_bend(b[0] + 1.0) and not t.in_bend(b[1] + 1.0)
    assert t.sprinters_lane_m == pytest.approx(0.65)


def test_plan_view_is_a_closed_loop_of_the_right_length():
    t = Track()
    s = np.linspace(0.0, t.lap_m, 5001)
    xy = t.xy(s)
    steps = np.hypot(*np.diff(xy, axis=0).T)
    assert steps.sum() == pytest.approx(t.lap_m, rel=1e-3)
    assert np.allclose(xy[0], xy[-1], atol=1e-6)
    outer = t.xy(s, 1.0)
    assert np.hypot(*np.diff(outer, axis=0).T).sum() == pytest.approx(
        t.lap_m + 2 * math.pi, rel=1e-3
    )


def test_scaled_keeps_the_shape():
    t = Track()
    big = t.scaled(400.0)
    assert big.lap_m == 400.0
    assert big.bend_radius_m == pytest.approx(22.0 * 1.6)
    assert big.straight_m == pytest.approx(t.straight_m * 1.6)
    assert big.transition_m == pytest.approx(t.transition_m * 1.6)
    assert (big.width_m, big.finish_frac) == (t.width_m, t.finish_frac)
    s = np.linspace(0.0, big.lap_m, 200001)
    assert np.trapezoid(big.curvature(s), s) == pytest.approx(2.0 * math.pi, rel=1e-4)
