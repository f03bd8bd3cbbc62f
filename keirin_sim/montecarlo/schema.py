"""The Arrow schema of a batch's rows and the conversions between numpy columns and Arrow
tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from keirin_sim.montecarlo.jobs import Job, track_info
from keirin_sim.version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pyarrow as pa


FORMAT_VERSION = 2


def rows_schema(job: Job) -> pa.Schema:
    import pyarrow as pa

    f: list[tuple[str, Any]] = []
    if job.kind == "sweep":
        f.append(("point", pa.int64()))
        for k, p in enumerate(job.params):
            v = job.points[0].values[k]
            t = (
                pa.string()
                if isinstance(v, str)
                else pa.bool_()
                if isinstance(v, bool)
                else (
                    pa.int64()
                    if all(isinstance(q.values[k], int) for q in job.points)
                    else pa.float64()
                )
            )
            f.append((p, t))
    f.append(("run", pa.int64()))
    f += [(c, pa.float64()) for c in job.columns]
    if job.lot:
        f += [(f"start.{nm}", pa.int8()) for nm in job.names]
    f += [("winner", pa.string()), ("winning_margin_s", pa.float64())]
    f += [(f"pos.{nm}", pa.int8()) for nm in job.names]
    f += [(f"time.{nm}", pa.float64()) for nm in job.names]
    f += [(f"margin.{nm}", pa.float64()) for nm in job.names]
    f += [("winning_move", pa.string()), ("bell_leader", pa.string())]
    f += [(c, pa.float64()) for c in ("bell_speed_kmh", "winner_bell_speed_kmh")]
    f += [("winner_last_200m_s", pa.float64())]
    most = max(pt.base.laps for pt in job.points)  # a sweep may vary the laps
    f += [(f"place{ltg}.{nm}", pa.int8()) for ltg in range(most - 1, 0, -1) for nm in job.names]
    f += [("caught", pa.bool_()), ("catch_m_to_go", pa.float64()), ("catch_time_s", pa.float64())]
    f += [("caught_by", pa.string()), ("error", pa.string())]
    meta = {
        "keirin_sim": json.dumps(
            {
                "format": FORMAT_VERSION,
                "kind": job.kind,
                "scenario": job.scenario_name,
                "seed": job.seed,
                "runs": job.runs,
                "points": len(job.points),
                "attacker": job.attacker,
                "riders": list(job.names),
                "params": list(job.params),
                "dt_s": float(job.points[0].base.dt_s),
                "version": __version__,
                "scenario_file": job.points[0].base.source,
                **track_info(job.points[0].base),
            }
        )
    }
    return pa.schema(f, metadata=meta)


def _arrow(v: np.ndarray, typ: pa.DataType) -> pa.Array:
    """``pa.array(v, type=typ)`` built from the column's buffers: ``pa.array`` imports pandas
    (a quarter of a second) to ask whether ``v`` is one.  Numbers and flags have no nulls
    (NaN stays a value, as ``pa.array`` leaves it); text columns hold str or None."""
    import pyarrow as pa

    n = len(v)
    if pa.types.is_string(typ):
        valid = np.array([x is not None for x in v], dtype=bool)
        data = [x.encode() for x in v if x is not None]
        lens = np.zeros(n, dtype=np.int32)
        lens[valid] = [len(b) for b in data]
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(lens, out=offsets[1:])
        return pa.Array.from_buffers(
            typ,
            n,
            [_bits(valid), pa.py_buffer(offsets), pa.py_buffer(b"".join(data))],
            null_count=int(n - valid.sum()),
        )
    if pa.types.is_boolean(typ):
        return pa.Array.from_buffers(typ, n, [None, _bits(np.asarray(v, dtype=bool))])
    dtype = np.dtype(typ.to_pandas_dtype())
    return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(np.ascontiguousarray(v, dtype))])


def _bits(mask: np.ndarray) -> pa.Buffer:
    """Arrow's bit-packed form of a boolean mask (least significant bit first)."""
    import pyarrow as pa

    return pa.py_buffer(np.packbits(mask, bitorder="little"))


def rows_table(schema: pa.Schema, cols: Mapping[str, np.ndarray]) -> pa.Table:
    import pyarrow as pa

    m = len(cols["run"])
    # a lap mark a shorter race of a sweep does not have: place 0, as for a failed run
    arrays = [
        _arrow(cols[fld.name] if fld.name in cols else np.zeros(m, np.int8), fld.type)
        for fld in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def row_columns(table: pa.Table) -> dict[str, np.ndarray]:
    out = {}
    for name in table.column_names:
        c = table.column(name)
        if name in ("caught_by", "error", "winner"):
            out[name] = np.array(c.to_pylist(), dtype=object)
        else:
            out[name] = c.to_numpy(zero_copy_only=False)
    return out


#: The columns of :func:`tidy_rows` (a sweep's ``point`` and parameters come first).
TIDY_COLUMNS = ("run", "rider", "start", "place", "time_s", "margin_s")


def tidy_rows(df: pd.DataFrame) -> pd.DataFrame:
    """A batch's rows (one per race, wide: ``pos.<rider>``, ``time.<rider>``...) as a tidy long
    table: one row per race and rider, columns ``run``, ``rider``, ``start`` (start position
    behind the derny: drawn by lot when the batch draws it, else the scenario's order),
    ``place``, ``time_s``, ``margin_s`` (behind that race's winner); a sweep's rows also keep
    ``point`` and the swept parameters, first.  Sorted by (point,) run and place; races that
    failed (see ``error``) are left out, as the summary leaves them out.  ``df.attrs`` is kept.
    """
    import pandas as pd

    names = [c[4:] for c in df.columns if c.startswith("pos.")]
    if not names:
        raise ValueError("no pos.<rider> columns: not rows of a keirin-sim batch")
    keys = list(df.columns[: list(df.columns).index("run")]) if "run" in df.columns else []
    pos = np.stack([df[f"pos.{nm}"].to_numpy(np.int64) for nm in names], axis=1)
    ok = (pos > 0).all(axis=1)
    m, n = int(ok.sum()), len(names)
    if all(f"start.{nm}" in df.columns for nm in names):
        start = np.stack([df[f"start.{nm}"].to_numpy(np.int64) for nm in names], axis=1)[ok]
    else:
        start = np.tile(np.arange(1, n + 1, dtype=np.int64), (m, 1))

    def wide(prefix: str) -> np.ndarray:
        return np.stack([df[f"{prefix}.{nm}"].to_numpy(np.float64) for nm in names], axis=1)[ok]

    out = pd.DataFrame(
        {
            **{k: np.repeat(df[k].to_numpy()[ok], n) for k in keys},
            "run": np.repeat(df["run"].to_numpy(np.int64)[ok], n),
            "rider": np.tile(np.array(names, dtype=object), m),
            "start": start.reshape(-1),
            "place": pos[ok].reshape(-1),
            "time_s": wide("time").reshape(-1),
            "margin_s": wide("margin").reshape(-1),
        }
    )
    out = out.sort_values([*keys, "run", "place"], kind="stable", ignore_index=True)
    out.attrs.update(df.attrs)
    return out
