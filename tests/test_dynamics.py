"""The rules, checked against small cases computed by hand."""

import numpy as np
import pytest

from sim.calendar import format_month, month_range, parse_month
from sim.model import TERMS, GeoModel, _sigmoid
from sim.parameters import GOODS

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
    target = np.tanh(m.offset[0, d, 1] + m.policy[0, d, 1] + m._scale[d, 1, 0] * x[0, d, 1])
    m.update_relations()
    rate = s["dynamics.rate.economic"]
    assert m.strength[0, d, 1] == pytest.approx(before + rate * (target - before))
    assert m.strength[0, d, 1] > before


def _hostility(m, i, j):
    comp = m.composite()[0]
    return 0.0 if i == j else max(0.0, -comp[m.dyad_of_pair[i, j]])


def test_payoff_terms_by_hand():
    # Russia -> Iran arms in the first month: every term of docs/model.md 7.5, computed by hand
    s, m = model()
    m.war_demand()
    m.assess_states()
    m.exchange()
    ru, ir = m.actor_keys.index("russia"), m.actor_keys.index("iran")
    r = m.routes.index((ru, ir, 3))
    share = np.array([s[f"actors.{a}.cinc"] for a in m.actor_keys])
    share = share / share.sum()
    others = [k for k in range(m.A) if k not in (ru, ir)]
    expected = {
        "relation": (m.strength[0, m.dyad_index["russia-iran"], 0] - s["exchange.threshold.arms"]) / s["exchange.width"],
        "needs": s["exchange.gain.needs"] * sum(m.needs[0, ru, g] * s[f"actors.iran.offers.{good}"]
                                               for g, good in enumerate(GOODS)),
        "ally": s["exchange.gain.ally"] * sum(min(_hostility(m, ru, k), _hostility(m, ir, k)) * share[k] for k in others),
        "project": s["exchange.gain.project"] * s["anchors.syria.status"],
        "prestige": s["exchange.gain.prestige"] * s["actors.russia.prestige"],
        "sanctions": -s["exchange.cost.sanctions"] * max(0.0, s["actors.iran.sanctions"] - s["actors.russia.sanctions"]),
        "overextension": -s["exchange.overextension"] * m.war_intensity[0],
        "reaction": -s["exchange.cost.reaction"] * sum(share[k] * max(0.0, _hostility(m, ir, k) - _hostility(m, ru, k))
                                                      for k in others),
        "troops": 0.0,
    }
    payoff = m.payoff()[r, :, 0]
    for t, name in enumerate(TERMS):
        assert payoff[t] == pytest.approx(expected[name], abs=1e-12), name
    assert expected["needs"] > 0 and expected["ally"] > 0
    assert expected["reaction"] == 0.0  # Russia is already at least as hostile as Iran to Iran's adversaries
    # Iran -> Ukraine trade: Ukraine's adversaries (Russia, North Korea) would react; Iran is hostile to neither
    ua = m.actor_keys.index("ukraine")
    r = m.routes.index((ir, ua, GOODS.index("trade")))
    reaction = -s["exchange.cost.reaction"] * sum(share[k] * max(0.0, _hostility(m, ua, k) - _hostility(m, ir, k))
                                                   for k in range(m.A) if k not in (ir, ua))
    assert reaction < -0.1
    assert m.payoff()[r, TERMS.index("reaction"), 0] == pytest.approx(reaction, abs=1e-12)


def test_troop_aversion_is_a_cost_on_troop_routes_only():
    s, m = model()
    m.war_demand()
    m.assess_states()
    m.exchange()
    ir, ru = m.actor_keys.index("iran"), m.actor_keys.index("russia")
    troops = m.payoff()[m.routes.index((ir, ru, GOODS.index("troops"))), TERMS.index("troops"), 0]
    assert troops == pytest.approx(-s["exchange.cost.troops"] * s["actors.iran.troop_aversion"])
    drones = m.payoff()[m.routes.index((ir, ru, GOODS.index("drones"))), TERMS.index("troops"), 0]
    assert drones == 0.0


def test_willingness_allocation_by_hand():
    s, m = model()
    m.war_demand()
    m.assess_states()
    m.exchange()
    ru, ir = m.actor_keys.index("russia"), m.actor_keys.index("iran")
    payoff = m.payoff()[..., 0].sum(axis=1)  # each route's net payoff (its terms are checked above)
    willing = {k: _sigmoid(payoff[k]) for k in range(m.n_routes)}
    arms_to_iran = [k for k, (sup, rec, g) in enumerate(m.routes) if rec == ir and g == 3]
    r = m.routes.index((ru, ir, 3))
    attraction = {k: m.offers[0, m.routes[k][0], 3] * willing[k] for k in arms_to_iran}
    market = s["exchange.outside.arms"] * (1 - s["actors.iran.sanctions"])  # closed by sanctions
    total = sum(attraction.values()) + market
    need = min(1.0, s["actors.iran.needs.arms"] + s["exchange.insecurity_sensitivity.arms"] * s["actors.iran.insecurity"])
    assert m.needs[0, ir, 3] == pytest.approx(need)
    expected = need * min(1.0, total) * attraction[r] / total
    assert m.flows[0, r] == pytest.approx(expected, rel=1e-9)


def test_logit_choice_of_a_lone_supplier_by_hand():
    # Iran is Russia's only drone supplier and the world market sells none, so the flow is
    # need x offer x logistic(payoff); a larger gain moves the payoff by gain x exchange value
    flows, payoffs = [], []
    for gain in (0.5, 2.0):
        s, m = model(f"exchange.gain.needs={gain}", "war.drones.production_start=2024-01")
        m.step()
        ru, ir = m.actor_keys.index("russia"), m.actor_keys.index("iran")
        r = m.routes.index((ir, ru, GOODS.index("drones")))
        u = m.payoff()[r, :, 0].sum()
        need = m.needs[0, ru, GOODS.index("drones")]
        assert 0 < need < 1 and s["exchange.outside.drones"] == 0
        assert m.flows[0, r] == pytest.approx(need * s["actors.iran.offers.drones"] / (1 + np.exp(-u)), rel=1e-12)
        value = sum(m.needs[0, ir, g] * s[f"actors.russia.offers.{good}"] for g, good in enumerate(GOODS))
        assert m.payoff()[r, TERMS.index("needs"), 0] == pytest.approx(gain * value, rel=1e-12)
        flows.append(m.flows[0, r])
        payoffs.append(u)
    assert payoffs[1] - payoffs[0] == pytest.approx(1.5 * value, rel=1e-9)
    assert flows[1] > flows[0]


def test_domestic_drone_plant_grows_by_investment_while_demand_outruns_it():
    s, m = model()
    start = s.month_index(s["war.drones.production_start"])
    k0, build, ceiling = (s[f"war.drones.{k}"] for k in ("production_initial", "build_rate", "production_max"))
    rate = build * (1 - s["war.drones.input_sanctions"] * s["actors.russia.sanctions"])
    produced, capacity = [], 0.0
    for t in range(start + 40):
        m.step()
        produced.append(m.drones_produced[0])
        if t == start - 1:
            capacity = k0
        elif t >= start:
            assert produced[t] == pytest.approx(capacity)
            planned = s["war.drones.demand_max"] * m.war_intensity[0]
            capacity = max(capacity, min(capacity + min(rate, max(planned - capacity, 0.0)), ceiling))
    assert produced[start - 1] == 0.0
    assert produced[start] == pytest.approx(k0)
    assert produced[start + 12] == pytest.approx(k0 + 12 * rate)
    assert produced[-1] == pytest.approx(s["war.drones.demand_max"])  # it stops growing once it meets demand


def test_imports_fill_the_gap_the_plant_leaves():
    s, m = model("war.drones.production_max=300")
    for _ in range(40):
        m.step()
    gap = m.drones_demanded[0] - 300.0
    assert m.drone_import_need[0] == pytest.approx(min(1.0, gap / s["war.drones.import_capacity"]))
    assert m.drones_imported[0] > 0


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
    m2.assess_states()
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
