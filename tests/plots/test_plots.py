"""Charts: the shared style helpers, the gap and speed/power charts, and saving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from keirin_sim import load_scenario, plots, simulate


@pytest.fixture(scope="module")
def result():
    return simulate(load_scenario(None))


def _labels(ax) -> list[str]:
    leg = ax.get_legend()
    assert leg is not None
    return [t.get_text() for t in leg.get_texts()]


def _top_labels(ax) -> list[str]:
    """Labels of the secondary (top) x axis that lap_axis adds."""
    for child in ax.get_children():
        if type(child).__name__ == "SecondaryAxis":
            return [t.get_text() for t in child.get_xticklabels()]
    return []


# --- gap_over_laps ---------------------------------------------------------------------------
def test_gap_over_laps_metres(result):
    fig = plots.gap_over_laps(result)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    laps = result.race_m / result.lap_m
    assert ax.get_xlim() == (laps, 0.0)  # laps to go decrease left to right
    lo, hi = ax.get_ylim()
    assert lo > hi  # inverted: the leader on top, riders behind lower
    lines = [ln for ln in ax.get_lines() if ln.get_label() and not ln.get_label().startswith("_")]
    assert len(lines) == len(result.names)
    labels = _labels(ax)
    for name in result.names:
        assert any(name in lab for lab in labels)
    assert labels[0].startswith("1 ") and result.finish_order[0] in labels[0]
    assert "(m)" in ax.get_ylabel()
    assert "laps to go" in ax.get_xlabel()
    assert ax.get_title(loc="left")
    top = _top_labels(ax)
    assert any("bell" in t for t in top)
    assert any("2 to go" in t for t in top)
    assert any("derny off" in t for t in top)
    colours = {ln.get_color() for ln in lines}
    assert len(colours) == len(lines)


def test_gap_over_laps_seconds_and_subset(result):
    riders = [result.finish_order[0], result.finish_order[-1]]
    fig = plots.gap_over_laps(result, units="s", riders=riders)
    ax = fig.axes[0]
    assert "(s)" in ax.get_ylabel()
    assert len(_labels(ax)) == 2
    # y covers the data: the last finisher's margin is inside the axis
    lo, hi = ax.get_ylim()
    margin = result.margins[result.finish_order[-1]]
    assert hi <= 0 <= margin <= lo


def test_gap_over_laps_on_given_axes(result):
    fig, axes = plots.new_figure(1, 2)
    out = plots.gap_over_laps(result, ax=axes[1])
    assert out is axes[1] and out.figure is fig  # given an Axes, the chart returns it
    assert axes[1].get_lines()


def test_gap_over_laps_bad_arguments(result):
    with pytest.raises(ValueError, match="Chris Hoy"):
        plots.gap_over_laps(result, riders=["Chris Hoy"])
    with pytest.raises(ValueError, match="units"):
        plots.gap_over_laps(result, units="km")


def test_gap_series_matches_lap_gaps_and_margins(result):
    for units in ("m", "s"):
        ltg, gaps = plots.gap_series(result, units)
        assert ltg[0] == pytest.approx(result.race_m / result.lap_m)
        assert ltg[-1] == pytest.approx(0.0)
        assert np.all(np.diff(ltg) < 0)
        assert set(gaps) == set(result.names)
        stack = np.vstack([gaps[r] for r in result.names])
        assert np.all(np.isfinite(stack))
        assert stack.min() >= -1e-6  # nobody is ahead of the leader
        assert np.allclose(stack.min(axis=0), 0.0, atol=1e-6)  # somebody leads everywhere
        for g in result.lap_gaps:
            k = int(np.argmin(np.abs(ltg - g.laps_to_go)))
            assert ltg[k] == pytest.approx(g.laps_to_go)
            ref = g.gap_m if units == "m" else g.gap_s
            for r in result.names:
                assert gaps[r][k] == pytest.approx(ref[r], abs=0.05 if units == "m" else 0.01)
    _, gs = plots.gap_series(result, "s")
    for r in result.names:
        assert gs[r][-1] == pytest.approx(result.margins[r], abs=1e-6)


def test_gap_chart_needs_traces():
    res = simulate(load_scenario(None), traces=False)
    with pytest.raises(ValueError, match="traces"):
        plots.gap_over_laps(res)


# --- speed_power -----------------------------------------------------------------------------
def test_speed_power_default_riders(result):
    fig = plots.speed_power(result)
    assert len([a for a in fig.axes if a.get_ylabel()]) == 3
    ylabels = [a.get_ylabel() for a in fig.axes if a.get_ylabel()]
    assert ylabels == ["speed (km/h)", "power (W)", "W' balance (kJ)"]
    speed_ax = fig.axes[0]
    labels = _labels(speed_ax)
    assert len(labels) == 3
    for k, r in enumerate(result.finish_order[:3]):
        assert r in labels[k]
    for ax in fig.axes:
        if ax.get_ylabel():
            assert ax.get_xlim() == (result.race_m / result.lap_m, 0.0)
    # speeds in km/h: a keirin is ridden between the derny's start and well under 100 km/h
    y = np.concatenate([ln.get_ydata() for ln in speed_ax.get_lines() if ln.get_label()[0] != "_"])
    assert 20 < y.min() and y.max() < 100


def test_speed_power_chosen_riders(result):
    who = [result.names[-1]]
    fig = plots.speed_power(result, riders=who)
    assert _labels(fig.axes[0]) == [plots.rider_label(result, who[0])]
    with pytest.raises(ValueError, match="nobody"):
        plots.speed_power(result, riders=["nobody"])


# --- style helpers ---------------------------------------------------------------------------
def test_lap_axis_from_numbers():
    fig, ax = plots.new_figure()
    plots.lap_axis(ax, 8, 2.5)
    assert ax.get_xlim() == (8.0, 0.0)
    top = _top_labels(ax)
    assert top == ["3 to go", "derny off", "2 to go", "bell"]
    plots.style_axes(ax, title="T", ylabel="y (m)", legend=True)
    assert ax.get_title(loc="left") == "T" and ax.get_ylabel() == "y (m)"


def test_lap_axis_pull_off_on_a_lap_mark():
    fig, ax = plots.new_figure()
    plots.lap_axis(ax, 6, 3.0)
    assert _top_labels(ax) == ["3 to go / derny off", "2 to go", "bell"]


def test_rider_colors_distinct():
    names = [f"r{k}" for k in range(12)]
    styles = plots.rider_colors(names)
    assert len({styles[n] for n in names}) == 12
    assert len({styles[n][0] for n in names[:9]}) == 9


def test_figure_renders_in_notebooks(result):
    png = plots.gap_over_laps(result)._repr_png_()
    assert png[:4] == b"\x89PNG"


# --- save ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, magic",
    [("a.png", b"\x89PNG"), ("a.svg", b"<svg"), ("a.pdf", b"%PDF"), ("b.SVG", b"<svg")],
)
def test_save_formats(result, tmp_path, name, magic):
    fig = plots.gap_over_laps(result)
    out = plots.save(fig, tmp_path / name)
    assert out == tmp_path / name
    assert magic in out.read_bytes()[:400]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.parametrize("name", ["a.jpg", "a.gif", "a", "a.png.bak"])
def test_save_rejects_other_extensions(result, tmp_path, name):
    fig = plots.gap_over_laps(result)
    with pytest.raises(ValueError, match=r"\.png"):
        plots.save(fig, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_save_accepts_str_path(result, tmp_path):
    p = str(tmp_path / "s.png")
    plots.save(plots.speed_power(result), p)
    assert Path(p).stat().st_size > 0


def test_save_failure_is_an_oserror(result, tmp_path):
    with pytest.raises(OSError, match="missing"):
        plots.save(plots.gap_over_laps(result), tmp_path / "missing" / "a.png")


# --- the package: layout and imports ---------------------------------------------------------
PLOTS_DIR = Path(plots.__file__).parent


def test_plots_is_a_package_of_small_modules_without_the_cli():
    mods = sorted(PLOTS_DIR.glob("*.py"))
    assert {m.name for m in mods} >= {"__init__.py", "style.py", "race.py", "analysis.py"}
    for m in mods:
        text = m.read_text(encoding="utf-8")
        assert len(text.splitlines()) < 400, m.name
        for line in text.splitlines():
            if "import" in line:
                assert "cli" not in line, (m.name, line)
    from keirin_sim import files

    assert plots.save.__globals__["write_atomically"] is files.write_atomically
    for name in plots.__all__:
        assert hasattr(plots, name), name


def test_charts_import_no_command_line_code(tmp_path):
    """Drawing and saving charts, a sweep heatmap included, loads neither the command line nor
    the batch code (types only under TYPE_CHECKING; Wilson intervals from the table)."""
    import subprocess
    import sys

    code = f"""
import sys
import pandas as pd
from keirin_sim import load_scenario, plots, simulate
plots.save(plots.gap_over_laps(simulate(load_scenario(None))), {str(tmp_path / "g.png")!r})
t = pd.DataFrame({{"a.hesitation_s": [1.0, 2.0], "rider": "X", "runs": 10, "wins": [1, 5]}})
plots.save(plots.sweep_heatmap(t, rider="X"), {str(tmp_path / "h.png")!r})
bad = [m for m in sys.modules if m.startswith("keirin_sim.cli")]
print(bad)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


# --- chart defects: the catch chart ------------------------------------------------------------
KENNY = "Jason Kenny"


@pytest.fixture(scope="module")
def catch_pair():
    from keirin_sim.questions.catch import catch_sweep, critical_hesitation

    sc = load_scenario(None)
    a = catch_sweep(sc, KENNY, [0.0, 3.0, 6.0, 8.0, 10.0, 12.0, 15.0])
    return a, critical_hesitation(sc, KENNY, 0.0, 15.0)


def _draw(fig):
    """Draw ``fig`` on an Agg canvas (figures made without pyplot have a bare canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def _extent(artist, fig):
    return artist.get_window_extent(fig.canvas.get_renderer())


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _right_labels(ax):
    for child in ax.get_children():
        if type(child).__name__ == "SecondaryAxis":
            return [t for t in child.get_yticklabels() if t.get_text()]
    return []


def _check_catch_labels(fig, analysis, critical):
    ax = fig.axes[0]
    _draw(fig)
    texts = {t.get_text(): t for t in ax.texts}
    crit = next(t for k, t in texts.items() if k.startswith("critical: "))
    ref = next(t for k, t in texts.items() if k.startswith("real race: "))
    ec, er = _extent(crit, fig), _extent(ref, fig)
    assert not _overlap(ec, er), (ec, er)
    # neither label is crossed by the other hesitation's line
    x_ref = ax.transData.transform((analysis.reference_hesitation_s, 0.0))[0]
    x_crit = ax.transData.transform((critical.hesitation_s, 0.0))[0]
    assert not ec.x0 < x_ref < ec.x1
    assert not er.x0 < x_crit < er.x1
    # no text of the panel overlaps another, nor the lap-mark labels on the right
    boxes = [(t.get_text(), _extent(t, fig)) for t in list(ax.texts) + _right_labels(ax)]
    for i, (na, a) in enumerate(boxes):
        for nb, b in boxes[i + 1 :]:
            assert not _overlap(a, b), (na, nb)


def test_catch_chart_labels_do_not_collide(catch_pair):
    from dataclasses import replace

    a, c = catch_pair
    assert a.reference_hesitation_s is not None and c.hesitation_s is not None
    _check_catch_labels(plots.catch_chart(a, c), a, c)
    # the real race a hair after the critical hesitation, and a hair before it
    for d in (0.05, -0.05):
        near = replace(a, reference_hesitation_s=c.hesitation_s + d)
        _check_catch_labels(plots.catch_chart(near, c), near, c)


def test_catch_chart_not_caught_markers_are_not_on_the_line(catch_pair):
    a, c = catch_pair
    fig = plots.catch_chart(a, c)
    ax = fig.axes[0]
    free = [ln for ln in ax.get_lines() if ln.get_label() == "not caught before the line"]
    assert len(free) == 1
    y = np.asarray(free[0].get_ydata(), dtype=float)
    n_free = sum(not r.caught for r in a.rows)
    assert len(y) == n_free > 0
    lo = ax.get_ylim()[0]
    assert np.all(y < 0.0) and np.all(y > lo)  # in their own band below the line, on the chart
    assert free[0].get_markerfacecolor() in ("white", "w", (1.0, 1.0, 1.0, 1.0))
    assert "not caught" in [t.get_text() for t in ax.texts]
    # the catch curve does not run along the line through the uncaught replays
    for ln in ax.get_lines():
        if ln.get_label().startswith("_") and len(ln.get_xdata()) > 2:
            xs = np.asarray(ln.get_xdata(), dtype=float)
            ys = np.asarray(ln.get_ydata(), dtype=float)
            assert not np.any((ys == 0.0) & (xs > c.hesitation_s + 1e-9))


# --- chart defects: the compare chart's lead at the line -------------------------------------
def test_compare_lead_at_the_line_matches_the_margin():
    from keirin_sim.questions.variants import compare_variants, parse_variants

    early = load_scenario("early_vs_late.toml")
    comp = compare_variants(early)
    variants = {v.name: v for v in parse_variants(early)}
    assert any(r.position == 1 for r in comp.rows) and any(r.position > 1 for r in comp.rows)
    for row in comp.rows:
        res = simulate(early.with_tactic(comp.rider, **variants[row.name].tactic), traces=True)
        tr = res.traces
        # the speed of the rider behind, just before he crosses: the margin in metres
        behind = res.finish_order[1] if row.position == 1 else comp.rider
        j = tr.names.index(behind)
        tf = res.finish_times[behind]
        sel = (np.asarray(tr.t) > tf - 1.0) & (np.asarray(tr.t) < tf)
        v = float(np.mean(tr.v_ms[sel, j]))
        expected = row.margin_s * v  # + ahead of the next rider, - behind the winner
        assert row.lead_m_to_go[-1] == pytest.approx(0.0, abs=1e-6)
        assert row.lead_m[-1] == pytest.approx(expected, abs=2.0), (row.name, expected)
    fig = plots.compare_chart(comp)
    ends = [ln.get_ydata()[-1] for ln in fig.axes[0].get_lines() if len(ln.get_ydata()) > 100]
    assert max(ends) > 10.0  # the winner's line ends well clear, not at ~2 m


# --- chart defects: the Monte Carlo summary --------------------------------------------------
@pytest.fixture(scope="module")
def mc():
    from keirin_sim.montecarlo import run_batch

    return run_batch(None, 60, 5, workers=1)


def test_mc_summary_median_labels_stay_inside(mc):
    s = mc.summary
    assert s.caught > 0 and len(s.winning_margin_s)
    fig = plots.mc_summary(s)
    _draw(fig)
    found = 0
    for ax in fig.axes:
        box = _extent(ax, fig)
        for t in ax.texts:
            if "median" in t.get_text():
                found += 1
                e = _extent(t, fig)
                assert box.x0 - 0.5 <= e.x0 and e.x1 <= box.x1 + 0.5, (t.get_text(), e, box)
    assert found == 2


# --- chart defects: the sweep heatmap --------------------------------------------------------
def _grid_table():
    import pandas as pd

    rows = []
    for a in (500.0, 625.0, 750.0):
        for h in (6.0, 8.0):
            wins = 1 if a == 500.0 else 80
            rows.append({"Jason Kenny.attack_m_to_go": a, "field.hesitation_s": h,
                         "rider": KENNY, "runs": 160, "wins": wins, "p": wins / 160,
                         "ci_low": 0.002 if wins == 1 else 0.42,
                         "ci_high": 0.015 if wins == 1 else 0.58})  # fmt: skip
    return pd.DataFrame(rows)


def test_sweep_heatmap_decimals_intervals_and_labels():
    fig = plots.sweep_heatmap(_grid_table(), rider=KENNY)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("0.6") == 2  # 1 win in 160: 0.6 %, not "1"
    assert texts.count("0.2-1.5") == 2  # the table's 95 % interval, in the cell
    assert texts.count("50") == 4 and texts.count("42-58") == 4
    assert ax.get_ylabel() == "Jason Kenny: attack point (m to go)"
    assert ax.get_xlabel() == "field: hesitation (s)"
    # both lines of a cell stay inside it
    _draw(fig)
    for t in ax.texts:
        e = _extent(t, fig)
        x, y = t.get_position()
        cell = ax.transData.transform([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)])
        assert cell[0][0] <= e.x0 and e.x1 <= cell[1][0]
        assert cell[0][1] <= e.y0 and e.y1 <= cell[1][1]


def test_sweep_heatmap_one_parameter_band_from_raw_rows():
    import pandas as pd

    from keirin_sim.montecarlo import wilson

    df = pd.DataFrame({"field.hesitation_s": [6.0] * 20 + [8.0] * 20,
                       "winner": [KENNY] * 3 + ["X"] * 17 + [KENNY] * 15 + ["X"] * 5})  # fmt: skip
    fig = plots.sweep_heatmap(df, rider=KENNY, params=["field.hesitation_s"])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "field: hesitation (s)"
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    for k, n in ((3, 20), (15, 20)):
        lo, hi = wilson(k, n)
        assert np.any(np.isclose(band, 100 * lo)) and np.any(np.isclose(band, 100 * hi))


def test_param_labels_cover_the_rider_and_tactic_fields():
    from keirin_sim.scenario.scenario import RIDER_BOUNDS, TACTIC_BOUNDS

    for fld in list(RIDER_BOUNDS) + list(TACTIC_BOUNDS):
        assert fld in plots.PARAM_LABELS, fld
        assert "(" in plots.PARAM_LABELS[fld] or fld in ("crr", "efficiency"), fld
    assert plots.param_label("all.pmax_w") == "all: peak power (W)"
    assert plots.param_label("air_density") == "air_density"  # unknown: the raw name


# --- chart defects: names no font can draw ---------------------------------------------------
def test_cjk_rider_name_gives_at_most_one_warning(tmp_path):
    import dataclasses
    import warnings

    sc = load_scenario(None)
    name = "山田 太郎 🚴"
    first = dataclasses.replace(sc.riders[0], rider=dataclasses.replace(sc.riders[0].rider,
                                                                        name=name))  # fmt: skip
    sc = dataclasses.replace(sc, attacker=name, riders=(first, *sc.riders[1:]))
    res = simulate(sc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.gap_over_laps(res)
        _draw(fig)
        plots.save(fig, tmp_path / "cjk.png")
        plots.save(plots.speed_power(res, riders=[name]), tmp_path / "cjk2.svg")
    glyph = [w for w in caught if "glyph" in str(w.message).lower()]
    assert len(glyph) <= 2, [str(w.message) for w in glyph]  # at most one per chart
    for w in glyph:  # and it names the label and what to install
        assert "keirin-sim" in str(w.message) and name in str(w.message)
        assert "install" in str(w.message)
    fonts = plots.font_families()
    assert fonts[0] == "DejaVu Sans"
    if not any("CJK" in f for f in fonts):
        assert len(glyph) == 2  # without a CJK font the names cannot be drawn: say so
    # one chart alone: at most one warning, however often it is drawn
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.gap_over_laps(res)
        _draw(fig)
        plots.save(fig, tmp_path / "again.png")
    assert len([w for w in caught if "glyph" in str(w.message).lower()]) <= 1


# --- ax=: every single-panel chart draws into a given Axes and returns it ---------------------
def _sensitivity():
    from keirin_sim.questions.sensitivity import Input, Sensitivity

    inputs = (Input("a", "path"), Input("b", "path"))
    indices = (
        {"S1": 0.6, "S1_conf": 0.1, "ST": 0.7, "ST_conf": 0.1},
        {"S1": 0.1, "S1_conf": 0.05, "ST": 0.2, "ST_conf": 0.05},
    )
    X, Y = np.zeros((8, 2)), np.arange(8.0)
    return Sensitivity("s", "catch", "sobol", 8, 0, inputs, indices, X, Y)


@pytest.fixture(scope="module")
def variants():
    from keirin_sim.questions.variants import compare_variants

    return compare_variants(
        load_scenario(Path(__file__).parents[2] / "scenarios" / "early_vs_late.toml")
    )


SINGLE_PANEL = {
    "gap_over_laps": lambda result, variants, **kw: plots.gap_over_laps(result, **kw),
    "variants_chart": lambda result, variants, **kw: plots.variants_chart(variants, **kw),
    "sweep_heatmap": lambda result, variants, **kw: plots.sweep_heatmap(
        _grid_table(), rider=KENNY, **kw
    ),
    "sensitivity_chart": lambda result, variants, **kw: plots.sensitivity_chart(
        _sensitivity(), **kw
    ),
}


@pytest.mark.parametrize("name", sorted(SINGLE_PANEL))
def test_single_panel_chart_draws_into_a_given_axes(name, result, variants):
    draw = SINGLE_PANEL[name]
    fig, (left, right) = plots.new_figure(1, 2)
    out = draw(result, variants, ax=right)
    assert out is right
    assert _title(right) and (right.lines or right.images or right.patches)
    assert not (left.lines or left.images or left.patches) and not _title(left)
    own = draw(result, variants)  # without ax: a new Figure, as before
    assert isinstance(own, Figure) and own is not fig
    assert _title(own.axes[0]) == _title(right)


def _title(ax) -> str:
    return ax.get_title("left") + ax.get_title()


def test_single_panel_charts_are_all_listed():
    """The plots package's docstring names the charts that take ax=; each is tested above."""
    import inspect

    takes_ax = {
        n
        for n in plots.__all__
        if callable(getattr(plots, n))
        and "ax" in inspect.signature(getattr(plots, n)).parameters
        and not n.endswith(("_axis", "_axes"))
    }
    assert takes_ax == set(SINGLE_PANEL)
