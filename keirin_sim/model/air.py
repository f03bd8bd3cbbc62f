"""Air density from the conditions in the velodrome: temperature, pressure or altitude, humidity.

Teams log temperature and pressure (keirin-reference.md section 4); the density follows from the
ideal-gas law for moist air: rho = (p_d / (R_d T)) + (p_v / (R_v T)), with the water vapour
pressure p_v = RH * p_sat(T) (Tetens' formula) and the dry-air pressure p_d = p - p_v.  Without a
measured pressure it comes from the altitude through the International Standard Atmosphere's
barometric formula (ISO 2533), which a weather system on the day can move by about 2 %.
"""

from __future__ import annotations

import math

#: Specific gas constants of dry air and water vapour (J/(kg K)).
R_DRY = 287.058
R_VAPOUR = 461.495
#: Sea-level standard pressure (hPa), ISO 2533.
SEA_LEVEL_HPA = 1013.25
#: Default temperature of an indoor velodrome (deg C): keirin-reference.md section 4 gives
#: 1.15-1.20 kg/m^3 for 25-30 deg C near sea level; 28 deg C is a modelling choice.
VELODROME_C = 28.0


def pressure_at_altitude(altitude_m: float) -> float:
    """Standard-atmosphere pressure (hPa) at ``altitude_m`` metres (troposphere)."""
    return SEA_LEVEL_HPA * (1.0 - 2.25577e-5 * altitude_m) ** 5.25588


def saturation_vapour_hpa(temperature_c: float) -> float:
    """Saturation vapour pressure of water (hPa), Tetens' formula."""
    return 6.1078 * math.exp(17.27 * temperature_c / (temperature_c + 237.3))


def air_density(
    temperature_c: float = VELODROME_C,
    pressure_hpa: float | None = None,
    altitude_m: float = 0.0,
    relative_humidity: float = 0.0,
) -> float:
    """Air density (kg/m^3).  ``pressure_hpa`` wins over ``altitude_m`` when both are given;
    ``relative_humidity`` is a fraction (0-1)."""
    p = pressure_at_altitude(altitude_m) if pressure_hpa is None else pressure_hpa
    t = temperature_c + 273.15
    pv = relative_humidity * saturation_vapour_hpa(temperature_c)
    return ((p - pv) * 100.0 / (R_DRY * t)) + (pv * 100.0 / (R_VAPOUR * t))


__all__ = ["air_density", "pressure_at_altitude", "saturation_vapour_hpa"]
