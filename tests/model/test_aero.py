"""Drafting tables (keirin-reference.md section 5)."""

from __future__ import annotations

import numpy as np
import pytest

from keirin_sim.model import aero


def test_behind_one_rider_matches_the_published_line_values():
    # in line at the wheel (0.05 m): the team-pursuit line's measured 58 % and 52 %
    assert aero.rider_draft(0.05, in_line_depth=1) == pytest.approx(aero.LINE_SECOND, abs=0.002)
    assert aero.rider_draft(0.05, in_line_depth=2) == pytest.approx(aero.LINE_THIRD_ON, abs=0.002)


def test_the_smooth_law_goes_through_the_two_rider_table():
    """validation-data.md 1.6: 64.1 / 64.4 / 65.2 / 66.5 / 79.9 % at 0.05-5 m."""
    left = aero.single_draft(aero.RIDER_GAP_M)
    assert np.max(np.abs(left - aero.RIDER_DRAG_LEFT)) < 0.002
    assert aero.single_draft(10.0) == pytest.approx(0.87, abs=0.05)  # CFD, about 87 %
    lead = aero.leader_left(aero.RIDER_GAP_M)
    assert np.max(np.abs(lead - aero.LEADER_DRAG_LEFT)) < 0.0015


def test_shelter_fades_with_the_gap():
    gaps = np.linspace(0.0, 30.0, 301)
    left = aero.rider_draft(gaps)
    assert np.all(np.diff(left) >= 0)
    assert left[-1] == pytest.approx(1.0)
    # smooth: no step bigger than the slope allows anywhere (the old table had kinks)
    fine = aero.single_draft(np.linspace(0.0, 24.9, 2491))
    assert np.max(np.abs(np.diff(fine))) < 0.001


def test_the_wake_is_full_in_line_and_gone_beside_it():
    """The lateral wake (a modelling choice): full in line, fading smoothly, none beyond its
    half-width, and wider further back."""
    off = np.linspace(0.0, 1.5, 151)
    w = aero.wake(off, 0.0)
    assert w[0] == pytest.approx(1.0)
    assert np.all(np.diff(w) <= 0)
    assert aero.wake(aero.WAKE_HALF_M, 0.0) == pytest.approx(0.0)
    assert aero.wake(0.25, 0.0) > 0.8  # "approximately tandem" within 0.25 m
    assert aero.wake(0.5, 5.0) > aero.wake(0.5, 0.0)
    # no jump anywhere: continuous to the edge
    assert np.max(np.abs(np.diff(w))) < 0.03
    # to the side, a follower keeps less of the shelter
    assert aero.rider_draft(0.3, offset_m=0.5) > aero.rider_draft(0.3) + 0.1


def test_derny_table_is_blockens_motorbike():
    for gap, left in [(2.64, 0.52), (10.0, 0.77), (30.0, 0.88), (50.0, 0.93)]:
        assert aero.derny_draft(gap) == pytest.approx(left)
    assert aero.derny_draft(1.0) == pytest.approx(0.52)
    assert np.all(np.diff(aero.derny_draft(np.linspace(0, 100, 101))) >= 0)


def test_kernel_uses_the_same_law():
    from keirin_sim.engine import kernel

    assert (kernel._DRAFT_A, kernel._DRAFT_L, kernel._DRAFT_P) == (
        aero.DRAFT_A,
        aero.DRAFT_L,
        aero.DRAFT_P,
    )
    assert kernel._WAKE_SPREAD == aero.WAKE_SPREAD
    assert (kernel._LEAD_A, kernel._LEAD_L, kernel._LEAD_MAX_M) == (
        aero.LEAD_A,
        aero.LEAD_L,
        aero.LEAD_MAX_M,
    )
    for g in (0.0, 0.3, 2.0, 7.0, 30.0):
        assert kernel.draft_left(g) == pytest.approx(float(aero.single_draft(g)))
        for y in (0.0, 0.3, 0.7):
            assert kernel.wake(y, g, aero.WAKE_HALF_M) == pytest.approx(float(aero.wake(y, g)))
    assert np.array_equal(kernel._DERNY_GAP, aero.DERNY_GAP_M)
    assert np.array_equal(kernel._DERNY_LEFT, aero.DERNY_DRAG_LEFT)
    assert kernel._LINE2 == aero.LINE_SECOND and kernel._LINE3 == aero.LINE_THIRD_ON
