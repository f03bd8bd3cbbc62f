"""What the last bits of a race depend on, and whether this run is on the toolchain the stored
outputs (the rows fingerprint, the docs' printed outputs) were made on.  The kernel is compiled
with fastmath, so another LLVM (numba) may move a finish time by a last bit, and a knife-edge
decision in a race can turn that into hundredths."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np

STORED = json.loads((Path(__file__).parent / "data" / "rows_fingerprint.json").read_text())


def toolchain() -> dict[str, str]:
    import llvmlite
    import numba

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
    }


def on_reference_toolchain() -> bool:
    return toolchain() == STORED.get("toolchain")
