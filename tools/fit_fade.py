"""Fit the population relation that gives a rider with one time its second (issue 25).

    python tools/fit_fade.py

Training data only (validation-data.md sections 1.1-1.2: the public flying 200 m / kilo pairs
of one rider at sea level): the relation kilo = ratio x flying 200 m, fitted by least squares
on the kilo times, with its residuals; then each pair ridden by the model (Pmax and the fade
rate k fitted on both times) and the kilo each rider gets from its flying 200 m alone.  The
ratio is KILO_RATIO in keirin_sim/calibration.py; this script says whether it is still the fit.
"""

from __future__ import annotations

from keirin_sim.calibration import KILO_RATIO, calibrate
from keirin_sim.engine.timetrial import ride

#: (rider, flying 200 m s, kilo s, source) -- validation-data.md 1.1 and 1.2
PAIRS = (
    ("Lavreysen", 9.088, 57.321, "Paris 2024 / Worlds 2024 Ballerup"),
    ("Hoogland", 9.293, 57.813, "Paris 2024 / Euros 2023 Grenchen"),
)


def main() -> None:
    ratio = sum(t * k for _, t, k, _ in PAIRS) / sum(t * t for _, t, _, _ in PAIRS)
    print(f"kilo = ratio x flying 200 m, least squares on {len(PAIRS)} training pairs")
    print(f"  fitted ratio {ratio:.4f} (calibration.KILO_RATIO['men'] = {KILO_RATIO['men']})")
    print(
        f"{'rider':<10} {'200 m s':>8} {'kilo s':>8} {'relation':>9} {'resid s':>8} {'resid %':>8}"
    )
    for name, t, k, _src in PAIRS:
        pred = ratio * t
        pct = 100 * (pred - k) / k
        print(f"{name:<10} {t:8.3f} {k:8.3f} {pred:9.3f} {pred - k:+8.3f} {pct:+7.2f}%")
    print("\nthe model on both times (Pmax and the fade rate k fitted on the pair):")
    for name, t, k, _src in PAIRS:
        cal = calibrate(t, k)
        res = cal.residuals_s
        print(
            f"  {name:<10} Pmax {cal.rider.pmax_w:6.0f} W  k {cal.apr_k_per_s:.4f} 1/s  "
            f"residuals 200 m {res['flying200']:+.3f} s, kilo {res['kilo']:+.3f} s"
        )
    print("\nthe model from the flying 200 m alone (the kilo from the relation):")
    for name, t, k, _src in PAIRS:
        rider = calibrate(t).rider
        km = ride("kilo", rider, traces=False).time_s
        print(f"  {name:<10} kilo {km:.3f} s against {k:.3f} s: {100 * (km - k) / k:+.2f} %")


if __name__ == "__main__":
    main()
