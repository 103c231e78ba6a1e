"""What researchers do in Python: tidy tables, dyads by key or label, string overrides, units."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import ConfigError

SMALL = "ensemble.replicates=4 time.end=2023-12 seed=2"


@pytest.fixture(scope="module")
def ds():
    return sim.simulate("baseline", SMALL + " ensemble.sample_parameters=true")


def test_simulate_takes_one_string_of_overrides_like_the_command_line(ds):
    again = sim.simulate("baseline", SMALL.split() + ["ensemble.sample_parameters=true"])
    np.testing.assert_array_equal(again["strength"].values, ds["strength"].values)
    assert ds.sizes["replicate"] == 4 and str(ds["time"].values[-1])[:7] == "2023-12"


def test_simulate_refuses_other_types_with_a_clear_error():
    with pytest.raises(ConfigError, match="list of strings"):
        sim.simulate("baseline", {"seed": 1})
    with pytest.raises(ConfigError, match="unknown key"):
        sim.simulate("baseline", "seed=1 nonsense=3")


@pytest.mark.parametrize("name", ["Russia–Iran", "russia-iran", "Russia-Iran", "iran-russia", "IRAN – RUSSIA"])
def test_a_dyad_is_selected_by_label_key_hyphen_or_either_order(ds, name):
    got = ds["strength"].sel(dyad=name, channel="military")
    np.testing.assert_array_equal(got.values, ds["strength"].sel(dyad="Russia–Iran", channel="military").values)
    assert got["dyad"].item() == "Russia–Iran"


def test_dyad_selection_survives_subsetting_and_loading(ds, tmp_path):
    assert ds.isel(time=slice(0, 3)).sel(dyad="russia-north_korea")["dyad"].item() == "Russia–North Korea"
    assert list(ds.sel(dyad=["russia-ukraine", "Russia–Iran"])["dyad"].values) == ["Russia–Ukraine", "Russia–Iran"]
    back = sim.load(sim.results.save(ds, tmp_path / "r.nc"))
    assert back.sel(dyad="Russia-North Korea")["dyad"].item() == "Russia–North Korea"
    with pytest.raises(KeyError):
        ds.sel(dyad="russia-mars")


def test_tidy_gives_one_row_per_value(ds):
    t = sim.tidy(ds, ["strength"], dyad="russia-iran", channel="military")
    assert len(t) == ds.sizes["time"] * 4
    assert {"time", "replicate", "dyad", "channel", "variable", "value", "units"} <= set(t.columns)
    assert set(t["dyad"]) == {"Russia–Iran"} and set(t["units"]) == {"strength −1…1"}
    row = t[(t["replicate"] == 2)].iloc[5]
    assert row["value"] == pytest.approx(float(ds["strength"].sel(dyad="Russia–Iran", channel="military",
                                                                  replicate=2).isel(time=5)))
    both = sim.tidy(ds, ["strength", "trust"], dyad=["russia-iran", "iran-north_korea"], replicate=range(2),
                    channel="economic")
    assert set(both["variable"]) == {"strength", "trust"} and len(both) == 2 * 2 * 2 * ds.sizes["time"]
    params = sim.tidy(ds, "param:dynamics.rate.military")
    assert len(params) == 4 and params["units"].iloc[0] == "1/month"


def test_tidy_refuses_what_it_cannot_do(ds, monkeypatch):
    with pytest.raises(ConfigError, match="no variable 'strenght'"):
        sim.tidy(ds, ["strenght"])
    with pytest.raises(ConfigError, match="not a dimension"):
        sim.tidy(ds, ["strength"], colour="red")
    monkeypatch.setattr(sim.results, "TIDY_ROWS", 100)
    with pytest.raises(ConfigError, match="rows"):
        sim.tidy(ds, ["strength"])


def test_every_sampled_parameter_has_units(ds):
    params = [v for v in ds.data_vars if v.startswith("param:")]
    assert len(params) > 10
    for v in params:
        assert ds[v].attrs["units"], v


def test_lazy_load_reads_what_is_selected(ds, tmp_path):
    path = sim.results.save(ds, tmp_path / "r.nc")
    lazy = sim.load(path, lazy=True)
    try:
        assert not lazy["strength"].variable._in_memory
        t = sim.tidy(lazy, ["strength"], dyad="russia-iran", channel="composite", replicate=range(2))
        eager = sim.tidy(sim.load(path), ["strength"], dyad="russia-iran", channel="composite", replicate=range(2))
        assert t.equals(eager) and len(t) == 2 * ds.sizes["time"]
    finally:
        lazy.close()
