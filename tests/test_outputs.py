"""What a run leaves on disk: every file the README lists, summary mode end to end, compressed
results at a documented precision, file sizes against the goals, output.results for sweeps."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim import results

from .analysis_helpers import run_cli as run_in
from .analysis_helpers import script
from .conftest import ROOT, run_cli

SMALL = ["ensemble.replicates=6", "time.end=2025-12"]
COMPARE = "output.compare_scenarios=[baseline,assad_fall]"


def readme_run_files() -> list[str]:
    """The file names in the README's table of what a run writes (focus dyad: russia-iran)."""
    text = (ROOT / "README.md").read_text()
    table = text.split("Each run writes into its own folder", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)


def test_every_file_the_readme_lists_is_written(tmp_path):
    names = readme_run_files()
    assert {"results.nc", "summary.csv", "network.png", "war.png", "fan_russia-iran.png"} <= set(names)
    out = tmp_path / "run"
    proc = run_cli("scenario=assad_fall", *SMALL, "ensemble.sample_parameters=true",
                   "output.distribution_plots=[fan,end_states,crossing,comparison]", COMPARE, f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    for name in [*names, "end_states.png", "crossing.png", "comparison.png"]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    with open(out / "results.nc", "rb") as f:
        assert f.read(4) == b"\x89HDF"  # netCDF4/HDF5, compressed
    ds = sim.load(out / "results.nc")
    assert ds.sizes["replicate"] == 6 and "precision" in ds["strength"].attrs


def test_summary_mode_end_to_end(tmp_path):
    """The issue's command, smaller: exit 0, table, files, and the summary plots from the file."""
    out = tmp_path / "run"
    proc = run_cli("scenario=combined", "ensemble.replicates=300", "ensemble.mode=summary", "time.end=2026-06",
                   "output.distribution_plots=[fan,end_states,crossing,comparison]", COMPARE,
                   f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "summary mode" in proc.stdout and "Traceback" not in proc.stderr
    for name in ("results.nc", "summary.csv", "fan_russia-iran.png", "end_states.png", "crossing.png"):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "comparison.png").exists()  # pairs replicates: full mode only
    ds = sim.load(out / "results.nc")
    assert ds.attrs["ensemble_mode"] == "summary" and ds.attrs["replicates"] == 300
    from sim import plots

    for fig in (plots.fan(ds), plots.end_states({"combined": ds}), plots.crossing(ds)):
        assert fig.axes
    p = plots.crossing_probability(ds, 0.2)
    assert p.shape == (ds.sizes["time"],) and np.all(np.diff(p) >= 0)


def test_default_precision_is_what_the_file_says(tmp_path):
    ds = sim.simulate("combined", SMALL)
    back = sim.load(results.save(ds, tmp_path / "results.nc"))
    packed = rounded = 0
    for name, da in ds.data_vars.items():
        got, want = back[name].values.astype(np.float64), da.values.astype(np.float64)
        assert got.shape == want.shape, name
        if da.dtype != np.float32 or "time" not in da.dims:
            np.testing.assert_array_equal(got, want, err_msg=name)
        elif "scale_factor" in back[name].encoding:
            packed += 1
            assert np.abs(got - want).max() <= results.STEP / 2 * 1.001, name
            assert back[name].dtype == np.float32
        else:
            rounded += 1
            assert back[name].attrs["quantization_nsb"] == results.KEEP_BITS
            np.testing.assert_allclose(got, want, rtol=2.0 ** -(results.KEEP_BITS + 1), atol=0, err_msg=name)
        assert "time" not in da.dims or da.dtype != np.float32 or "precision" in back[name].attrs
    assert packed >= 8 and rounded >= 5
    assert (back["strength"].values == 0).sum() == (ds["strength"].values == 0).sum()  # zeros stay exact


def test_bitround_rounds_to_nearest_and_keeps_specials():
    x = np.array([1.0, -1.0, 0.0, 1 / 3, 1e-7, 12345.678, np.nan, np.inf], dtype=np.float32)
    y = results.bitround(x, 10)
    np.testing.assert_array_equal(y[:3], x[:3])
    assert np.isnan(y[6]) and y[7] == np.inf
    np.testing.assert_allclose(y[3:6], x[3:6], rtol=2.0 ** -11)
    assert np.all((y[3:6].view(np.uint32) & np.uint32((1 << 13) - 1)) == 0)


def test_sizes_meet_the_goals(tmp_path):
    """Default horizon; results.nc of 10 and 30 replicates extrapolated linearly to 200: <= 5 MB;
    a sweep job (plots, and the summary results that output.results=auto keeps in a sweep) x 15
    <= 50 MB."""
    size = {}
    for n in (10, 30):
        ds = sim.simulate("baseline", [f"ensemble.replicates={n}"])
        kept = results.reduce(ds, results.DETAIL)  # what output.results=auto keeps of a single run
        size[n] = results.save(kept, tmp_path / f"results{n}.nc").stat().st_size
    at_200 = size[10] + (size[30] - size[10]) * (200 - 10) / 20
    assert at_200 <= 5e6, f"{at_200 / 1e6:.2f} MB for 200 replicates (goal 5 MB)"
    sweep = tmp_path / "sweep"
    proc = run_in([script("geosim"), "-m", "seed=0", "ensemble.replicates=20", f"hydra.sweep.dir={sweep}"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    job = sweep / "0"
    job_size = sum(p.stat().st_size for p in job.rglob("*") if p.is_file())
    kept = sim.load(job / "results.nc")
    per_replicate = sum(kept[v].nbytes for v in kept.data_vars if "replicate" in kept[v].dims)  # uncompressed
    assert (job_size + 9 * per_replicate) * 15 <= 50e6, f"{job_size / 1e6:.2f} MB per job"
    assert "quantile" in kept["strength"].dims and "outcome:russia_iran_military" in kept


def test_output_results_summary_and_none_in_a_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_in([script("geosim"), "-m", "output.results=full,summary,none", "ensemble.replicates=4",
                   "time.end=2025-06", "output.plots=false", f"hydra.sweep.dir={sweep}"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = pd.read_csv(sweep / "sweep_results.csv")
    assert table["status"].tolist() == ["complete", "complete", "no results kept"]
    full, summary = (sim.load(sweep / str(k) / "results.nc") for k in (0, 1))
    assert "replicate" in full["strength"].dims and "quantile" in summary["strength"].dims
    assert not (sweep / "2" / "results.nc").exists() and (sweep / "2" / "summary.csv").exists()
    # the same outcomes whatever was kept (same configuration and seed)
    assert table.loc[0, "russia_iran_military"] == pytest.approx(table.loc[1, "russia_iran_military"], abs=1e-4)
    assert (sweep / "2" / "summary.csv").stat().st_size > 0
    columns = pd.read_csv(sweep / "sweep_results_columns.csv").set_index("column")["meaning"]
    assert "(strength −1…1)" in columns["russia_iran_military"] and "calibration loss" in columns["loss"]


def test_old_netcdf3_results_still_load(tmp_path):
    ds = sim.simulate("baseline", SMALL)
    path = Path(tmp_path / "old.nc")
    ds.to_netcdf(path, engine="scipy")
    back = sim.load(path)
    np.testing.assert_array_equal(back["strength"].values, ds["strength"].values)


def test_reduced_results_keep_outcomes_quantiles_and_draw_a_fan(tmp_path):
    from sim import outcomes, plots

    ds = sim.simulate("assad_fall", SMALL)
    kept = sim.load(results.save(results.reduce(ds), tmp_path / "r.nc"))
    assert "replicate" not in kept["strength"].dims and list(kept["quantile"].values) == list(results.QUANTILES)
    np.testing.assert_allclose(kept["strength"].sel(quantile=0.5).values, ds["strength"].median("replicate").values,
                               atol=1e-4)
    full, stored = outcomes.summary(ds), outcomes.summary(kept)
    assert set(full) == set(stored)
    for name, value in full.items():
        assert stored[name] == pytest.approx(value, rel=1e-6, abs=1e-9), name
    assert kept["outcome:territory"].attrs["units"].startswith("% of")
    assert plots.fan(kept).axes
