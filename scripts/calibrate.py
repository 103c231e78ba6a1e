"""Reproduce the calibration of the default parameters.

    python scripts/calibrate.py            # all stages (a few minutes on 2 cores)
    python scripts/calibrate.py production # one stage

The model calibrates each relation's target on the *reference world* (the registry defaults,
docs/model.md section 5), so a candidate value given as a command-line override would be judged
as a lever moved away from the defaults. Every stage therefore evaluates a candidate as a set of
registry defaults (:func:`candidate`), exactly as if it had been written into
``sim/parameters.py``.

Stages, in the order they were done:

1. ``production`` — the drone plant (A3, ctx6): solve its capacity at opening and its build rate
   so that the model's own plant (investment while demand outruns it, sanctioned inputs) builds
   2,738 drones in 2023 and 5,760 in Jan–Sep 2024. Exact, noise off.
2. ``relations`` — a grid over the flow and anchor weights, scored on P1, P6 and P12 together
   (100 replicates): the military channel must build up before Assad's fall, drop by at least
   40% within three months after it, and settle near zero ("almost no military link left", B4)
   rather than in hostility.
3. ``payoffs`` — the secondary-sanctions cost (P10: the snapback must still deepen Iran's
   dependence) and the troop cost (P5: Iran never sends troops, B5).
4. ``shocks`` — the talks' détente and aid cut, scored on P9 and on the combined path.
5. ``glue`` — the weight of the shared adversary: P9 needs it above zero; B7 and P12 need the
   combined path to keep every Russia–Iran channel at or above zero.
6. ``check`` — ``geosim-validate`` with the registry defaults (what the test suite runs).

The chosen values are the registry defaults in ``sim/parameters.py``; this script prints the
candidates next to them so a reader can see why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import sys

import numpy as np
from scipy.optimize import brentq, fsolve

from sim import parameters as prm
from sim import validate as V
from sim.config import compose, register, validate
from sim.model import GeoModel
from sim.parameters import GLOBAL
from sim.run import run

CTX6 = (2738.0, 5760.0)  # drones built at Alabuga: 2023; January–September 2024


@functools.lru_cache(maxsize=8)
def _plant_settings(overrides: tuple[str, ...]):
    return validate(compose(["war.drones.noise=0", "time.end=2024-12", *overrides]))


def plant_path(initial: float, build_rate: float, overrides: tuple[str, ...] = ()) -> np.ndarray:
    """Drones the model's plant builds each month (noise off), given the capacity at opening and
    the build rate: the model's own investment rule, not a curve."""
    s = _plant_settings(tuple(overrides))
    m = GeoModel(s, 1, rng=0, param_values={"war.drones.production_initial": np.array([initial]),
                                            "war.drones.build_rate": np.array([build_rate])})
    out = []
    for _ in range(s.months):
        m.step()
        out.append(float(m.drones_produced[0]))
    return np.array(out)


def plant_output(initial: float, build_rate: float, overrides: tuple[str, ...] = ()) -> tuple[float, float]:
    """Drones built in 2023 and in Jan–Sep 2024 (the months ctx6 covers)."""
    out = plant_path(initial, build_rate, overrides)
    y23 = _plant_settings(tuple(overrides)).month_index("2023-01")
    return out[y23:y23 + 12].sum(), out[y23 + 12:y23 + 21].sum()


def fit_production(overrides: tuple[str, ...] = ()) -> tuple[float, float]:
    """Capacity at opening and build rate for which the plant matches ctx6 exactly."""
    def residual(x):
        return [a - b for a, b in zip(plant_output(x[0], x[1], overrides), CTX6, strict=True)]

    initial, rate = fsolve(residual, [20.0, 40.0])
    assert max(abs(r) for r in residual([initial, rate])) < 1e-3
    return float(initial), float(rate)


def stage_production() -> None:
    initial, rate = fit_production()
    print(f"production: capacity at opening {initial:.1f}/month, build rate {rate:.1f}/month per month "
          f"(with the default input sanctions; ctx6: {CTX6[0]:,.0f} in 2023, {CTX6[1]:,.0f} in Jan–Sep 2024)")
    print(f"  registry: initial {GLOBAL['war.drones.production_initial'].default}, "
          f"build rate {GLOBAL['war.drones.build_rate'].default}")
    print("  the plant then grows while demand outruns it; ctx6 ends in 2024-09, what it does later is the rule's")
    # the swarm doctrine: how wide the adoption curve must be for a 2024/2023 launch ratio of ~4.4
    mid = 18  # 2024-01, months after 2022-07

    def ratio(width):
        t = np.arange(78)
        d = 1.0 / (1.0 + np.exp(-(t - mid) / width))
        return d[30:42].sum() / d[18 - 12 + 0:18].sum() - 4.4

    print(f"  doctrine width for a demand ratio of 4.4 (A4): {brentq(ratio, 1.0, 20.0):.1f} months "
          f"(registry {GLOBAL['war.drones.doctrine_width'].default}; launches are also supply-limited)")


@contextlib.contextmanager
def candidate(values: dict[str, float]):
    """Evaluate with ``values`` as the registry defaults (the reference world moves with them)."""
    saved = {k: prm.GLOBAL[k] for k in values}
    try:
        for k, v in values.items():
            prm.GLOBAL[k] = dataclasses.replace(prm.GLOBAL[k], default=v)
        register()
        yield
    finally:
        prm.GLOBAL.update(saved)
        register()


def _runs(scenarios: tuple[str, ...], replicates: int = 100):
    return {s: run(validate(compose([f"scenario={s}", f"ensemble.replicates={replicates}"]))) for s in scenarios}


def _median(da, month: str) -> float:
    return float(da.sel(time=np.datetime64(f"{month}-01", "ns")).median())


def _rows(replicates: int = 100) -> dict:
    return {r.id: r for r in V.evaluate(replicates=replicates, sanity_draws=0)}


def _flag(row) -> str:
    return "pass" if row.passed else "FAIL"


def stage_relations() -> None:
    print("relations: flow and anchor weights (P1, P6, P12; Russia–Iran military)")
    print("  flow anchor | P1 | P6 | P12 | baseline 2024-06 | drop 3 months after the fall | after the fall, 2028-12")
    for flow, anchor in itertools.product([0.3, 0.5], [0.5, 1.0, 1.5, 2.0]):
        with candidate({"dynamics.weight.flow": flow, "dynamics.weight.anchor": anchor}):
            rows = _rows()
            r = _runs(("baseline", "assad_fall"))
        mb = r["baseline"]["strength"].sel(dyad="Russia–Iran", channel="military")
        mf = r["assad_fall"]["strength"].sel(dyad="Russia–Iran", channel="military")
        drop = 1 - _median(mf, "2025-03") / _median(mb, "2025-03")
        print(f"  {flow:4} {anchor:6} | {_flag(rows['P1'])} | {_flag(rows['P6'])} | {_flag(rows['P12'])} | "
              f"{_median(mb, '2024-06'):16.2f} | {drop:29.0%} | {_median(mf, '2028-12'):+.2f}")
    print("  registry: flow {}, anchor {}".format(*(GLOBAL[k].default for k in ("dynamics.weight.flow",
                                                                               "dynamics.weight.anchor"))))


def stage_payoffs() -> None:
    print("payoffs: secondary-sanctions cost (P10) and troop cost (P5)")
    print("  sanctions cost | P10 figure")
    for cost in (0.5, 1.0, 2.0, 3.0):
        with candidate({"exchange.cost.sanctions": cost}):
            row = _rows()["P10"]
        print(f"  {cost:14} | {_flag(row)} {row.figure}")
    print("  troop cost | P5 figure")
    for cost in (2.0, 4.0, 6.0, 8.0):
        with candidate({"exchange.cost.troops": cost}):
            row = _rows()["P5"]
        print(f"  {cost:10} | {_flag(row)} {row.figure}")
    print(f"  registry: sanctions cost {GLOBAL['exchange.cost.sanctions'].default}, "
          f"troop cost {GLOBAL['exchange.cost.troops'].default}")


def stage_shocks() -> None:
    print("shocks: talks' détente and aid cut (P9; combined scenario at the horizon)")
    print("  detente aid_cut | P9 | US–Russia composite 2028-12 (combined) | US arms to Ukraine")
    for detente, cut in itertools.product([0.3, 0.6, 1.2], [0.5, 1.0]):
        with candidate({"shocks.trump_talks.detente": detente, "shocks.trump_talks.aid_cut": cut}):
            rows = _rows()
            c = _runs(("combined",))["combined"]
        us_ru = _median(c["strength"].sel(dyad="Russia–United States", channel="composite"), "2028-12")
        aid = _median(c["flow"].sel(route="United States→Ukraine: arms"), "2028-12")
        print(f"  {detente:7} {cut:7} | {_flag(rows['P9'])} | {us_ru:+.2f} | {aid:.2f}")
    print("  registry: detente {}, aid_cut {}".format(GLOBAL["shocks.trump_talks.detente"].default,
                                                   GLOBAL["shocks.trump_talks.aid_cut"].default))


def stage_glue() -> None:
    print("glue: weight of the shared adversary (P9, P12; B7 on the combined path at the horizon)")
    print("  glue | P9 | P12 | Russia–Iran military, economic, diplomatic, composite in combined, 2028-12")
    for glue in (0.1, 0.3, 0.5, 1.0):
        with candidate({"dynamics.weight.glue": glue}):
            rows = _rows()
            c = _runs(("combined",))["combined"]["strength"].sel(dyad="Russia–Iran")
        values = ", ".join(f"{_median(c.sel(channel=ch), '2028-12'):+.2f}"
                           for ch in ("military", "economic", "diplomatic", "composite"))
        print(f"  {glue:4} | {_flag(rows['P9'])} | {_flag(rows['P12'])} | {values}")
    print(f"  registry: glue {GLOBAL['dynamics.weight.glue'].default}")


def stage_check() -> None:
    rows = V.evaluate()
    print(V.table(rows))
    if not all(r.passed for r in rows):
        sys.exit(1)


STAGES = {"production": stage_production, "relations": stage_relations, "payoffs": stage_payoffs,
          "shocks": stage_shocks, "glue": stage_glue,
          "check": stage_check}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(STAGES):
        if name not in STAGES:
            sys.exit(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
        STAGES[name]()
        print()
