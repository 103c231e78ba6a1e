"""Calibration: how far one run is from the numeric targets of ``patterns.md``.

``geosim -m hparams_search=calibrate`` runs the Optuna sweeper over the parameters that
``conf/hparams_search/calibrate.yaml`` declares; every job runs the baseline and returns
:func:`loss` of its results, which Optuna minimises. At the end of the sweep
:func:`write_report` saves ``calibration.yaml`` in the sweep folder: the search space, the
sampler and its seed, the best parameters and the figures of the best trial.

The loss is a sum of squared normalised misses, one term per target (see :data:`TARGETS`):

- a band ``lo..hi`` (e.g. 11,000 ± 30%): ``((x - centre) / half-width)^2``, at most 1 inside
  the band, so the optimiser also prefers the centre;
- a bound (``>= b`` or ``<= b``): ``(distance beyond the bound / scale)^2``, 0 when met.

Only targets that a single run of one scenario can show are included (P1–P5, P7, all from
the baseline); the scenario comparisons P6 and P8–P10 are checked by ``geosim-validate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import xarray as xr
import yaml

from .. import outcomes as oc


@dataclass(frozen=True)
class Target:
    """One numeric target: a figure computed from the job's outcome summaries."""

    id: str
    figure: str  # name of the figure (an outcome, or a derived ratio)
    kind: str  # band | at_least | at_most
    low: float | None = None
    high: float | None = None
    scale: float = 1.0  # for bounds: the miss that costs 1
    text: str = ""

    def miss(self, x: float) -> float:
        if not math.isfinite(x):
            return 1e6
        if self.kind == "band":
            centre = 0.5 * (self.low + self.high)
            return ((x - centre) / (self.high - centre)) ** 2
        if self.kind == "at_least":
            return (max(0.0, self.low - x) / self.scale) ** 2
        return (max(0.0, x - self.high) / self.scale) ** 2

    def met(self, x: float) -> bool:
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        return math.isfinite(x) and lo <= x <= hi


def targets(ds: xr.Dataset) -> list[Target]:
    """The numeric targets, named after the actors of the run's configuration."""
    r = oc.roles(ds)
    focus, lic = r["focus"].replace("-", "_"), r["licensor"]
    return [
        Target("P1", f"{focus}_military_built_up", "at_least", low=0.9, scale=0.1,
               text="military channel higher at 2024-06 than at the start in >= 90% of replicates"),
        Target("P2", "drones_launched_2024", "band", 7_700.0, 14_300.0, text="drones launched in 2024: 11,000 ± 30%"),
        Target("P2", "drones_launched_ratio_2024_2023", "band", 3.0, 6.0, text="drones launched 2024/2023 in 3–6"),
        Target("P3", "drones_produced_ratio_2024_2023", "at_least", low=2.0, scale=0.2,
               text="domestic production 2024/2023 >= 2"),
        Target("P4", "import_share_dec24_over_jan23", "at_most", high=0.5, scale=0.05,
               text="imported share of drones Dec 2024 < half of Jan 2023"),
        Target("P5", "north_korea_troops_2024_12", "band", 7_700.0, 14_300.0,
               text="North Korean troops at 2024-12: 11,000 ± 30%"),
        Target("P5", f"{lic}_troops_max", "at_most", high=110.0, scale=11.0,
               text=f"{lic} troops below 110 in every replicate and month"),
        Target("P7", f"{lic}_more_dependent", "at_least", low=0.9, scale=0.1,
               text=f"{lic} more dependent than its partner every month from 2024-01 in >= 90% of replicates"),
    ]


def figures(ds: xr.Dataset) -> dict[str, float]:
    """Outcome summaries plus the derived figure of P4; NaN where the period is too short."""
    s = oc.summary(ds)
    jan, dec = s.get("drone_import_share_2023_01", math.nan), s.get("drone_import_share_2024_12", math.nan)
    s["import_share_dec24_over_jan23"] = dec / jan if jan > 0 else math.nan
    return s


def loss(ds: xr.Dataset) -> float | None:
    """Sum of the targets' squared normalised misses; None if the run does not cover 2023-01..2024-12
    or keeps no per-replicate values (a summary-mode ensemble)."""
    if not oc.available(ds):
        return None
    f = figures(ds)
    if "drones_launched_2024" not in f:
        return None
    return float(sum(t.miss(f.get(t.figure, math.nan)) for t in targets(ds)))


def report(ds: xr.Dataset) -> list[dict]:
    """One row per target: id, figure, value, target text, met, miss."""
    f = figures(ds)
    return [{"id": t.id, "figure": t.figure, "value": f.get(t.figure, math.nan), "target": t.text,
             "met": t.met(f.get(t.figure, math.nan)), "miss": t.miss(f.get(t.figure, math.nan))}
            for t in targets(ds)]


def _command(config) -> str | None:
    """The command line that reproduces the sweep (without its output folder)."""
    if config is None:
        return None
    hydra = [o for o in config.hydra.overrides.hydra
             if not o.startswith(("hydra.sweep.dir=", "hydra.run.dir=", "hydra.mode="))]
    return "geosim -m " + " ".join([*config.hydra.overrides.task, *hydra])


def write_report(sweep_dir: Path, config, table) -> Path | None:
    """``calibration.yaml`` for an Optuna sweep: search space, sampler, seed, best parameters and figures."""
    from omegaconf import OmegaConf

    from ..results import load

    sweep_dir = Path(sweep_dir)
    best_file = sweep_dir / "optimization_results.yaml"
    if not best_file.exists():
        return None
    best = yaml.safe_load(best_file.read_text()) or {}
    sweeper = OmegaConf.to_container(config.hydra.sweeper, resolve=True) if config is not None else {}
    doc = {
        "objective": "sim.analysis.calibrate.loss: sum of squared normalised misses of the targets (0 = all at centre)",
        "command": _command(config),
        "direction": sweeper.get("direction"),
        "n_trials": sweeper.get("n_trials"),
        "sampler": sweeper.get("sampler"),
        "search_space": sweeper.get("params"),
        "best_value": best.get("best_value"),
        "best_params": best.get("best_params"),
    }
    done = table[(table["status"] == "complete") & table["loss"].notna()] if "loss" in table else table.iloc[:0]
    if len(done):
        row = done.loc[done["loss"].idxmin()]
        doc["best_job"] = {"job": int(row["job"]), "dir": row["dir"]}
        ds = load(sweep_dir / row["dir"] / "results.nc")
        doc["best_figures"] = [{k: (float(v) if isinstance(v, float) else v) for k, v in r.items()} for r in report(ds)]
    path = sweep_dir / "calibration.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path
