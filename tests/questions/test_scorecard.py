"""The model against real finals: the scores on a small fixed example, the shipped finals, and
``keirin-sim validate``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_cli

from keirin_sim.questions.scorecard import Scorecard, real_finals, score_final, validate
from keirin_sim.scenario.checks import ScenarioError
from keirin_sim.scenario.loading import load_scenario, parse_scenario, tomllib

ROOT = Path(__file__).resolve().parents[2]
FINALS = {
    "paris2024_mens_final.toml",
    "paris2024_womens_final.toml",
    "santiago2025_mens_final.toml",
    "tokyo2020_mens_final.toml",
    "tokyo2020_womens_final.toml",
}


@pytest.fixture(scope="module")
def three():
    """Three riders; the real race: B, A, C, won by 0.05 s from the front, last 200 m 10.0 s."""
    return parse_scenario(
        {
            "name": "three",
            "riders": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
            "reference": {
                "finish_order": ["B", "A", "C"],
                "winning_margin_s": 0.05,
                "winner_last_200m_s": 10.0,
                "winning_move": "from_the_front",
            },
        },
        "three.toml",
    )


@pytest.fixture(scope="module")
def rows():
    """Five runs: A wins three, B two; one more run failed and must be left out."""
    return pd.DataFrame(
        {
            "winner": ["A", "B", "A", "B", "A", None],
            "pos.A": [1, 2, 1, 3, 1, 0],
            "pos.B": [2, 1, 3, 1, 2, 0],
            "pos.C": [3, 3, 2, 2, 3, 0],
            "winner_last_200m_s": [9.8, 10.1, 10.0, 10.4, 10.2, np.nan],
            "winning_margin_s": [0.1, 0.2, 0.3, 0.4, 0.5, np.nan],
            "winning_move": [
                "from_the_front",
                "round_the_outside",
                "from_the_front",
                "late_in_the_straight",
                "from_the_front",
                None,
            ],
            "error": [None, None, None, None, None, "race did not finish"],
        }
    )


def test_the_scores_of_a_small_fixed_example(three, rows):
    f = score_final(three, rows)
    assert f.runs == 5  # the failed run is left out
    assert f.p_win == {"A": 0.6, "B": 0.4, "C": 0.0}
    assert f.real_winner == "B" and f.p_real_winner == 0.4
    assert f.rank_real_winner == 2
    # the real podium B, A, C is every run's first three (only 3 riders)
    assert f.p_real_podium == 1.0
    assert f.winner_last_200m_s["model_median"] == 10.1
    assert f.winner_last_200m_s["real"] == 10.0
    assert f.winner_last_200m_s["error_pct"] == pytest.approx(1.0)
    assert f.winning_margin_s["model_median"] == 0.3
    assert f.winning_margin_s["real"] == 0.05
    assert f.winning_move["shares"] == {
        "from_the_front": 0.6,
        "round_the_outside": 0.2,
        "late_in_the_straight": 0.2,
    }
    assert f.winning_move["p_real"] == 0.6
    # log score smoothed by half a win per rider: (2 + 0.5) / (5 + 1.5)
    assert f.log_p_real_winner == pytest.approx(math.log(2.5 / 6.5))
    # Brier: (0.6 - 0)^2 + (0.4 - 1)^2 + 0^2
    assert f.brier == pytest.approx(0.72)
    card = Scorecard((f, f), seed=0, runs=5)
    assert card.mean_log_p == pytest.approx(math.log(2.5 / 6.5))
    assert card.uniform_log_p == pytest.approx(math.log(1 / 3))
    assert card.brier == pytest.approx(0.72)
    assert card.uniform_brier == pytest.approx(2 / 3)
    assert card.winner_in_top_two == 2


def test_a_winner_the_model_never_saw_win_scores_finitely(three, rows):
    f = score_final(three, rows.assign(winner=["A"] * 5 + [None]))
    assert f.p_real_winner == 0.0 and f.rank_real_winner == 2  # shares 2nd with C
    assert f.log_p_real_winner == pytest.approx(math.log(0.5 / 6.5))


def test_the_real_podium_counts_only_when_all_three_are_top_three(three, rows):
    four = parse_scenario(
        {
            "name": "four",
            "riders": [{"name": n} for n in "ABCD"],
            "reference": {"finish_order": ["B", "A", "C"]},
        }
    )
    df = rows.assign(**{"pos.D": [4, 4, 4, 1, 4, 0]}, **{"pos.C": [3, 3, 2, 4, 3, 0]})
    assert score_final(four, df).p_real_podium == pytest.approx(4 / 5)


def test_the_shipped_real_finals_and_only_them():
    finals = real_finals()
    assert {Path(s.source).name for s in finals} == FINALS
    for s in finals:
        ref = s.reference
        assert len(ref["finish_order"]) >= 3
        assert ref["winning_move"] in ("from_the_front", "round_the_outside")
        assert "uncertainty" in s.extra
        # every rider from its own time: nobody's physiology is set by hand
        assert all(e.rider.source == "calibrated" for e in s.riders)


def test_women_race_behind_the_slower_derny_and_one_line_switches_it():
    sc = load_scenario("tokyo2020_womens_final.toml")
    assert (sc.derny.start_kmh, sc.derny.end_kmh) == (25.0, 45.0)
    text = (ROOT / "scenarios" / "tokyo2020_womens_final.toml").read_text()
    lines = text.splitlines()
    on = next(k for k, ln in enumerate(lines) if ln.startswith("derny = "))
    off = next(k for k, ln in enumerate(lines) if ln.startswith("# derny = "))
    lines[on], lines[off] = "# " + lines[on], lines[off][2:]
    other = parse_scenario(tomllib.loads("\n".join(lines)))
    assert (other.derny.start_kmh, other.derny.end_kmh) == (30.0, 50.0)


def test_the_unknown_part_of_a_start_order_is_drawn_by_lot():
    sc = load_scenario("paris2024_mens_final.toml")
    lot = sc.extra["uncertainty"]["start_order"]["lot"]
    assert sc.names[0] == "Shinji Nakano" and sc.names[1] == "Harrie Lavreysen"
    assert sc.names[-1] == "Matthew Richardson"
    assert set(lot) == set(sc.names[2:5])


def test_a_file_without_a_real_result_cannot_be_scored(tmp_path):
    p = tmp_path / "plain.toml"
    p.write_text('name = "x"\n[[riders]]\nname = "A"\n[[riders]]\nname = "B"\n')
    with pytest.raises(ScenarioError, match=r"plain\.toml: reference\.finish_order: missing"):
        real_finals([str(p)])


def test_validate_is_reproducible_by_seed():
    a = validate(["santiago2025_mens_final.toml"], runs=6, seed=4, workers=1, progress=False)
    b = validate(["santiago2025_mens_final.toml"], runs=6, seed=4, workers=1, progress=False)
    assert a.to_dict() == b.to_dict()
    assert a.finals[0].runs == 6


def test_cli_validate_json(capsys, tmp_path):
    png = tmp_path / "v.png"
    rc, out, err = run_cli(capsys, "validate", "--runs", 3, "--workers", 1, "--json", "--plot", png)
    assert rc == 0, err
    d = json.loads(out)
    assert {Path(r["scenario"]).name for r in d["races"]} == FINALS
    for r in d["races"]:
        for k in ("scenario", "real_winner", "p_real_winner", "rank_real_winner"):
            assert k in r
        assert set(r["winner_last_200m_s"]) >= {"model_median", "real"}
        assert 1 <= r["rank_real_winner"] <= 6
    paris = next(r for r in d["races"] if "paris2024_mens" in r["scenario"])
    assert paris["winner_last_200m_s"]["real"] == 9.397
    o = d["overall"]
    assert o["finals"] == 5 and o["uniform_log_p"] == pytest.approx(math.log(1 / 6), abs=1e-4)
    mean = np.mean([r["log_p_real_winner"] for r in d["races"]])
    assert o["mean_log_p_real_winner"] == pytest.approx(mean, abs=1e-3)
    assert png.stat().st_size > 10_000


def test_cli_validate_text(capsys):
    rc, out, err = run_cli(
        capsys, "validate", "santiago2025_mens_final.toml", "--runs", 3, "--workers", 1
    )
    assert rc == 0, err
    assert "real winner Harrie Lavreysen: model" in out
    assert "real 9.901 s" in out
    assert "Brier score" in out and "uniform guess" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--runs", "0"], "--runs"),
        (["--plot", "v.gif"], "--plot"),
        (["nowhere.toml"], "nowhere.toml: file not found"),
        (["neutral_field.toml"], "reference.finish_order: missing"),
    ],
)
def test_cli_validate_bad_input_is_one_line(capsys, argv, needle):
    rc, out, err = run_cli(capsys, "validate", *argv)
    assert rc == 2
    assert out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_the_chart_titles_stay_clear_of_the_right_hand_panels(three, rows):
    """Issue 24: "Santiago 2025 men's (Worlds): the real winner is ..." ran into the panel of
    the winners' last 200 m."""
    import dataclasses

    import matplotlib

    matplotlib.use("Agg")
    from keirin_sim.plots.scorecard import scorecard_chart

    f = score_final(three, rows)
    names = ["Santiago 2025 men's keirin final (Worlds)", "Paris 2024 women's keirin final"]
    card = Scorecard(tuple(dataclasses.replace(f, name=nm) for nm in names * 2), seed=0, runs=5)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = scorecard_chart(card)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    left = [ax for ax in fig.axes if "the real winner" in ax.get_title(loc="left")]
    right = [ax for ax in fig.axes if ax not in left]
    assert len(left) == 4 and len(right) == 2
    for ax in left:
        box = ax._left_title.get_window_extent(r)  # the title, drawn at the left
        assert box.x1 <= ax.get_window_extent(r).x1, ax.get_title(loc="left")  # in its column
        for other in right:
            assert not box.overlaps(other.get_tightbbox(r)), ax.get_title(loc="left")
