"""The checks a scenario file and ``set_param`` share: one line naming the file, the key and
what is wrong."""

from __future__ import annotations

import pytest

from keirin_sim.scenario.checks import (
    RIDER_BOUNDS,
    ScenarioError,
    check_name,
    check_value,
    unknown_key,
)


def _one_line(e: pytest.ExceptionInfo, *parts: str) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    for p in parts:
        assert p in msg, (p, msg)
    return msg


def test_a_number_out_of_bounds_names_file_key_and_range():
    lo, hi = RIDER_BOUNDS["pmax_w"]
    assert check_value("race.toml", "riders[0].pmax_w", "pmax_w", lo, RIDER_BOUNDS) == lo
    with pytest.raises(ScenarioError) as e:
        check_value("race.toml", "riders[0].pmax_w", "pmax_w", hi * 10, RIDER_BOUNDS)
    assert _one_line(e, "riders[0].pmax_w").startswith("race.toml: riders[0].pmax_w:")


def test_a_value_of_the_wrong_type_says_what_was_wanted():
    with pytest.raises(ScenarioError) as e:
        check_value("f.toml", "tactic.role", "role", 3, {}, {"role": str})
    _one_line(e, "f.toml: tactic.role:", "got 3")
    with pytest.raises(ScenarioError):  # a bool is not a number
        check_value("f.toml", "riders[0].pmax_w", "pmax_w", True, RIDER_BOUNDS)


def test_an_unknown_key_lists_every_key_and_the_closest():
    e = unknown_key("f.toml", "riders[0].flying200_s", "flying200_s", ["flying_200_s", "sex"])
    msg = str(e)
    assert "did you mean 'flying_200_s'?" in msg and "known: flying_200_s, sex" in msg


@pytest.mark.parametrize(
    ("name", "why"),
    [("", "non-empty"), ("A, B", "comma"), ("field", "reserved"), ("x\u200by", "U+200B")],
)
def test_bad_rider_names_are_refused(name, why):
    with pytest.raises(ScenarioError) as e:
        check_name("f.toml", "riders[0].name", name, {})
    _one_line(e, "riders[0].name", why)


def test_names_are_trimmed_and_unique_ignoring_case():
    seen: dict[str, str] = {}
    assert check_name("f.toml", "riders[0].name", "  Kenny ", seen) == "Kenny"
    with pytest.raises(ScenarioError) as e:
        check_name("f.toml", "riders[1].name", "KENNY", seen)
    _one_line(e, "duplicate rider name 'KENNY'")
