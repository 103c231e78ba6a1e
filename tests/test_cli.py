"""The command line end to end, in subprocesses, with the run directory in a temp dir."""

import numpy as np

import sim

from .conftest import run_cli, run_script

SMALL = ["ensemble.replicates=6", "time.end=2025-12"]


def test_geosim_writes_results_summary_and_plots(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("scenario=assad_fall", *SMALL, f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    for name in ("results.nc", "summary.csv", "alliance_trajectories.png", "alliance_russia-iran.png",
                 "network.png", "war.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    ds = sim.load(out / "results.nc")
    assert {"time", "replicate", "dyad", "channel"} <= set(ds.dims)
    assert "Russia–Iran military" in proc.stdout and "horizon" in proc.stdout
    import pandas as pd

    table = pd.read_csv(out / "summary.csv")
    assert {"quantity", "month", "median", "p05", "p95", "unit"} <= set(table.columns)
    assert (table["p05"] <= table["median"] + 1e-12).all() and (table["median"] <= table["p95"] + 1e-12).all()
    assert set(table["month"]) == {"2022-07", "2024-06", "2024-12", "2025-12"}  # start, two events, horizon


def test_cli_and_api_give_identical_results(tmp_path):
    out = tmp_path / "run"
    overrides = ["scenario=combined", *SMALL, "seed=3", "actors.iran.sanctions=0.7"]
    proc = run_cli(*overrides, "output.plots=false", "output.lossless=true", "output.results=full", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    cli = sim.load(out / "results.nc")
    api = sim.simulate(overrides=overrides + ["output.plots=false"])
    for name in api.data_vars:
        np.testing.assert_array_equal(cli[name].values, api[name].values)


def test_user_scenario_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("description: mine\ninclude: [baseline]\nevents:\n"
                    "  - {id: early_fall, type: assad_fall, date: 2023-06}\n")
    out = tmp_path / "run"
    proc = run_cli(f"scenario={path}", *SMALL, "output.plots=false", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    assert "early_fall" in sim.load(out / "results.nc").attrs["scenario_yaml"]


def test_bad_value_exits_2_with_one_line_and_no_results(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("actors.iran.sanctions=1.5", f"hydra.run.dir={out}")
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "actors.iran.sanctions" in lines[0] and "[0, 1]" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (out / "results.nc").exists()


def test_bad_scenario_file_exits_non_zero(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("events:\n  - {id: x, type: meteor, date: 2025-01}\n")
    proc = run_cli(f"scenario={path}", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2 and "meteor" in proc.stderr and str(path) in proc.stderr


def test_unknown_key_is_refused(tmp_path):
    proc = run_cli("actors.iran.charisma=1", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2 and "unknown key 'actors.iran.charisma'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_geosim_params_lists_every_parameter():
    proc = run_script("geosim-params")
    assert proc.returncode == 0, proc.stderr
    assert "actors.iran.sanctions" in proc.stdout and "B2" in proc.stdout and "ctx8" in proc.stdout


def test_python_dash_m_sim_help():
    proc = run_cli("--help")
    assert proc.returncode == 0 and "Powered by Hydra" in proc.stdout


def test_geosim_validate_rejects_bad_override():
    proc = run_script("geosim-validate", "dynamics.weight.glue=-1")
    assert proc.returncode == 2 and "dynamics.weight.glue" in proc.stderr
