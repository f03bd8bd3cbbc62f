"""The time trials of the validation data against the model, and issue 25's targets.

    python tools/validate_timetrials.py [--no-race]

Prints (1) the table of published time trials (real, model, error), each rider calibrated from
its flying 200 m alone (its kilo from the population relation, never from the time shown);
(2) the targets of issue 25 beside what the model measures; (3) the Tokyo 2020 replay's last two
laps (scored, never fitted: nothing here feeds back into a parameter).
"""

from __future__ import annotations

import argparse

import numpy as np

from keirin_sim.calibration import default_rider
from keirin_sim.engine.timetrial import ride
from keirin_sim.questions.fatigue import all_out, best_mean_powers, format_table, timetrial_table


def targets() -> list[tuple[str, str, str]]:
    man, woman = default_rider("men"), default_rider("women")
    rows = []
    f = ride("flying200", man, traces=False).time_s
    sl = ride("standing-lap", man, traces=False).time_s
    k = ride("kilo", man, traces=False)
    laps = np.diff([0.0, *k.splits_s])
    rows.append(("man: flying 200 m", "9.15-9.45 s", f"{f:.3f} s"))
    rows.append(("man: standing lap", "17.4-18.8 s", f"{sl:.3f} s"))
    rows.append(
        (
            "man: kilo, laps",
            "57.5-60.5 s, fading",
            f"{k.time_s:.3f} s ({' / '.join(f'{x:.2f}' for x in laps)})",
        )
    )
    rows.append(
        (
            "woman: flying 200 m",
            "10.05-10.45 s",
            f"{ride('flying200', woman, traces=False).time_s:.3f} s",
        )
    )
    rows.append(("woman: kilo", "63.5-67.5 s", f"{ride('kilo', woman, traces=False).time_s:.3f} s"))
    bm = best_mean_powers(man, (5.0, 10.0, 15.0, 30.0))
    rows.append(
        (
            "best 10/15/30 s from 60 km/h",
            "<= 86/80/66 %",
            " / ".join(f"{100 * bm[w]:.1f}" for w in (10.0, 15.0, 30.0))
            + f" % (5 s {100 * bm[5.0]:.1f})",
        )
    )
    s = all_out(man, 50.0, 750.0)
    drop = 100.0 * (1.0 - s.line_speed_kmh / s.top_speed_kmh)
    rows.append(
        (
            "750 m solo from 50 km/h",
            ">= 8 % below top",
            f"{drop:.1f} % ({s.top_speed_kmh:.1f} -> {s.line_speed_kmh:.1f} km/h, "
            f"{100 * s.reserve_j[-1] / man.w_prime_j:.0f} % of W' left)",
        )
    )
    return rows


def tokyo() -> None:
    from keirin_sim import load_scenario, simulate

    sc = load_scenario()  # the Tokyo 2020 men's final
    res = simulate(sc)
    tr = res.traces
    lap = res.lap_m
    two = res.race_m - 2 * lap
    g2 = res.gap_at(2)
    print("\nTokyo 2020 men's final, the last two laps (replay: scored, never fitted)")
    print(
        f"  podium: {', '.join(res.finish_order[:3])}; "
        f"margin {res.margins[res.finish_order[1]]:.3f} s"
    )
    lead = res.finish_order[0]
    i0 = tr.names.index(lead)
    for name in tr.names:
        print(
            f"  {name:<20} peak {res.peak_power_w[name]:6.0f} W, "
            f"W' left {res.w_left_j[name] / 1000:5.1f} kJ"
        )
    print(f"  gaps to the leader ({lead}) and speeds (km/h):")
    for mark in (two, two + 0.5 * lap, two + lap, two + 1.5 * lap, res.race_m - 1.0):
        k = int(np.argmax(tr.x_m[:, i0] >= mark))
        row = [f"{res.race_m - mark:5.0f} m to go: leader {tr.v_ms[k, i0] * 3.6:5.1f}"]
        for name in tr.names:
            i = tr.names.index(name)
            if i != i0:
                row.append(
                    f"{name.split()[-1]} {tr.x_m[k, i0] - tr.x_m[k, i]:5.1f} m "
                    f"{tr.v_ms[k, i] * 3.6:5.1f}"
                )
        print("   " + "; ".join(row))
    best = min(g2.gap_m[n] for n in g2.gap_m if n != g2.leader)
    k_end = int(np.argmax(tr.x_m[:, i0] >= res.race_m - 1e-6))
    at_line = min(tr.x_m[k_end, i0] - tr.x_m[k_end, i] for i in range(len(tr.names)) if i != i0)
    print(
        f"  lead at two to go {best:.1f} m ({g2.leader}); the closest chaser {at_line:.1f} m "
        f"behind as the winner crosses the line: the chasers gained {best - at_line:.1f} m over "
        "the last two laps (target >= 16 m)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-race", action="store_true")
    a = ap.parse_args()
    print("Time trials of the validation data (riders from their flying 200 m alone)")
    print(format_table(timetrial_table()))
    print("\nIssue 25 targets")
    for what, tgt, got in targets():
        print(f"  {what:<30} {tgt:<22} {got}")
    if not a.no_race:
        tokyo()


if __name__ == "__main__":
    main()
