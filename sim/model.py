"""GeoModel: the monthly rules of the five-state system, for N replicates in lockstep.

One month (``step``) reads like the rule list of the model:

1. apply the scenario's operations dated this month (shocks, parameter changes);
2. the war of attrition sets the attacker's drone demand, its own production and hence its
   need for imported drones;
3. every state assesses its threat and its needs (``StateAgent.assess``, done for all states
   at once by :meth:`GeoModel.assess_states`);
4. exchange: each possible supplier decides, noisily, how willing it is to supply each good
   to each state; needs are shared among willing suppliers and the world market;
5. the war's outcomes: drones imported, launched and stocked, troops deployed, territory;
6. relations move towards targets set by what flowed, shared adversaries, shared projects,
   trust, sanctions and policy; trust follows delivery;
7. reported measures: dependence and demand for partnership.

Equations and units: ``docs/model.md``. Nothing here does I/O.

Random numbers come from :mod:`sim.streams`: one stream per month and block of replicates, so
a replicate's trajectory does not depend on which other replicates share the model. The
per-step work is a few dozen numpy operations over all replicates; sums over supply routes use
``bincount`` on precomputed indices (a matrix product with 0/1 matrices cost more, and
multithreaded BLAS made it twenty times slower on small machines).
"""

from __future__ import annotations

import mesa
import numpy as np

from . import parameters as prm
from .agents import StateAgent
from .config import Settings
from .scenario import Operation, realise
from .streams import EVENT, PARAMETER, ReplicateStreams, name_key, seed_sequence

G = len(prm.GOODS)
C = len(prm.CHANNELS)
GOOD = {g: i for i, g in enumerate(prm.GOODS)}
CHANNEL = {c: i for i, c in enumerate(prm.CHANNELS)}
MILITARY = CHANNEL["military"]
ECONOMIC = CHANNEL["economic"]
DRONES, TROOPS, ARMS, TRADE, COVER = (GOOD[g] for g in ("drones", "troops", "arms", "trade", "cover"))
_ACTOR_FIELDS = ("cinc", "insecurity", "sanctions")
_EPS = 1e-12


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sigmoid_inplace(x: np.ndarray) -> np.ndarray:
    """``_sigmoid`` written over ``x`` (saves three temporary arrays)."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


class GeoModel(mesa.Model):
    """The five-state system; every state variable has a leading replicate axis of length R.

    Parameters
    ----------
    settings : validated configuration (:func:`sim.config.validate`)
    replicates : R, the number of replicates run in lockstep
    rng : seed (int), ``numpy.random.SeedSequence`` or ``Generator`` (its seed sequence is used);
        the random streams of :mod:`sim.streams` derive from it
    operations : the scenario's timed operations (default: ``settings.scenario``, with uncertain
        events realised per replicate)
    param_values : optional per-replicate values ``{path: array of shape (R,)}`` that replace
        the configured value of numeric parameters (used for parameter uncertainty)
    first : number of the first replicate held by this model in the whole ensemble; replicate
        ``first + i`` gets the same random numbers whatever model holds it

    With ``ensemble.sample_parameters`` the parameters that have a distribution are drawn per
    replicate (``sampled``); ``param_values`` take precedence over the draws.
    """

    def __init__(self, settings: Settings, replicates: int, rng=None,
                 operations: list[Operation] | None = None,
                 param_values: dict[str, np.ndarray] | None = None, first: int = 0):
        seed = seed_sequence(rng)
        super().__init__(rng=np.random.default_rng(seed))  # Mesa's own generator; the rules use self.streams
        self.settings = settings
        self.R = R = int(replicates)
        self.first = int(first)
        self.streams = ReplicateStreams(seed, self.first, R, settings["ensemble.block"])
        self.dtype = dtype = np.dtype(settings["ensemble.precision"])
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
        self.month = 0

        # --- parameters, as arrays over replicates -------------------------------------------
        def actor_field(field):
            return np.tile(np.array([v[f"actors.{a}.{field}"] for a in self.actor_keys], dtype=dtype), (R, 1))

        self.cinc = actor_field("cinc")
        self.insecurity = actor_field("insecurity")
        self.sanctions = actor_field("sanctions")
        self.needs_base = np.stack([actor_field(f"needs.{g}") for g in prm.GOODS], axis=2)
        self.offers = np.stack([actor_field(f"offers.{g}") for g in prm.GOODS], axis=2)
        self.policy = np.zeros((R, D, C), dtype)
        initial = np.zeros((R, D, C), dtype)
        for key, d in self.dyad_index.items():
            for c, name in enumerate(prm.CHANNELS):
                self.policy[:, d, c] = v[f"policy.{key}.{name}"]
                initial[:, d, c] = v[f"relations.{key}.{name}"]
        self.par: dict[str, np.ndarray] = {
            path: np.full(R, float(v[path]), dtype) for path, p in self.registry.items()
            if p.kind == "float" and not path.startswith(("actors.", "policy.", "relations."))
        }
        self.sampled: dict[str, np.ndarray] = {}
        if settings["ensemble.sample_parameters"]:
            from .distributions import sample

            dists = {path: p.dist for path, p in self.registry.items() if p.dist is not None}
            self.sampled = sample({k: d for k, d in dists.items() if k not in (param_values or {})},
                                  self.streams, PARAMETER)
        self.param_values = {**self.sampled, **{k: np.broadcast_to(np.asarray(x, dtype=float), (R,))
                                                for k, x in (param_values or {}).items()}}
        for path, values in self.param_values.items():
            self._locate(path)  # raises KeyError for an unknown path
            self._write(path, values, "set", clip=False)

        self.event_draws = {}
        if operations is None:
            scenario = settings.scenario
            self.event_draws = {ev.id: realise(ev, self.streams.uniform(EVENT, name_key(ev.id), 3))
                                for ev in scenario.uncertain_events}
            operations = scenario.operations(settings, values=self._value, draws=self.event_draws)
        self.operations = operations

        self.attacker = self.actor_keys.index(v["war.attacker"])
        self.defender = self.actor_keys.index(v["war.defender"])
        self.licensor = self.actor_keys.index(v["war.drone_licensor"])
        self.anchors = sorted({p.split(".")[1] for p in self.registry if p.startswith("anchors.")})
        self.anchor_members = {n: [self.actor_keys.index(a) for a in v[f"anchors.{n}.members"]] for n in self.anchors}
        self._anchor_pairs = {n: [d for d, (a, b) in enumerate(self.dyad_pairs) if a in m and b in m]
                              for n, m in self.anchor_members.items()}
        self._build_routes()

        # --- state -------------------------------------------------------------------------
        self.strength = initial.copy()  # (R, D, C) in [-1, 1]
        self.trust = np.zeros((R, D), dtype)  # [0, 1]
        self.threat = np.zeros((R, A), dtype)
        self.needs = np.zeros((R, A, G), dtype)
        self.war_intensity = self.par["war.intensity.initial"].copy()
        self.territory = self.par["war.territory.initial"].copy()
        self.drone_stock = np.zeros(R, dtype)
        self.drone_import_need = np.zeros(R, dtype)
        self.troops_present = np.zeros((R, self.n_routes), dtype)
        self.hostility_matrix = np.zeros((R, A, A), dtype)
        self._noise_month = None
        self._received_of = None
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
        self.assess_states()
        self.exchange(noise=False)
        self.drivers()  # sets the volume delivered between each pair
        self.trust = np.minimum(self._dyad_volume * self._params()["inverse_trust_reference"], 1.0)
        self.offset = np.arctanh(np.clip(self.strength, -0.995, 0.995)) - self.drivers()
        self._measures_zero()

    def _value(self, path: str):
        """A parameter's value: per replicate if it was set or sampled per replicate, else the configured one."""
        return self.param_values[path] if path in self.param_values else self.settings[path]

    # ----------------------------------------------------------------------------------------
    def _build_routes(self) -> None:
        """Every (supplier, receiver, good) with a positive offer somewhere in the run.

        Decided from the configuration, the parameters set or drawn per replicate and the
        scenario's operations, never from this model's replicates alone, so that every chunk of
        an ensemble has the same routes (and the same layout of random numbers).
        """
        v = self.settings.values
        may_offer = np.array([[v[f"actors.{a}.offers.{g}"] > 0 or f"actors.{a}.offers.{g}" in self.param_values
                               for g in prm.GOODS] for a in self.actor_keys])  # (A, G)
        for o in self.operations:
            if o.target == "parameter" and ".offers." in o.path:
                _, a, _, g = o.path.split(".")
                may_offer[self.actor_keys.index(a), GOOD[g]] = True
        routes = [(s, r, g) for s in range(self.A) for r in range(self.A) for g in range(G)
                  if s != r and may_offer[s, g]]
        self.routes = routes
        n = self.n_routes = len(routes)
        R, A = self.R, self.A
        self.route_sup = np.array([s for s, _, _ in routes], dtype=int)
        self.route_rec = np.array([r for _, r, _ in routes], dtype=int)
        self.route_good = np.array([g for _, _, g in routes], dtype=int)
        self.route_channel = np.array([CHANNEL[prm.CHANNEL_OF_GOOD[prm.GOODS[g]]] for g in self.route_good], dtype=int)
        self.route_dyad = self.dyad_of_pair[self.route_sup, self.route_rec]
        # Work on (R, X) arrays with X the flattened small axes: numpy is slow when the innermost
        # loop runs over 3 channels or 5 states, fast over a few dozen elements.
        self._route_dc = self.route_dyad * C + self.route_channel  # strength (D*C)
        self._route_group = self.route_rec * G + self.route_good  # needs and market (A*G)
        # received[r, i, j, c] (c < C: channel, c = C: all channels) = what i got from j
        self._route_received = (self.route_rec * A + self.route_sup) * (C + 1) + self.route_channel
        goods_channel = np.array([CHANNEL[prm.CHANNEL_OF_GOOD[g]] for g in prm.GOODS])
        need_bin = (np.arange(A)[:, None] * (C + 1) + goods_channel[None, :]).ravel()  # (A*G) -> (A, C+1)
        # sums over routes by group are bincounts over (replicate, group) indices
        rows = np.arange(R, dtype=np.intp)[:, None]
        self._bin_group = (rows * (A * G) + self._route_group).ravel()
        self._bin_received = (rows * (A * A * (C + 1)) + self._route_received).ravel()
        self._bin_need = (rows * (A * (C + 1)) + need_bin).ravel()
        # the denominator of dependence[r, i, j, c] is i's need on channel c
        ii, cc = np.meshgrid(np.arange(A), np.arange(C + 1), indexing="ij")
        self._need_of_dependence = np.repeat((ii * (C + 1) + cc)[:, None, :], A, axis=1).ravel()
        # a dyad's flow on a channel = what each of the two received from the other
        i, j = self._dyad_i[:, None], self._dyad_j[:, None]
        ch = np.arange(C + 1)[None, :]
        self._received_ij = ((i * A + j) * (C + 1) + ch[:, :C]).ravel()  # i received from j, (D*C)
        self._received_ji = ((j * A + i) * (C + 1) + ch[:, :C]).ravel()
        self._volume_ij = ((i * A + j) * (C + 1) + C).ravel()  # all channels, (D)
        self._volume_ji = ((j * A + i) * (C + 1) + C).ravel()
        self._channel_of_dc = np.tile(np.arange(C), self.D)  # (D*C) -> C
        self._dyad_of_dc = np.repeat(np.arange(self.D), C)  # (D*C) -> D
        # hostility rows of a dyad's two states, flattened (D*A) into the (A*A) matrix
        self._hostility_i = (self._dyad_i[:, None] * A + np.arange(A)[None, :]).ravel()
        self._hostility_j = (self._dyad_j[:, None] * A + np.arange(A)[None, :]).ravel()
        # strength with the composite appended, reordered to (dyad, channel + composite)
        self._strength4 = np.array([d * C + c if c < C else self.D * C + d for d in range(self.D) for c in range(C + 1)])
        warring = np.isin(self.route_sup, [self.attacker, self.defender])
        self.route_overextends = warring & (self.route_channel == MILITARY)
        self.route_drones_in = (self.route_good == DRONES) & (self.route_rec == self.attacker)
        self.route_troops = self.route_good == TROOPS
        self.route_troops_in = self.route_troops & (self.route_rec == self.attacker)
        self.route_aid = (self.route_rec == self.defender) & (self.route_channel == MILITARY)
        self._overextends = np.flatnonzero(self.route_overextends)
        self._drones_in = np.flatnonzero(self.route_drones_in)
        self._troops = np.flatnonzero(self.route_troops)
        self._troops_in = np.flatnonzero(self.route_troops_in)
        self._aid = np.flatnonzero(self.route_aid)
        # layout of the month's noise: production, launches, relations (D*C), then one per route
        # (routes last, so that scenarios with other routes still share the other numbers)
        self._noise_width = 2 + self.D * C + n
        self._derived = None

    def _measures_zero(self) -> None:
        R, A, dtype = self.R, self.A, self.dtype
        self.flows = np.zeros((R, self.n_routes), dtype)
        self.dependence = np.zeros((R, A, A, C + 1), dtype)
        self.demand = np.zeros((R, A, A), dtype)
        self.drones_demanded = np.zeros(R, dtype)
        self.drones_produced = np.zeros(R, dtype)
        self.drones_imported = np.zeros(R, dtype)
        self.drones_launched = np.zeros(R, dtype)

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

    def _write(self, path: str, value, op: str, clip: bool = True, mask: np.ndarray | None = None) -> None:
        array, index = self._locate(path)
        new = value if op == "set" else array[index] + value
        p = self.registry[path]
        if clip:
            new = np.clip(new, p.low, p.high)
        if mask is not None:
            new = np.where(mask, new, array[index])
        array[index] = new
        self._derived = None  # parameters changed: derived arrays are rebuilt on next use
        self._perceived = False

    def apply(self, o: Operation, mask: np.ndarray | None = None) -> None:
        """Apply one scenario operation now (values outside a parameter's range are clipped).

        ``mask`` (per replicate) limits it to the replicates where an uncertain event fires now.
        """
        if o.target == "parameter":
            self._write(o.path, o.value, o.op, mask=mask)
        else:
            dyad, channel = o.path.split(".")
            d, c = self.dyad_index[dyad], CHANNEL[channel]
            new = np.clip(o.value if o.op == "set" else self.strength[:, d, c] + o.value, -1.0, 1.0)
            self.strength[:, d, c] = new if mask is None else np.where(mask, new, self.strength[:, d, c])
        self._update_hostility()  # relations or composite weights may have changed

    def _apply_operations(self) -> None:
        for o in self.operations:
            if np.ndim(o.month) == 0:
                if o.month != self.month:
                    continue
                mask = o.active
            else:
                mask = o.month == self.month
                if o.active is not None:
                    mask &= o.active
            if mask is not None:
                if not mask.any():
                    continue
                if mask.all():
                    mask = None
            self.apply(o, mask)

    def _params(self) -> dict[str, np.ndarray]:
        """Arrays derived from parameters alone, rebuilt only after a parameter changed.

        Per-replicate parameters are expanded to the full shape of the arrays they multiply:
        numpy runs one long loop over two C-contiguous arrays of equal shape, but one short loop
        per replicate when an (R, 1) column is broadcast.
        """
        if self._derived is None:
            p, R, D = self.par, self.R, self.D
            n = self.n_routes

            def full(values, width):
                return np.repeat(np.asarray(values, dtype=self.dtype)[:, None], width, axis=1)

            thresholds = np.stack([p[f"exchange.threshold.{g}"] for g in prm.GOODS], axis=1)  # (R, G)
            outside = np.stack([p[f"exchange.outside.{g}"] for g in prm.GOODS], axis=1)  # (R, G)
            w = np.stack([p[f"dynamics.composite.{c}"] for c in prm.CHANNELS], axis=1)  # (R, C)
            # pulls that depend on parameters only: shared projects and sanctions, (R, D, C)
            structural = np.zeros((R, D, C), self.dtype)
            for name, pairs in self._anchor_pairs.items():
                structural[:, pairs, MILITARY] += (p["dynamics.weight.anchor"] * p[f"anchors.{name}.status"])[:, None]
            si, sj = self.sanctions[:, self._dyad_i], self.sanctions[:, self._dyad_j]
            structural[:, :, ECONOMIC] += (p["dynamics.weight.sanctions"][:, None] * np.minimum(si, sj)
                                           - p["dynamics.weight.exposure"][:, None] * np.abs(si - sj))
            self._derived = {
                "route_threshold": np.ascontiguousarray(thresholds[:, self.route_good]),
                "half_offer": np.ascontiguousarray(0.5 * self.offers[:, self.route_sup, self.route_good]),
                "market": (outside[:, None, :] * (1.0 - self.sanctions[:, :, None])).reshape(R, -1),
                "half_inverse_width": full(0.5 / p["exchange.width"], n),
                "half_decision_noise": full(0.5 * p["dynamics.noise.decision"], n),
                "rate": np.take(np.stack([p[f"dynamics.rate.{c}"] for c in prm.CHANNELS], axis=1), self._channel_of_dc, axis=1),
                "relation_noise": full(p["dynamics.noise.relation"], D * C),
                "weight_flow": full(p["dynamics.weight.flow"], D * C),
                "weight_glue": full(p["dynamics.weight.glue"], D),
                "weight_trust": full(p["dynamics.weight.trust"], D),
                "trust_rate": full(p["dynamics.trust_rate"], D),
                "inverse_trust_reference": full(1.0 / p["dynamics.trust_reference"], D),
                "structural": structural.reshape(R, -1),
                "composite": (w / np.maximum(w.sum(axis=1), _EPS)[:, None])[:, :, None],  # (R, C, 1)
                "offers_by_good": np.ascontiguousarray(self.offers.transpose(0, 2, 1)),  # (R, G, A)
            }
        return self._derived

    def noise(self) -> dict[str, np.ndarray]:
        """This month's standard normal draws: ``production``, ``launches`` (R,), ``relations``
        (R, D*C) and ``routes`` (R, routes), each C-contiguous."""
        if self._noise_month != self.month:
            z = self.streams.normal(self.month, self._noise_width)
            off = 2 + self.D * C
            dtype = self.dtype
            self._noise = {"production": z[:, 0].astype(dtype), "launches": z[:, 1].astype(dtype),
                           "relations": z[:, 2:off].astype(dtype), "routes": z[:, off:].astype(dtype)}
            self._noise_month = self.month
        return self._noise

    # --- the month --------------------------------------------------------------------------
    def step(self) -> None:
        self._apply_operations()
        p = self.par
        self.war_intensity += p["war.intensity.rate"] * (p["war.intensity.target"] - self.war_intensity)
        self.war_demand()
        if not self._perceived:  # capability shares and sensitivities change only with parameters
            self._perception_inputs()
        self.assess_states()
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
            capacity = np.zeros(self.R, self.dtype)
        sd = p["war.drones.noise"]
        self.drones_produced = capacity * np.exp(sd * self.noise()["production"] - 0.5 * sd**2) if noise else capacity
        localisation = capacity / kmax
        orders = (1.0 - localisation) * self.drones_demanded
        cap = p["war.drones.import_capacity"]
        self.drone_import_need = np.where(cap > 0, np.minimum(1.0, orders / np.maximum(cap, _EPS)), 0.0)

    def assess_states(self) -> None:
        """Every state's threat and needs at once: the rules of ``StateAgent.assess`` for all states.

        threat = insecurity + sum over hostile states of hostility x their capability share;
        needs  = baseline + insecurity x sensitivity (arms, cover) + sanctions x sensitivity
        (trade); at war the attacker's troops need scales with war intensity and its drone need
        is the import need; the defender's arms need scales with war intensity.
        """
        hostile = np.matmul(self.hostility_matrix, self.capability_share[:, :, None])[:, :, 0]
        np.clip(self.insecurity + hostile, 0.0, 1.0, out=self.threat)
        need = self.needs_base.copy()
        need[:, :, ARMS] += self.insecurity * self.insecurity_sensitivity[:, None, ARMS]
        need[:, :, COVER] += self.insecurity * self.insecurity_sensitivity[:, None, COVER]
        need[:, :, TRADE] += self.sanctions * self.sanctions_sensitivity[:, None, TRADE]
        a, d = self.attacker, self.defender
        need[:, a, TROOPS] = self.needs_base[:, a, TROOPS] * self.war_intensity
        need[:, a, DRONES] = self.drone_import_need
        need[:, d, ARMS] *= self.war_intensity
        np.clip(need, 0.0, 1.0, out=self.needs)

    def exchange(self, noise: bool = True) -> None:
        """Noisy willingness per route, needs shared among suppliers and the world market.

        willingness = logistic((strength on the good's channel - threshold_g) / width + noise)
                      x (1 - overextension x W) for military goods of a state at war
        attraction  = offer x willingness;  world market = outside_g x (1 - sanctions of receiver)
        flow        = need x min(1, total attraction) x attraction / total attraction
        """
        R, q = self.R, self._params()
        # logistic(x) = (1 + tanh(x / 2)) / 2, with the halves folded into the parameters
        z = np.take(self.strength.reshape(R, -1), self._route_dc, axis=1)  # np.take keeps C order
        z -= q["route_threshold"]
        z *= q["half_inverse_width"]
        if noise:
            z += self.noise()["routes"] * q["half_decision_noise"]
        attraction = np.tanh(z, out=z)
        attraction += 1.0
        if len(self._overextends):
            cut = 1.0 - self.par["exchange.overextension"] * self.war_intensity
            attraction[:, self._overextends] *= cut[:, None]
        attraction *= q["half_offer"]
        total = np.bincount(self._bin_group, weights=attraction.ravel(), minlength=R * self.A * G)
        total = total.astype(self.dtype, copy=False).reshape(R, -1)
        total += q["market"]
        share = np.minimum(1.0, total)
        share /= np.maximum(total, _EPS)
        flows = np.take(self.needs.reshape(R, -1), self._route_group, axis=1)
        flows *= attraction
        flows *= np.take(share, self._route_group, axis=1)
        self.flows = flows

    def received(self) -> np.ndarray:
        """This month's flows summed by (receiver, supplier, channel), the last entry over all
        channels: shape (R, A, A, C + 1)."""
        if self._received_of is not self.flows:
            R, A = self.R, self.A
            got = np.bincount(self._bin_received, weights=self.flows.ravel(), minlength=R * A * A * (C + 1))
            got = got.astype(self.dtype, copy=False).reshape(R, A, A, C + 1)
            got[..., C] = got[..., 0]
            for c in range(1, C):
                got[..., C] += got[..., c]
            self._received = got
            self._received_of = self.flows
        return self._received

    def war_outcomes(self) -> None:
        """Drones imported, launched and stocked; troops deployed; territory."""
        p = self.par
        self.drones_imported = self.flows[:, self._drones_in].sum(axis=1) * p["war.drones.import_capacity"]
        supply = self.drone_stock + self.drones_produced + self.drones_imported
        noise = p["war.drones.noise"]
        wanted = self.drones_demanded * np.exp(noise * self.noise()["launches"] - 0.5 * noise**2)
        self.drones_launched = np.minimum(wanted, supply)
        self.drone_stock = supply - self.drones_launched
        scale = p["war.troops.scale"]
        if len(self._troops):  # troops stay with a partner only on troop routes
            here = self.troops_present[:, self._troops]
            target = self.flows[:, self._troops] * scale[:, None]
            self.troops_present[:, self._troops] = here + p["war.troops.deploy_rate"][:, None] * (target - here)
        # the attacker's edge: drones launched and foreign troops vs military aid to the defender
        edge = (self.drones_launched / np.maximum(p["war.drones.demand_max"], _EPS)
                + self.troops_present[:, self._troops_in].sum(axis=1) / np.maximum(scale, _EPS)
                - self.flows[:, self._aid].sum(axis=1) / np.maximum(self.needs[:, self.defender, ARMS], 0.2))
        self.territory = np.clip(self.territory + p["war.territory.rate"] * self.war_intensity * edge, 0.0, 100.0)

    def drivers(self) -> np.ndarray:
        """Pull on each relation's target, in logit units, without policy: shape (R, D, C)."""
        R, D, q = self.R, self.D, self._params()
        got = self.received().reshape(R, -1)
        flow = np.take(got, self._received_ij, axis=1)  # what flowed between the two, both ways, per channel
        flow += np.take(got, self._received_ji, axis=1)
        self._dyad_volume = np.take(got, self._volume_ij, axis=1) + np.take(got, self._volume_ji, axis=1)
        hostility = self.hostility_matrix.reshape(R, -1)
        shared = np.minimum(np.take(hostility, self._hostility_i, axis=1),
                            np.take(hostility, self._hostility_j, axis=1)).reshape(R, D, -1)
        glue = np.matmul(shared, self.capability_share[:, :, None])[:, :, 0]  # (R, D)
        per_dyad = glue * q["weight_glue"]
        per_dyad += q["weight_trust"] * self.trust
        flow *= q["weight_flow"]
        flow += np.take(per_dyad, self._dyad_of_dc, axis=1)
        flow += q["structural"]  # shared projects (military) and sanctions (economic)
        return flow.reshape(R, D, C)

    def update_relations(self) -> None:
        """strength += rate_c x (tanh(offset + policy + drivers) - strength) + noise; trust follows delivery."""
        R, D, q = self.R, self.D, self._params()
        x = self.drivers()
        x += self.offset
        x += self.policy
        change = np.tanh(x, out=x).reshape(R, -1)  # the target
        strength = self.strength.reshape(R, -1)
        change -= strength
        change *= q["rate"]
        change += q["relation_noise"] * self.noise()["relations"]
        change += strength
        self.strength = np.clip(change, -1.0, 1.0, out=change).reshape(R, D, C)
        delivered = self._dyad_volume * q["inverse_trust_reference"]
        np.minimum(delivered, 1.0, out=delivered)
        delivered -= self.trust
        delivered *= q["trust_rate"]
        self.trust += delivered
        self._update_hostility()

    def _update_hostility(self) -> None:
        hostility = np.maximum(0.0, -self.composite())
        self.hostility_matrix[:, self._dyad_i, self._dyad_j] = hostility
        self.hostility_matrix[:, self._dyad_j, self._dyad_i] = hostility

    def _perception_inputs(self) -> None:
        """Capability shares and need sensitivities (parameters that events may change)."""
        self._perceived = True
        self.capability_share = self.cinc / np.maximum(self.cinc.sum(axis=1, keepdims=True), _EPS)
        sens = np.zeros((self.R, G), self.dtype)
        sens[:, ARMS] = self.par["exchange.insecurity_sensitivity.arms"]
        sens[:, COVER] = self.par["exchange.insecurity_sensitivity.cover"]
        self.insecurity_sensitivity = sens
        sens = np.zeros((self.R, G), self.dtype)
        sens[:, TRADE] = self.par["exchange.sanctions_sensitivity.trade"]
        self.sanctions_sensitivity = sens

    def composite(self) -> np.ndarray:
        """Weighted mean of the three channels, shape (R, D)."""
        return np.matmul(self.strength, self._params()["composite"])[:, :, 0]

    def measure(self) -> None:
        """Dependence of each state on each partner per channel, and demand for partnership.

        dependence[i, j, c] = flows from j to i on channel c / i's needs on channel c (0–1)
        demand[i, j]        = threat_i x (sum_g need_ig x offer_jg) / (sum_g need_ig)   (0–1)
        """
        R, A = self.R, self.A
        need = np.bincount(self._bin_need, weights=self.needs.ravel(), minlength=R * A * (C + 1))
        need = need.astype(self.dtype, copy=False).reshape(R, A, C + 1)
        need[..., C] = need[..., 0]
        for c in range(1, C):
            need[..., C] += need[..., c]
        np.maximum(need, _EPS, out=need)
        dependence = self.dependence.reshape(R, -1)
        np.divide(self.received().reshape(R, -1), np.take(need.reshape(R, -1), self._need_of_dependence, axis=1),
                  out=dependence)
        np.clip(dependence, 0.0, 1.0, out=dependence)
        cover = np.matmul(self.needs, self._params()["offers_by_good"])  # (R, A, A): sum_g need_ig x offer_jg
        cover *= (self.threat / need[..., C])[:, :, None]
        cover.reshape(R, -1)[:, ::A + 1] = 0.0  # no demand for partnership with oneself
        self.demand = np.clip(cover, 0.0, 1.0, out=cover)
