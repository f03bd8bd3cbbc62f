"""Drag and drafting: how much of a solo rider's drag remains behind a wheel or the derny.

Data from keirin-reference.md section 5 and validation-data.md section 1.6.  Gaps are wheel to
wheel (front wheel of the follower to the rear of the object ahead), in metres.  Behind a rider
the shelter is a smooth law of the gap times a wake across the line (a modelling choice, below);
``IN_LINE_M`` is who counts as in line for following, blocking and the derny.
"""

from __future__ import annotations

import numpy as np

#: Lateral tolerance (m) within which a follower is "in line".  Calibration choice: about one
#: shoulder width; the reference only says a rider beside or above the wheel gets little.
IN_LINE_M = 0.5

#: Behind one rider, validation-data.md 1.6 (two riders; a table in public code): gap
#: 0.05 / 0.15 / 0.5 / 1 / 5 m leave 64.1 / 64.4 / 65.2 / 66.5 / 79.9 % of solo drag; the
#: Swiss Side CFD gives about 87 % at 10 m (*derived*).
RIDER_GAP_M = np.array([0.05, 0.15, 0.5, 1.0, 5.0])
RIDER_DRAG_LEFT = np.array([0.641, 0.644, 0.652, 0.665, 0.799])
#: The smooth law through them: left = 1 - DRAFT_A exp(-(gap / DRAFT_L)^DRAFT_P), DRAFT_A
#: the 36 % saved at the wheel, DRAFT_L and DRAFT_P solved through the 1 m and 5 m points
#: (within 0.2 percentage points of every point of the table; 91.5 % at 10 m against the CFD's
#: about 87 %; 99 % at 20 m; no shelter beyond DRAFT_MAX_M).
DRAFT_A = 0.36
DRAFT_L = 7.52
DRAFT_P = 1.305
DRAFT_MAX_M = 25.0

#: The wake across the line: no published curve (validation-data.md 1.6: 0-0.25 m is
#: "approximately tandem" at 60 km/h).  Modelling choice: a biweight (1 - u^2)^2, u = offset /
#: half-width, the half-width WAKE_HALF_M at the wheel (a shoulder and a half: full shelter in
#: line, 85 % at 0.25 m, 48 % at 0.5 m, none beyond 0.8 m), widening by WAKE_SPREAD per metre
#: of gap.  benchmarks/bench_wake.py shows how the answers move with WAKE_HALF_M.
WAKE_HALF_M = 0.8
WAKE_SPREAD = 0.1

#: Position in a line, wheel to wheel: 2nd 58 %, 3rd 52 %, 4th 53 % (Fitton, Symons & Caddy
#: 2018, measured).  Applied by scaling the shelter of the single-rider table: a rider whose
#: wheel ahead is itself drafting gets the 3rd-and-later value.
LINE_SECOND = 0.58
LINE_THIRD_ON = 0.52

#: Behind a motorbike: 2.64 m 52 %, 10 m 77 %, 30 m 88 %, 50 m 93 % (Blocken et al. 2020).
#: No derny data exist; the derny is treated as a motorbike.  Closer than 2.64 m the value is held
#: at 52 % (calibration choice: no data), and beyond 50 m it fades to 100 % at 80 m.
DERNY_GAP_M = np.array([0.0, 2.64, 10.0, 30.0, 50.0, 80.0])
DERNY_DRAG_LEFT = np.array([0.52, 0.52, 0.77, 0.88, 0.93, 1.0])

#: The leader's drag with a follower on its wheel (same two-rider table): 97.6 / 98.0 / 98.7 /
#: 99.2 / 99.9 % at 0.05 / 0.15 / 0.5 / 1 / 5 m: 1 - LEAD_A exp(-gap / LEAD_L), within 0.15
#: percentage point of each.
LEADER_DRAG_LEFT = np.array([0.976, 0.980, 0.987, 0.992, 0.999])
LEAD_A = 0.024
LEAD_L = 0.8
LEAD_MAX_M = 5.0


def wake(
    offset_m: float | np.ndarray, gap_m: float | np.ndarray = 0.0, half_m: float = WAKE_HALF_M
) -> np.ndarray:
    """Share of the in-line shelter left ``offset_m`` to the side of a wheel ``gap_m`` ahead."""
    h = half_m * (1.0 + WAKE_SPREAD * np.maximum(gap_m, 0.0))
    u = np.minimum(np.abs(offset_m) / h, 1.0)
    return (1.0 - u * u) ** 2


def single_draft(gap_m: float | np.ndarray) -> np.ndarray:
    """Drag left right behind one rider at wheel gap ``gap_m``: the smooth law."""
    g = np.maximum(np.asarray(gap_m, dtype=float), 0.0)
    left = 1.0 - DRAFT_A * np.exp(-((g / DRAFT_L) ** DRAFT_P))
    return np.where(g >= DRAFT_MAX_M, 1.0, left)


def leader_left(gap_m: float | np.ndarray) -> np.ndarray:
    """The leader's drag left with a follower in line at wheel gap ``gap_m``."""
    g = np.maximum(np.asarray(gap_m, dtype=float), 0.0)
    return np.where(g >= LEAD_MAX_M, 1.0, 1.0 - LEAD_A * np.exp(-g / LEAD_L))


def rider_draft(
    gap_m: float | np.ndarray, in_line_depth: int = 1, offset_m: float | np.ndarray = 0.0
) -> np.ndarray:
    """Drag left behind a rider at wheel gap ``gap_m``, ``offset_m`` to the side of its line.

    ``in_line_depth`` is 1 behind a lone rider and 2 or more when the wheel ahead is itself in a
    line; in line at wheel-to-wheel distance this gives the measured 58 % and 52 %.
    """
    target = LINE_SECOND if in_line_depth <= 1 else LINE_THIRD_ON
    scale = (1.0 - target) / DRAFT_A
    return 1.0 - (1.0 - single_draft(gap_m)) * scale * wake(offset_m, gap_m)


def derny_draft(gap_m: float | np.ndarray) -> np.ndarray:
    """Drag left behind the derny at wheel gap ``gap_m``."""
    return np.interp(gap_m, DERNY_GAP_M, DERNY_DRAG_LEFT)
