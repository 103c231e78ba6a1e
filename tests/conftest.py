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
