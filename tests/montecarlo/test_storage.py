"""Batch files on disk: the writer's lock, write errors mid-batch, resume, and the metadata
that lets a row be replayed from the file alone."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from cli_helpers import run_cli
from pandas.testing import assert_frame_equal

from keirin_sim.montecarlo import BatchError, load_runs, parts_dir, run_batch, storage
from keirin_sim.montecarlo.storage import BatchLock, batch_metadata, sidecar


def one_line(rc, err, *needles):
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, err


HOLD = (
    "import sys, time; from pathlib import Path\n"
    "from keirin_sim.montecarlo.storage import BatchLock\n"
    "with BatchLock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"
)


def hold_lock(out):
    """A live process that is not this one, holding the batch lock of ``out``."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


@pytest.fixture
def holder(tmp_path):
    p = hold_lock(tmp_path / "runs.parquet")
    yield p.pid
    p.kill()
    p.wait()


def test_a_second_writer_gets_one_line_while_the_first_holds_the_lock(tmp_path, capsys, holder):
    out = tmp_path / "runs.parquet"
    rc, _, err = run_cli(capsys, "mc", "--runs", 20, "--workers", 1, "--out", out)
    one_line(rc, err, "runs.parquet", f"pid {holder}")
    assert not out.exists() and not parts_dir(out).exists()
    rc, _, err = run_cli(capsys, "mc", "--runs", 20, "--workers", 1, "--out", out, "--resume")
    assert rc == 2 and f"pid {holder}" in err


def test_a_running_batch_is_named_before_its_unfinished_parts(tmp_path, capsys, holder):
    """Issue 24: the second identical ``mc --out`` without --resume used to be told to delete
    the live batch's folder; the running writer is named first."""
    out = tmp_path / "runs.parquet"
    parts_dir(out).mkdir()
    (parts_dir(out) / "meta.json").write_text("{}")
    rc, _, err = run_cli(capsys, "mc", "--runs", 20, "--workers", 1, "--out", out)
    one_line(rc, err, "runs.parquet", f"pid {holder}", "wait for it")
    assert "delete" not in err and parts_dir(out).is_dir()


def test_a_stale_lock_is_taken_over_and_the_lock_is_released(tmp_path):
    out = tmp_path / "runs.parquet"
    dead = hold_lock(out)
    dead.kill()  # SIGKILL: its lock file stays behind
    dead.wait()
    lock = tmp_path / "runs.parquet.lock"
    assert lock.exists()
    b = run_batch(None, 20, 1, workers=1, out=out, progress=False)
    assert len(b.df) == 20
    assert not lock.exists()


def test_lock_holds_this_pid(tmp_path):
    out = tmp_path / "x.parquet"
    with BatchLock(out) as lk:
        assert lk.path.read_text().split()[0] == str(__import__("os").getpid())
    assert not lk.path.exists()


def test_chunk_temp_names_are_unique_per_writer(tmp_path, monkeypatch):
    seen = []
    real = storage.os.replace

    def spy(a, b):
        seen.append(str(a))
        return real(a, b)

    monkeypatch.setattr(storage.os, "replace", spy)
    run_batch(None, 20, 1, workers=1, out=tmp_path / "r.parquet", chunk_size=10, progress=False)
    chunk_tmps = [s for s in seen if ".chunk-" in s]
    assert chunk_tmps and all(f".{__import__('os').getpid()}." in s for s in chunk_tmps)


def test_a_write_error_mid_batch_is_one_line_and_keeps_the_chunks(tmp_path, capsys, monkeypatch):
    out = tmp_path / "runs.parquet"
    real = storage.ChunkParts.write
    calls = []

    def failing(self, key, table):
        calls.append(key)
        if len(calls) > 2:
            raise PermissionError(1, "Operation not permitted")
        return real(self, key, table)

    monkeypatch.setattr(storage.ChunkParts, "write", failing)
    argv = ["mc", "--runs", 60, "--seed", 3, "--workers", 1, "--chunk-size", 10, "--out", out]
    rc, _, err = run_cli(capsys, *argv)
    one_line(rc, err, "runs.parquet.parts", "Operation not permitted", "--resume")
    assert len(list(parts_dir(out).glob("chunk-*.parquet"))) == 2
    assert not (tmp_path / "runs.parquet.lock").exists()
    monkeypatch.setattr(storage.ChunkParts, "write", real)
    rc, stdout, err = run_cli(capsys, *argv, "--resume")
    assert rc == 0, err
    assert "over the 40 raced now, 20 resumed" in stdout  # the rate counts only this run's
    whole = run_batch(None, 60, 3, workers=1, progress=False).df
    got = load_runs(out)
    assert_frame_equal(got.reset_index(drop=True), whole.reset_index(drop=True))


def test_resume_without_an_unfinished_batch_is_an_error(tmp_path, capsys):
    out = tmp_path / "runs.parquet"
    rc, _, err = run_cli(capsys, "mc", "--runs", 10, "--workers", 1, "--out", out, "--resume")
    one_line(rc, err, "runs.parquet.parts", "--resume", "no unfinished batch")
    assert not out.exists()
    with pytest.raises(BatchError, match="no unfinished batch"):
        run_batch(None, 10, 0, workers=1, out=out, resume=True, progress=False)


@pytest.mark.parametrize("ext", [".parquet", ".csv"])
def test_batch_files_record_how_they_were_made(tmp_path, capsys, ext):
    out = tmp_path / f"runs{ext}"
    rc, _, err = run_cli(
        capsys, "mc", "--runs", 30, "--seed", 4, "--dt", 0.05, "--workers", 1, "--out", out
    )
    assert rc == 0, err
    meta = batch_metadata(out)
    from keirin_sim import __version__

    assert meta["seed"] == 4 and meta["runs"] == 30 and meta["dt_s"] == 0.05
    assert meta["version"] == __version__
    assert meta["scenario_file"] == "tokyo2020_mens_final.toml"
    if ext == ".csv":
        assert json.loads(sidecar(out).read_text())["seed"] == 4
    # the replay reads the step from the file: the same finish times as the row
    row = load_runs(out).iloc[11]
    rc, stdout, err = run_cli(capsys, "run", "--batch", out, "--mc-run", 11, "--json")
    assert rc == 0, err
    for f in json.loads(stdout)["finish"]:
        assert f["time_s"] == pytest.approx(row[f"time.{f['rider']}"], abs=1e-4)


def test_replay_of_a_sweep_point_from_its_file(tmp_path, capsys):
    out = tmp_path / "sw.parquet"
    rc, _, err = run_cli(
        capsys,
        "sweep",
        "--param",
        "field.hesitation_s=4,9",
        "--runs",
        5,
        "--seed",
        2,
        "--workers",
        1,
        "--out",
        out,
    )
    assert rc == 0, err
    df = pd.read_parquet(out)
    row = df[(df["point"] == 1) & (df["run"] == 3)].iloc[0]
    rc, stdout, err = run_cli(capsys, "run", "--batch", out, "--mc-run", 3, "--json")
    one_line(rc, err, "--point")
    rc, stdout, err = run_cli(capsys, "run", "--batch", out, "--mc-run", 3, "--point", 1, "--json")
    assert rc == 0, err
    for f in json.loads(stdout)["finish"]:
        assert f["time_s"] == pytest.approx(row[f"time.{f['rider']}"], abs=1e-4)


def test_bad_batch_replays_are_one_line(tmp_path, capsys):
    bogus = tmp_path / "x.parquet"
    bogus.write_text("not parquet")
    rc, _, err = run_cli(capsys, "run", "--batch", bogus, "--mc-run", 0)
    one_line(rc, err, "x.parquet", "--batch")
    rc, _, err = run_cli(capsys, "run", "--batch", tmp_path / "none.parquet", "--mc-run", 0)
    one_line(rc, err, "--batch", "not found")
    rc, _, err = run_cli(capsys, "run", "--point", 1)
    one_line(rc, err, "--point")


def _interrupt_after(monkeypatch, n):
    """Ctrl-C once ``n`` chunks are written (a real interrupted batch: out consolidated, the
    chunks kept)."""
    real = storage.ChunkParts.write
    calls = []

    def write(self, key, table):
        if len(calls) >= n:
            raise KeyboardInterrupt
        calls.append(key)
        return real(self, key, table)

    monkeypatch.setattr(storage.ChunkParts, "write", write)
    return real


MC60 = ["mc", "--runs", 60, "--seed", 3, "--workers", 1, "--chunk-size", 10]


def test_an_interrupted_file_says_so_and_load_runs_warns(tmp_path, capsys, monkeypatch):
    out = tmp_path / "runs.parquet"
    real = _interrupt_after(monkeypatch, 2)
    rc, _, err = run_cli(capsys, *MC60, "--out", out)
    assert rc == 130, err
    meta = batch_metadata(out)
    assert meta["complete"] is False and meta["runs_done"] == 20 and meta["runs"] == 60
    with pytest.warns(storage.IncompleteBatchWarning, match="20 of 60 runs"):
        assert len(load_runs(out)) == 20
    with pytest.raises(BatchError, match="interrupted batch: 20 of 60"):
        load_runs(out, incomplete="raise")
    monkeypatch.setattr(storage.ChunkParts, "write", real)
    rc, _, err = run_cli(capsys, *MC60, "--out", out, "--resume")
    assert rc == 0, err
    meta = batch_metadata(out)
    assert meta["complete"] is True and meta["runs_done"] == 60
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load_runs(out)) == 60


def test_a_damaged_chunk_is_named_and_racing_it_again_recovers(tmp_path, capsys, monkeypatch):
    """Issue 24: a chunk cut short (``truncate -s 1000``) was a pyarrow traceback on --resume."""
    out = tmp_path / "runs.parquet"
    real = _interrupt_after(monkeypatch, 3)
    rc, _, _ = run_cli(capsys, *MC60, "--out", out)
    assert rc == 130
    monkeypatch.setattr(storage.ChunkParts, "write", real)
    chunk = parts_dir(out) / "chunk-000000-0000000010.parquet"
    with open(chunk, "r+b") as fh:
        fh.truncate(1000)
    rc, _, err = run_cli(capsys, *MC60, "--out", out, "--resume")
    one_line(rc, err, chunk.name, "damaged chunk", "delete it", "--resume", "runs 10-19")
    chunk.unlink()
    rc, _, err = run_cli(capsys, *MC60, "--out", out, "--resume")
    assert rc == 0, err
    whole = run_batch(None, 60, 3, workers=1, progress=False).df
    assert_frame_equal(load_runs(out).reset_index(drop=True), whole.reset_index(drop=True))


def test_a_chunk_with_missing_rows_is_damaged_too(tmp_path, capsys, monkeypatch):
    import pyarrow.parquet as pq

    out = tmp_path / "runs.parquet"
    real = _interrupt_after(monkeypatch, 2)
    run_cli(capsys, *MC60, "--out", out)
    monkeypatch.setattr(storage.ChunkParts, "write", real)
    chunk = parts_dir(out) / "chunk-000000-0000000000.parquet"
    pq.write_table(pq.read_table(chunk).slice(0, 4), chunk)
    rc, _, err = run_cli(capsys, *MC60, "--out", out, "--resume")
    one_line(rc, err, chunk.name, "4 rows, 10 expected", "runs 0-9")


def test_resume_of_a_finished_batch_says_it_is_complete(tmp_path, capsys):
    out = tmp_path / "runs.parquet"
    rc, _, err = run_cli(capsys, *MC60[:-2], "--out", out)
    assert rc == 0, err
    rc, _, err = run_cli(capsys, *MC60[:-2], "--out", out, "--resume")
    one_line(rc, err, "runs.parquet", "already complete", "60 runs")
    # another batch's file is not "complete" for this one
    rc, _, err = run_cli(capsys, *MC60[:-2], "--seed", 4, "--out", out, "--resume")
    one_line(rc, err, "no unfinished batch")


def test_runs_beyond_the_documented_limit_are_one_line_and_nothing_is_built(capsys):
    from keirin_sim.montecarlo.jobs import MAX_RUNS

    rc, _, err = run_cli(capsys, "mc", "--runs", 10**12, "--out", "rh.parquet")
    one_line(rc, err, "1,000,000,000,000", f"{MAX_RUNS:,}", "How many runs")
    rc, _, err = run_cli(
        capsys, "sweep", "--param", "field.hesitation_s=0:8:1", "--runs", MAX_RUNS // 2
    )
    one_line(rc, err, "9 grid points", f"{MAX_RUNS:,}")
    # the documented section exists
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "monte-carlo.md"
    assert "**How many runs.**" in page.read_text()


def test_tasks_are_generated_as_the_executor_asks(monkeypatch):
    """The chunk list is never built whole: a batch of MAX_RUNS hands the executor an
    iterator whose first chunk comes at once."""
    import types

    from keirin_sim import load_scenario
    from keirin_sim.montecarlo import runner
    from keirin_sim.montecarlo.jobs import MAX_RUNS, mc_job

    job = mc_job(load_scenario(None), MAX_RUNS, 0)
    it = runner._tasks(job, 1000, set())
    assert isinstance(it, types.GeneratorType)
    assert next(it)[1:] == (0, 1000) and next(it)[1:] == (1000, 2000)
    seen = []
    real = runner.SerialExecutor.run

    def spy(self, tasks):
        seen.append(tasks)
        return real(self, tasks)

    monkeypatch.setattr(runner.SerialExecutor, "run", spy)
    run_batch(None, 20, 1, workers=1, progress=False)
    assert seen and not isinstance(seen[0], (list, tuple))
