"""Calibration benchmark: ABC-SMC with 1,000 particles per generation on the shipped observations.

    .venv/bin/python benchmarks/calibration.py [--population N] [--cutoff YYYY-MM] [--max-generations G]

Calibrates the parameters of ``observations/calibration.yaml`` on every shipped observation
published up to the cutoff (default: all of them) with ``--population`` particles per
generation (default 1,000), until the acceptance threshold falls by less than 5% from one
generation to the next (``abc.min_eps_drop``), reaches 0, or ``--max-generations`` (default
20) have run. Each generation runs as batched model runs (one replicate per particle).
Prints one line per generation, then as its last line one JSON object: ``wall_seconds`` (the
figure with a target: at most 600 s on the project's 2-core machine), ``generations``,
``simulations`` (model replicates run), ``model_seconds`` (time inside ``sim.run``), the
thresholds and acceptance rates, and why it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from sim.analysis import abc, observe  # noqa: E402
from sim.calendar import format_month, parse_month  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=1000)
    ap.add_argument("--cutoff", default=None, help="default: the latest published month (every observation)")
    ap.add_argument("--max-generations", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    overrides = ["scenario=combined"]
    observations = observe.load(observe.resolve_paths(None), observe.reference_run(overrides))
    cutoff = parse_month(args.cutoff) if args.cutoff else max(o.published for o in observations)
    rows = abc.known(observations, cutoff)
    plan = replace(abc.load_plan(), population=args.population, max_generations=args.max_generations)
    settings = abc.base_settings(overrides, rows)
    simulator = abc.Simulator(settings, rows, plan.parameters)
    model_time = [0.0]

    def timed(thetas, seed):
        t = time.perf_counter()
        out = simulator(thetas, seed)
        model_time[0] += time.perf_counter() - t
        return out

    print(f"{len(plan.parameters)} parameters, {len(rows)} observations (published by {format_month(cutoff)}), "
          f"{plan.population} particles per generation, months {format_month(settings.start)}..{format_month(settings.end)}")
    start = time.perf_counter()
    marks = [start]

    def report(t, eps, samples, particles):
        now = time.perf_counter()
        print(f"generation {t:2d}: threshold {eps:8.4g}  accepted {particles}/{samples} ({particles / samples:6.1%})"
              f"  {now - marks[-1]:6.1f} s", flush=True)
        marks.append(now)

    with tempfile.TemporaryDirectory() as tmp:
        result = abc.run_abc(abc.prior(plan.parameters, settings.actors), timed, {"miss": np.zeros(len(rows))}, abc.rms,
                             Path(tmp) / "abc.db", population=plan.population, max_generations=plan.max_generations,
                             seed=args.seed, min_eps_drop=plan.min_eps_drop, min_acceptance=plan.min_acceptance,
                             on_generation=report)
    wall = time.perf_counter() - start
    gens = result.generations
    eps = [g["epsilon"] for g in gens]
    if len(gens) >= plan.max_generations:
        why = "max_generations"
    elif eps and eps[-1] <= 0:
        why = "threshold reached 0"
    elif gens and gens[-1]["particles"] / gens[-1]["samples"] < plan.min_acceptance:
        why = "acceptance rate below min_acceptance"
    else:
        why = f"threshold fell by less than {plan.min_eps_drop:.0%}"
    print(f"total {wall:.1f} s for {len(gens)} generations ({result.simulations:,} model replicates, "
          f"{model_time[0]:.1f} s in the model); stopped: {why}; target <= 600 s: {'met' if wall <= 600 else 'MISSED'}")
    print(json.dumps({"wall_seconds": round(wall, 1), "generations": len(gens), "population": plan.population,
                      "simulations": result.simulations, "model_seconds": round(model_time[0], 1),
                      "thresholds": [round(e, 4) for e in eps],
                      "acceptance": [round(g["particles"] / g["samples"], 4) for g in gens], "stopped": why,
                      "target_600s_met": wall <= 600}))


if __name__ == "__main__":
    main()
