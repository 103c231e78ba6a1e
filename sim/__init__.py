"""geosim: a scenario engine for the Russia–Iran–US–Ukraine–North Korea system.

>>> import sim
>>> ds = sim.simulate("assad_fall", overrides=["ensemble.replicates=200", "seed=1"])
>>> ds = sim.load("outputs/.../results.nc")
>>> sim.tidy(ds, ["strength"], dyad="russia-iran", channel="military")   # a long pandas table
"""

__version__ = "0.1.0"

from .errors import ConfigError  # noqa: E402
from .results import load, tidy  # noqa: E402
from .run import run, simulate  # noqa: E402

__all__ = ["ConfigError", "load", "run", "simulate", "tidy", "__version__"]
