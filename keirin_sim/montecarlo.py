"""Batch Monte Carlo: uncertain inputs, many races, win probabilities, sweeps.

A scenario may declare what is uncertain in an ``[uncertainty]`` section::

    [uncertainty]
    start_order = "lot"                                  # positions drawn by lot (UCI 3.2.138)
    air_density = {dist = "uniform", low = 1.15, high = 1.20}

    [uncertainty.all]                                    # every rider, one draw each
    pmax_w = {dist = "normal", rel_sd = 0.03}            # 3 % of each rider's own Pmax

    [uncertainty.field]                                  # every rider but the attacker
    hesitation_s = {dist = "uniform", low = 0.0, high = 4.0}

    [uncertainty."Jason Kenny"]                          # one rider; wins over field and all
    pmax_w = {dist = "normal", sd = 60}

Distributions (numbers in the units of the field):

- ``{dist = "normal", sd = S}`` or ``rel_sd = R`` (a fraction of the nominal value): centred on
  the scenario's value, or on ``mean``; ``low``/``high`` truncate it further;
- ``{dist = "uniform", low = A, high = B}``, or ``plus_minus = D`` (nominal +- D), or
  ``rel_plus_minus = R`` (nominal +- R * nominal).

In ``field`` and ``all`` a spec may say ``shared = true``: one draw per race for all those riders
(the whole field hesitating together) instead of one each.

Every sampled value stays inside the physical bounds that
:meth:`~keirin_sim.scenario.Scenario.set_param` enforces (``RIDER_BOUNDS``, ``TACTIC_BOUNDS``
in scenario.py): normal draws outside them are drawn again from the same stream (a truncated
normal), uniform ranges are cut to them; marks stay inside the race; and CP stays below Pmax
(when both are uncertain they are cut at the midpoint of their nominal values, otherwise at the
other one's nominal value, with 1 W to spare).

Random streams: run ``i`` of a batch with seed ``s`` draws from
``numpy.random.SeedSequence(s, spawn_key=(i,))`` (the ``i``-th child of
``SeedSequence(s).spawn``), so the rows do not depend on the number of workers, the executor or
the chunking, and any run can be rebuilt alone (:func:`replay_run`).  A sweep uses the same
streams at every grid point (common random numbers: differences between points come from the
swept parameters, not from noise).

Rows (one per race, see :func:`run_batch`) are written a chunk at a time into
``<out>.parts/`` (one complete Parquet file per chunk, renamed into place) and joined into
``out`` (Parquet or CSV by extension) at the end; an interrupted batch (Ctrl-C, SIGTERM, a killed
worker) writes what it has into ``out`` and keeps ``<out>.parts/``; after SIGKILL the chunk
files are still valid.  ``resume=True`` (``--resume``) runs only the missing chunks.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .scenario import (
    RIDER_BOUNDS,
    TACTIC_BOUNDS,
    TOP_BOUNDS,
    Scenario,
    ScenarioError,
    load_scenario,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa

    from .results import Result

#: Two-sided 95 % normal quantile, for Wilson intervals.
Z95 = 1.959963984540054
DISTS = ("normal", "uniform")
START_ORDERS = ("fixed", "lot")
#: Top-level scenario values that may be uncertain.
TOP_UNCERTAIN = ("air_density",)
#: Tactic marks (metres to go) that must stay inside the race.
_MARKS = ("launch_m_to_go", "attack_m_to_go", "move_up_m_to_go", "let_gap_at_m_to_go")
_FIELD_ORDER = {f: k for k, f in enumerate([*RIDER_BOUNDS, *TACTIC_BOUNDS])}
#: A normal spec must put at least this share of its draws inside the bounds.
MIN_ACCEPTANCE = 0.01
#: Output formats by extension.
OUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
#: Largest chunk of runs one task simulates.
MAX_CHUNK = 1000
_FORMAT_VERSION = 1
_SPEC_KEYS = {
    "normal": ("dist", "sd", "rel_sd", "mean", "low", "high", "shared"),
    "uniform": ("dist", "low", "high", "plus_minus", "rel_plus_minus", "shared"),
}


class IneffectiveParameterWarning(UserWarning):
    """A swept parameter that changes nothing: the tactic of every rider it applies to never
    reads it (a launch point for a rider whose tactic is an attack...)."""


def _ineffective(sc: Scenario, paths: Sequence[str]) -> list[str]:
    """What is wrong with each swept tactic field that no rider it applies to reads."""
    from .tactics import ignores

    out = []
    for path in paths:
        head, _, fld = path.rpartition(".")
        if fld not in TACTIC_BOUNDS:
            continue
        targets = sc.param_riders(head)
        if targets is None:
            continue
        kinds = {sc.riders[sc.rider_index(n)].tactic.kind for n in targets}
        if targets and all(ignores(k, fld) for k in kinds):
            who = targets[0] if len(targets) == 1 else f"{head} ({', '.join(targets)})"
            use = "attack_m_to_go" if kinds == {"attack"} else "launch_m_to_go"
            out.append(
                f"{path}: the tactic of {who} is {' / '.join(sorted(kinds))!r}, which does not "
                f"read {fld}: this parameter changes nothing (sweep {use}, or set the kind)"
            )
    return out


class BatchError(ValueError):
    """A batch that cannot run (bad output path, a mismatched ``--resume``, no Dask...).  The
    message is one line: ``"<file or option>: <key>: <problem>"``."""


class BatchInterrupted(RuntimeError):
    """The batch stopped early: ``reason`` is ``"interrupted"`` (Ctrl-C), ``"terminated"``
    (SIGTERM) or ``"worker died"``.  ``done`` of ``total`` runs are kept in ``out`` (and its
    ``.parts`` directory, for ``resume=True``)."""

    def __init__(self, reason: str, done: int, total: int, out: Path | None, detail: str = ""):
        self.reason, self.done, self.total, self.out = reason, done, total, out
        self.detail = detail
        where = (
            f"{done} of {total} runs kept in {out}; run again with --resume (resume=True) "
            "to complete them"
            if out is not None
            else f"{done} of {total} runs done, none kept (no output file)"
        )
        super().__init__(f"{reason}{f' ({detail})' if detail else ''}: {where}")

    @property
    def exit_code(self) -> int:
        return {"interrupted": 130, "terminated": 143}.get(self.reason, 1)


# --- the [uncertainty] section ---------------------------------------------------------------
@dataclass(frozen=True)
class Dist:
    """One distribution from the ``[uncertainty]`` section (see the module docstring)."""

    dist: str
    sd: float | None = None
    rel_sd: float | None = None
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    plus_minus: float | None = None
    rel_plus_minus: float | None = None
    shared: bool = False


@dataclass(frozen=True)
class Uncertainty:
    """The validated ``[uncertainty]`` section: ``specs`` are ``(target, field, Dist, key)``
    with target a rider name, ``"field"``, ``"all"`` or ``""`` (a top-level value)."""

    specs: tuple[tuple[str, str, Dist, str], ...] = ()
    start_order: str = "fixed"


def _err(src: str, key: str, msg: str) -> ScenarioError:
    return ScenarioError(" ".join(f"{src}: {key}: {msg}".split()))


def _num(src: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _err(src, key, f"must be a finite number, got {v!r}")
    return float(v)


def _parse_dist(src: str, key: str, raw: Any, group: bool) -> Dist:
    if not isinstance(raw, dict):
        raise _err(src, key, f'must be a table like {{dist = "normal", sd = 60}}, got {raw!r}')
    kind = raw.get("dist")
    if kind is None:
        raise _err(src, f"{key}.dist", f"missing key (one of {', '.join(DISTS)})")
    if kind not in DISTS:
        raise _err(src, f"{key}.dist", f"{kind!r} is not one of {', '.join(DISTS)}")
    allowed = _SPEC_KEYS[kind]
    vals: dict[str, Any] = {}
    for k, v in raw.items():
        if k == "dist":
            continue
        if k not in allowed:
            raise _err(
                src, f"{key}.{k}", f"unknown key for a {kind} spec (known: {', '.join(allowed)})"
            )
        if k == "shared":
            if not group:
                raise _err(src, f"{key}.shared", "only for [uncertainty.field] and .all")
            if not isinstance(v, bool):
                raise _err(src, f"{key}.shared", f"must be true or false, got {v!r}")
            vals[k] = v
        else:
            vals[k] = _num(src, f"{key}.{k}", v)
    d = Dist(kind, **vals)
    if kind == "normal":
        given = [k for k in ("sd", "rel_sd") if k in vals]
        if len(given) != 1:
            raise _err(src, key, "give exactly one of sd and rel_sd")
        if vals[given[0]] <= 0:
            raise _err(src, f"{key}.{given[0]}", f"must be positive, got {vals[given[0]]!r}")
        if d.rel_sd is not None and d.rel_sd > 1:
            raise _err(src, f"{key}.rel_sd", f"is a fraction of the value, got {d.rel_sd!r}")
    else:
        forms = [k for k in ("plus_minus", "rel_plus_minus") if k in vals]
        bounds = [k for k in ("low", "high") if k in vals]
        if bounds and forms or len(forms) > 1 or (not forms and len(bounds) != 2):
            raise _err(src, key, "give low and high, or plus_minus, or rel_plus_minus")
        if forms and vals[forms[0]] <= 0:
            raise _err(src, f"{key}.{forms[0]}", f"must be positive, got {vals[forms[0]]!r}")
        if d.rel_plus_minus is not None and d.rel_plus_minus > 1:
            raise _err(
                src,
                f"{key}.rel_plus_minus",
                f"is a fraction of the value, got {d.rel_plus_minus!r}",
            )
    if d.low is not None and d.high is not None and not d.low < d.high:
        raise _err(src, f"{key}.high", f"{d.high!r} must be above low {d.low!r}")
    return d


def parse_uncertainty(
    scenario: Scenario, table: Mapping[str, Any] | None = None, check: bool = True
) -> Uncertainty:
    """Validate the scenario's ``[uncertainty]`` section (or ``table``).  Problems raise
    :class:`~keirin_sim.scenario.ScenarioError` ``"<file>: uncertainty.<key>: <problem>"``.
    ``check`` also resolves every spec against the scenario's values (a relative spread of a
    value that is not set, a spread far wider than the physical range...)."""
    src = scenario.source
    raw = scenario.extra.get("uncertainty", {}) if table is None else table
    if not isinstance(raw, Mapping):
        raise _err(src, "uncertainty", "must be a table ([uncertainty])")
    names = scenario.names
    specs: list[tuple[str, str, Dist, str]] = []
    start_order = "fixed"
    for k, v in raw.items():
        key = f"uncertainty.{k}"
        if k == "start_order":
            if v not in START_ORDERS:
                raise _err(src, key, f"{v!r} is not one of {', '.join(map(repr, START_ORDERS))}")
            start_order = v
        elif k in TOP_UNCERTAIN:
            specs.append(("", k, _parse_dist(src, key, v, False), key))
        elif k in ("field", "all") or k in names:
            if not isinstance(v, Mapping):
                raise _err(src, key, "must be a table of field = {dist = ...} specs")
            for f, spec in v.items():
                fkey = f"{key}.{f}"
                if f not in RIDER_BOUNDS and f not in TACTIC_BOUNDS:
                    known = ", ".join([*RIDER_BOUNDS, *TACTIC_BOUNDS])
                    raise _err(
                        src, fkey, f"not an uncertain rider or tactic field (known: {known})"
                    )
                specs.append((k, f, _parse_dist(src, fkey, spec, k in ("field", "all")), fkey))
        elif isinstance(v, Mapping) and "dist" not in v:
            raise _err(
                src, key, f"no rider named {k!r} (riders: {', '.join(names)}; or use field, all)"
            )
        else:
            raise _err(
                src,
                key,
                f"unknown key (known: start_order, {', '.join(TOP_UNCERTAIN)}, "
                "field, all, or a rider's name)",
            )
    unc = Uncertainty(tuple(specs), start_order)
    if check:
        _build_plan(scenario, unc)  # nominal values, bounds and spreads of this scenario
    return unc


# --- sampling plan ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Plan:
    """How to draw one run's inputs and apply them (built once per grid point)."""

    columns: tuple[str, ...]
    lo: np.ndarray  # per column: truncation bounds
    hi: np.ndarray
    n_normal: int
    n_uniform: int
    nc: np.ndarray  # columns drawn from normal draws
    nd: np.ndarray  # their draw index
    mu: np.ndarray
    sd: np.ndarray
    uc: np.ndarray  # columns drawn from uniform draws
    ud: np.ndarray
    ulo: np.ndarray
    uw: np.ndarray
    draw_cols: tuple[np.ndarray, ...]  # per normal draw: positions in nc
    apply: tuple[tuple[int, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]], ...]
    top: tuple[tuple[str, int], ...]
    lot: bool
    n_riders: int


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _targets(scenario: Scenario, target: str) -> list[int]:
    names = scenario.names
    if target == "":
        return [-1]
    if target == "all":
        return list(range(len(names)))
    if target == "field":
        return [i for i, n in enumerate(names) if n != scenario.attacker]
    return [names.index(target)]


def _build_plan(
    scenario: Scenario, unc: Uncertainty, overridden: frozenset[tuple[int, str]] = frozenset()
) -> _Plan:
    """Resolve the specs against ``scenario`` (nominal values, bounds); ``overridden``
    ``(rider index or -1, field)`` pairs are set by a sweep and not sampled."""
    src = scenario.source
    names = scenario.names
    level = {"all": 0, "field": 1, "": 3}
    chosen: dict[tuple[int, str], tuple[int, Dist, str, tuple[str, str] | None]] = {}
    for target, fld, d, key in unc.specs:
        lv = level.get(target, 2)
        for i in _targets(scenario, target):
            if (i, fld) in overridden:
                continue
            prev = chosen.get((i, fld))
            if prev is None or lv > prev[0]:
                chosen[(i, fld)] = (lv, d, key, (target, fld) if d.shared else None)
    order = sorted(chosen, key=lambda p: (p[0], _FIELD_ORDER.get(p[1], -1), p[1]))
    race_m = scenario.race_m
    cols: list[dict[str, Any]] = []
    for i, fld in order:
        _, d, key, group = chosen[(i, fld)]
        if i < 0:
            kind, nominal, (lo, hi) = "top", getattr(scenario, fld), TOP_BOUNDS[fld]
            name = fld
        else:
            e = scenario.riders[i]
            kind = "rider" if fld in RIDER_BOUNDS else "tactic"
            obj = e.rider if kind == "rider" else e.tactic
            nominal = getattr(obj, fld)
            lo, hi = (RIDER_BOUNDS if kind == "rider" else TACTIC_BOUNDS)[fld]
            name = f"{names[i]}.{fld}"
        lo, hi = float(lo), float(hi)
        if fld in _MARKS:
            hi = min(hi, race_m - 0.01)
        cols.append(
            dict(
                i=i,
                fld=fld,
                d=d,
                key=key,
                group=group,
                kind=kind,
                nominal=nominal,
                lo=lo,
                hi=hi,
                name=name,
            )
        )
    # CP stays below Pmax
    by = {(c["i"], c["fld"]): c for c in cols}
    for i in range(len(names)):
        cp, pm = by.get((i, "cp_w")), by.get((i, "pmax_w"))
        r = scenario.riders[i].rider
        if cp and pm:
            m = 0.5 * (r.cp_w + r.pmax_w)
            cp["hi"], pm["lo"] = min(cp["hi"], m - 0.5), max(pm["lo"], m + 0.5)
        elif cp:
            cp["hi"] = min(cp["hi"], r.pmax_w - 1.0)
        elif pm:
            pm["lo"] = max(pm["lo"], r.cp_w + 1.0)
    # resolve each distribution
    for c in cols:
        d, key, nominal = c["d"], c["key"], c["nominal"]
        who = (
            f" (for {names[c['i']]})"
            if c["i"] >= 0 and not key.startswith(f"uncertainty.{names[c['i']]}.")
            else ""
        )
        needs_nominal = (
            d.rel_sd is not None
            or d.rel_plus_minus is not None
            or (d.plus_minus is not None)
            or (d.dist == "normal" and d.mean is None)
        )
        if needs_nominal and nominal is None:
            raise _err(
                src,
                key,
                f"{c['fld']} is not set{who}, so there is no value to centre "
                "on: give mean (normal) or low and high (uniform)",
            )
        lo, hi = c["lo"], c["hi"]
        phys = f"[{lo:g}, {hi:g}]"
        if d.dist == "normal":
            mu = float(nominal) if d.mean is None else d.mean
            if not lo <= mu <= hi:
                raise _err(src, f"{key}.mean", f"{mu:g} is outside the physical range {phys}{who}")
            sd = d.sd if d.sd is not None else d.rel_sd * abs(float(nominal))
            if not sd > 0:
                raise _err(
                    src,
                    f"{key}.rel_sd",
                    f"{c['fld']} is {nominal!r}{who}, so a relative spread is zero: give sd",
                )
            lo = lo if d.low is None else max(lo, d.low)
            hi = hi if d.high is None else min(hi, d.high)
            if not lo < hi:
                raise _err(src, key, f"low/high leave nothing of the physical range {phys}{who}")
            c.update(mu=mu, sd=sd, lo=lo, hi=hi)
        else:
            if d.low is not None:
                a, b = d.low, d.high
            else:
                w = (
                    d.plus_minus
                    if d.plus_minus is not None
                    else (d.rel_plus_minus * abs(float(nominal)))
                )
                a, b = float(nominal) - w, float(nominal) + w
                if not w > 0:
                    raise _err(
                        src,
                        f"{key}.rel_plus_minus",
                        f"{c['fld']} is {nominal!r}{who}, "
                        "so a relative spread is zero: give plus_minus",
                    )
            a, b = max(a, lo), min(b, hi)
            if not a < b:
                raise _err(src, key, f"the range lies outside the physical range {phys}{who}")
            c.update(lo=a, hi=b)
    # draws: one per column, or one per shared group
    normal_draw: dict[Any, int] = {}
    uniform_draw: dict[Any, int] = {}
    for k, c in enumerate(cols):
        table = normal_draw if c["d"].dist == "normal" else uniform_draw
        gk = c["group"] if c["group"] is not None else ("col", k)
        c["draw"] = table.setdefault(gk, len(table))
    ncols = [k for k, c in enumerate(cols) if c["d"].dist == "normal"]
    ucols = [k for k, c in enumerate(cols) if c["d"].dist == "uniform"]
    draw_cols = []
    for dr in range(len(normal_draw)):
        pos = [j for j, k in enumerate(ncols) if cols[k]["draw"] == dr]
        zlo = max((cols[ncols[j]]["lo"] - cols[ncols[j]]["mu"]) / cols[ncols[j]]["sd"] for j in pos)
        zhi = min((cols[ncols[j]]["hi"] - cols[ncols[j]]["mu"]) / cols[ncols[j]]["sd"] for j in pos)
        acc = _phi(zhi) - _phi(zlo) if zhi > zlo else 0.0
        if acc < MIN_ACCEPTANCE:
            c = cols[ncols[pos[0]]]
            raise _err(
                src,
                c["key"],
                f"only {100 * acc:.2g} % of the draws fall inside the "
                f"bounds [{c['lo']:g}, {c['hi']:g}]: narrow sd or use dist = "
                '"uniform"',
            )
        draw_cols.append(np.array(pos, dtype=np.int64))
    apply = []
    for i in range(len(names)):
        rf = tuple(
            (c["fld"], k) for k, c in enumerate(cols) if c["i"] == i and c["kind"] == "rider"
        )
        tf = tuple(
            (c["fld"], k) for k, c in enumerate(cols) if c["i"] == i and c["kind"] == "tactic"
        )
        if rf or tf:
            apply.append((i, rf, tf))
    f64 = lambda xs: np.array(xs, dtype=np.float64)  # noqa: E731
    i64 = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
    return _Plan(
        columns=tuple(c["name"] for c in cols),
        lo=f64([c["lo"] for c in cols]),
        hi=f64([c["hi"] for c in cols]),
        n_normal=len(normal_draw),
        n_uniform=len(uniform_draw),
        nc=i64(ncols),
        nd=i64([cols[k]["draw"] for k in ncols]),
        mu=f64([cols[k]["mu"] for k in ncols]),
        sd=f64([cols[k]["sd"] for k in ncols]),
        uc=i64(ucols),
        ud=i64([cols[k]["draw"] for k in ucols]),
        ulo=f64([cols[k]["lo"] for k in ucols]),
        uw=f64([cols[k]["hi"] - cols[k]["lo"] for k in ucols]),
        draw_cols=tuple(draw_cols),
        apply=tuple(apply),
        top=tuple((c["fld"], k) for k, c in enumerate(cols) if c["kind"] == "top"),
        lot=unc.start_order == "lot",
        n_riders=len(names),
    )


def run_stream(seed: int, run_index: int) -> np.random.Generator:
    """The random stream of run ``run_index``: ``SeedSequence(seed, spawn_key=(run_index,))``,
    the same as ``SeedSequence(seed).spawn(run_index + 1)[run_index]``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(run_index,)))
    )


def _sample(plan: _Plan, seed: int, runs: Sequence[int]) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs of ``runs``: values (runs x columns) and start orders (runs x riders, scenario
    indices by start position) or None.  Each run uses only its own stream, in a fixed order:
    its normal draws, its uniform draws, the lot, then redraws of normals outside the bounds."""
    m = len(runs)
    nn, nu, n = plan.n_normal, plan.n_uniform, plan.n_riders
    Z = np.empty((m, nn))
    U = np.empty((m, nu))
    P = np.empty((m, n), dtype=np.int64) if plan.lot else None
    gens = []
    for k, r in enumerate(runs):
        g = run_stream(seed, int(r))
        if nn:
            Z[k] = g.standard_normal(nn)
        if nu:
            U[k] = g.random(nu)
        if P is not None:
            P[k] = g.permutation(n)
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
    return X, P


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


def _apply(base: Scenario, plan: _Plan, row: Sequence[float], perm: Sequence[int] | None):
    riders = list(base.riders)
    for i, rf, tf in plan.apply:
        e = riders[i]
        r = _replace(e.rider, {f: row[c] for f, c in rf}) if rf else e.rider
        t = _replace(e.tactic, {f: row[c] for f, c in tf}) if tf else e.tactic
        riders[i] = _replace(e, {"rider": r, "tactic": t})
    if perm is not None:
        riders = [riders[k] for k in perm]
    changes: dict[str, Any] = {"riders": tuple(riders)}
    for f, c in plan.top:
        changes[f] = row[c]
    return _replace(base, changes)


# --- jobs: what to run -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Point:
    """One grid point (a plain batch has one): its scenario and sampling plan."""

    index: int
    base: Scenario
    plan: _Plan
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class _Job:
    kind: str  # "mc" or "sweep"
    seed: int
    runs: int  # per point
    names: tuple[str, ...]
    attacker: str | None
    params: tuple[str, ...]
    points: tuple[_Point, ...]
    scenario_name: str

    @property
    def total(self) -> int:
        return self.runs * len(self.points)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.points[0].plan.columns

    @property
    def lot(self) -> bool:
        return self.points[0].plan.lot


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BatchError(f"keirin-sim: seed: must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_runs(runs: Any) -> int:
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise BatchError(f"keirin-sim: runs: must be a positive integer, got {runs!r}")
    return int(runs)


def _scenario(scenario: Scenario | str | os.PathLike[str] | None, attacker: str | None) -> Scenario:
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if attacker is not None:
        if attacker not in sc.names:
            raise _err(
                sc.source,
                "attacker",
                f"no rider named {attacker!r} (riders: {', '.join(sc.names)})",
            )
        sc = dataclasses.replace(sc, attacker=attacker)
    return sc


def _overridden(sc: Scenario, path: str) -> set[tuple[int, str]]:
    head, _, fld = path.rpartition(".")
    if head in ("track", "derny"):
        return set()
    if head == "":
        return {(-1, fld)}
    return {(i, fld) for i in _targets(sc, head)}


def _mc_job(sc: Scenario, runs: int, seed: int) -> _Job:
    plan = _build_plan(sc, parse_uncertainty(sc, check=False))
    return _Job("mc", seed, runs, tuple(sc.names), sc.attacker, (), (_Point(0, sc, plan),), sc.name)


_GRID_RE = re.compile(r"^\s*([^:]+?)\s*:\s*([^:]+?)\s*:\s*([^:]+?)\s*$")


def _value(text: str) -> Any:
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        v = float(t)
    except ValueError:
        return t
    return int(v) if v.is_integer() and re.fullmatch(r"[+-]?\d+", t) else v


def parse_grid(spec: str | tuple[str, Any], source: str = "--param") -> tuple[str, list[Any]]:
    """``"Jason Kenny.launch_m_to_go=150:750:50"`` -> ``(path, [150.0, 200.0, ... 750.0])``:
    ``start:stop:step`` (stop included when it is on the grid), or ``a,b,c``, or one value.
    A ``(path, values)`` pair (values a list or such a string) is accepted too."""
    if isinstance(spec, tuple):
        path, rhs = spec
    else:
        path, eq, rhs = str(spec).partition("=")
        if not eq:
            raise BatchError(f"{source}: {spec}: expected NAME.FIELD=START:STOP:STEP or =A,B,C")
    path = str(path).strip()
    if not path:
        raise BatchError(f"{source}: {spec}: missing the parameter name before '='")
    if not isinstance(rhs, str):
        vals = list(rhs) if isinstance(rhs, (list, tuple)) else [rhs]
        if not vals:
            raise BatchError(f"{source}: {path}: no values")
        return path, vals
    m = _GRID_RE.match(rhs)
    if m:
        try:
            a, b, s = (float(x) for x in m.groups())
        except ValueError:
            raise BatchError(f"{source}: {path}: {rhs!r} is not START:STOP:STEP numbers") from None
        if not all(math.isfinite(x) for x in (a, b, s)) or s <= 0 or b < a:
            raise BatchError(f"{source}: {path}: {rhs!r} needs STEP > 0 and STOP >= START")
        n = int(math.floor((b - a) / s + 1e-9)) + 1
        if n > 10000:
            raise BatchError(f"{source}: {path}: {rhs!r} has {n} values (at most 10000)")
        ints = all(x.is_integer() for x in (a, s))
        vals = [int(a + k * s) if ints else round(a + k * s, 10) for k in range(n)]
        return path, vals
    vals = [_value(t) for t in rhs.split(",") if t.strip()]
    if not vals:
        raise BatchError(f"{source}: {path}: no values after '='")
    return path, vals


def _sweep_params(sc: Scenario, params: Any) -> list[tuple[str, list[Any]]]:
    if params is None:
        raw = sc.extra.get("sweep")
        if not raw:
            raise BatchError(
                f"{sc.source}: sweep: no parameters: give --param NAME.FIELD="
                "START:STOP:STEP or a [sweep] section"
            )
        if not isinstance(raw, Mapping):
            raise _err(sc.source, "sweep", 'must be a table of "name.field" = "a:b:step"')
        out = []
        for k, v in raw.items():
            try:
                out.append(parse_grid((k, v), f"{sc.source}: sweep"))
            except BatchError as e:
                raise ScenarioError(str(e)) from None
        return out
    if isinstance(params, Mapping):
        return [parse_grid((k, v)) for k, v in params.items()]
    if isinstance(params, str):
        params = [params]
    return [parse_grid(p) for p in params]


def _sweep_job(sc: Scenario, params: Any, runs: int, seed: int) -> _Job:
    grid = _sweep_params(sc, params)
    paths = [p for p, _ in grid]
    if len(set(paths)) < len(paths):
        raise BatchError(f"--param: {paths[0]}: the parameter is given twice")
    n_points = math.prod(len(v) for _, v in grid)
    if n_points > 100000:
        raise BatchError(f"--param: grid: {n_points} points (at most 100000)")
    for path, vals in grid:  # check every value once, with the scenario's own message
        for v in vals:
            sc.set_param(path, v)
    overridden: set[tuple[int, str]] = set()
    for p in paths:
        overridden |= _overridden(sc, p)
    unc = parse_uncertainty(sc, check=False)
    points = []
    for k, combo in enumerate(itertools.product(*(v for _, v in grid))):
        s = sc
        for path, v in zip(paths, combo, strict=True):
            s = s.set_param(path, v)
        points.append(_Point(k, s, _build_plan(s, unc, frozenset(overridden)), tuple(combo)))
    return _Job(
        "sweep", seed, runs, tuple(sc.names), sc.attacker, tuple(paths), tuple(points), sc.name
    )


# --- one chunk of runs -----------------------------------------------------------------------
def _run_chunk(
    seed: int, point: _Point, start: int, stop: int, params: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """Simulate runs ``start..stop-1`` of ``point``; columns as numpy arrays (see
    :func:`run_batch` for the names)."""
    from .race import RaceError, simulate_outcome

    plan, base = point.plan, point.base
    names = [e.rider.name for e in base.riders]
    n = len(names)
    runs = range(start, stop)
    m = len(runs)
    X, P = _sample(plan, seed, runs)
    winner = np.empty(m, dtype=object)
    c_m = np.full(m, np.nan)
    c_t = np.full(m, np.nan)
    c_by = np.empty(m, dtype=object)
    err = np.empty(m, dtype=object)
    rows = X.tolist()
    perms = P.tolist() if P is not None else None
    # positions and times filled as Python lists (numpy item assignment costs several times as
    # much); a run that failed keeps position 0 and no times
    pos_rows = [[0] * n for _ in range(m)]
    time_rows = [[math.nan] * n for _ in range(m)]
    ident = list(range(n))
    for k in range(m):
        perm = perms[k] if perms is not None else None
        sc = _apply(base, plan, rows[k], perm)
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
    cols["caught"] = ~np.isnan(c_m)
    cols["catch_m_to_go"] = c_m
    cols["catch_time_s"] = c_t
    cols["caught_by"] = c_by
    cols["error"] = err
    return cols


def _schema(job: _Job) -> pa.Schema:
    import pyarrow as pa

    f: list[tuple[str, Any]] = []
    if job.kind == "sweep":
        f.append(("point", pa.int64()))
        for k, p in enumerate(job.params):
            v = job.points[0].values[k]
            t = (
                pa.string()
                if isinstance(v, str)
                else pa.bool_()
                if isinstance(v, bool)
                else (
                    pa.int64()
                    if all(isinstance(q.values[k], int) for q in job.points)
                    else pa.float64()
                )
            )
            f.append((p, t))
    f.append(("run", pa.int64()))
    f += [(c, pa.float64()) for c in job.columns]
    if job.lot:
        f += [(f"start.{nm}", pa.int8()) for nm in job.names]
    f += [("winner", pa.string()), ("winning_margin_s", pa.float64())]
    f += [(f"pos.{nm}", pa.int8()) for nm in job.names]
    f += [(f"time.{nm}", pa.float64()) for nm in job.names]
    f += [(f"margin.{nm}", pa.float64()) for nm in job.names]
    f += [("caught", pa.bool_()), ("catch_m_to_go", pa.float64()), ("catch_time_s", pa.float64())]
    f += [("caught_by", pa.string()), ("error", pa.string())]
    meta = {
        "keirin_sim": json.dumps(
            {
                "format": _FORMAT_VERSION,
                "kind": job.kind,
                "scenario": job.scenario_name,
                "seed": job.seed,
                "runs": job.runs,
                "points": len(job.points),
                "attacker": job.attacker,
                "riders": list(job.names),
                "params": list(job.params),
                **_track_info(job.points[0].base),
            }
        )
    }
    return pa.schema(f, metadata=meta)


def _arrow(v: np.ndarray, typ: pa.DataType) -> pa.Array:
    """``pa.array(v, type=typ)`` built from the column's buffers: ``pa.array`` imports pandas
    (a quarter of a second) to ask whether ``v`` is one.  Numbers and flags have no nulls
    (NaN stays a value, as ``pa.array`` leaves it); text columns hold str or None."""
    import pyarrow as pa

    n = len(v)
    if pa.types.is_string(typ):
        valid = np.array([x is not None for x in v], dtype=bool)
        data = [x.encode() for x in v if x is not None]
        lens = np.zeros(n, dtype=np.int32)
        lens[valid] = [len(b) for b in data]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lens, out=offsets[1:])
        return pa.Array.from_buffers(
            typ,
            n,
            [_bits(valid), pa.py_buffer(offsets), pa.py_buffer(b"".join(data))],
            null_count=int(n - valid.sum()),
        )
    if pa.types.is_boolean(typ):
        return pa.Array.from_buffers(typ, n, [None, _bits(np.asarray(v, dtype=bool))])
    dtype = np.dtype(typ.to_pandas_dtype())
    return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(np.ascontiguousarray(v, dtype))])


def _bits(mask: np.ndarray) -> pa.Buffer:
    """Arrow's bit-packed form of a boolean mask (least significant bit first)."""
    import pyarrow as pa

    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def _table(schema: pa.Schema, cols: Mapping[str, np.ndarray]) -> pa.Table:
    import pyarrow as pa

    arrays = [_arrow(cols[fld.name], fld.type) for fld in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


# --- executors -------------------------------------------------------------------------------
def _worker_init() -> None:
    """Pool workers: Ctrl-C is for the parent (which stops them); exit if the parent dies.
    The objects inherited from the parent are frozen out of the cyclic garbage collector and
    it runs less often: a race leaves no cycles behind (``Race._release``), and collecting
    after every 700 new objects cost the workers about 3 % of their time."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _mp_context() -> Any:
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return mp.get_context("fork")  # cheapest start; safe without other threads
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["keirin_sim.montecarlo"])
        return ctx
    return mp.get_context("spawn")


Task = tuple[_Point, int, int]


def _noop() -> None:
    return None


class _Serial:
    slots = 1

    def __init__(self, seed: int, params: tuple[str, ...]):
        self.seed, self.params = seed, params

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def start(self, point: _Point) -> None:
        return None

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, np.ndarray]]]:
        for t in tasks:
            yield t, _run_chunk(self.seed, t[0], t[1], t[2], self.params)


class _Pool:
    """A local process pool with a bounded number of chunks in flight."""

    def __init__(self, seed: int, params: tuple[str, ...], workers: int):
        self.seed, self.params, self.slots = seed, params, workers

    def __enter__(self) -> _Pool:
        from concurrent.futures import ProcessPoolExecutor

        self.ex = ProcessPoolExecutor(
            max_workers=self.slots, mp_context=_mp_context(), initializer=_worker_init
        )
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        if et is None:
            self.ex.shutdown(wait=True)
            return
        procs = list((getattr(self.ex, "_processes", None) or {}).values())
        self.ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)

    def start(self, point: _Point) -> None:
        """Load the compiled kernel here once (forked workers inherit it), then start the
        workers."""
        from .race import simulate

        try:
            simulate(point.base, traces=False)
        except Exception:  # the batch reports failures per run
            pass
        self.ex.submit(_noop).result()

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, np.ndarray]]]:
        from concurrent.futures import FIRST_COMPLETED, wait

        it = iter(tasks)
        pending: dict[Any, Task] = {}

        def fill() -> None:
            while len(pending) < 2 * self.slots + 1:
                t = next(it, None)
                if t is None:
                    return
                f = self.ex.submit(_run_chunk, self.seed, t[0], t[1], t[2], self.params)
                pending[f] = t

        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in sorted(done, key=lambda f: (pending[f][0].index, pending[f][1])):
                t = pending.pop(f)
                yield t, f.result()
            fill()


class _Dask:
    """A Dask distributed cluster: ``scheduler`` is an address or a ``Client``."""

    def __init__(self, seed: int, params: tuple[str, ...], scheduler: Any):
        self.seed, self.params, self.scheduler = seed, params, scheduler

    def __enter__(self) -> _Dask:
        distributed = _import_dask()
        if isinstance(self.scheduler, distributed.Client):
            self.client, self.own = self.scheduler, False
        else:
            try:
                self.client = distributed.Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as e:
                raise BatchError(
                    f"{self.scheduler}: --scheduler: cannot connect: {' '.join(str(e).split())}"
                ) from None
            self.own = True
        self.slots = max(1, sum(self.client.nthreads().values()))
        self.futures: list[Any] = []
        return self

    def start(self, point: _Point) -> None:
        return None

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        try:
            if et is not None and self.futures:
                self.client.cancel(self.futures)
        finally:
            if self.own:
                self.client.close()

    def run(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict[str, np.ndarray]]]:
        distributed = _import_dask()
        it = iter(tasks)
        remote: dict[int, Any] = {}
        key: dict[Any, Task] = {}

        def submit(t: Task) -> Any:
            pt = t[0]
            if pt.index not in remote:
                remote[pt.index] = self.client.scatter(pt, broadcast=True, hash=False)
            f = self.client.submit(
                _run_chunk, self.seed, remote[pt.index], t[1], t[2], self.params, pure=False
            )
            key[f] = t
            self.futures.append(f)
            return f

        first = [submit(t) for t in itertools.islice(it, 2 * self.slots + 1)]
        ac = distributed.as_completed(first)
        for f in ac:
            t = key.pop(f)
            cols = f.result()
            self.futures.remove(f)
            f.release()
            nxt = next(it, None)
            if nxt is not None:
                ac.add(submit(nxt))
            yield t, cols


def _import_dask() -> Any:
    try:
        import dask.distributed as distributed
    except ImportError:
        raise BatchError(
            "keirin-sim: --scheduler: Dask is not installed: pip install 'keirin-sim[dask]'"
        ) from None
    return distributed


def _workers(workers: int | None) -> int:
    if workers is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BatchError(f"keirin-sim: workers: must be a positive integer, got {workers!r}")
    return workers


# --- chunk files -----------------------------------------------------------------------------
_CHUNK_RE = re.compile(r"^chunk-(\d{6})-(\d{10})\.parquet$")


def parts_dir(out: str | os.PathLike[str]) -> Path:
    """The directory where a batch writing ``out`` keeps its chunks until it completes."""
    p = Path(out)
    return p.with_name(p.name + ".parts")


class _Parts:
    """``<out>.parts/``: ``meta.json`` (what the batch is) and one Parquet file per finished
    chunk, each written to a temporary name, flushed and renamed (so it is complete or absent,
    whatever kills the process)."""

    def __init__(self, out: Path, meta: dict[str, Any]):
        self.out, self.dir, self.meta = out, parts_dir(out), meta

    def open(self, resume: bool) -> dict[str, Any]:
        mf = self.dir / "meta.json"
        if self.dir.exists():
            if not resume:
                raise BatchError(
                    f"{self.dir}: --resume: holds an unfinished batch: add --resume "
                    "to complete it, or delete the directory"
                )
            try:
                old = json.loads(mf.read_text())
            except (OSError, ValueError):
                old = None
            if not isinstance(old, dict) or old.get("fingerprint") != self.meta["fingerprint"]:
                what = ""
                if isinstance(old, dict):
                    what = f" (seed {old.get('seed')}, {old.get('runs')} runs"
                    what += f", {old.get('points')} points)" if old.get("points", 1) > 1 else ")"
                raise BatchError(
                    f"{self.dir}: --resume: was written by a different batch{what}: use the same "
                    "scenario, seed, runs, options and keirin-sim version, or delete it"
                )
            self.meta = old
            return old
        self.dir.mkdir()
        _write_text_atomic(mf, json.dumps(self.meta, indent=1))
        return self.meta

    def done(self) -> list[tuple[int, int]]:
        out = []
        for p in self.dir.iterdir():
            m = _CHUNK_RE.match(p.name)
            if m:
                out.append((int(m.group(1)), int(m.group(2))))
        return sorted(out)

    def path(self, key: tuple[int, int]) -> Path:
        return self.dir / f"chunk-{key[0]:06d}-{key[1]:010d}.parquet"

    def write(self, key: tuple[int, int], table: pa.Table) -> None:
        import pyarrow.parquet as pq

        final = self.path(key)
        tmp = final.with_name(f".{final.name}.tmp")
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh, compression="lz4")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)

    def read(self, key: tuple[int, int]) -> pa.Table:
        import pyarrow.parquet as pq

        # not pq.read_table: it goes through pyarrow.dataset, which imports pandas
        with pq.ParquetFile(self.path(key)) as f:
            return f.read()

    def consolidate(self, schema: pa.Schema, fmt: str) -> None:
        """Join the finished chunks, in run order, into ``out`` (atomically)."""
        keys = self.done()

        def tables() -> Iterator[pa.Table]:
            for k in keys:
                t = self.read(k)
                # the parts were written with this schema (cast would import pyarrow.compute)
                yield t if t.schema.equals(schema) else t.cast(schema)

        _write_rows(self.out, fmt, schema, tables())

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _write_rows(out: Path, fmt: str, schema: pa.Schema, tables: Iterable[pa.Table]) -> None:
    """Stream ``tables`` into ``out`` (Parquet row groups of about 64k rows, or CSV) through a
    temporary file renamed at the end."""
    import pyarrow as pa

    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
                buf: list[pa.Table] = []
                rows = 0
                for t in tables:
                    buf.append(t)
                    rows += t.num_rows
                    if rows >= 65536:
                        w.write_table(pa.concat_tables(buf))
                        buf, rows = [], 0
                if buf or not w:
                    w.write_table(pa.concat_tables(buf) if buf else schema.empty_table())
        else:
            import pyarrow.csv as pcsv

            with pcsv.CSVWriter(tmp, schema) as w:
                for t in tables:
                    w.write_table(t)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_runs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the rows a batch wrote (Parquet or CSV) into a DataFrame; for Parquet,
    ``df.attrs`` holds the batch's scenario, seed, runs and attacker."""
    import pandas as pd

    p = Path(path)
    if OUT_FORMATS.get(p.suffix.lower()) == "csv":
        return pd.read_csv(p)
    import pyarrow.parquet as pq

    t = pq.read_table(p)
    df = t.to_pandas()
    meta = (t.schema.metadata or {}).get(b"keirin_sim")
    if meta:
        df.attrs.update(json.loads(meta))
    return df


# --- summaries -------------------------------------------------------------------------------
def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n`` trials (95 % by default)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    d = 1.0 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (0.0 if k <= 0 else max(0.0, c - h), 1.0 if k >= n else min(1.0, c + h))


def _track_info(sc: Scenario) -> dict[str, float]:
    return {
        "race_m": float(sc.race_m),
        "lap_m": float(sc.track.lap_m),
        "pull_off_m_to_go": float(sc.derny.pull_off_m_to_go),
    }


class _Acc:
    """Streaming accumulators: counts per grid point and rider, positions, catch points and
    winning margins (float32, a few MB for a million runs)."""

    def __init__(self, names: Sequence[str], attacker: str | None, n_points: int = 1):
        self.names, self.attacker = list(names), attacker
        n = len(names)
        self.ok = np.zeros(n_points, dtype=np.int64)
        self.runs = np.zeros(n_points, dtype=np.int64)
        self.wins = np.zeros((n_points, n), dtype=np.int64)
        self.places = np.zeros((n, n), dtype=np.int64)
        self.by = np.zeros(n, dtype=np.int64)
        self.catch: list[np.ndarray] = []
        self.margin: list[np.ndarray] = []
        self.errors: list[str] = []

    def add(self, cols: Any) -> None:
        def col(name: str) -> np.ndarray:
            return np.asarray(cols[name])

        n = len(self.names)
        pos = np.stack([col(f"pos.{nm}").astype(np.int64) for nm in self.names], axis=1)
        m = len(pos)
        point = col("point").astype(np.int64) if "point" in cols else np.zeros(m, dtype=np.int64)
        ok = (pos > 0).all(axis=1)
        np.add.at(self.runs, point, 1)
        np.add.at(self.ok, point[ok], 1)
        pos_ok = pos[ok]
        w = np.argmin(pos_ok, axis=1) if n else np.zeros(0, dtype=np.int64)
        np.add.at(self.wins, (point[ok], w), 1)
        for i in range(n):
            self.places[i] += np.bincount(pos_ok[:, i] - 1, minlength=n)[:n]
        cm = col("catch_m_to_go").astype(np.float64)[ok]
        caught = ~np.isnan(cm)
        self.catch.append(cm[caught].astype(np.float32))
        if caught.any():
            idx = {nm: i for i, nm in enumerate(self.names)}
            for b in np.asarray(cols["caught_by"], dtype=object)[ok][caught]:
                if isinstance(b, str) and b in idx:
                    self.by[idx[b]] += 1
        self.margin.append(col("winning_margin_s").astype(np.float64)[ok].astype(np.float32))
        if not ok.all() and "error" in cols and len(self.errors) < 5:
            for e in np.asarray(cols["error"], dtype=object)[~ok][:5]:
                self.errors.append(str(e))

    def summary(self, job: _Job | None = None, seed: int | None = None) -> Summary:
        ok = int(self.ok.sum())
        wins = self.wins.sum(axis=0)
        names = self.names
        catch = np.concatenate(self.catch) if self.catch else np.zeros(0, np.float32)
        margin = np.concatenate(self.margin) if self.margin else np.zeros(0, np.float32)
        n = len(names)
        mean_pos = {
            nm: float((self.places[i] * np.arange(1, n + 1)).sum() / ok) if ok else math.nan
            for i, nm in enumerate(names)
        }
        grid = None
        if job is not None and job.kind == "sweep":
            grid = [
                {
                    "point": pt.index,
                    "values": dict(zip(job.params, pt.values, strict=True)),
                    "runs": int(self.ok[pt.index]),
                    "wins": {nm: int(self.wins[pt.index, i]) for i, nm in enumerate(names)},
                }
                for pt in job.points
            ]
        return Summary(
            scenario=job.scenario_name if job else "",
            runs=int(self.runs.sum()),
            seed=job.seed if job else seed,
            riders=list(names),
            attacker=self.attacker,
            failed=int(self.runs.sum()) - ok,
            wins={nm: int(wins[i]) for i, nm in enumerate(names)},
            mean_position=mean_pos,
            place_counts={nm: [int(x) for x in self.places[i]] for i, nm in enumerate(names)},
            catch_m_to_go=catch,
            caught_by={nm: int(self.by[i]) for i, nm in enumerate(names)},
            winning_margin_s=margin,
            params=list(job.params) if job else [],
            grid=grid,
            errors=list(self.errors),
            dt_s=float(job.points[0].base.dt_s) if job else None,
            **(_track_info(job.points[0].base) if job else {}),
        )


@dataclass
class Summary:
    """What a batch says: win probabilities with Wilson 95 % intervals, mean finishing
    positions, the attacker's catch points (metres to go, for the runs where the attacker was
    caught) and the winning margins (s).  :meth:`to_dict` is the ``--json`` object."""

    scenario: str
    runs: int
    seed: int | None
    riders: list[str]
    attacker: str | None
    failed: int
    wins: dict[str, int]
    mean_position: dict[str, float]
    place_counts: dict[str, list[int]]
    catch_m_to_go: np.ndarray
    caught_by: dict[str, int]
    winning_margin_s: np.ndarray
    params: list[str] = field(default_factory=list)
    grid: list[dict[str, Any]] | None = None
    errors: list[str] = field(default_factory=list)
    elapsed_s: float | None = None
    #: the kernel reference step every race ran at (None: summarised from rows alone)
    dt_s: float | None = None
    race_m: float | None = None
    lap_m: float | None = None
    pull_off_m_to_go: float | None = None

    @property
    def ok_runs(self) -> int:
        """Runs that finished (the denominators)."""
        return self.runs - self.failed

    @property
    def win_probability(self) -> dict[str, float]:
        n = self.ok_runs
        return {r: (k / n if n else math.nan) for r, k in self.wins.items()}

    @property
    def ci95(self) -> dict[str, tuple[float, float]]:
        return {r: wilson(k, self.ok_runs) for r, k in self.wins.items()}

    @property
    def caught(self) -> int:
        return int(len(self.catch_m_to_go))

    @property
    def caught_probability(self) -> float:
        if self.attacker is None or not self.ok_runs:
            return math.nan
        return self.caught / self.ok_runs

    def grid_table(self, rider: str | None = None) -> pd.DataFrame:
        """A sweep's win probabilities: one row per grid point and rider (only ``rider`` if
        given), columns the swept parameters, ``rider``, ``runs``, ``wins``, ``p``,
        ``ci_low``, ``ci_high``."""
        import pandas as pd

        rows = []
        for g in self.grid or []:
            for r, k in g["wins"].items():
                if rider is not None and r != rider:
                    continue
                lo, hi = wilson(k, g["runs"])
                p = k / g["runs"] if g["runs"] else math.nan
                rows.append(
                    {
                        **g["values"],
                        "rider": r,
                        "runs": g["runs"],
                        "wins": k,
                        "p": p,
                        "ci_low": lo,
                        "ci_high": hi,
                    }
                )
        return pd.DataFrame(rows)

    @staticmethod
    def _q(a: np.ndarray) -> dict[str, float] | None:
        if not len(a):
            return None
        a = a.astype(np.float64)
        q = np.quantile(a, [0.05, 0.25, 0.5, 0.75, 0.95])
        return {
            "mean": float(a.mean()),
            "p5": float(q[0]),
            "p25": float(q[1]),
            "median": float(q[2]),
            "p75": float(q[3]),
            "p95": float(q[4]),
        }

    def catch_histogram(self, bin_m: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
        """``(edges, counts)`` of the catch points in ``bin_m`` metre bins from the line."""
        top = float(self.catch_m_to_go.max()) if self.caught else bin_m
        edges = np.arange(0.0, top + bin_m + 1e-9, bin_m)
        counts, _ = np.histogram(self.catch_m_to_go, bins=edges)
        return edges, counts

    def to_dict(self) -> dict[str, Any]:
        r6 = lambda x: None if x is None or not math.isfinite(x) else round(float(x), 6)  # noqa: E731
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "runs": self.runs,
            "seed": self.seed,
            "dt_s": self.dt_s,
            "failed": self.failed,
            "attacker": self.attacker,
            "win_probability": {r: r6(p) for r, p in self.win_probability.items()},
            "ci95": {r: [r6(a), r6(b)] for r, (a, b) in self.ci95.items()},
            "wins": dict(self.wins),
            "mean_position": {r: r6(p) for r, p in self.mean_position.items()},
            "place_counts": {r: list(v) for r, v in self.place_counts.items()},
        }
        if self.attacker is not None:
            edges, counts = self.catch_histogram()
            q = self._q(self.catch_m_to_go)
            out["catch"] = {
                "attacker": self.attacker,
                "caught": self.caught,
                "caught_probability": r6(self.caught_probability),
                "ci95": [r6(x) for x in wilson(self.caught, self.ok_runs)],
                "m_to_go": {k: r6(v) for k, v in q.items()} if q else None,
                "histogram": {"bin_m": 25.0, "counts": [int(c) for c in counts]},
                "by": {r: k for r, k in self.caught_by.items() if k},
            }
        q = self._q(self.winning_margin_s)
        out["winning_margin_s"] = {k: r6(v) for k, v in q.items()} if q else None
        if self.grid is not None:
            out["params"] = list(self.params)
            out["grid"] = [
                {
                    "values": g["values"],
                    "runs": g["runs"],
                    "win_probability": {
                        r: r6(k / g["runs"]) if g["runs"] else None for r, k in g["wins"].items()
                    },
                    "ci95": {
                        r: [r6(x) for x in wilson(k, g["runs"])] for r, k in g["wins"].items()
                    },
                }
                for g in self.grid
            ]
        if self.errors:
            out["errors"] = list(self.errors)
        if self.elapsed_s is not None:
            out["elapsed_s"] = round(self.elapsed_s, 3)
        return out


def summarize(df: pd.DataFrame, attacker: str | None = None, seed: int | None = None) -> Summary:
    """A :class:`Summary` of batch rows (from :func:`run_batch`, :func:`sweep` or
    :func:`load_runs`): win probabilities with Wilson 95 % intervals, mean positions, the
    attacker's catch points and the winning margins.  ``attacker`` and ``seed`` default to
    ``df.attrs`` (set when the rows come from this module)."""
    names = [c[4:] for c in df.columns if c.startswith("pos.")]
    if not names:
        raise ValueError("no pos.<rider> columns: not rows of a keirin-sim batch")
    attacker = attacker if attacker is not None else df.attrs.get("attacker")
    seed = seed if seed is not None else df.attrs.get("seed")
    acc = _Acc(names, attacker)
    cols = {c: df[c].to_numpy() for c in df.columns if c != "point"}
    if "caught_by" in cols:
        cols["caught_by"] = np.array(
            [x if isinstance(x, str) else None for x in cols["caught_by"]], dtype=object
        )
    acc.add(cols)
    s = acc.summary(seed=seed)
    s.scenario = df.attrs.get("scenario", "")
    for k in ("race_m", "lap_m", "pull_off_m_to_go"):
        setattr(s, k, df.attrs.get(k))
    return s


# --- running ---------------------------------------------------------------------------------
@dataclass
class Batch:
    """A finished batch: ``summary`` and the rows as a DataFrame (``df``; read from ``out``
    on first use when the rows were streamed to a file)."""

    summary: Summary
    out: Path | None = None
    _df: Any = None

    @property
    def df(self) -> pd.DataFrame:
        if self._df is None:
            if self.out is None:  # pragma: no cover
                raise ValueError("no rows")
            self._df = load_runs(self.out)
        return self._df

    def __repr__(self) -> str:
        s = self.summary
        top = sorted(s.win_probability.items(), key=lambda kv: -kv[1])[:3]
        best = ", ".join(f"{r} {p:.1%}" for r, p in top)
        where = f"; rows in {self.out}" if self.out else ""
        return f"<Batch {s.runs} runs, seed {s.seed}: {best}{where}>"


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread while a batch runs."""


def _fingerprint(job: _Job) -> str:
    from . import __version__  # another engine gives other rows: never resume across versions

    h = hashlib.sha256()
    for part in (
        job.kind,
        job.seed,
        job.runs,
        job.attacker,
        job.params,
        _FORMAT_VERSION,
        __version__,
    ):
        h.update(repr(part).encode())
    for pt in job.points:
        h.update(repr(dataclasses.replace(pt.base, source="")).encode())
        h.update(repr(pt.values).encode())
        h.update(repr(pt.plan.columns).encode())
        for a in (pt.plan.lo, pt.plan.hi, pt.plan.mu, pt.plan.sd, pt.plan.ulo, pt.plan.uw):
            h.update(a.tobytes())
        h.update(repr(pt.plan.lot).encode())
    return h.hexdigest()


def _chunk_size(job: _Job, slots: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise BatchError(
                f"keirin-sim: chunk_size: must be a positive integer, got {chunk_size!r}"
            )
        return min(chunk_size, job.runs)
    # sixteen chunks a worker: the last ones leave little idle time at the end
    target = math.ceil(job.total / (16 * slots))
    return max(1, min(MAX_CHUNK, job.runs, max(25, target)))


def _check_out(out: str | os.PathLike[str] | None) -> tuple[Path | None, str | None]:
    if out is None:
        return None, None
    p = Path(out)
    fmt = OUT_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise BatchError(
            f"{p}: --out: extension {p.suffix or '(none)'!r}: use {', '.join(OUT_FORMATS)}"
        )
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise BatchError(f"{p}: --out: directory {os.fspath(parent)!r} does not exist")
    if p.is_dir():
        raise BatchError(f"{p}: --out: is a directory")
    return p, fmt


def _execute(
    job: _Job,
    *,
    workers: int | None,
    scheduler: Any,
    out: str | os.PathLike[str] | None,
    resume: bool,
    progress: bool | None,
    chunk_size: int | None,
) -> Batch:
    t0 = time.perf_counter()
    path, fmt = _check_out(out)
    if resume and path is None:
        raise BatchError("keirin-sim: resume: needs an output file (out) to complete")
    if scheduler is not None and workers is not None:
        raise BatchError("keirin-sim: scheduler: cannot be combined with workers")
    if scheduler is not None:
        runner: Any = _Dask(job.seed, job.params, scheduler)
    else:
        w = _workers(workers)
        runner = _Serial(job.seed, job.params) if w == 1 else _Pool(job.seed, job.params, w)
    schema = _schema(job)
    acc = _Acc(job.names, job.attacker, len(job.points))
    parts = None
    tables: dict[tuple[int, int], pa.Table] = {}
    done_keys: set[tuple[int, int]] = set()
    meta: dict[str, Any] = {
        "format": _FORMAT_VERSION,
        "kind": job.kind,
        "scenario": job.scenario_name,
        "seed": job.seed,
        "runs": job.runs,
        "points": len(job.points),
        "fingerprint": _fingerprint(job),
    }
    show = sys.stderr.isatty() if progress is None else bool(progress)
    bar = None
    reason, detail = None, ""
    main = threading.current_thread() is threading.main_thread()
    old = signal.getsignal(signal.SIGTERM) if main else None

    def on_term(signum: int, frame: Any) -> None:
        raise _Terminated()

    try:
        with runner:
            size = chunk_size
            if path is not None:
                parts = _Parts(path, {**meta, "chunk_size": None})
                if parts.dir.exists() and resume:
                    got = parts.open(True)
                    size = int(got["chunk_size"])
                else:
                    size = _chunk_size(job, runner.slots, chunk_size)
                    parts.meta["chunk_size"] = size
                    parts.open(resume)
                for key in parts.done():
                    done_keys.add(key)
                    acc.add(_cols(parts.read(key)))
            else:
                size = _chunk_size(job, runner.slots, chunk_size)
            tasks = [
                (pt, a, min(a + size, job.runs))
                for pt in job.points
                for a in range(0, job.runs, size)
                if (pt.index, a) not in done_keys
            ]
            if main:
                signal.signal(signal.SIGTERM, on_term)
            if show:
                bar = _progress_bar(job.total, int(acc.runs.sum()))
            if tasks:
                runner.start(job.points[0])
            for t, cols in runner.run(tasks):
                key = (t[0].index, t[1])
                table = _table(schema, cols)
                if parts is not None:
                    parts.write(key, table)
                else:
                    tables[key] = table
                acc.add(cols)
                if bar is not None:
                    bar.update(t[2] - t[1])
    except KeyboardInterrupt:
        reason = "interrupted"
    except _Terminated:
        reason = "terminated"
    except Exception as e:
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(e, BrokenProcessPool) or type(e).__name__ == "KilledWorker":
            reason, detail = "worker died", " ".join(str(e).split())[:200]
        else:
            raise
    finally:
        if main:
            signal.signal(signal.SIGTERM, old if old is not None else signal.SIG_DFL)
        if bar is not None:
            bar.close()
    if reason is not None:
        if parts is not None:
            parts.consolidate(schema, fmt)
        raise BatchInterrupted(reason, int(acc.runs.sum()), job.total, path, detail)
    summary = acc.summary(job)
    summary.elapsed_s = time.perf_counter() - t0
    if parts is not None:
        parts.consolidate(schema, fmt)
        parts.remove()
        return Batch(summary, path)
    import pyarrow as pa

    df = pa.concat_tables([tables[k] for k in sorted(tables)] or [schema.empty_table()])
    frame = df.to_pandas()
    frame.attrs.update(json.loads(schema.metadata[b"keirin_sim"]))
    summary.elapsed_s = time.perf_counter() - t0
    return Batch(summary, None, frame)


def _progress_bar(total: int, initial: int) -> Any:
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0  # no monitor thread: worker processes may be forked after this

    return Bar(
        total=total,
        initial=initial,
        unit="race",
        file=sys.stderr,
        ncols=min(100, shutil.get_terminal_size((80, 24)).columns or 80),
        smoothing=0.05,
        leave=False,
    )


def _cols(table: pa.Table) -> dict[str, np.ndarray]:
    out = {}
    for name in table.column_names:
        c = table.column(name)
        if name in ("caught_by", "error", "winner"):
            out[name] = np.array(c.to_pylist(), dtype=object)
        else:
            out[name] = c.to_numpy(zero_copy_only=False)
    return out


def run_batch(
    scenario: Scenario | str | os.PathLike[str] | None,
    runs: int,
    seed: int,
    workers: int | None = None,
    scheduler: Any = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    attacker: str | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
) -> Batch:
    """Run ``runs`` races of ``scenario`` (a :class:`Scenario` or a path) with inputs drawn
    from its ``[uncertainty]`` section; returns a :class:`Batch` (``.df`` rows, ``.summary``).

    ``seed``: run ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))``, so the rows are the
    same for any ``workers`` (default all cores; 1 runs in this process), any ``scheduler``
    (a Dask address ``"tcp://host:8786"`` or a ``dask.distributed.Client``) and any
    ``chunk_size``.  ``out`` (``.parquet``/``.pq``/``.csv``) streams the rows to disk a chunk at
    a time (memory stays flat); ``resume`` completes an interrupted batch with the same
    arguments.  ``attacker`` replaces the scenario's attacker (for the catch point and for
    ``field``).  ``progress``: a bar on stderr (default: when stderr is a terminal).

    Row columns: ``run``; one per sampled input (``"<rider>.<field>"``, ``air_density``);
    ``start.<rider>`` (start position, when drawn by lot); ``winner``, ``winning_margin_s``;
    ``pos.<rider>`` (1 = winner), ``time.<rider>`` (finish time, s), ``margin.<rider>`` (s
    behind the winner); ``caught`` (the attacker was caught), ``catch_m_to_go``,
    ``catch_time_s``, ``caught_by``; ``error`` (set for a race the engine could not finish;
    such runs are left out of the probabilities).

    Raises :class:`~keirin_sim.scenario.ScenarioError` or :class:`BatchError` (bad input, one
    line) and :class:`BatchInterrupted` (Ctrl-C, SIGTERM, a dead worker: finished chunks kept).
    """
    sc = _scenario(scenario, attacker)
    job = _mc_job(sc, _check_runs(runs), _check_seed(seed))
    return _execute(
        job,
        workers=workers,
        scheduler=scheduler,
        out=out,
        resume=resume,
        progress=progress,
        chunk_size=chunk_size,
    )


def sweep(
    scenario: Scenario | str | os.PathLike[str] | None,
    params: Sequence[str] | Mapping[str, Any] | str | None,
    runs: int,
    seed: int,
    workers: int | None = None,
    scheduler: Any = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    attacker: str | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
) -> Batch:
    """:func:`run_batch` at every point of a grid: ``params`` are ``"path=start:stop:step"``
    (or ``"path=a,b,c"``) strings, or a mapping ``path -> values``, or None for the scenario's
    ``[sweep]`` table (``"Jason Kenny.launch_m_to_go" = "150:750:50"``).  Paths are those of
    :meth:`Scenario.set_param` (``"<rider>.<field>"``, ``"field.<field>"``, ``"all.<field>"``,
    ``"air_density"``, ``"derny.end_kmh"``...).  ``runs`` races per point, with the same
    streams at every point; a swept field is not sampled even if it is uncertain.

    Rows: ``point``, one column per swept parameter (named by its path), then the columns of
    :func:`run_batch`.  ``summary.grid_table()`` gives the win probability per point."""
    sc = _scenario(scenario, attacker)
    job = _sweep_job(sc, params, _check_runs(runs), _check_seed(seed))
    for msg in _ineffective(sc, job.params):
        warnings.warn(msg, IneffectiveParameterWarning, stacklevel=2)
    return _execute(
        job,
        workers=workers,
        scheduler=scheduler,
        out=out,
        resume=resume,
        progress=progress,
        chunk_size=chunk_size,
    )


def _point_for(sc: Scenario, params: Mapping[str, Any] | None) -> tuple[_Point, tuple[str, ...]]:
    if not params:
        return _mc_job(sc, 1, 0).points[0], ()
    job = _sweep_job(sc, {k: [v] for k, v in params.items()}, 1, 0)
    return job.points[0], job.params


def sample_run(
    scenario: Scenario | str | os.PathLike[str] | None,
    seed: int,
    run_index: int,
    *,
    attacker: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Scenario:
    """The scenario of run ``run_index`` of a batch with ``seed``: sampled inputs applied and
    riders in their drawn start order.  ``params``: a sweep point's values
    (``{"Jason Kenny.launch_m_to_go": 300}``)."""
    sc = _scenario(scenario, attacker)
    seed, run_index = _check_seed(seed), int(run_index)
    if run_index < 0:
        raise BatchError(
            f"keirin-sim: run_index: must be a non-negative integer, got {run_index!r}"
        )
    pt, _ = _point_for(sc, params)
    X, P = _sample(pt.plan, seed, [run_index])
    return _apply(pt.base, pt.plan, X[0].tolist(), P[0].tolist() if P is not None else None)


def replay_run(
    scenario: Scenario | str | os.PathLike[str] | None,
    seed: int,
    run_index: int,
    *,
    attacker: str | None = None,
    params: Mapping[str, Any] | None = None,
    traces: bool = False,
) -> Result:
    """Replay run ``run_index`` of a batch with ``seed`` alone: the same :class:`Result` as in
    the batch (``keirin-sim run SCENARIO --mc-seed S --mc-run I``).  ``params`` selects a sweep
    point; ``traces`` keeps the per-step traces for charts."""
    from .race import simulate

    return simulate(
        sample_run(scenario, seed, run_index, attacker=attacker, params=params), traces=traces
    )


# --- command line ----------------------------------------------------------------------------
def _pos_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def _nonneg_int(text: str) -> int:
    from .cli import nonneg_int

    return nonneg_int(text)


def _common(p: argparse.ArgumentParser, runs: int) -> None:
    from . import cli

    cli.add_scenario_argument(p)
    p.add_argument(
        "--runs",
        type=_pos_int,
        default=runs,
        metavar="N",
        help=f"races (per grid point for sweep; default {runs})",
    )
    p.add_argument(
        "--seed",
        type=_nonneg_int,
        default=0,
        metavar="S",
        help="seed of the per-run random streams (default 0)",
    )
    p.add_argument(
        "--workers",
        type=_pos_int,
        metavar="N",
        help="local worker processes (default: all cores; 1 = no pool)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on a Dask distributed cluster (pip install 'keirin-sim[dask]')",
    )
    p.add_argument(
        "--out", metavar="FILE", help="write one row per race: .parquet or .csv, streamed in chunks"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="complete an interrupted batch written to --out (same arguments)",
    )
    p.add_argument(
        "--attacker",
        metavar="NAME",
        help="whose catch point to follow (default: the scenario's attacker)",
    )
    p.add_argument("--plot", metavar="FILE", help="write the chart (.png, .svg or .pdf)")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.add_argument(
        "--chunk-size",
        type=_pos_int,
        metavar="N",
        help="runs per task and per chunk file (default: automatic, at most 1000)",
    )
    p.add_argument(
        "--dt",
        type=cli.dt_value,
        metavar="S",
        help="kernel reference step in seconds for every race (default: the scenario's dt_s); "
        "coarser is faster and less exact (README: Performance)",
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``mc`` and ``sweep`` to the ``keirin-sim`` command line."""
    p = sub.add_parser(
        "mc",
        help="Monte Carlo: win probabilities over uncertain inputs",
        description="Run many races with the inputs the scenario's [uncertainty] section "
        "makes uncertain; print win probabilities (95 % Wilson intervals), mean positions, "
        "the attacker's catch points and the winning margins.",
    )
    _common(p, 1000)
    p.set_defaults(func=cmd_mc)
    s = sub.add_parser(
        "sweep",
        help="Monte Carlo over a grid of parameter values",
        description="Run --runs races at every point of a grid of parameter values and "
        "print the win probability per point.",
    )
    _common(s, 100)
    s.add_argument(
        "--param",
        action="append",
        metavar="NAME.FIELD=START:STOP:STEP",
        help='a swept parameter (repeat for a grid), e.g. "Jason Kenny.'
        'launch_m_to_go=150:750:50" or "field.hesitation_s=0,2,4"; default: '
        "the scenario's [sweep] section",
    )
    s.add_argument(
        "--rider",
        metavar="NAME",
        help="whose win probability the table and heatmap show (default: attacker)",
    )
    s.set_defaults(func=cmd_sweep)


def _prepare(args: argparse.Namespace) -> tuple[Scenario, Path | None, Path | None]:
    from .cli import CHART_EXTENSIONS, CliError, check_output, error_line, load_or_fail

    out = check_output(args.out, "--out", tuple(OUT_FORMATS)) if args.out else None
    plot = check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None
    if out and plot and out.resolve() == plot.resolve():
        raise CliError(error_line(out, "output", "the same file is given twice"))
    if args.resume and out is None:
        raise CliError(f"{args.command}: --resume: needs --out (the file to complete)")
    if args.workers is not None and args.scheduler is not None:
        raise CliError(f"{args.command}: --scheduler: cannot be combined with --workers")
    if args.scheduler is not None:
        try:
            _import_dask()
        except BatchError as e:
            raise CliError(str(e)) from None
    sc = load_or_fail(args.scenario)
    try:
        sc = _scenario(sc, args.attacker)
    except ScenarioError as e:
        raise CliError(str(e).replace(": attacker:", ": --attacker:")) from None
    if args.dt is not None:  # the scenario's own step, so replays and resumes see it too
        sc = dataclasses.replace(sc, dt_s=args.dt)
    if out is not None and parts_dir(out).exists() and not args.resume:
        raise CliError(
            f"{parts_dir(out)}: --resume: holds an unfinished batch: add --resume "
            "to complete it, or delete the directory"
        )
    return sc, out, plot


def _go(fn: Any, args: argparse.Namespace, *a: Any) -> Batch | int:
    from .cli import CliError

    try:
        return fn(
            *a,
            workers=args.workers,
            scheduler=args.scheduler,
            out=args.out,
            resume=args.resume,
            progress=sys.stderr.isatty() and not args.json,
            chunk_size=args.chunk_size,
        )
    except BatchError as e:
        raise CliError(str(e)) from None
    except BatchInterrupted as e:
        why = e.reason + (f" ({e.detail})" if e.detail else "")
        where = (
            f"{e.done} of {e.total} runs kept in {e.out}; add --resume to complete them"
            if e.out is not None
            else f"{e.done} of {e.total} runs done, none kept (no --out)"
        )
        print(f"keirin-sim {args.command}: {why}: {where}", file=sys.stderr)
        return e.exit_code


def cmd_mc(args: argparse.Namespace) -> int:
    """``keirin-sim mc``."""
    sc, out, plot = _prepare(args)
    parse_uncertainty(sc)
    b = _go(run_batch, args, sc, args.runs, args.seed)
    if isinstance(b, int):
        return b
    s = b.summary
    if plot is not None:
        from . import plots

        plots.save(plots.mc_summary(s), plot)
    if args.json:
        d = s.to_dict()
        d["out"] = os.fspath(out) if out else None
        print(json.dumps(d, indent=2, allow_nan=False))
        return 0
    print(format_summary(s))
    for w in (out, plot):
        if w is not None:
            print(f"wrote {w}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``keirin-sim sweep``."""
    from .cli import CliError

    sc, out, plot = _prepare(args)
    rider = args.rider or sc.attacker
    if rider is not None and rider not in sc.names:
        raise CliError(
            f"{sc.source}: --rider: no rider named {rider!r} (riders: {', '.join(sc.names)})"
        )
    try:
        job = _sweep_job(sc, args.param, 1, 0)
    except BatchError as e:
        raise CliError(str(e)) from None
    if plot is not None and rider is None:
        raise CliError(
            f"{sc.source}: --rider: the scenario names no attacker: say whose win "
            "probability to plot"
        )
    if plot is not None and len(job.params) > 2:
        raise CliError(
            f"{args.plot}: --plot: a heatmap shows one or two parameters, got {len(job.params)}"
        )
    for msg in _ineffective(sc, job.params):
        print(f"keirin-sim: note: {msg}", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IneffectiveParameterWarning)  # noted just above
        b = _go(sweep, args, sc, args.param, args.runs, args.seed)
    if isinstance(b, int):
        return b
    s = b.summary
    if plot is not None:
        from . import plots

        plots.save(plots.sweep_heatmap(s.grid_table(rider), rider=rider), plot)
    if args.json:
        d = s.to_dict()
        d["out"] = os.fspath(out) if out else None
        print(json.dumps(d, indent=2, allow_nan=False))
        return 0
    print(format_sweep(s, rider))
    for w in (out, plot):
        if w is not None:
            print(f"wrote {w}")
    return 0


def _fmt_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(header)
    ]
    line = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if k == 0 else c.rjust(w)
        for k, (c, w) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()
    return "\n".join([line(header), *(line(r) for r in rows)])


def format_summary(s: Summary) -> str:
    """What ``keirin-sim mc`` prints without ``--json``."""
    head = f"{s.scenario}: {s.runs} races, seed {s.seed}"
    if s.elapsed_s:
        head += f" ({s.elapsed_s:.1f} s, {s.runs / s.elapsed_s:,.0f} races/s)"
    lines = [head, ""]
    p, ci = s.win_probability, s.ci95
    rows = [
        [
            r,
            f"{100 * p[r]:.1f} %",
            f"{100 * ci[r][0]:.1f}-{100 * ci[r][1]:.1f} %",
            f"{s.mean_position[r]:.2f}",
        ]
        for r in sorted(s.riders, key=lambda r: (-s.wins[r], s.mean_position[r]))
    ]
    lines.append(_fmt_table(["Rider", "Win", "95 % CI", "Mean pos"], rows))
    if s.attacker is not None:
        lines.append("")
        cp = s.caught_probability
        text = f"{s.attacker} caught in {100 * cp:.1f} % of the races"
        q = Summary._q(s.catch_m_to_go)
        if q:
            text += (
                f"; catch point median {q['median']:.0f} m to go (middle half "
                f"{q['p25']:.0f}-{q['p75']:.0f} m, 90 % within {q['p5']:.0f}-"
                f"{q['p95']:.0f} m)"
            )
        lines.append(text)
    q = Summary._q(s.winning_margin_s)
    if q:
        lines.append(
            f"Winning margin median {q['median']:.3f} s (90 % within {q['p5']:.3f}-"
            f"{q['p95']:.3f} s)"
        )
    if s.failed:
        lines.append(f"{s.failed} races could not be finished (left out), e.g.: {s.errors[0]}")
    return "\n".join(lines)


def format_sweep(s: Summary, rider: str | None) -> str:
    """What ``keirin-sim sweep`` prints without ``--json``: win probability per grid point."""
    head = (
        f"{s.scenario}: {len(s.grid or [])} points x {s.runs // max(1, len(s.grid or []))} "
        f"races, seed {s.seed}"
    )
    if s.elapsed_s:
        head += f" ({s.elapsed_s:.1f} s)"
    lines = [head, ""]
    grid = s.grid or []
    if rider is None:
        lines.append(
            _fmt_table(
                [*s.params, "winner (most wins)", "Win"],
                [
                    [
                        *(
                            f"{v:g}" if isinstance(v, float) else str(v)
                            for v in g["values"].values()
                        ),
                        max(g["wins"], key=g["wins"].get),
                        f"{100 * max(g['wins'].values()) / max(1, g['runs']):.1f} %",
                    ]
                    for g in grid
                ],
            )
        )
        return "\n".join(lines)
    lines.append(f"Win probability of {rider} (%)")
    fmt = lambda v: f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
    pct = lambda g: f"{100 * g['wins'][rider] / g['runs']:.1f}" if g["runs"] else "-"  # noqa: E731
    if len(s.params) == 2:
        xs = list(dict.fromkeys(g["values"][s.params[1]] for g in grid))
        ys = list(dict.fromkeys(g["values"][s.params[0]] for g in grid))
        cell = {(g["values"][s.params[0]], g["values"][s.params[1]]): pct(g) for g in grid}
        lines.append(f"rows: {s.params[0]}; columns: {s.params[1]}")
        lines.append(
            _fmt_table(["", *map(fmt, xs)], [[fmt(y), *(cell[(y, x)] for x in xs)] for y in ys])
        )
    else:
        lines.append(
            _fmt_table(
                [*s.params, "Win %", "95 % CI"],
                [
                    [
                        *(fmt(v) for v in g["values"].values()),
                        pct(g),
                        "-".join(f"{100 * x:.1f}" for x in wilson(g["wins"][rider], g["runs"])),
                    ]
                    for g in grid
                ],
            )
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m keirin_sim.montecarlo mc|sweep ...`` (the same as ``keirin-sim mc|sweep``)."""
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "Batch",
    "BatchError",
    "BatchInterrupted",
    "Dist",
    "Summary",
    "Uncertainty",
    "add_commands",
    "load_runs",
    "parse_grid",
    "parse_uncertainty",
    "parts_dir",
    "replay_run",
    "run_batch",
    "run_stream",
    "sample_run",
    "summarize",
    "sweep",
    "wilson",
]
