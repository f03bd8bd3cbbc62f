"""The derny's pace schedule and pull-off (UCI 3.2.134, 3.2.137)."""

from __future__ import annotations

import numpy as np
import pytest

from keirin_sim.model.derny import Derny, pull_off_for_track


def test_speed_rises_from_30_to_50_by_the_pull_off():
    d = Derny()
    assert d.speed_ms(0.0, 1500.0) * 3.6 == pytest.approx(30.0)
    assert d.speed_ms(750.0, 1500.0) * 3.6 == pytest.approx(50.0)
    assert d.speed_ms(1000.0, 1500.0) * 3.6 == pytest.approx(50.0)
    xs = np.linspace(0, 750, 50)
    assert np.all(np.diff([d.speed_ms(x, 1500.0) for x in xs]) > 0)


def test_womens_schedule_is_configurable():
    d = Derny(start_kmh=25.0, end_kmh=45.0)
    assert d.speed_ms(0.0, 1500.0) * 3.6 == pytest.approx(25.0)
    assert d.speed_ms(750.0, 1500.0) * 3.6 == pytest.approx(45.0)


@pytest.mark.parametrize(("lap", "want"), [(250.0, 750.0), (333.33, 666.66), (400.0, 800.0)])
def test_pull_off_at_the_lap_nearest_750_m(lap, want):
    assert pull_off_for_track(lap) == pytest.approx(want)


def test_derny_in_the_race_follows_its_schedule(tokyo, tokyo_result):
    tr = tokyo_result.traces
    on = ~np.isnan(tr.derny_x_m)
    x = tr.derny_x_m[on]
    t = tr.t[on]
    v = np.diff(x) / np.diff(t) * 3.6  # along the measurement line: a little under its speed
    assert 27.0 < v[0] < 31.0 and 46.0 < v[-1] < 50.5
    off = next(e for e in tokyo_result.events if e.kind == "derny_off")
    assert off.detail == "750 m to go"
    assert tokyo_result.pull_off_time_s == off.time_s


def test_riders_sit_close_behind_the_derny(tokyo_result):
    tr = tokyo_result.traces
    on = ~np.isnan(tr.derny_x_m)
    lead_gap = tr.derny_x_m[on] - tr.x_m[on].max(axis=1)
    assert np.median(lead_gap) < 4.0  # the derny's length plus a short wheel gap
    assert lead_gap.min() > 0.0
