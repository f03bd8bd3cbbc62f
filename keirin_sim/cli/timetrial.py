"""``keirin-sim tt`` (a time trial ridden alone) and ``keirin-sim calibrate`` (a rider fitted to
its flying 200 m, and kilo); the text they print."""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING

from keirin_sim.calibration import SEXES, CalibrationError, calibrate, default_rider
from keirin_sim.cli.common import (
    CHART_EXTENSIONS,
    EXIT_OK,
    CliError,
    check_output,
    error_line,
    json_safe,
    table,
)
from keirin_sim.engine.timetrial import EVENTS, SEA_LEVEL_AIR_DENSITY, WINDUP_LAPS, ride, rider_dict
from keirin_sim.files import OutputError
from keirin_sim.model.air import air_density
from keirin_sim.model.rider import MASS_BOUNDS_KG, PMAX_BOUNDS_W
from keirin_sim.scenario.checks import CONDITIONS_BOUNDS, TOP_BOUNDS

if TYPE_CHECKING:  # pragma: no cover
    from keirin_sim.calibration import Calibration
    from keirin_sim.engine.timetrial import TimeTrial
    from keirin_sim.model.rider import Rider

#: What each event is, for the text output.
EVENT_TEXT = {
    "flying200": "flying 200 m",
    "flying-lap": "flying lap (250 m)",
    "500m": "500 m from a standing start",
    "standing-lap": "standing lap (250 m)",
    "kilo": "kilo (1000 m from a standing start)",
}
#: Ranges accepted on the command line.  Times: wide around every result in the validation data
#: (flying 200 m from 8.857 s, kilo from 57.321 s); the model says itself which it cannot ride.
FLYING_200_RANGE_S = (7.0, 20.0)
KILO_RANGE_S = (50.0, 120.0)
AIR_DENSITY_RANGE = TOP_BOUNDS["air_density"]
#: A residual (model minus given, s) beyond this is pointed out in the text output: the model
#: cannot ride both times with one physiology (the flying 200 m is fitted to 0.5 ms).
RESIDUAL_NOTE_S = 0.01


def _bounded(lo: float, hi: float, unit: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(v) and lo <= v <= hi):
            raise argparse.ArgumentTypeError(f"{text} is outside [{lo:g}, {hi:g}]{unit}")
        return v

    return parse


def _add_rider_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "--flying-200",
        type=_bounded(*FLYING_200_RANGE_S, " s"),
        metavar="S",
        required=required,
        help="the rider's flying 200 m time (s): calibrate the rider to it"
        + ("" if required else " (default: the default elite rider of --sex)"),
    )
    p.add_argument(
        "--kilo",
        type=_bounded(*KILO_RANGE_S, " s"),
        metavar="S",
        help="the rider's standing kilo (s): fit the fatigue constant to it as well",
    )
    p.add_argument(
        "--mass",
        type=_bounded(*MASS_BOUNDS_KG, " kg"),
        metavar="KG",
        help="rider plus bike (kg) (default: the population value for --sex)",
    )
    p.add_argument(
        "--sex", choices=SEXES, default="men", help="population relations to use (default: men)"
    )


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tt",
        help="ride a time trial alone (flying 200 m, flying lap, 500 m, standing lap, kilo)",
        description="Ride a time trial alone: time, splits, speeds, power, cadence. The rider is "
        "the default elite man or woman, or one calibrated to --flying-200 (and --kilo).",
    )
    p.add_argument(
        "event",
        choices=tuple(EVENTS),
        metavar="EVENT",
        help=f"the event: {', '.join(EVENTS)}",
    )
    _add_rider_options(p, required=False)
    p.add_argument(
        "--air-density",
        type=_bounded(*AIR_DENSITY_RANGE, " kg/m^3"),
        metavar="R",
        help=f"air density of the ride (kg/m^3, default {SEA_LEVEL_AIR_DENSITY:g})",
    )
    cond = p.add_argument_group(
        "conditions of the ride (instead of --air-density: the air density from them)"
    )
    for opt, key, unit, default in (
        ("--temperature", "temperature_c", "deg C", "28"),
        ("--pressure", "pressure_hpa", "hPa", "from the altitude"),
        ("--altitude", "altitude_m", "m", "0"),
        ("--humidity", "relative_humidity", "fraction 0-1", "0"),
    ):
        cond.add_argument(
            opt,
            dest=key,
            type=_bounded(*CONDITIONS_BOUNDS[key], f" {unit}"),
            metavar="X",
            help=f"{unit} (default {default})",
        )
    p.add_argument(
        "--times-air-density",
        type=_bounded(*AIR_DENSITY_RANGE, " kg/m^3"),
        metavar="R",
        help="air density at which --flying-200 and --kilo were ridden (default: "
        f"{SEA_LEVEL_AIR_DENSITY:g})",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.add_argument(
        "--plot", metavar="FILE", help="write the speed/power/cadence chart (.png, .svg or .pdf)"
    )
    p.set_defaults(func=cmd_tt)

    p = sub.add_parser(
        "calibrate",
        help="fit a rider's physiology to its flying 200 m (and kilo)",
        description="Fit a rider's physiology to its flying 200 m (and standing kilo): print "
        "the parameters and the residuals (model minus given time).",
    )
    _add_rider_options(p, required=True)
    p.add_argument(
        "--air-density",
        type=_bounded(*AIR_DENSITY_RANGE, " kg/m^3"),
        metavar="R",
        help=f"air density at which the times were ridden (kg/m^3, default "
        f"{SEA_LEVEL_AIR_DENSITY:g})",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.set_defaults(func=cmd_calibrate)


def _calibrate(cmd: str, args: argparse.Namespace, air_density: float) -> Calibration:
    """:func:`~keirin_sim.calibration.calibrate` from the options; a CliError when it fails."""
    given = f"--flying-200 {args.flying_200:g}"
    if args.kilo is not None:
        given += f" --kilo {args.kilo:g}"
    try:
        cal = calibrate(args.flying_200, args.kilo, args.mass, args.sex, air_density=air_density)
    except CalibrationError as e:
        raise CliError(error_line(cmd, given, str(e))) from None
    lo, hi = PMAX_BOUNDS_W
    if not lo <= cal.rider.pmax_w <= hi:  # the physical range a scenario file allows
        raise CliError(
            error_line(
                cmd,
                given,
                f"no physiology inside the bounds rides that time (it takes Pmax "
                f"{cal.rider.pmax_w:.0f} W, outside [{lo:g}, {hi:g}] W)",
            )
        )
    return cal


def cmd_tt(args: argparse.Namespace) -> int:
    """``keirin-sim tt``."""
    cmd = "keirin-sim tt"
    plot = None
    if args.plot:
        try:
            plot = check_output(args.plot, "--plot", CHART_EXTENSIONS)
        except CliError as e:
            raise CliError(f"{cmd}: {e}") from None
    if args.flying_200 is None:
        for opt, val in (
            ("--kilo", args.kilo),
            ("--mass", args.mass),
            ("--times-air-density", args.times_air_density),
        ):
            if val is not None:
                raise CliError(error_line(cmd, opt, "needs --flying-200 as well"))
    air = SEA_LEVEL_AIR_DENSITY if args.air_density is None else args.air_density
    given = {k: getattr(args, k) for k in CONDITIONS_BOUNDS if getattr(args, k) is not None}
    if given:
        if args.air_density is not None:
            raise CliError(error_line(cmd, "--air-density", "give it or the conditions, not both"))
        air = air_density(**given)
    cal = None
    if args.flying_200 is None:
        rider = default_rider(args.sex)
    else:
        times_air = args.times_air_density or SEA_LEVEL_AIR_DENSITY
        cal = _calibrate(cmd, args, times_air)
        rider = cal.rider
    tt = ride(args.event, rider, air_density=air)  # traces: the top cadence comes from them
    if plot is not None:
        from keirin_sim.plots.timetrial import plot_time_trial

        try:
            plot_time_trial(tt, plot, "--plot")
        except OutputError as e:
            raise CliError(f"{cmd}: {e}") from None
    if args.json:
        out = tt.to_dict()
        out["calibration"] = None if cal is None else cal.to_dict()
        print(json.dumps(json_safe(out), indent=2, allow_nan=False))
    else:
        print(format_time_trial(tt, cal, args.sex))
        if plot is not None:
            print(f"wrote {plot}")
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``keirin-sim calibrate``."""
    air = SEA_LEVEL_AIR_DENSITY if args.air_density is None else args.air_density
    cal = _calibrate("keirin-sim calibrate", args, air)
    if args.json:
        print(json.dumps(json_safe(cal.to_dict()), indent=2, allow_nan=False))
    else:
        print(format_calibration(cal))
    return EXIT_OK


# --- text output ---------------------------------------------------------------------------
def format_rider(r: Rider, extra: list[tuple[str, str]] | None = None) -> str:
    """A rider's parameters (and ``extra`` (name, value) rows), one per line, indented."""
    d = rider_dict(r)
    rows = [
        ("mass (rider and bike)", f"{d['mass_kg']:g} kg"),
        ("CdA", f"{d['cda_m2']:.4f} m^2"),
        ("Crr", f"{d['crr']:g}"),
        ("drivetrain efficiency", f"{d['efficiency']:g}"),
        ("gear", f"{d['development_m']:.3f} m per pedal revolution"),
        ("Pmax", f"{d['pmax_w']:.0f} W at {d['cadence_opt_rpm']:g} rpm"),
        ("CP (aerobic ceiling)", f"{d['cp_w']:.0f} W"),
        ("W' (anaerobic reserve)", f"{d['w_prime_j'] / 1000.0:.1f} kJ"),
        *(extra or []),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def _rho(v: float) -> str:
    """An air density with at least two decimals: 1.17, 1.00, 1.225."""
    return f"{v:.2f}" if round(v, 2) == v else f"{v:g}"


def _rider_source(cal: Calibration | None, sex: str) -> str:
    if cal is None:
        who = "man" if sex == "men" else "woman"
        return f"default elite {who}"
    return f"calibrated {cal.how()}\n  times at air density {_rho(cal.air_density)} kg/m^3"


def _residual_note(cal: Calibration) -> list[str]:
    """A line when the model misses a given time by more than :data:`RESIDUAL_NOTE_S`."""
    names = {"flying200": "flying 200 m", "kilo": "kilo"}
    off = [f"{names[k]} {v:+.3f} s" for k, v in cal.residuals_s.items() if abs(v) > RESIDUAL_NOTE_S]
    if not off:
        return []
    return [f"note: the model cannot ride every given time; model minus given: {', '.join(off)}"]


def format_time_trial(tt: TimeTrial, cal: Calibration | None = None, sex: str = "men") -> str:
    """Everything ``keirin-sim tt`` prints without ``--json``."""
    ev = EVENTS[tt.event]
    rows = []
    prev = 0.0
    for m, s in zip(tt.split_m, tt.splits_s, strict=True):
        rows.append([f"{m:g} m", f"{s:.3f}", f"{s - prev:.3f}"])
        prev = s
    if ev.flying:
        start = (
            f"wind-up of {WINDUP_LAPS:g} laps, all out from {tt.launch_m:.0f} m before the "
            "timed start"
        )
    else:
        start = "standing start, all out from the gun"
    lines = [
        f"{tt.event}: {EVENT_TEXT.get(tt.event, tt.event)} in {tt.time_s:.3f} s "
        f"(air density {_rho(tt.air_density)} kg/m^3)",
        f"  {start}",
        "",
        table(["Split", "Time s", "Segment s"], rows, [True, True, True]),
        "",
        f"  mean speed   {tt.mean_speed_kmh:.2f} km/h",
        f"  top speed    {tt.top_speed_kmh:.2f} km/h (centre of mass: it rides inside the wheels' "
        "line in the bends)",
        f"  peak power   {tt.peak_power_w:.0f} W",
        f"  top cadence  {tt.top_cadence_rpm:.0f} rpm",
    ]
    if ev.flying and tt.launch_m is not None:
        lines.append(f"  launch       {tt.launch_m:.0f} m before the timed start")
    lines += ["", f"Rider: {_rider_source(cal, sex)}", format_rider(tt.rider)]
    if cal is not None:
        lines += _residual_note(cal)
    return "\n".join(lines)


def format_calibration(cal: Calibration) -> str:
    """Everything ``keirin-sim calibrate`` prints without ``--json``."""
    rows = [["flying 200 m", f"{cal.flying_200_s:.3f}", f"{cal.model_flying_200_s:.3f}"]]
    if cal.kilo_s is not None:
        rows.append(["kilo", f"{cal.kilo_s:.3f}", f"{cal.model_kilo_s:.3f}"])
    res = cal.residuals_s
    for row, key in zip(rows, ("flying200", "kilo"), strict=False):
        row.append(f"{res[key]:+.4f}")
    lines = [
        f"Calibrated {cal.how()}",
        f"  times at air density {_rho(cal.air_density)} kg/m^3",
        "",
        format_rider(cal.rider, [("fade rate k", f"{cal.apr_k_per_s:.4f} 1/s")]),
        "",
        table(["Time", "Given s", "Model s", "Residual s"], rows, [False, True, True, True]),
        "(residual: model minus given time)",
        *_residual_note(cal),
    ]
    if cal.kilo_s is None:
        from keirin_sim.calibration import population_kilo_s

        pop = population_kilo_s(cal.flying_200_s, cal.sex)
        lines.append(
            f"Model kilo with this rider: {cal.model_kilo_s:.3f} s (the population relation's "
            f"kilo, fitted with the fade: {pop:.3f} s, residual {cal.model_kilo_s - pop:+.4f} s)"
        )
    return "\n".join(lines)
