"""Ensemble benchmark: how fast and how big ensembles run on this machine.

    .venv/bin/python benchmarks/ensemble.py [--quick] [--workers N] [--against DIR] [--precision float32|float64]

Prints a table, writes it with the machine, the date and the commit to
``benchmarks/results/ensemble.md`` (the one place these figures are kept), and prints as its
last line one JSON object (seconds, MiB, ratios):

- ``t_10k``: 10,000 replicates over the default horizon, full trajectories kept (``sim.run``
  in full mode; median of several runs after a warm-up), in one process (the default
  configuration); the table also gives ``--workers`` processes;
- ``ratio_vs_per_run``: per-replicate cost of 200 separate one-replicate Mesa models (each
  built and stepped through the horizon) divided by the per-replicate cost of one batched
  model of 4,000 replicates (the default chunk, i.e. the model size ``sim.run`` uses), in this
  process, same code path, no recording. The table also shows the like-for-like ratio against
  one model of the same 200 replicates;
- ``t_1m``, ``rss_1m``: 1,000,000 replicates in summary mode on ``--workers`` local processes
  (run in a fresh process): wall time and peak resident memory, summed over that process and
  its workers; ``t_1m_dask`` the same on a Dask ``LocalCluster`` of ``--workers`` processes,
  and ``dask_overhead`` = t_1m_dask / t_1m - 1;
- ``scaling``: wall time in summary mode at 1k, 10k and 100k replicates;
- with ``--against DIR`` (an older checkout, e.g. ``git worktree add /tmp/old <commit>``):
  ``t_10k`` and the 100k summary of this code and of DIR, in fresh processes taken in turn
  (old, new, old, new, ...), their medians and ``new/old``.

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

TARGETS = {"ratio_vs_per_run": 100.0, "t_1m": 60.0, "rss_1m": 2048.0, "dask_overhead": 0.25, "t_10k new/old": 1.15}


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


def million(workers: int, precision: str, replicates: int, executor: str = "local") -> tuple[float, float]:
    """Run the summary-mode ensemble in a fresh process; return (seconds, peak MiB)."""
    code = f"""
import json, os, sys, time
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'benchmarks')!r})
from ensemble import peak_rss_mib, settings
from sim.run import run
def main():
    s = settings("ensemble.replicates={replicates}", "ensemble.mode=summary", "ensemble.workers={workers}",
                 "ensemble.precision={precision}", "ensemble.executor={executor}")
    start = time.perf_counter()
    run(s)
    seconds = time.perf_counter() - start
    print(json.dumps({{"seconds": seconds, "rss": peak_rss_mib(os.getpid())}}))
if __name__ == "__main__":
    main()
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


def side_by_side(old: str, workers: int, replicates: int, rounds: int) -> dict[str, dict[str, float]]:
    """Medians of this code and the checkout ``old``, in fresh processes taken in turn."""
    new = str(ROOT)
    cases = {"t_10k": ["ensemble.replicates=10000"],
             f"summary {replicates:,}": [f"ensemble.replicates={replicates}", "ensemble.mode=summary",
                                         f"ensemble.workers={workers}"]}
    times: dict[tuple[str, str], list[float]] = {}
    for k in range(rounds):
        for name, overrides in cases.items():
            for label, root in (("old", old), ("new", new)):
                t = one_run(root, overrides, repeats=2 if name == "t_10k" else 1)
                times.setdefault((name, label), []).append(t)
                print(f"  round {k + 1}: {name}, {label}: {t:.2f} s", file=sys.stderr, flush=True)
    out = {}
    for name in cases:
        old_t, new_t = (statistics.median(times[(name, label)]) for label in ("old", "new"))
        out[name] = {"old": round(old_t, 3), "new": round(new_t, 3), "new/old": round(new_t / old_t, 3)}
    return out


def commit(root: Path = ROOT) -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=root)
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no million")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel rows (default 2, "
                                                                 "this machine's cores)")
    parser.add_argument("--precision", default=settings()["ensemble.precision"], choices=("float32", "float64"),
                        help="arithmetic (default: the configuration's default)")
    parser.add_argument("--against", metavar="DIR", help="older checkout to measure side by side with this code")
    parser.add_argument("--rounds", type=int, default=3, help="alternations for --against")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "ensemble.md"),
                        help="where the table goes (default benchmarks/results/ensemble.md)")
    args = parser.parse_args()
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
        run(s10k)  # warm-up
        t_full[workers] = statistics.median(timed(lambda s10k=s10k: run(s10k), repeats))
        row("t_10k" if workers == 1 else f"t_10k ({workers} processes)", f"full, {workers} process"
            f"{'es' if workers > 1 else ''}, {prec}", t_full[workers], "s")
    t_10k = t_full[1]

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

    # summary mode: scaling and the million, on local processes and on Dask
    scaling = {}
    for n in (1_000, 10_000, 100_000):
        s = settings(f"ensemble.replicates={n}", "ensemble.mode=summary", f"ensemble.workers={w}",
                     f"ensemble.precision={prec}")
        run(s) if n == 1_000 else None
        scaling[str(n)] = statistics.median(timed(lambda s=s: run(s), 1 if n == 100_000 else repeats))
        row(f"summary, {n:,} replicates", f"summary, {w} processes", scaling[str(n)], "s")
    per = {n: t / int(n) * 1e6 for n, t in scaling.items()}
    row("scaling 100k / 10k per replicate", "1.0 = linear", per["100000"] / per["10000"], "")
    result = {"t_10k": round(t_10k, 3), "ratio_vs_per_run": round(ratio, 1),
              "scaling": {n: round(t, 3) for n, t in scaling.items()}}
    if not args.quick:
        t_1m, rss_1m = million(w, prec, 1_000_000)
        row("t_1m", f"summary, {w} local processes, {prec}, fresh process", t_1m, "s", TARGETS["t_1m"])
        row("rss_1m", "peak RSS, process + workers", rss_1m, "MiB", TARGETS["rss_1m"])
        t_dask, rss_dask = million(w, prec, 1_000_000, "dask")
        row("t_1m_dask", f"summary, Dask LocalCluster of {w}, fresh process", t_dask, "s")
        row("rss_1m_dask", "peak RSS, process + cluster", rss_dask, "MiB")
        row("dask_overhead", "t_1m_dask / t_1m - 1", t_dask / t_1m - 1, "", TARGETS["dask_overhead"])
        result.update(t_1m=round(t_1m, 1), rss_1m=round(rss_1m, 0), t_1m_dask=round(t_dask, 1),
                      dask_overhead=round(t_dask / t_1m - 1, 3))
    if args.against:
        old = str(Path(args.against).resolve())
        against = side_by_side(old, w, 100_000, args.rounds)
        for name, m in against.items():
            config = "full, 1 process" if name == "t_10k" else f"{w} processes"
            row(f"{name}, old", f"{config}, {args.against} (fresh processes in turn)", m["old"], "s")
            row(f"{name}, new", f"{config}, this code", m["new"], "s")
            row(f"{name} new/old", f"median of {args.rounds} rounds", m["new/old"], "",
                TARGETS["t_10k new/old"] if name == "t_10k" else None)
        result["against"] = {"old": f"{args.against} ({commit(Path(args.against))})", **against}

    widths = [max(len(str(r[i])) for r in [("measure", "configuration", "value", "unit", "target", ""), *rows])
              for i in range(6)]
    header = ("measure", "configuration", "value", "unit", "target", "")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    machine = (f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; "
               f"Python {sys.version.split()[0]}, numpy {np.__version__}")
    for r in [header, tuple("-" * wd for wd in widths), *rows]:
        print("  ".join(str(c).ljust(wd) for c, wd in zip(r, widths, strict=True)))
    print(f"machine: {machine}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# Ensemble benchmark\n\nWritten by `benchmarks/ensemble.py{' --quick' if args.quick else ''}"
                   f"{f' --against {args.against}` (commit `{commit(Path(args.against))}`)' if args.against else '`'} on {time.strftime('%Y-%m-%d')}, "
                   f"commit `{commit()}`; machine: {machine}. Medians; see the script's docstring for what "
                   "each figure measures.\n\n" + "\n".join(lines) + "\n\n```json\n" + json.dumps(result) + "\n```\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
