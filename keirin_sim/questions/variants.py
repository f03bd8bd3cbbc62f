"""Early attack versus late sprint: one rider's tactic varied against the same field.

- :func:`compare_variants`: one rider's tactic varied (the ``[[variants]]`` of a scenario file),
  the rest of the field unchanged; finish position, margin, W' left at the line and the rider's
  lead over the rest, lap by lap.
- :func:`attack_point_sweep`: a rider's finish position and margin as a function of the distance
  to go at which it launches.

The margins are signed (:func:`keirin_sim.questions.counterfactual.signed_margin`).  The ``compare``
command is in :mod:`keirin_sim.cli.analysis`; the same over plausible races in
:mod:`~keirin_sim.questions.bands`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.model.tactic import KINDS, ROLES
from keirin_sim.questions.counterfactual import AnalysisError, signed_margin
from keirin_sim.results.result import Result
from keirin_sim.scenario.scenario import TACTIC_BOUNDS, Scenario
from keirin_sim.simulation import simulate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "AttackPointRow",
    "AttackPointSweep",
    "Variant",
    "VariantComparison",
    "VariantRow",
    "attack_point_sweep",
    "compare_variants",
    "parse_variants",
]

#: Launch distances swept by ``keirin-sim compare --sweep`` (m to go), as in the issue.
DEFAULT_SWEEP = "750:150:25"
#: Scenario ``compare`` replays when none is given (shipped with the package).
DEFAULT_COMPARE_SCENARIO = "early_vs_late.toml"

# --- variants -----------------------------------------------------------------------------
#: Tactic fields that may be unset in a variant by writing ``false``.
OPTIONAL_TACTIC_FIELDS = (
    "launch_m_to_go",
    "attack_m_to_go",
    "move_up_m_to_go",
    "let_gap_m",
    "let_gap_at_m_to_go",
)
_DISTANCE_FIELDS = ("launch_m_to_go", "attack_m_to_go", "move_up_m_to_go", "let_gap_at_m_to_go")
_STR_FIELDS = {"kind": KINDS, "role": ROLES}


@dataclass(frozen=True)
class Variant:
    """One tactic for the varied rider: ``tactic`` holds the fields that change (the rest are
    the rider's own, as in the scenario); ``None`` unsets an optional field."""

    name: str
    tactic: dict[str, Any] = field(default_factory=dict)
    rider: str | None = None


def parse_variants(scenario: Scenario, raw: Any = None, rider: str | None = None) -> list[Variant]:
    """Validate ``[[variants]]`` tables (by default the scenario file's) into :class:`Variant`.

    Each table has a ``name``, optionally a ``rider`` (default: ``rider``, else the scenario's
    attacker; every variant must vary the same rider) and tactic fields as in
    ``[riders.tactic]``.  The optional
    distances (``launch_m_to_go``, ``attack_m_to_go``, ...) take ``false`` to unset them.
    Problems raise one line: ``"<file>: variants[<i>].<key>: <problem>"``.
    """
    src = scenario.source
    if raw is None:
        raw = scenario.extra.get("variants")
        if raw is None:
            raise AnalysisError(f"{src}: variants: the scenario declares no [[variants]] tables")
    if not isinstance(raw, list) or not all(isinstance(v, (dict, Variant)) for v in raw):
        raise AnalysisError(f"{src}: variants: must be an array of tables ([[variants]])")
    if not raw:
        raise AnalysisError(f"{src}: variants: no variants given")
    race_m = scenario.race_m
    known = sorted(["name", "rider", *TACTIC_BOUNDS, *_STR_FIELDS, "launch_on_wprime"])
    out: list[Variant] = []
    seen: dict[str, int] = {}
    rider0: tuple[str, int] | None = None
    for n, v in enumerate(raw):
        pre = f"variants[{n}]"
        if isinstance(v, Variant):
            v = {"name": v.name, **({"rider": v.rider} if v.rider else {}), **v.tactic}
        v = dict(v)
        name = v.pop("name", None)
        if name is None:
            raise AnalysisError(f"{src}: {pre}.name: missing key")
        if not isinstance(name, str) or not name.strip():
            raise AnalysisError(f"{src}: {pre}.name: must be a non-empty string, got {name!r}")
        if name in seen:
            raise AnalysisError(
                f"{src}: {pre}.name: duplicate variant name {name!r} (as variants[{seen[name]}])"
            )
        seen[name] = n
        who = v.pop("rider", None)
        if who is not None:
            if not isinstance(who, str):
                raise AnalysisError(f"{src}: {pre}.rider: must be a rider name, got {who!r}")
            if who not in scenario.names:
                raise AnalysisError(f"{src}: {pre}.rider: {who!r} is not one of the riders")
        eff = who if who is not None else rider if rider is not None else scenario.attacker
        if eff is None:
            raise AnalysisError(
                f"{src}: {pre}.rider: missing key (the scenario names no attacker to vary)"
            )
        if rider0 is None:
            rider0 = (eff, n)
        elif eff != rider0[0]:
            raise AnalysisError(
                f"{src}: {pre}.rider: every variant must vary the same rider "
                f"({rider0[0]!r} in variants[{rider0[1]}]), got {eff!r}"
            )
        tac: dict[str, Any] = {}
        for k, val in v.items():
            key = f"{src}: {pre}.{k}"
            if k in _STR_FIELDS:
                if val not in _STR_FIELDS[k]:
                    raise AnalysisError(f"{key}: {val!r} is not one of {', '.join(_STR_FIELDS[k])}")
                tac[k] = val
            elif k == "launch_on_wprime":
                if not isinstance(val, bool):
                    raise AnalysisError(f"{key}: must be true or false, got {val!r}")
                tac[k] = val
            elif k in TACTIC_BOUNDS:
                if val is None or (val is False and k in OPTIONAL_TACTIC_FIELDS):
                    if k not in OPTIONAL_TACTIC_FIELDS:
                        raise AnalysisError(f"{key}: cannot be unset")
                    tac[k] = None
                    continue
                if isinstance(val, bool) or not isinstance(val, (int, float)):
                    unset = " (or false to unset it)" if k in OPTIONAL_TACTIC_FIELDS else ""
                    raise AnalysisError(f"{key}: must be a number{unset}, got {val!r}")
                lo, hi = TACTIC_BOUNDS[k]
                if not math.isfinite(val) or val < lo or val > hi:
                    raise AnalysisError(
                        f"{key}: {val!r} is outside the physical range [{lo:g}, {hi:g}]"
                    )
                if k in _DISTANCE_FIELDS and val >= race_m:
                    raise AnalysisError(f"{key}: {val:g} m is beyond the {race_m:g} m race")
                tac[k] = float(val)
            else:
                hint = ""
                if k.endswith(("_w", "_j", "_kg", "_m2", "_rpm")) or k in ("crr", "efficiency"):
                    hint = "a variant changes the tactic only; "
                raise AnalysisError(f"{key}: unknown key ({hint}known: {', '.join(known)})")
        out.append(Variant(name=name, tactic=tac, rider=eff))
    return out


@dataclass(frozen=True, eq=False)
class VariantRow:
    """The varied rider's race under one variant.

    ``caught``: whether he was caught before the line, when he is the scenario's attacker
    (else ``None``).  ``gap_over_laps``: (laps to go, lead in metres) at each whole lap mark,
    from the race's lap gaps (taken as the first rider reaches each mark); the lead is over the
    best of the other riders (positive = ahead by, negative = behind the leader by).
    ``lead_m_to_go`` / ``lead_m``: the same lead step by step (for charts), against the metres
    to go of the front of the race, up to the first finisher.
    """

    name: str
    tactic: dict[str, Any]
    position: int
    margin_s: float
    finish_time_s: float
    w_left_j: float
    winner: str
    caught: bool | None
    gap_over_laps: tuple[tuple[float, float], ...]
    lead_m_to_go: np.ndarray
    lead_m: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tactic": self.tactic,
            "position": self.position,
            "margin_s": round(self.margin_s, 4),
            "finish_time_s": round(self.finish_time_s, 4),
            "w_left_j": round(self.w_left_j, 1),
            "winner": self.winner,
            "caught": self.caught,
            "gap_over_laps": [
                {"laps_to_go": ltg, "lead_m": round(g, 2)} for ltg, g in self.gap_over_laps
            ],
        }


@dataclass(frozen=True)
class VariantComparison:
    """Same field, one rider's tactic varied: one :class:`VariantRow` per variant."""

    scenario: str
    rider: str
    rows: tuple[VariantRow, ...]
    race_m: float
    lap_m: float
    pull_off_m_to_go: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "rider": self.rider,
            "variants": [r.to_dict() for r in self.rows],
        }

    def to_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        keys = ("name", "position", "margin_s", "finish_time_s", "w_left_j", "winner")
        return pd.DataFrame([{k: getattr(r, k) for k in keys} for r in self.rows])


def _lead_trace(res: Result, rider: str) -> tuple[np.ndarray, np.ndarray]:
    """``rider``'s lead over the best other rider (m) against the front's metres to go, from
    the start to the moment the first rider crosses the line.

    The traces hold a finished rider at the line (``x_m`` is clamped at the race distance),
    so samples after the first finish would show the chasers closing in on a rider who in
    reality rolls on past the line, and the lead would shrink to a metre or two.  The trace
    therefore ends at the first finish time, where each rider's position is interpolated
    along his own path (his unclamped samples plus the exact crossing point, the line at his
    finish time): the last lead is then the real distance between them as the winner crosses,
    about the time margin times the speed there."""
    tr = res.traces
    if tr is None:
        return np.zeros(0), np.zeros(0)
    i = tr.names.index(rider)
    t = np.asarray(tr.t, dtype=float)
    x = np.asarray(tr.x_m, dtype=float)
    finish = np.array([res.finish_times.get(n, math.nan) for n in tr.names], dtype=float)
    t_end = float(np.nanmin(finish)) if np.isfinite(finish).any() else float(t[-1])
    line = res.race_m - 1e-6  # held riders sit a hair short of the line, not on it
    keep = (t < t_end) & (x.max(axis=1) < line)
    at_end = []
    for j in range(x.shape[1]):
        on = (x[:, j] < line) & ~(t >= finish[j])  # held at the line once finished
        tj, xj = t[on], x[on, j]
        if math.isfinite(finish[j]):
            tj, xj = np.append(tj, finish[j]), np.append(xj, res.race_m)
        at_end.append(float(np.interp(t_end, tj, xj)) if len(tj) else res.race_m)
    pos = np.vstack([x[keep], np.array(at_end)])
    front = pos.max(axis=1)
    lead = pos[:, i] - np.delete(pos, i, axis=1).max(axis=1)
    return res.race_m - front, lead


def _gap_over_laps(res: Result, rider: str) -> tuple[tuple[float, float], ...]:
    out = []
    for g in res.lap_gaps:
        others = [v for k, v in g.gap_m.items() if k != rider]
        if not others:
            continue
        out.append((float(g.laps_to_go), float(min(others) - g.gap_m[rider])))
    return tuple(out)


def compare_variants(
    scenario: Scenario,
    rider: str | None = None,
    variants: Sequence[Variant | dict[str, Any]] | None = None,
) -> VariantComparison:
    """Race the same field once per variant of one rider's tactic.

    ``variants`` (default: the scenario file's ``[[variants]]``) are :class:`Variant` objects or
    tables as in the file.  ``rider`` defaults to the variants' rider (the scenario's attacker
    unless they name one).  Each variant's fields are applied on top of the rider's tactic in
    the scenario; nothing else changes.
    """
    if rider is not None:
        scenario.rider_index(rider)
    vs = parse_variants(scenario, None if variants is None else list(variants), rider)
    name = vs[0].rider
    if rider is not None and name != rider:
        raise AnalysisError(
            f"{scenario.source}: variants[0].rider: the variants vary {name!r}, not {rider!r}"
        )
    rows = []
    for v in vs:
        sc = scenario.with_tactic(name, **v.tactic)
        res = simulate(sc, traces=True)
        mt, lead = _lead_trace(res, name)
        att = sc.attacker
        caught = None
        if att == name:
            caught = res.catch is not None and res.catch["m_to_go"] > 0.0
        rows.append(
            VariantRow(
                name=v.name,
                tactic=dict(v.tactic),
                position=res.finish_order.index(name) + 1,
                margin_s=signed_margin(res, name),
                finish_time_s=float(res.finish_times[name]),
                w_left_j=float(res.w_left_j[name]),
                winner=res.finish_order[0],
                caught=caught,
                gap_over_laps=_gap_over_laps(res, name),
                lead_m_to_go=mt,
                lead_m=lead,
            )
        )
    return VariantComparison(
        scenario=scenario.name,
        rider=name,
        rows=tuple(rows),
        race_m=scenario.race_m,
        lap_m=scenario.track.lap_m,
        pull_off_m_to_go=scenario.derny.pull_off_m_to_go,
    )


# --- attack point -------------------------------------------------------------------------
@dataclass(frozen=True)
class AttackPointRow:
    """One launch distance: the rider's finish position, signed margin and W' at the line."""

    m_to_go: float
    position: int
    margin_s: float
    winner: str
    w_left_j: float
    finish_time_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "m_to_go": self.m_to_go,
            "position": self.position,
            "margin_s": round(self.margin_s, 4),
            "winner": self.winner,
            "w_left_j": round(self.w_left_j, 1),
            "finish_time_s": round(self.finish_time_s, 4),
        }


@dataclass(frozen=True)
class AttackPointSweep:
    """Finish position and margin of ``rider`` against the launch distance."""

    scenario: str
    rider: str
    rows: tuple[AttackPointRow, ...]
    race_m: float
    lap_m: float
    pull_off_m_to_go: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "rider": self.rider,
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.rows])


def attack_at(m_to_go: float) -> dict[str, Any]:
    """The tactic of a rider going all out at ``m_to_go`` (the attack-point sweep's)."""
    return {"kind": "attack", "attack_m_to_go": float(m_to_go)}


def sweep_points(
    scenario: Scenario, rider: str | None, distances: Iterable[float]
) -> tuple[str, list[float]]:
    """The swept rider (default the attacker) and the distances, checked: each inside the
    race."""
    name = rider if rider is not None else scenario.attacker
    if name is None:
        raise AnalysisError(f"{scenario.source}: rider: the scenario names no attacker; give one")
    scenario.rider_index(name)
    ds = [float(d) for d in distances]
    if not ds:
        raise AnalysisError(f"{scenario.source}: distances: no launch distances to sweep")
    for d in ds:
        if not (math.isfinite(d) and 0.0 < d < scenario.race_m):
            raise AnalysisError(
                f"{scenario.source}: distances: {d:g} m is not inside the "
                f"{scenario.race_m:g} m race"
            )
    return name, ds


def attack_point_sweep(
    scenario: Scenario, rider: str | None, distances: Iterable[float]
) -> AttackPointSweep:
    """Replay ``scenario`` with ``rider`` launching all out at each distance to go (m).

    The rider's tactic becomes an attack at that mark (``kind = "attack"``,
    ``attack_m_to_go = d``): he follows until then, goes all out and rides to the line; the
    others are unchanged.  A distance at or beyond the derny's pull-off means attacking as the
    derny leaves (no one may pass the derny before).  ``rider`` defaults to the attacker.
    """
    name, ds = sweep_points(scenario, rider, distances)
    rows = []
    for d in ds:
        res = simulate(scenario.with_tactic(name, **attack_at(d)), traces=False)
        rows.append(
            AttackPointRow(
                m_to_go=d,
                position=res.finish_order.index(name) + 1,
                margin_s=signed_margin(res, name),
                winner=res.finish_order[0],
                w_left_j=float(res.w_left_j[name]),
                finish_time_s=float(res.finish_times[name]),
            )
        )
    return AttackPointSweep(
        scenario=scenario.name,
        rider=name,
        rows=tuple(rows),
        race_m=scenario.race_m,
        lap_m=scenario.track.lap_m,
        pull_off_m_to_go=scenario.derny.pull_off_m_to_go,
    )
