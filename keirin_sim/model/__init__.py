"""The race's parts as plain data and physics: the riders' physiology
(:mod:`.rider`), the track's geometry (:mod:`.track`), the pacer (:mod:`.derny`), drafting
(:mod:`.aero`), air density (:mod:`.air`) and a rider's plan (:mod:`.tactic`)."""

from __future__ import annotations

from keirin_sim.model.derny import Derny
from keirin_sim.model.rider import Rider
from keirin_sim.model.tactic import Tactic
from keirin_sim.model.track import Track

__all__ = ["Derny", "Rider", "Tactic", "Track"]
