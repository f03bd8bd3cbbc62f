"""Physics of the motion kernel: energy accounting, step convergence, limits, the derny rule."""

from __future__ import annotations

import numpy as np
import pytest

from keirin_sim import simulate
from keirin_sim.model.derny import BIKE_LENGTH_M


def test_energy_accounting_closes(tokyo_result):
    """Work delivered to the wheel = drag + rolling (with bearings) + kinetic energy change."""
    for name, e in tokyo_result.energy_j.items():
        rhs = e["drag_j"] + e["rolling_j"] + e["kinetic_change_j"] + e["potential_change_j"]
        assert e["wheel_work_j"] > 20_000, name
        assert abs(e["wheel_work_j"] - rhs) < 1e-3 * e["wheel_work_j"], name


def test_drag_dominates_and_drafting_saves_energy(tokyo_result):
    """The solo attacker spends more on drag than any rider who sat in the line."""
    e = tokyo_result.energy_j
    kenny = e["Jason Kenny"]["drag_j"]
    sheltered = [e[r]["drag_j"] for r in ("Azizulhasni Awang", "Jair Tjon En Fa")]
    assert all(kenny > s for s in sheltered)
    for v in e.values():
        assert v["drag_j"] > v["rolling_j"]


@pytest.mark.parametrize("dt", [0.05, 0.1])
def test_halving_the_step_moves_no_finish_by_more_than_5ms(tokyo, dt):
    """The winner's finish within 5 ms at the scenario's step; every rider's within 30 ms.
    Since issue 26 a rider swings out at the touch of the wheel, a decision taken on
    centimetres, so a rider boxed behind the wheel it follows can finish 10-25 ms differently
    from one step to another (Lavreysen in Tokyo: 14 ms at 0.1 s against a 0.005 s run,
    0.4 ms at 0.0125 s): a knife edge, recorded in docs/performance.md."""
    coarse = simulate(tokyo, traces=False, dt=dt)
    fine = simulate(tokyo, traces=False, dt=dt / 2)
    moved = {r: abs(coarse.finish_times[r] - fine.finish_times[r]) for r in tokyo.names}
    winner = moved[fine.finish_order[0]]
    limit = 0.005 if dt == tokyo.dt_s else 0.03
    assert winner < limit, f"dt={dt}: the winner's finish moves by {winner * 1e3:.2f} ms"
    assert max(moved.values()) < 0.03, moved
    assert coarse.finish_order[:3] == fine.finish_order[:3]


def test_no_rider_above_its_power_envelope(tokyo, tokyo_result):
    tr = tokyo_result.traces
    for i, entry in enumerate(tokyo.riders):
        r = entry.rider
        # the kernel takes the cadence from the wheels, which in the bends turn up to a few
        # per cent faster than the centre of mass moves (the lean): the bound over that range
        v = tr.v_ms[:, i]
        avail = np.max(
            [r.available_power(v * f, tr.w_bal_j[:, i]) for f in np.linspace(1.0, 1.06, 13)],
            axis=0,
        )
        # (traced W' is interpolated linearly inside a step, the law is not linear in it)
        assert np.all(tr.power_w[:, i] <= avail + 0.05), r.name
        assert np.all(tr.power_w[:, i] <= r.pmax_w + 1e-6), r.name


def test_w_prime_never_negative_and_never_above_full(tokyo, tokyo_result):
    tr = tokyo_result.traces
    for i, entry in enumerate(tokyo.riders):
        assert tr.w_bal_j[:, i].min() >= 0.0
        assert tr.w_bal_j[:, i].max() <= entry.rider.w_prime_j + 1e-6
    # and someone actually went deep into it
    assert tr.w_bal_j.min() < 0.5 * min(e.rider.w_prime_j for e in tokyo.riders)


def test_speeds_inside_human_limits(tokyo_result):
    top = tokyo_result.top_speed_kmh
    assert max(top.values()) < 80.0
    assert min(top.values()) > 55.0
    # published keirin last-200 m times are above 9 s (the flying 200 m record is 9.088 s)
    assert min(tokyo_result.last_200m_s.values()) > 9.088


@pytest.mark.parametrize("dt", [None, 0.02])
def test_no_rider_passes_the_derny_front_wheel(tokyo, dt):
    """Checked at every step; the finer step samples the derny phase more densely."""
    tr = simulate(tokyo, dt=dt).traces
    on = ~np.isnan(tr.derny_x_m)
    assert on.sum() > (50 if dt is None else 400)
    ahead = tr.x_m[on] - tr.derny_x_m[on][:, None]
    assert ahead.max() < 0.0


def test_drawn_order_held_for_the_first_lap(tokyo, tokyo_result):
    tr = tokyo_result.traces
    first_lap = tr.x_m.max(axis=1) < tokyo.track.lap_m
    x = tr.x_m[first_lap]
    assert np.all(np.diff(x, axis=1) < -BIKE_LENGTH_M + 1e-9)


def test_riding_higher_costs_distance_in_the_bends(tokyo):
    """A rider held 1 m higher needs about 2*pi m more per lap (keirin-reference.md section 2)."""
    from dataclasses import replace

    base = simulate(tokyo, traces=False)
    high = simulate(replace(tokyo, lane_m=tokyo.lane_m + 1.0), traces=False)
    slower = np.mean([high.finish_times[r] - base.finish_times[r] for r in tokyo.names])
    # ~6 laps x 6.28 m at about 15 m/s average: several tenths of a second
    assert 0.5 < slower < 5.0


def test_step_halving_on_sampled_races(tokyo):
    """The same check on races drawn from the scenario's [uncertainty] (other forms, other
    choices on the day): the typical race moves by a few milliseconds; the exceptions (about
    half the races since a rider sits off its wheel and swings out only as it is about to touch
    it, issue 26: where it swings is decided by centimetres, and a rider on a wheel is
    integrated to a ten times looser tolerance; 10-30 ms in a third of them) are knife edges
    where two riders ride level at the same speed and a tiny difference decides a discrete
    choice (who swings out, who passes first, when a wheel is let go)."""
    from keirin_sim.montecarlo import sample_run

    moved = []
    for run in range(12):
        sc = sample_run(tokyo, 3, run)
        a = simulate(sc, traces=False)
        b = simulate(sc, traces=False, dt=sc.dt_s / 2)
        moved.append(max(abs(a.finish_times[r] - b.finish_times[r]) for r in sc.names))
    assert sum(m < 0.005 for m in moved) >= 4
    assert sum(m < 0.02 for m in moved) >= 9
    assert sorted(moved)[len(moved) // 2] < 0.015


def test_traces_do_not_change_the_race(tokyo, tokyo_result):
    """Trace rows are sampled from the step's dense output; the race is the same without them."""
    bare = simulate(tokyo, traces=False)
    assert bare.finish_times == tokyo_result.finish_times
    assert bare.events == tokyo_result.events
    assert bare.catch == tokyo_result.catch


def test_traces_on_a_regular_grid_of_dt(tokyo, tokyo_result):
    t = tokyo_result.traces.t
    assert t[0] == 0.0
    assert np.allclose(np.diff(t), tokyo.dt_s)
    assert t[-1] <= max(tokyo_result.finish_times.values())
    assert t[-1] > max(tokyo_result.finish_times.values()) - tokyo.dt_s


def test_the_step_adapts(tokyo):
    """The adaptive step takes far fewer steps than the race time over dt_s, and fewer still
    when the tolerances are looser (a longer dt_s)."""
    from keirin_sim.engine import kernel as K
    from keirin_sim.simulation import build_race

    def steps(dt):
        race = build_race(tokyo, traces=False, dt=dt)
        race.run()
        ks = race.kstats
        assert ks[K.HS_CALLS] > 0 and ks[K.HS_LOCATED] > 0
        return ks[K.HS_STEPS] + ks[K.HS_REJECTED]

    base = steps(None)
    race_s = max(simulate(tokyo, traces=False).finish_times.values())
    assert base < 0.5 * race_s / tokyo.dt_s
    assert steps(tokyo.dt_s / 2) > base > steps(tokyo.dt_s * 2)
