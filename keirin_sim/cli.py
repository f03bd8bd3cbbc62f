"""The ``keirin-sim`` command line.

``keirin-sim run [SCENARIO]`` replays one race and prints the results table, the gaps at the
lap marks and the event log (or one JSON object with ``--json``), and can write the gap chart,
the speed/power chart and the traces.

Other modules add subcommands: every module named in :data:`COMMAND_MODULES` that imports and
has ``add_commands(subparsers)`` is asked to add its parsers; each sets
``set_defaults(func=...)`` with a function that takes the parsed :class:`argparse.Namespace`
and returns the exit code.  A module that fails to import is skipped: ``run`` always works.

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
import importlib
import json
import math
import os
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # pragma: no cover
    from .results import Result
    from .scenario import Scenario

PROG = "keirin-sim"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: Modules that may add subcommands (see the module docstring).
COMMAND_MODULES: tuple[str, ...] = ("keirin_sim.analysis", "keirin_sim.montecarlo")
#: Optional command modules that were skipped, with the reason (filled by build_parser).
SKIPPED: dict[str, str] = {}
#: Output formats of the charts, by extension.
CHART_EXTENSIONS = (".png", ".svg", ".pdf")
#: Range accepted for ``--dt`` (s); the same as a scenario's ``dt_s``.
DT_RANGE_S = (0.001, 0.2)


# --- helpers for every command -------------------------------------------------------------
class CliError(Exception):
    """Bad input found by a command.  The message is the one line printed on stderr:
    ``"<file>: <key>: <what is wrong>"`` (see :func:`error_line`)."""


class OutputError(CliError, OSError):
    """An output file that cannot be written (raised by :func:`write_atomically`); both a
    :class:`CliError` (one line, exit 2) and an :class:`OSError` for library callers."""


def error_line(where: str | os.PathLike[str], key: str, problem: str) -> str:
    """The project's one-line error: ``"<file>: <key>: <problem>"`` (newlines folded)."""
    return " ".join(f"{os.fspath(where)}: {key}: {problem}".split())


def fail(msg: str) -> int:
    """Print ``msg`` as one line on stderr and return :data:`EXIT_USAGE` (2).

    Use as ``return fail(error_line(path, key, problem))`` in a command's ``func``."""
    print(" ".join(str(msg).split()), file=sys.stderr)
    return EXIT_USAGE


def load_or_fail(path: str | os.PathLike[str] | None) -> Scenario:
    """:func:`~keirin_sim.scenario.load_scenario` (``None`` = the shipped Tokyo final) that
    turns a :class:`~keirin_sim.scenario.ScenarioError` into a :class:`CliError` carrying the
    same one-line message."""
    from .scenario import ScenarioError, load_scenario

    try:
        return load_scenario(None if path is None else os.fspath(path))
    except ScenarioError as e:
        raise CliError(str(e)) from None


def check_output(
    path: str | os.PathLike[str], option: str, extensions: Sequence[str] | None = None
) -> Path:
    """Check, before any work, that ``path`` can be written: a known extension (when
    ``extensions`` is given), an existing writable directory, not a directory itself.
    Raises :class:`CliError` ``"<path>: <option>: <problem>"``; returns the path."""
    p = Path(path)
    if extensions is not None and p.suffix.lower() not in extensions:
        have = f"extension {p.suffix!r}" if p.suffix else "no extension"
        raise CliError(error_line(p, option, f"{have}: use {', '.join(extensions)}"))
    if p.is_dir():
        raise CliError(error_line(p, option, "is a directory"))
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise CliError(error_line(p, option, f"{os.fspath(parent)!r} {what}"))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CliError(error_line(p, option, f"directory {os.fspath(parent)!r} is not writable"))
    if p.exists() and not os.access(p, os.W_OK):
        raise CliError(error_line(p, option, "file is not writable"))
    return p


def write_atomically(
    path: str | os.PathLike[str], writer: Callable[[str], Any], key: str = "output"
) -> Path:
    """Call ``writer(tmp)`` to write a temporary file next to ``path`` (same extension, so
    format-by-extension writers work), then rename it onto ``path``.  On any error, Ctrl-C
    included, the temporary file is removed and ``path`` is untouched.  An ``OSError`` becomes
    an :class:`OutputError` naming the file."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".tmp{p.suffix}", dir=parent)
    except OSError as e:
        raise OutputError(error_line(p, key, f"cannot write: {e.strerror or e}")) from None
    os.close(fd)
    try:
        writer(tmp)
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except OSError as e:
        raise OutputError(error_line(p, key, f"cannot write: {e.strerror or e}")) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def check_riders(names: Iterable[str], known: Sequence[str], source: str, key: str) -> list[str]:
    """Every name in ``names`` must be one of ``known``; :class:`CliError`
    ``"<source>: <key>: no rider named 'X' (riders: ...)"`` otherwise."""
    out = list(names)
    for r in out:
        if r not in known:
            raise CliError(
                error_line(source, key, f"no rider named {r!r} (riders: {', '.join(known)})")
            )
    return out


def json_safe(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by ``None`` (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def split_names(text: str) -> list[str]:
    """``"A, B,C"`` -> ``["A", "B", "C"]`` (rider lists on the command line)."""
    return [s.strip() for s in text.split(",") if s.strip()]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``keirin-sim run: --dt: ...``) raised as CliError."""

    def error(self, message: str) -> NoReturn:
        msg = message
        unrecognized = "unrecognized arguments: "
        required = "the following arguments are required: "
        if msg.startswith("argument "):
            head, sep, rest = msg[len("argument ") :].partition(": ")
            msg = f"{head.split('/')[-1]}: {rest}" if sep else msg
        elif msg.startswith(unrecognized):
            msg = f"{msg[len(unrecognized) :]}: unrecognized argument"
        elif msg.startswith(required):
            msg = f"{msg[len(required) :]}: missing"
            if "COMMAND" in msg:
                msg += f" (commands: {', '.join(self._commands())})"
        if msg.startswith("COMMAND: invalid choice") and SKIPPED:
            msg += "; not loaded: " + "; ".join(f"{k} ({v})" for k, v in SKIPPED.items())
        raise CliError(f"{self.prog}: {msg}")

    def _commands(self) -> list[str]:
        for a in self._actions:
            if isinstance(a, argparse._SubParsersAction):
                return list(a.choices)
        return []


def dt_value(text: str) -> float:
    """argparse type: a kernel reference step (s) inside the range a scenario's dt_s allows."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    lo, hi = DT_RANGE_S
    if not (math.isfinite(v) and lo <= v <= hi):
        raise argparse.ArgumentTypeError(f"{text} is outside [{lo:g}, {hi:g}] s")
    return v


def add_scenario_argument(
    p: argparse.ArgumentParser, default: str = "the shipped Tokyo 2020 men's final"
) -> None:
    """The optional SCENARIO positional every command takes."""
    p.add_argument(
        "scenario", nargs="?", metavar="SCENARIO", help=f"scenario TOML file (default: {default})"
    )


# --- keirin-sim run --------------------------------------------------------------------------
def add_run_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="replay one race and print the results",
        description="Replay one race: results table, gaps at the lap marks, event log.",
    )
    add_scenario_argument(p)
    p.add_argument("--plot", metavar="FILE", help="write the gap chart (.png, .svg or .pdf)")
    p.add_argument(
        "--gap-units",
        choices=("m", "s"),
        default="m",
        help="units of the gap chart: metres (m, default) or seconds (s)",
    )
    p.add_argument(
        "--speed-plot",
        metavar="FILE",
        help="write the speed/power/W' chart for --riders (default: the first three)",
    )
    p.add_argument(
        "--riders",
        metavar="NAMES",
        help="comma-separated riders to draw in the charts (default: all in the gap chart)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.add_argument(
        "--traces-csv", metavar="FILE", help="write the traces (every --dt seconds) as CSV"
    )
    p.add_argument(
        "--dt",
        type=dt_value,
        metavar="S",
        help="kernel reference step in seconds (tolerances and trace interval)",
    )
    p.add_argument(
        "--mc-seed",
        type=nonneg_int,
        metavar="S",
        help="with --mc-run: replay one run of a `keirin-sim mc --seed S` batch",
    )
    p.add_argument(
        "--mc-run", type=nonneg_int, metavar="I", help="the run index to replay (with --mc-seed)"
    )
    p.set_defaults(func=cmd_run)


def nonneg_int(text: str) -> int:
    """argparse type: a whole number of 0 or more."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {v}")
    return v


def cmd_run(args: argparse.Namespace) -> int:
    """``keirin-sim run``."""
    plot = check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None
    speed = (
        check_output(args.speed_plot, "--speed-plot", CHART_EXTENSIONS) if args.speed_plot else None
    )
    csv = check_output(args.traces_csv, "--traces-csv", (".csv",)) if args.traces_csv else None
    outs = [o for o in (plot, speed, csv) if o is not None]
    if len({o.resolve() for o in outs}) < len(outs):
        raise CliError(error_line(outs[-1], "output", "the same file is given twice"))
    scenario = load_or_fail(args.scenario)
    if (args.mc_seed is None) != (args.mc_run is None):
        given = "--mc-seed" if args.mc_seed is not None else "--mc-run"
        other = "--mc-run" if given == "--mc-seed" else "--mc-seed"
        raise CliError(error_line("keirin-sim run", given, f"needs {other} as well"))
    if args.mc_seed is not None:
        from .montecarlo import sample_run

        try:
            scenario = sample_run(scenario, args.mc_seed, args.mc_run)
        except ValueError as e:  # ScenarioError, BatchError: already one line
            raise CliError(str(e)) from None
    riders = None
    if args.riders is not None:
        riders = (
            check_riders(split_names(args.riders), scenario.names, scenario.source, "--riders")
            or None
        )
    from .race import RaceError, simulate

    need_traces = bool(plot or speed or csv)
    try:
        result = simulate(scenario, traces=need_traces, dt=args.dt)
    except RaceError as e:
        raise CliError(error_line(scenario.source, "race", str(e))) from None
    written = []
    if plot or speed:
        from . import plots

        if plot:
            fig = plots.gap_over_laps(result, units=args.gap_units, riders=riders)
            plots.save(fig, plot)
            written.append(plot)
        if speed:
            plots.save(plots.speed_power(result, riders=riders), speed)
            written.append(speed)
    if csv:
        assert result.traces is not None
        write_atomically(csv, result.traces.to_csv, "--traces-csv")
        written.append(csv)
    if args.json:
        print(json.dumps(json_safe(result.to_dict()), indent=2, allow_nan=False))
    else:
        print(format_result(result))
        for w in written:
            print(f"wrote {w}")
    return EXIT_OK


# --- text output ---------------------------------------------------------------------------
def _table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[bool]) -> str:
    rows = [list(r) for r in rows]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def _num(v: float, fmt: str) -> str:
    return "-" if v is None or not math.isfinite(v) else format(v, fmt)


def format_results(result: Result) -> str:
    """The results table: position, rider, time, margin, last 200 m, top speed, peak power."""
    rows = []
    for k, r in enumerate(result.finish_order):
        rows.append(
            [
                str(k + 1),
                r,
                _num(result.finish_times[r], ".3f"),
                "" if k == 0 else "+" + _num(result.margins[r], ".3f"),
                _num(result.last_200m_s[r], ".3f"),
                _num(result.top_speed_kmh[r], ".1f"),
                _num(result.peak_power_w[r], ".0f"),
            ]
        )
    header = ["Pos", "Rider", "Time s", "Margin s", "Last 200 m s", "Top km/h", "Peak W"]
    return _table(header, rows, [True, False, True, True, True, True, True])


def format_lap_gaps(result: Result) -> str:
    """Gaps at the lap marks: one row per rider (finishing order), one column per lap mark,
    each cell metres behind the leader there and seconds later at the mark."""
    gaps = sorted(result.lap_gaps, key=lambda g: -g.laps_to_go)
    if not gaps:
        return "(no lap marks)"
    header = ["Rider", *(f"{g.laps_to_go:g} to go" for g in gaps)]
    rows = []
    for r in result.finish_order:
        cells = [r]
        for g in gaps:
            if g.leader == r:
                cells.append("leader")
            else:
                cells.append(f"{_num(g.gap_m[r], '.1f')} m {_num(g.gap_s[r], '.2f')} s")
        rows.append(cells)
    return _table(header, rows, [False, *([True] * len(gaps))])


_EVENT_TEXT = {
    "derny_off": "derny pulls off",
    "attack": "{who} attack{s}",
    "gap_opened": "{who} {is_} {detail} clear",
    "hesitate": "{who} hesitate{s}",
    "chase": "{who} start{s} the chase",
    "launch": "{who} launch{es}",
    "move_up": "{who} move{s} up",
}


def format_events(result: Result, window_s: float = 1.0) -> list[str]:
    """A short event log: derny off, attacks, gaps, hesitation, chases, launches, moves up and
    the catch.  Events of one kind within ``window_s`` of each other share a line."""
    groups: list[list[Any]] = []
    for e in result.events:
        if e.kind not in _EVENT_TEXT:
            continue
        g = groups[-1] if groups else None
        same = g and g[0].kind == e.kind and e.kind != "gap_opened"
        if same and e.time_s - g[0].time_s <= window_s:
            g.append(e)
        else:
            groups.append([e])
    lines = []
    for g in groups:
        first = g[0]
        who = ", ".join(e.rider for e in g)
        one = len(g) == 1
        details = {e.detail for e in g}
        text = _EVENT_TEXT[first.kind].format(
            who=who,
            s="s" if one else "",
            es="es" if one else "",
            is_="is" if one else "are",
            detail=first.detail,
        )
        if first.kind != "gap_opened" and first.detail and first.kind != "derny_off":
            text += f" ({first.detail})" if len(details) == 1 else ""
        elif first.kind == "derny_off" and first.detail:
            text += f" ({first.detail})"
        lines.append((first.time_s, text))
    c = result.catch
    if c:
        lines.append(
            (c["time_s"], f"{c['by']} catches {c['attacker']} ({c['m_to_go']:.0f} m to go)")
        )
    lines.sort(key=lambda x: x[0])
    w = result.finish_order[0]
    lines.append((result.finish_times[w], f"{w} wins"))
    out = []
    for t, text in lines:
        wrapped = textwrap.wrap(text, width=88, subsequent_indent="  ")
        out.append(f"{t:7.2f} s  " + ("\n" + " " * 11).join(wrapped))
    return out


def format_result(result: Result) -> str:
    """Everything ``keirin-sim run`` prints without ``--json``."""
    laps = result.race_m / result.lap_m
    head = (
        f"{result.scenario}: {result.race_m:g} m, {laps:g} laps of {result.lap_m:g} m, "
        f"derny off {result.pull_off_m_to_go:g} m to go"
    )
    if math.isfinite(result.pull_off_time_s):
        head += f" at {result.pull_off_time_s:.1f} s"
    return "\n".join(
        [
            head,
            "",
            format_results(result),
            "",
            "Gaps at the lap marks (metres behind the leader there, seconds later at the mark)",
            format_lap_gaps(result),
            "",
            "Events",
            *format_events(result),
        ]
    )


# --- entry point ---------------------------------------------------------------------------
def build_parser(modules: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser with ``run`` and every subcommand the optional ``modules`` add (default
    :data:`COMMAND_MODULES`).  A module that is missing, fails to import or whose
    ``add_commands`` fails is skipped; why is kept in :data:`SKIPPED` and shown when its
    command is asked for.  Keep those modules' top-level imports light: they are imported
    on every start."""
    from . import __version__

    parser = _Parser(prog=PROG, description="Discrete-event keirin race simulator.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    add_run_command(sub)
    SKIPPED.clear()
    for name in COMMAND_MODULES if modules is None else modules:
        try:
            mod = importlib.import_module(name)
            add = getattr(mod, "add_commands", None)
            if callable(add):
                add(sub)
        except ModuleNotFoundError as e:
            if e.name != name:  # the module exists but needs something missing
                SKIPPED[name] = f"{type(e).__name__}: {e}"
        except Exception as e:  # a broken optional module must not break `run`
            SKIPPED[name] = f"{type(e).__name__}: {e}"
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``keirin-sim`` command line; returns the exit status."""
    from .scenario import ScenarioError

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
    except (CliError, ScenarioError) as e:
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
