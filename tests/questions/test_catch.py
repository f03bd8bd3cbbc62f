"""The catch: the catch against the hesitation and the critical hesitation; the commands, JSON
and charts of the counterfactuals (the variants and the attack-point sweep included, through
keirin_sim.questions.variants; their own tests are in test_variants.py).

The Tokyo scenario is calibrated separately, so nothing here depends on its current numbers:
the tests check structure, invariants, and physical behaviour (a longer hesitation never brings
the catch earlier, a stronger field never brings it later, the critical hesitation is where the
catch flips).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import shipped_text
from matplotlib.figure import Figure

from keirin_sim import ScenarioError, cli, plots, simulate
from keirin_sim.questions.catch import (
    catch_sweep,
    critical_hesitation,
    replay_hesitation,
)
from keirin_sim.questions.counterfactual import AnalysisError
from keirin_sim.questions.variants import attack_point_sweep, compare_variants
from keirin_sim.scenario.paths import parse_range

ROOT = Path(__file__).resolve().parents[2]
EARLY = ROOT / "scenarios" / "early_vs_late.toml"
KENNY = "Jason Kenny"
GRID = [0.5 * k for k in range(31)]  # 0 to 15 s, as in the issue


@pytest.fixture(scope="module")
def sweep(tokyo):
    return catch_sweep(tokyo, KENNY, GRID)


def _catch_key(row) -> float:
    """Metres to go at the catch; a replay without a catch ranks below any catch."""
    return row.catch_m_to_go if row.caught else -1.0


def _resolution_m(scenario) -> float:
    """The catch is recorded by the kernel to within one step of travel (under 25 m/s)."""
    return 25.0 * scenario.dt_s


@pytest.fixture(scope="module")
def flipping(tokyo):
    """The Tokyo scenario, or a copy with Kenny's W' scaled, in which the catch flips between
    0 and 30 s of hesitation (so the bisection tests never depend on the calibration)."""
    w0 = tokyo.riders[tokyo.rider_index(KENNY)].rider.w_prime_j
    for f in (1.0, 0.8, 1.25, 0.6, 1.6, 0.45, 2.0):
        sc = tokyo.with_rider(KENNY, w_prime_j=w0 * f)
        a = catch_sweep(sc, KENNY, [0.0, 30.0])
        if a.rows[0].caught != a.rows[1].caught:
            return sc
    pytest.fail("no W' for Kenny makes the catch flip between 0 and 30 s of hesitation")


# --- the catch sweep --------------------------------------------------------------------------
def test_catch_sweep_rows_are_consistent(tokyo, sweep):
    assert sweep.attacker == KENNY
    assert sweep.hesitations == GRID
    assert sweep.names == tuple(tokyo.names)
    # Tokyo gives no real hesitation: the replay's own (its waiting game) stands in
    assert "hesitation_s" not in tokyo.reference
    assert sweep.reference_hesitation_s == replay_hesitation(tokyo) > 0.0
    for r in sweep.rows:
        assert r.caught == (r.catch_m_to_go is not None) == (r.caught_by is not None)
        assert r.caught == (r.catch_lap is not None)
        if r.caught:
            # after the derny has left (no one may pass it) and before the line
            assert 0.0 < r.catch_m_to_go <= tokyo.derny.pull_off_m_to_go + 5.0
            assert r.caught_by in tokyo.names and r.caught_by != KENNY
            assert r.catch_lap == math.floor((tokyo.race_m - r.catch_m_to_go) / 250.0) + 1
        else:
            # nobody reached his wheel before the line: he wins
            assert r.winner == KENNY and r.position == 1 and r.margin_s > 0.0
        assert (r.margin_s >= 0.0) == (r.position == 1)
        assert 1 <= r.position <= len(tokyo.names)


def test_catch_sweep_rows_match_plain_replays(tokyo, sweep):
    """Each row is the replay with every rider but the attacker hesitating that long."""
    for r in (sweep.rows[0], sweep.rows[len(GRID) // 2]):
        res = simulate(tokyo.set_param("field.hesitation_s", r.hesitation_s), traces=False)
        assert res.finish_order.index(KENNY) + 1 == r.position
        if r.caught:
            assert res.catch["m_to_go"] == pytest.approx(r.catch_m_to_go)
            assert res.catch["by"] == r.caught_by
        else:
            assert res.catch is None or res.catch["m_to_go"] <= 0.0


def test_longer_hesitation_never_brings_the_catch_earlier(tokyo, sweep):
    tol = _resolution_m(tokyo)
    rows = sweep.rows
    for a, b in zip(rows, rows[1:], strict=False):
        assert _catch_key(b) <= _catch_key(a) + tol, (
            f"the field chasing after {b.hesitation_s:g} s catches Kenny at "
            f"{_catch_key(b):.1f} m to go, earlier than after {a.hesitation_s:g} s "
            f"({_catch_key(a):.1f} m to go)"
        )


def test_longer_hesitation_never_brings_the_catch_earlier_weaker_attacker(flipping):
    a = catch_sweep(flipping, KENNY, [2.0 * k for k in range(16)])
    tol = _resolution_m(flipping)
    for x, y in zip(a.rows, a.rows[1:], strict=False):
        assert _catch_key(y) <= _catch_key(x) + tol, (x, y)


@pytest.mark.parametrize("hesitation", [0.0, 4.0, "reference"])
def test_stronger_field_never_brings_the_catch_later(tokyo, hesitation):
    h = tokyo.reference.get("hesitation_s", 10.0) if hesitation == "reference" else hesitation
    keys = []
    for f in (1.0, 1.03, 1.06, 1.1):
        sc = tokyo
        for e in tokyo.riders:
            if e.rider.name != KENNY:
                sc = sc.with_rider(e.rider.name, pmax_w=min(e.rider.pmax_w * f, 2400.0))
        keys.append((f, _catch_key(catch_sweep(sc, KENNY, [h]).rows[0])))
    tol = _resolution_m(tokyo)
    for (f0, k0), (f1, k1) in zip(keys, keys[1:], strict=False):
        assert k1 >= k0 - tol, f"Pmax x{f1}: catch at {k1:.1f} m to go, x{f0}: {k0:.1f} m"


def test_catch_sweep_other_attacker_and_errors(tokyo):
    a = catch_sweep(tokyo, None, [0.0])
    assert a.attacker == tokyo.attacker
    with pytest.raises(ScenarioError, match="no rider named 'Nobody'"):
        catch_sweep(tokyo, "Nobody", [0.0])
    with pytest.raises(ScenarioError, match="hesitation_s"):
        catch_sweep(tokyo, KENNY, [-1.0])
    with pytest.raises(AnalysisError, match="no values"):
        catch_sweep(tokyo, KENNY, [])
    with pytest.raises(AnalysisError, match="names no attacker"):
        catch_sweep(replace(tokyo, attacker=None), None, [0.0])


# --- the critical hesitation ------------------------------------------------------------------
def test_critical_hesitation_is_where_the_catch_flips(flipping):
    c = critical_hesitation(flipping, KENNY, 0.0, 30.0, tol=0.01)
    assert c.hesitation_s is not None and 0.0 < c.hesitation_s < 30.0
    # the physics: a shorter delay gets him caught, a longer one lets him win
    assert c.caught_below is True
    assert c.below.caught and not c.above.caught
    assert c.above.hesitation_s - c.below.hesitation_s <= 0.01 + 1e-12
    assert c.below.hesitation_s <= c.hesitation_s <= c.above.hesitation_s
    # fresh replays just either side agree
    just = catch_sweep(flipping, KENNY, [c.hesitation_s - 0.01, c.hesitation_s + 0.01])
    assert just.rows[0].caught and not just.rows[1].caught
    # at the flip the catch falls on the line
    assert c.below.catch_m_to_go < 5.0
    assert abs(c.below.margin_s) < 0.1 and abs(c.above.margin_s) < 0.1
    # about log2(30 / 0.01) halvings, not a grid
    assert c.evaluations <= 2 + math.ceil(math.log2(30.0 / 0.01)) + 2


def test_critical_hesitation_agrees_with_the_grid(tokyo, sweep):
    """Bisection consistency: the flip lies between the last caught and the first free grid
    value, and the grid is caught on one side only."""
    c = critical_hesitation(tokyo, KENNY, GRID[0], GRID[-1])
    caught = [r.caught for r in sweep.rows]
    if c.hesitation_s is None:
        assert len(set(caught)) == 1
        return
    below = [r for r in sweep.rows if r.hesitation_s < c.hesitation_s]
    above = [r for r in sweep.rows if r.hesitation_s > c.hesitation_s]
    assert all(r.caught == c.caught_below for r in below)
    assert all(r.caught != c.caught_below for r in above)


def test_sentence_and_the_hesitation_it_uses(flipping):
    c = critical_hesitation(flipping, KENNY, 0.0, 30.0)
    x = f"{c.hesitation_s:.2f}"
    ref = flipping.reference.get("hesitation_s")
    # default: the real race's delay if he is caught there, else chasing at once (lo)
    ref_caught = ref is not None and catch_sweep(flipping, KENNY, [ref]).rows[0].caught
    assert c.at_s == (ref if ref_caught else 0.0)
    assert c.at_row.caught
    y = f"{c.at_row.catch_m_to_go:.0f}"
    assert c.sentence.startswith(
        f"Had the field chased within {x} s, {KENNY} would have been caught {y} m before the line"
    )
    if ref is not None:
        assert f"in the race the field waited {ref:g} s" in c.sentence
    # a delay given by the caller
    at = round(c.hesitation_s / 2.0, 2)
    c2 = critical_hesitation(flipping, KENNY, 0.0, 30.0, at=at)
    assert c2.at_s == at and c2.hesitation_s == c.hesitation_s
    assert f"{c2.at_row.catch_m_to_go:.0f} m before the line (chasing after {at:g} s" in (
        c2.sentence
    )
    # past the critical delay he is not caught, and the sentence says so
    c3 = critical_hesitation(flipping, KENNY, 0.0, 30.0, at=29.0)
    assert not c3.at_row.caught and "is not caught" in c3.sentence
    assert "\n" not in c.sentence + c2.sentence + c3.sentence


def test_no_flip_in_the_range(tokyo):
    weak = tokyo
    for e in tokyo.riders:
        if e.rider.name != KENNY:
            weak = weak.with_rider(e.rider.name, pmax_w=1000.0, w_prime_j=5000.0, cp_w=300.0)
    c = critical_hesitation(weak, KENNY, 0.0, 5.0)
    assert c.hesitation_s is None and c.caught_below is None
    assert not c.below.caught and not c.above.caught
    assert c.sentence.startswith(f"{KENNY} is not caught before the line for any delay")


def test_critical_hesitation_rejects_bad_brackets(tokyo):
    with pytest.raises(AnalysisError, match="lo < hi"):
        critical_hesitation(tokyo, KENNY, 5.0, 5.0)
    with pytest.raises(AnalysisError, match="tol"):
        critical_hesitation(tokyo, KENNY, 0.0, 5.0, tol=0.0)


# --- charts -------------------------------------------------------------------------------------
def test_charts(tmp_path, flipping, early):
    a = catch_sweep(flipping, KENNY, [0.0, 5.0, 10.0, 20.0, 30.0])
    c = critical_hesitation(flipping, KENNY, 0.0, 30.0)
    fig = plots.catch_chart(a, c)
    assert isinstance(fig, Figure) and len(fig.axes) >= 2
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("critical: ") for t in texts)
    ref = flipping.reference.get("hesitation_s")
    if ref is not None:
        assert f"real race: {ref:g} s" in texts
    assert ax.get_ylim()[0] < 0.0 < ax.get_ylim()[1]  # the finish line is on the chart
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(t.startswith("caught by ") for t in legend)
    assert "not caught before the line" in legend
    comp = compare_variants(early)
    sw = attack_point_sweep(early, KENNY, [750.0, 500.0, 250.0])
    v = plots.variants_chart(comp)
    assert [t.get_text().split(":")[0] for t in v.axes[0].get_legend().get_texts()] == [
        r.name for r in comp.rows
    ]
    for name, f in (
        ("catch.png", fig),
        ("variants.svg", v),
        ("sweep.pdf", plots.attack_point_chart(sw)),
        ("compare.png", plots.compare_chart(comp, sw)),
    ):
        p = plots.save(f, tmp_path / name)
        assert p.stat().st_size > 1000


# --- command line ------------------------------------------------------------------------------
def _run(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def _one_line_error(rc, out, err, *needles):
    assert rc == 2, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_cli_catch_json(capsys, tokyo):
    rc, out, err = _run(capsys, "catch", "--attacker", KENNY, "--hesitation", "0:15:1.5", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["attacker"] == KENNY
    assert {"critical_hesitation_s", "sentence", "rows"} <= set(d)
    assert [r["hesitation_s"] for r in d["rows"]] == parse_range("0:15:1.5")
    for r in d["rows"]:
        assert set(r) >= {"hesitation_s", "caught", "catch_m_to_go", "caught_by", "margin_s"}
        assert isinstance(r["caught"], bool)
        assert (r["catch_m_to_go"] is None) == (not r["caught"]) == (r["caught_by"] is None)
    crit = d["critical_hesitation_s"]
    if crit is not None:
        assert 0.0 <= crit <= 15.0
        # the sentence gives the hesitation to 0.01 s, the JSON to 0.001 s
        said = float(re.search(r"within (\d+\.\d+) s", d["sentence"]).group(1))
        assert abs(said - crit) <= 0.0051
        for r in d["rows"]:
            if abs(r["hesitation_s"] - crit) > 0.01:
                assert r["caught"] == (r["hesitation_s"] < crit)


def test_cli_catch_text_and_plot(capsys, tmp_path):
    png = tmp_path / "catch.png"
    rc, out, err = _run(capsys, "catch", "--hesitation", "0:15:5", "--plot", png)
    assert rc == 0, err
    assert "Hesitation s" in out and f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rc, out, err = _run(capsys, "catch", "--hesitation", "0:15:5", "--plot", tmp_path / "c.svg")
    assert rc == 0 and (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")


def test_cli_compare_json_with_sweep(capsys, tmp_path):
    pdf = tmp_path / "compare.pdf"
    rc, out, err = _run(
        capsys, "compare", EARLY, "--sweep", "750:150:200", "--json", "--plot", pdf
    )  # fmt: skip
    assert rc == 0, err
    d = json.loads(out)
    assert d["rider"] == KENNY
    assert [v["name"] for v in d["variants"]][0] == "attack as the derny leaves"
    for v in d["variants"]:
        assert {"position", "margin_s", "w_left_j", "gap_over_laps"} <= set(v)
    assert [r["m_to_go"] for r in d["sweep"]["rows"]] == [750.0, 550.0, 350.0, 150.0]
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_cli_compare_text_defaults_to_the_shipped_variants(capsys):
    rc, out, err = _run(capsys, "compare")
    assert rc == 0, err
    assert "attack as the derny leaves" in out and "W' left kJ" in out


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["catch", "--hesitation", "0:x:1"], ["--hesitation", "START:STOP:STEP"]),
        (["catch", "--hesitation=-2:4:1"], ["hesitation_s", "outside the physical range"]),
        (["catch", "--attacker", "Nobody"], ["no rider named 'Nobody'"]),
        (["catch", "nowhere.toml"], ["nowhere.toml", "file not found"]),
        (["catch", "--tol", "0"], ["tol"]),
        (["compare", "--sweep", "750:150:0"], ["--sweep", "step must be positive"]),
        (["compare", "--sweep", "2000:150:50"], ["not inside the 1500 m race"]),
        (["compare", "--rider", "Nobody"], ["no rider named 'Nobody'"]),
    ],
)
def test_cli_errors_are_one_line(capsys, argv, needles):
    _one_line_error(*_run(capsys, *argv), *needles)


def test_cli_compare_without_variants_is_one_line(capsys):
    _one_line_error(*_run(capsys, "compare", ROOT / "scenarios" / "tokyo2020_mens_final.toml"),
                    "declares no [[variants]]")  # fmt: skip


def test_cli_bad_plot_and_bad_variants_write_nothing(capsys, tmp_path):
    _one_line_error(*_run(capsys, "catch", "--plot", tmp_path / "c.gif"), "--plot", ".gif")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        shipped_text("tokyo2020_mens_final.toml") + "\n[[variants]]\nname = 'x'\nkind = 1\n"
    )
    out = tmp_path / "compare.png"
    _one_line_error(*_run(capsys, "compare", bad, "--plot", out), "variants[0].kind")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_cli_subprocess_bad_variant_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        shipped_text("tokyo2020_mens_final.toml") + "\n[[variants]]\nname = 'x'\nfoo = 1\n"
    )
    p = subprocess.run(
        [sys.executable, "-m", "keirin_sim.cli", "compare", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr
    assert lines[0].startswith(f"{bad}: variants[0].foo: unknown key")
