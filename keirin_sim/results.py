"""What a race produced: finish order, margins, lap gaps, the event log and the traces."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .banking import potential_energy_j
from .moves import RaceStory, last_bend_exit_m, race_story
from .rider import Rider

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .race import Race


@dataclass(frozen=True)
class Event:
    """One entry of the event log: a decision or a state event."""

    time_s: float
    rider: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class LapGap:
    """Gaps when the first rider reaches a lap mark: metres behind that rider at that instant,
    and seconds later than that rider at the same mark."""

    laps_to_go: float
    leader: str
    gap_m: dict[str, float]
    gap_s: dict[str, float]


@dataclass
class Traces:
    """State of every rider every ``dt_s``: ``t`` (T,), and arrays (T, n) for ``x_m`` (distance from
    the start line), ``v_ms``, ``power_w`` (at the pedals), ``w_bal_j`` and ``lane_m`` (above
    the measurement line); ``derny_x_m`` (T,) is the derny's front wheel, NaN once it has left."""

    names: list[str]
    t: np.ndarray
    x_m: np.ndarray
    v_ms: np.ndarray
    power_w: np.ndarray
    w_bal_j: np.ndarray
    lane_m: np.ndarray
    derny_x_m: np.ndarray | None = None

    def to_dataframe(self) -> pd.DataFrame:
        """Long (tidy) table: one row per trace time and rider."""
        import pandas as pd

        T, n = self.x_m.shape
        return pd.DataFrame(
            {
                "t_s": np.repeat(self.t, n),
                "rider": np.tile(np.array(self.names, dtype=object), T),
                "x_m": self.x_m.ravel(),
                "v_ms": self.v_ms.ravel(),
                "power_w": self.power_w.ravel(),
                "w_bal_j": self.w_bal_j.ravel(),
                "lane_m": self.lane_m.ravel(),
            }
        )

    def to_csv(self, path: str | Path) -> None:
        """Write the long table as CSV."""
        self.to_dataframe().to_csv(path, index=False)


@dataclass
class Result:
    """The outcome of one race (see README for the fields)."""

    scenario: str
    names: list[str]
    race_m: float
    lap_m: float
    pull_off_m_to_go: float
    finish_order: list[str]
    finish_times: dict[str, float]
    margins: dict[str, float]
    last_200m_s: dict[str, float]
    top_speed_kmh: dict[str, float]
    peak_power_w: dict[str, float]
    w_left_j: dict[str, float]
    lap_gaps: list[LapGap]
    events: list[Event]
    catch: dict[str, Any] | None
    traces: Traces | None = None
    pull_off_time_s: float = math.nan
    #: per rider: work delivered to the wheel, drag, rolling (with bearings) and kinetic energy
    #: change (J), start to finish; the first equals the sum of the other three.
    energy_j: dict[str, dict[str, float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # what ``riders`` and ``story`` are built from, when first asked for (a Monte Carlo or a
    # benchmark that never reads them does not pay for them)
    _riders_from: tuple[Rider, ...] = field(default=(), repr=False)
    _story_from: Callable[[], RaceStory] | None = field(default=None, repr=False)

    @cached_property
    def riders(self) -> dict[str, dict[str, Any]]:
        """Per rider: where its physiology came from (``source``: ``"calibrated"`` from its
        flying 200 m, or ``"hand-set"``) and the parameters it raced with."""
        return {r.name: rider_record(r) for r in self._riders_from}

    @cached_property
    def story(self) -> RaceStory | None:
        """How the race was won (:mod:`keirin_sim.moves`): the winning move, the leader at the
        bell and its speed, the winner's last 200 m, the places at the lap marks."""
        return None if self._story_from is None else self._story_from()

    @property
    def winner(self) -> str:
        return self.finish_order[0]

    def gap_at(self, laps_to_go: float) -> LapGap:
        """The lap gap record at ``laps_to_go`` laps to go."""
        for g in self.lap_gaps:
            if abs(g.laps_to_go - laps_to_go) < 1e-9:
                return g
        raise KeyError(f"no lap gap at {laps_to_go} laps to go")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: ``finish``, ``lap_gaps``, ``events`` and the rest."""
        winner_t = self.finish_times[self.finish_order[0]]
        return {
            "scenario": self.scenario,
            "finish": [
                {
                    "rider": r,
                    "position": k + 1,
                    "time_s": round(self.finish_times[r], 4),
                    "margin_s": round(self.finish_times[r] - winner_t, 4),
                    "last_200m_s": round(self.last_200m_s[r], 4),
                    "top_speed_kmh": round(self.top_speed_kmh[r], 2),
                    "peak_power_w": round(self.peak_power_w[r], 1),
                    "w_left_j": round(self.w_left_j[r], 1),
                }
                for k, r in enumerate(self.finish_order)
            ],
            "lap_gaps": [
                {
                    "laps_to_go": g.laps_to_go,
                    "leader": g.leader,
                    "gap_m": {k: round(v, 3) for k, v in g.gap_m.items()},
                    "gap_s": {k: round(v, 4) for k, v in g.gap_s.items()},
                }
                for g in self.lap_gaps
            ],
            "events": [
                {"time_s": e.time_s, "rider": e.rider, "kind": e.kind, "detail": e.detail}
                for e in self.events
            ],
            "catch": self.catch,
            "how_won": None if self.story is None else self.story.to_dict(),
            "riders": self.riders,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (a value that is not a number, such as a missing time, is null)."""
        return json.dumps(_nan_to_none(self.to_dict()), indent=indent, allow_nan=False)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nan_to_none(v) for v in obj]
    return obj


def event_groups(
    events: Sequence[Event], kinds: Container[str], window_s: float = 0.0
) -> list[list[Event]]:
    """The events worth telling, grouped: only ``kinds``; a rider going clear once (its first
    ``gap_opened``: the first gap is the news); events of one kind within ``window_s`` of the
    first of them share a group (0: the same instant).  The event log of ``keirin-sim run``
    and the animation's captions both tell the race this way."""
    groups: list[list[Event]] = []
    clear: set[str] = set()
    for e in events:
        if e.kind not in kinds:
            continue
        if e.kind == "gap_opened":
            if e.rider in clear:
                continue
            clear.add(e.rider)
        g = groups[-1] if groups else None
        if (
            g
            and g[0].kind == e.kind
            and e.kind != "gap_opened"
            and (e.time_s - g[0].time_s <= window_s)
        ):
            g.append(e)
        else:
            groups.append([e])
    return groups


def catch_record(race: Race) -> dict[str, Any] | None:
    """The catch of the scenario's attacker in a finished race (``attacker``, ``time_s``,
    ``m_to_go``, ``by``), or None if there is no attacker or nobody caught it."""
    from . import kernel as K

    attacker = race.scenario.attacker
    t, x, by = race.catch[K.CR_T], race.catch[K.CR_X], race.catch[K.CR_BY]
    if attacker is None or math.isnan(t):
        return None
    return {
        "attacker": attacker,
        "time_s": float(t),
        "m_to_go": float(race.race_m - x),
        "by": race.names[int(by)],
    }


def build_result(race: Race) -> Result:
    """Collect a finished :class:`~keirin_sim.race.Race` into a :class:`Result`."""
    from . import kernel as K

    names = race.names
    fin = race.finish_t
    ft = dict(zip(names, fin, strict=True))
    order = sorted(names, key=ft.__getitem__)
    t0 = ft[order[0]]
    margins = {r: ft[r] - t0 for r in order}
    # plain Python floats from here on: reading numpy scalars one by one is slow
    marks = race.marks.tolist()
    lapt = race.lapt.tolist()
    lapx = race.lapx.tolist()
    near = [k for k, m in enumerate(marks) if abs(m - (race.race_m - 200.0)) < 1e-6]
    if near:
        k200 = near[0]
        last200 = {nm: fin[i] - lapt[i][k200] for i, nm in enumerate(names)}
    else:
        last200 = dict.fromkeys(names, math.nan)
    lap = race.scenario.track.lap_m
    # first rider at each mark, as numpy's argmax picks it (one call for all the marks)
    leads = np.argmax(race.lapx, axis=1).tolist()
    gaps = []
    for m, xm in enumerate(marks):
        ltg = (race.race_m - xm) / lap
        whole = round(ltg)
        if abs(ltg - whole) > 1e-9:
            continue
        xs = lapx[m]
        if math.isnan(xs[0]):
            continue
        lead = leads[m]
        xl = xs[lead]
        tl = lapt[lead][m]
        gaps.append(
            LapGap(
                laps_to_go=float(whole),
                leader=names[lead],
                gap_m={nm: xl - xs[i] for i, nm in enumerate(names)},
                gap_s={nm: lapt[i][m] - tl for i, nm in enumerate(names)},
            )
        )
    traces = None
    if race.traces_on:
        T = int(race.tr_n[0])
        tr = race.tr[:T]
        traces = Traces(
            names=list(names),
            t=race.tr_t[:T].copy(),
            x_m=tr[:, :, 0].copy(),
            v_ms=tr[:, :, 1].copy(),
            power_w=tr[:, :, 2].copy(),
            w_bal_j=tr[:, :, 3].copy(),
            lane_m=tr[:, :, 4].copy(),
            derny_x_m=tr[:, 0, 5].copy(),
        )
    events = race.events
    pull = [e.time_s for e in events if e.kind == "derny_off"]
    S = race.S.tolist()
    meff = race.PR[:, K.PR_MEFF].tolist()
    stats = race.stats.tolist()
    v0 = race.scenario.derny.start_kmh / 3.6
    energy = {
        nm: {
            "wheel_work_j": S[i][K.SE_IN],
            "drag_j": S[i][K.SE_AERO],
            "rolling_j": S[i][K.SE_ROLL],
            "kinetic_change_j": 0.5 * meff[i] * (S[i][K.SV] ** 2 - v0**2),
            # height on the banking (banking.py): zero on the riders' line, where all start
            "potential_change_j": potential_energy_j(
                race.scenario.track,
                S[i][K.SX],
                S[i][K.SLANE] - race.scenario.lane_m,
                race.PR.item(i, K.PR_MASS),
            ),
        }
        for i, nm in enumerate(names)
    }
    return Result(
        scenario=race.scenario.name,
        names=list(names),
        race_m=race.race_m,
        lap_m=lap,
        pull_off_m_to_go=race.scenario.derny.pull_off_m_to_go,
        finish_order=order,
        finish_times=ft,
        margins=margins,
        last_200m_s=last200,
        top_speed_kmh={nm: stats[i][K.ST_VMAX] * 3.6 for i, nm in enumerate(names)},
        peak_power_w={nm: stats[i][K.ST_PMAX] for i, nm in enumerate(names)},
        w_left_j=dict(zip(names, race.finish_w, strict=True)),
        lap_gaps=gaps,
        events=events,
        catch=catch_record(race),
        traces=traces,
        pull_off_time_s=pull[0] if pull else math.nan,
        energy_j=energy,
        _riders_from=tuple(e.rider for e in race.scenario.riders),
        # the crossing times only, not the race (whose trace buffers are large)
        _story_from=partial(
            race_story,
            list(names),
            marks,
            lapt,
            list(fin),
            race.race_m,
            lap,
            last_bend_exit_m(race.scenario.track, race.race_m),
        ),
    )


def rider_record(r: Rider) -> dict[str, Any]:
    """Where a rider's physiology came from and the parameters it raced with."""
    return {
        "source": r.source,
        "flying_200_s": r.flying_200_s,
        "pmax_w": round(r.pmax_w, 1),
        "cp_w": round(r.cp_w, 1),
        "w_prime_j": round(r.w_prime_j, 1),
        "mass_kg": round(r.mass_kg, 2),
        "cda_m2": round(r.cda_m2, 4),
        "development_m": round(r.development_m, 3),
    }
