"""How a keirin was won: the winning move, the leader at the bell, the places at the lap marks.

The three moves follow the Japanese keirin statistics of validation-data.md section 3
(definitions pulsar-cycles.com):

- ``from_the_front`` (*nige*): the leader at the bell holds on and wins;
- ``round_the_outside`` (*makuri*): the winner passed the leader before the final straight
  (it leads out of the last bend);
- ``late_in_the_straight`` (*sashi*): the winner comes past in the final straight.

Modelling choices where the definitions are loose: the bell is the lap mark one lap before the
finish; the final straight starts where the last bend ends (the track's bend 2, through its
transition); a rider's speed at the bell is its mean speed from the bell to 200 m to go.
Everything is read from the times at which each rider crossed the marks the kernel records, so
the Monte Carlo's races (which keep no traces) tell it too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from keirin_sim.model.track import Track

WINNING_MOVES = ("from_the_front", "round_the_outside", "late_in_the_straight")


def last_bend_exit_m(track: Track, race_m: float) -> float:
    """Distance from the start at which the final straight begins (the end of the last bend)."""
    return race_m - track.lap_m + track.bends()[3]


@dataclass(frozen=True)
class RaceStory:
    """How one race was won (see the module docstring)."""

    winning_move: str | None
    bell_leader: str | None
    bell_leader_speed_kmh: float
    winner_bell_speed_kmh: float
    winner_last_200m_s: float
    #: rider -> {laps to go: place when crossing that lap mark}
    places: dict[str, dict[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "winning_move": self.winning_move,
            "bell_leader": self.bell_leader,
            "bell_leader_speed_kmh": _round(self.bell_leader_speed_kmh, 2),
            "winner_bell_speed_kmh": _round(self.winner_bell_speed_kmh, 2),
            "winner_last_200m_s": _round(self.winner_last_200m_s, 4),
            "places": {nm: {str(k): v for k, v in p.items()} for nm, p in self.places.items()},
        }


def _round(v: float, nd: int) -> float | None:
    return round(v, nd) if math.isfinite(v) else None


def _first(lapt: Sequence[Sequence[float]], m: int) -> int:
    """Index of the first rider across mark ``m`` (-1 if nobody crossed it)."""
    best, who = math.inf, -1
    for i, row in enumerate(lapt):
        t = row[m]
        if t < best:  # NaN never is
            best, who = t, i
    return who


def race_story(
    names: Sequence[str],
    marks: Sequence[float],
    lapt: Sequence[Sequence[float]],
    finish_t: Sequence[float],
    race_m: float,
    lap_m: float,
    exit_m: float,
) -> RaceStory:
    """The story of a finished race from the mark crossing times ``lapt`` (rider x mark, NaN
    where a rider did not cross) and the finish times."""
    n = len(names)
    if not n or any(math.isnan(t) for t in finish_t):
        return RaceStory(None, None, math.nan, math.nan, math.nan)
    winner = min(range(n), key=finish_t.__getitem__)

    def mark_index(x: float) -> int:
        for k, m in enumerate(marks):
            if abs(m - x) < 1e-6:
                return k
        return -1

    k_bell = mark_index(race_m - lap_m)
    k_200 = mark_index(race_m - 200.0)
    k_exit = mark_index(exit_m)
    places: dict[str, dict[int, int]] = {nm: {} for nm in names}
    for k, m in enumerate(marks):
        ltg = (race_m - m) / lap_m
        whole = round(ltg)
        if abs(ltg - whole) > 1e-9 or whole < 1:
            continue
        # crossing order (a rider who never crossed, NaN, last); sorted() is stable
        col = [row[k] if row[k] == row[k] else math.inf for row in lapt]
        for p, i in enumerate(sorted(range(n), key=col.__getitem__)):
            places[names[i]][whole] = p + 1
    bell = _first(lapt, k_bell) if k_bell >= 0 else -1
    out = _first(lapt, k_exit) if k_exit >= 0 else -1
    if bell < 0:
        move = None
    elif winner == bell:
        move = "from_the_front"
    elif winner == out:
        move = "round_the_outside"
    else:
        move = "late_in_the_straight"

    def bell_speed(i: int) -> float:
        if i < 0 or k_bell < 0 or k_200 < 0 or lap_m <= 200.0:
            return math.nan
        dt = lapt[i][k_200] - lapt[i][k_bell]
        return (lap_m - 200.0) / dt * 3.6 if dt > 0 else math.nan

    last200 = finish_t[winner] - lapt[winner][k_200] if k_200 >= 0 else math.nan
    return RaceStory(
        winning_move=move,
        bell_leader=names[bell] if bell >= 0 else None,
        bell_leader_speed_kmh=bell_speed(bell),
        winner_bell_speed_kmh=bell_speed(winner),
        winner_last_200m_s=last200,
        places=places,
    )


__all__ = ["WINNING_MOVES", "RaceStory", "last_bend_exit_m", "race_story"]
