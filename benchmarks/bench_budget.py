"""Where a Monte Carlo race's time goes, and what a coarser step would buy.

    python benchmarks/bench_budget.py [--races N] [--check N]

Prints, for the shipped Tokyo scenario with its [uncertainty] section, in one process (CPU
time, best of three passes over the same ``--races`` sampled runs):

1. the CPU time of one race split into drawing its inputs, building its scenario, setting up
   the race, the compiled kernel and the SimPy/Python side of running it;
2. the kernel's work per race (step attempts, rejected steps, located state events, calls) and
   what one evaluation of the riders' derivatives costs, so the share of the kernel that is
   the physics itself can be read off;
3. the CPU budget per race that a races-per-second target leaves on this machine's cores
   (perfect scaling: a bound, not an estimate);
4. the same race at coarser reference steps ``dt_s`` (the tolerances scale with its cube):
   step attempts, CPU per race, and the finish-time error against a ``dt_s / 8`` reference
   over ``--check`` sampled runs (median, 90th percentile, worst rider of the worst run);
5. a batch of ``--paired`` runs on all cores at the scenario's ``dt_s`` and at 0.2 s, the same
   seed (the same sampled inputs): races per second and each rider's win probability, with
   the difference against the 95 % interval's half-width.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

import numpy as np
from bench_simulate import machine, with_kernel_timed  # shared with bench_simulate

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "tokyo2020_mens_final.toml"
TARGET_RATE = 4000.0  # races/s on all cores (issue 4)


def best_of(fn, reps: int = 3) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def deriv_cost(race) -> float:
    """CPU time (s) of one evaluation of every rider's derivatives (with the links to the
    wheels ahead taken again, as at the end of a step), in the state ``race`` is in."""
    from numba import njit

    import keirin_sim.engine.kernel as K

    @njit
    def loop(S, D, PR, RC, C, gp, dS, P, order, rank, ahead, gahead, shelter, reps):
        for _ in range(reps):
            K.deriv(S, D, PR, RC, C, gp, dS, P, order, rank, ahead, gahead, shelter)

    n = race.n
    S = race.S.copy()
    RC = np.empty((n, K.NRECIP))
    K.reciprocals(race.PR, RC)
    order = np.argsort(S[:, K.SX], kind="stable").astype(np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    args = (
        S,
        race.D.copy(),
        race.PR,
        RC,
        race.C.copy(),
        race.gp,
        np.empty_like(S),
        np.empty(n),
        order,
        rank,
        np.empty(n, dtype=np.int64),
        np.empty(n),
        np.empty(n),
    )
    loop(*args, 10)
    reps = 200_000
    return best_of(lambda: loop(*args, reps)) / reps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--races", type=int, default=500)
    ap.add_argument("--check", type=int, default=40)
    ap.add_argument("--paired", type=int, default=6000)
    a = ap.parse_args()

    import keirin_sim.engine.kernel as K
    import keirin_sim.simulation as R
    from keirin_sim.montecarlo import run_batch, sample_run
    from keirin_sim.montecarlo.jobs import mc_job, resolve_scenario
    from keirin_sim.montecarlo.sampling import apply_inputs, sample_inputs

    sc = resolve_scenario(SCENARIO, None)
    point = mc_job(sc, a.races, 1).points[0]
    runs = range(a.races)

    def draw():
        return sample_inputs(point.plan, 1, runs)

    X, P = draw()
    rows = X.tolist()
    perms = P.tolist() if P is not None else [None] * a.races

    def build():
        return [apply_inputs(point.base, point.plan, rows[k], perms[k]) for k in runs]

    scs = build()

    def setup(dt=None):
        return [R.build_race(s, traces=False, keep_log=False, dt=dt) for s in scs]

    def run(dt=None):
        for race in setup(dt):
            race.run_outcome()

    run()  # compile or load numba's cache, warm caches
    m = a.races
    t_draw = best_of(draw) / m
    t_build = best_of(build) / m
    t_setup = best_of(setup) / m
    t_all = best_of(run) / m
    # the kernel's share of the same races (wall time of its calls, best of three passes)
    kern = min(with_kernel_timed(run)[1] for _ in range(3)) / m
    t_race = t_draw + t_build + t_all
    print(f"machine: {machine()}")
    print(f"one Monte Carlo race of the Tokyo scenario, CPU, best of 3 passes over {m} runs:")
    print(f"  draw the inputs      {t_draw * 1e6:7.1f} us")
    print(f"  build the scenario   {t_build * 1e6:7.1f} us")
    print(f"  set up the race      {t_setup * 1e6:7.1f} us")
    print(f"  compiled kernel      {kern * 1e6:7.1f} us")
    print(f"  SimPy and Python     {(t_all - t_setup - kern) * 1e6:7.1f} us (the rest of the run)")
    print(f"  total                {t_race * 1e6:7.1f} us")

    stats = np.zeros(K.NHS)
    for race in setup():
        race.run_outcome()
        stats += race.kstats
    stats /= m
    attempts = stats[K.HS_STEPS] + stats[K.HS_REJECTED]
    race = R.build_race(scs[0], traces=False, keep_log=False)
    race.env.run(until=100.0)  # in the sprint, after the derny has gone
    dc = deriv_cost(race)
    print(
        f"kernel work per race (mean): {attempts:.0f} step attempts ({stats[K.HS_REJECTED]:.0f} "
        f"rejected), {stats[K.HS_LOCATED]:.1f} located state events, {stats[K.HS_CALLS]:.1f} calls"
    )
    print(
        f"  one evaluation of the six riders' derivatives: {dc * 1e9:.0f} ns; three per attempt: "
        f"{3 * attempts * dc * 1e6:.0f} us per race"
    )
    cores = os.cpu_count() or 1
    budget = cores / TARGET_RATE
    print(
        f"budget: {TARGET_RATE:,.0f} races/s on {cores} cores leaves at most "
        f"{budget * 1e6:.0f} us of CPU per race with perfect scaling; this race takes "
        f"{t_race * 1e6:.0f} us ({cores / t_race:,.0f} races/s at perfect scaling)"
    )

    # the step's trade: coarser reference steps against a fine reference
    print(f"reference step dt_s against dt_s/8 over {a.check} sampled runs (finish times):")
    base_dt = sc.dt_s
    checks = [sample_run(sc, 3, k) for k in range(a.check)]
    ref = [R.simulate_outcome(s, dt=base_dt / 8).finish_times for s in checks]
    for f in (1.0, 1.26, 1.59, 2.0):
        dt = round(base_dt * f, 4)
        if dt > 0.2:
            break
        errs = []
        att = 0.0
        for s, r in zip(checks, ref, strict=True):
            race = R.build_race(s, traces=False, keep_log=False, dt=dt)
            out = race.run_outcome()
            att += race.kstats[K.HS_STEPS] + race.kstats[K.HS_REJECTED]
            errs.append(max(abs(x - y) for x, y in zip(out.finish_times, r, strict=True)))
        e = np.array(errs) * 1e3
        cpu = best_of(lambda dt=dt: run(dt)) / m + t_draw + t_build
        print(
            f"  dt_s {dt:.3f} (tolerances x{(dt / base_dt) ** 3:.0f}): "
            f"{att / a.check:.0f} attempts, {cpu * 1e6:.0f} us per race "
            f"({cores / cpu:,.0f} races/s at perfect scaling); error median "
            f"{np.median(e):.2f} ms, p90 {np.percentile(e, 90):.2f} ms, worst {e.max():.1f} ms"
        )

    if a.paired:
        print(f"{a.paired} runs on all cores, seed 11, the same inputs at both steps:")
        out = {}
        for dt in (base_dt, 0.2):
            run_batch(dataclasses.replace(sc, dt_s=dt), 50, 0, progress=False)  # warm the pool
            t = time.perf_counter()
            b = run_batch(dataclasses.replace(sc, dt_s=dt), a.paired, 11, progress=False)
            wall = time.perf_counter() - t
            out[dt] = b.summary
            print(f"  dt_s {dt:.3f}: {a.paired / wall:,.0f} races/s")
        fine, coarse = out[base_dt], out[0.2]
        for name, p in fine.win_probability.items():
            lo, hi = fine.ci95[name]
            q = coarse.win_probability[name]
            print(
                f"  {name:24s} win {p:.4f} at {base_dt:.3f}, {q:.4f} at 0.200: "
                f"difference {abs(q - p) / ((hi - lo) / 2):.2f} of the interval's half-width"
            )


if __name__ == "__main__":
    main()
