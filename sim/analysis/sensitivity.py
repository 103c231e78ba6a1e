"""Global sensitivity analysis with SALib: Sobol indices (default) or Morris screening.

``geosim-sensitivity [overrides] [-N 1024] [--method sobol|morris] [--outcome NAME] [--param PATH[=LO:HI]]``

Which parameters are uncertain, and over which range (:func:`uncertain_parameters`): every
numeric parameter of the groups ``dynamics``, ``exchange`` and ``war`` of the registry
(:mod:`sim.parameters`), except the composite weights (they define a reported measure, not a
behaviour) and non-negative parameters whose default is 0 (structural zeros such as "attack drones are not
on the open market"). The range is the default ±``spread`` (25%) for a non-negative parameter,
and the default ± ``spread`` x half its declared range for a signed one (the thresholds on the
strength scale), always clipped to the declared range. ``--param PATH=LO:HI`` sets a range by
hand; giving any ``--param`` restricts the analysis to those parameters.

Evaluation with common random numbers: SALib's Sobol design is a set of blocks, one per base
point j, made of the rows A_j, AB_j^1 … AB_j^D, B_j (Morris: one trajectory of D+1 points per
j). Row k of every block goes into model run k, as replicate j, and every run uses the same
seed; so all points of a block see the same random numbers, and an index measures the effect
of the parameters, not of the noise (a parameter without influence gets exactly ST = 0). That
is D+2 runs of N replicates each (``sim.run(settings, param_values=...)``). Each run is one
task on the executor of :mod:`sim.ensemble` (:func:`sim.analysis.execution.pool`): ``--jobs``
processes on this machine, or Dask workers with ``ensemble.executor=dask``; every run holds
its own random numbers, so the indices are the same on any executor and worker count.

What the indices are shares of: the noise is not averaged away. Different base points j are
different replicates, with different random numbers, so the total variance V of an outcome over
the design holds the parameters' effects *and* the noise (the replicate's random stream acts
like one more input, shared by the points of a block). S1 and ST are shares of that V. Hence
ΣST < 1 is expected: 1 − ΣST is what no parameter accounts for (the noise, and estimation
error), and 1 − ΣS1 adds the interactions. One more run of N replicates with every parameter
at the centre of its range measures the noise directly (``noise``: the variance between those
replicates as a share of V). Indices whose 95% bootstrap interval includes 0 are flagged
(``S1_zero``, ``ST_zero``), as is S1 > ST (``S1_above_ST``; impossible in theory, an
estimation error: raise N).

Writes into ``--out`` (default ``outputs/sensitivity/<date>/<time>``): ``sensitivity.csv``
(one row per outcome and parameter: S1, S1_conf, ST, ST_conf, the flags and the range; Morris:
mu, mu_star, mu_star_conf, sigma), ``sensitivity_budget.csv`` (Sobol: per outcome ΣS1, ΣST,
1 − ΣS1, 1 − ΣST, the noise share and the counts of flags, :func:`budget`),
``sensitivity.png`` (bar chart) and ``problem.yaml`` (parameters, ranges, N, seed, overrides,
run time), so the analysis can be repeated. The terminal shows the same in words.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import parameters as prm
from ..ensemble import IN_PROCESS, ordered
from ..errors import ConfigError, require
from . import execution

GROUPS = ("dynamics.", "exchange.", "war.")
EXCLUDED_PREFIXES = ("dynamics.composite.",)
# parameters a replicate can carry its own value of (sim.model.GeoModel(param_values=...)); the
# shock magnitudes are turned into scenario operations before the run and cannot vary per replicate
_PER_REPLICATE = ("dynamics.", "exchange.", "war.", "anchors.", "actors.", "policy.")
SPREAD = 0.25
Evaluate = Callable[[np.ndarray], dict[str, np.ndarray]]


# --------------------------------------------------------------------------------------------
# The problem: parameters and ranges
# --------------------------------------------------------------------------------------------

def default_range(p: prm.Param, spread: float = SPREAD) -> tuple[float, float]:
    lo_decl = -math.inf if p.low is None else p.low
    hi_decl = math.inf if p.high is None else p.high
    d = float(p.default)
    if lo_decl >= 0:
        lo, hi = d * (1 - spread), d * (1 + spread)
    else:
        half = spread * (hi_decl - lo_decl) / 2
        lo, hi = d - half, d + half
    return max(lo, lo_decl), min(hi, hi_decl)


def uncertain_parameters(actors: list[str] | None = None, spread: float = SPREAD) -> dict[str, tuple[float, float]]:
    """Every uncertain parameter with its range (see the module docstring for the rule)."""
    out = {}
    for path, p in prm.registry(actors).items():
        if p.kind != "float" or not path.startswith(GROUPS) or path.startswith(EXCLUDED_PREFIXES):
            continue
        if float(p.default) == 0.0 and p.low is not None and p.low >= 0:
            continue  # a structural zero, not an uncertain magnitude
        lo, hi = default_range(p, spread)
        if hi > lo:
            out[path] = (lo, hi)
    return out


def parse_params(specs: list[str], actors: list[str], spread: float) -> dict[str, tuple[float, float]]:
    """``PATH`` or ``PATH=LO:HI`` -> {path: (lo, hi)}. Raises ConfigError."""
    reg = prm.registry(actors)
    out = {}
    for spec in specs:
        path, _, rng = spec.partition("=")
        path = path.strip()
        p = reg.get(path)
        if p is None:
            from ..settings import suggest

            raise ConfigError(f"--param {spec}: unknown parameter '{path}'; {suggest(path, reg)}")
        if p.kind != "float" or not path.startswith(_PER_REPLICATE):
            raise ConfigError(f"--param {spec}: {path} cannot vary between replicates; allowed: numeric parameters "
                              "under dynamics, exchange, war, anchors, actors and policy")
        if rng:
            try:
                lo, hi = (float(x) for x in rng.split(":"))
            except ValueError:
                raise ConfigError(f"--param {spec}: range must be LO:HI, two numbers") from None
        else:
            lo, hi = default_range(p, spread)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(f"--param {spec}: range {lo:g}:{hi:g} is empty; LO must be below HI")
        if (p.low is not None and lo < p.low) or (p.high is not None and hi > p.high):
            raise ConfigError(f"--param {spec}: range {lo:g}:{hi:g} leaves the declared range {p.allowed()} ({p.unit})")
        out[path] = (lo, hi)
    return out


def problem(ranges: dict[str, tuple[float, float]]) -> dict:
    """The SALib problem dict."""
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(b) for b in ranges.values()]}


# --------------------------------------------------------------------------------------------
# Designs evaluated block by block (common random numbers)
# --------------------------------------------------------------------------------------------

def _evaluate_blocks(X: np.ndarray, block: int, evaluate: Evaluate, pool=None) -> dict[str, np.ndarray]:
    """Rows k, k+block, k+2 block, ... form run k; returns outputs in the design's row order.

    Each run is one task ``evaluate(rows)`` on ``pool`` (a :class:`sim.ensemble.Pool`; None:
    this process); on a process or Dask pool ``evaluate`` must pickle (a module-level function
    or an instance such as :class:`ModelEvaluator`)."""
    n = X.shape[0] // block
    parts = [np.ascontiguousarray(X[k::block]) for k in range(block)]
    results = list(ordered(pool or IN_PROCESS, [(evaluate, p) for p in parts]))
    out = {}
    for name in results[0]:
        y = np.empty((n, block))
        for k, r in enumerate(results):
            y[:, k] = np.asarray(r[name], dtype=float)
        out[name] = y.reshape(-1)
    return out


def sobol_indices(prob: dict, evaluate: Evaluate, n: int, seed: int = 0, pool=None,
                  conf_level: float = 0.95, num_resamples: int = 200) -> pd.DataFrame:
    """First-order and total Sobol indices with confidence intervals, one row per (outcome, parameter).

    ``evaluate(X)`` gets the rows of one run (shape (n, D)) and returns ``{outcome: (n,) array}``.
    """
    require("SALib", "analysis", "Sobol sensitivity analysis")
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    D = prob["num_vars"]
    X = sobol_sample.sample(prob, n, calc_second_order=False, seed=seed)
    Y = _evaluate_blocks(X, D + 2, evaluate, pool)
    rows = []
    for name, y in Y.items():
        if not np.all(np.isfinite(y)):
            raise ConfigError(f"sensitivity: outcome {name} is not finite for some sample points")
        if np.ptp(y) == 0:
            s = {"S1": np.zeros(D), "S1_conf": np.zeros(D), "ST": np.zeros(D), "ST_conf": np.zeros(D)}
        else:
            s = sobol_analyze.analyze(prob, y, calc_second_order=False, conf_level=conf_level,
                                      num_resamples=num_resamples, seed=bootstrap_seed(seed))
        for i, par in enumerate(prob["names"]):
            rows.append({"outcome": name, "parameter": par, "S1": float(s["S1"][i]), "S1_conf": float(s["S1_conf"][i]),
                         "ST": float(s["ST"][i]), "ST_conf": float(s["ST_conf"][i]),
                         "low": prob["bounds"][i][0], "high": prob["bounds"][i][1], "variance": float(np.var(y))})
    return flag(pd.DataFrame(rows))


def bootstrap_seed(seed: int) -> int:
    """The seed of SALib's bootstrap of the Sobol confidence intervals, derived from ``seed`` and
    never 0 (SALib takes 0 as "no seed" and would draw from numpy's global generator)."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0]) or 1


def flag(table: pd.DataFrame) -> pd.DataFrame:
    """Add what a reader must not over-read: ``S1_zero`` / ``ST_zero`` (the confidence interval
    includes 0: the index cannot be told from zero), ``S1_above_ST`` (impossible in theory,
    S1 <= ST: an estimation error of that size, so raise N) and ``flag``, the same in words."""
    t = table.copy()
    t["S1_zero"] = t["S1"].abs() <= t["S1_conf"]
    t["ST_zero"] = t["ST"] <= t["ST_conf"]
    t["S1_above_ST"] = t["S1"] > t["ST"]
    words = [", ".join(w for w, on in (("S1 ~ 0", a), ("ST ~ 0", b), ("S1 > ST", c)) if on)
             for a, b, c in zip(t["S1_zero"], t["ST_zero"], t["S1_above_ST"], strict=True)]
    t["flag"] = words
    return t


def budget(table: pd.DataFrame, noise: dict[str, float] | None = None) -> pd.DataFrame:
    """Per outcome, where the variance goes: ``sum_S1`` (first-order effects of the parameters),
    ``sum_ST`` (their total effects; interactions are counted once per parameter involved),
    ``left_S1`` = 1 − ΣS1 (interactions and noise), ``left_ST`` = 1 − ΣST (what no parameter
    accounts for: the model's noise and estimation error), ``noise`` (variance between replicates
    at the centre of the ranges, as a share of the total, measured directly; see the module
    docstring) and the counts of flagged indices."""
    rows = []
    for name, part in table.groupby("outcome", sort=False):
        s1, st = float(part["S1"].sum()), float(part["ST"].sum())
        rows.append({"outcome": name, "sum_S1": s1, "sum_ST": st, "left_S1": 1.0 - s1, "left_ST": 1.0 - st,
                     "noise": (noise or {}).get(name, float("nan")), "parameters": len(part),
                     "S1_zero": int(part["S1_zero"].sum()), "ST_zero": int(part["ST_zero"].sum()),
                     "S1_above_ST": int(part["S1_above_ST"].sum())})
    return pd.DataFrame(rows)


def noise_share(evaluate: Evaluate, prob: dict, n: int, variance: dict[str, float], pool=None) -> dict[str, float]:
    """Variance between ``n`` replicates with every parameter at the centre of its range, as a
    share of the variance over the whole design (``variance``): the part of the outcome that
    the random numbers alone make."""
    centre = np.array([(lo + hi) / 2 for lo, hi in prob["bounds"]])
    X = np.tile(centre, (n, 1))
    (y,) = ordered(pool or IN_PROCESS, [(evaluate, X)])
    return {name: float(np.var(np.asarray(v, dtype=float)) / variance[name]) if variance.get(name) else float("nan")
            for name, v in y.items() if name in variance}


def morris_effects(prob: dict, evaluate: Evaluate, n: int, seed: int = 0, pool=None, num_levels: int = 4,
                   conf_level: float = 0.95, num_resamples: int = 200) -> pd.DataFrame:
    """Morris elementary effects (mu, mu*, its confidence interval, sigma) from ``n`` trajectories."""
    require("SALib", "analysis", "Morris sensitivity analysis")
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    D = prob["num_vars"]
    X = morris_sample.sample(prob, n, num_levels=num_levels, seed=seed)
    Y = _evaluate_blocks(X, D + 1, evaluate, pool)
    rows = []
    for name, y in Y.items():
        m = morris_analyze.analyze(prob, X, y, conf_level=conf_level, num_resamples=num_resamples,
                                   num_levels=num_levels, seed=seed)
        for i, par in enumerate(prob["names"]):
            rows.append({"outcome": name, "parameter": par, "mu": float(m["mu"][i]), "mu_star": float(m["mu_star"][i]),
                         "mu_star_conf": float(m["mu_star_conf"][i]), "sigma": float(m["sigma"][i]),
                         "low": prob["bounds"][i][0], "high": prob["bounds"][i][1]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The model as an evaluation function
# --------------------------------------------------------------------------------------------

class ModelEvaluator:
    """Runs the configured model with one replicate per sample point; returns chosen outcomes.

    A task of the analysis' pool: it pickles (with the settings composed so far) and runs its
    model in the process that calls it (the pool spreads the runs, not their chunks)."""

    def __init__(self, overrides: list[str], names: list[str], outcomes: list[str]):
        self.overrides, self.names, self.outcomes = list(overrides), list(names), list(outcomes)
        self._settings = {}

    def settings(self, replicates: int):
        if replicates not in self._settings:
            from ..config import compose, validate

            self._settings[replicates] = validate(compose([*self.overrides, f"ensemble.replicates={replicates}"]))
        return self._settings[replicates]

    def __call__(self, X: np.ndarray) -> dict[str, np.ndarray]:
        from .. import outcomes as oc
        from ..run import run

        settings = self.settings(X.shape[0])
        with _single_threaded():
            ds = run(settings, param_values={name: X[:, i] for i, name in enumerate(self.names)}, pool=IN_PROCESS)
        values = oc.values(ds)
        return {name: values[name] for name in self.outcomes}


def _single_threaded():
    """One BLAS thread for the block inside ``with`` (small matrix products run faster so, and
    processes share the cores); the caller's setting comes back after it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        from contextlib import nullcontext

        return nullcontext()
    return threadpool_limits(1)


def default_outcomes(overrides: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(actors, the default outcomes, every available outcome) for the configuration."""
    from .. import outcomes as oc
    from ..config import compose, validate
    from ..run import run

    settings = validate(compose([*overrides, "ensemble.replicates=1"]))
    ds = run(settings)
    r = oc.roles(ds)
    focus = r["focus"].replace("-", "_")
    chosen = [f"{focus}_military", f"{focus}_composite", f"{r['licensor']}_dependence_on_{r['attacker']}"]
    return settings.actors, chosen, list(oc.compute(ds))


def analyse(overrides: list[str], ranges: dict[str, tuple[float, float]], outcomes: list[str], n: int,
            method: str = "sobol", seed: int = 0, jobs: int = 1) -> pd.DataFrame:
    """Sobol or Morris indices of the model's ``outcomes`` over ``ranges``.

    The runs are tasks on the executor that ``overrides`` name (``ensemble.executor``,
    ``ensemble.dask.*``) with ``jobs`` workers: this process for local and 1, else processes
    or Dask workers. The result is the same whichever."""
    prob = problem(ranges)
    evaluate = ModelEvaluator(overrides, prob["names"], outcomes)
    evaluate.settings(n)  # composed once here; the tasks carry it
    with execution.pool(overrides, workers=jobs) as pool:
        return _dispatch(method, prob, evaluate, n, seed, pool)


def _dispatch(method, prob, evaluate, n, seed, pool) -> pd.DataFrame:
    if method == "sobol":
        table = sobol_indices(prob, evaluate, n, seed=seed, pool=pool)
        variance = table.groupby("outcome", sort=False)["variance"].first().to_dict()
        table.attrs["noise"] = noise_share(evaluate, prob, n, variance, pool)
        return table
    return morris_effects(prob, evaluate, n, seed=seed, pool=pool)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="geosim-sensitivity",
        description="Global sensitivity analysis (SALib): Sobol indices S1/ST with confidence intervals, or Morris "
                    "screening, of chosen outcomes over the uncertain parameters. Extra words are configuration "
                    "overrides in Hydra syntax (scenario=assad_fall time.end=2026-12).")
    p.add_argument("overrides", nargs="*", help="configuration overrides, as for geosim")
    p.add_argument("-N", type=int, default=1024, help="base sample size (Sobol: a power of 2; runs N x (D+2) "
                   "model replicates) or number of Morris trajectories (default 1024)")
    p.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    p.add_argument("--outcome", action="append", default=[], metavar="NAME",
                   help="outcome to analyse (repeatable; default: focus dyad military and composite, dependence)")
    p.add_argument("--param", action="append", default=[], metavar="PATH[=LO:HI]",
                   help="analyse only these parameters (repeatable); default: every uncertain parameter")
    p.add_argument("--spread", type=float, default=SPREAD, help="relative half-width of the default ranges (0.25)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and of the bootstrap (the model's seed "
                   "is the configuration's 'seed')")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="processes (default: up to 2)")
    p.add_argument("--out", help="output folder (default outputs/sensitivity/<date>/<time>)")
    p.add_argument("--list", action="store_true", help="list the uncertain parameters and the outcomes, then stop")
    return p


def main(argv: list[str] | None = None) -> None:
    execution.command("geosim-sensitivity", lambda: _parser().parse_intermixed_args(argv), _main)


def _main(args) -> None:
    from . import plots

    if not 0 < args.spread < 1:
        raise ConfigError(f"--spread {args.spread}: allowed: a number between 0 and 1")
    if args.N < 2:
        raise ConfigError(f"-N {args.N}: allowed: an integer >= 2 (Sobol: a power of 2 such as 1024)")
    if args.method == "sobol" and args.N & (args.N - 1):
        raise ConfigError(f"-N {args.N}: Sobol sampling needs a power of 2 (e.g. 512, 1024, 2048)")
    if args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: allowed: an integer >= 1")
    actors, chosen, available = default_outcomes(args.overrides)
    ranges = parse_params(args.param, actors, args.spread) if args.param else uncertain_parameters(actors, args.spread)
    if args.list:
        print("uncertain parameters (range):")
        for path, (lo, hi) in ranges.items():
            print(f"  {path:45s} {lo:.6g} … {hi:.6g}")
        print("outcomes:", ", ".join(available))
        return
    outcomes = args.outcome or chosen
    for name in outcomes:
        if name not in available:
            raise ConfigError(f"--outcome {name}: unknown outcome; allowed: {', '.join(available)}")
    out = Path(args.out or Path("outputs/sensitivity") / _dt.datetime.now().strftime("%Y-%m-%d/%H-%M-%S.%f"))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") from None

    runs = args.N * (len(ranges) + (2 if args.method == "sobol" else 1))
    print(f"{args.method}: {len(ranges)} parameters, N={args.N}: {runs:,} model replicates in "
          f"{len(ranges) + (2 if args.method == 'sobol' else 1)} runs on {args.jobs} process(es)")
    tic = time.perf_counter()
    table = analyse(args.overrides, ranges, outcomes, args.N, args.method, args.seed, args.jobs)
    elapsed = time.perf_counter() - tic
    table.to_csv(out / "sensitivity.csv", index=False, float_format="%.6g")
    fig = plots.sensitivity_bars(table, args.method)
    fig.savefig(out / "sensitivity.png", dpi=100)
    doc = {"method": args.method, "N": args.N, "seed": args.seed, "model_replicates": runs,
           "seconds": round(elapsed, 2), "jobs": args.jobs, "overrides": list(args.overrides), "outcomes": outcomes,
           "parameters": {k: [float(lo), float(hi)] for k, (lo, hi) in ranges.items()},
           "range_rule": f"default ±{args.spread:g} (signed parameters: ±{args.spread:g} x half the declared range), "
                         "clipped to the declared range" if not args.param else "given by --param"}
    (out / "problem.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    print(f"done in {elapsed:.1f} s")
    key = "ST" if args.method == "sobol" else "mu_star"
    shares = budget(table, table.attrs.get("noise")).set_index("outcome") if args.method == "sobol" else None
    for name in outcomes:
        top = table[table["outcome"] == name].nlargest(5, key)
        cols = ["S1", "S1_conf", "ST", "ST_conf", "flag"] if args.method == "sobol" else ["mu_star", "mu_star_conf", "sigma"]
        print(f"\n{name}: the five largest {key}")
        print(top[["parameter", *cols]].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if shares is not None:
            print(describe_budget(shares.loc[name], table[table["outcome"] == name]))
    files = ["sensitivity.csv", "sensitivity.png", "problem.yaml"]
    if shares is not None:
        shares.reset_index().to_csv(out / "sensitivity_budget.csv", index=False, float_format="%.6g")
        files.insert(1, "sensitivity_budget.csv")
    print(f"\nWrote {out}/\n  " + "\n  ".join(files))


def describe_budget(row, part: pd.DataFrame) -> str:
    """The variance budget of one outcome in words (what the indices do and do not explain)."""
    def pct(x: float) -> str:
        return f"{100 * x:.0f}%"

    lines = [f"  the {int(row['parameters'])} parameters explain {pct(row['sum_S1'])} of the variance on their own "
             f"(sum of S1) and {pct(row['sum_ST'])} with their interactions (sum of ST)",
             f"  left to interactions and noise (1 - sum S1): {pct(row['left_S1'])}; to noise and estimation error "
             f"(1 - sum ST): {pct(max(0.0, row['left_ST']))}"]
    if np.isfinite(row["noise"]):
        lines.append(f"  noise alone (variance between replicates at the centre of the ranges): {pct(row['noise'])} "
                     "of the total")
    flagged = []
    if row["S1_zero"] or row["ST_zero"]:
        flagged.append(f"{int(row['S1_zero'])} S1 and {int(row['ST_zero'])} ST indistinguishable from 0 (95% interval "
                       "includes 0)")
    above = part[part["S1_above_ST"]]
    if len(above):
        worst = above.assign(gap=above["S1"] - above["ST"]).nlargest(3, "gap")
        flagged.append("S1 > ST, an estimation error (raise -N), for " + ", ".join(
            f"{r.parameter} ({r.S1:.3f} vs {r.ST:.3f})" for r in worst.itertuples()) + (" ..." if len(above) > 3 else ""))
    if flagged:
        lines.append("  flags: " + "; ".join(flagged))
    return "\n".join(lines)
