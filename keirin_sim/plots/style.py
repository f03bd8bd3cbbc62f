"""The shared chart style: figures, the palette and rider colours, axes helpers (laps to go,
metres to go), and :func:`save`."""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure
from matplotlib.text import Text

from keirin_sim.files import write_atomically
from keirin_sim.plots.fonts import GLYPH_WARNING, font_families, warn_missing_glyphs

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from keirin_sim.results.result import Result

#: File formats :func:`save` writes, by extension.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
#: Default figure size (inches) and resolution of PNG files (dots per inch).
FIGSIZE = (10.0, 5.0)
#: Resolution of PNG files (dots per inch).
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
#: Shade of the derny phase on a laps-to-go axis.
DERNY_SHADE = "#e8e8e8"
#: Colour of the lap marks (3 and 2 laps to go, the bell).
MARK_COLOR = "#777777"
#: Colour of the pull-off mark.
PULL_OFF_COLOR = "#444444"


class KeirinFigure(Figure):
    """A Figure that renders itself as PNG in Jupyter even when pyplot is not imported, and
    draws its texts with the installed fallback fonts (:func:`.fonts.font_families`, so CJK
    names draw when a CJK font is installed).  Where a glyph is still missing, matplotlib's
    warning per glyph and draw is silenced and one warning names the labels concerned."""

    def draw(self, renderer: Any) -> None:
        families = list(font_families())
        labels = []
        for t in self.findobj(Text):
            if t.get_fontfamily() == ["sans-serif"] and families != ["DejaVu Sans"]:
                t.set_fontfamily(families)
            labels.append(t.get_text())
        warned = self.__dict__.setdefault("_keirin_glyph_warned", set())
        fresh = [t for t in labels if t not in warned]
        warned.update(warn_missing_glyphs(fresh, stacklevel=2))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=GLYPH_WARNING)
            super().draw(renderer)

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


# Colours of the analysis charts: caught / not caught, the critical and the real hesitation.
#: The attacker caught.
CAUGHT_COLOR = "#d62728"
#: The attacker free (not caught).
FREE_COLOR = "#2ca02c"
#: Not caught, on the catch chart's lines.
NOT_CAUGHT_COLOR = "#333333"
#: The critical hesitation.
CRITICAL_COLOR = "#111111"
#: The real race's hesitation (the reference).
REFERENCE_COLOR = "#1f77b4"


def m_to_go_marks(
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


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG, SVG or PDF, chosen by the extension of ``path``; ``ValueError`` for
    any other extension.  The file appears complete or not at all (written to a temporary
    file in the same directory, then renamed)."""

    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot write {p.suffix or 'a file without extension'!r}: use {', '.join(FORMATS)}"
        )
    write_atomically(p, lambda tmp: fig.savefig(tmp, format=fmt, dpi=DPI))
    return p
