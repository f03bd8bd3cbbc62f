"""An animation of one race seen from above, to scale: GIF, self-contained HTML, MP4, or an
inline player in a notebook.

Everything drawn comes from the result (the traces, the event log, the gap series), so the
animation shows what the engine computed, not a re-enactment:

- the track from the scenario's :class:`~keirin_sim.model.track.Track` (straights, bends, the
  measurement, sprinters' and stayers' lines, the finish and pursuit lines), positions mapped by
  :meth:`Track.xy <keirin_sim.model.track.Track.xy>`;
- each rider as a dot in its colour of the other charts, numbered by start position, at its
  distance and lane interpolated in the traces at the frame's time; the derny until it leaves;
- a clock, laps and metres to go, a table of each rider's speed and gap behind the leader,
  captions from the event log for a couple of seconds, and the gap-over-laps chart drawn as the
  race goes.

:func:`frame_times` and :func:`frame_state` are plain functions of the result (what the tests
check, in :mod:`.animation_state`); :mod:`.animation_figure` draws a frame; this module writes
the files (:func:`animate`) and makes the notebook player (:func:`animation_player`).
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import tempfile
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl
import numpy as np
from matplotlib import animation as mpl_animation
from matplotlib.colors import to_rgb
from PIL import Image

from keirin_sim.files import write_atomically
from keirin_sim.plots.animation_figure import RaceFigure
from keirin_sim.plots.animation_state import (
    ANIMATION_FORMATS,
    CAPTION_S,
    HOLD_S,
    FrameState,
    RaceView,
    check_positive,
    end_time,
    file_format,
    frame_state,
    frame_times,
    track_and_lane,
)
from keirin_sim.plots.style import FORMATS, PALETTE

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.results.result import Result
    from keirin_sim.scenario.scenario import Scenario

#: Default frames per second by format: the HTML player embeds one PNG per frame, so it runs
#: at fewer frames than the GIF to stay a few MB for a 6-lap race.
DEFAULT_FPS = {"gif": 10.0, "html": 5.0, "mp4": 20.0}
#: Default resolution (dots per inch of the 10 x 5.2 inch figure) by format.
DEFAULT_DPI = {"gif": 80, "html": 80, "mp4": 100}
#: Size of the animation's figure (inches).
ANIM_FIGSIZE = (10.0, 5.2)
#: What ``keirin-sim run --animate x.mp4`` and :func:`animate` say without an MP4 writer.
MP4_UNAVAILABLE = (
    "MP4 needs ffmpeg, which was not found: install it (apt install ffmpeg, brew install "
    "ffmpeg, conda install ffmpeg) or pip install imageio-ffmpeg; or write .gif or .html"
)


# --- writers ------------------------------------------------------------------------------------
def _ffmpeg_path() -> str | None:
    """An ffmpeg binary: matplotlib's (``animation.ffmpeg_path``, on the PATH by default), or
    the one the ``imageio-ffmpeg`` package ships."""
    if mpl_animation.writers.is_available("ffmpeg"):
        return str(mpl.rcParams["animation.ffmpeg_path"])
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found]

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or no binary for this platform
        return None
    return exe if exe and shutil.which(exe) else None


def mp4_available() -> bool:
    """Whether an MP4 can be written here (an ffmpeg binary was found)."""
    return _ffmpeg_path() is not None


def _drawing(
    result: Result, speed: float, fps: float, scenario: Scenario | None, dpi: float
) -> tuple[RaceFigure, np.ndarray]:
    speed = check_positive(speed, "speed")
    fps = check_positive(fps, "fps")
    times = frame_times(result, speed, fps)
    track, lane = track_and_lane(result, scenario)
    return RaceFigure(RaceView(result, track, lane), dpi, CAPTION_S * speed), times


class _Palette:
    """Frames as 8-bit colours on one palette: the first frame's main colours and every
    rider's colour, pure and half-way to white (so small dots and thin lines keep it): the
    same colours in every frame, a quarter of the memory, smaller files.  Index :data:`CLEAR`
    stays free for a transparent pixel."""

    CLEAR = 255

    def __init__(self) -> None:
        self.palette: Image.Image | None = None

    def __call__(self, im: Image.Image) -> Image.Image:
        if self.palette is None:
            base = im.quantize(colors=96, method=Image.Quantize.MEDIANCUT).getpalette() or []
            rgb = [to_rgb(c) for c in PALETTE]
            extra = [round(255 * v) for c in rgb for v in c]
            extra += [round(255 * (1 + v) / 2) for c in rgb for v in c]
            pal = (base[: 96 * 3] + extra + [0] * 768)[:768]
            self.palette = Image.new("P", (1, 1))
            self.palette.putpalette(pal)
        return im.quantize(palette=self.palette, dither=Image.Dither.NONE)

    def overlay(self, im: Image.Image, background: Image.Image) -> Image.Image:
        """``im`` with every pixel equal to ``background``'s transparent: what a frame adds
        to the still picture (a few kB where the whole frame takes 20)."""
        p = self(im)
        same = np.all(np.asarray(im) == np.asarray(background), axis=2)
        px = np.asarray(p).copy()
        px[same] = self.CLEAR
        out = Image.fromarray(px, mode="P")
        pal = p.getpalette() or []
        out.putpalette((pal + [0] * 768)[:768])
        out.info["transparency"] = self.CLEAR
        return out


def _write_gif(drawing: RaceFigure, times: np.ndarray, fps: float, path: str) -> None:
    """A looping GIF written by Pillow, the frames rendered as it takes them; identical
    frames (the final hold) merge into one."""
    to_p = _Palette()
    first = to_p(drawing.render(float(times[0])))
    rest = (to_p(drawing.render(float(t))) for t in times[1:])
    kw = {"duration": round(1000.0 / fps), "loop": 0}
    first.save(path, format="GIF", save_all=True, append_images=rest, **kw)


class _HtmlWriter(mpl_animation.HTMLWriter):
    """matplotlib's JavaScript player, fed with frames already rendered (8-bit PNGs)."""

    def add_frame(self, im: Image.Image) -> None:
        out = io.BytesIO()
        im.save(out, format="png", optimize=True)
        self._saved_frames.append(base64.encodebytes(out.getvalue()).decode("ascii"))


# the player's buttons drawn with characters, not with an icon font loaded from the network
_ICONS = {
    "minus": "&minus;",
    "fast-backward": "&#x23EE;",
    "step-backward": "&#x25C1;",
    "play fa-flip-horizontal": "&#x25C0;",
    "pause": "&#x23F8;",
    "play": "&#x25B6;",
    "step-forward": "&#x25B7;",
    "fast-forward": "&#x23ED;",
    "plus": "+",
}


def _offline(html: str) -> str:
    """The player without anything fetched from the network (matplotlib's template links
    Font Awesome from a CDN for its button icons)."""
    html = re.sub(r"<link[^>]*href=[\"']https?://[^>]*>", "", html)
    return re.sub(
        r'<i class="fa fa-([a-z -]+)"></i>',
        lambda m: _ICONS.get(m.group(1), m.group(1).split()[0]),
        html,
    )


def _png64(im: Image.Image) -> str:
    out = io.BytesIO()
    im.save(out, format="png", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _player_html(drawing: RaceFigure, times: np.ndarray, fps: float) -> str:
    """The race as matplotlib's JavaScript player (an HTML fragment), frames embedded.

    The still picture (track, axes, labels) is embedded once, as the background of the
    player's image; each frame is a PNG of what moves on a transparent ground, which keeps a
    6-lap race at real time a few MB instead of twenty."""
    to_p = _Palette()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "player.html"
        writer = _HtmlWriter(fps=fps, embed_frames=True, default_mode="once")
        writer.setup(drawing.fig, path, drawing.fig.dpi)
        for t in times:
            im = drawing.render(float(t))
            writer.add_frame(to_p.overlay(im, drawing.background))
        writer.finish()
        html = _offline(path.read_text(encoding="utf-8"))
    ids = re.findall(r'id="(_anim_img[0-9a-zA-Z_]+)"', html)
    if len(ids) != 1:  # pragma: no cover - matplotlib's template changed
        raise RuntimeError("cannot find the player's image in matplotlib's HTML template")
    still = _png64(to_p(drawing.background))
    style = (
        f"<style>\n#{ids[0]} {{ background: #fff url(data:image/png;base64,{still}) "
        "no-repeat; background-size: 100% 100%; }}\n</style>\n"
    )
    return style + html


def _page(title: str, player: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n{player}\n</body>\n</html>\n"
    )


def _write_mp4(drawing: RaceFigure, times: np.ndarray, fps: float, path: str, ffmpeg: str) -> None:
    """An H.264 MP4 written by matplotlib's ffmpeg writer from the rendered frames."""
    with mpl.rc_context({"animation.ffmpeg_path": ffmpeg}):
        writer = mpl_animation.FFMpegWriter(fps=fps, codec="h264")
        # the writer first makes the frame's sides even (H.264 needs them so)
        with writer.saving(drawing.fig, path, drawing.fig.dpi):
            for t in times:
                im = drawing.render(float(t))
                writer._proc.stdin.write(im.convert("RGBA").tobytes())


def animate(
    result: Result,
    path: str | Path,
    speed: float = 1.0,
    fps: float | None = None,
    *,
    scenario: Scenario | None = None,
    dpi: float | None = None,
) -> Path:
    """Write the race as an animation to ``path``: ``.gif``, ``.html`` (one self-contained page
    with play, pause and a slider) or ``.mp4`` (needs ffmpeg, see :func:`mp4_available`).

    ``speed`` times real time (1: the race's own pace); ``fps`` and ``dpi`` default by format
    (``DEFAULT_FPS``, ``DEFAULT_DPI``); ``scenario`` gives the track to draw (pass the
    scenario the result came from; default: the standard track of the race's lap).  The result
    needs its traces.  ``ValueError`` for an unknown extension, a speed or fps not above 0, or
    an MP4 without ffmpeg; the file appears complete or not at all."""
    p = Path(path)
    fmt = file_format(p)
    speed = check_positive(speed, "speed")
    fps = check_positive(DEFAULT_FPS[fmt] if fps is None else fps, "fps")
    ffmpeg = _ffmpeg_path() if fmt == "mp4" else None
    if fmt == "mp4" and ffmpeg is None:
        raise ValueError(MP4_UNAVAILABLE)
    drawing, times = _drawing(
        result, speed, fps, scenario, DEFAULT_DPI[fmt] if dpi is None else dpi
    )
    if fmt == "html":
        page = _page(f"{result.scenario}: keirin-sim", _player_html(drawing, times, fps))
        write_atomically(p, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
    elif fmt == "gif":
        write_atomically(p, lambda tmp: _write_gif(drawing, times, fps, tmp))
    else:
        assert ffmpeg is not None
        write_atomically(p, lambda tmp: _write_mp4(drawing, times, fps, tmp, ffmpeg))
    return p


class AnimationPlayer:
    """An inline player for a notebook: shows itself as matplotlib's JavaScript player (play,
    pause, a slider); ``html`` is the fragment."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html


def animation_player(
    result: Result,
    speed: float = 4.0,
    fps: float = 4.0,
    *,
    scenario: Scenario | None = None,
    dpi: float = 72,
) -> AnimationPlayer:
    """The race as an inline player in a notebook (the last expression of a cell shows it).
    Faster and coarser than :func:`animate` by default, so the notebook stays small."""
    drawing, times = _drawing(result, speed, fps, scenario, dpi)
    return AnimationPlayer(_player_html(drawing, times, fps))


def still_frame(
    result: Result,
    path: str | Path,
    t: float,
    *,
    scenario: Scenario | None = None,
    dpi: float = 100,
) -> Path:
    """One frame of the animation at race time ``t`` as PNG, SVG or PDF (a still for a page
    or a report)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot write {Path(path).suffix!r}: use {', '.join(FORMATS)}")
    track, lane = track_and_lane(result, scenario)
    drawing = RaceFigure(RaceView(result, track, lane), dpi, CAPTION_S)
    drawing.update(t)
    return write_atomically(path, lambda tmp: drawing.fig.savefig(tmp, format=fmt, dpi=dpi))


__all__: Sequence[str] = [
    "ANIMATION_FORMATS",
    "CAPTION_S",
    "HOLD_S",
    "end_time",
    "AnimationPlayer",
    "FrameState",
    "animate",
    "animation_player",
    "frame_state",
    "frame_times",
    "mp4_available",
    "still_frame",
]
