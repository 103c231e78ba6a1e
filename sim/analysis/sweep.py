"""Aggregating a Hydra sweep: one tidy table and comparison plots, built from the files on disk.

Every job of ``geosim -m ...`` writes its own folder (``<sweep dir>/<job number>/``) with
``.hydra/overrides.yaml`` (written when the job starts) and ``results.nc`` (written last, so
its presence marks a finished job). :func:`aggregate` reads those folders and writes into the
sweep folder:

- ``sweep_results.parquet`` and ``sweep_results.csv``: one row per job with its number, status
  (``complete``, ``incomplete`` = folder without results, ``not started``, ``no results kept``
  = finished with ``output.results=none``), folder, its
  overrides (one column per overridden key) and its scalar outcomes (medians over replicates,
  see :mod:`sim.outcomes`) and the calibration ``loss``; ``sweep_results_columns.csv``
  says what each of those columns means, with its unit;
- ``comparison_outcomes.png`` (outcomes by job and group), ``comparison_trajectories.png``
  (the focus dyad's composite strength over time) and, for a grid of two numeric parameters,
  ``comparison_grid.png``.

The jobs a sweep should have are read from ``multirun.yaml`` (the basic sweeper's parameter
lists are expanded exactly as Hydra does; an Optuna sweep expects ``n_trials`` jobs), so a
partial sweep lists what is missing. :class:`AggregateCallback` runs the aggregation when a
sweep ends; Hydra does not call it when a job fails, hence the command
``geosim-aggregate <sweep dir>``, which does the same from whatever finished.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from ..errors import ConfigError

log = logging.getLogger("geosim.sweep")

TABLE = "sweep_results"
RESULTS = "results.nc"
PLOTTED = ("composite", "military", "dependence_on", "hostility", "arms_to_", "territory", "balance")
LOSS = ("calibration loss: sum of squared normalised misses of the patterns.md targets "
        "(0 = every target at its centre; see sim.analysis.calibrate)")


@dataclass
class Job:
    num: int | None
    overrides: list[str]
    dir: Path | None = None
    status: str = "not started"  # complete | incomplete | not started | unreadable
    note: str = ""

    def label(self) -> str:
        return " ".join(self.overrides) or "(no overrides)"


@dataclass
class Aggregate:
    sweep_dir: Path
    table: pd.DataFrame
    jobs: list[Job]
    expected: int | None
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def missing(self) -> list[Job]:
        return [j for j in self.jobs if j.status not in ("complete", "no results kept")]


# --------------------------------------------------------------------------------------------
# What the sweep should contain, and what is there
# --------------------------------------------------------------------------------------------

def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read ({type(exc).__name__}); expected a file written by Hydra") from None


def expected_jobs(sweep_dir: Path) -> tuple[str, list[list[str]] | int | None]:
    """(sweeper kind, the expected override lists in job order | the number of trials | None)."""
    path = sweep_dir / "multirun.yaml"
    if not path.exists():
        return "unknown", None
    cfg = _read_yaml(path) or {}
    hydra = cfg.get("hydra", {}) if isinstance(cfg, dict) else {}
    sweeper = hydra.get("sweeper", {}) or {}
    target = str(sweeper.get("_target_", ""))
    task = list((hydra.get("overrides", {}) or {}).get("task", []) or [])
    if "optuna" in target.lower():
        return "optuna", int(sweeper.get("n_trials") or 0) or None
    if target and not target.endswith("BasicSweeper"):
        return target.rsplit(".", 1)[-1], None
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
    try:
        parsed = OverridesParser.create().parse_overrides([*params, *task])
        batches = BasicSweeper.split_arguments(parsed, None)
    except Exception as exc:  # a sweep syntax that needs the config loader (glob) and the like
        log.warning("cannot expand the sweep's overrides (%s); listing the folders found only", exc)
        return "basic", None
    return "basic", [list(job) for batch in batches for job in batch]


def found_jobs(sweep_dir: Path) -> list[Job]:
    """Every job folder under the sweep folder (one with ``.hydra/overrides.yaml``)."""
    jobs = []
    for marker in sorted(sweep_dir.rglob(".hydra/overrides.yaml")):
        job_dir = marker.parent.parent
        if job_dir == sweep_dir or ".submitit" in job_dir.parts:
            continue
        overrides = [str(o) for o in (_read_yaml(marker) or [])]
        num = None
        hydra_yaml = job_dir / ".hydra" / "hydra.yaml"
        if hydra_yaml.exists():
            try:
                num = int(((_read_yaml(hydra_yaml) or {}).get("hydra", {}).get("job", {}) or {}).get("num"))
            except (TypeError, ValueError, ConfigError):
                num = None
        status = "complete" if (job_dir / RESULTS).is_file() else "incomplete"
        note = ""
        if status == "incomplete" and (job_dir / "summary.csv").is_file() and _kept(job_dir) == "none":
            status, note = "no results kept", "output.results=none: the job finished and kept no results.nc"
        jobs.append(Job(num, overrides, job_dir, status, note))
    return jobs


def _kept(job_dir: Path) -> str | None:
    """The job's output.results, from the configuration Hydra saved for it."""
    try:
        cfg = _read_yaml(job_dir / ".hydra" / "config.yaml") or {}
    except ConfigError:
        return None
    return ((cfg.get("output") or {}) if isinstance(cfg, dict) else {}).get("results")


def match_jobs(sweep_dir: Path) -> tuple[str, list[Job], int | None]:
    """The sweep's jobs in order, each found or not, plus any unexpected folders at the end."""
    kind, expected = expected_jobs(sweep_dir)
    found = found_jobs(sweep_dir)
    if kind == "basic" and isinstance(expected, list):
        by_overrides: dict[tuple, Job] = {}
        for job in found:
            by_overrides.setdefault(tuple(job.overrides), job)
        jobs = []
        for num, overrides in enumerate(expected):
            job = by_overrides.pop(tuple(overrides), None)
            jobs.append(job if job is not None else Job(num, overrides))
            jobs[-1].num = num
        extra = [j for j in found if any(j is e for e in by_overrides.values())]
        return kind, jobs + extra, len(expected)
    if isinstance(expected, int):
        by_num = {j.num: j for j in found if j.num is not None}
        jobs = [by_num.pop(n, Job(n, [])) for n in range(expected)]
        extra = [j for j in found if j.num is None or j.num in by_num]
        return kind, jobs + extra, expected
    return kind, sorted(found, key=lambda j: (j.num is None, j.num or 0, str(j.dir))), None


# --------------------------------------------------------------------------------------------
# The table and the plots
# --------------------------------------------------------------------------------------------

def _value(text: str):
    try:
        v = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return v if isinstance(v, (int, float, str, bool)) and not isinstance(v, bool) else text


def _override_columns(jobs: list[Job]) -> dict[str, list]:
    keys: list[str] = []
    rows = []
    for job in jobs:
        row = {}
        for o in job.overrides:
            key, _, value = o.partition("=")
            key = key.lstrip("+~")
            row[key] = _value(value)
            if key not in keys:
                keys.append(key)
        rows.append(row)
    cols = {}
    for key in keys:
        values = [r.get(key) for r in rows]
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, (int, float)) for v in present):
            cols[key] = [math.nan if v is None else v for v in values]
        else:
            cols[key] = [None if v is None else str(v) for v in values]
    return cols


def _write_atomic(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.name}.part")
    write(tmp)
    os.replace(tmp, path)
    return path


def aggregate(sweep_dir: str | Path, plots: bool = True) -> Aggregate:
    """Build the sweep table (and plots) from the job folders. Raises ConfigError for a bad folder."""
    from .. import outcomes
    from ..results import load, median
    from . import calibrate

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.exists():
        raise ConfigError(f"{sweep_dir}: sweep folder not found")
    if not sweep_dir.is_dir():
        raise ConfigError(f"{sweep_dir}: not a folder; expected the sweep folder of geosim -m (hydra.sweep.dir)")
    kind, jobs, n_expected = match_jobs(sweep_dir)
    if not jobs:
        raise ConfigError(f"{sweep_dir}: not a Hydra sweep folder (no multirun.yaml and no job folders with "
                          ".hydra/overrides.yaml)")

    rows, curves, described = [], {}, {}
    for job in jobs:
        row: dict = {}
        if job.status == "complete":
            try:
                ds = load(job.dir / RESULTS)
                if outcomes.available(ds):  # a summary-mode ensemble keeps distributions only
                    row.update(outcomes.summary(ds))
                    row["loss"] = calibrate.loss(ds)
                    if not described:
                        described.update({n: f"{d} ({u})" for n, u, d in outcomes.describe(ds)})
                focus = outcomes.roles(ds)["focus"]
                dyad = ds["dyad"].values[list(ds["dyad_key"].values).index(focus)]
                curves[id(job)] = (dyad, median(ds["strength"].sel(dyad=dyad, channel="composite")))
            except (ConfigError, KeyError, ValueError) as exc:
                job.status, job.note = "unreadable", str(exc)
        rows.append(row)
    over = _override_columns(jobs)
    base = pd.DataFrame({
        "job": [j.num for j in jobs],
        "status": [j.status for j in jobs],
        "dir": [os.path.relpath(j.dir, sweep_dir) if j.dir is not None else None for j in jobs],
    })
    table = pd.concat([base, pd.DataFrame(over), pd.DataFrame(rows)], axis=1)
    table["job"] = table["job"].astype("Int64")
    result = Aggregate(sweep_dir, table, jobs, n_expected)

    result.paths["csv"] = _write_atomic(sweep_dir / f"{TABLE}.csv",
                                        lambda p: table.to_csv(p, index=False))
    if described:  # what the outcome columns mean, with their units
        legend = pd.DataFrame([{"column": c, "meaning": described.get(c, LOSS if c == "loss" else "")}
                               for c in table.columns if c in described or c == "loss"])
        result.paths["columns"] = _write_atomic(sweep_dir / f"{TABLE}_columns.csv",
                                                lambda p: legend.to_csv(p, index=False))
    try:
        import pyarrow  # noqa: F401

        result.paths["parquet"] = _write_atomic(sweep_dir / f"{TABLE}.parquet", lambda p: table.to_parquet(p, index=False))
    except ImportError:
        log.warning("pyarrow is not installed: wrote %s.csv only (pip install geosim[analysis])", TABLE)
    if plots and (table["status"] == "complete").any():
        result.paths.update(_plots(result, list(over), kind, curves, {**described, "loss": LOSS}))
    return result


def _plots(result: Aggregate, override_keys: list[str], kind: str, curves: dict,
           titles: dict[str, str]) -> dict[str, Path]:
    import matplotlib.pyplot as plt

    from . import plots

    table, out = result.table, {}
    done = table[table["status"] == "complete"]
    varying = [k for k in override_keys if k != "seed" and done[k].nunique(dropna=False) > 1]
    group_cols = [] if kind == "optuna" or not varying else varying
    names = [c for c in done.columns if c not in ("job", "status", "dir", *override_keys)
             and (any(p in c for p in PLOTTED) or (c == "loss" and kind == "optuna"))  # the loss: calibration only
             and not c.endswith("_built_up") and done[c].notna().any()]
    labels = {}
    for job, (_, row) in zip(result.jobs, table.iterrows(), strict=True):
        if group_cols:
            labels[id(job)] = " ".join(f"{k}={row[k]}" for k in group_cols)
        else:
            labels[id(job)] = f"job {job.num}"
    n_groups = len(set(labels[id(j)] for j in result.jobs if j.status == "complete"))
    if names and n_groups <= 80:
        fig = plots.sweep_outcomes(table.assign(group=[labels[id(j)] for j in result.jobs]), names, ["group"], titles)
        out["comparison_outcomes"] = _save(fig, result.sweep_dir / "comparison_outcomes.png")
    if curves:
        grouped: dict[str, list] = {}
        dyad = next(iter(curves.values()))[0]
        for job in result.jobs:
            if id(job) in curves:
                grouped.setdefault(labels[id(job)], []).append(curves[id(job)][1])
        fig = plots.sweep_trajectories(grouped, f"{dyad}: composite strength by job (median over replicates)",
                                       "strength −1…1")
        out["comparison_trajectories"] = _save(fig, result.sweep_dir / "comparison_trajectories.png")
    numeric = [k for k in varying if pd.api.types.is_numeric_dtype(done[k])]
    focus = next((c for c in names if c.endswith("_composite")), None)
    if len(varying) == 2 and len(numeric) == 2 and focus:
        fig = plots.sweep_grid(table, numeric[0], numeric[1], focus, titles.get(focus))
        out["comparison_grid"] = _save(fig, result.sweep_dir / "comparison_grid.png")
    plt.close("all")
    return out


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    _write_atomic(path, lambda p: fig.savefig(p, dpi=100, format="png"))
    plt.close(fig)
    return path


def describe(result: Aggregate) -> str:
    """What was aggregated and what is missing, for the terminal."""
    n_done = sum(j.status == "complete" for j in result.jobs)
    expected = f"{result.expected} jobs expected" if result.expected is not None else f"{len(result.jobs)} job folders"
    lines = [f"sweep {result.sweep_dir}: {expected}, {n_done} complete"]
    lines.append("wrote " + ", ".join(p.name for p in result.paths.values()))
    missing = result.missing
    if missing:
        lines.append(f"missing {len(missing)} job(s):")
        for j in missing:
            if j.status == "incomplete":
                where = f"folder {os.path.relpath(j.dir, result.sweep_dir)}/ has no {RESULTS} (the job failed or is still running)"
            elif j.status == "unreadable":
                where = f"{RESULTS} unreadable: {j.note}"
            else:
                where = "never started"
            lines.append(f"  job {j.num if j.num is not None else '?'}  {j.label()}  — {where}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The Hydra callback and the command
# --------------------------------------------------------------------------------------------

try:
    from hydra.experimental.callback import Callback as _Callback
except ImportError:  # pragma: no cover - hydra is a core dependency
    _Callback = object


class AggregateCallback(_Callback):
    """Aggregates the sweep folder when a multirun ends (not called by Hydra if a job failed)."""

    def on_multirun_start(self, config, **kwargs) -> None:
        # The basic sweeper saves multirun.yaml itself; other sweepers (Optuna) do not.
        from omegaconf import OmegaConf

        sweep_dir = Path(config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if not (sweep_dir / "multirun.yaml").exists():
            OmegaConf.save(config, sweep_dir / "multirun.yaml")

    def on_multirun_end(self, config, **kwargs) -> None:
        from . import calibrate

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            result = aggregate(sweep_dir)
            report = calibrate.write_report(sweep_dir, config, result.table)
            if report is not None:
                result.paths["calibration"] = report
            log.info(describe(result))
        except Exception:  # the jobs' results are safe on disk; say how to retry
            log.exception("aggregating the sweep failed; run: geosim-aggregate %s", sweep_dir)


def main(argv: list[str] | None = None) -> None:
    """``geosim-aggregate <sweep dir>``: table and plots from whatever finished; lists missing jobs."""
    import matplotlib

    matplotlib.use("Agg")  # a command writes figure files: no window (library code leaves the backend alone)
    parser = argparse.ArgumentParser(
        prog="geosim-aggregate",
        description="Aggregate a geosim sweep folder (geosim -m ...) into sweep_results.parquet/.csv and "
                    "comparison plots, from the jobs that finished; list the jobs that are missing. "
                    "Exit status: 0 all jobs complete, 1 some missing, 2 bad input.")
    parser.add_argument("sweep_dir", help="the sweep folder (hydra.sweep.dir), which holds multirun.yaml")
    parser.add_argument("--no-plots", action="store_true", help="write the table only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        result = aggregate(args.sweep_dir, plots=not args.no_plots)
        from . import calibrate

        if (Path(args.sweep_dir) / "optimization_results.yaml").exists():
            from omegaconf import OmegaConf

            cfg = OmegaConf.create(_read_yaml(Path(args.sweep_dir) / "multirun.yaml") or {})
            report = calibrate.write_report(Path(args.sweep_dir), cfg if "hydra" in cfg else None, result.table)
            if report is not None:
                result.paths["calibration"] = report
    except ConfigError as exc:
        print(f"geosim-aggregate: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(describe(result))
    sys.exit(1 if result.missing else 0)
