"""Chart of a reconstruction (:mod:`keirin_sim.questions.reconstruction`): the unknowns the report
moved
most, posterior against prior, and the facts held out, posterior predictive against the real
value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from keirin_sim.plots.style import MARK_COLOR, REFERENCE_COLOR, new_figure, style_axes

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.questions.reconstruction import Reconstruction

POSTERIOR_COLOR = "#d62728"
PRIOR_COLOR = "#bbbbbb"


def _shift(rec: Reconstruction, name: str) -> float:
    """How far the report moved an unknown: |posterior median - prior median| / prior 90 %."""
    for p in rec.posterior():
        if p["name"] == name:
            po, pr = p["posterior"], p["prior"]
            if po["median"] is None or pr["median"] is None or pr["p95"] == pr["p5"]:
                return 0.0
            return abs(po["median"] - pr["median"]) / (pr["p95"] - pr["p5"])
    return 0.0


def reconstruction_chart(rec: Reconstruction, unknowns: int = 3) -> Figure:
    """Top row: the ``unknowns`` unknowns the report moved most (always the hesitation when
    there is one), posterior (red) over prior (grey); bottom row: each numeric fact held out,
    its posterior predictive and the real value (blue line, or band for a range)."""
    names = sorted(rec.unknowns, key=lambda n: -_shift(rec, n))
    top = (["hesitation_s"] if "hesitation_s" in names else []) + [
        n for n in names if n != "hesitation_s"
    ]
    top = top[:unknowns]
    checks = [f for f in rec.held_out if f.numeric]
    ncols = max(len(top), len(checks), 1)
    rows = 2 if checks else 1
    fig, axes = new_figure(rows, ncols, figsize=(3.6 * ncols, 3.2 * rows))
    axes = np.atleast_2d(axes).reshape(rows, ncols)
    for k in range(ncols):
        ax = axes[0, k]
        if k >= len(top):
            ax.set_axis_off()
            continue
        n = top[k]
        pri = rec.prior[n].to_numpy(dtype=float) if n in rec.prior else np.zeros(0)
        post = rec.accepted[n].to_numpy(dtype=float) if n in rec.accepted else np.zeros(0)
        pri, post = pri[np.isfinite(pri)], post[np.isfinite(post)]
        both = np.concatenate([pri, post])
        bins = np.linspace(both.min(), both.max(), 31) if len(both) and np.ptp(both) > 0 else 20
        if len(pri):
            ax.hist(pri, bins=bins, density=True, color=PRIOR_COLOR, label="prior")
        if len(post):
            ax.hist(post, bins=bins, density=True, histtype="step", lw=2, color=POSTERIOR_COLOR,
                    label=f"given the report ({len(post)})")  # fmt: skip
            lo, hi = np.percentile(post, [5, 95])
            ax.axvspan(lo, hi, color=POSTERIOR_COLOR, alpha=0.08)
        style_axes(
            ax, title=n.replace(".", ": "), xlabel=_unit(n), legend="inside" if k == 0 else False
        )
        ax.set_yticks([])
    for k in range(ncols if rows == 2 else 0):
        ax = axes[1, k]
        if k >= len(checks):
            ax.set_axis_off()
            continue
        f = checks[k]
        post = rec.accepted[f.column].to_numpy(dtype=float) if f.column in rec.accepted else []
        pri = rec.prior[f.column].to_numpy(dtype=float) if f.column in rec.prior else []
        post = np.asarray(post)[np.isfinite(post)]
        pri = np.asarray(pri)[np.isfinite(pri)]
        both = np.concatenate([pri, post])
        bins = np.linspace(both.min(), both.max(), 31) if len(both) and np.ptp(both) > 0 else 20
        if len(pri):
            ax.hist(pri, bins=bins, density=True, color=PRIOR_COLOR, label="prior predictive")
        if len(post):
            ax.hist(post, bins=bins, density=True, histtype="step", lw=2, color=POSTERIOR_COLOR,
                    label="posterior predictive")  # fmt: skip
        if isinstance(f.value, tuple):
            ax.axvspan(*f.value, color=REFERENCE_COLOR, alpha=0.25, label="real")
        else:
            ax.axvline(f.value, color=REFERENCE_COLOR, lw=2, label="real")
        style_axes(ax, title=f"held out: {f.name}", xlabel=_unit(f.name),
                   legend="inside" if k == 0 else False)  # fmt: skip
        ax.set_yticks([])
    facts = "; ".join(f.describe() for f in rec.facts)
    fig.suptitle(
        f"{rec.scenario.name}: {rec.phrase()}\ngiven {facts}", fontsize=10, color=MARK_COLOR
    )
    return fig


def _unit(name: str) -> str:
    if name.endswith("_s") or name.startswith("margin_s"):
        return "s"
    if name.endswith("_m") or name.endswith("_m_to_go"):
        return "m"
    if name == "air_density":
        return "kg/m^3"
    return ""


__all__ = ["reconstruction_chart"]
