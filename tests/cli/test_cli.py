"""The ``keirin-sim`` command line: ``run``, its outputs, and the one-line error rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from importlib import resources
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error
from cli_helpers import run_cli as run

from keirin_sim import cli

TOKYO = "tokyo2020_mens_final.toml"
TOKYO_RIDERS = [
    "Jason Kenny",
    "Matthew Glaetzer",
    "Harrie Lavreysen",
    "Maximilian Levy",
    "Jair Tjon En Fa",
    "Azizulhasni Awang",
]


def tokyo_text() -> str:
    return resources.files("keirin_sim.scenarios").joinpath(TOKYO).read_text(encoding="utf-8")


def files_in(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


# --- keirin-sim run: normal use --------------------------------------------------------------
def test_run_prints_results_table_gaps_and_events(capsys):
    rc, out, err = run(capsys, "run")
    assert rc == 0, err
    assert err == ""
    lines = out.splitlines()
    head = next(k for k, line in enumerate(lines) if line.startswith("Pos"))
    for col in ("Rider", "Time s", "Margin s", "Last 200 m s", "Top km/h", "Peak W"):
        assert col in lines[head]
    rows = lines[head + 1 : head + 1 + len(TOKYO_RIDERS)]
    assert [int(r.split()[0]) for r in rows] == list(range(1, len(TOKYO_RIDERS) + 1))
    assert sorted(name for name in TOKYO_RIDERS if any(name in r for r in rows)) == sorted(
        TOKYO_RIDERS
    )
    assert "+" not in rows[0] and all("+" in r for r in rows[1:])  # margins behind the winner
    assert "Gaps at the lap marks" in out
    assert "2 to go" in out and "1 to go" in out and "leader" in out
    assert " m " in out and " s" in out
    assert "Events" in out
    assert "derny pulls off" in out
    assert "wins" in out
    # a rider going clear is news once, not at every gap some rider watches for
    assert out.count("Jason Kenny is ") == 1 and " m clear" in out


def test_run_event_log_shows_a_rider_boxed_in(capsys):
    # (which shipped race boxes a rider in moves with the model: with issues 25 and 26 the
    # neutral field's does)
    rc, out, err = run(capsys, "run", "neutral_field.toml")
    assert rc == 0, err
    events = out[out.index("Events") : out.index("How it was won")]
    assert "is boxed in (by " in events


def test_run_prints_the_real_result_beside_the_model_s(capsys):
    rc, out, err = run(capsys, "run", "paris2024_mens_final.toml")
    assert rc == 0, err
    table = out[: out.index("The real race beside")]
    head = next(ln for ln in table.splitlines() if ln.startswith("Pos"))
    assert head.split()[:3] == ["Pos", "Real", "Rider"]
    real = {ln.split()[2]: ln.split()[1] for ln in table.splitlines() if ln[:3].strip().isdigit()}
    assert real["Harrie"] == "1" and real["Matthew"] in ("2", "3") and real["Shinji"] == "-"
    block = out[out.index("The real race beside") : out.index("Gaps at the lap marks")]
    assert "winner" in block and "Harrie Lavreysen" in block
    assert "0.056" in block and "9.397" in block and "from the front" in block
    rc, out, err = run(capsys, "run", "paris2024_mens_final.toml", "--json")
    assert json.loads(out)["reference"]["winner_last_200m_s"] == 9.397
    rc, out, err = run(capsys, "run", "neutral_field.toml")
    assert "Real" not in out.splitlines()[2] and "The real race" not in out


def test_run_scenario_path_is_optional(capsys, tmp_path):
    f = tmp_path / "copy.toml"
    f.write_text(tokyo_text(), encoding="utf-8")
    rc1, out1, _ = run(capsys, "run", "--json")
    rc2, out2, _ = run(capsys, "run", str(f), "--json")
    assert rc1 == rc2 == 0
    a, b = json.loads(out1), json.loads(out2)
    assert a["finish"] == b["finish"]
    assert a["scenario"] == b["scenario"]


def test_run_json_is_one_object_with_the_keys(capsys):
    rc, out, err = run(capsys, "run", "--json")
    assert rc == 0 and err == ""
    data = json.loads(out)  # the whole of stdout is one JSON object
    assert isinstance(data, dict)
    fin = data["finish"]
    assert [f["position"] for f in fin] == list(range(1, len(TOKYO_RIDERS) + 1))
    assert sorted(f["rider"] for f in fin) == sorted(TOKYO_RIDERS)
    for f in fin:
        assert {"rider", "position", "time_s", "margin_s"} <= set(f)
    assert fin[0]["margin_s"] == 0
    assert all(b["margin_s"] >= a["margin_s"] for a, b in zip(fin, fin[1:], strict=False))
    assert data["lap_gaps"]
    for g in data["lap_gaps"]:
        assert {"laps_to_go", "leader", "gap_m"} <= set(g)
        assert set(g["gap_m"]) == set(TOKYO_RIDERS)
        assert g["gap_m"][g["leader"]] == 0
    assert data["events"]
    for e in data["events"]:
        assert {"time_s", "rider", "kind"} <= set(e)
    assert any(e["kind"] == "derny_off" for e in data["events"])


def test_run_json_with_outputs_prints_only_json(capsys, tmp_path):
    png = tmp_path / "g.png"
    rc, out, err = run(capsys, "run", "--json", "--plot", str(png))
    assert rc == 0 and err == ""
    json.loads(out)
    assert png.stat().st_size > 0


@pytest.mark.parametrize(
    "name, magic",
    [("gap.png", b"\x89PNG"), ("gap.svg", b"<svg"), ("gap.pdf", b"%PDF"), ("GAP.PNG", b"\x89PNG")],
)
def test_run_plot_writes_the_chart(capsys, tmp_path, name, magic):
    path = tmp_path / name
    rc, out, err = run(capsys, "run", "--plot", str(path))
    assert rc == 0, err
    data = path.read_bytes()
    assert len(data) > 1000
    assert magic in data[:400]
    assert f"wrote {path}" in out
    assert files_in(tmp_path) == [name]  # no temporary file left


@pytest.mark.parametrize("units", ["m", "s"])
def test_run_gap_units_and_speed_plot(capsys, tmp_path, units):
    rc, _, err = run(
        capsys, "run", "--plot", str(tmp_path / "g.png"), "--gap-units", units,
        "--speed-plot", str(tmp_path / "sp.svg"), "--riders", "Jason Kenny, Harrie Lavreysen",
    )  # fmt: skip
    assert rc == 0, err
    assert (tmp_path / "g.png").stat().st_size > 0
    assert (tmp_path / "sp.svg").stat().st_size > 0


def test_run_traces_csv(capsys, tmp_path):
    import pandas as pd

    path = tmp_path / "traces.csv"
    rc, _, err = run(capsys, "run", "--traces-csv", str(path), "--dt", "0.05")
    assert rc == 0, err
    df = pd.read_csv(path)
    assert list(df.columns)[:7] == ["t_s", "rider", "x_m", "v_ms", "power_w", "w_bal_j", "lane_m"]
    assert sorted(df["rider"].unique()) == sorted(TOKYO_RIDERS)
    assert len(df) % len(TOKYO_RIDERS) == 0
    assert files_in(tmp_path) == ["traces.csv"]


def test_run_from_another_working_directory(capsys, tmp_path, monkeypatch):
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    monkeypatch.chdir(sub)
    rc, out, err = run(capsys, "run", "--plot", "rel.png")
    assert rc == 0, err
    assert (sub / "rel.png").stat().st_size > 0
    assert "Jason Kenny" in out


def test_help_and_version(capsys):
    rc, out, _ = run(capsys, "run", "--help")
    assert rc == 0 and "--gap-units" in out and "--traces-csv" in out
    rc, out, _ = run(capsys, "--version")
    assert rc == 0 and "keirin-sim" in out


# --- bad input: one line, exit 2, nothing written --------------------------------------------
def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


KENNY = '[[riders]]\nname = "Jason Kenny"'
BAD_SCENARIOS = {
    "missing_key": (lambda t: _edit(t, 'name = "Tokyo', '# name = "Tokyo'), ["name", "missing"]),
    "missing_rider_name": (
        lambda t: _edit(t, KENNY, '[[riders]]\n# name = "Jason Kenny"'),
        ["riders[0].name", "missing"],
    ),
    "unknown_key": (lambda t: _edit(t, "laps = 6", "laps = 6\nwheels = 3"), ["wheels"]),
    "wrong_type": (
        lambda t: _edit(t, "flying_200_s = 9.510", 'flying_200_s = "fast"'),
        ["flying_200_s"],
    ),
    "wrong_type_laps": (lambda t: _edit(t, "laps = 6", "laps = 6.5"), ["laps"]),
    "mass_zero": (lambda t: _edit(t, KENNY, KENNY + "\nmass_kg = 0"), ["riders[0].mass_kg"]),
    "negative_cda": (lambda t: _edit(t, KENNY, KENNY + "\ncda_m2 = -0.2"), ["riders[0].cda_m2"]),
    "pmax_beside_time": (
        lambda t: _edit(t, KENNY, KENNY + "\npmax_w = 2000"),
        ["riders[0].pmax_w", "calibrated from flying_200_s"],
    ),
    "kilo_without_time": (
        lambda t: _edit(t, "flying_200_s = 9.510", "kilo_s = 60"),
        ["riders[0].kilo_s", "needs flying_200_s"],
    ),
    "bad_sex": (lambda t: _edit(t, 'sex = "men"', 'sex = "mixed"'), ["sex", "men, women"]),
    "time_out_of_bounds": (
        lambda t: _edit(t, "flying_200_s = 9.510", "flying_200_s = 7.0"),
        ["riders[0].flying_200_s"],
    ),
    "absurd_pmax": (
        lambda t: _edit(t, "flying_200_s = 9.510", "flying_200_s = 9.510\npmax_w = 10000"),
        ["riders[0].pmax_w"],
    ),
    "pull_off_beyond_race": (
        lambda t: _edit(t, "pull_off_m_to_go = 750.0", "pull_off_m_to_go = 2000.0"),
        ["derny.pull_off_m_to_go"],
    ),
    "duplicate_rider": (
        lambda t: _edit(t, 'name = "Maximilian Levy"', 'name = "Jason Kenny"'),
        ["name", "Jason Kenny"],
    ),
    "unknown_attacker": (
        lambda t: _edit(t, 'attacker = "Jason Kenny"', 'attacker = "Chris Hoy"'),
        ["attacker", "Chris Hoy"],
    ),
    "one_rider": (
        lambda t: 'name = "solo"\n[[riders]]\nname = "A"\n',
        ["riders"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_one_line_exit_2_nothing_written(capsys, tmp_path, case):
    edit, keys = BAD_SCENARIOS[case]
    f = tmp_path / f"{case}.toml"
    f.write_text(edit(tokyo_text()), encoding="utf-8")
    before = files_in(tmp_path)
    rc, out, err = run(
        capsys, "run", str(f), "--plot", str(tmp_path / "g.png"),
        "--traces-csv", str(tmp_path / "t.csv"),
    )  # fmt: skip
    assert_one_line_error(rc, out, err, f"{case}.toml", *keys)
    assert out == ""
    assert files_in(tmp_path) == before


def test_not_toml(capsys, tmp_path):
    f = tmp_path / "notes.toml"
    f.write_text("this is = = not toml\n[[", encoding="utf-8")
    rc, out, err = run(capsys, "run", str(f), "--plot", str(tmp_path / "g.png"))
    assert_one_line_error(rc, out, err, "notes.toml", "TOML")
    assert files_in(tmp_path) == ["notes.toml"]


def test_binary_file(capsys, tmp_path):
    f = tmp_path / "image.toml"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    rc, out, err = run(capsys, "run", str(f))
    assert_one_line_error(rc, out, err, "image.toml")


def test_missing_file(capsys, tmp_path):
    rc, out, err = run(capsys, "run", str(tmp_path / "nowhere.toml"), "--json")
    assert_one_line_error(rc, out, err, "nowhere.toml", "not found")
    assert out == ""


def test_unknown_rider_name(capsys, tmp_path):
    rc, out, err = run(
        capsys, "run", "--riders", "Jason Kenny,Chris Hoy", "--plot", str(tmp_path / "g.png")
    )
    assert_one_line_error(rc, out, err, TOKYO, "--riders", "Chris Hoy")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["--gap-units", "km"], ["--gap-units", "km"]),
        (["--dt", "0"], ["--dt"]),
        (["--dt", "-0.05"], ["--dt"]),
        (["--dt", "abc"], ["--dt", "abc"]),
        (["--dt", "nan"], ["--dt"]),
        (["--plot", "chart.gif"], ["chart.gif", "--plot", ".png"]),
        (["--plot", "chart"], ["chart", "--plot"]),
        (["--speed-plot", "chart.jpg"], ["chart.jpg", "--speed-plot"]),
        (["--traces-csv", "traces.txt"], ["traces.txt", "--traces-csv"]),
        (["--bogus"], ["--bogus"]),
    ],
)
def test_bad_option_values(capsys, tmp_path, monkeypatch, argv, needles):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "run", *argv)
    assert_one_line_error(rc, out, err, *needles)
    assert out == ""
    assert files_in(tmp_path) == []


def test_unknown_and_missing_command(capsys):
    rc, out, err = run(capsys, "frobnicate")
    assert_one_line_error(rc, out, err, "frobnicate")
    rc, out, err = run(capsys)
    assert_one_line_error(rc, out, err, "COMMAND", "run")


def test_unwritable_output_paths(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.png").mkdir()
    cases = [
        (str(tmp_path / "missing" / "g.png"), "does not exist"),
        (str(tmp_path / "afile" / "g.png"), "not a directory"),
        (str(tmp_path / "adir.png"), "is a directory"),
    ]
    for path, problem in cases:
        rc, out, err = run(capsys, "run", "--plot", path)
        assert_one_line_error(rc, out, err, path, "--plot", problem)
    assert files_in(tmp_path) == ["adir.png", "afile"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_read_only_directory(capsys, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc, out, err = run(capsys, "run", "--plot", str(ro / "g.png"))
        assert_one_line_error(rc, out, err, "g.png", "--plot", "not writable")
    finally:
        ro.chmod(0o755)


def test_same_output_twice(capsys, tmp_path):
    p = str(tmp_path / "g.png")
    rc, out, err = run(capsys, "run", "--plot", p, "--speed-plot", p)
    assert_one_line_error(rc, out, err, "g.png")


def test_write_failure_leaves_nothing(capsys, tmp_path, monkeypatch):
    """A write that fails half-way (disk full) leaves neither the file nor a temporary."""
    from keirin_sim.results import result as results

    def broken(self, path):
        Path(path).write_text("t_s,rider\n0.0,")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(results.Traces, "to_csv", broken)
    target = tmp_path / "t.csv"
    rc, out, err = run(capsys, "run", "--traces-csv", str(target))
    assert_one_line_error(rc, out, err, "t.csv", "--traces-csv", "No space left")
    assert files_in(tmp_path) == []


def test_existing_output_untouched_on_failure(tmp_path):
    target = tmp_path / "keep.csv"
    target.write_text("old")

    def writer(tmp):
        Path(tmp).write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cli.write_atomically(target, writer)
    assert target.read_text() == "old"
    assert files_in(tmp_path) == ["keep.csv"]


def test_write_atomically_replaces(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    cli.write_atomically(target, lambda tmp: Path(tmp).write_text("new"))
    assert target.read_text() == "new"
    assert files_in(tmp_path) == ["out.txt"]


def test_ctrl_c_exits_130_without_traceback(capsys, tmp_path, monkeypatch):
    import keirin_sim.cli.run as race  # the command calls its own imported simulate

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(race, "simulate", interrupted)
    rc, out, err = run(capsys, "run", "--plot", str(tmp_path / "g.png"))
    assert rc == 130
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 1
    assert files_in(tmp_path) == []


def test_race_error_is_one_line(capsys, monkeypatch):
    import keirin_sim.cli.run as race  # the command calls its own imported simulate

    def broken(*a, **k):
        raise race.RaceError("race not finished after 900 s")

    monkeypatch.setattr(race, "simulate", broken)
    rc, out, err = run(capsys, "run")
    assert_one_line_error(rc, out, err, TOKYO, "race", "not finished")


# --- helpers other command modules reuse -----------------------------------------------------
def test_fail_prints_one_line(capsys):
    assert cli.fail("a.toml: key: bad\nvalue") == 2
    assert capsys.readouterr().err == "a.toml: key: bad value\n"


def test_error_line_and_load_or_fail(tmp_path):
    assert cli.error_line("f.toml", "riders", "empty") == "f.toml: riders: empty"
    assert cli.load_or_fail(None).name
    with pytest.raises(cli.CliError, match="nowhere.toml"):
        cli.load_or_fail(tmp_path / "nowhere.toml")


def test_check_output():
    with pytest.raises(cli.CliError, match="x.gif: --out: "):
        cli.check_output("x.gif", "--out", (".png",))
    assert cli.check_output("x.PNG", "--out", (".png",)).name == "x.PNG"


def test_json_safe():
    assert cli.json_safe({"a": [float("nan"), 1.0], "b": float("inf"), "c": "x"}) == {
        "a": [None, 1.0],
        "b": None,
        "c": "x",
    }


def _fake_module(monkeypatch, name, add_commands):
    mod = types.ModuleType(name)
    if add_commands is not None:
        mod.add_commands = add_commands
    monkeypatch.setitem(sys.modules, name, mod)
    return mod


def test_command_modules_register_subcommands(capsys, monkeypatch):
    def add_commands(sub):
        p = sub.add_parser("hello", help="say hello")
        p.add_argument("--who", default="world")
        p.add_argument("--bad", action="store_true")

        def func(args):
            if args.bad:
                raise cli.CliError(cli.error_line("hello.toml", "who", "bad"))
            print(f"hello {args.who}")
            return 0

        p.set_defaults(func=func)

    mod = _fake_module(monkeypatch, "keirin_test_cmds", add_commands)
    monkeypatch.setattr(cli, "COMMANDS", (mod,))
    assert run(capsys, "hello", "--who", "Kenny")[:2] == (0, "hello Kenny\n")
    rc, out, err = run(capsys, "hello", "--bad")
    assert_one_line_error(rc, out, err, "hello.toml", "who")
    rc, out, err = run(capsys, "hello", "--nope")
    assert_one_line_error(rc, out, err, "--nope")


def test_command_that_exits_instead_of_returning(capsys, monkeypatch):
    def add_commands(sub):
        sub.add_parser("quit").set_defaults(func=lambda args: sys.exit(3))

    mod = _fake_module(monkeypatch, "keirin_test_quit", add_commands)
    monkeypatch.setattr(cli, "COMMANDS", (mod,))
    assert run(capsys, "quit")[0] == 3


# --- as a real process -----------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_subprocess_run_from_elsewhere(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "keirin_sim.cli", "run", "--json", "--plot", "g.pdf"],
        cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["finish"][0]["position"] == 1
    assert (tmp_path / "g.pdf").read_bytes()[:4] == b"%PDF"


def test_subprocess_bad_input(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(
        _edit(tokyo_text(), "flying_200_s = 9.510", "flying_200_s = 9.510\npmax_w = 10000"),
        encoding="utf-8",
    )
    p = subprocess.run(
        [sys.executable, "-m", "keirin_sim.cli", "run", str(f), "--plot", "g.png"],
        cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=300,
    )  # fmt: skip
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1
    assert "bad.toml" in p.stderr and "pmax_w" in p.stderr
    assert "Traceback" not in p.stderr
    assert files_in(tmp_path) == ["bad.toml"]


def test_outputs_follow_the_umask(tmp_path):
    import os
    import stat

    from keirin_sim.cli import write_atomically

    old = os.umask(0o022)
    try:
        out = write_atomically(tmp_path / "x.txt", lambda p: Path(p).write_text("x"), "--out")
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_help_texts_cite_only_pages_and_sections_that_exist():
    """Issue 24: ``mc --help`` cited a "README: Performance" that does not exist."""
    import re
    from pathlib import Path

    from keirin_sim.cli import build_parser

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "mc" in a.choices)
    texts = [p.format_help() for p in sub.choices.values()]
    joined = " ".join(" ".join(t.split()) for t in texts)
    for section in re.findall(r"README: ([A-Z][\w ]+)", joined):
        assert re.search(rf"^#+ {section}", readme, re.M), section
    pages = re.findall(r"docs/[\w-]+\.md", joined)
    assert "docs/performance.md" in pages
    for page in pages:
        assert (root / page).is_file(), page


def test_the_event_log_is_in_time_order_when_a_rider_launches_after_the_winner(tokyo_result):
    """Issue 24: "X wins" was appended after the sorted lines, so a launch after the winner's
    finish came before it."""
    import dataclasses

    from keirin_sim.cli.run import format_events
    from keirin_sim.results import RaceEvent as Event

    w = tokyo_result.finish_order[0]
    late = Event(tokyo_result.finish_times[w] + 0.5, "Azizulhasni Awang", "launch", "")
    res = dataclasses.replace(tokyo_result, events=[*tokyo_result.events, late])
    lines = format_events(res)
    times = [float(line.split(" s ", 1)[0]) for line in lines if not line.startswith(" ")]
    assert times == sorted(times)
    assert lines[-1].endswith("Azizulhasni Awang launches") and f"{w} wins" in lines[-2]
