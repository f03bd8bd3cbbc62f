"""The same seed gives the same rows across refactors: a digest of a few thousand Monte Carlo
rows and a small sweep is stored in tests/data/rows_fingerprint.json with the toolchain that
made it (tools/refresh_fingerprint.py).

On that toolchain the rows must match bit for bit.  Elsewhere they cannot: the kernel is
compiled with fastmath, so the last bits of a finish time depend on the LLVM version numba
brings.  There the stored summary is compared with a tolerance instead (each rider's wins
within 1 % of the runs plus 2, each rider's mean finish time within 5 ms)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from toolchain import toolchain

from keirin_sim.montecarlo import run_batch, sweep

STORED = json.loads((Path(__file__).parents[1] / "data" / "rows_fingerprint.json").read_text())
SWEEP_PARAMS = ["Jason Kenny.attack_m_to_go=600:750:150", "field.hesitation_s=4,8"]


def digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for c in df.columns:
        h.update(c.encode())
        v = df[c].to_numpy()
        if v.dtype == object:
            h.update(repr([x if isinstance(x, str) else None for x in v]).encode())
        else:
            h.update(np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


def summary(df: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each rider's wins and mean finish time: what a toolchain may not move."""
    names = [c[len("time.") :] for c in df.columns if c.startswith("time.")]
    wins = df["winner"].value_counts()
    return {
        "wins": {n: int(wins.get(n, 0)) for n in names},
        "mean_time_s": {n: round(float(df[f"time.{n}"].mean()), 6) for n in names},
    }


def mc_rows() -> pd.DataFrame:
    s = STORED["mc"]
    return run_batch(None, s["runs"], s["seed"], workers=2, progress=False).df


def sweep_rows() -> pd.DataFrame:
    s = STORED["sweep"]
    return sweep(None, SWEEP_PARAMS, s["runs"], s["seed"], workers=1, progress=False).df


def check(df: pd.DataFrame, stored: dict) -> None:
    if toolchain() == STORED["toolchain"]:
        assert digest(df) == stored["sha256"]
        return
    got, want = summary(df), stored["summary"]
    runs = len(df)
    for n, w in want["wins"].items():
        assert abs(got["wins"][n] - w) <= 0.01 * runs + 2, (n, got["wins"][n], w)
    for n, t in want["mean_time_s"].items():
        assert got["mean_time_s"][n] == pytest.approx(t, abs=0.005), n


def test_monte_carlo_rows_unchanged():
    check(mc_rows(), STORED["mc"])


def test_sweep_rows_unchanged():
    check(sweep_rows(), STORED["sweep"])


def test_the_tolerance_check_catches_a_changed_model():
    """The check off the reference toolchain is not vacuous: one rider's mean time moved by
    10 ms fails it."""
    df = sweep_rows()
    moved = df.copy()
    moved["time.Jason Kenny"] += 0.010
    with pytest.raises(AssertionError):
        saved = STORED["toolchain"]
        try:
            STORED["toolchain"] = {}
            check(moved, STORED["sweep"])
        finally:
            STORED["toolchain"] = saved
