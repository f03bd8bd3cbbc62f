"""The duel: two equal default men; the leader goes at ``--leader`` m to go, the follower sits
on and jumps from a bike length or two back at each launch point.

    python benchmarks/bench_duel.py [--leader 250] [--gap 2.5] [--wake 0.8]

Prints the follower's margin (s, negative: the follower wins) and top speeds for each launch
point, then the follower's share of wins over a spread of sensible leader (200-300 m) and
follower (60-200 m) launch points.  Targets (issue 26): the follower wins from at least one
launch point between 150 and 60 m to go; over the spread it wins 35-65 %.  Deterministic (no
draws): the leader attacks, the follower is a ``follow`` rider with its launch point fixed.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from keirin_sim.race import simulate
from keirin_sim.scenario import Scenario, load_scenario
from keirin_sim.tactics import Tactic

FIELD = Path(__file__).resolve().parents[1] / "scenarios" / "neutral_field.toml"
#: follower launch points (m to go) of the table, and of the spread
LAUNCHES = (200.0, 150.0, 120.0, 90.0, 60.0, 45.0, 30.0)
SPREAD_LEADER = (200.0, 225.0, 250.0, 275.0, 300.0)
SPREAD_FOLLOWER = (60.0, 80.0, 100.0, 120.0, 150.0, 200.0)


def duel(
    leader_m: float, follower_m: float, gap_m: float = 2.5, sit_off_m: float = 40.0
) -> Scenario:
    """The duel's scenario: ``Leader`` first behind the derny attacks at ``leader_m``;
    ``Follower`` on its wheel jumps at ``follower_m`` from a wheel gap of ``gap_m``."""
    sc = load_scenario(FIELD)
    a, b = sc.riders[0], sc.riders[1]
    lead = replace(
        a,
        rider=replace(a.rider, name="Leader"),
        tactic=Tactic(kind="attack", attack_m_to_go=leader_m),
    )
    fol = replace(
        b,
        rider=replace(b.rider, name="Follower"),
        tactic=Tactic(
            kind="follow", launch_m_to_go=follower_m, jump_gap_m=gap_m, sit_off_m=sit_off_m
        ),
    )
    return replace(sc, riders=(lead, fol), name="duel", extra={})


def margin(sc: Scenario) -> tuple[float, float, float]:
    """Follower's finish time minus the leader's (s) and both top speeds (km/h)."""
    r = simulate(sc, traces=False)
    ft = r.finish_times
    v = r.top_speed_kmh
    return ft["Follower"] - ft["Leader"], v["Leader"], v["Follower"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leader", type=float, default=250.0)
    ap.add_argument("--gap", type=float, default=2.5, help="follower's jump gap (m)")
    ap.add_argument("--wake", type=float, default=None, help="wake half-width (m)")
    a = ap.parse_args()
    if a.wake is not None:
        import keirin_sim.course as course

        course.WAKE_HALF_M = a.wake  # read by kernel_globals at each race
    print(f"duel: leader goes at {a.leader:g} m; follower jumps from {a.gap:g} m back")
    print("follower launch (m to go) | margin (s, <0 follower wins) | top speeds L/F (km/h)")
    wins = []
    for f in LAUNCHES:
        m, vl, vf = margin(duel(a.leader, f, a.gap))
        wins.append(m < 0.0)
        print(f"{f:>6.0f} | {m:+.3f} | {vl:.1f} / {vf:.1f}")
    ok = any(w for f, w in zip(LAUNCHES, wins, strict=True) if 60.0 <= f <= 150.0)
    print(f"follower wins from a launch point in 60-150 m: {ok} (target True)")
    res = [margin(duel(lm, fm, a.gap))[0] for lm in SPREAD_LEADER for fm in SPREAD_FOLLOWER]
    share = float(np.mean(np.array(res) < 0.0))
    print(
        f"spread: leader {SPREAD_LEADER}, follower {SPREAD_FOLLOWER}: follower wins "
        f"{100 * share:.0f} % of {len(res)} (target 35-65 %); margins median "
        f"{np.median(res):+.3f} s"
    )


if __name__ == "__main__":
    main()
