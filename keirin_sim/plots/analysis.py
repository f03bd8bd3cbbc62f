"""Charts of :mod:`~keirin_sim.questions.catch` and :mod:`~keirin_sim.questions.variants`: the
catch against the hesitation, the variants' lead over laps, the attack-point sweep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from matplotlib.figure import Figure

from keirin_sim.plots.style import (
    CAUGHT_COLOR,
    CRITICAL_COLOR,
    FREE_COLOR,
    MARK_COLOR,
    NOT_CAUGHT_COLOR,
    PALETTE,
    REFERENCE_COLOR,
    KeirinFigure,
    lap_axis,
    m_to_go_marks,
    new_figure,
    rider_colors,
    style_axes,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from keirin_sim.questions.catch import CatchAnalysis, CriticalHesitation
    from keirin_sim.questions.variants import AttackPointSweep, VariantComparison


def catch_chart(
    analysis: CatchAnalysis,
    critical: CriticalHesitation | None = None,
    band: Mapping[str, Any] | None = None,
    sentence: str | None = None,
) -> Figure:
    """Where the field catches the attacker, against its hesitation (top), and the attacker's
    margin (bottom).

    Top: the catch point in metres to go (higher = caught earlier), one marker per replay,
    coloured by the rider who made the catch; replays where he is not caught are open markers
    in a shaded band below the finish line, labelled "not caught".  The critical hesitation
    (the catch falls on the line) and the real race's hesitation are marked; the lap marks are
    labelled on the right.  Bottom: his signed
    margin (positive = won by, negative = behind the winner).

    ``band`` (``CatchBand.to_dict()`` of :mod:`~keirin_sim.questions.bands`: ``p5``, ``p95``,
    ``median``, ``runs``) shades the 5-95 % band of the critical hesitation over plausible races;
    ``sentence`` replaces the critical hesitation's own above the chart.
    """
    import textwrap

    rows = sorted(analysis.rows, key=lambda r: r.hesitation_s)
    fig, (ax, axm) = new_figure(2, 1, figsize=(10.0, 7.0), sharex=True, height_ratios=(2.3, 1.0))
    h = np.array([r.hesitation_s for r in rows])
    y = np.array([r.catch_m_to_go if r.caught else np.nan for r in rows], dtype=float)
    names = list(analysis.names)
    names += sorted({r.caught_by for r in rows if r.caught and r.caught_by not in names})
    style = rider_colors(names)
    top = float(np.nanmax(y)) if np.isfinite(y).any() else 0.0
    top = max(top * 1.12, 60.0)
    # Replays without a catch go in their own band beyond the line (not on it, where they
    # would read as "caught at the line"), shaded and labelled "not caught".
    band_lo, band_hi, row_y = -0.15 * top, -0.03 * top, -0.09 * top
    ax.set_ylim(band_lo - 0.01 * top, top)
    ax.axhline(0.0, color=CRITICAL_COLOR, linewidth=2.0, zorder=2)
    crit_h = critical.hesitation_s if critical is not None else None
    line_h, line_y = h[np.isfinite(y)], y[np.isfinite(y)]
    if crit_h is not None:  # the catch curve reaches the line at the critical hesitation
        k = int(np.searchsorted(line_h, crit_h))
        line_h, line_y = np.insert(line_h, k, crit_h), np.insert(line_y, k, 0.0)
    ax.plot(line_h, line_y, color="#999999", linewidth=1.2, zorder=2)
    by = [r.caught_by for r in rows if r.caught]
    for who in sorted(set(by), key=names.index):
        sel = [i for i, r in enumerate(rows) if r.caught and r.caught_by == who]
        ax.plot(
            h[sel], y[sel], "o", color=style[who][0], markersize=6, zorder=3,
            label=f"caught by {who}",
        )  # fmt: skip
    free = [i for i, r in enumerate(rows) if not r.caught]
    if free:
        ax.axhspan(band_lo, band_hi, color="#f0f0f0", linewidth=0, zorder=0)
        ax.plot(
            h[free], np.full(len(free), row_y), "o", markerfacecolor="white",
            markeredgecolor=NOT_CAUGHT_COLOR, markeredgewidth=1.5, markersize=6, zorder=4,
            label="not caught before the line",
        )  # fmt: skip
        ax.annotate(
            "not caught", (1.0, row_y), xycoords=("axes fraction", "data"), xytext=(2, 0),
            textcoords="offset points", ha="left", va="center", fontsize=8, color="#555555",
        )  # fmt: skip
    m_to_go_marks(ax, analysis.race_m, analysis.lap_m, analysis.pull_off_m_to_go, "y", finish=True)
    # The two hesitations that matter, labelled along the top: the left one's label to the
    # left of its line, the right one's to the right, so neither label crosses the other line
    # (nor the other label) however close they are.
    marks = []
    if crit_h is not None:
        marks.append((crit_h, f"critical: {crit_h:.2f} s", CRITICAL_COLOR, "-"))
    ref = analysis.reference_hesitation_s
    if ref is not None:
        marks.append((ref, f"real race: {ref:g} s", REFERENCE_COLOR, ":"))
    marks.sort(key=lambda m: m[0])
    x0, x1 = ax.get_xlim()
    for k, (x, label, color, ls) in enumerate(marks):
        for a in (ax, axm):
            a.axvline(x, color=color, linestyle=ls, linewidth=1.6, zorder=2)
        frac = (x - x0) / (x1 - x0) if x1 != x0 else 0.5
        # on the left of its line when there is a mark to its right, unless too near the edge
        # (then a row lower, so the two labels still never overlap)
        left = len(marks) == 2 and k == 0 and frac > 0.22
        row = 1 if len(marks) == 2 and k == 0 and not left else 0
        # a row lower and to the right of the other line, so that line does not cross it
        at = marks[1][0] if row == 1 else x
        ax.annotate(
            label, (at, 1.0), xycoords=("data", "axes fraction"),
            xytext=(-4 if left else 4, -4 - 14 * row), textcoords="offset points",
            ha="right" if left else "left", va="top", fontsize=9, color=color,
            fontweight="bold",
        )  # fmt: skip
    if band is not None and band.get("p5") is not None and band.get("p95") is not None:
        for a in (ax, axm):
            a.axvspan(band["p5"], band["p95"], color=CRITICAL_COLOR, alpha=0.10, linewidth=0,
                      zorder=0)  # fmt: skip
        ax.plot([], [], color=CRITICAL_COLOR, alpha=0.25, linewidth=8,
                label=f"critical, 90 % of {band['runs']} plausible races")  # fmt: skip
        if band.get("median") is not None:
            for a in (ax, axm):
                a.axvline(band["median"], color=CRITICAL_COLOR, linestyle="--", linewidth=1.0,
                          alpha=0.6, zorder=2)  # fmt: skip
    title = f"Where the field catches {analysis.attacker}, against its hesitation"
    style_axes(ax, title=title, ylabel="catch point (m to go)")
    # outside the lap-mark labels on the right (constrained layout keeps room for it)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", frameon=False,
               fontsize=9)  # fmt: skip
    told = sentence if sentence is not None else (critical.sentence if critical else "")
    if told:
        text = textwrap.fill(told, 88)
        ax.text(
            0.0, 1.02, text, transform=ax.transAxes, ha="left", va="bottom", fontsize=9.5,
            color="#333333",
        )  # fmt: skip
        pad = 8 + 13 * (text.count("\n") + 1)
        ax.set_title(title, loc="left", fontsize=12, fontweight="bold", pad=pad)
    m = np.array([r.margin_s for r in rows])
    axm.axhline(0.0, color="#555555", linewidth=1.0)
    axm.fill_between(h, m, 0.0, where=m >= 0, color=FREE_COLOR, alpha=0.25, linewidth=0,
                     interpolate=True, label="wins")  # fmt: skip
    axm.fill_between(h, m, 0.0, where=m < 0, color=CAUGHT_COLOR, alpha=0.25, linewidth=0,
                     interpolate=True, label="beaten")  # fmt: skip
    axm.plot(h, m, color="#333333", linewidth=1.4, marker=".", markersize=4)
    style_axes(
        axm,
        xlabel="the field's hesitation before the chase (s)",
        ylabel=f"{analysis.attacker}'s\nmargin (s)",
        legend="inside",
    )
    return fig


def _variant_styles(n: int) -> list[tuple[str, str]]:
    """Colour and line style per variant: both change, so lines that coincide stay visible."""
    return [(PALETTE[k % len(PALETTE)], ("-", "--", "-.", ":")[k % 4]) for k in range(n)]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _draw_variants(ax: Axes, comparison: VariantComparison) -> None:
    laps = comparison.race_m / comparison.lap_m
    styles = _variant_styles(len(comparison.rows))
    for (c, ls), row in zip(styles, comparison.rows, strict=True):
        label = f"{row.name}: {_ordinal(row.position)}, {row.margin_s:+.2f} s"
        ltg = np.asarray(row.lead_m_to_go) / comparison.lap_m
        ax.plot(ltg, row.lead_m, color=c, linestyle=ls, linewidth=2.0, label=label, alpha=0.9)
        if row.gap_over_laps:
            pts = np.array(row.gap_over_laps)
            ax.plot(pts[:, 0], pts[:, 1], "o", color=c, markersize=4)
    ax.axhline(0.0, color="#555555", linewidth=1.0, zorder=1)
    pull = comparison.pull_off_m_to_go / comparison.lap_m
    lap_axis(ax, laps, pull, start_laps=min(laps, pull + 1.0))
    style_axes(
        ax,
        title=f"{comparison.rider}: lead over the rest of the field, one line per tactic",
        ylabel="lead over the next rider (m)\n(below 0: behind the leader)",
        legend=True,
    )


@overload
def variants_chart(comparison: VariantComparison, ax: None = None) -> Figure: ...
@overload
def variants_chart(comparison: VariantComparison, ax: Axes) -> Axes: ...
def variants_chart(comparison: VariantComparison, ax: Axes | None = None) -> Figure | Axes:
    """The varied rider's lead over the rest of the field against laps to go (of the front of
    the race), one line per variant (dots at the lap marks; positive = ahead of everyone by,
    negative = behind the leader by); the legend gives each variant's finish and margin.
    Returns a new Figure, or draws into ``ax`` and returns it."""
    if ax is not None:
        _draw_variants(ax, comparison)
        return ax
    fig, ax = new_figure(figsize=(11.0, 5.0))
    _draw_variants(ax, comparison)
    return fig


def _draw_point_odds(ax: Axes, ax_m: Axes, odds: Sequence[Mapping[str, Any]], lap_m: float) -> None:
    """The attack-point sweep's odds over plausible races: the win probability at each point
    with its 95 % interval, and the margin's median and 5-95 % band on the margin axes."""
    rows = sorted(odds, key=lambda r: -r["m_to_go"])
    d = np.array([r["m_to_go"] for r in rows], dtype=float)
    p = np.array([100.0 * r["win_probability"] for r in rows])
    lo = np.array([100.0 * r["win_ci95"][0] for r in rows])
    hi = np.array([100.0 * r["win_ci95"][1] for r in rows])
    ax.fill_between(d, lo, hi, color=FREE_COLOR, alpha=0.2, linewidth=0, label="95 % interval")
    ax.plot(d, p, color=FREE_COLOR, linewidth=1.6, marker="o", markersize=3.5, label="wins")
    ax.set_ylim(0.0, 100.0)
    for x in (3, 2, 1):
        if d.min() <= x * lap_m <= d.max():
            ax.axvline(x * lap_m, color=MARK_COLOR, linestyle="--", linewidth=0.9)
    n = rows[0]["runs"] if rows else 0
    style_axes(ax, title=f"the same over {n} plausible races", ylabel="wins (%)", legend="inside")

    def q(key: str) -> np.ndarray:
        return np.array(
            [np.nan if r["margin_s"][key] is None else r["margin_s"][key] for r in rows]
        )

    ax_m.fill_between(d, q("p5"), q("p95"), color="#777777", alpha=0.15, linewidth=0,
                      label="5-95 % of plausible races")  # fmt: skip
    ax_m.plot(d, q("median"), color="#777777", linewidth=1.2, linestyle="--",
              label="median of plausible races")  # fmt: skip
    ax_m.legend(loc="best", fontsize=8, frameon=False)


def _draw_attack_sweep(ax_pos: Axes, ax_m: Axes, sweep: AttackPointSweep) -> None:
    rows = sorted(sweep.rows, key=lambda r: -r.m_to_go)
    d = np.array([r.m_to_go for r in rows])
    pos = np.array([r.position for r in rows])
    m = np.array([r.margin_s for r in rows])
    span = max(float(d.max() - d.min()), 50.0)
    for a in (ax_pos, ax_m):
        a.set_xlim(float(d.max()) + 0.04 * span, float(d.min()) - 0.04 * span)
    win = pos == 1
    ax_pos.plot(d, pos, color="#888888", linewidth=1.0, zorder=2)
    ax_pos.plot(d[win], pos[win], "o", color=FREE_COLOR, markersize=6, zorder=3, label="wins")
    ax_pos.plot(d[~win], pos[~win], "o", color=CAUGHT_COLOR, markersize=6, zorder=3,
                label="beaten")  # fmt: skip
    n = max(int(pos.max()), 2)
    ax_pos.set_ylim(n + 0.5, 0.5)
    ax_pos.set_yticks(range(1, n + 1))
    m_to_go_marks(ax_pos, sweep.race_m, sweep.lap_m, sweep.pull_off_m_to_go, "x")
    style_axes(
        ax_pos,
        title=f"{sweep.rider}: finish against the launch point (all out from there)",
        ylabel="finish position",
        legend="inside",
    )
    ax_m.axhline(0.0, color="#555555", linewidth=1.0)
    ax_m.fill_between(d, m, 0.0, where=m >= 0, color=FREE_COLOR, alpha=0.25, linewidth=0,
                      interpolate=True)  # fmt: skip
    ax_m.fill_between(d, m, 0.0, where=m < 0, color=CAUGHT_COLOR, alpha=0.25, linewidth=0,
                      interpolate=True)  # fmt: skip
    ax_m.plot(d, m, color="#333333", linewidth=1.4, marker="o", markersize=3.5)
    for x in (3, 2, 1):
        if d.min() <= x * sweep.lap_m <= d.max():
            ax_m.axvline(x * sweep.lap_m, color=MARK_COLOR, linestyle="--", linewidth=0.9)
    style_axes(
        ax_m,
        xlabel="launch point (m to go)",
        ylabel="margin (s)\n(+ won by, - behind)",
    )


def attack_point_chart(sweep: AttackPointSweep) -> Figure:
    """Finish position (top) and signed margin (bottom) of one rider against the distance to
    go at which he launches (early launches on the left), with the lap marks."""
    fig, (a, b) = new_figure(2, 1, figsize=(10.0, 6.5), sharex=True, height_ratios=(1.0, 1.2))
    _draw_attack_sweep(a, b, sweep)
    return fig


def _draw_odds(ax: Axes, comparison: VariantComparison, odds: Sequence[Mapping[str, Any]]) -> None:
    """Each variant's win probability over plausible races (95 % interval), its margin below."""
    styles = _variant_styles(len(odds))
    y = np.arange(len(odds))[::-1]
    for (c, _), row, k in zip(styles, odds, y, strict=True):
        p = 100.0 * row["win_probability"]
        lo, hi = (100.0 * v for v in row["win_ci95"])
        ax.barh(k, p, height=0.6, color=c, alpha=0.85)
        ax.errorbar(p, k, xerr=[[p - lo], [hi - p]], fmt="none", ecolor="#222222", capsize=3)
        m = row["margin_s"]
        text = f"{p:.0f} % ({lo:.0f}-{hi:.0f} %)"
        if m.get("median") is not None:
            text += f"; margin {m['median']:+.2f} s ({m['p5']:+.2f} to {m['p95']:+.2f})"
        ax.text(hi + 1.5, k, text, va="center", fontsize=8.5)
    ax.set_yticks(y, labels=[row["variant"] for row in odds])
    ax.set_xlim(0.0, 135.0)
    ax.set_xticks(range(0, 101, 20))
    runs = odds[0]["runs"] if odds else 0
    style_axes(
        ax,
        title=f"{comparison.rider}'s odds with each tactic over {runs} plausible races",
        xlabel="wins (%), bars: 95 % interval; margin: median (5-95 %)",
    )


def compare_chart(
    comparison: VariantComparison,
    sweep: AttackPointSweep | None = None,
    odds: Sequence[Mapping[str, Any]] | None = None,
    point_odds: Sequence[Mapping[str, Any]] | None = None,
) -> Figure:
    """``keirin-sim compare``'s chart: :func:`variants_chart`; below it, with ``odds`` (the
    ``to_dict()`` of each :class:`keirin_sim.questions.bands.VariantBand`, ``compare --runs``), each
    variant's win probability and margin over plausible races; then the
    :func:`attack_point_chart` panels when a sweep is given, with ``point_odds`` (each
    :class:`keirin_sim.questions.bands.AttackPointBand`'s ``to_dict()``) a panel of the win
    probability at each point and the margin's band over the same races."""
    if sweep is None and not odds:
        return variants_chart(comparison)
    with_points = sweep is not None and bool(point_odds)
    heights = [1.0, *([0.5] if odds else []), *([1.1] if sweep is not None else [])]
    if with_points:
        heights[-1] = 1.6
    size = 5.0 + (3.0 if odds else 0.0) + (6.0 if sweep is not None else 0.0)
    size += 3.0 if with_points else 0.0
    fig = KeirinFigure(figsize=(11.0, size), layout="constrained")
    parts = list(np.atleast_1d(fig.subfigures(len(heights), 1, height_ratios=heights)))
    _draw_variants(parts.pop(0).subplots(), comparison)
    if odds:
        _draw_odds(parts.pop(0).subplots(), comparison, odds)
    if sweep is not None:
        ratios = [1.0, 0.9, 1.2] if with_points else [1.0, 1.2]
        axes = parts.pop(0).subplots(len(ratios), 1, sharex=True, height_ratios=ratios)
        _draw_attack_sweep(axes[0], axes[-1], sweep)
        if with_points:
            _draw_point_odds(axes[1], axes[-1], point_odds, sweep.lap_m)
    return fig
