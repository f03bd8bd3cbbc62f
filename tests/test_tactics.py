"""Decision policies as SimPy processes."""

from __future__ import annotations

import simpy

from keirin_sim import simulate
from keirin_sim.tactics import KINDS, Tactic, first_of


def test_first_of_fires_once_with_the_first_event():
    env = simpy.Environment()
    a, b = env.timeout(2.0, "a"), env.timeout(1.0, "b")
    got = []

    def proc():
        ev = yield first_of(env, [a, b])
        got.append((env.now, ev.value))

    env.process(proc())
    env.run()
    assert got == [(1.0, "b")]


def test_first_of_an_already_processed_event():
    env = simpy.Environment()
    done = env.timeout(0.0, "x")
    env.run()
    out = first_of(env, [done, env.timeout(5.0)])
    env.run(until=out)
    assert env.now == 0.0 and out.value is done


def test_every_kind_runs_a_race(tokyo):
    for kind in KINDS:
        sc = tokyo.with_tactic("Jason Kenny", kind=kind, attack_m_to_go=None)
        r = simulate(sc, traces=False)
        assert "Jason Kenny" in r.finish_order
        kinds = {e.kind for e in r.events if e.rider == "Jason Kenny"}
        if kind == "attack":
            assert "attack" in kinds
        else:
            assert "attack" not in kinds


def test_defaults_are_the_documented_ones():
    t = Tactic()
    assert t.kind == "race" and t.launch_m_to_go == 200.0 and t.follow_gap_m == 0.3
    assert t.tempo_kmh == 50.0  # the derny's final speed


def test_which_kinds_read_which_fields():
    from keirin_sim.tactics import ignores

    assert ignores("attack", "launch_m_to_go") and ignores("attack", "hesitation_s")
    assert ignores("follow", "attack_m_to_go") and ignores("late_sprint", "cruise_kmh")
    assert not ignores("hesitate_chase", "launch_m_to_go")
    assert not ignores("attack", "attack_m_to_go")
    for kind in ("follow", "late_sprint", "attack", "hesitate_chase"):
        assert not ignores(kind, "follow_gap_m") and not ignores(kind, "move_up_m_to_go")
