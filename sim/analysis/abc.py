"""Bayesian calibration: ABC-SMC (pyabc) of the uncertain parameters against observation files.

``geosim-calibrate --cutoff YYYY-MM`` fits the parameters listed in
``observations/calibration.yaml`` (their registry distributions are the priors) to the
observations published up to the cutoff, and writes into its folder:

- ``abc.db``: pyabc's SQLite history (every generation; an interrupted run resumes from it);
- ``posterior.csv``: the last generation's particles and weights (``ensemble.posterior=<file>``);
- ``posterior.png``: marginal of each parameter, the prior drawn behind;
- ``predictive.csv``: each observation used, observed against the 5/50/95% of the posterior
  predictive ensemble (and of the prior).

**Distance.** Every observation row gives each particle a miss in units of the row's stated
range (:func:`sim.analysis.observe.miss`: 0 inside an admissible range, e.g. above the bound of
">11,000"); the distance is the root mean square of the misses.

**One batched model per generation.** pyabc calls a model once per particle; here
:class:`BatchSampler` draws a batch of proposals with pyabc's own proposal code, runs them as
one vectorised ensemble (one replicate per particle, ``param_values``), then lets pyabc judge
each in proposal order until the population is full. Parameters that have a distribution but
are not calibrated are drawn from their priors per replicate (``ensemble.sample_parameters``),
so the posterior accounts for them.

**Executor.** One pool (:func:`sim.ensemble.executor`, as the overrides ``ensemble.executor``,
``ensemble.workers`` and ``ensemble.dask.*`` ask) is opened for the whole calibration and the
predictive ensembles; every batch's chunks run on it, so worker processes or a Dask
LocalCluster start once. The numbers do not depend on the executor or the worker count.

**Determinism.** Each generation runs in a fresh :class:`pyabc.ABCSMC` loaded from the database,
and seeds numpy's global generator (which pyabc's proposals use) and the model from (seed,
generation, batch). A run killed at any point and started again with the same command resumes
from the last complete generation in the database and ends with the same posterior as an
uninterrupted run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np

from .. import parameters as prm
from ..calendar import format_month, parse_month
from ..errors import ConfigError, read_text, require
from ..scenario import parse_yaml
from . import execution, observe

log = logging.getLogger("geosim.calibrate")


# --------------------------------------------------------------------------------------------
# Calibration settings (observations/calibration.yaml)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    parameters: tuple[str, ...]
    population: int = 1000
    max_generations: int = 10
    min_eps_drop: float = 0.05
    min_acceptance: float = 0.005
    replicates: int = 1000


def plan_file() -> Path:
    return Path(str(resources.files(observe.PACKAGE) / "calibration.yaml"))


def load_plan(path: str | Path | None = None, actors: list[str] | None = None) -> Plan:
    """Read the calibration plan; every listed parameter must have a continuous registry distribution."""
    path = Path(path) if path else plan_file()
    text = read_text(path, "calibration plan", "a YAML file with a list of parameters and optional abc settings "
                     "(observations/calibration.yaml)")
    doc = parse_yaml(text, str(path)) or {}
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), list) or not doc["parameters"]:
        raise ConfigError(f"{path}: parameters: allowed: a non-empty list of parameter paths")
    params = tuple(str(p) for p in doc["parameters"])
    check_parameters(params, actors, str(path))
    abc = doc.get("abc") or {}
    fields = {"population": int, "max_generations": int, "min_eps_drop": float, "min_acceptance": float,
              "replicates": int}
    kwargs = {}
    for k, v in abc.items():
        if k not in fields:
            raise ConfigError(f"{path}: abc.{k} is not known; allowed: {', '.join(fields)}")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ConfigError(f"{path}: abc.{k} = {v!r}; allowed: a number >= 0")
        kwargs[k] = fields[k](v)
    return Plan(parameters=params, **kwargs)


def calibratable(actors: list[str] | None = None) -> dict[str, prm.Param]:
    """Parameters with a continuous distribution (their prior)."""
    from ..distributions import Choice

    return {p: v for p, v in prm.registry(actors).items() if v.dist is not None and not isinstance(v.dist, Choice)}


def check_parameters(params, actors, where: str) -> None:
    allowed = calibratable(actors)
    for p in params:
        if p not in allowed:
            raise ConfigError(f"{where}: parameters: {p!r} is not a parameter with a continuous distribution; "
                              f"allowed: {', '.join(allowed)}")
    if len(set(params)) != len(params):
        raise ConfigError(f"{where}: parameters: a parameter is listed twice")


def prior(params, actors=None):
    """The pyabc prior: each parameter's registry distribution, as a scipy random variable."""
    import pyabc

    from ..distributions import Beta, Normal, Uniform

    reg = prm.registry(actors)
    rvs = {}
    for i, p in enumerate(params):
        d = reg[p].dist
        if isinstance(d, Uniform):
            rv = pyabc.RV("uniform", d.low, d.high - d.low)
        elif isinstance(d, Beta):
            rv = pyabc.RV("beta", d.a, d.b, loc=d.low, scale=d.high - d.low)
        elif isinstance(d, Normal):
            rv = pyabc.RV("truncnorm", (d.low - d.mean) / d.sd, (d.high - d.mean) / d.sd, loc=d.mean, scale=d.sd)
        else:
            raise ConfigError(f"parameter {p}: distribution {d.describe()} cannot be a prior here")
        rvs[f"p{i}"] = rv
    return pyabc.Distribution(**rvs)


# --------------------------------------------------------------------------------------------
# A pyabc sampler that runs a generation as batches
# --------------------------------------------------------------------------------------------

def _seed(*parts: int) -> int:
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


class _Queue:
    """Stands in for a pyabc model: hands out results computed in a batch, in order."""

    def __init__(self):
        from collections import deque

        self.items = deque()

    def take(self):
        return self.items.popleft()


def _queue_model(queue: _Queue):
    import pyabc

    class QueueModel(pyabc.Model):
        def __init__(self):
            super().__init__(name="geosim")

        def sample(self, pars):
            return queue.take()

    return QueueModel()


def _from_prior(prior, size: int) -> list:
    """``size`` draws from a pyabc prior (one model), each parameter drawn as one array."""
    import pyabc

    keys = sorted(prior.keys())
    columns = {k: np.atleast_1d(prior[k].rvs(size=size)) for k in keys}
    return [(0, pyabc.Parameter({k: float(columns[k][i]) for k in keys})) for i in range(size)]


def _propose(kw: dict, size: int) -> list:
    """``size`` proposals from the fitted transition kernel with positive prior density, drawn
    as one array (pyabc's generate_valid_proposal does the same one at a time)."""
    import pyabc

    m = int(kw["m"][0])
    transition, prior = kw["transitions"][m], kw["parameter_priors"][m]
    out: list = []
    while len(out) < size:
        frame = transition.rvs(size=size)
        ok = np.ones(len(frame), dtype=bool)
        for key in frame.columns:
            ok &= np.asarray(prior[key].pdf(frame[key].to_numpy())) > 0
        out.extend(pyabc.Parameter(row) for row in frame[ok].to_dict("records"))
    return [(m, theta) for theta in out[:size]]


class BatchSampler:
    """pyabc sampler: proposals in batches, each batch simulated by one call of ``simulate``.

    ``simulate(list of parameter dicts, seed) -> list of summary-statistic dicts``. A batch
    holds the proposals still needed divided by the expected acceptance rate (the previous
    generation's), capped at ``max_batch``; the proposals are judged in order and those after
    the population is full are dropped.
    """

    def __new__(cls, *args, **kwargs):
        import pyabc

        class _Sampler(pyabc.sampler.Sampler):
            def __init__(self, simulate, queue, seed, max_batch=5000):
                super().__init__()
                self.simulate, self.queue, self.seed, self.max_batch = simulate, queue, seed, max_batch
                self.expected_rate = 1.0
                self.simulated = 0

            def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                        ana_vars=None):
                from pyabc.inference_util import inference_util as iu

                np.random.seed(_seed(self.seed, 1, t + 2))
                kw = dict(simulate_one.keywords)
                from_prior = simulate_one.func is iu._simulate_one_from_prior
                sample = self._create_empty_sample()
                evaluations, batch_no = 0, 0
                rate = 1.0 if from_prior or all_accepted else max(self.expected_rate, 1e-3)
                # With pyabc's uniform acceptor (accept if distance <= threshold) and rejected
                # particles not recorded, a rejected proposal leaves nothing behind: judge it here
                # instead of building a particle for it (most proposals in late generations).
                quick = (not from_prior and not all_accepted and not sample.record_rejected
                         and type(kw["acceptor"]) is pyabc.UniformAcceptor
                         and not kw["acceptor"].use_complete_history)
                threshold = kw["eps"](t) if quick else None
                while sample.n_accepted < n and evaluations < max_eval:
                    need = n - sample.n_accepted
                    size = int(min(self.max_batch, max(need, math.ceil(1.2 * need / rate))))
                    if from_prior or t == 0:  # the prior itself, drawn as arrays
                        proposals = _from_prior(kw["parameter_priors"][0], size)
                    elif len(kw["m"]) == 1 and t > 0:  # one model: the whole batch at once (same kernel)
                        proposals = _propose(kw, size)
                    else:
                        proposals = [iu.generate_valid_proposal(t=t, m=kw["m"], p=kw["p"],
                                                                model_prior=kw["model_prior"],
                                                                parameter_priors=kw["parameter_priors"],
                                                                model_perturbation_kernel=kw["model_perturbation_kernel"],
                                                                transitions=kw["transitions"])
                                     for _ in range(size)]
                    results = self.simulate([dict(theta) for _, theta in proposals], _seed(self.seed, 2, t + 2, batch_no))
                    self.simulated += size
                    batch_no += 1
                    self.queue.items.clear()
                    self.queue.items.extend(results)
                    for (m_ss, theta), stat in zip(proposals, results, strict=True):
                        if sample.n_accepted >= n or evaluations >= max_eval:
                            break
                        if quick and kw["distance_function"](stat, kw["x_0"], t, theta) > threshold:
                            self.queue.take()  # rejected: pyabc would compute the same and keep nothing
                            evaluations += 1
                            continue
                        if from_prior:
                            stat = kw["models"][m_ss].summary_statistics(t, theta, kw["summary_statistics"]).sum_stat
                            from pyabc.population import Particle

                            particle = Particle(m=m_ss, parameter=theta, weight=1.0, sum_stat=stat, distance=np.inf,
                                                accepted=True, proposal_id=0, preliminary=False)
                        else:
                            particle = iu.evaluate_proposal(m_ss, theta, t=t, models=kw["models"],
                                                            summary_statistics=kw["summary_statistics"],
                                                            distance_function=kw["distance_function"], eps=kw["eps"],
                                                            acceptor=kw["acceptor"], x_0=kw["x_0"],
                                                            weight_function=kw["weight_function"],
                                                            proposal_id=kw["proposal_id"])
                        sample.append(particle)
                        evaluations += 1
                    self.queue.items.clear()
                    if not from_prior and not all_accepted and evaluations:
                        rate = max(sample.n_accepted / evaluations, 1e-3)
                self.nr_evaluations_ = evaluations
                if sample.n_accepted < n:
                    sample.ok = False
                return sample

        return _Sampler(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# The ABC-SMC loop
# --------------------------------------------------------------------------------------------

@dataclass
class Result:
    db: Path
    names: list[str]  # pyabc names p0, p1, ...
    values: np.ndarray  # (particles, parameters)
    weights: np.ndarray
    generations: list[dict]
    seconds: float
    simulations: int


def run_abc(prior_dist, simulate: Callable, x0: dict, distance: Callable, db: Path, *, population: int,
            max_generations: int, seed: int, min_eps_drop: float = 0.05, min_acceptance: float = 0.0,
            max_batch: int = 5000, on_generation: Callable | None = None) -> Result:
    """ABC-SMC with pyabc, one fresh ABCSMC per generation loaded from ``db`` (so that resuming
    and running through are the same code). Stops after ``max_generations``, when the threshold
    reaches 0, falls by less than ``min_eps_drop`` (relative), or the acceptance rate drops
    below ``min_acceptance``. Returns the last generation."""
    import pyabc

    logging.getLogger("ABC").setLevel(logging.WARNING)
    logging.getLogger("ABC.Sampler").setLevel(logging.WARNING)
    db = Path(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    queue = _Queue()
    sampler = BatchSampler(simulate, queue, seed, max_batch)
    sampler.show_progress = False

    def fresh():
        return pyabc.ABCSMC(_queue_model(queue), prior_dist, pyabc.distance.FunctionDistance(distance),
                            population_size=population, sampler=sampler,
                            eps=pyabc.MedianEpsilon(), transitions=pyabc.MultivariateNormalTransition())

    url = f"sqlite:///{db}"
    abc_id = None
    if db.exists():
        try:
            h = pyabc.History(url)
            ids = h.all_runs()
            abc_id = ids[-1].id if len(ids) else None
        except Exception:  # a database killed before pyabc wrote its tables
            abc_id = None
        if abc_id is None:
            db.unlink()
    if abc_id is None:
        abc = fresh()
        history = abc.new(url, x0)
        abc_id = history.id
    while True:
        abc = fresh()
        history = abc.load(url, abc_id)
        pops = history.get_all_populations()
        pops = pops[pops["t"] >= 0].sort_values("t")
        done = len(pops)
        if done:
            eps = pops["epsilon"].to_numpy()
            rate = pops["particles"].to_numpy()[-1] / max(pops["samples"].to_numpy()[-1], 1)
            sampler.expected_rate = rate
            stop = (done >= max_generations or eps[-1] <= 0
                    or (done >= 2 and eps[-2] > 0 and (eps[-2] - eps[-1]) / eps[-2] < min_eps_drop)
                    or rate < min_acceptance)
            if stop:
                break
        abc.run(max_nr_populations=1)
        if on_generation is not None:
            pops = abc.history.get_all_populations()
            row = pops[pops["t"] >= 0].sort_values("t").iloc[-1]
            on_generation(int(row["t"]), float(row["epsilon"]), int(row["samples"]), int(row["particles"]))
    frame, w = history.get_distribution(m=0, t=history.max_t)
    names = sorted(frame.columns, key=lambda c: int(c[1:]) if c[1:].isdigit() else c)
    values = frame[names].to_numpy(dtype=float)
    gens = [{"t": int(r.t), "epsilon": float(r.epsilon), "samples": int(r.samples), "particles": int(r.particles)}
            for r in pops.itertuples()]
    return Result(db=db, names=names, values=values, weights=np.asarray(w, float) / np.sum(w), generations=gens,
                  seconds=time.perf_counter() - start, simulations=sampler.simulated)


def rms(x: dict, x0: dict) -> float:
    """The calibration distance: root mean square of the observations' misses (``x["miss"]``;
    the observed statistic is all zeros: no miss)."""
    v = np.asarray(x["miss"], dtype=float)
    return float(np.sqrt(np.mean(np.square(v)))) if v.size else 0.0


# --------------------------------------------------------------------------------------------
# geosim: simulate a batch of particles as one ensemble
# --------------------------------------------------------------------------------------------

class Simulator:
    """Runs a batch of particles as one ensemble (one replicate each) and returns their misses."""

    def __init__(self, settings, observations: list[observe.Observation], parameters: tuple[str, ...], pool=None):
        """``pool``: the :class:`sim.ensemble.Pool` every batch runs on (None: each run makes
        its own, as ``settings`` ask)."""
        self.settings, self.observations, self.parameters, self.pool = settings, observations, parameters, pool

    def run(self, thetas: list[dict], seed: int):
        from ..run import run

        n = len(thetas)
        s = replace(self.settings, values={**self.settings.values, "ensemble.replicates": n, "seed": seed % 2**31})
        values = {p: np.array([th[f"p{i}"] for th in thetas], dtype=float) for i, p in enumerate(self.parameters)}
        return run(s, param_values=values, pool=self.pool)

    def __call__(self, thetas: list[dict], seed: int) -> list[dict]:
        """One summary statistic per particle: ``{"miss": array of the observations' misses}``
        (one array rather than one entry per observation keeps pyabc's database small)."""
        if not self.observations:
            return [{"miss": np.zeros(0)} for _ in thetas]
        ds = self.run(thetas, seed)
        m = observe.misses(ds, self.observations)
        m = np.where(np.isfinite(m), m, 1e6)
        return [{"miss": row} for row in m]


def base_settings(overrides: list[str], observations: list[observe.Observation], end: int | None = None):
    """The configuration every calibration and hindcast run uses: the user's overrides, prior
    draws of the uncertain parameters, no plots, and the period up to the last observed month."""
    from ..config import compose, validate

    extra = ["ensemble.sample_parameters=true", "output.plots=false", "ensemble.posterior="]
    if end is None and observations:
        end = observe.last_month(observations)
    if end is not None:
        extra.append(f"time.end={format_month(end)}")
    # one process unless the overrides ask for more (the numbers are the same either way)
    return validate(compose(["ensemble.workers=1", *overrides, *extra]))


# --------------------------------------------------------------------------------------------
# The calibration as a command
# --------------------------------------------------------------------------------------------

def known(observations, cutoff: int) -> list[observe.Observation]:
    return [o for o in observations if o.published <= cutoff]


def cache_key(observations, cutoff: int, overrides: list[str], plan: Plan, seed: int) -> str:
    from .. import __version__

    doc = {"observations": [repr(replace(o, file="", line=0)) for o in observations], "cutoff": cutoff,
           "overrides": [o for o in overrides if not execution.same_numbers(o)], "plan": repr(plan), "seed": seed, "version": __version__,
           "engine": engine_fingerprint()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def engine_fingerprint() -> str:
    """A hash of the engine's code and shipped data (sim/, scenarios, conf): a changed model
    gets a new calibration instead of a cached one."""
    import sim

    root = Path(sim.__file__).resolve().parent
    h = hashlib.sha256()
    folders = [root, Path(str(resources.files("sim.scenarios"))), Path(str(resources.files("sim.conf")))]
    for folder in folders:
        for f in sorted(folder.rglob("*")):
            if f.suffix in (".py", ".yaml") and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(folder)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()[:16]


def calibrate(overrides: list[str], observations: list[observe.Observation], cutoff: int, plan: Plan, seed: int,
              outdir: Path, quiet: bool = False, pool=None) -> dict:
    """Calibrate on the observations published up to ``cutoff``; write the posterior files into
    ``outdir``. Reuses a finished ``posterior.csv`` there; resumes from ``abc.db``. The batches
    run on ``pool`` (a :class:`sim.ensemble.Pool`), else on one the overrides ask for, opened
    for this calibration."""
    from .. import posterior as post

    outdir = Path(outdir)
    rows = known(observations, cutoff)
    settings = base_settings(overrides, rows, end=observe.last_month(rows) if rows else None)
    check_parameters(plan.parameters, settings.actors, "calibration plan")
    posterior_file = outdir / "posterior.csv"
    meta = {"cutoff": format_month(cutoff), "observations": " ".join(o.id for o in rows) or "(none)",
            "overrides": " ".join(overrides) or "(none)", "seed": seed, "population": plan.population,
            "engine": "pyabc ABC-SMC, sim.analysis.abc"}
    key = cache_key(rows, cutoff, overrides, plan, seed)
    key_file = outdir / "inputs.key"
    if key_file.exists() and key_file.read_text().strip() != key:
        raise ConfigError(f"{outdir}: holds a calibration of other inputs (observations, cutoff, overrides, plan, "
                          "seed or engine); allowed: a new --out folder, or the same inputs to resume or reuse it")
    if posterior_file.exists() and key_file.exists():
        return {"posterior": posterior_file, "cached": True, "rows": rows}
    outdir.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key + "\n")
    if not rows:
        # nothing known: the posterior is the prior (a prior sample with equal weights)
        from ..distributions import sample
        from ..streams import PARAMETER, ReplicateStreams

        reg = prm.registry(settings.actors)
        streams = ReplicateStreams(np.random.SeedSequence(seed), 0, plan.population, settings["ensemble.block"])
        draws = sample({p: reg[p].dist for p in plan.parameters}, streams, PARAMETER)
        values = np.column_stack([draws[p] for p in plan.parameters])
        weights = np.full(plan.population, 1.0 / plan.population)
        meta.update(generations=0, note="no observation was published by the cutoff: these are prior draws")
        post.write(posterior_file, list(plan.parameters), values, weights, meta)
        return {"posterior": posterior_file, "cached": False, "rows": rows, "generations": [], "seconds": 0.0}
    if pool is None:
        from ..ensemble import executor

        with executor(settings) as own:
            return calibrate(overrides, observations, cutoff, plan, seed, outdir, quiet, own)
    simulator = Simulator(settings, rows, plan.parameters, pool)

    def report(t, eps, samples, particles):
        if not quiet:
            print(f"  generation {t}: threshold {eps:.4g}, accepted {particles}/{samples} "
                  f"({particles / max(samples, 1):.1%})", file=sys.stderr, flush=True)

    result = run_abc(prior(plan.parameters, settings.actors), simulator, {"miss": np.zeros(len(rows))}, rms,
                     outdir / "abc.db", population=plan.population, max_generations=plan.max_generations, seed=seed,
                     min_eps_drop=plan.min_eps_drop, min_acceptance=plan.min_acceptance, on_generation=report)
    order = [int(n[1:]) for n in result.names]
    params = [plan.parameters[i] for i in order]
    meta.update(generations=len(result.generations),
                thresholds=" ".join(f"{g['epsilon']:.4g}" for g in result.generations))
    post.write(posterior_file, params, result.values, result.weights, meta)
    return {"posterior": posterior_file, "cached": False, "rows": rows, "generations": result.generations,
            "seconds": result.seconds}


def predictive_table(observations, ds_post, ds_prior=None):
    """Each observation: observed against the 5/50/95% of the predictive ensemble(s)."""
    import pandas as pd

    out = []
    for o in observations:
        x = observe.forecast(o, *observe.components(ds_post, o))
        row = {"id": o.id, "what": o.describe(), "observed": o.observed_text(), "published": format_month(o.published)}
        if o.binary:
            row["p_agrees"] = float(np.mean(observe.happened(o, x)))
        q = np.nanquantile(x, [0.05, 0.5, 0.95]) if np.isfinite(x).any() else [np.nan] * 3
        row.update(q05=q[0], q50=q[1], q95=q[2])
        if ds_prior is not None:
            xp = observe.forecast(o, *observe.components(ds_prior, o))
            qp = np.nanquantile(xp, [0.05, 0.5, 0.95]) if np.isfinite(xp).any() else [np.nan] * 3
            row.update(prior_q05=qp[0], prior_q50=qp[1], prior_q95=qp[2])
            if o.binary:
                row["prior_p_agrees"] = float(np.mean(observe.happened(o, xp)))
        out.append(row)
    return pd.DataFrame(out)


def ensembles(overrides, observations, posterior_file, replicates: int, seed: int, end: int, pool=None):
    """The posterior-predictive and the prior ensemble (same seed: common random numbers), on
    ``pool`` if given."""
    from ..run import run

    base = base_settings(overrides, observations, end=end)
    common = {**base.values, "ensemble.replicates": replicates, "seed": seed}
    ds_prior = run(replace(base, values=common), pool=pool)
    ds_post = run(replace(base, values={**common, "ensemble.posterior": str(posterior_file)}), pool=pool)
    return ds_post, ds_prior


def plot_posterior(posterior_file: Path, path: Path, actors=None, seed: int = 0) -> Path:
    """Marginals of the calibrated parameters (weighted histograms), the prior behind."""
    import matplotlib.pyplot as plt

    from .. import posterior as post

    p = post.read(posterior_file)
    reg = prm.registry(actors)
    n = len(p.parameters)
    cols = min(3, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    rng = np.random.default_rng(seed)
    for ax, (i, name) in zip(axes.flat, enumerate(p.parameters), strict=False):
        param = reg[name]
        lo, hi = param.dist.support()
        bins = np.linspace(lo, hi, 31)
        ax.hist(param.dist.draw(rng, 20000), bins=bins, density=True, color="0.8", label="prior")
        ax.hist(p.values[:, i], bins=bins, weights=p.weights, density=True, histtype="stepfilled", alpha=0.6,
                color="tab:blue", label="posterior")
        ax.axvline(param.default, color="k", lw=0.8, ls="--", label="default")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(param.unit, fontsize=8)
        ax.set_yticks([])
        ax.locator_params(axis="x", nbins=5)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"posterior marginals (cutoff {p.meta.get('cutoff', '?')}; {p.size} particles)", fontsize=10)
    fig.tight_layout()
    tmp = path.with_name(f".{path.stem}.part.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def command_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """The arguments of geosim-calibrate and geosim-hindcast."""
    ap = argparse.ArgumentParser(prog=prog, description=doc)
    ap.add_argument("--cutoff", required=True, help="YYYY-MM: use the observations published up to this month")
    ap.add_argument("--observations", nargs="+", metavar="FILE",
                    help="observation CSV files (default: the shipped ones; 'articles' names the shipped file)")
    ap.add_argument("--plan", help="calibration plan YAML (default: observations/calibration.yaml)")
    ap.add_argument("--population", type=int, help="particles per generation (default: the plan's)")
    ap.add_argument("--generations", type=int, help="most generations (default: the plan's)")
    ap.add_argument("--replicates", type=int, help="replicates of the predictive ensembles (default: the plan's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="output folder (default: outputs/calibrations/<key of the inputs>)")
    ap.add_argument("overrides", nargs="*", help="configuration overrides, e.g. scenario=combined")
    return ap


def setup(args, default_scenario: str | None = None):
    """Common to calibrate and hindcast: cutoff, plan, observations checked against the configuration."""
    try:
        cutoff = parse_month(args.cutoff)
        if not re_month(args.cutoff):
            raise ValueError
    except ValueError:
        raise ConfigError(f"--cutoff {args.cutoff!r}: allowed: a month YYYY-MM") from None
    overrides = list(args.overrides)
    if default_scenario and not any(o.split("=", 1)[0].lstrip("+~") == "scenario" for o in overrides):
        overrides.insert(0, f"scenario={default_scenario}")
    for o in overrides:
        if "=" not in o:
            raise ConfigError(f"override {o!r}: allowed: key=value (Hydra syntax)")
    ref = observe.reference_run(overrides)
    observations = observe.load(observe.resolve_paths(args.observations), ref)
    from ..config import compose, validate

    actors = validate(compose(overrides)).actors
    plan = load_plan(args.plan, actors)
    changes = {}
    for field, v in (("population", args.population), ("max_generations", args.generations),
                     ("replicates", getattr(args, "replicates", None))):
        if v is not None:
            if v < 1:
                raise ConfigError(f"--{field.replace('max_', '')} {v}: allowed: an integer >= 1")
            changes[field] = v
    plan = replace(plan, **changes)
    if args.seed < 0 or args.seed >= 2**31:
        raise ConfigError(f"--seed {args.seed}: allowed: 0 .. 2^31 - 1")
    return cutoff, overrides, observations, plan


def re_month(text: str) -> bool:
    import re

    return bool(re.fullmatch(r"\d{4}-\d{2}", text.strip()))


def outputs_dir(kind: str) -> Path:
    from datetime import datetime

    return Path("outputs") / kind / datetime.now().strftime("%Y-%m-%d") / datetime.now().strftime("%H-%M-%S.%f")


def main(argv: list[str] | None = None) -> None:
    parser = command_parser("geosim-calibrate", "Bayesian calibration (ABC-SMC) against observation files")
    execution.command("geosim-calibrate", lambda: parser.parse_args(argv), _main)


def _main(args) -> None:
    require("pyabc", "analysis", "geosim-calibrate")
    cutoff, overrides, observations, plan = setup(args)
    rows = known(observations, cutoff)
    key = cache_key(rows, cutoff, overrides, plan, args.seed)
    outdir = Path(args.out) if args.out else Path("outputs") / "calibrations" / key
    print(f"calibrating {len(plan.parameters)} parameters on {len(rows)} observations published by "
          f"{format_month(cutoff)} ({plan.population} particles per generation) -> {outdir}", file=sys.stderr)
    with execution.pool(overrides) as pool:
        info = calibrate(overrides, observations, cutoff, plan, args.seed, outdir, pool=pool)
        finish(info, overrides, observations, cutoff, plan, args.seed, outdir, pool)


def finish(info, overrides, observations, cutoff, plan, seed, outdir: Path, pool=None) -> dict:
    """posterior.png and predictive.csv next to posterior.csv; prints the posterior table."""
    from .. import posterior as post

    rows = info["rows"]
    p = post.read(info["posterior"])
    plot_posterior(info["posterior"], outdir / "posterior.png", seed=seed)
    end = observe.last_month(observations)
    ds_post, ds_prior = ensembles(overrides, observations, info["posterior"], plan.replicates, seed, end, pool)
    table = predictive_table(rows or observations, ds_post, ds_prior)
    tmp = outdir / ".predictive.csv.part"
    table.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(outdir / "predictive.csv")
    reg = prm.registry()
    lo, med, hi = p.quantile(0.05), p.quantile(0.5), p.quantile(0.95)
    print(f"{'parameter':36s} {'prior 5–95%':>24s} {'posterior 5% / 50% / 95%':>30s}")
    for name in p.parameters:
        a, b = reg[name].dist.support() if name in reg else (math.nan, math.nan)
        print(f"{name:36s} {a:>11.4g} … {b:<11.4g} {lo[name]:>9.4g} {med[name]:>9.4g} {hi[name]:>9.4g}")
    print(f"posterior: {info['posterior']}  ({p.size} particles{', reused' if info.get('cached') else ''})")
    return {"ds_post": ds_post, "ds_prior": ds_prior, "posterior": p}


if __name__ == "__main__":
    main()
