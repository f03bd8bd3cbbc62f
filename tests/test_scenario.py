"""The scenario loader: shipped files, defaults, validation messages and set_param."""

from __future__ import annotations

from dataclasses import fields
from importlib import resources

import pytest

from keirin_sim import Rider, Scenario, ScenarioError, Tactic, load_scenario, parse_scenario
from keirin_sim.scenario import DEFAULT_SCENARIO, shipped_scenarios, tomllib


def minimal(**top) -> dict:
    data = {
        "name": "test race",
        "riders": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
    }
    data.update(top)
    return data


# --- shipped scenarios -----------------------------------------------------------------------
def test_shipped_scenarios():
    names = shipped_scenarios()
    assert DEFAULT_SCENARIO in names
    assert all(n.endswith(".toml") for n in names)
    assert names == sorted(names)
    for n in names:  # every shipped file loads
        text = resources.files("keirin_sim.scenarios").joinpath(n).read_text(encoding="utf-8")
        assert isinstance(parse_scenario(tomllib.loads(text), n), Scenario)


def test_default_is_tokyo(tmp_path):
    sc = load_scenario(None)
    assert sc.source == DEFAULT_SCENARIO
    assert "Tokyo" in sc.name
    assert len(sc.riders) == 6
    assert sc.names[0] == "Jason Kenny" and sc.names[-1] == "Azizulhasni Awang"
    assert sc.attacker == "Jason Kenny"
    assert sc.race_m == pytest.approx(1500.0)
    assert sc.derny.pull_off_m_to_go == pytest.approx(750.0)
    assert sc.reference["winning_margin_s"] == pytest.approx(0.763)
    # the same file from a path gives the same scenario
    text = resources.files("keirin_sim.scenarios").joinpath(DEFAULT_SCENARIO).read_text("utf-8")
    f = tmp_path / "copy.toml"
    f.write_text(text, encoding="utf-8")
    sc2 = load_scenario(f)
    assert sc2.riders == sc.riders
    assert sc2.source == str(f)


# --- defaults merge ----------------------------------------------------------------------------
def test_class_defaults_without_default_tables():
    sc = parse_scenario(minimal())
    for e in sc.riders:
        assert e.rider == Rider(name=e.rider.name)
        assert e.tactic == Tactic()
    assert sc.laps == 6 and sc.attacker is None


def test_rider_and_tactic_defaults_merge():
    data = minimal(
        rider_defaults={"mass_kg": 90.0, "pmax_w": 1700.0},
        tactic_defaults={"kind": "hesitate_chase", "hesitation_s": 3.0},
    )
    data["riders"][1] = {"name": "B", "pmax_w": 2000.0, "tactic": {"hesitation_s": 1.5}}
    data["riders"][2] = {"name": "C", "tactic": {"kind": "attack"}}
    sc = parse_scenario(data)
    a, b, c = (e.rider for e in sc.riders)
    assert a.mass_kg == b.mass_kg == c.mass_kg == 90.0  # from rider_defaults
    assert a.pmax_w == 1700.0 and b.pmax_w == 2000.0  # a rider's own value wins
    assert a.cda_m2 == Rider(name="x").cda_m2  # neither: the class default
    ta, tb, tc = (e.tactic for e in sc.riders)
    assert ta.kind == "hesitate_chase" and ta.hesitation_s == 3.0
    assert tb.kind == "hesitate_chase" and tb.hesitation_s == 1.5
    assert tc.kind == "attack" and tc.hesitation_s == 3.0
    assert ta.gap_trigger_m == Tactic().gap_trigger_m


def test_extra_sections_and_reference_kept():
    data = minimal(variants={"x": {"kind": "attack"}}, reference={"note": "r"})
    sc = parse_scenario(data)
    assert sc.extra["variants"] == {"x": {"kind": "attack"}}
    assert sc.reference == {"note": "r"}


# --- validation messages: "<file>: <key>: <problem>" ---------------------------------------------
@pytest.mark.parametrize(
    "change, key",
    [
        ({"name": ""}, "name"),
        ({"wheels": 3}, "wheels"),
        ({"laps": 6.5}, "laps"),
        ({"laps": 0}, "laps"),
        ({"air_density": "thick"}, "air_density"),
        ({"track": {"lap_m": 50.0}}, "track.lap_m"),
        ({"track": {"bend_radius_m": 50.0, "lap_m": 250.0}}, "track.bend_radius_m"),
        ({"derny": {"end_kmh": 20.0}}, "derny.end_kmh"),
        ({"derny": {"pull_off_m_to_go": 1500.0}}, "derny.pull_off_m_to_go"),
        ({"rider_defaults": {"mass_kg": 0}}, "rider_defaults.mass_kg"),
        ({"rider_defaults": {"pmax_w": 10000}}, "rider_defaults.pmax_w"),
        ({"rider_defaults": {"cp_w": 700.0, "pmax_w": 600.0}}, "cp_w"),
        ({"tactic_defaults": {"kind": "teleport"}}, "tactic.kind"),
        ({"tactic_defaults": {"launch_on_wprime": 1}}, "tactic_defaults.launch_on_wprime"),
        ({"attacker": "Z"}, "attacker"),
        ({"riders": [{"name": "A"}]}, "riders"),
        ({"riders": [{"name": "A"}, {"name": "A"}]}, "riders[1].name"),
        ({"riders": [{"name": "A"}, {"name": "B", "nom": 1}]}, "riders[1].nom"),
        ({"riders": [{"name": "A"}, {"pmax_w": 1500.0}]}, "riders[1].name"),
        ({"riders": [{"name": "A"}, {"name": "B", "tactic": {"launch_m_to_go": 2000.0}}]},
         "riders[1].tactic.launch_m_to_go"),
        ({"riders": "A, B"}, "riders"),
    ],
)  # fmt: skip
def test_validation_names_file_and_key(change, key):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(minimal(**change), "race.toml")
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("race.toml: ")
    assert key in msg


def test_missing_name_and_riders():
    with pytest.raises(ScenarioError, match=r"^f.toml: name: missing"):
        parse_scenario({"riders": [{"name": "A"}, {"name": "B"}]}, "f.toml")
    with pytest.raises(ScenarioError, match=r"^f.toml: riders: missing"):
        parse_scenario({"name": "x"}, "f.toml")


def test_load_errors(tmp_path):
    with pytest.raises(ScenarioError, match="nowhere.toml: file not found"):
        load_scenario(tmp_path / "nowhere.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = = 1")
    with pytest.raises(ScenarioError, match="bad.toml: .*TOML"):
        load_scenario(bad)


# --- set_param -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tokyo():
    return load_scenario(None)


def test_set_param_rider_field(tokyo):
    sc = tokyo.set_param("Harrie Lavreysen.pmax_w", 2150.0)
    i = sc.rider_index("Harrie Lavreysen")
    assert sc.riders[i].rider.pmax_w == 2150.0
    for j, (old, new) in enumerate(zip(tokyo.riders, sc.riders, strict=True)):
        if j != i:
            assert old == new
    assert tokyo.riders[i].rider.pmax_w != 2150.0  # the original is unchanged


def test_set_param_tactic_field(tokyo):
    sc = tokyo.set_param("Jason Kenny.attack_m_to_go", 600.0)
    assert sc.riders[0].tactic.attack_m_to_go == 600.0
    sc = tokyo.set_param("Jason Kenny.kind", "follow")
    assert sc.riders[0].tactic.kind == "follow"


def test_set_param_field_and_all(tokyo):
    sc = tokyo.set_param("field.hesitation_s", 1.0)
    for e in sc.riders:
        if e.rider.name == tokyo.attacker:
            assert e.tactic == tokyo.riders[tokyo.rider_index(e.rider.name)].tactic
        else:
            assert e.tactic.hesitation_s == 1.0
    sc = tokyo.set_param("all.mass_kg", 90.0)
    assert all(e.rider.mass_kg == 90.0 for e in sc.riders)


def test_set_param_top_level_track_derny(tokyo):
    assert tokyo.set_param("air_density", 1.2).air_density == 1.2
    assert tokyo.set_param("laps", 8).race_m == pytest.approx(8 * tokyo.track.lap_m)
    assert tokyo.set_param("derny.end_kmh", 48.0).derny.end_kmh == 48.0
    assert tokyo.set_param("track.bend_radius_m", 23.0).track.bend_radius_m == 23.0


@pytest.mark.parametrize(
    "path, value, match",
    [
        ("Chris Hoy.pmax_w", 2000.0, "Chris Hoy"),
        ("Jason Kenny.wings", 1.0, "wings"),
        ("Jason Kenny.pmax_w", 10000.0, "pmax_w"),
        ("all.mass_kg", 0.0, "mass_kg"),
        ("derny.colour", 1.0, "colour"),
        ("air_density", 5.0, "air_density"),
        ("laps", 6.5, "laps"),
        ("gravity", 9.8, "gravity"),
        ("field.cda_m2", "low", "cda_m2"),
    ],
)
def test_set_param_errors(tokyo, path, value, match):
    with pytest.raises(ScenarioError, match=match) as e:
        tokyo.set_param(path, value)
    assert str(e.value).startswith(f"{tokyo.source}: ")
    assert "\n" not in str(e.value)


def test_with_rider_and_tactic(tokyo):
    sc = tokyo.with_rider("Jason Kenny", cda_m2=0.2).with_tactic("Jason Kenny", hesitation_s=2.0)
    assert sc.riders[0].rider.cda_m2 == 0.2
    assert sc.riders[0].tactic.hesitation_s == 2.0
    with pytest.raises(ScenarioError, match="Chris Hoy"):
        tokyo.with_rider("Chris Hoy", cda_m2=0.2)


def test_scenario_defaults_are_documented_fields():
    names = {f.name for f in fields(Scenario)}
    assert {"name", "riders", "track", "derny", "laps", "air_density", "attacker"} <= names


def test_base_inherits_the_field_and_merges_tables(tmp_path, tokyo):
    f = tmp_path / "what_if.toml"
    f.write_text('base = "tokyo2020_mens_final.toml"\nname = "what if"\n[derny]\nend_kmh = 45.0\n')
    sc = load_scenario(f)
    assert sc.name == "what if"
    assert sc.riders == tokyo.riders
    assert sc.derny.end_kmh == 45.0 and sc.derny.start_kmh == tokyo.derny.start_kmh


def test_base_beside_the_file_wins_over_shipped(tmp_path):
    (tmp_path / "parent.toml").write_text(
        'name = "p"\n[[riders]]\nname = "A"\n[[riders]]\nname = "B"\n'
    )
    (tmp_path / "child.toml").write_text('base = "parent.toml"\nname = "c"\n')
    assert load_scenario(tmp_path / "child.toml").names == ["A", "B"]


@pytest.mark.parametrize(
    ("base", "needle"), [('"nowhere.toml"', "not found"), ("3", "must be a scenario file name")]
)
def test_bad_base_is_one_line(tmp_path, base, needle):
    f = tmp_path / "bad.toml"
    f.write_text(f'base = {base}\nname = "x"\n')
    with pytest.raises(ScenarioError, match=needle) as e:
        load_scenario(f)
    assert str(e.value).startswith(f"{f}: base: ")
    assert "\n" not in str(e.value)


def test_shipped_scenario_by_bare_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sc = load_scenario("early_vs_late.toml")
    assert sc.extra["variants"]
