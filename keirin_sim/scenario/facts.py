"""Facts of a race report as observations: what a reconstruction is conditioned on and
checked against (:mod:`keirin_sim.questions.reconstruction`).

A fact is a name, the real value and a tolerance.  The names (``FACTS``):

- ``winner`` (a rider), ``finish_order`` (the first places, whole or partial: the riders listed
  must be in those places), ``chase_led_by`` (who chased the attacker first),
  ``bell_leader`` (who led at the bell), ``winning_move`` (``from_the_front``,
  ``round_the_outside``, ``late_in_the_straight``; :mod:`keirin_sim.results.story`): matched
  exactly;
- ``winning_margin_s`` (s), ``margin_s:RIDER`` (that rider's gap behind the winner at the line,
  s), ``winner_last_200m_s`` (s), ``hesitation_s`` (how long the field let the attacker go, s),
  ``lead_at_two_laps_m`` (the attacker's lead over the next rider at two laps to go, m; also
  ``lead_at_three_laps_m``, ``lead_at_bell_m``...; negative when behind the leader): a number,
  or a range ``[low, high]`` where the sources disagree, matched within a tolerance.

They are read from a scenario's ``[reference]`` (the keys above; ``margins_s`` is a table
rider -> gap; ``tolerance`` a table fact -> tolerance, beside the source of each value;
``condition_on`` the facts ``reconstruct`` conditions on by default), or given on the command
line (:func:`parse_condition`).  A numeric fact without a tolerance in the file gets
:data:`DEFAULT_TOLERANCE` (modelling choices: about the model's own scatter between races that
look alike to a reporter, not a measurement error).

Every simulated race becomes one flat row of observations (:func:`observe`); a fact's
:meth:`Fact.distance` reads that row: 0 when it matches exactly, at most 1 within the
tolerance, more beyond it (in tolerances; a categorical fact that is not matched is 2, a
finish order 1 + the places its riders are off in all).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.results.story import WINNING_MOVES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from keirin_sim.results.result import Result
    from keirin_sim.scenario.scenario import Scenario


class FactError(ValueError):
    """A fact that cannot be used; the message is one line: where, which key, what is wrong."""


#: Lap marks a lead can be given at (laps to go), by the word in the fact's name.
LAP_WORDS = {"bell": 1, "two_laps": 2, "three_laps": 3, "four_laps": 4, "five_laps": 5}
#: Default tolerance of the numeric facts (modelling choices, see the module docstring).
DEFAULT_TOLERANCE = {
    "winning_margin_s": 0.15,
    "margin_s": 0.15,
    "winner_last_200m_s": 0.15,
    "hesitation_s": 0.5,
    "lead_m": 5.0,
}
#: Categorical facts (matched exactly) and numeric ones, without the rider or lap part.
CATEGORICAL = ("winner", "finish_order", "chase_led_by", "bell_leader", "winning_move")
NUMERIC = ("winning_margin_s", "margin_s:RIDER", "winner_last_200m_s", "hesitation_s")
LEADS = tuple(f"lead_at_{w}_m" for w in LAP_WORDS)
#: Every fact name (``RIDER`` stands for a rider's name).
FACTS = (*CATEGORICAL, *NUMERIC, *LEADS)
#: [reference] keys that are not facts themselves.
_META = ("tolerance", "condition_on", "margins_s")
#: Distance of a categorical fact that is not matched (tolerances).
MISS = 2.0


def lead_laps(name: str) -> int | None:
    """Laps to go of a ``lead_at_..._m`` fact, else None."""
    if name.startswith("lead_at_") and name.endswith("_m"):
        return LAP_WORDS.get(name[len("lead_at_") : -2])
    return None


@dataclass(frozen=True)
class Fact:
    """One observation: ``name``, the real ``value`` (a float, a (low, high) range, a rider, a
    move or a tuple of riders for ``finish_order``), the ``tol`` of a numeric fact (None for
    a categorical one) and where it came from (``source``)."""

    name: str
    value: Any
    tol: float | None = None
    source: str = "[reference]"

    @property
    def numeric(self) -> bool:
        return self.tol is not None

    @property
    def column(self) -> str:
        """The column of an observation row (:func:`observe`) this fact reads."""
        if self.name.startswith("margin_s:"):
            return "margin." + self.name.split(":", 1)[1]
        return self.name

    def describe(self) -> str:
        """The fact as text: ``lead_at_two_laps_m = 30-80 (+- 5)``."""
        return f"{self.name} = {self.value_text()}" + (
            f" (+- {self.tol:g})" if self.tol is not None else ""
        )

    def value_text(self) -> str:
        v = self.value
        if self.name == "finish_order":
            return ", ".join(v)
        if isinstance(v, tuple):
            return f"{v[0]:g}-{v[1]:g}"
        return f"{v:g}" if isinstance(v, float) else str(v)

    def distance(self, rows: pd.DataFrame) -> np.ndarray:
        """Per row: 0 matched exactly, <= 1 within the tolerance, more beyond (module
        docstring); NaN observations (a race that failed, no chase) are infinitely far."""
        n = len(rows)
        if self.name == "finish_order":
            off = np.zeros(n)
            for k, r in enumerate(self.value):
                pos = rows[f"pos.{r}"].to_numpy(dtype=float)
                off += np.where(np.isfinite(pos) & (pos > 0), np.abs(pos - (k + 1)), np.inf)
            return np.where(off > 0, 1.0 + off, 0.0)
        col = rows[self.column] if self.column in rows else None
        if col is None:
            return np.full(n, np.inf)
        if not self.numeric:
            return np.where(col.to_numpy(dtype=object) == self.value, 0.0, MISS)
        x = col.to_numpy(dtype=float)
        lo, hi = self.value if isinstance(self.value, tuple) else (self.value, self.value)
        d = np.maximum(np.maximum(lo - x, x - hi), 0.0) / self.tol
        return np.where(np.isfinite(d), d, np.inf)

    def miss(self, row: Mapping[str, Any]) -> str:
        """How one observation row misses this fact, in words and the fact's units."""
        if self.name == "finish_order":
            got = [
                f"{r} {int(row.get(f'pos.{r}', 0))}"
                for k, r in enumerate(self.value)
                if row.get(f"pos.{r}") != k + 1
            ]
            return "places: " + ", ".join(got) if got else "matched"
        x = row.get(self.column)
        if not self.numeric:
            return "matched" if x == self.value else f"{x} (real {self.value})"
        if x is None or not math.isfinite(float(x)):
            return "none in this race"
        lo, hi = self.value if isinstance(self.value, tuple) else (self.value, self.value)
        off = max(lo - x, x - hi, 0.0)
        if off <= self.tol:
            return f"{x:.3g} (within {self.tol:g})"
        return f"{x:.3g}: {off:.3g} off (tolerance {self.tol:g})"


# --- reading facts ---------------------------------------------------------------------------
def _err(src: str, key: str, msg: str) -> FactError:
    return FactError(" ".join(f"{src}: {key}: {msg}".split()))


def _check_name(scenario: Scenario, name: str, src: str, key: str) -> None:
    """A fact the scenario can produce (a known name, its rider in the race, its lap mark in
    the race, an attacker when it needs one)."""
    base = name.split(":", 1)[0] + (":RIDER" if ":" in name else "")
    if base not in FACTS:
        raise _err(src, key, f"unknown fact {name!r} (facts: {', '.join(FACTS)})")
    if base == "margin_s:RIDER":
        _rider(scenario, name.split(":", 1)[1], src, key)
    laps = lead_laps(name)
    needs_attacker = laps is not None or name in ("chase_led_by", "hesitation_s")
    if needs_attacker and scenario.attacker is None:
        raise _err(
            src, key, f"the scenario cannot produce {name!r}: it has no attacker (set attacker)"
        )
    if laps is not None and laps >= scenario.laps:
        raise _err(
            src, key, f"the scenario cannot produce {name!r}: a {scenario.laps}-lap race has "
            f"no lap mark {laps} laps to go after the start"
        )  # fmt: skip


def _rider(scenario: Scenario, name: Any, src: str, key: str) -> str:
    if not isinstance(name, str) or name.strip() not in scenario.names:
        raise _err(
            src, key, f"no rider named {name!r} in the race (riders: {', '.join(scenario.names)})"
        )
    return name.strip()


def _tol(v: Any, src: str, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise _err(src, key, f"a tolerance must be a positive number, got {v!r}")
    return float(v)


def _value(scenario: Scenario, name: str, v: Any, src: str, key: str) -> Any:
    """The value of fact ``name`` checked and normalised."""
    if name == "finish_order":
        items = v.split(",") if isinstance(v, str) else v
        if not isinstance(items, (list, tuple)) or not items:
            raise _err(src, key, "must be a list of riders (the first places, in order)")
        order = tuple(_rider(scenario, r, src, key) for r in items)
        if len(set(order)) != len(order):
            raise _err(src, key, "a rider is given twice")
        return order
    if name in ("winner", "chase_led_by", "bell_leader"):
        return _rider(scenario, v, src, key)
    if name == "winning_move":
        if v not in WINNING_MOVES:
            raise _err(src, key, f"{v!r} is not one of {', '.join(WINNING_MOVES)}")
        return v
    if isinstance(v, str):
        try:
            parts = [float(p) for p in v.split(":")]
        except ValueError:
            raise _err(src, key, f"not a number or LOW:HIGH: {v!r}") from None
        v = parts[0] if len(parts) == 1 else parts
    if isinstance(v, (list, tuple)):
        if len(v) != 2 or not all(isinstance(x, (int, float)) for x in v) or v[0] > v[1]:
            raise _err(src, key, f"must be a number or a range [low, high], got {v!r}")
        return (float(v[0]), float(v[1]))
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _err(src, key, f"must be a number, got {v!r}")
    return float(v)


def _default_tol(name: str) -> float | None:
    if name in CATEGORICAL:
        return None
    if lead_laps(name) is not None:
        return DEFAULT_TOLERANCE["lead_m"]
    return DEFAULT_TOLERANCE[name.split(":", 1)[0]]


def reference_facts(scenario: Scenario) -> dict[str, Fact]:
    """Every fact in the scenario's ``[reference]``, by name (``winner`` from the first place
    of ``finish_order``).  Raises :class:`FactError` on a bad fact or tolerance."""
    ref, src = scenario.reference, scenario.source
    tols = ref.get("tolerance", {})
    if not isinstance(tols, dict):
        raise _err(src, "reference.tolerance", "must be a table fact -> tolerance")
    raw: dict[str, Any] = {}
    for k, v in ref.items():
        if k in _META:
            continue
        base = k.split(":", 1)[0]
        if k in CATEGORICAL or k in NUMERIC or lead_laps(k) is not None or base == "margin_s":
            raw[k] = v
    order = ref.get("finish_order")
    if order and "winner" not in raw:
        raw["winner"] = order[0]
    margins = ref.get("margins_s", {})
    if not isinstance(margins, dict):
        raise _err(src, "reference.margins_s", "must be a table rider -> gap at the line (s)")
    for r, v in margins.items():
        raw[f"margin_s:{r}"] = v
    out: dict[str, Fact] = {}
    for k, v in raw.items():
        key = f"reference.margins_s.{k[9:]}" if k.startswith("margin_s:") else f"reference.{k}"
        _check_name(scenario, k, src, key)
        tol = None
        if k not in CATEGORICAL:
            tol = _tol(tols[k], src, f"reference.tolerance.{k}") if k in tols else _default_tol(k)
        out[k] = Fact(k, _value(scenario, k, v, src, key), tol, f"{src} [reference]")
    for k in tols:
        if k not in out:
            raise _err(src, f"reference.tolerance.{k}", f"no fact {k!r} in [reference]")
    return out


def parse_condition(
    scenario: Scenario, text: str, where: str = "keirin-sim reconstruct: --condition"
) -> Fact:
    """One ``--condition``: ``NAME`` (value and tolerance from ``[reference]``),
    ``NAME=VALUE``, ``NAME=LOW:HIGH``, ``NAME~TOL`` or ``NAME=VALUE~TOL``; ``finish_order``
    takes riders separated by commas."""
    body, _, tol_text = text.partition("~")
    name, eq, val = body.partition("=")
    name = name.strip()
    if not name:
        raise _err(where, repr(text), "no fact name")
    _check_name(scenario, name, where, name)
    if not eq:
        known = reference_facts(scenario)
        if name not in known:
            raise _err(
                where, name, f"{scenario.source} has no value for it in [reference]: give "
                f"{name}=VALUE"
            )  # fmt: skip
        fact = known[name]
    else:
        fact = Fact(name, _value(scenario, name, val.strip(), where, name), _default_tol(name))
        fact = Fact(fact.name, fact.value, fact.tol, "--condition")
    if tol_text:
        if name in CATEGORICAL:
            raise _err(where, name, "a categorical fact is matched exactly: no tolerance")
        try:
            t = float(tol_text)
        except ValueError:
            raise _err(where, name, f"tolerance {tol_text!r} is not a number") from None
        fact = Fact(fact.name, fact.value, _tol(t, where, name), fact.source)
    return fact


def parse_conditions(
    scenario: Scenario, texts: Sequence[str] | None, where: str = "keirin-sim reconstruct"
) -> list[Fact]:
    """The facts to condition on: ``texts`` (``--condition``), else the ``[reference]``'s
    ``condition_on``, else every fact of ``[reference]``.  At least one."""
    if texts:
        facts = [parse_condition(scenario, t, f"{where}: --condition") for t in texts]
    else:
        known = reference_facts(scenario)
        names = scenario.reference.get("condition_on")
        if names is None:
            facts = list(known.values())
        else:
            if not isinstance(names, list):
                raise _err(scenario.source, "reference.condition_on", "must be a list of facts")
            facts = []
            for n in names:
                _check_name(scenario, str(n), scenario.source, "reference.condition_on")
                if n not in known:
                    raise _err(
                        scenario.source, "reference.condition_on", f"no fact {n!r} in [reference]"
                    )
                facts.append(known[n])
    if not facts:
        raise _err(where, "--condition", f"{scenario.source} has no facts in [reference]")
    names = [f.name for f in facts]
    for n in names:
        if names.count(n) > 1:
            raise _err(where, "--condition", f"fact {n!r} given twice")
    return facts


# --- observing a race ------------------------------------------------------------------------
def observe(result: Result, scenario: Scenario) -> dict[str, Any]:
    """One race as a flat row: ``winner``, ``winning_margin_s``, ``pos.R`` and ``margin.R``
    per rider, ``winner_last_200m_s``, ``winning_move``, ``bell_leader``, and with an attacker
    ``hesitation_s`` (attack to the first chase by another rider, NaN if nobody chased),
    ``chase_led_by`` and ``lead_at_<mark>_m`` at every lap mark."""
    row: dict[str, Any] = {}
    order = result.finish_order
    row["winner"] = order[0]
    t = result.finish_times
    row["winning_margin_s"] = t[order[1]] - t[order[0]] if len(order) > 1 else math.nan
    for k, r in enumerate(order):
        row[f"pos.{r}"] = k + 1
        row[f"margin.{r}"] = t[r] - t[order[0]]
    st = result.story
    row["winner_last_200m_s"] = st.winner_last_200m_s if st is not None else math.nan
    row["winning_move"] = st.winning_move if st is not None else None
    row["bell_leader"] = st.bell_leader if st is not None else None
    att = scenario.attacker
    if att is not None:
        ev = result.events
        t0 = [e.time_s for e in ev if e.kind == "attack" and e.rider == att]
        ch = [e for e in ev if e.kind == "chase" and e.rider != att and t0 and e.time_s >= t0[0]]
        row["hesitation_s"] = ch[0].time_s - t0[0] if ch else math.nan
        row["chase_led_by"] = ch[0].rider if ch else None
        for word, laps in LAP_WORDS.items():
            if laps >= scenario.laps:
                continue
            try:
                g = result.gap_at(float(laps))
            except KeyError:
                continue
            if g.leader == att:
                others = [v for r, v in g.gap_m.items() if r != att]
                lead = min(others) if others else math.nan
            else:
                lead = -g.gap_m.get(att, math.nan)
            row[f"lead_at_{word}_m"] = lead
    return row


__all__ = [
    "CATEGORICAL",
    "DEFAULT_TOLERANCE",
    "FACTS",
    "Fact",
    "FactError",
    "observe",
    "parse_condition",
    "parse_conditions",
    "reference_facts",
]
