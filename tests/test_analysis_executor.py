"""Sobol, ABC and EMA on the ensemble executor: on Dask they give exactly the in-process numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed", reason="the analysis extra installs distributed")
pytest.importorskip("SALib")
pytest.importorskip("pyabc")
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="ipyparallel not installed")
    pytest.importorskip("ema_workbench")

from sim import ConfigError  # noqa: E402
from sim.analysis import abc, ema, execution, observe, sensitivity  # noqa: E402

HEADER = "id,quantity,selector,start,end,aggregate,relation,ref_selector,ref_start,ref_end,value,low,high,published,dating,source"


@pytest.fixture(scope="module")
def on_dask():
    """Overrides that send the work to one 2-process LocalCluster shared by the tests here."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield ["ensemble.executor=dask", f"ensemble.dask.address={c.scheduler_address}"]


def test_sobol_indices_on_dask_equal_those_in_process(on_dask):
    common = ["time.end=2023-12", "seed=2"]
    ranges = {"exchange.threshold.arms": (0.0, 0.6), "war.territory.rate": (0.05, 0.3)}
    outcomes = ["russia_iran_military", "territory"]
    here = sensitivity.analyse(common, ranges, outcomes, 8, seed=1, jobs=1)
    there = sensitivity.analyse([*common, *on_dask], ranges, outcomes, 8, seed=1, jobs=2)
    pd.testing.assert_frame_equal(here, there, check_exact=True)
    assert here.attrs["noise"] == there.attrs["noise"]
    assert (here["ST"] > 0).any()  # the design did move the outcomes


def test_a_calibration_on_dask_equals_one_in_process_and_starts_one_pool(tmp_path, on_dask, monkeypatch):
    from sim import ensemble
    from sim import posterior as post

    obs = tmp_path / "obs.csv"
    obs.write_text("\n".join([
        HEADER,
        "L23,drones_launched,actor=Russia,2023-01,2023-06,sum,,,,,,400,,2023-07,after_period,test",
        "P23,drones_produced,actor=Russia,2023-01,2023-06,sum,,,,,600,,,2023-07,after_period,test",
    ]) + "\n")
    overrides = ["scenario=combined"]
    observations = observe.load([obs], observe.reference_run(overrides))
    plan = abc.Plan(parameters=("war.drones.demand_max", "war.drones.production_initial"), population=24,
                    max_generations=2, min_eps_drop=0.0, replicates=10)
    cutoff = observe.parse_month("2023-07")
    here = abc.calibrate(overrides, observations, cutoff, plan, 3, tmp_path / "here", quiet=True)

    opened = []
    real = ensemble.executor

    def counting(settings, workers=None):
        opened.append(settings["ensemble.executor"])
        return real(settings, workers)

    monkeypatch.setattr(ensemble, "executor", counting)
    there = abc.calibrate([*overrides, *on_dask], observations, cutoff, plan, 3, tmp_path / "there", quiet=True)
    assert opened == ["dask"]  # one pool for every batch of every generation
    assert len(there["generations"]) == 2 and there["generations"] == here["generations"]
    a, b = post.read(here["posterior"]), post.read(there["posterior"])
    assert a.parameters == b.parameters
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.weights, b.weights)
    # where it ran is not part of the inputs: the same calibration folder would be reused
    rows = abc.known(observations, cutoff)
    assert abc.cache_key(rows, cutoff, [*overrides, *on_dask, "ensemble.workers=4"], plan, 3) == \
        abc.cache_key(rows, cutoff, overrides, plan, 3) != abc.cache_key(rows, cutoff, [*overrides, "seed=1"], plan, 3)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside EMA 3.0 with pandas 3
def test_ema_experiments_on_dask_equal_those_in_process(on_dask):
    uncertain = {"dynamics.weight.glue": (0.25, 2.0), "exchange.threshold.arms": (0.0, 0.6)}
    kwargs = dict(n_experiments=6, threshold=0.55, uncertainties=uncertain, replicates=1, seed=4)
    _, ex_here, out_here = ema.discover(overrides="time.end=2023-12", **kwargs)
    _, ex_there, out_there = ema.discover(overrides=" ".join(["time.end=2023-12", *on_dask]), **kwargs)
    columns = [ema.ema_name(p) for p in uncertain]  # (EMA numbers its samples across calls: not compared)
    pd.testing.assert_frame_equal(ex_here[columns], ex_there[columns], check_exact=True)
    y = out_here["russia_iran_composite"]
    np.testing.assert_array_equal(y, out_there["russia_iran_composite"])
    assert len(y) == 6 and np.ptp(y) > 0


def test_executor_overrides_are_told_apart():
    where, rest = execution.split_overrides(["ensemble.executor=dask", "+ensemble.dask.address=tcp://h:1", "seed=3",
                                             "ensemble.workers=2", "ensemble.chunk=8", "time.end=2024-01",
                                             "+executor=slurm"])
    assert where == ["ensemble.executor=dask", "+ensemble.dask.address=tcp://h:1", "ensemble.workers=2",
                     "+executor=slurm"]
    assert rest == ["seed=3", "ensemble.chunk=8", "time.end=2024-01"]
    assert execution.same_numbers("ensemble.chunk=8") and not execution.same_numbers("ensemble.replicates=8")
    # the preset is honoured: a Dask client is tried (here an address where nothing listens), not this process
    with pytest.raises(ConfigError, match="cannot connect to a Dask scheduler"), \
            execution.pool(["seed=3", "+executor=dask", "ensemble.dask.address=tcp://127.0.0.1:9",
                            "ensemble.dask.timeout=1"]):
        pass
