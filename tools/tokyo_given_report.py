"""The Tokyo figures of issue 27, in one command (re-run them after the physics moves):

- the reconstruction conditioned on the winner and Kenny's lead at two to go: the posterior
  predictive of the margin (real 0.763 s) and of the places of Awang and Lavreysen (real 2
  and 3);
- the critical hesitation over the races that match the report (median, 90 % band) beside the
  unconditioned answer over as many drawn races, and the single replay's; and, for
  information, the same given the margin (0.763 s +- 0.15 s) as a third fact.

    python tools/tokyo_given_report.py [--runs 4000] [--accept 400] [--seed 0] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time

from keirin_sim import load_scenario
from keirin_sim.questions.bands import catch_band
from keirin_sim.questions.catch import critical_hesitation
from keirin_sim.questions.reconstruction import reconstruct


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4000)
    ap.add_argument("--accept", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    sc = load_scenario()
    ex = {"workers": a.workers, "progress": False}
    t0 = time.perf_counter()
    rec = reconstruct(sc, ["winner", "lead_at_two_laps_m"], a.runs, a.seed, a.accept, **ex)
    print(f"{sc.name}, given the winner and the lead at two to go (30-80 m +- 5 m):")
    print(f"  {rec.phrase()} ({rec.elapsed_s:.1f} s)")
    checks = {c["fact"]: c for c in rec.predictive()}
    m = checks["winning_margin_s"]
    print(
        f"  margin: median {m['median']:.3f} s, 90 % {m['p5']:.3f}-{m['p95']:.3f} s, within "
        f"0.15 s of the real 0.763 s in {100 * m['p_match']:.0f} % (prior "
        f"{100 * m['p_match_prior']:.0f} %)"
    )
    for r, pl in checks["finish_order"]["places"].items():
        if r in ("Azizulhasni Awang", "Harrie Lavreysen"):
            print(
                f"  place of {r}: median {pl['median']:.0f}, 90 % {pl['p5']:.0f}-{pl['p95']:.0f}"
                f" (real {pl['real']}; P(real place) {100 * pl['p_real']:.0f} %)"
            )
    h = next(p for p in rec.posterior() if p["name"] == "hesitation_s")
    po, pr = h["posterior"], h["prior"]
    print(
        f"  the field's hesitation: median {po['median']:.2f} s, 90 % {po['p5']:.2f}-"
        f"{po['p95']:.2f} s (prior {pr['median']:.2f} s, {pr['p5']:.2f}-{pr['p95']:.2f} s)"
    )
    given = catch_band(sc, rec.n_accepted, rec.seed, runs_of=rec.run_indices, **ex)
    plain = catch_band(sc, rec.n_accepted, a.seed, **ex)
    one = critical_hesitation(sc, None, 0.0, 15.0)
    print("critical hesitation (the field chasing within it catches Kenny before the line):")
    print(f"  given the report:  median {given.band['median']:.2f} s; {given.phrase()}")
    print(f"  unconditioned:     median {plain.band['median']:.2f} s; {plain.phrase()}")
    print(f"  the single replay: {one.hesitation_s:.2f} s")
    # for information: the margin as a third fact (not part of the question)
    rec3 = reconstruct(
        sc, ["winner", "lead_at_two_laps_m", "winning_margin_s"], a.runs * 4, a.seed, a.accept,
        **ex,
    )  # fmt: skip
    three = catch_band(sc, rec3.n_accepted, rec3.seed, runs_of=rec3.run_indices, **ex)
    h3 = next(p for p in rec3.posterior() if p["name"] == "hesitation_s")["posterior"]
    print(f"  given the margin too ({rec3.phrase()}): median {three.band['median']:.2f} s; "
          f"{three.phrase()}; the field's hesitation {h3['median']:.2f} s "
          f"({h3['p5']:.2f}-{h3['p95']:.2f} s)")  # fmt: skip
    k = next(p for p in rec3.posterior() if p["name"] == "Jason Kenny.flying_200_s")
    print(f"  (Kenny's flying 200 m given the margin too: {k['posterior']['median']:.3f} s, "
          f"prior {k['prior']['median']:.3f} s)")  # fmt: skip
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
