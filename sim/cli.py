"""Command-line entry points: thin shells that compose a config and call one function.

``geosim [overrides]``  run a scenario (Hydra; ``-m`` sweeps), write results, summary, plots
``geosim-params``       print every parameter with its unit, range and provenance
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from . import config as _config  # noqa: F401  (registers the config node 'base')
from .errors import ConfigError

log = logging.getLogger("geosim")


def write_run(ds, settings, outdir: str | Path, others: dict | None = None) -> dict[str, Path]:
    """Write results.nc (atomically), summary.csv and the plots into ``outdir``.

    ``others`` are runs of ``output.compare_scenarios`` for the distribution plots. In summary
    mode the per-replicate plots are left out and summary.csv holds the streamed quantiles.
    """
    from . import ensemble, plots, results, summary

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    full = ds.attrs.get("ensemble_mode") != "summary"
    table = summary.summarize(ds, settings) if full else ensemble.summary_table(ds, settings)
    paths = {}
    if settings["output.plots"]:
        for p in plots.write_all(ds, settings, outdir) if full else []:
            paths[p.stem] = p
        for p in plots.write_distribution_plots(ds, settings, outdir, others):
            paths[p.stem] = p
    csv = outdir / "summary.csv"
    tmp = outdir / ".summary.csv.part"
    table.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(csv)
    paths["summary"] = csv
    # results.nc last: its presence marks a finished run
    paths["results"] = results.save(ds, outdir / "results.nc")
    return paths


def compare_runs(ds, settings) -> dict:
    """The runs of ``output.compare_scenarios`` that the distribution plots need (same
    configuration and seed as this run: common random numbers); this run is reused."""
    from .config import validate
    from .run import run

    wanted = set(settings["output.distribution_plots"]) & {"end_states", "crossing", "comparison"}
    if not wanted or not settings["output.plots"]:
        return {}
    others = {}
    for name in settings["output.compare_scenarios"]:
        if name == settings.scenario.name:
            others[name] = ds
            continue
        log.info("running scenario %s for the distribution plots", name)
        others[name] = run(validate({**settings.config, "scenario": name}, where=f"output.compare_scenarios ({name})"))
    return others


def _run_job(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from .config import validate
    from .run import run
    from .summary import render, summarize

    try:
        settings = validate(cfg)
    except ConfigError as exc:
        print(f"geosim: error: {exc}", file=sys.stderr)
        sys.exit(2)
    for noisy in ("MESA", "matplotlib"):  # Mesa logs every step at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    outdir = Path(HydraConfig.get().runtime.output_dir)
    log.info("scenario %s, %d replicates (%s mode), seed %d", settings.scenario.name, settings["ensemble.replicates"],
             settings["ensemble.mode"], settings["seed"])
    try:
        ds = run(settings)
        paths = write_run(ds, settings, outdir, compare_runs(ds, settings))
    except ConfigError as exc:
        print(f"geosim: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"\nScenario: {settings.scenario.name} — {settings.scenario.description}\n")
    if ds.attrs.get("ensemble_mode") == "summary":
        from .ensemble import render_summary, summary_table

        print(render_summary(summary_table(ds, settings), settings["ensemble.replicates"]))
    else:
        print(render(summarize(ds, settings), settings["ensemble.replicates"]))
    print(f"\nWrote {outdir}/")
    for p in paths.values():
        print(f"  {p.name}")


@hydra.main(version_base="1.3", config_path="pkg://sim.conf", config_name="config")
def _app(cfg: DictConfig) -> None:
    _run_job(cfg)


def main() -> None:
    """``geosim``: run a scenario with Hydra overrides, e.g. ``geosim scenario=assad_fall``."""
    _app()


def params_table(markdown: bool = False) -> str:
    """Every parameter: path, default, unit, allowed range, provenance."""
    from .parameters import iter_params

    rows = [(path, _show(p.default), p.unit, p.allowed(), p.source, p.doc,
             f"{p.dist.describe()} ({p.dist.source})" if p.dist is not None else "") for path, p in iter_params()]
    if markdown:
        out = ["| parameter | default | unit | allowed | provenance | meaning | uncertainty |",
               "|---|---|---|---|---|---|---|"]
        out += ["| " + " | ".join(f"`{c}`" if i == 0 else c.replace("|", "/") for i, c in enumerate(r)) + " |" for r in rows]
        return "\n".join(out) + "\n"
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    head = ("parameter", "default", "unit", "allowed", "provenance")
    lines = ["  ".join(h.ljust(w[i]) if i < 4 else h for i, h in enumerate(head))]
    lines += ["  ".join(c.ljust(w[i]) if i < 4 else c for i, c in enumerate(r[:5]))
              + (f"  [uncertainty: {r[6]}]" if r[6] else "") for r in rows]
    return "\n".join(lines)


def _show(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


def params_main(argv: list[str] | None = None) -> None:
    """``geosim-params [--markdown]``: the parameter table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print("usage: geosim-params [--markdown]\nEvery parameter with default, unit, allowed range and provenance.")
        return
    print(params_table(markdown="--markdown" in argv), end="" if "--markdown" in argv else "\n")
