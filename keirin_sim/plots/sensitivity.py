"""Global sensitivity (:mod:`~keirin_sim.questions.sensitivity`): one bar chart of the indices."""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np
from matplotlib.figure import Figure

from keirin_sim.plots.style import MARK_COLOR, REFERENCE_COLOR, KeirinFigure, style_axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from keirin_sim.questions.sensitivity import Sensitivity

FIRST_COLOR = "#9ecae1"


@overload
def sensitivity_chart(s: Sensitivity, ax: None = None) -> Figure: ...
@overload
def sensitivity_chart(s: Sensitivity, ax: Axes) -> Axes: ...
def sensitivity_chart(s: Sensitivity, ax: Axes | None = None) -> Figure | Axes:
    """Sobol: each input's total index (dark) and first-order index (light) with their 95 %
    intervals, most influential input on top; Morris: mu* with its interval and sigma.
    Returns a new Figure, or draws into ``ax`` and returns it."""
    d = s.to_dict()
    by = {p["name"]: p for p in d["params"]}
    names = s.ranking()[::-1]  # most influential on top
    y = np.arange(len(names))
    given = ax is not None
    if ax is None:
        fig = KeirinFigure(figsize=(9.0, 1.2 + 0.5 * len(names)), layout="constrained")
        ax = fig.add_subplot()
    if s.method == "sobol":
        st = np.array([by[n]["ST"] for n in names])
        st_c = np.array([by[n]["ST_conf"] for n in names])
        s1 = np.array([by[n]["S1"] for n in names])
        s1_c = np.array([by[n]["S1_conf"] for n in names])
        ax.barh(y + 0.18, st, height=0.36, color=REFERENCE_COLOR, label="total (ST)")
        ax.errorbar(st, y + 0.18, xerr=st_c, fmt="none", ecolor="#222222", capsize=3)
        ax.barh(y - 0.18, s1, height=0.36, color=FIRST_COLOR, label="first order (S1)")
        ax.errorbar(s1, y - 0.18, xerr=s1_c, fmt="none", ecolor="#222222", capsize=3)
        ax.axvline(0.0, color=MARK_COLOR, linewidth=1.0)
        xlabel = "Sobol index (share of the output's variance), bars: 95 % interval"
    else:
        mu = np.array([by[n]["mu_star"] for n in names])
        mu_c = np.array([by[n]["mu_star_conf"] for n in names])
        sig = np.array([by[n]["sigma"] for n in names])
        ax.barh(y, mu, height=0.5, color=REFERENCE_COLOR, label="mu* (mean |effect|)")
        ax.errorbar(mu, y, xerr=mu_c, fmt="none", ecolor="#222222", capsize=3)
        ax.plot(sig, y, "D", color="#d62728", label="sigma (interactions, non-linearity)")
        xlabel = f"Morris elementary effect on {s.label}, bars: 95 % interval"
    ax.set_yticks(y, labels=names)
    style_axes(
        ax,
        title=f"What {s.label} hangs on ({s.method}, {s.evaluations} races)",
        xlabel=xlabel,
        legend="inside",
    )
    ax.grid(True, axis="x", color="#dddddd", linewidth=0.8)
    return ax if given else ax.figure


__all__ = ["sensitivity_chart"]
