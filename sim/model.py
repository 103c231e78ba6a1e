"""GeoModel: the monthly rules of the five-state system, for N replicates in lockstep.

One month (``step``) reads like the rule list of the model:

1. apply the scenario's operations dated this month (shocks, parameter changes);
2. the war of attrition sets the attacker's drone demand, its own production and hence its
   need for imported drones;
3. every state assesses its threat and its needs (``StateAgent.assess``);
4. exchange: each possible supplier decides, noisily, how willing it is to supply each good
   to each state; needs are shared among willing suppliers and the world market;
5. the war's outcomes: drones imported, launched and stocked, troops deployed, territory;
6. relations move towards targets set by what flowed, shared adversaries, shared projects,
   trust, sanctions and policy; trust follows delivery;
7. reported measures: dependence and demand for partnership.

Equations and units: ``docs/model.md``. Nothing here does I/O.
"""

from __future__ import annotations

import mesa
import numpy as np

from . import parameters as prm
from .agents import StateAgent
from .config import Settings
from .scenario import Operation

G = len(prm.GOODS)
C = len(prm.CHANNELS)
GOOD = {g: i for i, g in enumerate(prm.GOODS)}
CHANNEL = {c: i for i, c in enumerate(prm.CHANNELS)}
MILITARY = CHANNEL["military"]
ECONOMIC = CHANNEL["economic"]
_ACTOR_FIELDS = ("cinc", "insecurity", "sanctions")
_EPS = 1e-12


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class GeoModel(mesa.Model):
    """The five-state system; every state variable has a leading replicate axis of length R.

    Parameters
    ----------
    settings : validated configuration (:func:`sim.config.validate`)
    replicates : R, the number of replicates run in lockstep
    rng : seed, ``numpy.random.SeedSequence`` or ``Generator``; every draw comes from it
    operations : the scenario's timed operations (default: ``settings.scenario``)
    param_values : optional per-replicate values ``{path: array of shape (R,)}`` that replace
        the configured value of numeric parameters (used for parameter uncertainty)
    """

    def __init__(self, settings: Settings, replicates: int, rng=None,
                 operations: list[Operation] | None = None,
                 param_values: dict[str, np.ndarray] | None = None):
        super().__init__(rng=rng)
        self.settings = settings
        self.R = R = int(replicates)
        self.actor_keys = list(settings.actors)
        A = self.A = len(self.actor_keys)
        self.dyad_pairs = [(self.actor_keys.index(a), self.actor_keys.index(b)) for a, b in settings.dyads]
        D = self.D = len(self.dyad_pairs)
        self.dyad_index = {settings.dyad_key(a, b): d for d, (a, b) in enumerate(settings.dyads)}
        self.dyad_of_pair = np.full((A, A), -1)
        for d, (i, j) in enumerate(self.dyad_pairs):
            self.dyad_of_pair[i, j] = self.dyad_of_pair[j, i] = d
        self._dyad_i = np.array([i for i, _ in self.dyad_pairs])
        self._dyad_j = np.array([j for _, j in self.dyad_pairs])
        self.registry = prm.registry(self.actor_keys)
        v = settings.values
        self.operations = settings.scenario.operations(settings) if operations is None else operations
        self.month = 0

        # --- parameters, as arrays over replicates -------------------------------------------
        def actor_field(field):
            return np.array([[v[f"actors.{a}.{field}"] for a in self.actor_keys]] * R, dtype=float)

        self.cinc = actor_field("cinc")
        self.insecurity = actor_field("insecurity")
        self.sanctions = actor_field("sanctions")
        self.needs_base = np.stack([actor_field(f"needs.{g}") for g in prm.GOODS], axis=2)
        self.offers = np.stack([actor_field(f"offers.{g}") for g in prm.GOODS], axis=2)
        self.policy = np.zeros((R, D, C))
        initial = np.zeros((R, D, C))
        for key, d in self.dyad_index.items():
            for c, name in enumerate(prm.CHANNELS):
                self.policy[:, d, c] = v[f"policy.{key}.{name}"]
                initial[:, d, c] = v[f"relations.{key}.{name}"]
        self.par: dict[str, np.ndarray] = {
            path: np.full(R, float(v[path])) for path, p in self.registry.items()
            if p.kind == "float" and not path.startswith(("actors.", "policy.", "relations."))
        }
        for path, values in (param_values or {}).items():
            self._locate(path)  # raises KeyError for an unknown path
            self._write(path, np.broadcast_to(np.asarray(values, dtype=float), (R,)), "set", clip=False)

        self.attacker = self.actor_keys.index(v["war.attacker"])
        self.defender = self.actor_keys.index(v["war.defender"])
        self.licensor = self.actor_keys.index(v["war.drone_licensor"])
        self.anchors = sorted({p.split(".")[1] for p in self.registry if p.startswith("anchors.")})
        self.anchor_members = {n: [self.actor_keys.index(a) for a in v[f"anchors.{n}.members"]] for n in self.anchors}
        self._build_routes()

        # --- state -------------------------------------------------------------------------
        self.strength = initial.copy()  # (R, D, C) in [-1, 1]
        self.trust = np.zeros((R, D))  # [0, 1]
        self.threat = np.zeros((R, A))
        self.needs = np.zeros((R, A, G))
        self.war_intensity = self.par["war.intensity.initial"].copy()
        self.territory = self.par["war.territory.initial"].copy()
        self.drone_stock = np.zeros(R)
        self.drone_import_need = np.zeros(R)
        self.troops_present = np.zeros((R, self.n_routes))
        self._measures_zero()
        self._update_hostility()
        self._perception_inputs()

        for i, key in enumerate(self.actor_keys):
            StateAgent(self, key, i, settings.names[key])
        self.states = sorted(self.agents, key=lambda a: a.index)
        self._rest_state()

    def _rest_state(self) -> None:
        """Make the starting relations a rest point of the dynamics, before any event.

        A noise-free pass over the first month (no random draws) gives the flows the
        configuration implies at the start; trust starts at the level those flows sustain, and
        the structural offset (R, D, C) is set so that each channel's target equals its
        starting strength. Trends then come only from what changes: the war, the drone plant,
        events. Nothing of this pass is recorded.
        """
        self.war_demand(noise=False)
        for state in self.states:
            state.assess()
        self.exchange(noise=False)
        self.trust = self._delivered()
        self.offset = np.arctanh(np.clip(self.strength, -0.995, 0.995)) - self.drivers()
        self._measures_zero()

    # ----------------------------------------------------------------------------------------
    def _build_routes(self) -> None:
        """Every (supplier, receiver, good) with a positive offer somewhere in the run."""
        may_offer = self.offers.max(axis=0) > 0  # (A, G)
        for o in self.operations:
            if o.target == "parameter" and ".offers." in o.path:
                _, a, _, g = o.path.split(".")
                may_offer[self.actor_keys.index(a), GOOD[g]] = True
        routes = [(s, r, g) for s in range(self.A) for r in range(self.A) for g in range(G)
                  if s != r and may_offer[s, g]]
        self.routes = routes
        n = self.n_routes = len(routes)
        self.route_sup = np.array([s for s, _, _ in routes], dtype=int)
        self.route_rec = np.array([r for _, r, _ in routes], dtype=int)
        self.route_good = np.array([g for _, _, g in routes], dtype=int)
        self.route_channel = np.array([CHANNEL[prm.CHANNEL_OF_GOOD[prm.GOODS[g]]] for g in self.route_good], dtype=int)
        self.route_dyad = self.dyad_of_pair[self.route_sup, self.route_rec]
        # incidence matrices: sums over routes become matrix products
        self.M_group = np.zeros((n, self.A * G))  # route -> (receiver, good)
        self.M_group[np.arange(n), self.route_rec * G + self.route_good] = 1.0
        self.M_dyad_channel = np.zeros((n, self.D * C))
        self.M_dyad_channel[np.arange(n), self.route_dyad * C + self.route_channel] = 1.0
        self.M_dependence = np.zeros((n, self.A * self.A * C))  # (receiver, supplier, channel)
        self.M_dependence[np.arange(n), (self.route_rec * self.A + self.route_sup) * C + self.route_channel] = 1.0
        self.M_good_channel = np.zeros((G, C))
        for g, name in enumerate(prm.GOODS):
            self.M_good_channel[g, CHANNEL[prm.CHANNEL_OF_GOOD[name]]] = 1.0
        warring = np.isin(self.route_sup, [self.attacker, self.defender])
        self.route_overextends = warring & (self.route_channel == MILITARY)
        self.route_drones_in = (self.route_good == GOOD["drones"]) & (self.route_rec == self.attacker)
        self.route_troops = self.route_good == GOOD["troops"]
        self.route_troops_in = self.route_troops & (self.route_rec == self.attacker)
        self.route_aid = (self.route_rec == self.defender) & (self.route_channel == MILITARY)

    def _measures_zero(self) -> None:
        R, A, _D = self.R, self.A, self.D
        self.flows = np.zeros((R, self.n_routes))
        self.dependence = np.zeros((R, A, A, C + 1))
        self.demand = np.zeros((R, A, A))
        self.drones_demanded = np.zeros(R)
        self.drones_produced = np.zeros(R)
        self.drones_imported = np.zeros(R)
        self.drones_launched = np.zeros(R)

    # --- parameters that events change ------------------------------------------------------
    def _locate(self, path: str):
        parts = path.split(".")
        if parts[0] == "actors":
            a = self.actor_keys.index(parts[1])
            field = ".".join(parts[2:])
            if field in _ACTOR_FIELDS:
                return getattr(self, field), (slice(None), a)
            kind, good = field.split(".")
            return getattr(self, f"{kind}_base" if kind == "needs" else kind), (slice(None), a, GOOD[good])
        if parts[0] == "policy":
            return self.policy, (slice(None), self.dyad_index[parts[1]], CHANNEL[parts[2]])
        if path in self.par:
            return self.par[path], (slice(None),)
        raise KeyError(path)

    def _write(self, path: str, value, op: str, clip: bool = True) -> None:
        array, index = self._locate(path)
        new = value if op == "set" else array[index] + value
        p = self.registry[path]
        if clip:
            new = np.clip(new, p.low, p.high)
        array[index] = new

    def apply(self, o: Operation) -> None:
        """Apply one scenario operation now (values outside a parameter's range are clipped)."""
        if o.target == "parameter":
            self._write(o.path, o.value, o.op)
        else:
            dyad, channel = o.path.split(".")
            d, c = self.dyad_index[dyad], CHANNEL[channel]
            new = o.value if o.op == "set" else self.strength[:, d, c] + o.value
            self.strength[:, d, c] = np.clip(new, -1.0, 1.0)
        self._update_hostility()  # relations or composite weights may have changed

    # --- the month --------------------------------------------------------------------------
    def step(self) -> None:
        for o in self.operations:
            if o.month == self.month:
                self.apply(o)
        p = self.par
        self.war_intensity += p["war.intensity.rate"] * (p["war.intensity.target"] - self.war_intensity)
        self.war_demand()
        self._perception_inputs()
        for state in self.states:
            state.assess()
        self.exchange()
        self.war_outcomes()
        self.update_relations()
        self.measure()
        self.month += 1

    def war_demand(self, noise: bool = True) -> None:
        """Drone demand (swarm doctrine x war intensity), domestic production, import need.

        demand_t     = demand_max * W_t * logistic((t - midpoint) / width)
        production_t = logistic growth from production_initial to production_max, x noise
        import need  = (1 - production capacity / production_max) * demand_t / import_capacity
        """
        p, k = self.par, self.month
        s = self.settings
        mid = s.month_index(s["war.drones.doctrine_midpoint"])
        doctrine = _sigmoid((k - mid) / p["war.drones.doctrine_width"])
        self.drones_demanded = p["war.drones.demand_max"] * self.war_intensity * doctrine
        since = k - s.month_index(s["war.drones.production_start"])
        kmax, k0, growth = p["war.drones.production_max"], p["war.drones.production_initial"], p["war.drones.production_growth"]
        if since >= 0:
            k0 = np.minimum(k0, kmax)
            capacity = kmax / (1.0 + (kmax / np.maximum(k0, _EPS) - 1.0) * np.exp(-growth * since))
            capacity = np.where(k0 > 0, capacity, 0.0)
        else:
            capacity = np.zeros(self.R)
        self.drones_produced = capacity * (self._lognoise(p["war.drones.noise"]) if noise else 1.0)
        localisation = capacity / kmax
        orders = (1.0 - localisation) * self.drones_demanded
        cap = p["war.drones.import_capacity"]
        self.drone_import_need = np.where(cap > 0, np.minimum(1.0, orders / np.maximum(cap, _EPS)), 0.0)

    def _lognoise(self, sd: np.ndarray) -> np.ndarray:
        """Mean-one lognormal factors, one per replicate."""
        return np.exp(sd * self.rng.standard_normal(self.R) - 0.5 * sd**2)

    def exchange(self, noise: bool = True) -> None:
        """Noisy willingness per route, needs shared among suppliers and the world market.

        willingness = logistic((strength on the good's channel - threshold_g) / width + noise)
                      x (1 - overextension x W) for military goods of a state at war
        attraction  = offer x willingness;  world market = outside_g x (1 - sanctions of receiver)
        flow        = need x min(1, total attraction) x attraction / total attraction
        """
        p, R = self.par, self.R
        s_route = self.strength[:, self.route_dyad, self.route_channel]
        thresholds = np.stack([p[f"exchange.threshold.{g}"] for g in prm.GOODS], axis=1)[:, self.route_good]
        z = (s_route - thresholds) / p["exchange.width"][:, None]
        if noise:
            z += p["dynamics.noise.decision"][:, None] * self.rng.standard_normal((R, self.n_routes))
        willing = _sigmoid(z)
        cut = 1.0 - p["exchange.overextension"][:, None] * self.war_intensity[:, None]
        willing = np.where(self.route_overextends, willing * cut, willing)
        attraction = self.offers[:, self.route_sup, self.route_good] * willing
        outside = np.stack([p[f"exchange.outside.{g}"] for g in prm.GOODS], axis=1)  # (R, G)
        market = outside[:, None, :] * (1.0 - self.sanctions[:, :, None])  # (R, A, G)
        total = attraction @ self.M_group + market.reshape(R, -1)  # (R, A*G)
        share = np.minimum(1.0, total) / np.maximum(total, _EPS)
        need = self.needs[:, self.route_rec, self.route_good]
        self.flows = need * attraction * share[:, self.route_rec * G + self.route_good]

    def war_outcomes(self) -> None:
        """Drones imported, launched and stocked; troops deployed; territory."""
        p = self.par
        self.drones_imported = (self.flows[:, self.route_drones_in] * p["war.drones.import_capacity"][:, None]).sum(axis=1)
        supply = self.drone_stock + self.drones_produced + self.drones_imported
        wanted = self.drones_demanded * self._lognoise(p["war.drones.noise"])
        self.drones_launched = np.minimum(wanted, supply)
        self.drone_stock = supply - self.drones_launched
        target = self.flows * p["war.troops.scale"][:, None]
        self.troops_present = np.where(self.route_troops,
                                       self.troops_present + p["war.troops.deploy_rate"][:, None] * (target - self.troops_present),
                                       0.0)
        # the attacker's edge: drones launched and foreign troops vs military aid to the defender
        edge = (self.drones_launched / np.maximum(p["war.drones.demand_max"], _EPS)
                + self.troops_present[:, self.route_troops_in].sum(axis=1) / np.maximum(p["war.troops.scale"], _EPS)
                - self.flows[:, self.route_aid].sum(axis=1) / np.maximum(self.needs[:, self.defender, GOOD["arms"]], 0.2))
        self.territory = np.clip(self.territory + p["war.territory.rate"] * self.war_intensity * edge, 0.0, 100.0)

    def drivers(self) -> np.ndarray:
        """Pull on each relation's target, in logit units, without policy: shape (R, D, C)."""
        p, R, D = self.par, self.R, self.D
        flow = (self.flows @ self.M_dyad_channel).reshape(R, D, C)
        i, j = self._dyad_i, self._dyad_j
        shared = np.minimum(self.hostility_matrix[:, i, :], self.hostility_matrix[:, j, :])  # (R, D, A)
        glue = (shared * self.capability_share[:, None, :]).sum(axis=2)
        x = p["dynamics.weight.flow"][:, None, None] * flow
        x += (p["dynamics.weight.glue"][:, None] * glue)[:, :, None]
        x += (p["dynamics.weight.trust"][:, None] * self.trust)[:, :, None]
        for name in self.anchors:
            members = self.anchor_members[name]
            pairs = [d for d, (a, b) in enumerate(self.dyad_pairs) if a in members and b in members]
            x[:, pairs, MILITARY] += (p["dynamics.weight.anchor"] * p[f"anchors.{name}.status"])[:, None]
        si, sj = self.sanctions[:, i], self.sanctions[:, j]
        x[:, :, ECONOMIC] += (p["dynamics.weight.sanctions"][:, None] * np.minimum(si, sj)
                              - p["dynamics.weight.exposure"][:, None] * np.abs(si - sj))
        return x

    def update_relations(self) -> None:
        """strength += rate_c x (tanh(offset + policy + drivers) - strength) + noise; trust follows delivery."""
        p, R = self.par, self.R
        x = self.drivers()
        target = np.tanh(self.offset + self.policy + x)
        rate = np.stack([p[f"dynamics.rate.{c}"] for c in prm.CHANNELS], axis=1)[:, None, :]
        noise = p["dynamics.noise.relation"][:, None, None] * self.rng.standard_normal((R, self.D, C))
        self.strength = np.clip(self.strength + rate * (target - self.strength) + noise, -1.0, 1.0)
        self.trust += p["dynamics.trust_rate"][:, None] * (self._delivered() - self.trust)
        self._update_hostility()

    def _delivered(self) -> np.ndarray:
        """Volume delivered between each pair this month relative to full delivery, (R, D) in [0, 1]."""
        volume = (self.flows @ self.M_dyad_channel).reshape(self.R, self.D, C).sum(axis=2)
        return np.minimum(1.0, volume / self.par["dynamics.trust_reference"][:, None])

    def _update_hostility(self) -> None:
        comp = self.composite()
        H = np.zeros((self.R, self.A, self.A))
        H[:, self._dyad_i, self._dyad_j] = H[:, self._dyad_j, self._dyad_i] = np.maximum(0.0, -comp)
        self.hostility_matrix = H

    def _perception_inputs(self) -> None:
        """Capability shares and need sensitivities (parameters that events may change)."""
        self.capability_share = self.cinc / np.maximum(self.cinc.sum(axis=1, keepdims=True), _EPS)
        sens = np.zeros((self.R, G))
        sens[:, GOOD["arms"]] = self.par["exchange.insecurity_sensitivity.arms"]
        sens[:, GOOD["cover"]] = self.par["exchange.insecurity_sensitivity.cover"]
        self.insecurity_sensitivity = sens
        sens = np.zeros((self.R, G))
        sens[:, GOOD["trade"]] = self.par["exchange.sanctions_sensitivity.trade"]
        self.sanctions_sensitivity = sens

    def composite(self) -> np.ndarray:
        """Weighted mean of the three channels, shape (R, D)."""
        w = np.stack([self.par[f"dynamics.composite.{c}"] for c in prm.CHANNELS], axis=1)  # (R, C)
        return (self.strength * w[:, None, :]).sum(axis=2) / np.maximum(w.sum(axis=1), _EPS)[:, None]

    def measure(self) -> None:
        """Dependence of each state on each partner per channel, and demand for partnership.

        dependence[i, j, c] = flows from j to i on channel c / i's needs on channel c (0–1)
        demand[i, j]        = threat_i x (sum_g need_ig x offer_jg) / (sum_g need_ig)   (0–1)
        """
        R, A = self.R, self.A
        got = (self.flows @ self.M_dependence).reshape(R, A, A, C)
        need_c = self.needs @ self.M_good_channel  # (R, A, C)
        self.dependence[..., :C] = got / np.maximum(need_c[:, :, None, :], _EPS)
        self.dependence[..., C] = got.sum(axis=3) / np.maximum(need_c.sum(axis=2)[:, :, None], _EPS)
        np.clip(self.dependence, 0.0, 1.0, out=self.dependence)
        cover = np.einsum("rig,rjg->rij", self.needs, self.offers)
        total = self.needs.sum(axis=2)
        demand = self.threat[:, :, None] * cover / np.maximum(total[:, :, None], _EPS)
        demand[:, np.arange(A), np.arange(A)] = 0.0
        self.demand = np.clip(demand, 0.0, 1.0)
