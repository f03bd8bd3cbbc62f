"""The catch: when would the hesitating field have caught the attacker?

Every analysis replays one scenario many times with a single thing changed and everything else
fixed:

- :func:`catch_sweep`: the field's hesitation (``"field.hesitation_s"``: every rider but the
  attacker) swept over a range; for each value, whether the attacker was caught before the line,
  where, in which lap, by whom, and his margin.
- :func:`critical_hesitation`: the hesitation at which the catch falls exactly on the line, by
  bisection on the catch flip, with a sentence that says it.

The catch itself is recorded by the engine (``Result.catch``): the first moment another rider's
front wheel reaches the attacker's after he had led by more than a metre.  "Caught" means caught
*before the line*.  Margins are signed (:func:`keirin_sim.questions.counterfactual.signed_margin`).

The ``catch`` and ``compare`` commands are in :mod:`keirin_sim.cli.analysis`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from keirin_sim.questions.counterfactual import AnalysisError, signed_margin, with_attacker
from keirin_sim.scenario.scenario import Scenario
from keirin_sim.simulation import simulate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CatchAnalysis",
    "CatchRow",
    "CriticalHesitation",
    "catch_sweep",
    "critical_hesitation",
    "replay_hesitation",
]

#: Hesitations swept by ``keirin-sim catch`` when ``--hesitation`` is not given (s).
DEFAULT_HESITATIONS = "0:15:0.5"
#: Bisection tolerance on the critical hesitation (s).
DEFAULT_TOL_S = 0.01


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
        margin_s=signed_margin(res, attacker),
        position=res.finish_order.index(attacker) + 1,
        winner=res.finish_order[0],
    )


def catch_sweep(
    scenario: Scenario, attacker: str | None, hesitations: Iterable[float]
) -> CatchAnalysis:
    """Replay ``scenario`` once per value of the field's hesitation (every rider but the
    attacker gets ``hesitation_s`` = that value; everything else fixed).

    ``attacker`` (``None``: the scenario's) is the rider whose catch is tracked.  Values outside
    the physical range of ``hesitation_s`` raise a one-line
    :class:`~keirin_sim.scenario.checks.ScenarioError`.
    """
    sc = with_attacker(scenario, attacker)
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
    sc = with_attacker(scenario, attacker)
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
