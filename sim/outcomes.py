"""Scalar outcomes of a run, one value per replicate: what the analysis tools compare.

Every outcome is computed from the results Dataset alone (its variables and the configuration
embedded in ``ds.attrs["config"]``), so a sweep can be aggregated from the files on disk and
a sensitivity analysis, a calibration and an EMA experiment all use the same definitions.

Names use the actor keys of the configuration: with the defaults the focus dyad is
``russia-iran`` and the outcomes are called ``russia_iran_composite``,
``iran_dependence_on_russia`` and so on. :func:`describe` lists them for a Dataset.

Outcomes at the horizon (the last simulated month):

- ``<focus>_<channel>`` for military, economic, diplomatic, composite: the focus dyad's strength
- ``<mediator-attacker dyad>_hostility``: max(0, −composite) of the mediator and the attacker
- ``<licensor>_dependence_on_<attacker>`` and the reverse (composite channel), and
  ``<licensor>_economic_dependence_on_<attacker>``
- ``arms_to_<defender>``: military aid flowing to the defender (share of its full need)
- ``territory``: % of the defender's territory held by the attacker
- ``balance``: structural-balance index; ``drones_launched_last_12_months``

Figures of the numeric patterns (only when the simulated period covers their months):
``drones_launched_2024``, ``drones_launched_ratio_2024_2023``, ``drones_produced_ratio_2024_2023``,
``drone_import_share_2023_01``, ``drone_import_share_2024_12``, ``<troop sender>_troops_2024_12``,
``<licensor>_troops_max``, ``<focus>_military_built_up`` (1 if higher at 2024-06 than at the
start) and ``<licensor>_more_dependent`` (1 if the licensor depends more on the attacker than
the reverse in every month from 2024-01).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import xarray as xr
import yaml

from . import parameters as prm


@dataclass(frozen=True)
class Outcome:
    """One scalar outcome: values per replicate and how a job summarises them."""

    name: str
    unit: str
    description: str
    values: np.ndarray  # (replicates,)
    summary: str = "median"  # median | share (mean of 0/1) | max

    def summarise(self) -> float:
        v = np.asarray(self.values, dtype=float)
        if self.summary == "share":
            return float(v.mean())
        if self.summary == "max":
            return float(v.max())
        return float(np.median(v))


def _config(ds: xr.Dataset) -> dict:
    return _parse(ds.attrs.get("config", ""))


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> dict:
    cfg = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return cfg if isinstance(cfg, dict) else {}


def _get(cfg: dict, path: str):
    node = cfg
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return prm.GLOBAL[path].default
        node = node[part]
    return node


def _slug(key: str) -> str:
    return key.replace("-", "_")


def _month(ds: xr.Dataset, month: str) -> np.datetime64 | None:
    t = np.datetime64(f"{month}-01", "ns")
    return t if t in ds["time"].values else None


def roles(ds: xr.Dataset) -> dict[str, str]:
    """Actor keys of the war's roles and of the focus dyad, from the embedded configuration."""
    cfg = _config(ds)
    return {role: _get(cfg, path) for role, path in [
        ("attacker", "war.attacker"), ("defender", "war.defender"), ("licensor", "war.drone_licensor"),
        ("mediator", "shocks.trump_talks.mediator"), ("focus", "output.focus_dyad")]}


def available(ds: xr.Dataset) -> bool:
    """True if the Dataset has what the outcomes need: every replicate's trajectories (full
    results) or the outcomes stored by ``output.results=summary``. Summary-mode ensembles
    (``ensemble.mode=summary``) keep distributions only, so they have none."""
    return any(str(v).startswith("outcome:") for v in ds.data_vars) or (
        "replicate" in ds.get("strength", xr.DataArray()).dims and "dependence" in ds)


def compute(ds: xr.Dataset) -> dict[str, Outcome]:
    """Every scalar outcome the Dataset supports, by name (values per replicate). Raises
    ConfigError for results without per-replicate values (see :func:`available`)."""
    stored = [str(v) for v in ds.data_vars if str(v).startswith("outcome:")]
    if stored:
        return {v[8:]: Outcome(v[8:], ds[v].attrs.get("units", ""), ds[v].attrs.get("description", ""),
                               np.asarray(ds[v].values, dtype=float).reshape(-1), ds[v].attrs.get("summary", "median"))
                for v in stored}
    if not available(ds):
        from .errors import ConfigError

        raise ConfigError("outcomes: these results keep no per-replicate trajectories (ensemble.mode=summary); "
                          "run with ensemble.mode=full for scalar outcomes")
    r = roles(ds)
    keys = list(ds["actor_key"].values)
    name_of = dict(zip(keys, ds["actor"].values, strict=True))
    att, dfd, lic, med = (name_of[r[k]] for k in ("attacker", "defender", "licensor", "mediator"))
    dyad_of = dict(zip(ds["dyad_key"].values, ds["dyad"].values, strict=True))
    end = ds.isel(time=-1)
    out: dict[str, Outcome] = {}

    def add(name, unit, description, values, summary="median"):
        out[name] = Outcome(name, unit, description, np.asarray(values, dtype=float).reshape(-1), summary)

    focus = _slug(r["focus"])
    for c in ("military", "economic", "diplomatic", "composite"):
        add(f"{focus}_{c}", "strength −1…1", f"{dyad_of[r['focus']]} {c} strength at the horizon",
            end["strength"].sel(dyad=dyad_of[r["focus"]], channel=c))
    med_key = prm.dyad_key(r["mediator"], r["attacker"], keys)
    add(f"{_slug(med_key)}_hostility", "index 0–1", f"{dyad_of[med_key]} hostility (max(0, −composite)) at the horizon",
        np.maximum(0.0, -end["strength"].sel(dyad=dyad_of[med_key], channel="composite")))
    dep = end["dependence"]
    add(f"{r['licensor']}_dependence_on_{r['attacker']}", "share 0–1",
        f"{lic}'s dependence on {att} (all channels) at the horizon", dep.sel(actor=lic, partner=att, channel="composite"))
    add(f"{r['attacker']}_dependence_on_{r['licensor']}", "share 0–1",
        f"{att}'s dependence on {lic} (all channels) at the horizon", dep.sel(actor=att, partner=lic, channel="composite"))
    add(f"{r['licensor']}_economic_dependence_on_{r['attacker']}", "share 0–1",
        f"{lic}'s economic dependence on {att} at the horizon", dep.sel(actor=lic, partner=att, channel="economic"))
    aid = end["flow"].where((ds["route_receiver"] == dfd) & (ds["route_good"] == "arms"), 0).sum("route")
    add(f"arms_to_{r['defender']}", "share of full need", f"arms delivered to {dfd} in the last month", aid)
    add("territory", f"% of {dfd}", f"territory of {dfd} held by {att} at the horizon", end["territory"])
    if "balance" in ds:
        add("balance", "share 0–1", "structural balance (share of balanced triads) at the horizon", end["balance"])
    launched = ds["drones_launched"].sel(actor=att)
    add("drones_launched_last_12_months", "drones", f"drones launched by {att} in the last 12 months",
        launched.isel(time=slice(-12, None)).sum("time"))

    # figures of the numeric patterns (patterns.md), where the period covers them
    def year(da, y):
        return da.sel(time=slice(f"{y}-01-01", f"{y}-12-01")).sum("time")

    if _month(ds, "2023-01") is not None and _month(ds, "2024-12") is not None:
        produced = ds["drones_produced"].sel(actor=att)
        add("drones_launched_2024", "drones", f"drones launched by {att} in 2024 (P2)", year(launched, 2024))
        add("drones_launched_ratio_2024_2023", "ratio", "drones launched 2024 / 2023 (P2)",
            year(launched, 2024) / np.maximum(year(launched, 2023), 1.0))
        add("drones_produced_ratio_2024_2023", "ratio", f"drones built in {att} 2024 / 2023 (P3)",
            year(produced, 2024) / np.maximum(year(produced, 2023), 1.0))
        share = ds["drone_import_share"].sel(actor=att)
        add("drone_import_share_2023_01", "share 0–1", f"imported share of {att}'s new drones, Jan 2023 (P4)",
            share.sel(time=_month(ds, "2023-01")))
        add("drone_import_share_2024_12", "share 0–1", f"imported share of {att}'s new drones, Dec 2024 (P4)",
            share.sel(time=_month(ds, "2024-12")))
        if "north_korea" in keys:
            add("north_korea_troops_2024_12", "soldiers", f"North Korean soldiers with {att}'s forces, Dec 2024 (P5)",
                ds["troops_sent"].sel(actor=name_of["north_korea"], time=_month(ds, "2024-12")))
        add(f"{r['licensor']}_troops_max", "soldiers", f"most {lic} soldiers ever with {att}'s forces (P5)",
            ds["troops_sent"].sel(actor=lic).max("time"), summary="max")
        dep_t = ds["dependence"].sel(channel="composite", time=slice("2024-01-01", None))
        more = (dep_t.sel(actor=lic, partner=att) > dep_t.sel(actor=att, partner=lic)).all("time")
        add(f"{r['licensor']}_more_dependent", "share of replicates",
            f"{lic} depends more on {att} than the reverse in every month from 2024-01 (P7)", more, summary="share")
    if _month(ds, "2024-06") is not None:
        mil = ds["strength"].sel(dyad=dyad_of[r["focus"]], channel="military")
        add(f"{focus}_military_built_up", "share of replicates",
            f"{dyad_of[r['focus']]} military channel higher at 2024-06 than at the start (P1)",
            mil.sel(time=_month(ds, "2024-06")) > mil.isel(time=0), summary="share")
    return out


def values(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """``{name: array over replicates}`` of every outcome."""
    return {name: o.values for name, o in compute(ds).items()}


def summary(ds: xr.Dataset) -> dict[str, float]:
    """``{name: median (or share, or max) over replicates}``: one job's row in a sweep table."""
    return {name: o.summarise() for name, o in compute(ds).items()}


def describe(ds: xr.Dataset) -> list[tuple[str, str, str]]:
    """(name, unit, description) of every outcome the Dataset supports."""
    return [(o.name, o.unit, o.description) for o in compute(ds).values()]
