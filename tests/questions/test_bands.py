"""The counterfactuals with a band: the critical hesitation and the tactic comparison over races
drawn from the scenario's [uncertainty]."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from cli_helpers import run_cli

from keirin_sim import load_scenario
from keirin_sim.montecarlo import sample_run
from keirin_sim.questions.bands import catch_band, compare_band, with_band
from keirin_sim.questions.catch import critical_hesitation


def without_uncertainty(sc):
    return dataclasses.replace(sc, extra={k: v for k, v in sc.extra.items() if k != "uncertainty"})


def test_each_drawn_race_is_the_mc_run_of_the_same_seed(tokyo):
    band = catch_band(tokyo, 4, seed=5, workers=1, progress=False)
    for i in (0, 3):
        c = critical_hesitation(sample_run(tokyo, 5, i), None, 0.0, 15.0)
        want = c.hesitation_s if c.hesitation_s is not None else band.values[i]
        assert band.values[i] == pytest.approx(want)
    assert band.runs == 4 and len(band.values) == len(band.censored) == 4


def test_the_band_does_not_depend_on_the_workers(tokyo):
    a = catch_band(tokyo, 6, seed=2, workers=1, progress=False)
    b = catch_band(tokyo, 6, seed=2, workers=2, progress=False)
    assert a.values == b.values and a.catch_m_to_go == pytest.approx(b.catch_m_to_go, nan_ok=True)


def test_without_uncertainty_the_band_holds_the_single_answer(scripted):
    """The scripted field draws nothing from the race's stream: with nothing uncertain, every
    drawn race is the scenario itself and the band is its one answer."""
    sc = without_uncertainty(scripted)
    single = critical_hesitation(sc, None, 0.0, 15.0)
    band = catch_band(sc, 3, seed=1, workers=1, progress=False).band
    assert band["p5"] <= round(single.hesitation_s, 3) <= band["p95"]
    assert band["p95"] - band["p5"] < 1e-9


def test_the_sentence_carries_the_band(tokyo):
    band = catch_band(tokyo, 5, seed=0, workers=1, progress=False)
    crit = critical_hesitation(tokyo, None, 0.0, 15.0)
    text = with_band(crit.sentence, band, crit.hesitation_s)
    assert f"within {crit.hesitation_s:.2f} s (90 % of 5 plausible races " in text
    b = band.band
    assert f"{b['p5']:.2f}-{b['p95']:.2f} s" in text


def test_compare_band_gives_each_variant_its_odds():
    sc = load_scenario("early_vs_late.toml")
    rider, bands = compare_band(sc, 5, seed=1, workers=1, progress=False)
    assert rider == "Jason Kenny" and len(bands) == 4
    for b in bands:
        assert b.runs == 5 and 0 <= b.wins <= 5
        lo, hi = b.ci95
        assert lo <= b.win_probability <= hi
        d = b.to_dict()
        assert d["margin_s"]["p5"] <= d["margin_s"]["median"] <= d["margin_s"]["p95"]
    # a win is a positive margin, race by race
    for b in bands:
        assert b.wins == int(np.sum(np.array(b.margins_s) > 0))


def test_cli_catch_runs_json_and_chart(capsys, tmp_path):
    png = tmp_path / "c.png"
    rc, out, err = run_cli(
        capsys, "catch", "--runs", 4, "--workers", 1, "--hesitation", "0:8:4", "--json",
        "--plot", png,
    )  # fmt: skip
    assert rc == 0, err
    d = json.loads(out)
    band = d["critical_hesitation_band"]
    assert band["runs"] == 4 and set(band) >= {"median", "p5", "p95"}
    assert "plausible races" in d["sentence"]
    assert png.stat().st_size > 10_000


def test_cli_compare_runs(capsys, tmp_path):
    png = tmp_path / "odds.png"
    rc, out, err = run_cli(capsys, "compare", "--runs", 3, "--workers", 1, "--plot", png)
    assert rc == 0, err
    assert "Over 3 races drawn" in out and "95 % CI" in out
    assert png.stat().st_size > 10_000


def test_the_comparison_chart_gains_the_odds_panel():
    from keirin_sim import plots
    from keirin_sim.questions.variants import compare_variants

    sc = load_scenario("early_vs_late.toml")
    comp = compare_variants(sc)
    _, bands = compare_band(sc, 3, seed=0, workers=1, progress=False)
    plain = plots.compare_chart(comp)
    odds = plots.compare_chart(comp, odds=[b.to_dict() for b in bands])
    assert len(odds.axes) == len(plain.axes) + 1
    labels = [t.get_text() for t in odds.axes[-1].get_yticklabels()]
    assert labels == [b.name for b in bands]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["catch", "--workers", "1"], "--workers: needs --runs"),
        (["catch", "--runs", "0"], "--runs"),
        (["compare", "--runs", "2", "--workers", "1", "--scheduler", "tcp://x:1"], "--scheduler"),
    ],
)
def test_cli_band_bad_input_is_one_line(capsys, argv, needle):
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_the_attack_point_sweep_over_drawn_races():
    """Each point's odds come from the same drawn races as the variants': race ``i`` of the
    point is the Monte Carlo's race ``i`` with the rider attacking there."""
    from keirin_sim import simulate
    from keirin_sim.questions.bands import attack_point_band
    from keirin_sim.questions.variants import attack_at

    sc = load_scenario("early_vs_late.toml")
    rider, points = attack_point_band(sc, None, [700.0, 300.0], 3, seed=4, workers=1,
                                      progress=False)  # fmt: skip
    assert rider == "Jason Kenny" and [p.m_to_go for p in points] == [700.0, 300.0]
    for p in points:
        wins = 0
        for i in range(3):
            res = simulate(sample_run(sc, 4, i).with_tactic(rider, **attack_at(p.m_to_go)))
            wins += res.finish_order[0] == rider
        assert p.wins == wins and p.runs == 3
        d = p.to_dict()
        assert d["m_to_go"] == p.m_to_go and "variant" not in d
    two = attack_point_band(sc, None, [700.0, 300.0], 3, seed=4, workers=2, progress=False)[1]
    assert [p.margins_s for p in two] == [p.margins_s for p in points]


def test_cli_compare_sweep_runs_json_text_and_chart(capsys, tmp_path):
    png = tmp_path / "sweep.png"
    args = ("compare", "--sweep", "700:300:200", "--runs", 2, "--workers", 1)
    rc, out, err = run_cli(capsys, *args, "--plot", png)
    assert rc == 0, err
    assert "The same over the 2 drawn races: Jason Kenny's odds at each point" in out
    assert png.stat().st_size > 10_000
    rc, out, err = run_cli(capsys, *args, "--json")
    assert rc == 0, err
    sweep = json.loads(out)["band"]["sweep"]
    assert [p["m_to_go"] for p in sweep] == [700.0, 500.0, 300.0]
    assert all(p["runs"] == 2 and len(p["win_ci95"]) == 2 for p in sweep)


def test_the_sweep_chart_gains_the_odds_panel():
    from keirin_sim import plots
    from keirin_sim.questions.bands import attack_point_band
    from keirin_sim.questions.variants import attack_point_sweep, compare_variants

    sc = load_scenario("early_vs_late.toml")
    comp = compare_variants(sc)
    sweep = attack_point_sweep(sc, None, [700.0, 500.0, 300.0])
    _, points = attack_point_band(sc, None, [700.0, 500.0, 300.0], 2, workers=1, progress=False)
    plain = plots.compare_chart(comp, sweep)
    more = plots.compare_chart(comp, sweep, point_odds=[p.to_dict() for p in points])
    assert len(more.axes) == len(plain.axes) + 1
    titles = [a.get_title(loc) for a in more.axes for loc in ("left", "center")]
    assert any("plausible races" in t for t in titles)


def test_the_variants_and_the_points_in_one_pass_are_the_separate_ones():
    from keirin_sim.questions.bands import attack_point_band, compare_and_sweep_band

    sc = load_scenario("early_vs_late.toml")
    ex = {"workers": 1, "progress": False}
    rider, variants, points = compare_and_sweep_band(sc, 2, 3, None, [600.0, 250.0], **ex)
    assert variants == compare_band(sc, 2, seed=3, **ex)[1]
    assert points == attack_point_band(sc, rider, [600.0, 250.0], 2, seed=3, **ex)[1]
