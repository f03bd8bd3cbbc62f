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
    assert out is fig
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
