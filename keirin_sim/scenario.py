"""Scenario files: load, validate, and fail with one clear line.

A scenario is a TOML file (see scenarios/tokyo2020_mens_final.toml).  Every problem is reported
as ``ScenarioError("<file>: <key>: <what is wrong>")``; the CLI prints that line and exits 2.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .derny import Derny
from .rider import MASS_BOUNDS_KG, PMAX_BOUNDS_W, Rider
from .tactics import KINDS, ROLES, Tactic
from .track import Track

#: Indoor air density (kg/m^3): about 1.15-1.20 for a warm velodrome near sea level
#: (ideal-gas law at 25-30 deg C, keirin-reference.md section 4); 1.17 is mid-range.
AIR_DENSITY = 1.17
#: Riders' line above the measurement line (m): calibration choice, just above the black line
#: and below the sprinters' line (0.65 m above it).
LANE_M = 0.25
#: Kernel reference step (s): the adaptive step's tolerances scale with its cube, its longest
#: step is ten times it, and traces are sampled every ``dt_s``.  Halving it moves no finish time
#: by more than 5 ms (tests/test_kernel.py).
DT_S = 0.1
DEFAULT_SCENARIO = "tokyo2020_mens_final.toml"


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line: file, key, problem."""


@dataclass(frozen=True)
class Entry:
    """A rider in a race with its tactic."""

    rider: Rider
    tactic: Tactic


@dataclass(frozen=True)
class Scenario:
    """Everything a race needs.  Build it with :func:`load_scenario` or directly."""

    name: str
    riders: tuple[Entry, ...]
    track: Track = field(default_factory=Track)
    derny: Derny = field(default_factory=Derny)
    laps: int = 6
    air_density: float = AIR_DENSITY
    lane_m: float = LANE_M
    dt_s: float = DT_S
    attacker: str | None = None
    reference: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = "<memory>"

    @property
    def race_m(self) -> float:
        return self.laps * self.track.lap_m

    @property
    def names(self) -> list[str]:
        return [e.rider.name for e in self.riders]

    def rider_index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            known = ", ".join(self.names)
            raise ScenarioError(
                f"{self.source}: rider: no rider named {name!r} (riders: {known})"
            ) from None

    def with_tactic(self, name: str, **changes: Any) -> Scenario:
        """A copy with rider ``name``'s tactic fields changed."""
        i = self.rider_index(name)
        riders = list(self.riders)
        riders[i] = replace(riders[i], tactic=replace(riders[i].tactic, **changes))
        return replace(self, riders=tuple(riders))

    def with_rider(self, name: str, **changes: Any) -> Scenario:
        """A copy with rider ``name``'s physical parameters changed."""
        i = self.rider_index(name)
        riders = list(self.riders)
        riders[i] = replace(riders[i], rider=replace(riders[i].rider, **changes))
        return replace(self, riders=tuple(riders))

    def param_riders(self, head: str) -> list[str] | None:
        """The riders a parameter path's head names (``"field"``: all but the attacker,
        ``"all"``, or one rider's name); None if it names none."""
        if head == "field":
            return [n for n in self.names if n != self.attacker]
        if head == "all":
            return list(self.names)
        if head in self.names:
            return [head]
        return None

    def set_param(self, path: str, value: Any) -> Scenario:
        """A copy with one parameter changed, named by a dotted path:

        - ``"<rider name>.<field>"``: a rider field (``pmax_w``...) or a tactic field
          (``launch_m_to_go``...) of that rider;
        - ``"field.<field>"``: the same field for every rider except the attacker;
        - ``"all.<field>"``: every rider;
        - ``"<top-level key>"`` such as ``air_density``, ``derny.end_kmh``, ``track.lap_m``.

        The value is checked against the same physical bounds as a scenario file.
        """
        head, _, fld = path.rpartition(".")
        src = self.source
        if head in ("track", "derny"):
            bounds = TRACK_BOUNDS if head == "track" else DERNY_BOUNDS
            if fld not in bounds:
                raise ScenarioError(f"{src}: {path}: unknown {head} field {fld!r}")
            _number(src, path, value, *bounds[fld])
            return replace(self, **{head: replace(getattr(self, head), **{fld: value})})
        if not head:
            if fld not in TOP_BOUNDS:
                raise ScenarioError(f"{src}: {path}: unknown parameter")
            lo, hi = TOP_BOUNDS[fld]
            _number(src, path, value, lo, hi, integer=fld == "laps")
            return replace(self, **{fld: value})
        targets = self.param_riders(head)
        if targets is None:
            raise ScenarioError(f"{src}: {path}: {head!r} is not a rider, 'field' or 'all'")
        out = self
        for name in targets:
            if fld in RIDER_BOUNDS:
                _number(src, path, value, *RIDER_BOUNDS[fld])
                out = out.with_rider(name, **{fld: float(value)})
            elif fld in TACTIC_BOUNDS:
                _number(src, path, value, *TACTIC_BOUNDS[fld])
                out = out.with_tactic(name, **{fld: float(value)})
            elif fld in ("kind", "role", "launch_on_wprime"):
                out = out.with_tactic(name, **{fld: value})
            else:
                raise ScenarioError(f"{src}: {path}: unknown rider or tactic field {fld!r}")
        return out


# --- validation ----------------------------------------------------------------------------
# (min, max) of each numeric field; None = no bound on that side.
RIDER_BOUNDS: dict[str, tuple[float, float]] = {
    "mass_kg": MASS_BOUNDS_KG,
    "cda_m2": (0.10, 0.60),
    "crr": (0.001, 0.02),
    "efficiency": (0.80, 1.0),
    "development_m": (4.0, 12.0),
    "pmax_w": PMAX_BOUNDS_W,
    "cadence_opt_rpm": (60.0, 200.0),
    "cp_w": (100.0, 800.0),
    "w_prime_j": (2000.0, 80000.0),
}
TACTIC_BOUNDS: dict[str, tuple[float, float]] = {
    "launch_m_to_go": (0.0, 5000.0),
    "wprime_factor": (0.1, 5.0),
    "attack_m_to_go": (0.0, 5000.0),
    "hesitation_s": (0.0, 60.0),
    "gap_trigger_m": (0.5, 100.0),
    "chase_effort": (0.05, 1.0),
    "cruise_kmh": (20.0, 75.0),
    "tempo_kmh": (20.0, 75.0),
    "follow_gap_m": (0.05, 10.0),
    "move_up_m_to_go": (0.0, 5000.0),
    "move_up_kmh": (0.5, 20.0),
    "let_gap_m": (0.05, 30.0),
    "let_gap_at_m_to_go": (0.0, 5000.0),
}
TRACK_BOUNDS = {
    "lap_m": (130.0, 500.0),
    "bend_radius_m": (8.0, 60.0),
    "width_m": (4.0, 15.0),
    "finish_frac": (0.0, 1.0),
    "transition_m": (0.0, 30.0),
}
DERNY_BOUNDS = {
    "start_kmh": (15.0, 60.0),
    "end_kmh": (15.0, 70.0),
    "pull_off_m_to_go": (0.0, 5000.0),
    "ramp_end_m_to_go": (0.0, 5000.0),
}
TOP_BOUNDS = {
    "laps": (1, 20),
    "air_density": (0.9, 1.4),
    "lane_m": (0.0, 3.0),
    "dt_s": (0.001, 0.2),
}
TOP_KEYS = {
    "base",
    "name",
    "attacker",
    "track",
    "derny",
    "rider_defaults",
    "tactic_defaults",
    "riders",
    "reference",
    *TOP_BOUNDS,
}
#: Sections that other modules read (variants for comparisons, uncertainty for Monte Carlo);
#: kept as raw tables in ``Scenario.extra`` and validated by their readers.
EXTRA_KEYS: set[str] = {"variants", "uncertainty", "sweep"}


def _fail(src: str, key: str, msg: str) -> ScenarioError:
    return ScenarioError(f"{src}: {key}: {msg}")


def _number(src: str, key: str, val: Any, lo: float, hi: float, integer: bool = False) -> float:
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        kind = "an integer" if integer else "a number"
        raise _fail(src, key, f"must be {kind}, got {type(val).__name__} {val!r}")
    if integer and not isinstance(val, int):
        raise _fail(src, key, f"must be an integer, got {val!r}")
    if not math.isfinite(val):
        raise _fail(src, key, f"must be finite, got {val!r}")
    if val < lo or val > hi:
        raise _fail(src, key, f"{val!r} is outside the physical range [{lo:g}, {hi:g}]")
    return val


def _table(src: str, key: str, val: Any) -> dict[str, Any]:
    if not isinstance(val, dict):
        raise _fail(src, key, f"must be a table, got {type(val).__name__}")
    return val


def _fields(
    src: str,
    prefix: str,
    table: dict[str, Any],
    bounds: dict[str, tuple[float, float]],
    other: dict[str, type | tuple[type, ...]] | None = None,
) -> dict[str, Any]:
    other = other or {}
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if k in bounds:
            lo, hi = bounds[k]
            out[k] = _number(src, key, v, lo, hi, integer=isinstance(lo, int) and k == "laps")
        elif k in other:
            if not isinstance(v, other[k]) or (
                isinstance(v, bool)
                and bool not in (other[k] if isinstance(other[k], tuple) else (other[k],))
            ):
                raise _fail(src, key, f"must be {_typename(other[k])}, got {v!r}")
            out[k] = v
        else:
            known = ", ".join(sorted([*bounds, *other]))
            raise _fail(src, key, f"unknown key (known: {known})")
    return out


def _typename(t: type | tuple[type, ...]) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(
        {"str": "a string", "bool": "true or false"}.get(x.__name__, x.__name__) for x in ts
    )


def parse_scenario(data: dict[str, Any], source: str = "<memory>") -> Scenario:
    """Validate a scenario table (as read from TOML) and build the :class:`Scenario`.

    A ``base`` key is resolved among the shipped scenarios (``load_scenario`` also looks beside
    the file)."""
    src = source
    data = _with_base(data, src, None)
    for k in data:
        if k not in TOP_KEYS and k not in EXTRA_KEYS:
            raise _fail(src, k, "unknown key")
    if "name" not in data:
        raise _fail(src, "name", "missing key")
    if not isinstance(data["name"], str) or not data["name"].strip():
        raise _fail(src, "name", "must be a non-empty string")
    top = _fields(src, "", {k: data[k] for k in TOP_BOUNDS if k in data}, TOP_BOUNDS)
    if "laps" in data and (isinstance(data["laps"], bool) or not isinstance(data["laps"], int)):
        raise _fail(src, "laps", f"must be an integer, got {data['laps']!r}")
    track = Track(
        **_fields(src, "track", _table(src, "track", data.get("track", {})), TRACK_BOUNDS)
    )
    if track.straight_m <= 0:
        raise _fail(
            src,
            "track.bend_radius_m",
            f"{track.bend_radius_m} m bends do not fit a {track.lap_m} m lap",
        )
    derny = Derny(
        **_fields(src, "derny", _table(src, "derny", data.get("derny", {})), DERNY_BOUNDS)
    )
    laps = int(top.get("laps", 6))
    race_m = laps * track.lap_m
    if derny.end_kmh < derny.start_kmh:
        raise _fail(src, "derny.end_kmh", f"{derny.end_kmh} is below start_kmh {derny.start_kmh}")
    if derny.pull_off_m_to_go >= race_m:
        raise _fail(
            src,
            "derny.pull_off_m_to_go",
            f"{derny.pull_off_m_to_go} m is not inside the {race_m:g} m race",
        )
    if derny.ramp_end_m_to_go is not None and not (
        derny.pull_off_m_to_go <= derny.ramp_end_m_to_go < race_m
    ):
        raise _fail(src, "derny.ramp_end_m_to_go", "must lie between the pull-off and the start")
    rdef = _fields(
        src,
        "rider_defaults",
        _table(src, "rider_defaults", data.get("rider_defaults", {})),
        RIDER_BOUNDS,
    )
    tstr = {"kind": str, "role": str, "launch_on_wprime": bool}
    tdef = _fields(
        src,
        "tactic_defaults",
        _table(src, "tactic_defaults", data.get("tactic_defaults", {})),
        TACTIC_BOUNDS,
        tstr,
    )
    riders_raw = data.get("riders")
    if riders_raw is None:
        raise _fail(src, "riders", "missing key (give 2 to 9 [[riders]] tables)")
    if not isinstance(riders_raw, list):
        raise _fail(src, "riders", "must be an array of tables ([[riders]])")
    if not 2 <= len(riders_raw) <= 9:
        raise _fail(src, "riders", f"a keirin has 2 to 9 riders, got {len(riders_raw)}")
    entries = []
    seen: set[str] = set()
    for n, raw in enumerate(riders_raw):
        pre = f"riders[{n}]"
        raw = dict(_table(src, pre, raw))
        name = raw.pop("name", None)
        if name is None:
            raise _fail(src, f"{pre}.name", "missing key")
        if not isinstance(name, str) or not name.strip():
            raise _fail(src, f"{pre}.name", "must be a non-empty string")
        if name in seen:
            raise _fail(src, f"{pre}.name", f"duplicate rider name {name!r}")
        seen.add(name)
        tac_raw = _table(src, f"{pre}.tactic", raw.pop("tactic", {}))
        vals = {**rdef, **_fields(src, pre, raw, RIDER_BOUNDS)}
        rider = Rider(name=name, **vals)
        if rider.cp_w >= rider.pmax_w:
            raise _fail(src, f"{pre}.cp_w", f"{rider.cp_w} W must be below pmax_w {rider.pmax_w} W")
        tvals = {**tdef, **_fields(src, f"{pre}.tactic", tac_raw, TACTIC_BOUNDS, tstr)}
        tac = Tactic(**tvals)
        if tac.kind not in KINDS:
            raise _fail(src, f"{pre}.tactic.kind", f"{tac.kind!r} is not one of {', '.join(KINDS)}")
        if tac.role not in ROLES:
            raise _fail(src, f"{pre}.tactic.role", f"{tac.role!r} is not one of {', '.join(ROLES)}")
        for k in ("launch_m_to_go", "attack_m_to_go", "move_up_m_to_go", "let_gap_at_m_to_go"):
            val = getattr(tac, k)
            if val is not None and val >= race_m:
                raise _fail(src, f"{pre}.tactic.{k}", f"{val} m is beyond the {race_m:g} m race")
        entries.append(Entry(rider, tac))
    attacker = data.get("attacker")
    if attacker is not None:
        if not isinstance(attacker, str):
            raise _fail(src, "attacker", f"must be a rider name, got {attacker!r}")
        if attacker not in seen:
            raise _fail(src, "attacker", f"{attacker!r} is not one of the riders")
    reference = _table(src, "reference", data.get("reference", {}))
    extra = {k: data[k] for k in EXTRA_KEYS if k in data}
    return Scenario(
        name=data["name"],
        riders=tuple(entries),
        track=track,
        derny=derny,
        laps=laps,
        air_density=float(top.get("air_density", AIR_DENSITY)),
        lane_m=float(top.get("lane_m", LANE_M)),
        dt_s=float(top.get("dt_s", DT_S)),
        attacker=attacker,
        reference=dict(reference),
        extra=extra,
        source=src,
    )


def _read_toml(path: str | Path | None) -> tuple[dict[str, Any], str, Path | None]:
    """(table, name for messages, folder for relative ``base`` paths) of a scenario file."""
    if path is None or (not Path(path).exists() and str(path) in shipped_scenarios()):
        name = DEFAULT_SCENARIO if path is None else str(path)
        ref = resources.files("keirin_sim.scenarios").joinpath(name)
        text = ref.read_text(encoding="utf-8")
        src, folder = name, None
    else:
        p = Path(path)
        src, folder = str(path), p.parent
        if not p.is_file():
            raise ScenarioError(f"{src}: file not found")
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ScenarioError(f"{src}: cannot read: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e).splitlines()[0] if str(e) else "parse error"
        raise ScenarioError(f"{src}: not valid TOML: {msg}") from None
    return data, src, folder


def _with_base(data: dict[str, Any], src: str, folder: Path | None, depth: int = 0) -> dict:
    """Resolve ``base = "other.toml"``: the other file's tables, overridden by this file's.

    Tables (track, derny, defaults, reference...) merge key by key; anything else (riders,
    variants, name) replaces.  A bare name not found beside the file is looked up among the
    shipped scenarios, so a variants file can build on the Tokyo final without copying it.
    """
    if "base" not in data:
        return data
    base = data["base"]
    if not isinstance(base, str) or not base:
        raise _fail(src, "base", f"must be a scenario file name, got {base!r}")
    if depth > 8:
        raise _fail(src, "base", "chain of base scenarios is too deep (a cycle?)")
    cand = (folder / base) if folder is not None else None
    if cand is not None and cand.is_file():
        bdata, bsrc, bfolder = _read_toml(cand)
    elif base in shipped_scenarios():
        ref = resources.files("keirin_sim.scenarios").joinpath(base)
        bdata, bsrc, bfolder = tomllib.loads(ref.read_text(encoding="utf-8")), base, None
    else:
        raise _fail(src, "base", f"{base!r} not found beside the file or among shipped scenarios")
    merged = dict(_with_base(bdata, bsrc, bfolder, depth + 1))
    for k, v in data.items():
        if k == "base":
            continue
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = {**merged[k], **v}
        else:
            merged[k] = v
    return merged


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and validate a scenario file; ``None`` loads the shipped Tokyo 2020 final, and the
    bare name of a shipped scenario (``"early_vs_late.toml"``) works from any folder."""
    data, src, folder = _read_toml(path)
    return parse_scenario(_with_base(data, src, folder), src)


def shipped_scenarios() -> list[str]:
    """Names of the scenario files shipped inside the package."""
    root = resources.files("keirin_sim.scenarios")
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".toml"))


__all__ = [
    "Entry",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "shipped_scenarios",
]
