"""How a rider fades: all-out efforts from a rolling start, the power-duration curve they give,
and the time trials of the validation data ridden by riders calibrated from one time.

The fatigue law itself lives in the kernel and rider.py (module docstring there); this module
measures it the way the literature reports it:

- :func:`all_out`: alone, all out from ``v0`` at the rider's own gear for a distance;
- :func:`best_mean_powers`: the best 10 / 15 / 30 s mean power of such an effort as a share of
  its peak (Gardner et al. 2003/2005 race maxima 87 / 79 / 75 % at 5 / 10 / 15 s bound pure
  fatigue from above; validation-data.md section 1.5);
- :func:`timetrial_table`: the published times of validation-data.md sections 1.1-1.3 against
  the model, each rider calibrated from its flying 200 m alone (training data: the population
  fade constant of calibration.py was fitted on the public pairs, tools/fit_fade.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keirin_sim.engine.timetrial import SEA_LEVEL_AIR_DENSITY, TimeTrial, TrialEvent, TrialRide
from keirin_sim.model.rider import Rider
from keirin_sim.model.track import Track

#: Step of the traces of :func:`all_out` (s).
DT_S = 0.05


@dataclass(frozen=True)
class AllOut:
    """One all-out effort from a rolling start: its traces and summary figures."""

    t: np.ndarray
    distance_m: np.ndarray
    speed_kmh: np.ndarray
    power_w: np.ndarray
    reserve_j: np.ndarray
    time_s: float

    @property
    def top_speed_kmh(self) -> float:
        return float(self.speed_kmh.max())

    @property
    def line_speed_kmh(self) -> float:
        """Speed at the end of the effort."""
        return float(self.speed_kmh[-1])

    @property
    def peak_power_w(self) -> float:
        return float(self.power_w.max())


def all_out(
    rider: Rider,
    v0_kmh: float,
    distance_m: float,
    *,
    track: Track | None = None,
    air_density: float = SEA_LEVEL_AIR_DENSITY,
) -> AllOut:
    """Ride ``distance_m`` alone, all out from a rolling ``v0_kmh`` on the rider's gear, ending
    on the finish line (the kernel and the time trials' course)."""
    rd = TrialRide(
        rider,
        TrialEvent("all-out", distance_m, False, distance_m),
        track or Track(),
        air_density,
        DT_S,
    )
    rd.v_start = v0_kmh / 3.6
    finish_t, (_lapt, _stats, tr_t, tr, _energy) = rd.run(rd.x0, True)
    return AllOut(
        t=tr_t,
        distance_m=tr[:, 0] - rd.x0,
        speed_kmh=tr[:, 1] * 3.6,
        power_w=tr[:, 2],
        reserve_j=tr[:, 3],
        time_s=finish_t,
    )


def best_mean_power(t: np.ndarray, p: np.ndarray, window_s: float) -> float:
    """Best mean power over any ``window_s`` seconds of a trace sampled at times ``t``."""
    dt = np.diff(t)
    work = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * dt)])
    ends = np.interp(t + window_s, t, work, right=np.nan)
    ok = t + window_s <= t[-1] + 1e-9
    return float(np.nanmax((ends[ok] - work[ok]) / window_s))


def best_mean_powers(
    rider: Rider,
    windows_s: tuple[float, ...] = (5.0, 10.0, 15.0, 30.0),
    v0_kmh: float = 60.0,
    air_density: float = SEA_LEVEL_AIR_DENSITY,
) -> dict[float, float]:
    """Best mean power over each window as a share of the peak, all out from a rolling
    ``v0_kmh`` (long enough to cover the longest window)."""
    run = all_out(rider, v0_kmh, 1000.0, air_density=air_density)
    if run.time_s < max(windows_s):
        run = all_out(rider, v0_kmh, 2000.0, air_density=air_density)
    peak = run.peak_power_w
    return {w: best_mean_power(run.t, run.power_w, w) / peak for w in windows_s}


#: The published time trials of validation-data.md (training data, sections 1.1-1.3, 1.5): rider,
#: sex, flying 200 m it is calibrated from, event, published time, where.  Only times at sea
#: level (or at a venue whose altitude is not given, marked) are listed; the kilos and the
#: standing lap are set beside the rider's flying 200 m of the nearest season (the team
#: sprint's man 1 beside Lavreysen's 9.088 s: the starter's own flying 200 m is not published).
#: The team-sprint laps of man 2 and 3 (section 1.3) are left out: they are ridden in a line
#: after a standing start, not alone from a wind-up, so no solo event compares.
PUBLISHED: tuple[tuple[str, str, float, str, float, str], ...] = (
    ("Lavreysen", "men", 9.088, "kilo", 57.321, "Worlds 2024 final; flying 200 m Paris 2024"),
    ("Hoogland", "men", 9.293, "kilo", 57.813, "Euros 2023; flying 200 m Paris 2024"),
    ("Lavreysen", "men", 9.306, "kilo", 57.978, "Worlds 2025 Santiago (altitude n.f.)"),
    ("Hoogland", "men", 9.418, "kilo", 58.163, "Worlds 2025 Santiago (altitude n.f.)"),
    ("van de Wouw", "women", 10.263, "kilo", 63.652, "Worlds 2025; flying 200 m Paris 2024"),
    ("NED man 1", "men", 9.088, "standing-lap", 17.123, "team sprint WR Paris 2024 (man 1)"),
)


@dataclass(frozen=True)
class TableRow:
    rider: str
    event: str
    real_s: float
    model_s: float
    note: str

    @property
    def error_pct(self) -> float:
        return 100.0 * (self.model_s - self.real_s) / self.real_s


def timetrial_table() -> list[TableRow]:
    """Each published time trial against the model's rider calibrated from its flying 200 m
    alone (the kilo from the population fade, not from the kilo itself)."""
    from keirin_sim.calibration import calibrate
    from keirin_sim.engine.timetrial import ride

    rows = []
    for name, sex, t200, event, real, note in PUBLISHED:
        rider = calibrate(t200, sex=sex).rider
        tt: TimeTrial = ride(event, rider, traces=False)
        rows.append(TableRow(name, event, real, tt.time_s, note))
    return rows


def format_table(rows: list[TableRow]) -> str:
    """The validation table as text: real, model, error."""
    out = [f"{'rider':<12} {'event':<13} {'real s':>8} {'model s':>8} {'error':>7}  note"]
    for r in rows:
        out.append(
            f"{r.rider:<12} {r.event:<13} {r.real_s:8.3f} {r.model_s:8.3f} "
            f"{r.error_pct:+6.2f}%  {r.note}"
        )
    errs = np.array([abs(r.error_pct) for r in rows])
    out.append(f"mean |error| {errs.mean():.2f} %, largest {errs.max():.2f} %")
    return "\n".join(out)


__all__ = [
    "AllOut",
    "PUBLISHED",
    "TableRow",
    "all_out",
    "best_mean_power",
    "best_mean_powers",
    "format_table",
    "timetrial_table",
]
