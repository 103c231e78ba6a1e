"""Killing a run at any moment never leaves a results.nc that opens but holds partial data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import sim
from sim import ConfigError

from .conftest import ROOT

ARGS = ["scenario=combined", "ensemble.replicates=800"]


def start(out):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.Popen([sys.executable, "-m", "sim", *ARGS, f"hydra.run.dir={out}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_sigkill_at_several_moments(tmp_path):
    t0 = time.perf_counter()
    full = start(tmp_path / "full")
    assert full.wait(timeout=300) == 0
    duration = time.perf_counter() - t0
    reference = sim.load(tmp_path / "full" / "results.nc")

    outcomes = []
    for k, fraction in enumerate((0.2, 0.5, 0.75, 0.85, 0.92, 0.97)):
        out = tmp_path / f"kill{k}"
        proc = start(out)
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        path = out / "results.nc"
        if not path.exists():
            outcomes.append("absent")
            continue
        try:
            ds = sim.load(path)  # present: it must be complete, identical to the uninterrupted run
        except ConfigError:
            raise AssertionError(f"a killed run left an unreadable {path}") from None
        assert ds.sizes == reference.sizes
        assert (ds["strength"].values == reference["strength"].values).all()
        outcomes.append("complete")
    assert "absent" in outcomes  # the kills did land during the run
