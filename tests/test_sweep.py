"""Hydra sweeps end to end: basic, joblib and submitit_local launchers, presets, aggregation."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from .analysis_helpers import run_cli, script

SMALL = ["ensemble.replicates=2", "time.end=2025-12", "output.plots=false"]
SCENARIOS = ["baseline", "assad_fall", "trump_talks", "snapback", "combined"]


def sweep(tmp_path, *overrides: str, multirun: bool = True):
    out = tmp_path / "sweep"
    args = [script("geosim"), *(["-m"] if multirun else []), *overrides, *SMALL, f"hydra.sweep.dir={out}"]
    return run_cli(args, tmp_path), out


def check_complete(out, n_jobs: int) -> pd.DataFrame:
    table = pd.read_parquet(out / "sweep_results.parquet")
    csv = pd.read_csv(out / "sweep_results.csv")
    assert len(table) == len(csv) == n_jobs
    assert (table["status"] == "complete").all()
    assert table["job"].tolist() == list(range(n_jobs))
    for d in table["dir"]:
        assert (out / d / "results.nc").is_file()
    for name in ("comparison_outcomes.png", "comparison_trajectories.png"):
        assert (out / name).stat().st_size > 10_000
    return table


@pytest.fixture(scope="module")
def basic_sweep(tmp_path_factory):
    """Five scenarios x two seeds with the basic launcher (the preset compare_scenarios has three
    seeds: test_presets_compose)."""
    tmp = tmp_path_factory.mktemp("basic")
    proc, out = sweep(tmp, "scenario=" + ",".join(SCENARIOS), "seed=0,1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_basic_launcher_scenarios_by_seeds(basic_sweep):
    table = check_complete(basic_sweep, 10)
    assert table["scenario"].tolist() == [s for s in SCENARIOS for _ in range(2)]
    assert table["seed"].tolist() == [0, 1] * 5
    by = table.groupby("scenario")["russia_iran_military"].mean()
    assert by["assad_fall"] < by["baseline"] - 0.2  # the Syrian pillar's loss reached the jobs
    # common random numbers: the same seed gives the same history before the first shock
    assert table.loc[0, "drone_import_share_2023_01"] == table.loc[2, "drone_import_share_2023_01"]
    assert table.loc[0, "drone_import_share_2023_01"] != table.loc[1, "drone_import_share_2023_01"]


def test_aggregate_complete_sweep_rebuilds_the_same_table(basic_sweep, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(basic_sweep, copy)
    for name in ("sweep_results.csv", "sweep_results.parquet", "comparison_outcomes.png"):
        (copy / name).unlink()
    proc = run_cli([script("geosim-aggregate"), str(copy)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "10 jobs expected, 10 complete" in proc.stdout
    assert "missing" not in proc.stdout
    pd.testing.assert_frame_equal(pd.read_csv(copy / "sweep_results.csv"), pd.read_csv(basic_sweep / "sweep_results.csv"))
    assert (copy / "comparison_outcomes.png").is_file()


def test_a_bad_value_stops_a_sweep_before_its_first_job(tmp_path):
    proc, out = sweep(tmp_path, "scenario=baseline,no_such_scenario,assad_fall")
    assert proc.returncode == 2 and "unknown scenario 'no_such_scenario'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not list(out.glob("*/results.nc"))


def test_failed_job_leaves_a_partial_sweep_that_aggregate_reports(tmp_path, monkeypatch):
    # skip the check before the sweep, so that job 1 fails half-way as on a cluster
    monkeypatch.setenv("GEOSIM_SKIP_PRECHECK", "1")
    proc, out = sweep(tmp_path, "scenario=baseline,no_such_scenario,assad_fall")
    assert proc.returncode == 2
    assert "unknown scenario 'no_such_scenario'" in proc.stderr
    assert not (out / "sweep_results.csv").exists()  # Hydra skips on_multirun_end after a failure
    agg = run_cli([script("geosim-aggregate"), str(out)], tmp_path)
    assert agg.returncode == 1, agg.stderr
    assert "3 jobs expected, 1 complete" in agg.stdout
    assert "job 1  scenario=no_such_scenario" in agg.stdout and "has no results.nc" in agg.stdout
    assert "job 2  scenario=assad_fall" in agg.stdout and "never started" in agg.stdout
    table = pd.read_parquet(out / "sweep_results.parquet")
    assert table["status"].tolist() == ["complete", "incomplete", "not started"]
    assert table["russia_iran_composite"].notna().tolist() == [True, False, False]
    assert (out / "comparison_outcomes.png").is_file()


def test_aggregate_bad_folder_exits_2(tmp_path):
    proc = run_cli([script("geosim-aggregate"), str(tmp_path / "nowhere")], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"geosim-aggregate: error: {tmp_path / 'nowhere'}: sweep folder not found"
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_cli([script("geosim-aggregate"), str(empty)], tmp_path)
    assert proc.returncode == 2
    assert "not a Hydra sweep folder" in proc.stderr


def test_joblib_launcher(tmp_path):
    proc, out = sweep(tmp_path, "scenario=baseline,snapback", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Joblib.Parallel" in proc.stdout + proc.stderr
    table = check_complete(out, 2)
    assert table["scenario"].tolist() == ["baseline", "snapback"]


def test_submitit_local_launcher(tmp_path):
    """submitit_local runs the same code path as submitit_slurm, with local processes."""
    proc, out = sweep(tmp_path, "scenario=baseline,trump_talks", "hydra/launcher=submitit_local",
                      "hydra.launcher.timeout_min=10")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / ".submitit").is_dir()
    table = check_complete(out, 2)
    assert table.loc[1, "russia_united_states_hostility"] < table.loc[0, "russia_united_states_hostility"]


def test_two_parameter_grid_draws_a_heat_map(tmp_path):
    proc, out = sweep(tmp_path, "scenario=combined", "dynamics.weight.glue=0.5,1.0", "dynamics.weight.flow=0.3,0.6")
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = check_complete(out, 4)
    assert table["dynamics.weight.glue"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert (out / "comparison_grid.png").is_file()


def test_presets_compose():
    """The presets are multiruns by themselves (`geosim experiment=...`) and hold only what differs."""
    from hydra import compose, initialize_config_module

    from sim.config import register

    register()  # the node 'base' that conf/config.yaml builds on (sim.config.compose does this itself)
    with initialize_config_module(version_base="1.3", config_module="sim.conf"):
        cfg = compose(config_name="config", overrides=["experiment=compare_scenarios"], return_hydra_config=True)
        grid = compose(config_name="config", overrides=["experiment=incentive_grid"], return_hydra_config=True)
        slurm = compose(config_name="config", overrides=["hydra/launcher=submitit_slurm"], return_hydra_config=True)
    assert str(cfg.hydra.mode) == "RunMode.MULTIRUN"
    assert cfg.hydra.sweeper.params["scenario"] == ",".join(SCENARIOS)
    assert cfg.hydra.sweeper.params["seed"] == "0,1,2"
    assert "aggregate" in cfg.hydra.callbacks
    assert grid.scenario == "combined"
    assert set(grid.hydra.sweeper.params) == {"dynamics.weight.glue", "dynamics.weight.flow"}
    assert slurm.hydra.launcher._target_.endswith("SlurmLauncher")
