"""Rider parameters, the power-cadence envelope and the fatigue of sprint efforts.

Force balance after Martin et al. 1998 (J Appl Biomech 14:276); envelope after Dorel et al. 2005.

Fatigue: the anaerobic power reserve (APR) model of Weyand et al. 2006 (Am J Physiol Regul Integr
Comp Physiol 290:R758): all-out power decays from the peak towards the aerobic ceiling as
P(t) = P_aer + (Pmax - P_aer) exp(-k t) with one constant, k = 0.026 1/s, across 5-350 s sprints
(7 subjects, 34 W or 6.6 % mean error); Sanders & Heijboer 2019 (J Sports Sci 37:621) found the
same k predicts 12 professional cyclists' 5-180 s records within 5.9 %.  It was chosen over
Morton's three-parameter model, whose hyperbola misfits efforts under about 20 s, because one
constant must make a rider's 10 s (flying 200 m), 20 s (standing lap) and 60 s (kilo) efforts
consistent.  In the kernel it runs in differential form: the reserve (``w_prime_j``) drains at
P - CP, the power above CP shrinks in proportion to the reserve left, and below CP the reserve
refills as in Skiba 2015.  With ``w_prime_j = (pmax_w - cp_w) / k`` an all-out effort at the
optimal cadence follows the APR curve exactly (``CP`` here is the aerobic ceiling P_aer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

G = 9.81
#: Inertia of both wheels (kg m^2) and wheel radius (m), Martin et al. 1998.
WHEEL_INERTIA = 0.14
WHEEL_RADIUS_M = 0.311
#: Incremental drag area of spinning wheels (m^2), Martin et al. 1998.
WHEEL_FW_M2 = 0.0044
#: Cap on back-pedalling power on a fixed gear (W).  Calibration choice: nobody published it;
#: it only matters when a follower must slow behind a wheel.
BRAKE_POWER_W = 500.0
#: Decay constant of the anaerobic power reserve for cycling (1/s), Weyand et al. 2006.
APR_K_PER_S = 0.026
#: Mass of a track sprint bike (kg): the UCI minimum is 6.8 kg; modelling choice 7.0 kg.
BIKE_MASS_KG = 7.0
#: Height of the centre of mass of rider and bike above the tyres' contact (m), for the lean
#: in the bends (Fitton & Symons 2018, Sports Eng 21:409).  Modelling choice: no value for
#: sprinters is published; about hip height of a seated rider on a track bike.
COM_HEIGHT_M = 1.0

# Limits used to reject absurd scenario values (validation) -------------------------------
#: Elite male sprinters 82-101 kg plus a 6.8 kg minimum bike (Gardner 2005, UCI).  Women and
#: juniors go lower; the bounds are generous but exclude nonsense.
MASS_BOUNDS_KG = (45.0, 130.0)
#: Lab peak powers up to 2,282 W (Gardner 2005); 2,600 W leaves room above any published value.
PMAX_BOUNDS_W = (300.0, 2600.0)


@dataclass(frozen=True)
class Rider:
    """One rider with bike.  Units are SI except cadence (rpm) and development (m/rev).

    The defaults are the default elite man of calibration.py (calibrated from the median
    flying 200 m of the Paris 2024 top eight, 9.2445 s; tests/test_calibration.py checks they
    match), so a rider given nothing rides like him; a rider given a few values keeps the rest:

    - ``mass_kg`` 98.5: 91.5 kg, the middle of elite male sprinters' 82-101 kg (Gardner 2005),
      plus a 7 kg bike.
    - ``cda_m2`` 0.21: modelling choice; no published value for sprinters, an illustrative
      track value is 0.19 m^2 and sprinters sit more upright.
    - ``crr`` 0.0028: inside Martin et al.'s 0.0025-0.0032.
    - ``efficiency`` 0.977: Martin et al. 1998.
    - ``development_m`` 8.375: 155 rpm at the flying-200 m speed (Dorel 2005).
    - ``pmax_w`` 1,964: fitted to the 9.2445 s flying 200 m.
    - ``cadence_opt_rpm`` 130: Dorel 2005.
    - ``cp_w`` 450: modelling choice (the aerobic ceiling, about 5 W/kg).
    - ``w_prime_j`` 58,249: (Pmax - CP) / 0.026, the anaerobic power reserve (module docstring).
    """

    name: str
    mass_kg: float = 98.5
    cda_m2: float = 0.21
    crr: float = 0.0028
    efficiency: float = 0.977
    development_m: float = 8.375
    pmax_w: float = 1964.0
    cadence_opt_rpm: float = 130.0
    cp_w: float = 450.0
    w_prime_j: float = 58249.0
    #: the flying 200 m the physiology was calibrated from (calibration.py), if any
    flying_200_s: float | None = None
    #: ``"hand-set"`` (physiology given) or ``"calibrated"`` (from the rider's results)
    source: str = "hand-set"

    @property
    def effective_mass(self) -> float:
        """Mass plus the wheels' rotational inertia, m + I/r^2 (Martin et al. 1998)."""
        return self.mass_kg + WHEEL_INERTIA / WHEEL_RADIUS_M**2

    def cadence_rpm(self, v: float | np.ndarray) -> float | np.ndarray:
        """Cadence on a fixed gear: speed over development."""
        return np.asarray(v) * 60.0 / self.development_m

    def envelope(self, v: float | np.ndarray) -> float | np.ndarray:
        """Fresh maximal power at speed ``v``: P = Pmax (c/copt)(2 - c/copt), never negative."""
        x = self.cadence_rpm(v) / self.cadence_opt_rpm
        return np.maximum(self.pmax_w * x * (2.0 - x), 0.0)

    def available_power(
        self, v: float | np.ndarray, w_bal: float | np.ndarray
    ) -> float | np.ndarray:
        """Maximal power at wheel speed ``v`` with the reserve ``w_bal`` left (the kernel's law).

        Fatigue shifts the force-cadence line down in parallel (Dunst & Grueneberger 2021,
        Appl Sci 11:12098: fatigue as a mono-exponential downward shift at constant slope), so
        the peak falls to CP + (Pmax - CP) w/W' and moves to a lower cadence; a rider can
        always ride what the fresh envelope allows up to CP.  With all-out riding the peak
        then decays as the APR model says (module docstring).
        """
        x = self.cadence_rpm(v) / self.cadence_opt_rpm
        env = np.maximum(self.pmax_w * x * (2.0 - x), 0.0)
        a = self.cp_w / self.pmax_w
        frac = np.clip(np.asarray(w_bal, dtype=float) / self.w_prime_j, 0.0, 1.0)
        phi = np.sqrt(a + (1.0 - a) * frac)
        return np.maximum(self.pmax_w * x * (2.0 * phi - x), np.minimum(env, self.cp_w))

    def w_balance_rate(self, p: float | np.ndarray, w_bal: float | np.ndarray) -> np.ndarray:
        """dW'/dt of Skiba 2015: -(P - CP) above CP; (CP - P)(W' - W'bal)/W' below."""
        p = np.asarray(p, dtype=float)
        w_bal = np.asarray(w_bal, dtype=float)
        return np.where(
            p > self.cp_w,
            -(p - self.cp_w),
            (self.cp_w - p) * (self.w_prime_j - w_bal) / self.w_prime_j,
        )

    def morton_power(self, t_s: float) -> float:
        """Morton's 3-parameter power-duration curve P(t) = CP + W'/(t + W'/(Pmax - CP))."""
        return self.cp_w + self.w_prime_j / (t_s + self.w_prime_j / (self.pmax_w - self.cp_w))

    def all_out_mean_power(self, t_s: float, v: float, steps: int = 2000) -> float:
        """Mean power of an all-out effort of ``t_s`` seconds at constant speed ``v``."""
        dt = t_s / steps
        w = self.w_prime_j
        total = 0.0
        for _ in range(steps):
            p = float(self.available_power(v, w))
            total += p * dt
            w += float(self.w_balance_rate(p, w)) * dt
        return total / t_s


def anaerobic_reserve_j(pmax_w: float, cp_w: float, k_per_s: float = APR_K_PER_S) -> float:
    """The reserve (J) that makes an all-out effort follow the APR curve with decay ``k``:
    (Pmax - CP) / k (see the module's docstring)."""
    return (pmax_w - cp_w) / k_per_s


def apr_power(t_s: float, pmax_w: float, cp_w: float, k_per_s: float = APR_K_PER_S) -> float:
    """All-out power after ``t_s`` seconds, Weyand et al. 2006: CP + (Pmax - CP) exp(-k t)."""
    return cp_w + (pmax_w - cp_w) * float(np.exp(-k_per_s * t_s))


def solo_speed_for_power(rider: Rider, power_w: float, air_density: float) -> float:
    """Steady solo speed (m/s) that ``power_w`` at the pedals sustains (Martin et al. 1998)."""
    lo, hi = 0.1, 40.0
    for _ in range(80):
        v = 0.5 * (lo + hi)
        need = (
            0.5 * air_density * (rider.cda_m2 + WHEEL_FW_M2) * v**3
            + rider.crr * rider.mass_kg * G * v
            + v * (91.0 + 8.7 * v) * 1e-3
        ) / rider.efficiency
        if need > power_w:
            hi = v
        else:
            lo = v
    return 0.5 * (lo + hi)


def kmh(v_ms: float) -> float:
    """m/s to km/h."""
    return v_ms * 3.6


def ms(v_kmh: float) -> float:
    """km/h to m/s."""
    return v_kmh / 3.6


__all__ = ["Rider", "anaerobic_reserve_j", "apr_power", "solo_speed_for_power", "kmh", "ms"]
