"""What a batch runs: ``--attacker`` follows a catch without changing the races, the
``--workers`` cap, and the sweep help's examples."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from cli_helpers import run_cli

from keirin_sim import cli, load_scenario
from keirin_sim.model.tactic import ignores
from keirin_sim.montecarlo import run_batch, sweep
from keirin_sim.montecarlo.executors import TooManyWorkersWarning, cores, worker_count


def test_attacker_follows_the_catch_without_changing_the_races():
    own = run_batch(None, 150, 3, workers=1, progress=False).df
    other = run_batch(None, 150, 3, workers=1, attacker="Harrie Lavreysen", progress=False).df
    times = [c for c in own.columns if c.startswith("time.")]
    np.testing.assert_array_equal(own[times].to_numpy(), other[times].to_numpy())
    # the same inputs were drawn
    inputs = [c for c in own.columns if c.endswith(".flying_200_s")]
    assert inputs and own[inputs].equals(other[inputs])
    # the catch columns follow the new attacker
    assert set(other["caught_by"].dropna()) <= set(load_scenario().names) - {"Harrie Lavreysen"}
    assert not np.array_equal(own["caught"].to_numpy(), other["caught"].to_numpy())


def test_attacker_in_a_sweep_leaves_field_as_the_scenarios():
    p = ["field.hesitation_s=6,9"]
    own = sweep(None, p, 20, 1, workers=1, progress=False).df
    other = sweep(None, p, 20, 1, workers=1, attacker="Matthew Glaetzer", progress=False).df
    times = [c for c in own.columns if c.startswith("time.")]
    np.testing.assert_array_equal(own[times].to_numpy(), other[times].to_numpy())


def test_workers_are_capped_at_the_cores():
    with pytest.warns(TooManyWorkersWarning, match=f"using {cores()}"):
        assert worker_count(cores() + 5) == cores()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert worker_count(1) == 1


def test_cli_notes_the_workers_cap(capsys):
    rc, out, err = run_cli(capsys, "mc", "--runs", 10, "--workers", 1000, "--json")
    assert rc == 0, err
    assert f"keirin-sim: note: --workers 1000 is more than the {cores()} cores" in err
    assert "Warning" not in err


def test_sweep_help_examples_are_fields_the_rider_reads(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    sc = load_scenario()
    examples = re.findall(r'"([^".=]+)\.(\w+)=', text)
    assert examples
    for who, fld in examples:
        riders = sc.param_riders(who)
        assert riders, who
        kinds = {sc.riders[sc.rider_index(n)].tactic.kind for n in riders}
        assert not all(ignores(k, fld) for k in kinds), (who, fld)


def test_run_riders_with_no_names_is_an_error(capsys):
    rc, out, err = run_cli(capsys, "run", "--riders", ",", "--plot", "never.png")
    assert rc == 2
    assert err.strip() == "keirin-sim run: --riders: no rider names in ','"


def test_a_two_part_range_says_the_step_is_missing(capsys):
    """Issue 24: ``0:8`` was "must be a number, got str '0:8'"."""
    from cli_helpers import run_cli

    rc, _, err = run_cli(capsys, "sweep", "--param", "field.hesitation_s=0:8", "--runs", 5)
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "'0:8' is a range of 2 parts" in err and "0:8:STEP" in err
    rc, _, err = run_cli(capsys, "compare", "--sweep", "750:150")
    assert rc == 2 and "'750:150' is a range of 2 parts" in err and "750:150:STEP" in err
    rc, _, err = run_cli(capsys, "catch", "--hesitation", "0:1:2:3")
    assert rc == 2 and "range of 4 parts" in err
