"""The batched model's shortcuts give what the plain rules give."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose, validate
from sim.model import GeoModel
from sim.parameters import GOODS


@pytest.mark.parametrize("scenario", ["baseline", "combined"])
def test_needs_by_hand_state_by_state(scenario):
    """docs/model.md 7.4 for each state and replicate from the agents' views, against the
    model's rule for all states at once."""
    s = validate(compose([f"scenario={scenario}"]))
    m = GeoModel(s, 30, rng=3)
    for _ in range(40):
        m.step()
    m.war_demand()
    m._perception_inputs()
    m.assess_states()
    attacker = s["war.attacker"]
    for state in m.states:
        need = (state.needs_base + state.insecurity[:, None] * m.insecurity_sensitivity
                + state.sanctions[:, None] * m.sanctions_sensitivity)
        if state.key == attacker:
            need[:, GOODS.index("troops")] = state.needs_base[:, GOODS.index("troops")] * m.war_intensity
            need[:, GOODS.index("drones")] = m.drone_import_need
        if state.key == s["war.defender"]:
            need[:, GOODS.index("arms")] *= m.war_intensity
        np.testing.assert_allclose(state.needs, np.clip(need, 0.0, 1.0), rtol=0, atol=1e-15)
        assert state.needs.base is not None  # a view of the model's array, not a copy
    np.testing.assert_array_equal(np.stack([st.needs for st in m.states], axis=1), m.needs)


def test_noise_of_a_month_is_drawn_once_and_shared_by_the_rules():
    s = validate(compose([]))
    m = GeoModel(s, 5, rng=1)
    first = m.noise()
    assert m.noise() is first  # calling the rules outside step() reuses this month's numbers
    m.step()
    assert m.noise() is not first
    assert first["routes"].shape == (m.n_routes, 5) and first["relations"].shape == (m.D * 3, 5)  # replicates last


def test_model_arrays_keep_replicates_last_and_contiguous():
    # the step relies on contiguous rows of R numbers (numpy is slow on tiny strided loops)
    m = GeoModel(validate(compose([])), 7, rng=0)
    m.step()
    for name in ("strength", "flows", "dependence", "demand", "needs", "trust", "threat", "hostility_matrix"):
        internal = getattr(m, f"_{name}")
        assert internal.flags["C_CONTIGUOUS"] and internal.shape[-1] == 7, name
        public = getattr(m, name)  # the same data, replicates first
        assert public.shape[0] == 7 and np.shares_memory(public, internal), name
    for name, array in m._params().items():
        assert array.flags["C_CONTIGUOUS"] and array.shape[-1] == 7, name
    with pytest.raises(AttributeError, match="_strength"):
        m.strength = m.strength.copy()


def test_routes_that_can_never_carry_anything_are_left_out():
    def routes(*overrides):
        m = GeoModel(validate(compose(list(overrides))), 2, rng=0)
        return {(m.actor_keys[s], m.actor_keys[r], GOODS[g]) for s, r, g in m.routes}

    default = routes()
    assert {("iran", "russia", "drones"), ("north_korea", "russia", "troops"), ("russia", "iran", "arms")} <= default
    assert ("iran", "ukraine", "drones") not in default  # Ukraine has no need for drones from abroad
    assert ("iran", "ukraine", "drones") in routes("actors.ukraine.needs.drones=0.2")


@pytest.mark.parametrize("scenario", ["baseline", "combined"])
def test_the_recorder_skips_only_elements_that_stay_zero(scenario):
    # full mode writes dependence, needs, demand and the drones only where they can be non-zero;
    # the rest must really be zero in every month, also with parameters drawn per replicate
    from sim.results import Recorder

    s = validate(compose([f"scenario={scenario}", "ensemble.sample_parameters=true"]))
    m = GeoModel(s, 40, rng=7)
    recorder = Recorder(m, s.months)
    for t in range(s.months):
        m.step()
        recorder.record(t)
        for name in recorder.out:  # unwritten elements were zeroed by storage() and stay zero
            np.testing.assert_array_equal(recorder.out[name][t], np.float32(recorder.current(name)),
                                          err_msg=f"{name}, month {t}")
    assert all(len(index[0]) < recorder.current(name)[..., 0].size for name, index in recorder.sparse.items())
