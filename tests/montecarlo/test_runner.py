"""Batch Monte Carlo: the [uncertainty] section, per-run streams, identical rows for any worker
count and executor (process pool, Dask on loopback), single-run replay, bounds of sampled
values, chunked output with resume after a real kill, sweeps, the CLI and its JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from cli_helpers import run_cli
from pandas.testing import assert_frame_equal

from keirin_sim import ScenarioError
from keirin_sim.montecarlo import (
    BatchError,
    IneffectiveParameterWarning,
    load_runs,
    parse_uncertainty,
    parts_dir,
    replay_run,
    run_batch,
    run_stream,
    sample_run,
    summarize,
    sweep,
    tidy_rows,
    wilson,
)
from keirin_sim.scenario.scenario import RIDER_BOUNDS, TACTIC_BOUNDS, TOP_BOUNDS

ROOT = Path(__file__).resolve().parents[2]
TOKYO_FILE = str(ROOT / "scenarios" / "tokyo2020_mens_final.toml")
#: Every kind of spec: lot, a top-level value, all riders, a shared field draw, one rider.
UNCERTAINTY = {
    "start_order": "lot",
    "air_density": {"dist": "uniform", "low": 1.15, "high": 1.20},
    "all": {"pmax_w": {"dist": "normal", "rel_sd": 0.03}},
    "field": {"tow_gap_m": {"dist": "uniform", "plus_minus": 3.0, "shared": True}},
    "Jason Kenny": {"w_prime_j": {"dist": "normal", "sd": 3000.0}},
}


def with_uncertainty(sc, table, source=None):
    extra = {**sc.extra, "uncertainty": table}
    return dataclasses.replace(sc, extra=extra, source=source or sc.source)


@pytest.fixture(scope="module")
def sc(tokyo):
    return with_uncertainty(tokyo, UNCERTAINTY)


@pytest.fixture(scope="module")
def batch(sc):
    """A reference batch: 40 races, seed 11, in this process."""
    return run_batch(sc, 40, 11, workers=1)


def assert_one_line_error(rc, err, *needles):
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


# --- streams and determinism -----------------------------------------------------------------
def test_run_streams_are_spawned_children_of_the_seed():
    child = np.random.SeedSequence(7).spawn(5)[4]
    assert run_stream(7, 4).random(4).tolist() == np.random.default_rng(child).random(4).tolist()
    assert run_stream(7, 4).random(4).tolist() != run_stream(7, 3).random(4).tolist()
    assert run_stream(7, 4).random(4).tolist() != run_stream(8, 4).random(4).tolist()


def test_rows_are_identical_for_any_worker_count_and_chunking(sc, batch):
    a = batch.df
    assert a["run"].tolist() == list(range(40))
    b = run_batch(sc, 40, 11, workers=2, chunk_size=3).df
    assert_frame_equal(a, b, check_exact=True)
    c = run_batch(sc, 40, 12, workers=1).df
    assert not a["Jason Kenny.w_prime_j"].equals(c["Jason Kenny.w_prime_j"])


def test_dask_cluster_on_loopback_gives_the_same_rows(sc, batch, capsys, loopback_cluster):
    addr = loopback_cluster
    assert addr.startswith("tcp://127.0.0.1:")
    d = run_batch(sc, 40, 11, scheduler=addr, chunk_size=6).df
    assert_frame_equal(batch.df, d, check_exact=True)
    rc, out, err = run_cli(
        capsys, "mc", TOKYO_FILE, "--runs", 12, "--seed", 3, "--scheduler", addr, "--json"
    )
    assert rc == 0, err
    local = run_batch(TOKYO_FILE, 12, 3, workers=1).summary.to_dict()
    got = json.loads(out)
    assert got["win_probability"] == local["win_probability"]
    assert got["catch"] == local["catch"]


@pytest.mark.slow
def test_dask_worker_processes_give_the_same_rows(sc, batch):
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        d = run_batch(sc, 40, 11, scheduler=client, chunk_size=9).df
    assert_frame_equal(batch.df, d, check_exact=True)


def test_a_single_run_replays_exactly_as_in_the_batch(sc, batch):
    df = batch.df
    for i in (0, 13, 39):
        row = df.iloc[i]
        res = replay_run(sc, 11, i)
        assert res.finish_order[0] == row["winner"]
        for name in sc.names:
            assert res.finish_times[name] == row[f"time.{name}"]
            assert res.finish_order.index(name) + 1 == row[f"pos.{name}"]
        if res.catch is None:
            assert not row["caught"]
        else:
            assert res.catch["m_to_go"] == row["catch_m_to_go"]
            assert res.catch["by"] == row["caught_by"]
        s = sample_run(sc, 11, i)
        start = sorted(sc.names, key=lambda n: row[f"start.{n}"])
        assert s.names == start
        for e in s.riders:
            assert e.rider.pmax_w == row[f"{e.rider.name}.pmax_w"]
        assert s.air_density == row["air_density"]
    # the field's tolerated gap is one shared draw: every rider of the field the same offset
    hes = df[[f"{n}.tow_gap_m" for n in sc.names if n != sc.attacker]]
    nominal = [e.tactic.tow_gap_m for e in sc.riders if e.rider.name != sc.attacker]
    np.testing.assert_allclose(hes.to_numpy() - np.array(nominal), 0.0, atol=3.0 + 1e-9)
    assert (hes.sub(hes.iloc[:, 0], axis=0).abs().to_numpy() < 1e-9).all()


def test_a_partial_lot_draws_only_the_named_riders_among_their_own_places(tokyo):
    among = ["Maximilian Levy", "Harrie Lavreysen", "Azizulhasni Awang"]
    s = with_uncertainty(tokyo, {"start_order": {"lot": among}})
    df = run_batch(s, 60, 3, workers=1).df
    places = {n: k + 1 for k, n in enumerate(tokyo.names)}
    for n in tokyo.names:
        drawn = set(df[f"start.{n}"])
        if n in among:  # each of them in each of their places, and only there
            assert drawn == {places[m] for m in among}
        else:
            assert drawn == {places[n]}
    row = df.iloc[7]
    assert sample_run(s, 3, 7).names == sorted(tokyo.names, key=lambda n: row[f"start.{n}"])


def test_cli_run_replays_one_run_of_a_batch(capsys):
    df = run_batch(TOKYO_FILE, 6, 11, workers=1).df
    rc, out, err = run_cli(capsys, "run", TOKYO_FILE, "--mc-seed", 11, "--mc-run", 4, "--json")
    assert rc == 0, err
    finish = json.loads(out)["finish"]
    row = df.iloc[4]
    assert finish[0]["rider"] == row["winner"]
    for f in finish:
        assert f["position"] == row[f"pos.{f['rider']}"]
        assert f["time_s"] == round(row[f"time.{f['rider']}"], 4)


# --- sampled values --------------------------------------------------------------------------
WIDE = {
    "air_density": {"dist": "normal", "sd": 0.3},
    "all": {
        "pmax_w": {"dist": "normal", "sd": 900.0},
        "cp_w": {"dist": "uniform", "low": 100.0, "high": 800.0},
        "w_prime_j": {"dist": "normal", "rel_sd": 1.0},
        "cda_m2": {"dist": "normal", "rel_sd": 0.5},
    },
    "field": {
        "tow_gap_m": {"dist": "normal", "mean": 0.0, "sd": 5.0},
        "launch_m_to_go": {"dist": "uniform", "low": 0.0, "high": 5000.0},
    },
}


def test_sampled_values_stay_inside_the_physical_bounds(tokyo):
    s = with_uncertainty(tokyo, WIDE)
    runs = [sample_run(s, 3, i) for i in range(600)]
    hes = []
    for r in runs:
        assert TOP_BOUNDS["air_density"][0] <= r.air_density <= TOP_BOUNDS["air_density"][1]
        for e in r.riders:
            for f, (lo, hi) in RIDER_BOUNDS.items():
                assert lo <= getattr(e.rider, f) <= hi, (f, getattr(e.rider, f))
            for f, (lo, hi) in TACTIC_BOUNDS.items():
                v = getattr(e.tactic, f)
                assert v is None or lo <= v <= hi, (f, v)
            assert e.rider.cp_w < e.rider.pmax_w  # never a negative W' reserve above CP
            assert e.rider.pmax_w > 0 and e.rider.w_prime_j > 0
            assert e.tactic.launch_m_to_go is None or e.tactic.launch_m_to_go < r.race_m
            if e.rider.name != r.attacker:
                hes.append(e.tactic.tow_gap_m)
            # the same checks as the scenario loader's
            r.set_param(f"{e.rider.name}.pmax_w", e.rider.pmax_w)
            r.set_param(f"{e.rider.name}.tow_gap_m", e.tactic.tow_gap_m)
    hes = np.array(hes)
    # truncated, not clipped: no pile-up at the bound, and the half-normal's mean 5*sqrt(2/pi)
    assert (hes > 0).all()
    assert abs(hes.mean() - 5.0 * math.sqrt(2.0 / math.pi)) < 0.35
    b = run_batch(s, 4, 3, workers=1)
    assert b.summary.runs == 4


BAD = [
    ({"Jason Kenny": {"pmax_w": {"sd": 60}}}, "uncertainty.Jason Kenny.pmax_w.dist", "missing"),
    ({"Jason Kenny": {"pmax_w": {"dist": "lognormal", "sd": 60}}}, ".pmax_w.dist", "not one of"),
    ({"Jason Kenny": {"pmax_w": {"dist": "normal"}}}, ".pmax_w:", "exactly one of sd and rel_sd"),
    ({"Jason Kenny": {"pmax_w": {"dist": "normal", "sd": -5}}}, ".pmax_w.sd", "positive"),
    ({"Jason Kenny": {"pmax_w": {"dist": "normal", "sd": "60"}}}, ".pmax_w.sd", "number"),
    ({"Jason Kenny": {"pmax_w": {"dist": "normal", "sd": 60, "spread": 2}}}, ".spread", "unknown"),
    ({"Jason Kenny": {"pmax_w": {"dist": "uniform", "low": 2000}}}, ".pmax_w:", "low and high"),
    (
        {"all": {"pmax_w": {"dist": "uniform", "low": 2000, "high": 1900}}},
        "all.pmax_w.high",
        "above",
    ),
    (
        {"all": {"pmax_w": {"dist": "uniform", "low": 5000, "high": 6000}}},
        "all.pmax_w:",
        "physical",
    ),
    ({"Jason Kenny": {"pmax_w": {"dist": "normal", "sd": 60, "shared": True}}}, ".shared", "only"),
    ({"Jason Kenny": {"pmax_w": {"dist": "normal", "sd": 60, "mean": 9000}}}, ".mean", "physical"),
    ({"Jason Kenny": {"power": {"dist": "normal", "sd": 60}}}, "Jason Kenny.power", "not an"),
    (
        {"Jason Keny": {"pmax_w": {"dist": "normal", "sd": 60}}},
        "uncertainty.Jason Keny",
        "no rider",
    ),
    ({"Jason Kenny": {"pmax_w": 60}}, "uncertainty.Jason Kenny.pmax_w", "must be a table like"),
    ({"field": "fast"}, "uncertainty.field", "must be a table"),
    ({"start_order": "random"}, "uncertainty.start_order", "not one of"),
    ({"start_order": {"lot": ["Jason Kenny"]}}, "uncertainty.start_order.lot", "two or more"),
    (
        {"start_order": {"lot": ["Jason Kenny", "Jason Keny"]}},
        "uncertainty.start_order.lot",
        "not one of the riders",
    ),
    ({"start_order": {"draw": ["Jason Kenny"]}}, "uncertainty.start_order.draw", "unknown key"),
    ({"hesitation_s": {"dist": "normal", "sd": 1}}, "uncertainty.hesitation_s", "unknown key"),
    (
        {"Jason Kenny": {"attack_m_to_go": {"dist": "normal", "sd": 50}}},
        "attack_m_to_go",
        "not set",
    ),
    ({"Jason Kenny": {"efficiency": {"dist": "normal", "sd": 50}}}, ".efficiency", "draws fall"),
    (
        {"field": {"hesitation_s": {"dist": "uniform", "rel_plus_minus": 2}}},
        "rel_plus_minus",
        "fraction",
    ),
]


@pytest.mark.parametrize(("table", "key", "problem"), BAD)
def test_bad_uncertainty_specs_fail_with_one_line(tokyo, table, key, problem):
    s = with_uncertainty(tokyo, table, source="bad.toml")
    with pytest.raises(ScenarioError) as e:
        parse_uncertainty(s)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("bad.toml: uncertainty"), msg
    assert key in msg and problem in msg, msg
    with pytest.raises(ScenarioError):
        run_batch(s, 2, 0, workers=1)


def test_a_bad_uncertainty_file_fails_the_cli_and_writes_nothing(tmp_path, capsys):
    text = Path(TOKYO_FILE).read_text().split("[uncertainty]")[0]
    bad = tmp_path / "bad.toml"
    bad.write_text(text + '[uncertainty."Jason Kenny"]\npmax_w = {dist = "normal", sd = -1}\n')
    out = tmp_path / "runs.parquet"
    rc, _, err = run_cli(capsys, "mc", bad, "--runs", 5, "--out", out, "--plot", tmp_path / "a.png")
    assert_one_line_error(rc, err, str(bad), "uncertainty.Jason Kenny.pmax_w.sd", "positive")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


# --- summaries and files ---------------------------------------------------------------------
def test_wilson_interval():
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson(10, 10)[1] == 1.0
    assert all(math.isnan(x) for x in wilson(0, 0))


def test_summary_of_the_rows(sc, batch):
    s = batch.summary
    assert s.runs == 40 and s.seed == 11 and s.attacker == "Jason Kenny"
    assert sum(s.wins.values()) == s.ok_runs
    assert sum(s.win_probability.values()) == pytest.approx(1.0)
    for r, p in s.win_probability.items():
        lo, hi = s.ci95[r]
        assert lo <= p <= hi
    df = batch.df
    ok = df["error"].isna()
    assert s.wins["Jason Kenny"] == int((df[ok]["winner"] == "Jason Kenny").sum())
    assert s.caught == int(df[ok]["caught"].sum())
    assert s.mean_position["Jason Kenny"] == pytest.approx(df[ok]["pos.Jason Kenny"].mean())
    again = summarize(df)
    assert again.win_probability == s.win_probability
    assert again.ci95 == s.ci95
    assert again.mean_position == s.mean_position
    assert np.array_equal(again.catch_m_to_go, s.catch_m_to_go)
    d = s.to_dict()
    assert {"runs", "seed", "win_probability", "ci95", "mean_position", "catch"} <= set(d)
    json.dumps(d, allow_nan=False)


@pytest.mark.parametrize("ext", [".parquet", ".csv"])
def test_rows_stream_to_parquet_or_csv(sc, batch, tmp_path, ext):
    out = tmp_path / f"runs{ext}"
    b = run_batch(sc, 40, 11, workers=2, out=out, chunk_size=7)
    assert not parts_dir(out).exists()
    df = load_runs(out)
    ref = batch.df
    assert list(df.columns) == list(ref.columns)
    if ext == ".parquet":
        assert_frame_equal(df, ref, check_exact=True)
        assert df.attrs["seed"] == 11 and df.attrs["attacker"] == "Jason Kenny"
    else:
        num = [c for c in ref.columns if ref[c].dtype.kind in "fib"]
        assert_frame_equal(df[num], ref[num], check_exact=True, check_dtype=False)
        assert df["winner"].tolist() == ref["winner"].tolist()
    assert b.summary.win_probability == batch.summary.win_probability
    assert b.df.shape == ref.shape


def test_bad_batch_arguments(sc, tmp_path):
    with pytest.raises(BatchError, match="--out"):
        run_batch(sc, 2, 0, out=tmp_path / "runs.txt")
    with pytest.raises(BatchError, match="resume"):
        run_batch(sc, 2, 0, resume=True)
    with pytest.raises(BatchError, match="seed"):
        run_batch(sc, 2, -1)
    with pytest.raises(BatchError, match="runs"):
        run_batch(sc, 0, 1)
    with pytest.raises(ScenarioError, match="no rider named 'Nobody'"):
        run_batch(sc, 2, 0, attacker="Nobody")


# --- the command line ------------------------------------------------------------------------
def test_cli_mc_json(tmp_path, capsys):
    out = tmp_path / "runs.csv"
    rc, stdout, err = run_cli(
        capsys, "mc", TOKYO_FILE, "--runs", 24, "--seed", 7, "--workers", 1, "--out", out, "--json"
    )
    assert rc == 0, err
    assert err == ""  # no progress bar when stderr is not a terminal
    d = json.loads(stdout)
    assert d["runs"] == 24 and d["seed"] == 7 and d["out"] == str(out)
    assert d["dt_s"] == 0.1  # the scenario's own step
    assert set(d["win_probability"]) == set(d["ci95"]) and len(d["ci95"]) == 6
    assert sum(d["win_probability"].values()) == pytest.approx(1.0, abs=1e-5)  # JSON rounds
    for r, (lo, hi) in d["ci95"].items():
        assert lo <= d["win_probability"][r] <= hi
    assert d["catch"]["attacker"] == "Jason Kenny"
    assert len(pd.read_csv(out)) == 24


def test_cli_mc_table_attacker_and_plot(tmp_path, capsys):
    png = tmp_path / "mc.png"
    rc, out, err = run_cli(
        capsys,
        "mc",
        TOKYO_FILE,
        "--runs",
        12,
        "--workers",
        1,
        "--attacker",
        "Harrie Lavreysen",
        "--plot",
        png,
    )
    assert rc == 0, err
    assert "12 races, seed 0" in out and "Win" in out and "95 % CI" in out
    assert "Harrie Lavreysen caught in" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--runs", "0"], ["--runs"]),
        (["--out", "runs.txt"], ["runs.txt", "--out", ".parquet"]),
        (["--resume"], ["--resume", "--out"]),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], ["--scheduler"]),
        (["--attacker", "Nobody"], ["--attacker", "Nobody"]),
        (["--plot", "mc.gif"], ["--plot"]),
        (["--dt", "0.5"], ["--dt", "0.5"]),
    ],
)
def test_cli_mc_bad_arguments(tmp_path, capsys, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run_cli(capsys, "mc", TOKYO_FILE, "--runs", "2", *args)
    assert_one_line_error(rc, err, *needles)
    assert list(tmp_path.iterdir()) == []


def test_cli_mc_dt_sets_the_step_of_every_race_and_replays(tmp_path, capsys):
    """`mc --dt S` runs every race at reference step S: the same rows as a scenario whose dt_s
    says so, other finish times than the default step, and `run --dt S --mc-seed --mc-run`
    replays a row exactly."""
    coarse = tmp_path / "coarse.toml"
    coarse.write_text(f"base = {json.dumps(TOKYO_FILE)}\ndt_s = 0.2\n")
    rows = {}
    for key, args in (
        ("flag", [TOKYO_FILE, "--dt", "0.2"]),
        ("file", [coarse]),
        ("default", [TOKYO_FILE]),
    ):
        out = tmp_path / f"{key}.csv"
        rc, stdout, err = run_cli(
            capsys, "mc", *args, "--runs", 8, "--seed", 5, "--workers", 1, "--out", out, "--json"
        )
        assert rc == 0, err
        assert json.loads(stdout)["dt_s"] == (0.1 if key == "default" else 0.2)
        rows[key] = pd.read_csv(out)
    assert_frame_equal(rows["flag"], rows["file"], check_exact=True)
    times = [c for c in rows["flag"].columns if c.startswith("time.")]
    assert len(times) == 6
    assert not np.array_equal(rows["flag"][times].to_numpy(), rows["default"][times].to_numpy())
    rc, out, err = run_cli(
        capsys, "run", TOKYO_FILE, "--dt", "0.2", "--mc-seed", 5, "--mc-run", 3, "--json"
    )
    assert rc == 0, err
    for f in json.loads(out)["finish"]:
        assert f["time_s"] == round(rows["flag"].loc[3, f"time.{f['rider']}"], 4)


# --- sweeps ----------------------------------------------------------------------------------
def test_sweep_rows_grid_and_common_streams(sc):
    params = ["Jason Kenny.attack_m_to_go=500,750", "field.hesitation_s=0:4:4"]
    b = sweep(sc, params, 5, 2, workers=1)
    df = b.df
    assert len(df) == 20
    assert list(df.columns[:4]) == [
        "point",
        "Jason Kenny.attack_m_to_go",
        "field.hesitation_s",
        "run",
    ]
    assert not any(c.endswith(".hesitation_s") and c != "field.hesitation_s" for c in df.columns)
    assert df.groupby("point")["run"].apply(list).tolist() == [list(range(5))] * 4
    # common random numbers: the same sampled inputs at every grid point
    per_point = df.pivot(index="run", columns="point", values="Azizulhasni Awang.pmax_w")
    assert (per_point.nunique(axis=1) == 1).all()
    g = b.summary.grid_table("Jason Kenny")
    assert len(g) == 4 and (g["runs"] == 5).all()
    assert b.summary.grid[3]["values"] == {
        "Jason Kenny.attack_m_to_go": 750,
        "field.hesitation_s": 4,
    }
    # the same rows from two workers, and a single sweep run replays alone
    assert_frame_equal(df, sweep(sc, params, 5, 2, workers=2, chunk_size=2).df, check_exact=True)
    row = df[(df["point"] == 2) & (df["run"] == 3)].iloc[0]
    res = replay_run(sc, 2, 3, params={"Jason Kenny.attack_m_to_go": 750, "field.hesitation_s": 0})
    assert res.finish_order[0] == row["winner"]
    assert res.finish_times["Jason Kenny"] == row["time.Jason Kenny"]


def test_cli_sweep(tmp_path, capsys):
    out, png = tmp_path / "sweep.parquet", tmp_path / "heatmap.png"
    rc, stdout, err = run_cli(
        capsys,
        "sweep",
        TOKYO_FILE,
        "--param",
        "Jason Kenny.attack_m_to_go=500:750:250",
        "--param",
        "field.hesitation_s=0,4",
        "--runs",
        3,
        "--seed",
        1,
        "--workers",
        1,
        "--out",
        out,
        "--plot",
        png,
        "--json",
    )
    assert rc == 0, err
    d = json.loads(stdout)
    assert d["params"] == ["Jason Kenny.attack_m_to_go", "field.hesitation_s"]
    assert len(d["grid"]) == 4 and all(g["runs"] == 3 for g in d["grid"])
    assert len(pq.read_table(out)) == 12
    assert png.read_bytes()[:4] == b"\x89PNG"
    rc, _, err = run_cli(capsys, "sweep", TOKYO_FILE, "--param", "Jason Kenny.pmax_w=1:2:1")
    assert_one_line_error(rc, err, "pmax_w")
    rc, _, err = run_cli(capsys, "sweep", TOKYO_FILE, "--dt", "0")
    assert_one_line_error(rc, err, "--dt")
    rc, _, err = run_cli(capsys, "sweep", TOKYO_FILE, "--param", "nobody.pmax_w=1900")
    assert_one_line_error(rc, err, "nobody")


def test_a_swept_field_the_tactic_never_reads_is_pointed_out(sc, capsys):
    """Kenny attacks: a launch point changes nothing for him (the same rows at every point),
    and both the API and the command say so; a field his tactic reads raises no note."""
    import warnings

    with pytest.warns(IneffectiveParameterWarning, match="'attack'.*launch_m_to_go"):
        b = sweep(sc, ["Jason Kenny.launch_m_to_go=150,750"], 3, 4, workers=1)
    t = b.df.pivot(index="run", columns="point", values="time.Jason Kenny")
    assert (t[0] == t[1]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", IneffectiveParameterWarning)
        sweep(sc, ["Jason Kenny.attack_m_to_go=750", "field.hesitation_s=2"], 1, 4, workers=1)
    argv = ["sweep", TOKYO_FILE, "--param", "field.attack_m_to_go=300", "--runs", "1"]
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 0 and "Win probability" in out
    assert err.startswith("keirin-sim: note: field.attack_m_to_go: ")
    assert "'race'" in err and len(err.strip().splitlines()) == 1


# --- interruption and resume -----------------------------------------------------------------
def start_mc(out, *extra):
    argv = [sys.executable, "-m", "keirin_sim.cli", "mc", TOKYO_FILE, "--seed", "5"]
    argv += ["--runs", "1000", "--chunk-size", "10", "--out", str(out), *map(str, extra)]
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out.parent
    )


def wait_for_chunks(proc, out, n, timeout=180.0):
    parts = parts_dir(out)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if parts.exists() and len(list(parts.glob("chunk-*.parquet"))) >= n:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)
    proc.kill()
    pytest.fail("no chunks written")


def children(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def reference_rows(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.parquet"
    run_batch(TOKYO_FILE, 1000, 5, workers=2, out=out)  # other chunks than the killed runs
    return pd.read_parquet(out)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_resume_after_sigkill_completes_the_same_rows(tmp_path, capsys, reference_rows):
    out = tmp_path / "runs.parquet"
    proc = start_mc(out, "--workers", 1)
    wait_for_chunks(proc, out, 3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    chunks = sorted(parts_dir(out).glob("chunk-*.parquet"))
    assert len(chunks) >= 3
    for c in chunks:  # every finished chunk is a complete, readable file
        t = pq.read_table(c)
        assert t.num_rows == 10
        assert t.column("run").to_pylist() == list(range(int(c.stem[-10:]), int(c.stem[-10:]) + 10))
    assert not out.exists()
    # without --resume, or with other arguments, nothing is touched
    rc, _, err = run_cli(capsys, "mc", TOKYO_FILE, "--seed", 5, "--runs", 1000, "--out", out)
    assert_one_line_error(rc, err, "--resume")
    rc, _, err = run_cli(
        capsys, "mc", TOKYO_FILE, "--seed", 6, "--runs", 1000, "--out", out, "--resume"
    )
    assert_one_line_error(rc, err, "different batch")
    assert sorted(parts_dir(out).glob("chunk-*.parquet")) == chunks
    rc, stdout, err = run_cli(
        capsys,
        "mc",
        TOKYO_FILE,
        "--seed",
        5,
        "--runs",
        1000,
        "--out",
        out,
        "--resume",
        "--workers",
        2,
        "--json",
    )
    assert rc == 0, err
    assert json.loads(stdout)["runs"] == 1000
    assert not parts_dir(out).exists()
    got = pd.read_parquet(out)
    assert got["run"].tolist() == list(range(1000))  # no duplicate, none missing
    assert_frame_equal(got, reference_rows, check_exact=True)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
@pytest.mark.parametrize("how", ["sigterm", "worker"])
def test_sigterm_or_a_killed_worker_keeps_a_valid_file(tmp_path, how, reference_rows):
    out = tmp_path / "runs.parquet"
    proc = start_mc(out, "--workers", 2)
    wait_for_chunks(proc, out, 4)
    workers = children(proc.pid)
    assert len(workers) == 2
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)
    else:
        os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (143 if how == "sigterm" else 1), err
    assert "--resume" in err and len(err.strip().splitlines()) == 1
    partial = pd.read_parquet(out)  # a valid file with every finished chunk
    assert len(partial) >= 40 and len(partial) % 10 == 0
    assert_frame_equal(
        partial.reset_index(drop=True),
        reference_rows.set_index("run").loc[partial["run"]].reset_index(),
        check_exact=True,
    )
    time.sleep(1.0)
    assert not [w for w in workers if alive(w)], "no worker outlives the batch"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "keirin_sim.cli",
            "mc",
            TOKYO_FILE,
            "--seed",
            "5",
            "--runs",
            "1000",
            "--out",
            str(out),
            "--resume",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert_frame_equal(pd.read_parquet(out), reference_rows, check_exact=True)


def test_chunks_of_another_version_are_not_resumed(monkeypatch):
    """Another engine gives other rows: the chunk fingerprint holds the package version."""
    import keirin_sim
    from keirin_sim.montecarlo.jobs import mc_job
    from keirin_sim.montecarlo.storage import job_fingerprint

    job = mc_job(keirin_sim.load_scenario(), 100, 7)
    here = job_fingerprint(job)
    assert job_fingerprint(job) == here
    monkeypatch.setattr(keirin_sim.montecarlo.storage, "__version__", "0.0.1")
    assert job_fingerprint(job) != here


def test_chunks_of_another_step_are_not_resumed():
    """A batch resumed with another --dt would mix steps: the fingerprint holds the step."""
    import keirin_sim
    from keirin_sim.montecarlo.jobs import mc_job
    from keirin_sim.montecarlo.storage import job_fingerprint

    sc = keirin_sim.load_scenario()
    here = job_fingerprint(mc_job(sc, 100, 7))
    assert job_fingerprint(mc_job(dataclasses.replace(sc, dt_s=0.2), 100, 7)) != here


# --- the tables: to_dataframe, the tidy long view -------------------------------------------
def test_batch_to_dataframe_is_the_rows_and_df_is_its_alias(batch):
    wide = batch.to_dataframe()
    assert batch.df is wide
    assert len(wide) == 40 and "pos.Jason Kenny" in wide.columns


def test_long_view_is_one_row_per_race_and_rider(batch):
    wide = batch.to_dataframe()
    long = batch.to_dataframe(long=True)
    names = batch.summary.riders
    assert list(long.columns) == ["run", "rider", "start", "place", "time_s", "margin_s"]
    ok = wide[wide["error"].isna()]
    assert len(long) == len(ok) * len(names)
    assert long.attrs["seed"] == 11
    one = long.set_index(["run", "rider"])
    for _, row in ok.iterrows():
        for nm in names:
            got = one.loc[(row["run"], nm)]
            assert got["place"] == row[f"pos.{nm}"]
            assert got["start"] == row[f"start.{nm}"]  # drawn by lot in this batch
            assert got["time_s"] == row[f"time.{nm}"]
            assert got["margin_s"] == row[f"margin.{nm}"]
    # every race has places 1..n, and the winners agree with the summary
    places = long.groupby("run")["place"].apply(sorted)
    assert all(p == list(range(1, len(names) + 1)) for p in places)
    winners = long[long["place"] == 1]["rider"].value_counts()
    assert winners.to_dict() == {r: k for r, k in batch.summary.wins.items() if k}


def test_long_view_without_a_lot_takes_the_scenario_s_start_order_and_drops_failed_races(sc):
    wide = run_batch(dataclasses.replace(sc, extra={}), 4, 2, workers=1).df.copy()
    assert not any(c.startswith("start.") for c in wide.columns)
    names = [c[4:] for c in wide.columns if c.startswith("pos.")]
    for nm in names:
        wide.loc[1, f"pos.{nm}"] = 0  # as a race the engine could not finish is written
    wide.loc[1, "error"] = "RaceError: test"
    long = tidy_rows(wide)
    assert sorted(set(long["run"])) == [0, 2, 3]
    starts = long[long["run"] == 0].set_index("rider")["start"].to_dict()
    assert starts == {nm: k + 1 for k, nm in enumerate(names)}
    with pytest.raises(ValueError, match="pos"):
        tidy_rows(pd.DataFrame({"run": [0]}))


def test_long_view_of_a_sweep_keeps_the_point_and_the_parameter(tokyo):
    g = sweep(tokyo, ["field.hesitation_s=0.5,1.5"], 3, 1, workers=1, progress=False)
    long = g.to_dataframe(long=True)
    assert list(long.columns[:3]) == ["point", "field.hesitation_s", "run"]
    assert len(long) == 2 * 3 * len(tokyo.names)
    assert set(zip(long["point"], long["field.hesitation_s"], strict=True)) == {(0, 0.5), (1, 1.5)}


def test_summary_to_dataframe_of_a_batch_and_of_a_sweep(batch, tokyo):
    s = batch.summary
    t = s.to_dataframe()
    assert list(t.columns) == ["rider", "runs", "wins", "p", "ci_low", "ci_high"]
    assert dict(zip(t["rider"], t["wins"], strict=True)) == s.wins
    for _, row in t.iterrows():
        assert row["runs"] == s.ok_runs
        assert row["p"] == pytest.approx(s.win_probability[row["rider"]])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(s.ci95[row["rider"]])
    assert list(s.to_dataframe("Jason Kenny")["rider"]) == ["Jason Kenny"]
    g = sweep(tokyo, ["field.hesitation_s=0.5,1.5"], 3, 1, workers=1, progress=False)
    assert_frame_equal(g.summary.to_dataframe(), g.summary.grid_table())
    assert_frame_equal(g.summary.to_dataframe("Jason Kenny"), g.summary.grid_table("Jason Kenny"))
