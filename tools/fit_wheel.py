"""Fit the jump's style defaults on the training targets of issue 26 (the neutral field's
statistics, validation-data.md section 3) and print the residuals.

    python tools/fit_wheel.py [--runs 1000] [--seed 1] [--quick]

Fitted (global behaviour parameters no data give): ``kick_share`` (the chance a rider is a late
kicker), ``kick_m_to_go`` (its launch point) and ``jump_gap_m`` (the wheel gap it jumps from),
over a small grid; every other default stays as it is.  The loss sums the squared distance (in
percentage points) of each statistic outside its target band on both tracks (250 m, and the
same field on a 400 m lap): 250 m, the bell leader 35-75 %, late in the straight at least 10 %;
400 m, from the front 10-30 %, round the outside 35-60 %, late in the straight at least 20 %;
every start position 5-35 %.  Never fitted on a real final (section 2).  The duel
(benchmarks/bench_duel.py) is printed for the chosen point, not fitted.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_field import FIELD, on_lap  # noqa: E402

from keirin_sim.montecarlo import run_batch  # noqa: E402
from keirin_sim.scenario import Scenario, load_scenario  # noqa: E402

GRID = {
    "kick_share": (0.2, 0.35, 0.5, 0.7),
    "kick_m_to_go": (90.0, 120.0, 160.0),
    "jump_gap_m": (1.0, 2.5),
}
QUICK = {"kick_share": (0.35, 0.6), "kick_m_to_go": (120.0,), "jump_gap_m": (2.5,)}
#: (track, statistic, low, high) in %; None: no bound
TARGETS = (
    (250, "from_the_front", 35.0, 75.0),
    (250, "late_in_the_straight", 10.0, None),
    (400, "from_the_front", 10.0, 30.0),
    (400, "round_the_outside", 35.0, 60.0),
    (400, "late_in_the_straight", 20.0, None),
)


def with_style(sc: Scenario, **style: float) -> Scenario:
    for name in sc.names:
        sc = sc.with_tactic(name, **style)
    return sc


def stats(sc: Scenario, runs: int, seed: int) -> dict[str, float]:
    s = run_batch(sc, runs, seed, workers=1, progress=False).summary
    out = {k: 100.0 * v for k, v in s.winning_move_share.items()}
    pos = [100.0 * p for p in s.by_start_position.values()]
    out["pos_min"], out["pos_max"] = min(pos), max(pos)
    return out


def residuals(st: dict[int, dict[str, float]]) -> list[tuple[str, float, float]]:
    """(name, value, signed distance outside the band, 0 inside)."""
    res = []
    for lap, key, lo, hi in TARGETS:
        v = st[lap].get(key, 0.0)
        d = (v - lo if lo is not None and v < lo else 0.0) + (
            v - hi if hi is not None and v > hi else 0.0
        )
        res.append((f"{lap} m {key.replace('_', ' ')}", v, d))
    for lap in (250, 400):
        lo, hi = st[lap]["pos_min"], st[lap]["pos_max"]
        res.append((f"{lap} m start positions min/max", lo, min(lo - 5.0, 0.0)))
        res.append((f"{lap} m start positions max", hi, max(hi - 35.0, 0.0)))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a two-point grid (for a smoke test)")
    a = ap.parse_args()
    base = load_scenario(FIELD)
    grid = QUICK if a.quick else GRID
    keys = list(grid)
    best = None
    for vals in itertools.product(*(grid[k] for k in keys)):
        style = dict(zip(keys, vals, strict=True))
        sc = with_style(base, **style)
        st = {250: stats(sc, a.runs, a.seed), 400: stats(on_lap(sc, 400.0), a.runs, a.seed)}
        res = residuals(st)
        loss = sum(d * d for _, _, d in res)
        print(
            ", ".join(f"{k} {v:g}" for k, v in style.items())
            + f": loss {loss:.1f}; "
            + "; ".join(f"{n} {v:.1f}" for n, v, _ in res if "max" not in n)
        )
        if best is None or loss < best[0]:
            best = (loss, style, res)
    assert best is not None
    loss, style, res = best
    print(f"\nbest: {style} (loss {loss:.2f}, {a.runs} races per track, seed {a.seed})")
    for n, v, d in res:
        print(f"  {n}: {v:.1f} % (outside the target by {d:+.1f})")


if __name__ == "__main__":
    main()
