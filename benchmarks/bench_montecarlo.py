"""Monte Carlo throughput and memory.

    python benchmarks/bench_montecarlo.py              # races/s, reference, ratio, 10k end to end
    python benchmarks/bench_montecarlo.py --memory     # + 1,000,000 runs with --out (minutes)

Prints:

1. races per second of the shipped Tokyo scenario (six riders, full model, its [uncertainty]
   section sampled) on all cores through :func:`keirin_sim.montecarlo.run_batch`;
2. the rate of ``python ../shared/bench-reference/run.py naive`` measured in the same run (a
   straightforward SimPy design of a simplified race) and the ratio of the two;
3. the wall time of ``keirin-sim mc scenarios/tokyo2020_mens_final.toml --runs 10000 --seed 7
   --out x.parquet`` end to end (start-up, progress bar on a terminal, Parquet written);
4. with ``--memory``: peak memory of a 1,000,000-run ``keirin-sim mc ... --out big.parquet``:
   the main process's peak resident set (the figure the issue's 500 MB limit is about), the
   largest worker's, and the peak of the whole process tree's proportional set size (PSS:
   pages shared between the forked workers counted once).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "tokyo2020_mens_final.toml"
REFERENCE = ROOT.parent / "shared" / "bench-reference" / "run.py"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "keirin_sim.cli", *args]


def mc_rate(runs: int, workers: int | None) -> tuple[float, float]:
    from keirin_sim.montecarlo import run_batch

    run_batch(SCENARIO, 50, 0, workers=workers, progress=False)  # load the compiled kernel
    t0 = time.perf_counter()
    b = run_batch(SCENARIO, runs, 1, workers=workers, progress=False)
    wall = time.perf_counter() - t0
    assert b.summary.runs == runs
    return runs / wall, wall


def reference_rate() -> float | None:
    if not REFERENCE.exists():
        print(f"reference: {REFERENCE} not found", flush=True)
        return None
    out = subprocess.run(
        [sys.executable, str(REFERENCE), "naive"], capture_output=True, text=True, cwd=ROOT
    )
    m = re.search(r"naive races_per_s=([0-9.]+)", out.stdout)
    if out.returncode != 0 or not m:
        print(f"reference failed: {out.stderr.strip()[-300:]}", flush=True)
        return None
    return float(m.group(1))


def end_to_end(runs: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "x.parquet"
        t0 = time.perf_counter()
        subprocess.run(
            cli("mc", str(SCENARIO), "--runs", str(runs), "--seed", "7", "--out", str(out)),
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        wall = time.perf_counter() - t0
        import pyarrow.parquet as pq

        assert pq.read_metadata(out).num_rows == runs
    return wall


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(x) for x in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            pass
    return out


def _kb(pid: int, field: str, name: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(runs: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "big.parquet"
        argv = cli("mc", str(SCENARIO), "--runs", str(runs), "--seed", "7", "--out", str(out))
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, cwd=ROOT)
        peak = {"pss": 0, "worker": 0, "main": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                pids = _tree(proc.pid)
                pss = sum(_kb(p, "Pss", "smaps_rollup") for p in pids)
                peak["pss"] = max(peak["pss"], pss)
                peak["main"] = max(peak["main"], _kb(proc.pid, "VmHWM"))
                for p in pids[1:]:
                    peak["worker"] = max(peak["worker"], _kb(p, "VmHWM"))
                stop.wait(0.5)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        _, status, usage = os.wait4(proc.pid, 0)
        stop.set()
        th.join()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"memory run failed with exit status {proc.returncode}")
        import pyarrow.parquet as pq

        rows = pq.read_metadata(out).num_rows
        size = out.stat().st_size
    main_mb = max(usage.ru_maxrss, peak["main"]) / 1024.0
    print(
        f"memory: {rows:,} runs with --out in {wall:.0f} s ({rows / wall:,.0f} races/s), "
        f"file {size / 1e6:.0f} MB",
        flush=True,
    )
    print(
        f"memory: peak RSS main process {main_mb:.0f} MB; largest worker "
        f"{peak['worker'] / 1024:.0f} MB; peak PSS of the whole process tree "
        f"{peak['pss'] / 1024:.0f} MB",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20000, help="races for the rate (default 20000)")
    ap.add_argument("--workers", type=int, default=None, help="default: all cores")
    ap.add_argument("--e2e-runs", type=int, default=10000, help="end-to-end runs (default 10000)")
    ap.add_argument("--memory", action="store_true", help="also the 1,000,000-run memory check")
    ap.add_argument("--memory-runs", type=int, default=1_000_000)
    a = ap.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    rate, wall = mc_rate(a.runs, a.workers)
    print(
        f"keirin-sim mc: races_per_s={rate:.0f} races={a.runs} wall={wall:.2f}s "
        f"workers={a.workers or cores} cores={cores}",
        flush=True,
    )
    ref = reference_rate()
    if ref is not None:
        print(f"reference naive SimPy: races_per_s={ref:.1f}", flush=True)
        print(f"ratio: {rate / ref:.0f}x", flush=True)
    e2e = end_to_end(a.e2e_runs)
    print(f"end to end: keirin-sim mc --runs {a.e2e_runs} --out x.parquet: {e2e:.2f} s", flush=True)
    if a.memory:
        memory(a.memory_runs)


if __name__ == "__main__":
    main()
