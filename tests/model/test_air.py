"""Air density from temperature, pressure or altitude, and humidity."""

from __future__ import annotations

import pytest

from keirin_sim.model.air import air_density, pressure_at_altitude
from keirin_sim.scenario.loading import parse_scenario
from keirin_sim.scenario.scenario import ScenarioError


def test_standard_sea_level_air():
    # ISO 2533: 1.225 kg/m^3 at 15 C and 1013.25 hPa, dry
    assert air_density(15.0, 1013.25) == pytest.approx(1.225, abs=1e-3)


def test_a_warm_velodrome_near_sea_level_is_in_the_published_range():
    # keirin-reference.md section 4: about 1.15-1.20 kg/m^3 at 25-30 C
    for t in (25.0, 30.0):
        assert 1.15 <= air_density(t) <= 1.20


def test_altitude_humidity_and_heat_thin_the_air():
    base = air_density(28.0)
    assert air_density(28.0, altitude_m=1200.0) < 0.9 * base
    assert air_density(28.0, relative_humidity=0.6) < base
    assert air_density(32.0) < base
    assert pressure_at_altitude(0.0) == pytest.approx(1013.25)


def _scenario(**extra):
    return {
        "name": "x",
        "riders": [{"name": "A"}, {"name": "B"}],
        **extra,
    }


def test_a_scenario_takes_its_air_density_from_its_conditions():
    sc = parse_scenario(_scenario(conditions={"temperature_c": 28.0, "altitude_m": 1200.0}))
    assert sc.air_density == pytest.approx(air_density(28.0, altitude_m=1200.0))


def test_conditions_beside_an_air_density_is_an_error():
    with pytest.raises(ScenarioError, match="conditions: give air_density or"):
        parse_scenario(_scenario(air_density=1.17, conditions={"temperature_c": 28.0}))
    with pytest.raises(ScenarioError, match="conditions.altitude_m"):
        parse_scenario(_scenario(conditions={"altitude_m": 9000.0}))
