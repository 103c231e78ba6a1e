"""Posterior files: weighted particles of a Bayesian calibration, and ensembles drawn from them.

``geosim-calibrate`` writes ``posterior.csv``: comment lines (``# key: value``) that say how it
was made, then a header ``weight,<parameter path>,...`` and one row per particle. With
``ensemble.posterior=<file>`` every replicate of a run draws one particle, with probability
proportional to its weight, and takes its parameter values (``param_values`` given to
:func:`sim.run` still take precedence). The draw of replicate ``r`` comes from the per-block
stream of :mod:`sim.streams` keyed by ``ensemble.posterior``, so it does not depend on the
chunk size or the number of workers, and the first N replicates of a larger ensemble draw the
same particles as an ensemble of N.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, read_text


@dataclass(frozen=True)
class Posterior:
    parameters: list[str]
    values: np.ndarray  # (particles, parameters)
    weights: np.ndarray  # (particles,), sum 1
    meta: dict[str, str]

    @property
    def size(self) -> int:
        return len(self.weights)

    def mean(self) -> dict[str, float]:
        return {p: float(self.weights @ self.values[:, i]) for i, p in enumerate(self.parameters)}

    def quantile(self, q: float) -> dict[str, float]:
        out = {}
        for i, p in enumerate(self.parameters):
            order = np.argsort(self.values[:, i], kind="stable")
            cdf = np.cumsum(self.weights[order])
            out[p] = float(self.values[order, i][min(np.searchsorted(cdf, q), len(order) - 1)])
        return out


def write(path: str | Path, parameters: list[str], values: np.ndarray, weights: np.ndarray,
          meta: dict[str, object]) -> Path:
    """Write a posterior file atomically (a temporary name, renamed when complete)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8") as f:
        for k, v in meta.items():
            f.write(f"# {k}: {str(v).replace(chr(10), ' ')}\n")
        f.write(",".join(["weight", *parameters]) + "\n")
        for w, row in zip(weights, values, strict=True):
            f.write(",".join([repr(float(w)), *(repr(float(x)) for x in row)]) + "\n")
    tmp.replace(path)
    return path


def read(path: str | Path) -> Posterior:
    """Read a posterior file. Raises ConfigError (one line: file, line, what is allowed)."""
    path = Path(path)
    what = "a posterior.csv written by geosim-calibrate"
    text = read_text(path, "posterior file", what, name=f"ensemble.posterior = {path}")
    allowed = f"allowed: {what}"
    meta: dict[str, str] = {}
    header: list[str] | None = None
    rows: list[list[float]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            meta[key.strip()] = value.strip()
            continue
        cells = [c.strip() for c in line.split(",")]
        if header is None:
            if cells[0] != "weight" or len(cells) < 2:
                raise ConfigError(f"{path}:{n}: header must be weight,<parameter>,...; {allowed}")
            header = cells
            continue
        if len(cells) != len(header):
            raise ConfigError(f"{path}:{n}: {len(cells)} cells for {len(header)} columns; {allowed}")
        try:
            row = [float(c) for c in cells]
        except ValueError:
            raise ConfigError(f"{path}:{n}: a cell is not a number; {allowed}") from None
        if not all(math.isfinite(x) for x in row) or row[0] < 0:
            raise ConfigError(f"{path}:{n}: weights must be >= 0 and values finite; {allowed}")
        rows.append(row)
    if header is None or not rows:
        raise ConfigError(f"{path}: no particles; {allowed}")
    data = np.array(rows)
    weights = data[:, 0]
    if weights.sum() <= 0:
        raise ConfigError(f"{path}: the weights sum to 0; {allowed}")
    return Posterior(header[1:], data[:, 1:], weights / weights.sum(), meta)


def check_parameters(post: Posterior, registry: dict, where: str) -> None:
    for p in post.parameters:
        param = registry.get(p)
        if param is None or param.kind != "float" or p.startswith("relations."):
            raise ConfigError(f"{where}: column {p!r} is not a numeric parameter of this configuration; allowed: "
                              "float parameters (geosim-params lists them)")
        if (param.low is not None and post.values[:, post.parameters.index(p)].min() < param.low) or (
                param.high is not None and post.values[:, post.parameters.index(p)].max() > param.high):
            raise ConfigError(f"{where}: column {p!r} has values outside the parameter's range "
                              f"[{param.low}, {param.high}]")


def draws(settings, first: int = 0, count: int | None = None) -> dict[str, np.ndarray]:
    """Per-replicate parameter values drawn from ``ensemble.posterior`` for replicates
    ``first .. first + count - 1`` (empty when no posterior is set)."""
    from . import parameters as prm
    from .streams import PARAMETER, ReplicateStreams, name_key

    file = settings["ensemble.posterior"]
    if not file:
        return {}
    post = read(file)
    check_parameters(post, prm.registry(settings.actors), f"ensemble.posterior = {file}")
    count = settings["ensemble.replicates"] - first if count is None else count
    seed = np.random.SeedSequence(settings["seed"])
    streams = ReplicateStreams(seed, first, count, settings["ensemble.block"])
    u = streams.uniform(PARAMETER, name_key("ensemble.posterior"), 1)[:, 0]
    cdf = np.cumsum(post.weights)
    index = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), post.size - 1)
    return {p: post.values[index, i].copy() for i, p in enumerate(post.parameters)}
