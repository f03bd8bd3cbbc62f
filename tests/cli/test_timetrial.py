"""``keirin-sim tt`` and ``keirin-sim calibrate``: time trials and calibration from the command
line, their JSON, the chart, and the one-line error rule."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run_cli as run

from keirin_sim import cli

TT_KEYS = {"event", "time_s", "splits_s", "top_speed_kmh", "peak_power_w", "rider"}


def assert_one_line_error(rc: int, out: str, err: str, *needles: str) -> None:
    assert rc == 2, (rc, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_tt_flying200_json_default_rider(capsys):
    rc, out, err = run(capsys, "tt", "flying200", "--json")
    assert rc == 0, err
    assert err == ""
    d = json.loads(out)
    assert TT_KEYS <= set(d)
    assert d["event"] == "flying200"
    assert 9.15 <= d["time_s"] <= 9.45
    assert [s["m"] for s in d["splits_s"]] == [100.0, 200.0]
    assert d["splits_s"][-1]["time_s"] == d["time_s"]
    assert d["calibration"] is None
    assert d["launch_m_before_timing"] > 0


def test_tt_text_names_the_default_rider(capsys):
    rc, out, err = run(capsys, "tt", "flying200")
    assert rc == 0, err
    assert out.startswith("flying200: flying 200 m in 9.")
    for needle in ("100 m", "mean speed", "top speed", "peak power", "top cadence", "launch"):
        assert needle in out
    assert "default elite man" in out and "Pmax" in out


def test_tt_kilo_from_a_calibrated_rider(capsys):
    rc, out, err = run(capsys, "tt", "kilo", "--flying-200", "9.3", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert TT_KEYS <= set(d)
    assert d["event"] == "kilo"
    assert [s["m"] for s in d["splits_s"]] == [250.0, 500.0, 750.0, 1000.0]
    assert d["calibration"] is not None
    assert d["calibration"]["given"]["flying_200_s"] == 9.3
    assert d["rider"] == d["calibration"]["rider"]
    rc, out, err = run(capsys, "tt", "kilo", "--flying-200", "9.3")
    assert rc == 0, err
    assert "calibrated from flying 200 m 9.300 s" in out


def test_calibrate_json_residual(capsys):
    rc, out, err = run(capsys, "calibrate", "--flying-200", "9.5", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert abs(d["residuals_s"]["flying200"]) < 0.002
    assert d["given"]["flying_200_s"] == 9.5
    assert {"pmax_w", "cda_m2", "w_prime_j", "development_m"} <= set(d["rider"])


def test_calibrate_text(capsys):
    rc, out, err = run(capsys, "calibrate", "--flying-200", "10.2", "--sex", "women")
    assert rc == 0, err
    assert "Calibrated from flying 200 m 10.200 s (women" in out
    assert "Residual s" in out and "Pmax" in out


def test_tt_plot_writes_a_png(capsys, tmp_path):
    f = tmp_path / "out.png"
    rc, out, err = run(capsys, "tt", "flying200", "--plot", str(f))
    assert rc == 0, err
    assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {f}" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temporary left


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["tt", "nosuch"], ["keirin-sim tt:", "nosuch"]),
        (["tt", "kilo", "--kilo", "60"], ["keirin-sim tt:", "--kilo", "--flying-200"]),
        (["tt", "kilo", "--mass", "80"], ["keirin-sim tt:", "--mass", "--flying-200"]),
        (["tt", "flying200", "--flying-200", "-1"], ["keirin-sim tt:", "--flying-200", "-1"]),
        (["tt", "flying200", "--air-density", "5"], ["keirin-sim tt:", "--air-density"]),
        (["tt", "flying200", "--flying-200", "7.1"], ["keirin-sim tt:", "--flying-200 7.1"]),
        (["calibrate"], ["keirin-sim calibrate:", "--flying-200"]),
        (["calibrate", "--flying-200", "0"], ["keirin-sim calibrate:", "--flying-200"]),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, needles):
    rc, out, err = run(capsys, *argv)
    assert_one_line_error(rc, out, err, *needles)


def test_calibration_error_is_one_line(capsys, monkeypatch):
    from keirin_sim.calibration import CalibrationError
    from keirin_sim.cli import timetrial

    def fails(*a, **k):
        raise CalibrationError("no physiology inside the bounds rides that time")

    monkeypatch.setattr(timetrial, "calibrate", fails)
    for cmd in ("tt", "calibrate"):
        argv = [cmd, "kilo"] if cmd == "tt" else [cmd]
        rc, out, err = run(capsys, *argv, "--flying-200", "9.088", "--kilo", "57.321")
        assert_one_line_error(
            rc, out, err, f"keirin-sim {cmd}:", "--flying-200 9.088 --kilo 57.321", "no physiology"
        )


def test_unwritable_plot_path(capsys, tmp_path):
    missing = tmp_path / "no" / "out.png"
    rc, out, err = run(capsys, "tt", "flying200", "--plot", str(missing))
    assert_one_line_error(rc, out, err, "keirin-sim tt:", "--plot", str(missing))
    rc, out, err = run(capsys, "tt", "flying200", "--plot", str(tmp_path / "out.txt"))
    assert_one_line_error(rc, out, err, "keirin-sim tt:", "--plot", ".txt")
    assert list(tmp_path.iterdir()) == []


def test_tt_air_from_the_conditions(capsys):
    """--altitude (and --temperature, --pressure, --humidity) set the air density of the ride;
    thinner air rides faster; with --air-density as well it is one line and exit 2."""
    from keirin_sim.model.air import air_density

    assert cli.main(["tt", "flying200", "--altitude", "1200", "--json"]) == 0
    high = json.loads(capsys.readouterr().out)
    assert high["air_density"] == pytest.approx(air_density(altitude_m=1200.0))
    assert cli.main(["tt", "flying200", "--json"]) == 0
    sea = json.loads(capsys.readouterr().out)
    assert high["time_s"] < sea["time_s"] - 0.1
    assert cli.main(["tt", "flying200", "--altitude", "1200", "--air-density", "1.1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--air-density" in err and len(err.splitlines()) == 1
