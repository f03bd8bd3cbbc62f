"""How much the answers move with the lateral wake's width (a modelling choice, issue 26) and
the swing-out's width (also one).

    python benchmarks/bench_wake.py [--runs 1000] [--seed 1]

For each wake half-width (m at the wheel; aero.WAKE_HALF_M is the default) and swing-out
(course.SWING_M): the duel's margins (benchmarks/bench_duel.py, the leader at 250 m, the
follower sitting off 120 m before and jumping from a bike length, 1.75 m, back at 150 / 120 /
90 / 60 m; negative: the follower wins) and the neutral field on the 250 m track (how races
were won, the winner's last 200 m).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_duel import duel, margin  # noqa: E402
from bench_field import FIELD  # noqa: E402

import keirin_sim.engine.course as course  # noqa: E402
import keirin_sim.engine.race as race  # noqa: E402
from keirin_sim.montecarlo import run_batch  # noqa: E402
from keirin_sim.scenario import load_scenario  # noqa: E402

WAKES = (0.5, 0.8, 1.1)
SWINGS = (0.6, 0.75, 1.0)


def _set(wake: float, swing: float) -> None:
    course.WAKE_HALF_M = wake
    course.SWING_M = swing
    race._COURSES.clear()  # the kernel's globals are cached per course


def row(wake: float, swing: float, runs: int, seed: int) -> str:
    _set(wake, swing)
    ms = [margin(duel(250.0, f, 1.75))[0] for f in (150.0, 120.0, 90.0, 60.0)]
    s = run_batch(load_scenario(FIELD), runs, seed, workers=1, progress=False).summary
    mv = " / ".join(f"{100 * v:.1f}" for v in s.winning_move_share.values())
    last = float(np.median(s.winner_last_200m_s))
    return (
        f"wake {wake:.2f} m, swing {swing:.2f} m | duel "
        + " ".join(f"{m:+.3f}" for m in ms)
        + f" | field front / outside / late {mv} % | last 200 m {last:.3f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    w0, s0 = course.WAKE_HALF_M, course.SWING_M
    print("duel margins (s) at follower launch 150 / 120 / 90 / 60 m; field on 250 m")
    try:
        for w in WAKES:
            print(row(w, s0, a.runs, a.seed))
        for s in SWINGS:
            if s != s0:
                print(row(w0, s, a.runs, a.seed))
    finally:
        _set(w0, s0)


if __name__ == "__main__":
    main()
