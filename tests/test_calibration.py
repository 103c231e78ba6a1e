"""The calibration script reproduces the registry's drone-production defaults (A3, ctx6)."""

import importlib.util

import pytest

from sim.parameters import GLOBAL

from .conftest import ROOT


def load_script():
    spec = importlib.util.spec_from_file_location("calibrate", ROOT / "scripts" / "calibrate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_production_fit_matches_ctx6_and_the_registry():
    cal = load_script()
    growth, kmax = cal.fit_production(GLOBAL["war.drones.production_initial"].default)
    assert growth == pytest.approx(GLOBAL["war.drones.production_growth"].default, abs=5e-4)
    assert kmax == pytest.approx(GLOBAL["war.drones.production_max"].default, abs=1.0)
    import numpy as np

    k = cal.logistic(GLOBAL["war.drones.production_initial"].default, growth, kmax, np.arange(24))
    assert k[:12].sum() == pytest.approx(2738) and k[12:21].sum() == pytest.approx(5760)
