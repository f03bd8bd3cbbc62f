"""Early attack versus late sprint: the tactic variants of a scenario and the attack-point
sweep (their commands and charts are tested with the catch's, in test_analysis.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import shipped_text

from keirin_sim import ScenarioError, parse_scenario, simulate
from keirin_sim.questions.counterfactual import AnalysisError
from keirin_sim.questions.variants import (
    Variant,
    attack_point_sweep,
    compare_variants,
    parse_variants,
)
from keirin_sim.scenario.loading import tomllib
from keirin_sim.scenario.paths import parse_range

ROOT = Path(__file__).resolve().parents[2]
EARLY = ROOT / "scenarios" / "early_vs_late.toml"
KENNY = "Jason Kenny"


# --- variants -----------------------------------------------------------------------------------
def test_early_vs_late_is_the_tokyo_field(tokyo, early):
    """The variants scenario races the same field as the Tokyo replay: keep them in step."""
    assert early.riders == tokyo.riders
    for k in ("track", "derny", "laps", "air_density", "lane_m", "dt_s", "attacker"):
        assert getattr(early, k) == getattr(tokyo, k), k
    assert early.reference == tokyo.reference


def test_early_vs_late_declares_the_four_tactics(early):
    vs = parse_variants(early)
    assert [v.name for v in vs] == [
        "attack as the derny leaves",
        "launch with one lap to go",
        "launch at 200 m",
        "follow, come round in the straight",
    ]
    assert all(v.rider == KENNY for v in vs)
    assert vs[0].tactic == {"kind": "attack", "attack_m_to_go": None}
    assert vs[1].tactic["launch_m_to_go"] == 250.0
    assert vs[2].tactic["launch_m_to_go"] == 200.0
    assert vs[3].tactic["launch_m_to_go"] == 110.0
    # the late variants race as the field does, only the launch point fixed
    assert all(v.tactic["kind"] == "race" and v.tactic["launch_spread_m"] == 0.0 for v in vs[1:])


def test_early_vs_late_variants_are_different_races(early):
    """Issue 12: Kenny's launch point changes his race (0.4 gave three variants the same race:
    he took a passing wheel and his own point no longer mattered)."""
    comp = compare_variants(early)
    margins = [round(r.margin_s, 3) for r in comp.rows]
    assert len(set(margins)) == len(margins), margins


def test_compare_variants(early):
    comp = compare_variants(early)
    assert comp.rider == KENNY and len(comp.rows) == 4
    n = len(early.names)
    for r in comp.rows:
        assert 1 <= r.position <= n
        assert (r.margin_s >= 0.0) == (r.position == 1) == (r.winner == KENNY)
        assert 0.0 <= r.w_left_j <= early.riders[0].rider.w_prime_j + 1e-6
        assert [g[0] for g in r.gap_over_laps] == [5.0, 4.0, 3.0, 2.0, 1.0]
        assert len(r.lead_m_to_go) == len(r.lead_m) > 100
        assert r.lead_m_to_go[-1] >= 0.0
    # the step-by-step lead agrees with the lap-mark records (both against the race front)
    for r in comp.rows:
        mt, lead = r.lead_m_to_go[::-1], r.lead_m[::-1]
        for ltg, g in r.gap_over_laps:
            assert float(np.interp(ltg * early.track.lap_m, mt, lead)) == pytest.approx(g, abs=0.5)
    # his own tactic in the file reproduces the plain replay exactly
    plain = simulate(early, traces=False)
    first = comp.rows[0]
    assert first.finish_time_s == pytest.approx(plain.finish_times[KENNY], abs=1e-9)
    assert first.position == plain.finish_order.index(KENNY) + 1
    d = comp.to_dict()
    assert d["rider"] == KENNY and len(d["variants"]) == 4
    json.dumps(d, allow_nan=False)
    assert list(comp.to_dataframe().columns[:3]) == ["name", "position", "margin_s"]


def test_compare_variants_from_python_objects(tokyo):
    comp = compare_variants(
        tokyo,
        "Azizulhasni Awang",
        [Variant("go at 300 m", {"launch_m_to_go": 300.0}), {"name": "go at 150 m",
                                                              "launch_m_to_go": 150.0}],
    )  # fmt: skip
    assert comp.rider == "Azizulhasni Awang"
    assert [r.name for r in comp.rows] == ["go at 300 m", "go at 150 m"]


def _variants_error(body: str | list) -> str:
    if isinstance(body, str):
        data = tomllib.loads(shipped_text("tokyo2020_mens_final.toml") + "\n" + body)
    else:
        data = {**tomllib.loads(shipped_text("tokyo2020_mens_final.toml")), "variants": body}
    with pytest.raises(ScenarioError) as e:  # on load (issue 24) or when raced
        parse_variants(parse_scenario(data, "bad.toml"))
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("bad.toml: variants")
    return msg


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("[variants]\nname = 'x'", "variants: must be an array of tables"),
        ([], "variants: no variants given"),
        ([{"name": "a"}, 3], "variants: must be an array of tables"),
        ("[[variants]]\nkind = 'attack'", "variants[0].name: missing key"),
        ("[[variants]]\nname = ''", "variants[0].name: must be a non-empty string"),
        ("[[variants]]\nname = 'a'\n[[variants]]\nname = 'a'", "variants[1].name: duplicate"),
        ("[[variants]]\nname = 'a'\nrider = 'Nobody'", "variants[0].rider: 'Nobody' is not"),
        ("[[variants]]\nname = 'a'\nrider = 3", "variants[0].rider: must be a rider name"),
        (
            "[[variants]]\nname = 'a'\n[[variants]]\nname = 'b'\nrider = 'Azizulhasni Awang'",
            "variants[1].rider: every variant must vary the same rider",
        ),
        ("[[variants]]\nname = 'a'\nkind = 'sprint'", "variants[0].kind: 'sprint' is not one"),
        ("[[variants]]\nname = 'a'\nrole = 'boss'", "variants[0].role: 'boss' is not one"),
        ("[[variants]]\nname = 'a'\nlaunch_m_to_go = 'far'", "variants[0].launch_m_to_go: must"),
        ("[[variants]]\nname = 'a'\nlaunch_m_to_go = -5.0", "outside the physical range"),
        ("[[variants]]\nname = 'a'\nattack_m_to_go = 1600.0", "beyond the 1500 m race"),
        ("[[variants]]\nname = 'a'\nhesitation_s = false", "variants[0].hesitation_s: must be a"),
        ([{"name": "a", "hesitation_s": None}], "variants[0].hesitation_s: cannot be unset"),
        ("[[variants]]\nname = 'a'\nlaunch_on_wprime = 1", "must be true or false"),
        ("[[variants]]\nname = 'a'\npmax_w = 2000.0", "a variant changes the tactic only"),
        ("[[variants]]\nname = 'a'\nspeed = 3", "variants[0].speed: unknown key"),
    ],
)
def test_bad_variants_fail_in_one_line(body, needle):
    assert needle in _variants_error(body)


def test_no_variants_declared(tokyo):
    with pytest.raises(AnalysisError, match="declares no \\[\\[variants\\]\\]"):
        compare_variants(tokyo)
    named = [{"name": "a", "rider": KENNY, "launch_m_to_go": 300.0}]
    with pytest.raises(AnalysisError, match="vary 'Jason Kenny', not 'Harrie Lavreysen'"):
        compare_variants(tokyo, "Harrie Lavreysen", named)


def test_variants_without_a_rider_vary_the_rider_asked_for(early):
    comp = compare_variants(early, "Harrie Lavreysen", early.extra["variants"][2:3])
    assert comp.rider == "Harrie Lavreysen" and comp.rows[0].name == "launch at 200 m"


# --- attack-point sweep ---------------------------------------------------------------------
def test_attack_point_sweep(early):
    ds = parse_range("750:150:100")
    s = attack_point_sweep(early, KENNY, ds)
    assert [r.m_to_go for r in s.rows] == ds
    for r in s.rows:
        assert (r.margin_s >= 0.0) == (r.position == 1) == (r.winner == KENNY)
        assert r.w_left_j >= 0.0
    # the launch point is the only change: launching at a mark is an attack there
    res = simulate(early.with_tactic(KENNY, kind="attack", attack_m_to_go=350.0), traces=False)
    assert s.rows[4].finish_time_s == pytest.approx(res.finish_times[KENNY])
    assert len(s.to_dict()["rows"]) == len(ds)


def test_attack_point_sweep_errors(early):
    with pytest.raises(AnalysisError, match="not inside the 1500 m race"):
        attack_point_sweep(early, KENNY, [0.0])
    with pytest.raises(AnalysisError, match="not inside"):
        attack_point_sweep(early, KENNY, [1500.0])
    with pytest.raises(ScenarioError, match="no rider named"):
        attack_point_sweep(early, "Nobody", [200.0])
