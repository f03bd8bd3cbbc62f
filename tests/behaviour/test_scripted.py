"""Decision policies as SimPy processes."""

from __future__ import annotations

import pytest
import simpy

from keirin_sim import load_scenario, simulate
from keirin_sim.engine.events import first_of
from keirin_sim.model.tactic import KINDS, Tactic


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
    from keirin_sim.model.tactic import ignores

    assert ignores("attack", "launch_m_to_go") and ignores("attack", "hesitation_s")
    assert ignores("follow", "attack_m_to_go") and ignores("late_sprint", "cruise_kmh")
    assert not ignores("hesitate_chase", "launch_m_to_go")
    assert not ignores("attack", "attack_m_to_go")
    for kind in ("follow", "late_sprint", "attack", "hesitate_chase"):
        assert not ignores(kind, "follow_gap_m") and not ignores(kind, "move_up_m_to_go")


#: A changed value, inside its bounds, for every field only some kinds read.
CHANGED = {
    "launch_m_to_go": 350.0,
    "launch_on_wprime": True,
    "wprime_factor": 0.5,
    "attack_m_to_go": 600.0,
    "hesitation_s": 3.0,
    "gap_trigger_m": 30.0,
    "role": "chase",
    "chase_effort": 0.6,
    "cruise_kmh": 40.0,
    "launch_spread_m": 0.0,
    "reaction_s": 1.5,
    "takes_front": 1.0,
    "windup_kmh": 60.0,
    "windup_pace": 0.9,
    "tow_gap_m": 60.0,
    "jump_gap_m": 3.0,
    "sit_off_m": 120.0,
    "kick_share": 1.0,
    "kick_m_to_go": 100.0,
    "high_share": 1.0,
    "high_m": 2.0,
}


def _all_riders(sc, **changes):
    for name in sc.names:
        sc = sc.with_tactic(name, **changes)
    return sc


@pytest.mark.parametrize("kind", KINDS)
def test_a_field_a_kind_is_said_to_ignore_changes_nothing(kind):
    """``ignores`` is what a sweep's "changes nothing" note and the docs rest on: every field it
    says a kind ignores leaves a race of riders of that kind exactly as it was."""
    from keirin_sim.model.tactic import SPECIFIC, ignores

    assert set(CHANGED) == set(SPECIFIC)
    base = _all_riders(load_scenario(), kind=kind)
    want = simulate(base, traces=False).finish_times
    ignored = [f for f in CHANGED if ignores(kind, f)]
    assert ignored
    for f in ignored:
        got = simulate(_all_riders(base, **{f: CHANGED[f]}), traces=False).finish_times
        assert got == want, f


def test_the_general_behaviour_reads_the_gap_that_counts_as_gone_clear():
    """``gap_trigger_m`` is the least gap the waiting game lets an attacker open (racing.py)."""
    from keirin_sim.model.tactic import ignores

    assert not ignores("race", "gap_trigger_m") and ignores("race", "launch_on_wprime")
    sc = load_scenario()
    later = sc.set_param("field.gap_trigger_m", 40.0)
    assert simulate(later, traces=False).finish_times != simulate(sc, traces=False).finish_times
