"""Speed of one race: `simulate()` of the Tokyo scenario, and the CLI end to end.

    python benchmarks/bench_simulate.py [--races N]

Prints the machine, the median and spread of `simulate()` without traces after warm-up (target:
median at most 1 ms), the split between the compiled kernel and Python/SimPy, with traces, and
`keirin-sim run --plot` from a fresh process (target: under 3 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}"


def with_kernel_timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Run ``fn`` with the compiled kernel's calls timed: the wall time of ``fn`` and the part
    of it spent in the kernel (s)."""
    import keirin_sim.engine.race as R

    real = R.K.advance
    spent = 0.0

    def timed(*args):
        nonlocal spent
        t0 = time.perf_counter()
        out = real(*args)
        spent += time.perf_counter() - t0
        return out

    R.K.advance = timed
    try:
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t, spent
    finally:
        R.K.advance = real


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--races", type=int, default=500)
    a = ap.parse_args()

    import keirin_sim.engine.kernel as K
    import keirin_sim.simulation as R
    from keirin_sim import load_scenario, simulate

    sc = load_scenario()
    for _ in range(5):
        simulate(sc, traces=False)  # compile or load numba's cache, warm caches
    times = []
    for _ in range(a.races):
        t = time.perf_counter()
        simulate(sc, traces=False)
        times.append(time.perf_counter() - t)
    q = statistics.quantiles(times, n=20)
    print(f"machine: {machine()}")
    print(
        f"simulate(tokyo, traces=False): median {statistics.median(times) * 1e3:.3f} ms, "
        f"p5 {q[0] * 1e3:.3f} ms, p95 {q[-1] * 1e3:.3f} ms over {a.races} races"
    )

    # kernel share: time the compiled advance() calls inside the same races
    n = min(a.races, 200)

    def races() -> None:
        for _ in range(n):
            simulate(sc, traces=False)

    total, kern = with_kernel_timed(races)
    total /= n
    kern /= n
    print(
        f"  of which compiled kernel {kern * 1e3:.3f} ms, SimPy and Python "
        f"{(total - kern) * 1e3:.3f} ms (instrumented run, mean)"
    )
    race = R.build_race(sc, traces=False)
    race.run()
    ks = race.kstats
    print(
        f"  kernel work per race: {ks[K.HS_STEPS]:.0f} steps, {ks[K.HS_REJECTED]:.0f} rejected, "
        f"{ks[K.HS_LOCATED]:.0f} located state events, {ks[K.HS_CALLS]:.0f} calls"
    )
    t = time.perf_counter()
    for _ in range(50):
        simulate(sc, traces=True)
    print(f"simulate(tokyo, traces=True): mean {(time.perf_counter() - t) / 50 * 1e3:.3f} ms")

    exe = Path(sys.executable).with_name("keirin-sim")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "keirin_sim.cli"]
    with tempfile.TemporaryDirectory() as d:
        png = Path(d) / "tokyo.png"
        walls = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([*cmd, "run", "--plot", str(png)], check=True, capture_output=True)
            walls.append(time.perf_counter() - t)
        print(
            f"keirin-sim run --plot tokyo.png, fresh process: best {min(walls):.2f} s, "
            f"worst {max(walls):.2f} s of 3 (numba cache warm)"
        )


if __name__ == "__main__":
    main()
