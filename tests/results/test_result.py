"""Result: structure, invariants, JSON round trip and the traces exports."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from keirin_sim import LapGap, Result, Traces, load_scenario, simulate

TRACE_COLUMNS = ["t_s", "rider", "x_m", "v_ms", "power_w", "w_bal_j", "lane_m"]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(None)


@pytest.fixture(scope="module")
def result(scenario):
    return simulate(scenario)


def test_result_fields(result, scenario):
    assert isinstance(result, Result)
    assert result.names == scenario.names
    assert sorted(result.finish_order) == sorted(scenario.names)
    assert result.race_m == pytest.approx(scenario.race_m)
    assert result.lap_m == pytest.approx(scenario.track.lap_m)
    assert result.pull_off_m_to_go == pytest.approx(scenario.derny.pull_off_m_to_go)
    assert result.winner == result.finish_order[0]
    for d in (
        result.finish_times, result.margins, result.last_200m_s, result.top_speed_kmh,
        result.peak_power_w, result.w_left_j,
    ):  # fmt: skip
        assert set(d) == set(scenario.names)


def test_finish_order_and_margins(result):
    times = [result.finish_times[r] for r in result.finish_order]
    assert times == sorted(times)
    assert result.margins[result.winner] == 0.0
    for r in result.names:
        assert result.margins[r] == pytest.approx(
            result.finish_times[r] - result.finish_times[result.winner]
        )
        assert 0 < result.last_200m_s[r] < result.finish_times[r]
        assert result.top_speed_kmh[r] > 0
        assert result.peak_power_w[r] > 0
        assert result.w_left_j[r] >= 0


def test_lap_gaps(result, scenario):
    assert result.lap_gaps
    ltg = [g.laps_to_go for g in result.lap_gaps]
    assert ltg == sorted(ltg, reverse=True)
    assert all(float(x).is_integer() and 0 < x < scenario.laps for x in ltg)
    for g in result.lap_gaps:
        assert isinstance(g, LapGap)
        assert g.leader in result.names
        assert g.gap_m[g.leader] == 0.0 and g.gap_s[g.leader] == 0.0
        assert all(v >= -1e-9 for v in g.gap_m.values())
        assert all(v >= -1e-9 for v in g.gap_s.values())
    g = result.lap_gaps[-1]
    assert result.gap_at(g.laps_to_go) is g
    with pytest.raises(KeyError):
        result.gap_at(2.5)


def test_events(result):
    times = [e.time_s for e in result.events]
    assert times == sorted(times)
    kinds = {e.kind for e in result.events}
    assert "derny_off" in kinds and "finish" in kinds
    for e in result.events:
        assert e.rider == "" or e.rider in result.names
    finishes = [e.rider for e in result.events if e.kind == "finish"]
    assert finishes == result.finish_order
    off = next(e for e in result.events if e.kind == "derny_off")
    assert result.pull_off_time_s == pytest.approx(off.time_s)


def test_to_dict(result):
    d = result.to_dict()
    assert {"scenario", "finish", "lap_gaps", "events", "catch"} <= set(d)
    assert [f["rider"] for f in d["finish"]] == result.finish_order
    for k, f in enumerate(d["finish"]):
        assert f["position"] == k + 1
        assert f["margin_s"] == pytest.approx(result.margins[f["rider"]], abs=1e-3)
        assert f["time_s"] == pytest.approx(result.finish_times[f["rider"]], abs=1e-3)
    assert len(d["lap_gaps"]) == len(result.lap_gaps)
    assert len(d["events"]) == len(result.events)
    assert d["catch"] is None or {"attacker", "time_s", "m_to_go", "by"} <= set(d["catch"])


def test_to_json_round_trip(result):
    text = result.to_json()
    assert json.loads(text) == result.to_dict()
    assert "\n" not in result.to_json(indent=None)
    assert json.loads(result.to_json(indent=None)) == result.to_dict()


def test_traces_shapes(result):
    tr = result.traces
    assert isinstance(tr, Traces)
    assert tr.names == result.names
    T, n = len(tr.t), len(result.names)
    assert T > 10
    for a in (tr.x_m, tr.v_ms, tr.power_w, tr.w_bal_j, tr.lane_m):
        assert a.shape == (T, n)
        assert np.all(np.isfinite(a))
    assert np.all(np.diff(tr.t) > 0)
    assert np.all(np.diff(tr.x_m, axis=0) >= -1e-9)  # nobody rides backwards
    assert tr.t[-1] <= max(result.finish_times.values()) + 1e-9


def test_traces_dataframe(result):
    tr = result.traces
    df = tr.to_dataframe()
    T, n = tr.x_m.shape
    assert list(df.columns)[: len(TRACE_COLUMNS)] == TRACE_COLUMNS
    assert len(df) == T * n
    assert list(df["rider"].iloc[:n]) == tr.names
    first = df[df["rider"] == tr.names[0]]
    assert np.allclose(first["x_m"].to_numpy(), tr.x_m[:, 0])
    assert np.allclose(first["t_s"].to_numpy(), tr.t)


def test_traces_csv(result, tmp_path):
    path = tmp_path / "traces.csv"
    result.traces.to_csv(path)
    df = pd.read_csv(path)
    ref = result.traces.to_dataframe()
    assert list(df.columns)[: len(TRACE_COLUMNS)] == TRACE_COLUMNS
    assert df.shape == ref.shape
    assert np.allclose(df["v_ms"].to_numpy(), ref["v_ms"].to_numpy())


def test_no_traces(scenario, result):
    res = simulate(scenario, traces=False)
    assert res.traces is None
    assert res.finish_order == result.finish_order
    for r in result.names:
        assert math.isclose(res.finish_times[r], result.finish_times[r], abs_tol=1e-9)


def test_each_rider_says_where_its_physiology_came_from(tmp_path, capsys):
    """Calibrated riders carry their flying 200 m; hand-set ones are marked as such, in the
    result, its JSON and the text of ``keirin-sim run``."""
    from keirin_sim import cli
    from keirin_sim.scenario.loading import parse_scenario

    sc = parse_scenario(
        {
            "name": "mixed",
            "riders": [{"name": "A", "pmax_w": 2000.0}, {"name": "B", "flying_200_s": 9.3}],
        }
    )
    res = simulate(sc, traces=False)
    assert res.riders["A"]["source"] == "hand-set" and res.riders["A"]["flying_200_s"] is None
    assert res.riders["B"]["source"] == "calibrated" and res.riders["B"]["flying_200_s"] == 9.3
    assert json.loads(res.to_json())["riders"]["B"]["pmax_w"] == round(sc.riders[1].rider.pmax_w, 1)
    f = tmp_path / "mixed.toml"
    f.write_text(
        'name = "mixed"\n[[riders]]\nname = "A"\npmax_w = 2000.0\n'
        '[[riders]]\nname = "B"\nflying_200_s = 9.3\n',
        encoding="utf-8",
    )
    assert cli.main(["run", str(f)]) == 0
    out = capsys.readouterr().out
    riders = out[out.index("\nRiders\n") :]
    assert "A  hand-set" in riders and "B  calibrated from flying 200 m 9.300 s" in riders


def test_result_to_dataframe_one_row_per_rider_in_finishing_order(result):
    df = result.to_dataframe()
    assert list(df.columns) == [
        "rider",
        "start",
        "place",
        "time_s",
        "margin_s",
        "last_200m_s",
        "top_speed_kmh",
        "peak_power_w",
        "w_left_j",
    ]
    assert list(df["rider"]) == result.finish_order
    assert list(df["place"]) == list(range(1, len(result.names) + 1))
    assert dict(zip(df["rider"], df["start"], strict=True)) == {
        nm: k + 1 for k, nm in enumerate(result.names)
    }
    for _, row in df.iterrows():
        r = row["rider"]
        assert row["time_s"] == result.finish_times[r]
        assert row["margin_s"] == result.margins[r]
        assert row["last_200m_s"] == result.last_200m_s[r]
        assert row["top_speed_kmh"] == result.top_speed_kmh[r]
        assert row["peak_power_w"] == result.peak_power_w[r]
        assert row["w_left_j"] == result.w_left_j[r]
    assert df["margin_s"].iloc[0] == 0.0 and df["margin_s"].is_monotonic_increasing
    # the same figures as the JSON's finish table
    finish = result.to_dict()["finish"]
    assert [f["rider"] for f in finish] == list(df["rider"])
    np.testing.assert_allclose([f["time_s"] for f in finish], df["time_s"], atol=1e-4)
