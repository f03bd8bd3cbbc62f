"""The ``[uncertainty]`` section of a scenario: which inputs of a race are uncertain and how,
validated and resolved against the scenario's own values and physical bounds into a sampling
plan (what :mod:`keirin_sim.montecarlo.sampling` draws from).

A scenario may declare what is uncertain in an ``[uncertainty]`` section::

    [uncertainty]
    start_order = "lot"                                  # positions drawn by lot (UCI 3.2.138)
    # or, where only some positions are published:
    # start_order = {lot = ["A", "B", "C"]}              # these three swap the places they hold
    air_density = {dist = "uniform", low = 1.15, high = 1.20}

    [uncertainty.all]                                    # every rider, one draw each
    pmax_w = {dist = "normal", rel_sd = 0.03}            # 3 % of each rider's own Pmax

    [uncertainty.field]                                  # every rider but the attacker
    hesitation_s = {dist = "uniform", low = 0.0, high = 4.0}

    [uncertainty."Jason Kenny"]                          # one rider; wins over field and all
    pmax_w = {dist = "normal", sd = 60}

Distributions (numbers in the units of the field):

- ``{dist = "normal", sd = S}`` or ``rel_sd = R`` (a fraction of the nominal value): centred on
  the scenario's value, or on ``mean``; ``low``/``high`` truncate it further;
- ``{dist = "uniform", low = A, high = B}``, or ``plus_minus = D`` (nominal +- D), or
  ``rel_plus_minus = R`` (nominal +- R * nominal).

In ``field`` and ``all`` a spec may say ``shared = true``: one draw per race for all those riders
(the whole field hesitating together) instead of one each.

Every sampled value stays inside the physical bounds that
:meth:`~keirin_sim.scenario.Scenario.set_param` enforces (``RIDER_BOUNDS``, ``TACTIC_BOUNDS``
in scenario.py): normal draws outside them are drawn again from the same stream (a truncated
normal), uniform ranges are cut to them; marks stay inside the race; and CP stays below Pmax:
when only one of them is uncertain its range is cut at the other one's value (1 W to spare);
when both are, each is drawn from its own distribution and a run whose pair breaks the rule
draws the pair again from its own stream (a plan where fewer than 1 % of pairs would keep the
rule is refused).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.scenario.checks import RIDER_BOUNDS, TACTIC_BOUNDS, TOP_BOUNDS, ScenarioError

if TYPE_CHECKING:  # pragma: no cover - the scenario module reads this one
    from keirin_sim.scenario.scenario import Scenario


DISTS = ("normal", "uniform")
START_ORDERS = ("fixed", "lot")
#: Top-level scenario values that may be uncertain.
TOP_UNCERTAIN = ("air_density",)
#: Tactic marks (metres to go) that must stay inside the race.
_MARKS = ("launch_m_to_go", "attack_m_to_go", "move_up_m_to_go", "let_gap_at_m_to_go")
_FIELD_ORDER = {f: k for k, f in enumerate([*RIDER_BOUNDS, *TACTIC_BOUNDS])}
#: A normal spec must put at least this share of its draws inside the bounds.
MIN_ACCEPTANCE = 0.01
#: Output formats by extension.


_SPEC_KEYS = {
    "normal": ("dist", "sd", "rel_sd", "mean", "low", "high", "shared"),
    "uniform": ("dist", "low", "high", "plus_minus", "rel_plus_minus", "shared"),
}


# --- the [uncertainty] section ---------------------------------------------------------------
@dataclass(frozen=True)
class Dist:
    """One distribution from the ``[uncertainty]`` section (see the module docstring)."""

    dist: str
    sd: float | None = None
    rel_sd: float | None = None
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    plus_minus: float | None = None
    rel_plus_minus: float | None = None
    shared: bool = False


@dataclass(frozen=True)
class Uncertainty:
    """The validated ``[uncertainty]`` section: ``specs`` are ``(target, field, Dist, key)``
    with target a rider name, ``"field"``, ``"all"`` or ``""`` (a top-level value)."""

    specs: tuple[tuple[str, str, Dist, str], ...] = ()
    start_order: str = "fixed"
    #: with ``start_order = {lot = [...]}``: the riders whose positions are drawn among the
    #: places they hold in the file (the others keep theirs)
    lot_among: tuple[str, ...] = ()


def uncertainty_error(src: str, key: str, msg: str) -> ScenarioError:
    return ScenarioError(" ".join(f"{src}: {key}: {msg}".split()))


def _num(src: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise uncertainty_error(src, key, f"must be a finite number, got {v!r}")
    return float(v)


def _parse_dist(src: str, key: str, raw: Any, group: bool) -> Dist:
    if not isinstance(raw, dict):
        raise uncertainty_error(
            src, key, f'must be a table like {{dist = "normal", sd = 60}}, got {raw!r}'
        )
    kind = raw.get("dist")
    if kind is None:
        raise uncertainty_error(src, f"{key}.dist", f"missing key (one of {', '.join(DISTS)})")
    if kind not in DISTS:
        raise uncertainty_error(src, f"{key}.dist", f"{kind!r} is not one of {', '.join(DISTS)}")
    allowed = _SPEC_KEYS[kind]
    vals: dict[str, Any] = {}
    for k, v in raw.items():
        if k == "dist":
            continue
        if k not in allowed:
            raise uncertainty_error(
                src, f"{key}.{k}", f"unknown key for a {kind} spec (known: {', '.join(allowed)})"
            )
        if k == "shared":
            if not group:
                raise uncertainty_error(
                    src, f"{key}.shared", "only for [uncertainty.field] and .all"
                )
            if not isinstance(v, bool):
                raise uncertainty_error(src, f"{key}.shared", f"must be true or false, got {v!r}")
            vals[k] = v
        else:
            vals[k] = _num(src, f"{key}.{k}", v)
    d = Dist(kind, **vals)
    if kind == "normal":
        given = [k for k in ("sd", "rel_sd") if k in vals]
        if len(given) != 1:
            raise uncertainty_error(src, key, "give exactly one of sd and rel_sd")
        if vals[given[0]] <= 0:
            raise uncertainty_error(
                src, f"{key}.{given[0]}", f"must be positive, got {vals[given[0]]!r}"
            )
        if d.rel_sd is not None and d.rel_sd > 1:
            raise uncertainty_error(
                src, f"{key}.rel_sd", f"is a fraction of the value, got {d.rel_sd!r}"
            )
    else:
        forms = [k for k in ("plus_minus", "rel_plus_minus") if k in vals]
        bounds = [k for k in ("low", "high") if k in vals]
        if bounds and forms or len(forms) > 1 or (not forms and len(bounds) != 2):
            raise uncertainty_error(src, key, "give low and high, or plus_minus, or rel_plus_minus")
        if forms and vals[forms[0]] <= 0:
            raise uncertainty_error(
                src, f"{key}.{forms[0]}", f"must be positive, got {vals[forms[0]]!r}"
            )
        if d.rel_plus_minus is not None and d.rel_plus_minus > 1:
            raise uncertainty_error(
                src,
                f"{key}.rel_plus_minus",
                f"is a fraction of the value, got {d.rel_plus_minus!r}",
            )
    if d.low is not None and d.high is not None and not d.low < d.high:
        raise uncertainty_error(src, f"{key}.high", f"{d.high!r} must be above low {d.low!r}")
    return d


def parse_uncertainty(
    scenario: Scenario, table: Mapping[str, Any] | None = None, check: bool = True
) -> Uncertainty:
    """Validate the scenario's ``[uncertainty]`` section (or ``table``).  Problems raise
    :class:`~keirin_sim.scenario.ScenarioError` ``"<file>: uncertainty.<key>: <problem>"``.
    ``check`` also resolves every spec against the scenario's values (a relative spread of a
    value that is not set, a spread far wider than the physical range...)."""
    src = scenario.source
    raw = scenario.extra.get("uncertainty", {}) if table is None else table
    if not isinstance(raw, Mapping):
        raise uncertainty_error(src, "uncertainty", "must be a table ([uncertainty])")
    names = scenario.names
    specs: list[tuple[str, str, Dist, str]] = []
    start_order = "fixed"
    lot_among: tuple[str, ...] = ()
    for k, v in raw.items():
        key = f"uncertainty.{k}"
        if k == "start_order":
            if isinstance(v, Mapping):
                lot_among = _partial_lot(src, key, v, names)
                start_order = "lot"
            elif v not in START_ORDERS:
                raise uncertainty_error(
                    src,
                    key,
                    f"{v!r} is not one of {', '.join(map(repr, START_ORDERS))} "
                    'or {lot = ["rider", ...]}',
                )
            else:
                start_order = v
        elif k in TOP_UNCERTAIN:
            specs.append(("", k, _parse_dist(src, key, v, False), key))
        elif k in ("field", "all") or k in names:
            if not isinstance(v, Mapping):
                raise uncertainty_error(src, key, "must be a table of field = {dist = ...} specs")
            for f, spec in v.items():
                fkey = f"{key}.{f}"
                if f not in RIDER_BOUNDS and f not in TACTIC_BOUNDS:
                    known = ", ".join([*RIDER_BOUNDS, *TACTIC_BOUNDS])
                    raise uncertainty_error(
                        src, fkey, f"not an uncertain rider or tactic field (known: {known})"
                    )
                specs.append((k, f, _parse_dist(src, fkey, spec, k in ("field", "all")), fkey))
        elif isinstance(v, Mapping) and "dist" not in v:
            raise uncertainty_error(
                src, key, f"no rider named {k!r} (riders: {', '.join(names)}; or use field, all)"
            )
        else:
            raise uncertainty_error(
                src,
                key,
                f"unknown key (known: start_order, {', '.join(TOP_UNCERTAIN)}, "
                "field, all, or a rider's name)",
            )
    unc = Uncertainty(tuple(specs), start_order, lot_among)
    if check:
        build_plan(scenario, unc)  # nominal values, bounds and spreads of this scenario
    return unc


def _partial_lot(src: str, key: str, v: Mapping[str, Any], names: list[str]) -> tuple[str, ...]:
    """``{lot = ["A", "B"...]}``: at least two distinct riders of the scenario."""
    extra = [k for k in v if k != "lot"]
    if extra:
        raise uncertainty_error(
            src, f"{key}.{extra[0]}", 'unknown key (known: lot = ["rider", ...])'
        )
    among = v.get("lot")
    if not isinstance(among, list) or len(among) < 2:
        raise uncertainty_error(src, f"{key}.lot", f"must list two or more riders, got {among!r}")
    for n in among:
        if n not in names:
            raise uncertainty_error(src, f"{key}.lot", f"{n!r} is not one of the riders")
    if len(set(among)) < len(among):
        raise uncertainty_error(src, f"{key}.lot", "a rider is given twice")
    return tuple(among)


# --- sampling plan ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SamplingPlan:
    """How to draw one run's inputs and apply them (built once per grid point)."""

    columns: tuple[str, ...]
    lo: np.ndarray  # per column: truncation bounds
    hi: np.ndarray
    n_normal: int
    n_uniform: int
    nc: np.ndarray  # columns drawn from normal draws
    nd: np.ndarray  # their draw index
    mu: np.ndarray
    sd: np.ndarray
    uc: np.ndarray  # columns drawn from uniform draws
    ud: np.ndarray
    ulo: np.ndarray
    uw: np.ndarray
    draw_cols: tuple[np.ndarray, ...]  # per normal draw: positions in nc
    apply: tuple[tuple[int, tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]], ...]
    top: tuple[tuple[str, int], ...]
    lot: bool
    n_riders: int
    #: scenario positions whose riders are drawn among themselves; empty: all (a full lot)
    lot_slots: tuple[int, ...] = ()
    #: per rider with both uncertain: (cp column, pmax column); such pairs are redrawn
    cp_pmax: tuple[tuple[int, int], ...] = ()


def _cp_pmax_pairs(src: str, cols: list[dict[str, Any]], names: list[str]) -> tuple:
    """Columns of riders whose CP and Pmax are both uncertain; refuse a pair whose
    distributions leave fewer than 1 % of draws with CP below Pmax."""
    by = {(c["i"], c["fld"]): k for k, c in enumerate(cols)}
    pairs = []
    rng = np.random.default_rng(0)  # a fixed check, not a draw of any run
    for i in range(len(names)):
        if (i, "cp_w") not in by or (i, "pmax_w") not in by:
            continue
        kc, kp = by[(i, "cp_w")], by[(i, "pmax_w")]

        def draws(c: dict[str, Any]) -> np.ndarray:
            if c["d"].dist == "uniform":
                return rng.uniform(c["lo"], c["hi"], 4000)
            v = c["mu"] + c["sd"] * rng.standard_normal(20000)
            return v[(v >= c["lo"]) & (v <= c["hi"])][:4000]

        a, b = draws(cols[kc]), draws(cols[kp])
        n = min(len(a), len(b))
        ok = float(np.mean(a[:n] < b[:n] - 1.0)) if n else 0.0
        if ok < MIN_ACCEPTANCE:
            raise uncertainty_error(
                src,
                cols[kc]["key"],
                f"cp_w must stay below pmax_w for {names[i]}: only {100 * ok:.2g} % of the "
                "drawn pairs do; narrow or move the two distributions",
            )
        pairs.append((kc, kp))
    return tuple(pairs)


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def param_targets(scenario: Scenario, target: str) -> list[int]:
    names = scenario.names
    if target == "":
        return [-1]
    if target == "all":
        return list(range(len(names)))
    if target == "field":
        return [i for i, n in enumerate(names) if n != scenario.attacker]
    return [names.index(target)]


def build_plan(
    scenario: Scenario, unc: Uncertainty, overridden: frozenset[tuple[int, str]] = frozenset()
) -> SamplingPlan:
    """Resolve the specs against ``scenario`` (nominal values, bounds); ``overridden``
    ``(rider index or -1, field)`` pairs are set by a sweep and not sampled."""
    src = scenario.source
    names = scenario.names
    level = {"all": 0, "field": 1, "": 3}
    chosen: dict[tuple[int, str], tuple[int, Dist, str, tuple[str, str] | None]] = {}
    for target, fld, d, key in unc.specs:
        lv = level.get(target, 2)
        for i in param_targets(scenario, target):
            if (i, fld) in overridden:
                continue
            prev = chosen.get((i, fld))
            if prev is None or lv > prev[0]:
                chosen[(i, fld)] = (lv, d, key, (target, fld) if d.shared else None)
    order = sorted(chosen, key=lambda p: (p[0], _FIELD_ORDER.get(p[1], -1), p[1]))
    race_m = scenario.race_m
    cols: list[dict[str, Any]] = []
    for i, fld in order:
        _, d, key, group = chosen[(i, fld)]
        if i < 0:
            kind, nominal, (lo, hi) = "top", getattr(scenario, fld), TOP_BOUNDS[fld]
            name = fld
        else:
            e = scenario.riders[i]
            kind = "rider" if fld in RIDER_BOUNDS else "tactic"
            obj = e.rider if kind == "rider" else e.tactic
            nominal = getattr(obj, fld)
            lo, hi = (RIDER_BOUNDS if kind == "rider" else TACTIC_BOUNDS)[fld]
            name = f"{names[i]}.{fld}"
            if fld == "flying_200_s" and e.rider.source != "calibrated":
                raise uncertainty_error(
                    scenario.source,
                    key,
                    f"{names[i]} has hand-set physiology: form on the day (flying_200_s) can"
                    " only be drawn for a rider calibrated from its flying_200_s",
                )
        lo, hi = float(lo), float(hi)
        if fld in _MARKS:
            hi = min(hi, race_m - 0.01)
        cols.append(
            dict(
                i=i,
                fld=fld,
                d=d,
                key=key,
                group=group,
                kind=kind,
                nominal=nominal,
                lo=lo,
                hi=hi,
                name=name,
            )
        )
    # CP stays below Pmax
    by = {(c["i"], c["fld"]): c for c in cols}
    for i in range(len(names)):
        cp, pm = by.get((i, "cp_w")), by.get((i, "pmax_w"))
        r = scenario.riders[i].rider
        if cp and pm:
            continue  # drawn together: see cp_pmax_pairs
        if cp and r.pmax_w - 1.0 < cp["hi"]:
            cp["hi"] = r.pmax_w - 1.0
            cp["rule"] = f"cp_w must stay below pmax_w {r.pmax_w:g} W"
        elif pm and r.cp_w + 1.0 > pm["lo"]:
            pm["lo"] = r.cp_w + 1.0
            pm["rule"] = f"pmax_w must stay above cp_w {r.cp_w:g} W"
    # resolve each distribution
    for c in cols:
        d, key, nominal = c["d"], c["key"], c["nominal"]
        who = (
            f" (for {names[c['i']]})"
            if c["i"] >= 0 and not key.startswith(f"uncertainty.{names[c['i']]}.")
            else ""
        )
        needs_nominal = (
            d.rel_sd is not None
            or d.rel_plus_minus is not None
            or (d.plus_minus is not None)
            or (d.dist == "normal" and d.mean is None)
        )
        if needs_nominal and nominal is None:
            raise uncertainty_error(
                src,
                key,
                f"{c['fld']} is not set{who}, so there is no value to centre "
                "on: give mean (normal) or low and high (uniform)",
            )
        lo, hi = c["lo"], c["hi"]
        phys = f"[{lo:g}, {hi:g}]"
        if "rule" in c:
            phys += f" ({c['rule']})"
        if d.dist == "normal":
            mu = float(nominal) if d.mean is None else d.mean
            if not lo <= mu <= hi:
                raise uncertainty_error(
                    src, f"{key}.mean", f"{mu:g} is outside the physical range {phys}{who}"
                )
            sd = d.sd if d.sd is not None else d.rel_sd * abs(float(nominal))
            if not sd > 0:
                raise uncertainty_error(
                    src,
                    f"{key}.rel_sd",
                    f"{c['fld']} is {nominal!r}{who}, so a relative spread is zero: give sd",
                )
            lo = lo if d.low is None else max(lo, d.low)
            hi = hi if d.high is None else min(hi, d.high)
            if not lo < hi:
                raise uncertainty_error(
                    src, key, f"low/high leave nothing of the physical range {phys}{who}"
                )
            c.update(mu=mu, sd=sd, lo=lo, hi=hi)
        else:
            if d.low is not None:
                a, b = d.low, d.high
            else:
                w = (
                    d.plus_minus
                    if d.plus_minus is not None
                    else (d.rel_plus_minus * abs(float(nominal)))
                )
                a, b = float(nominal) - w, float(nominal) + w
                if not w > 0:
                    raise uncertainty_error(
                        src,
                        f"{key}.rel_plus_minus",
                        f"{c['fld']} is {nominal!r}{who}, "
                        "so a relative spread is zero: give plus_minus",
                    )
            a, b = max(a, lo), min(b, hi)
            if not a < b:
                raise uncertainty_error(
                    src, key, f"the range lies outside the physical range {phys}{who}"
                )
            c.update(lo=a, hi=b)
    # draws: one per column, or one per shared group
    normal_draw: dict[Any, int] = {}
    uniform_draw: dict[Any, int] = {}
    for k, c in enumerate(cols):
        table = normal_draw if c["d"].dist == "normal" else uniform_draw
        gk = c["group"] if c["group"] is not None else ("col", k)
        c["draw"] = table.setdefault(gk, len(table))
    ncols = [k for k, c in enumerate(cols) if c["d"].dist == "normal"]
    ucols = [k for k, c in enumerate(cols) if c["d"].dist == "uniform"]
    draw_cols = []
    for dr in range(len(normal_draw)):
        pos = [j for j, k in enumerate(ncols) if cols[k]["draw"] == dr]
        zlo = max((cols[ncols[j]]["lo"] - cols[ncols[j]]["mu"]) / cols[ncols[j]]["sd"] for j in pos)
        zhi = min((cols[ncols[j]]["hi"] - cols[ncols[j]]["mu"]) / cols[ncols[j]]["sd"] for j in pos)
        acc = _phi(zhi) - _phi(zlo) if zhi > zlo else 0.0
        if acc < MIN_ACCEPTANCE:
            c = cols[ncols[pos[0]]]
            raise uncertainty_error(
                src,
                c["key"],
                f"only {100 * acc:.2g} % of the draws fall inside the "
                f"bounds [{c['lo']:g}, {c['hi']:g}]: narrow sd or use dist = "
                '"uniform"',
            )
        draw_cols.append(np.array(pos, dtype=np.int64))
    apply = []
    for i in range(len(names)):
        rf = tuple(
            (c["fld"], k) for k, c in enumerate(cols) if c["i"] == i and c["kind"] == "rider"
        )
        tf = tuple(
            (c["fld"], k) for k, c in enumerate(cols) if c["i"] == i and c["kind"] == "tactic"
        )
        if rf or tf:
            apply.append((i, rf, tf))
    f64 = lambda xs: np.array(xs, dtype=np.float64)  # noqa: E731
    i64 = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
    return SamplingPlan(
        columns=tuple(c["name"] for c in cols),
        lo=f64([c["lo"] for c in cols]),
        hi=f64([c["hi"] for c in cols]),
        n_normal=len(normal_draw),
        n_uniform=len(uniform_draw),
        nc=i64(ncols),
        nd=i64([cols[k]["draw"] for k in ncols]),
        mu=f64([cols[k]["mu"] for k in ncols]),
        sd=f64([cols[k]["sd"] for k in ncols]),
        uc=i64(ucols),
        ud=i64([cols[k]["draw"] for k in ucols]),
        ulo=f64([cols[k]["lo"] for k in ucols]),
        uw=f64([cols[k]["hi"] - cols[k]["lo"] for k in ucols]),
        draw_cols=tuple(draw_cols),
        apply=tuple(apply),
        top=tuple((c["fld"], k) for k, c in enumerate(cols) if c["kind"] == "top"),
        lot=unc.start_order == "lot",
        n_riders=len(names),
        lot_slots=tuple(sorted(names.index(n) for n in unc.lot_among)),
        cp_pmax=_cp_pmax_pairs(src, cols, names),
    )
