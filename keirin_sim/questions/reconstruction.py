"""Replay as reconstruction: the races of a scenario that match a race report.

A scenario leaves some inputs uncertain (its ``[uncertainty]``: form on the day, the air, the
start order) and every race draws the riders' own choices from its stream (launch points, the
gap each chaser tolerates: :mod:`keirin_sim.behaviour.general`).  The report of the real race (its
facts,
:mod:`keirin_sim.scenario.facts`) says which of those are plausible.  :func:`reconstruct` does
approximate Bayesian computation by rejection: it draws races exactly as ``keirin-sim mc``
does (run ``i`` of seed ``S`` is run ``i`` of ``mc --seed S``), observes each one
(:func:`keirin_sim.scenario.facts.observe`) and keeps those within every conditioning fact's
tolerance.
What the kept races drew is the posterior of the unknowns; what they show of the facts that
were *not* used is the posterior predictive, the built-in check.

Why rejection on the project's executors rather than an ABC-SMC library: the riders' choices
are not parameters a perturbation kernel could move (they come from each race's own stream),
a race costs about 2 ms, so plain rejection at a few thousand draws a second is already fast
enough, and the accepted set is a function of the run indices alone: the same for any number
of workers (docs/reconstruction.md gives the measurement).

Memory is bounded for any number of draws: they stream through in blocks, and only the
accepted rows (at most ``accept``), a fixed prior sample (the first ``PRIOR_SAMPLE``
draws) and the ``NEAREST`` nearest misses are kept.
"""

from __future__ import annotations

import functools
import heapq
import json
import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.behaviour.general import draw_choices
from keirin_sim.montecarlo.errors import BatchError
from keirin_sim.montecarlo.jobs import Point
from keirin_sim.montecarlo.runner import mc_point, progress_bar
from keirin_sim.montecarlo.sampling import apply_inputs, sample_inputs
from keirin_sim.montecarlo.tasks import map_tasks
from keirin_sim.scenario.facts import Fact, FactError, observe, parse_conditions, reference_facts
from keirin_sim.scenario.loading import load_scenario
from keirin_sim.scenario.scenario import Scenario
from keirin_sim.simulation import simulate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from keirin_sim.results.result import Result

#: Draws kept as the prior sample (the first ones): the prior of every unknown and the prior
#: predictive of every fact.
PRIOR_SAMPLE = 4000
#: Nearest misses kept when few or no races match.
NEAREST = 5
#: Draws per block sent to the executors (memory: one block of rows at a time).
BLOCK = 2000
#: Smallest block: with ``accept``, a block is sized by the acceptance so far to stop near it.
MIN_BLOCK = 64
#: Accepted races kept by default: the draws stop once this many matched.
DEFAULT_ACCEPT = 2000
#: Version of the saved reconstruction's metadata.
FORMAT = 1


class ReconstructionError(ValueError):
    """Bad input to a reconstruction (one line: where, key, what is wrong)."""


# --- one draw --------------------------------------------------------------------------------
def drawn_choices(scenario: Scenario) -> dict[str, float]:
    """The riders' choices on the day a race of ``scenario`` draws from its own stream
    (:func:`keirin_sim.behaviour.general.draw_choices`, rider by rider in the scenario's order,
    for those racing on the general behaviour): each one's launch point (m to go) and the gap
    it tolerates before chasing an attacker (m)."""
    rng = random.Random(scenario.seed)
    out: dict[str, float] = {}
    for e in scenario.riders:
        tac = e.tactic
        if tac.kind != "race":
            continue
        ch = draw_choices(tac, rng)
        lp = ch.launch_m_to_go
        out[f"{e.rider.name}.launch_m_to_go"] = math.nan if lp is None else lp
        out[f"{e.rider.name}.tow_gap_m"] = ch.tow_gap_m
    return out


def draw_run(point: Point, seed: int, run: int) -> dict[str, Any]:
    """Run ``run``: its inputs, the riders' choices and its observation row."""
    X, P, seeds = sample_inputs(point.plan, seed, [run])
    perm = P[0].tolist() if P is not None else None
    sc = apply_inputs(point.base, point.plan, X[0].tolist(), perm, seeds[0])
    row: dict[str, Any] = {"run": run}
    for c, v in zip(point.plan.columns, X[0].tolist(), strict=True):
        row[c] = v
    if perm is not None:
        for k, i in enumerate(perm):
            row[f"start.{point.base.riders[i].rider.name}"] = k + 1
    row.update(drawn_choices(sc))
    try:
        res = simulate(sc, traces=False)
    except Exception as e:  # a race the engine could not finish: kept out, counted
        row["error"] = " ".join(f"{type(e).__name__}: {e}".split())
        return row
    row.update(observe(res, sc))
    return row


def _draw_many(point: Point, seed: int, runs: Sequence[int]) -> list[dict[str, Any]]:
    return [draw_run(point, seed, r) for r in runs]


def draws(
    scenario: Scenario,
    runs: int | Sequence[int],
    seed: int = 0,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = False,
) -> pd.DataFrame:
    """Races drawn as ``keirin-sim mc --seed seed`` draws them (``runs``: a count or the run
    indices), one observation row each (:func:`keirin_sim.scenario.facts.observe`, with the inputs
    and
    the riders' choices); for a reconstruction of many synthetic reports from one prior
    sample (:func:`condition`)."""
    import pandas as pd

    pt = mc_point(scenario)
    idx = list(range(runs)) if isinstance(runs, int) else [int(r) for r in runs]
    size = 50
    blocks = [idx[k : k + size] for k in range(0, len(idx), size)]
    fn = functools.partial(_draw_many, pt, int(seed))
    out = map_tasks(
        fn, blocks, workers=workers, scheduler=scheduler, progress=progress, unit="block",
        warm=lambda: simulate(scenario),
    )  # fmt: skip
    return pd.DataFrame([r for b in out for r in b])


def distances(rows: pd.DataFrame, facts: Sequence[Fact]) -> np.ndarray:
    """rows x facts: each fact's distance (:meth:`Fact.distance`); a race is accepted when
    every one is at most 1."""
    if not len(rows):
        return np.zeros((0, len(facts)))
    d = np.column_stack([f.distance(rows) for f in facts])
    if "error" in rows:
        d[rows["error"].notna().to_numpy()] = np.inf
    return d


def condition(rows: pd.DataFrame, facts: Sequence[Fact]) -> pd.DataFrame:
    """The rows (races) within every fact's tolerance."""
    d = distances(rows, facts)
    return rows[(d <= 1.0).all(axis=1)]


# --- the reconstruction ----------------------------------------------------------------------
def _q(x: np.ndarray) -> dict[str, float | None]:
    x = x[np.isfinite(x)]
    if not len(x):
        return {"median": None, "p5": None, "p95": None, "n": 0}
    p5, med, p95 = np.percentile(x, [5, 50, 95])
    return {"median": float(med), "p5": float(p5), "p95": float(p95), "n": int(len(x))}


def _num(rows: pd.DataFrame, col: str) -> np.ndarray:
    if col not in rows or not len(rows):
        return np.zeros(0)
    return rows[col].to_numpy(dtype=float)


@dataclass
class Reconstruction:
    """The races of a scenario that match its report (see the module docstring).

    ``accepted``: one row per matching race (``run``, the inputs, the riders' choices, the
    observations); ``prior``: the first draws, matched or not; ``nearest``: the nearest misses
    (rows with their ``distance``) when fewer than ``accept`` matched."""

    scenario: Scenario
    facts: tuple[Fact, ...]
    held_out: tuple[Fact, ...]
    seed: int
    runs: int
    tried: int
    failed: int
    accept: int | None
    accepted: pd.DataFrame
    prior: pd.DataFrame
    nearest: pd.DataFrame
    unknowns: tuple[str, ...]
    elapsed_s: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_accepted(self) -> int:
        return len(self.accepted)

    @property
    def acceptance_rate(self) -> float:
        """Accepted races over the races drawn (failed ones included)."""
        return self.n_accepted / self.tried if self.tried else math.nan

    @property
    def run_indices(self) -> list[int]:
        """The accepted races' run indices (``keirin-sim run --mc-seed SEED --mc-run I``)."""
        return [int(r) for r in self.accepted["run"]] if self.n_accepted else []

    def posterior(self) -> list[dict[str, Any]]:
        """Per unknown: ``name``, ``posterior`` and ``prior`` (median, p5, p95, n)."""
        out = []
        for u in self.unknowns:
            post, pri = _q(_num(self.accepted, u)), _q(_num(self.prior, u))
            out.append({"name": u, "posterior": post, "prior": pri})
        return out

    def predictive(self) -> list[dict[str, Any]]:
        """For every fact not conditioned on: the real value beside the posterior predictive
        (and the prior predictive): ``p_match`` (share within tolerance), and for a number its
        median and 90 % interval and ``in_90`` (the real value or range meets the interval);
        for ``finish_order`` each listed rider's place."""
        return [predictive_check(f, self.accepted, self.prior) for f in self.held_out]

    def phrase(self) -> str:
        """ "212 of 2000 drawn races match the report (10.6 %)"."""
        return (
            f"{self.n_accepted} of {self.tried} drawn races match the report "
            f"({100 * self.acceptance_rate:.1f} %)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "seed": self.seed,
            "runs": self.runs,
            "tried": self.tried,
            "failed": self.failed,
            "accepted": self.n_accepted,
            "acceptance_rate": self.acceptance_rate,
            "conditioned_on": [_fact_dict(f) for f in self.facts],
            "posterior": self.posterior(),
            "predictive": self.predictive(),
            "nearest": self.nearest_misses() if self.n_accepted == 0 else [],
            "run_indices": self.run_indices,
            "elapsed_s": round(self.elapsed_s, 3),
        }

    def nearest_misses(self) -> list[dict[str, Any]]:
        """The nearest races (``run``, ``distance``) and how each misses every fact."""
        out = []
        for _, row in self.nearest.iterrows():
            r = row.to_dict()
            out.append(
                {
                    "run": int(r["run"]),
                    "distance": round(float(r["distance"]), 3),
                    "misses": {f.name: f.miss(r) for f in self.facts},
                }
            )
        return out

    def save(self, path: str | os.PathLike[str]) -> Path:
        """The accepted rows (``.parquet`` or ``.csv``) with what replays them: the scenario
        file, the seed, the facts (``keirin-sim run --reconstruction FILE --draw I``)."""
        from keirin_sim.files import write_atomically

        p = Path(path)
        meta = {
            "format": FORMAT,
            # a file by its absolute path; a shipped scenario by its name
            "scenario": (
                os.path.abspath(self.scenario.source)
                if os.path.exists(self.scenario.source)
                else self.scenario.source
            ),
            "scenario_name": self.scenario.name,
            "seed": self.seed,
            "runs": self.runs,
            "tried": self.tried,
            "accepted": self.n_accepted,
            "conditioned_on": [_fact_dict(f) for f in self.facts],
        }
        df = self.accepted.reset_index(drop=True)
        df.insert(0, "draw", np.arange(len(df), dtype=np.int64))
        if p.suffix.lower() == ".csv":

            def write(tmp: str) -> None:
                with open(tmp, "w", encoding="utf-8") as fh:
                    fh.write("# keirin_sim reconstruction " + json.dumps(meta) + "\n")
                    df.to_csv(fh, index=False)

        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            def write(tmp: str) -> None:
                t = pa.Table.from_pandas(df, preserve_index=False)
                t = t.replace_schema_metadata({b"keirin_sim_reconstruction": json.dumps(meta)})
                pq.write_table(t, tmp)

        return write_atomically(p, write, "--out")


def _fact_dict(f: Fact) -> dict[str, Any]:
    v = list(f.value) if isinstance(f.value, tuple) else f.value
    return {"fact": f.name, "value": v, "tolerance": f.tol}


def predictive_check(fact: Fact, post: pd.DataFrame, prior: pd.DataFrame) -> dict[str, Any]:
    """One fact's real value beside its posterior (``post``) and prior predictive."""

    def p_match(rows: pd.DataFrame) -> float | None:
        if not len(rows):
            return None
        return float((distances(rows, [fact])[:, 0] <= 1.0).mean())

    out: dict[str, Any] = {
        "fact": fact.name,
        "real": fact.value_text(),
        "tolerance": fact.tol,
        "p_match": p_match(post),
        "p_match_prior": p_match(prior),
        "n": len(post),
    }
    if fact.numeric:
        q = _q(_num(post, fact.column))
        out.update(q)
        lo, hi = fact.value if isinstance(fact.value, tuple) else (fact.value, fact.value)
        out["in_90"] = None if q["p5"] is None else bool(hi >= q["p5"] and lo <= q["p95"])
        out["prior"] = _q(_num(prior, fact.column))
    elif fact.name == "finish_order":
        places = {}
        for k, r in enumerate(fact.value):
            q = _q(_num(post, f"pos.{r}"))
            x = _num(post, f"pos.{r}")
            places[r] = {
                "real": k + 1,
                **q,
                "p_real": float((x == k + 1).mean()) if len(x) else None,
            }
        out["places"] = places
    else:
        col = post[fact.column] if fact.column in post else None
        if col is not None and len(col.dropna()):
            vc = col.value_counts(normalize=True)
            out["most_likely"] = str(vc.index[0])
            out["p_most_likely"] = float(vc.iloc[0])
    return out


def _unknowns(rows: pd.DataFrame, point: Point) -> tuple[str, ...]:
    cols = list(point.plan.columns)
    cols += [c for c in rows.columns if c.startswith("start.")]
    cols += [c for c in rows.columns if c.endswith((".launch_m_to_go", ".tow_gap_m"))]
    if "hesitation_s" in rows:
        cols.append("hesitation_s")
    return tuple(dict.fromkeys(cols))


def reconstruct(
    scenario: Scenario | str | os.PathLike[str] | None,
    facts: Sequence[Fact] | Sequence[str] | None = None,
    runs: int = 2000,
    seed: int = 0,
    accept: int | None = DEFAULT_ACCEPT,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
) -> Reconstruction:
    """The races of ``scenario`` that match ``facts`` (:class:`~keirin_sim.scenario.facts.Fact`\\ s
    or
    ``--condition`` texts; default the ``[reference]``'s ``condition_on``, else all its
    facts), by rejection over up to ``runs`` races drawn with ``seed`` (the streams of
    ``keirin-sim mc``); the draws stop once ``accept`` matched (None: no limit).  The accepted
    set is the same for any ``workers``/``scheduler``.  Raises :class:`FactError` (bad fact) or
    :class:`ReconstructionError`."""
    import pandas as pd

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    for name, v, lo in (("runs", runs, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ReconstructionError(f"keirin-sim reconstruct: --{name}: got {v!r}")
    if accept is not None and (
        isinstance(accept, bool) or not isinstance(accept, int) or accept < 1
    ):
        raise ReconstructionError(f"keirin-sim reconstruct: --accept: got {accept!r}")
    fs = _facts(sc, facts)
    known = reference_facts(sc)
    used = {f.name for f in fs}
    held = tuple(f for n, f in known.items() if n not in used)
    pt = mc_point(sc)
    show = progress if progress is not None else _tty()
    bar = progress_bar(runs, 0) if show else None
    t0 = time.perf_counter()
    kept: list[pd.DataFrame] = []
    n_kept = 0
    prior_parts: list[pd.DataFrame] = []
    n_prior = 0
    near: list[tuple[float, int, dict[str, Any]]] = []  # max-heap by -distance
    tried = failed = 0
    try:
        a = 0
        while a < runs:
            b = min(a + _block(a, n_kept, accept), runs)
            rows = draws(
                sc, range(a, b), seed, workers=workers, scheduler=scheduler, progress=False
            )
            tried += len(rows)
            if "error" in rows:
                failed += int(rows["error"].notna().sum())
            if n_prior < PRIOR_SAMPLE:
                part = rows.iloc[: PRIOR_SAMPLE - n_prior]
                prior_parts.append(part)
                n_prior += len(part)
            d = distances(rows, fs)
            ok = (d <= 1.0).all(axis=1)
            acc = rows[ok]
            if accept is not None:
                acc = acc.iloc[: accept - n_kept]
            kept.append(acc)
            n_kept += len(acc)
            score = np.maximum(d - 1.0, 0.0).sum(axis=1)
            for k in np.argsort(score, kind="stable")[:NEAREST]:
                s = float(score[k])
                if not math.isfinite(s):
                    continue
                item = (-s, -int(rows["run"].iloc[k]), {**rows.iloc[k].to_dict(), "distance": s})
                if len(near) < NEAREST:
                    heapq.heappush(near, item)
                elif item > near[0]:
                    heapq.heapreplace(near, item)
            if bar is not None:
                bar.update(b - a)
            a = b
            if accept is not None and n_kept >= accept:
                # the draws past the last kept one are not counted
                past = (rows["run"] > int(acc["run"].iloc[-1])).to_numpy()
                tried -= int(past.sum())
                if "error" in rows:
                    failed -= int((past & rows["error"].notna().to_numpy()).sum())
                break
    except BatchError as e:
        raise ReconstructionError(str(e)) from None
    finally:
        if bar is not None:
            bar.close()
    accepted = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    prior = pd.concat(prior_parts, ignore_index=True) if prior_parts else pd.DataFrame()
    nearest = pd.DataFrame([x[2] for x in sorted(near, reverse=True)])
    return Reconstruction(
        scenario=sc,
        facts=tuple(fs),
        held_out=held,
        seed=int(seed),
        runs=int(runs),
        tried=tried,
        failed=max(failed, 0),
        accept=accept,
        accepted=accepted,
        prior=prior,
        nearest=nearest,
        unknowns=_unknowns(prior, pt),
        elapsed_s=time.perf_counter() - t0,
    )


def _block(done: int, kept: int, accept: int | None) -> int:
    """Draws in the next block: :data:`BLOCK`, or with ``accept`` about what the acceptance so
    far says is still needed (a function of the draws alone: the same for any workers)."""
    if accept is None:
        return BLOCK
    need = accept - kept
    est = 1.5 * need if not kept else 1.1 * need * done / kept
    return int(min(BLOCK, max(MIN_BLOCK, math.ceil(est))))


def _tty() -> bool:
    import sys

    return sys.stderr.isatty()


def _facts(sc: Scenario, facts: Sequence[Fact] | Sequence[str] | None) -> list[Fact]:
    if facts is None:
        return parse_conditions(sc, None)
    items = list(facts)
    if all(isinstance(f, Fact) for f in items):
        if not items:
            raise FactError(f"{sc.source}: facts: no fact to condition on")
        return items  # type: ignore[return-value]
    return parse_conditions(sc, [str(f) for f in items])


# --- saved reconstructions -------------------------------------------------------------------
@dataclass(frozen=True)
class SavedReconstruction:
    """A reconstruction read back from its file: ``meta`` (scenario path, seed, facts) and the
    accepted ``rows`` (column ``draw`` numbers them from 0)."""

    path: Path
    meta: dict[str, Any]
    rows: pd.DataFrame

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def run_indices(self) -> list[int]:
        return [int(r) for r in self.rows["run"]]

    def scenario(self) -> Scenario:
        return load_scenario(self.meta["scenario"])

    def draw_scenario(self, draw: int) -> Scenario:
        """The scenario of accepted race ``draw``: its inputs and its own stream."""
        if isinstance(draw, bool) or not isinstance(draw, int) or not 0 <= draw < len(self.rows):
            raise ReconstructionError(
                f"{self.path}: --draw: {draw!r} is not one of the {len(self.rows)} accepted "
                f"races (0-{len(self.rows) - 1})"
            )
        from keirin_sim.montecarlo.runner import drawn_scenario

        run = int(self.rows["run"].iloc[draw])
        return drawn_scenario(mc_point(self.scenario()), self.seed, run)


def load_reconstruction(path: str | os.PathLike[str]) -> SavedReconstruction:
    """Read a file written by :meth:`Reconstruction.save` (``reconstruct --out``)."""
    import pandas as pd

    p = Path(path)
    try:
        if p.suffix.lower() == ".csv":
            with open(p, encoding="utf-8") as fh:
                head = fh.readline()
            tag = "# keirin_sim reconstruction "
            if not head.startswith(tag):
                raise ReconstructionError(f"{p}: --reconstruction: not a saved reconstruction")
            meta = json.loads(head[len(tag) :])
            rows = pd.read_csv(p, skiprows=1)
        else:
            import pyarrow.parquet as pq

            t = pq.read_table(p)
            raw = (t.schema.metadata or {}).get(b"keirin_sim_reconstruction")
            if raw is None:
                raise ReconstructionError(f"{p}: --reconstruction: not a saved reconstruction")
            meta = json.loads(raw)
            rows = t.to_pandas()
    except (OSError, ValueError) as e:
        if isinstance(e, ReconstructionError):
            raise
        raise ReconstructionError(
            f"{p}: --reconstruction: cannot read: {getattr(e, 'strerror', None) or e}"
        ) from None
    if "run" not in rows:
        raise ReconstructionError(f"{p}: --reconstruction: no 'run' column")
    return SavedReconstruction(p, meta, rows)


def replay_draw(
    reconstruction: Reconstruction | SavedReconstruction | str | os.PathLike[str],
    draw: int,
    traces: bool = True,
) -> Result:
    """Accepted race ``draw`` replayed alone (the same race as in the reconstruction), with
    its traces for charts and the animation."""
    rec = reconstruction
    if isinstance(rec, (str, os.PathLike)):
        rec = load_reconstruction(rec)
    if isinstance(rec, Reconstruction):
        from keirin_sim.montecarlo.runner import drawn_scenario

        if not 0 <= draw < rec.n_accepted:
            raise ReconstructionError(f"draw: {draw!r} is not one of the accepted races")
        run = int(rec.accepted["run"].iloc[draw])
        return simulate(drawn_scenario(mc_point(rec.scenario), rec.seed, run), traces=traces)
    return simulate(rec.draw_scenario(draw), traces=traces)


# --- the five finals ---------------------------------------------------------------------------
def score_finals(
    runs: int = 4000,
    seed: int = 0,
    scenarios: Sequence[str] | None = None,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
) -> list[Reconstruction]:
    """Every shipped real final (a ``[reference] finish_order``) reconstructed from its
    ``condition_on`` facts, the others held out (:meth:`Reconstruction.predictive`)."""
    from keirin_sim.questions.scorecard import real_finals

    out = []
    for sc in real_finals(None if scenarios is None else list(scenarios)):
        out.append(
            reconstruct(
                sc, None, runs, seed, None, workers=workers, scheduler=scheduler,
                progress=progress,
            )
        )  # fmt: skip
    return out


__all__ = [
    "DEFAULT_ACCEPT",
    "Reconstruction",
    "ReconstructionError",
    "SavedReconstruction",
    "condition",
    "distances",
    "drawn_choices",
    "draws",
    "load_reconstruction",
    "predictive_check",
    "reconstruct",
    "replay_draw",
    "score_finals",
]
