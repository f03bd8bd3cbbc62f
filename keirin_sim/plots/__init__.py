"""Every chart keirin-sim draws, in one consistent style.

All charts share:

- ``x`` = **laps to go**, decreasing from the start (left) to 0 at the finish (right), see
  :func:`lap_axis`: a light line at every lap, dashed marks at 3 and 2 laps to go and at the
  bell (1 lap to go) labelled along the top, the derny phase shaded and the pull-off marked;
- one colour per rider, fixed by start position (:func:`rider_colors`), and legends that name
  the riders;
- titles and axis labels with units (:func:`style_axes`).

Single-panel charts (:func:`gap_over_laps`, :func:`variants_chart`, :func:`sweep_heatmap`,
:func:`sensitivity_chart`) take ``ax=``: given an existing Axes they draw into it and return
that Axes; without one they return a new Figure, as they always have (``plots.save`` and the
notebooks take the figure).  Charts of several panels (:func:`speed_power`,
:func:`catch_chart`, :func:`attack_point_chart`, :func:`compare_chart`, :func:`mc_summary`,
:func:`scorecard_chart`) always return their own Figure.

Figures are plain :class:`matplotlib.figure.Figure` objects made without pyplot (no global
state, nothing to close); they show themselves in a notebook.  :func:`save` writes PNG, SVG or
PDF, chosen by the file's extension, atomically.

The modules, by concept:

- :mod:`.style`: the figure class, palette and colours, the axes helpers, :func:`save`;
- :mod:`.fonts`: the font fallback list and the one warning for glyphs no font has;
- :mod:`.race`: charts of one race (gaps behind the leader, speed / power / W' balance);
- :mod:`.analysis`: charts of :mod:`~keirin_sim.questions.catch` and
  :mod:`~keirin_sim.questions.variants` (catch, variants, attack point);
- :mod:`.batch`: charts of Monte Carlo batches (summary, sweep heatmap);
- :mod:`.scorecard`: the model against real finals (``keirin-sim validate``);
- :mod:`.sensitivity`: the indices of a global sensitivity analysis;
- :mod:`.animation`: the race as an animation (GIF, HTML, MP4, a notebook player).

Adding a chart: write ``def my_chart(...) -> Figure`` in the module of its concept, start it
with :func:`new_figure`, call :func:`lap_axis` (when x is laps to go) and :func:`style_axes`
on each axes, return the figure, and re-export it here; a single-panel chart also takes
``ax=`` and returns that Axes when given one (tests/plots/test_plots.py checks each).
"""

from __future__ import annotations

from keirin_sim.plots.analysis import attack_point_chart, catch_chart, compare_chart, variants_chart
from keirin_sim.plots.animation import animate, animation_player, mp4_available
from keirin_sim.plots.batch import (
    MC_BAR_COLOR,
    PARAM_LABELS,
    mc_summary,
    param_label,
    sweep_heatmap,
)
from keirin_sim.plots.fonts import FALLBACK_FONTS, font_families
from keirin_sim.plots.race import gap_over_laps, gap_series, rider_paths, speed_power
from keirin_sim.plots.reconstruction import reconstruction_chart
from keirin_sim.plots.scorecard import scorecard_chart
from keirin_sim.plots.sensitivity import sensitivity_chart
from keirin_sim.plots.style import (
    CAUGHT_COLOR,
    CRITICAL_COLOR,
    DERNY_SHADE,
    DPI,
    FIGSIZE,
    FORMATS,
    FREE_COLOR,
    LINESTYLES,
    MARK_COLOR,
    NOT_CAUGHT_COLOR,
    PALETTE,
    PULL_OFF_COLOR,
    REFERENCE_COLOR,
    KeirinFigure,
    check_riders,
    lap_axis,
    new_figure,
    race_axis,
    rider_colors,
    rider_label,
    save,
    style_axes,
)

__all__ = [
    "reconstruction_chart",
    "scorecard_chart",
    "sensitivity_chart",
    "CAUGHT_COLOR",
    "CRITICAL_COLOR",
    "DERNY_SHADE",
    "DPI",
    "FALLBACK_FONTS",
    "FIGSIZE",
    "FORMATS",
    "FREE_COLOR",
    "LINESTYLES",
    "MARK_COLOR",
    "MC_BAR_COLOR",
    "NOT_CAUGHT_COLOR",
    "PALETTE",
    "PARAM_LABELS",
    "PULL_OFF_COLOR",
    "REFERENCE_COLOR",
    "KeirinFigure",
    "animate",
    "animation_player",
    "attack_point_chart",
    "catch_chart",
    "check_riders",
    "compare_chart",
    "font_families",
    "gap_over_laps",
    "gap_series",
    "lap_axis",
    "mc_summary",
    "mp4_available",
    "new_figure",
    "param_label",
    "race_axis",
    "rider_colors",
    "rider_label",
    "rider_paths",
    "save",
    "speed_power",
    "style_axes",
    "sweep_heatmap",
    "variants_chart",
]
