"""Scenario files: load, validate, and fail with one clear line.

A scenario is a TOML file (see scenarios/tokyo2020_mens_final.toml).  Every problem is reported
as ``ScenarioError("<file>: <key>: <what is wrong>")``; the CLI prints that line and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from keirin_sim.calibration import with_form
from keirin_sim.model.derny import Derny
from keirin_sim.model.rider import MASS_BOUNDS_KG as MASS_BOUNDS_KG
from keirin_sim.model.rider import PMAX_BOUNDS_W as PMAX_BOUNDS_W
from keirin_sim.model.rider import Rider
from keirin_sim.model.tactic import KINDS as KINDS
from keirin_sim.model.tactic import ROLES as ROLES
from keirin_sim.model.tactic import Tactic
from keirin_sim.model.track import Track
from keirin_sim.scenario.checks import (
    DERNY_BOUNDS,
    RIDER_BOUNDS,
    TACTIC_BOUNDS,
    TACTIC_TYPES,
    TOP_BOUNDS,
    TRACK_BOUNDS,
    ScenarioError,
    check_course,
    check_entry,
    check_value,
)

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


@dataclass(frozen=True)
class Entry:
    """A rider in a race with its tactic."""

    rider: Rider
    tactic: Tactic


@dataclass(frozen=True)
class Scenario:
    """Everything a race needs.  Build it with :func:`~keirin_sim.scenario.loading.load_scenario` or
    directly."""

    name: str
    riders: tuple[Entry, ...]
    track: Track = field(default_factory=Track)
    derny: Derny = field(default_factory=Derny)
    laps: int = 6
    air_density: float = AIR_DENSITY
    lane_m: float = LANE_M
    dt_s: float = DT_S
    attacker: str | None = None
    #: the race's own random stream (the riders' choices on the day: behaviour/general.py); the
    #: Monte Carlo gives every race its own
    seed: int = 0
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
        """A copy with rider ``name``'s physical parameters changed.  A new ``flying_200_s``
        moves a calibrated rider's physiology with it
        (:func:`~keirin_sim.calibration.with_form`)."""
        i = self.rider_index(name)
        riders = list(self.riders)
        r = riders[i].rider
        t200 = changes.pop("flying_200_s", None)
        if t200 is not None:
            if r.source != "calibrated":
                raise ScenarioError(
                    f"{self.source}: {name}.flying_200_s: {name} has hand-set physiology"
                    " (calibrate it from flying_200_s in the file to change its form)"
                )
            r = with_form(r, float(t200))
        riders[i] = replace(riders[i], rider=replace(r, **changes))
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
            check_value(src, path, fld, value, bounds)
            out = replace(self, **{head: replace(getattr(self, head), **{fld: value})})
            out._check(path, out.names if head == "track" else [])
            return out
        if not head:
            if fld not in TOP_BOUNDS:
                raise ScenarioError(f"{src}: {path}: unknown parameter")
            check_value(src, path, fld, value, TOP_BOUNDS)
            out = replace(self, **{fld: value})
            if fld == "laps":
                out._check(path, out.names)
            return out
        targets = self.param_riders(head)
        if targets is None:
            raise ScenarioError(f"{src}: {path}: {head!r} is not a rider, 'field' or 'all'")
        if fld in RIDER_BOUNDS:
            value = float(check_value(src, path, fld, value, RIDER_BOUNDS))
        elif fld in TACTIC_BOUNDS or fld in TACTIC_TYPES:
            value = check_value(src, path, fld, value, TACTIC_BOUNDS, TACTIC_TYPES)
            value = float(value) if fld in TACTIC_BOUNDS else value
        else:
            raise ScenarioError(f"{src}: {path}: unknown rider or tactic field {fld!r}")
        out = self
        for name in targets:
            if fld in RIDER_BOUNDS:
                out = out.with_rider(name, **{fld: value})
            else:
                out = out.with_tactic(name, **{fld: value})
        out._check(path, targets, course=False)
        return out

    def _check(self, path: str, riders: list[str], course: bool = True) -> None:
        """The cross checks of a scenario file (:func:`~keirin_sim.scenario.checks.check_course`,
        :func:`~keirin_sim.scenario.checks.check_entry`) after ``set_param(path, ...)``: the course
        unless ``course`` is false, and the entries of ``riders``."""
        if course:
            check_course(self.source, self.track, self.derny, self.laps, path)
        for name in riders:
            i = self.rider_index(name)
            e = self.riders[i]
            check_entry(self.source, f"riders[{i}]", e.rider, e.tactic, self.race_m, path)


__all__ = [
    "Entry",
    "Scenario",
    "ScenarioError",
]
