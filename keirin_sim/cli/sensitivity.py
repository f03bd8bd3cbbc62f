"""``keirin-sim sensitivity``: which uncertain inputs an answer hangs on (SALib)."""

from __future__ import annotations

import argparse
import json

from keirin_sim.cli.common import (
    CHART_EXTENSIONS,
    EXIT_OK,
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
from keirin_sim.files import write_atomically
from keirin_sim.montecarlo import BatchError
from keirin_sim.questions.sensitivity import (
    METHODS,
    OUTPUTS,
    Sensitivity,
    SensitivityError,
    salib,
    sensitivity,
)

ROW_FORMATS = (".parquet", ".pq", ".csv")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``sensitivity`` to the ``keirin-sim`` command line."""
    p = sub.add_parser(
        "sensitivity",
        help="global sensitivity of an answer to the uncertain inputs (Sobol or Morris)",
        description="Sobol indices (first order and total, with 95 % intervals) or Morris "
        "screening of one output of the race over the scenario's [uncertainty] inputs or "
        "the given ranges (SALib).",
    )
    add_scenario_argument(p)
    p.add_argument(
        "--output",
        required=True,
        metavar="OUTPUT",
        help=f"the answer: {', '.join(OUTPUTS)} (catch: the critical hesitation; margin: "
        "the attacker's signed margin)",
    )
    p.add_argument(
        "--params",
        nargs="+",
        metavar="NAME.FIELD=LOW:HIGH",
        help='inputs drawn uniformly, e.g. "Jason Kenny.w_prime_j=40000:70000" '
        "(default: the scenario's [uncertainty])",
    )
    p.add_argument(
        "--samples",
        type=pos_int,
        default=64,
        metavar="N",
        help="sobol: base samples, a power of two (N (D+2) races); morris: trajectories "
        "(N (D+1) races); default 64",
    )
    p.add_argument(
        "--seed", type=nonneg_int, default=0, metavar="S", help="sampling seed (default 0)"
    )
    p.add_argument("--method", default="sobol", choices=METHODS, help="default sobol")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.add_argument("--plot", metavar="FILE", help="write the bar chart of the indices")
    p.add_argument("--out", metavar="FILE", help="write one row per race: .parquet or .csv")
    add_executor_options(p)
    p.set_defaults(func=cmd_sensitivity)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """``keirin-sim sensitivity``."""
    plot = check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None
    out = check_output(args.out, "--out", ROW_FORMATS) if args.out else None
    if plot is not None and out is not None and plot.resolve() == out.resolve():
        raise CliError(f"{out}: output: the same file is given twice")
    ex = executor_args(args)
    sc = load_or_fail(args.scenario)
    try:
        salib()
        s = sensitivity(
            sc,
            args.output,
            args.params,
            args.samples,
            args.seed,
            args.method,
            **ex,
        )
    except (SensitivityError, BatchError) as e:
        raise CliError(str(e)) from None
    if out is not None:
        df = s.rows()
        if out.suffix.lower() == ".csv":
            write_atomically(out, lambda tmp: df.to_csv(tmp, index=False), "--out")
        else:
            write_atomically(out, lambda tmp: df.to_parquet(tmp, index=False), "--out")
    if plot is not None:
        from keirin_sim import plots

        plots.save(plots.sensitivity_chart(s), plot)
    if args.json:
        print(json.dumps(json_safe(s.to_dict()), indent=2, allow_nan=False))
        return EXIT_OK
    print(format_sensitivity(s))
    for w in (out, plot):
        if w is not None:
            print(f"wrote {w}")
    return EXIT_OK


def format_sensitivity(s: Sensitivity) -> str:
    """The indices table, most influential input first."""
    d = s.to_dict()
    head = (
        f"{s.scenario}: {s.method} sensitivity of {s.output} ({s.evaluations} races, "
        f"{s.samples} samples, seed {s.seed}); {s.output} mean {d['output_mean']}, "
        f"sd {d['output_sd']}"
    )
    by = {p["name"]: p for p in d["params"]}
    rows = []
    for name in s.ranking():
        p = by[name]
        if s.method == "sobol":
            rows.append(
                [
                    name,
                    f"{p['S1']:.3f} +- {p['S1_conf']:.3f}",
                    f"{p['ST']:.3f} +- {p['ST_conf']:.3f}",
                ]
            )
        else:
            rows.append(
                [name, f"{p['mu_star']:.4g} +- {p['mu_star_conf']:.3g}", f"{p['sigma']:.4g}"]
            )
    cols = ["Input", "S1 (first order)", "ST (total)"]
    if s.method == "morris":
        cols = ["Input", "mu* (mean |effect|)", "sigma"]
    return "\n".join([head, "", table(cols, rows, [False, True, True])])
