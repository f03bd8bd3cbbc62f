"""Replay as reconstruction (issue 27): the facts, the rejection over drawn races, its
calibration, its reproducibility across workers, the saved races' replay and the bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from cli_helpers import assert_one_line_error, run_cli, shipped_text

from keirin_sim import load_scenario
from keirin_sim.questions.catch import replay_hesitation
from keirin_sim.questions.reconstruction import (
    condition,
    drawn_choices,
    draws,
    load_reconstruction,
    reconstruct,
    replay_draw,
)
from keirin_sim.scenario.facts import Fact, FactError, observe, parse_condition, reference_facts
from keirin_sim.simulation import simulate

TOKYO_FACTS = ["winner", "lead_at_two_laps_m"]


@pytest.fixture(scope="module")
def paris():
    return load_scenario("paris2024_mens_final.toml")


@pytest.fixture(scope="module")
def small(tokyo):
    """A small Tokyo reconstruction, in this process."""
    return reconstruct(tokyo, TOKYO_FACTS, runs=60, seed=3, workers=1, progress=False)


# --- the facts ---------------------------------------------------------------------------------
def test_reference_facts_keep_the_existing_keys_and_read_the_new_ones(tokyo, paris):
    f = reference_facts(tokyo)
    assert f["winner"].value == "Jason Kenny"
    assert f["finish_order"].value[1] == "Azizulhasni Awang"
    assert f["winning_margin_s"].value == 0.763 and f["winning_margin_s"].tol == 0.15
    assert f["lead_at_two_laps_m"].value == (30.0, 80.0) and f["lead_at_two_laps_m"].tol == 5.0
    assert f["margin_s:Harrie Lavreysen"].value == 0.773
    assert f["chase_led_by"].value == "Matthew Glaetzer" and f["chase_led_by"].tol is None
    p = reference_facts(paris)
    assert p["bell_leader"].value == "Harrie Lavreysen"
    assert p["winner_last_200m_s"].value == 9.397
    assert "lead_at_two_laps_m" not in p  # Paris has no attacker


def test_parse_condition_forms(tokyo):
    assert parse_condition(tokyo, "winner").value == "Jason Kenny"
    f = parse_condition(tokyo, "winning_margin_s=0.5~0.05")
    assert (f.value, f.tol) == (0.5, 0.05)
    f = parse_condition(tokyo, "lead_at_two_laps_m~2")
    assert (f.value, f.tol) == ((30.0, 80.0), 2.0)
    f = parse_condition(tokyo, "lead_at_bell_m=10:20")
    assert (f.value, f.tol) == ((10.0, 20.0), 5.0)
    f = parse_condition(tokyo, "finish_order=Jason Kenny, Azizulhasni Awang")
    assert f.value == ("Jason Kenny", "Azizulhasni Awang")
    f = parse_condition(tokyo, "margin_s:Azizulhasni Awang=0.763")
    assert f.column == "margin.Azizulhasni Awang"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("top_speed", "unknown fact 'top_speed'"),
        ("winning_margin_s~0", "positive"),
        ("winning_margin_s=0.7~-1", "positive"),
        ("winner=Chris Hoy", "no rider named 'Chris Hoy'"),
        ("margin_s:Chris Hoy=0.2", "no rider named 'Chris Hoy'"),
        ("finish_order=Jason Kenny,Nobody", "no rider named 'Nobody'"),
        ("winner~0.1", "matched exactly"),
        ("winner_last_200m_s", "no value for it"),
        ("winning_move=from_behind", "is not one of"),
        ("winning_margin_s=fast", "not a number"),
    ],
)
def test_parse_condition_rejects(tokyo, text, needle):
    with pytest.raises(FactError, match=needle):
        parse_condition(tokyo, text)


def test_a_fact_the_scenario_cannot_produce(paris):
    with pytest.raises(FactError, match="cannot produce 'lead_at_two_laps_m'.*no attacker"):
        parse_condition(paris, "lead_at_two_laps_m=30:80")


def test_distance_in_tolerances():
    rows = pd.DataFrame(
        {
            "winner": ["A", "B"],
            "lead_at_two_laps_m": [85.0, 20.0],
            "pos.A": [1, 2],
            "pos.B": [2, 1],
        }
    )
    assert list(Fact("winner", "A").distance(rows)) == [0.0, 2.0]
    d = Fact("lead_at_two_laps_m", (30.0, 80.0), 5.0).distance(rows)
    assert d == pytest.approx([1.0, 2.0])  # 5 m past 80: at the edge; 10 m short of 30: 2 tol
    order = Fact("finish_order", ("A", "B")).distance(rows)
    assert list(order) == [0.0, 3.0]  # both one place off: 1 + 2


def test_observe_reads_the_replay(tokyo, tokyo_result):
    row = observe(tokyo_result, tokyo)
    assert row["winner"] == tokyo_result.winner
    assert row["hesitation_s"] == pytest.approx(replay_hesitation(tokyo), abs=1e-3)
    g = tokyo_result.gap_at(2.0)
    assert g.leader == "Jason Kenny"
    assert row["lead_at_two_laps_m"] == pytest.approx(
        min(v for r, v in g.gap_m.items() if r != "Jason Kenny")
    )
    assert row["chase_led_by"] == "Matthew Glaetzer"
    assert row[f"margin.{tokyo_result.finish_order[1]}"] == pytest.approx(row["winning_margin_s"])


def test_drawn_choices_are_the_races_own(tokyo, monkeypatch):
    """The choices read from the stream are the ones the riders race on."""
    from keirin_sim.behaviour import general as racing

    seen: list[float] = []
    real = racing.launch_point

    def spy(tac, u):
        v = real(tac, u)
        seen.append(v)
        return v

    monkeypatch.setattr(racing, "launch_point", spy)
    sc = tokyo.__class__(**{**tokyo.__dict__, "seed": 12345})
    simulate(sc, traces=False)
    raced = list(seen)  # what the race drew, before drawn_choices asks launch_point too
    got = drawn_choices(sc)
    launches = [v for k, v in got.items() if k.endswith(".launch_m_to_go")]
    assert launches == pytest.approx(raced)
    assert len(launches) == 5  # Kenny's attack is scripted: no draw of his


# --- the reconstruction ------------------------------------------------------------------------
def test_reconstruction_reports(small):
    assert small.n_accepted > 0
    assert small.tried == 60
    assert 0 < small.acceptance_rate <= 1
    assert (small.accepted["winner"] == "Jason Kenny").all()
    lead = small.accepted["lead_at_two_laps_m"]
    assert ((lead >= 25.0) & (lead <= 85.0)).all()
    names = [p["name"] for p in small.posterior()]
    assert "hesitation_s" in names and "Matthew Glaetzer.tow_gap_m" in names
    held = {c["fact"] for c in small.predictive()}
    assert {"winning_margin_s", "finish_order", "chase_led_by"} <= held
    assert "winner" not in held and "lead_at_two_laps_m" not in held


def test_the_same_races_for_any_number_of_workers(tokyo):
    one = reconstruct(tokyo, TOKYO_FACTS, runs=40, seed=5, accept=12, workers=1, progress=False)
    two = reconstruct(tokyo, TOKYO_FACTS, runs=40, seed=5, accept=12, workers=2, progress=False)
    assert one.run_indices == two.run_indices
    assert len(one.run_indices) == 12
    pd.testing.assert_frame_equal(one.accepted, two.accepted)
    assert one.tried == two.tried == max(one.run_indices) + 1


def test_saved_reconstruction_replays_exactly(small, tmp_path):
    for ext in (".parquet", ".csv"):
        path = small.save(tmp_path / f"rec{ext}")
        saved = load_reconstruction(path)
        assert saved.run_indices == small.run_indices
        k = len(saved.rows) - 1
        res = replay_draw(path, k)
        assert res.traces is not None
        row = observe(res, saved.draw_scenario(k))
        want = small.accepted.iloc[k]
        assert row["winner"] == want["winner"]
        assert row["winning_margin_s"] == pytest.approx(want["winning_margin_s"], abs=1e-9)
        assert row["lead_at_two_laps_m"] == pytest.approx(want["lead_at_two_laps_m"], abs=1e-9)


def test_run_replays_a_draw(small, tmp_path, capsys):
    path = small.save(tmp_path / "rec.parquet")
    rc, out, _ = run_cli(capsys, "run", "--reconstruction", path, "--draw", 0, "--json")
    assert rc == 0
    d = json.loads(out)
    want = small.accepted.iloc[0]
    assert d["finish"][0]["rider"] == want["winner"]
    assert d["finish"][1]["margin_s"] == pytest.approx(want["winning_margin_s"], abs=1e-3)
    rc, out, err = run_cli(capsys, "run", "--reconstruction", path, "--draw", 10_000)
    assert_one_line_error(rc, out, err, "--draw", "accepted races")
    rc, out, err = run_cli(capsys, "run", "--draw", 0)
    assert_one_line_error(rc, out, err, "--draw", "needs --reconstruction")


def test_no_match_is_a_finding(tokyo, capsys, tmp_path):
    out_file = tmp_path / "none.parquet"
    rc, out, err = run_cli(
        capsys, "reconstruct", "--condition", "winning_margin_s=9~0.01", "winner=Harrie Lavreysen",
        "--runs", 20, "--workers", 1, "--out", out_file,
    )  # fmt: skip
    assert rc == 0, err
    assert "No drawn race matches the report" in out
    assert "off (tolerance 0.01)" in out  # how far the nearest miss the margin
    assert not out_file.exists()


def test_cli_reconstruct_json_and_outputs(tmp_path, capsys):
    out_file, plot = tmp_path / "r.csv", tmp_path / "r.png"
    rc, out, err = run_cli(
        capsys, "reconstruct", "--runs", 30, "--workers", 1, "--json", "--out", out_file,
        "--plot", plot,
    )  # fmt: skip
    assert rc == 0, err
    d = json.loads(out)
    assert d["accepted"] == len(d["run_indices"]) > 0
    assert [c["fact"] for c in d["conditioned_on"]] == TOKYO_FACTS
    assert out_file.stat().st_size > 0 and plot.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--condition", "nonsense"], ["--condition", "unknown fact 'nonsense'"]),
        (["--condition", "winning_margin_s~0"], ["winning_margin_s", "positive"]),
        (["--condition", "winner=Chris Hoy"], ["no rider named 'Chris Hoy'"]),
        (
            ["paris2024_mens_final.toml", "--condition", "lead_at_two_laps_m=30:80"],
            ["cannot produce"],
        ),
        (["--out", "x.txt"], ["--out", "extension"]),
    ],
)
def test_cli_bad_input(args, needles, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = (
        run_cli(capsys, "reconstruct", *args, "--runs", 5, "--workers", 1, "--out", "o.parquet")
        if "--out" not in args
        else run_cli(capsys, "reconstruct", *args, "--runs", 5)
    )
    assert_one_line_error(rc, out, err, *needles)
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_bad_tolerance_in_the_file(tmp_path, capsys):
    text = shipped_text("tokyo2020_mens_final.toml").replace(
        "lead_at_two_laps_m = 5.0", "lead_at_two_laps_m = -5.0"
    )
    p = tmp_path / "bad.toml"
    p.write_text(text)
    rc, out, err = run_cli(capsys, "reconstruct", p, "--runs", 5, "--workers", 1)
    assert_one_line_error(rc, out, err, "bad.toml", "reference.tolerance.lead_at_two_laps_m")


def test_catch_and_compare_given_the_report(small, tmp_path, capsys):
    path = small.save(tmp_path / "rec.parquet")
    rc, out, err = run_cli(
        capsys, "catch", "--given-report", path, "--workers", 1, "--hesitation", "0:8:4", "--json"
    )
    assert rc == 0, err
    d = json.loads(out)
    band = d["critical_hesitation_band"]
    assert band["runs"] == small.n_accepted and band["given_report"] is True
    assert d["sentence"].startswith("Given the report, had")
    rc, out, err = run_cli(capsys, "compare", "--given-report", path, "--workers", 1, "--json")
    assert rc == 0, err
    assert json.loads(out)["band"]["variants"][0]["runs"] == small.n_accepted
    rc, out, err = run_cli(capsys, "catch", "--condition", "winner")
    assert_one_line_error(rc, out, err, "--condition", "needs --given-report")


def test_finals_table(capsys):
    rc, out, err = run_cli(capsys, "reconstruct", "--finals", "--runs", 40, "--workers", 1)
    assert rc == 0, err
    for name in ("Tokyo 2020 men", "Paris 2024 men", "Santiago 2025", "Tokyo 2020 women",
                 "Paris 2024 women"):  # fmt: skip
        assert name in out
    assert "held-out facts: mean log P(match)" in out


# --- the method's calibration ------------------------------------------------------------------
@pytest.mark.slow
def test_calibration_of_the_hesitation(tokyo):
    """20 synthetic Tokyo races with a known hesitation (seed 1), each reconstructed from its
    own winner, lead at two to go and margin against one prior sample (seed 0): the 90 %
    interval of the hesitation holds the truth in 15-20 of them."""
    prior = draws(tokyo, 1200, 0, workers=2)
    truth = draws(tokyo, 40, 1, workers=1)
    truth = truth[np.isfinite(truth["hesitation_s"].astype(float))].head(20)
    assert len(truth) == 20
    hits, widths = 0, []
    for _, r in truth.iterrows():
        facts = [
            Fact("winner", r["winner"]),
            Fact("lead_at_two_laps_m", float(r["lead_at_two_laps_m"]), 5.0),
            Fact("winning_margin_s", float(r["winning_margin_s"]), 0.15),
        ]
        post = condition(prior, facts)["hesitation_s"].astype(float).dropna().to_numpy()
        assert len(post) >= 3
        lo, hi = np.percentile(post, [5, 95])
        hits += lo <= r["hesitation_s"] <= hi
        widths.append(hi - lo)
    prior_h = prior["hesitation_s"].astype(float).dropna().to_numpy()
    p_lo, p_hi = np.percentile(prior_h, [5, 95])
    assert 15 <= hits <= 20
    # the report narrows it: a reconstruction that kept every race would cover trivially
    assert np.median(widths) < 0.6 * (p_hi - p_lo)
    assert not math.isnan(np.median(widths))


def test_the_same_races_on_a_dask_cluster(tokyo, loopback_cluster):
    kw = {"runs": 30, "seed": 5, "accept": 10, "progress": False}
    here = reconstruct(tokyo, TOKYO_FACTS, workers=1, **kw)
    there = reconstruct(tokyo, TOKYO_FACTS, scheduler=loopback_cluster, **kw)
    assert here.run_indices == there.run_indices
    pd.testing.assert_frame_equal(here.accepted, there.accepted)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('margins_s = {"Harrie Lavreysen" = 0.773}', 'margins_s = {"Chris Hoy" = 0.773}',
         "reference.margins_s.Chris Hoy"),
        ('chase_led_by = "Matthew Glaetzer"', 'chase_led_by = "Chris Hoy"',
         "reference.chase_led_by"),
        ("winning_margin_s = 0.15", "winning_margin_s = 0.0", "reference.tolerance"),
    ],
)  # fmt: skip
def test_bad_facts_are_caught_when_the_file_is_read(old, new, key, tmp_path, capsys):
    text = shipped_text("tokyo2020_mens_final.toml")
    assert old in text
    p = tmp_path / "bad.toml"
    p.write_text(text.replace(old, new, 1))
    rc, out, err = run_cli(capsys, "run", p)
    assert_one_line_error(rc, out, err, "bad.toml", key)
