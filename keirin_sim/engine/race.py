"""The SimPy model of a keirin: the derny, the riders' decisions, the finish.

SimPy owns the clock.  Decision processes sleep on events; the *motion* step asks the compiled
kernel (kernel.py) to integrate the riders up to the next scheduled SimPy event, or until a
watched state event (a mark, a gap, a pass) fires first, and then triggers that event.  The
reflexes (steering round a slower wheel, taking a passing wheel, the finish) the kernel carries
out itself and logs; the race notes them after each call.  Between events nothing in Python
runs, which is what makes a race take under a millisecond.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from heapq import heappush
from typing import Any, Literal, NamedTuple, overload

import numpy as np
import simpy
from simpy.events import NORMAL, PENDING, URGENT

from keirin_sim.engine import kernel as K
from keirin_sim.engine.controls import Policy
from keirin_sim.engine.course import BLOCK_M, FOLLOW_RANGE_M, kernel_globals
from keirin_sim.engine.events import Waiter, first_of
from keirin_sim.engine.record import build_result, catch_record
from keirin_sim.engine.spec import RaceSpec
from keirin_sim.model.aero import IN_LINE_M
from keirin_sim.model.derny import BIKE_LENGTH_M, DERNY_LENGTH_M
from keirin_sim.results.result import RaceEvent, Result
from keirin_sim.results.story import RaceStory, last_bend_exit_m, race_story

#: Longest race the engine will integrate before it calls the scenario broken (s).
T_LIMIT_S = 900.0
_MAX_WATCHES = 160
#: Priority of the motion process's wake-up: after every event due at the same instant (SimPy
#: orders events due together by priority, URGENT = 0 and NORMAL = 1 first).
_LATE = NORMAL + 1
# positions of t0, t1 and the number of watches in the kernel's arguments (Race._args)
_A_T0, _A_T1, _A_NW = 5, 6, 9


_COURSES: dict[tuple[Any, ...], tuple[Any, Any, np.ndarray, np.ndarray]] = {}


def _course(sc: RaceSpec, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's global parameters (:func:`kernel_globals`) and the marks it records (every
    lap, 200 m to go, the derny's pull-off, the end of the last bend) for the scenario's track,
    derny and laps: the same for every race of a Monte Carlo batch, so built once (callers copy
    the parameters, the marks are only read).  Keyed by the track and derny objects themselves
    (held, so their ids stay theirs): hashing them costs more."""
    tr, dy = sc.track, sc.derny
    key = (id(tr), id(dy), sc.laps, sc.lane_m, dt)
    hit = _COURSES.get(key)
    if hit is not None and hit[0] is tr and hit[1] is dy:
        return hit[2], hit[3]
    race_m = sc.laps * tr.lap_m
    gp = kernel_globals(tr, race_m, dt, dy, sc.lane_m)
    marks = [k * tr.lap_m for k in range(1, sc.laps)]
    marks.append(race_m - 200.0)
    marks.append(race_m - dy.pull_off_m_to_go)
    marks.append(last_bend_exit_m(tr, race_m))  # how the race was won (moves.py)
    uniq: list[float] = []
    for m in sorted(marks):
        if 0 < m < race_m and not (uniq and m - uniq[-1] < 1e-6):
            uniq.append(m)
    if len(_COURSES) > 64:
        _COURSES.clear()
    marks_a = np.array(uniq)
    _COURSES[key] = (tr, dy, gp, marks_a)
    return gp, marks_a


class RaceError(RuntimeError):
    """The race could not be run to the finish (for example a rider that never finishes)."""


class _Task:
    """A generator of SimPy events driven as a SimPy process drives it, for less: it resumes in
    the callback of each event it yields (at once if that event was already processed) and
    ``done``, if there is one, succeeds when it returns.  Without a ``simpy.Process`` there is
    no termination event to schedule and process for every decision process of a race."""

    __slots__ = ("gen", "done")

    def __init__(self, gen: Generator[simpy.Event, Any, None], done: simpy.Event | None):
        self.gen = gen
        self.done = done

    def __call__(self, ev: simpy.Event) -> None:
        send = self.gen.send
        try:
            nxt = send(ev._value)
            while nxt.callbacks is None:  # already processed: carry on, as a process does
                nxt = send(nxt._value)
        except StopIteration:
            if self.done is not None:
                self.done.succeed()
            return
        nxt.callbacks.append(self)


class _Go:
    """Stands for the event that starts a decision process: it carries no value."""

    _value = None


_GO: Any = _Go()


class Race:
    """One race: the SimPy environment, the rider state arrays, and the decision API the
    tactics use (``mark``, ``breakaway``, ``launch``, ...).  ``keep_log=False`` keeps no event
    log (the Monte Carlo's races, which only need the finish and the catch)."""

    def __init__(
        self,
        scenario: RaceSpec,
        policy: Policy,
        traces: bool = True,
        dt: float | None = None,
        keep_log: bool = True,
    ):
        self.scenario = sc = scenario
        self.env = simpy.Environment()
        n = len(sc.riders)
        self.n = n
        self.names = [r.rider.name for r in sc.riders]
        tr = sc.track
        self.race_m = sc.laps * tr.lap_m
        self.dt = float(dt if dt is not None else sc.dt_s)
        self.bike_length = BIKE_LENGTH_M
        gp, marks = _course(sc, self.dt)
        self.gp = gp.copy()
        self.gp[K.GP_RHO] = sc.air_density
        self.gp[K.GP_ATTACKER] = -1 if sc.attacker is None else self.names.index(sc.attacker)
        self.marks = marks
        # rider parameters, state and controls, a row per rider (columns as kernel.PR_*,
        # kernel.S*, kernel.CT_*); riders start in line behind the derny, a wheel gap apart
        v0 = sc.derny.start_kmh / 3.6
        lane = sc.lane_m
        pr_rows = []
        s_rows = []
        c_rows = []
        x = -DERNY_LENGTH_M
        for entry in sc.riders:
            r = entry.rider
            tac = entry.tactic
            pr_rows.append(
                [
                    r.effective_mass,
                    r.mass_kg,
                    r.cda_m2,
                    r.crr,
                    r.efficiency,
                    r.development_m,
                    r.pmax_w,
                    r.cadence_opt_rpm,
                    r.cp_w,
                    r.w_prime_j,
                    lane,
                ]
            )
            gap = tac.follow_gap_m
            x -= gap
            s_rows.append([x, v0, r.w_prime_j, lane, 0.0, 0.0, 0.0])
            x -= BIKE_LENGTH_M
            c_rows.append([K.MODE_FOLLOW, 0.0, 1e9, gap, lane, -1, tac.tempo_kmh / 3.6, 1.0])
        self.PR = np.array(pr_rows, dtype=float).reshape(n, K.NPARAM)
        self.S = np.array(s_rows, dtype=float).reshape(n, K.NSTATE)
        self.C = np.array(c_rows, dtype=float).reshape(n, K.NCTRL)
        self.D = np.array([0.0, 1.0])
        # records kept by the kernel
        nm = len(marks)
        self.lapt = np.empty((n, nm))
        self.lapt.fill(np.nan)
        self.lapx = np.empty((nm, n))
        self.lapx.fill(np.nan)
        self.stats = np.zeros((n, 2))
        self.catch = np.array([np.nan, np.nan, -1.0, 0.0])
        #: the reflexes the kernel carried out since it was last called (see kernel.reflex)
        self.rlog = np.zeros((max(64, n), K.NRL))
        cap = int(T_LIMIT_S / self.dt) + 1000 if traces else 0
        self.tr_t = np.zeros(cap)
        self.tr = np.zeros((cap, n, 6))
        self.tr_n = np.zeros(1, dtype=np.int64)
        self.traces_on = traces
        # watches: kind, a, b, active, reflex / value / the SimPy event each one triggers
        self.WK = np.zeros((_MAX_WATCHES, K.NWK), dtype=np.int64)
        self._wkm = memoryview(self.WK).cast("B").cast("q")
        self.WV = np.zeros(_MAX_WATCHES)
        self._wev: list[simpy.Event | None] = []  # None: a reflex
        self._nw = 0
        self._cache: dict[tuple, simpy.Event] = {}
        #: each watch's event -> its row and cache key (for forget)
        self._keys: dict[simpy.Event, tuple[int, tuple]] = {}
        #: the kernel's proposed step, carried between its calls, and its counters (steps,
        #: rejected steps, located state events, calls; see ``kernel.HS_*``)
        self.kstats = np.zeros(K.NHS)
        self.kstats[K.HS_H] = self.dt
        self.finish_t = [math.nan] * n
        self.finish_w = [math.nan] * n
        self.finished = 0
        self.keep_log = keep_log
        self._log: list[tuple[float, int | None, str, str, Any]] = []
        self._launched = [False] * n
        self._steering: set[int] = set()
        self._hesitating: set[int] = set()
        self._high: set[int] = set()  # riders watching from up the banking
        self._sitting_off: dict[int, float] = {}  # riders sitting off to jump: their gap
        self._armed: set[tuple[int, int]] = set()
        self._tasks: list[_Task] = []
        self.chase_started = self.env.event()
        self.derny_off = self.env.event()
        #: succeeds (with the rider) at the next launch, attack or chase; then renewed
        self.next_launch = self.env.event()
        #: the riders who launched, attacked or chased, in that order
        self.launches: list[int] = []
        self._places: list[int] | None = None  # places(), until the kernel moves the riders
        #: the race's own random stream: the riders' choices on the day (behaviour/general.py)
        self.rng = random.Random(sc.seed)
        for i in range(n):  # the finish: a reflex of the kernel's (see kernel.reflex)
            self._reflex_watch(K.W_RIDER_MARK, i, -1, self.race_m, K.RX_FINISH)
        off = self._watch(K.W_DERNY_MARK, -1, -1, self.race_m - sc.derny.pull_off_m_to_go)
        off.callbacks.append(self._pull_off)
        self._starting = True
        for i, entry in enumerate(sc.riders):
            tac = entry.tactic
            self.spawn(policy(self, i, tac))
        self._starting = False
        self._t = 0.0
        # the kernel's arguments; _motion fills in t0, t1 and the number of watches
        self._args: list[Any] = [
            self.S,
            self.D,
            self.PR,
            self.C,
            self.gp,
            0.0,
            0.0,
            self.WK,
            self.WV,
            0,
            self.marks,
            self.lapt,
            self.lapx,
            self.stats,
            self.catch,
            self.rlog,
            self.tr_t,
            self.tr,
            self.tr_n,
            self.kstats,
        ]
        #: succeeds once every rider has finished
        self.done = self.env.event()
        self._wake(URGENT, 0.0)  # after the tactics' first steps, as a process would start

    @overload
    def spawn(self, gen: Generator[simpy.Event, Any, None]) -> None: ...
    @overload
    def spawn(self, gen: Generator[simpy.Event, Any, None], wait: Literal[True]) -> simpy.Event: ...

    def spawn(self, gen: Generator[simpy.Event, Any, None], wait: bool = False) -> Any:
        """Start the decision process ``gen`` as ``env.process`` would: from an urgent event due
        now, so it runs after the callbacks under way and before anything else due now.  With
        ``wait`` the returned event succeeds when ``gen`` returns, as a process's own does."""
        env = self.env
        task = _Task(gen, simpy.Event(env) if wait else None)
        self._tasks.append(task)
        if self._starting:
            # while the race is set up nothing runs yet: start it here, in the order of the
            # start events it would otherwise have (before the motion's first call)
            task(_GO)
            return task.done
        start = simpy.Event(env)
        start._ok = True
        start._value = None
        start.callbacks.append(task)
        env.schedule(start, URGENT)
        return task.done

    # --- watches -----------------------------------------------------------------------
    def _row(
        self, kind: int, a: int, b: int, val: float, reflex: int, ev: simpy.Event | None
    ) -> None:
        """Append a watch row (``kernel.WK_KIND`` .. ``WK_REFLEX`` and its value) and the event
        it triggers, if any.  Written through a flat view of ``WK``: numpy's item assignment
        costs several times as much."""
        k = self._nw
        if k >= _MAX_WATCHES:
            raise RaceError("too many pending decisions in one race")
        self._nw = k + 1
        wk = self._wkm
        r = k * K.NWK
        wk[r] = kind
        wk[r + 1] = a
        wk[r + 2] = b
        wk[r + 3] = 1
        wk[r + 4] = reflex
        self.WV[k] = val
        self._wev.append(ev)

    def _reflex_watch(self, kind: int, a: int, b: int, val: float, reflex: int) -> None:
        """A watch the kernel carries out itself where it fires (``kernel.reflex``): no event."""
        self._row(kind, a, b, val, reflex, None)

    def _watch(self, kind: int, a: int, b: int, val: float, fresh: bool = False) -> simpy.Event:
        """The event of a watched state quantity (``kernel.watch_value``) crossing zero: the
        same event for the same watch unless ``fresh`` (then a new one, the caller's own)."""
        key = (kind, a, b, val)
        if not fresh:
            ev = self._cache.get(key)
            if ev is not None:
                return ev
        ev = simpy.Event(self.env)
        self._keys[ev] = (self._nw, key)
        self._row(kind, a, b, val, K.RX_NONE, ev)
        if not fresh:  # a fresh watch is its caller's own: nobody else is given it
            self._cache[key] = ev
        return ev

    def forget(self, *events: simpy.Event | None) -> None:
        """Stop watching the state events among ``events`` that nobody waits for any more (only
        spent :func:`first_of` waiters left on them): the kernel would stop for them for
        nothing.  A later request for the same watch gets a new one."""
        for ev in events:
            kk = self._keys.get(ev) if ev is not None else None
            if kk is None or ev.callbacks is None:
                continue
            if all(type(cb) is Waiter and cb.out.triggered for cb in ev.callbacks):
                k, key = kk
                self._wkm[k * K.NWK + K.WK_ACTIVE] = 0
                if self._cache.get(key) is ev:
                    del self._cache[key]
                del self._keys[ev]

    def mark(self, i: int, m_to_go: float) -> simpy.Event:
        """Event: rider ``i`` reaches ``m_to_go`` metres to go."""
        return self._watch(K.W_RIDER_MARK, i, -1, self.race_m - m_to_go)

    def breakaway(self, gap_m: float, fresh: bool = False) -> simpy.Event:
        """Event, after the derny has left: the leader is ``gap_m`` clear of the next rider.
        Its value is the leader's index.  ``fresh``: a watch of the caller's own (one it may
        :meth:`forget` without taking it from another process)."""
        return self._watch(K.W_BREAK, -1, -1, gap_m, fresh)

    def passed(self, a: int, b: int, margin_m: float) -> simpy.Event:
        """Event: rider ``a``'s front wheel is ``margin_m`` ahead of rider ``b``'s."""
        return self._watch(K.W_PASS, a, b, margin_m)

    def sprint_ready(self, i: int, factor: float = 1.0) -> simpy.Event:
        """Event: rider ``i``'s W' allows an all-out effort to the line (scaled by ``factor``)."""
        return self._watch(K.W_SPRINT_READY, i, -1, factor)

    # --- decisions ---------------------------------------------------------------------
    def log(
        self, i: int | None, kind: str, fmt: str = "", value: Any = None, t: float | None = None
    ) -> None:
        """Note an event of rider ``i`` (None: the race) at ``t`` (default now); its detail is
        ``fmt.format(value)``, formatted only when :attr:`events` is read (a plain float
        formats in half the time of a numpy scalar)."""
        if self.keep_log:
            self._log.append((self.env.now if t is None else t, i, kind, fmt, value))

    @property
    def events(self) -> list[RaceEvent]:
        """The event log so far (times rounded to the microsecond)."""
        names = self.names
        rounded: dict[float, float] = {}  # events come in bursts at one instant: round once
        out = []
        for t, i, kind, fmt, value in self._log:
            rt = rounded.get(t)
            if rt is None:
                rt = rounded[t] = round(t, 6)
            out.append(RaceEvent(rt, "" if i is None else names[i], kind, fmt.format(value)))
        return out

    def launched(self, i: int) -> bool:
        return self._launched[i]

    def launch(self, i: int, effort: float, kind: str) -> None:
        """Rider ``i`` goes all out (``effort`` of available power) until the line."""
        if self.C[i, K.CT_MODE] == K.MODE_DONE or self._launched[i]:
            return
        self._launched[i] = True
        self._hesitating.discard(i)
        self.C[i, K.CT_GAPDES] = self.scenario.riders[i].tactic.follow_gap_m
        self.C[i, K.CT_MODE] = K.MODE_EFFORT
        self.C[i, K.CT_EFFORT] = effort
        self.C[i, K.CT_TARGET] = -1
        self._come_down(i)
        self.log(i, kind, "{:.0f} m to go", self.race_m - self.S.item(i, K.SX))
        self._go_round(i)
        self._announce(i)

    def _announce(self, i: int) -> None:
        """Tell the riders waiting on :attr:`next_launch` that rider ``i`` has gone."""
        self.launches.append(i)
        ev = self.next_launch
        self.next_launch = self.env.event()
        ev.succeed(i)

    def _go_round(self, i: int) -> None:
        """Rider ``i`` has gone on an effort: watch for it closing on a slower wheel, and let
        every rider ahead of it that is still following jump on its wheel as it comes past."""
        if i not in self._steering:
            # the steering reflex: a control law of the kernel's, switched where its watch
            # fires (see kernel.reflex); it needs no decision, so no SimPy process
            self._steering.add(i)
            self._reflex_watch(K.W_BLOCKED, i, -1, BLOCK_M, K.RX_STEER)
        x = self.S[:, K.SX].tolist()
        xi = x[i]
        mask = 0
        for j in range(self.n):
            if j != i and x[j] > xi and not self._launched[j] and (i, j) not in self._armed:
                self._armed.add((i, j))
                mask |= 1 << j
        self._arm_passes(i, mask)

    def _arm_passes(self, i: int, mask: int) -> None:
        """One watch for rider ``i`` coming past any rider of ``mask`` (a bit per rider): each
        one still following as it is passed takes its wheel, a reflex of the kernel's."""
        if mask:
            self._reflex_watch(K.W_PASSES, i, mask, 0.0, K.RX_JUMP)

    def hesitate(self, i: int, cruise_kmh: float) -> None:
        """Rider ``i`` lets the wheel go and rides at ``cruise_kmh`` at most."""
        self.C[i, K.CT_VCAP] = cruise_kmh / 3.6
        self._hesitating.add(i)
        self.log(i, "hesitate", "{:.0f} km/h", cruise_kmh)

    def nearest_chaser_ahead(self, i: int) -> int | None:
        """The nearest rider ahead of ``i`` that is not hesitating (on an effort or on a wheel)."""
        x = self.S[:, K.SX]
        ahead = [
            j
            for j in range(self.n)
            if j != i
            and x[j] > x[i]
            and self.C[j, K.CT_MODE] != K.MODE_DONE
            and j not in self._hesitating
        ]
        return min(ahead, key=lambda j: x[j]) if ahead else None

    def chase(self, i: int, effort: float) -> None:
        """Rider ``i`` starts the chase; the others may take its wheel."""
        self.C[i, K.CT_GAPDES] = self.scenario.riders[i].tactic.follow_gap_m
        self.C[i, K.CT_MODE] = K.MODE_EFFORT
        self.C[i, K.CT_EFFORT] = effort
        self.C[i, K.CT_TARGET] = -1
        self._hesitating.discard(i)
        self._come_down(i)
        self.log(i, "chase", "{:.0f} m to go", self.race_m - self.S.item(i, K.SX))
        self._go_round(i)
        self._announce(i)
        if not self.chase_started.triggered:
            self.chase_started.succeed(i)

    def following(self, i: int) -> int | None:
        """The rider whose wheel rider ``i`` has taken, if any."""
        j = int(self.C[i, K.CT_TARGET])
        return j if j >= 0 else None

    def take_wheel(self, i: int, j: int) -> None:
        """Rider ``i`` follows rider ``j`` at any speed."""
        self.C[i, K.CT_VCAP] = 1e9
        self.C[i, K.CT_TARGET] = j
        self._hesitating.discard(i)
        self.log(i, "take_wheel", "{}", self.names[j])

    def pace(self, i: int, kmh: float, share: float) -> None:
        """Rider ``i``, when it finds itself at the front with no wheel to follow, winds the
        speed up towards ``kmh`` spending at most ``share`` of its available power."""
        self.C[i, K.CT_VFREE] = kmh / 3.6
        self.C[i, K.CT_PACE] = share

    def speed_kmh(self, i: int) -> float:
        return self.S.item(i, K.SV) * 3.6

    def m_to_go(self, i: int) -> float:
        return self.race_m - self.S.item(i, K.SX)

    def places(self) -> list[int]:
        """The riders still racing, first on the road first (the state only moves in the
        kernel, so the order is kept until its next call; do not change the list)."""
        p = self._places
        if p is None:
            x = self.S[:, K.SX].tolist()
            mode = self.C[:, K.CT_MODE].tolist()
            p = sorted(range(self.n), key=x.__getitem__, reverse=True)
            if K.MODE_DONE in mode:
                p = [j for j in p if mode[j] != K.MODE_DONE]
            self._places = p
        return p

    def position(self, i: int) -> float:
        """Rider ``i``'s distance covered (m)."""
        return self.S.item(i, K.SX)

    def on_wheel(self, i: int) -> bool:
        """Whether rider ``i`` follows a wheel: not on an effort, a rider just ahead in its
        line, within the follow range."""
        if self.C.item(i, K.CT_MODE) != K.MODE_FOLLOW:
            return False
        x = self.S[:, K.SX].tolist()
        lane = self.S[:, K.SLANE].tolist()
        reach = FOLLOW_RANGE_M + self.bike_length
        return any(
            j != i and 0.0 < x[j] - x[i] < reach and abs(lane[j] - lane[i]) < IN_LINE_M
            for j in range(self.n)
        )

    def finished_rider(self, i: int) -> bool:
        return self.C.item(i, K.CT_MODE) == K.MODE_DONE

    def anyone_on_effort(self) -> bool:
        """Whether a rider still racing is on an effort (an attack, a chase, a sprint)."""
        mode = self.C[:, K.CT_MODE].tolist()
        return any(m == K.MODE_EFFORT for m in mode)

    def places_behind_chase_front(self, i: int) -> int:
        """How many places rider ``i`` rides behind the front of the chase (the second rider
        on the road): 0 for that rider itself."""
        return max(self.places().index(i) - 1, 0)

    def nearest_chaser(self, i: int) -> bool:
        """Whether rider ``i`` is the nearest behind the leader on the road."""
        p = self.places()
        return len(p) > 1 and p[1] == i

    def _unbox(self, i: int, rival: int) -> Generator[Any, Any, None]:
        """Rider ``i`` was boxed by ``rival`` alongside: the box opens when either is a bike
        length clear of the other; then it goes again."""
        b = self.bike_length
        yield first_of(
            self.env,
            [self._watch(K.W_PASS, rival, i, b, True), self._watch(K.W_PASS, i, rival, b, True)],
        )
        if self.C[i, K.CT_MODE] == K.MODE_DONE:
            return
        self.C[i, K.CT_MODE] = K.MODE_EFFORT
        self.C[i, K.CT_TARGET] = -1
        self._steering.discard(i)
        self.log(i, "unboxed", "{:.0f} m to go", self.m_to_go(i))
        self._go_round(i)

    def hesitating(self, i: int) -> bool:
        return i in self._hesitating

    def rider_ahead(self, i: int) -> int | None:
        """The nearest rider ahead of ``i`` on the road, still racing."""
        p = self.places()
        k = p.index(i) if i in p else 0
        return p[k - 1] if k > 0 else None

    def wheel_gap(self, j: int, i: int) -> float:
        """Daylight (m) between rider ``j``'s back wheel and rider ``i``'s front wheel."""
        return self.S.item(j, K.SX) - self.S.item(i, K.SX) - self.bike_length

    def sit_on(self, i: int, j: int) -> None:
        """Rider ``i``, on an effort, eases onto rider ``j``'s wheel and follows it."""
        if self.C.item(i, K.CT_MODE) == K.MODE_DONE:
            return
        self.C[i, K.CT_MODE] = K.MODE_FOLLOW
        self.C[i, K.CT_VCAP] = 1e9
        self.C[i, K.CT_TARGET] = j
        self.C[i, K.CT_PACE] = 1.0
        self._steering.discard(i)  # its steering watch ends: a new effort arms another
        self.log(i, "take_wheel", "{}", self.names[j])

    def release_wheel(self, i: int) -> None:
        """Rider ``i`` no longer holds one rider's wheel: it follows its line again."""
        if self.C.item(i, K.CT_MODE) == K.MODE_FOLLOW:
            self.C[i, K.CT_TARGET] = -1

    def sit_off(self, i: int, gap_m: float) -> None:
        """Rider ``i`` drops back to a wheel gap of ``gap_m`` to jump from there."""
        self.C[i, K.CT_GAPDES] = gap_m
        self._sitting_off[i] = gap_m
        self.log(i, "sit_off", "{:.1f} m", gap_m)

    def sitting_off(self, i: int) -> float:
        """The gap (m) rider ``i`` sits off its wheel to jump from (0: it does not)."""
        return self._sitting_off.get(i, 0.0)

    def set_gap(self, i: int, gap_m: float) -> None:
        self.C[i, K.CT_GAPDES] = gap_m
        self.log(i, "set_gap", "{:.1f} m", gap_m)

    def _come_down(self, i: int) -> None:
        """A rider going from up the banking comes down to its line, gaining the height
        (banking.py)."""
        if i in self._high:
            self._high.discard(i)
            self.C[i, K.CT_LANE_TGT] = self.PR.item(i, K.PR_LANE0)

    def go_high(self, i: int, up_m: float) -> None:
        """Rider ``i`` rides ``up_m`` up the banking, still on its wheel, to watch (it comes
        down when it launches)."""
        self._high.add(i)
        self.C[i, K.CT_LANE_TGT] = self.PR.item(i, K.PR_LANE0) + up_m
        self.log(i, "go_high", "{:.1f} m", up_m)

    def group_front(self, i: int) -> int | None:
        """The front rider of the line rider ``i`` rides in (the derny does not count)."""
        x = self.S[:, K.SX]
        ahead = [j for j in range(self.n) if x[j] > x[i] and self.C[j, K.CT_MODE] != K.MODE_DONE]
        if not ahead:
            return None
        ahead.sort(key=lambda j: x[j])
        front = ahead[0]
        for j in ahead[1:]:
            if x[j] - x[front] > BIKE_LENGTH_M + FOLLOW_RANGE_M:
                break
            front = j
        return front

    def move_out(self, i: int, extra_kmh: float) -> None:
        """Swing out a lane and ride ``extra_kmh`` faster than now, past the line."""
        self.C[i, K.CT_LANE_TGT] = self.scenario.lane_m + 2.0 * IN_LINE_M
        self.C[i, K.CT_VFREE] = self.S[i, K.SV] + extra_kmh / 3.6
        self.C[i, K.CT_VCAP] = 1e9
        self.C[i, K.CT_TARGET] = -1
        self.log(i, "move_up", "{:.0f} m to go", self.race_m - self.S.item(i, K.SX))

    def move_in(self, i: int) -> None:
        self.C[i, K.CT_LANE_TGT] = self.scenario.lane_m
        self.C[i, K.CT_VFREE] = self.scenario.riders[i].tactic.tempo_kmh / 3.6
        self.log(i, "move_in")

    # --- processes ---------------------------------------------------------------------
    def _pull_off(self, _ev: simpy.Event) -> None:
        """The derny has reached its pull-off mark: it leaves the track."""
        self.D[K.D_ACTIVE] = 0.0
        self.log(None, "derny_off", "{:.0f} m to go", self.scenario.derny.pull_off_m_to_go)
        self.derny_off.succeed()

    def _fire(self, k: int) -> None:
        """Trigger watch ``k``'s event now and run its callbacks at once: the kernel stopped
        at the first thing that happens, so nothing else is due before them (processing the
        event through the queue would run the same callbacks in the same order)."""
        self._wkm[k * K.NWK + K.WK_ACTIVE] = 0
        ev = self._wev[k]
        value: Any = None
        if self._wkm[k * K.NWK + K.WK_KIND] == K.W_BREAK:
            x = np.where(self.C[:, K.CT_MODE] != K.MODE_DONE, self.S[:, K.SX], -np.inf)
            value = int(np.argmax(x))
            self.log(value, "gap_opened", "{:.0f} m", self.WV.item(k))
        if ev._value is not PENDING:
            return
        ev._ok = True
        ev._value = value
        callbacks, ev.callbacks = ev.callbacks, None
        for cb in callbacks:
            cb(ev)

    def _motion(self, _ev: simpy.Event) -> None:
        """Move everyone up to the next thing that happens: the next scheduled SimPy event or
        the first state event the kernel finds on the way, which it then triggers.  Called back
        by its own wake-up event (no SimPy process: one less generator to resume per call)."""
        if self.finished >= self.n:
            self.done.succeed()
            return
        env = self.env
        args = self._args
        args[_A_T0] = self._t
        t1 = env.peek()
        args[_A_T1] = t1 if t1 < T_LIMIT_S else T_LIMIT_S
        args[_A_NW] = self._nw
        t, k = K.advance(*args)
        self._t = t
        self._places = None
        if self.kstats.item(K.HS_RLOG):
            self._reflexes()
        if k < 0 and t >= T_LIMIT_S:
            raise RaceError(f"race not finished after {T_LIMIT_S:.0f} s")
        # SimPy's clock to the kernel's: nothing is scheduled before t
        env._now = t
        if k >= 0:
            if self._wkm[k * K.NWK + K.WK_REFLEX]:
                # the reflex log was full (it has been read above): carry the reflex out here
                S, D, C, PR, gp, WK, WV = self.S, self.D, self.C, self.PR, self.gp, self.WK, self.WV
                if not K.reflex(k, t, S, D, C, PR, gp, WK, WV, self.rlog, self.kstats):
                    raise RaceError("the reflex log cannot hold one reflex")  # pragma: no cover
                self._reflexes()
            else:
                self._fire(k)
        # resume at t once everything else due then (every reaction to the fired event, the
        # events scheduled for t) has run: one kernel call per instant at which something
        # happens.  The wake-up event is the one that called us, used again.
        wake = self._wake_ev
        wake.callbacks = [self._motion]
        heappush(env._queue, (t, _LATE, next(env._eid), wake))

    def _reflexes(self) -> None:
        """Take note of the reflexes the kernel carried out (finishes, wheels taken, swings),
        in order, and empty its log."""
        hs = self.kstats
        n = int(hs.item(K.HS_RLOG))
        hs[K.HS_RLOG] = 0
        names = self.names
        for t, code, a, b, value in self.rlog[:n].tolist():
            i = int(a)
            if code == K.RX_FINISH:
                self.finish_t[i] = t
                self.finish_w[i] = value
                self.finished += 1
                self.log(i, "finish", "{:.3f} s", t, t)
            elif code == K.RX_JUMP:
                self._hesitating.discard(i)
                self.log(i, "take_wheel", "{}", names[int(b)], t)
            elif code == K.RX_BOXED:
                self.log(i, "boxed", "by {}", names[int(b)], t)
                self.spawn(self._unbox(i, int(b)))
            else:
                self.log(i, "go_round", "{}", names[int(b)], t)

    def _wake(self, priority: int, delay: float) -> None:
        wake = self._wake_ev = simpy.Event(self.env)
        wake._ok = True
        wake._value = None
        wake.callbacks.append(self._motion)
        self.env.schedule(wake, priority, delay)

    def _run(self) -> None:
        """Run the race to the last finisher, then let its SimPy objects go."""
        try:
            self.env.run(until=self.done)
        finally:
            self._release()

    def _release(self) -> None:
        """Close the decision processes still waiting (a launch that never came...), and
        drop the pending watches' callbacks and what is still scheduled.  They hold the race in
        reference cycles: without this every race would leave some 200 objects to Python's
        cyclic garbage collector, which then costs the Monte Carlo about 5 % of its time.  The
        race's state and records are kept."""
        for task in self._tasks:
            task.gen.close()
        for ev in self._wev:
            if ev is not None and ev.callbacks:
                ev.callbacks.clear()
        self.env._queue.clear()

    def run(self) -> Result:
        """Run the race to the last finisher and gather the result."""
        self._run()
        return build_result(self)

    def run_outcome(self) -> Outcome:
        """Run the race to the last finisher and keep only its :class:`Outcome`."""
        self._run()
        return Outcome(self.finish_t, catch_record(self), self.story())

    def story(self) -> RaceStory:
        """How the race was won (:mod:`keirin_sim.results.story`), from the kernel's mark
        crossing times."""
        sc = self.scenario
        return race_story(
            self.names,
            self.marks.tolist(),
            self.lapt.tolist(),
            self.finish_t,
            self.race_m,
            sc.track.lap_m,
            last_bend_exit_m(sc.track, self.race_m),
        )


class Outcome(NamedTuple):
    """What the Monte Carlo keeps of a race: every rider's finish time (s), in the scenario's
    order, the attacker's catch as in :attr:`Result.catch`, and how the race was won."""

    finish_times: list[float]
    catch: dict[str, Any] | None
    story: RaceStory
