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


def children(pid: int) -> set[int]:
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.add(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def test_ctrl_c_during_a_run_on_workers_leaves_no_process_segment_or_file(tmp_path):
    import glob

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"} | {"TMPDIR": str(tmp)}
    shm_before = {*glob.glob("/dev/shm/psm_*"), *glob.glob("/dev/shm/sem.mp-*")}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "scenario=combined", "ensemble.replicates=4000",
                             "ensemble.block=250", "ensemble.workers=2", f"hydra.run.dir={tmp_path / 'out'}"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
        workers |= children(proc.pid)
        time.sleep(0.2)
    assert len(workers) >= 2, "the workers did not start"
    time.sleep(2)  # the workers are running chunks
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=120) != 0
    time.sleep(1)
    assert not [p for p in workers if os.path.exists(f"/proc/{p}") and
                open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
    assert not list(tmp.iterdir())
    assert {*glob.glob("/dev/shm/psm_*"), *glob.glob("/dev/shm/sem.mp-*")} <= shm_before
    assert not (tmp_path / "out" / "results.nc").exists()
