"""TODO docstring."""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("race", "follow", "late_sprint", "attack", "hesitate_chase")


ROLES = ("chase", "wheel")


_JUMP = frozenset({"jump_gap_m", "sit_off_m"})
_LAUNCH = frozenset({"launch_m_to_go", "launch_on_wprime", "wprime_factor"}) | _JUMP


_HESITATE = frozenset({"hesitation_s", "gap_trigger_m", "role", "chase_effort", "cruise_kmh"})


_STYLE = (
    frozenset(
        {"launch_spread_m", "reaction_s", "takes_front", "windup_kmh", "windup_pace", "tow_gap_m"}
        | {"kick_share", "kick_m_to_go", "high_share", "high_m"}
    )
    | _JUMP
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


SPECIFIC = frozenset().union(*KIND_FIELDS.values())


def ignores(kind: str, field: str) -> bool:
    """Whether a tactic of ``kind`` never reads ``field`` (an attack has no launch point, a
    follower no hesitation...)."""
    return field in SPECIFIC and field not in KIND_FIELDS.get(kind, SPECIFIC)


@dataclass(frozen=True)
class Tactic:
    """A rider's plan.  Distances are metres to go; speeds km/h; times seconds.

    The jump: ``sit_off_m`` before its launch point a rider on a wheel drops back to
    ``jump_gap_m`` (a bike length or two: it builds speed in the slipstream before it swings
    out); a "race" rider is a late kicker with probability ``kick_share`` (launch point about
    ``kick_m_to_go``), and goes ``high_m`` up the banking to watch while it sits off with
    probability ``high_share`` (coming down when it jumps).  Modelling choices (docs/racing.md).

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
    # the jump from the wheel (every kind that launches; the general behaviour draws the gap
    # per race)
    jump_gap_m: float = 1.5
    sit_off_m: float = 120.0
    kick_share: float = 0.1
    kick_m_to_go: float = 120.0
    high_share: float = 0.2
    high_m: float = 1.5
