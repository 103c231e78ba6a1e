"""Ensemble benchmark: how fast and how big ensembles run on this machine.

    .venv/bin/python benchmarks/ensemble.py [--quick] [--workers N] [--precision float32|float64]

Prints a table, then as its last line one JSON object (seconds, MiB, ratios):

- ``t_10k``: 10,000 replicates over the default horizon, full trajectories kept (``sim.run``
  in full mode; median of several runs after a warm-up; each run starts and stops its own workers).
  It is measured in one process (the default configuration) and with ``--workers``
  processes; the JSON gives the faster of the two medians, the table both;
- ``ratio_vs_per_run``: per-replicate cost of 200 separate one-replicate Mesa models (each
  built and stepped through the horizon) divided by the per-replicate cost of one batched
  model of 4,000 replicates (the default chunk, i.e. the model size ``sim.run`` uses), in this
  process, same code path, no recording. The table also shows the like-for-like ratio against
  one model of the same 200 replicates;
- ``t_1m``, ``rss_1m``: 1,000,000 replicates in summary mode (run in a fresh subprocess):
  wall time and peak resident memory, summed over that process and its worker processes;
- ``scaling``: wall time in summary mode at 1k, 10k and 100k replicates.

``--against DIR`` instead measures this code and an older checkout in DIR side by side, in
fresh processes taken in turn (old, new, old, new, ...), and prints the medians: ``t_10k`` (full,
one process), summary mode at ``--replicates`` (default 100,000) with ``--workers`` processes,
and the same on a ``--workers``-process Dask ``LocalCluster`` (this code only).

Timings on a shared machine are noisy: each figure is the median of several runs (``--quick``
runs fewer and skips the million).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.config import compose, validate  # noqa: E402
from sim.model import GeoModel  # noqa: E402
from sim.run import run  # noqa: E402

TARGETS = {"ratio_vs_per_run": 100.0, "t_1m": 60.0, "rss_1m": 2048.0}  # t_10k: relative to before (--against)


def settings(*overrides: str):
    return validate(compose(list(overrides)))


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def steps(model: GeoModel, months: int) -> None:
    for _ in range(months):
        model.step()


def per_replicate_costs(n: int, batch: int, precision: str, repeats: int) -> tuple[float, float, float]:
    """Seconds per replicate: ``n`` separate one-replicate models; one model of ``n``; one of ``batch``."""
    s = settings(f"ensemble.precision={precision}")

    def separate():
        for r in range(n):
            steps(GeoModel(s, 1, rng=0, first=r), s.months)

    def batched(size):
        steps(GeoModel(s, size, rng=0), s.months)

    batched(n)  # warm-up
    each = statistics.median(timed(separate, max(1, repeats // 2))) / n
    same = statistics.median(timed(lambda: batched(n), repeats)) / n
    chunk = statistics.median(timed(lambda: batched(batch), repeats)) / batch
    return each, same, chunk


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and all its descendants, MiB (an upper bound:
    pages shared between processes count once per process)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def million(workers: int, precision: str, replicates: int) -> tuple[float, float]:
    """Run the summary-mode ensemble in a fresh process; return (seconds, peak MiB)."""
    code = f"""
import json, os, sys, time
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r})
from ensemble import peak_rss_mib, settings
from sim.run import run
s = settings("ensemble.replicates={replicates}", "ensemble.mode=summary", "ensemble.workers={workers}",
             "ensemble.precision={precision}")
start = time.perf_counter()
run(s)
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "rss": peak_rss_mib(os.getpid())}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], result["rss"]


def one_run(root: str, overrides: list[str], repeats: int = 1) -> float:
    """Median seconds of ``repeats`` runs (after a warm-up) of the code in ``root``, in a fresh process."""
    code = f"""
import sys, time, statistics
sys.path.insert(0, {root!r})
def main():
    import sim
    assert sim.__file__.startswith({root!r}), sim.__file__
    from sim.config import compose, validate
    from sim.run import run
    s = validate(compose({overrides!r}))
    run(s)
    times = []
    for _ in range({repeats}):
        start = time.perf_counter(); run(s); times.append(time.perf_counter() - start)
    print(statistics.median(times))
if __name__ == "__main__":
    main()
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def side_by_side(old: str, workers: int, replicates: int, rounds: int) -> None:
    new = str(ROOT)
    cases = {"t_10k (full, 1 process)": (["ensemble.replicates=10000"], (old, new)),
             f"summary {replicates:,}, {workers} processes": (
                 [f"ensemble.replicates={replicates}", "ensemble.mode=summary", f"ensemble.workers={workers}"],
                 (old, new)),
             f"summary {replicates:,}, Dask LocalCluster of {workers}": (
                 [f"ensemble.replicates={replicates}", "ensemble.mode=summary", f"ensemble.workers={workers}",
                  "ensemble.executor=dask"], (new,))}
    times: dict[tuple[str, str], list[float]] = {}
    for k in range(rounds):
        for name, (overrides, roots) in cases.items():
            for root in roots:
                t = one_run(root, overrides, repeats=2 if "t_10k" in name else 1)
                times.setdefault((name, root), []).append(t)
                print(f"  round {k + 1}: {name}, {'old' if root == old else 'new'}: {t:.2f} s", file=sys.stderr, flush=True)
    result = {}
    for name, (_, roots) in cases.items():
        medians = {("old" if r == old else "new"): statistics.median(times[(name, r)]) for r in roots}
        result[name] = {k: round(v, 2) for k, v in medians.items()}
        if "old" in medians:
            result[name]["new/old"] = round(medians["new"] / medians["old"], 3)
    local = result[f"summary {replicates:,}, {workers} processes"]["new"]
    dask = result[f"summary {replicates:,}, Dask LocalCluster of {workers}"]["new"]
    result["dask overhead vs local"] = round(dask / local - 1, 3)
    print(f"old: {old}; {rounds} rounds; machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no million")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel rows (default 2, "
                                                                 "this machine's cores)")
    parser.add_argument("--precision", default=settings()["ensemble.precision"], choices=("float32", "float64"),
                        help="arithmetic (default: the configuration's default)")
    parser.add_argument("--against", metavar="DIR", help="older checkout to measure side by side with this code")
    parser.add_argument("--replicates", type=int, default=100_000, help="summary-mode size for --against")
    parser.add_argument("--rounds", type=int, default=3, help="alternations for --against")
    args = parser.parse_args()
    if args.against:
        side_by_side(str(Path(args.against).resolve()), args.workers, args.replicates, args.rounds)
        return
    repeats = 2 if args.quick else 5
    w, prec = args.workers, args.precision
    rows = []

    def row(name, config, value, unit, target=None, higher=False):
        ok = "" if target is None else ("ok" if (value >= target if higher else value <= target) else "MISSED")
        rows.append((name, config, f"{value:,.3f}" if value < 100 else f"{value:,.0f}", unit,
                     "" if target is None else f"{'≥' if higher else '≤'} {target:g}", ok))
        print(f"  {name}: {value:.3f} {unit}", file=sys.stderr, flush=True)

    # full trajectories, 10,000 replicates: one process (the default) and w processes
    full = ["ensemble.replicates=10000", f"ensemble.precision={prec}"]
    t_full = {}
    for workers in (1, w):
        s10k = settings(*full, f"ensemble.workers={workers}")
        run(s10k)  # warm-up: starts the worker processes, touches the memory once
        t_full[workers] = statistics.median(timed(lambda s10k=s10k: run(s10k), repeats))
        row("t_10k" if workers == 1 else f"t_10k ({workers} processes)", f"full, {workers} process"
            f"{'es' if workers > 1 else ''}, {prec}", t_full[workers], "s")
    t_10k = min(t_full.values())

    # separate one-replicate models vs one batched model
    each, same, chunk = per_replicate_costs(200, 4000, prec, repeats)
    months = settings().months
    row("per-replicate cost, separate models", "200 models of 1 replicate", each * 1e3, "ms")
    row("per-replicate cost, batched model", "1 model of the same 200", same * 1e3, "ms")
    row("per-replicate cost, batched model", "1 model of 4,000 (default chunk)", chunk * 1e3, "ms")
    row("model step", f"1 model of 4,000 replicates, {prec}", chunk / months * 1e6, "µs/replicate-month")
    row("ratio, like for like", "200 separate / 1 model of 200", each / same, "x")
    ratio = each / chunk
    row("ratio_vs_per_run", "200 separate / 1 model of 4,000", ratio, "x", TARGETS["ratio_vs_per_run"], higher=True)

    # summary mode: scaling and the million
    scaling = {}
    for n in (1_000, 10_000, 100_000):
        s = settings(f"ensemble.replicates={n}", "ensemble.mode=summary", f"ensemble.workers={w}",
                     f"ensemble.precision={prec}")
        run(s) if n == 1_000 else None
        scaling[str(n)] = statistics.median(timed(lambda s=s: run(s), 1 if n == 100_000 else repeats))
        row(f"summary, {n:,} replicates", f"summary, {w} processes", scaling[str(n)], "s")
    if args.quick:
        t_1m, rss_1m = float("nan"), float("nan")
    else:
        t_1m, rss_1m = million(w, prec, 1_000_000)
        row("t_1m", f"summary, {w} processes, {prec}, fresh process", t_1m, "s", TARGETS["t_1m"])
        row("rss_1m", "peak RSS, process + workers", rss_1m, "MiB", TARGETS["rss_1m"])
    per = {n: t / int(n) * 1e6 for n, t in scaling.items()}
    row("scaling 100k / 10k per replicate", "1.0 = linear", per["100000"] / per["10000"], "")

    widths = [max(len(str(r[i])) for r in [("measure", "configuration", "value", "unit", "target", ""), *rows])
              for i in range(6)]
    header = ("measure", "configuration", "value", "unit", "target", "")
    print("  ".join(h.ljust(wd) for h, wd in zip(header, widths, strict=True)))
    print("  ".join("-" * wd for wd in widths))
    for r in rows:
        print("  ".join(str(c).ljust(wd) for c, wd in zip(r, widths, strict=True)))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; numpy {np.__version__}")
    print(json.dumps({"t_10k": round(t_10k, 3), "ratio_vs_per_run": round(ratio, 1),
                      "t_1m": round(t_1m, 1), "rss_1m": round(rss_1m, 0),
                      "scaling": {n: round(t, 3) for n, t in scaling.items()}}))


if __name__ == "__main__":
    main()
