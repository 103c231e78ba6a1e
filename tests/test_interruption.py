"""Killing a run at any moment never leaves a results.nc that opens but holds partial data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import sim
from sim import ConfigError

from .conftest import ROOT, shm_entries, shm_leaks

ARGS = ["scenario=combined", "ensemble.replicates=200", "output.plots=false"]


def start(out):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.Popen([sys.executable, "-m", "sim", *ARGS, f"hydra.run.dir={out}"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def names(out) -> set[str]:
    try:
        return {e.name for e in os.scandir(out)}
    except FileNotFoundError:
        return set()


def writing(found: set[str]) -> bool:
    """results.nc is being written: its temporary file is there."""
    return any(n.startswith(".results.nc.") and n.endswith(".part") for n in found)


def wait_for(proc, out, condition) -> float:
    """Poll ``out`` every few milliseconds until ``condition(names)``; the moment it held."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if condition(names(out)):
            return time.monotonic()
        assert proc.poll() is None or condition(names(out)), f"the run ended first: {sorted(names(out))}"
        time.sleep(0.002)
    raise AssertionError(f"timed out waiting in {out}")


def test_sigkill_at_several_moments(tmp_path):
    """The kills land at moments taken from an uninterrupted run: while it simulates, and early and
    late in the writing of results.nc (its temporary file present, not yet renamed)."""
    full = start(tmp_path / "full")
    t_started = wait_for(full, tmp_path / "full", lambda found: ".hydra" in found)
    t_writing = wait_for(full, tmp_path / "full", writing)
    t_done = wait_for(full, tmp_path / "full", lambda found: "results.nc" in found)
    assert full.wait(timeout=300) == 0
    reference = sim.load(tmp_path / "full" / "results.nc")
    simulate, write = t_writing - t_started, t_done - t_writing

    outcomes = {}
    moments = {"simulating": (".hydra", 0.25 * simulate), "writing, early": ("part", 0.1 * write),
               "writing, late": ("part", 0.7 * write)}
    for k, (moment, (after, delay)) in enumerate(moments.items()):
        out = tmp_path / f"kill{k}"
        proc = start(out)
        wait_for(proc, out, writing if after == "part" else lambda found: ".hydra" in found)
        time.sleep(delay)
        found = names(out)  # what the run was doing when killed (summary.csv comes just before results.nc)
        phase = "writing" if writing(found) else "simulating" if "summary.csv" not in found else "between"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        path = out / "results.nc"
        if not path.exists():
            outcomes[moment] = f"absent, killed while {phase}"
            continue
        try:
            ds = sim.load(path)  # present: it must be complete, identical to the uninterrupted run
        except ConfigError:
            raise AssertionError(f"a run killed {moment} left an unreadable {path}") from None
        assert ds.sizes == reference.sizes
        assert (ds["strength"].values == reference["strength"].values).all()
        outcomes[moment] = "complete"
    # the kills did land while the run simulated and while it wrote results.nc, and left none behind
    # (the moments come from the uninterrupted run; a kill run on a less busy machine is ahead of them)
    assert "absent, killed while simulating" in outcomes.values(), outcomes
    assert "absent, killed while writing" in outcomes.values(), outcomes


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
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"} | {"TMPDIR": str(tmp)}
    shm_before = shm_entries()
    proc = subprocess.Popen([sys.executable, "-m", "sim", "scenario=combined", "ensemble.replicates=4000",
                             "ensemble.block=250", "ensemble.chunk=250", "ensemble.workers=2",
                             f"hydra.run.dir={tmp_path / 'out'}"],
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
    assert not shm_leaks(shm_before)
    assert not (tmp_path / "out" / "results.nc").exists()
