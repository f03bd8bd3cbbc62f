"""What every command shares: the one-line error rule, checked outputs, argument types."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from keirin_sim.montecarlo import BatchError
from keirin_sim.montecarlo.executors import import_dask
from keirin_sim.scenario.loading import load_scenario
from keirin_sim.scenario.scenario import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.scenario.scenario import Scenario


#: The command's name, as errors and ``--version`` print it.
PROG = "keirin-sim"
#: Exit status of a command that did its work.
EXIT_OK = 0
#: Exit status of bad input (one line on stderr, no traceback).
EXIT_USAGE = 2
#: Exit status after Ctrl-C.
EXIT_INTERRUPTED = 130
#: Output formats of the charts, by extension.
CHART_EXTENSIONS = (".png", ".svg", ".pdf")
#: Range accepted for ``--dt`` (s); the same as a scenario's ``dt_s``.
DT_RANGE_S = (0.001, 0.2)


# --- helpers for every command -------------------------------------------------------------
class CliError(Exception):
    """Bad input found by a command.  The message is the one line printed on stderr:
    ``"<file>: <key>: <what is wrong>"`` (see :func:`error_line`)."""


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


class Parser(argparse.ArgumentParser):
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


def _int_at_least(lo: int, words: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if v < lo:
            raise argparse.ArgumentTypeError(f"must be {words}, got {v}")
        return v

    return parse


#: argparse type: a whole number of 0 or more.
nonneg_int = _int_at_least(0, "0 or more")
#: argparse type: a whole number of 1 or more.
pos_int = _int_at_least(1, "at least 1")


def table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[bool]) -> str:
    """A plain-text table: columns padded, ``right[k]`` right-aligns column ``k``."""
    rows = [list(r) for r in rows]
    widths = [max([len(h), *(len(r[k]) for r in rows)]) for k, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def add_executor_options(p: argparse.ArgumentParser, when: str = "") -> None:
    """``--workers`` and ``--scheduler``, the batch executors' options (``when``: a note such
    as ``" for --runs"``)."""
    p.add_argument(
        "--workers",
        type=pos_int,
        metavar="N",
        help=f"local worker processes{when} (default: all cores; 1 = no pool)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help=f"a Dask distributed cluster to run on{when} (pip install 'keirin-sim[dask]')",
    )


def executor_args(args: argparse.Namespace) -> dict[str, Any]:
    """``--workers`` and ``--scheduler`` checked before any work (one line each): not both,
    and Dask installed when a scheduler is given.  Returns the executor keyword arguments,
    with a progress bar when stderr is a terminal and no JSON is asked for."""
    command = f"{PROG} {args.command}"
    if args.workers is not None and args.scheduler is not None:
        raise CliError(f"{command}: --scheduler: cannot be combined with --workers")
    if args.scheduler is not None:
        try:
            import_dask()
        except BatchError as e:
            raise CliError(str(e).replace("keirin-sim:", f"{command}:", 1)) from None
    return {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "progress": sys.stderr.isatty() and not getattr(args, "json", False),
    }
