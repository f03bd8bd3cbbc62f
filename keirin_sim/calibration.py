"""Riders from their results: the physiology that rides a published flying 200 m (and kilo).

One time cannot determine a rider, so what it cannot determine comes from population relations
for elite sprinters (:class:`Profile`, each value sourced or marked as a modelling choice):

- mass: men 91.5 kg (the middle of Gardner et al. 2005's 82-101 kg) plus a 7 kg bike; women
  72 kg plus the bike (modelling choice: no figure in the validation data);
- CdA: 0.21 m^2 for the men's mass (modelling choice: no measured sprinter value, an
  illustrative track value is 0.19 and sprinters sit more upright), scaled with body mass to
  the power 2/3 (frontal area of geometrically similar bodies);
- aerobic ceiling (CP): men 450 W, women 350 W (modelling choice: about 5 W/kg);
- optimal cadence 130 rpm (Dorel et al. 2005);
- gear: the development that turns the pedals at 155 rpm at the rider's own flying-200 m speed
  (Dorel et al. 2005: 155 +/- 3 rpm in international flying 200 m);
- fatigue: the anaerobic power reserve decays at k = 0.026 1/s (Weyand et al. 2006), so the
  reserve is (Pmax - CP) / k (rider.py).

Then Pmax is the one value left: it is solved so that the model's flying 200 m
(timetrial.py, ridden as well as the model can) equals the published time.  Given a kilo too,
k is solved as well, so that the standing kilo matches; the residuals say how close both came.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from keirin_sim.engine.timetrial import SEA_LEVEL_AIR_DENSITY, ride, rider_dict
from keirin_sim.model.rider import BIKE_MASS_KG, FADE_K_PER_S, PMAX_BOUNDS_W, Rider
from keirin_sim.model.track import Track

SEXES = ("men", "women")
#: Range of the fade rate k searched (1/s): modelling choice, a factor of about two either
#: side of the population value.
K_RANGE = (0.02, 0.09)
#: The population relation giving a rider with one time its second: kilo = ratio x flying
#: 200 m, fitted on the public training pairs of validation-data.md sections 1.1-1.2 (Lavreysen
#: 9.088 / 57.321 s, Hoogland 9.293 / 57.813 s: ratios 6.307 and 6.221) by tools/fit_fade.py,
#: which prints the fit and its residuals.  Women: no published pair of one rider at one
#: venue era; the men's ratio scaled by nothing (modelling choice, checked against van de
#: Wouw's 63.652 s kilo and her 10.263 s flying 200 m in the validation table).
KILO_RATIO: dict[str, float] = {"men": 6.2633, "women": 6.2633}


#: Flying 200 m times the model can calibrate (s, at sea-level air density; scaled with the
#: cube root of the density of the times): the fast end is where Pmax reaches the top of
#: ``PMAX_BOUNDS_W`` (2,600 W), the slow end where it falls to twice the aerobic ceiling, below
#: which the sprint fatigue law is not meant for the rider (modelling choice).  Checked by
#: tests/test_calibration.py.
CALIBRATABLE_S: dict[str, tuple[float, float]] = {"men": (8.75, 10.8), "women": (9.0, 11.3)}


def calibratable_range(
    sex: str = "men", air_density: float = SEA_LEVEL_AIR_DENSITY
) -> tuple[float, float]:
    """The flying 200 m times (s) the model can calibrate for ``sex`` at ``air_density``."""
    lo, hi = CALIBRATABLE_S[sex]
    f = (air_density / SEA_LEVEL_AIR_DENSITY) ** (1.0 / 3.0)
    return lo * f, hi * f


def population_kilo_s(flying_200_s: float, sex: str = "men") -> float:
    """The kilo the population relation gives a rider with a flying 200 m of ``flying_200_s``."""
    return KILO_RATIO[sex] * flying_200_s


#: Cadence in a flying 200 m (rpm), Dorel et al. 2005.
FLYING_CADENCE_RPM = 155.0


@dataclass(frozen=True)
class Profile:
    """Population relations for one sex (see the module docstring for the sources)."""

    sex: str
    body_mass_kg: float
    cda_m2: float
    cp_w: float
    #: the profile's own flying 200 m (s): the median of a published top eight
    flying_200_s: float
    source: str


#: The default elite man and woman: the medians of the Paris 2024 Olympic top-eight flying
#: 200 m (men 9.088-9.350 s, median 9.2445 s; women 10.029-10.263 s, median 10.157 s;
#: validation-data.md section 1.1).
PROFILES: dict[str, Profile] = {
    "men": Profile("men", 91.5, 0.21, 450.0, 9.2445, "Paris 2024 top-eight median flying 200 m"),
    "women": Profile(
        "women",
        72.0,
        0.21 * (72.0 / 91.5) ** (2.0 / 3.0),
        350.0,
        10.157,
        "Paris 2024 top-eight median flying 200 m",
    ),  # fmt: skip
}


class CalibrationError(ValueError):
    """A time the model cannot ride with any physiology inside the bounds."""


@dataclass(frozen=True)
class Calibration:
    """A rider fitted to its results, with what was given and how close the model came."""

    rider: Rider
    sex: str
    flying_200_s: float
    kilo_s: float | None
    mass_given: bool
    model_flying_200_s: float
    model_kilo_s: float
    apr_k_per_s: float
    air_density: float

    @property
    def residuals_s(self) -> dict[str, float]:
        """Model minus given, per given time."""
        out = {"flying200": self.model_flying_200_s - self.flying_200_s}
        if self.kilo_s is not None:
            out["kilo"] = self.model_kilo_s - self.kilo_s
        return out

    def how(self) -> str:
        """One line saying where the physiology came from."""
        given = f"flying 200 m {self.flying_200_s:.3f} s"
        if self.kilo_s is not None:
            given += f", kilo {self.kilo_s:.3f} s"
        if self.mass_given:
            given += f", mass {self.rider.mass_kg:g} kg"
        return f"from {given} ({self.sex}; the rest from the {self.sex}'s population relations)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "sex": self.sex,
            "given": {"flying_200_s": self.flying_200_s, "kilo_s": self.kilo_s},
            "air_density": self.air_density,
            "apr_k_per_s": round(self.apr_k_per_s, 5),
            "rider": rider_dict(self.rider),
            "model": {
                "flying_200_s": round(self.model_flying_200_s, 3),
                "kilo_s": round(self.model_kilo_s, 3),
            },
            "residuals_s": {k: round(v, 4) for k, v in self.residuals_s.items()},
        }


def gear_for(flying_200_s: float) -> float:
    """Development (m) turning the pedals at 155 rpm at the mean speed of a flying 200 m."""
    return 200.0 / flying_200_s * 60.0 / FLYING_CADENCE_RPM


def _rider(
    name: str,
    prof: Profile,
    t200: float,
    mass_kg: float | None,
    pmax: float,
    k: float,
    development_m: float | None = None,
) -> Rider:
    body = prof.body_mass_kg if mass_kg is None else mass_kg - BIKE_MASS_KG
    cda = prof.cda_m2 * (body / prof.body_mass_kg) ** (2.0 / 3.0)
    return Rider(
        name=name,
        mass_kg=body + BIKE_MASS_KG,
        cda_m2=cda,
        development_m=gear_for(t200) if development_m is None else development_m,
        pmax_w=pmax,
        cp_w=prof.cp_w,
        w_prime_j=(pmax - prof.cp_w) / k,
    )


def _solve(f, x0: float, x1: float, lo: float, hi: float, tol: float, strict: bool = True) -> float:
    """Root of a monotone ``f`` by the secant method, kept inside [lo, hi] (``strict=False``:
    the bound nearest the root when there is none inside)."""
    x0, x1 = min(hi, max(lo, x0)), min(hi, max(lo, x1))
    f0, f1 = f(x0), f(x1)
    for _ in range(30):
        if abs(f1) < tol:
            return x1
        if f1 == f0:
            break
        x2 = min(hi, max(lo, x1 - f1 * (x1 - x0) / (f1 - f0)))
        if x2 == x1:
            break
        x0, f0, x1, f1 = x1, f1, x2, f(x2)
    if abs(f1) > 20 * tol and strict:
        raise CalibrationError("no physiology inside the bounds rides that time")
    return x1


@lru_cache(maxsize=512)
def calibrate(
    flying_200_s: float,
    kilo_s: float | None = None,
    mass_kg: float | None = None,
    sex: str = "men",
    *,
    name: str = "rider",
    air_density: float = SEA_LEVEL_AIR_DENSITY,
    track: Track | None = None,
    development_m: float | None = None,
) -> Calibration:
    """The rider whose model flying 200 m is ``flying_200_s`` (and standing kilo ``kilo_s``)
    at ``air_density``.  ``mass_kg`` is rider plus bike; ``development_m`` (metres per pedal
    revolution) is the rider's own gear, by default the one turning 155 rpm at its time."""
    if sex not in SEXES:
        raise CalibrationError(f"sex must be one of {', '.join(SEXES)}, not {sex!r}")
    prof = PROFILES[sex]
    tr = track or Track()
    lo, hi = calibratable_range(sex, air_density)
    if not lo - 1e-9 <= flying_200_s <= hi + 1e-9:
        raise CalibrationError(
            f"flying_200_s {flying_200_s:g} s is outside the times the model can calibrate for "
            f"{sex}: {lo:.2f}-{hi:.2f} s (at air density {air_density:g} kg/m^3)"
        )

    def t200(pmax: float, k: float) -> float:
        r = _rider(name, prof, flying_200_s, mass_kg, pmax, k, development_m)
        return ride("flying200", r, track=tr, air_density=air_density, traces=False).time_s

    def fit_pmax(k: float) -> float:
        p0 = 2100.0 * (9.3 / flying_200_s) ** 3 * (prof.body_mass_kg / 91.5)
        return _solve(lambda p: t200(p, k) - flying_200_s, p0, p0 * 1.03, *PMAX_BOUNDS_W, 5e-4)

    def kilo(pmax: float, k: float) -> float:
        r = _rider(name, prof, flying_200_s, mass_kg, pmax, k, development_m)
        return ride("kilo", r, track=tr, air_density=air_density, traces=False).time_s

    # the second time: the rider's own kilo, else the population relation (KILO_RATIO)
    kilo_target = kilo_s if kilo_s is not None else population_kilo_s(flying_200_s, sex)

    def miss(kk: float) -> float:
        return kilo(fit_pmax(kk), kk) - kilo_target

    # with the flying 200 m held, a faster fade asks for a higher Pmax and gives a slower kilo
    # (monotone): k is the root, kept inside K_RANGE; the residuals say how close it came
    try:
        k = _solve(miss, FADE_K_PER_S, FADE_K_PER_S * 1.1, *K_RANGE, 2e-3, strict=False)
    except CalibrationError:
        k = FADE_K_PER_S
    pmax = fit_pmax(k)
    rider = replace(
        _rider(name, prof, flying_200_s, mass_kg, pmax, k, development_m),
        flying_200_s=flying_200_s,
        source="calibrated",
    )
    return Calibration(
        rider=rider,
        sex=sex,
        flying_200_s=flying_200_s,
        kilo_s=kilo_s,
        mass_given=mass_kg is not None,
        model_flying_200_s=t200(pmax, k),
        model_kilo_s=kilo(pmax, k),
        apr_k_per_s=k,
        air_density=air_density,
    )


def default_rider(sex: str = "men", name: str = "rider") -> Rider:
    """The default elite rider of ``sex``: calibrated from its profile's flying 200 m."""
    return replace(calibrate(PROFILES[sex].flying_200_s, sex=sex).rider, name=name)


#: Exponent of Pmax against the flying 200 m time near a calibrated time (Pmax ~ t^-b): the
#: power to ride a time goes about with the cube of the speed; used to move a calibrated rider
#: to a drawn form on the day without a new fit (checked against a fit in the tests).
FORM_EXPONENT = 3.3


def form_changes(rider: Rider, flying_200_s: float) -> dict[str, float]:
    """The fields of a calibrated rider that move when it rides ``flying_200_s`` instead (form
    on the day): Pmax scaled by the time ratio to the power ``FORM_EXPONENT``, gear and reserve
    following."""
    if rider.flying_200_s is None:
        raise CalibrationError(f"{rider.name} has no flying_200_s to move from")
    ratio = rider.flying_200_s / flying_200_s
    pmax = rider.pmax_w * ratio**FORM_EXPONENT
    k = (rider.pmax_w - rider.cp_w) / rider.w_prime_j
    return {
        "pmax_w": pmax,
        "w_prime_j": (pmax - rider.cp_w) / k,
        "development_m": rider.development_m * ratio,
        "flying_200_s": flying_200_s,
    }


def with_form(rider: Rider, flying_200_s: float) -> Rider:
    """A calibrated rider moved to ride ``flying_200_s`` instead (:func:`form_changes`)."""
    return replace(rider, **form_changes(rider, flying_200_s))


def calibrated(
    name: str,
    flying_200_s: float,
    kilo_s: float | None = None,
    mass_kg: float | None = None,
    sex: str = "men",
    air_density: float = SEA_LEVEL_AIR_DENSITY,
) -> Rider:
    """The calibrated rider named ``name`` (see :func:`calibrate`), its time kept on it."""
    cal = calibrate(flying_200_s, kilo_s, mass_kg, sex, air_density=air_density)
    return replace(cal.rider, name=name)


__all__ = [
    "PROFILES",
    "Calibration",
    "CalibrationError",
    "Profile",
    "CALIBRATABLE_S",
    "KILO_RATIO",
    "calibratable_range",
    "calibrate",
    "calibrated",
    "population_kilo_s",
    "default_rider",
    "form_changes",
    "gear_for",
    "with_form",
]
