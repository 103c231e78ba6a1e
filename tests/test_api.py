"""The Python API: simulate, run, load; reproducibility."""

import numpy as np
import pytest
import xarray as xr

import sim
from sim import ConfigError

from .conftest import make_settings

SMALL = ["ensemble.replicates=8", "time.end=2025-12"]


def test_simulate_returns_the_documented_dataset():
    ds = sim.simulate("assad_fall", overrides=SMALL)
    assert ds.sizes["replicate"] == 8 and ds.sizes["time"] == 42 and ds.sizes["dyad"] == 10
    assert list(ds["channel"].values) == ["military", "economic", "diplomatic", "composite"]
    assert ds["strength"].dims == ("time", "replicate", "dyad", "channel")
    assert ds["dependence"].dims == ("time", "replicate", "actor", "partner", "channel")
    assert "Russia–Iran" in ds["dyad"].values
    assert str(ds["time"].values[0])[:7] == "2022-07"
    for name in ("drones_launched", "troops_sent", "dependence", "strength"):
        assert ds[name].attrs["units"] and ds[name].attrs["description"]
    assert ds.attrs["scenario"] == "assad_fall" and "assad_fall" in ds.attrs["scenario_yaml"]
    assert "shocks:" in ds.attrs["config"] and ds.attrs["engine_version"] == sim.__version__


def test_same_seed_same_results():
    a = sim.simulate("combined", overrides=[*SMALL, "seed=5"])
    b = sim.simulate("combined", overrides=[*SMALL, "seed=5"])
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_different_seeds_differ():
    a = sim.simulate("baseline", overrides=[*SMALL, "seed=1"])
    b = sim.simulate("baseline", overrides=[*SMALL, "seed=2"])
    assert not np.array_equal(a["strength"].values, b["strength"].values)


def test_one_replicate_is_a_plain_run():
    ds = sim.simulate("baseline", overrides=["ensemble.replicates=1", "time.end=2023-06"])
    assert ds.sizes["replicate"] == 1 and np.isfinite(ds["strength"].values).all()


def test_scenario_argument_and_override_agree():
    a = sim.simulate("snapback", overrides=SMALL)
    b = sim.simulate(overrides=[*SMALL, "scenario=snapback"])
    np.testing.assert_array_equal(a["strength"].values, b["strength"].values)


def test_common_random_numbers_across_scenarios():
    # events change what happens, never which random numbers are drawn: before the first
    # shock a scenario and the baseline are identical, replicate by replicate
    base = sim.simulate("baseline", overrides=SMALL)
    fall = sim.simulate("assad_fall", overrides=SMALL)
    before = slice(None, "2024-11-01")
    np.testing.assert_array_equal(base["strength"].sel(time=before).values, fall["strength"].sel(time=before).values)
    assert not np.array_equal(base["strength"].values, fall["strength"].values)


def test_per_replicate_parameter_values_are_used_and_stored():
    s = make_settings(*SMALL)
    values = np.linspace(0.0, 1.0, 8)
    ds = sim.run(s, param_values={"actors.iran.sanctions": values})
    np.testing.assert_allclose(ds["param:actors.iran.sanctions"].values, values)
    np.testing.assert_allclose(ds["sanctions"].sel(actor="Iran").isel(time=0).values, values, rtol=1e-6)


def test_save_and_load_round_trip(tmp_path):
    from sim.results import save

    ds = sim.simulate("baseline", overrides=SMALL)
    path = save(ds, tmp_path / "r" / "results.nc", lossless=True)
    back = sim.load(path)
    for name in ds.data_vars:
        xr.testing.assert_equal(back[name], ds[name])
    assert back.attrs["config"] == ds.attrs["config"]
    assert not list(path.parent.glob("*.part"))


def test_load_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        sim.load(tmp_path / "nope.nc")
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    with pytest.raises(ConfigError, match="not a readable netCDF"):
        sim.load(bad)
    with pytest.raises(ConfigError, match="not a file"):
        sim.load(tmp_path)


def test_truncated_results_file(tmp_path):
    from sim.results import save

    path = save(sim.simulate("baseline", overrides=SMALL), tmp_path / "results.nc")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError):
        sim.load(path)


def test_simulate_rejects_bad_overrides_with_config_error():
    with pytest.raises(ConfigError, match="actors.iran.sanctions"):
        sim.simulate("baseline", overrides=["actors.iran.sanctions=2"])
    with pytest.raises(ConfigError, match="unknown scenario"):
        sim.simulate("atlantis")
