"""``keirin-sim catch`` and ``keirin-sim compare``."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from keirin_sim.cli.common import (
    CHART_EXTENSIONS,
    EXIT_OK,
    PROG,
    CliError,
    add_executor_options,
    add_scenario_argument,
    check_output,
    executor_args,
    json_safe,
    load_or_fail,
    nonneg_int,
    pos_int,
    table,
)
from keirin_sim.cli.reconstruct import add_reconstruction_options, given_report_runs
from keirin_sim.montecarlo import BatchError
from keirin_sim.questions.bands import catch_band, compare_and_sweep_band, with_band
from keirin_sim.questions.catch import (
    DEFAULT_HESITATIONS,
    DEFAULT_TOL_S,
    catch_sweep,
    critical_hesitation,
)
from keirin_sim.questions.variants import (
    DEFAULT_COMPARE_SCENARIO,
    DEFAULT_SWEEP,
    attack_point_sweep,
    compare_variants,
)
from keirin_sim.scenario.paths import RangeError, parse_range

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.scenario.scenario import Scenario


def _load(path: str | None, default: str | None = None) -> Scenario:
    """A scenario file; with no path, the shipped ``default`` (or the Tokyo final)."""
    return load_or_fail(path if path is not None else default)


def _outputs(args: argparse.Namespace) -> Any:
    return check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None


def _range(text: str, option: str, command: str) -> list[float]:
    try:
        return parse_range(text, f"{PROG} {command}: {option}")
    except RangeError as e:
        raise CliError(str(e)) from None


def _fmt(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def cmd_catch(args: argparse.Namespace) -> int:
    """``keirin-sim catch``."""
    plot = _outputs(args)
    hs = _range(args.hesitation, "--hesitation", "catch")
    sc = _load(args.scenario)
    analysis = catch_sweep(sc, args.attacker, hs)
    lo, hi = min(hs), max(hs)
    if hi <= lo:  # one value: bracket the flip over the default range
        lo, hi = min(lo, 0.0), max(hi, 15.0)
    crit = critical_hesitation(sc, args.attacker, lo, hi, tol=args.tol, at=args.at)
    ex = _band_args(args)
    band = None
    sentence = crit.sentence
    given = _given(sc, args, ex)
    if given is not None:
        runs_of, seed, given_line = given
        try:
            band = catch_band(
                sc, len(runs_of), seed, args.attacker, lo, hi, args.tol, runs_of=runs_of, **ex
            )
        except BatchError as e:
            raise CliError(str(e)) from None
        sentence = "Given the report, " + with_band(crit.sentence, band, crit.hesitation_s)
        sentence = sentence.replace("Given the report, Had", "Given the report, had")
    elif args.runs is not None:
        try:
            band = catch_band(sc, args.runs, args.seed, args.attacker, lo, hi, args.tol, **ex)
        except BatchError as e:
            raise CliError(str(e)) from None
        sentence = with_band(crit.sentence, band, crit.hesitation_s)
    if plot is not None:
        from keirin_sim import plots

        b = None if band is None else band.to_dict()
        fig = plots.catch_chart(analysis, crit, band=b, sentence=sentence)
        plots.save(fig, plot)
    if args.json:
        c = crit.to_dict()
        out = {
            "scenario": analysis.scenario,
            "attacker": analysis.attacker,
            "critical_hesitation_s": c["critical_hesitation_s"],
            "sentence": sentence,
            "reference_hesitation_s": analysis.reference_hesitation_s,
            "at_hesitation_s": crit.at_s,
            "catch_m_to_go_at": c["catch_m_to_go_at"],
            "rows": [r.to_dict() for r in analysis.rows],
        }
        if band is not None:
            out["critical_hesitation_band"] = band.to_dict()
        if given is not None:
            out["given_report"] = given[2]
        print(json.dumps(json_safe(out), indent=2, allow_nan=False))
        return EXIT_OK
    print(
        f"{analysis.scenario}: where the field catches {analysis.attacker}, against the "
        "field's hesitation"
    )
    print()
    rows = [
        [
            _fmt(r.hesitation_s, ".2f"),
            "yes" if r.caught else "no",
            _fmt(r.catch_m_to_go, ".1f"),
            _fmt(r.catch_lap, "d"),
            r.caught_by or "-",
            _fmt(r.margin_s, "+.3f"),
            r.winner,
        ]
        for r in analysis.rows
    ]
    head = ["Hesitation s", "Caught", "M to go", "Lap", "Caught by", "Margin s", "Winner"]
    print(table(head, rows, [True, True, True, True, False, True, False]))
    print()
    if crit.hesitation_s is not None:
        print(
            f"Critical hesitation: {crit.hesitation_s:.2f} s (bisection between {crit.lo:g} "
            f"and {crit.hi:g} s, to {crit.tol:g} s; {crit.evaluations} replays)"
        )
    if band is not None:
        b, cb = band.band, band.catch_band
        where = (
            f"Over the {given[2]}"
            if given is not None
            else f"Over {band.runs} races drawn from the scenario's [uncertainty]"
        )
        print(
            f"{where} (seed {band.seed}): "
            f"critical hesitation median {_fmt(b['median'], '.2f')} s, 5-95 % "
            f"{_fmt(b['p5'], '.2f')}-{_fmt(b['p95'], '.2f')} s; catch point at the "
            f"sentence's hesitation median {_fmt(cb['median'], '.0f')} m to go, 5-95 % "
            f"{_fmt(cb['p5'], '.0f')}-{_fmt(cb['p95'], '.0f')} m"
        )
    print(sentence)
    if plot is not None:
        print(f"wrote {plot}")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """``keirin-sim compare``."""
    plot = _outputs(args)
    ds = _range(args.sweep, "--sweep", "compare") if args.sweep is not None else None
    sc = _load(args.scenario, DEFAULT_COMPARE_SCENARIO)
    ex = _band_args(args)
    comp = compare_variants(sc, args.rider)
    sweep = attack_point_sweep(sc, comp.rider, ds) if ds is not None else None
    bands = points = None
    given = _given(sc, args, ex)
    if given is not None or args.runs is not None:
        runs_of, seed = (given[0], given[1]) if given is not None else (None, args.seed)
        try:
            # the variants and the swept points in one pass: each race is drawn once
            _, bands, pts = compare_and_sweep_band(
                sc, args.runs, seed, comp.rider, ds or (), runs_of=runs_of, **ex
            )
            points = pts if ds is not None else None
        except BatchError as e:
            raise CliError(str(e)) from None
    if plot is not None:
        from keirin_sim import plots

        odds = None if bands is None else [b.to_dict() for b in bands]
        point_odds = None if points is None else [b.to_dict() for b in points]
        plots.save(plots.compare_chart(comp, sweep, odds, point_odds), plot)
    if args.json:
        out = comp.to_dict()
        if sweep is not None:
            out["sweep"] = sweep.to_dict()
        if bands is not None:
            out["band"] = {"runs": bands[0].runs if bands else args.runs, "seed": args.seed}
            if given is not None:
                out["band"].update(seed=given[1], given_report=given[2])
            out["band"]["variants"] = [b.to_dict() for b in bands]
            if points is not None:
                out["band"]["sweep"] = [b.to_dict() for b in points]
        print(json.dumps(json_safe(out), indent=2, allow_nan=False))
        return EXIT_OK
    print(f"{comp.scenario}: {comp.rider}, one tactic per variant against the same field")
    print()
    head = ["Variant", "Pos", "Margin s", "W' left kJ", "Winner"]
    rows = [
        [r.name, str(r.position), f"{r.margin_s:+.3f}", f"{r.w_left_j / 1000:.1f}", r.winner]
        for r in comp.rows
    ]
    print(table(head, rows, [False, True, True, True, False]))
    laps = sorted({g[0] for r in comp.rows for g in r.gap_over_laps}, reverse=True)
    if laps:
        print()
        print(f"{comp.rider}'s lead over the rest at the lap marks (m; negative = behind)")
        head = ["Variant", *(f"{k:g} to go" for k in laps)]
        rows = []
        for r in comp.rows:
            d = dict(r.gap_over_laps)
            rows.append([r.name, *(_fmt(d.get(k), "+.1f") for k in laps)])
        print(table(head, rows, [False, *([True] * len(laps))]))
    if bands is not None:
        print()
        where = (
            f"Over the {given[2]} (seed {given[1]})"
            if given is not None
            else f"Over {args.runs} races drawn from the scenario's [uncertainty] "
            f"(seed {args.seed})"
        )
        print(f"{where}: {comp.rider}'s odds with each tactic")
        print(_odds_table("Variant", bands))
    if sweep is not None:
        print()
        print(f"Attack-point sweep: {sweep.rider} goes all out at each distance to go")
        head = ["Launch m to go", "Pos", "Margin s", "W' left kJ", "Winner"]
        rows = [
            [
                f"{r.m_to_go:g}",
                str(r.position),
                f"{r.margin_s:+.3f}",
                f"{r.w_left_j / 1000:.1f}",
                r.winner,
            ]
            for r in sweep.rows
        ]
        print(table(head, rows, [True, True, True, True, False]))
    if points is not None:
        print()
        n = points[0].runs if points else args.runs
        which = "races that match the report" if given is not None else "drawn races"
        print(f"The same over the {n} {which}: {comp.rider}'s odds at each point")
        print(_odds_table("Launch m to go", points))
    if plot is not None:
        print(f"wrote {plot}")
    return EXIT_OK


def _odds_table(first: str, bands: Any) -> str:
    """Win probability (95 % interval) and margin (median, 5-95 %) of each band's row."""
    head = [first, "Win", "95 % CI", "Margin s, median", "5-95 %"]
    rows = []
    for b in bands:
        d = b.to_dict()
        m = d["margin_s"]
        rows.append(
            [
                b.name,
                f"{100 * b.win_probability:.0f} %",
                f"{100 * d['win_ci95'][0]:.0f}-{100 * d['win_ci95'][1]:.0f} %",
                _fmt(m["median"], "+.3f"),
                f"{_fmt(m['p5'], '+.3f')} to {_fmt(m['p95'], '+.3f')}",
            ]
        )
    return table(head, rows, [first != "Variant", True, True, True, True])


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``catch`` and ``compare`` on the ``keirin-sim`` sub-command parser (called by
    :func:`keirin_sim.cli.build_parser`).  Each sets ``func``: called with the parsed arguments,
    returns the exit status."""
    p = subparsers.add_parser(
        "catch",
        help="when would the field have caught the attacker (hesitation sweep)",
        description="Replay the race with the field's hesitation swept: where (and by whom) "
        "the attacker is caught, his margin, and the critical hesitation (by bisection) at "
        "which the catch falls exactly on the line.",
    )
    add_scenario_argument(p)
    p.add_argument(
        "--attacker", metavar="NAME", help="the rider whose catch is tracked (default: the "
        "scenario's attacker)"
    )  # fmt: skip
    p.add_argument(
        "--hesitation",
        default=DEFAULT_HESITATIONS,
        metavar="START:STOP:STEP",
        help=f"the field's hesitations to replay, s, STOP included (default {DEFAULT_HESITATIONS})",
    )
    p.add_argument(
        "--at",
        type=float,
        metavar="S",
        help="hesitation at which the sentence gives the catch point (default: the real "
        "race's if he is caught there, else the start of the range)",
    )
    p.add_argument(
        "--tol",
        type=float,
        default=DEFAULT_TOL_S,
        metavar="S",
        help=f"bisection tolerance, s (default {DEFAULT_TOL_S:g})",
    )
    p.add_argument("--plot", metavar="FILE", help="write the catch chart (.png, .svg or .pdf)")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    _band_options(p, "the critical hesitation")
    p.set_defaults(func=cmd_catch)

    q = subparsers.add_parser(
        "compare",
        help="one rider's tactic varied against the same field (the scenario's [[variants]])",
        description="Race each [[variants]] tactic of one rider against the same field: "
        "finish position, margin, W' left at the line and the rider's lead lap by lap; "
        "optionally sweep the distance to go at which the rider launches.",
    )
    add_scenario_argument(q, f"the shipped {DEFAULT_COMPARE_SCENARIO}, with [[variants]]")
    q.add_argument("--rider", metavar="NAME", help="the varied rider (default: the variants')")
    q.add_argument(
        "--sweep",
        nargs="?",
        const=DEFAULT_SWEEP,
        metavar="START:STOP:STEP",
        help=f"also sweep the launch distance, m to go (alone: {DEFAULT_SWEEP})",
    )
    q.add_argument("--plot", metavar="FILE", help="write the comparison chart (.png/.svg/.pdf)")
    q.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    _band_options(q, "each variant's (and each swept point's) win probability and margin")
    q.set_defaults(func=cmd_compare)


def _band_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--runs",
        type=pos_int,
        metavar="N",
        help=f"also repeat {what} over N races drawn from the scenario's [uncertainty] "
        "(the streams of keirin-sim mc) and give the 5-95 %% band; with --given-report, the "
        "races drawn for the reconstruction (default 4000)",
    )
    p.add_argument(
        "--seed",
        type=nonneg_int,
        default=0,
        metavar="S",
        help="seed of the drawn races (default 0)",
    )
    add_executor_options(p, " for --runs")
    add_reconstruction_options(p, given=True)


def _given(sc: Scenario, args: argparse.Namespace, ex: dict[str, Any]) -> Any:
    """``--given-report``: (the accepted runs, their seed, where they come from) or None."""
    if args.given_report is None:
        for opt in ("condition",):
            if getattr(args, opt):
                raise CliError(f"{PROG} {args.command}: --{opt}: needs --given-report as well")
        return None
    return given_report_runs(sc, args, ex)


def _band_args(args: argparse.Namespace) -> dict[str, Any]:
    """The executor arguments of --runs, checked (one line each)."""
    if args.runs is None and args.given_report is None:
        for opt in ("workers", "scheduler"):
            if getattr(args, opt) is not None:
                raise CliError(f"{PROG} {args.command}: --{opt}: needs --runs N as well")
        return {}
    return executor_args(args)
