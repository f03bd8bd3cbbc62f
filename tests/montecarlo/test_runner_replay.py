"""`keirin-sim run --mc-seed S --mc-run I` replays exactly run I of a batch with seed S."""

from __future__ import annotations

import json

import pytest

from keirin_sim import cli
from keirin_sim.montecarlo import run_batch


def test_cli_replay_equals_the_batch_row(capsys):
    rows = run_batch(None, 6, 7, workers=1).df
    row = rows[rows["run"] == 4].iloc[0]
    assert cli.main(["run", "--mc-seed", "7", "--mc-run", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for f in out["finish"]:
        assert f["time_s"] == pytest.approx(row[f"time.{f['rider']}"], abs=1e-4)
        assert f["position"] == row[f"pos.{f['rider']}"]


@pytest.mark.parametrize("argv", [["--mc-seed", "7"], ["--mc-run", "3"]])
def test_mc_seed_and_run_go_together(argv, capsys):
    assert cli.main(["run", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "needs --mc-" in err
