"""What the engine reads of a race to run.  A :class:`keirin_sim.Scenario` is one; the engine
depends on this shape only, not on how a scenario is written or checked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from keirin_sim.model.derny import Derny
from keirin_sim.model.rider import Rider
from keirin_sim.model.tactic import Tactic
from keirin_sim.model.track import Track


class EntrySpec(Protocol):
    """A rider in the race with its tactic."""

    @property
    def rider(self) -> Rider: ...
    @property
    def tactic(self) -> Tactic: ...


class RaceSpec(Protocol):
    """A race to run: its riders, the track and derny, the air, the kernel step and the
    race's own random seed."""

    @property
    def name(self) -> str: ...
    @property
    def riders(self) -> Sequence[EntrySpec]: ...
    @property
    def track(self) -> Track: ...
    @property
    def derny(self) -> Derny: ...
    @property
    def laps(self) -> Any: ...
    @property
    def race_m(self) -> float: ...
    @property
    def air_density(self) -> float: ...
    @property
    def lane_m(self) -> float: ...
    @property
    def dt_s(self) -> float: ...
    @property
    def attacker(self) -> str | None: ...
    @property
    def seed(self) -> int: ...
