"""GeoModel: the monthly rules of the five-state system, for N replicates in lockstep.

One month (``step``) reads like the rule list of the model:

1. apply the scenario's operations dated this month (shocks, parameter changes);
2. the war of attrition sets the attacker's drone demand, its own production and hence its
   need for imported drones;
3. every state assesses its threat and its needs (:meth:`GeoModel.assess_states`, for all
   states at once; a ``StateAgent`` is a view of its rows);
4. exchange: each possible supplier decides, noisily, how willing it is to supply each good
   to each state; needs are shared among willing suppliers and the world market;
5. the war's outcomes: drones imported, launched and stocked, troops deployed, territory;
6. relations move towards targets set by what flowed, shared adversaries, shared projects,
   trust, sanctions and policy; trust follows delivery;
7. reported measures: dependence and demand for partnership.

Equations and units: ``docs/model.md``. Nothing here does I/O.

Layout. The model keeps every array with the **replicate axis last**: ``_strength`` has shape
(dyads, channels, R), ``_flows`` (routes, R). Each small index (a dyad, a route, a state) is
then one contiguous row of R numbers, so the step is a few dozen numpy operations on long
rows: picking routes or dyads copies whole rows, per-replicate parameters of shape (R,)
broadcast along the rows, and sums over routes or states add rows one by one (in the same
order whatever R is, which keeps one-replicate models bit-identical to batched ones). The
public attributes (``strength``, ``flows``, ``needs``, ...) are views of the same data with
the replicate axis first, shape (R, ...), as the results are labelled.

Random numbers come from :mod:`sim.streams`: one stream per month and block of replicates, so
a replicate's trajectory does not depend on which other replicates share the model.
"""

from __future__ import annotations

import mesa
import numpy as np

from . import parameters as prm
from .agents import StateAgent
from .scenario import Operation, realise
from .settings import Settings
from .streams import EVENT, PARAMETER, ReplicateStreams, name_key, seed_sequence

G = len(prm.GOODS)
C = len(prm.CHANNELS)
GOOD = {g: i for i, g in enumerate(prm.GOODS)}
CHANNEL = {c: i for i, c in enumerate(prm.CHANNELS)}
MILITARY = CHANNEL["military"]
ECONOMIC = CHANNEL["economic"]
DRONES, TROOPS, ARMS, TRADE, COVER = (GOOD[g] for g in ("drones", "troops", "arms", "trade", "cover"))
GOODS_OF_CHANNEL = [[GOOD[g] for g in prm.GOODS if prm.CHANNEL_OF_GOOD[g] == c] for c in prm.CHANNELS]
_ALWAYS_NEEDED = {ARMS, COVER, TRADE}  # needs that insecurity or sanctions can raise above the baseline
_ACTOR_FIELDS = ("cinc", "insecurity", "sanctions", "prestige", "troop_aversion")
TERMS = ("relation", "needs", "ally", "project", "prestige", "sanctions", "overextension", "reaction", "troops")
"""The terms of a supplier's payoff on a route (docs/model.md 7.5); costs are negative."""
_EPS = 1e-12


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def row_sum(rows: np.ndarray) -> np.ndarray:
    """Sum over the first axis, row after row (``rows`` has shape (K, ..., R)).

    ``ndarray.sum`` would add in an order that depends on the memory layout (pairwise when the
    axis is contiguous, as it is for a single replicate), so its last bits could depend on R.
    """
    if len(rows) == 0:
        return np.zeros(rows.shape[1:], rows.dtype)
    out = rows[0].copy()
    for row in rows[1:]:
        out += row
    return out


def _weighted_sum(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``sum_a x[:, a] * w[a]`` for x (K, A, R) and w (A, R): shape (K, R), added in order of a."""
    out = x[:, 0] * w[0]
    for a in range(1, x.shape[1]):
        out += x[:, a] * w[a]
    return out


class _Grouped:
    """Sums of rows that share a key: ``sums[k] = sum of rows[i] with keys[i] == k``.

    Built once per model from the routes' keys; ``__call__`` adds rows in their order with one
    copy per group and one in-place addition per further member (no ``bincount`` over all
    replicates, no matrix product with a 0/1 matrix). With ``size`` the result has a row for
    every key ``0 .. size-1`` (zero where no row has the key); without, only for the keys
    present (``self.keys``, sorted), and ``self.of_row[i]`` is the group of row ``i``.
    """

    def __init__(self, keys: np.ndarray, size: int | None = None):
        keys = np.asarray(keys, dtype=np.intp)
        self.keys = np.unique(keys)
        self.of_row = np.searchsorted(self.keys, keys)
        self.size = size
        members = [np.flatnonzero(self.of_row == k) for k in range(len(self.keys))]
        self.first = np.array([m[0] for m in members], dtype=np.intp)
        self.more = []
        for j in range(1, max((len(m) for m in members), default=1)):
            groups = np.array([k for k, m in enumerate(members) if len(m) > j], dtype=np.intp)
            self.more.append((groups, np.array([members[k][j] for k in groups], dtype=np.intp)))

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        out = np.take(rows, self.first, axis=0)
        for groups, index in self.more:
            out[groups] += np.take(rows, index, axis=0)
        if self.size is None:
            return out
        full = np.zeros((self.size, *rows.shape[1:]), rows.dtype)
        full[self.keys] = out
        return full


class _ReplicatesFirst:
    """A model array seen with the replicate axis first: a view of ``_<name>`` (which has it last).

    Writing into the view writes into the model (``model.policy[:, d, c] += 1``); rebinding the
    attribute is not allowed (set ``model._<name>``).
    """

    def __set_name__(self, owner, name):
        self.name, self.internal = name, f"_{name}"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return np.moveaxis(getattr(obj, self.internal), -1, 0)

    def __set__(self, obj, value):
        raise AttributeError(f"{self.name} is a view with replicates first; set {self.internal} "
                             "(replicates last) instead")


def reference_settings(settings: Settings) -> Settings:
    """The reference world of ``settings``: every numeric parameter at its registry default
    (the observed world), except the starting relations, policy, and the parameters of actors
    the registry does not know (they have no observed default). Dates, the actor list and the
    war's roles stay as configured; nothing is sampled."""
    from dataclasses import replace

    values = dict(settings.values)
    for path, p in prm.registry(settings.actors).items():
        if p.kind != "float" or path.startswith(("relations.", "policy.")):
            continue
        if path.startswith("actors.") and path.split(".")[1] not in prm.ACTORS:
            continue
        values[path] = p.default
    values["ensemble.sample_parameters"] = False
    return replace(settings, values=values)


class GeoModel(mesa.Model):
    """The five-state system; every state variable is an array over R replicates.

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

    The attributes below are views with the replicate axis first (the model works on arrays
    with it last, see the module docstring): ``strength`` (R, D, C), ``trust`` (R, D),
    ``threat`` (R, A), ``needs`` (R, A, G), ``flows`` (R, routes), ``dependence``
    (R, A, A, C + 1), ``demand`` (R, A, A) and the parameters ``cinc``, ``insecurity``,
    ``sanctions`` (R, A), ``needs_base``, ``offers`` (R, A, G), ``policy`` (R, D, C).
    Scalars per replicate (``war_intensity``, ``territory``, ``drone_stock``, ``drones_*``)
    have shape (R,). ``measuring = False`` skips the reported measures (dependence, demand),
    which no rule reads: summary mode does so when it does not summarise them.
    """

    strength = _ReplicatesFirst()
    trust = _ReplicatesFirst()
    threat = _ReplicatesFirst()
    needs = _ReplicatesFirst()
    flows = _ReplicatesFirst()
    dependence = _ReplicatesFirst()
    demand = _ReplicatesFirst()
    cinc = _ReplicatesFirst()
    insecurity = _ReplicatesFirst()
    sanctions = _ReplicatesFirst()
    needs_base = _ReplicatesFirst()
    offers = _ReplicatesFirst()
    policy = _ReplicatesFirst()
    offset = _ReplicatesFirst()
    troops_present = _ReplicatesFirst()
    hostility_matrix = _ReplicatesFirst()
    capability_share = _ReplicatesFirst()
    insecurity_sensitivity = _ReplicatesFirst()
    sanctions_sensitivity = _ReplicatesFirst()

    def __init__(self, settings: Settings, replicates: int, rng=None,
                 operations: list[Operation] | None = None,
                 param_values: dict[str, np.ndarray] | None = None, first: int = 0, reference: bool = False):
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
        self.measuring = True  # compute dependence and demand each month (nothing else reads them)

        # --- parameters, as arrays over replicates (replicates last) ---------------------------
        def actor_field(field):  # (A, R)
            column = np.array([v[f"actors.{a}.{field}"] for a in self.actor_keys], dtype=dtype)
            return np.repeat(column[:, None], R, axis=1)

        self._cinc = actor_field("cinc")
        self._insecurity = actor_field("insecurity")
        self._sanctions = actor_field("sanctions")
        self._prestige = actor_field("prestige")
        self._troop_aversion = actor_field("troop_aversion")
        self._needs_base = np.stack([actor_field(f"needs.{g}") for g in prm.GOODS], axis=1)  # (A, G, R)
        self._offers = np.stack([actor_field(f"offers.{g}") for g in prm.GOODS], axis=1)
        self._policy = np.zeros((D, C, R), dtype)
        initial = np.zeros((D, C, R), dtype)
        for key, d in self.dyad_index.items():
            for c, name in enumerate(prm.CHANNELS):
                self._policy[d, c] = v[f"policy.{key}.{name}"]
                initial[d, c] = v[f"relations.{key}.{name}"]
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
        self._strength = initial.copy()  # (D, C, R) in [-1, 1]
        self._trust = np.zeros((D, R), dtype)  # [0, 1]
        self._threat = np.zeros((A, R), dtype)
        self._needs = np.zeros((A, G, R), dtype)
        self.war_intensity = self.par["war.intensity.initial"].copy()
        self.territory = self.par["war.territory.initial"].copy()
        self.drone_stock = np.zeros(R, dtype)
        self.drone_import_need = np.zeros(R, dtype)
        opened = settings.month_index(v["war.drones.production_start"]) <= 0  # the plant runs from the start
        self.capacity = (np.minimum(self.par["war.drones.production_initial"], self.par["war.drones.production_max"]) if opened
                         else np.zeros(R, dtype))
        self._troops_present = np.zeros((self.n_routes, R), dtype)
        self._hostility_matrix = np.zeros((A, A, R), dtype)
        self._noise_month = None
        self._measures_zero()
        self._update_hostility()
        self._perception_inputs()

        for i, key in enumerate(self.actor_keys):
            StateAgent(self, key, i, settings.names[key])
        self.states = sorted(self.agents, key=lambda a: a.index)
        if reference:
            self._reference_pass()
        else:
            self._rest_state()

    def _reference_pass(self) -> None:
        """A noise-free pass over the first month (no random draws): the flows, trust and
        drivers of this configuration at the start, kept as ``_rest_drivers`` (D, C, R) and
        ``_rest_trust`` (D, R). Nothing of it is recorded."""
        self.war_demand(noise=False)
        self.assess_states()
        self.exchange(noise=False)
        self._drivers()  # sets the volume delivered between each pair
        self._trust = np.minimum(self._dyad_volume * self._params()["inverse_trust_reference"], 1.0)
        self._rest_trust = self._trust.copy()
        self._rest_drivers = self._drivers().copy()
        self._measures_zero()

    def _rest_state(self) -> None:
        """Calibrate each channel's target on the reference world (docs/model.md, section 5).

        The reference is this configuration with every incentive at its registry default (the
        observed world; the starting relations, the actor list and the dates as configured).
        Its noise-free first month gives the drivers ``X0`` and the trust the starting relations
        rest on. With ``a = artanh(x0)`` of the configured starting strength, a channel's target
        is ``tanh(offset + policy + scale x drivers)``: for a cooperative start (a >= 0) drivers
        that over-explain it are scaled down (scale = a / X0, offset 0) and an unexplained rest
        is a standing affinity (offset = a - X0 >= 0, scale 1), so a channel whose reasons to
        cooperate vanish decays towards 0, never below (P12); for a hostile start the remainder
        is a standing conflict of interest (offset = a - X0 < 0). Because the reference does not
        follow the user's values, a changed incentive moves the equilibrium.
        """
        ref = GeoModel(reference_settings(self.settings), 1, rng=0, operations=[], reference=True)
        x0 = ref._rest_drivers  # (D, C, 1)
        self._trust = np.repeat(ref._rest_trust, self.R, axis=1).astype(self.dtype)
        a = np.arctanh(np.clip(self._strength, -0.995, 0.995))
        over = (a >= 0) & (x0 > a)
        self._scale = np.where(over, a / np.where(over, x0, 1.0), 1.0).astype(self.dtype)
        self._offset = np.where(over, 0.0, a - x0).astype(self.dtype)
        self._measures_zero()

    def _value(self, path: str):
        """A parameter's value: per replicate if it was set or sampled per replicate, else the configured one."""
        return self.param_values[path] if path in self.param_values else self.settings[path]

    # ----------------------------------------------------------------------------------------
    def _build_routes(self) -> None:
        """Every (supplier, receiver, good) that can carry something in the run.

        A route needs a supplier that may offer the good and a receiver that may need it: arms,
        trade and cover can always be needed (insecurity and sanctions raise those needs), the
        attacker's imported drones too; other goods only where the baseline need is positive,
        varies by replicate or is changed by an operation. Decided from the configuration, the
        parameters set or drawn per replicate and the scenario's operations, never from this
        model's replicates alone, so that every chunk of an ensemble has the same routes (and the
        same layout of random numbers).
        """
        v = self.settings.values

        def may(kind: str) -> np.ndarray:  # (A, G): positive in the configuration or changed somewhere
            out = np.array([[v[f"actors.{a}.{kind}.{g}"] > 0 or f"actors.{a}.{kind}.{g}" in self.param_values
                             for g in prm.GOODS] for a in self.actor_keys])
            for o in self.operations:
                if o.target == "parameter" and o.path.startswith("actors.") and o.path.split(".")[2] == kind:
                    _, a, _, g = o.path.split(".")
                    out[self.actor_keys.index(a), GOOD[g]] = True
            return out

        may_offer, may_need = may("offers"), may("needs")
        may_need[:, sorted(_ALWAYS_NEEDED)] = True
        may_need[self.actor_keys.index(v["war.attacker"]), DRONES] = True
        self.may_need = may_need  # (A, G): needs that are zero in every month where False
        routes = [(s, r, g) for s in range(self.A) for r in range(self.A) for g in range(G)
                  if s != r and may_offer[s, g] and may_need[r, g]]
        self.routes = routes
        n = self.n_routes = len(routes)
        A = self.A
        self.route_sup = np.array([s for s, _, _ in routes], dtype=np.intp)
        self.route_rec = np.array([r for _, r, _ in routes], dtype=np.intp)
        self.route_good = np.array([g for _, _, g in routes], dtype=np.intp)
        self.route_channel = np.array([CHANNEL[prm.CHANNEL_OF_GOOD[prm.GOODS[g]]] for g in self.route_good], dtype=np.intp)
        self.route_dyad = self.dyad_of_pair[self.route_sup, self.route_rec]
        self._route_dc = self.route_dyad * C + self.route_channel  # row of the strength (D*C, R)
        self._route_group = self.route_rec * G + self.route_good  # row of the needs (A*G, R)
        pair_key = self.route_sup * A + self.route_rec
        pairs, self._route_pair = np.unique(pair_key, return_inverse=True)  # (supplier, receiver) pairs
        self._pair_sup, self._pair_rec = pairs // A, pairs % A
        self._pair_dyad = self.dyad_of_pair[self._pair_sup, self._pair_rec]
        # what a receiver could give its supplier: the (pair, good) combinations that can be
        # non-zero (the supplier may need the good, the receiver may offer it), per good
        combos = [(p, g) for p in range(len(pairs)) for g in range(G)
                  if may_need[self._pair_sup[p], g] and may_offer[self._pair_rec[p], g]]
        self._combo_pair = np.array([p for p, _ in combos], dtype=np.intp)
        self._combo_good = np.array([g for _, g in combos], dtype=np.intp)
        self._combo_need = self._pair_sup[self._combo_pair] * G + self._combo_good  # row of the needs (A*G, R)
        self._by_pair_combo = _Grouped(self._combo_pair, size=len(pairs))
        # sums over routes: by (receiver, good) for the market shares; by (dyad, channel) for the
        # relations (both directions); by (receiver, supplier, channel) for dependence
        self._by_need = _Grouped(self._route_group)
        self._by_dyad = _Grouped(self._route_dc, size=self.D * C)
        self._by_link = _Grouped((self.route_rec * A + self.route_sup) * C + self.route_channel)
        link = self._by_link.keys
        link_rec, link_sup, link_channel = link // (A * C), (link // C) % A, link % C
        self._by_pair = _Grouped(link_rec * A + link_sup)  # links summed over channels
        pair = self._by_pair.keys
        pair_rec, pair_sup = pair // A, pair % A
        # rows of dependence (A*A*(C+1), R) and of the receiver's need by channel (A*(C+1), R)
        self.dependence_link = (link_rec * A + link_sup) * (C + 1) + link_channel
        self._need_of_link = link_rec * (C + 1) + link_channel
        self.dependence_pair = (pair_rec * A + pair_sup) * (C + 1) + C
        self._need_of_pair = pair_rec * (C + 1) + C
        self._channel_of_dc = np.tile(np.arange(C), self.D)  # (D*C) -> C
        warring = np.isin(self.route_sup, [self.attacker, self.defender])
        self.route_overextends = warring & (self.route_channel == MILITARY)
        self.route_drones_in = (self.route_good == DRONES) & (self.route_rec == self.attacker)
        self.route_troops = self.route_good == TROOPS
        self.route_troops_in = self.route_troops & (self.route_rec == self.attacker)
        self.route_aid = (self.route_rec == self.defender) & (self.route_channel == MILITARY)
        self.route_project = np.zeros(n, dtype=bool)  # military routes inside a shared project
        for members in self.anchor_members.values():
            self.route_project |= ((self.route_channel == MILITARY) & np.isin(self.route_sup, members)
                                   & np.isin(self.route_rec, members))
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
        self._flows = np.zeros((self.n_routes, R), dtype)
        self._dependence = np.zeros((A, A, C + 1, R), dtype)
        self._demand = np.zeros((A, A, R), dtype)
        self.drones_demanded = np.zeros(R, dtype)
        self.drones_produced = np.zeros(R, dtype)
        self.drones_imported = np.zeros(R, dtype)
        self.drones_launched = np.zeros(R, dtype)

    # --- parameters that events change ------------------------------------------------------
    def _locate(self, path: str):
        """The array holding a parameter and the index of its row (replicates last)."""
        parts = path.split(".")
        if parts[0] == "actors":
            a = self.actor_keys.index(parts[1])
            field = ".".join(parts[2:])
            if field in _ACTOR_FIELDS:
                return getattr(self, f"_{field}"), (a,)
            kind, good = field.split(".")
            return getattr(self, "_needs_base" if kind == "needs" else "_offers"), (a, GOOD[good])
        if parts[0] == "policy":
            return self._policy, (self.dyad_index[parts[1]], CHANNEL[parts[2]])
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
            row = self._strength[self.dyad_index[dyad], CHANNEL[channel]]
            new = np.clip(o.value if o.op == "set" else row + o.value, -1.0, 1.0)
            row[:] = new if mask is None else np.where(mask, new, row)
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

        Per-replicate parameters of shape (R,) broadcast along the rows; the others have rows
        matching the arrays they meet (routes, dyad-channels, groups of routes).
        """
        if self._derived is None:
            p, R, D = self.par, self.R, self.D
            thresholds = np.stack([p[f"exchange.threshold.{g}"] for g in prm.GOODS])  # (G, R)
            outside = np.stack([p[f"exchange.outside.{g}"] for g in prm.GOODS])  # (G, R)
            w = np.stack([p[f"dynamics.composite.{c}"] for c in prm.CHANNELS])  # (C, R)
            rates = np.stack([p[f"dynamics.rate.{c}"] for c in prm.CHANNELS])  # (C, R)
            # pulls that depend on parameters only: shared projects and sanctions, (D, C, R)
            structural = np.zeros((D, C, R), self.dtype)
            for name, pairs in self._anchor_pairs.items():
                structural[pairs, MILITARY] += p["dynamics.weight.anchor"] * p[f"anchors.{name}.status"]
            si, sj = self._sanctions[self._dyad_i], self._sanctions[self._dyad_j]
            structural[:, ECONOMIC] += (p["dynamics.weight.sanctions"] * np.minimum(si, sj)
                                        - p["dynamics.weight.exposure"] * np.abs(si - sj))
            market = (outside[None, :, :] * (1.0 - self._sanctions[:, None, :])).reshape(self.A * G, R)
            # payoff terms that depend on parameters only, (routes, R)
            n = self.n_routes
            project = np.zeros((n, R), self.dtype)
            military = self.route_channel == MILITARY
            for name, members in self.anchor_members.items():
                inside = military & np.isin(self.route_sup, members) & np.isin(self.route_rec, members)
                project[inside] += p["exchange.gain.project"] * p[f"anchors.{name}.status"]
            prestige = p["exchange.gain.prestige"] * self._prestige[self.route_sup]
            sanctions = -p["exchange.cost.sanctions"] * np.maximum(
                self._sanctions[self.route_rec] - self._sanctions[self.route_sup], 0.0)
            troops = -p["exchange.cost.troops"] * self._troop_aversion[self.route_sup] * (
                self.route_good == TROOPS)[:, None]
            # every term is kept at half its size: logistic(u) = (1 + tanh(u / 2)) / 2
            half_needs = 0.5 * p["exchange.gain.needs"] * self._offers[self._pair_rec[self._combo_pair], self._combo_good]
            static = project + prestige
            static += sanctions
            static += troops
            self._derived = {
                "route_threshold": thresholds[self.route_good],  # (routes, R)
                "half_offer": 0.5 * self._offers[self.route_sup, self.route_good],  # (routes, R)
                "market": market[self._by_need.keys],  # (groups of routes by receiver and good, R)
                "half_inverse_width": 0.5 / p["exchange.width"],
                "half_decision_noise": 0.5 * p["dynamics.noise.decision"],
                "half_gain_ally": 0.5 * p["exchange.gain.ally"],
                "half_cost_reaction": -0.5 * p["exchange.cost.reaction"],
                "half_overextension": -0.5 * p["exchange.overextension"],
                "half_needs_offers": half_needs,  # (combinations of pair and good, R)
                "term_project": project, "term_prestige": prestige, "term_sanctions": sanctions, "term_troops": troops,
                "half_static": 0.5 * static,
                "rate": rates[self._channel_of_dc],  # (D*C, R)
                "relation_noise": p["dynamics.noise.relation"],
                "weight_flow": p["dynamics.weight.flow"],
                "weight_glue": p["dynamics.weight.glue"],
                "weight_trust": p["dynamics.weight.trust"],
                "trust_rate": p["dynamics.trust_rate"],
                "inverse_trust_reference": 1.0 / p["dynamics.trust_reference"],
                "structural": structural.reshape(D * C, R),
                "composite": w / np.maximum(row_sum(w), _EPS),  # (C, R), weights summing to 1
            }
        return self._derived

    def noise(self) -> dict[str, np.ndarray]:
        """This month's standard normal draws, replicates last: ``production``, ``launches``
        (R,), ``relations`` (D*C, R) and ``routes`` (routes, R)."""
        if self._noise_month != self.month:
            z = self.streams.normal(self.month, self._noise_width)  # (width, R) float32
            z = z.astype(self.dtype, copy=False)
            off = 2 + self.D * C
            self._noise = {"production": z[0], "launches": z[1], "relations": z[2:off], "routes": z[off:]}
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
        if self.measuring:
            self.measure()
        self.month += 1

    def war_demand(self, noise: bool = True) -> None:
        """Drone demand (swarm doctrine x war intensity), domestic production, import need.

        demand_t     = demand_max * W_t * logistic((t - midpoint) / width)
        production_t = the plant's capacity (a state that grows by investment, war_outcomes) x noise
        import need  = max(0, demand_t - capacity_t) / import_capacity, at most 1
        """
        p, k = self.par, self.month
        s = self.settings
        mid = s.month_index(s["war.drones.doctrine_midpoint"])
        doctrine = _sigmoid((k - mid) / p["war.drones.doctrine_width"])
        self.drones_demanded = p["war.drones.demand_max"] * self.war_intensity * doctrine
        capacity = self.capacity
        sd = p["war.drones.noise"]
        self.drones_produced = capacity * np.exp(sd * self.noise()["production"] - 0.5 * sd**2) if noise else capacity
        self.drone_orders = np.maximum(self.drones_demanded - capacity, 0.0)
        cap = p["war.drones.import_capacity"]
        self.drone_import_need = np.where(cap > 0, np.minimum(1.0, self.drone_orders / np.maximum(cap, _EPS)), 0.0)

    def invest(self) -> None:
        """The plant after this month (A3, A6, ctx6). It opens at ``production_start`` with
        ``production_initial``; then, while the demand the doctrine is heading for (``demand_max``
        x war intensity) outruns it, it grows by the build rate its sanctioned inputs allow,
        ``build_rate`` x (1 - ``input_sanctions`` x sanctions), up to the site's ceiling
        ``production_max``. It never shrinks."""
        p, s = self.par, self.settings
        opening = s.month_index(s["war.drones.production_start"])
        if self.month + 1 == opening:
            self.capacity = np.minimum(p["war.drones.production_initial"], p["war.drones.production_max"])
        elif self.month >= opening:
            planned = p["war.drones.demand_max"] * self.war_intensity
            build = p["war.drones.build_rate"] * np.maximum(
                1.0 - p["war.drones.input_sanctions"] * self._sanctions[self.attacker], 0.0)
            grown = self.capacity + np.minimum(build, np.maximum(planned - self.capacity, 0.0))
            self.capacity = np.maximum(self.capacity, np.minimum(grown, p["war.drones.production_max"]))

    def assess_states(self) -> None:
        """Every state's threat and needs, for all states and replicates at once.

        threat = insecurity + sum over hostile states of hostility x their capability share;
        needs  = baseline + insecurity x sensitivity (arms, cover) + sanctions x sensitivity
        (trade); at war the attacker's troops need scales with war intensity and its drone need
        is the import need; the defender's arms need scales with war intensity.
        """
        hostile = _weighted_sum(self._hostility_matrix, self._capability_share)  # (A, R)
        np.add(self._insecurity, hostile, out=self._threat)
        np.clip(self._threat, 0.0, 1.0, out=self._threat)
        need = self._needs
        np.copyto(need, self._needs_base)
        need[:, ARMS] += self._insecurity * self._insecurity_sensitivity[ARMS]
        need[:, COVER] += self._insecurity * self._insecurity_sensitivity[COVER]
        need[:, TRADE] += self._sanctions * self._sanctions_sensitivity[TRADE]
        a, d = self.attacker, self.defender
        need[a, TROOPS] = self._needs_base[a, TROOPS] * self.war_intensity
        need[a, DRONES] = self.drone_import_need
        need[d, ARMS] *= self.war_intensity
        np.clip(need, 0.0, 1.0, out=need)

    def exchange(self, noise: bool = True) -> None:
        """Each supplier's noisy logit choice on its net payoff per route; needs shared among
        suppliers and the world market.

        payoff      = (strength on the good's channel - threshold_g) / width      (relation)
                      + gains (own needs the receiver can meet, shared adversary, shared project,
                      prestige) - costs (sanctions exposure, overextension at war, third states'
                      reaction, own troops)
        willingness = logistic(payoff + noise)
        attraction  = offer x willingness;  world market = outside_g x (1 - sanctions of receiver)
        flow        = need x min(1, total attraction) x attraction / total attraction
        """
        R, q = self.R, self._params()
        relation = np.take(self._strength.reshape(-1, R), self._route_dc, axis=0)  # (routes, R)
        relation -= q["route_threshold"]
        relation *= q["half_inverse_width"]  # every term at half size until the logistic
        glue = self._glue = self._shared_adversary()  # (D, R)
        needs = np.take(self._needs.reshape(-1, R), self._combo_need, axis=0)
        needs *= q["half_needs_offers"]
        needs = self._by_pair_combo(needs)  # gain x sum_g need of the supplier x offer of the receiver, (P, R)
        ally = np.take(glue, self._pair_dyad, axis=0)
        # capability hostile to the receiver beyond its hostility to the supplier (third states only):
        # sum_k c_k max(0, h_qk - h_sk) = hostile_q - c_s h_qs - glue
        hostile = _weighted_sum(self._hostility_matrix, self._capability_share)  # capability hostile to each state
        react = np.take(hostile, self._pair_rec, axis=0)
        react -= np.take(self._capability_share, self._pair_sup, axis=0) * np.take(self._dyad_hostility, self._pair_dyad,
                                                                                  axis=0)
        react -= ally
        react *= q["half_cost_reaction"]
        ally *= q["half_gain_ally"]
        self._terms = {"relation": relation, "needs": needs, "ally": ally, "reaction": react}  # halves; pairs but relation
        pair = needs + ally
        pair += react
        z = np.take(pair, self._route_pair, axis=0)
        z += relation
        z += q["half_static"]
        if len(self._overextends):
            z[self._overextends] += q["half_overextension"] * self.war_intensity
        if noise:
            z += self.noise()["routes"] * q["half_decision_noise"]
        attraction = np.tanh(z, out=z)
        attraction += 1.0
        attraction *= q["half_offer"]
        total = self._by_need(attraction)  # per (receiver, good) that some route serves
        total += q["market"]
        share = np.minimum(1.0, total)
        share /= np.maximum(total, _EPS)
        flows = np.take(self._needs.reshape(-1, R), self._route_group, axis=0)
        flows *= attraction
        flows *= np.take(share, self._by_need.of_row, axis=0)
        self._flows = flows

    def payoff(self, out: np.ndarray | None = None) -> np.ndarray:
        """This month's payoff terms per route, shape (routes, len(TERMS), R), logit units;
        costs are negative and the terms add up to the payoff before the decision noise.
        ``out`` (that shape, any float dtype) is filled in place; terms that cannot apply to a
        route (``results.written``) are left as they are."""
        q, t = self._params(), self._terms
        if out is None:
            out = np.zeros((self.n_routes, len(TERMS), self.R), self.dtype)
        k = TERMS.index
        np.multiply(t["relation"], 2.0, out=out[:, k("relation")])
        for name in ("needs", "ally", "reaction"):
            np.multiply(np.take(t[name], self._route_pair, axis=0), 2.0, out=out[:, k(name)])
        out[:, k("prestige")] = q["term_prestige"]
        out[:, k("sanctions")] = q["term_sanctions"]
        out[self.route_project, k("project")] = q["term_project"][self.route_project]
        out[self._troops, k("troops")] = q["term_troops"][self._troops]
        if len(self._overextends):
            out[self._overextends, k("overextension")] = 2.0 * q["half_overextension"] * self.war_intensity
        return out

    def war_outcomes(self) -> None:
        """Drones imported, launched and stocked; troops deployed; territory."""
        p = self.par
        self.drones_imported = row_sum(self._flows[self._drones_in]) * p["war.drones.import_capacity"]
        supply = self.drone_stock + self.drones_produced + self.drones_imported
        noise = p["war.drones.noise"]
        wanted = self.drones_demanded * np.exp(noise * self.noise()["launches"] - 0.5 * noise**2)
        self.drones_launched = np.minimum(wanted, supply)
        self.drone_stock = supply - self.drones_launched
        scale = p["war.troops.scale"]
        if len(self._troops):  # troops stay with a partner only on troop routes
            here = self._troops_present[self._troops]
            target = self._flows[self._troops] * scale
            self._troops_present[self._troops] = here + p["war.troops.deploy_rate"] * (target - here)
        # the attacker's edge: drones launched and foreign troops vs military aid to the defender
        edge = (self.drones_launched / np.maximum(p["war.drones.demand_max"], _EPS)
                + row_sum(self._troops_present[self._troops_in]) / np.maximum(scale, _EPS)
                - row_sum(self._flows[self._aid]) / np.maximum(self._needs[self.defender, ARMS], 0.2))
        self.territory = np.clip(self.territory + p["war.territory.rate"] * self.war_intensity * edge, 0.0, 100.0)
        self.invest()

    def _drivers(self) -> np.ndarray:
        """Pull on each relation's target, in logit units, without policy: shape (D, C, R)."""
        R, q = self.R, self._params()
        flow = self._by_dyad(self._flows)  # what flowed between the two, both ways, per channel (D*C, R)
        per_channel = flow.reshape(self.D, C, R)
        self._dyad_volume = row_sum(np.moveaxis(per_channel, 1, 0))  # all channels, (D, R)
        per_dyad = self._glue * q["weight_glue"]  # shared adversaries, as the suppliers saw them this month
        per_dyad += q["weight_trust"] * self._trust
        flow *= q["weight_flow"]
        per_channel += per_dyad[:, None, :]
        flow += q["structural"]  # shared projects (military) and sanctions (economic)
        return per_channel

    def _shared_adversary(self) -> np.ndarray:
        """Glue of each dyad: the capability of third states both members are hostile to, (D, R)."""
        hostility = self._hostility_matrix
        shared = np.minimum(hostility[self._dyad_i], hostility[self._dyad_j])  # (D, A, R): common adversaries
        return _weighted_sum(shared, self._capability_share)

    def drivers(self) -> np.ndarray:
        """Pull on each relation's target, in logit units, without policy: shape (R, D, C)."""
        return np.moveaxis(self._drivers(), -1, 0)

    def update_relations(self) -> None:
        """strength += rate_c x (tanh(offset + policy + drivers) - strength) + noise; trust follows delivery."""
        R, q = self.R, self._params()
        x = self._drivers()
        x *= self._scale
        x += self._offset
        x += self._policy
        change = np.tanh(x, out=x).reshape(-1, R)  # the target
        strength = self._strength.reshape(-1, R)
        change -= strength
        change *= q["rate"]
        change += q["relation_noise"] * self.noise()["relations"]
        change += strength
        self._strength = np.clip(change, -1.0, 1.0, out=change).reshape(self.D, C, R)
        delivered = self._dyad_volume * q["inverse_trust_reference"]
        np.minimum(delivered, 1.0, out=delivered)
        delivered -= self._trust
        delivered *= q["trust_rate"]
        self._trust += delivered
        self._update_hostility()

    def _update_hostility(self) -> None:
        hostility = self._dyad_hostility = np.maximum(0.0, -self._composite())
        self._hostility_matrix[self._dyad_i, self._dyad_j] = hostility
        self._hostility_matrix[self._dyad_j, self._dyad_i] = hostility

    def _perception_inputs(self) -> None:
        """Capability shares and need sensitivities (parameters that events may change)."""
        self._perceived = True
        self._capability_share = self._cinc / np.maximum(row_sum(self._cinc), _EPS)
        sens = np.zeros((G, self.R), self.dtype)
        sens[ARMS] = self.par["exchange.insecurity_sensitivity.arms"]
        sens[COVER] = self.par["exchange.insecurity_sensitivity.cover"]
        self._insecurity_sensitivity = sens
        sens = np.zeros((G, self.R), self.dtype)
        sens[TRADE] = self.par["exchange.sanctions_sensitivity.trade"]
        self._sanctions_sensitivity = sens

    def _composite(self) -> np.ndarray:
        """Weighted mean of the three channels, shape (D, R)."""
        return _weighted_sum(self._strength, self._params()["composite"])

    def composite(self) -> np.ndarray:
        """Weighted mean of the three channels, shape (R, D)."""
        return self._composite().T

    def measure(self) -> None:
        """Dependence of each state on each partner per channel, and demand for partnership.

        dependence[i, j, c] = flows from j to i on channel c / i's needs on channel c (0–1)
        demand[i, j]        = threat_i x (sum_g need_ig x offer_jg) / (sum_g need_ig)   (0–1)
        """
        R, A = self.R, self.A
        need = np.empty((A, C + 1, R), self.dtype)  # each state's needs by channel, and in all
        for c, goods in enumerate(GOODS_OF_CHANNEL):
            np.copyto(need[:, c], self._needs[:, goods[0]])
            for g in goods[1:]:
                need[:, c] += self._needs[:, g]
        np.copyto(need[:, C], need[:, 0])
        for c in range(1, C):
            need[:, C] += need[:, c]
        np.maximum(need, _EPS, out=need)
        need = need.reshape(-1, R)
        link = self._by_link(self._flows)  # what each state got from each partner on each channel
        dependence = self._dependence.reshape(-1, R)  # pairs with no route stay 0
        dependence[self.dependence_link] = link / need[self._need_of_link]
        dependence[self.dependence_pair] = self._by_pair(link) / need[self._need_of_pair]
        np.clip(dependence, 0.0, 1.0, out=dependence)
        cover = np.zeros((A, A, R), self.dtype)  # sum_g need_ig x offer_jg
        product = np.empty_like(cover)
        for g in range(G):
            cover += np.multiply(self._needs[:, None, g], self._offers[None, :, g], out=product)
        cover *= (self._threat / need[C::C + 1])[:, None, :]
        cover[np.arange(A), np.arange(A)] = 0.0  # no demand for partnership with oneself
        self._demand = np.clip(cover, 0.0, 1.0, out=cover)
