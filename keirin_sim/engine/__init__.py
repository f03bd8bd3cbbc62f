"""The engine: a SimPy race whose clock and decisions SimPy owns, and a compiled kernel that
integrates the motion between decisions and reports state events.

- :mod:`.kernel`: the numba kernel (one file: its compile cache needs it);
- :mod:`.course`: the kernel's global parameters of a course;
- :mod:`.events`: light SimPy helpers the decisions wait with (:func:`.events.first_of`);
- :mod:`.spec`: what the engine reads of a race to run (:class:`.spec.RaceSpec`);
- :mod:`.controls`: what a rider's decisions may use (:class:`.controls.Controls`);
- :mod:`.race`: the SimPy race, running the policy it is given;
- :mod:`.record`: a finished race as a :class:`~keirin_sim.results.Result`;
- :mod:`.timetrial`: time trials ridden alone in the same kernel.
"""

from __future__ import annotations

from keirin_sim.engine.controls import Controls, Policy
from keirin_sim.engine.race import Outcome, Race, RaceError
from keirin_sim.engine.spec import RaceSpec

__all__ = ["Controls", "Outcome", "Policy", "Race", "RaceError", "RaceSpec"]
