"""Global sensitivity: which uncertain inputs an answer hangs on (SALib).

An *output* of a race is one number: ``catch`` (the critical hesitation, s, by bisection over
0-15 s), ``margin`` (the attacker's signed margin, s: positive won by), ``win:RIDER`` (1 if the
rider wins, else 0) or ``last200:RIDER`` (its last 200 m, s).  Its *inputs* are, by default,
the scenario's ``[uncertainty]`` (each independent draw one input: a normal draw on its own
distribution, cut at the physical bounds; a uniform on its range; a ``shared`` draw one input
for all the riders it moves), or given ranges, ``"Jason Kenny.w_prime_j=20000:40000"`` (any
path of :meth:`~keirin_sim.scenario.Scenario.set_param`, drawn uniformly between the two ends;
a third ``:step`` part, as in a sweep, is ignored: the sampling is continuous).

Methods (Saltelli et al. 2010; Morris 1991; the implementations are SALib's, Herman & Usher
2017, Iwanaga et al. 2022):

- ``sobol``: first-order (S1) and total (ST) indices with 95 % bootstrap intervals, from
  Saltelli's sampling of ``N`` base rows (``N (D + 2)`` races for ``D`` inputs; ``N`` a power of
  two, at least 16);
- ``morris``: elementary effects for many inputs cheaply (``mu_star``, the mean absolute
  effect, with its interval, and ``sigma``, its spread), ``N`` trajectories of ``D + 1`` races.

What is held fixed: the start order (a lot is not a continuous input) and the race's own
random stream (the scenario's ``seed``), so the output is a function of the inputs alone.  The
samples run on the batch executors; the same seed gives the same indices for any workers.
"""

from __future__ import annotations

import functools
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.montecarlo.sampling import apply_inputs
from keirin_sim.montecarlo.tasks import map_tasks
from keirin_sim.questions.catch import DEFAULT_TOL_S, critical_hesitation
from keirin_sim.questions.counterfactual import signed_margin
from keirin_sim.scenario.scenario import Scenario, ScenarioError
from keirin_sim.scenario.uncertainty import SamplingPlan, build_plan, parse_uncertainty
from keirin_sim.simulation import simulate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

METHODS = ("sobol", "morris")
OUTPUTS = ("catch", "margin", "win:RIDER", "last200:RIDER")
#: The catch search range (s) and the smallest numbers of samples per method.
CATCH_RANGE_S = (0.0, 15.0)
MIN_SAMPLES = {"sobol": 16, "morris": 4}
_RANGE = re.compile(r"^\s*(-?[0-9.eE+-]+)\s*:\s*(-?[0-9.eE+-]+)\s*(?::\s*[0-9.eE+-]+\s*)?$")
#: u-space bounds of a normal input (its draws beyond 4.75 sd are cut)
_U_EDGE = 1e-6
_NORMAL = statistics.NormalDist()


class SensitivityError(ScenarioError):
    """Bad input to a sensitivity analysis (one line)."""


def salib() -> Any:
    """The SALib package, or a one-line error saying how to install it."""
    try:
        import SALib  # noqa: F401
        from SALib.analyze import morris as a_morris
        from SALib.analyze import sobol as a_sobol
        from SALib.sample import morris as s_morris
        from SALib.sample import sobol as s_sobol
    except ImportError:
        raise SensitivityError(
            "keirin-sim sensitivity: SALib is not installed: pip install 'keirin-sim[sensitivity]'"
        ) from None
    return {"sobol": (s_sobol, a_sobol), "morris": (s_morris, a_morris)}


@dataclass(frozen=True)
class Input:
    """One input: ``kind`` ``"path"`` (a set_param path drawn uniformly in ``lo``-``hi``),
    ``"normal"`` or ``"uniform"`` (a draw of the uncertainty plan, moving ``columns``)."""

    name: str
    kind: str
    lo: float = 0.0
    hi: float = 1.0
    columns: tuple[int, ...] = ()


def parse_output(scenario: Scenario, output: str) -> tuple[str, str | None]:
    """``"win:Jason Kenny"`` -> ``("win", "Jason Kenny")``; checked against the riders."""
    kind, _, rider = str(output).partition(":")
    src = scenario.source
    if kind in ("catch", "margin") and not rider:
        if scenario.attacker is None:
            raise SensitivityError(f"{src}: --output: {kind} needs the scenario's attacker")
        return kind, None
    if kind in ("win", "last200") and rider:
        if rider not in scenario.names:
            raise SensitivityError(
                f"{src}: --output: no rider named {rider!r} (riders: {', '.join(scenario.names)})"
            )
        return kind, rider
    raise SensitivityError(f"{src}: --output: {output!r} is not one of {', '.join(OUTPUTS)}")


def parse_inputs(scenario: Scenario, params: Sequence[str] | None) -> tuple[Input, ...]:
    """The inputs: ``params`` (``"path=LOW:HIGH"``) or the scenario's ``[uncertainty]``."""
    src = scenario.source
    if params:
        out = []
        for spec in params:
            path, eq, rhs = str(spec).partition("=")
            path = path.strip()
            if not eq or not path:
                raise SensitivityError(f"--params: {spec}: expected NAME.FIELD=LOW:HIGH")
            m = _RANGE.match(rhs)
            if not m:
                raise SensitivityError(f"--params: {path}: {rhs!r} is not a range LOW:HIGH")
            lo, hi = float(m.group(1)), float(m.group(2))
            if not lo < hi:
                raise SensitivityError(
                    f"--params: {path}: the range {lo:g}:{hi:g} has its low end above its high"
                )
            for v in (lo, hi):  # a path or value the scenario refuses: one line, before racing
                try:
                    scenario.set_param(path, v)
                except ScenarioError as e:
                    raise SensitivityError(
                        str(e).replace(f"{src}: ", f"{src}: --params: ", 1)
                    ) from None
            if path in [i.name for i in out]:
                raise SensitivityError(f"--params: {path}: given twice")
            out.append(Input(path, "path", lo, hi))
        return tuple(out)
    if "uncertainty" not in scenario.extra:
        raise SensitivityError(
            f"{src}: uncertainty: no [uncertainty] section: give the inputs with --params"
        )
    plan = build_plan(scenario, parse_uncertainty(scenario))
    groups: dict[tuple[str, int], list[int]] = {}
    for k, col in enumerate(plan.nc):
        groups.setdefault(("normal", int(plan.nd[k])), []).append(int(col))
    for k, col in enumerate(plan.uc):
        groups.setdefault(("uniform", int(plan.ud[k])), []).append(int(col))
    out = []
    for (kind, _), cols in groups.items():
        names = [plan.columns[c] for c in cols]
        name = names[0] if len(cols) == 1 else f"{names[0].split('.')[-1]} (shared by {len(cols)})"
        out.append(Input(name, kind, 0.0, 1.0, tuple(cols)))
    if not out:
        raise SensitivityError(
            f"{src}: uncertainty: nothing continuous to vary (a start order is not): give "
            "the inputs with --params"
        )
    return tuple(out)


def _plan(scenario: Scenario, inputs: Sequence[Input]) -> SamplingPlan | None:
    return None if inputs and inputs[0].kind == "path" else build_plan(
        scenario, parse_uncertainty(scenario)
    )  # fmt: skip


def scenario_at(
    scenario: Scenario,
    inputs: Sequence[Input],
    row: Sequence[float],
    plan: SamplingPlan | None = None,
) -> Scenario:
    """The scenario with one sample row of the inputs applied (``plan``: the scenario's
    uncertainty plan, when the inputs are its draws; built if not given)."""
    if inputs and inputs[0].kind == "path":
        sc = scenario
        for inp, v in zip(inputs, row, strict=True):
            sc = sc.set_param(inp.name, float(v))
        return sc
    plan = plan if plan is not None else _plan(scenario, inputs)
    assert plan is not None
    x = np.zeros(len(plan.columns))
    nc = {int(c): k for k, c in enumerate(plan.nc)}
    uc = {int(c): k for k, c in enumerate(plan.uc)}
    for inp, u in zip(inputs, row, strict=True):
        for c in inp.columns:
            if inp.kind == "normal":
                k = nc[c]
                z = _NORMAL.inv_cdf(min(max(float(u), _U_EDGE), 1.0 - _U_EDGE))
                v = plan.mu[k] + plan.sd[k] * z
                x[c] = min(max(v, plan.lo[c]), plan.hi[c])
            else:
                k = uc[c]
                x[c] = plan.ulo[k] + plan.uw[k] * u
    return apply_inputs(scenario, plan, x.tolist(), None, scenario.seed)


def _evaluate(
    scenario: Scenario,
    inputs: tuple[Input, ...],
    plan: SamplingPlan | None,
    kind: str,
    rider: str | None,
    row: Any,
) -> float:
    sc = scenario_at(scenario, inputs, row, plan)
    if kind == "catch":
        lo, hi = CATCH_RANGE_S
        c = critical_hesitation(sc, None, lo, hi, DEFAULT_TOL_S)
        if c.hesitation_s is not None:
            return float(c.hesitation_s)
        return hi if c.below is not None and c.below.caught else lo
    res = simulate(sc)
    if kind == "margin":
        return signed_margin(res, sc.attacker)
    if kind == "win":
        return 1.0 if res.finish_order[0] == rider else 0.0
    return float(res.last_200m_s[rider])


@dataclass(frozen=True)
class Sensitivity:
    """The indices of every input for one output."""

    scenario: str
    output: str
    method: str
    samples: int
    seed: int
    inputs: tuple[Input, ...]
    #: per input: S1, S1_conf, ST, ST_conf (sobol) or mu_star, mu_star_conf, sigma (morris)
    indices: tuple[dict[str, float], ...]
    #: the sample rows (inputs as drawn, in their own units where they have them) and outputs
    X: np.ndarray
    Y: np.ndarray

    @property
    def evaluations(self) -> int:
        return len(self.Y)

    @property
    def label(self) -> str:
        """The output in words: "the critical hesitation", "Jason Kenny's win"..."""
        kind, _, rider = self.output.partition(":")
        return {
            "catch": "the critical hesitation",
            "margin": "the attacker's margin",
            "win": f"{rider}'s win",
            "last200": f"{rider}'s last 200 m",
        }[kind]

    def ranking(self) -> list[str]:
        """Input names, most influential first (by ST, or by mu_star)."""
        key = "ST" if self.method == "sobol" else "mu_star"
        order = sorted(range(len(self.inputs)), key=lambda k: -self.indices[k][key])
        return [self.inputs[k].name for k in order]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "output": self.output,
            "method": self.method,
            "samples": self.samples,
            "evaluations": self.evaluations,
            "seed": self.seed,
            "output_mean": _r(float(np.mean(self.Y))),
            "output_sd": _r(float(np.std(self.Y))),
            "params": [
                {"name": inp.name, **{k: _r(v) for k, v in ix.items()}}
                for inp, ix in zip(self.inputs, self.indices, strict=True)
            ],
        }

    def to_dataframe(self) -> pd.DataFrame:
        """The sample: one row per race, the inputs (a normal or uniform draw as its quantile,
        0-1) and the output (a column named as ``output``)."""
        import pandas as pd

        df = pd.DataFrame(self.X, columns=[i.name for i in self.inputs])
        df[self.output] = self.Y
        return df

    def rows(self) -> pd.DataFrame:
        """The same table as :meth:`to_dataframe` (kept for code written before it)."""
        return self.to_dataframe()


def _r(v: float) -> float | None:
    return None if not math.isfinite(v) else round(float(v), 5)


def sensitivity(
    scenario: Scenario,
    output: str,
    params: Sequence[str] | None = None,
    samples: int = 64,
    seed: int = 0,
    method: str = "sobol",
    *,
    workers: int | None = None,
    scheduler: Any = None,
    progress: bool | None = None,
) -> Sensitivity:
    """Sobol or Morris indices of ``output`` over the inputs (module docstring)."""
    src = scenario.source
    if method not in METHODS:
        raise SensitivityError(f"{src}: --method: {method!r} is not one of {', '.join(METHODS)}")
    kind, rider = parse_output(scenario, output)
    inputs = parse_inputs(scenario, params)
    n = int(samples)
    least = MIN_SAMPLES[method]
    if n < least or (method == "sobol" and n & (n - 1)):
        need = "a power of two of at least" if method == "sobol" else "at least"
        raise SensitivityError(f"{src}: --samples: {method} needs {need} {least}, got {n}")
    sample, analyze = salib()[method]
    problem = {
        "num_vars": len(inputs),
        "names": [i.name for i in inputs],
        "bounds": [[i.lo, i.hi] for i in inputs],
    }
    if method == "sobol":
        X = sample.sample(problem, n, calc_second_order=False, seed=seed)
    else:
        X = sample.sample(problem, n, num_levels=4, seed=seed)
    fn = functools.partial(_evaluate, scenario, inputs, _plan(scenario, inputs), kind, rider)
    Y = np.array(
        map_tasks(
            fn,
            [tuple(r) for r in X],
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            warm=lambda: simulate(scenario),
        ),
        dtype=float,
    )
    if method == "sobol":
        res = analyze.analyze(
            problem, Y, calc_second_order=False, seed=seed, print_to_console=False
        )
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        res = analyze.analyze(problem, X, Y, num_levels=4, seed=seed, print_to_console=False)
        keys = ("mu_star", "mu_star_conf", "sigma")
    indices = tuple({k: float(np.nan_to_num(res[k][j])) for k in keys} for j in range(len(inputs)))
    return Sensitivity(src, output, method, n, int(seed), inputs, indices, X, Y)


__all__ = [
    "METHODS",
    "OUTPUTS",
    "Input",
    "Sensitivity",
    "SensitivityError",
    "parse_inputs",
    "parse_output",
    "salib",
    "scenario_at",
    "sensitivity",
]
