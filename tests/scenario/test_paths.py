"""The one grammar of ranges and grid points that ``compare --sweep``, ``catch
--hesitation``, ``sweep --param`` and a ``[sweep]`` section share."""

from __future__ import annotations

import pytest
from cli_helpers import run_cli

from keirin_sim.scenario.paths import RangeError, parse_grid, parse_range, parse_values

GRID = [0.5 * k for k in range(31)]  # 0 to 15 s, the catch's default hesitations


def test_range_includes_stop_either_direction():
    assert parse_range("0:15:0.5") == GRID
    assert len(parse_range("750:150:25")) == 25
    assert parse_range("750:150:25")[-1] == 150.0
    assert parse_range("3") == [3.0]
    assert parse_range("0:1:0.3") == [0.0, 0.3, 0.6, 0.9]
    assert parse_range("1,2.5") == [1.0, 2.5]


@pytest.mark.parametrize("text", ["0:15", "a:b:c", "0:15:0", "0:15:-1", "1:2:3:4", "nan", "x"])
def test_range_rejects_bad_text_in_one_line(text):
    with pytest.raises(RangeError) as e:
        parse_range(text, "--hesitation")
    msg = str(e.value)
    assert msg.startswith("--hesitation: ") and "\n" not in msg


def test_a_two_part_range_says_what_is_missing():
    with pytest.raises(
        RangeError, match="is a range of 2 parts: write START:STOP:STEP, the step too"
    ):
        parse_values("0:15", "--param: x")


def test_grid_points_read_ranges_the_same_way():
    path, v = parse_grid("Jason Kenny.launch_m_to_go=150:750:50")
    assert path == "Jason Kenny.launch_m_to_go"
    assert v == list(range(150, 751, 50))
    assert parse_grid("x=750:150:50")[1] == list(range(750, 149, -50))  # as compare --sweep
    assert parse_grid("field.hesitation_s=0:1:0.25")[1] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parse_grid("field.hesitation_s=0:1:0.3")[1] == [0.0, 0.3, 0.6, 0.9]
    assert parse_grid("air_density=1.15,1.2")[1] == [1.15, 1.2]
    assert parse_grid("Jason Kenny.kind=attack,follow")[1] == ["attack", "follow"]
    assert parse_grid(("x", [1, 2])) == ("x", [1, 2])
    for bad in ("Jason Kenny.launch_m_to_go", "x=0:1:0", "=1,2", "x=a:b:c", "x=", "x=1:2"):
        with pytest.raises(RangeError):
            parse_grid(bad)


def test_too_many_values_are_refused():
    with pytest.raises(RangeError, match="at most 10,000"):
        parse_range("0:1000:0.01")


def test_the_commands_accept_the_same_descending_range(capsys):
    """``compare --sweep 750:150:50`` and ``sweep --param ...=750:150:50`` read one grammar."""
    rc, _, err = run_cli(capsys, "sweep", "--param", "field.hesitation_s=8:0:4", "--runs", "0")
    assert "STOP >= START" not in err  # the range is read; only --runs is refused
    assert rc == 2 and "--runs" in err
