"""Time trials in the race engine: the same compiled kernel and the same rider model.

Five events, ridden alone with no derny on the measurement line (UCI 3.6.069):

- ``flying200`` and ``flying-lap``: a wind-up of ``WINDUP_LAPS`` laps, then the timed 200 m or
  lap, "ridden as well as the model can": the rider rolls at the speed its aerobic ceiling (CP)
  holds, the fastest it can go without touching its anaerobic reserve, and goes all out at the
  launch point that gives the best time (a golden-section search).
- ``500m``, ``standing-lap`` and ``kilo``: from rest on the finish line, all out from the gun, on
  the rider's fixed gear (the power-cadence law makes the start torque-limited).

The track is flat in the kernel; the dive of a flying effort from high on the banking is an
energy exchange spread over the last ``DIVE_M`` before the timed distance (``DIVE_HEIGHT_M``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keirin_sim.engine import kernel as K
from keirin_sim.engine.course import kernel_globals
from keirin_sim.model.rider import Rider, solo_speed_for_power
from keirin_sim.model.track import Track

#: Default air density (kg/m^3): a warm velodrome near sea level, 28 C and 1013 hPa by the
#: ideal-gas law (1.15-1.20 in keirin-reference.md section 4).
SEA_LEVEL_AIR_DENSITY = 1.17
#: Wind-up of a flying effort before the timed distance (laps): "about 2.5 laps"
#: (validation-data.md, flying 200 m qualifying).
WINDUP_LAPS = 2.5
#: Share of the CP speed the roll is ridden at: just under it, so the reserve stays full
#: where the bends cost a little more.
ROLL_SHARE_OF_CP_SPEED = 0.99
#: The dive into a flying effort: the rider climbs the banking during the roll (on aerobic
#: power, below CP, so at no cost to its reserve) and drops ``DIVE_HEIGHT_M`` back to the black
#: line over the last ``DIVE_M`` before the timed distance; the drop is returned as kinetic
#: energy there.  Modelling choices: the top of a 45-degree bend of a 7.5 m wide track is 5.3 m
#: above the inner edge (Izu, keirin-reference.md section 2); riders dive from high on it.
DIVE_HEIGHT_M = 3.0
DIVE_M = 60.0
#: The drop is returned in this many equal parts, one every ``DIVE_M / DIVE_PARTS`` metres from
#: ``DIVE_M`` before the timed distance (the kernel's track is flat: there is no slope force), so
#: the speed rises by under 0.2 km/h at a time instead of jumping at one point.
DIVE_PARTS = 30
#: Step of the kernel's error control and of the traces (s).
TT_DT_S = 0.05


@dataclass(frozen=True)
class TrialEvent:
    """A time-trial event: the timed distance, flying or standing start, split interval."""

    name: str
    distance_m: float
    flying: bool
    split_m: float


#: The time-trial events by key: distance, flying or standing start, split distance.
EVENTS: dict[str, TrialEvent] = {
    "flying200": TrialEvent("flying200", 200.0, True, 100.0),
    "flying-lap": TrialEvent("flying-lap", 250.0, True, 125.0),
    "500m": TrialEvent("500m", 500.0, False, 250.0),
    "standing-lap": TrialEvent("standing-lap", 250.0, False, 125.0),
    "kilo": TrialEvent("kilo", 1000.0, False, 250.0),
}


@dataclass
class TimeTrial:
    """One ridden time trial.  Times are from the start of the timed distance; traces cover
    the whole ride (the wind-up of a flying event too, at negative times)."""

    event: str
    rider: Rider
    air_density: float
    time_s: float
    split_m: list[float]
    splits_s: list[float]
    top_speed_kmh: float
    peak_power_w: float
    top_cadence_rpm: float
    launch_m: float | None
    t: np.ndarray = field(repr=False)
    distance_m: np.ndarray = field(repr=False)
    speed_kmh: np.ndarray = field(repr=False)
    power_w: np.ndarray = field(repr=False)
    reserve_j: np.ndarray = field(repr=False)
    cadence_rpm: np.ndarray = field(repr=False)
    #: start to finish: work delivered to the wheel, drag, rolling (with bearings), kinetic
    #: energy change (J); the dive of a flying effort adds its drop's energy besides
    energy_j: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def mean_speed_kmh(self) -> float:
        """Mean speed over the timed distance."""
        return EVENTS[self.event].distance_m / self.time_s * 3.6

    def to_dict(self) -> dict[str, Any]:
        """The figures as plain numbers (the ``tt --json`` object)."""
        r = self.rider
        return {
            "event": self.event,
            "time_s": round(self.time_s, 3),
            "splits_s": [
                {"m": m, "time_s": round(s, 3)}
                for m, s in zip(self.split_m, self.splits_s, strict=True)
            ],
            "mean_speed_kmh": round(self.mean_speed_kmh, 2),
            "top_speed_kmh": round(self.top_speed_kmh, 2),
            "peak_power_w": round(self.peak_power_w, 1),
            "top_cadence_rpm": round(self.top_cadence_rpm, 1),
            "launch_m_before_timing": None if self.launch_m is None else round(self.launch_m, 1),
            "air_density": self.air_density,
            "rider": rider_dict(r),
        }


def rider_dict(r: Rider) -> dict[str, Any]:
    """A rider's parameters as plain numbers."""
    return {
        "name": r.name,
        "mass_kg": round(r.mass_kg, 2),
        "cda_m2": round(r.cda_m2, 4),
        "crr": r.crr,
        "efficiency": r.efficiency,
        "development_m": round(r.development_m, 3),
        "pmax_w": round(r.pmax_w, 1),
        "cadence_opt_rpm": r.cadence_opt_rpm,
        "cp_w": round(r.cp_w, 1),
        "w_prime_j": round(r.w_prime_j, 1),
    }


def _course(event: TrialEvent, track: Track) -> tuple[float, float, float]:
    """(start position, timing start, finish) along the course; the finish is on the line."""
    windup = WINDUP_LAPS * track.lap_m if event.flying else 0.0
    need = event.distance_m + windup
    finish = math.ceil(need / track.lap_m - 1e-9) * track.lap_m
    return finish - need, finish - event.distance_m, finish


class TrialRide:
    """The kernel's arrays for one rider on one course, reused between rides."""

    def __init__(
        self, rider: Rider, event: TrialEvent, track: Track, air_density: float, dt: float
    ):
        self.x0, self.t0x, self.finish = _course(event, track)
        self.gp = kernel_globals(track, self.finish, dt)
        self.gp[K.GP_RHO] = air_density
        self.PR = np.array(
            [
                [
                    rider.effective_mass,
                    rider.mass_kg,
                    rider.cda_m2,
                    rider.crr,
                    rider.efficiency,
                    rider.development_m,
                    rider.pmax_w,
                    rider.cadence_opt_rpm,
                    rider.cp_w,
                    rider.w_prime_j,
                    0.0,
                ]
            ]
        )
        self.w0 = rider.w_prime_j
        self.roll = ROLL_SHARE_OF_CP_SPEED * solo_speed_for_power(rider, rider.cp_w, air_density)
        self.m_ratio = rider.mass_kg / rider.effective_mass
        self.flying = event.flying
        #: speed at the start of the ride (m/s): the roll of a flying event, rest otherwise
        self.v_start = self.roll if event.flying else 0.0
        marks = [self.t0x] if event.flying else []
        d = event.split_m
        while d < event.distance_m - 1e-9:
            marks.append(self.t0x + d)
            d += event.split_m
        self.marks = np.array(marks)
        self.dt = dt

    def run(self, launch_x: float, traces: bool) -> tuple[float, Any]:
        """Ride with the effort from ``launch_x``; return the finish time and the records."""
        S = np.array([[self.x0, self.v_start, self.w0, 0, 0, 0, 0.0]])
        D = np.array([-1e9, 0.0])
        C = np.array([[K.MODE_FOLLOW, 0.0, 1e9, 0.0, 0.0, -1, self.roll, 1.0]])
        if launch_x <= self.x0:
            C[0, K.CT_MODE] = K.MODE_EFFORT
            C[0, K.CT_EFFORT] = 1.0
        WK = np.zeros((3, K.NWK), dtype=np.int64)
        WV = np.zeros(3)
        WK[0] = (K.W_RIDER_MARK, 0, -1, 1, K.RX_FINISH)
        WV[0] = self.finish
        WK[1] = (K.W_RIDER_MARK, 0, -1, int(C[0, K.CT_MODE] == K.MODE_FOLLOW), K.RX_NONE)
        WV[1] = launch_x
        WK[2] = (K.W_RIDER_MARK, 0, -1, int(self.flying), K.RX_NONE)
        WV[2] = self.t0x - DIVE_M
        dive_left = DIVE_PARTS if self.flying else 0
        nw = 3
        nm = len(self.marks)
        lapt = np.full((1, nm), np.nan)
        lapx = np.full((nm, 1), np.nan)
        stats = np.zeros((1, 2))
        catch = np.array([np.nan, np.nan, -1.0, 0.0])
        rlog = np.zeros((8, K.NRL))
        cap = int(300.0 / self.dt) if traces else 0
        tr_t = np.zeros(cap)
        tr = np.zeros((cap, 1, 6))
        tr_n = np.zeros(1, dtype=np.int64)
        hs = np.zeros(K.NHS)
        hs[K.HS_H] = self.dt
        t = 0.0
        finish_t = math.nan
        for _ in range(12 + DIVE_PARTS):
            t, k = K.advance(
                S, D, self.PR, C, self.gp, t, 600.0, WK, WV, nw, self.marks, lapt, lapx,
                stats, catch, rlog, tr_t, tr, tr_n, hs,
            )  # fmt: skip
            if int(hs[K.HS_RLOG]):
                finish_t = float(rlog[0, K.RL_T])
                break
            if k == 1:
                WK[1, K.WK_ACTIVE] = 0
                C[0, K.CT_MODE] = K.MODE_EFFORT
                C[0, K.CT_EFFORT] = 1.0
            elif k == 2:
                # one part of the drop, then the mark moves on to the next
                v = S[0, K.SV]
                S[0, K.SV] = math.sqrt(
                    v * v + 2.0 * 9.81 * DIVE_HEIGHT_M * self.m_ratio / DIVE_PARTS
                )
                dive_left -= 1
                WV[2] += DIVE_M / DIVE_PARTS
                if dive_left == 0:
                    WK[2, K.WK_ACTIVE] = 0
            elif k == 0:
                finish_t = t
                break
            else:
                break
        meff = float(self.PR[0, K.PR_MEFF])
        v0 = self.v_start
        energy = {
            "wheel_work_j": float(S[0, K.SE_IN]),
            "drag_j": float(S[0, K.SE_AERO]),
            "rolling_j": float(S[0, K.SE_ROLL]),
            "kinetic_change_j": 0.5 * meff * (float(S[0, K.SV]) ** 2 - v0 * v0),
        }
        return finish_t, (lapt[0], stats[0], tr_t[: tr_n[0]], tr[: tr_n[0], 0, :], energy)


def golden_min(f, lo: float, hi: float, tol: float) -> float:
    """Minimiser of a unimodal ``f`` on [lo, hi] (golden-section search)."""
    g = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
    return 0.5 * (a + b)


def ride(
    event: str,
    rider: Rider,
    *,
    track: Track | None = None,
    air_density: float = SEA_LEVEL_AIR_DENSITY,
    launch_m: float | None = None,
    dt: float = TT_DT_S,
    traces: bool = True,
) -> TimeTrial:
    """Ride time-trial ``event`` (a key of :data:`EVENTS`) and return its time, splits and
    traces.  A flying event launches ``launch_m`` metres before the timed distance; ``None``
    finds the launch that gives the best time."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}: one of {', '.join(EVENTS)}")
    ev = EVENTS[event]
    tr_ = track or Track()
    rd = TrialRide(rider, ev, tr_, air_density, dt)
    if ev.flying:

        def timed(lm: float) -> float:
            tf, rec = rd.run(rd.t0x - lm, False)
            return tf - rec[0][0]

        if launch_m is None:
            launch_m = golden_min(timed, 0.0, rd.t0x - rd.x0, 2.0)
        launch_x = rd.t0x - launch_m
    else:
        launch_x = rd.x0
        launch_m = None
    finish_t, (lapt, stats, tr_t, tr, energy) = rd.run(launch_x, traces)
    t_start = float(lapt[0]) if ev.flying else 0.0
    splits = [float(v) - t_start for v in (lapt[1:] if ev.flying else lapt)]
    splits.append(finish_t - t_start)
    split_m = [ev.split_m * (k + 1) for k in range(len(splits) - 1)] + [ev.distance_m]
    t = tr_t - t_start
    x = tr[:, 0] - rd.t0x if len(tr) else np.zeros(0)
    wheel = np.gradient(tr[:, 0], tr_t) if len(tr) > 1 else np.zeros(len(tr))
    return TimeTrial(
        event=event,
        rider=rider,
        air_density=air_density,
        time_s=finish_t - t_start,
        split_m=split_m,
        splits_s=splits,
        top_speed_kmh=float(stats[K.ST_VMAX]) * 3.6,
        peak_power_w=float(stats[K.ST_PMAX]),
        top_cadence_rpm=float(wheel.max() * 60.0 / rider.development_m) if len(wheel) else 0.0,
        launch_m=launch_m,
        t=t,
        distance_m=x,
        speed_kmh=tr[:, 1] * 3.6 if len(tr) else np.zeros(0),
        power_w=tr[:, 2] if len(tr) else np.zeros(0),
        reserve_j=tr[:, 3] if len(tr) else np.zeros(0),
        cadence_rpm=wheel * 60.0 / rider.development_m,
        energy_j=energy,
    )


__all__ = ["EVENTS", "TrialEvent", "TimeTrial", "ride", "SEA_LEVEL_AIR_DENSITY"]
