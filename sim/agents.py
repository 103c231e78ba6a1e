"""A state: what it perceives and what it needs from abroad.

Every attribute is a numpy array over replicates (leading axis), held as a view into the
model's stacked arrays so that the model can also work on all states at once.
"""

from __future__ import annotations

import mesa
import numpy as np

from .parameters import GOODS

DRONES, TROOPS, ARMS = GOODS.index("drones"), GOODS.index("troops"), GOODS.index("arms")


class StateAgent(mesa.Agent):
    """One of the states (Russia, Iran, ...).

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

    def assess(self) -> None:
        """Perceive threat and work out needs for this month.

        threat = insecurity + sum over hostile states of hostility x their capability share;
        needs  = baseline + insecurity x sensitivity (arms, cover) + sanctions x sensitivity
        (trade), clipped to [0, 1]. The attacker's need for troops scales with war intensity and
        its need for imported drones is the gap its own plant leaves (see the model); the
        defender's need for arms scales with war intensity.
        """
        m = self.model
        hostile = m.hostility_matrix[:, self.index, :]
        self.threat[:] = np.clip(self.insecurity + (hostile * m.capability_share).sum(axis=1), 0.0, 1.0)
        need = (self.needs_base
                + self.insecurity[:, None] * m.insecurity_sensitivity
                + self.sanctions[:, None] * m.sanctions_sensitivity)
        if self.is_attacker:
            need[:, TROOPS] = self.needs_base[:, TROOPS] * m.war_intensity
            need[:, DRONES] = m.drone_import_need
        if self.is_defender:
            need[:, ARMS] *= m.war_intensity
        np.clip(need, 0.0, 1.0, out=self.needs)
