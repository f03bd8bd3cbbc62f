"""The sprint fatigue law (issue 25): power-duration curve, emptying, the standing start, the
two-time calibration; and the calibratable range (issue 24, item 6)."""

from __future__ import annotations

import numpy as np
import pytest

from keirin_sim.calibration import (
    CALIBRATABLE_S,
    KILO_RATIO,
    CalibrationError,
    calibrate,
    default_rider,
    population_kilo_s,
)
from keirin_sim.engine.kernel import STAND_GAIN
from keirin_sim.engine.timetrial import DIVE_M, ride
from keirin_sim.model.rider import Rider
from keirin_sim.questions.fatigue import all_out, best_mean_power, best_mean_powers


@pytest.fixture(scope="module")
def man() -> Rider:
    return default_rider("men")


def test_power_duration_curve_fades_within_the_bounds(man):
    """All out from a rolling 60 km/h at the rider's gear: best 10 / 15 / 30 s mean power at
    most 86 / 80 / 66 % of the peak (issue 25), and not a collapse either (Gardner's race
    maxima 79 / 75 % at 10 / 15 s bound pure fatigue from above, so a model far under them
    would fade too fast)."""
    share = best_mean_powers(man, (10.0, 15.0, 30.0))
    assert share[10.0] <= 0.86 and share[15.0] <= 0.80 and share[30.0] <= 0.66
    assert share[10.0] >= 0.75 and share[30.0] >= 0.50
    assert share[10.0] > share[15.0] > share[30.0]


def test_best_mean_power_of_a_known_trace():
    t = np.arange(0.0, 20.001, 0.01)
    p = np.where(t < 5.0, 1000.0, 500.0)
    assert best_mean_power(t, p, 5.0) == pytest.approx(1000.0, rel=1e-3)
    assert best_mean_power(t, p, 10.0) == pytest.approx(750.0, rel=1e-3)


def test_a_long_solo_empties_the_rider_and_fades(man):
    """A 750 m all-out from 50 km/h: most of the reserve is spent and the rider crosses the
    line well below its top speed (the old energy law left 44 % of W' and faded 5 %; the issue's
    target is 8 %, the model gives 7.0 %: see docs/model.md)."""
    run = all_out(man, 50.0, 750.0)
    assert run.reserve_j[-1] < 0.3 * man.w_prime_j
    assert run.line_speed_kmh < 0.94 * run.top_speed_kmh


def test_the_fade_runs_in_time_not_in_work(man):
    """Time-based (Dunst, Scharf & Ueberschaer): all out far above the optimal cadence the
    rider makes less power than at the optimum, yet its reserve falls as fast."""
    v_opt = man.cadence_opt_rpm * man.development_m / 60.0
    w = man.w_prime_j
    p_opt = man.available_power(v_opt, w)
    p_hi = man.available_power(1.25 * v_opt, w)
    assert p_hi < 0.95 * p_opt
    assert man.w_balance_rate(p_hi, w, 1.25 * v_opt) == pytest.approx(
        man.w_balance_rate(p_opt, w, v_opt), rel=1e-9
    )
    # a follower using half its capacity above CP drains at half the rate
    half = man.cp_w + 0.5 * (p_opt - man.cp_w)
    assert man.w_balance_rate(half, w, v_opt) == pytest.approx(
        0.5 * man.w_balance_rate(p_opt, w, v_opt), rel=1e-9
    )


def test_standing_start_pushes_harder_at_low_cadence(man):
    """Out of the saddle: the force at low cadence is raised by STAND_GAIN (Bouillod et al.
    2017), fading to none at the optimal cadence."""
    v_low = 0.1 * man.cadence_opt_rpm * man.development_m / 60.0
    x = 0.1
    seated = man.pmax_w * x * (2.0 - x)
    assert man.envelope(v_low) == pytest.approx(seated * (1.0 + STAND_GAIN * 0.9), rel=1e-9)
    v_opt = man.cadence_opt_rpm * man.development_m / 60.0
    assert man.envelope(v_opt) == pytest.approx(man.pmax_w, rel=1e-9)


def test_standing_lap_and_kilo_of_the_default_man(man):
    """Standing lap 17.4-18.8 s; kilo 57.5-60.5 s with each lap after the fastest slower than
    the one before (issue 25)."""
    lap = ride("standing-lap", man, traces=False)
    assert 17.4 <= lap.time_s <= 18.8
    kilo = ride("kilo", man, traces=False)
    assert 57.5 <= kilo.time_s <= 60.5
    laps = np.diff([0.0, *kilo.splits_s])
    assert laps[0] == pytest.approx(lap.time_s, abs=1e-6)
    fastest = int(np.argmin(laps))
    assert all(laps[i + 1] > laps[i] for i in range(fastest, len(laps) - 1))
    assert laps[-1] > laps[fastest] + 0.5  # the last lap fades markedly


def test_default_woman():
    woman = default_rider("women")
    assert 10.05 <= ride("flying200", woman, traces=False).time_s <= 10.45
    assert 63.5 <= ride("kilo", woman, traces=False).time_s <= 67.5


def test_two_time_calibration_fits_both_times():
    """Given a flying 200 m and a kilo, Pmax and the fade rate are fitted to both."""
    lav = calibrate(9.088, 57.321)
    hoo = calibrate(9.293, 57.813)
    for cal in (lav, hoo):
        assert abs(cal.residuals_s["flying200"]) < 2e-3
        assert abs(cal.residuals_s["kilo"]) < 0.02
    # the faster kilo for its flying 200 m is the slower fade
    assert lav.apr_k_per_s > hoo.apr_k_per_s
    assert hoo.rider.w_prime_j == pytest.approx(
        (hoo.rider.pmax_w - hoo.rider.cp_w) / hoo.apr_k_per_s
    )


def test_one_time_takes_its_kilo_from_the_population_relation():
    """With one time the kilo comes from KILO_RATIO (fitted on the training pairs by
    tools/fit_fade.py); the public pairs' kilos from their flying 200 m alone are within 2 %."""
    cal = calibrate(9.2445)
    assert cal.model_kilo_s == pytest.approx(population_kilo_s(9.2445), abs=0.05)
    assert population_kilo_s(9.0) == pytest.approx(KILO_RATIO["men"] * 9.0)
    for t200, kilo in ((9.088, 57.321), (9.293, 57.813)):
        model = ride("kilo", calibrate(t200).rider, traces=False).time_s
        assert abs(model - kilo) / kilo < 0.02


@pytest.mark.parametrize("sex", ["men", "women"])
def test_the_calibratable_range_ends_calibrate_and_beyond_is_named(sex):
    lo, hi = CALIBRATABLE_S[sex]
    for t in (lo, hi):
        r = calibrate(t, sex=sex).rider
        assert r.cp_w < r.pmax_w <= 2600.0
    for t in (lo - 0.05, hi + 0.05):
        with pytest.raises(CalibrationError, match=rf"flying_200_s .*{lo:.2f}-{hi:.2f} s"):
            calibrate(t, sex=sex)


@pytest.mark.parametrize("t200", [12.75, 8.50])
def test_a_scenario_time_outside_the_range_names_flying_200_s(tmp_path, t200):
    """Issue 24, item 6: the error names the key the user wrote and the range."""
    import subprocess
    import sys

    f = tmp_path / "s.toml"
    f.write_text(
        f'name = "x"\n[[riders]]\nname = "a"\nflying_200_s = {t200}\n'
        '[[riders]]\nname = "b"\n[[riders]]\nname = "c"\n'
    )
    out = subprocess.run(
        [sys.executable, "-m", "keirin_sim", "run", str(f)], capture_output=True, text=True
    )
    assert out.returncode == 2
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1
    assert "riders[0].flying_200_s" in err and "8.75-10.80 s" in err
    assert "cp_w" not in err and "Traceback" not in err


def test_the_dive_is_spread_over_its_60_m(man):
    """Issue 24, item 11: no jump in speed at the dive mark; the drop's energy still arrives
    before the timed distance."""
    tt = ride("flying200", man)
    d, v = tt.distance_m, tt.speed_kmh
    zone = (d > -DIVE_M - 5.0) & (d < 0.0)
    assert zone.sum() > 10
    assert np.max(np.abs(np.diff(v[zone]))) < 0.6
    # it still dives: the speed gains over the 60 m what 3 m of drop are worth, about
    near = (d > -DIVE_M - 1.0) & (d < 5.0)
    assert v[near].max() - v[near][0] > 1.0
