"""A state: a Mesa agent that is a view of its rows in the model's arrays.

Every attribute is a numpy array over replicates (leading axis), a view into the model's
stacked arrays. The rules that update them live in one place, the model
(:meth:`sim.model.GeoModel.assess_states` for threat and needs), which runs them for all states
and replicates at once.
"""

from __future__ import annotations

import mesa


class StateAgent(mesa.Agent):
    """One of the states (Russia, Iran, ...): its identity and views of its state.

    Views over replicates (shape ``(R,)`` or ``(R, goods)``):
    ``threat`` (index 0–1), ``needs`` (share of requirement per good, 0–1), and the parameters
    ``insecurity``, ``sanctions``, ``needs_base``, ``offers``.
    """

    def __init__(self, model, key: str, index: int, name: str):
        super().__init__(model)
        self.key, self.index, self.name = key, index, name
        i = index
        self.threat = model.threat[:, i]
        self.needs = model.needs[:, i, :]
        self.insecurity = model.insecurity[:, i]
        self.sanctions = model.sanctions[:, i]
        self.needs_base = model.needs_base[:, i, :]
        self.offers = model.offers[:, i, :]
        self.is_attacker = key == model.settings["war.attacker"]
        self.is_defender = key == model.settings["war.defender"]
