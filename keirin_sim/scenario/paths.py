"""Parameter paths and value ranges: the one grammar ``compare --sweep``, ``catch
--hesitation``, ``sweep --param`` and a ``[sweep]`` section share.

A range is ``START:STOP:STEP`` (STOP included when it falls on the grid, either direction),
``A,B,C`` or one value; a grid point is ``PATH=RANGE`` with PATH a dotted parameter path
(:meth:`keirin_sim.Scenario.set_param`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from keirin_sim.scenario.checks import ScenarioError

#: The most values one range may give (a guard against a typo such as ``0:1000:0.0001``).
MAX_VALUES = 10_000


class RangeError(ScenarioError):
    """A range or grid point that cannot be read; the message is one line naming the option."""


def _value(text: str) -> Any:
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        v = float(t)
    except ValueError:
        return t
    return int(v) if v.is_integer() and re.fullmatch(r"[+-]?\d+", t) else v


def _steps(text: str, what: str) -> list[float]:
    parts = text.split(":")
    if len(parts) != 3:
        eg = f"{text.strip()}:STEP" if len(parts) == 2 else "START:STOP:STEP"
        raise RangeError(
            f"{what}: {text!r} is a range of {len(parts)} parts: write START:STOP:STEP, the "
            f"step too (such as {eg}), or values A,B,C"
        )
    try:
        start, stop, step = (float(p) for p in parts)
    except ValueError:
        raise RangeError(f"{what}: {text!r} is not START:STOP:STEP numbers") from None
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise RangeError(f"{what}: {text!r} must be finite numbers")
    if step <= 0:
        raise RangeError(f"{what}: step must be positive, got {step:g}")
    n = math.floor(abs(stop - start) / step + 1e-9) + 1
    if n > MAX_VALUES:
        raise RangeError(f"{what}: {text!r} gives {n} values (at most {MAX_VALUES:,})")
    sign = 1.0 if stop >= start else -1.0
    return [round(start + sign * k * step, 10) for k in range(n)]


def parse_values(text: str, what: str = "range") -> list[Any]:
    """The values of a range: ``START:STOP:STEP``, ``A,B,C`` or one value.

    >>> parse_values("0:1:0.5")
    [0.0, 0.5, 1.0]
    >>> parse_values("750:650:50")
    [750.0, 700.0, 650.0]
    >>> parse_values("1,2.5,wheel")
    [1, 2.5, 'wheel']
    """
    text = str(text).strip()
    if ":" in text:
        return _steps(text, what)
    vals = [_value(t) for t in text.split(",") if t.strip()]
    if not vals:
        raise RangeError(f"{what}: no values")
    return vals


def parse_range(text: str, what: str = "range") -> list[float]:
    """A numeric range (:func:`parse_values` whose values must all be numbers).

    >>> parse_range("0:15:5")
    [0.0, 5.0, 10.0, 15.0]
    """
    vals = parse_values(text, what)
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise RangeError(f"{what}: {text!r} is not START:STOP:STEP, A,B,C or a number")
        out.append(float(v))
    return out


def parse_grid(spec: str | tuple[str, Any], source: str = "--param") -> tuple[str, list[Any]]:
    """``"Jason Kenny.launch_m_to_go=150:750:50"`` -> ``(path, [150.0, 200.0, ... 750.0])``.
    A ``(path, values)`` pair (values a list or such a string) is accepted too."""
    if isinstance(spec, tuple):
        path, rhs = spec
    else:
        path, eq, rhs = str(spec).partition("=")
        if not eq:
            raise RangeError(f"{source}: {spec}: expected NAME.FIELD=START:STOP:STEP or =A,B,C")
    path = str(path).strip()
    if not path:
        raise RangeError(f"{source}: {spec}: missing the parameter name before '='")
    if not isinstance(rhs, str):
        vals = list(rhs) if isinstance(rhs, (list, tuple)) else [rhs]
        if not vals:
            raise RangeError(f"{source}: {path}: no values")
        return path, vals
    vals = parse_values(rhs, f"{source}: {path}")
    if ":" in rhs and all(float(v).is_integer() for v in vals):
        vals = [int(v) for v in vals]
    return path, vals
