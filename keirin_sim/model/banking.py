"""The banking: the height a rider gains riding up the track and gets back coming down.

A rider ``up`` metres above the riders' line (across the track's surface) at distance ``x`` is
``up * sin(bank(x))`` metres higher.  The bank is the straights' angle on the straights, the
bends' angle where the curvature is full, a smoothstep (3f^2 - 2f^3) of the curvature's share f
on the transitions (a modelling choice: real tracks' transitions are not published)
(keirin-reference.md section 2: up to 45 deg in the bends, about 12 deg on the straights, Izu).
Climbing costs ``m g dh/dt`` of power (kernel._climb_rate), coming down gives it back: a rider
who drops 1.5 m across the bends' surface gains m g 1.06 m, about 0.6 m/s at 60 km/h.  The
riders' line itself is the zero of height (everyone starts on it; no rider's race is changed by
the banking until it leaves its line).  Lean, speed and banking are not coupled (the bends'
camber is taken as always rideable).  A longer lap (``Track.scaled``) keeps the 250 m track's
angles: a modelling choice (the 333-500 m tracks' banking is not in the data).
"""

from __future__ import annotations

import math

import numpy as np

from keirin_sim.model.track import Track

#: Banking in the bends and on the straights (deg): keirin-reference.md section 2 (Izu).
BANK_BEND_DEG = 45.0
BANK_STRAIGHT_DEG = 12.0


def bank_deg(track: Track, s: float | np.ndarray) -> np.ndarray:
    """Banking (deg) at lap coordinate ``s``."""
    f = track.curvature(s) * track.bend_radius_m
    return BANK_STRAIGHT_DEG + (BANK_BEND_DEG - BANK_STRAIGHT_DEG) * f * f * (3.0 - 2.0 * f)


def height_m(track: Track, s: float | np.ndarray, up_m: float | np.ndarray) -> np.ndarray:
    """Height (m) above the riders' line of a rider ``up_m`` metres above it across the
    track at lap coordinate ``s``."""
    return np.asarray(up_m, dtype=float) * np.sin(np.radians(bank_deg(track, s)))


def potential_energy_j(track: Track, s: float, up_m: float, mass_kg: float) -> float:
    """Potential energy (J) of ``mass_kg`` at ``up_m`` above the riders' line at ``s``."""
    return float(mass_kg * 9.81 * height_m(track, s, up_m))


def speed_from_drop(v_ms: float, drop_m: float) -> float:
    """Speed (m/s) after coming down ``drop_m`` of height from ``v_ms`` with no losses."""
    return math.sqrt(max(v_ms * v_ms + 2.0 * 9.81 * drop_m, 0.0))
