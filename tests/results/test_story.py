"""How a keirin was won: the winning move, the bell, the places at the lap marks; in results,
batch rows and summaries; the catch only of a rider who attacked."""

from __future__ import annotations

import json
import math

import pytest

from keirin_sim import load_scenario, simulate
from keirin_sim.model.track import Track
from keirin_sim.montecarlo import run_batch, summarize
from keirin_sim.results.story import WINNING_MOVES, last_bend_exit_m, race_story

NAMES = ["A", "B", "C"]
RACE, LAP = 1500.0, 250.0
EXIT = last_bend_exit_m(Track(), RACE)
# marks: every lap, the bell is 1250; 200 m to go; the end of the last bend
MARKS = [250.0, 500.0, 750.0, 1000.0, 1250.0, 1300.0, EXIT]


def _story(at_bell, at_exit, finish):
    """Crossing times where the given order leads at the bell and out of the last bend."""
    lapt = [[math.nan] * len(MARKS) for _ in NAMES]
    for k, m in enumerate(MARKS):
        order = at_exit if m == EXIT else at_bell
        for p, i in enumerate(order):
            lapt[i][k] = m / 18.0 + 0.1 * p
    return race_story(NAMES, MARKS, lapt, finish, RACE, LAP, EXIT)


def test_the_three_moves():
    assert _story([0, 1, 2], [0, 1, 2], [100.0, 100.1, 100.2]).winning_move == "from_the_front"
    assert _story([1, 0, 2], [0, 1, 2], [100.0, 100.1, 100.2]).winning_move == "round_the_outside"
    late = _story([1, 2, 0], [1, 0, 2], [100.0, 100.1, 100.2])
    assert late.winning_move == "late_in_the_straight"
    assert late.bell_leader == "B"
    assert late.places["A"][1] == 3 and late.places["B"][1] == 1  # the bell is 1 to go


def test_bell_speed_is_the_mean_speed_from_the_bell_to_200_m_to_go():
    st = _story([0, 1, 2], [0, 1, 2], [100.0, 100.1, 100.2])
    # 50 m from the bell to 200 m to go, ridden in 50/18 s
    assert st.bell_leader_speed_kmh == pytest.approx(18.0 * 3.6)
    assert st.winner_last_200m_s == pytest.approx(100.0 - 1300.0 / 18.0)


def test_the_tokyo_replay_is_won_from_the_front():
    r = simulate(load_scenario(), traces=False)
    st = r.story
    assert st.winning_move == "from_the_front" and st.bell_leader == "Jason Kenny"
    assert st.winner_last_200m_s == pytest.approx(r.last_200m_s["Jason Kenny"])
    # the places at the bell follow the lap gaps there
    gap = r.gap_at(1).gap_m
    by_gap = sorted(gap, key=gap.__getitem__)
    assert [nm for nm in sorted(st.places, key=lambda n: st.places[n][1])] == by_gap
    assert 60.0 <= st.bell_leader_speed_kmh <= 80.0
    assert json.loads(r.to_json())["how_won"]["winning_move"] == "from_the_front"


def test_no_catch_of_a_rider_who_never_attacked():
    """Kenny sprinting late from the wheels is passed, not caught (issue 12's report)."""
    sc = load_scenario("scenarios/early_vs_late.toml")
    late = sc.with_tactic("Jason Kenny", kind="follow", attack_m_to_go=None, launch_m_to_go=200.0)
    r = simulate(late, traces=False)
    assert r.winner != "Jason Kenny" and r.catch is None


def test_batch_rows_and_summary_tell_how_the_races_were_won():
    b = run_batch(None, 60, 5, workers=1, progress=False)
    df, s = b.df, b.summary
    assert set(df["winning_move"]) <= set(WINNING_MOVES)
    assert (df["bell_leader"] == df["winner"]).mean() == pytest.approx(s.bell_leader_win_share)
    assert sum(s.by_start_position.values()) == pytest.approx(1.0)
    assert sum(s.winning_move_share.values()) == pytest.approx(1.0)
    for nm in s.riders:
        assert set(df[f"place1.{nm}"]) <= set(range(1, 7))
    again = summarize(df)
    assert again.winning_move_share == s.winning_move_share
    assert again.by_start_position == s.by_start_position
    d = s.to_dict()
    assert set(d["winner_last_200m_s"]) == {"median", "p10", "p90"}
    assert d["bell_speed_kmh"]["median"] == pytest.approx(df["bell_speed_kmh"].median(), rel=1e-6)
