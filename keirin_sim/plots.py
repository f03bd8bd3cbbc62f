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


# --- Monte Carlo charts ---
