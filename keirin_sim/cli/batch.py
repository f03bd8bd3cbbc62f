"""``keirin-sim mc`` and ``keirin-sim sweep``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.cli.common import (
    CHART_EXTENSIONS,
    CliError,
    add_executor_options,
    add_scenario_argument,
    check_output,
    dt_value,
    error_line,
    executor_args,
    load_or_fail,
    nonneg_int,
    pos_int,
    table,
)
from keirin_sim.montecarlo import (
    Batch,
    BatchError,
    BatchInterrupted,
    IneffectiveParameterWarning,
    Summary,
    run_batch,
    sweep,
    wilson,
)
from keirin_sim.montecarlo.executors import TooManyWorkersWarning
from keirin_sim.montecarlo.jobs import ineffective_params, resolve_scenario, sweep_job
from keirin_sim.montecarlo.storage import OUT_FORMATS
from keirin_sim.scenario.paths import RangeError
from keirin_sim.scenario.scenario import Scenario, ScenarioError
from keirin_sim.scenario.uncertainty import parse_uncertainty

if TYPE_CHECKING:  # pragma: no cover
    pass


# --- command line ----------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, runs: int) -> None:
    add_scenario_argument(p)
    p.add_argument(
        "--runs",
        type=pos_int,
        default=runs,
        metavar="N",
        help=f"races (per grid point for sweep; default {runs})",
    )
    p.add_argument(
        "--seed",
        type=nonneg_int,
        default=0,
        metavar="S",
        help="seed of the per-run random streams (default 0)",
    )
    add_executor_options(p)
    p.add_argument(
        "--out", metavar="FILE", help="write one row per race: .parquet or .csv, streamed in chunks"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="complete an interrupted batch written to --out (same arguments)",
    )
    p.add_argument(
        "--attacker",
        metavar="NAME",
        help="whose catch point to follow (default: the scenario's attacker)",
    )
    p.add_argument("--plot", metavar="FILE", help="write the chart (.png, .svg or .pdf)")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.add_argument(
        "--chunk-size",
        type=pos_int,
        metavar="N",
        help="runs per task and per chunk file (default: automatic, at most 1000)",
    )
    p.add_argument(
        "--dt",
        type=dt_value,
        metavar="S",
        help="kernel reference step in seconds for every race (default: the scenario's dt_s); "
        "coarser is faster and less exact (docs/performance.md)",
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``mc`` and ``sweep`` to the ``keirin-sim`` command line."""
    p = sub.add_parser(
        "mc",
        help="Monte Carlo: win probabilities over uncertain inputs",
        description="Run many races with the inputs the scenario's [uncertainty] section "
        "makes uncertain; print win probabilities (95 % Wilson intervals), mean positions, "
        "the attacker's catch points and the winning margins.",
    )
    _common(p, 1000)
    p.set_defaults(func=cmd_mc)
    s = sub.add_parser(
        "sweep",
        help="Monte Carlo over a grid of parameter values",
        description="Run --runs races at every point of a grid of parameter values and "
        "print the win probability per point.",
    )
    _common(s, 100)
    s.add_argument(
        "--param",
        action="append",
        metavar="NAME.FIELD=START:STOP:STEP",
        help='a swept parameter (repeat for a grid), e.g. "Jason Kenny.'
        'attack_m_to_go=700:750:25" or "field.hesitation_s=4:12:1"; default: '
        "the scenario's [sweep] section",
    )
    s.add_argument(
        "--rider",
        metavar="NAME",
        help="whose win probability the table and heatmap show (default: attacker)",
    )
    s.set_defaults(func=cmd_sweep)


def _prepare(args: argparse.Namespace) -> tuple[Scenario, Path | None, Path | None]:
    out = check_output(args.out, "--out", tuple(OUT_FORMATS)) if args.out else None
    plot = check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None
    if out and plot and out.resolve() == plot.resolve():
        raise CliError(error_line(out, "output", "the same file is given twice"))
    if args.resume and out is None:
        raise CliError(f"keirin-sim {args.command}: --resume: needs --out (the file to complete)")
    executor_args(args)  # --workers and --scheduler checked before any work
    sc = load_or_fail(args.scenario)
    try:
        sc = resolve_scenario(sc, args.attacker)
    except ScenarioError as e:
        raise CliError(str(e).replace(": attacker:", ": --attacker:")) from None
    if args.dt is not None:  # the scenario's own step, so replays and resumes see it too
        sc = dataclasses.replace(sc, dt_s=args.dt)
    # an unfinished batch in <out>.parts is reported by the library once it holds the
    # lock: a batch still writing it is named first (its pid), never "delete the directory"
    return sc, out, plot


def cli_error(e: BatchError | RangeError, command: str) -> CliError:
    """A library error as the command's line: messages that name an option or the library
    (``--param: ...``, ``keirin-sim: seed: ...``) get ``keirin-sim <command>:`` in front;
    those that start with a file name keep it."""
    msg = str(e)
    if msg.startswith("keirin-sim:"):
        msg = msg[len("keirin-sim:") :].lstrip()
    elif not msg.startswith("--"):
        return CliError(msg)
    return CliError(f"keirin-sim {command}: {msg}")


def batch_note(message: Any, *rest: Any, **kw: Any) -> None:
    """Show a library warning (such as the workers cap) as the CLI's one-line note."""
    print(f"keirin-sim: note: {message}", file=sys.stderr)


def _go(fn: Any, args: argparse.Namespace, *a: Any) -> Batch | int:
    with warnings.catch_warnings():
        warnings.simplefilter("always", TooManyWorkersWarning)
        warnings.showwarning = batch_note
        return _run(fn, args, *a)


def _run(fn: Any, args: argparse.Namespace, *a: Any) -> Batch | int:
    try:
        return fn(
            *a,
            workers=args.workers,
            scheduler=args.scheduler,
            out=args.out,
            resume=args.resume,
            progress=sys.stderr.isatty() and not args.json,
            chunk_size=args.chunk_size,
            attacker=args.attacker,
        )
    except (BatchError, RangeError) as e:
        raise cli_error(e, args.command) from None
    except BatchInterrupted as e:
        why = e.reason + (f" ({e.detail})" if e.detail else "")
        where = (
            f"{e.done} of {e.total} runs kept in {e.out}; add --resume to complete them"
            if e.out is not None
            else f"{e.done} of {e.total} runs done, none kept (no --out)"
        )
        print(f"keirin-sim {args.command}: {why}: {where}", file=sys.stderr)
        return e.exit_code


def cmd_mc(args: argparse.Namespace) -> int:
    """``keirin-sim mc``."""
    sc, out, plot = _prepare(args)
    parse_uncertainty(sc)
    b = _go(run_batch, args, sc, args.runs, args.seed)
    if isinstance(b, int):
        return b
    s = b.summary
    if plot is not None:
        from keirin_sim import plots

        plots.save(plots.mc_summary(s), plot)
    if args.json:
        d = s.to_dict()
        d["out"] = os.fspath(out) if out else None
        print(json.dumps(d, indent=2, allow_nan=False))
        return 0
    print(format_summary(s))
    for w in (out, plot):
        if w is not None:
            print(f"wrote {w}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``keirin-sim sweep``."""
    sc, out, plot = _prepare(args)
    rider = args.rider or args.attacker or sc.attacker
    if rider is not None and rider not in sc.names:
        raise CliError(
            f"{sc.source}: --rider: no rider named {rider!r} (riders: {', '.join(sc.names)})"
        )
    try:
        job = sweep_job(sc, args.param, 1, 0)
    except (BatchError, RangeError) as e:
        raise cli_error(e, args.command) from None
    if plot is not None and rider is None:
        raise CliError(
            f"{sc.source}: --rider: the scenario names no attacker: say whose win "
            "probability to plot"
        )
    if plot is not None and len(job.params) > 2:
        raise CliError(
            f"{args.plot}: --plot: a heatmap shows one or two parameters, got {len(job.params)}"
        )
    for msg in ineffective_params(sc, job.params):
        print(f"keirin-sim: note: {msg}", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IneffectiveParameterWarning)  # noted just above
        b = _go(sweep, args, sc, args.param, args.runs, args.seed)
    if isinstance(b, int):
        return b
    s = b.summary
    if plot is not None:
        from keirin_sim import plots

        plots.save(plots.sweep_heatmap(s.grid_table(rider), rider=rider), plot)
    if args.json:
        d = s.to_dict()
        d["out"] = os.fspath(out) if out else None
        print(json.dumps(d, indent=2, allow_nan=False))
        return 0
    print(format_sweep(s, rider))
    for w in (out, plot):
        if w is not None:
            print(f"wrote {w}")
    return 0


def _fmt_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """:func:`table` with the first column to the left and the others to the right."""
    return table(header, rows, [k > 0 for k in range(len(header))])


def format_summary(s: Summary) -> str:
    """What ``keirin-sim mc`` prints without ``--json``."""
    head = f"{s.scenario}: {s.runs} races, seed {s.seed}"
    if s.elapsed_s:
        ran = s.runs if s.races_run is None else s.races_run
        rate = f"{ran / s.elapsed_s:,.0f} races/s"
        head += f" ({s.elapsed_s:.1f} s, {rate}" + (
            f" over the {ran} raced now, {s.runs - ran} resumed)" if ran != s.runs else ")"
        )
    lines = [head, ""]
    p, ci = s.win_probability, s.ci95
    rows = [
        [
            r,
            f"{100 * p[r]:.1f} %",
            f"{100 * ci[r][0]:.1f}-{100 * ci[r][1]:.1f} %",
            f"{s.mean_position[r]:.2f}",
        ]
        for r in sorted(s.riders, key=lambda r: (-s.wins[r], s.mean_position[r]))
    ]
    lines.append(_fmt_table(["Rider", "Win", "95 % CI", "Mean pos"], rows))
    if s.attacker is not None:
        lines.append("")
        cp = s.caught_probability
        text = f"{s.attacker} caught in {100 * cp:.1f} % of the races"
        q = Summary._q(s.catch_m_to_go)
        if q:
            text += (
                f"; catch point median {q['median']:.0f} m to go (middle half "
                f"{q['p25']:.0f}-{q['p75']:.0f} m, 90 % within {q['p5']:.0f}-"
                f"{q['p95']:.0f} m)"
            )
        lines.append(text)
    q = Summary._q(s.winning_margin_s)
    if q:
        lines.append(
            f"Winning margin median {q['median']:.3f} s (90 % within {q['p5']:.3f}-"
            f"{q['p95']:.3f} s)"
        )
    if s.told:
        pos = ", ".join(f"{k}: {100 * p:.0f} %" for k, p in s.by_start_position.items())
        lines.append(f"Wins by start position behind the derny: {pos}")
        mv = ", ".join(
            f"{m.replace('_', ' ')} {100 * p:.0f} %" for m, p in s.winning_move_share.items()
        )
        lines.append(f"Won {mv}; the leader at the bell won {100 * s.bell_leader_win_share:.0f} %")
        if len(s.winner_last_200m_s):
            lo, med, hi = np.quantile(s.winner_last_200m_s, [0.1, 0.5, 0.9])
            line = f"Winner's last 200 m median {med:.3f} s (10-90 %: {lo:.3f}-{hi:.3f} s)"
            if len(s.bell_speed_kmh):
                line += f"; bell leader's speed median {np.median(s.bell_speed_kmh):.1f} km/h"
            lines.append(line)
    if s.failed:
        lines.append(f"{s.failed} races could not be finished (left out), e.g.: {s.errors[0]}")
    return "\n".join(lines)


def format_sweep(s: Summary, rider: str | None) -> str:
    """What ``keirin-sim sweep`` prints without ``--json``: win probability per grid point."""
    head = (
        f"{s.scenario}: {len(s.grid or [])} points x {s.runs // max(1, len(s.grid or []))} "
        f"races, seed {s.seed}"
    )
    if s.elapsed_s:
        head += f" ({s.elapsed_s:.1f} s)"
    lines = [head, ""]
    grid = s.grid or []
    if rider is None:
        lines.append(
            _fmt_table(
                [*s.params, "winner (most wins)", "Win"],
                [
                    [
                        *(
                            f"{v:g}" if isinstance(v, float) else str(v)
                            for v in g["values"].values()
                        ),
                        max(g["wins"], key=g["wins"].get),
                        f"{100 * max(g['wins'].values()) / max(1, g['runs']):.1f} %",
                    ]
                    for g in grid
                ],
            )
        )
        return "\n".join(lines)
    lines.append(f"Win probability of {rider} (%)")
    fmt = lambda v: f"{v:g}" if isinstance(v, float) else str(v)  # noqa: E731
    pct = lambda g: f"{100 * g['wins'][rider] / g['runs']:.1f}" if g["runs"] else "-"  # noqa: E731
    if len(s.params) == 2:
        xs = list(dict.fromkeys(g["values"][s.params[1]] for g in grid))
        ys = list(dict.fromkeys(g["values"][s.params[0]] for g in grid))
        cell = {(g["values"][s.params[0]], g["values"][s.params[1]]): pct(g) for g in grid}
        lines.append(f"rows: {s.params[0]}; columns: {s.params[1]}")
        lines.append(
            _fmt_table(["", *map(fmt, xs)], [[fmt(y), *(cell[(y, x)] for x in xs)] for y in ys])
        )
    else:
        lines.append(
            _fmt_table(
                [*s.params, "Win %", "95 % CI"],
                [
                    [
                        *(fmt(v) for v in g["values"].values()),
                        pct(g),
                        "-".join(f"{100 * x:.1f}" for x in wilson(g["wins"][rider], g["runs"])),
                    ]
                    for g in grid
                ],
            )
        )
    return "\n".join(lines)
