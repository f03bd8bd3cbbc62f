"""TODO docstring."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("race", "follow", "late_sprint", "attack", "hesitate_chase")


ROLES = ("chase", "wheel")


_LAUNCH = frozenset({"launch_m_to_go", "launch_on_wprime", "wprime_factor"})


_HESITATE = frozenset({"hesitation_s", "gap_trigger_m", "role", "chase_effort", "cruise_kmh"})


_STYLE = frozenset(
    {"launch_spread_m", "reaction_s", "takes_front", "windup_kmh", "windup_pace", "tow_gap_m"}
)


#: What the general behaviour reads besides its style: it launches at its point (never on W'),
#: and an attacker must be clear by at least ``gap_trigger_m`` before anyone chases
#: (behaviour/general.py).
_RACE = _STYLE | {"launch_m_to_go", "hesitation_s", "cruise_kmh", "chase_effort", "gap_trigger_m"}


#: The tactic fields only some kinds read (the others - wheel gap, tempo, moving up, letting a
#: gap open - every kind reads).
KIND_FIELDS: dict[str, frozenset[str]] = {
    "race": _RACE,
    "follow": _LAUNCH,
    "late_sprint": _LAUNCH,
    "attack": frozenset({"attack_m_to_go"}),
    "hesitate_chase": _LAUNCH | _HESITATE,
}


_SPECIFIC = frozenset().union(*KIND_FIELDS.values())


def ignores(kind: str, field: str) -> bool:
    """Whether a tactic of ``kind`` never reads ``field`` (an attack has no launch point, a
    follower no hesitation...)."""
    return field in _SPECIFIC and field not in KIND_FIELDS.get(kind, _SPECIFIC)


@dataclass(frozen=True)
class Tactic:
    """A rider's plan.  Distances are metres to go; speeds km/h; times seconds.

    Defaults are calibration choices (tactics are not published quantities): a 200 m launch is
    the classic final-sprint distance (the keirin's timed last 200 m), a 0.3 m wheel gap is
    wheel-to-wheel riding, a 5 m gap is when a rival is said to have gone clear.  ``tempo_kmh``
    is the pace a rider with no wheel to follow keeps once the derny has left (its final 50 km/h
    by default); ``cruise_kmh`` is how slowly a hesitating rider soft-pedals.
    """

    kind: str = "race"
    launch_m_to_go: float | None = 200.0
    launch_on_wprime: bool = False
    wprime_factor: float = 1.0
    attack_m_to_go: float | None = None
    hesitation_s: float | None = None
    gap_trigger_m: float = 5.0
    role: str = "wheel"
    chase_effort: float = 1.0
    cruise_kmh: float = 48.0
    tempo_kmh: float = 50.0
    follow_gap_m: float = 0.3
    move_up_m_to_go: float | None = None
    move_up_kmh: float = 5.0
    let_gap_m: float | None = None
    let_gap_at_m_to_go: float | None = None
    # the style of the general behaviour (kind "race"; racing.py, docs/racing.md)
    launch_spread_m: float = 100.0
    reaction_s: float = 0.4
    takes_front: float = 0.3
    windup_kmh: float = 66.0
    windup_pace: float = 0.4
    tow_gap_m: float = 20.0
