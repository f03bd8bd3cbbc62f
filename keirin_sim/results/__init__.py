"""What a race produced, as plain data: the :class:`Result` (:mod:`.result`) and how the race
was won (:mod:`.story`)."""

from __future__ import annotations

from keirin_sim.results.result import LapGap, RaceEvent, Result, Traces
from keirin_sim.results.story import RaceStory

__all__ = ["LapGap", "RaceEvent", "RaceStory", "Result", "Traces"]
