"""The observed patterns of ``patterns.md``, checked on the engine's own reported quantities.

``geosim-validate`` runs the presets with the default configuration (plus any overrides given
on the command line, Hydra syntax) and prints one row per pattern; the exit status is 0 only
when every pattern holds. The test suite runs the same checks.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import parameters as prm
from .calendar import format_month, parse_month
from .config import Settings, compose, validate
from .errors import ConfigError
from .results import VARIABLES
from .run import run

SCENARIOS = ("baseline", "assad_fall", "trump_talks", "snapback", "combined")
MIN_REPLICATES = 200
SANITY_DRAWS = 1000
NEEDS = ("2022-07", "2026-03")  # the months the patterns read (P1 start ... P10 six months after snapback)


@dataclass
class PatternResult:
    id: str
    pattern: str
    figure: str
    target: str
    passed: bool


def _at(ds: xr.Dataset, month: str):
    return ds.sel(time=np.datetime64(f"{month}-01", "ns"))


def _year(da: xr.DataArray, year: int) -> xr.DataArray:
    return da.sel(time=slice(f"{year}-01-01", f"{year}-12-01")).sum("time")


def _event_month(settings: Settings, etype: str) -> str:
    months = [ev.month for ev in settings.scenario.in_period(settings) if ev.type == etype]
    if not months:
        raise ConfigError(f"validate: scenario {settings.scenario.name} has no {etype} event")
    return format_month(months[0])


def _shift(month: str, n: int) -> str:
    return format_month(parse_month(month) + n)


def _med(da) -> float:
    return float(np.median(np.asarray(da)))


def check(results: dict[str, xr.Dataset], settings: dict[str, Settings], sanity: list[tuple[str, bool]]) -> list[PatternResult]:
    """Evaluate P1–P12 on runs of the presets (``results[name]``)."""
    base, fall, talks, snap = (results[k] for k in ("baseline", "assad_fall", "trump_talks", "snapback"))
    s = settings["baseline"]
    attacker, licensor = s.names[s["war.attacker"]], s.names[s["war.drone_licensor"]]
    defender = s.names[s["war.defender"]]
    ru_ir = s.dyad_label(s["war.attacker"], s["war.drone_licensor"])
    us_key = s["shocks.trump_talks.mediator"]
    us = s.names[us_key]
    us_ru = s.dyad_label(us_key, s["war.attacker"])
    nk = s.names["north_korea"] if "north_korea" in s.names else None
    out: list[PatternResult] = []

    def add(pid, pattern, figure, target, passed):
        out.append(PatternResult(pid, pattern, figure, target, bool(passed)))

    # P1 military channel builds up
    mil = base["strength"].sel(dyad=ru_ir, channel="military")
    start = s["time.start"]
    frac = float((_at(mil, "2024-06") > _at(mil, start)).mean())
    add("P1", f"{ru_ir} military cooperation builds up after {start}",
        f"{frac:.0%} of replicates higher at 2024-06", "≥ 90%", frac >= 0.9)

    # P2 drone war escalates
    launched = base["drones_launched"].sel(actor=attacker)
    y23, y24 = _year(launched, 2023), _year(launched, 2024)
    total, ratio = _med(y24), _med(y24 / np.maximum(y23, 1.0))
    add("P2", "drone war escalates (drones launched)", f"2024: {total:,.0f}; 2024/2023: {ratio:.2f}",
        "11,000 ± 30%; ratio 3–6", 7700 <= total <= 14300 and 3.0 <= ratio <= 6.0)

    # P3 production more than doubles
    produced = base["drones_produced"].sel(actor=attacker)
    ratio = _med(_year(produced, 2024) / np.maximum(_year(produced, 2023), 1.0))
    add("P3", f"domestic drone production in {attacker} more than doubles", f"2024/2023: {ratio:.2f}", "≥ 2.0", ratio >= 2.0)

    # P4 localisation
    share = base["drone_import_share"].sel(actor=attacker)
    jan23, dec24 = _med(_at(share, "2023-01")), _med(_at(share, "2024-12"))
    add("P4", f"{licensor}'s share of {attacker}'s drones falls (localisation)",
        f"Jan 2023: {jan23:.2f}; Dec 2024: {dec24:.2f}", "Dec 2024 < half of Jan 2023", dec24 < 0.5 * jan23)

    # P5 troops
    if nk is not None:
        nk_troops = _med(_at(base["troops_sent"].sel(actor=nk), "2024-12"))
        ir_max = float(base["troops_sent"].sel(actor=licensor).max())
        add("P5", f"{nk} sends troops, {licensor} does not",
            f"{nk} 2024-12: {nk_troops:,.0f}; {licensor} max: {ir_max:,.0f}",
            f"11,000 ± 30%; {licensor} < 110 always", 7700 <= nk_troops <= 14300 and ir_max < 110)
    else:
        add("P5", "North Korea sends troops", "no actor north_korea", "11,000 ± 30%", False)

    # P6 Assad's fall breaks the military pillar only
    when = _shift(_event_month(settings["assad_fall"], "assad_fall"), 3)
    f3, b3 = _at(fall["strength"].sel(dyad=ru_ir), when), _at(base["strength"].sel(dyad=ru_ir), when)
    drop = 1.0 - _med(f3.sel(channel="military")) / max(_med(b3.sel(channel="military")), 1e-9)
    econ = _med(f3.sel(channel="economic")) / max(_med(b3.sel(channel="economic")), 1e-9)
    dipl = _med(f3.sel(channel="diplomatic")) / max(_med(b3.sel(channel="diplomatic")), 1e-9)
    after = fall["strength"].sel(dyad=ru_ir).sel(time=slice(f"{when}-01", None)).median("replicate")
    order = bool(((after.sel(channel="military") < after.sel(channel="economic"))
                  & (after.sel(channel="military") < after.sel(channel="diplomatic"))).all())
    add("P6", "Assad's fall breaks the military pillar only",
        f"{when}: military −{drop:.0%}; economic ×{econ:.2f}; diplomatic ×{dipl:.2f}; military lowest after: {order}",
        "military ≥ 40% lower; others ≥ ×0.90; military < economic, diplomatic", drop >= 0.4 and econ >= 0.9 and dipl >= 0.9 and order)

    # P7 asymmetry
    dep = base["dependence"].sel(channel="composite", time=slice("2024-01-01", None))
    ir_on_ru = dep.sel(actor=licensor, partner=attacker)
    ru_on_ir = dep.sel(actor=attacker, partner=licensor)
    frac = float((ir_on_ru > ru_on_ir).all("time").mean())
    add("P7", f"{licensor} depends on {attacker} more than the reverse",
        f"{frac:.0%} of replicates in every month from 2024-01", "≥ 90%", frac >= 0.9)

    # P8 insecurity drives Iran to Russia
    d_f, d_b = _at(fall["demand"], when), _at(base["demand"], when)
    ir_up = _med(d_f.sel(actor=licensor, partner=attacker)) - _med(d_b.sel(actor=licensor, partner=attacker))
    ru_up = _med(d_f.sel(actor=attacker, partner=licensor)) - _med(d_b.sel(actor=attacker, partner=licensor))
    add("P8", f"after Assad's fall {licensor} wants {attacker} more, not the reverse",
        f"{when}: {licensor} demand {ir_up:+.3f}; {attacker} demand {ru_up:+.3f}", f"{licensor} > 0; {attacker} ≤ 0",
        ir_up > 0 and ru_up <= 1e-6)

    # P9 the glue weakens when the US courts Russia
    end = format_month(s.end)
    comp = _med(_at(talks["strength"].sel(dyad=ru_ir, channel="composite"), end)) - \
        _med(_at(base["strength"].sel(dyad=ru_ir, channel="composite"), end))
    host = _med(np.maximum(0, -_at(talks["strength"].sel(dyad=us_ru, channel="composite"), end))) - \
        _med(np.maximum(0, -_at(base["strength"].sel(dyad=us_ru, channel="composite"), end)))
    route = f"{us}→{defender}: arms"
    aid = _med(_at(talks["flow"].sel(route=route), end)) - _med(_at(base["flow"].sel(route=route), end))
    add("P9", f"the common-adversary glue weakens when {us} courts {attacker}",
        f"{end}: {ru_ir} composite {comp:+.3f}; {us_ru} hostility {host:+.3f}; {us} aid {aid:+.3f}",
        "all three lower (< 0)", comp < 0 and host < 0 and aid < 0)

    # P10 snapback deepens Iran's economic dependence
    when = _shift(_event_month(settings["snapback"], "snapback"), 6)
    dep_s = _med(_at(snap["dependence"].sel(actor=licensor, partner=attacker, channel="economic"), when))
    dep_b = _med(_at(base["dependence"].sel(actor=licensor, partner=attacker, channel="economic"), when))
    st_s, st_b = _at(snap["strength"].sel(dyad=ru_ir), when), _at(base["strength"].sel(dyad=ru_ir), when)
    econ = _med(st_s.sel(channel="economic")) - _med(st_b.sel(channel="economic"))
    dipl = _med(st_s.sel(channel="diplomatic")) - _med(st_b.sel(channel="diplomatic"))
    add("P10", f"snapback deepens {licensor}'s economic dependence on {attacker}",
        f"{when}: dependence {dep_b:.3f} → {dep_s:.3f}; economic {econ:+.3f}; diplomatic {dipl:+.3f}",
        "dependence higher; channels not lower (≥ −0.005)", dep_s > dep_b and econ >= -0.005 and dipl >= -0.005)

    # P12 the treaty partners never turn on each other
    worst_med, worst_p5, where = np.inf, np.inf, ""
    for name in SCENARIOS:
        ch = results[name]["strength"].sel(dyad=ru_ir, channel=list(prm.CHANNELS))
        med = ch.median("replicate")
        p5 = ch.quantile(0.05, dim="replicate")
        if float(med.min()) < worst_med:
            worst_med, where = float(med.min()), name
        worst_p5 = min(worst_p5, float(p5.min()))
    add("P12", f"{ru_ir} never turns hostile (an emptied channel is no link, not enmity)",
        f"lowest monthly median {worst_med:+.3f} ({where}); lowest 5th percentile {worst_p5:+.3f}",
        "median ≥ −0.05 and 5th percentile ≥ −0.15 in every month, channel and preset",
        worst_med >= -0.05 and worst_p5 >= -0.15)

    # P11 sanity
    bad = [name for name, ok in sanity if not ok]
    add("P11", "every state variable inside its declared range, finite",
        f"{len(sanity) - len(bad)}/{len(sanity)} runs clean" + (f"; failing: {', '.join(bad)}" if bad else ""),
        "all runs clean", not bad)
    out.sort(key=lambda r: int(r.id[1:]))
    return out


def in_range(ds: xr.Dataset) -> bool:
    """True when every variable is finite and inside its declared range."""
    for name, (_dims, _u, _d, (lo, hi)) in VARIABLES.items():
        a = ds[name].values
        if a.size == 0:
            continue
        if not np.all(np.isfinite(a)) or a.min() < lo - 1e-6 or a.max() > hi + 1e-6:
            return False
    return True


def random_draws(settings: Settings, n: int, seed: int = 12345) -> dict[str, np.ndarray]:
    """Uniform draws of every numeric parameter within its declared range, one per replicate."""
    rng = np.random.default_rng(seed)
    out = {}
    for path, p in prm.registry(settings.actors).items():
        if p.kind != "float" or path.startswith(("relations.", "shocks.")):
            continue
        out[path] = rng.uniform(p.low, p.high, size=n)
    return out


def evaluate(overrides: list[str] | None = None, replicates: int = MIN_REPLICATES,
             sanity_draws: int = SANITY_DRAWS) -> list[PatternResult]:
    overrides = list(overrides or [])
    results, settings, sanity = {}, {}, []
    for name in SCENARIOS:
        s = validate(compose([*overrides, f"scenario={name}", f"ensemble.replicates={replicates}"]))
        if s.start > parse_month(NEEDS[0]) or s.end < parse_month(NEEDS[1]):
            raise ConfigError(f"validate: the patterns need time.start <= {NEEDS[0]} and time.end >= {NEEDS[1]} "
                              f"(got {s['time.start']}..{s['time.end']})")
        settings[name] = s
        results[name] = run(s)
        sanity.append((name, in_range(results[name])))
    if sanity_draws:
        s = validate(compose([*overrides, "scenario=combined", f"ensemble.replicates={sanity_draws}"]))
        sanity.append((f"{sanity_draws} parameter draws", in_range(run(s, param_values=random_draws(s, sanity_draws)))))
    return check(results, settings, sanity)


def table(rows: list[PatternResult]) -> str:
    w_id, w_fig = 4, max(len(r.figure) for r in rows)
    lines = [f"{'id':<{w_id}} {'result':<6} {'figure':<{w_fig}}  target", "-" * (w_id + w_fig + 40)]
    for r in rows:
        lines.append(f"{r.id:<{w_id}} {'pass' if r.passed else 'FAIL':<6} {r.figure:<{w_fig}}  {r.target}")
        lines.append(f"{'':<{w_id}} {'':<6} {r.pattern}")
    n = sum(r.passed for r in rows)
    lines.append(f"{n} of {len(rows)} patterns hold")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print("usage: geosim-validate [override ...]   (Hydra syntax, e.g. dynamics.weight.glue=1.2)\n"
              "Runs the presets and checks the patterns of patterns.md; exit 0 only if all hold.")
        return
    try:
        rows = evaluate(argv)
    except ConfigError as exc:
        print(f"geosim-validate: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(table(rows))
    sys.exit(0 if all(r.passed for r in rows) else 1)
