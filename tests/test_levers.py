"""Every incentive moves the outcome docs/model.md (7.9, "Levers") says it moves, in the
documented direction: levels are no longer absorbed into the structural offset.

Each row compares two runs that differ in one input (common random numbers, 40 replicates):
the median must move by at least ``effect`` and at least 90% of the replicates must move the
same way (a replicate that does not move at all counts against the claim).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim

from .conftest import make_settings

COMMON = ["ensemble.replicates=40", "seed=5"]
RU_IR = "Russia–Iran"

# (parameter, low run, high run, variable, selection, month, direction, smallest median effect)
LEVERS = [
    ("actors.iran.sanctions", ["actors.iran.sanctions=0.2"], ["actors.iran.sanctions=0.9"],
     "dependence", {"actor": "Iran", "partner": "Russia", "channel": "economic"}, "2028-12", +1, 0.05),
    ("actors.iran.sanctions", ["actors.iran.sanctions=0.2"], ["actors.iran.sanctions=0.9"],
     "strength", {"dyad": RU_IR, "channel": "economic"}, "2028-12", +1, 0.05),
    ("dynamics.weight.sanctions", ["dynamics.weight.sanctions=0"], ["dynamics.weight.sanctions=2"],
     "strength", {"dyad": RU_IR, "channel": "economic"}, "2028-12", +1, 0.1),
    ("dynamics.weight.exposure", ["dynamics.weight.exposure=0"], ["dynamics.weight.exposure=1"],
     "strength", {"dyad": "Russia–North Korea", "channel": "economic"}, "2024-06", -1, 0.01),
    ("dynamics.weight.flow", ["dynamics.weight.flow=0.2"], ["dynamics.weight.flow=1.0"],
     "strength", {"dyad": RU_IR, "channel": "military"}, "2024-06", +1, 0.05),
    ("dynamics.weight.glue", ["dynamics.weight.glue=0.1"], ["dynamics.weight.glue=1.0"],
     "strength", {"dyad": RU_IR, "channel": "composite"}, "2028-12", +1, 0.02),
    ("dynamics.weight.trust", ["dynamics.weight.trust=0.1"], ["dynamics.weight.trust=0.6"],
     "strength", {"dyad": RU_IR, "channel": "composite"}, "2028-12", +1, 0.02),
    ("dynamics.weight.anchor", ["dynamics.weight.anchor=1.0"], ["dynamics.weight.anchor=2.0"],
     "strength", {"dyad": RU_IR, "channel": "military"}, "2024-06", +1, 0.05),
    ("war.drones.production_max", ["war.drones.production_max=300"], ["war.drones.production_max=2000"],
     "drones_imported", {"actor": "Russia"}, "2026-12", -1, 100.0),
    ("war.drones.production_max", ["war.drones.production_max=300"], ["war.drones.production_max=2000"],
     "strength", {"dyad": RU_IR, "channel": "military"}, "2026-12", -1, 0.02),
    ("war.drones.input_sanctions", ["war.drones.input_sanctions=0"], ["war.drones.input_sanctions=0.9"],
     "drones_imported", {"actor": "Russia"}, "2024-06", +1, 50.0),
    ("war.drones.build_rate", ["war.drones.build_rate=30"], ["war.drones.build_rate=60"],
     "drone_import_share", {"actor": "Russia"}, "2024-06", -1, 0.05),
    ("actors.united_states.offers.arms", ["actors.united_states.offers.arms=0.2"],
     ["actors.united_states.offers.arms=1.0"], "territory", {}, "2028-12", -1, 2.0),
    ("exchange.gain.needs", ["exchange.gain.needs=0"], ["exchange.gain.needs=3"],
     "flow", {"route": "Russia→Iran: arms"}, "2026-12", +1, 0.005),
    ("exchange.gain.ally", ["exchange.gain.ally=0"], ["exchange.gain.ally=4"],
     "flow", {"route": "Iran→North Korea: cover"}, "2024-06", +1, 0.005),
    ("exchange.gain.project", ["exchange.gain.project=0"], ["exchange.gain.project=4"],
     "flow", {"route": "Russia→Iran: arms"}, "2024-06", +1, 0.002),
    ("exchange.gain.prestige", ["exchange.gain.prestige=0"], ["exchange.gain.prestige=3"],
     "flow", {"route": "Russia→United States: trade"}, "2024-06", +1, 0.005),
    ("exchange.cost.sanctions", ["exchange.cost.sanctions=0"], ["exchange.cost.sanctions=4"],
     "flow", {"route": "Russia→North Korea: trade"}, "2024-06", -1, 0.002),
    ("exchange.overextension", ["exchange.overextension=0"], ["exchange.overextension=4"],
     "flow", {"route": "Russia→Iran: arms"}, "2024-06", -1, 0.02),
    ("exchange.cost.reaction", ["exchange.cost.reaction=0"], ["exchange.cost.reaction=4"],
     "flow", {"route": "Iran→Ukraine: trade"}, "2024-06", -1, 0.002),
    ("exchange.cost.troops", ["exchange.cost.troops=2"], ["exchange.cost.troops=8"],
     "troops_sent", {"actor": "Iran"}, "2024-06", -1, 100.0),
    ("actors.iran.troop_aversion", ["actors.iran.troop_aversion=0.3"], ["actors.iran.troop_aversion=1.0"],
     "troops_sent", {"actor": "Iran"}, "2024-06", -1, 100.0),
]


def _run(*overrides):
    return sim.run(make_settings(*COMMON, *overrides))


@pytest.mark.parametrize("path,low,high,var,sel,month,sign,effect", LEVERS,
                         ids=[f"{r[0]}->{r[3]}" for r in LEVERS])
def test_lever_moves_its_outcome(path, low, high, var, sel, month, sign, effect):
    a, b = (_run(*o)[var].sel(**sel).sel(time=f"{month}-01").values.astype(float) for o in (low, high))
    moved = sign * (np.median(b) - np.median(a))
    assert moved >= effect, f"{path}: median {var} {sel} moved {moved:+.4f} in the documented direction"
    assert (sign * (b - a) > 0).mean() >= 0.9, f"{path}: replicates moving the documented way: {(sign * (b - a) > 0).mean():.0%}"


def test_snapback_alone_moves_irans_dependence_and_the_economic_channel():
    base, snap = _run("scenario=baseline"), _run("scenario=snapback")
    dep = [np.median(d["dependence"].sel(actor="Iran", partner="Russia", channel="economic", time="2026-03-01").values)
           for d in (base, snap)]
    econ = [np.median(d["strength"].sel(dyad=RU_IR, channel="economic", time="2026-03-01").values) for d in (base, snap)]
    assert dep[1] > dep[0] + 0.005
    assert econ[1] >= econ[0]
