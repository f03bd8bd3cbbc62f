"""What the counterfactuals share: the ``START:STOP:STEP`` ranges the commands sweep, and their
one-line errors."""

from __future__ import annotations

import pytest

from keirin_sim.counterfactual import AnalysisError, parse_range

GRID = [0.5 * k for k in range(31)]  # 0 to 15 s, the catch's default hesitations


# --- parse_range ----------------------------------------------------------------------------
def test_parse_range_includes_stop_either_direction():
    assert parse_range("0:15:0.5") == GRID
    assert len(parse_range("750:150:25")) == 25
    assert parse_range("750:150:25")[-1] == 150.0
    assert parse_range("3") == [3.0]
    assert parse_range("0:1:0.3") == [0.0, 0.3, 0.6, 0.9]


@pytest.mark.parametrize("text", ["0:15", "a:b:c", "0:15:0", "0:15:-1", "1:2:3:4", "nan"])
def test_parse_range_rejects_bad_text_in_one_line(text):
    with pytest.raises(AnalysisError) as e:
        parse_range(text, "--hesitation")
    msg = str(e.value)
    assert msg.startswith("--hesitation: ") and "\n" not in msg
