"""``keirin-sim reconstruct``: the races that match a race report (docs/reconstruction.md);
and the ``--given-report`` options of ``catch`` and ``compare``."""

from __future__ import annotations

import argparse
import json
import math
import sys
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
from keirin_sim.questions.reconstruction import (
    DEFAULT_ACCEPT,
    Reconstruction,
    ReconstructionError,
    load_reconstruction,
    reconstruct,
    score_finals,
)
from keirin_sim.scenario.facts import FactError

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.scenario.scenario import Scenario

#: Draws of ``reconstruct`` when ``--runs`` is not given.
DEFAULT_RUNS = 4000
OUT_EXTENSIONS = (".parquet", ".csv")


def _f(v: float | None, fmt: str) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _fmt_for(name: str) -> str:
    if name.endswith("_m") or name.endswith("_m_to_go"):
        return ".1f"
    if name == "air_density":
        return ".3f"
    if name.startswith("start."):
        return ".0f"
    return ".3f" if name.endswith("flying_200_s") else ".2f"


def run_reconstruction(
    sc: Scenario, args: argparse.Namespace, ex: dict[str, Any]
) -> Reconstruction:
    """The reconstruction an ``argparse`` namespace asks for (``--condition``, ``--runs``,
    ``--seed``, ``--accept``); one-line errors as :class:`CliError`."""
    accept = None if args.accept == 0 else args.accept
    try:
        return reconstruct(sc, args.condition, args.runs, args.seed, accept, **ex)
    except (FactError, ReconstructionError) as e:
        raise CliError(str(e)) from None


def format_reconstruction(rec: Reconstruction) -> str:
    """The text report: the facts, the acceptance rate, the posterior beside the prior, the
    check on the facts held out, or the nearest races when none matched."""
    out = [f"{rec.scenario.name}: the races that match the report"]
    out.append("conditioned on: " + "; ".join(f.describe() for f in rec.facts))
    failed = f", {rec.failed} failed" if rec.failed else ""
    out.append(
        f"{rec.phrase()}; seed {rec.seed}{failed}; {rec.elapsed_s:.1f} s"
        + (f" (stopped at {rec.accept} accepted)" if rec.accept == rec.n_accepted else "")
    )
    out.append("")
    if rec.n_accepted == 0:
        out.append(
            "No drawn race matches the report: a finding about the model, not an error. "
            "The nearest races and what they miss:"
        )
        head = ["Run", "Distance", *(f.name for f in rec.facts)]
        rows = [
            [str(m["run"]), f"{m['distance']:.2f}", *(m["misses"][f.name] for f in rec.facts)]
            for m in rec.nearest_misses()
        ]
        out.append(table(head, rows, [True, True, *([False] * len(rec.facts))]))
        out.append(
            f"(replay one: {PROG} run {rec.scenario.source} --mc-seed {rec.seed} --mc-run RUN)"
        )
        return "\n".join(out)
    head = ["Unknown", "Posterior median", "90 %", "Prior median", "90 % "]
    rows = []
    for p in rec.posterior():
        fm = _fmt_for(p["name"])
        po, pr = p["posterior"], p["prior"]
        rows.append(
            [
                p["name"],
                _f(po["median"], fm),
                f"{_f(po['p5'], fm)}-{_f(po['p95'], fm)}",
                _f(pr["median"], fm),
                f"{_f(pr['p5'], fm)}-{_f(pr['p95'], fm)}",
            ]
        )
    out.append(table(head, rows, [False, True, True, True, True]))
    if "hesitation_s" in rec.accepted:
        none = int(rec.accepted["hesitation_s"].isna().sum())
        if none:
            out.append(f"(hesitation: in {none} accepted races nobody chased the attacker)")
    checks = rec.predictive()
    if checks:
        out.append("")
        out.append("The check: each fact not conditioned on, the real value against the races")
        out.append(format_checks(checks))
    return "\n".join(out)


def format_checks(checks: list[dict[str, Any]]) -> str:
    """The posterior predictive of the held-out facts as a table."""
    head = ["Fact", "Real", "Given the report: median", "90 %", "P(match)", "prior P(match)"]
    rows = []
    for c in checks:
        fm = ".1f" if c["fact"].endswith("_m") else ".3f"
        pm = _f(None if c["p_match"] is None else 100 * c["p_match"], ".0f") + " %"
        pp = _f(None if c["p_match_prior"] is None else 100 * c["p_match_prior"], ".0f") + " %"
        if "median" in c:
            rows.append(
                [
                    c["fact"],
                    c["real"],
                    _f(c["median"], fm),
                    f"{_f(c['p5'], fm)}-{_f(c['p95'], fm)}" + (" *" if c.get("in_90") else ""),
                    pm,
                    pp,
                ]
            )
        elif "places" in c:
            rows.append([c["fact"], "(whole order)", "", "", pm, pp])
            for r, pl in c["places"].items():
                rows.append(
                    [
                        f"  place of {r}",
                        str(pl["real"]),
                        _f(pl["median"], ".0f"),
                        f"{_f(pl['p5'], '.0f')}-{_f(pl['p95'], '.0f')}",
                        _f(None if pl["p_real"] is None else 100 * pl["p_real"], ".0f") + " %",
                        "",
                    ]
                )
        else:
            rows.append([c["fact"], c["real"], str(c.get("most_likely", "-")), "", pm, pp])
    text = table(head, rows, [False, False, True, True, True, True])
    return text + "\n(* the real value lies in the 90 % interval; P(match): within tolerance)"


def cmd_reconstruct(args: argparse.Namespace) -> int:
    """``keirin-sim reconstruct``."""
    plot = check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None
    out = check_output(args.out, "--out", OUT_EXTENSIONS) if args.out else None
    ex = executor_args(args)
    if args.finals:
        return _finals(args, ex)
    sc = load_or_fail(args.scenario)
    rec = run_reconstruction(sc, args, ex)
    if out is not None:
        if rec.n_accepted == 0:
            print(f"{PROG} reconstruct: no race matches: {out} not written", file=sys.stderr)
        else:
            rec.save(out)
    if plot is not None:
        from keirin_sim import plots

        plots.save(plots.reconstruction_chart(rec), plot)
    if args.json:
        print(json.dumps(json_safe(rec.to_dict()), indent=2, allow_nan=False))
        return EXIT_OK
    print(format_reconstruction(rec))
    for w in (out if rec.n_accepted else None, plot):
        if w is not None:
            print(f"wrote {w}")
    if out is not None and rec.n_accepted:
        print(f"(replay accepted race I: {PROG} run --reconstruction {out} --draw I)")
    return EXIT_OK


def _finals(args: argparse.Namespace, ex: dict[str, Any]) -> int:
    if args.condition or args.scenario is not None or args.out:
        raise CliError(
            f"{PROG} reconstruct: --finals: takes no SCENARIO, --condition or --out (each final "
            "is conditioned on its [reference] condition_on)"
        )
    recs = score_finals(args.runs, args.seed, **ex)
    rows_json = []
    head = ["Final", "Given", "Accepted", "Held out", "Real", "Median (90 %)", "In 90 %",
            "P(match)", "prior"]  # fmt: skip
    rows = []
    logs_post, logs_prior, cover = [], [], []
    for rec in recs:
        given = ", ".join(f.name for f in rec.facts)
        first = True
        for c in rec.predictive():
            n = max(c["n"], 1)
            # smoothed: half a race either way (a fact never matched does not score -inf)
            lp = math.log(((c["p_match"] or 0.0) * c["n"] + 0.5) / (n + 1.0))
            npri = len(rec.prior)
            lq = math.log(((c["p_match_prior"] or 0.0) * npri + 0.5) / (npri + 1.0))
            logs_post.append(lp)
            logs_prior.append(lq)
            if c.get("in_90") is not None:
                cover.append(bool(c["in_90"]))
            fm = ".1f" if c["fact"].endswith("_m") else ".3f"
            med = (
                f"{_f(c['median'], fm)} ({_f(c['p5'], fm)}-{_f(c['p95'], fm)})"
                if "median" in c
                else str(c.get("most_likely", ""))
            )
            real = c["real"] if c["fact"] != "finish_order" else f"{len(c['places'])} places"
            rows.append(
                [
                    rec.scenario.name if first else "",
                    given if first else "",
                    f"{rec.n_accepted}/{rec.tried}" if first else "",
                    c["fact"],
                    real,
                    med,
                    "" if c.get("in_90") is None else ("yes" if c["in_90"] else "no"),
                    f"{100 * (c['p_match'] or 0):.0f} %",
                    f"{100 * (c['p_match_prior'] or 0):.0f} %",
                ]
            )
            rows_json.append({"final": rec.scenario.name, "given": given, **c, "log_p": lp,
                              "log_p_prior": lq})  # fmt: skip
            first = False
    summary = {
        "facts_held_out": len(logs_post),
        "mean_log_p_match": sum(logs_post) / max(len(logs_post), 1),
        "mean_log_p_match_prior": sum(logs_prior) / max(len(logs_prior), 1),
        "numeric_in_90": sum(cover),
        "numeric_facts": len(cover),
    }
    if args.json:
        out = {"runs": args.runs, "seed": args.seed, "rows": rows_json, "summary": summary}
        print(json.dumps(json_safe(out), indent=2, allow_nan=False))
        return EXIT_OK
    print(
        f"The real finals, each reconstructed from part of its report ({args.runs} draws, "
        f"seed {args.seed}), scored on the facts held out"
    )
    print()
    print(table(head, rows, [False, False, True, False, False, True, True, True, True]))
    print()
    print(
        f"{summary['facts_held_out']} held-out facts: mean log P(match) "
        f"{summary['mean_log_p_match']:.2f} given the report, "
        f"{summary['mean_log_p_match_prior']:.2f} without it (higher is better; P smoothed by "
        f"half a race); numeric facts in the 90 % interval: {summary['numeric_in_90']} of "
        f"{summary['numeric_facts']}"
    )
    return EXIT_OK


def add_reconstruction_options(p: argparse.ArgumentParser, given: bool = False) -> None:
    """``--condition``, ``--accept`` (and ``--given-report`` for catch and compare)."""
    if given:
        p.add_argument(
            "--given-report",
            nargs="?",
            const="",
            metavar="FILE",
            help="ask the question of the races that match the race report: reconstructed "
            "now from --runs draws (alone), or those saved by `reconstruct --out FILE`",
        )
    p.add_argument(
        "--condition",
        nargs="+",
        action="extend",
        metavar="FACT",
        help="facts to condition on: NAME (value and tolerance from [reference]), NAME=VALUE, "
        "NAME=LOW:HIGH, NAME~TOL, NAME=VALUE~TOL (default: [reference] condition_on)",
    )
    p.add_argument(
        "--accept",
        type=nonneg_int,
        default=DEFAULT_ACCEPT,
        metavar="K",
        help=f"stop drawing once K races match (default {DEFAULT_ACCEPT}; 0 = no limit)",
    )


def given_report_runs(
    sc: Scenario, args: argparse.Namespace, ex: dict[str, Any]
) -> tuple[list[int], int, str]:
    """For ``catch``/``compare --given-report``: the accepted runs, their seed and a line
    saying where they come from."""
    if args.given_report:
        if args.condition:
            raise CliError(
                f"{PROG} {args.command}: --condition: the saved reconstruction "
                f"{args.given_report} was conditioned already"
            )
        try:
            saved = load_reconstruction(args.given_report)
        except ReconstructionError as e:
            raise CliError(str(e).replace("--reconstruction", "--given-report")) from None
        facts = "; ".join(f"{c['fact']}" for c in saved.meta.get("conditioned_on", []))
        return (
            saved.run_indices,
            saved.seed,
            f"{len(saved.rows)} saved races that match the report (given {facts})",
        )
    if args.runs is None:
        args.runs = DEFAULT_RUNS
    rec = run_reconstruction(sc, args, ex)
    if rec.n_accepted == 0:
        print(format_reconstruction(rec))
        raise SystemExit(EXIT_OK)
    facts = "; ".join(f.describe() for f in rec.facts)
    line = (
        f"{rec.n_accepted} races that match the report ({100 * rec.acceptance_rate:.1f} % of "
        f"{rec.tried} drawn; given {facts})"
    )
    return rec.run_indices, rec.seed, line


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``reconstruct``."""
    p = subparsers.add_parser(
        "reconstruct",
        help="the races that match the race report (approximate Bayesian computation)",
        description="Draw races as `keirin-sim mc` does and keep those that match the race "
        "report's facts (each within its tolerance): the acceptance rate, each unknown's "
        "posterior beside its prior, and for every fact not conditioned on, the races against "
        "the real value.",
    )
    add_scenario_argument(p)
    add_reconstruction_options(p)
    p.add_argument(
        "--runs",
        type=pos_int,
        default=DEFAULT_RUNS,
        metavar="N",
        help=f"races to draw at most (default {DEFAULT_RUNS})",
    )
    p.add_argument("--seed", type=nonneg_int, default=0, metavar="S", help="seed (default 0)")
    add_executor_options(p)
    p.add_argument(
        "--out", metavar="FILE", help="save the accepted races (.parquet or .csv): `keirin-sim "
        "run --reconstruction FILE --draw I` replays one"
    )  # fmt: skip
    p.add_argument("--plot", metavar="FILE", help="posterior and check chart (.png/.svg/.pdf)")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.add_argument(
        "--finals",
        action="store_true",
        help="the shipped real finals, each reconstructed from its [reference] condition_on "
        "and scored on the facts held out, in one table",
    )
    p.set_defaults(func=cmd_reconstruct)
