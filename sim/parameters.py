"""The parameter registry: the one place where every parameter is defined.

Each leaf is a :class:`Param` with its default, unit, allowed range and provenance (a fact id
of ``domain.md`` such as ``A4`` or ``ctx8``, or ``assumption: why``). The Hydra configuration,
its validation, ``geosim-params`` and ``docs/parameters.md`` are all generated from here.

Actors are data too: :data:`ACTORS` lists the five states with their display names and their
defaults; a sixth actor is added by configuration alone (see the README).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from .distributions import Beta, Choice, Dist, Normal, Uniform

GOODS = ("drones", "missiles", "troops", "arms", "trade", "cover")
"""What can flow from one state to another (B2, A3–A5, A11)."""

CHANNELS = ("military", "economic", "diplomatic")
"""The three channels of an alliance (B2); the composite is their weighted mean."""

CHANNEL_OF_GOOD = {
    "drones": "military",
    "missiles": "military",
    "troops": "military",
    "arms": "military",
    "trade": "economic",
    "cover": "diplomatic",
}


@dataclass(frozen=True)
class Param:
    """One parameter: default, unit, allowed range and where the default comes from."""

    default: Any
    unit: str
    low: float | None = None
    high: float | None = None
    source: str = ""
    doc: str = ""
    kind: str = "float"  # float | int | bool | str | month | actor | actors | months | names | path
    dist: Dist | None = None  # uncertainty of a float parameter, sampled when ensemble.sample_parameters
    choices: tuple[str, ...] | None = None  # allowed values of a str (one) or names (a list) parameter

    def __post_init__(self):
        if self.dist is not None:
            lo, hi = self.dist.support()
            if self.kind != "float" or not (self.low <= lo and hi <= self.high) or not self.dist.source:
                raise ValueError(f"distribution {self.dist.describe()} needs a float parameter whose range "
                                 f"[{self.low}, {self.high}] contains it, and a source")

    def allowed(self) -> str:
        if self.choices is not None:
            return ("one of " if self.kind == "str" else "a list of ") + ", ".join(self.choices)
        if self.kind in ("float", "int"):
            return f"[{_fmt(self.low)}, {_fmt(self.high)}]"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "month":
            return "a month YYYY-MM"
        if self.kind == "months":
            return "a list of months YYYY-MM"
        if self.kind == "actor":
            return "an actor key"
        if self.kind == "actors":
            return "a list of actor keys"
        if self.kind == "names":
            return "a list of names"
        if self.kind == "path":
            return "a file path, or empty for none"
        return "text"


def _fmt(x: float | None) -> str:
    if x is None:
        return "-inf"
    if float(x).is_integer() and abs(x) >= 1:
        return f"{int(x):,}".replace(",", "_") if abs(x) >= 100_000 else str(int(x))
    return f"{x:g}"


def P(default, unit, low=None, high=None, source="", doc="", kind=None, dist=None) -> Param:
    if kind is None:
        kind = "int" if isinstance(default, int) and not isinstance(default, bool) else "float"
        if isinstance(default, bool):
            kind = "bool"
    return Param(default, unit, low, high, source, doc, kind, dist)


SHARE = "share 0–1"
INDEX = "index 0–1"
STRENGTH = "strength −1…1"
PER_MONTH = "1/month"
LOGIT = "logit units"

# --------------------------------------------------------------------------------------------
# Actors
# --------------------------------------------------------------------------------------------

ACTOR_SCHEMA: dict[str, Param] = {
    "name": Param("", "text", source="", doc="display name used in results and plots", kind="str"),
    "cinc": P(0.0, "share of world capability", 0.0, 1.0,
              doc="Composite Index of National Capability; weighs how much a state's hostility threatens others"),
    "insecurity": P(0.0, INDEX, 0.0, 1.0,
                    doc="baseline insecurity apart from hostile states (war, lost allies); raises needs for arms and cover"),
    "sanctions": P(0.0, INDEX, 0.0, 1.0,
                   doc="exposure to Western sanctions; closes the world market, raises the need for trade partners"),
    **{f"needs.{g}": P(0.0, SHARE, 0.0, 1.0,
                       doc=f"baseline need for {g} from abroad (share of requirement)"
                       + ("; for the war's attacker it is computed from the gap its own plant leaves" if g == "drones" else "")) for g in GOODS},
    **{f"offers.{g}": P(0.0, SHARE, 0.0, 1.0,
                        doc=f"capacity to supply {g} to partners (share of a partner's full need)") for g in GOODS},
    "prestige": P(0.0, INDEX, 0.0, 1.0,
                  doc="how much the state values the image of a great power that supplies partners (a gain on every route it supplies)"),
    "troop_aversion": P(0.0, INDEX, 0.0, 1.0,
                        doc="reluctance to send its own soldiers abroad (a cost on its troop routes)"),
}

_A = "assumption"
_CINC_ERROR = "ctx8: 2022 shares; sd 10% for a year's change and measurement error (assumption)"
# Per actor: field -> (default, provenance) or (default, provenance, distribution). Fields not
# listed take the schema default (0) with the provenance "assumption: not relevant for this state".
# A distribution given as the text _CINC_ERROR becomes a normal with sd 10% of the default.
ACTORS: dict[str, dict[str, tuple]] = {
    "russia": {
        "name": ("Russia", "domain.md actors"),
        "cinc": (0.0382, "ctx8: CoW NMC 2022", _CINC_ERROR),
        "insecurity": (0.3, f"{_A}: at war, advances at heavy cost (A12, A13)",
                       Uniform(0.2, 0.4, source=f"{_A}: ±1/3 around the default")),
        "sanctions": (0.6, "B2: under heavy Western sanctions", Uniform(0.5, 0.7, source=f"{_A}: ±0.1 around the default")),
        "needs.missiles": (0.3, "A5, ctx2: sought Iranian ballistic missiles",
                           Uniform(0.2, 0.4, source=f"{_A}: A5 reports the request, not its size")),
        "needs.troops": (0.6, "A12: may need more personnel; scaled by war intensity",
                         Uniform(0.45, 0.75, source="A12: 'may need more' gives no figure; ±25%")),
        "needs.arms": (0.2, f"{_A}: ammunition and parts beyond domestic output"),
        "needs.trade": (0.5, "B2: alternative trade routes under sanctions"),
        "needs.cover": (0.3, "B2: common front in international bodies"),
        "offers.arms": (0.6, "B2: Russian arms, training, intelligence"),
        "offers.trade": (0.4, "B2: energy, finance, trade routes"),
        "offers.cover": (0.9, "B2: diplomatic cover (UN Security Council veto)"),
        "prestige": (1.0, "A14: the partnership lets Russia project a superpower image"),
    },
    "iran": {
        "name": ("Iran", "domain.md actors"),
        "cinc": (0.0164, "ctx8: CoW NMC 2022", _CINC_ERROR),
        "insecurity": (0.4, "A8: fear of the Trump administration and of Israel",
                       Uniform(0.3, 0.5, source=f"{_A}: ±25% around the default")),
        "sanctions": (0.6, "B2: under heavy Western sanctions", Uniform(0.5, 0.7, source=f"{_A}: ±0.1 around the default")),
        "needs.arms": (0.4, "B2: Russian arms, training and intelligence for its network"),
        "needs.trade": (0.5, "B2: alternative trade routes under sanctions"),
        "needs.cover": (0.5, "B2, A10: cover against Western pressure"),
        "offers.drones": (1.0, "A3, A4: Shahed drones; volume set by war.drones.import_capacity"),
        "offers.missiles": (0.5, "A5, ctx2: Fath-360 missiles delivered",
                            Uniform(0.3, 0.7, source="A5: US officials report deliveries, not volumes; ±40%")),
        "offers.troops": (0.3, "ctx8: 610,000 under arms; whether it sends them is its choice (troop_aversion)"),
        "troop_aversion": (1.0, "B5, A11: historically unwilling to send its own troops; uses proxies"),
        "offers.trade": (0.2, f"{_A}: small economy under sanctions"),
        "offers.cover": (0.2, f"{_A}: regional voice, no veto"),
    },
    "united_states": {
        "name": ("United States", "domain.md actors"),
        "cinc": (0.1236, "ctx8: CoW NMC 2022", _CINC_ERROR),
        "insecurity": (0.0, f"{_A}: no direct threat to its territory"),
        "needs.trade": (0.1, f"{_A}: open world market"),
        "needs.cover": (0.1, f"{_A}: own veto"),
        "offers.arms": (1.0, "ctx9: largest military budget; main supplier of Ukraine"),
        "offers.trade": (0.8, f"{_A}: largest economy"),
        "offers.cover": (0.8, f"{_A}: veto, alliance network"),
    },
    "ukraine": {
        "name": ("Ukraine", "domain.md actors"),
        "cinc": (0.0086, "ctx8: CoW NMC 2022", _CINC_ERROR),
        "insecurity": (0.8, "A12, A13: invaded, losing ground in the east"),
        "needs.arms": (0.8, "ctx9: defence spending 34% of GDP; scaled by war intensity"),
        "needs.trade": (0.4, f"{_A}: war economy"),
        "needs.cover": (0.5, f"{_A}: needs diplomatic backing"),
        "offers.trade": (0.2, f"{_A}: grain and metals"),
    },
    "north_korea": {
        "name": ("North Korea", "domain.md actors"),
        "cinc": (0.0141, "ctx8: CoW NMC 2022", _CINC_ERROR),
        "insecurity": (0.3, f"{_A}: isolated, hostile to the US"),
        "sanctions": (0.9, f"{_A}: the most sanctioned of the five"),
        "needs.arms": (0.3, f"{_A}: seeks Russian military technology"),
        "needs.trade": (0.5, f"{_A}: sanctions close the world market"),
        "needs.cover": (0.4, f"{_A}: needs a veto power's cover"),
        "offers.troops": (1.0, "A11, ctx1: sent ~11,000 soldiers under the 2024 treaty"),
        "offers.missiles": (0.5, f"{_A}: artillery and missiles (not in the articles)"),
        "offers.trade": (0.05, f"{_A}: tiny economy"),
        "offers.cover": (0.1, f"{_A}: no weight in international bodies"),
    },
}

# --------------------------------------------------------------------------------------------
# Relations at the start (2022-07): military, economic, diplomatic strength per dyad
# --------------------------------------------------------------------------------------------

RELATIONS: dict[str, tuple[tuple[float, float, float], str]] = {
    "russia-iran": ((0.45, 0.30, 0.45), "ctx10, A1: consultation pact, shared adversary; A7 wary"),
    "russia-united_states": ((-0.60, -0.50, -0.60), "A1, A13: adversaries over Ukraine"),
    "russia-ukraine": ((-0.90, -0.60, -0.85), "A2, A12: at war since 2022-02"),
    "russia-north_korea": ((0.20, 0.15, 0.35), f"{_A}: friendly before the 2024 treaty (ctx1)"),
    "iran-united_states": ((-0.60, -0.50, -0.60), "A1, A10: adversaries, sanctions"),
    "iran-ukraine": ((-0.20, 0.00, -0.20), f"{_A}: Iran arms Ukraine's enemy"),
    "iran-north_korea": ((0.15, 0.05, 0.25), f"{_A}: loosely friendly"),
    "united_states-ukraine": ((0.70, 0.50, 0.80), "ctx9: main backer of Ukraine"),
    "united_states-north_korea": ((-0.60, -0.60, -0.70), f"{_A}: long hostility"),
    "ukraine-north_korea": ((-0.30, 0.00, -0.40), f"{_A}: North Korea arms Ukraine's enemy"),
}

# --------------------------------------------------------------------------------------------
# Everything else
# --------------------------------------------------------------------------------------------

RUN = {
    "scenario": Param("baseline", "text", source=f"{_A}: the no-new-shock world",
                      doc="a preset name from scenarios/ or a path to a scenario YAML file", kind="str"),
    "seed": P(0, "integer", 0, 2**31 - 1, f"{_A}: any fixed seed", "seed of the random generator"),
    "ensemble.replicates": P(200, "replicates", 1, 10_000_000, f"{_A}: 200 gives stable medians (patterns.md)",
                             "replicates; each chunk of them runs in lockstep in one model"),
    "time.start": Param("2022-07", "month", source="A2: Putin's visit to Tehran", doc="first simulated month",
                        kind="month"),
    "time.end": Param("2028-12", "month", source=f"{_A}: four years of projection", doc="last simulated month",
                      kind="month"),
    "output.plots": P(True, "flag", source=f"{_A}: students want pictures", doc="write PNG plots"),
    "output.network_dates": Param(["start", "2024-11", "2025-06", "end"], "months",
                                  source=f"{_A}: start, before Assad's fall, after the shocks, horizon",
                                  doc="months shown in the network picture ('start', 'end'; months outside the run are left out)",
                                  kind="months"),
    "output.skip_complete": P(False, "flag", source="assumption: redoing finished work is the safe default",
                              doc="skip a run whose folder already holds complete results.nc for the same configuration "
                                  "(resume an interrupted sweep: same command, same hydra.sweep.dir)"),
    "output.results": Param("auto", "text", source=f"{_A}: single runs keep every trajectory but the bulky payoff terms; a sweep's jobs keep "
                            "what its table needs, so that a default sweep fits in 50 MB (docs/ensembles.md)",
                            doc="what results.nc keeps: full (every trajectory), summary (each replicate's scalar "
                                "outcomes and per-month quantiles of every variable), none (no results.nc); auto = "
                                "every trajectory except the payoff terms (kept as per-month quantiles) for a single run, "
                                "summary for the jobs of a sweep (geosim -m)",
                            kind="str", choices=("auto", "full", "summary", "none")),
    "output.lossless": P(False, "flag", source=f"{_A}: 0.0001 on bounded scales and four significant digits "
                         "otherwise is finer than any figure the model is calibrated to",
                         doc="keep every bit of the float results in results.nc (about 2.5 times larger); by default "
                             "bounded variables keep an absolute error of at most 0.00005 and the others 12 "
                             "mantissa bits (relative error at most 1.2e-4)"),
    "output.focus_dyad": Param("russia-iran", "dyad", source="domain.md: the partnership the articles are about",
                               doc="dyad drawn large in its own figure", kind="str"),
    # --- ensembles (docs/ensembles.md) ---------------------------------------------------------
    "ensemble.sample_parameters": P(False, "flag", source=f"{_A}: off, so that the defaults reproduce the patterns",
                                    doc="draw every parameter that has a distribution once per replicate"),
    "ensemble.mode": Param("full", "text", source=f"{_A}: keep every trajectory unless asked not to",
                           doc="full: keep every replicate's trajectories; summary: stream quantiles and histograms "
                               "(memory bounded by the chunk size)", kind="str", choices=("full", "summary")),
    "ensemble.block": P(1000, "replicates", 1, 1_000_000,
                        f"{_A}: small enough for small chunks, large enough that seeding costs nothing",
                        "replicates that share one random stream; changing it changes which numbers each "
                        "replicate draws, chunk size and workers never do"),
    "ensemble.chunk": P(4000, "replicates", 1, 10_000_000, f"{_A}: enough replicates to spread numpy's per-call cost, few enough to keep a chunk's working memory small (benchmarks/ensemble.py measures the step at this size)",
                        "replicates per model instance (rounded up to whole blocks); bounds working memory"),
    "ensemble.precision": Param("float32", "text",
                                source=f"{_A}: results are stored and the monthly noise is drawn in float32, so "
                                       "float64 arithmetic adds digits the outputs do not keep; float32 halves the "
                                       "memory traffic and the step's cost (docs/ensembles.md)",
                                doc="arithmetic of the model's arrays: float64 for checks of the equations by hand; "
                                    "the numbers differ in the last digits (statistically the same)",
                                kind="str", choices=("float32", "float64")),
    "ensemble.workers": P(1, "processes", 0, 256, f"{_A}: one process unless asked (a run may share the "
                          "machine)",
                          "processes for the chunks: 1 runs them in this process; more, a pool of that many worker "
                          "processes (or Dask workers of a LocalCluster); 0 = one per CPU core"),
    "ensemble.executor": Param("local", "text", source=f"{_A}: one machine unless a cluster is named",
                               doc="where the chunks run: local (this process or ensemble.workers processes) or "
                                   "dask (the workers of a Dask cluster; same numbers)",
                               kind="str", choices=("local", "dask")),
    "ensemble.dask.address": Param("", "text", source=f"{_A}: none, so that executor=dask starts a LocalCluster",
                                   doc="address of a running Dask scheduler (tcp://host:8786) for executor=dask; "
                                       "empty and no scheduler_file: a LocalCluster of ensemble.workers processes",
                                   kind="path"),
    "ensemble.dask.scheduler_file": Param("", "file", source=f"{_A}: none (see ensemble.dask.address)",
                                          doc="scheduler file written by dask-scheduler or a dask-jobqueue cluster "
                                              "(conf/executor/slurm.yaml), for executor=dask",
                                          kind="path"),
    "ensemble.dask.timeout": P(30.0, "s", 1.0, 3600.0, f"{_A}: long enough for a scheduler on another host",
                               "seconds to wait for the Dask scheduler to answer"),
    "ensemble.posterior": Param("", "file", source=f"{_A}: no posterior unless asked (geosim-calibrate writes one)",
                                doc="posterior.csv of geosim-calibrate: every replicate draws one particle (by its "
                                    "weight) for the parameters it holds; with ensemble.sample_parameters=true the "
                                    "other uncertain parameters are drawn from their priors, as in the calibration",
                                kind="path"),
    "ensemble.summary_variables": Param(["strength", "trust", "threat", "territory", "war_intensity",
                                         "drones_launched", "troops_sent"], "names",
                                        source=f"{_A}: what the distribution plots read; each element costs time",
                                        doc="result variables whose quantiles and histograms summary mode streams",
                                        kind="names"),
    "output.distribution_plots": Param(["fan"], "names", source=f"{_A}: the fan chart is cheap; the others run more scenarios",
                                       doc="distribution plots to write: fan (focus dyad), end_states, crossing, "
                                           "comparison (the last three also run output.compare_scenarios)",
                                       kind="names", choices=("fan", "end_states", "crossing", "comparison")),
    "output.compare_scenarios": Param(["baseline", "assad_fall", "trump_talks", "snapback", "combined"], "names",
                                      source="domain.md: the shipped presets",
                                      doc="scenarios on the end-state, crossing and comparison plots (same seed: "
                                          "common random numbers); the first is the reference", kind="names"),
    "output.crossing.channel": Param("military", "channel", source="domain.md: e.g. military cooperation falling",
                                     doc="channel of the focus dyad whose threshold crossing is plotted", kind="str",
                                     choices=("military", "economic", "diplomatic", "composite")),
    "output.crossing.level": P(0.2, STRENGTH, -1.0, 1.0, f"{_A}: a weak partnership",
                               "threshold of the crossing-probability plot"),
    "output.crossing.direction": Param("below", "text", source=f"{_A}: the question is whether ties fall apart",
                                       doc="below: P(falls below the level by t); above: P(rises above it by t)",
                                       kind="str", choices=("below", "above")),
}

DYNAMICS = {
    "dynamics.rate.military": P(0.30, PER_MONTH, 0.01, 1.0, f"{_A}: military ties react within a season (B4 'at once')",
                                "share of the gap to its target a military channel closes per month",
                                dist=Uniform(0.2, 0.4, source=f"{_A}: a season, give or take a month")),
    "dynamics.rate.economic": P(0.10, PER_MONTH, 0.01, 1.0, f"{_A}: trade ties adjust slower than military ones",
                                "share of the gap closed per month, economic channel",
                                dist=Uniform(0.05, 0.15, source=f"{_A}: half to one and a half times the default")),
    "dynamics.rate.diplomatic": P(0.15, PER_MONTH, 0.01, 1.0, f"{_A}: between the two",
                                  "share of the gap closed per month, diplomatic channel",
                                  dist=Uniform(0.1, 0.2, source=f"{_A}: between the other two rates")),
    "dynamics.weight.flow": P(0.5, LOGIT, 0.0, 5.0, f"{_A}: calibrated (P1, P6); what flows binds",
                              "pull of a channel's flows (both directions, need units) on its target",
                              dist=Normal(0.5, 0.08, 0.25, 0.75, source=f"{_A}: sd of a sixth of the calibrated value")),
    "dynamics.weight.glue": P(0.3, LOGIT, 0.0, 5.0,
                              "A1: the shared adversary binds; calibrated (P9, and B7: on the combined path "
                              "economic and diplomatic ties survive)",
                              "pull of shared hostility to third states on every channel",
                              dist=Normal(0.3, 0.05, 0.15, 0.45, source=f"{_A}: sd of a sixth of the calibrated value")),
    "dynamics.weight.anchor": P(1.5, LOGIT, 0.0, 5.0, "B1, B4: Syria anchored the military channel; calibrated (P1, P6)",
                                "pull of a shared project on its channel while the project stands",
                                dist=Normal(1.5, 0.3, 0.75, 2.25, source=f"{_A}: sd of 20% of the calibrated value")),
    "dynamics.weight.trust": P(0.2, LOGIT, 0.0, 5.0, f"{_A}: delivery builds trust slowly",
                               "pull of accumulated trust on every channel",
                               dist=Uniform(0.1, 0.3, source=f"{_A}: half to one and a half times the default")),
    "dynamics.weight.sanctions": P(0.5, LOGIT, 0.0, 5.0, "B2: shared sanctions push towards economic ties",
                                   "pull of shared sanctions (the smaller exposure of the two) on the economic channel",
                                   dist=Uniform(0.3, 0.7, source=f"{_A}: ±40% around the default")),
    "dynamics.weight.exposure": P(0.05, LOGIT, 0.0, 5.0, f"{_A}: trading with a more sanctioned partner costs",
                                  "cost of a gap in sanctions exposure on the economic channel",
                                  dist=Uniform(0.0, 0.1, source=f"{_A}: from no cost to twice the default")),
    "dynamics.trust_rate": P(0.05, PER_MONTH, 0.0, 1.0, f"{_A}: trust takes years to build",
                             "share of the gap to delivered volume closed per month by trust",
                             dist=Uniform(0.02, 0.08, source=f"{_A}: trust builds in one to four years")),
    "dynamics.trust_reference": P(0.5, "need units/month", 0.01, 5.0, f"{_A}: half a full need delivered = full trust",
                                  "monthly flow between a pair that counts as full delivery",
                                  dist=Uniform(0.3, 0.7, source=f"{_A}: ±40% around the default")),
    "dynamics.composite.military": P(1 / 3, "weight", 0.0, 1.0, f"{_A}: equal channel weights",
                                     "weight of the military channel in the composite"),
    "dynamics.composite.economic": P(1 / 3, "weight", 0.0, 1.0, f"{_A}: equal channel weights",
                                     "weight of the economic channel in the composite"),
    "dynamics.composite.diplomatic": P(1 / 3, "weight", 0.0, 1.0, f"{_A}: equal channel weights",
                                       "weight of the diplomatic channel in the composite"),
    "dynamics.noise.relation": P(0.02, STRENGTH + " per month", 0.0, 0.2, f"{_A}: small monthly shocks to ties",
                                 "standard deviation of the monthly random change of a channel",
                                 dist=Uniform(0.01, 0.03, source=f"{_A}: half to one and a half times the default")),
    "dynamics.noise.decision": P(0.3, LOGIT, 0.0, 2.0, f"{_A}: boundedly rational supply decisions",
                                 "standard deviation of the logit noise on each supply decision",
                                 dist=Uniform(0.2, 0.4, source=f"{_A}: ±1/3 around the default")),
}

EXCHANGE = {
    **{f"exchange.threshold.{g}": P(v, STRENGTH, -1.0, 1.0, src, f"channel strength at which a state is half willing to supply {g}",
                                    dist=Normal(v, 0.1, v - 0.2, min(v + 0.2, 1.0),
                                                source=f"{_A}: a threshold is a judgement; sd 0.1 strength"))
       for g, v, src in [
           ("drones", 0.0, f"{_A}: selling drones needs only a working relation"),
           ("missiles", 0.2, f"{_A}: missiles are a bigger step (A5)"),
           ("troops", 0.8, "A11, ctx1: troops came only with a treaty; calibrated (P5)"),
           ("arms", 0.3, f"{_A}: advanced arms need a close partner (B2)"),
           ("trade", -0.2, f"{_A}: trade flows unless relations are hostile"),
           ("cover", 0.1, f"{_A}: cover needs a friendly relation"),
       ]},
    "exchange.width": P(0.1, STRENGTH, 0.01, 1.0, f"{_A}: willingness turns within ±0.2 of a threshold",
                        "width of the logistic willingness curve",
                        dist=Uniform(0.07, 0.13, source=f"{_A}: ±30% around the default")),
    **{f"exchange.outside.{g}": P(v, SHARE, 0.0, 1.0, src, f"share of a need for {g} the world market meets for an unsanctioned state")
       for g, v, src in [
           ("drones", 0.0, f"{_A}: attack drones are not on the open market"),
           ("missiles", 0.0, f"{_A}: idem"),
           ("troops", 0.0, f"{_A}: foreign troops come only from states"),
           ("arms", 0.3, f"{_A}: third-country arms (Europe for Ukraine)"),
           ("trade", 1.0, "B2: sanctions are what closes the world market"),
           ("cover", 0.3, f"{_A}: other states' diplomatic support"),
       ]},
    "exchange.insecurity_sensitivity.arms": P(0.5, "need per unit insecurity", 0.0, 1.0,
                                              "B6: a weakened Iran urgently needs military support",
                                              "rise of the need for arms per unit of insecurity",
                                              dist=Beta(5, 5, source=f"{_A}: mean 0.5, most mass within 0.3–0.7")),
    "exchange.insecurity_sensitivity.cover": P(0.4, "need per unit insecurity", 0.0, 1.0, "A8: insecurity drove Iran to sign",
                                               "rise of the need for diplomatic cover per unit of insecurity",
                                               dist=Beta(4, 6, source=f"{_A}: mean 0.4, most mass within 0.2–0.6")),
    "exchange.sanctions_sensitivity.trade": P(0.4, "need per unit sanctions", 0.0, 1.0,
                                              "A10, B2: sanctions push towards alternative partners",
                                              "rise of the need for trade partners per unit of sanctions exposure",
                                              dist=Beta(4, 6, source=f"{_A}: mean 0.4, most mass within 0.2–0.6")),
    # --- the payoff of supplying a good (docs/model.md 7.5): gains and costs in logit units --------------
    "exchange.gain.needs": P(1.0, LOGIT, 0.0, 10.0, "B2, A3: an exchange of what each needs and the other can give",
                             "gain per unit of the supplier's own needs that the receiver can meet (sum over goods of "
                             "need x the receiver's offer)",
                             dist=Uniform(0.7, 1.3, source=f"{_A}: ±30% around the calibrated value")),
    "exchange.gain.ally": P(2.0, LOGIT, 0.0, 10.0, "A1: the US as the common strategic target binds Moscow and Tehran",
                            "gain per unit of shared hostility to capable third states (the partner's help against a "
                            "common adversary)",
                            dist=Uniform(1.4, 2.6, source=f"{_A}: ±30% around the calibrated value")),
    "exchange.gain.project": P(1.5, LOGIT, 0.0, 10.0, "B1, B4: Syria was the foundation of the military alliance",
                               "gain of supplying military goods to a partner in a shared project that stands",
                               dist=Uniform(1.0, 2.0, source=f"{_A}: ±1/3 around the calibrated value")),
    "exchange.gain.prestige": P(0.5, LOGIT, 0.0, 10.0, "A14: the partnership projects Russia's superpower image",
                                "gain of supplying any partner, times the supplier's actors.<a>.prestige",
                                dist=Uniform(0.25, 0.75, source=f"{_A}: A14 names the motive, not its weight; ±50%")),
    "exchange.cost.sanctions": P(1.0, LOGIT, 0.0, 10.0, "B2, A10: dealing with a more sanctioned state exposes the "
                                 "supplier to secondary sanctions",
                                 "cost per unit by which the receiver's sanctions exceed the supplier's",
                                 dist=Uniform(0.5, 1.5, source=f"{_A}: ±50% around the default")),
    "exchange.overextension": P(1.0, LOGIT, 0.0, 10.0, "B3: Russia wanted to consolidate without overextending",
                                "cost to a state at war of giving away military goods, at full war intensity",
                                dist=Uniform(0.6, 1.4, source=f"{_A}: B3 says Russia was wary, not how much; ±40%")),
    "exchange.cost.reaction": P(1.0, LOGIT, 0.0, 10.0, "B3: third states (Turkey, Israel; here the US) push back "
                                "against those who arm their adversaries",
                                "cost per unit of capability hostile to the receiver that is not yet hostile to the "
                                "supplier",
                                dist=Uniform(0.5, 1.5, source=f"{_A}: ±50% around the default")),
    "exchange.cost.troops": P(8.0, LOGIT, 0.0, 20.0, "B5, A11: Iran does not send its own soldiers",
                              "cost of sending own soldiers, times the supplier's actors.<a>.troop_aversion",
                              dist=Uniform(7.0, 9.0, source=f"{_A}: large enough that no averse state sends troops")),
}

WAR = {
    "war.attacker": Param("russia", "actor", source="A2, A12", doc="the state waging the war of attrition", kind="actor"),
    "war.defender": Param("ukraine", "actor", source="A2, A13", doc="the state defending", kind="actor"),
    "war.drone_licensor": Param("iran", "actor", source="A3", doc="the state whose drone design the attacker builds",
                                kind="actor"),
    "war.intensity.initial": P(1.0, INDEX, 0.0, 1.0, "A12: full-scale war in 2022", "war intensity at the start"),
    "war.intensity.target": P(1.0, INDEX, 0.0, 1.0, "A13: no ceasefire in sight", "level war intensity drifts towards"),
    "war.intensity.rate": P(0.2, PER_MONTH, 0.0, 1.0, f"{_A}: fronts change over a season",
                            "share of the gap to the target closed per month",
                            dist=Uniform(0.1, 0.3, source=f"{_A}: fronts change over one to three seasons")),
    "war.drones.demand_max": P(1150.0, "drones/month", 0.0, 20_000.0, "A4: >11,000 launched in 2024; calibrated (P2)",
                               "drones the attacker wants to launch per month once swarms are its doctrine",
                               dist=Normal(1150.0, 80.0, 950.0, 1350.0, source="A4: 'more than 11,000' is a rounded count; sd 7%")),
    "war.drones.doctrine_midpoint": Param("2024-01", "month", source="A4: 2,500 in 2023 vs 11,000 in 2024; calibrated (P2)",
                                          doc="month when half the swarm doctrine is adopted", kind="month"),
    "war.drones.doctrine_width": P(4.0, "months", 0.5, 24.0, "A4: fourfold rise within a year; calibrated (P2)",
                                   "adoption rises from 27% to 73% between midpoint − width and midpoint + width",
                                   dist=Uniform(3.0, 5.0, source=f"{_A}: ±25% around the calibrated value (A4)")),
    "war.drones.production_start": Param("2023-01", "month", source="A3, ctx6: Alabuga output counted from 2023",
                                         doc="first month of domestic production", kind="month"),
    "war.drones.production_initial": P(12.44, "drones/month", 0.0, 5_000.0,
                                       "ctx6: 2,738 in 2023 and 5,760 in Jan–Sep 2024; calibrated with build_rate "
                                       "(scripts/calibrate.py production)",
                                       "capacity of the plant when it opens (production_start)",
                                       dist=Uniform(5.0, 20.0, source="ctx6: only yearly totals are known; ±60%")),
    "war.drones.build_rate": P(47.83, "drones/month per month", 0.0, 1_000.0,
                               "ctx6: 2,738 in 2023 and 5,760 in Jan–Sep 2024; calibrated (scripts/calibrate.py production)",
                               "capacity the plant adds per month while planned demand outruns it, with unsanctioned inputs",
                               dist=Normal(47.83, 4.0, 36.0, 60.0, source="ctx6: 2024 output known for nine months only")),
    "war.drones.production_max": P(2000.0, "drones/month", 1.0, 20_000.0,
                                   f"{_A}: the site could outgrow any demand in the model (A3: 'thousands'), so demand "
                                   "and inputs, not the site, limit it",
                                   "largest capacity the plant's site can reach"),
    "war.drones.input_sanctions": P(0.3, SHARE, 0.0, 1.0, "ctx6, B2: output kept rising under sanctions, so "
                                    "imported components were constrained, not cut off (assumption: how much)",
                                    "share of the plant's build rate lost per unit of the attacker's sanctions",
                                    dist=Uniform(0.15, 0.45, source=f"{_A}: ±50% around the default")),
    "war.drones.import_capacity": P(250.0, "drones/month", 0.0, 5_000.0, f"{_A}: Iran's spare output for export; calibrated (P4)",
                                    "drones the licensor can ship per month at full willingness",
                                    dist=Uniform(200.0, 300.0, source=f"{_A}: Iran's export capacity is not public; ±20%")),
    "war.drones.noise": P(0.1, "log-sd", 0.0, 1.0, f"{_A}: monthly output varies by ~10%",
                          "standard deviation of the lognormal noise on production and launches",
                          dist=Uniform(0.05, 0.15, source=f"{_A}: half to one and a half times the default")),
    "war.troops.scale": P(24_000.0, "soldiers", 0.0, 200_000.0, "A11: ~11,000 sent; calibrated (P5)",
                          "soldiers a partner sends at full willingness for a full need",
                          dist=Normal(24_000.0, 1_500.0, 20_000.0, 28_000.0, source="A11, ctx7: 11,000 is an estimate; sd 6%")),
    "war.troops.deploy_rate": P(0.6, PER_MONTH, 0.0, 1.0, "A11, ctx7: deployed within months of the treaty",
                                "share of the gap to the target troop level closed per month",
                                dist=Uniform(0.4, 0.8, source=f"{_A}: deployed within one to three months")),
    "war.territory.initial": P(20.0, "% of defender's territory", 0.0, 100.0, f"{_A}: ~a fifth occupied in 2022",
                               "territory the attacker holds at the start",
                               dist=Uniform(18.0, 22.0, source=f"{_A}: about a fifth, ±2 points")),
    "war.territory.rate": P(0.15, "%/month", 0.0, 5.0, "A13: Russia gains ground in the east",
                            "territory gained per month when the attacker's edge is one unit",
                            dist=Uniform(0.1, 0.2, source=f"{_A}: ±1/3 around the default")),
}

PROJECTS = {
    "anchors.syria.members": Param(["russia", "iran"], "actors", source="B1: joint intervention for Assad",
                                   doc="the states the shared project binds", kind="actors"),
    "anchors.syria.status": P(1.0, INDEX, 0.0, 1.0, "B1: Assad's regime stands in 2022", "1 = the project stands, 0 = lost"),
}

SHOCKS = {
    "shocks.assad_fall.actor": Param("iran", "actor", source="B4, B6: Iran lost most",
                                     doc="the state whose insecurity rises", kind="actor"),
    "shocks.assad_fall.insecurity": P(0.4, INDEX, 0.0, 1.0, "B6, A8: network broken, urgently needs support",
                                      "rise of that state's insecurity at full strength",
                                      dist=Uniform(0.3, 0.5, source=f"{_A}: B6 says Iran lost most, not how much; ±25%")),
    "shocks.trump_talks.detente": P(0.6, LOGIT, 0.0, 5.0, "A13: the US courts Russia",
                                    "policy shift towards better US–Russia relations on every channel",
                                    dist=Uniform(0.4, 0.8, source=f"{_A}: A13 gives the direction, not the size; ±1/3")),
    "shocks.trump_talks.aid_cut": P(0.5, LOGIT, 0.0, 5.0, "A13: less committed to Ukraine",
                                    "policy shift against the US–Ukraine military channel",
                                    dist=Uniform(0.3, 0.7, source=f"{_A}: A13 gives the direction, not the size; ±40%")),
    "shocks.trump_talks.deescalation": P(0.3, INDEX, 0.0, 1.0, "A13: talks over territory and NATO",
                                         "drop of the war-intensity target",
                                         dist=Uniform(0.15, 0.45, source=f"{_A}: talks may or may not calm the front; ±50%")),
    "shocks.trump_talks.mediator": Param("united_states", "actor", source="A13", doc="the state that holds talks",
                                         kind="actor"),
    "shocks.snapback.actor": Param("iran", "actor", source="A10, ctx5", doc="the sanctioned state", kind="actor"),
    "shocks.snapback.sanctions": P(0.25, INDEX, 0.0, 1.0, "A10, ctx5: UN sanctions on top of US ones",
                                   "rise of that state's sanctions exposure",
                                   dist=Choice((0.15, 0.25, 0.35), (1, 2, 1), source=f"{_A}: UN sanctions enforced weakly, as before 2015, or strictly")),
}

GLOBAL: dict[str, Param] = {**RUN, **DYNAMICS, **EXCHANGE, **WAR, **PROJECTS, **SHOCKS}


# --------------------------------------------------------------------------------------------
# Views of the registry
# --------------------------------------------------------------------------------------------

def dyad_key(a: str, b: str, order: list[str]) -> str:
    """Canonical key of an unordered pair, in actor order: ``russia-iran``."""
    ia, ib = order.index(a), order.index(b)
    return f"{a}-{b}" if ia < ib else f"{b}-{a}"


def actor_param(actor: str, field: str) -> Param:
    """The parameter ``actors.<actor>.<field>`` (a new actor gets the schema's neutral default)."""
    schema = ACTOR_SCHEMA[field]
    value, source, *dist = ACTORS.get(actor, {}).get(field, (schema.default, "assumption: not relevant for this state"))
    if actor not in ACTORS:
        source = "user-defined actor"
    dist = dist[0] if dist else None
    if dist == _CINC_ERROR:
        dist = Normal(value, 0.1 * value, 0.75 * value, 1.25 * value, source=_CINC_ERROR)
    return replace(schema, default=value, source=source, dist=dist)


def relation_params(dyad: str) -> dict[str, Param]:
    values, source = RELATIONS.get(dyad, ((0.0, 0.0, 0.0), "assumption: neutral until configured"))
    out = {}
    for c, v in zip(CHANNELS, values, strict=False):
        out[f"relations.{dyad}.{c}"] = P(v, STRENGTH, -1.0, 1.0, source, f"{c} strength at the start")
        out[f"policy.{dyad}.{c}"] = P(0.0, LOGIT, -5.0, 5.0, "assumption: no policy shift at the start",
                                      f"extra pull on the {c} target from deliberate policy (shocks shift it)")
    return out


def registry(actors: list[str] | None = None) -> dict[str, Param]:
    """Every parameter by dotted path, for the given actors (default: the five)."""
    actors = list(ACTORS) if actors is None else actors
    out: dict[str, Param] = dict(GLOBAL)
    for a in actors:
        for field in ACTOR_SCHEMA:
            out[f"actors.{a}.{field}"] = actor_param(a, field)
    for i, a in enumerate(actors):
        for b in actors[i + 1:]:
            out.update(relation_params(f"{a}-{b}"))
    return out


def nested_defaults(actors: list[str] | None = None) -> dict:
    """The registry's defaults as a nested dict: the base of the Hydra config."""
    tree: dict = {}
    for path, p in registry(actors).items():
        node = tree
        parts = path.split(".")
        for key in parts[:-1]:
            node = node.setdefault(key, {})
        node[parts[-1]] = list(p.default) if isinstance(p.default, list) else p.default
    return tree


def iter_params(actors: list[str] | None = None) -> Iterator[tuple[str, Param]]:
    yield from registry(actors).items()
