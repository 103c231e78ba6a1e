"""The calibration script reproduces the registry's drone-plant defaults (A3, ctx6)."""

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
    initial, rate = cal.fit_production()
    assert initial == pytest.approx(GLOBAL["war.drones.production_initial"].default, abs=0.01)
    assert rate == pytest.approx(GLOBAL["war.drones.build_rate"].default, abs=0.01)
    y23, y24 = cal.plant_output(initial, rate)
    assert y23 == pytest.approx(2738) and y24 == pytest.approx(5760)
    # the plant keeps growing after the data end while demand outruns it: no cap fitted to ctx6
    path = cal.plant_path(initial, rate, ("time.end=2025-12",))
    assert path[-16] < 0.8 * path[-1]  # 2024-09 vs 2025-12
    assert path[-1] == pytest.approx(GLOBAL["war.drones.demand_max"].default)  # until it meets the demand
