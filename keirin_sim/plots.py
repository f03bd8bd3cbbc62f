"""Every chart keirin-sim draws, in one consistent style.

All charts share:

- ``x`` = **laps to go**, decreasing from the start (left) to 0 at the finish (right), see
  :func:`lap_axis`: a light line at every lap, dashed marks at 3 and 2 laps to go and at the
  bell (1 lap to go) labelled along the top, the derny phase shaded and the pull-off marked;
- one colour per rider, fixed by start position (:func:`rider_colors`), and legends that name
  the riders;
- titles and axis labels with units (:func:`style_axes`).

Figures are plain :class:`matplotlib.figure.Figure` objects made without pyplot (no global
state, nothing to close); they show themselves in a notebook.  :func:`save` writes PNG, SVG or
PDF, chosen by the file's extension, atomically.

Adding a chart: write ``def my_chart(...) -> Figure`` in the marked section at the end, start
it with :func:`new_figure`, call :func:`lap_axis` (when x is laps to go) and :func:`style_axes`
on each axes, and return the figure.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from .results import Result

#: File formats :func:`save` writes, by extension.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Default figure size (inches) and resolution of PNG files (dots per inch).
FIGSIZE = (10.0, 5.0)
DPI = 130
#: Rider colours in start order (matplotlib's tab10 without its grey, which reads as "neutral").
PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
)
#: Line styles cycled for fields larger than the palette.
LINESTYLES = ("-", "--", ":", "-.")
DERNY_SHADE = "#e8e8e8"
MARK_COLOR = "#777777"
PULL_OFF_COLOR = "#444444"


class KeirinFigure(Figure):
    """A Figure that renders itself as PNG in Jupyter even when pyplot is not imported."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


# --- style helpers (reused by every chart) -------------------------------------------------
def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    figsize: tuple[float, float] | None = None,
    sharex: bool = False,
    height_ratios: Sequence[float] | None = None,
) -> tuple[Figure, Any]:
    """A figure with a grid of axes (constrained layout).  Returns ``(fig, axes)`` with axes as
    from :meth:`Figure.subplots` (one Axes, or an array of them)."""
    fig = KeirinFigure(figsize=figsize or FIGSIZE, layout="constrained")
    gs = {"height_ratios": list(height_ratios)} if height_ratios else None
    axes = fig.subplots(nrows, ncols, sharex=sharex, squeeze=True, gridspec_kw=gs)
    return fig, axes


def rider_colors(names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``{rider: (colour, linestyle)}`` by start position: the same rider looks the same in
    every chart of one race."""
    out = {}
    for k, name in enumerate(names):
        out[name] = (PALETTE[k % len(PALETTE)], LINESTYLES[(k // len(PALETTE)) % len(LINESTYLES)])
    return out


def rider_label(result: Result, name: str) -> str:
    """Legend label: the finishing position and the name, e.g. ``"1 Jason Kenny"``."""
    try:
        return f"{result.finish_order.index(name) + 1} {name}"
    except ValueError:
        return name


def style_axes(
    ax: Axes,
    *,
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    legend: bool | str = False,
) -> None:
    """Titles, labels (give the units: ``"gap (m)"``), a light grid, no top/right spines.

    ``legend``: ``False`` none; ``True`` or ``"outside"`` a legend right of the axes (room
    for nine riders' names without covering data); ``"inside"`` the best spot inside.
    """
    if title:
        ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines["right"].set_visible(False)
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            if legend == "inside":
                ax.legend(frameon=False, fontsize=9)
            else:
                ax.legend(
                    loc="upper left",
                    bbox_to_anchor=(1.01, 1.0),
                    frameon=False,
                    fontsize=9,
                    borderaxespad=0.0,
                )


def lap_axis(
    ax: Axes,
    laps: float,
    pull_off_laps: float | None = None,
    *,
    top_labels: bool = True,
    xlabel: str | None = "laps to go",
    start_laps: float | None = None,
) -> None:
    """Make ``x`` = laps to go: from ``start_laps`` (default ``laps``) at the left to 0 at the
    finish; a light line at every lap; dashed marks at 3 and 2 laps to go and at the bell
    (1 lap to go), labelled along the top when ``top_labels``; the derny phase (before
    ``pull_off_laps`` laps to go) shaded and the pull-off drawn as a solid line.

    Works from numbers only, so charts without a :class:`~keirin_sim.results.Result` (Monte
    Carlo summaries) can use it; :func:`race_axis` takes them from a result.
    """
    left = float(laps if start_laps is None else start_laps)
    ax.set_xlim(left, 0.0)
    whole = list(range(int(math.floor(left)), -1, -1))
    ax.set_xticks(whole)
    for k in whole[1:-1] if len(whole) > 2 else []:
        ax.axvline(k, color="#eeeeee", linewidth=0.8, zorder=0)
    marks: dict[float, list[str]] = {}
    for k, name in ((3, "3 to go"), (2, "2 to go"), (1, "bell")):
        if k < left:
            ax.axvline(k, color=MARK_COLOR, linestyle="--", linewidth=0.9, zorder=1)
            marks.setdefault(float(k), []).append(name)
    if pull_off_laps is not None and 0 < pull_off_laps < left:
        ax.axvspan(left, pull_off_laps, color=DERNY_SHADE, zorder=0, linewidth=0)
        ax.axvline(pull_off_laps, color=PULL_OFF_COLOR, linewidth=1.4, zorder=1)
        if top_labels:
            ax.text(
                (left + pull_off_laps) / 2.0,
                0.02,
                "behind the derny",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=8,
                color="#666666",
            )
        key = next((m for m in marks if abs(m - pull_off_laps) < 0.02), float(pull_off_laps))
        marks.setdefault(key, []).append("derny off")
    if top_labels and marks:
        top = ax.secondary_xaxis("top")
        pos = sorted(marks, reverse=True)
        top.set_xticks(pos, labels=[" / ".join(marks[p]) for p in pos], fontsize=8)
        top.tick_params(length=0, pad=2, colors="#555555")
        top.spines["top"].set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel)


def race_axis(ax: Axes, result: Result, *, top_labels: bool = True) -> None:
    """:func:`lap_axis` for one race: its laps and its derny pull-off."""
    lap_axis(
        ax,
        result.race_m / result.lap_m,
        result.pull_off_m_to_go / result.lap_m,
        top_labels=top_labels,
    )


def check_riders(result: Result, riders: Iterable[str] | None) -> list[str]:
    """The riders to draw, in start order (all when ``riders`` is None); ``ValueError`` naming
    the first unknown rider."""
    if riders is None:
        return list(result.names)
    wanted = list(riders)
    for r in wanted:
        if r not in result.names:
            raise ValueError(f"no rider named {r!r} (riders: {', '.join(result.names)})")
    if not wanted:
        raise ValueError("no riders chosen")
    return [r for r in result.names if r in wanted]


def _need_traces(result: Result) -> None:
    if result.traces is None:
        raise ValueError("the result has no traces: run simulate(..., traces=True)")


def rider_paths(result: Result) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each rider's ``(t_s, x_m)`` from the traces, strictly increasing in distance and
    ending exactly on the line at the finish time."""
    _need_traces(result)
    tr = result.traces
    out = {}
    for i, name in enumerate(tr.names):
        t = np.asarray(tr.t, dtype=float)
        x = np.asarray(tr.x_m[:, i], dtype=float)
        tf = result.finish_times.get(name, math.nan)
        keep = x < result.race_m
        if math.isfinite(tf):
            keep &= t < tf
        t, x = t[keep], x[keep]
        if math.isfinite(tf):
            t = np.append(t, tf)
            x = np.append(x, result.race_m)
        inc = np.concatenate(([True], np.diff(x) > 0))  # a stationary rider has no new points
        out[name] = (t[inc], x[inc])
    return out


def gap_series(
    result: Result, units: str = "m", n: int = 601
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Gaps behind the race leader along the race, on ``n`` points from the start line to the
    finish: ``(laps_to_go, {rider: gap})``.

    At each point ``d`` of the track the leader is the first rider to reach it.  ``units="m"``:
    metres each rider is behind that leader at that instant; ``units="s"``: how much later the
    rider reaches ``d``.  At whole laps these equal ``result.lap_gaps``; at 0 laps to go the
    time gaps are the finishing margins.
    """
    if units not in ("m", "s"):
        raise ValueError(f"units must be 'm' or 's', got {units!r}")
    paths = rider_paths(result)
    d = np.linspace(0.0, result.race_m, n)
    t_at = {r: np.interp(d, x, t, left=np.nan, right=np.nan) for r, (t, x) in paths.items()}
    t_lead = np.nanmin(np.vstack(list(t_at.values())), axis=0)
    gaps = {}
    for r, (t, x) in paths.items():
        if units == "s":
            gaps[r] = t_at[r] - t_lead
        else:
            gaps[r] = d - np.interp(t_lead, t, x)
    return (result.race_m - d) / result.lap_m, gaps


def gap_over_laps(
    result: Result,
    units: str = "m",
    ax: Axes | None = None,
    riders: Iterable[str] | None = None,
) -> Figure:
    """Each rider's gap behind the race leader against laps to go (see :func:`gap_series`):
    the leader runs along 0 at the top, riders further back lie lower.  ``units`` "m" or "s";
    ``riders`` limits the lines drawn (gaps are still to the leader of the whole race)."""
    names = check_riders(result, riders)
    ltg, gaps = gap_series(result, units)
    if ax is None:
        fig, ax = new_figure()
    else:
        fig = ax.figure
    style = rider_colors(result.names)
    order = sorted(names, key=lambda r: result.finish_order.index(r))
    for r in order:
        c, ls = style[r]
        ax.plot(ltg, gaps[r], color=c, linestyle=ls, linewidth=1.8, label=rider_label(result, r))
    top = max(float(np.nanmax(gaps[r])) for r in order) if order else 1.0
    top = max(top, 0.5 if units == "s" else 5.0)
    ax.set_ylim(top * 1.06, -top * 0.04)  # inverted: behind = below
    race_axis(ax, result)
    unit = "metres" if units == "m" else "seconds"
    sym = "m" if units == "m" else "s"
    style_axes(
        ax,
        title=f"{result.scenario}: gap behind the leader ({unit})",
        ylabel=f"gap behind the leader ({sym})",
        legend=True,
    )
    return fig


def speed_power(result: Result, riders: Iterable[str] | None = None) -> Figure:
    """Speed (km/h), power at the pedals (W) and W' balance (kJ) against laps to go, one
    panel each, for ``riders`` (default: the first three finishers)."""
    _need_traces(result)
    names = check_riders(result, result.finish_order[:3] if riders is None else riders)
    fig, axes = new_figure(3, 1, figsize=(10.0, 8.5), sharex=True, height_ratios=(1.0, 1.0, 0.8))
    tr = result.traces
    style = rider_colors(result.names)
    order = sorted(names, key=lambda r: result.finish_order.index(r))
    laps = result.race_m / result.lap_m
    for r in order:
        i = tr.names.index(r)
        x = tr.x_m[:, i]
        keep = x < result.race_m
        ltg = (result.race_m - x[keep]) / result.lap_m
        c, ls = style[r]
        kw = {"color": c, "linestyle": ls, "linewidth": 1.5, "label": rider_label(result, r)}
        axes[0].plot(ltg, tr.v_ms[keep, i] * 3.6, **kw)
        axes[1].plot(ltg, tr.power_w[keep, i], **kw)
        axes[2].plot(ltg, tr.w_bal_j[keep, i] / 1000.0, **kw)
    for k, ax in enumerate(axes):
        race_axis(ax, result, top_labels=k == 0)
        ax.set_xlim(laps, 0.0)
        if k < 2:
            ax.set_xlabel("")
    axes[1].set_ylim(bottom=0.0)
    axes[2].set_ylim(bottom=0.0)
    style_axes(
        axes[0],
        title=f"{result.scenario}: speed, power and W' balance",
        ylabel="speed (km/h)",
        legend=True,
    )
    style_axes(axes[1], ylabel="power (W)")
    style_axes(axes[2], ylabel="W' balance (kJ)")
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG, SVG or PDF, chosen by the extension of ``path``; ``ValueError`` for
    any other extension.  The file appears complete or not at all (written to a temporary
    file in the same directory, then renamed)."""
    from .cli import write_atomically

    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot write {p.suffix or 'a file without extension'!r}: use {', '.join(FORMATS)}"
        )
    write_atomically(p, lambda tmp: fig.savefig(tmp, format=fmt, dpi=DPI))
    return p


# --- analysis charts ---
# Charts of keirin_sim.analysis: the catch against the hesitation, the variants' lead over
# laps, the attack-point sweep.
if TYPE_CHECKING:  # pragma: no cover
    from .analysis import AttackPointSweep, CatchAnalysis, CriticalHesitation, VariantComparison

#: Colours of the analysis charts: caught / not caught, the critical and the real hesitation.
CAUGHT_COLOR = "#d62728"
FREE_COLOR = "#2ca02c"
NOT_CAUGHT_COLOR = "#333333"
CRITICAL_COLOR = "#111111"
REFERENCE_COLOR = "#1f77b4"


def _m_to_go_marks(
    ax: Axes, race_m: float, lap_m: float, pull_off_m: float, axis: str, finish: bool = False
) -> None:
    """Lap marks on a metres-to-go axis (``axis`` "x" or "y"): dashed lines at 3 and 2 laps to
    go and the bell, the derny's pull-off solid, labelled on the opposite side (with the
    finish line at 0 when ``finish``; its line is the caller's)."""
    line = ax.axhline if axis == "y" else ax.axvline
    marks: dict[float, list[str]] = {0.0: ["finish line"]} if finish else {}
    for k, name in ((3, "3 to go"), (2, "2 to go"), (1, "bell")):
        if k * lap_m < race_m:
            marks.setdefault(k * lap_m, []).append(name)
    if 0 < pull_off_m < race_m:
        key = next((m for m in marks if abs(m - pull_off_m) < 0.5), pull_off_m)
        marks.setdefault(key, []).append("derny off")
    lo, hi = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    shown = {m: v for m, v in marks.items() if lo <= m <= hi}
    for m, names in shown.items():
        if m == 0.0 and finish:
            continue
        derny = "derny off" in names
        line(
            m,
            color=PULL_OFF_COLOR if derny else MARK_COLOR,
            linestyle="-" if derny else "--",
            linewidth=1.2 if derny else 0.9,
            zorder=1,
        )
    if not shown:
        return
    pos = sorted(shown)
    labels = [" / ".join(shown[p]) for p in pos]
    if axis == "y":
        sec = ax.secondary_yaxis("right")
        sec.set_yticks(pos, labels=labels, fontsize=8)
    else:
        sec = ax.secondary_xaxis("top")
        sec.set_xticks(pos, labels=labels, fontsize=8)
    sec.tick_params(length=0, pad=2, colors="#555555")
    for s in sec.spines.values():
        s.set_visible(False)


def catch_chart(analysis: CatchAnalysis, critical: CriticalHesitation | None = None) -> Figure:
    """Where the field catches the attacker, against its hesitation (top), and the attacker's
    margin (bottom).

    Top: the catch point in metres to go (higher = caught earlier), one marker per replay,
    coloured by the rider who made the catch; replays where he is not caught sit on the finish
    line as open markers.  The critical hesitation (the catch falls on the line) and the real
    race's hesitation are marked; the lap marks are labelled on the right.  Bottom: his signed
    margin (positive = won by, negative = behind the winner).
    """
    import textwrap

    rows = sorted(analysis.rows, key=lambda r: r.hesitation_s)
    fig, (ax, axm) = new_figure(2, 1, figsize=(10.0, 7.0), sharex=True, height_ratios=(2.3, 1.0))
    h = np.array([r.hesitation_s for r in rows])
    y = np.array([r.catch_m_to_go if r.caught else np.nan for r in rows], dtype=float)
    names = list(analysis.names)
    names += sorted({r.caught_by for r in rows if r.caught and r.caught_by not in names})
    style = rider_colors(names)
    ax.axhline(0.0, color=CRITICAL_COLOR, linewidth=2.0, zorder=2)
    ax.plot(h, np.where(np.isnan(y), 0.0, y), color="#999999", linewidth=1.2, zorder=2)
    by = [r.caught_by for r in rows if r.caught]
    for who in sorted(set(by), key=names.index):
        sel = [i for i, r in enumerate(rows) if r.caught and r.caught_by == who]
        ax.plot(
            h[sel], y[sel], "o", color=style[who][0], markersize=6, zorder=3,
            label=f"caught by {who}",
        )  # fmt: skip
    free = [i for i, r in enumerate(rows) if not r.caught]
    if free:
        ax.plot(
            h[free], np.zeros(len(free)), "o", markerfacecolor="white",
            markeredgecolor=NOT_CAUGHT_COLOR,
            markeredgewidth=1.5, markersize=6, zorder=4, label="not caught before the line",
        )  # fmt: skip
    top = float(np.nanmax(y)) if np.isfinite(y).any() else 0.0
    top = max(top * 1.12, 60.0)
    ax.set_ylim(-0.06 * top, top)
    _m_to_go_marks(ax, analysis.race_m, analysis.lap_m, analysis.pull_off_m_to_go, "y", finish=True)
    # the two hesitations that matter
    marks = []
    if critical is not None and critical.hesitation_s is not None:
        marks.append((critical.hesitation_s, f"critical: {critical.hesitation_s:.2f} s",
                      CRITICAL_COLOR, "-"))  # fmt: skip
    ref = analysis.reference_hesitation_s
    if ref is not None:
        marks.append((ref, f"real race: {ref:g} s", REFERENCE_COLOR, ":"))
    for k, (x, label, color, ls) in enumerate(marks):
        for a in (ax, axm):
            a.axvline(x, color=color, linestyle=ls, linewidth=1.6, zorder=2)
        ax.annotate(
            label, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -4 - 14 * k),
            textcoords="offset points", ha="left", va="top", fontsize=9, color=color,
            fontweight="bold",
        )  # fmt: skip
    title = f"Where the field catches {analysis.attacker}, against its hesitation"
    style_axes(ax, title=title, ylabel="catch point (m to go)")
    # outside the lap-mark labels on the right (constrained layout keeps room for it)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", frameon=False,
               fontsize=9)  # fmt: skip
    if critical is not None and critical.sentence:
        text = textwrap.fill(critical.sentence, 88)
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


def variants_chart(comparison: VariantComparison) -> Figure:
    """The varied rider's lead over the rest of the field against laps to go (of the front of
    the race), one line per variant (dots at the lap marks; positive = ahead of everyone by,
    negative = behind the leader by); the legend gives each variant's finish and margin."""
    fig, ax = new_figure(figsize=(11.0, 5.0))
    _draw_variants(ax, comparison)
    return fig


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
    _m_to_go_marks(ax_pos, sweep.race_m, sweep.lap_m, sweep.pull_off_m_to_go, "x")
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


def compare_chart(comparison: VariantComparison, sweep: AttackPointSweep | None = None) -> Figure:
    """``keirin-sim compare``'s chart: :func:`variants_chart`, with the
    :func:`attack_point_chart` panels below it when a sweep is given."""
    if sweep is None:
        return variants_chart(comparison)
    fig = KeirinFigure(figsize=(11.0, 11.0), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.0, 1.1))
    _draw_variants(top.subplots(), comparison)
    a, b = bottom.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.0, 1.2]})
    _draw_attack_sweep(a, b, sweep)
    return fig


# --- Monte Carlo charts ---
# Charts of keirin_sim.montecarlo: a batch's summary and a sweep's win-probability heatmap.
if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .montecarlo import Summary

#: Colour of the catch-point and margin histograms.
MC_BAR_COLOR = "#4c72b0"


def _catch_panel(ax: Axes, summary: Summary) -> None:
    """Histogram of the attacker's catch points (metres to go, the finish on the right)."""
    s = summary
    runs = max(1, s.ok_runs)
    if s.attacker is None:
        ax.text(0.5, 0.5, "no attacker named", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    catch = np.asarray(s.catch_m_to_go, dtype=float)
    race_m = s.race_m or (float(catch.max()) if len(catch) else 1.0)
    lap_m = s.lap_m or 250.0
    edges = np.arange(0.0, race_m + lap_m / 10.0, lap_m / 10.0)
    counts, _ = np.histogram(catch, bins=edges)
    ax.bar(
        edges[:-1],
        100.0 * counts / runs,
        width=np.diff(edges),
        align="edge",
        color=MC_BAR_COLOR,
        edgecolor="white",
        linewidth=0.5,
    )
    top = s.pull_off_m_to_go or race_m
    left = max(top, float(catch.max()) if len(catch) else 0.0)
    ax.set_xlim(min(race_m, left + lap_m / 10.0), 0.0)
    if s.race_m and s.lap_m:
        _m_to_go_marks(ax, s.race_m, s.lap_m, s.pull_off_m_to_go or 0.0, "x")
    if len(catch):
        med = float(np.median(catch))
        ax.axvline(med, color="#222222", linewidth=1.2)
        ax.text(
            med,
            0.97,
            f" median {med:.0f} m",
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=8,
        )
    style_axes(
        ax,
        title=f"Where {s.attacker} is caught ({100.0 * s.caught / runs:.0f} % of races)",
        xlabel="catch point (m to go)",
        ylabel="races (%)",
    )


def mc_summary(summary: Summary) -> Figure:
    """A Monte Carlo batch (:class:`~keirin_sim.montecarlo.Summary`): each rider's win
    probability with its 95 % Wilson interval (left), where the attacker is caught, in metres
    to go with the lap marks (top right), and the winning margins (bottom right)."""
    s = summary
    fig = KeirinFigure(figsize=(12.0, 6.0), layout="constrained")
    gs = fig.add_gridspec(2, 2, width_ratios=(1.0, 1.25))
    ax_p = fig.add_subplot(gs[:, 0])
    ax_c = fig.add_subplot(gs[0, 1])
    ax_m = fig.add_subplot(gs[1, 1])
    colors = rider_colors(s.riders)
    p, ci = s.win_probability, s.ci95
    order = sorted(s.riders, key=lambda r: (p[r], -s.mean_position[r]))
    y = np.arange(len(order))
    vals = np.array([100.0 * p[r] for r in order])
    lo = np.array([100.0 * (p[r] - ci[r][0]) for r in order])
    hi = np.array([100.0 * (ci[r][1] - p[r]) for r in order])
    ax_p.barh(y, vals, color=[colors[r][0] for r in order], height=0.65)
    ax_p.errorbar(vals, y, xerr=[lo, hi], fmt="none", ecolor="#222222", capsize=3, linewidth=1)
    for k in range(len(order)):
        ax_p.text(
            vals[k] + hi[k] + 1.0,
            k,
            f"{vals[k]:.1f} %",
            va="center",
            fontsize=9,
        )
    ax_p.set_yticks(y, labels=[f"{r}\nmean pos {s.mean_position[r]:.2f}" for r in order])
    ax_p.set_xlim(0.0, min(100.0, max(10.0, float((vals + hi).max()) + 12.0)))
    style_axes(
        ax_p,
        title=f"{s.scenario or 'Monte Carlo'}: win probability",
        xlabel=f"wins in {s.ok_runs:,} races (%), bars: 95 % interval",
    )
    ax_p.grid(True, axis="x", color="#dddddd", linewidth=0.8)
    ax_p.grid(False, axis="y")
    _catch_panel(ax_c, s)
    m = np.asarray(s.winning_margin_s, dtype=float)
    if len(m):
        hi_m = max(0.05, float(np.quantile(m, 0.99)))
        ax_m.hist(
            np.minimum(m, hi_m),
            bins=np.linspace(0.0, hi_m, 31),
            weights=np.full(len(m), 100.0 / len(m)),
            color=MC_BAR_COLOR,
            edgecolor="white",
            linewidth=0.5,
        )
        med = float(np.median(m))
        ax_m.axvline(med, color="#222222", linewidth=1.2)
        ax_m.text(
            med,
            0.97,
            f" median {med:.3f} s",
            transform=ax_m.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=8,
        )
        ax_m.set_xlim(0.0, hi_m)
    style_axes(
        ax_m,
        title="Winning margin",
        xlabel="winner's margin over second (s; last bar: 99th percentile and above)",
        ylabel="races (%)",
    )
    return fig


def sweep_heatmap(
    data: pd.DataFrame,
    rider: str | None = None,
    params: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Win probability of ``rider`` over the swept parameters: a heatmap for two parameters
    (first on y, second on x; cells labelled in %), a line with its 95 % Wilson band for one.

    ``data``: the rows of :func:`~keirin_sim.montecarlo.sweep` (``winner`` and a column per
    parameter; ``rider`` defaults to ``df.attrs["attacker"]``), or its
    ``summary.grid_table()`` (columns ``rider``, ``runs``, ``wins`` and the parameters)."""
    from .montecarlo import wilson

    if rider is None:
        rider = data.attrs.get("attacker")
    if rider is None:
        raise ValueError("say whose win probability to draw: rider=...")
    if "wins" in data.columns and "rider" in data.columns:
        params = (
            list(params)
            if params is not None
            else [
                c
                for c in data.columns
                if c not in ("rider", "runs", "wins", "p", "ci_low", "ci_high")
            ]
        )
        t = data[data["rider"] == rider].groupby(params, sort=True)[["wins", "runs"]].sum()
    else:
        if params is None:
            params = list(data.attrs.get("params") or [])
        if not params:
            raise ValueError("say which swept parameters to draw: params=[...]")
        ok = data["error"].isna() if "error" in data.columns else np.ones(len(data), bool)
        d = data[ok].assign(wins=(data["winner"] == rider).astype(int), runs=1)
        t = d.groupby(list(params), sort=True)[["wins", "runs"]].sum()
    if len(params) not in (1, 2):
        raise ValueError(f"a heatmap draws one or two parameters, got {len(params)}")
    if t.empty:
        raise ValueError(f"no rows for {rider!r}")
    t = t.reset_index()
    t["p"] = t["wins"] / t["runs"]
    fig = ax.figure if ax is not None else new_figure(figsize=(9.0, 6.0))[0]
    if ax is None:
        ax = fig.axes[0]
    fmt = lambda v: f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v)  # noqa: E731
    runs = int(t["runs"].max())
    if len(params) == 1:
        (px,) = params
        xs = t[px].to_numpy()
        ci = np.array([wilson(int(k), int(n)) for k, n in zip(t["wins"], t["runs"], strict=True)])
        ax.fill_between(
            xs,
            100 * ci[:, 0],
            100 * ci[:, 1],
            color=MC_BAR_COLOR,
            alpha=0.2,
            linewidth=0,
            label="95 % interval",
        )
        ax.plot(xs, 100 * t["p"], color=MC_BAR_COLOR, marker="o", linewidth=1.8, label=rider)
        ax.set_ylim(0.0, 100.0)
        style_axes(
            ax,
            title=f"Win probability of {rider} ({runs:,} races per point)",
            xlabel=px,
            ylabel="win probability (%)",
            legend="inside",
        )
        return fig
    py, px = params
    xs = sorted(t[px].unique().tolist())
    ys = sorted(t[py].unique().tolist())
    grid = np.full((len(ys), len(xs)), np.nan)
    for _, row in t.iterrows():
        grid[ys.index(row[py]), xs.index(row[px])] = 100.0 * row["p"]
    im = ax.imshow(
        grid,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=0.0,
        vmax=100.0,
        interpolation="nearest",
    )
    ax.set_xticks(range(len(xs)), labels=[fmt(v) for v in xs])
    ax.set_yticks(range(len(ys)), labels=[fmt(v) for v in ys])
    if len(xs) > 12:
        ax.tick_params(axis="x", labelrotation=90)
    if len(xs) * len(ys) <= 400:
        for i in range(len(ys)):
            for j in range(len(xs)):
                v = grid[i, j]
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if v < 55 else "black",
                    )
    cb = fig.colorbar(im, ax=ax)
    cb.set_label("win probability (%)")
    style_axes(
        ax,
        title=f"Win probability of {rider} ({runs:,} races per point)",
        xlabel=px,
        ylabel=py,
    )
    ax.grid(False)
    return fig
