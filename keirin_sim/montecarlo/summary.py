"""What a batch says: win probabilities with Wilson intervals, positions, catch points and
margins, accumulated a chunk at a time or from stored rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.montecarlo.jobs import Job, track_info
from keirin_sim.results.story import WINNING_MOVES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


#: Two-sided 95 % normal quantile, for Wilson intervals.
Z95 = 1.959963984540054


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


class Accumulator:
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
        # how the races were won (moves.py): wins by start position, winning moves, the leader
        # at the bell, the winner's last 200 m and the bell leader's speed
        self.start_wins = np.zeros(n, dtype=np.int64)
        self.moves = dict.fromkeys(WINNING_MOVES, 0)
        self.bell_leader_wins = 0
        self.told = 0
        self.last200: list[np.ndarray] = []
        self.bell_speed: list[np.ndarray] = []

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
        if len(w):
            if all(f"start.{nm}" in cols for nm in self.names):
                start = np.stack([col(f"start.{nm}") for nm in self.names], axis=1)[ok]
                self.start_wins += np.bincount(
                    start[np.arange(len(w)), w].astype(np.int64) - 1, minlength=n
                )[:n]
            else:  # the scenario's own order
                self.start_wins += np.bincount(w, minlength=n)[:n]
        if "winning_move" in cols:
            moves = np.asarray(cols["winning_move"], dtype=object)[ok]
            told = np.array([isinstance(x, str) for x in moves], dtype=bool)
            self.told += int(told.sum())
            for mv in moves[told]:
                if mv in self.moves:
                    self.moves[mv] += 1
            bell = np.asarray(cols["bell_leader"], dtype=object)[ok]
            winners = np.array(self.names, dtype=object)[w] if len(w) else bell[:0]
            self.bell_leader_wins += int(sum(b == x for b, x in zip(bell, winners, strict=True)))
            self.last200.append(col("winner_last_200m_s").astype(np.float64)[ok])
            self.bell_speed.append(col("bell_speed_kmh").astype(np.float64)[ok])
        if not ok.all() and "error" in cols and len(self.errors) < 5:
            for e in np.asarray(cols["error"], dtype=object)[~ok][:5]:
                self.errors.append(str(e))

    def summary(self, job: Job | None = None, seed: int | None = None) -> Summary:
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
            **(track_info(job.points[0].base) if job else {}),
            start_wins=[int(x) for x in self.start_wins],
            move_counts=dict(self.moves),
            told=self.told,
            bell_leader_wins=self.bell_leader_wins,
            winner_last_200m_s=_cat(self.last200),
            bell_speed_kmh=_cat(self.bell_speed),
        )


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    a = np.concatenate(parts) if parts else np.zeros(0)
    return a[np.isfinite(a)]


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
    #: races raced by the call that made this summary (a resumed batch: only the missing ones)
    races_run: int | None = None
    #: the kernel reference step every race ran at (None: summarised from rows alone)
    dt_s: float | None = None
    race_m: float | None = None
    lap_m: float | None = None
    pull_off_m_to_go: float | None = None
    #: wins from each start position behind the derny (1 = first), over the finished runs
    start_wins: list[int] = field(default_factory=list)
    #: races won by each move (:mod:`keirin_sim.results.story`), over ``told`` races whose story
    #: was recorded
    move_counts: dict[str, int] = field(default_factory=dict)
    told: int = 0
    #: races the leader at the bell won
    bell_leader_wins: int = 0
    winner_last_200m_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: the bell leader's speed, from the bell to 200 m to go (km/h)
    bell_speed_kmh: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def by_start_position(self) -> dict[int, float]:
        """Win probability from each start position (1 = first behind the derny)."""
        n = self.ok_runs
        return {k + 1: (c / n if n else math.nan) for k, c in enumerate(self.start_wins)}

    @property
    def winning_move_share(self) -> dict[str, float]:
        """Share of the races won by each move."""
        return {m: (c / self.told if self.told else math.nan) for m, c in self.move_counts.items()}

    @property
    def bell_leader_win_share(self) -> float:
        return self.bell_leader_wins / self.told if self.told else math.nan

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

    def to_dataframe(self, rider: str | None = None) -> pd.DataFrame:
        """The win probabilities as a table: a sweep's :meth:`grid_table` (one row per grid
        point and rider); a batch of one scenario gives the same columns without the swept
        parameters, one row per rider: ``rider``, ``runs`` (finished), ``wins``, ``p``,
        ``ci_low``, ``ci_high``.  ``rider`` keeps only that rider's rows."""
        import pandas as pd

        if self.grid:
            return self.grid_table(rider)
        n = self.ok_runs
        rows = [
            {
                "rider": r,
                "runs": n,
                "wins": k,
                "p": k / n if n else math.nan,
                "ci_low": self.ci95[r][0],
                "ci_high": self.ci95[r][1],
            }
            for r, k in self.wins.items()
            if rider is None or r == rider
        ]
        return pd.DataFrame(rows, columns=["rider", "runs", "wins", "p", "ci_low", "ci_high"])

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
        if self.told:
            out["by_start_position"] = {str(k): r6(p) for k, p in self.by_start_position.items()}
            out["winning_move"] = {m: r6(p) for m, p in self.winning_move_share.items()}
            out["bell_leader_wins"] = r6(self.bell_leader_win_share)
            out["winner_last_200m_s"] = _p10_90(self.winner_last_200m_s, r6)
            out["bell_speed_kmh"] = _p10_90(self.bell_speed_kmh, r6)
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


def _p10_90(a: np.ndarray, r6: Any) -> dict[str, float] | None:
    if not len(a):
        return None
    q = np.quantile(a, [0.1, 0.5, 0.9])
    return {"median": r6(q[1]), "p10": r6(q[0]), "p90": r6(q[2])}


def summarize(df: pd.DataFrame, attacker: str | None = None, seed: int | None = None) -> Summary:
    """A :class:`Summary` of batch rows (from :func:`.runner.run_batch`, :func:`.runner.sweep` or
    :func:`.storage.load_runs`): win probabilities with Wilson 95 % intervals, mean positions, the
    attacker's catch points and the winning margins.  ``attacker`` and ``seed`` default to
    ``df.attrs`` (set when the rows come from this module)."""
    names = [c[4:] for c in df.columns if c.startswith("pos.")]
    if not names:
        raise ValueError("no pos.<rider> columns: not rows of a keirin-sim batch")
    attacker = attacker if attacker is not None else df.attrs.get("attacker")
    seed = seed if seed is not None else df.attrs.get("seed")
    acc = Accumulator(names, attacker)
    cols = {c: df[c].to_numpy() for c in df.columns if c != "point"}
    for c in ("caught_by", "winning_move", "bell_leader"):
        if c in cols:
            cols[c] = np.array([x if isinstance(x, str) else None for x in cols[c]], dtype=object)
    acc.add(cols)
    s = acc.summary(seed=seed)
    s.scenario = df.attrs.get("scenario", "")
    for k in ("race_m", "lap_m", "pull_off_m_to_go"):
        setattr(s, k, df.attrs.get(k))
    return s
