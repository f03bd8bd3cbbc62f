"""Random streams and drawing one run's inputs from a sampling plan, then applying them to
the scenario.

Random streams: run ``i`` of a batch with seed ``s`` draws from
``numpy.random.SeedSequence(s, spawn_key=(i,))`` (the ``i``-th child of
``SeedSequence(s).spawn``), so the rows do not depend on the number of workers, the executor or
the chunking, and any run can be rebuilt alone (:func:`.runner.replay_run`).  A sweep uses the same
streams at every grid point (common random numbers: differences between points come from the
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.calibration import form_changes
from keirin_sim.scenario.scenario import Scenario
from keirin_sim.scenario.uncertainty import SamplingPlan

if TYPE_CHECKING:  # pragma: no cover
    pass


def run_stream(seed: int, run_index: int) -> np.random.Generator:
    """The random stream of run ``run_index``: ``SeedSequence(seed, spawn_key=(run_index,))``,
    the same as ``SeedSequence(seed).spawn(run_index + 1)[run_index]``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(run_index,)))
    )


def sample_inputs(
    plan: SamplingPlan, seed: int, runs: Sequence[int]
) -> tuple[np.ndarray, np.ndarray | None, list[int]]:
    """Inputs of ``runs``: values (runs x columns), start orders (runs x riders, scenario
    indices by start position) or None, and each race's own seed (``Scenario.seed``: the
    riders' choices on the day).  Each run uses only its own stream, in a fixed order: its
    normal draws, its uniform draws, the lot, the race's seed, then redraws of normals outside
    the bounds."""
    m = len(runs)
    nn, nu, n = plan.n_normal, plan.n_uniform, plan.n_riders
    Z = np.empty((m, nn))
    U = np.empty((m, nu))
    P = np.empty((m, n), dtype=np.int64) if plan.lot else None
    gens = []
    seeds: list[int] = []
    for k, r in enumerate(runs):
        g = run_stream(seed, int(r))
        if nn:
            Z[k] = g.standard_normal(nn)
        if nu:
            U[k] = g.random(nu)
        if P is not None and plan.lot_slots:  # a partial lot: the others keep their places
            slots = np.array(plan.lot_slots)
            P[k] = np.arange(n)
            P[k][slots] = slots[g.permutation(len(slots))]
        elif P is not None:
            P[k] = g.permutation(n)
        seeds.append(int(g.integers(2**62)))
        gens.append(g)
    X = np.empty((m, len(plan.columns)))
    if len(plan.nc):
        V = plan.mu + plan.sd * Z[:, plan.nd]
        bad = (V < plan.lo[plan.nc]) | (V > plan.hi[plan.nc])
        for k in np.flatnonzero(bad.any(axis=1)):
            for pos in plan.draw_cols:
                if not bad[k, pos].any():
                    continue
                mu, sd = plan.mu[pos], plan.sd[pos]
                lo, hi = plan.lo[plan.nc[pos]], plan.hi[plan.nc[pos]]
                while True:
                    v = mu + sd * gens[k].standard_normal()
                    if ((v >= lo) & (v <= hi)).all():
                        break
                V[k, pos] = v
        X[:, plan.nc] = V
    if len(plan.uc):
        X[:, plan.uc] = plan.ulo + plan.uw * U[:, plan.ud]
    for kc, kp in plan.cp_pmax:  # CP below Pmax: redraw the pair from the run's own stream
        for k in np.flatnonzero(X[:, kc] >= X[:, kp] - 1.0):
            while X[k, kc] >= X[k, kp] - 1.0:
                X[k, kc] = _redraw(plan, kc, gens[k])
                X[k, kp] = _redraw(plan, kp, gens[k])
    return X, P, seeds


def _redraw(plan: SamplingPlan, col: int, g: np.random.Generator) -> float:
    """One new value of column ``col`` from its own (truncated) distribution."""
    lo, hi = plan.lo[col], plan.hi[col]
    pos = np.flatnonzero(plan.nc == col)
    if len(pos):
        mu, sd = plan.mu[pos[0]], plan.sd[pos[0]]
        while True:
            v = mu + sd * g.standard_normal()
            if lo <= v <= hi:
                return float(v)
    j = int(np.flatnonzero(plan.uc == col)[0])
    return float(plan.ulo[j] + plan.uw[j] * g.random())


_FAST: dict[type, bool] = {}


def _replace(obj: Any, changes: dict[str, Any]) -> Any:
    """``dataclasses.replace`` without the constructor's cost for plain frozen dataclasses
    (the values were checked against the bounds when sampled)."""
    cls = type(obj)
    fast = _FAST.get(cls)
    if fast is None:
        fast = _FAST[cls] = (
            dataclasses.is_dataclass(cls)
            and not hasattr(cls, "__post_init__")
            and "__slots__" not in cls.__dict__
        )
    if not fast:
        return dataclasses.replace(obj, **changes)
    new = object.__new__(cls)
    d = new.__dict__
    d.update(obj.__dict__)
    d.update(changes)
    return new


def apply_inputs(
    base: Scenario,
    plan: SamplingPlan,
    row: Sequence[float],
    perm: Sequence[int] | None,
    seed: int = 0,
):
    riders = list(base.riders)
    for i, rf, tf in plan.apply:
        e = riders[i]
        r = e.rider
        if rf:
            vals = {f: row[c] for f, c in rf}
            t200 = vals.pop("flying_200_s", None)
            if t200 is not None:  # form on the day: the physiology moves with the time
                vals = {**form_changes(r, t200), **vals}
            r = _replace(r, vals)
        t = _replace(e.tactic, {f: row[c] for f, c in tf}) if tf else e.tactic
        riders[i] = _replace(e, {"rider": r, "tactic": t})
    if perm is not None:
        riders = [riders[k] for k in perm]
    changes: dict[str, Any] = {"riders": tuple(riders), "seed": seed}
    for f, c in plan.top:
        changes[f] = row[c]
    return _replace(base, changes)
