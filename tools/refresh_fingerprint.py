"""Rewrite tests/data/rows_fingerprint.json after a deliberate change of the races' results
(say why in the commit): the rows' digests, their summaries and the toolchain they were made on.

    python tools/refresh_fingerprint.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "montecarlo"), str(ROOT / "tests")]

from test_runner_fingerprint import STORED, digest, mc_rows, summary, sweep_rows, toolchain  # noqa: E402


def main() -> None:
    out = json.loads(json.dumps(STORED))
    for key, rows in (("mc", mc_rows()), ("sweep", sweep_rows())):
        out[key]["sha256"] = digest(rows)
        out[key]["summary"] = summary(rows)
    out["toolchain"] = toolchain()
    path = ROOT / "tests" / "data" / "rows_fingerprint.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"rewrote {path.relative_to(ROOT)} on {out['toolchain']}")


if __name__ == "__main__":
    main()
