"""The page's "forecast vs observed" view: a small hindcast (sim.analysis.hindcast) and its
scores in plain words.

The page runs the hindcast with few particles and replicates (:data:`PAGE_SETTINGS`) so that
it takes seconds; ``geosim-hindcast`` with the plan's defaults is the full one. The numbers
are those of ``geosim-hindcast --cutoff <month> --population ... --replicates ...`` with the
same settings (the same function computes them).
"""

from __future__ import annotations

import math
from functools import lru_cache

from ..calendar import format_month

PAGE_SETTINGS = {"population": 200, "generations": 3, "replicates": 200, "seed": 0}
"""Particles per calibration generation, most generations, replicates of each forecast ensemble."""

SCENARIO = "combined"  # the events that happened: the forecast is conditional on them


def command(cutoff: str) -> str:
    """The command line that computes the same scores (and writes the files)."""
    s = PAGE_SETTINGS
    return (f"geosim-hindcast --cutoff {cutoff} --population {s['population']} --generations {s['generations']} "
            f"--replicates {s['replicates']} --seed {s['seed']}")


@lru_cache(maxsize=1)
def shipped_observations() -> tuple:
    """The shipped observation files, checked against a one-month run of the scenario."""
    from ..analysis import observe

    reference = observe.reference_run([f"scenario={SCENARIO}"])
    return tuple(observe.load(observe.resolve_paths(None), reference))


def cutoff_choices() -> dict[str, str]:
    """Label -> cutoff month: one cutoff per set of facts known, the last month before the next
    fact was published (so each leaves at least one fact to forecast)."""
    obs = shipped_observations()
    months = sorted({o.published - 1 for o in obs})
    out = {}
    for m in months:
        known = sum(o.published <= m for o in obs)
        label = f"{format_month(m)}: {known} fact{'s' if known != 1 else ''} known, {len(obs) - known} to forecast"
        out[label] = format_month(m)
    return out


@lru_cache(maxsize=4)
def run(cutoff: str):
    """The page's hindcast from ``cutoff`` (kept in memory; the calibration is cached on disk in
    ``outputs/calibrations/`` like the command's)."""
    from ..analysis import hindcast

    s = PAGE_SETTINGS
    return hindcast.hindcast(cutoff, overrides=[f"scenario={SCENARIO}"], population=s["population"],
                             generations=s["generations"], replicates=s["replicates"], seed=s["seed"])


def _n(x: float) -> str:
    """A number as a student reads it: 11,000 / 2.3 / 0.42."""
    if x is None or not math.isfinite(x):
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def verdict(row: dict) -> str:
    """One scored fact in words: where the observation fell in the forecast, or its probability."""
    if row["kind"] == "binary":
        p = row["probability"]
        text = f"the model gave it {p:.0%}"
        if p >= 0.9:
            return text + ": expected"
        if p <= 0.1:
            return text + ": a surprise to the model"
        return text + ": uncertain"
    pit, in50, in90 = row["pit"], row["in_50"], row["in_90"]
    if in50:
        where = "inside the middle half of the runs"
    elif in90:
        where = "inside 9 in 10 runs, outside the middle half"
    else:
        where = "outside the range of 9 in 10 runs"
    if pit >= 0.5:
        return f"{where}; higher than {pit:.0%} of the runs"
    return f"{where}; lower than {1 - pit:.0%} of the runs"


def observed(o) -> str:
    """What the source says, as a reader writes it: 11,000 (9,000–13,000), more than 2,500, higher."""
    if o.relation in ("higher", "lower"):
        return o.relation
    unit = " × the reference" if o.relation == "ratio" else ""
    if o.value is not None:
        rng = f" ({_n(o.low)}–{_n(o.high)})" if o.low is not None and o.high is not None else ""
        return f"{_n(o.value)}{unit}{rng}"
    if o.low is not None and o.high is not None:
        return f"{_n(o.low)}–{_n(o.high)}{unit}"
    return f"more than {_n(o.low)}{unit}" if o.low is not None else f"less than {_n(o.high)}{unit}"


def rows(h) -> list[dict]:
    """The scores table of a :class:`~sim.analysis.hindcast.Hindcast` as the page shows it."""
    facts = {o.id: o for o in h.scored}
    out = []
    for r in h.table.to_dict("records"):
        o = facts[r["id"]]
        value = r["kind"] == "value"
        pers = _n(r["persistence_crps"]) if value and _finite(r["persistence_crps"]) else "–"
        out.append({
            "fact": f"{r['id']} ({r['published']})",
            "what": o.note or r["what"],
            "observed": observed(o),
            "forecast": f"{_n(r['q05'])} … {_n(r['q50'])} … {_n(r['q95'])}" if value else "–",
            "in words": verdict(r),
            "CRPS": f"{_n(r['crps'])} / {_n(r['prior_crps'])} / {pers}" if value else "–",
            "PIT": f"{r['pit']:.2f}" if value else "–",
            "P(fact)": (f"{r['probability']:.0%}" + (f" ({r['prior_probability']:.0%})" if not value else ""))
            if _finite(r["probability"]) else "–",
            "Brier": f"{r['brier']:.3f}" if _finite(r["brier"]) else "–",
        })
    return out


COLUMNS = ["fact", "what", "observed", "forecast", "in words", "CRPS", "PIT", "P(fact)", "Brier"]

HEADERS = {"fact": "fact (published)", "what": "what the source says", "observed": "observed",
           "forecast": "forecast: 5% … median … 95%", "in words": "in words",
           "CRPS": "CRPS (model / uncalibrated / persistence)", "PIT": "PIT",
           "P(fact)": "P(fact) (uncalibrated)", "Brier": "Brier"}

COLUMN_HELP = {
    "forecast": "5% … median … 95% of the calibrated model's runs (a total over a period is the period's total)",
    "CRPS": "how far the forecast's runs are from the observed figure, in its unit; 0 = sharp and right, lower "
            "is better. Next to it the same for the model with its default parameter ranges (uncalibrated) and "
            "for 'the last known figure of this kind carries on' (persistence; – when none was known)",
    "PIT": "share of runs below the observed figure: 0.5 = right in the middle, near 0 or 1 = at the edge",
    "P(fact)": "share of runs in which the fact holds (a yes/no fact such as 'more than 11,000' or 'higher'); "
               "in brackets the same for the uncalibrated model",
    "Brier": "(1 − P(fact))²: 0 = certain and right, 0.25 = a coin toss, 1 = certain and wrong",
}


def summary(h) -> list[str]:
    """The headline figures as sentences."""
    hl = h.headline
    t = h.table
    values = t[t["kind"].eq("value") & t["crps"].notna()]
    n_val, n_bin = hl["n_values"], hl["n_binary"]
    out = [f"Calibrated on {hl['n_known']} fact{'s' if hl['n_known'] != 1 else ''} published by {hl['cutoff']}, "
           f"the model forecast {hl['n_scored']} facts published after it: {n_val} figure{'s' if n_val != 1 else ''} "
           f"and {n_bin} yes/no fact{'s' if n_bin != 1 else ''}."]
    if n_val:
        k50, k90 = int(values["in_50"].astype(bool).sum()), int(values["in_90"].astype(bool).sum())
        out.append(f"Figures: {k50} of {n_val} fell inside the middle half of the runs and {k90} of {n_val} inside "
                   "the range of 9 in 10 runs. A well-calibrated forecast gets about half and 9 in 10 over many "
                   f"facts; with {n_val} this is a count, not proof.")
        skill = hl["crps_skill_vs_prior"]
        if skill is not None:
            better = "better than" if skill > 0.005 else ("worse than" if skill < -0.005 else "no better than")
            out.append(f"Skill against the uncalibrated model: {skill:+.2f} (1 = perfect, 0 = no better, below 0 = "
                       f"worse). Calibrating on the facts known at the cutoff made the forecast {better} "
                       "the model's default ranges.")
        pers = hl["crps_skill_vs_persistence"]
        if pers is None:
            out.append("Skill against persistence ('the last known figure carries on'): none, because no figure "
                       "of the same kind was known at the cutoff.")
        else:
            better = "beats" if pers > 0 else "does not beat"
            out.append(f"Skill against persistence ('the last known figure carries on', {hl['n_persistence']} "
                       f"figure{'s' if hl['n_persistence'] != 1 else ''}): {pers:+.2f}: the model {better} that "
                       "simple rule.")
        if hl["mean_pit"] is not None:
            out.append(f"Mean PIT {hl['mean_pit']:.2f}: 0.5 means no systematic bias; above 0.5 the observed "
                       "figures tend to be higher than forecast, below 0.5 lower.")
    if n_bin and hl["brier"] is not None:
        out.append(f"Yes/no facts: mean Brier score {hl['brier']:.3f} (uncalibrated {hl['brier_prior']:.3f}); "
                   "0 = always certain and right, 0.25 = what always saying 50% scores, 1 = certain and wrong.")
    return out
