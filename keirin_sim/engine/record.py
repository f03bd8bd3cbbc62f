"""Building a :class:`~keirin_sim.results.Result` from a finished race: the engine's arrays
and the kernel's column layout read in one place, so the results stay plain data."""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Protocol

import numpy as np

from keirin_sim.engine import kernel as K
from keirin_sim.engine.spec import RaceSpec
from keirin_sim.model.banking import height_m
from keirin_sim.results.result import (
    LapGap,
    RaceEvent,
    Result,
    Traces,
)
from keirin_sim.results.story import last_bend_exit_m, race_story


class FinishedRace(Protocol):
    """What a result is built from: a finished :class:`~keirin_sim.engine.race.Race`."""

    scenario: RaceSpec
    names: list[str]
    race_m: float
    finish_t: list[float]
    finish_w: list[float]
    marks: np.ndarray
    lapt: np.ndarray
    lapx: np.ndarray
    catch: np.ndarray
    traces_on: bool
    tr_t: np.ndarray
    tr: np.ndarray
    tr_n: np.ndarray
    S: np.ndarray
    PR: np.ndarray
    stats: np.ndarray

    @property
    def events(self) -> list[RaceEvent]: ...


def catch_record(race: FinishedRace) -> dict[str, Any] | None:
    """The catch of the scenario's attacker in a finished race (``attacker``, ``time_s``,
    ``m_to_go``, ``by``), or None if there is no attacker or nobody caught it."""
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


def build_result(race: FinishedRace) -> Result:
    """Collect a finished :class:`~keirin_sim.engine.race.Race` into a :class:`Result`."""
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
    # all riders' heights in one vectorised call (a scalar call per rider cost ~0.1 ms a race)
    pot = (
        race.PR[:, K.PR_MASS]
        * 9.81
        * height_m(race.scenario.track, race.S[:, K.SX], race.S[:, K.SLANE] - race.scenario.lane_m)
    ).tolist()
    energy = {
        nm: {
            "wheel_work_j": S[i][K.SE_IN],
            "drag_j": S[i][K.SE_AERO],
            "rolling_j": S[i][K.SE_ROLL],
            "kinetic_change_j": 0.5 * meff[i] * (S[i][K.SV] ** 2 - v0**2),
            # height on the banking (model.banking): zero on the riders' line, where all start
            "potential_change_j": pot[i],
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
