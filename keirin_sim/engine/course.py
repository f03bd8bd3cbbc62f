"""The kernel's view of a course: its global parameters (physics constants, the track, the
derny's schedule, the follow controller), shared by races (race.py) and time trials
(timetrial.py)."""

from __future__ import annotations

import math

import numpy as np

from keirin_sim.engine import kernel as K
from keirin_sim.model.aero import IN_LINE_M, WAKE_HALF_M
from keirin_sim.model.banking import BANK_BEND_DEG, BANK_STRAIGHT_DEG
from keirin_sim.model.derny import BIKE_LENGTH_M, DERNY_LENGTH_M, Derny
from keirin_sim.model.rider import BRAKE_POWER_W, COM_HEIGHT_M, WHEEL_FW_M2, G
from keirin_sim.model.track import Track

#: Follow controller: a follower aims at the wheel ahead's speed plus ``KP`` per metre of gap
#: error and closes a speed error in ``TC`` seconds; a wheel further than ``FOLLOW_RANGE_M``
#: is out of reach.  Calibration choices (smooth, stable, no overshoot at the default step).
KP = 0.6
TC = 0.6
FOLLOW_RANGE_M = 12.0
#: A rider on an effort swings out only when it would touch the wheel: when the wheel gap is
#: down to this margin (m) plus the ground its closing speed covers while it gets a shoulder
#: clear (kernel.watch_value).  Modelling choice (a few tyre widths of safety).
BLOCK_M = 0.3
#: How far (m) above the riders level with the wheel a rider swings out to come round: a
#: shoulder width (about 0.45 m) and 0.3 m of clearance.  Modelling choice (no published
#: value); in the bends the wider line is longer by pi times this per bend (the kernel's path).
SWING_M = 0.75
#: Lateral speed of a rider changing line (m/s).  Calibration choice.
LATERAL_MS = 1.0


def kernel_globals(
    track: Track, race_m: float, dt: float, derny: Derny | None = None, lane_m: float = 0.0
) -> np.ndarray:
    """The kernel's global parameters (``kernel.GP_*``) for a course of ``race_m`` metres on
    ``track``: the physics constants, the track, the derny's schedule (none: a time trial) and
    the follow controller.  The air density and attacker slots are left for the caller."""
    gp = np.zeros(K.NGLOBAL)
    gp[K.GP_FW] = WHEEL_FW_M2
    gp[K.GP_G] = G
    gp[K.GP_RACE] = race_m
    gp[K.GP_LAP] = track.lap_m
    gp[K.GP_B0], gp[K.GP_B1], gp[K.GP_B2], gp[K.GP_B3] = track.bends()
    gp[K.GP_R] = track.bend_radius_m
    if derny is not None:
        gp[K.GP_DV0] = derny.start_kmh / 3.6
        gp[K.GP_DV1] = derny.end_kmh / 3.6
        gp[K.GP_DRAMP] = race_m - derny.ramp_end()
    gp[K.GP_DLANE] = lane_m
    gp[K.GP_BRAKE] = BRAKE_POWER_W
    gp[K.GP_KP] = KP
    gp[K.GP_TC] = TC
    gp[K.GP_FOLLOW] = FOLLOW_RANGE_M
    gp[K.GP_BIKE] = BIKE_LENGTH_M
    gp[K.GP_DERNY_LEN] = DERNY_LENGTH_M
    gp[K.GP_INLINE] = IN_LINE_M
    gp[K.GP_LAT] = LATERAL_MS
    gp[K.GP_ATTACKER] = -1
    gp[K.GP_DT] = dt
    gp[K.GP_LT] = track.transition_m
    gp[K.GP_BLOCK] = BLOCK_M
    gp[K.GP_HCOM] = COM_HEIGHT_M
    gp[K.GP_WAKE] = WAKE_HALF_M
    gp[K.GP_SWING] = SWING_M
    gp[K.GP_BANK_S] = math.radians(BANK_STRAIGHT_DEG)
    gp[K.GP_BANK_B] = math.radians(BANK_BEND_DEG)
    return gp
