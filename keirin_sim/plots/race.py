"""Charts of one race: the gaps behind the leader and speed, power and W' balance."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, overload

import numpy as np
from matplotlib.figure import Figure

from keirin_sim.plots.style import (
    check_riders,
    new_figure,
    race_axis,
    rider_colors,
    rider_label,
    style_axes,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from keirin_sim.results.result import Result


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


@overload
def gap_over_laps(
    result: Result, units: str = "m", ax: None = None, riders: Iterable[str] | None = None
) -> Figure: ...
@overload
def gap_over_laps(
    result: Result, units: str, ax: Axes, riders: Iterable[str] | None = None
) -> Axes: ...
@overload
def gap_over_laps(
    result: Result, units: str = "m", *, ax: Axes, riders: Iterable[str] | None = None
) -> Axes: ...
def gap_over_laps(
    result: Result,
    units: str = "m",
    ax: Axes | None = None,
    riders: Iterable[str] | None = None,
) -> Figure | Axes:
    """Each rider's gap behind the race leader against laps to go (see :func:`gap_series`):
    the leader runs along 0 at the top, riders further back lie lower.  ``units`` "m" or "s";
    ``riders`` limits the lines drawn (gaps are still to the leader of the whole race).
    Returns a new Figure, or draws into ``ax`` and returns it."""
    names = check_riders(result, riders)
    ltg, gaps = gap_series(result, units)
    given = ax is not None
    if ax is None:
        fig, ax = new_figure()
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
    return ax if given else fig


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
