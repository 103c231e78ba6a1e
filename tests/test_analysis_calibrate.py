"""Calibration with the Optuna sweeper: the loss, a short study, and its reproducibility."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

import sim
from sim.analysis import calibrate

from .analysis_helpers import run_cli, script

pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")

SHORT = ["ensemble.replicates=4", "hydra.sweeper.n_trials=3"]


def test_loss_covers_the_numeric_targets():
    ds = sim.simulate("baseline", ["ensemble.replicates=20", "time.end=2024-12", "output.network_dates=[2022-07,end]"])
    rows = calibrate.report(ds)
    assert [r["id"] for r in rows] == ["P1", "P2", "P2", "P3", "P4", "P5", "P5", "P7"]
    assert calibrate.loss(ds) == pytest.approx(sum(r["miss"] for r in rows))
    assert all(r["miss"] == 0.0 for r in rows if r["id"] in ("P1", "P3", "P4", "P7"))  # the defaults meet them
    too_short = sim.simulate("baseline", ["ensemble.replicates=2", "time.end=2024-06", "output.network_dates=[2022-07]"])
    assert calibrate.loss(too_short) is None


def test_band_and_bound_misses():
    band = calibrate.Target("P2", "x", "band", 7_700.0, 14_300.0)
    assert band.miss(11_000.0) == 0.0 and band.miss(14_300.0) == pytest.approx(1.0) and band.miss(17_600.0) == pytest.approx(4.0)
    bound = calibrate.Target("P3", "x", "at_least", low=2.0, scale=0.2)
    assert bound.miss(2.5) == 0.0 and bound.miss(1.8) == pytest.approx(1.0)
    assert not bound.met(float("nan")) and bound.miss(float("nan")) > 1e5


def calibration(tmp_path, name):
    out = tmp_path / name
    proc = run_cli([script("geosim"), "-m", "hparams_search=calibrate", *SHORT, f"hydra.sweep.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_short_calibration_saves_everything_and_reproduces(tmp_path):
    first = calibration(tmp_path, "first")
    doc = yaml.safe_load((first / "calibration.yaml").read_text())
    assert doc["sampler"]["seed"] == 42 and doc["sampler"]["_target_"] == "optuna.samplers.TPESampler"
    assert set(doc["search_space"]) == {"war.drones.demand_max", "war.drones.doctrine_width",
                                        "war.drones.build_rate", "war.drones.production_initial",
                                        "war.drones.import_capacity", "war.troops.scale"}
    assert doc["n_trials"] == 3 and "hydra.sweeper.n_trials=3" in doc["command"]
    assert set(doc["best_params"]) == set(doc["search_space"])
    assert [f["id"] for f in doc["best_figures"]][:2] == ["P1", "P2"]
    table = pd.read_csv(first / "sweep_results.csv")
    assert len(table) == 3 and (table["status"] == "complete").all()
    # the value Optuna minimised is the loss each job returned
    assert doc["best_value"] == pytest.approx(table["loss"].min())
    best = table.loc[table["loss"].idxmin()]
    assert best["war.drones.demand_max"] == pytest.approx(doc["best_params"]["war.drones.demand_max"])

    second = calibration(tmp_path, "second")
    assert (yaml.safe_load((second / "optimization_results.yaml").read_text())
            == yaml.safe_load((first / "optimization_results.yaml").read_text()))
