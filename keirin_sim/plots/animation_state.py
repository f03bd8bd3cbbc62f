"""What a frame of the race animation shows, as plain functions of the result: the frame
times (:func:`frame_times`) and the state at any race time (:func:`frame_state`): positions
interpolated in the traces and mapped onto the track by :meth:`Track.xy
<keirin_sim.model.track.Track.xy>`, speeds, gaps, the lap board and the captions from the event log.
:mod:`.animation_figure` draws it, :mod:`.animation` writes the files."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from keirin_sim.model.track import Track
from keirin_sim.plots.race import rider_paths
from keirin_sim.results.result import event_groups
from keirin_sim.scenario.scenario import LANE_M

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.results.result import Result
    from keirin_sim.scenario.scenario import Scenario

#: Animation formats :func:`~.animation.animate` writes, by extension.
ANIMATION_FORMATS = {".gif": "gif", ".html": "html", ".mp4": "mp4"}
#: How long a caption stays on screen (seconds of playback, whatever the speed).
CAPTION_S = 2.5
#: Captions shown at once (the newest).
MAX_CAPTIONS = 4
#: Seconds of playback the final frame is held for.
HOLD_S = 2.0

# the decisions shown as captions, worded as in the event log of ``keirin-sim run``
_CAPTIONS = {
    "set_gap": "{who} lets a gap open ({detail})",
    "derny_off": "derny pulls off",
    "attack": "{who} attacks",
    "hesitate": "{who} hesitates",
    "gap_opened": "{who} is {detail} clear",
    "chase": "{who} starts the chase",
    "launch": "{who} launches ({detail})",
    "go_round": "{who} goes round {detail}",
    "move_up": "{who} moves up",
    "boxed": "{who} is boxed in",
    "sit_off": "{who} sits off the wheel ({detail})",
    "go_high": "{who} goes up the banking ({detail})",
}


# --- what a frame shows: plain functions of the result --------------------------------------
@dataclass(frozen=True)
class FrameState:
    """What one frame shows at race time ``t_s``: per rider (in ``names`` order, the start
    order) the distance from the start line ``x_m`` (at most the finish), the lane ``lane_m``
    above the measurement line, the plan position ``xy`` (metres, :meth:`.Track.xy`), the speed,
    the metres behind the leading rider and whether it has finished; the derny's position (None
    once it has left); the leader, metres and laps to go (the lap board: 1 is the bell, 0 the
    finish) and the captions on screen."""

    t_s: float
    names: list[str]
    x_m: np.ndarray
    lane_m: np.ndarray
    xy: np.ndarray
    speed_kmh: np.ndarray
    gap_m: np.ndarray
    finished: np.ndarray
    derny_xy: np.ndarray | None
    leader: str
    m_to_go: float
    laps_to_go: int
    captions: list[str]


def file_format(path: str | Path) -> str:
    p = Path(path)
    fmt = ANIMATION_FORMATS.get(p.suffix.lower())
    if fmt is None:
        have = f"extension {p.suffix!r}" if p.suffix else "no extension"
        raise ValueError(f"{have}: use {', '.join(ANIMATION_FORMATS)}")
    return fmt


def check_positive(value: float, what: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{what} must be more than 0, got {value}")
    return v


def end_time(result: Result) -> float:
    """Race time of the last frame: the last finish (the traces' end if nobody finished)."""
    done = [t for t in result.finish_times.values() if math.isfinite(t)]
    if done:
        return max(done)
    if result.traces is None:
        raise ValueError("the result has no traces: run simulate(..., traces=True)")
    return float(result.traces.t[-1])


def frame_times(
    result: Result, speed: float = 1.0, fps: float = 10.0, hold_s: float = HOLD_S
) -> np.ndarray:
    """Race time of every frame: one every ``speed / fps`` seconds from the start, the last on
    the last finish, then that frame held ``hold_s`` seconds of playback.  There are
    ``ceil(T * fps / speed) + 1 + round(hold_s * fps)`` frames for a race of ``T`` seconds."""
    speed = check_positive(speed, "speed")
    fps = check_positive(fps, "fps")
    t_end = end_time(result)
    step = speed / fps
    n = math.ceil(t_end / step - 1e-9) + 1
    race = np.minimum(np.arange(n) * step, t_end)
    return np.concatenate([race, np.full(round(hold_s * fps), t_end)])


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


class RaceView:
    """A result prepared for sampling at any time: rider paths, lanes, speeds, captions."""

    def __init__(self, result: Result, track: Track, derny_lane_m: float) -> None:
        if result.traces is None:
            raise ValueError("the result has no traces: run simulate(..., traces=True)")
        if abs(track.lap_m - result.lap_m) > 1e-9:
            raise ValueError(f"the track's lap ({track.lap_m:g} m) is not the race's")
        self.result, self.track, self.derny_lane_m = result, track, derny_lane_m
        self.tr = result.traces
        self.names = list(self.tr.names)
        self.paths = rider_paths(result)
        self.finish = np.array([result.finish_times.get(r, math.nan) for r in self.names])
        self.captions = self._caption_list()

    def _caption_list(self) -> list[tuple[float, str]]:
        """``(time, text)`` of the decisions worth a caption: a rider going clear once (the
        first gap is the news), events of one kind at one instant on one line."""
        res = self.result
        out: list[tuple[float, str]] = []
        for g in event_groups(res.events, _CAPTIONS):
            first = g[0]
            who = ", ".join(e.rider for e in g)
            text = _CAPTIONS[first.kind].format(who=who, detail=first.detail)
            if len(g) > 1:
                text = text.replace(" is ", " are ").replace("attacks", "attack")
            out.append((first.time_s, text))
        if res.catch:
            c = res.catch
            out.append((c["time_s"], f"{c['by']} catches {c['attacker']}"))
        for k, r in enumerate(res.finish_order):
            t = res.finish_times[r]
            if not math.isfinite(t):
                continue
            text = f"{r} wins" if k == 0 else f"{r} {_ordinal(k + 1)}, +{res.margins[r]:.3f} s"
            out.append((t, text))
        out.sort(key=lambda c: c[0])
        return out

    def state(self, t: float, caption_s: float = CAPTION_S) -> FrameState:
        """The frame at race time ``t``, with captions from the last ``caption_s`` seconds."""
        tr, res = self.tr, self.result
        n = len(self.names)
        x = np.empty(n)
        for i, r in enumerate(self.names):
            pt, px = self.paths[r]
            x[i] = np.interp(t, pt, px)  # held at the line after the finish
        finished = np.isfinite(self.finish) & (self.finish <= t + 1e-9)
        tc = np.where(finished, self.finish, t)  # lane and speed as the rider crossed the line
        lane = np.array([np.interp(tc[i], tr.t, tr.lane_m[:, i]) for i in range(n)])
        v = np.array([np.interp(tc[i], tr.t, tr.v_ms[:, i]) for i in range(n)])
        xy = self.track.xy(np.mod(x, self.track.lap_m), lane)
        lead = int(np.argmax(x))
        derny = None
        if tr.derny_x_m is not None and t <= tr.t[-1]:
            xd = float(np.interp(t, tr.t, tr.derny_x_m))
            if math.isfinite(xd):
                derny = self.track.xy(np.mod(xd, self.track.lap_m), self.derny_lane_m)
        # the riders line up behind the start line: the board reads the race distance until
        # the leader crosses it (not "1502 m to go" in a 1,500 m race)
        m_to_go = min(res.race_m, max(0.0, res.race_m - float(x[lead])))
        laps = int(round(res.race_m / res.lap_m))
        board = min(laps, math.ceil(m_to_go / res.lap_m - 1e-9)) if m_to_go > 1e-9 else 0
        shown = [text for tt, text in self.captions if t - caption_s < tt <= t + 1e-9]
        return FrameState(
            t_s=float(t),
            names=self.names,
            x_m=x,
            lane_m=lane,
            xy=xy,
            speed_kmh=v * 3.6,
            gap_m=x[lead] - x,
            finished=finished,
            derny_xy=derny,
            leader=self.names[lead],
            m_to_go=m_to_go,
            laps_to_go=board,
            captions=shown[-MAX_CAPTIONS:],
        )


def track_and_lane(result: Result, scenario: Scenario | None) -> tuple[Track, float]:
    if scenario is None:
        return Track(lap_m=result.lap_m), LANE_M
    return scenario.track, scenario.lane_m


def frame_state(
    result: Result, t: float, scenario: Scenario | None = None, caption_s: float = CAPTION_S
) -> FrameState:
    """What the frame at race time ``t`` shows (see :class:`FrameState`): positions
    interpolated in the traces, mapped onto the scenario's track (default: the standard track
    of the race's lap), captions of the decisions of the last ``caption_s`` seconds."""
    track, lane = track_and_lane(result, scenario)
    return RaceView(result, track, lane).state(t, caption_s)
