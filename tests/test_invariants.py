"""Invariants of the dynamics for parameters anywhere inside their declared ranges (hypothesis)."""

from __future__ import annotations

from functools import cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.parameters import registry
from sim.validate import in_range

from .conftest import make_settings

PRESETS = ["baseline", "assad_fall", "trump_talks", "snapback", "combined"]
R = 3


@cache
def preset_settings(name: str):
    return make_settings(f"scenario={name}", f"ensemble.replicates={R}")


NUMERIC = sorted(path for path, p in registry().items()
                 if p.kind == "float" and not path.startswith(("relations.", "shocks.")))


@settings(max_examples=30, deadline=None)
@given(scenario=st.sampled_from(PRESETS), seed=st.integers(0, 2**32 - 1))
def test_every_state_variable_stays_in_range(scenario, seed):
    """Each replicate draws every numeric parameter uniformly inside its declared range."""
    rng = np.random.default_rng(seed)
    reg = registry()
    values = {path: rng.uniform(reg[path].low, reg[path].high, size=R) for path in NUMERIC}
    ds = sim.run(preset_settings(scenario), param_values=values)
    assert in_range(ds), "a state variable left its declared range or became NaN/inf"


@settings(max_examples=20, deadline=None)
@given(scenario=st.sampled_from(PRESETS), corner=st.lists(st.booleans(), min_size=len(NUMERIC), max_size=len(NUMERIC)))
def test_corners_of_the_parameter_space(scenario, corner):
    """Every numeric parameter at the low or high end of its range at once."""
    reg = registry()
    values = {path: np.full(R, reg[path].high if hi else reg[path].low) for path, hi in zip(NUMERIC, corner, strict=True)}
    ds = sim.run(preset_settings(scenario), param_values=values)
    assert in_range(ds)
