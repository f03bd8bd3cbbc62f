"""Time trials: speed of each event and the validation table against published pairs.

    python benchmarks/bench_timetrial.py

Prints the machine, the naive reference of ../shared/bench-reference measured in the same run,
the median time of one ride of each event (target: under 5 ms) and of ``simulate()`` of the Tokyo
scenario without traces (target: at most 1 ms), then, for the riders with a published flying
200 m and kilo, the kilo the model predicts from the flying 200 m alone against the real one.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_montecarlo import reference_rate  # noqa: E402
from bench_simulate import machine  # noqa: E402

from keirin_sim import load_scenario, simulate
from keirin_sim.calibration import calibrate, default_rider
from keirin_sim.engine.timetrial import EVENTS, ride
from keirin_sim.model.air import air_density

#: Published pairs (validation-data.md section 1): rider, flying 200 m, kilo, where.
#: Santiago's altitude is not published: both times are taken at the sea-level density there.
PAIRS = [
    ("Lavreysen", 9.088, 57.321, "Paris 2024 / Ballerup 2024, sea level"),
    ("Hoogland", 9.293, 57.813, "Paris 2024 / Grenchen 2023, sea level"),
    ("Lavreysen", 9.306, 57.978, "Santiago 2025 (altitude n.f.)"),
    ("Hoogland", 9.418, 58.163, "Santiago 2025 (altitude n.f.)"),
]


#: Flying 200 m at altitude against the same rider's sea-level time (validation-data.md 1.1):
#: rider, sea-level time, altitude time, venue altitude (m).  The temperatures are not published:
#: both rides take the model's warm velodrome (28 C); years and form differ.
ALTITUDE = [
    ("Richardson", 9.091, 8.857, 1200.0, "Konya 2025 (sea level: Paris 2024)"),
    ("Paul", 9.371, 9.100, 2558.0, "Cochabamba 2019 (sea level: Paris 2024)"),
]


def median_ms(fn, n: int) -> float:
    fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def main() -> None:
    print(f"machine: {machine()}")
    ref = reference_rate()
    if ref is not None:
        print(f"naive reference (same run): {ref:.1f} races/s")
    man = default_rider("men")
    for ev in EVENTS:
        ms = median_ms(lambda ev=ev: ride(ev, man, traces=False), 50)
        print(f"{ev:13s} one ride: {ms:6.2f} ms median")
    tokyo = load_scenario()
    ms = median_ms(lambda: simulate(tokyo, traces=False), 500)
    print(f"simulate(Tokyo) without traces: {ms:.3f} ms median")
    print()
    for sex in ("men", "women"):
        r = default_rider(sex)
        f, k = ride("flying200", r), ride("kilo", r)
        print(
            f"default elite {sex}: flying 200 m {f.time_s:.3f} s, top {f.top_speed_kmh:.1f} "
            f"km/h, {f.top_cadence_rpm:.0f} rpm; kilo {k.time_s:.3f} s; Pmax {r.pmax_w:.0f} W"
        )
    print()
    print("kilo from the flying 200 m alone (validation-data.md section 1)")
    print(f"{'rider':10s} {'200 m s':>8s} {'real kilo':>9s} {'model':>7s} {'error':>7s}  where")
    for name, t200, kilo, where in PAIRS:
        cal = calibrate(t200)
        err = (cal.model_kilo_s - kilo) / kilo * 100.0
        print(f"{name:10s} {t200:8.3f} {kilo:9.3f} {cal.model_kilo_s:7.3f} {err:+6.1f} %  {where}")
    print()
    print("flying 200 m at altitude from the sea-level time (indicative: see ALTITUDE)")
    print(f"{'rider':10s} {'sea level':>9s} {'real':>7s} {'model':>7s} {'error':>7s}  where")
    for name, sea, real, alt, where in ALTITUDE:
        rider = calibrate(sea).rider
        t = ride("flying200", rider, air_density=air_density(altitude_m=alt), traces=False)
        err = (t.time_s - real) / real * 100.0
        print(f"{name:10s} {sea:9.3f} {real:7.3f} {t.time_s:7.3f} {err:+6.1f} %  {where}")


if __name__ == "__main__":
    main()
