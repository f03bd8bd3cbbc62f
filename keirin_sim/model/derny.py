"""The derny: pace schedule and pull-off.

UCI 3.2.137: the derny starts at 30 km/h and builds gradually to 50 km/h, reached at the latest
when it leaves; it leaves 3 laps (750 m) before the finish on a 250 m track, on other tracks at
the lap nearest 750 m (3.2.134).  Women's schedules are given as 25 -> 45 km/h by some sources:
both are configurable.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Length of a derny with its rider, front wheel to rear wheel (m).  Calibration choice: a
#: derny is a moped of about 1.9 m; the reference gives no figure.
DERNY_LENGTH_M = 1.9
#: Length of a track bike, front to rear wheel (m).  Calibration choice (typical wheelbase plus
#: the wheels: about 1.75 m).
BIKE_LENGTH_M = 1.75


@dataclass(frozen=True)
class Derny:
    """Pace schedule: speed rises linearly in distance from ``start_kmh`` to ``end_kmh``,
    reaching it at ``ramp_end_m_to_go`` metres to go, and the derny pulls off at
    ``pull_off_m_to_go`` metres to go (measured at its front wheel)."""

    start_kmh: float = 30.0
    end_kmh: float = 50.0
    pull_off_m_to_go: float = 750.0
    ramp_end_m_to_go: float | None = None

    def ramp_end(self) -> float:
        """Metres to go at which the final speed is reached (default: the pull-off)."""
        return self.pull_off_m_to_go if self.ramp_end_m_to_go is None else self.ramp_end_m_to_go

    def speed_ms(self, x_m: float, race_m: float) -> float:
        """Derny speed (m/s) with its front wheel ``x_m`` metres into a ``race_m`` race."""
        x_end = race_m - self.ramp_end()
        f = 1.0 if x_end <= 0 else min(1.0, max(0.0, x_m / x_end))
        return (self.start_kmh + (self.end_kmh - self.start_kmh) * f) / 3.6


def pull_off_for_track(lap_m: float, rule_m: float = 750.0) -> float:
    """Metres to go at the lap mark nearest ``rule_m`` (UCI 3.2.134 for other track lengths)."""
    laps = max(1, round(rule_m / lap_m))
    return laps * lap_m
