"""How sure is a counterfactual: the critical hesitation and the tactic comparison repeated
over races drawn from the scenario's ``[uncertainty]``.

Run ``i`` is the race of run ``i`` of a Monte Carlo batch with the same seed
(:func:`keirin_sim.montecarlo.sample_run`, here :func:`~keirin_sim.montecarlo.runner.drawn_scenario`
with the plan resolved once: the same inputs, start order and riders' choices on the
day), so any single draw can be replayed with ``keirin-sim run --mc-seed S --mc-run I``.  The
runs go to the batch executors (:func:`keirin_sim.montecarlo.tasks.map_tasks`), and the answers do
not depend on the number of workers.

- :func:`catch_band`: the critical hesitation of every drawn race (bisection, as
  :func:`~keirin_sim.questions.catch.critical_hesitation`), its median and 5-95 % band, and the same
  for the catch point at the sentence's hesitation.  A drawn race whose catch does not flip
  inside the range counts as the end it lies beyond (caught for every delay: at least ``hi``;
  never caught: at most ``lo``), and the band says so.
- :func:`compare_band`: each tactic variant's win probability (95 % Wilson interval) and
  signed margin (median, 5-95 %) over the same drawn races, so "early attack versus late
  sprint" is a comparison of odds.
- :func:`attack_point_band`: the same for the attack-point sweep: the rider's odds when it goes
  all out at each distance to go.  One race's sweep turns on that race's draws (the other
  riders' launch points and tolerances); the odds show how the answer moves with the point.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from keirin_sim.montecarlo import wilson
from keirin_sim.montecarlo.runner import drawn_scenario, mc_point
from keirin_sim.montecarlo.tasks import map_tasks
from keirin_sim.questions.catch import DEFAULT_TOL_S, critical_hesitation
from keirin_sim.questions.counterfactual import signed_margin, with_attacker
from keirin_sim.questions.variants import attack_at, parse_variants, sweep_points
from keirin_sim.scenario.scenario import Scenario
from keirin_sim.simulation import simulate


def _q(values: np.ndarray) -> dict[str, float | None]:
    v = values[np.isfinite(values)]
    if not len(v):
        return {"median": None, "p5": None, "p95": None}
    p5, med, p95 = np.percentile(v, [5, 50, 95])
    return {"median": round(float(med), 3), "p5": round(float(p5), 3), "p95": round(float(p95), 3)}


# --- the critical hesitation -----------------------------------------------------------------
def _catch_one(
    point: Any, seed: int, attacker: str, lo: float, hi: float, tol: float, run: int
) -> tuple[float, int, float]:
    """(critical hesitation or the end it lies beyond, -1/0/+1 censoring, catch point or nan)."""
    sc = drawn_scenario(point, seed, run)
    c = critical_hesitation(sc, attacker, lo, hi, tol)
    if c.hesitation_s is not None:
        value, cens = c.hesitation_s, 0
    elif c.below is not None and c.below.caught:
        value, cens = hi, 1  # caught for every delay in the range
    else:
        value, cens = lo, -1  # never caught
    row = c.at_row
    m = row.catch_m_to_go if row is not None and row.caught else None
    return float(value), cens, math.nan if m is None else float(m)


@dataclass(frozen=True)
class CatchBand:
    """The critical hesitation over ``runs`` drawn races (see the module docstring)."""

    attacker: str
    runs: int
    seed: int
    lo: float
    hi: float
    #: per run: the critical hesitation (or the range end it lies beyond)
    values: tuple[float, ...]
    #: per run: -1 never caught in the range, +1 caught for every delay, 0 flipped inside
    censored: tuple[int, ...]
    #: per run: the catch point (m to go) at the sentence's hesitation, nan if not caught there
    catch_m_to_go: tuple[float, ...]
    #: the races are those of a reconstruction (:mod:`keirin_sim.questions.reconstruction`): the
    #: ones
    #: that match the race report, not every drawn race
    given_report: bool = False

    @property
    def band(self) -> dict[str, float | None]:
        """Median, 5th and 95th percentiles of the critical hesitation (s)."""
        return _q(np.array(self.values))

    @property
    def catch_band(self) -> dict[str, float | None]:
        """The same for the catch point (m to go), over the runs where he is caught there."""
        return _q(np.array(self.catch_m_to_go))

    def phrase(self) -> str:
        """ "90 % of 200 plausible races 1.40-3.05 s", and how many drawn races lie beyond the
        range ("in 9 he is not caught even chasing at once")."""
        b = self.band
        if b["p5"] is None or b["p95"] is None:
            return f"no plausible race of {self.runs}"
        races = "races that match the report" if self.given_report else "plausible races"
        text = f"90 % of {self.runs} {races} {b['p5']:.2f}-{b['p95']:.2f} s"
        never, always = self.censored.count(-1), self.censored.count(1)
        if never:
            at = "chases at once" if self.lo == 0 else f"waits only {self.lo:g} s"
            text += f"; in {never} he is not caught even if the field {at}"
        if always:
            text += f"; in {always} he is caught even if the field waits {self.hi:g} s"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.band,
            "runs": self.runs,
            "seed": self.seed,
            "never_caught": self.censored.count(-1),
            "caught_for_every_delay": self.censored.count(1),
            "catch_m_to_go": self.catch_band,
            "given_report": self.given_report,
        }


def catch_band(
    scenario: Scenario,
    runs: int,
    seed: int = 0,
    attacker: str | None = None,
    lo: float = 0.0,
    hi: float = 15.0,
    tol: float = DEFAULT_TOL_S,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    runs_of: Sequence[int] | None = None,
) -> CatchBand:
    """The critical hesitation of ``runs`` races drawn from the scenario's ``[uncertainty]``
    with ``seed`` (the streams of ``keirin-sim mc``); ``runs_of``: those runs instead of the
    first ``runs`` (the races of a reconstruction that match the report: ``given_report``)."""
    sc = with_attacker(scenario, attacker)
    name = sc.attacker
    pt = mc_point(sc)  # the sampling plan, resolved once for every run
    fn = functools.partial(_catch_one, pt, int(seed), name, float(lo), float(hi), float(tol))
    items = range(int(runs)) if runs_of is None else [int(r) for r in runs_of]
    out = map_tasks(
        fn,
        items,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        warm=lambda: simulate(sc),
    )
    return CatchBand(
        attacker=name,
        runs=len(items),
        seed=int(seed),
        lo=float(lo),
        hi=float(hi),
        values=tuple(v for v, _, _ in out),
        censored=tuple(c for _, c, _ in out),
        catch_m_to_go=tuple(m for _, _, m in out),
        given_report=runs_of is not None,
    )


def with_band(sentence: str, band: CatchBand, critical: float | None) -> str:
    """The single-scenario sentence with the band after its critical hesitation."""
    if critical is not None:
        key = f"within {critical:.2f} s"
        if key in sentence:
            return sentence.replace(key, f"{key} ({band.phrase()})", 1)
    return sentence.rstrip(".") + f" (critical hesitation: {band.phrase()})."


# --- tactic variants -------------------------------------------------------------------------
def _variants_one(
    point: Any, seed: int, rider: str, tactics: tuple[dict[str, Any], ...], run: int
) -> list[tuple[bool, float]]:
    sc = drawn_scenario(point, seed, run)
    out = []
    for t in tactics:
        res = simulate(sc.with_tactic(rider, **t))
        out.append((res.finish_order[0] == rider, signed_margin(res, rider)))
    return out


@dataclass(frozen=True)
class VariantBand:
    """One variant over the drawn races: wins and signed margins of the varied rider."""

    name: str
    wins: int
    runs: int
    margins_s: tuple[float, ...]

    @property
    def win_probability(self) -> float:
        return self.wins / self.runs if self.runs else math.nan

    @property
    def ci95(self) -> tuple[float, float]:
        return wilson(self.wins, self.runs)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.ci95
        return {
            "variant": self.name,
            "runs": self.runs,
            "win_probability": round(self.win_probability, 4),
            "win_ci95": [round(lo, 4), round(hi, 4)],
            "margin_s": _q(np.array(self.margins_s)),
        }


def _tactics_band(
    scenario: Scenario,
    rider: str,
    tactics: tuple[dict[str, Any], ...],
    runs: int,
    seed: int,
    ex: dict[str, Any],
    runs_of: Sequence[int] | None = None,
) -> list[tuple[int, tuple[float, ...]]]:
    """Each of ``tactics`` for ``rider`` raced in the same ``runs`` drawn races (or the runs
    ``runs_of``): per tactic, (wins, signed margins race by race)."""
    fn = functools.partial(_variants_one, mc_point(scenario), int(seed), rider, tactics)
    items = range(int(runs)) if runs_of is None else [int(r) for r in runs_of]
    out = map_tasks(fn, items, warm=lambda: simulate(scenario), **ex)
    return [
        (sum(run[k][0] for run in out), tuple(run[k][1] for run in out))
        for k in range(len(tactics))
    ]


def compare_band(
    scenario: Scenario,
    runs: int,
    seed: int = 0,
    rider: str | None = None,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
) -> tuple[str, tuple[VariantBand, ...]]:
    """Every ``[[variants]]`` tactic raced in the same ``runs`` drawn races: (the varied rider,
    one :class:`VariantBand` per variant)."""
    ex = {"workers": workers, "scheduler": scheduler, "progress": progress}
    name, bands, _ = compare_and_sweep_band(scenario, runs, seed, rider, (), **ex)
    return name, bands


def compare_and_sweep_band(
    scenario: Scenario,
    runs: int,
    seed: int = 0,
    rider: str | None = None,
    distances: Any = (),
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    runs_of: Sequence[int] | None = None,
) -> tuple[str, tuple[VariantBand, ...], tuple[AttackPointBand, ...]]:
    """:func:`compare_band` and, for the varied rider, :func:`attack_point_band` at
    ``distances`` in one pass over the drawn races (each race drawn once for all the
    tactics): (the rider, the variants' bands, the points' bands).  ``runs_of``: those runs
    instead of the first ``runs`` (the races of a reconstruction)."""
    vs = parse_variants(scenario, None, rider)
    name = vs[0].rider
    ds = sweep_points(scenario, name, distances)[1] if len(distances) else []
    tactics = (*(dict(v.tactic) for v in vs), *(attack_at(d) for d in ds))
    ex = {"workers": workers, "scheduler": scheduler, "progress": progress}
    out = _tactics_band(scenario, name, tactics, runs, seed, ex, runs_of)
    if runs_of is not None:
        runs = len(runs_of)
    bands = tuple(
        VariantBand(name=v.name, wins=wins, runs=int(runs), margins_s=margins)
        for v, (wins, margins) in zip(vs, out[: len(vs)], strict=True)
    )
    return name, bands, _point_bands(ds, out[len(vs) :], runs)


@dataclass(frozen=True)
class AttackPointBand(VariantBand):
    """One distance of the attack-point sweep over the drawn races (``name`` is the distance
    as text)."""

    m_to_go: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        del d["variant"]
        return {"m_to_go": self.m_to_go, **d}


def attack_point_band(
    scenario: Scenario,
    rider: str | None,
    distances: Any,
    runs: int,
    seed: int = 0,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
) -> tuple[str, tuple[AttackPointBand, ...]]:
    """The attack-point sweep (:func:`keirin_sim.questions.variants.attack_point_sweep`) in the same
    ``runs`` drawn races: (the rider, one :class:`AttackPointBand` per distance)."""
    name, ds = sweep_points(scenario, rider, distances)
    tactics = tuple(attack_at(d) for d in ds)
    ex = {"workers": workers, "scheduler": scheduler, "progress": progress}
    return name, _point_bands(ds, _tactics_band(scenario, name, tactics, runs, seed, ex), runs)


def _point_bands(
    ds: list[float], out: list[tuple[int, tuple[float, ...]]], runs: int
) -> tuple[AttackPointBand, ...]:
    return tuple(
        AttackPointBand(name=f"{d:g}", wins=wins, runs=int(runs), margins_s=margins, m_to_go=d)
        for d, (wins, margins) in zip(ds, out, strict=True)
    )


__all__ = [
    "AttackPointBand",
    "CatchBand",
    "VariantBand",
    "attack_point_band",
    "catch_band",
    "compare_and_sweep_band",
    "compare_band",
    "with_band",
]
