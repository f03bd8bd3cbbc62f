"""The README's Python examples run as written, and where the README shows what an example
prints (a ```text block right after it, introduced by "prints"), the output must match, the way
SimPy's documentation checks its examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "README.md").read_text()
BLOCKS = [
    (m.group(1), m.group(2))
    for m in re.finditer(
        r"```python\n(.*?)```(?:\s*\nprints\s*\n\s*```text\n(.*?)```)?", TEXT, re.S
    )
]


def test_readme_has_checked_examples():
    assert len(BLOCKS) >= 3
    assert sum(expected is not None for _, expected in BLOCKS) >= 2


@pytest.mark.parametrize("k", range(len(BLOCKS)))
def test_readme_example(k, monkeypatch, capsys):
    code, expected = BLOCKS[k]
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"README.md python block {k + 1}", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert out.strip(), "each example prints what it shows"
    if expected is not None:
        assert out.strip() == expected.strip()
