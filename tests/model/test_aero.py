"""Drafting tables (keirin-reference.md section 5)."""

from __future__ import annotations

import numpy as np
import pytest

from keirin_sim.model import aero


def test_behind_one_rider_matches_the_published_line_values():
    assert aero.rider_draft(0.1, in_line_depth=1) == pytest.approx(aero.LINE_SECOND)  # 58 %
    assert aero.rider_draft(0.1, in_line_depth=2) == pytest.approx(aero.LINE_THIRD_ON)  # 52 %


def test_shelter_fades_with_the_gap():
    gaps = np.linspace(0.0, 30.0, 301)
    left = aero.rider_draft(gaps)
    assert np.all(np.diff(left) >= 0)
    assert left[-1] == pytest.approx(1.0)


def test_derny_table_is_blockens_motorbike():
    for gap, left in [(2.64, 0.52), (10.0, 0.77), (30.0, 0.88), (50.0, 0.93)]:
        assert aero.derny_draft(gap) == pytest.approx(left)
    assert aero.derny_draft(1.0) == pytest.approx(0.52)
    assert np.all(np.diff(aero.derny_draft(np.linspace(0, 100, 101))) >= 0)


def test_kernel_uses_the_same_tables():
    from keirin_sim.engine import kernel

    assert np.array_equal(kernel._RIDER_GAP, aero.RIDER_GAP_M)
    assert np.array_equal(kernel._RIDER_LEFT, aero.RIDER_DRAG_LEFT)
    assert np.array_equal(kernel._DERNY_GAP, aero.DERNY_GAP_M)
    assert np.array_equal(kernel._DERNY_LEFT, aero.DERNY_DRAG_LEFT)
    assert kernel._LINE2 == aero.LINE_SECOND and kernel._LINE3 == aero.LINE_THIRD_ON
    assert kernel._LEADER_LEFT == aero.LEADER_DRAG_LEFT
