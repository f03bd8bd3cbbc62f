"""What a batch runs: its grid points (a plain Monte Carlo has one), each a scenario with its
sampling plan; the ``--param`` grid syntax; swept parameters that change nothing."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.model.tactic import ignores
from keirin_sim.montecarlo.errors import BatchError
from keirin_sim.scenario.loading import load_scenario
from keirin_sim.scenario.paths import parse_grid
from keirin_sim.scenario.scenario import TACTIC_BOUNDS, Scenario, ScenarioError
from keirin_sim.scenario.uncertainty import (
    SamplingPlan,
    build_plan,
    param_targets,
    parse_uncertainty,
    uncertainty_error,
)

if TYPE_CHECKING:  # pragma: no cover
    pass


class IneffectiveParameterWarning(UserWarning):
    """A swept parameter that changes nothing: the tactic of every rider it applies to never
    reads it (a launch point for a rider whose tactic is an attack...)."""


def ineffective_params(sc: Scenario, paths: Sequence[str]) -> list[str]:
    """What is wrong with each swept tactic field that no rider it applies to reads."""
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


# --- jobs: what to run -----------------------------------------------------------------------
@dataclass(frozen=True)
class Point:
    """One grid point (a plain batch has one): its scenario and sampling plan."""

    index: int
    base: Scenario
    plan: SamplingPlan
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Job:
    kind: str  # "mc" or "sweep"
    seed: int
    runs: int  # per point
    names: tuple[str, ...]
    attacker: str | None
    params: tuple[str, ...]
    points: tuple[Point, ...]
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


def check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise BatchError(f"keirin-sim: seed: must be a non-negative integer, got {seed!r}")
    return int(seed)


#: Most races one batch may run (``runs`` times the grid points).  The summary keeps four
#: numbers a race for its exact quantiles (24 bytes: 2.4 GB at this limit, the most a batch
#: should hold on a laptop), and a race costs about 0.7 ms of CPU (docs/performance.md):
#: 10^8 races are some 20 CPU-hours.  An engineering choice: a bigger study is several
#: batches with other seeds (docs/monte-carlo.md, "How many runs").
MAX_RUNS = 100_000_000


def check_runs(runs: Any) -> int:
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise BatchError(f"keirin-sim: runs: must be a positive integer, got {runs!r}")
    if runs > MAX_RUNS:
        raise BatchError(_too_many(int(runs)))
    return int(runs)


def _too_many(total: int, what: str = "runs") -> str:
    return (
        f"keirin-sim: {what}: {total:,} races is more than one batch may run "
        f"({MAX_RUNS:,}, docs/monte-carlo.md: How many runs): split it into batches "
        "with different seeds"
    )


def check_total(job: Job) -> None:
    """Refuse a sweep whose grid times ``runs`` is over :data:`MAX_RUNS`."""
    if job.total > MAX_RUNS:
        raise BatchError(_too_many(job.total, f"runs x {len(job.points)} grid points"))


def resolve_scenario(
    scenario: Scenario | str | os.PathLike[str] | None, attacker: str | None
) -> Scenario:
    """The scenario, loaded if a path; ``attacker`` is checked but not applied: it only
    chooses whose catch is followed (``_followed``), never who ``field`` means."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if attacker is not None and attacker not in sc.names:
        raise uncertainty_error(
            sc.source,
            "attacker",
            f"no rider named {attacker!r} (riders: {', '.join(sc.names)})",
        )
    return sc


def _followed(sc: Scenario, attacker: str | None) -> Scenario:
    """``sc`` raced with ``attacker``'s catch recorded (the race reads the attacker for that
    alone); its sampling plan and ``field`` stay those of the scenario's own attacker."""
    if attacker is None or attacker == sc.attacker:
        return sc
    return dataclasses.replace(sc, attacker=attacker)


def _overridden(sc: Scenario, path: str) -> set[tuple[int, str]]:
    head, _, fld = path.rpartition(".")
    if head in ("track", "derny"):
        return set()
    if head == "":
        return {(-1, fld)}
    return {(i, fld) for i in param_targets(sc, head)}


def mc_job(sc: Scenario, runs: int, seed: int, attacker: str | None = None) -> Job:
    plan = build_plan(sc, parse_uncertainty(sc, check=False))
    base = _followed(sc, attacker)
    return Job(
        "mc", seed, runs, tuple(sc.names), base.attacker, (), (Point(0, base, plan),), sc.name
    )


def _sweep_params(sc: Scenario, params: Any) -> list[tuple[str, list[Any]]]:
    if params is None:
        raw = sc.extra.get("sweep")
        if not raw:
            raise BatchError(
                f"{sc.source}: sweep: no parameters: give --param NAME.FIELD="
                "START:STOP:STEP or a [sweep] section"
            )
        if not isinstance(raw, Mapping):
            raise uncertainty_error(
                sc.source, "sweep", 'must be a table of "name.field" = "a:b:step"'
            )
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


def sweep_job(sc: Scenario, params: Any, runs: int, seed: int, attacker: str | None = None) -> Job:
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
        plan = build_plan(s, unc, frozenset(overridden))
        points.append(Point(k, _followed(s, attacker), plan, tuple(combo)))
    followed = _followed(sc, attacker).attacker
    return Job("sweep", seed, runs, tuple(sc.names), followed, tuple(paths), tuple(points), sc.name)


def track_info(sc: Scenario) -> dict[str, float]:
    return {
        "race_m": float(sc.race_m),
        "lap_m": float(sc.track.lap_m),
        "pull_off_m_to_go": float(sc.derny.pull_off_m_to_go),
    }
