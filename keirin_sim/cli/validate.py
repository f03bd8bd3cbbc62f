"""``keirin-sim validate``: the shipped real finals as Monte Carlo, scored against reality."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings

from keirin_sim.cli.batch import batch_note, cli_error
from keirin_sim.cli.common import (
    CHART_EXTENSIONS,
    CliError,
    add_executor_options,
    check_output,
    executor_args,
    nonneg_int,
    pos_int,
    table,
)
from keirin_sim.montecarlo import BatchError, BatchInterrupted
from keirin_sim.montecarlo.executors import TooManyWorkersWarning
from keirin_sim.questions.scorecard import LAST_200M_TOLERANCE, FinalScore, Scorecard, validate


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``validate`` to the ``keirin-sim`` command line."""
    p = sub.add_parser(
        "validate",
        help="score the model against the real finals it was not fitted to",
        description="Run every shipped real final (or the scenarios given, each with a "
        "[reference] finish_order) as a Monte Carlo over its [uncertainty] and compare it "
        "with what happened: the real winner's win probability and rank, the real podium, "
        "the winner's last 200 m, the margin and the winning move; then the mean log "
        "probability of the real winners and the Brier score.",
    )
    p.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files with a [reference] (default: every shipped real final)",
    )
    p.add_argument(
        "--runs", type=pos_int, default=300, metavar="N", help="races per final (default 300)"
    )
    p.add_argument(
        "--seed", type=nonneg_int, default=0, metavar="S", help="seed of the batches (default 0)"
    )
    add_executor_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.add_argument("--plot", metavar="FILE", help="write the model-against-reality chart")
    p.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    """``keirin-sim validate``."""
    plot = check_output(args.plot, "--plot", CHART_EXTENSIONS) if args.plot else None
    ex = executor_args(args)
    with warnings.catch_warnings():
        warnings.simplefilter("always", TooManyWorkersWarning)
        warnings.showwarning = batch_note
        try:
            card = validate(
                args.scenarios or None,
                args.runs,
                args.seed,
                **ex,
            )
        except BatchError as e:
            raise cli_error(e, "validate") from None
        except BatchInterrupted as e:
            why = e.reason + (f" ({e.detail})" if e.detail else "")
            print(f"keirin-sim validate: {why}: {e.done} of {e.total} runs done", file=sys.stderr)
            return e.exit_code
        except ValueError as e:  # a final none of whose races finished: one line
            raise CliError(str(e)) from None
    if plot is not None:
        from keirin_sim import plots

        plots.save(plots.scorecard_chart(card), plot)
    if args.json:
        print(json.dumps(card.to_dict(), indent=2, allow_nan=False))
        return 0
    print(format_scorecard(card))
    if plot is not None:
        print(f"wrote {plot}")
    return 0


def _pct(p: float | None) -> str:
    return "-" if p is None else f"{100 * p:.0f} %"


def _s(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.3f}"


def format_final(f: FinalScore) -> list[str]:
    """One final's lines."""
    last, margin, move = f.winner_last_200m_s, f.winning_margin_s, f.winning_move
    lines = [
        f"{f.name} ({f.scenario}, {f.runs} races)",
        f"  real winner {f.real_winner}: model {_pct(f.p_real_winner)}, "
        f"rank {f.rank_real_winner} of {len(f.riders)}",
    ]
    if f.real_podium is not None:
        lines.append(
            f"  real podium ({', '.join(f.real_podium)}) the model's first three: "
            f"{_pct(f.p_real_podium)}"
        )
    text = (
        f"  winner's last 200 m: model median {_s(last['model_median'])} s "
        f"(p10-p90 {_s(last['model_p10'])}-{_s(last['model_p90'])})"
    )
    if last["real"] is not None:
        err = last["error_pct"]
        ok = err is not None and abs(err) <= 100 * LAST_200M_TOLERANCE
        text += f", real {last['real']:.3f} s ({err:+.1f} %{', within 3 %' if ok else ''})"
    lines.append(text)
    real_margin = "" if margin["real"] is None else f", real {margin['real']:.3f} s"
    lines.append(f"  winning margin: model median {_s(margin['model_median'])} s{real_margin}")
    if move["real"] is not None:
        shares = ", ".join(f"{m.replace('_', ' ')} {_pct(p)}" for m, p in move["shares"].items())
        lines.append(f"  real move {move['real'].replace('_', ' ')}: model {shares}")
    real = {r: str(k + 1) for k, r in enumerate(f.real_order)}
    rows = [
        ["  " + r, _pct(f.p_win[r]), real.get(r, "-")]
        for r in sorted(f.riders, key=lambda r: -f.p_win[r])
    ]
    return [*lines, table(["  Rider", "Model win", "Real place"], rows, [False, True, True])]


def format_scorecard(card: Scorecard) -> str:
    """What ``keirin-sim validate`` prints without ``--json``."""
    out = [f"The model against {len(card.finals)} real finals ({card.runs} races each, "
           f"seed {card.seed})", ""]  # fmt: skip
    for f in card.finals:
        out += [*format_final(f), ""]
    out += [
        "Overall",
        f"  real winner the model's favourite or second: {card.winner_in_top_two} of "
        f"{len(card.finals)} finals",
        f"  mean log probability of the real winners {card.mean_log_p:.3f} "
        f"(uniform guess {card.uniform_log_p:.3f}; higher is better)",
        f"  Brier score {card.brier:.3f} (uniform guess {card.uniform_brier:.3f}; lower is better)",
    ]
    return "\n".join(out)
