"""The rules, checked against small cases computed by hand."""

import numpy as np
import pytest

from sim.calendar import format_month, month_range, parse_month
from sim.model import GeoModel, _sigmoid

from .conftest import make_settings

QUIET = ("dynamics.noise.relation=0", "dynamics.noise.decision=0", "war.drones.noise=0",
         "ensemble.precision=float64")  # hand checks of the equations, to float64 rounding


def model(*overrides, replicates=1, seed=0):
    s = make_settings(*QUIET, *overrides)
    return s, GeoModel(s, replicates, rng=np.random.default_rng(seed))


def test_calendar():
    assert parse_month("2024-12") == 2024 * 12 + 11
    assert parse_month("2024-12-08") == parse_month("2024-12")
    assert format_month(parse_month("2022-07")) == "2022-07"
    assert str(month_range(parse_month("2022-11"), parse_month("2023-02"))[-1])[:10] == "2023-02-01"
    for bad in ("2024-13", "24-01", "2024-02-30", 2024):
        with pytest.raises(ValueError):
            parse_month(bad)


def test_the_start_month_is_an_equilibrium_without_noise():
    s, m = model()
    initial = m.strength.copy()
    m.step()
    np.testing.assert_allclose(m.strength, initial, atol=1e-9)


def test_relation_moves_by_rate_times_gap():
    s, m = model()
    m.step()
    d = m.dyad_index["russia-iran"]
    # a deliberate policy push of +1 logit on the economic channel, everything else equal
    before = m.strength[0, d, 1]
    x = m.drivers()
    m.policy[:, d, 1] += 1.0
    target = np.tanh(m.offset[0, d, 1] + m.policy[0, d, 1] + x[0, d, 1])
    m.update_relations()
    rate = s["dynamics.rate.economic"]
    assert m.strength[0, d, 1] == pytest.approx(before + rate * (target - before))
    assert m.strength[0, d, 1] > before


def test_willingness_allocation_by_hand():
    s, m = model()
    m.war_demand()
    for state in m.states:
        state.assess()
    m.exchange()
    ru, ir = m.actor_keys.index("russia"), m.actor_keys.index("iran")
    r = [k for k, (sup, rec, g) in enumerate(m.routes) if (sup, rec, g) == (ru, ir, 3)][0]  # Russia -> Iran arms
    strength = m.strength[0, m.dyad_index["russia-iran"], 0]
    willing = _sigmoid((strength - s["exchange.threshold.arms"]) / s["exchange.width"])
    willing *= 1 - s["exchange.overextension"] * m.war_intensity[0]  # Russia is at war
    attraction = s["actors.russia.offers.arms"] * willing
    # other arms suppliers to Iran: only the world market, closed by sanctions
    market = s["exchange.outside.arms"] * (1 - s["actors.iran.sanctions"])
    others = sum(m.offers[0, sup, 3] * _sigmoid((m.strength[0, m.dyad_of_pair[sup, ir], 0] - s["exchange.threshold.arms"])
                                                 / s["exchange.width"])
                 for sup, rec, g in m.routes if rec == ir and g == 3 and sup != ru)
    total = attraction + market + others
    need = min(1.0, s["actors.iran.needs.arms"] + s["exchange.insecurity_sensitivity.arms"] * s["actors.iran.insecurity"])
    assert m.needs[0, ir, 3] == pytest.approx(need)
    expected = need * min(1.0, total) * attraction / total
    assert m.flows[0, r] == pytest.approx(expected, rel=1e-9)


def test_domestic_drone_production_follows_the_logistic_curve():
    s, m = model()
    start = s.month_index(s["war.drones.production_start"])
    k0, kmax, g = (s[f"war.drones.production_{k}"] for k in ("initial", "max", "growth"))
    produced = []
    for _ in range(start + 13):
        m.step()
        produced.append(m.drones_produced[0])
    assert produced[start - 1] == 0.0
    assert produced[start] == pytest.approx(k0)
    assert produced[start + 12] == pytest.approx(kmax / (1 + (kmax / k0 - 1) * np.exp(-g * 12)))


def test_drone_stock_balance():
    s, m = model(replicates=4, seed=3)
    for _ in range(40):
        stock = m.drone_stock.copy()
        m.step()
        np.testing.assert_allclose(m.drone_stock, stock + m.drones_produced + m.drones_imported - m.drones_launched)
        assert (m.drones_launched <= m.drones_demanded + 1e-9).all() or s["war.drones.noise"] > 0


def test_dependence_and_demand_by_hand():
    s, m = model()
    m.step()
    ru, ir = m.actor_keys.index("russia"), m.actor_keys.index("iran")
    got = sum(m.flows[0, k] for k, (sup, rec, g) in enumerate(m.routes) if sup == ru and rec == ir)
    assert m.dependence[0, ir, ru, 3] == pytest.approx(got / m.needs[0, ir].sum())
    trade = [k for k, (sup, rec, g) in enumerate(m.routes) if (sup, rec, g) == (ru, ir, 4)][0]
    assert m.dependence[0, ir, ru, 1] == pytest.approx(m.flows[0, trade] / m.needs[0, ir, 4])
    cover = (m.needs[0, ir] * m.offers[0, ru]).sum() / m.needs[0, ir].sum()
    assert m.demand[0, ir, ru] == pytest.approx(m.threat[0, ir] * cover)


def test_threat_by_hand():
    s, m = model()
    m.step()
    ir = m.actor_keys.index("iran")
    comp = m.composite()[0]
    cinc = np.array([s[f"actors.{a}.cinc"] for a in m.actor_keys])
    hostile = sum(max(0.0, -comp[m.dyad_of_pair[ir, j]]) * cinc[j] / cinc.sum() for j in range(m.A) if j != ir)
    # threat is assessed at the start of the month, from the relations of the month before
    m2 = model()[1]
    m2.step()
    m2.war_demand()
    m2._perception_inputs()
    for state in m2.states:
        state.assess()
    assert m2.threat[0, ir] == pytest.approx(min(1.0, s["actors.iran.insecurity"] + hostile))


def test_assad_fall_sets_the_anchor_and_raises_insecurity():
    s, m = model("scenario=assad_fall")
    fall = s.month_index("2024-12")
    for _ in range(fall + 1):
        m.step()
    assert m.par["anchors.syria.status"][0] == 0.0
    assert m.insecurity[0, m.actor_keys.index("iran")] == pytest.approx(
        s["actors.iran.insecurity"] + s["shocks.assad_fall.insecurity"])


def test_shifts_are_clipped_to_the_parameter_range(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("events:\n  - {id: x, type: shift, date: 2022-08, parameter: actors.iran.sanctions, value: 5}\n")
    s, m = model(f"scenario={path}")
    m.step()
    m.step()
    assert m.sanctions[0, m.actor_keys.index("iran")] == 1.0


def test_replicates_are_independent_draws_of_one_model():
    s, m = model("dynamics.noise.relation=0.05", replicates=3)
    for _ in range(5):
        m.step()
    assert not np.allclose(m.strength[0], m.strength[1])
