"""The scenario loader: shipped files, defaults, validation messages and set_param."""

from __future__ import annotations

from dataclasses import fields
from importlib import resources

import pytest

from keirin_sim import Rider, Scenario, ScenarioError, Tactic, load_scenario, parse_scenario
from keirin_sim.scenario.loading import DEFAULT_SCENARIO, shipped_scenarios, tomllib


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
    """A rider given nothing is the default elite man, whose values are the Rider defaults."""
    sc = parse_scenario(minimal())
    plain = Rider(name="x")
    for e in sc.riders:
        assert e.rider.source == "calibrated"
        for f in ("mass_kg", "cda_m2", "development_m", "pmax_w", "cp_w", "w_prime_j"):
            assert getattr(e.rider, f) == pytest.approx(getattr(plain, f), rel=1e-3)
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
    data = minimal(variants=[{"name": "x", "kind": "attack"}], reference={"note": "r"})
    sc = parse_scenario(data)
    assert sc.extra["variants"] == [{"name": "x", "kind": "attack"}]
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


# --- set_param gets the checks of a scenario file ------------------------------------------------
@pytest.mark.parametrize(
    "path, value, needle",
    [
        ("Jason Kenny.pmax_w", 300, "300 W must be above cp_w 450 W"),
        ("Jason Kenny.cp_w", 2000.0, "outside the physical range"),
        ("Jason Kenny.kind", "bogus", "'bogus' is not one of race"),
        ("Jason Kenny.kind", 5, "must be a string, got 5"),
        ("Jason Kenny.role", "boss", "'boss' is not one of chase, wheel"),
        ("Jason Kenny.launch_on_wprime", "yes", "must be true or false, got 'yes'"),
        ("Jason Kenny.launch_m_to_go", 1600.0, "1600.0 m is beyond the 1500 m race"),
        ("Jason Kenny.attack_m_to_go", 1500.0, "beyond the 1500 m race"),
        ("all.move_up_m_to_go", 2000.0, "beyond the 1500 m race"),
        ("field.let_gap_at_m_to_go", 1500.0, "beyond the 1500 m race for Matthew Glaetzer"),
        ("derny.end_kmh", 20.0, "20.0 is below start_kmh 30.0"),
        ("derny.start_kmh", 55.0, "derny.end_kmh 50.0 is below start_kmh 55.0"),
        ("derny.pull_off_m_to_go", 1500.0, "not inside the 1500 m race"),
        ("derny.ramp_end_m_to_go", 100.0, "between the pull-off and the start"),
        ("track.bend_radius_m", 45.0, "45.0 m bends do not fit a 250.0 m lap"),
        ("track.lap_m", 130.0, "track.bend_radius_m 22.0 m bends do not fit a 130.0 m lap"),
        ("laps", 2, "derny.pull_off_m_to_go 750.0 m is not inside the 500 m race"),
    ],
)
def test_set_param_checks_like_a_file(tokyo, path, value, needle):
    with pytest.raises(ScenarioError) as e:
        tokyo.set_param(path, value)
    msg = str(e.value)
    assert msg.startswith(f"{tokyo.source}: {path}: ")
    assert needle in msg
    assert "\n" not in msg


def test_set_param_field_cp_above_a_riders_pmax(tokyo):
    sc = tokyo.set_param("Maximilian Levy.pmax_w", 700.0)
    with pytest.raises(ScenarioError) as e:
        sc.set_param("field.cp_w", 750.0)
    assert str(e.value) == (
        f"{tokyo.source}: field.cp_w: 750.0 W must be below pmax_w 700.0 W for Maximilian Levy"
    )
    assert sc.set_param("field.cp_w", 650.0).riders[3].rider.cp_w == 650.0


def test_set_param_laps_puts_a_mark_outside_the_race(tokyo):
    sc = tokyo.set_param("derny.pull_off_m_to_go", 250.0)
    with pytest.raises(ScenarioError) as e:
        sc.set_param("laps", 3)  # Glaetzer lets his gap open 875 m from the line
    assert str(e.value) == (
        f"{tokyo.source}: laps: Matthew Glaetzer's let_gap_at_m_to_go 875.0 m is beyond the"
        " 750 m race"
    )
    assert sc.set_param("laps", 4).laps == 4


def test_set_param_keeps_valid_values_as_before(tokyo):
    sc = tokyo.set_param("Jason Kenny.pmax_w", 2000)
    assert sc.riders[0].rider.pmax_w == 2000.0 and isinstance(sc.riders[0].rider.pmax_w, float)
    sc = tokyo.set_param("field.hesitation_s", 4)
    assert isinstance(sc.riders[1].tactic.hesitation_s, float)
    sc = tokyo.set_param("Jason Kenny.launch_on_wprime", True)
    assert sc.riders[0].tactic.launch_on_wprime is True
    assert tokyo.set_param("Jason Kenny.role", "chase").riders[0].tactic.role == "chase"
    assert tokyo.set_param("laps", 4).laps == 4
    assert tokyo.set_param("track.lap_m", 150.0).track.lap_m == 150.0
    assert tokyo.set_param("derny.start_kmh", 25).derny.start_kmh == 25


# --- rider names ---------------------------------------------------------------------------------
def test_names_are_trimmed_and_attacker_matches_the_trimmed_name():
    data = minimal(attacker="B")
    data["riders"][1] = {"name": "  B\u00a0"}
    sc = parse_scenario(data, "race.toml")
    assert sc.names == ["A", "B", "C"]
    assert sc.attacker == "B"
    assert sc.set_param("B.pmax_w", 2000.0).riders[1].rider.pmax_w == 2000.0
    with pytest.raises(ScenarioError, match=r"^race.toml: attacker: 'b' .*did you mean 'B'"):
        parse_scenario(minimal(attacker="b"), "race.toml")


@pytest.mark.parametrize(
    "name, needle",
    [
        ("a", "duplicate rider name 'a' (same as 'A')"),
        (" A ", "duplicate rider name 'A'"),
        ("B\tC", "U+0009"),
        ("B\nC", "U+000A"),
        ("B\x00C", "U+0000"),
        ("B\u202eC", "U+202E (right-to-left override)"),
        ("B\u200bC", "U+200B"),
        ("B\u2028C", "U+2028"),
        ("x" * 5000, "5000 characters long (at most 60)"),
        ("x" * 61, "61 characters long"),
        ("field", "reserved"),
        ("ALL", "reserved"),
        (" Field ", "reserved"),
        ("Kenny, Jason", "contains a comma"),
        ("   ", "non-empty string"),
        (3, "non-empty string"),
    ],
)
def test_bad_rider_names(name, needle):
    data = minimal()
    data["riders"][1] = {"name": name}
    with pytest.raises(ScenarioError) as e:
        parse_scenario(data, "race.toml")
    msg = str(e.value)
    assert msg.startswith("race.toml: riders[1].name: ")
    assert needle in msg
    assert "\n" not in msg and len(msg) < 200


def test_names_with_dots_and_accents_are_fine():
    data = minimal()
    data["riders"][1] = {"name": "J. Smith"}
    data["riders"][2] = {"name": "Zoé Ørsted-Łukasz " + "x" * 40}
    sc = parse_scenario(data)
    assert sc.names[1] == "J. Smith"
    assert sc.set_param("J. Smith.mass_kg", 80.0).riders[1].rider.mass_kg == 80.0


# --- files ---------------------------------------------------------------------------------------
def test_directory_bom_and_non_utf8(tmp_path):
    with pytest.raises(ScenarioError) as e:
        load_scenario(tmp_path)
    assert str(e.value) == f"{tmp_path}: is a directory, not a scenario file"
    text = 'name = "bom"\n[[riders]]\nname = "A"\n[[riders]]\nname = "B"\n'
    f = tmp_path / "bom.toml"
    f.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert load_scenario(f).names == ["A", "B"]
    (tmp_path / "child.toml").write_text('base = "bom.toml"\nname = "c"\n')
    assert load_scenario(tmp_path / "child.toml").names == ["A", "B"]
    latin = tmp_path / "latin1.toml"
    latin.write_bytes(text.replace("A", "Zoé").encode("latin-1"))
    with pytest.raises(ScenarioError) as e:
        load_scenario(latin)
    msg = str(e.value)
    assert msg.startswith(f"{latin}: not UTF-8 text (byte 0xe9 at offset ")
    assert "\n" not in msg


# --- [reference] ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ref, key, needle",
    [
        ({"hesitation_s": float("nan")}, "reference.hesitation_s", "finite"),
        ({"hesitation_s": 61.0}, "reference.hesitation_s", "outside"),
        ({"hesitation_s": "long"}, "reference.hesitation_s", "number"),
        ({"winning_margin_s": -0.1}, "reference.winning_margin_s", "outside"),
        ({"winner_last_200m_s": 3.0}, "reference.winner_last_200m_s", "outside"),
        ({"winning_move": "sashi"}, "reference.winning_move", "not one of"),
        ({"winning_margin_s": float("inf")}, "reference.winning_margin_s", "finite"),
        ({"winning_margin_s": True}, "reference.winning_margin_s", "number"),
        ({"lead_at_two_laps_m": [80.0, 62.5]}, "reference.lead_at_two_laps_m", "above high"),
        ({"lead_at_two_laps_m": [1.0, 2.0, 3.0]}, "reference.lead_at_two_laps_m", "[low, high]"),
        ({"lead_at_two_laps_m": [1.0, float("nan")]}, "reference.lead_at_two_laps_m[1]", "finite"),
        ({"lead_at_two_laps_m": "far"}, "reference.lead_at_two_laps_m", "number"),
        ({"finish_order": ["A", "Z"]}, "reference.finish_order[1]", "'Z' is not one of"),
        ({"finish_order": ["A", "B", "A"]}, "reference.finish_order[2]", "given twice"),
        ({"finish_order": "A"}, "reference.finish_order", "list of rider names"),
        ({"future": float("nan")}, "reference.future", "finite"),
        ({"future": [1.0, float("-inf")]}, "reference.future[1]", "finite"),
        ({"future": {"x": {"y": float("nan")}}}, "reference.future.x.y", "finite"),
        ({"future": None}, "reference.future", "must be a number, string"),
        ("final", "reference", "must be a table"),
    ],
)  # fmt: skip
def test_reference_checked(ref, key, needle):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(minimal(reference=ref), "race.toml")
    msg = str(e.value)
    assert msg.startswith(f"race.toml: {key}: ")
    assert needle in msg
    assert "\n" not in msg


def test_reference_good_values_kept():
    ref = {
        "finish_order": ["C", " A"],
        "winning_margin_s": 0,
        "lead_at_two_laps_m": 70.0,
        "hesitation_s": 10,
        "note": "r",
        "flags": [True, "x", 1.5, {"k": 2}],
        "table": {"a": 1},
    }
    sc = parse_scenario(minimal(reference=ref))
    assert sc.reference == {**ref, "finish_order": ["C", "A"]}
    sc = parse_scenario(minimal(reference={"lead_at_two_laps_m": [62.5, 80.0]}))
    assert sc.reference["lead_at_two_laps_m"] == [62.5, 80.0]


def test_the_scenario_page_lists_every_key_a_file_may_hold():
    """docs/scenario.md is the file format's reference: every key the loader accepts is on it,
    and every key it shows in backquotes in its tables is one the loader accepts."""
    import re
    from pathlib import Path

    from keirin_sim.scenario import checks as v
    from keirin_sim.scenario.loading import EXTRA_KEYS, TOP_KEYS

    page = (Path(__file__).resolve().parents[2] / "docs" / "scenario.md").read_text()
    reference = {
        "finish_order",
        "winning_margin_s",
        "winner_last_200m_s",
        "winning_move",
        "hesitation_s",
        "lead_at_two_laps_m",
        # the facts of keirin-sim reconstruct (facts.py)
        "margins_s",
        "chase_led_by",
        "bell_leader",
        "tolerance",
        "condition_on",
    }
    tables = (v.CONDITIONS_BOUNDS, v.DERNY_BOUNDS, v.TRACK_BOUNDS, v.RIDER_BOUNDS)
    tables += (v.TACTIC_BOUNDS, v.RESULT_BOUNDS, v.RESULT_TYPES, v.TACTIC_TYPES)
    known = set(TOP_KEYS) | EXTRA_KEYS | {"tactic"} | reference | {k for t in tables for k in t}
    shown = set(re.findall(r"`([a-z_0-9]+)`", page))
    missing = sorted(k for k in known if k not in shown and f"[{k}]" not in page)
    assert not missing, missing
    in_tables = {
        k
        for line in page.splitlines()
        if line.startswith("| `")
        for k in re.findall(r"^\| `(\w+)`", line)
    }
    assert in_tables <= known, sorted(in_tables - known)


# --- issue 24: variants checked on load, complete "known:" lists, a woman set by hand ---------
def test_a_variant_naming_an_unknown_rider_fails_on_load(tmp_path, capsys):
    from cli_helpers import run_cli

    f = tmp_path / "v.toml"
    f.write_text(
        'base = "tokyo2020_mens_final.toml"\n[[variants]]\nname = "x"\n'
        'rider = "Jason Kenyy"\nlaunch_m_to_go = 200.0\n'
    )
    rc, out, err = run_cli(capsys, "run", f)
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert "variants[0].rider: 'Jason Kenyy' is not one of the riders" in err
    assert "did you mean 'Jason Kenny'?" in err and "Traceback" not in err
    with pytest.raises(ScenarioError, match="not a tactic|unknown key"):
        parse_scenario(minimal(variants=[{"name": "x", "pmaxw": 1500.0}]))
    with pytest.raises(ScenarioError, match="array of tables"):
        parse_scenario(minimal(variants={"x": {"kind": "attack"}}))


@pytest.mark.parametrize(
    "where, key, suggestion, must_list",
    [
        ("rider", "flying200_s", "flying_200_s", ["sex", "kilo_s", "times_air_density", "tactic"]),
        ("rider", "sexx", "sex", ["sex", "kilo_s", "times_air_density"]),
        ("defaults", "Sex", "sex", ["sex", "kilo_s", "times_air_density", "pmax_w"]),
        ("top", "lasp", "laps", ["laps", "riders", "variants", "uncertainty", "track"]),
    ],
)
def test_a_mistyped_key_gets_the_complete_list_and_the_close_match(
    where, key, suggestion, must_list
):
    data = minimal()
    if where == "rider":
        data["riders"][0][key] = 1.0
    elif where == "defaults":
        data["rider_defaults"] = {key: "men"}
    else:
        data[key] = 6
    with pytest.raises(ScenarioError) as e:
        parse_scenario(data)
    msg = str(e.value)
    assert f"did you mean {suggestion!r}?" in msg, msg
    known = msg.split("known: ", 1)[1].rstrip(")").split(", ")
    for k in must_list:
        assert k in known, (k, msg)


def test_a_hand_set_woman_gets_the_womens_drag_area_gear_and_mass():
    from keirin_sim.calibration import default_rider

    data = minimal()
    data["rider_defaults"] = {"sex": "women"}
    data["riders"][0].update(pmax_w=1300.0)
    for r in data["riders"]:
        for k in ("flying_200_s",):
            r.pop(k, None)
    sc = parse_scenario(data)
    woman, man = default_rider("women"), Rider("m")
    r = sc.riders[0].rider
    assert r.pmax_w == 1300.0 and r.source == "hand-set" and r.flying_200_s is None
    assert r.cda_m2 == pytest.approx(woman.cda_m2) and r.cda_m2 < man.cda_m2 - 0.02
    assert r.development_m == pytest.approx(woman.development_m)
    assert r.mass_kg == pytest.approx(woman.mass_kg) and r.cp_w == woman.cp_w
    # a man set by hand keeps the elite man's defaults
    data["rider_defaults"] = {}
    assert parse_scenario(data).riders[0].rider.cda_m2 == man.cda_m2


def test_the_pre_2017_eight_lap_format_with_its_two_and_a_half_lap_sprint():
    """Issue 24 item 10: the old format (8 laps, the derny off with 2.5 laps to go,
    keirin-reference.md section 1) is written with whole laps and a pull-off mid-lap."""
    from keirin_sim import simulate

    data = tomllib.loads(
        'base = "tokyo2020_mens_final.toml"\nname = "Rio format"\nlaps = 8\n'
        "[derny]\npull_off_m_to_go = 625.0\n"
    )
    sc = parse_scenario(data, "rio.toml")
    assert sc.race_m == 2000.0 and sc.derny.pull_off_m_to_go == 625.0
    res = simulate(sc, traces=False)
    off = [e for e in res.events if e.kind == "derny_off"]
    assert off and off[0].detail == "625 m to go"
    assert [g.laps_to_go for g in res.lap_gaps] == [7, 6, 5, 4, 3, 2, 1]
    assert all(
        not e.kind.startswith(("launch", "attack")) or e.time_s >= off[0].time_s - 1e-6
        for e in res.events
    )  # nobody goes while the derny paces
    with pytest.raises(ScenarioError, match="laps: must be an integer"):
        parse_scenario({**data, "laps": 4.5}, "half.toml")
