"""The checks a scenario gets, in one place: :func:`keirin_sim.scenario.parse_scenario` and
:meth:`keirin_sim.scenario.Scenario.set_param` both call them, so they cannot drift apart.

Every problem is a ``ScenarioError("<file>: <key>: <what is wrong>")`` on one line.  The
cross checks (:func:`check_entry`, :func:`check_course`) take ``path``: ``None`` for a
scenario file (the key is the offending field, ``riders[2].tactic.kind``), or the
``set_param`` path, which is then the key and the message names the field it broke.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from keirin_sim.model.derny import Derny
from keirin_sim.model.rider import MASS_BOUNDS_KG, PMAX_BOUNDS_W, Rider
from keirin_sim.model.tactic import KINDS, ROLES, Tactic
from keirin_sim.model.track import Track
from keirin_sim.results.story import WINNING_MOVES


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message is one line: file, key, problem."""


#: (min, max) of each numeric field of a rider; None = no bound on that side.
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
    "flying_200_s": (8.5, 13.0),
}
#: A rider's published results the loader calibrates its physiology from (calibration.py),
#: besides ``flying_200_s`` (a rider field, so form on the day can be drawn).
#: ``times_air_density``: the air density (kg/m^3) the rider's times were ridden at (default the
#: warm sea-level 1.17 of timetrial.py), for times set at altitude.
RESULT_BOUNDS: dict[str, tuple[float, float]] = {
    "kilo_s": (52.0, 80.0),
    "times_air_density": (0.9, 1.4),
}
RESULT_TYPES: dict[str, type | tuple[type, ...]] = {"sex": str}
#: Physiology a calibrated rider takes from its results: not to be set beside them.
CALIBRATED_FIELDS = ("pmax_w", "cp_w", "w_prime_j", "cda_m2", "cadence_opt_rpm")
#: (min, max) of each numeric field of a tactic.
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
    "launch_spread_m": (0.0, 1000.0),
    "reaction_s": (0.0, 5.0),
    "takes_front": (0.0, 1.0),
    "windup_kmh": (20.0, 80.0),
    "windup_pace": (0.05, 1.0),
    "tow_gap_m": (0.0, 300.0),
    "jump_gap_m": (0.05, 10.0),
    "sit_off_m": (0.0, 500.0),
    "kick_share": (0.0, 1.0),
    "kick_m_to_go": (50.0, 1000.0),
    "high_share": (0.0, 1.0),
    "high_m": (0.0, 5.0),
}
#: The tactic fields that are not numbers, and their types.
TACTIC_TYPES: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "role": str,
    "launch_on_wprime": bool,
}
#: Tactic marks (metres to go) that must lie inside the race.
TACTIC_MARKS = ("launch_m_to_go", "attack_m_to_go", "move_up_m_to_go", "let_gap_at_m_to_go")
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
#: The ``[conditions]`` table: the air density computed from them (:mod:`keirin_sim.model.air`).
CONDITIONS_BOUNDS: dict[str, tuple[float, float]] = {
    "temperature_c": (0.0, 45.0),
    "pressure_hpa": (600.0, 1100.0),
    "altitude_m": (-100.0, 4500.0),
    "relative_humidity": (0.0, 1.0),
}
TOP_BOUNDS = {
    "laps": (1, 20),
    "air_density": (0.9, 1.4),
    "lane_m": (0.0, 3.0),
    "dt_s": (0.001, 0.2),
}
#: Longest rider name: room for any real name, short enough for a chart legend.
NAME_MAX_CHARS = 60
#: Heads of set_param paths that are not rider names (``field.<x>``, ``all.<x>``).
RESERVED_NAMES = ("field", "all")
#: Unicode categories a name may not contain: control, format (bidi overrides, zero-width
#: joiners...), line and paragraph separators.
_BAD_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def fail(src: str, key: str, msg: str) -> ScenarioError:
    return ScenarioError(f"{src}: {key}: {msg}")


def _number(src: str, key: str, val: Any, lo: float, hi: float, integer: bool = False) -> float:
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        kind = "an integer" if integer else "a number"
        raise fail(src, key, f"must be {kind}, got {type(val).__name__} {val!r}")
    if integer and not isinstance(val, int):
        raise fail(src, key, f"must be an integer, got {val!r}")
    if not math.isfinite(val):
        raise fail(src, key, f"must be finite, got {val!r}")
    if val < lo or val > hi:
        raise fail(src, key, f"{val!r} is outside the physical range [{lo:g}, {hi:g}]")
    return val


def check_table(src: str, key: str, val: Any) -> dict[str, Any]:
    if not isinstance(val, dict):
        raise fail(src, key, f"must be a table, got {type(val).__name__}")
    return val


def _typename(t: type | tuple[type, ...]) -> str:
    ts = t if isinstance(t, tuple) else (t,)
    return " or ".join(
        {"str": "a string", "bool": "true or false"}.get(x.__name__, x.__name__) for x in ts
    )


def check_value(
    src: str,
    key: str,
    fld: str,
    val: Any,
    bounds: dict[str, tuple[float, float]],
    other: dict[str, type | tuple[type, ...]] | None = None,
) -> Any:
    """One field's type and bounds (``bounds`` for numbers, ``other`` for typed values);
    the value as given.  The caller has checked that ``fld`` is known."""
    if fld in bounds:
        lo, hi = bounds[fld]
        return _number(src, key, val, lo, hi, integer=isinstance(lo, int) and fld == "laps")
    want = (other or {})[fld]
    types = want if isinstance(want, tuple) else (want,)
    if not isinstance(val, types) or (isinstance(val, bool) and bool not in types):
        raise fail(src, key, f"must be {_typename(want)}, got {val!r}")
    return val


def unknown_key(src: str, key: str, given: str, known: Iterable[str]) -> ScenarioError:
    """``<file>: <key>: unknown key (did you mean 'x'? known: ...)``: every key the table
    takes, and the closest to the one given (difflib)."""
    import difflib

    names = sorted(set(known))
    near = difflib.get_close_matches(given, names, n=1, cutoff=0.6)
    if not near:  # a case slip, or a key with its underscores lost
        fold = {n.casefold().replace("_", ""): n for n in names}
        hit = fold.get(given.casefold().replace("_", ""))
        near = [hit] if hit else []
    hint = f"did you mean {near[0]!r}? " if near else ""
    return fail(src, key, f"unknown key ({hint}known: {', '.join(names)})")


def check_variants(src: str, raw: Any, names: Sequence[str]) -> None:
    """What is wrong with ``[[variants]]`` whatever the command: not tables, a ``rider`` who
    is not in the race, a key no tactic has (the values are checked when the variants are
    raced, keirin_sim.questions.variants)."""
    if not isinstance(raw, list) or not all(isinstance(v, dict) for v in raw):
        raise fail(src, "variants", "must be an array of tables ([[variants]])")
    known = ["name", "rider", *TACTIC_BOUNDS, *TACTIC_TYPES]
    for n, v in enumerate(raw):
        pre = f"variants[{n}]"
        who = v.get("rider")
        if who is not None:
            if not isinstance(who, str):
                raise fail(src, f"{pre}.rider", f"must be a rider name, got {who!r}")
            if who not in names:
                import difflib

                near = difflib.get_close_matches(who, list(names), n=1, cutoff=0.6)
                hint = f"did you mean {near[0]!r}? " if near else ""
                raise fail(
                    src,
                    f"{pre}.rider",
                    f"{who!r} is not one of the riders ({hint}riders: {', '.join(names)})",
                )
        for k in v:
            if k not in known:
                e = unknown_key(src, f"{pre}.{k}", k, known)
                if k in RIDER_BOUNDS:
                    e = ScenarioError(
                        str(e).replace("(", "(a variant changes the tactic only; ", 1)
                    )
                raise e


def check_fields(
    src: str,
    prefix: str,
    table: dict[str, Any],
    bounds: dict[str, tuple[float, float]],
    other: dict[str, type | tuple[type, ...]] | None = None,
    also: Iterable[str] = (),
) -> dict[str, Any]:
    """Check a table's values; an unknown key lists every key the table takes (``bounds``,
    ``other`` and ``also``: keys read elsewhere, such as a rider's ``name`` and ``tactic``)."""
    other = other or {}
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if k not in bounds and k not in other:
            raise unknown_key(src, key, k, [*bounds, *other, *also])
        out[k] = check_value(src, key, k, v, bounds, other)
    return out


# --- cross checks ---------------------------------------------------------------------------
def check_entry(
    src: str, pre: str, rider: Rider, tac: Tactic, race_m: float, path: str | None = None
) -> None:
    """A rider's checks beyond each field's bounds: CP below Pmax, a known kind and role, the
    marks inside the race.  ``pre`` is the file key of the entry (``riders[3]``)."""
    head, _, changed = (path or "").rpartition(".")
    owner = rider.name if head != rider.name else ""

    def bad(fld: str, msg: str) -> ScenarioError:
        if path is None:
            return fail(src, f"{pre}.{fld}", msg)
        short = fld.rpartition(".")[2]
        subject = short if short != changed else ""
        if owner and subject:
            msg = f"{owner}'s {subject} {msg}"
        elif owner:
            msg = f"{msg} for {owner}"
        elif subject:
            msg = f"{subject} {msg}"
        return fail(src, path, msg)

    if rider.cp_w >= rider.pmax_w:
        if changed == "pmax_w":
            raise bad("pmax_w", f"{rider.pmax_w:g} W must be above cp_w {rider.cp_w:g} W")
        raise bad("cp_w", f"{rider.cp_w} W must be below pmax_w {rider.pmax_w} W")
    if tac.kind not in KINDS:
        raise bad("tactic.kind", f"{tac.kind!r} is not one of {', '.join(KINDS)}")
    if tac.role not in ROLES:
        raise bad("tactic.role", f"{tac.role!r} is not one of {', '.join(ROLES)}")
    if not isinstance(tac.launch_on_wprime, bool):
        raise bad("tactic.launch_on_wprime", f"must be true or false, got {tac.launch_on_wprime!r}")
    for k in TACTIC_MARKS:
        val = getattr(tac, k)
        if val is not None and val >= race_m:
            raise bad(f"tactic.{k}", f"{val} m is beyond the {race_m:g} m race")


def check_course(src: str, track: Track, derny: Derny, laps: int, path: str | None = None) -> None:
    """The track and derny checks beyond each field's bounds: the bends fit the lap, the derny
    speeds up, it pulls off inside the race and ends its ramp between start and pull-off."""

    def bad(key: str, msg: str) -> ScenarioError:
        if path is None or path == key:
            return fail(src, key if path is None else path, msg)
        return fail(src, path, f"{key} {msg}")

    if track.straight_m <= 0:
        raise bad(
            "track.bend_radius_m",
            f"{track.bend_radius_m} m bends do not fit a {track.lap_m} m lap",
        )
    race_m = laps * track.lap_m
    if derny.end_kmh < derny.start_kmh:
        raise bad("derny.end_kmh", f"{derny.end_kmh} is below start_kmh {derny.start_kmh}")
    if derny.pull_off_m_to_go >= race_m:
        raise bad(
            "derny.pull_off_m_to_go",
            f"{derny.pull_off_m_to_go} m is not inside the {race_m:g} m race",
        )
    if derny.ramp_end_m_to_go is not None and not (
        derny.pull_off_m_to_go <= derny.ramp_end_m_to_go < race_m
    ):
        raise bad("derny.ramp_end_m_to_go", "must lie between the pull-off and the start")


# --- names ----------------------------------------------------------------------------------
def check_name(src: str, key: str, name: Any, seen: dict[str, str]) -> str:
    """A rider's name, trimmed: a non-empty string of at most ``NAME_MAX_CHARS`` characters,
    with no control, format or line-separator characters and no comma (``--riders`` splits on
    commas), not ``field`` or ``all`` (set_param heads) and not a name in ``seen`` ignoring
    case (``seen`` maps casefolded names to names; this one is added)."""
    if not isinstance(name, str) or not name.strip():
        raise fail(src, key, "must be a non-empty string")
    name = name.strip()
    if len(name) > NAME_MAX_CHARS:
        raise fail(src, key, f"is {len(name)} characters long (at most {NAME_MAX_CHARS})")
    for ch in name:
        cat = unicodedata.category(ch)
        if cat in _BAD_CATEGORIES:
            what = unicodedata.name(ch, "control character")
            raise fail(src, key, f"{name!r} contains U+{ord(ch):04X} ({what.lower()})")
    if "," in name:
        raise fail(src, key, f"{name!r} contains a comma (--riders lists names with commas)")
    if name.casefold() in RESERVED_NAMES:
        raise fail(src, key, f"{name!r} is reserved (set_param paths use field.* and all.*)")
    folded = name.casefold()
    if folded in seen:
        raise fail(src, key, f"duplicate rider name {name!r} (same as {seen[folded]!r})")
    seen[folded] = name
    return name


# --- [reference] ----------------------------------------------------------------------------
def _plain(src: str, key: str, val: Any) -> None:
    """A finite number, string, boolean, or a list or table of those (nested)."""
    if isinstance(val, (bool, str)):
        return
    if isinstance(val, (int, float)):
        if not math.isfinite(val):
            raise fail(src, key, f"must be finite, got {val!r}")
        return
    if isinstance(val, list):
        for i, v in enumerate(val):
            _plain(src, f"{key}[{i}]", v)
        return
    if isinstance(val, dict):
        for k, v in val.items():
            _plain(src, f"{key}.{k}", v)
        return
    raise fail(
        src, key, f"must be a number, string, boolean, list or table, got {type(val).__name__}"
    )


def check_reference(src: str, ref: Any, names: list[str]) -> dict[str, Any]:
    """The ``[reference]`` table (the real result, for checks and charts): its known keys
    checked, the names of ``finish_order`` trimmed; other keys must hold plain finite data."""
    ref = dict(check_table(src, "reference", ref))
    inf = math.inf
    for k, v in ref.items():
        key = f"reference.{k}"
        if k == "finish_order":
            if not isinstance(v, list) or not v:
                raise fail(src, key, "must be a non-empty list of rider names")
            order = []
            for i, n in enumerate(v):
                n = n.strip() if isinstance(n, str) else n
                if n not in names:
                    raise fail(src, f"{key}[{i}]", f"{n!r} is not one of the riders")
                if n in order:
                    raise fail(src, f"{key}[{i}]", f"{n!r} is given twice")
                order.append(n)
            ref[k] = order
        elif k == "winning_margin_s":
            _number(src, key, v, 0.0, inf)
        elif k == "hesitation_s":
            _number(src, key, v, 0.0, 60.0)
        elif k == "winner_last_200m_s":
            _number(src, key, v, 8.0, 20.0)
        elif k == "winning_move":
            if v not in WINNING_MOVES:
                raise fail(src, key, f"{v!r} is not one of {', '.join(WINNING_MOVES)}")
        elif k == "lead_at_two_laps_m":
            if isinstance(v, list):
                if len(v) != 2:
                    raise fail(src, key, f"must be one number or [low, high], got {v!r}")
                lo = _number(src, f"{key}[0]", v[0], -inf, inf)
                hi = _number(src, f"{key}[1]", v[1], -inf, inf)
                if lo > hi:
                    raise fail(src, key, f"low {lo!r} is above high {hi!r}")
            else:
                _number(src, key, v, -inf, inf)
        elif k in ("chase_led_by", "bell_leader", "winner"):
            if not isinstance(v, str) or v.strip() not in names:
                raise fail(src, key, f"{v!r} is not one of the riders")
        elif k == "margins_s":  # the gaps at the line of other riders (facts.py)
            for r, m in check_table(src, key, v).items():
                if r.strip() not in names:
                    raise fail(src, f"{key}.{r}", f"{r!r} is not one of the riders")
                _number(src, f"{key}.{r}", m, 0.0, inf)
        elif k == "tolerance":  # each fact's tolerance for keirin-sim reconstruct (facts.py)
            for f, t in check_table(src, key, v).items():
                if _number(src, f"{key}.{f}", t, 0.0, inf) <= 0.0:
                    raise fail(src, f"{key}.{f}", f"a tolerance must be positive, got {t!r}")
        else:
            _plain(src, key, v)
    return ref
