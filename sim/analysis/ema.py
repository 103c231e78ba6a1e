"""EMA Workbench adapter and a scenario-discovery example (needs the extra ``analysis``).

EMA Workbench 3 drives any module-level function that takes keyword parameters and returns
``{outcome: value or array}``; :func:`geosim_model` is that function for geosim. Its keyword
arguments are parameter paths of the registry (``war.drones.demand_max``; any parameter,
shock magnitudes included, since they are applied as configuration overrides and validated) and
the constants ``scenario``, ``replicates``, ``seed`` and ``overrides`` (extra Hydra overrides,
space-separated). It returns every scalar outcome of :mod:`sim.outcomes` (median over
the replicates, or the share for 0/1 outcomes) and the focus dyad's median composite strength
over time as ``<focus>_composite_series``.

EMA names must be Python identifiers, so :func:`ema_model` names each parameter
``war__drones__demand_max`` and passes the dotted path as its ``variable_name``.

Example (:func:`discover`, also ``python -m sim.analysis.ema``): which shock sizes and
incentives make Russia–Iran cooperation collapse on the path the world took (``combined``)?
Experiments over :data:`DISCOVERY` (Latin hypercube), "collapse" = the composite strength at
the horizon below a threshold, then PRIM finds the box of inputs where collapse is common::

    from sim.analysis.ema import discover
    box, experiments, outcomes = discover(n_experiments=200, threshold=0.2)
    print(box.inspect(style="data"))

The experiments run on the executor of :mod:`sim.ensemble`, chosen by the overrides as for any
run (``ensemble.executor``, ``ensemble.workers``, ``ensemble.dask.*``): :func:`pool_evaluator`
is an EMA evaluator (EMA's extension point, a ``BaseEvaluator``) that hands each experiment to
the pool as one task and reports the results in experiment order, so the experiments and
outcomes are the same on any executor. Each experiment's model runs in the process that runs
the task.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import warnings

import numpy as np

from ..errors import ConfigError, require
from . import execution

DISCOVERY: dict[str, tuple[float, float]] = {
    "shocks.assad_fall.insecurity": (0.0, 0.8),
    "shocks.trump_talks.detente": (0.0, 2.0),
    "shocks.trump_talks.aid_cut": (0.0, 2.0),
    "shocks.snapback.sanctions": (0.0, 0.5),
    "dynamics.weight.glue": (0.25, 2.0),
    "dynamics.weight.flow": (0.1, 1.0),
    "dynamics.weight.trust": (0.05, 0.6),
    "exchange.threshold.arms": (0.0, 0.6),
    "exchange.threshold.trade": (-0.5, 0.1),
}
"""Uncertainties of the example: shock magnitudes and incentives, with plausible ranges."""


def ema_name(path: str) -> str:
    """An identifier for EMA: ``war.drones.demand_max`` -> ``war__drones__demand_max``."""
    return path.replace(".", "__").replace("-", "_")


def geosim_model(scenario: str = "baseline", replicates: int = 5, seed: int = 0, overrides: str = "",
                 **params) -> dict[str, float | np.ndarray]:
    """Run geosim once with ``params`` (dotted parameter paths) and return its outcomes.

    Raises ConfigError for an unknown parameter or a value outside its declared range.
    """
    from .. import outcomes as oc
    from ..config import validate
    from ..run import run

    cfg = copy.deepcopy(_base_config(scenario, int(replicates), int(seed), overrides))
    for path, value in params.items():
        node = cfg
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"geosim_model: {path} is not a parameter (geosim-params lists them)")
        node[leaf] = _plain(value)
    settings = validate(cfg, where="geosim_model")
    ds = run(settings)
    result: dict[str, float | np.ndarray] = dict(oc.summary(ds))
    focus = oc.roles(ds)["focus"]
    dyad = ds["dyad"].values[list(ds["dyad_key"].values).index(focus)]
    series = ds["strength"].sel(dyad=dyad, channel="composite").median("replicate").values
    result[f"{focus.replace('-', '_')}_composite_series"] = np.asarray(series, dtype=float)
    return result


@functools.lru_cache(maxsize=16)
def _base_config(scenario: str, replicates: int, seed: int, overrides: str) -> dict:
    """The composed configuration for the constants (composing costs more than a short run)."""
    from omegaconf import OmegaConf

    from ..config import compose

    cfg = compose([*overrides.split(), f"scenario={scenario}", f"ensemble.replicates={replicates}", f"seed={seed}",
                   "output.plots=false"])
    return OmegaConf.to_container(cfg, resolve=True)


@contextlib.contextmanager
def _quiet():
    """Silence EMA's import-time notice about optional parallel back ends."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed")
        yield


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def ema_model(uncertainties: dict[str, tuple[float, float]] | None = None, outcomes: list[str] | None = None,
              scenario: str = "combined", replicates: int = 5, seed: int = 0, overrides: str = "", name: str = "geosim"):
    """An ``ema_workbench.Model`` around :func:`geosim_model`.

    uncertainties : {parameter path: (low, high)} (default :data:`DISCOVERY`)
    outcomes : scalar outcome names (default: the focus dyad's composite, military, economic)
    """
    with _quiet():
        require("ema_workbench", "analysis", "scenario discovery")
        from ema_workbench import Constant, Model, RealParameter, ScalarOutcome

    uncertainties = DISCOVERY if uncertainties is None else uncertainties
    outcomes = outcomes or ["russia_iran_composite", "russia_iran_military", "russia_iran_economic"]
    model = Model(name, function=geosim_model)
    model.uncertainties = [RealParameter(ema_name(p), lo, hi, variable_name=p) for p, (lo, hi) in uncertainties.items()]
    model.outcomes = [ScalarOutcome(o) for o in outcomes]
    model.constants = [Constant("scenario", scenario), Constant("replicates", replicates), Constant("seed", seed),
                       Constant("overrides", overrides)]
    return model


def run_experiment(task: bytes) -> dict:
    """Run one EMA experiment in this process and return its outcomes (a task of
    :func:`pool_evaluator`; module-level so that it pickles). ``task`` is the pickled pair
    (models, experiment), unpickled here so that EMA's import notice stays quiet in a worker."""
    import pickle

    with _quiet():
        from ema_workbench.em_framework.experiment_runner import ExperimentRunner

        models, experiment = pickle.loads(task)
    return ExperimentRunner(models).run_experiment(experiment)


def pool_evaluator(models, pool):
    """An EMA evaluator that runs each experiment as one task on ``pool`` (a
    :class:`sim.ensemble.Pool`, from :func:`sim.ensemble.executor` or
    :func:`sim.analysis.execution.pool`) and reports the outcomes in experiment order.

    >>> with execution.pool(["ensemble.workers=2"]) as p, pool_evaluator(model, p) as evaluator:
    ...     experiments, outcomes = evaluator.perform_experiments(scenarios=100)
    """
    with _quiet():
        from ema_workbench.em_framework.evaluators import BaseEvaluator

    from ..ensemble import ordered

    class PoolEvaluator(BaseEvaluator):
        def initialize(self):
            """The pool is opened and closed by its owner."""

        def finalize(self):
            """The pool is opened and closed by its owner."""

        def evaluate_experiments(self, experiments, callback, **kwargs):
            from collections import deque

            pending = deque()  # submitted, outcome not yet reported (ordered() returns in this order)

            def tasks():
                import pickle

                for experiment in experiments:
                    pending.append(experiment)
                    yield run_experiment, pickle.dumps((self._msis, experiment))

            for outcomes in ordered(pool, tasks()):
                callback(pending.popleft(), outcomes)

    return PoolEvaluator(models)


def discover(n_experiments: int = 200, threshold: float = 0.2, outcome: str = "russia_iran_composite",
             uncertainties: dict[str, tuple[float, float]] | None = None, scenario: str = "combined",
             replicates: int = 5, seed: int = 0, overrides: str = "", peel_alpha: float = 0.1):
    """Run ``n_experiments`` (Latin hypercube) and PRIM on ``outcome < threshold``.

    ``overrides`` (Hydra overrides separated by spaces) configure the model; those among them
    that choose the executor (``ensemble.executor``, ``ensemble.workers``, ``ensemble.dask.*``)
    say where the experiments run, one task each (default: one after the other in this process).
    Returns (the PRIM box, the experiments DataFrame, the outcomes dict). The box's limits
    use EMA's names (``dynamics__weight__glue``).
    """
    with _quiet():
        from ema_workbench.analysis import prim

    where, rest = execution.split_overrides(overrides.split())
    model = ema_model(uncertainties, [outcome], scenario, replicates, seed, " ".join(rest))
    with execution.pool(where) as pool, pool_evaluator(model, pool) as evaluator:
        experiments, results = evaluator.perform_experiments(scenarios=n_experiments,
                                                            uncertainty_sampling_kwargs={"rng": seed})
    x = experiments[[u.name for u in model.uncertainties]]
    y = np.asarray(results[outcome]) < threshold
    if not y.any():
        raise ConfigError(f"discover: no experiment has {outcome} < {threshold}; raise the threshold")
    box = prim.Prim(x, y, peel_alpha=peel_alpha).find_box()
    return box, experiments, results


def restricted(box, paths=None) -> dict[str, tuple[float, float]]:
    """The dimensions a PRIM box restricts, by parameter path: {path: (low, high)}.

    ``paths`` lists the parameter paths behind the EMA names (default: :data:`DISCOVERY`).
    """
    lims, init = box.box_lim, box.prim.box_init
    path_of = {ema_name(p): p for p in (DISCOVERY if paths is None else paths)}
    out = {}
    for col in lims.columns:
        lo, hi = float(lims[col].iloc[0]), float(lims[col].iloc[1])
        if (lo, hi) != (float(init[col].iloc[0]), float(init[col].iloc[1])):
            out[path_of.get(col, col)] = (lo, hi)
    return out


def main(argv: list[str] | None = None) -> None:
    """``python -m sim.analysis.ema``: the scenario-discovery example."""
    parser = argparse.ArgumentParser(prog="python -m sim.analysis.ema",
                                     description="Scenario discovery with EMA Workbench and PRIM: which inputs make "
                                                 "Russia–Iran cooperation collapse?")
    parser.add_argument("--experiments", type=int, default=200)
    parser.add_argument("--threshold", type=float, default=0.2, help="collapse: composite strength below this")
    parser.add_argument("--scenario", default="combined")
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("overrides", nargs="*", help="configuration overrides, e.g. ensemble.executor=dask "
                        "ensemble.workers=4 (where the experiments run) or time.end=2026-12")
    execution.command("geosim ema", lambda: parser.parse_args(argv), _main)


def _main(args) -> None:
    box, _experiments, results = discover(args.experiments, args.threshold, scenario=args.scenario,
                                          replicates=args.replicates, seed=args.seed,
                                          overrides=" ".join(args.overrides))
    y = np.asarray(results["russia_iran_composite"]) < args.threshold
    print(f"{y.sum()} of {len(y)} experiments end with Russia–Iran composite < {args.threshold}")
    print(f"PRIM box: coverage {box.coverage:.2f}, density {box.density:.2f}, mass {box.mass:.2f}")
    for path, (lo, hi) in restricted(box).items():
        full = DISCOVERY[path]
        print(f"  {path:32s} {lo:.3g} … {hi:.3g}   (sampled {full[0]:g} … {full[1]:g})")

if __name__ == "__main__":
    main()
