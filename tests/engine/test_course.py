"""The kernel's global parameters of a course."""

from __future__ import annotations

import pytest

from keirin_sim.engine import kernel as K
from keirin_sim.engine.course import FOLLOW_RANGE_M, kernel_globals
from keirin_sim.model.derny import Derny
from keirin_sim.model.track import Track


def test_a_race_course_carries_the_track_and_the_derny_schedule():
    track, derny = Track(), Derny()
    gp = kernel_globals(track, 6 * track.lap_m, 0.1, derny, lane_m=0.25)
    assert gp.shape == (K.NGLOBAL,)
    assert gp[K.GP_RACE] == 6 * track.lap_m and gp[K.GP_LAP] == track.lap_m
    assert tuple(gp[[K.GP_B0, K.GP_B1, K.GP_B2, K.GP_B3]]) == pytest.approx(track.bends())
    assert gp[K.GP_DV0] == pytest.approx(derny.start_kmh / 3.6)
    assert gp[K.GP_DV1] == pytest.approx(derny.end_kmh / 3.6)
    assert gp[K.GP_DRAMP] == pytest.approx(6 * track.lap_m - derny.ramp_end())
    assert gp[K.GP_DLANE] == 0.25 and gp[K.GP_FOLLOW] == FOLLOW_RANGE_M


def test_a_time_trial_has_no_derny_and_a_longer_lap_moves_the_bends():
    short = kernel_globals(Track(), 1000.0, 0.1)
    assert short[K.GP_DV0] == 0.0 and short[K.GP_DV1] == 0.0
    big = Track().scaled(400.0)
    long_ = kernel_globals(big, 1000.0, 0.1)
    assert long_[K.GP_LAP] == 400.0 and long_[K.GP_B1] > short[K.GP_B1]
