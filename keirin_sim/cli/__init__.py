"""The ``keirin-sim`` command line.

``keirin-sim run [SCENARIO]`` replays one race and prints the results table, the gaps at the
lap marks and the event log (or one JSON object with ``--json``), and can write the gap chart,
the speed/power chart and the traces.

Each command lives in a module of this package (``run``, ``batch``: mc and sweep,
``analysis``: catch and compare, ``timetrial``: tt and calibrate, ``validate``: the model
against real finals, ``sensitivity``: what an answer hangs on) with an
``add_commands(subparsers)`` that adds its parsers and sets ``func``, a function of the parsed
:class:`argparse.Namespace` returning the exit code.

The project rule for bad input, shared by every command through the helpers here:

- one line on stderr, ``"<file>: <key>: <what is wrong>"`` (:func:`fail`), exit status 2
  (:data:`EXIT_USAGE`), no traceback; a :class:`CliError` raised anywhere below a command's
  ``func`` ends that way, and so does a :class:`~keirin_sim.scenario.ScenarioError`;
- outputs are written to a temporary file in the same directory and renamed on success
  (:func:`write_atomically`), and checked before any work starts (:func:`check_output`), so
  nothing is left half-written;
- Ctrl-C exits 130 (:data:`EXIT_INTERRUPTED`) without a traceback.

Helpers: :func:`error_line` (format the line), :func:`fail` (print it, return 2),
:func:`load_or_fail` (a scenario or a CliError), :func:`check_output` (before the work),
:func:`write_atomically` (the write), :func:`check_riders` / :func:`split_names` (``--riders``
lists), :func:`json_safe` (strict JSON for ``--json``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from keirin_sim.cli import analysis, batch, reconstruct, run, sensitivity, timetrial, validate
from keirin_sim.cli.common import (
    CHART_EXTENSIONS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    CliError,
    Parser,
    check_output,
    check_riders,
    error_line,
    fail,
    json_safe,
    load_or_fail,
    split_names,
)
from keirin_sim.cli.run import format_events, format_lap_gaps, format_result, format_results
from keirin_sim.files import OutputError, write_atomically
from keirin_sim.scenario.scenario import ScenarioError
from keirin_sim.version import __version__

#: The modules of the commands, in the order ``--help`` lists them.
COMMANDS = (run, batch, analysis, sensitivity, timetrial, validate, reconstruct)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command of :data:`COMMANDS`."""
    parser = Parser(prog=PROG, description="Discrete-event keirin race simulator.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for module in COMMANDS:
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``keirin-sim`` command line; returns the exit status."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help, --version
            return _exit_code(e)
        try:
            return int(args.func(args))
        except SystemExit as e:  # a command that exits instead of returning its status
            return _exit_code(e)
    except (CliError, ScenarioError, OutputError) as e:
        return fail(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `keirin-sim run | head`: the reader left; not an error
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # silence the flush at exit
        except (OSError, ValueError):
            pass
        return EXIT_OK


def _exit_code(e: SystemExit) -> int:
    if e.code is None:
        return EXIT_OK
    if isinstance(e.code, int):
        return e.code
    return fail(str(e.code))


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "CHART_EXTENSIONS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "CliError",
    "OutputError",
    "build_parser",
    "check_output",
    "check_riders",
    "error_line",
    "fail",
    "format_events",
    "format_lap_gaps",
    "format_result",
    "format_results",
    "json_safe",
    "load_or_fail",
    "main",
    "split_names",
    "write_atomically",
]
