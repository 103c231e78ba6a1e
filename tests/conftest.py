"""Shared fixtures: settings built through the same Hydra path as the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.config import Settings, compose, validate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def make_settings(*overrides: str) -> Settings:
    return validate(compose(list(overrides)))


@pytest.fixture
def settings_factory():
    return make_settings


def run_cli(*args: str, cwd: Path | None = None, module: str = "sim") -> subprocess.CompletedProcess:
    """Run ``python -m sim ...`` (or another module) in a subprocess, as a user would."""
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd or ROOT, capture_output=True,
                          text=True, env=env, timeout=600)


def run_script(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run an installed console script (geosim-params, geosim-validate, ...)."""
    exe = Path(sys.executable).parent / name
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return subprocess.run([str(exe), *args], cwd=cwd or ROOT, capture_output=True, text=True, env=env, timeout=900)


def shm_entries() -> set[str]:
    """Python's shared-memory segments and semaphores now in /dev/shm (machine-wide)."""
    import glob

    return {*glob.glob("/dev/shm/psm_*"), *glob.glob("/dev/shm/sem.mp-*")}


def _in_use() -> set[str]:
    """The /dev/shm files some live process has mapped or open."""
    used = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/maps") as maps:
                used.update(line.split(None, 5)[5].strip().removesuffix(" (deleted)")
                            for line in maps if "/dev/shm/" in line)
            used.update(os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd"))
        except (OSError, IndexError):
            continue  # the process has gone, or is not ours to read
    return used


def shm_leaks(before: set[str]) -> set[str]:
    """Entries new since ``before`` that no live process uses: left behind by the code under test,
    not merely in use by another test or program running at the same time. Checked twice, a
    second apart, so that a segment another process is just creating is not taken for a leak."""
    import time

    leaks = set()
    for _ in range(2):
        leaks = shm_entries() - before - _in_use()
        if not leaks:
            break
        time.sleep(1)
    return leaks
