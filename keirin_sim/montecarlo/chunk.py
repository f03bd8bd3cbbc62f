"""One chunk of runs: draw the inputs, race them, and return the rows as numpy columns (the
work every executor sends to its workers)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from keirin_sim.engine.race import RaceError
from keirin_sim.montecarlo.jobs import Point
from keirin_sim.montecarlo.sampling import apply_inputs, sample_inputs
from keirin_sim.simulation import simulate_outcome

if TYPE_CHECKING:  # pragma: no cover
    pass


# --- one chunk of runs -----------------------------------------------------------------------
def run_chunk(
    seed: int, point: Point, start: int, stop: int, params: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """Simulate runs ``start..stop-1`` of ``point``; columns as numpy arrays (see
    :func:`~keirin_sim.montecarlo.runner.run_batch` for the names)."""
    plan, base = point.plan, point.base
    names = [e.rider.name for e in base.riders]
    n = len(names)
    runs = range(start, stop)
    m = len(runs)
    X, P, seeds = sample_inputs(plan, seed, runs)
    winner = np.empty(m, dtype=object)
    c_m = np.full(m, np.nan)
    c_t = np.full(m, np.nan)
    c_by = np.empty(m, dtype=object)
    err = np.empty(m, dtype=object)
    # how each race was won (moves.py)
    move = np.empty(m, dtype=object)
    bell = np.empty(m, dtype=object)
    bell_v = np.full(m, np.nan)
    win_bell_v = np.full(m, np.nan)
    win_200 = np.full(m, np.nan)
    laps_to_go = list(range(base.laps - 1, 0, -1))
    place_rows = [[0] * (n * len(laps_to_go)) for _ in range(m)]
    rows = X.tolist()
    perms = P.tolist() if P is not None else None
    # positions and times filled as Python lists (numpy item assignment costs several times as
    # much); a run that failed keeps position 0 and no times
    pos_rows = [[0] * n for _ in range(m)]
    time_rows = [[math.nan] * n for _ in range(m)]
    ident = list(range(n))
    for k in range(m):
        perm = perms[k] if perms is not None else None
        sc = apply_inputs(base, plan, rows[k], perm, seeds[k])
        try:
            out = simulate_outcome(sc)
        except RaceError as e:
            err[k] = " ".join(str(e).split()) or type(e).__name__
            continue
        except Exception as e:  # an engine failure must not cost the other runs
            err[k] = " ".join(f"{type(e).__name__}: {e}".split())
            continue
        # scenario position j holds the base scenario's rider rider_of[j]; the finish order is
        # the one Result.finish_order gives (a stable sort of the scenario's order)
        rider_of = perm if perm is not None else ident
        ft = out.finish_times
        order = sorted(range(n), key=ft.__getitem__)
        prow = pos_rows[k]
        trow = time_rows[k]
        for j, s in enumerate(order):
            i = rider_of[s]
            prow[i] = j + 1
            trow[i] = ft[s]
        winner[k] = names[rider_of[order[0]]]
        st = out.story
        move[k] = st.winning_move
        bell[k] = st.bell_leader
        bell_v[k] = st.bell_leader_speed_kmh
        win_bell_v[k] = st.winner_bell_speed_kmh
        win_200[k] = st.winner_last_200m_s
        plrow = place_rows[k]
        for s_i, nm_s in enumerate(sc.names):
            i = rider_of[s_i]
            got = st.places.get(nm_s, {})
            for q, ltg in enumerate(laps_to_go):
                plrow[q * n + i] = got.get(ltg, 0)
        c = out.catch
        if c is not None:
            c_m[k] = c["m_to_go"]
            c_t[k] = c["time_s"]
            c_by[k] = c["by"]
    pos = np.array(pos_rows, dtype=np.int8).reshape(m, n)
    times = np.array(time_rows, dtype=float).reshape(m, n)
    best = np.where(np.isnan(times), np.inf, times).min(axis=1)
    best[np.isinf(best)] = np.nan
    margins = times - best[:, None]
    srt = np.sort(times, axis=1)
    cols: dict[str, np.ndarray] = {}
    if params:
        cols["point"] = np.full(m, point.index, dtype=np.int64)
        for p, v in zip(params, point.values, strict=True):
            cols[p] = np.full(m, v, dtype=object if isinstance(v, str) else None)
    cols["run"] = np.arange(start, stop, dtype=np.int64)
    for j, c in enumerate(plan.columns):
        cols[c] = X[:, j]
    if P is not None:
        start_pos = np.argsort(P, axis=1) + 1
        for i, nm in enumerate(names):
            cols[f"start.{nm}"] = start_pos[:, i].astype(np.int8)
    cols["winner"] = winner
    cols["winning_margin_s"] = srt[:, 1] - srt[:, 0] if n > 1 else np.full(m, np.nan)
    for i, nm in enumerate(names):
        cols[f"pos.{nm}"] = pos[:, i]
    for i, nm in enumerate(names):
        cols[f"time.{nm}"] = times[:, i]
    for i, nm in enumerate(names):
        cols[f"margin.{nm}"] = margins[:, i]
    cols["winning_move"] = move
    cols["bell_leader"] = bell
    cols["bell_speed_kmh"] = bell_v
    cols["winner_bell_speed_kmh"] = win_bell_v
    cols["winner_last_200m_s"] = win_200
    places = np.array(place_rows, dtype=np.int8).reshape(m, len(laps_to_go) * n)
    for q, ltg in enumerate(laps_to_go):
        for i, nm in enumerate(names):
            cols[f"place{ltg}.{nm}"] = places[:, q * n + i]
    cols["caught"] = ~np.isnan(c_m)
    cols["catch_m_to_go"] = c_m
    cols["catch_time_s"] = c_t
    cols["caught_by"] = c_by
    cols["error"] = err
    return cols
