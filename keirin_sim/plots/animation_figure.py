"""The race animation's figure: the track to scale from above with the riders and the derny,
the clock, lap board and captions in the infield, the riders' table and the gap strip; moved to
any race time by :meth:`RaceFigure.update` and rendered fast by :meth:`RaceFigure.render`
(the still parts drawn once, as matplotlib's blitting does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.lines import Line2D
from PIL import Image

from keirin_sim.model.track import MEASUREMENT_LINE_FROM_EDGE_M, Track
from keirin_sim.plots.animation_state import FrameState, RaceView
from keirin_sim.plots.race import gap_series
from keirin_sim.plots.style import MARK_COLOR, KeirinFigure, race_axis, rider_colors, style_axes

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.results.result import Result

ANIM_FIGSIZE = (10.0, 5.2)
#: The stayers' (blue) line: a third of the track's width above the inner edge, at least 2.45 m
#: (UCI 3.6.081, keirin-reference.md section 2).
STAYERS_LINE_MIN_FROM_EDGE_M = 2.45
TRACK_COLOR = "#ede3cf"
INFIELD_COLOR = "#f7f7f4"
SPRINTERS_COLOR = "#c62828"
STAYERS_COLOR = "#1e50a0"
DERNY_COLOR = "#333333"
_ON_DOT = {"color": "white", "fontweight": "bold", "ha": "center", "va": "center"}


# --- the figure -------------------------------------------------------------------------------
def _clock(t: float) -> str:
    m, s = divmod(max(t, 0.0), 60.0)
    return f"{int(m)}:{s:04.1f}"


def _short(name: str, width: int = 20) -> str:
    return name if len(name) <= width else name[: width - 1] + "."


class RaceFigure:
    """The animation's figure: the track (left), the riders' table and the gap strip (right),
    updated in place by :meth:`update`."""

    def __init__(self, view: RaceView, dpi: float, caption_s: float) -> None:
        self.view, self.caption_s = view, caption_s
        res, track = view.result, view.track
        self.fig = fig = KeirinFigure(figsize=ANIM_FIGSIZE, dpi=dpi)
        place = {"left": 0.01, "right": 0.985, "top": 0.95, "bottom": 0.09}
        gs = fig.add_gridspec(2, 2, width_ratios=(1.75, 1.0), height_ratios=(1.0, 1.15), **place)
        gs.update(wspace=0.08, hspace=0.34)
        self.ax = ax = fig.add_subplot(gs[:, 0])
        self.ax_table = fig.add_subplot(gs[0, 1])
        self.ax_gap = fig.add_subplot(gs[1, 1])
        fig.text(0.01, 0.975, res.scenario, fontsize=11, fontweight="bold", va="top")
        self._draw_track(ax, track)
        self.colors = {r: c for r, (c, _) in rider_colors(res.names).items()}
        number = {r: str(k + 1) for k, r in enumerate(res.names)}
        self.dots, self.numbers = [], []
        for r in view.names:
            (dot,) = ax.plot(
                [], [], "o", ms=10, color=self.colors[r], mec="white", mew=0.8, zorder=5
            )
            txt = ax.text(0, 0, number[r], fontsize=6.5, zorder=6, **_ON_DOT)
            self.dots.append(dot)
            self.numbers.append(txt)
        (self.derny,) = ax.plot([], [], "s", ms=8, color=DERNY_COLOR, zorder=4)
        self.derny_label = ax.text(
            0, 0, "derny", fontsize=7, color=DERNY_COLOR, ha="center", va="center", zorder=4
        )
        top = track.bend_radius_m - MEASUREMENT_LINE_FROM_EDGE_M
        self.clock = ax.text(0, top * 0.55, "", fontsize=17, fontweight="bold", ha="center")
        self.board = ax.text(0, top * 0.32, "", fontsize=10, ha="center", color="#333333")
        kw = {"ha": "center", "va": "top", "color": "#222222", "linespacing": 1.5}
        self.caption = ax.text(0, top * 0.18, "", fontsize=8, **kw)
        self._table(number)
        self._gap_strip(res)
        # what changes from frame to frame; the rest is drawn once (see :meth:`render`)
        self.dynamic = [*self.dots, *self.numbers, self.derny, self.derny_label]
        self.dynamic += [self.clock, self.board, self.caption, self.now]
        self.dynamic += [a for row in self.rows for a in row] + list(self.gap_lines.values())
        self._background: Any = None

    def render(self, t: float) -> Image.Image:
        """The frame at race time ``t`` as an RGB image.  The still parts are drawn once
        (``background``); each frame puts them back and draws only what moves, as
        matplotlib's blitting does: several times faster than drawing the whole figure."""
        canvas = self.fig.canvas
        if self._background is None:
            if not isinstance(canvas, FigureCanvasAgg):
                canvas = FigureCanvasAgg(self.fig)
            self.update(t)  # the texts hold their words when the fonts are chosen
            for a in self.dynamic:
                a.set_animated(True)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self.background = self._image(canvas)
        self.update(t)
        canvas.restore_region(self._background)
        for a in sorted(self.dynamic, key=lambda a: a.get_zorder()):
            self.fig.draw_artist(a)
        return self._image(canvas)

    @staticmethod
    def _image(canvas: FigureCanvasAgg) -> Image.Image:
        w, h = canvas.get_width_height()
        im = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        return im.convert("RGB")

    def _draw_track(self, ax: Any, track: Track) -> None:
        """The track to scale, from above: surface, lines, finish and pursuit lines."""
        s = np.linspace(0.0, track.lap_m, 721)
        inner = -MEASUREMENT_LINE_FROM_EDGE_M
        outer = track.width_m - MEASUREMENT_LINE_FROM_EDGE_M
        out_xy = track.xy(s, outer)
        in_xy = track.xy(s, inner)
        ax.fill(out_xy[:, 0], out_xy[:, 1], color=TRACK_COLOR, zorder=0, lw=0)
        ax.fill(in_xy[:, 0], in_xy[:, 1], color=INFIELD_COLOR, zorder=0, lw=0)
        for xy in (out_xy, in_xy):
            ax.plot(xy[:, 0], xy[:, 1], color="#9a8f7a", lw=0.8, zorder=1)
        stayers = max(track.width_m / 3.0, STAYERS_LINE_MIN_FROM_EDGE_M)
        for off, color, lw in (
            (0.0, "black", 0.6),
            (track.sprinters_lane_m, SPRINTERS_COLOR, 0.9),
            (stayers - MEASUREMENT_LINE_FROM_EDGE_M, STAYERS_COLOR, 0.9),
        ):
            xy = track.xy(s, off)
            ax.plot(xy[:, 0], xy[:, 1], color=color, lw=lw, zorder=1)
        b = track.bends()
        half = track.straight_m / 2.0
        across = np.array([inner, outer])
        label_off = outer + 2.2
        marks = [(0.0, "finish", "black", 2.2), (b[3] + half, "pursuit", SPRINTERS_COLOR, 1.2)]
        marks.append((b[1] + half, "pursuit", SPRINTERS_COLOR, 1.2))
        for sm, name, color, lw in marks:
            xy = track.xy(np.full(2, sm), across)
            ax.plot(xy[:, 0], xy[:, 1], color=color, lw=lw, zorder=2, solid_capstyle="butt")
            lx, ly = track.xy(np.array([sm]), label_off)[0]
            ax.text(lx, ly, name, fontsize=7, color=color, ha="center", va="center")
        ext = half + track.bend_radius_m + outer + 1.5
        ax.set_xlim(-ext, ext)
        ax.set_ylim(-(ext - half) - 2.5, ext - half + 2.5)
        ax.set_aspect("equal")
        ax.set_axis_off()
        legend = [
            Line2D([], [], color="black", lw=0.8, label="measurement line"),
            Line2D([], [], color=SPRINTERS_COLOR, lw=0.9, label="sprinters' line"),
            Line2D([], [], color=STAYERS_COLOR, lw=0.9, label="stayers' line"),
        ]
        ax.legend(
            handles=legend,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=3,
            frameon=False,
            fontsize=7,
            handlelength=1.5,
            borderaxespad=0.0,
        )
        ax.text(
            0.0,
            -0.07,
            f"{track.lap_m:g} m track, bends of {track.bend_radius_m:g} m, "
            f"{track.width_m:g} m wide, to scale; riders numbered by start position",
            transform=ax.transAxes,
            fontsize=7,
            color="#666666",
            ha="left",
            va="top",
        )

    def _table(self, number: dict[str, str]) -> None:
        """Each rider's place, speed and gap behind the leader, one row per rider in start
        order (the names stay put, so they are drawn once)."""
        ax = self.ax_table
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        cols = (0.05, 0.12, 0.66, 0.80, 0.99)
        head = ("", "rider", "place", "km/h", "gap")
        aligns = ("center", "left", "right", "right", "right")
        for x, h, ha in zip(cols, head, aligns, strict=True):
            ax.text(x, 0.97, h, fontsize=8, color="#555555", ha=ha, va="top")
        self.rows = []
        dy = min(0.13, 0.86 / max(len(number), 1))
        for k, r in enumerate(self.view.names):
            y = 0.84 - k * dy
            ax.plot([cols[0]], [y], "o", ms=9, color=self.colors[r], mec="white", mew=0.6)
            ax.text(cols[0], y, number[r], fontsize=6, **_ON_DOT)
            ax.text(cols[1], y, _short(r), fontsize=8, ha="left", va="center")
            cells = [ax.text(x, y, "", fontsize=8, ha="right", va="center") for x in cols[2:]]
            self.rows.append(tuple(cells))

    def _gap_strip(self, res: Result) -> None:
        """The gap-over-laps chart, drawn up to the leader's position as the race goes."""
        ax = self.ax_gap
        self.ltg, self.gaps = gap_series(res, "m", n=481)
        self.d = res.race_m - self.ltg * res.lap_m
        self.gap_lines = {}
        for r in sorted(res.names, key=res.finish_order.index):
            (ln,) = ax.plot([], [], color=self.colors[r], lw=1.4)
            self.gap_lines[r] = ln
        top = max(5.0, max(float(np.nanmax(g)) for g in self.gaps.values()))
        ax.set_ylim(top * 1.06, -top * 0.04)
        race_axis(ax, res, top_labels=False)  # the strip is too narrow for the mark names
        for laps, name in ((res.pull_off_m_to_go / res.lap_m, "derny off"), (1.0, "bell")):
            ax.text(
                laps,
                1.01,
                name,
                transform=ax.get_xaxis_transform(),
                fontsize=7,
                color="#555555",
                ha="center",
                va="bottom",
            )
        self.now = ax.axvline(res.race_m / res.lap_m, color=MARK_COLOR, lw=0.8)
        style_axes(ax, ylabel="gap (m)")
        ax.set_title("gap behind the leader", fontsize=9, loc="left", pad=12)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_size(8)
        ax.yaxis.label.set_size(8)

    def update(self, t: float) -> None:
        """Move everything to race time ``t``."""
        st = self.view.state(t, self.caption_s)
        res = self.view.result
        for i, _r in enumerate(st.names):
            x, y = st.xy[i]
            self.dots[i].set_data([x], [y])
            self.numbers[i].set_position((x, y))
        # the riders further on on top
        for k, i in enumerate(np.argsort(st.x_m)):
            self.dots[i].set_zorder(5 + 0.01 * k)
            self.numbers[i].set_zorder(5.005 + 0.01 * k)
        if st.derny_xy is None:
            self.derny.set_visible(False)
            self.derny_label.set_visible(False)
        else:
            dx, dy = st.derny_xy
            self.derny.set_data([dx], [dy])
            self.derny.set_visible(True)
            s = np.mod(np.interp(t, self.view.tr.t, self.view.tr.derny_x_m), res.lap_m)
            lx, ly = self.view.track.xy(np.array([s]), -5.0)[0]
            self.derny_label.set_position((lx, ly))
            self.derny_label.set_visible(True)
        self.clock.set_text(_clock(st.t_s))
        if st.laps_to_go == 0:
            board = "finish"
        else:
            laps = "bell" if st.laps_to_go == 1 else f"{st.laps_to_go} laps to go"
            board = f"{laps} · {st.m_to_go:.0f} m to go"
        if st.derny_xy is not None:
            board += " · behind the derny"
        self.board.set_text(board)
        self.caption.set_text("\n".join(st.captions))
        self._update_table(st)
        lead_d = res.race_m - st.m_to_go
        keep = self.d <= lead_d + 1e-9
        for r, ln in self.gap_lines.items():
            ln.set_data(self.ltg[keep], self.gaps[r][keep])
        self.now.set_xdata([st.m_to_go / res.lap_m] * 2)

    def _update_table(self, st: FrameState) -> None:
        res = self.view.result
        order = sorted(
            range(len(st.names)),
            key=lambda i: (0, res.finish_times[st.names[i]]) if st.finished[i] else (1, -st.x_m[i]),
        )
        for k, i in enumerate(order):
            place, speed, gap = self.rows[i]
            r = st.names[i]
            place.set_text(str(k + 1))
            speed.set_text(f"{st.speed_kmh[i]:.1f}")
            if st.finished[i]:
                m = res.margins[r]
                gap.set_text(f"{res.finish_times[r]:.2f} s" if m == 0 else f"+{m:.3f} s")
            else:
                gap.set_text("leader" if st.gap_m[i] < 0.05 else f"{st.gap_m[i]:.1f} m")
