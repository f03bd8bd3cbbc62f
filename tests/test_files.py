"""Writing a file atomically: the whole file or nothing, and a one-line error."""

from __future__ import annotations

import os

import pytest

from keirin_sim.files import OutputError, write_atomically, write_text_atomically


def test_text_lands_whole_with_no_temporary_file_left(tmp_path):
    out = write_text_atomically(tmp_path / "a.txt", "hello\n")
    assert out.read_text() == "hello\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain open() would


def test_a_failing_writer_leaves_the_old_file_untouched_and_no_temporary(tmp_path):
    target = tmp_path / "chart.png"
    target.write_text("old")

    def broken(tmp: str) -> None:
        with open(tmp, "w") as fh:
            fh.write("half")
        raise KeyboardInterrupt  # Ctrl-C half way

    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, broken)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.png"]


def test_the_temporary_file_keeps_the_extension_for_format_by_extension_writers(tmp_path):
    seen = []
    write_atomically(tmp_path / "rows.parquet", lambda tmp: (seen.append(tmp), open(tmp, "w")))
    assert seen[0].endswith(".parquet") and os.path.dirname(seen[0]) == str(tmp_path)


def test_an_unwritable_place_is_one_line_naming_the_file_and_key(tmp_path):
    with pytest.raises(OutputError) as e:
        write_text_atomically(tmp_path / "missing" / "x.json", "{}")
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(str(tmp_path / "missing" / "x.json") + ": output:")
    assert "cannot write" in msg
