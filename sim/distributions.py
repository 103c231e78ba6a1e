"""Distributions of uncertain parameters, declared in the registry next to their defaults.

A distribution says how uncertain a parameter's value is; with ``ensemble.sample_parameters=true``
every replicate draws its own value (see :func:`sample`). Four kinds:

- :class:`Uniform` ``(low, high)``: every value in the interval equally likely;
- :class:`Beta` ``(a, b, low, high)``: a beta distribution rescaled to ``[low, high]``;
- :class:`Normal` ``(mean, sd, low, high)``: a normal distribution truncated to ``[low, high]``;
- :class:`Choice` ``(values, weights)``: one of a few discrete values.

Each carries ``source``: why this spread (a fact id or ``assumption: ...``). The support of a
distribution must lie inside the parameter's declared range (checked when the registry is built).
Draws are taken from per-block streams (:mod:`sim.streams`) so that a replicate's values do not
depend on chunking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special


@dataclass(frozen=True)
class Dist:
    source: str = field(default="", kw_only=True)

    def support(self) -> tuple[float, float]:
        raise NotImplementedError

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` values, drawn one after another from ``rng`` (so a prefix of a longer draw is a draw)."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _g(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Uniform(Dist):
    low: float
    high: float

    def __post_init__(self):
        if not self.low < self.high:
            raise ValueError(f"Uniform: low {self.low} must be below high {self.high}")

    def support(self):
        return self.low, self.high

    def draw(self, rng, n):
        return self.low + (self.high - self.low) * rng.random(n)

    def describe(self):
        return f"uniform({_g(self.low)}, {_g(self.high)})"


@dataclass(frozen=True)
class Beta(Dist):
    a: float
    b: float
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self):
        if self.a <= 0 or self.b <= 0 or not self.low < self.high:
            raise ValueError(f"Beta: needs a, b > 0 and low < high, got {self}")

    def support(self):
        return self.low, self.high

    def draw(self, rng, n):
        return self.low + (self.high - self.low) * rng.beta(self.a, self.b, n)

    def mean(self) -> float:
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)

    def describe(self):
        scale = "" if (self.low, self.high) == (0.0, 1.0) else f" on [{_g(self.low)}, {_g(self.high)}]"
        return f"beta({_g(self.a)}, {_g(self.b)}){scale}"


@dataclass(frozen=True)
class Normal(Dist):
    """A normal distribution truncated to ``[low, high]`` (inverse-CDF sampling, exact bounds)."""

    mean: float
    sd: float
    low: float
    high: float

    def __post_init__(self):
        if self.sd <= 0 or not self.low < self.high:
            raise ValueError(f"Normal: needs sd > 0 and low < high, got {self}")

    def support(self):
        return self.low, self.high

    def draw(self, rng, n):
        a, b = special.ndtr((self.low - self.mean) / self.sd), special.ndtr((self.high - self.mean) / self.sd)
        x = self.mean + self.sd * special.ndtri(a + (b - a) * rng.random(n))
        return np.clip(x, self.low, self.high)

    def describe(self):
        return f"normal({_g(self.mean)}, sd {_g(self.sd)}) in [{_g(self.low)}, {_g(self.high)}]"


@dataclass(frozen=True)
class Choice(Dist):
    values: tuple[float, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self):
        if not self.values or (self.weights is not None and (len(self.weights) != len(self.values)
                                                             or min(self.weights) < 0 or sum(self.weights) <= 0)):
            raise ValueError(f"Choice: needs values and as many non-negative weights, got {self}")

    def support(self):
        return min(self.values), max(self.values)

    def draw(self, rng, n):
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights, dtype=float)
        cumulative = np.cumsum(w) / w.sum()
        k = np.searchsorted(cumulative, rng.random(n), side="right")
        return np.asarray(self.values, dtype=float)[np.minimum(k, len(self.values) - 1)]

    def describe(self):
        if self.weights is None:
            return "one of " + ", ".join(map(_g, self.values))
        total = sum(self.weights)
        return "one of " + ", ".join(f"{_g(v)} ({w / total:.0%})" for v, w in zip(self.values, self.weights, strict=True))


def sample(dists: dict[str, Dist], streams, purpose: int) -> dict[str, np.ndarray]:
    """One value per replicate of each distribution, from per-block streams keyed by the path.

    ``streams`` is a :class:`sim.streams.ReplicateStreams`; the key of a path does not depend on
    which other parameters are sampled, so adding a distribution leaves the others' draws alone.
    """
    from .streams import name_key

    out = {}
    for path, dist in dists.items():
        values = streams.draw(purpose, name_key(path), 1, lambda g, n, _w, d=dist: d.draw(g, n)[:, None])
        out[path] = values[:, 0]
    return out
