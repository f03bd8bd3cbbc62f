"""Charts of a time trial (:mod:`keirin_sim.engine.timetrial`): speed, power and cadence against the
distance from the timed start."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from keirin_sim.engine.timetrial import DIVE_M, EVENTS
from keirin_sim.files import write_atomically
from keirin_sim.plots.style import (
    DERNY_SHADE,
    DPI,
    FORMATS,
    MARK_COLOR,
    PALETTE,
    PULL_OFF_COLOR,
    new_figure,
    style_axes,
)

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.engine.timetrial import TimeTrial


def _title(tt: TimeTrial) -> str:
    ev = EVENTS[tt.event]
    start = "flying" if ev.flying else "standing"
    return f"{tt.event} ({start} {ev.distance_m:g} m) in {tt.time_s:.3f} s"


def time_trial_chart(tt: TimeTrial) -> Figure:
    """Speed of the centre of mass (km/h), power at the pedals (W) and cadence (rpm) against
    the distance from the timed start (m), one panel each.  The timed start (0) and the finish
    are solid lines, the splits dashed; a flying event's wind-up (negative distances) is shaded,
    its launch point (where the rider goes all out) and the dive off the banking (the step in
    speed) dotted."""
    if len(tt.distance_m) == 0:
        raise ValueError("the time trial has no traces: ride(..., traces=True)")
    ev = EVENTS[tt.event]
    fig, axes = new_figure(3, 1, figsize=(10.0, 8.0), sharex=True, height_ratios=(1.0, 1.0, 0.7))
    x = np.asarray(tt.distance_m, dtype=float)
    keep = x <= ev.distance_m + 1e-9
    x = x[keep]
    color = PALETTE[0]
    axes[0].plot(x, np.asarray(tt.speed_kmh)[keep], color=color, linewidth=1.6)
    axes[1].plot(x, np.asarray(tt.power_w)[keep], color=PALETTE[1], linewidth=1.6)
    axes[2].plot(x, np.asarray(tt.cadence_rpm)[keep], color=PALETTE[2], linewidth=1.6)
    left = min(float(x[0]), 0.0)
    marks = {0.0: "timed start", float(ev.distance_m): f"finish {tt.time_s:.3f} s"}
    for m, s in zip(tt.split_m[:-1], tt.splits_s[:-1], strict=True):
        marks[float(m)] = f"{m:g} m {s:.3f} s"
    dotted = set()
    if ev.flying:
        launch = None if tt.launch_m is None else -float(tt.launch_m)
        for m, name in ((launch, "launch"), (-DIVE_M, "dive")):
            if m is not None and left < m < 0.0:
                marks[m] = name
                dotted.add(m)
    for ax in axes:
        if ev.flying and left < 0.0:
            ax.axvspan(left, 0.0, color=DERNY_SHADE, zorder=0, linewidth=0)
        for m in marks:
            solid = m in (0.0, float(ev.distance_m))
            ax.axvline(
                m,
                color=PULL_OFF_COLOR if solid else MARK_COLOR,
                linestyle="-" if solid else (":" if m in dotted else "--"),
                linewidth=1.3 if solid else 0.9,
                zorder=1,
            )
        ax.set_xlim(left, float(ev.distance_m))
    if ev.flying and left < 0.0:
        axes[0].text(
            left + 0.01 * (ev.distance_m - left),
            0.95,
            "wind-up (not timed)",
            transform=axes[0].get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=8,
            color="#666666",
        )
    top = axes[0].secondary_xaxis("top")
    pos = sorted(marks)
    top.set_xticks(pos, labels=[marks[p] for p in pos], fontsize=8)
    top.tick_params(length=0, pad=2, colors="#555555")
    for s in top.spines.values():
        s.set_visible(False)
    axes[1].set_ylim(bottom=0.0)
    style_axes(axes[0], title=_title(tt), ylabel="speed (km/h)")
    style_axes(axes[1], ylabel="power (W)")
    style_axes(axes[2], xlabel="distance from the timed start (m)", ylabel="cadence (rpm)")
    return fig


def plot_time_trial(tt: TimeTrial, path: str | os.PathLike[str], key: str = "output") -> Path:
    """Write :func:`time_trial_chart` of ``tt`` to ``path`` (PNG, SVG or PDF by extension,
    ``ValueError`` for any other) atomically, as :func:`~keirin_sim.plots.style.save` does;
    ``key`` names the output in the one-line :class:`~keirin_sim.files.OutputError`."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot write {p.suffix or 'a file without extension'!r}: use {', '.join(FORMATS)}"
        )
    fig = time_trial_chart(tt)
    return write_atomically(p, lambda tmp: fig.savefig(tmp, format=fmt, dpi=DPI), key)


__all__ = ["plot_time_trial", "time_trial_chart"]
