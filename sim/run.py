"""The one public call: run a validated configuration, get a labelled Dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr
import yaml

from .config import Settings, compose, validate
from .model import GeoModel
from .results import Recorder, provenance


def build_model(settings: Settings, param_values: dict[str, np.ndarray] | None = None) -> GeoModel:
    """The model :func:`run` steps, seeded from ``settings['seed']`` (the dashboard steps the same one)."""
    rng = np.random.default_rng(np.random.SeedSequence(settings["seed"]))
    return GeoModel(settings, settings["ensemble.replicates"], rng=rng, param_values=param_values)


def run(settings: Settings, param_values: dict[str, np.ndarray] | None = None) -> xr.Dataset:
    """Run ``settings`` (all its replicates in one model) and return the results Dataset.

    ``param_values`` optionally gives per-replicate values of numeric parameters
    (``{path: array of shape (replicates,)}``); they are stored in the result.
    """
    replicates = settings["ensemble.replicates"]
    seed = settings["seed"]
    model = build_model(settings, param_values)
    recorder = Recorder(model, settings.months)
    for t in range(settings.months):
        model.step()
        recorder.record(t)
    attrs = {
        "title": f"geosim results: scenario {settings.scenario.name}",
        "scenario": settings.scenario.name,
        "scenario_description": settings.scenario.description,
        "scenario_yaml": settings.scenario.to_yaml(),
        "config": yaml.safe_dump(settings.config, sort_keys=False, allow_unicode=True),
        "seed": int(seed),
        "replicates": int(replicates),
        **provenance(),
    }
    ds = recorder.dataset(settings, attrs)
    for path, values in (param_values or {}).items():
        ds[f"param:{path}"] = ("replicate", np.asarray(values, dtype=float) * np.ones(replicates),
                               {"description": f"value of {path} in each replicate"})
    return ds


def simulate(scenario: str = "baseline", overrides: list[str] | None = None) -> xr.Dataset:
    """Compose the configuration as ``geosim`` does, run it, return the Dataset.

    >>> ds = simulate("assad_fall", overrides=["ensemble.replicates=50", "seed=1"])
    """
    overrides = list(overrides or [])
    if not any(o.split("=", 1)[0].lstrip("+~") == "scenario" for o in overrides):
        overrides.insert(0, f"scenario={scenario}")
    return run(validate(compose(overrides)))
