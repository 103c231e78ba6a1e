"""Key outcomes at the horizon and at each scenario event: median and 5–95% range."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .calendar import format_month, parse_month
from .settings import Settings


def report_months(ds: xr.Dataset, settings: Settings) -> list[tuple[str, str]]:
    """(month, label) for the start, each event month and the horizon, in order."""
    out: dict[str, str] = {format_month(settings.start): "start"}
    for ev in settings.scenario.in_period(settings):
        month = format_month(max(ev.month, settings.start))
        out[month] = (out[month] + ", " if month in out else "") + ev.id
    end = format_month(settings.end)
    out[end] = (out[end] + ", " if end in out else "") + "horizon"
    return sorted(out.items(), key=lambda kv: parse_month(kv[0]))


def quantities(ds: xr.Dataset, settings: Settings) -> list[tuple[str, str, xr.DataArray]]:
    """(name, unit, DataArray over time and replicate) of the outcomes worth a summary."""
    s = settings
    att, dfd, lic = (s["war.attacker"], s["war.defender"], s["war.drone_licensor"])
    names = s.names
    focus = ds["strength"].sel(dyad=ds["dyad"][ds["dyad_key"] == s["output.focus_dyad"]].item())
    out = [(f"{focus.dyad.item()} {c}", "strength −1…1", focus.sel(channel=c)) for c in ("military", "economic", "diplomatic", "composite")]
    for dyad in ds["dyad"].values:
        if dyad != focus.dyad.item():
            out.append((f"{dyad} composite", "strength −1…1", ds["strength"].sel(dyad=dyad, channel="composite")))
    dep = ds["dependence"].sel(channel="composite")
    out.append((f"dependence {names[lic]} on {names[att]}", "share 0–1", dep.sel(actor=names[lic], partner=names[att])))
    out.append((f"dependence {names[att]} on {names[lic]}", "share 0–1", dep.sel(actor=names[att], partner=names[lic])))
    out.append((f"economic dependence {names[lic]} on {names[att]}", "share 0–1",
                ds["dependence"].sel(channel="economic", actor=names[lic], partner=names[att])))
    launched = ds["drones_launched"].sel(actor=names[att])
    out.append((f"drones launched by {names[att]}, last 12 months", "drones",
                launched.rolling(time=12, min_periods=1).sum()))
    for actor in ds["actor"].values:
        troops = ds["troops_sent"].sel(actor=actor)
        if float(troops.max()) > 0:
            out.append((f"troops sent by {actor}", "soldiers", troops))
    aid = ds["flow"].where((ds["route_receiver"] == names[dfd]) & (ds["route_good"] == "arms"), 0).sum("route")
    out.append((f"arms to {names[dfd]} (all suppliers)", "share of full need", aid))
    out.append((f"territory held by {names[att]}", "% of " + names[dfd], ds["territory"]))
    return out


def summarize(ds: xr.Dataset, settings: Settings) -> pd.DataFrame:
    """One row per (quantity, month): median, 5th and 95th percentile over replicates."""
    rows = []
    for month, label in report_months(ds, settings):
        t = np.datetime64(f"{month}-01", "ns")
        for name, unit, da in quantities(ds, settings):
            v = np.asarray(da.sel(time=t).values, dtype=float).ravel()
            rows.append({"quantity": name, "month": month, "at": label, "unit": unit,
                         "median": float(np.median(v)), "p05": float(np.percentile(v, 5)),
                         "p95": float(np.percentile(v, 95))})
    return pd.DataFrame(rows)


def _fmt(x: float, big: bool) -> str:
    return f"{x:,.0f}" if big else f"{x:.2f}"


def render(table: pd.DataFrame, replicates: int) -> str:
    """A readable terminal table: quantities down, months across, 'median [5%–95%]'."""
    months = list(dict.fromkeys(table["month"]))
    labels = {m: table.loc[table["month"] == m, "at"].iloc[0] for m in months}
    cells: dict[str, dict[str, str]] = {}
    big = table.groupby("quantity")["p95"].max().abs() >= 100  # counts, not indices
    units = dict(zip(table["quantity"], table["unit"], strict=False))
    for r in table.itertuples():
        b = bool(big[r.quantity])
        cell = _fmt(r.median, b) if replicates == 1 else f"{_fmt(r.median, b)} [{_fmt(r.p05, b)}, {_fmt(r.p95, b)}]"
        cells.setdefault(f"{r.quantity} ({units[r.quantity]})", {})[r.month] = cell
    wq = max(len(q) for q in cells)
    wc = {m: max(len(m), len(labels[m]), *(len(c[m]) for c in cells.values())) for m in months}
    head = " " * wq + "  " + "  ".join(f"{m:>{wc[m]}}" for m in months)
    sub = " " * wq + "  " + "  ".join(f"{labels[m][:wc[m]]:>{wc[m]}}" for m in months)
    lines = [head, sub, "-" * len(head)]
    for q, c in cells.items():
        lines.append(f"{q:<{wq}}  " + "  ".join(f"{c[m]:>{wc[m]}}" for m in months))
    note = "single run" if replicates == 1 else f"median [5th, 95th percentile] over {replicates} replicates"
    return "\n".join(lines + [f"({note})"])
