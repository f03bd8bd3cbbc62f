"""Benchmark: the catch analysis (25 hesitations, then the bisection to 0.01 s).

Target (issue 3): under 1 s of compute for the sweep plus the bisection once ``simulate`` takes
about 1 ms.  Prints the time of one ``simulate`` (median, without traces), of the sweep, of the
bisection and of both, best of ``--repeat`` runs after a warm-up (numba compilation and caches
are outside the timing).  ``--reference`` also prints the machine's reference rates from
../shared/bench-reference (when that directory is there) to normalise the figures.

    python benchmarks/bench_catch.py [SCENARIO] [--repeat 5] [--reference]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from keirin_sim import load_scenario, simulate
from keirin_sim.questions.catch import catch_sweep, critical_hesitation

#: The sweep the issue asks for: 25 values of the field's hesitation (s), 0 to 15 s.
HESITATIONS = [15.0 * k / 24 for k in range(25)]
TARGET_S = 1.0


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", help="scenario file (default: the Tokyo final)")
    ap.add_argument("--attacker", default=None, help="default: the scenario's attacker")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--reference", action="store_true", help="also run ../shared/bench-reference")
    a = ap.parse_args(argv)
    sc = load_scenario(a.scenario)
    lo, hi = HESITATIONS[0], HESITATIONS[-1]

    # warm-up: compile the kernel, fill caches
    simulate(sc, traces=False)
    critical_hesitation(sc, a.attacker, lo, hi)

    sims = []
    for _ in range(50):
        t0 = time.perf_counter()
        simulate(sc, traces=False)
        sims.append(time.perf_counter() - t0)
    t_sim = statistics.median(sims)

    t_sweep, sweep = _best(lambda: catch_sweep(sc, a.attacker, HESITATIONS), a.repeat)
    t_bis, crit = _best(lambda: critical_hesitation(sc, a.attacker, lo, hi, tol=0.01), a.repeat)
    t_both = t_sweep + t_bis
    n = len(HESITATIONS) + crit.evaluations
    caught = sum(r.caught for r in sweep.rows)

    print(f"scenario            {sc.name}")
    print(f"simulate            {t_sim * 1e3:8.2f} ms  (median of 50, no traces)")
    print(f"catch sweep         {t_sweep * 1e3:8.1f} ms  ({len(HESITATIONS)} hesitations, "
          f"{lo:g}-{hi:g} s; caught in {caught})")  # fmt: skip
    print(f"bisection           {t_bis * 1e3:8.1f} ms  ({crit.evaluations} replays to 0.01 s)")
    print(f"sweep + bisection   {t_both * 1e3:8.1f} ms  ({n} replays, "
          f"{t_both / n * 1e3:.2f} ms each; target < {TARGET_S * 1e3:.0f} ms)")  # fmt: skip
    at_1ms = n * 1e-3 + (t_both - n * t_sim)
    print(f"projected at 1 ms   {at_1ms * 1e3:8.1f} ms  (same replays with simulate at 1 ms)")
    crit_text = "none in range" if crit.hesitation_s is None else f"{crit.hesitation_s:.2f} s"
    print(f"critical hesitation {crit_text}")
    print(crit.sentence)
    if a.reference:
        ref = Path(__file__).resolve().parents[2] / "shared" / "bench-reference" / "run.py"
        if ref.is_file():
            out = subprocess.run([sys.executable, str(ref), "both"], capture_output=True,
                                 text=True, check=False)  # fmt: skip
            for line in out.stdout.splitlines():
                print(f"reference           {line}")
        else:
            print("reference           (../shared/bench-reference not found)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
