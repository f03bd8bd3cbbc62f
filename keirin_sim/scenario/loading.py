"""TODO docstring."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keirin_sim.calibration import PROFILES, SEXES, CalibrationError, calibrate, default_rider
from keirin_sim.engine.timetrial import SEA_LEVEL_AIR_DENSITY
from keirin_sim.model.air import air_density as air_density_from
from keirin_sim.model.derny import Derny
from keirin_sim.model.rider import MASS_BOUNDS_KG as MASS_BOUNDS_KG
from keirin_sim.model.rider import PMAX_BOUNDS_W as PMAX_BOUNDS_W
from keirin_sim.model.rider import Rider
from keirin_sim.model.tactic import KINDS as KINDS
from keirin_sim.model.tactic import ROLES as ROLES
from keirin_sim.model.tactic import Tactic
from keirin_sim.model.track import Track
from keirin_sim.scenario.checks import (
    CALIBRATED_FIELDS,
    CONDITIONS_BOUNDS,
    DERNY_BOUNDS,
    RESULT_BOUNDS,
    RESULT_TYPES,
    RIDER_BOUNDS,
    TACTIC_BOUNDS,
    TACTIC_TYPES,
    TOP_BOUNDS,
    TRACK_BOUNDS,
    ScenarioError,
    check_course,
    check_entry,
    check_fields,
    check_name,
    check_reference,
    check_table,
    check_variants,
    fail,
    unknown_key,
)
from keirin_sim.scenario.scenario import (
    AIR_DENSITY,
    DT_S,
    LANE_M,
    Entry,
    Scenario,
)
from keirin_sim.scenario.uncertainty import parse_uncertainty

if TYPE_CHECKING:  # pragma: no cover
    from importlib.resources.abc import Traversable  # the standard library's, 3.11+

DEFAULT_SCENARIO = "tokyo2020_mens_final.toml"


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
    "conditions",
    "seed",
    *TOP_BOUNDS,
}


#: Sections that other modules read (variants for comparisons, uncertainty for Monte Carlo);
#: kept as raw tables in ``Scenario.extra`` and validated by their readers.
EXTRA_KEYS: set[str] = {"variants", "uncertainty", "sweep"}
#: A rider's results (what it is calibrated from), beside its physiology keys
RESULT_KEYS = (*RESULT_BOUNDS, *RESULT_TYPES)


def parse_scenario(data: dict[str, Any], source: str = "<memory>") -> Scenario:
    """Validate a scenario table (as read from TOML) and build the :class:`Scenario`.

    A ``base`` key is resolved among the shipped scenarios (``load_scenario`` also looks beside
    the file)."""
    src = source
    data = _with_base(data, src, None)
    for k in data:
        if k not in TOP_KEYS and k not in EXTRA_KEYS:
            raise unknown_key(src, k, k, [*TOP_KEYS, *EXTRA_KEYS])
    if "name" not in data:
        raise fail(src, "name", "missing key")
    if not isinstance(data["name"], str) or not data["name"].strip():
        raise fail(src, "name", "must be a non-empty string")
    top = check_fields(src, "", {k: data[k] for k in TOP_BOUNDS if k in data}, TOP_BOUNDS)
    if "laps" in data and (isinstance(data["laps"], bool) or not isinstance(data["laps"], int)):
        raise fail(src, "laps", f"must be an integer, got {data['laps']!r}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise fail(src, "seed", f"must be an integer from 0 to 2**63 - 1, got {seed!r}")
    track = Track(
        **check_fields(src, "track", check_table(src, "track", data.get("track", {})), TRACK_BOUNDS)
    )
    derny = Derny(
        **check_fields(src, "derny", check_table(src, "derny", data.get("derny", {})), DERNY_BOUNDS)
    )
    laps = int(top.get("laps", 6))
    race_m = laps * track.lap_m
    check_course(src, track, derny, laps)
    rdef_raw = dict(check_table(src, "rider_defaults", data.get("rider_defaults", {})))
    rres = check_fields(
        src,
        "rider_defaults",
        {k: rdef_raw.pop(k) for k in list(rdef_raw) if k in RESULT_BOUNDS or k in RESULT_TYPES},
        RESULT_BOUNDS,
        RESULT_TYPES,
    )
    rdef = check_fields(src, "rider_defaults", rdef_raw, RIDER_BOUNDS, also=RESULT_KEYS)
    tdef = check_fields(
        src,
        "tactic_defaults",
        check_table(src, "tactic_defaults", data.get("tactic_defaults", {})),
        TACTIC_BOUNDS,
        TACTIC_TYPES,
    )
    riders_raw = data.get("riders")
    if riders_raw is None:
        raise fail(src, "riders", "missing key (give 2 to 9 [[riders]] tables)")
    if not isinstance(riders_raw, list):
        raise fail(src, "riders", "must be an array of tables ([[riders]])")
    if not 2 <= len(riders_raw) <= 9:
        raise fail(src, "riders", f"a keirin has 2 to 9 riders, got {len(riders_raw)}")
    entries = []
    seen: dict[str, str] = {}
    for n, raw in enumerate(riders_raw):
        pre = f"riders[{n}]"
        raw = dict(check_table(src, pre, raw))
        if "name" not in raw:
            raise fail(src, f"{pre}.name", "missing key")
        name = check_name(src, f"{pre}.name", raw.pop("name"), seen)
        tac_raw = check_table(src, f"{pre}.tactic", raw.pop("tactic", {}))
        results = check_fields(
            src, pre, {k: raw.pop(k) for k in list(raw) if k in RESULT_BOUNDS or k in RESULT_TYPES},
            RESULT_BOUNDS, RESULT_TYPES,
        )  # fmt: skip
        own = check_fields(src, pre, raw, RIDER_BOUNDS, also=[*RESULT_KEYS, "name", "tactic"])
        rider = _rider_from(
            src, pre, name, {**rdef, **own}, {**rres, **results}, set(own), set(results)
        )
        tvals = {**tdef, **check_fields(src, f"{pre}.tactic", tac_raw, TACTIC_BOUNDS, TACTIC_TYPES)}
        tac = Tactic(**tvals)
        check_entry(src, pre, rider, tac, race_m)
        entries.append(Entry(rider, tac))
    names = [e.rider.name for e in entries]
    attacker = data.get("attacker")
    if attacker is not None:
        if not isinstance(attacker, str):
            raise fail(src, "attacker", f"must be a rider name, got {attacker!r}")
        attacker = attacker.strip()
        if attacker not in names:
            near = [m for m in names if m.casefold() == attacker.casefold()]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise fail(src, "attacker", f"{attacker!r} is not one of the riders{hint}")
    reference = check_reference(src, data.get("reference", {}), names)
    rho = float(top.get("air_density", AIR_DENSITY))
    if "conditions" in data:
        cond = check_fields(
            src, "conditions", check_table(src, "conditions", data["conditions"]), CONDITIONS_BOUNDS
        )
        if "air_density" in top:
            raise fail(src, "conditions", "give air_density or [conditions], not both")
        rho = air_density_from(**cond)
    extra = {k: data[k] for k in EXTRA_KEYS if k in data}
    if "variants" in extra:  # a rider not in the race fails on load, whatever the command
        check_variants(src, extra["variants"], names)
    sc = Scenario(
        name=data["name"],
        riders=tuple(entries),
        track=track,
        derny=derny,
        laps=laps,
        air_density=rho,
        lane_m=float(top.get("lane_m", LANE_M)),
        dt_s=float(top.get("dt_s", DT_S)),
        attacker=attacker,
        seed=seed,
        reference=dict(reference),
        extra=extra,
        source=src,
    )
    if "uncertainty" in extra:  # validated with the rest: nominal values, bounds, spreads
        parse_uncertainty(sc)
    return sc


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and validate a scenario file; ``None`` loads the shipped Tokyo 2020 final, and the
    bare name of a shipped scenario (``"early_vs_late.toml"``) works from any folder."""
    data, src, folder = _read_toml(path)
    return parse_scenario(_with_base(data, src, folder), src)


def shipped_dir() -> Traversable:
    """Where the shipped scenarios are: the installed package ``keirin_sim.scenarios`` (a
    wheel puts the top-level ``scenarios/`` there), or ``scenarios/`` beside the package in a
    plain checkout (``PYTHONPATH=.``)."""
    beside = Path(__file__).resolve().parents[2] / "scenarios"
    try:
        return resources.files("keirin_sim.scenarios")
    except ModuleNotFoundError:
        return beside


def shipped_scenarios() -> list[str]:
    """Names of the scenario files shipped inside the package."""
    root = shipped_dir()
    return sorted(p.name for p in root.iterdir() if p.name.endswith(".toml"))


def _rider_from(
    src: str,
    pre: str,
    name: str,
    vals: dict[str, Any],
    results: dict[str, Any],
    own: set[str],
    own_results: set[str],
) -> Rider:
    """A rider from its table: hand-set physiology as given, or, with ``flying_200_s``, the
    physiology calibrated from its results (calibration.py), with its own ``mass_kg`` and gear
    (``development_m``) if given; ``crr`` and ``efficiency`` given beside them are kept.  A
    rider given neither a time nor any physiology is the default elite rider of its ``sex``
    (calibrated from its profile's flying 200 m)."""
    t200 = vals.get("flying_200_s")
    sex = results.get("sex", "men")
    if sex not in SEXES:
        where = pre if "sex" in own_results else "rider_defaults"
        raise fail(src, f"{where}.sex", f"must be one of {', '.join(SEXES)}, got {sex!r}")
    if (
        t200 is None
        and "kilo_s" not in results
        and "times_air_density" not in results
        and not any(k in vals for k in CALIBRATED_FIELDS)
    ):
        # nothing published and nothing set by hand: the default elite rider of its sex
        t200 = vals["flying_200_s"] = PROFILES[sex].flying_200_s
    if t200 is None:
        for k in ("kilo_s", "times_air_density"):  # (a sex alone is harmless beside
            if k in results:  # hand-set physiology)
                where = pre if k in own_results else "rider_defaults"
                raise fail(src, f"{where}.{k}", "needs flying_200_s beside it")
        if sex == "men":
            return Rider(name=name, **vals)  # Rider's defaults are the default elite man
        # what is not given by hand comes from the default elite rider of the file's sex
        # (her drag area, gear, mass and physiology), not from the man's Rider defaults
        base = default_rider(sex, name)
        return replace(base, flying_200_s=None, source="hand-set", **vals)
    for k in CALIBRATED_FIELDS:
        if k in vals:
            where = pre if k in own else "rider_defaults"
            raise fail(
                src, f"{where}.{k}", "is calibrated from flying_200_s: give one or the other"
            )
    try:
        cal = calibrate(
            float(t200),
            results.get("kilo_s"),
            vals.get("mass_kg"),
            sex,
            development_m=vals.get("development_m"),
            air_density=results.get("times_air_density", SEA_LEVEL_AIR_DENSITY),
        )
    except CalibrationError as exc:
        raise fail(src, f"{pre}.flying_200_s", str(exc)) from None
    keep = {k: vals[k] for k in ("crr", "efficiency") if k in vals}
    return replace(cal.rider, name=name, **keep)


def _read_toml(path: str | Path | None) -> tuple[dict[str, Any], str, Path | None]:
    """(table, name for messages, folder for relative ``base`` paths) of a scenario file."""
    if path is None or (not Path(path).exists() and str(path) in shipped_scenarios()):
        name = DEFAULT_SCENARIO if path is None else str(path)
        ref = shipped_dir().joinpath(name)
        text = ref.read_text(encoding="utf-8-sig")
        src, folder = name, None
    else:
        p = Path(path)
        src, folder = str(path), p.parent
        if p.is_dir():
            raise ScenarioError(f"{src}: is a directory, not a scenario file")
        if not p.is_file():
            raise ScenarioError(f"{src}: file not found")
        try:
            raw = p.read_bytes()
        except OSError as e:
            raise ScenarioError(f"{src}: cannot read: {' '.join(str(e).split())}") from None
        try:
            text = raw.decode("utf-8-sig")  # a leading byte-order mark is dropped
        except UnicodeDecodeError as e:
            raise ScenarioError(
                f"{src}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start});"
                " save the file as UTF-8"
            ) from None
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
        raise fail(src, "base", f"must be a scenario file name, got {base!r}")
    if depth > 8:
        raise fail(src, "base", "chain of base scenarios is too deep (a cycle?)")
    cand = (folder / base) if folder is not None else None
    if cand is not None and cand.is_file():
        bdata, bsrc, bfolder = _read_toml(cand)
    elif base in shipped_scenarios():
        ref = shipped_dir().joinpath(base)
        bdata, bsrc, bfolder = tomllib.loads(ref.read_text(encoding="utf-8-sig")), base, None
    else:
        raise fail(src, "base", f"{base!r} not found beside the file or among shipped scenarios")
    merged = dict(_with_base(bdata, bsrc, bfolder, depth + 1))
    for k, v in data.items():
        if k == "base":
            continue
        if isinstance(v, dict) and isinstance(merged.get(k), dict):
            merged[k] = {**merged[k], **v}
        else:
            merged[k] = v
    return merged
