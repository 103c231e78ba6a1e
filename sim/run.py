"""The one public call: run a validated configuration, get a labelled Dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .config import Settings, compose, validate
from .errors import ConfigError


def build_model(settings: Settings, param_values: dict[str, np.ndarray] | None = None):
    """One model holding every replicate, seeded as :func:`run` seeds its chunks (the dashboard
    steps it month by month; the numbers equal those of ``run``)."""
    from .ensemble import model_for

    return model_for(settings, 0, settings["ensemble.replicates"], dict(param_values or {}))


def run(settings: Settings, param_values: dict[str, np.ndarray] | None = None, pool=None) -> xr.Dataset:
    """Run ``settings`` and return the results Dataset.

    The replicates run in chunks (``ensemble.chunk``), in this process, on
    ``ensemble.workers`` processes or on a Dask cluster (``ensemble.executor``), with the same numbers as one model holding them all;
    ``ensemble.mode=summary`` returns quantiles and histograms instead of every trajectory
    (see :mod:`sim.ensemble`). ``param_values`` optionally gives per-replicate values of
    numeric parameters (``{path: array of shape (replicates,)}``); they are stored in the
    result as ``param:<path>``, as are the values drawn with ``ensemble.sample_parameters``.
    ``pool`` (from :func:`sim.ensemble.executor`) lets many runs share one set of workers:

    >>> with executor(settings) as pool:
    ...     results = [run(s, pool=pool) for s in many]
    """
    from .ensemble import run_ensemble

    return run_ensemble(settings, param_values, pool)


def simulate(scenario: str = "baseline", overrides: list[str] | str | None = None) -> xr.Dataset:
    """Compose the configuration as ``geosim`` does, run it, return the Dataset.

    ``overrides`` are Hydra overrides, a list or one string of them separated by spaces as on
    the command line (``"ensemble.replicates=50 seed=1"``; quote a value with spaces).

    >>> ds = simulate("assad_fall", overrides=["ensemble.replicates=50", "seed=1"])
    """
    if isinstance(overrides, str):
        import shlex

        try:
            overrides = shlex.split(overrides)
        except ValueError as exc:
            raise ConfigError(f"simulate: overrides {overrides!r}: {exc}") from None
    elif overrides is not None and (not isinstance(overrides, (list, tuple))
                                    or not all(isinstance(o, str) for o in overrides)):
        raise ConfigError(f"simulate: overrides must be a list of strings such as ['seed=1'] or one string "
                          f"'seed=1 ensemble.replicates=50', not {type(overrides).__name__}")
    overrides = list(overrides or [])
    if not any(o.split("=", 1)[0].lstrip("+~") == "scenario" for o in overrides):
        overrides.insert(0, f"scenario={scenario}")
    return run(validate(compose(overrides)))
