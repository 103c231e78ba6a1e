"""The batched model's shortcuts give what the plain rules give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose, validate
from sim.model import GeoModel


@pytest.mark.parametrize("scenario", ["baseline", "combined"])
def test_assessing_all_states_at_once_equals_each_agent_assessing(scenario):
    s = validate(compose([f"scenario={scenario}"]))
    m = GeoModel(s, 30, rng=3)
    for _ in range(40):
        m.step()
    m.war_demand()
    m._perception_inputs()
    m.assess_states()
    threat, needs = m.threat.copy(), m.needs.copy()
    for state in m.states:
        state.assess()
    np.testing.assert_allclose(m.threat, threat, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(m.needs, needs)


def test_noise_of_a_month_is_drawn_once_and_shared_by_the_rules():
    s = validate(compose([]))
    m = GeoModel(s, 5, rng=1)
    first = m.noise()
    assert m.noise() is first  # calling the rules outside step() reuses this month's numbers
    m.step()
    assert m.noise() is not first
    assert first["routes"].shape == (5, m.n_routes) and first["relations"].shape == (5, m.D * 3)


def test_model_arrays_are_c_contiguous():
    # the step relies on contiguous operands (numpy is slow on tiny strided loops)
    m = GeoModel(validate(compose([])), 7, rng=0)
    m.step()
    for name in ("strength", "flows", "dependence", "demand", "needs", "trust", "threat", "hostility_matrix"):
        assert getattr(m, name).flags["C_CONTIGUOUS"], name
    for name, array in m._params().items():
        assert array.flags["C_CONTIGUOUS"], name
