"""The ``[uncertainty]`` section: CP and Pmax both uncertain are drawn each from its own
distribution with CP kept below Pmax per run, and errors name the real constraint."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from keirin_sim import ScenarioError, cli, load_scenario
from keirin_sim.montecarlo import run_batch


def with_uncertainty(table):
    sc = load_scenario()
    return dataclasses.replace(sc, extra={**sc.extra, "uncertainty": table})


def test_cp_and_pmax_both_uncertain_keep_cp_below_pmax_without_a_midpoint_cut():
    # CP 450 +- 300 and Pmax 1900 +- 1500 (uniform) overlap: the old plan cut both at 1175 W
    unc = {
        "Jason Kenny": {
            "cp_w": {"dist": "uniform", "low": 300.0, "high": 800.0},
            "pmax_w": {"dist": "uniform", "low": 700.0, "high": 2400.0},
        }
    }
    df = run_batch(with_uncertainty(unc), 300, 2, workers=1, progress=False).df
    cp, pm = df["Jason Kenny.cp_w"].to_numpy(), df["Jason Kenny.pmax_w"].to_numpy()
    assert (cp < pm - 1.0).all()
    assert pm.min() < 1000.0  # below the old midpoint cut (1175 W with these nominal values)
    assert cp.max() > 700.0
    assert np.isnan(df[[c for c in df.columns if c.startswith("time.")]].to_numpy()).sum() == 0


def test_cp_pmax_rule_is_named_in_errors():
    unc = {
        "Jason Kenny": {
            "cp_w": {"dist": "uniform", "low": 700.0, "high": 800.0},
            "pmax_w": {"dist": "uniform", "low": 400.0, "high": 650.0},
        }
    }
    with pytest.raises(ScenarioError, match="cp_w must stay below pmax_w for Jason Kenny"):
        run_batch(with_uncertainty(unc), 5, 0, workers=1, progress=False)
    only_pm = {"Jason Kenny": {"pmax_w": {"dist": "uniform", "low": 400.0, "high": 440.0}}}
    with pytest.raises(ScenarioError) as e:
        run_batch(with_uncertainty(only_pm), 5, 0, workers=1, progress=False)
    assert "pmax_w must stay above cp_w 450 W" in str(e.value)
    assert "[451, 2600]" in str(e.value)


def test_batch_command_errors_share_one_prefix(capsys):
    rc = cli.main(["mc", "--resume"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("keirin-sim mc: --resume:"), err
    rc = cli.main(["sweep", "--runs", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("keirin-sim sweep: --runs:"), err
    rc = cli.main(["sweep", "--param", "field.hesitation_s"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("keirin-sim sweep: --param:"), err
    rc = cli.main(["mc", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("keirin-sim mc: --scheduler:"), err


def test_a_bad_uncertainty_section_fails_when_the_scenario_loads(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text(
        'base = "tokyo2020_mens_final.toml"\n'
        "[uncertainty.all]\n"
        'pmax_w = {dist = "normal", rel_sd = 0.03, mean = 9000}\n'
    )
    with pytest.raises(ScenarioError, match=r"uncertainty\.all\.pmax_w\.mean"):
        load_scenario(f)
    rc = cli.main(["run", str(f)])  # even a command that samples nothing says so
    err = capsys.readouterr().err
    assert rc == 2 and "bad.toml: uncertainty.all.pmax_w.mean" in err, err


def test_form_on_the_day_only_for_calibrated_riders(tmp_path):
    f = tmp_path / "hand.toml"
    f.write_text(
        'name = "hand"\n[[riders]]\nname = "A"\npmax_w = 2000.0\n'
        '[[riders]]\nname = "B"\nflying_200_s = 9.3\n'
        '[uncertainty.all]\nflying_200_s = {dist = "normal", sd = 0.1, mean = 9.3}\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="A has hand-set physiology"):
        load_scenario(f)


def test_drawn_form_moves_the_physiology():
    """A faster drawn flying 200 m comes with a higher Pmax (calibration.with_form)."""
    from keirin_sim.montecarlo import sample_run

    tokyo = load_scenario()
    i = tokyo.rider_index("Jason Kenny")
    base = tokyo.riders[i].rider
    for run in range(6):
        r = sample_run(tokyo, 11, run).riders[i].rider
        assert (r.flying_200_s < base.flying_200_s) == (r.pmax_w > base.pmax_w)
        assert r.flying_200_s != base.flying_200_s
