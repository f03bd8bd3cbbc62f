"""The model against real finals (:mod:`~keirin_sim.questions.scorecard`): one chart."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from keirin_sim.plots.style import MARK_COLOR, REFERENCE_COLOR, KeirinFigure, style_axes
from keirin_sim.questions.scorecard import LAST_200M_TOLERANCE, Scorecard

#: The real winner's bar and the real values (stars); the other riders' bars.
REAL_COLOR = "#d62728"
MODEL_COLOR = "#9aa5b1"


def scorecard_chart(card: Scorecard) -> Figure:
    """Left, one panel per final: the model's win probability of each rider, the real winner's
    bar in red, each rider labelled with its real place.  Right: the winner's last 200 m (model
    p10-p90 and median against the published time, with the 3 % band) and the winning margin
    (model p10-p90 and median against the real one), one row per final."""
    n = len(card.finals)
    fig = KeirinFigure(figsize=(13.0, 2.3 * n + 1.2), layout="constrained")
    gs = fig.add_gridspec(n, 2, width_ratios=(1.1, 1.0))
    for k, f in enumerate(card.finals):
        ax = fig.add_subplot(gs[k, 0])
        real = {r: k + 1 for k, r in enumerate(f.real_order)}
        order = sorted(f.riders, key=lambda r: f.p_win[r])
        y = np.arange(len(order))
        vals = [100.0 * f.p_win[r] for r in order]
        ax.barh(
            y,
            vals,
            height=0.7,
            color=[REAL_COLOR if r == f.real_winner else MODEL_COLOR for r in order],
        )
        for j, v in enumerate(vals):
            ax.text(v + 1.0, j, f"{v:.0f} %", va="center", fontsize=8)
        ax.set_yticks(
            y, labels=[f"{r} (real {real[r]})" if r in real else f"{r} (real -)" for r in order]
        )
        ax.tick_params(axis="y", labelsize=8)
        ax.set_xlim(0.0, 105.0)
        style_axes(
            ax,
            # two lines: on one, a long name ran into the right-hand panels
            title=f"{_short(f.name)}\nthe real winner is the model's no. {f.rank_real_winner}",
            xlabel="model win probability (%)" if k == n - 1 else None,
        )
        ax.title.set_fontsize(10)
    gr = gs[:, 1].subgridspec(2, 1, height_ratios=(1.0, 1.0))
    _ranges(
        fig.add_subplot(gr[0]),
        card,
        "winner_last_200m_s",
        "s (bar: p10-p90, dot: median, star: real)",
        "Winner's last 200 m (ticks: +-3 %)",
        band=LAST_200M_TOLERANCE,
    )
    _ranges(
        fig.add_subplot(gr[1]),
        card,
        "winning_margin_s",
        "s (bar: p10-p90, dot: median, star: real)",
        "Winning margin",
    )
    fig.suptitle(
        f"The model against {n} real finals ({card.runs} races each): mean log p of the real "
        f"winners {card.mean_log_p:.2f} (uniform {card.uniform_log_p:.2f}), Brier "
        f"{card.brier:.2f} (uniform {card.uniform_brier:.2f})",
        fontsize=11,
        fontweight="bold",
    )
    return fig


def _ranges(
    ax: Axes, card: Scorecard, key: str, xlabel: str, title: str, band: float = 0.0
) -> None:
    """One row per final: the model's p10-p90 bar and median, the real value as a star."""
    names = [_short(f.name) for f in card.finals]
    for j, f in enumerate(card.finals):
        q = getattr(f, key)
        lo, med, hi, real = q["model_p10"], q["model_median"], q["model_p90"], q["real"]
        if lo is not None and hi is not None:
            ax.plot([lo, hi], [j, j], color=REFERENCE_COLOR, linewidth=5, alpha=0.45)
        if med is not None:
            ax.plot([med], [j], "o", color=REFERENCE_COLOR, markersize=6)
        if real is not None and math.isfinite(real):
            if band:
                ax.plot(
                    [real * (1 - band), real * (1 + band)],
                    [j, j],
                    color=MARK_COLOR,
                    linewidth=1,
                    marker="|",
                    markersize=10,
                )
            ax.plot([real], [j], "*", color=REAL_COLOR, markersize=13)
        else:
            names[j] += "\n(real n.f.)"
    ax.set_yticks(range(len(names)), labels=names)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.invert_yaxis()
    style_axes(ax, title=title, xlabel=xlabel)
    ax.title.set_fontsize(9.5)
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.8)


def _short(name: str) -> str:
    """ "Paris 2024 men's keirin final" -> "Paris 2024 men's"."""
    return name.replace(" keirin final", "")


__all__ = ["scorecard_chart"]
