"""Rider parameters, the power-cadence envelope and the fatigue of sprint efforts.

Force balance after Martin et al. 1998 (J Appl Biomech 14:276); envelope after Dorel et al. 2005.

Fatigue (issue 25; validation-data.md section 1.5).  The force-cadence line shifts down in
parallel at constant slope (Dunst & Grueneberger 2021, Appl Sci 11:12098), and the shift runs
in *time*, not in work done: Dunst, Scharf & Ueberschaer compared a time-based shift (PASA) with
a loss per pedal stroke (PESA) in 12 elite sprinters and the time-based form had the lower
error.  The state is the share r of the fresh peak's excess over CP left (kept in the kernel as
``w_prime_j * r``, so it reads in joules): all out at any cadence r falls as dr/dt = -k r; a
rider using the share u = (P - CP) / (P_avail - CP) of its capacity above CP drains at u times
that rate; below CP it refills as in Skiba 2015.  The peak of the shifted line is

    P_peak = CP + (Pmax - CP) (f r + (1 - f) r^s)

so an all-out effort's peak follows a fast and a slow exponential, f exp(-k t) + (1 - f)
exp(-s k t): the anaerobic power reserve of Weyand et al. 2006 (one exponential, k = 0.026 1/s
at 100 rpm, 7 non-specialists) with a slow (glycolytic) component beside the fast one.  Why
two: with one exponential the published kilos (flying 200 m / kilo pairs, section 1.2) need a
slow fade, and then a 10 s effort keeps 89 % of its peak and a long solo hardly fades, against
Gardner et al.'s race maxima (79 % at 10 s) and the issue's bounds; a fast share ``FADE_FAST``
0.7 and a slow rate ``FADE_SLOW`` 0.2 k (modelling choices, chosen from a small grid as the
shape that met the power-duration bounds with the kilo held, docs/model.md) do both.  The
time-based drain is what empties a rider: at the fixed gear's high cadence the shifted line
gives little power, but the reserve keeps running down, so a 750 m solo fades at the line and
a reserve saved on a wheel is there to spend.  ``w_prime_j`` = (Pmax - CP) / k carries the
rider's own k; calibration.py fits it with Pmax from two times.

Standing start: out of the saddle a sprinter pushes harder at low cadence.  Bouillod et al.
2017 measured 22.4 % more tangential pedal force standing than seated (13 elite cyclists,
uphill time trials; Merkes et al. 2020, 14 s sprints: +12.7 % peak power).  The force at zero
cadence is raised by ``STAND_GAIN`` = 22.4 %, fading linearly to none at the optimal cadence
(modelling choice: sprinters sit down as the cadence rises), in races as in time trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Out of the saddle at low cadence (explained and sourced above): the force gain at zero
#: cadence (Bouillod et al. 2017) and the reciprocal of the relative cadence where the rider is
#: seated again.  The kernel holds the same values (tests/model/test_rider.py checks it).
STAND_GAIN = 0.224
STAND_IX = 1.0
#: The fast and slow components of the fade: the share of the peak's excess over CP that fades
#: at the rider's rate k, and the slow component's rate as a share of k.
FADE_FAST = 0.7
FADE_SLOW = 0.2
#: Below this capacity above CP (W) the share of it used is taken against this much instead,
#: so the drain fades out continuously where the fatigued limit meets CP.  Numerical choice.
FADE_SOFT_W = 50.0

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
#: Starting value of the fade rate k of the fast component when a rider is calibrated (1/s);
#: each rider's own k is fitted from its two times (calibration.py).
FADE_K_PER_S = 0.045
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
    - ``pmax_w`` 2,021: fitted with the fade rate to the 9.2445 s flying 200 m and the kilo
      the population relation gives it (57.90 s, calibration.py).
    - ``cadence_opt_rpm`` 130: Dorel 2005.
    - ``cp_w`` 450: modelling choice (the aerobic ceiling, about 5 W/kg).
    - ``w_prime_j`` 39,886: (Pmax - CP) / k with k = 0.0394 1/s, the reserve that carries
      the fade rate k (module docstring); calibration.py fits both.
    """

    name: str
    mass_kg: float = 98.5
    cda_m2: float = 0.21
    crr: float = 0.0028
    efficiency: float = 0.977
    development_m: float = 8.375
    pmax_w: float = 2021.4
    cadence_opt_rpm: float = 130.0
    cp_w: float = 450.0
    w_prime_j: float = 39886.0
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
        """Fresh maximal power at speed ``v``: P = Pmax (c/copt)(2 - c/copt), never negative,
        with the standing start's gain at low cadence (module docstring)."""
        x = self.cadence_rpm(v) / self.cadence_opt_rpm
        return np.maximum(self.pmax_w * x * (2.0 - x), 0.0) * _standing(x)

    def available_power(
        self, v: float | np.ndarray, w_bal: float | np.ndarray
    ) -> float | np.ndarray:
        """Maximal power at wheel speed ``v`` with the reserve ``w_bal`` left (the kernel's law):
        the force-cadence line shifted down in parallel so that its peak is
        CP + (Pmax - CP)(f r + (1 - f) r^s), r = w_bal / W' (module docstring); never below
        what the fresh envelope allows up to CP."""
        x = self.cadence_rpm(v) / self.cadence_opt_rpm
        st = _standing(x)
        env = np.maximum(self.pmax_w * x * (2.0 - x), 0.0) * st
        a = self.cp_w / self.pmax_w
        r = np.clip(np.asarray(w_bal, dtype=float) / self.w_prime_j, 0.0, 1.0)
        phi = np.sqrt(a + (1.0 - a) * (FADE_FAST * r + (1.0 - FADE_FAST) * r**FADE_SLOW))
        return np.maximum(self.pmax_w * x * (2.0 * phi - x) * st, np.minimum(env, self.cp_w))

    def w_balance_rate(
        self, p: float | np.ndarray, w_bal: float | np.ndarray, v: float | np.ndarray
    ) -> np.ndarray:
        """d(reserve)/dt at power ``p`` and wheel speed ``v`` (the kernel's law): above CP the
        time-based drain -(Pmax - CP) r u, u the share of the capacity above CP used; below CP
        Skiba's refill (CP - P)(W' - w)/W'."""
        p = np.asarray(p, dtype=float)
        w_bal = np.asarray(w_bal, dtype=float)
        plim = np.asarray(self.available_power(v, w_bal), dtype=float)
        r = np.clip(w_bal / self.w_prime_j, 0.0, 1.0)
        u = np.minimum((p - self.cp_w) / np.maximum(plim - self.cp_w, FADE_SOFT_W), 1.0)
        return np.where(
            p > self.cp_w,
            -(self.pmax_w - self.cp_w) * r * u,
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
            w += float(self.w_balance_rate(p, w, v)) * dt
        return total / t_s


def _standing(x: float | np.ndarray) -> float | np.ndarray:
    """Force gain out of the saddle at relative cadence ``x`` (module docstring)."""
    return 1.0 + STAND_GAIN * np.maximum(0.0, 1.0 - np.asarray(x) * STAND_IX)


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
