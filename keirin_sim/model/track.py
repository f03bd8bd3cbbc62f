"""Velodrome geometry: lap, straights and bends, lanes, position -> (x, y).

The track is modelled on its measurement line (UCI 3.6.069: 0.20 m above the inner edge) as two
straights joined by two semicircular bends of radius ``bend_radius_m``.  A rider riding ``d``
metres above the measurement line covers ``2*pi*d`` metres more per lap, all of it in the bends
(keirin-reference.md section 2).  Lap coordinate 0 is the finish line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

#: Sprinters' (red) line, metres above the inner edge (UCI 3.6.080).
SPRINTERS_LINE_FROM_EDGE_M = 0.85
#: Measurement (black) line, metres above the inner edge (UCI 3.6.069, 3.6.079).
MEASUREMENT_LINE_FROM_EDGE_M = 0.20


@dataclass(frozen=True)
class Track:
    """A velodrome.

    Defaults: a 250 m track (UCI 3.6.069) with 22 m bends, the common modelling shape of
    keirin-reference.md section 2 (Category 1 tracks have 19-25 m bends; straight lengths are not
    published).  ``transition_m`` is the length of the curvature ramp at each end of a bend (real
    tracks use transition curves; the length is a calibration choice).  ``finish_frac`` places
    the finish line along the home straight: a calibration choice (real lines sit near the end
    of the home straight; the exact spot varies by track).
    """

    lap_m: float = 250.0
    bend_radius_m: float = 22.0
    width_m: float = 7.5  # Izu Velodrome (keirin-reference.md section 2)
    finish_frac: float = 0.75
    transition_m: float = 10.0

    @property
    def straight_m(self) -> float:
        """Length of one straight on the measurement line."""
        return (self.lap_m - 2.0 * math.pi * self.bend_radius_m) / 2.0

    @property
    def sprinters_lane_m(self) -> float:
        """Offset of the sprinters' line above the measurement line."""
        return SPRINTERS_LINE_FROM_EDGE_M - MEASUREMENT_LINE_FROM_EDGE_M

    def scaled(self, lap_m: float) -> Track:
        """The same shape at another lap length: bends, straights and transitions in
        proportion, the width and the finish line's place kept (for tracks whose geometry is
        not published)."""
        f = lap_m / self.lap_m
        r, lt = self.bend_radius_m * f, self.transition_m * f
        return replace(self, lap_m=lap_m, bend_radius_m=r, transition_m=lt)

    def bends(self) -> tuple[float, float, float, float]:
        """Lap coordinates (start, end) of bend 1 and bend 2, measured from the finish line."""
        s = self.straight_m
        arc = math.pi * self.bend_radius_m
        b1 = (1.0 - self.finish_frac) * s
        return (b1, b1 + arc, b1 + arc + s, b1 + 2.0 * arc + s)

    def in_bend(self, s: float) -> bool:
        """Whether lap coordinate ``s`` (metres from the finish line, any lap) is in a bend."""
        b = self.bends()
        s = s % self.lap_m
        return b[0] <= s < b[1] or b[2] <= s < b[3]

    def curvature(self, s: float | np.ndarray) -> np.ndarray:
        """Curvature (1/m) of the measurement line at lap coordinate ``s``: 1/R in the bends,
        ramping linearly over ``transition_m`` centred on each end of each arc, so each bend
        turns exactly pi radians (the same law the kernel uses)."""
        s = np.mod(np.asarray(s, dtype=float), self.lap_m)
        lt = self.transition_m
        k = np.zeros_like(s)
        b = self.bends()
        for a, e in ((b[0], b[1]), (b[2], b[3])):
            for sh in (-self.lap_m, 0.0, self.lap_m):
                if lt > 0:
                    k += np.clip((s - a - sh) / lt + 0.5, 0, 1) - np.clip(
                        (s - e - sh) / lt + 0.5, 0, 1
                    )
                else:
                    k += (s >= a + sh).astype(float) - (s >= e + sh).astype(float)
        return k / self.bend_radius_m

    def lap_length(self, offset_m: float) -> float:
        """Distance ridden in one lap at ``offset_m`` above the measurement line."""
        return self.lap_m + 2.0 * math.pi * offset_m

    def xy(self, s: float | np.ndarray, offset_m: float | np.ndarray = 0.0) -> np.ndarray:
        """Plan position (x, y) in metres of lap coordinate ``s`` at a lateral offset.

        The infield centre is the origin; the home straight runs along negative y in +x.
        """
        s = np.mod(np.asarray(s, dtype=float), self.lap_m)
        d = np.asarray(offset_m, dtype=float) + np.zeros_like(s)
        r = self.bend_radius_m + d
        half = self.straight_m / 2.0
        b0, b1, b2, b3 = self.bends()
        out = np.empty(s.shape + (2,))
        # home straight (finish line at x = (finish_frac - 0.5) * straight)
        x0 = (self.finish_frac - 0.5) * self.straight_m
        home1 = s < b0
        out[home1, 0] = x0 + s[home1]
        out[home1, 1] = -r[home1]
        bend1 = (s >= b0) & (s < b1)
        a = (s[bend1] - b0) / self.bend_radius_m - math.pi / 2.0
        out[bend1, 0] = half + r[bend1] * np.cos(a)
        out[bend1, 1] = r[bend1] * np.sin(a)
        back = (s >= b1) & (s < b2)
        out[back, 0] = half - (s[back] - b1)
        out[back, 1] = r[back]
        bend2 = (s >= b2) & (s < b3)
        a = (s[bend2] - b2) / self.bend_radius_m + math.pi / 2.0
        out[bend2, 0] = -half + r[bend2] * np.cos(a)
        out[bend2, 1] = r[bend2] * np.sin(a)
        home2 = s >= b3
        out[home2, 0] = -half + (s[home2] - b3)
        out[home2, 1] = -r[home2]
        return out
