"""Charts of Monte Carlo batches (:mod:`keirin_sim.montecarlo`): a batch's summary and a
sweep's win-probability heatmap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, overload

import numpy as np
from matplotlib.figure import Figure

from keirin_sim.plots.style import (
    KeirinFigure,
    m_to_go_marks,
    new_figure,
    rider_colors,
    style_axes,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

    from keirin_sim.montecarlo import Summary

#: Colour of the catch-point and margin histograms.
MC_BAR_COLOR = "#4c72b0"

#: Axis labels, with units, of the rider and tactic fields a sweep can vary
#: (:data:`.checks.RIDER_BOUNDS` and :data:`.checks.TACTIC_BOUNDS`); :func:`param_label`
#: falls back to the raw field name.
PARAM_LABELS = {
    "mass_kg": "mass, rider and bike (kg)",
    "cda_m2": "drag area CdA (m²)",
    "crr": "rolling resistance Crr",
    "efficiency": "drivetrain efficiency",
    "development_m": "development (m per crank turn)",
    "pmax_w": "peak power (W)",
    "cadence_opt_rpm": "optimal cadence (rpm)",
    "cp_w": "critical power (W)",
    "w_prime_j": "W' (J)",
    "flying_200_s": "flying 200 m (s)",
    "launch_m_to_go": "launch point (m to go)",
    "wprime_factor": "W' spent on the launch (factor)",
    "attack_m_to_go": "attack point (m to go)",
    "hesitation_s": "hesitation (s)",
    "gap_trigger_m": "gap that triggers the chase (m)",
    "chase_effort": "chase effort (factor)",
    "cruise_kmh": "cruising speed (km/h)",
    "tempo_kmh": "tempo speed (km/h)",
    "follow_gap_m": "following gap (m)",
    "move_up_m_to_go": "move-up point (m to go)",
    "move_up_kmh": "move-up speed gain (km/h)",
    "let_gap_m": "gap let open (m)",
    "let_gap_at_m_to_go": "gap let open at (m to go)",
    "launch_spread_m": "spread of the launch point (m)",
    "reaction_s": "reaction time (s)",
    "takes_front": "readiness to take the front (probability)",
    "windup_kmh": "wind-up speed (km/h)",
    "windup_pace": "wind-up effort (share of power)",
    "tow_gap_m": "gap tolerated before chasing (m)",
    "jump_gap_m": "wheel gap jumped from (m)",
    "sit_off_m": "sits off the wheel before its launch (m)",
    "kick_share": "chance of a late kick (probability)",
    "kick_m_to_go": "late kick's launch point (m to go)",
    "high_share": "chance of watching high (probability)",
    "high_m": "height watched from (m up the banking)",
}


def param_label(path: str) -> str:
    """A readable axis label for a swept parameter's dotted path:
    ``"Jason Kenny.attack_m_to_go"`` -> ``"Jason Kenny: attack point (m to go)"``,
    ``"field.hesitation_s"`` -> ``"field: hesitation (s)"``; unknown fields keep their name."""
    head, _, fld = str(path).rpartition(".")
    label = PARAM_LABELS.get(fld, fld)
    return f"{head}: {label}" if head else label


def _wilson(k: np.ndarray, n: np.ndarray, z: float = 1.959963984540054) -> np.ndarray:
    """95 % Wilson score intervals, ``(len, 2)``, of ``k`` wins in ``n`` races (the formula of
    :func:`keirin_sim.montecarlo.wilson`, vectorised, so charts need no batch import)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        d = 1.0 + z * z / n
        c = (p + z * z / (2 * n)) / d
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
        lo = np.where(k <= 0, 0.0, np.maximum(0.0, c - h))
        hi = np.where(k >= n, 1.0, np.minimum(1.0, c + h))
    return np.column_stack([lo, hi])


def _pct(v: float) -> str:
    """A percentage for a cell: one decimal below 10 % (0.6, not 1), whole above."""
    return f"{v:.1f}" if abs(v) < 9.95 else f"{v:.0f}"


def _median_mark(ax: Axes, x: float, text: str) -> None:
    """A vertical line at the median ``x`` and its label at the top, written towards the wider
    side of the axes so it stays inside them (the limits must be set already; x may run
    either way)."""
    ax.axvline(x, color="#222222", linewidth=1.2)
    frac = float(ax.transLimits.transform((x, 0.0))[0])  # 0 left edge .. 1 right edge
    right = frac > 0.5
    ax.text(
        x,
        0.97,
        f"{text} " if right else f" {text}",
        transform=ax.get_xaxis_transform(),
        ha="right" if right else "left",
        va="top",
        fontsize=8,
        clip_on=False,
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1.0},
    )


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
        m_to_go_marks(ax, s.race_m, s.lap_m, s.pull_off_m_to_go or 0.0, "x")
    if len(catch):
        med = float(np.median(catch))
        _median_mark(ax, med, f"median {med:.0f} m")
    style_axes(
        ax,
        title=f"Where {s.attacker} is caught ({100.0 * s.caught / runs:.0f} % of races)",
        xlabel="catch point (m to go)",
        ylabel="races (%)",
    )


def mc_summary(summary: Summary) -> Figure:
    """A Monte Carlo batch (:class:`~keirin_sim.montecarlo.Summary`): each rider's win
    probability with its 95 % Wilson interval (left), where the attacker is caught, in metres
    to go with the lap marks (top right), the winning margins (middle right) and, when the rows
    tell how the races were won, the wins by start position and the winning moves (bottom)."""
    s = summary
    told = bool(s.told)
    fig = KeirinFigure(figsize=(12.0, 8.6 if told else 6.0), layout="constrained")
    gs = fig.add_gridspec(
        3 if told else 2, 2, width_ratios=(1.0, 1.25), height_ratios=(1, 1, 0.9) if told else None
    )
    ax_p = fig.add_subplot(gs[0:2, 0])
    ax_c = fig.add_subplot(gs[0, 1])
    ax_m = fig.add_subplot(gs[1, 1])
    if told:
        _start_panel(fig.add_subplot(gs[2, 0]), s)
        _moves_panel(fig.add_subplot(gs[2, 1]), s)
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
        ax_m.set_xlim(0.0, hi_m)
        med = float(np.median(m))
        _median_mark(ax_m, med, f"median {med:.3f} s")
    style_axes(
        ax_m,
        title="Winning margin",
        xlabel="winner's margin over second (s; last bar: 99th percentile and above)",
        ylabel="races (%)",
    )
    return fig


def _start_panel(ax: Axes, s: Summary) -> None:
    """Win probability from each start position behind the derny."""
    pos = s.by_start_position
    x = np.array(list(pos), dtype=float)
    v = np.array([100.0 * p for p in pos.values()])
    ax.bar(x, v, color=MC_BAR_COLOR, width=0.7)
    for xi, vi in zip(x, v, strict=True):
        ax.text(xi, vi + 1.0, f"{vi:.0f} %", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, labels=[str(int(k)) for k in x])
    ax.set_ylim(0.0, min(100.0, max(10.0, float(v.max()) + 12.0)))
    style_axes(
        ax, title="Wins by start position", xlabel="start position behind the derny", ylabel="%"
    )


def _moves_panel(ax: Axes, s: Summary) -> None:
    """Share of the races won from the front, round the outside and late in the straight, with
    the leader at the bell's record and the winner's last 200 m."""
    share = s.winning_move_share
    labels = [m.replace("_", " ") for m in share]
    v = np.array([100.0 * p for p in share.values()])
    y = np.arange(len(v))[::-1]
    ax.barh(y, v, color=MC_BAR_COLOR, height=0.6)
    for yi, vi in zip(y, v, strict=True):
        ax.text(vi + 1.0, yi, f"{vi:.0f} %", va="center", fontsize=9)
    ax.set_yticks(y, labels=labels)
    ax.set_xlim(0.0, min(100.0, max(10.0, float(v.max()) + 15.0)))
    notes = [f"the leader at the bell won {100.0 * s.bell_leader_win_share:.0f} %"]
    if len(s.winner_last_200m_s):
        lo, med, hi = np.quantile(s.winner_last_200m_s, [0.1, 0.5, 0.9])
        notes.append(f"winner's last 200 m: median {med:.2f} s (10-90 %: {lo:.2f}-{hi:.2f} s)")
    if len(s.bell_speed_kmh):
        notes.append(f"bell leader's speed: median {np.median(s.bell_speed_kmh):.1f} km/h")
    # under the axis, where no bar can reach it
    style_axes(ax, title="How the races were won", xlabel="races (%)\n" + "\n".join(notes))


@overload
def sweep_heatmap(
    data: pd.DataFrame,
    rider: str | None = None,
    params: Sequence[str] | None = None,
    ax: None = None,
) -> Figure: ...
@overload
def sweep_heatmap(
    data: pd.DataFrame, rider: str | None, params: Sequence[str] | None, ax: Axes
) -> Axes: ...
@overload
def sweep_heatmap(
    data: pd.DataFrame,
    rider: str | None = None,
    params: Sequence[str] | None = None,
    *,
    ax: Axes,
) -> Axes: ...
def sweep_heatmap(
    data: pd.DataFrame,
    rider: str | None = None,
    params: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure | Axes:
    """Win probability of ``rider`` over the swept parameters: a heatmap for two parameters
    (first on y, second on x; each cell labelled with the
    probability in % and its 95 % Wilson interval below it), a line with its 95 % band for one.
    Returns a new Figure, or draws into ``ax`` and returns it.

    ``data``: the rows of :func:`~keirin_sim.montecarlo.sweep` (``winner`` and a column per
    parameter; ``rider`` defaults to ``df.attrs["attacker"]``), or its
    ``summary.grid_table()`` (columns ``rider``, ``runs``, ``wins`` and the parameters)."""
    if rider is None:
        rider = data.attrs.get("attacker")
    if rider is None:
        raise ValueError("say whose win probability to draw: rider=...")
    cols = ["wins", "runs"]
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
        mine = data[data["rider"] == rider]
        if {"ci_low", "ci_high"} <= set(data.columns) and not mine.duplicated(params).any():
            cols += ["ci_low", "ci_high"]  # one row per grid point: its interval as given
        t = mine.groupby(params, sort=True)[cols].sum()
    else:
        if params is None:
            params = list(data.attrs.get("params") or [])
        if not params:
            raise ValueError("say which swept parameters to draw: params=[...]")
        ok = data["error"].isna() if "error" in data.columns else np.ones(len(data), bool)
        d = data[ok].assign(wins=(data["winner"] == rider).astype(int), runs=1)
        t = d.groupby(list(params), sort=True)[cols].sum()
    if len(params) not in (1, 2):
        raise ValueError(f"a heatmap draws one or two parameters, got {len(params)}")
    if t.empty:
        raise ValueError(f"no rows for {rider!r}")
    t = t.reset_index()
    t["p"] = t["wins"] / t["runs"]
    if "ci_low" not in t.columns:
        t[["ci_low", "ci_high"]] = _wilson(t["wins"].to_numpy(), t["runs"].to_numpy())
    given = ax is not None
    fig = ax.figure if ax is not None else new_figure(figsize=(9.0, 6.0))[0]
    if ax is None:
        ax = fig.axes[0]
    fmt = lambda v: f"{v:g}" if isinstance(v, (int, float, np.number)) else str(v)  # noqa: E731
    runs = int(t["runs"].max())
    if len(params) == 1:
        (px,) = params
        xs = t[px].to_numpy()
        ci = t[["ci_low", "ci_high"]].to_numpy(dtype=float)
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
            xlabel=param_label(px),
            ylabel="win probability (%)",
            legend="inside",
        )
        return ax if given else fig
    py, px = params
    xs = sorted(t[px].unique().tolist())
    ys = sorted(t[py].unique().tolist())
    grid = np.full((len(ys), len(xs)), np.nan)
    lo_g, hi_g = grid.copy(), grid.copy()
    for _, row in t.iterrows():
        at = ys.index(row[py]), xs.index(row[px])
        grid[at] = 100.0 * row["p"]
        lo_g[at], hi_g[at] = 100.0 * row["ci_low"], 100.0 * row["ci_high"]
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
                    color = "white" if v < 55 else "black"
                    ax.text(j, i, _pct(v), ha="center", va="bottom", fontsize=9,
                            color=color, fontweight="bold")  # fmt: skip
                    ax.text(j, i, f"{_pct(lo_g[i, j])}-{_pct(hi_g[i, j])}", ha="center",
                            va="top", fontsize=7, color=color)  # fmt: skip
    cb = fig.colorbar(im, ax=ax)
    cb.set_label("win probability (%)")
    style_axes(
        ax,
        title=f"Win probability of {rider} ({runs:,} races per point)",
        xlabel=param_label(px),
        ylabel=param_label(py),
    )
    ax.grid(False)
    return ax if given else fig
