"""Counterfactuals: when would the field have caught the attacker, and early attack versus late
sprint.

Every analysis replays one scenario many times with a single thing changed and everything else
fixed:

- :func:`catch_sweep`: the field's hesitation (``"field.hesitation_s"``: every rider but the
  attacker) swept over a range; for each value, whether the attacker was caught before the line,
  where, in which lap, by whom, and his margin.
- :func:`critical_hesitation`: the hesitation at which the catch falls exactly on the line, by
  bisection on the catch flip, with a sentence that says it.
- :func:`compare_variants`: one rider's tactic varied (the ``[[variants]]`` of a scenario file),
  the rest of the field unchanged; finish position, margin, W' left at the line and the rider's
  lead over the rest, lap by lap.
- :func:`attack_point_sweep`: a rider's finish position and margin as a function of the distance
  to go at which it launches.

Margins here are *signed* and belong to one rider: positive = won by that many seconds (over
second place), negative = finished that many seconds behind the winner.

The catch itself is recorded by the engine (``Result.catch``): the first moment another rider's
front wheel reaches the attacker's after he had led by more than a metre.  "Caught" means caught
*before the line*.

The ``catch`` and ``compare`` commands are in :mod:`keirin_sim.cli.analysis`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .race import simulate
from .results import Result
from .scenario import TACTIC_BOUNDS, Scenario, ScenarioError
from .tactics import KINDS, ROLES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "AnalysisError",
    "AttackPointRow",
    "AttackPointSweep",
    "CatchAnalysis",
    "CatchRow",
    "CriticalHesitation",
    "Variant",
    "VariantComparison",
    "VariantRow",
    "attack_point_sweep",
    "catch_sweep",
    "compare_variants",
    "critical_hesitation",
    "parse_range",
    "parse_variants",
]

#: Hesitations swept by ``keirin-sim catch`` when ``--hesitation`` is not given (s).
DEFAULT_HESITATIONS = "0:15:0.5"
#: Launch distances swept by ``keirin-sim compare --sweep`` (m to go), as in the issue.
DEFAULT_SWEEP = "750:150:25"
#: Bisection tolerance on the critical hesitation (s).
DEFAULT_TOL_S = 0.01
#: Scenario ``compare`` replays when none is given (shipped with the package).
DEFAULT_COMPARE_SCENARIO = "early_vs_late.toml"


class AnalysisError(ScenarioError):
    """An analysis that cannot be run; the message is one line (file or option, key, problem)."""


# --- helpers ------------------------------------------------------------------------------
def _signed_margin(result: Result, rider: str) -> float:
    """Positive: won by that many seconds over second place; negative: behind the winner."""
    order = result.finish_order
    t = result.finish_times
    if order[0] == rider:
        return float(t[order[1]] - t[rider]) if len(order) > 1 else 0.0
    return -float(t[rider] - t[order[0]])


def _with_attacker(scenario: Scenario, attacker: str | None) -> Scenario:
    name = attacker if attacker is not None else scenario.attacker
    if name is None:
        raise AnalysisError(
            f"{scenario.source}: attacker: the scenario names no attacker; give one"
        )
    scenario.rider_index(name)  # one-line ScenarioError for an unknown rider
    return scenario if name == scenario.attacker else replace(scenario, attacker=name)


def _reference_hesitation(scenario: Scenario) -> float | None:
    """The real race's hesitation (``[reference] hesitation_s``), else the one the replay's
    field produced (:func:`replay_hesitation`)."""
    h = scenario.reference.get("hesitation_s")
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not math.isfinite(h):
        return replay_hesitation(scenario)
    return float(h)


def replay_hesitation(scenario: Scenario) -> float | None:
    """How long the field let the attacker go in the replay of ``scenario``: from his attack
    to the first chase by another rider (s); None if he never attacked or nobody chased."""
    att = scenario.attacker
    ev = simulate(scenario, traces=False).events if att is not None else []
    t0 = [e.time_s for e in ev if e.kind == "attack" and e.rider == att]
    t1 = [e.time_s for e in ev if e.kind == "chase" and e.rider != att and t0 and e.time_s >= t0[0]]
    return round(t1[0] - t0[0], 3) if t1 else None


def parse_range(text: str, what: str = "range") -> list[float]:
    """``"START:STOP:STEP"`` (STOP included, either direction) or a single number, as a list.

    >>> parse_range("0:1:0.5")
    [0.0, 0.5, 1.0]
    >>> parse_range("750:650:50")
    [750.0, 700.0, 650.0]
    """
    parts = str(text).strip().split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise AnalysisError(f"{what}: {text!r} is not START:STOP:STEP or a number") from None
    if not all(math.isfinite(v) for v in nums):
        raise AnalysisError(f"{what}: {text!r} must be finite numbers")
    if len(nums) == 1:
        return nums
    if len(nums) != 3:
        raise AnalysisError(f"{what}: {text!r} is not START:STOP:STEP or a number")
    start, stop, step = nums
    if step <= 0:
        raise AnalysisError(f"{what}: step must be positive, got {step:g}")
    n = math.floor(abs(stop - start) / step + 1e-9)
    if n > 10000:
        raise AnalysisError(f"{what}: {text!r} gives more than 10,000 values")
    sign = 1.0 if stop >= start else -1.0
    return [round(start + sign * k * step, 10) for k in range(n + 1)]


# --- the catch ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CatchRow:
    """One replay of the catch sweep.

    ``caught`` is true when another rider's front wheel reached the attacker's before the line;
    then ``catch_m_to_go`` (metres to go at the catch), ``catch_lap`` (lap of the race, 1 = the
    first) and ``caught_by`` are set, else they are ``None``.  ``margin_s`` is the attacker's
    signed margin (positive = won by, negative = behind the winner).
    """

    hesitation_s: float
    caught: bool
    catch_m_to_go: float | None
    catch_lap: int | None
    catch_time_s: float | None
    caught_by: str | None
    margin_s: float
    position: int
    winner: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "hesitation_s": self.hesitation_s,
            "caught": self.caught,
            "catch_m_to_go": None if self.catch_m_to_go is None else round(self.catch_m_to_go, 2),
            "catch_lap": self.catch_lap,
            "caught_by": self.caught_by,
            "margin_s": round(self.margin_s, 4),
            "position": self.position,
            "winner": self.winner,
        }


@dataclass(frozen=True)
class CatchAnalysis:
    """The catch sweep: one :class:`CatchRow` per hesitation, in the order given."""

    scenario: str
    attacker: str
    rows: tuple[CatchRow, ...]
    race_m: float
    lap_m: float
    pull_off_m_to_go: float
    reference_hesitation_s: float | None = None
    names: tuple[str, ...] = ()

    @property
    def hesitations(self) -> list[float]:
        return [r.hesitation_s for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "attacker": self.attacker,
            "reference_hesitation_s": self.reference_hesitation_s,
            "rows": [r.to_dict() for r in self.rows],
        }

    def to_dataframe(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([r.to_dict() for r in self.rows])


def _catch_row(scenario: Scenario, attacker: str, hesitation: float) -> CatchRow:
    sc = scenario.set_param("field.hesitation_s", float(hesitation))
    res = simulate(sc, traces=False)
    c = res.catch
    caught = c is not None and c["m_to_go"] > 0.0
    m = float(c["m_to_go"]) if caught else None
    lap = None
    if m is not None:
        lap = min(int((res.race_m - m) // res.lap_m) + 1, round(res.race_m / res.lap_m))
    return CatchRow(
        hesitation_s=float(hesitation),
        caught=caught,
        catch_m_to_go=m,
        catch_lap=lap,
        catch_time_s=float(c["time_s"]) if caught else None,
        caught_by=c["by"] if caught else None,
        margin_s=_signed_margin(res, attacker),
        position=res.finish_order.index(attacker) + 1,
        winner=res.finish_order[0],
    )


def catch_sweep(
    scenario: Scenario, attacker: str | None, hesitations: Iterable[float]
) -> CatchAnalysis:
    """Replay ``scenario`` once per value of the field's hesitation (every rider but the
    attacker gets ``hesitation_s`` = that value; everything else fixed).

    ``attacker`` (``None``: the scenario's) is the rider whose catch is tracked.  Values outside
    the physical range of ``hesitation_s`` raise a one-line :class:`ScenarioError`.
    """
    sc = _with_attacker(scenario, attacker)
    hs = [float(h) for h in hesitations]
    if not hs:
        raise AnalysisError(f"{sc.source}: hesitations: no values to sweep")
    rows = tuple(_catch_row(sc, sc.attacker, h) for h in hs)
    return CatchAnalysis(
        scenario=sc.name,
        attacker=sc.attacker,
        rows=rows,
        race_m=sc.race_m,
        lap_m=sc.track.lap_m,
        pull_off_m_to_go=sc.derny.pull_off_m_to_go,
        reference_hesitation_s=_reference_hesitation(sc),
        names=tuple(sc.names),
    )


@dataclass(frozen=True)
class CriticalHesitation:
    """Where the catch flips.

    ``hesitation_s`` is the delay at which the catch falls exactly on the line (the middle of
    the final bisection bracket, whose width is at most ``tol``), or ``None`` when the catch does
    not flip between ``lo`` and ``hi``.  ``below`` and ``above`` are the replays at the ends of
    the final bracket; ``caught_below`` says which side is caught (true: a shorter delay gets
    him caught, as the physics says).

    ``at_s`` is the hesitation at which the sentence's distance is measured and ``at_row`` that
    replay: the hesitation given by the caller, else the real race's (``[reference]
    hesitation_s``) if the model has him caught there, else ``lo`` (normally 0 s: the field
    chasing at once).
    """

    attacker: str
    hesitation_s: float | None
    lo: float
    hi: float
    tol: float
    caught_below: bool | None
    below: CatchRow | None
    above: CatchRow | None
    at_s: float | None
    at_row: CatchRow | None
    reference_hesitation_s: float | None
    evaluations: int
    sentence: str
    #: the reference hesitation is the replay's own (no ``[reference] hesitation_s``)
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "attacker": self.attacker,
            "critical_hesitation_s": None
            if self.hesitation_s is None
            else round(self.hesitation_s, 3),
            "lo_s": self.lo,
            "hi_s": self.hi,
            "tol_s": self.tol,
            "caught_below": self.caught_below,
            "at_hesitation_s": self.at_s,
            "catch_m_to_go_at": None
            if self.at_row is None or self.at_row.catch_m_to_go is None
            else round(self.at_row.catch_m_to_go, 1),
            "reference_hesitation_s": self.reference_hesitation_s,
            "sentence": self.sentence,
        }


def _delay(h: float) -> str:
    return "chasing at once" if h == 0 else f"chasing after {h:g} s"


def _sentence(c: CriticalHesitation) -> str:
    a = c.attacker
    ref = c.reference_hesitation_s
    where = "replay" if c.replayed else "race"
    in_race = "" if ref is None else f"; in the {where} the field waited {ref:g} s"
    if c.hesitation_s is None:
        row = c.at_row
        if c.below is not None and c.below.caught:  # caught at both ends
            where = "" if row is None or not row.caught else (
                f" ({row.catch_m_to_go:.0f} m before the line {_delay(c.at_s)})"
            )  # fmt: skip
            return (
                f"{a} is caught before the line for every delay from {c.lo:g} to {c.hi:g} s"
                f"{where}{in_race}."
            )
        won = "" if row is None else f"; {_delay(c.at_s)}, the margin is {row.margin_s:+.2f} s"
        return (
            f"{a} is not caught before the line for any delay from {c.lo:g} to {c.hi:g} s"
            f"{won}{in_race}."
        )
    x = c.hesitation_s
    if not c.caught_below:
        return (
            f"{a} is caught before the line only when the field waits longer than {x:.2f} s"
            f"{in_race}."
        )
    row = c.at_row
    if row is not None and row.caught:
        return (
            f"Had the field chased within {x:.2f} s, {a} would have been caught "
            f"{row.catch_m_to_go:.0f} m before the line ({_delay(c.at_s)}{in_race})."
        )
    margin = "" if row is None else f", {a} is not caught (margin {row.margin_s:+.2f} s)"
    return (
        f"Had the field chased within {x:.2f} s, {a} would have been caught before the line"
        f"{'' if row is None else f'; {_delay(c.at_s)}'}{margin}{in_race}."
    )


def critical_hesitation(
    scenario: Scenario,
    attacker: str | None,
    lo: float,
    hi: float,
    tol: float = DEFAULT_TOL_S,
    at: float | None = None,
) -> CriticalHesitation:
    """The field's hesitation at which the catch falls exactly on the line, by bisection.

    The catch is evaluated at ``lo`` and ``hi``; if it flips between them (normally: caught at
    ``lo``, not at ``hi``), the bracket is halved until it is at most ``tol`` seconds wide and
    the critical hesitation is its middle: just below it the attacker is caught, just above he
    is not (or the reverse, if that is what the replays say: ``caught_below``).  If the catch
    does not flip, ``hesitation_s`` is ``None`` and the sentence says so.

    The sentence: "Had the field chased within X s, <attacker> would have been caught Y m before
    the line (...)", where X is the critical hesitation and Y the catch point at the hesitation
    ``at``; when ``at`` is ``None`` it is the real race's hesitation (``[reference]
    hesitation_s``) if the attacker is caught there, else ``lo`` (the field chasing at once when
    ``lo`` is 0).  The parenthesis names that delay and the real race's.
    """
    sc = _with_attacker(scenario, attacker)
    name = sc.attacker
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        raise AnalysisError(f"{sc.source}: hesitation: need lo < hi, got {lo:g} and {hi:g}")
    if not (tol > 0 and math.isfinite(tol)):
        raise AnalysisError(f"{sc.source}: tol: must be a positive number of seconds")
    ref = _reference_hesitation(sc)
    cache: dict[float, CatchRow] = {}

    def row(h: float) -> CatchRow:
        if h not in cache:
            cache[h] = _catch_row(sc, name, h)
        return cache[h]

    a, b = float(lo), float(hi)
    ra, rb = row(a), row(b)
    crit: float | None = None
    caught_below: bool | None = None
    if ra.caught != rb.caught:
        while b - a > tol:
            m = 0.5 * (a + b)
            rm = row(m)
            if rm.caught == ra.caught:
                a, ra = m, rm
            else:
                b, rb = m, rm
        crit = 0.5 * (a + b)
        caught_below = ra.caught
    if at is None:
        at_s = float(lo)
        if ref is not None and row(ref).caught:
            at_s = ref
    else:
        at_s = float(at)
    at_row = row(at_s)
    out = CriticalHesitation(
        attacker=name,
        hesitation_s=crit,
        lo=float(lo),
        hi=float(hi),
        tol=float(tol),
        caught_below=caught_below,
        below=ra,
        above=rb,
        at_s=at_s,
        at_row=at_row,
        reference_hesitation_s=ref,
        evaluations=len(cache),
        sentence="",
        replayed="hesitation_s" not in sc.reference,
    )
    return replace(out, sentence=_sentence(out))


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
                margin_s=_signed_margin(res, name),
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
                margin_s=_signed_margin(res, name),
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
