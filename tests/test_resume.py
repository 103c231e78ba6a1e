"""Interrupted sweeps: finished jobs survive, aggregate lists what is missing, a re-run resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sim

from .conftest import ROOT, run_script

SWEEP = ["-m", "seed=0,1,2,3", "ensemble.replicates=5", "time.end=2025-12", "output.plots=false"]


def geosim(*args: str, wait: bool = True):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    cmd = [str(Path(sys.executable).parent / "geosim"), *args]
    if wait:
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def results(sweep: Path) -> dict[int, Path]:
    return {int(p.parent.name): p for p in sweep.glob("*/results.nc")}


def test_killed_sweep_keeps_finished_jobs_and_resumes(tmp_path):
    sweep = tmp_path / "sweep"
    proc = geosim(*SWEEP, f"hydra.sweep.dir={sweep}", wait=False)
    deadline = time.time() + 300
    while len(results(sweep)) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    finished = results(sweep)
    assert 2 <= len(finished) < 4, "the kill should land in the middle of the sweep"
    for path in finished.values():
        sim.load(path)  # every finished job's results are complete
    stamps = {k: p.stat().st_mtime_ns for k, p in finished.items()}

    report = run_script("geosim-aggregate", str(sweep))
    assert report.returncode == 1, report.stdout + report.stderr
    assert "missing" in (report.stdout + report.stderr).lower()

    again = geosim(*SWEEP, f"hydra.sweep.dir={sweep}", "output.skip_complete=true")
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("skipped") == len(finished)
    done = results(sweep)
    assert sorted(done) == list(range(4))
    assert all(done[k].stat().st_mtime_ns == stamps[k] for k in finished)  # not recomputed
    assert run_script("geosim-aggregate", str(sweep)).returncode == 0


def test_skip_complete_redoes_a_run_whose_configuration_differs(tmp_path):
    out = tmp_path / "run"
    args = ["ensemble.replicates=4", "time.end=2025-12", "output.plots=false", f"hydra.run.dir={out}"]
    assert geosim(*args).returncode == 0
    first = (out / "results.nc").stat().st_mtime_ns
    same = geosim(*args, "output.skip_complete=true")
    assert "skipped" in same.stdout and (out / "results.nc").stat().st_mtime_ns == first
    other = geosim(*args, "output.skip_complete=true", "seed=9")
    assert "skipped" not in other.stdout and (out / "results.nc").stat().st_mtime_ns != first
    assert sim.load(out / "results.nc").attrs["seed"] == 9
