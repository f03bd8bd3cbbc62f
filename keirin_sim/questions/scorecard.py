"""How good is the model: real finals replayed as Monte Carlo and scored against what happened.

A real final is a scenario with a ``[reference] finish_order`` (the shipped ones: Tokyo 2020 and
Paris 2024, men and women, and the 2025 Worlds in Santiago).  Each is run as a batch over its
``[uncertainty]`` (form on the day, the conditions, the unknown part of the start order, and the
riders' own choices from each race's stream), and the rows are compared with the real result:

- the model's win probability of the real winner and its rank in the field (1 = favourite);
- the probability that the real podium riders are the model's first three, in any order;
- the winner's last 200 m (median, p10-p90) against the published time, the winning margin
  (median) against the real one, and the share of races won by the real winning move;
- over all finals: the mean log probability of the real winners against a uniform guess
  (log 1/n) and the Brier score (the squared distance between the model's win probabilities
  and what happened, summed over the riders of a race and averaged over races; a uniform
  guess scores (n - 1)/n).

For the log score only, the win probabilities are smoothed by adding half a win to every rider
(a Jeffreys prior): a real winner the model never saw win in N races scores
log(0.5 / (N + n/2)) rather than minus infinity.  This is a modelling choice of the score, not of
the model; the Brier score uses the plain frequencies.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.results.story import WINNING_MOVES
from keirin_sim.scenario.loading import load_scenario, shipped_scenarios
from keirin_sim.scenario.scenario import Scenario, ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The published winner's last 200 m counts as matched when the model's median is this close.
LAST_200M_TOLERANCE = 0.03


@dataclass(frozen=True)
class FinalScore:
    """One real final against its Monte Carlo."""

    scenario: str
    name: str
    runs: int
    riders: tuple[str, ...]
    #: the real finishing order (riders who did not finish a clean race left out)
    real_order: tuple[str, ...]
    p_win: dict[str, float]
    rank_real_winner: int
    real_podium: tuple[str, ...] | None
    p_real_podium: float | None
    winner_last_200m_s: dict[str, float | None]
    winning_margin_s: dict[str, float | None]
    winning_move: dict[str, Any]

    @property
    def real_winner(self) -> str:
        return self.real_order[0]

    @property
    def p_real_winner(self) -> float:
        """The model's win probability of the real winner."""
        return self.p_win[self.real_winner]

    @property
    def log_p_real_winner(self) -> float:
        """Natural log of the real winner's smoothed win probability (module docstring)."""
        n = len(self.riders)
        wins = self.p_real_winner * self.runs
        return math.log((wins + 0.5) / (self.runs + 0.5 * n))

    @property
    def brier(self) -> float:
        """Sum over the riders of (model win probability - 1 if it won else 0) squared."""
        return sum((p - (r == self.real_winner)) ** 2 for r, p in self.p_win.items())

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "name": self.name,
            "runs": self.runs,
            "real_winner": self.real_winner,
            "real_order": list(self.real_order),
            "p_real_winner": round(self.p_real_winner, 4),
            "rank_real_winner": self.rank_real_winner,
            "log_p_real_winner": round(self.log_p_real_winner, 4),
            "brier": round(self.brier, 4),
            "p_win": {r: round(p, 4) for r, p in self.p_win.items()},
            "real_podium": None if self.real_podium is None else list(self.real_podium),
            "p_real_podium": _r(self.p_real_podium, 4),
            "winner_last_200m_s": self.winner_last_200m_s,
            "winning_margin_s": self.winning_margin_s,
            "winning_move": self.winning_move,
        }


@dataclass(frozen=True)
class Scorecard:
    """Every final's score and the overall scores."""

    finals: tuple[FinalScore, ...]
    seed: int
    runs: int

    @property
    def mean_log_p(self) -> float:
        """Mean log probability of the real winners (smoothed; module docstring)."""
        return float(np.mean([f.log_p_real_winner for f in self.finals]))

    @property
    def uniform_log_p(self) -> float:
        """The same for a uniform guess: the mean of log(1/n)."""
        return float(np.mean([-math.log(len(f.riders)) for f in self.finals]))

    @property
    def brier(self) -> float:
        """Mean Brier score over the finals."""
        return float(np.mean([f.brier for f in self.finals]))

    @property
    def uniform_brier(self) -> float:
        """The Brier score of a uniform guess, (n - 1)/n, averaged over the finals."""
        return float(np.mean([(len(f.riders) - 1) / len(f.riders) for f in self.finals]))

    @property
    def winner_in_top_two(self) -> int:
        """Finals whose real winner is the model's favourite or second favourite."""
        return sum(f.rank_real_winner <= 2 for f in self.finals)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "runs": self.runs,
            "races": [f.to_dict() for f in self.finals],
            "overall": {
                "finals": len(self.finals),
                "mean_log_p_real_winner": round(self.mean_log_p, 4),
                "uniform_log_p": round(self.uniform_log_p, 4),
                "brier": round(self.brier, 4),
                "uniform_brier": round(self.uniform_brier, 4),
                "real_winner_favourite_or_second": self.winner_in_top_two,
            },
        }


def _r(v: float | None, nd: int) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


def _quantiles(a: np.ndarray) -> dict[str, float | None]:
    a = a[np.isfinite(a)]
    if not len(a):
        return {"model_median": None, "model_p10": None, "model_p90": None}
    p10, med, p90 = np.percentile(a, [10, 50, 90])
    return {"model_median": _r(med, 3), "model_p10": _r(p10, 3), "model_p90": _r(p90, 3)}


def real_finals(names: Sequence[str] | None = None) -> list[Scenario]:
    """The real finals to score: the shipped scenarios with a ``[reference] finish_order`` and
    no ``[[variants]]`` (a comparison built on a final, such as early_vs_late.toml, is not
    another final), or the files (or shipped names) given."""
    if names is None:
        out = [load_scenario(n) for n in shipped_scenarios()]
        return [s for s in out if s.reference.get("finish_order") and "variants" not in s.extra]
    out = [load_scenario(n) for n in names]
    for s in out:
        if not s.reference.get("finish_order"):
            raise ScenarioError(
                f"{s.source}: reference.finish_order: missing (the real result to score against)"
            )
    return out


def score_final(scenario: Scenario, rows: pd.DataFrame) -> FinalScore:
    """Score one final from its batch rows (the columns of :func:`keirin_sim.montecarlo.run_batch`:
    ``winner``, ``pos.<rider>``, ``winner_last_200m_s``, ``winning_margin_s``,
    ``winning_move``, ``error``); runs the engine could not finish are left out."""
    ref = scenario.reference
    names = tuple(scenario.names)
    if "error" in rows:
        rows = rows[rows["error"].isna()]
    n_ok = len(rows)
    if n_ok == 0:
        raise ValueError(f"{scenario.source}: no race of the batch finished")
    order = list(ref["finish_order"])
    winner = order[0]
    wins = rows["winner"].value_counts()
    p_win = {r: float(wins.get(r, 0)) / n_ok for r in names}
    rank = 1 + sum(p > p_win[winner] for p in p_win.values())
    podium = tuple(order[:3]) if len(order) >= 3 else None
    p_podium = None
    if podium is not None:
        top3 = np.ones(n_ok, dtype=bool)
        for r in podium:
            top3 &= rows[f"pos.{r}"].to_numpy() <= 3
        p_podium = float(top3.mean())
    last = _quantiles(rows["winner_last_200m_s"].to_numpy(dtype=float))
    real_last = ref.get("winner_last_200m_s")
    last["real"] = real_last
    med = last["model_median"]
    last["error_pct"] = (
        None if real_last is None or med is None else _r(100.0 * (med / real_last - 1.0), 2)
    )
    margin = _quantiles(rows["winning_margin_s"].to_numpy(dtype=float))
    margin["real"] = ref.get("winning_margin_s")
    moves = rows["winning_move"].value_counts()
    told = int(moves.sum())
    share = {m: (_r(moves.get(m, 0) / told, 4) if told else None) for m in WINNING_MOVES}
    real_move = ref.get("winning_move")
    move = {
        "real": real_move,
        "shares": share,
        "p_real": None if real_move is None else share[real_move],
    }
    return FinalScore(
        scenario=scenario.source,
        name=scenario.name,
        runs=n_ok,
        riders=names,
        real_order=tuple(order),
        p_win=p_win,
        rank_real_winner=rank,
        real_podium=podium,
        p_real_podium=p_podium,
        winner_last_200m_s=last,
        winning_margin_s=margin,
        winning_move=move,
    )


def validate(
    scenarios: Sequence[str | os.PathLike[str]] | None = None,
    runs: int = 300,
    seed: int = 0,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
    on_final: Callable[[FinalScore], None] | None = None,
) -> Scorecard:
    """Run every real final (default: the shipped ones) as a Monte Carlo of ``runs`` races from
    ``seed`` and score it against the real result.  ``on_final`` is called with each final's
    score as it is done."""
    # the batch code loads only when races are run: charts import this module for its types
    from keirin_sim.montecarlo import run_batch

    finals = real_finals(None if scenarios is None else [str(s) for s in scenarios])
    scores = []
    for sc in finals:
        batch = run_batch(sc, runs, seed, workers=workers, scheduler=scheduler, progress=progress)
        score = score_final(sc, batch.df)
        scores.append(score)
        if on_final is not None:
            on_final(score)
    return Scorecard(tuple(scores), seed, runs)


__all__ = [
    "LAST_200M_TOLERANCE",
    "FinalScore",
    "Scorecard",
    "real_finals",
    "score_final",
    "validate",
]
