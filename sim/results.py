"""The labelled results of a run: an xarray Dataset, written atomically as netCDF.

Dimensions: ``time`` (first day of each simulated month), ``replicate``, ``dyad``
(``Russia–Iran``), ``channel`` (military, economic, diplomatic, composite), ``actor`` and
``partner`` (display names), ``good``, ``route`` (``Iran→Russia: drones``) and ``anchor``.
Every variable carries ``units`` and ``description``; the resolved configuration and scenario
are embedded as YAML text.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from . import parameters as prm
from .alignment import alignment_rows
from .calendar import month_range
from .errors import ConfigError
from .model import TERMS, row_sum

CHANNELS4 = (*prm.CHANNELS, "composite")

# name: (dims after (time, replicate), units, description, declared range)
VARIABLES: dict[str, tuple[tuple[str, ...], str, str, tuple[float, float]]] = {
    "strength": (("dyad", "channel"), "strength −1…1",
                 "alliance strength at the end of the month; negative = hostility", (-1, 1)),
    "trust": (("dyad",), "index 0–1", "trust built by delivered goods", (0, 1)),
    "dependence": (("actor", "partner", "channel"), "share 0–1",
                   "share of the actor's needs on a channel that the partner meets", (0, 1)),
    "demand": (("actor", "partner"), "index 0–1",
               "the actor's demand for partnership with the partner: threat x what the partner could supply", (0, 1)),
    "threat": (("actor",), "index 0–1", "perceived threat: insecurity + hostility of capable states", (0, 1)),
    "needs": (("actor", "good"), "share 0–1", "need for each good from abroad", (0, 1)),
    "insecurity": (("actor",), "index 0–1", "insecurity apart from hostile states (shocks change it)", (0, 1)),
    "sanctions": (("actor",), "index 0–1", "exposure to sanctions", (0, 1)),
    "flow": (("route",), "share of the receiver's full need",
             "what flowed along a supply route during the month", (0, 1)),
    "drones_demanded": (("actor",), "drones/month", "drones the state wants to launch", (0, np.inf)),
    "drones_produced": (("actor",), "drones/month", "drones built at home", (0, np.inf)),
    "drones_imported": (("actor",), "drones/month", "drones received from abroad", (0, np.inf)),
    "drones_launched": (("actor",), "drones/month", "drones launched at the enemy", (0, np.inf)),
    "drone_stock": (("actor",), "drones", "drones held in stock at the end of the month", (0, np.inf)),
    "drone_import_share": (("actor",), "share 0–1", "share of the month's new drones that were imported", (0, 1)),
    "troops_sent": (("actor",), "soldiers", "the state's soldiers serving with a partner's forces", (0, np.inf)),
    "war_intensity": ((), "index 0–1", "intensity of the war of attrition", (0, 1)),
    "territory": ((), "% of the defender's territory", "territory held by the attacker", (0, 100)),
    "payoff": (("route", "term"), "logit units",
               "the supplier's payoff from supplying the good on the route, term by term (costs negative; the "
               "terms add up to the payoff on which it makes its noisy logit choice)", (-1000, 1000)),
    "anchor_status": (("anchor",), "index 0–1", "1 while a shared project (Syria) stands, 0 when lost", (0, 1)),
    "bloc": (("actor",), "bloc 0/1", "predicted bloc (landscape theory: capability shares as sizes, composite "
             "strengths as propensities; global minimum): 0 = the first actor's bloc, 1 = the other", (0, 1)),
    "balance": ((), "share 0–1", "structural balance: share of triads of states whose composite relations "
                "multiply to a positive sign", (0, 1)),
}


def shapes(model) -> dict[str, tuple[int, ...]]:
    """Shape of each variable for one month and one replicate."""
    size = {"dyad": model.D, "channel": 4, "actor": model.A, "partner": model.A, "good": len(prm.GOODS),
            "route": model.n_routes, "anchor": len(model.anchors), "term": len(TERMS)}
    return {name: tuple(size[d] for d in dims) for name, (dims, *_rest) in VARIABLES.items()}


def written(model) -> dict[str, np.ndarray]:
    """Per variable, a boolean mask over its elements (shape of :func:`shapes`): the ones the
    :class:`Recorder` writes every month. The others are zero in every month (dependence on a
    partner that supplies nothing on that channel, needs for goods never needed, demand of a
    state for itself, the drones of states that launch none, ...) and are never written."""
    sizes = shapes(model)
    masks = {name: np.ones(shape, dtype=bool) for name, shape in sizes.items()}
    A, C1 = model.A, len(CHANNELS4)
    masks["dependence"] = np.zeros((A, A, C1), dtype=bool)
    masks["dependence"].reshape(-1)[np.concatenate([model.dependence_link, model.dependence_pair])] = True
    masks["needs"] = np.asarray(model.may_need, dtype=bool).copy()
    masks["demand"] = ~np.eye(A, dtype=bool)
    attacker_only = np.arange(A) == model.attacker
    for name in ("drones_demanded", "drones_produced", "drones_imported", "drones_launched", "drone_stock",
                 "drone_import_share"):
        masks[name] = attacker_only.copy()
    masks["troops_sent"] = np.isin(np.arange(A), model.route_sup[model.route_troops])
    payoff = masks["payoff"]  # terms that cannot apply to a route stay 0
    payoff[:, TERMS.index("project")] = model.route_project
    payoff[:, TERMS.index("overextension")] = model.route_overextends
    payoff[:, TERMS.index("troops")] = model.route_troops
    return masks


def storage(model, months: int, replicates: int | None = None) -> dict[str, np.ndarray]:
    """Float32 arrays for every variable, laid out (time, ..., replicate): replicates last, as
    the model holds them (:func:`replicates_first` gives the labelled order), filled with zeros."""
    n = model.R if replicates is None else replicates
    return {name: np.zeros((months, *shape, n), np.float32) for name, shape in shapes(model).items()}


def replicates_first(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Views of (time, ..., replicate) arrays in the labelled order (time, replicate, ...)."""
    return {name: np.moveaxis(array, -1, 1) for name, array in data.items()}


class Recorder:
    """Copies the model's state into arrays of shape (months, ..., R), one month at a time.

    ``out`` may give the arrays to write into (e.g. this chunk's columns of the ensemble's
    arrays, see :func:`storage`); by default they are allocated here. ``data`` gives them with
    replicates first, as the Dataset labels them.
    """

    def __init__(self, model, months: int, out: dict[str, np.ndarray] | None = None):
        self.model = model
        self.out = storage(model, months) if out is None else out
        self.troop_routes = [(sup, np.flatnonzero(model.route_troops & (model.route_sup == sup)))
                             for sup in range(model.A)]
        self.troop_routes = [(sup, routes) for sup, routes in self.troop_routes if len(routes)]
        # elements that can be non-zero; the others are never written (they start at zero)
        self.sparse = {name: np.nonzero(mask) for name, mask in written(model).items()
                       if name in ("dependence", "needs", "demand", "payoff")}

    @property
    def data(self) -> dict[str, np.ndarray]:
        """The recorded arrays, shape (months, R, ...)."""
        return replicates_first(self.out)

    def current(self, name: str) -> np.ndarray:
        """The model's value of one variable this month, shape (..., R) (replicates last)."""
        m = self.model
        if name == "strength":
            return np.concatenate([m._strength, m._composite()[:, None, :]], axis=1)
        direct = {"trust": m._trust, "dependence": m._dependence, "demand": m._demand, "threat": m._threat,
                  "needs": m._needs, "insecurity": m._insecurity, "sanctions": m._sanctions, "flow": m._flows,
                  "war_intensity": m.war_intensity, "territory": m.territory}
        if name in direct:
            return direct[name]
        if name == "payoff":
            return m.payoff()
        if name in ("bloc", "balance"):
            bloc, balance = alignment_rows(m._composite(), m._cinc, m.dyad_pairs)
            return bloc if name == "bloc" else balance
        out = np.zeros((*shapes(m)[name], m.R), m.dtype)
        self._fill(name, out)
        return out

    def _fill(self, name: str, out: np.ndarray) -> None:
        """Write a variable that the model does not hold as one array into ``out`` (..., R)."""
        m = self.model
        a = m.attacker
        if name == "drone_import_share":
            new = m.drones_produced + m.drones_imported
            out[a] = np.where(new > 0, m.drones_imported / np.maximum(new, 1e-12), 0.0)
        elif name == "troops_sent":
            for sup, routes in self.troop_routes:
                out[sup] = row_sum(m._troops_present[routes])
        elif name == "anchor_status":
            for k, anchor in enumerate(m.anchors):
                out[k] = m.par[f"anchors.{anchor}.status"]
        else:  # the attacker's drones
            out[a] = getattr(m, name)

    def record(self, t: int) -> None:
        m, out = self.model, self.out
        out["strength"][t, :, :-1] = m._strength
        composite = m._composite()
        out["strength"][t, :, -1] = composite
        for name in ("trust", "threat", "insecurity", "sanctions", "flow", "war_intensity", "territory"):
            out[name][t] = self.current(name)
        for name, index in self.sparse.items():
            if name == "payoff":
                m.payoff(out=out[name][t])  # writes only the terms that can be non-zero
            else:
                out[name][t][index] = self.current(name)[index]
        for name in ("drones_demanded", "drones_produced", "drones_imported", "drones_launched", "drone_stock",
                     "drone_import_share", "troops_sent", "anchor_status"):
            self._fill(name, out[name][t])
        bloc, balance = alignment_rows(composite, m._cinc, m.dyad_pairs)
        out["bloc"][t] = bloc
        out["balance"][t] = balance

    def dataset(self, settings, attrs: dict) -> xr.Dataset:
        return dataset(self.data, settings, self.model.routes, self.model.anchors, attrs)


def coordinates(settings, routes, anchors, replicates) -> dict:
    """The labels of a results Dataset: dates, replicate numbers, dyads, channels, actors, routes."""
    names = [settings.names[a] for a in settings.actors]
    return {
        "time": month_range(settings.start, settings.end),
        "replicate": np.asarray(replicates),
        "dyad": [settings.dyad_label(a, b) for a, b in settings.dyads],
        "dyad_key": ("dyad", [settings.dyad_key(a, b) for a, b in settings.dyads]),
        "channel": list(CHANNELS4),
        "actor": names,
        "actor_key": ("actor", list(settings.actors)),
        "partner": names,
        "good": list(prm.GOODS),
        "route": [f"{names[s]}→{names[r]}: {prm.GOODS[g]}" for s, r, g in routes],
        "route_supplier": ("route", [names[s] for s, _, _ in routes]),
        "route_receiver": ("route", [names[r] for _, r, _ in routes]),
        "route_good": ("route", [prm.GOODS[g] for _, _, g in routes]),
        "anchor": list(anchors),
        "term": list(TERMS),
    }


def _norm(text: str) -> str:
    """``Russia–North Korea``, ``russia-north_korea`` and ``Russia - North Korea`` alike."""
    t = str(text).strip().lower().replace("–", "-").replace("—", "-")
    t = "-".join(part.strip() for part in t.split("-"))
    return t.replace(" ", "_")


class DyadIndex(PandasIndex):
    """The index of the ``dyad`` coordinate of results: its values are the labels
    (``Russia–Iran``, with an en dash, as plots print them); ``sel`` also takes the dyad's key
    (``russia-iran``), a plain hyphen, any case and either order (``"Iran-Russia"``)."""

    def __init__(self, array, dim, coord_dtype=None, *, fastpath: bool = False, aliases: dict | None = None):
        super().__init__(array, dim, coord_dtype, fastpath=fastpath)
        self.aliases = dict(aliases or {})

    @classmethod
    def from_variables(cls, variables, *, options):
        obj = super().from_variables(variables, options={})
        obj.aliases = dict(options.get("aliases") or {})
        return obj

    def _replace(self, index, dim=None, coord_dtype=None):
        out = super()._replace(index, dim, coord_dtype)
        out.aliases = self.aliases
        return out

    def _lookup(self) -> dict[str, str]:
        table = {}
        for key, label in [*self.aliases.items(), *((str(v), str(v)) for v in self.index)]:
            n = _norm(key)
            table.setdefault(n, label)
            a, sep, b = n.partition("-")
            if sep and "-" not in b:
                table.setdefault(f"{b}-{a}", label)
        return table

    def _resolve(self, label):
        if isinstance(label, str):
            return label if label in self.index else self._lookup().get(_norm(label), label)
        if isinstance(label, (list, tuple, np.ndarray)) and all(isinstance(v, str) for v in label):
            return [self._resolve(v) for v in label]
        return label

    def sel(self, labels, method=None, tolerance=None):
        return super().sel({k: self._resolve(v) for k, v in labels.items()}, method=method, tolerance=tolerance)


def label_dyads(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with a :class:`DyadIndex` on ``dyad`` (keys from the ``dyad_key`` coordinate)."""
    if "dyad" not in ds.xindexes or isinstance(ds.xindexes["dyad"], DyadIndex):
        return ds
    aliases = dict(zip(map(str, ds["dyad_key"].values), map(str, ds["dyad"].values), strict=True)) \
        if "dyad_key" in ds.coords else {}
    return ds.drop_indexes("dyad").set_xindex("dyad", DyadIndex, aliases=aliases)


def attributes(name: str) -> dict:
    dims, units, description, (lo, hi) = VARIABLES[name]
    return {"units": units, "description": description,
            "valid_min": float(lo), "valid_max": float(hi) if np.isfinite(hi) else 3.0e38}


def dataset(data: dict[str, np.ndarray], settings, routes, anchors, attrs: dict, replicates=None) -> xr.Dataset:
    """The results Dataset of full trajectories ``data[name]`` of shape (time, replicate, ...)
    (views such as :func:`replicates_first` gives are kept as they are, not copied)."""
    n = next(iter(data.values())).shape[1]
    coords = coordinates(settings, routes, anchors, np.arange(n) if replicates is None else replicates)
    data_vars = {name: (("time", "replicate", *VARIABLES[name][0]), data[name], attributes(name)) for name in VARIABLES}
    ds = label_dyads(xr.Dataset(data_vars, coords=coords, attrs=attrs))
    ds["time"].attrs["description"] = "first day of the simulated month"
    return ds


QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles over the replicates that reduced results (``output.results=summary``) keep."""


def per_replicate(ds: xr.Dataset, name: str) -> bool:
    """True if ``ds[name]`` holds every replicate's values (full results)."""
    return name in ds and "replicate" in ds[name].dims


def median(da: xr.DataArray) -> xr.DataArray:
    """The median over replicates of full results, or the stored median of summarised ones."""
    if "replicate" in da.dims:
        return da.median("replicate")
    return da.sel(quantile=0.5, method="nearest").drop_vars("quantile")


DETAIL = ("payoff",)
"""Trajectory variables that ``output.results=auto`` keeps as quantiles in a single run's file
(the payoff terms: more numbers than all other variables together); ``full`` keeps them per
replicate, and the Dataset that :func:`sim.run` returns always has them."""


def reduce(ds: xr.Dataset, variables=None) -> xr.Dataset:
    """What ``output.results=summary`` keeps of full results: every replicate's scalar outcomes
    (``outcome:<name>``, see :mod:`sim.outcomes`) and inputs (``param:*``, ``event_*``),
    and per month the :data:`QUANTILES` over replicates of every trajectory variable (same
    names, a ``quantile`` dimension instead of ``replicate``). Enough for a sweep's table and
    comparison plots, the fan chart and :func:`sim.tidy`; a fraction of the size.

    With ``variables`` only those trajectories become quantiles; everything else, replicates
    included, stays as it is (what ``output.results=auto`` keeps of a single run: :data:`DETAIL`)."""
    from . import outcomes as oc

    trajectories = [name for name in ds.data_vars if "replicate" in ds[name].dims and "time" in ds[name].dims
                    and (variables is None or name in variables)]
    new = {}
    for name in trajectories:
        da = ds[name]
        q = np.quantile(np.asarray(da.transpose("time", "replicate", ...).values, dtype=np.float64), QUANTILES, axis=1)
        dims = ("time", "quantile", *[d for d in da.dims if d not in ("time", "replicate")])
        new[name] = (dims, np.moveaxis(q, 0, 1).astype(da.dtype),
                     {**da.attrs, "description": f"{da.attrs.get('description', name)}: quantiles over the replicates"})
    if variables is not None:
        if not new:
            return ds
        out = ds.drop_vars(trajectories).assign_coords(quantile=list(QUANTILES)).assign(new)
        out.attrs = {**ds.attrs, "results_kept": "every trajectory per replicate except " + ", ".join(trajectories)
                     + " (per-month quantiles over the replicates; output.results=full keeps them per replicate)"}
        return out
    for o in oc.compute(ds).values():
        new[f"outcome:{o.name}"] = ("replicate", np.asarray(o.values, dtype=np.float64),
                                    {"units": o.unit, "description": o.description, "summary": o.summary})
    out = ds.drop_vars(trajectories).assign_coords(quantile=list(QUANTILES)).assign(new)
    out.attrs = {**ds.attrs, "results_kept": "summary: per-replicate outcomes and inputs, per-month quantiles "
                                             "of every trajectory variable (output.results=summary)"}
    return out


TIDY_ROWS = 20_000_000
"""Largest table :func:`tidy` builds (about a gigabyte); select more to get a larger one in parts."""


def tidy(ds: xr.Dataset, variables, **sel) -> pd.DataFrame:
    """A long ("tidy") table of chosen variables: one row per combination of their coordinates.

    ``variables`` is a name or a list of names of ``ds`` (``"strength"``, ``"outcome:territory"``,
    ``"param:dynamics.rate.military"``); ``sel`` picks labels along any dimension, one label or a
    list (``dyad="russia-iran"``, ``channel=["military", "economic"]``, ``time=slice("2024-01",
    "2024-12")``, ``replicate=range(10)``); dimensions not selected are kept whole. Columns: one
    per remaining dimension (and its label coordinates such as ``dyad_key``), ``variable``,
    ``value``, ``units``. A scalar selection keeps its column, so tables of several variables
    line up. Raises ConfigError for an unknown variable or dimension, or a table of more than
    :data:`TIDY_ROWS` rows (``ds.to_dataframe()`` of a whole run would need hundreds of GB).

    >>> sim.tidy(ds, ["strength"], dyad="russia-iran", channel="military").head()
    """
    names = [variables] if isinstance(variables, str) else list(variables)
    unknown = [n for n in names if n not in ds.data_vars]
    if unknown:
        raise ConfigError(f"tidy: no variable {unknown[0]!r} in these results; allowed: {', '.join(map(str, ds.data_vars))}")
    bad = [k for k in sel if k not in ds.dims]
    if bad:
        raise ConfigError(f"tidy: {bad[0]!r} is not a dimension of these results; allowed: {', '.join(map(str, ds.dims))}")
    frames = []
    for name in names:
        da = ds[name]
        where = {k: ([v] if isinstance(v, (str, int, float, np.datetime64)) else v) for k, v in sel.items() if k in da.dims}
        if isinstance(where.get("replicate"), range):
            where["replicate"] = list(where["replicate"])
        try:
            da = da.sel(where)
        except KeyError as exc:
            raise ConfigError(f"tidy: {name}: a selected label is not in the results ({exc}); "
                              + "; ".join(f"{k}: {', '.join(map(str, ds[k].values[:12]))}" for k in where
                                          if k in ds.coords and k != "time")) from None
        rows = int(np.prod([da.sizes[d] for d in da.dims]))
        if rows > TIDY_ROWS:
            raise ConfigError(f"tidy: {name} would give {rows:,} rows (limit {TIDY_ROWS:,}); select along "
                              f"{', '.join(d for d in da.dims if d not in sel)}, e.g. dyad=..., channel=..., "
                              "replicate=range(100)")
        frame = da.rename("value").to_dataframe().reset_index()
        frame.insert(len(da.dims), "variable", name)
        frame["units"] = da.attrs.get("units", "")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def provenance() -> dict:
    """Engine version and, when run from a git checkout, the commit."""
    from . import __version__

    out = {"engine": "geosim", "engine_version": __version__}
    root = Path(__file__).resolve().parents[1]
    if (root / ".git").exists() and (root / "sim" / "parameters.py").is_file():  # this project's checkout
        try:
            git = ["git", "-C", str(root)]
            commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
            dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                   text=True, timeout=10)
            if commit.returncode == 0:
                out["git_commit"] = commit.stdout.strip()
                out["git_dirty"] = int(bool(dirty.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    return out


KEEP_BITS = 12
"""Mantissa bits that results files keep of unbounded float32 variables over time (drones,
soldiers, territory): BitRound bounds the relative error by 2^-13 ≈ 1.2e-4, about four
significant digits (one drone in 8,000)."""
STEP = 1e-4
"""Resolution at which results files keep bounded float32 variables over time (strengths,
shares and indices with a declared range within ±3): stored as 16-bit integers times
``STEP`` (CF ``scale_factor``), so the absolute error is at most ``STEP / 2`` = 0.00005."""
COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}
"""HDF5 filters of every variable in results files: deflate level 4 after the byte shuffle."""


def bitround(values: np.ndarray, keep_bits: int) -> np.ndarray:
    """A float32 copy of ``values`` with all but ``keep_bits`` mantissa bits set to zero, rounded
    to nearest (ties to even), as netCDF-C's ``BitRound`` quantisation does. Zeros, ±1 and other
    values with short mantissas stay exact; the zeroed bits compress to almost nothing."""
    a = np.ascontiguousarray(values, dtype=np.float32)
    if keep_bits >= 23:
        return a.copy()
    drop = 23 - int(keep_bits)
    bits = a.view(np.uint32)
    half = np.uint32((1 << (drop - 1)) - 1)
    rounded = bits + half + ((bits >> np.uint32(drop)) & np.uint32(1))
    rounded &= np.uint32(~((1 << drop) - 1) & 0xFFFFFFFF)
    out = rounded.view(np.float32)
    special = ~np.isfinite(a)
    if special.any():
        out[special] = a[special]
    return out


def _packable(da: xr.DataArray) -> bool:
    lo, hi = da.attrs.get("valid_min"), da.attrs.get("valid_max")
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)) or max(abs(lo), abs(hi)) / STEP > 32000:
        return False
    values = da.values
    return bool(np.all((values >= lo - STEP) & (values <= hi + STEP)))  # NaN or out of range: keep floats


def prepare(ds: xr.Dataset, lossless: bool = False) -> tuple[xr.Dataset, dict[str, dict]]:
    """The Dataset as a results file stores it, and the encoding for ``to_netcdf``.

    Every variable is compressed (:data:`COMPRESSION`). Unless ``lossless``, float32 variables
    over time are stored at a documented precision, written into their attributes
    (``precision``; CF ``quantization_nsb`` or ``scale_factor``): those with a declared range
    within ±3 (``valid_min``/``valid_max``) as 16-bit integers of :data:`STEP`, the others
    rounded to :data:`KEEP_BITS` mantissa bits. Any variable of that kind is treated so,
    whatever its name.
    """
    out = ds.copy(deep=False)
    enc: dict[str, dict] = {}
    for name, da in ds.data_vars.items():
        if lossless or da.dtype != np.float32 or "time" not in da.dims:
            continue
        if _packable(da):
            out[name].attrs = {**da.attrs, "precision": f"absolute error at most {STEP / 2:g} (stored as 16-bit "
                                                        f"integers times scale_factor {STEP:g})"}
            enc[name] = {"dtype": "int16", "scale_factor": np.float32(STEP), "add_offset": np.float32(0.0),
                         "_FillValue": np.int16(-32768)}
        else:
            out[name] = (da.dims, bitround(da.values, KEEP_BITS), {
                **da.attrs, "quantization": "BitRound (round to nearest, keep the leading mantissa bits)",
                "quantization_nsb": np.int32(KEEP_BITS),
                "precision": f"relative error at most 2^-{KEEP_BITS + 1} ({2.0 ** -(KEEP_BITS + 1):.1e})"})
    out.attrs = {**ds.attrs,
                 "file_format": "netCDF4 (HDF5), deflate + shuffle; " + (
                     "float variables at full precision" if lossless else
                     "float32 variables over time at the precision given in each variable's 'precision' attribute")}
    for name, da in out.variables.items():
        if da.dtype.kind in "OUS" or da.ndim == 0:
            continue
        itemsize = 2 if enc.get(name, {}).get("dtype") == "int16" else da.dtype.itemsize
        enc.setdefault(name, {}).update(COMPRESSION, chunksizes=_chunks(da.shape, itemsize))
    return out, enc


def _chunks(shape: tuple[int, ...], itemsize: int, target: int = 2**20) -> tuple[int, ...]:
    """Chunks of at most ~1 MB: the two leading axes (time, replicate) are halved as needed."""
    chunks = list(shape)
    while int(np.prod(chunks)) * itemsize > target:
        lead = [c if i < 2 else 0 for i, c in enumerate(chunks)]
        axis = int(np.argmax(lead)) if max(lead) > 1 else int(np.argmax(chunks))
        if chunks[axis] <= 1:
            break
        chunks[axis] = (chunks[axis] + 1) // 2
    return tuple(max(1, c) for c in chunks)


def save(ds: xr.Dataset, path: str | os.PathLike, lossless: bool = False) -> Path:
    """Write a results file (netCDF4/HDF5 through h5netcdf, compressed, at the precision that
    :func:`prepare` documents; ``lossless`` keeps every bit) to a temporary name and rename it
    into place when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        stored, enc = prepare(ds, lossless)
        stored.to_netcdf(tmp, engine="h5netcdf", encoding=enc)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; results are for sharing
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load(path: str | os.PathLike, lazy: bool = False) -> xr.Dataset:
    """Open a results file written by geosim (full, ``output.results=summary`` or summary mode;
    netCDF4, or the netCDF3 of earlier versions). Raises ConfigError for a missing or bad file.

    By default everything is read into memory. ``lazy=True`` reads only the metadata now and
    each variable's values when they are used, chunk by chunk (for files larger than memory:
    ``sim.tidy(sim.load(path, lazy=True), ["strength"], dyad=..., replicate=range(100))`` reads
    only what it selects); the file stays open until the Dataset is closed.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: results file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file (expected a results.nc written by geosim)")
    with open(path, "rb") as f:
        magic = f.read(8)
    engine = "h5netcdf" if magic.startswith(b"\x89HDF") else "scipy"  # netCDF4/HDF5, or netCDF3 of older runs
    try:
        ds = (xr.open_dataset if lazy else xr.load_dataset)(path, engine=engine)
    except Exception as exc:  # scipy raises TypeError/ValueError/OSError for bad files
        raise ConfigError(f"{path}: not a readable netCDF results file ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'})") from None
    # full results, reduced ones (output.results=summary) and summary-mode ensembles all hold strength
    missing = [] if ("strength" in ds or "strength_sample" in ds) else ["strength"]
    if missing or "config" not in ds.attrs:
        raise ConfigError(f"{path}: a netCDF file, but not geosim results (missing {', '.join(missing) or 'config'})")
    return label_dyads(ds)
