"""Hindcasts: calibrate on what was known at a cutoff, forecast what became known after, score it.

``geosim-hindcast --cutoff YYYY-MM [--observations FILE ...] [overrides]``

1. the observations published up to the cutoff calibrate the model (:mod:`sim.analysis.abc`;
   a finished calibration of the same inputs is reused from ``outputs/calibrations/<key>/``);
2. the posterior-predictive ensemble (every replicate draws a particle) and the prior ensemble
   (the registry distributions, uncalibrated) run with the same seed;
3. every observation published after the cutoff is scored (:mod:`sim.analysis.scores`): CRPS,
   PIT and 50%/90% coverage for values, probability and Brier score for binary facts; CRPS
   skill against the prior ensemble and against persistence (the latest value of the same
   quantity and selector known at the cutoff, carried forward; a sum is rescaled to the length
   of the forecast period, i.e. the monthly rate persists);
4. writes ``scores.csv``, one plot per quantity (``forecast_<quantity>.png``), the posterior
   files, and prints a table and, as the last line, one JSON object of the headline figures.

The scenario defaults to ``combined`` (the path the world took): the hindcast is conditional on
the scenario's events, and forecasts their consequences.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..calendar import format_month
from ..errors import ConfigError, require
from . import abc, execution, observe, scores

DEFAULT_SCENARIO = "combined"


def persistence(target: observe.Observation, known: list[observe.Observation]) -> float | None:
    """The latest value of the same quantity and selector known at the cutoff, carried forward."""
    same = [k for k in known if k.key() == target.key() and k.value is not None]
    if not same or target.value is None:
        return None
    last = max(same, key=lambda k: (k.end, k.published))
    if target.aggregate == "sum":
        return last.value / last.months * target.months
    return last.value


def score(observations, known, ds_post, ds_prior) -> pd.DataFrame:
    rows = []
    for o in observations:
        x = observe.forecast(o, *observe.components(ds_post, o))
        xp = observe.forecast(o, *observe.components(ds_prior, o))
        q = np.nanquantile(x, [0.05, 0.25, 0.5, 0.75, 0.95])
        row = {"id": o.id, "quantity": o.quantity, "what": o.describe(), "observed": o.observed_text(),
               "published": format_month(o.published), "source": o.source, "kind": "binary" if o.binary else "value",
               "q05": q[0], "q25": q[1], "q50": q[2], "q75": q[3], "q95": q[4], "scale": o.scale}
        if o.binary:
            p, pp = float(np.mean(observe.happened(o, x))), float(np.mean(observe.happened(o, xp)))
            row.update(probability=p, brier=scores.brier(p), prior_probability=pp, prior_brier=scores.brier(pp))
        if o.value is not None:
            pers = persistence(o, known)
            row.update(crps=scores.crps(o.value, x), pit=scores.pit(o.value, x), in_50=scores.covered(o.value, x, 0.5),
                       in_90=scores.covered(o.value, x, 0.9), prior_crps=scores.crps(o.value, xp),
                       persistence=pers, persistence_crps=None if pers is None else scores.crps_point(o.value, pers))
            if o.low is not None or o.high is not None:
                row["probability"] = float(np.mean(observe.happened(o, x)))
        rows.append(row)
    cols = ["id", "quantity", "what", "observed", "published", "source", "kind", "q05", "q25", "q50", "q75", "q95",
            "crps", "prior_crps", "persistence", "persistence_crps", "pit", "in_50", "in_90", "probability", "brier",
            "prior_probability", "prior_brier", "scale"]
    table = pd.DataFrame(rows)
    for c in cols:
        if c not in table:
            table[c] = np.nan
    return table[cols]


def headline(table: pd.DataFrame) -> dict:
    def mean(col, mask):
        v = pd.to_numeric(table.loc[mask, col], errors="coerce").dropna()
        return None if v.empty else float(v.mean())

    values = table["kind"].eq("value") & table["crps"].notna()
    binary = table["kind"].eq("binary")
    crps = pd.to_numeric(table["crps"], errors="coerce").to_numpy(float)
    out = {
        "n_scored": int(len(table)),
        "n_values": int(values.sum()),
        "n_binary": int(binary.sum()),
        "coverage_50": mean("in_50", values),
        "coverage_90": mean("in_90", values),
        "crps_skill_vs_prior": scores.skill(crps, pd.to_numeric(table["prior_crps"], errors="coerce").to_numpy(float),
                                            table["scale"].to_numpy(float)),
        "crps_skill_vs_persistence": scores.skill(
            crps, pd.to_numeric(table["persistence_crps"], errors="coerce").to_numpy(float),
            table["scale"].to_numpy(float)),
        "n_persistence": int(pd.to_numeric(table["persistence_crps"], errors="coerce").notna().sum()),
        "brier": mean("brier", binary),
        "brier_prior": mean("prior_brier", binary),
        "mean_pit": mean("pit", values),
    }
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


def render(table: pd.DataFrame) -> str:
    lines = [f"{'id':16s} {'observed':>16s} {'forecast 5% / 50% / 95%':>32s} {'CRPS':>9s} {'prior':>9s} "
             f"{'persist':>9s} {'P(fact)':>8s} {'Brier':>6s}"]

    def f(v, spec):
        return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)

    for r in table.to_dict("records"):
        fc = f"{f(r['q05'], '.4g')} / {f(r['q50'], '.4g')} / {f(r['q95'], '.4g')}"
        lines.append(f"{r['id']:16s} {r['observed']:>16s} {fc:>32s} {f(r['crps'], '9.4g'):>9s} "
                     f"{f(r['prior_crps'], '9.4g'):>9s} {f(r['persistence_crps'], '9.4g'):>9s} "
                     f"{f(r['probability'], '8.2f'):>8s} {f(r['brier'], '6.3f'):>6s}")
    return "\n".join(lines)


def plot_quantity(quantity: str, rows: list[observe.Observation], ds_post, ds_prior, cutoff: int, path: Path) -> Path:
    """Forecast fan of each selector of ``quantity`` from the cutoff on, the observations on top."""
    fig = forecast_figure(quantity, rows, ds_post, ds_prior, cutoff)
    tmp = path.with_name(f".{path.stem}.part.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(path)
    return path


def forecast_figure(quantity: str, rows: list[observe.Observation], ds_post, ds_prior, cutoff: int):
    """The figure of :func:`plot_quantity` as a matplotlib ``Figure`` (no pyplot: safe in a server)."""
    from matplotlib.figure import Figure

    selectors = list(dict.fromkeys(o.selector for o in rows))
    fig = Figure(figsize=(8, 3.0 * len(selectors)))
    axes = fig.subplots(len(selectors), 1, squeeze=False)
    times = ds_post["time"].values
    cut = np.datetime64(f"{format_month(cutoff)}-01", "ns")
    for ax, sel in zip(axes[:, 0], selectors, strict=True):
        da = ds_post[quantity].sel(dict(sel)) if sel else ds_post[quantity]
        x = da.transpose("time", "replicate").values.astype(float)
        xp = (ds_prior[quantity].sel(dict(sel)) if sel else ds_prior[quantity]).transpose("time", "replicate").values
        q = np.nanquantile(x, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
        after = times >= cut
        ax.fill_between(times[after], q[0][after], q[4][after], color="tab:blue", alpha=0.2, lw=0, label="posterior 90%")
        ax.fill_between(times[after], q[1][after], q[3][after], color="tab:blue", alpha=0.35, lw=0, label="posterior 50%")
        ax.plot(times, q[2], color="tab:blue", lw=1.5, label="posterior median")
        ax.plot(times, np.nanmedian(xp, axis=1), color="0.4", lw=1, ls="--", label="prior median")
        ax.axvline(cut, color="k", lw=0.8)
        ax.text(cut, 1.0, " cutoff", transform=ax.get_xaxis_transform(), va="top", fontsize=8)
        for o in rows:
            if o.selector != sel:
                continue
            t0 = np.datetime64(f"{format_month(o.start)}-01", "ns")
            t1 = np.datetime64(f"{format_month(o.end)}-01", "ns")
            scale = 1.0 / o.months if (o.aggregate == "sum" and not o.relation) else 1.0
            color = "tab:red" if o.published > cutoff else "tab:green"
            if o.relation:
                ax.axvspan(t0, t1 if t1 > t0 else t0 + np.timedelta64(20, "D"), color=color, alpha=0.12)
                if (o.ref_start, o.ref_end) != (o.start, o.end):  # the reference period, outlined
                    r0 = np.datetime64(f"{format_month(o.ref_start)}-01", "ns")
                    r1 = np.datetime64(f"{format_month(o.ref_end)}-01", "ns")
                    ax.axvspan(r0, r1 if r1 > r0 else r0 + np.timedelta64(20, "D"), fill=False, edgecolor=color,
                               ls=":", lw=1)
                ax.text(t0, 0.02, f"{o.id}: {o.relation}", transform=ax.get_xaxis_transform(), fontsize=7,
                        color=color, rotation=90, va="bottom")
                continue
            lo = -np.inf if o.low is None else o.low * scale
            hi = np.inf if o.high is None else o.high * scale
            if o.low is not None or o.high is not None:
                ymin, ymax = ax.get_ylim()
                ax.fill_between([t0, t1 if t1 > t0 else t0 + np.timedelta64(20, "D")], max(lo, ymin), min(hi, ymax),
                                color=color, alpha=0.25, lw=0)
            if o.value is not None:
                ax.plot([t0, t1 if t1 > t0 else t0 + np.timedelta64(20, "D")], [o.value * scale] * 2, color=color, lw=2.5)
            ax.annotate(o.id, (t1, (o.value if o.value is not None else (o.low if o.low is not None else o.high)) * scale),
                        fontsize=7, color=color, xytext=(3, 3), textcoords="offset points")
        label = ", ".join(v for _, v in sel) if sel else ""
        unit = ds_post[quantity].attrs.get("units", "")
        ax.set_title(f"{quantity} {label}".strip(), fontsize=10)
        ax.set_ylabel(unit + (" (sums shown per month)" if any(o.aggregate == "sum" for o in rows) else ""), fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.text(0.01, 0.005, "green: known at the cutoff (calibration); red: published after it (scored); "
             "dotted: the reference period of a comparison", fontsize=7)
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> None:
    parser = abc.command_parser("geosim-hindcast", "Calibrate at a cutoff, forecast what was published after it, "
                                                   "score the forecast with proper scoring rules")
    execution.command("geosim-hindcast", lambda: parser.parse_args(argv), _main)


@dataclass
class Hindcast:
    """A hindcast's results as data: the scores table, the headline figures and the ensembles."""

    cutoff: int
    overrides: list[str]
    observations: list[observe.Observation]
    known: list[observe.Observation]
    scored: list[observe.Observation]
    table: pd.DataFrame
    headline: dict
    ds_post: object
    ds_prior: object
    posterior: Path
    calibration: dict = field(default_factory=dict)

    def quantities(self) -> list[str]:
        """The quantities with at least one scored observation, in file order."""
        return list(dict.fromkeys(o.quantity for o in self.scored))

    def figure(self, quantity: str):
        """The forecast fan of ``quantity`` from the cutoff, every observation of it on top."""
        rows = [o for o in self.observations if o.quantity == quantity]
        return forecast_figure(quantity, rows, self.ds_post, self.ds_prior, self.cutoff)


def hindcast(cutoff: str, observations: list[str] | None = None, overrides: list[str] | tuple = (), *,
             population: int | None = None, generations: int | None = None, replicates: int | None = None,
             seed: int = 0, plan: str | None = None, calibrations: str | Path | None = None,
             quiet: bool = True) -> Hindcast:
    """Calibrate at ``cutoff`` (``YYYY-MM``), forecast and score what was published after it.

    The arguments are those of ``geosim-hindcast`` (``observations``: file paths or shipped
    names, default the shipped ones; ``overrides``: Hydra overrides, the scenario defaulting to
    ``combined``). The calibration is cached in ``calibrations/<key>/`` (default
    ``outputs/calibrations``) and reused for the same inputs. Writes nothing else; bad input
    raises :class:`sim.ConfigError`.
    """
    args = argparse.Namespace(cutoff=cutoff, observations=observations, overrides=list(overrides), plan=plan,
                              population=population, generations=generations, replicates=replicates, seed=seed)
    return _hindcast(args, calibrations=calibrations, quiet=quiet)


def _hindcast(args, calibrations=None, quiet: bool = False) -> Hindcast:
    require("pyabc", "analysis", "geosim-hindcast")
    require("scoringrules", "analysis", "geosim-hindcast")
    cutoff, overrides, observations, plan = abc.setup(args, default_scenario=DEFAULT_SCENARIO)
    known = abc.known(observations, cutoff)
    scored = [o for o in observations if o.published > cutoff]
    if not scored:
        latest = max(o.published for o in observations)
        raise ConfigError(f"--cutoff {args.cutoff}: no observation was published after it; allowed: a month before "
                          f"{format_month(latest)}")
    key = abc.cache_key(known, cutoff, overrides, plan, args.seed)
    cal_dir = (Path("outputs") / "calibrations" if calibrations is None else Path(calibrations)) / key
    if not quiet:
        print(f"hindcast from {format_month(cutoff)}: {len(known)} observations known, {len(scored)} to forecast; "
              f"{' '.join(overrides)}; calibration in {cal_dir}", file=sys.stderr)
    with execution.pool(overrides) as pool:  # one executor for the calibration and the ensembles
        info = abc.calibrate(overrides, observations, cutoff, plan, args.seed, cal_dir, quiet=quiet, pool=pool)
        ds_post, ds_prior = abc.ensembles(overrides, observations, info["posterior"], plan.replicates, args.seed,
                                          observe.last_month(observations), pool)
    table = score(scored, known, ds_post, ds_prior)
    out = headline(table)
    out.update(cutoff=format_month(cutoff), n_known=len(known), scenario=next(
        (o.split("=", 1)[1] for o in overrides if o.startswith("scenario=")), None))
    return Hindcast(cutoff=cutoff, overrides=overrides, observations=observations, known=known, scored=scored,
                    table=table, headline=out, ds_post=ds_post, ds_prior=ds_prior, posterior=info["posterior"],
                    calibration=info)


def _main(args) -> None:
    h = _hindcast(args)
    outdir = Path(args.out) if args.out else abc.outputs_dir("hindcasts")
    outdir.mkdir(parents=True, exist_ok=True)
    predictive = abc.predictive_table(h.known, h.ds_post, h.ds_prior) if h.known else None
    shutil.copyfile(h.posterior, outdir / "posterior.csv")
    abc.plot_posterior(h.posterior, outdir / "posterior.png", seed=args.seed)
    if predictive is not None:
        predictive.to_csv(outdir / "predictive.csv", index=False, float_format="%.6g")
    for quantity in dict.fromkeys(o.quantity for o in h.observations):
        rows = [o for o in h.observations if o.quantity == quantity]
        if any(o.published > h.cutoff for o in rows):
            plot_quantity(quantity, rows, h.ds_post, h.ds_prior, h.cutoff, outdir / f"forecast_{quantity}.png")
    out = {**h.headline, "output": str(outdir)}
    tmp = outdir / ".scores.csv.part"
    h.table.to_csv(tmp, index=False, float_format="%.6g")
    tmp.replace(outdir / "scores.csv")  # last: its presence marks a finished hindcast
    print(render(h.table))
    print(f"wrote {outdir}/scores.csv and {len(list(outdir.glob('forecast_*.png')))} plots")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
