"""Command-line entry points: thin shells that compose a config and call one function.

``geosim [overrides]``  run a scenario (Hydra; ``-m`` sweeps), write results, summary, plots
``geosim-params``       print every parameter with its unit, range and provenance
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .config import register
from .errors import ConfigError, require

log = logging.getLogger("geosim")
register()  # the config node "base" that conf/config.yaml builds on


def kept(settings, sweep: bool = False) -> str:
    """What results.nc keeps (``output.results``): in a sweep ``auto`` is summary; in a single run
    it stays ``auto``: every trajectory per replicate except :data:`sim.results.DETAIL` (quantiles)."""
    mode = settings["output.results"]
    return ("summary" if sweep else "auto") if mode == "auto" else mode


def write_run(ds, settings, outdir: str | Path, others: dict | None = None, sweep: bool = False) -> dict[str, Path]:
    """Write results.nc (atomically, compressed), summary.csv and the plots into ``outdir``.

    ``others`` are runs of ``output.compare_scenarios`` for the distribution plots. In summary
    mode the per-replicate plots are left out and summary.csv holds the streamed quantiles.
    ``output.results`` (see :func:`kept`) chooses what results.nc keeps; with ``none`` there is
    no results.nc and summary.csv, written last, marks the finished run.
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
    mode = kept(settings, sweep)
    if mode != "none":
        stored = ds
        if full and mode == "summary":
            stored = results.reduce(ds)
        elif full and mode == "auto":
            stored = results.reduce(ds, results.DETAIL)
        paths["results"] = results.save(stored, outdir / "results.nc", lossless=settings["output.lossless"])
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


def _run_job(cfg: DictConfig) -> float | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

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
    from .analysis.calibrate import loss

    if settings["output.skip_complete"]:
        done = complete_results(outdir, settings)
        if done is not None:
            print(f"geosim: {outdir}/results.nc is complete for this configuration; skipped")
            return loss(done)
    log.info("scenario %s, %d replicates (%s mode), seed %d", settings.scenario.name, settings["ensemble.replicates"],
             settings["ensemble.mode"], settings["seed"])
    try:
        ds = run(settings)
        sweep = HydraConfig.get().mode == RunMode.MULTIRUN
        paths = write_run(ds, settings, outdir, compare_runs(ds, settings), sweep=sweep)
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
    # the job's return value: what the Optuna sweeper minimises (geosim -m hparams_search=calibrate)
    return loss(ds)


def complete_results(outdir: Path, settings):
    """The results in ``outdir`` if they are complete and were made with this configuration.

    Output options (plots, network dates, skip_complete itself) do not change the results, so
    they are left out of the comparison; anything else that differs means the run is redone.
    """
    import yaml

    from . import results

    path = outdir / "results.nc"
    if not path.is_file():
        return None
    try:
        ds = results.load(path)
        saved = yaml.safe_load(ds.attrs["config"])
    except (ConfigError, yaml.YAMLError):
        return None

    def essential(cfg: dict) -> dict:
        return {k: v for k, v in cfg.items() if k != "output"}

    from . import __version__

    same = (essential(saved) == essential(settings.config)
            and ds.attrs.get("scenario_yaml") == settings.scenario.to_yaml()  # a path's contents may change
            and ds.attrs.get("engine_version") == __version__)
    return ds if same else None


@hydra.main(version_base="1.3", config_path="pkg://sim.conf", config_name="config")
def _app(cfg: DictConfig) -> float | None:
    return _run_job(cfg)


HYDRA_PLUGINS = {("hydra/launcher", "joblib"): "hydra_plugins.hydra_joblib_launcher",
                 ("hydra/launcher", "submitit"): "hydra_plugins.hydra_submitit_launcher",
                 ("hydra/sweeper", "optuna"): "hydra_plugins.hydra_optuna_sweeper"}
"""The Hydra plugins that the extra ``analysis`` installs, by the config group they fill."""


def precheck(args: list[str]) -> None:
    """Check what a run or a sweep will compose before Hydra starts. Raises ConfigError.

    A single run is composed and validated as is. For ``-m``, every value of every swept key is
    validated (with the other swept keys at their first value), so a bad value fails at once
    instead of aborting the sweep half-way. An explicit run or sweep folder must be creatable.
    Other flags (``--help``, ``--cfg``, ...) are left to Hydra.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from .config import compose, validate
    from .settings import one_line

    flags = [a for a in args if a.startswith("-")]
    if any(f not in ("-m", "--multirun") for f in flags):
        return
    overrides = [a for a in args if not a.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as exc:  # Hydra's grammar errors
        raise ConfigError(f"config override: {one_line(exc)}") from None
    for o in overrides:
        key, _, value = o.partition("=")
        plugin = HYDRA_PLUGINS.get((key.lstrip("+~"), value.split("_")[0]))
        if plugin:
            require(plugin, "analysis", f"{key.lstrip('+~')}={value}", plugin.split(".")[1].replace("_", "-"))
    variants = [overrides]
    if flags:
        firsts, choices = [], []
        for o in parsed:
            values = [o.input_line]
            if o.is_sweep_override():
                try:
                    values = [f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()]
                except Exception:  # interval sweeps (Optuna) cannot be listed
                    values = []
            firsts.append(values[0] if values else None)
            choices.append(values)
        variants = []
        for i, values in enumerate(choices):
            for v in values[1:] or values:
                variants.append([v if j == i else f for j, f in enumerate(firsts) if (v if j == i else f)])
        variants = variants or [[]]
    for variant in variants:
        validate(compose(variant))
    for o in parsed:
        if o.get_key_element().lstrip("+~") in ("hydra.run.dir", "hydra.sweep.dir") and not o.is_sweep_override():
            folder = Path(str(o.value()))
            try:
                folder.mkdir(parents=True, exist_ok=True)
                if not os.access(folder, os.W_OK):
                    raise PermissionError("not writable")
            except OSError as exc:
                raise ConfigError(f"{o.get_key_element()} = {folder}: cannot write there "
                                  f"({exc.strerror or exc}); give a writable folder") from None


def main() -> None:
    """``geosim``: run a scenario with Hydra overrides, e.g. ``geosim scenario=assad_fall``."""
    import matplotlib

    matplotlib.use("Agg")  # a command writes figure files: no window (library code leaves the backend alone)
    try:
        if not os.environ.get("GEOSIM_SKIP_PRECHECK"):  # tests use it to make a job fail inside a sweep
            precheck(sys.argv[1:])
    except ConfigError as exc:
        print(f"geosim: error: {exc}", file=sys.stderr)
        sys.exit(2)
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
    if "--markdown" in argv:
        print(PARAMS_HEADER + params_table(markdown=True), end="")
    else:
        print(params_table())


PARAMS_HEADER = """# Parameters

Generated from `sim/parameters.py` by `make docs` (`geosim-params --markdown`); a test keeps this
file in step with the registry. Provenance cites the fact ids of `domain.md` (A = article A,
B = article B, ctx = context) or says why a value is an assumption. Any value can be overridden
on the command line, e.g. `geosim actors.iran.sanctions=0.8`. Strength units: −1 (hostile) to
+1 (allied); logit units add to the argument of the tanh/logistic curves of `docs/model.md`.

"""
