"""The EMA Workbench adapter, driven by EMA Workbench itself (extra 'analysis')."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    pytest.importorskip("ema_workbench")

from sim.analysis import ema  # noqa: E402
from sim.errors import ConfigError  # noqa: E402

SHORT = "time.end=2025-12"
UNCERTAIN = {"shocks.trump_talks.detente": (0.0, 2.0), "dynamics.weight.glue": (0.25, 2.0),
             "dynamics.weight.trust": (0.05, 0.6)}


def test_adapter_is_a_plain_function_of_keyword_parameters():
    out = ema.geosim_model(scenario="combined", replicates=2, overrides=SHORT, **{"dynamics.weight.glue": 1.5})
    assert isinstance(out["russia_iran_composite"], float)
    assert out["russia_iran_composite_series"].shape == (42,)  # 2022-07 .. 2025-12
    base = ema.geosim_model(scenario="combined", replicates=2, overrides=SHORT)
    assert out["russia_iran_composite"] != base["russia_iran_composite"]
    with pytest.raises(ConfigError, match="dynamics.weight.glue = 9.0 is out of range"):
        ema.geosim_model(overrides=SHORT, **{"dynamics.weight.glue": 9.0})


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside EMA 3.0 with pandas 3
def test_ema_runs_100_experiments_and_prim_finds_a_box():
    from ema_workbench import SequentialEvaluator
    from ema_workbench.analysis import prim

    model = ema.ema_model(UNCERTAIN, ["russia_iran_composite"], scenario="combined", replicates=1, overrides=SHORT)
    assert [u.name for u in model.uncertainties] == ["shocks__trump_talks__detente", "dynamics__weight__glue",
                                                    "dynamics__weight__trust"]
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=100, uncertainty_sampling_kwargs={"rng": 1})
    assert len(experiments) == 100
    y = np.asarray(outcomes["russia_iran_composite"])
    assert y.shape == (100,) and np.isfinite(y).all() and np.ptp(y) > 0.05
    low = y < np.quantile(y, 0.3)  # "collapse": the weakest 30% of outcomes
    box = prim.Prim(experiments[[u.name for u in model.uncertainties]], low, peel_alpha=0.1).find_box()
    assert box is not None
    limits = ema.restricted(box, UNCERTAIN)
    assert limits  # at least one input range is narrowed
    assert box.density > 0.6 and box.coverage > 0.3  # far above the 30% base rate
    assert set(limits) <= set(UNCERTAIN)
