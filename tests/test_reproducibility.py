"""Same configuration and seed -> bit-identical data, whatever the launcher or entry point."""

from __future__ import annotations

import numpy as np
import pytest

import sim

from .test_resume import geosim

CONFIG = ["scenario=combined", "seed=4", "ensemble.replicates=6", "time.end=2025-12", "output.plots=false",
          "output.results=full", "output.lossless=true"]  # every bit of every trajectory, also in a sweep


@pytest.fixture(scope="module")
def reference():
    return sim.simulate(overrides=CONFIG)


def same_data(a, b):
    assert set(a.data_vars) == set(b.data_vars)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


@pytest.mark.parametrize("launcher", [None, "basic", "joblib", "submitit_local"])
def test_launchers_give_identical_results(tmp_path, reference, launcher):
    if launcher is None:
        proc = geosim(*CONFIG, f"hydra.run.dir={tmp_path / 'run'}")
        path = tmp_path / "run" / "results.nc"
    else:
        proc = geosim("-m", *CONFIG, f"hydra/launcher={launcher}", f"hydra.sweep.dir={tmp_path / 'sweep'}")
        path = tmp_path / "sweep" / "0" / "results.nc"
    assert proc.returncode == 0, proc.stderr[-2000:]
    same_data(sim.load(path), reference)


def test_repeated_runs_are_identical(reference):
    same_data(sim.simulate(overrides=CONFIG), reference)


def test_results_carry_their_provenance(reference):
    attrs = reference.attrs
    assert attrs["engine"] == "geosim" and attrs["engine_version"] == sim.__version__
    assert attrs["seed"] == 4 and "seed: 4" in attrs["config"]
    assert len(attrs.get("git_commit", "")) == 40  # the test suite runs from a git checkout
