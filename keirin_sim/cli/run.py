"""``keirin-sim run``: replay one race; the text it prints."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keirin_sim.cli.common import (
    CHART_EXTENSIONS,
    EXIT_OK,
    CliError,
    add_scenario_argument,
    check_output,
    check_riders,
    dt_value,
    error_line,
    json_safe,
    load_or_fail,
    nonneg_int,
    split_names,
    table,
)
from keirin_sim.engine.race import RaceError
from keirin_sim.files import write_atomically
from keirin_sim.montecarlo import sample_run
from keirin_sim.montecarlo.storage import batch_metadata, point_values
from keirin_sim.results.result import event_groups
from keirin_sim.simulation import simulate

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.results.result import Result
    from keirin_sim.scenario.scenario import Scenario


# --- keirin-sim run --------------------------------------------------------------------------
def add_commands(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument(
        "--animate",
        metavar="FILE",
        help="write an animation of the race (.gif, .html, or .mp4 where ffmpeg is installed)",
    )
    p.add_argument(
        "--speed",
        type=_speed_value,
        metavar="X",
        help="with --animate: play X times faster than real time (default 1)",
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
        "--mc-run",
        type=nonneg_int,
        metavar="I",
        help="the run index to replay (with --mc-seed or --batch)",
    )
    p.add_argument(
        "--batch",
        metavar="FILE",
        help="with --mc-run: replay a run of the batch that wrote FILE (.parquet, or .csv with "
        "its .meta.json): its scenario, seed, step and attacker are read from the file",
    )
    p.add_argument(
        "--point", type=nonneg_int, metavar="P", help="with --batch of a sweep: the grid point"
    )
    p.add_argument(
        "--reconstruction",
        metavar="FILE",
        help="with --draw: replay an accepted race of `keirin-sim reconstruct --out FILE`",
    )
    p.add_argument(
        "--draw", type=nonneg_int, metavar="I", help="the accepted race to replay (0 = first)"
    )
    p.set_defaults(func=cmd_run)


#: Formats of ``--animate``, by extension (keirin_sim.plots.animation.ANIMATION_FORMATS).
ANIMATION_EXTENSIONS = (".gif", ".html", ".mp4")


def _speed_value(text: str) -> float:
    """argparse type: a playback speed, a number above 0."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return v


def _check_animation(args: argparse.Namespace) -> Path | None:
    """``--animate FILE`` and ``--speed`` checked before any work: a known extension, a
    writable place, an MP4 writer when an MP4 is asked for."""
    if args.animate is None:
        if args.speed is not None:
            raise CliError(error_line("keirin-sim run", "--speed", "needs --animate FILE as well"))
        return None
    anim = check_output(args.animate, "--animate", ANIMATION_EXTENSIONS)
    if anim.suffix.lower() == ".mp4":
        from keirin_sim.plots.animation import MP4_UNAVAILABLE, mp4_available

        if not mp4_available():
            raise CliError(error_line(anim, "--animate", MP4_UNAVAILABLE))
    return anim


def _from_batch(args: argparse.Namespace) -> tuple[Scenario, dict[str, Any] | None, str | None]:
    """The scenario (with the batch's step) and sweep values a ``--batch`` file records."""
    path = Path(args.batch)
    if not path.is_file():
        raise CliError(error_line(path, "--batch", "file not found"))
    try:
        meta = batch_metadata(path)
    except Exception as e:  # not a batch file at all
        msg = f"cannot read: {' '.join(str(e).split())}"
        raise CliError(error_line(path, "--batch", msg)) from None
    if not meta.get("scenario_file") or meta.get("seed") is None:
        raise CliError(
            error_line(path, "--batch", "records no scenario and seed (written before 0.3.0?)")
        )
    if args.mc_run is None:
        raise CliError(error_line("keirin-sim run", "--batch", "needs --mc-run I as well"))
    if args.mc_seed is not None and args.mc_seed != meta["seed"]:
        raise CliError(
            error_line(
                "keirin-sim run", "--mc-seed", f"{args.mc_seed} is not the batch's {meta['seed']}"
            )
        )
    if args.mc_run >= int(meta.get("runs", 0)):
        raise CliError(
            error_line(path, "--mc-run", f"{args.mc_run} is beyond the batch's {meta['runs']} runs")
        )
    scenario = load_or_fail(args.scenario if args.scenario is not None else meta["scenario_file"])
    if args.dt is None and meta.get("dt_s") is not None:
        scenario = dataclasses.replace(scenario, dt_s=float(meta["dt_s"]))
    args.mc_seed = int(meta["seed"])
    params = None
    if meta.get("kind") == "sweep":
        if args.point is None:
            raise CliError(error_line(path, "--point", "the batch is a sweep: say which point"))
        params = point_values(path, args.point, list(meta.get("params", [])))
        if params is None:
            raise CliError(error_line(path, "--point", f"no point {args.point} in the batch"))
    return scenario, params, meta.get("attacker")


def cmd_run(args: argparse.Namespace) -> int:
    """``keirin-sim run``."""
    plot = check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None
    speed = (
        check_output(args.speed_plot, "--speed-plot", CHART_EXTENSIONS) if args.speed_plot else None
    )
    csv = check_output(args.traces_csv, "--traces-csv", (".csv",)) if args.traces_csv else None
    anim = _check_animation(args)
    outs = [o for o in (plot, speed, csv, anim) if o is not None]
    if len({o.resolve() for o in outs}) < len(outs):
        raise CliError(error_line(outs[-1], "output", "the same file is given twice"))
    params, attacker = None, None
    if (args.reconstruction is None) != (args.draw is None):
        given = "--draw" if args.draw is not None else "--reconstruction"
        other = "--reconstruction FILE" if args.draw is not None else "--draw I"
        raise CliError(error_line("keirin-sim run", given, f"needs {other} as well"))
    if args.reconstruction is not None:
        if args.batch is not None or args.mc_seed is not None or args.mc_run is not None:
            raise CliError(
                error_line("keirin-sim run", "--reconstruction", "cannot be combined with "
                           "--batch, --mc-seed or --mc-run")
            )  # fmt: skip
        from keirin_sim.questions.reconstruction import ReconstructionError, load_reconstruction

        try:
            scenario = load_reconstruction(args.reconstruction).draw_scenario(args.draw)
        except (ReconstructionError, ValueError) as e:
            raise CliError(str(e)) from None
    elif args.batch is not None:
        scenario, params, attacker = _from_batch(args)
    else:
        scenario = load_or_fail(args.scenario)
    if args.point is not None and args.batch is None:
        raise CliError(error_line("keirin-sim run", "--point", "needs --batch FILE as well"))
    if args.batch is None and (args.mc_seed is None) != (args.mc_run is None):
        given = "--mc-seed" if args.mc_seed is not None else "--mc-run"
        other = "--mc-run" if given == "--mc-seed" else "--mc-seed"
        raise CliError(error_line("keirin-sim run", given, f"needs {other} as well"))
    if args.mc_seed is not None:
        try:
            scenario = sample_run(
                scenario, args.mc_seed, args.mc_run, attacker=attacker, params=params
            )
        except ValueError as e:  # ScenarioError, BatchError: already one line
            raise CliError(str(e)) from None
    riders = None
    if args.riders is not None:
        names = split_names(args.riders)
        if not names:
            raise CliError(
                error_line("keirin-sim run", "--riders", f"no rider names in {args.riders!r}")
            )
        riders = check_riders(names, scenario.names, scenario.source, "--riders")
    need_traces = bool(plot or speed or csv or anim)
    try:
        result = simulate(scenario, traces=need_traces, dt=args.dt)
    except RaceError as e:
        raise CliError(error_line(scenario.source, "race", str(e))) from None
    written = []
    if plot or speed:
        if plot:
            from keirin_sim import plots

            fig = plots.gap_over_laps(result, units=args.gap_units, riders=riders)
            plots.save(fig, plot)
            written.append(plot)
        if speed:
            from keirin_sim import plots

            plots.save(plots.speed_power(result, riders=riders), speed)
            written.append(speed)
    if anim:
        from keirin_sim import plots

        plots.animate(result, anim, speed=args.speed or 1.0, scenario=scenario)
        written.append(anim)
    if csv:
        assert result.traces is not None
        write_atomically(csv, result.traces.to_csv, "--traces-csv")
        written.append(csv)
    if args.json:
        d = result.to_dict()
        if scenario.reference:
            d["reference"] = scenario.reference  # the real result, beside the model's
        print(json.dumps(json_safe(d), indent=2, allow_nan=False))
    else:
        print(format_result(result, scenario.reference))
        for w in written:
            print(f"wrote {w}")
    return EXIT_OK


# --- text output ---------------------------------------------------------------------------
def _num(v: float, fmt: str) -> str:
    return "-" if v is None or not math.isfinite(v) else format(v, fmt)


def format_results(result: Result, reference: Mapping[str, Any] | None = None) -> str:
    """The results table: position, rider, time, margin, last 200 m, top speed, peak power;
    with a ``reference`` holding the real ``finish_order``, each rider's real place too."""
    real_order = list((reference or {}).get("finish_order") or [])
    real = {r: str(k + 1) for k, r in enumerate(real_order)}
    rows = []
    for k, r in enumerate(result.finish_order):
        rows.append(
            [
                str(k + 1),
                *([real.get(r, "-")] if real else []),
                r,
                _num(result.finish_times[r], ".3f"),
                "" if k == 0 else "+" + _num(result.margins[r], ".3f"),
                _num(result.last_200m_s[r], ".3f"),
                _num(result.top_speed_kmh[r], ".1f"),
                _num(result.peak_power_w[r], ".0f"),
            ]
        )
    header = ["Pos", *(["Real"] if real else []), "Rider", "Time s", "Margin s"]
    header += ["Last 200 m s", "Top km/h", "Peak W"]
    right = [True, *([True] if real else []), False, True, True, True, True, True]
    return table(header, rows, right)


def format_reference(result: Result, reference: Mapping[str, Any]) -> list[str]:
    """The real result beside the model's: winner, margin, winner's last 200 m, move."""
    order = reference.get("finish_order")
    if not order:
        return []
    st = result.story
    model_last = None if st is None else st.winner_last_200m_s
    model_move = None if st is None or st.winning_move is None else st.winning_move
    rows = [["winner", order[0], result.winner]]
    margin = result.margins.get(result.finish_order[1]) if len(result.finish_order) > 1 else None
    if reference.get("winning_margin_s") is not None:
        rows.append(["margin s", f"{reference['winning_margin_s']:.3f}", _num(margin, ".3f")])
    if reference.get("winner_last_200m_s") is not None:
        rows.append(
            ["winner's last 200 m s", f"{reference['winner_last_200m_s']:.3f}",
             _num(model_last, ".3f")]
        )  # fmt: skip
    if reference.get("winning_move") is not None:
        rows.append(
            [
                "winning move",
                reference["winning_move"].replace("_", " "),
                "-" if model_move is None else model_move.replace("_", " "),
            ]
        )
    return [
        "The real race beside the model's (column Real above: the real place, - not placed)",
        table(["", "Real", "Model"], rows, [False, True, True]),
        "",
    ]


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
    return table(header, rows, [False, *([True] * len(gaps))])


_EVENT_TEXT = {
    "derny_off": "derny pulls off",
    "attack": "{who} attack{s}",
    "gap_opened": "{who} {is_} {detail} clear",
    "hesitate": "{who} hesitate{s}",
    "chase": "{who} start{s} the chase",
    "launch": "{who} launch{es}",
    "move_up": "{who} move{s} up",
    "boxed": "{who} {is_} boxed in",
}


def format_events(result: Result, window_s: float = 1.0) -> list[str]:
    """A short event log: derny off, attacks, a rider going clear (the first gap), hesitation,
    chases, launches, moves up, boxes and the catch.  Events of one kind within ``window_s``
    of each other share a line."""
    groups = event_groups(result.events, _EVENT_TEXT, window_s)
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
    w = result.finish_order[0]
    lines.append((result.finish_times[w], f"{w} wins"))
    lines.sort(key=lambda x: x[0])  # a rider may launch after the winner has finished
    out = []
    for t, text in lines:
        wrapped = textwrap.wrap(text, width=88, subsequent_indent="  ")
        out.append(f"{t:7.2f} s  " + ("\n" + " " * 11).join(wrapped))
    return out


def format_how_won(result: Result) -> list[str]:
    """One paragraph: the winning move, the leader at the bell, the winner's last 200 m, and
    each rider's place at the lap marks."""
    st = result.story
    if st is None or st.winning_move is None:
        return []
    move = st.winning_move.replace("_", " ")
    lines = [f"{result.winner} won {move} (last 200 m {_num(st.winner_last_200m_s, '.3f')} s)"]
    if st.bell_leader is not None:
        speed = _num(st.bell_leader_speed_kmh, ".1f")
        lines.append(f"{st.bell_leader} led at the bell, at {speed} km/h")
    laps = sorted({k for p in st.places.values() for k in p}, reverse=True)
    rows = [[nm, *(str(st.places[nm].get(k, "-")) for k in laps)] for nm in result.finish_order]
    header = ["Place at", *(f"{k} to go" if k > 1 else "bell" for k in laps)]
    return [
        "How it was won",
        *("  " + x for x in lines),
        table(header, rows, [False, *([True] * len(laps))]),
        "",
    ]


def format_riders(result: Result) -> list[str]:
    """Where each rider's physiology came from: calibrated from its flying 200 m, or hand-set."""
    out = []
    width = max((len(n) for n in result.riders), default=0)
    for name, r in result.riders.items():
        how = (
            f"calibrated from flying 200 m {r['flying_200_s']:.3f} s"
            if r["source"] == "calibrated"
            else "hand-set"
        )
        out.append(f"  {name:<{width}}  {how}")
        out.append(
            f"  {'':<{width}}  Pmax {r['pmax_w']:.0f} W, CP {r['cp_w']:.0f} W, "
            f"W' {r['w_prime_j'] / 1000:.1f} kJ, gear {r['development_m']:.2f} m, "
            f"{r['mass_kg']:g} kg, CdA {r['cda_m2']:.3f} m^2"
        )
    return out


def format_result(result: Result, reference: Mapping[str, Any] | None = None) -> str:
    """Everything ``keirin-sim run`` prints without ``--json``; with the scenario's
    ``[reference]``, the real result beside the model's."""
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
            format_results(result, reference),
            "",
            *format_reference(result, reference or {}),
            "Gaps at the lap marks (metres behind the leader there, seconds later at the mark)",
            format_lap_gaps(result),
            "",
            "Events",
            *format_events(result),
            "",
            *format_how_won(result),
            "Riders",
            *format_riders(result),
        ]
    )
