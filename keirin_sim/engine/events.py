"""TODO docstring."""

from __future__ import annotations

import simpy


class Waiter:
    """The callback :func:`first_of` leaves on each event it waits for; once its ``out`` has
    fired it waits for nothing (race.py's ``forget`` looks for events only such waiters hold)."""

    __slots__ = ("out",)

    def __init__(self, out: simpy.Event):
        self.out = out

    def __call__(self, ev: simpy.Event) -> None:
        if not self.out.triggered:
            self.out.succeed(ev)


def first_of(env: simpy.Environment, events: list[simpy.Event]) -> simpy.Event:
    """An event that fires with the first of ``events`` to fire (a light ``AnyOf``: the
    tactics only ask *whether* something happened, via each event's ``triggered``)."""
    out = env.event()
    fire = Waiter(out)
    for ev in events:
        if ev.callbacks is None:  # already processed
            fire(ev)
            break
        ev.callbacks.append(fire)
    return out
