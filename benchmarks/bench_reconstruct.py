"""Benchmark: the Tokyo reconstruction (``keirin-sim reconstruct``), beside the naive reference.

Target (issue 27): at least 200 accepted races in under 2 minutes on 2 cores, the same
reconstructions for any number of workers, memory bounded for any ``--runs``.  Prints, in one
run: the naive (and compiled) reference rates of ../shared/bench-reference; the time to 200
accepted races on 1 and 2 workers and whether their accepted runs are identical; the draw rate
over ``--runs`` races; the peak memory of a reconstruction that matches nothing at ``--runs``
and at four times as many (in a fresh process each); and with ``--pyabc`` the same rejection
through pyABC (when it is installed), its time and whether two runs agree.

    python benchmarks/bench_reconstruct.py [--runs 2000] [--pyabc]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from keirin_sim import load_scenario, simulate
from keirin_sim.questions.reconstruction import reconstruct

FACTS = ["winner", "lead_at_two_laps_m"]
ACCEPT = 200
TARGET_S = 120.0

_MEMORY = """
import resource, sys
from keirin_sim.questions.reconstruction import reconstruct
r = reconstruct(None, ["finish_order"], runs=int(sys.argv[1]), seed=0, workers=2,
                progress=False)
print(r.tried, r.n_accepted, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _reference() -> list[str]:
    ref = Path(__file__).resolve().parents[2] / "shared" / "bench-reference" / "run.py"
    if not ref.is_file():
        return ["(../shared/bench-reference not found)"]
    out = subprocess.run(
        [sys.executable, str(ref), "both"], capture_output=True, text=True, check=False
    )
    return out.stdout.splitlines()


def _pyabc(sc, accept: int) -> None:
    """The same rejection through pyABC: the parameter is the run index (the riders' choices
    come from each race's own stream, so there is nothing for an SMC kernel to perturb), the
    model our draw, the distance the largest fact distance, epsilon 1."""
    try:
        import pyabc
    except ImportError:
        print("pyabc               not installed (pip install pyabc)")
        return
    import logging
    import tempfile

    import numpy as np

    from keirin_sim.montecarlo.runner import mc_point
    from keirin_sim.questions.reconstruction import distances, draw_run
    from keirin_sim.scenario.facts import parse_conditions

    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("Sampler").setLevel(logging.WARNING)
    import pandas as pd

    pt = mc_point(sc)
    facts = parse_conditions(sc, FACTS)

    def model(p):
        row = draw_run(pt, 0, int(p["run"]))
        d = distances(pd.DataFrame([row]), facts)
        return {"d": float(d.max()), "run": int(p["run"])}

    def dist(x, _y):
        return x["d"]

    prior = pyabc.Distribution(run=pyabc.RV("randint", 0, 10**9))

    def once(sampler):
        np.random.seed(0)
        abc = pyabc.ABCSMC(
            model, prior, dist, population_size=accept, sampler=sampler,
            eps=pyabc.ListEpsilon([1.0]),
        )  # fmt: skip
        db = "sqlite:///" + tempfile.mktemp(suffix=".db")
        abc.new(db, {"d": 0.0, "run": 0})
        t0 = time.perf_counter()
        h = abc.run(max_nr_populations=1)
        dt = time.perf_counter() - t0
        df, _ = h.get_distribution()
        return dt, sorted(int(r) for r in df["run"]), h.total_nr_simulations

    for name, make in (
        ("1 core", lambda: pyabc.sampler.SingleCoreSampler()),
        ("2 workers", lambda: pyabc.sampler.MulticoreEvalParallelSampler(n_procs=2)),
    ):
        t1, runs1, n1 = once(make())
        t2, runs2, _ = once(make())
        print(
            f"pyabc {name:<13} {t1:8.2f} s to {accept} accepted ({n1} simulations); a second "
            f"run with the same seed gives the same runs: {runs1 == runs2}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000, help="draws for the rate and memory")
    ap.add_argument("--pyabc", action="store_true", help="also time pyABC's rejection")
    a = ap.parse_args(argv)
    for line in _reference():
        print(f"reference           {line}")
    sc = load_scenario()
    simulate(sc, traces=False)  # compile and warm outside the timing
    got = {}
    for w in (1, 2):
        t0 = time.perf_counter()
        rec = reconstruct(sc, FACTS, runs=100_000, seed=0, accept=ACCEPT, workers=w,
                          progress=False)  # fmt: skip
        dt = time.perf_counter() - t0
        got[w] = rec.run_indices
        print(
            f"to {ACCEPT} accepted     {dt:8.2f} s on {w} worker(s) ({rec.tried} drawn, "
            f"{rec.tried / dt:.0f} races/s; target < {TARGET_S:.0f} s on 2)"
        )
    print(f"same accepted runs  {got[1] == got[2]} (1 worker against 2)")
    t0 = time.perf_counter()
    rec = reconstruct(sc, FACTS, runs=a.runs, seed=0, accept=None, workers=2, progress=False)
    dt = time.perf_counter() - t0
    print(
        f"{a.runs} draws         {dt:8.2f} s on 2 workers ({a.runs / dt:.0f} races/s; "
        f"{rec.n_accepted} accepted, {100 * rec.acceptance_rate:.1f} %)"
    )
    for n in (a.runs, 4 * a.runs):
        out = subprocess.run(
            [sys.executable, "-c", _MEMORY, str(n)], capture_output=True, text=True, check=True
        ).stdout.split()
        print(f"peak memory         {out[2]:>8} MB for {out[0]} draws, {out[1]} accepted")
    if a.pyabc:
        _pyabc(sc, ACCEPT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
