"""Rewrite tests/data/rows_fingerprint.json after a deliberate change of the races' results
(the test then guards the new rows bit for bit).

    python tools/refresh_fingerprint.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "montecarlo"))

from test_rows_fingerprint import STORED, digest  # noqa: E402

from keirin_sim.montecarlo import run_batch, sweep  # noqa: E402


def main() -> None:
    out = json.loads(json.dumps(STORED))
    mc = out["mc"]
    mc["sha256"] = digest(run_batch(None, mc["runs"], mc["seed"], workers=2, progress=False).df)
    sw = out["sweep"]
    params = ["Jason Kenny.attack_m_to_go=600:750:150", "field.hesitation_s=4,8"]
    sw["sha256"] = digest(sweep(None, params, sw["runs"], sw["seed"], workers=1, progress=False).df)
    path = ROOT / "tests" / "data" / "rows_fingerprint.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"rewrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
