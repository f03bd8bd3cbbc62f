"""Running the command line in a test: shared by the tests of every command."""

from __future__ import annotations

from importlib import resources

from keirin_sim import cli


def shipped_text(name: str) -> str:
    """The text of a shipped scenario file (to build a bad one on)."""
    return resources.files("keirin_sim.scenarios").joinpath(name).read_text(encoding="utf-8")


def run_cli(capsys, *argv: object) -> tuple[int, str, str]:
    """``keirin-sim ARGV...`` in this process: (exit status, stdout, stderr)."""
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, out: str, err: str, *needles: str) -> None:
    """Bad input: exit 2, one line on stderr naming what is wrong, no traceback."""
    assert rc == 2, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])
