"""Pictures a student can read: trajectories, the network of states, the war.

Every function takes a results Dataset (and the settings it came from) and returns a
matplotlib Figure; :func:`write_all` saves the standard set as PNG.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from .calendar import format_month, parse_month
from .settings import Settings

COLORS = {"military": "#c0392b", "economic": "#2471a3", "diplomatic": "#229954", "composite": "#222222"}
STYLE = {"military": "-", "economic": "-", "diplomatic": "-", "composite": "--"}


OVERLAP = (("-", 3.2), ((0, (5, 2)), 2.0), ((0, (1, 1.5)), 2.2), ((0, (6, 2, 1, 2)), 1.6), ((0, (2, 3)), 1.3))
"""(line style, width) for series that may coincide: each is thinner than the one before and
drawn on top of it, so equal curves show as a dashed line inside a thicker one."""


def overlap_style(k: int) -> dict:
    style, width = OVERLAP[k % len(OVERLAP)]
    return {"ls": style, "lw": width, "zorder": 3 + k}


def band(ax, t, da: xr.DataArray, color, label, style="-", lw: float | None = None, zorder: float = 2):
    """Median line, and the 5–95% band when there are several replicates."""
    values = np.asarray(da.transpose("time", "replicate").values, dtype=float)
    ax.plot(t, np.median(values, axis=1), ls=style, color=color, lw=lw or (2 if style == "-" else 1.6), label=label,
            zorder=zorder)
    if values.shape[1] > 1:
        lo, hi = np.percentile(values, [5, 95], axis=1)
        ax.fill_between(t, lo, hi, color=color, alpha=0.15, lw=0)


def event_label(ev) -> str:
    """The event's ``label`` from its scenario file, else its id in words."""
    return str(ev.spec.get("label") or ev.id.replace("_", " ").capitalize())


def scenario_events(source) -> list[tuple[int, str, np.datetime64, np.datetime64]]:
    """(number, label, first month, last month) of the events a plot marks: those within the run,
    numbered in the scenario file's order from 1 (as the dashboard numbers them). ``source`` is
    a results Dataset (its embedded scenario) or the run's Settings."""
    import yaml

    if isinstance(source, xr.Dataset):
        specs = (yaml.safe_load(source.attrs.get("scenario_yaml", "")) or {}).get("events", [])
        t0, t1 = source["time"].values[0], source["time"].values[-1]
    else:
        specs = [{**ev.spec, "date": format_month(ev.month),
                  **({"date_window": [format_month(m) for m in ev.window]} if ev.window is not None else {})}
                 for ev in source.scenario.events]
        t0, t1 = (np.datetime64(f"{format_month(m)}-01", "ns") for m in (source.start, source.end))
    out = []
    for number, ev in enumerate(specs, start=1):
        months = ev.get("date_window") or [ev.get("date"), ev.get("date")]
        first, last = (np.datetime64(f"{format_month(parse_month(str(m)))}-01", "ns") for m in months)
        if first > t1:
            continue
        label = str(ev.get("label") or str(ev.get("id", "")).replace("_", " ").capitalize())
        out.append((number, label, max(first, t0), max(last, t0)))
    return out


def mark_events(ax, events, numbers: bool = True) -> None:
    """Event lines (a shaded span for a date window) and, at the top of the plot, the events'
    numbers in small white discs; numbers closer than a disc's width move down a row, so they
    never overlap. :func:`event_key` says what the numbers mean."""
    placed: list[tuple[float, int]] = []
    width_in = ax.get_window_extent().width / ax.figure.dpi if ax.figure else 6.0
    for number, _label, first, last in events:
        if first == last:
            ax.axvline(first, color="#7f8c8d", ls=":", lw=1.2, zorder=0)
        else:
            ax.axvspan(first, last, color="#7f8c8d", alpha=0.12, lw=0, zorder=0)
        if not numbers:
            continue
        x = mdates.date2num(first)
        x0, x1 = ax.get_xlim()
        frac = (x - x0) / (x1 - x0) if x1 > x0 else 0.0
        row = 0
        while any(abs(frac - f) * width_in < 0.2 and r == row for f, r in placed):  # 0.2 inch: a disc and a gap
            row += 1
        placed.append((frac, row))
        ax.annotate(str(number), (first, 1.0), xycoords=("data", "axes fraction"), xytext=(0, -4 - 13 * row),
                    textcoords="offset points", ha="center", va="top", fontsize=7, fontweight="bold", color="#333333",
                    bbox=dict(boxstyle="circle,pad=0.2", fc="white", ec="#7f8c8d", lw=0.8), zorder=6)


def event_key(events, width: int = 150) -> str:
    """What the numbers on the plots stand for: ``1 Russia–North Korea treaty (2024-06) · 2 …``."""
    import textwrap

    if not events:
        return ""
    parts = []
    for number, label, first, last in events:
        when = str(first)[:7] if first == last else f"{str(first)[:7]} to {str(last)[:7]}"
        parts.append(f"({number}) {label}, {when}")
    return "\n".join(textwrap.wrap("Events: " + "  ·  ".join(parts), width=width, break_long_words=False))


def add_event_key(fig, events, fontsize: float = 8.5) -> float:
    """Write :func:`event_key` along the bottom of ``fig``; returns the height it takes (a
    fraction of the figure) for ``tight_layout(rect=(0, that, 1, ...))``."""
    width_in, height_in = fig.get_size_inches()
    text = event_key(events, width=max(60, int(width_in * 72 / (fontsize * 0.55))))
    if not text:
        return 0.0
    fig.text(0.5, 0.008, text, ha="center", va="bottom", fontsize=fontsize, color="#333333")
    return (text.count("\n") + 1) * fontsize * 1.45 / 72 / height_in + 0.012


def draw_events(ax, settings: Settings, labels: bool = True):
    """Event lines of the run's scenario; with ``labels``, their numbers (see :func:`mark_events`)."""
    mark_events(ax, scenario_events(settings), numbers=labels)


def time_axis(ax):
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.grid(True, axis="y", alpha=0.3)


def _subtitle(ds: xr.Dataset, band: bool = True) -> str:
    r = ds.sizes["replicate"]
    spread = "single run" if r == 1 else f"median of {r} replicates" + (", band = 5–95%" if band else "")
    return f"scenario: {ds.attrs.get('scenario', '?')}  ·  {spread}"


def strength_axis(ax) -> None:
    """The −1…+1 strength scale with room above and below, so lines at ±1 stay off the frame."""
    ax.set_ylim(-1.15, 1.15)
    ax.set_yticks([-1, -0.5, 0, 0.5, 1])


def dyad_panel(ax, ds: xr.Dataset, settings: Settings, dyad: str, event_labels: bool = True, legend: bool = False):
    t = ds["time"].values
    ax.axhspan(-1, 0, color="#f5b7b1", alpha=0.18, lw=0)
    ax.axhline(0, color="#555555", lw=0.8)
    for c in ("military", "economic", "diplomatic", "composite"):
        band(ax, t, ds["strength"].sel(dyad=dyad, channel=c), COLORS[c], c, STYLE[c])
    draw_events(ax, settings, labels=event_labels)
    strength_axis(ax)
    ax.set_title(dyad, fontsize=11, fontweight="bold")
    ax.set_ylabel("strength\n(−1 hostile … +1 allied)", fontsize=8)
    time_axis(ax)
    if legend:
        ax.legend(loc="lower left", fontsize=8, ncol=4, framealpha=0.9)


def trajectories(ds: xr.Dataset, settings: Settings) -> plt.Figure:
    """All dyads, one panel each: three channels and the composite over time."""
    dyads = list(ds["dyad"].values)
    cols = 2
    rows = (len(dyads) + 1) // cols
    height = 2.9 * rows + 1.3
    fig, axes = plt.subplots(rows, cols, figsize=(14, height), sharex=True, squeeze=False)
    for ax, dyad in zip(axes.flat, dyads, strict=False):
        dyad_panel(ax, ds, settings, dyad, event_labels=True)
    for ax in list(axes.flat)[len(dyads):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    top = 1.0 - 1.15 / height  # a fixed band of 1.15 inches for the title and the legend
    fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, top), fontsize=10, frameon=False)
    fig.suptitle(f"Alliance strength by channel for every pair of states\n{_subtitle(ds)}", fontsize=13, y=0.995)
    bottom = add_event_key(fig, scenario_events(settings), fontsize=10)
    fig.tight_layout(rect=(0, bottom, 1, top))
    return fig


def focus(ds: xr.Dataset, settings: Settings, dyad_key: str | None = None) -> plt.Figure:
    """One dyad, large, with its events labelled."""
    key = dyad_key or settings["output.focus_dyad"]
    dyad = ds["dyad"].values[list(ds["dyad_key"].values).index(key)]
    fig, ax = plt.subplots(figsize=(11, 5.5))
    dyad_panel(ax, ds, settings, dyad, legend=True)
    ax.set_title(f"{dyad}: alliance strength by channel\n{_subtitle(ds)}", fontsize=12)
    ax.text(0.995, 0.02, "below 0 (shaded) = hostility", transform=ax.transAxes, ha="right", fontsize=8, color="#922b21")
    fig.tight_layout(rect=(0, add_event_key(fig, scenario_events(settings)), 1, 1))
    return fig


def _positions(n: int) -> np.ndarray:
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.c_[np.cos(angles), np.sin(angles)]


def _label_point(p: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    """Where an edge's number goes: the middle of an outer edge; on a chord, a third of the way
    from its end that comes first clockwise, which keeps the numbers apart from each other and
    from the points where the chords cross (on a regular polygon those lie at 38% and 62%)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if np.hypot(*(p - q)) < 1.3:  # an outer edge (side of the polygon)
        return tuple((p + q) / 2)
    return tuple(p + 0.27 * (q - p))


def network(ds: xr.Dataset, settings: Settings, months: list[str] | None = None) -> plt.Figure:
    """The states as a network at chosen months: width = |composite strength|, colour = sign."""
    named = {"start": settings.start, "end": settings.end}
    wanted = [named[m] if m in named else parse_month(m) for m in months or settings["output.network_dates"]]
    months = [format_month(m) for m in dict.fromkeys(wanted) if settings.start <= m <= settings.end]
    actors = list(ds["actor"].values)
    pos = _positions(len(actors))
    index = {a: i for i, a in enumerate(actors)}
    fig, axes = plt.subplots(1, len(months), figsize=(4.4 * len(months), 5.0), squeeze=False)
    comp = ds["strength"].sel(channel="composite").median("replicate")
    for ax, month in zip(axes.flat, months, strict=False):
        values = comp.sel(time=np.datetime64(f"{month}-01", "ns"))
        for dyad in ds["dyad"].values:
            a, b = dyad.split("–")
            v = float(values.sel(dyad=dyad))
            (x1, y1), (x2, y2) = pos[index[a]], pos[index[b]]
            color = "#1e8449" if v >= 0 else "#c0392b"
            ax.plot([x1, x2], [y1, y2], color=color, lw=0.5 + 9 * abs(v), alpha=0.35 + 0.6 * abs(v),
                    solid_capstyle="round", zorder=1)
            x, y = _label_point(pos[index[a]], pos[index[b]])
            ax.text(x, y, f"{v:+.2f}", fontsize=7.5, ha="center", va="center", color=color, fontweight="bold",
                    bbox=dict(boxstyle="round,pad=0.18", fc="white", ec=color, lw=0.6), zorder=5)
        ax.scatter(pos[:, 0], pos[:, 1], s=1300, color="#fdfefe", edgecolor="#34495e", lw=1.5, zorder=2)
        for a, (x, y) in zip(actors, pos, strict=False):
            ax.text(x, y, a.replace(" ", "\n"), ha="center", va="center", fontsize=8, fontweight="bold", zorder=4)
        ax.set_title(month, fontsize=12)
        ax.set_xlim(-1.45, 1.45)
        ax.set_ylim(-1.45, 1.45)
        ax.set_aspect("equal")
        ax.axis("off")
    from matplotlib.lines import Line2D

    legend = [Line2D([0], [0], color="#1e8449", lw=5, label="cooperation (composite > 0)"),
              Line2D([0], [0], color="#c0392b", lw=5, label="hostility (composite < 0)")]
    fig.legend(handles=legend, loc="lower center", ncol=2, frameon=False, fontsize=9)
    fig.suptitle(f"The {len(actors)} states as a network — line width and number = composite strength (median, −1…+1)\n"
                 f"{_subtitle(ds, band=False)}",
                 fontsize=12)
    fig.tight_layout(rect=(0, 0.06, 1, 0.93))
    return fig


def war(ds: xr.Dataset, settings: Settings) -> plt.Figure:
    """The war of attrition: drones, foreign troops, military aid, territory."""
    names = settings.names
    att, dfd = names[settings["war.attacker"]], names[settings["war.defender"]]
    t = ds["time"].values
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True)
    ax = axes[0, 0]
    for k, (var, label, color) in enumerate([("drones_launched", "launched", "#c0392b"),
                                             ("drones_produced", "built at home", "#2471a3"),
                                             ("drones_imported", "imported", "#e67e22")]):
        style = overlap_style(k)
        band(ax, t, ds[var].sel(actor=att), color, label, style["ls"], style["lw"], style["zorder"])
    ax.set_title(f"Attack drones used and supplied by {att}")
    ax.set_ylabel("drones per month")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    palette = ["#8e44ad", "#16a085", "#d35400", "#2c3e50", "#b7950b"]
    for k, actor in enumerate(ds["actor"].values):
        troops = ds["troops_sent"].sel(actor=actor)
        if float(troops.max()) > 0:
            band(ax, t, troops, palette[k % len(palette)], f"from {actor}")
    ax.set_title(f"Foreign soldiers serving with {att}'s forces")
    ax.set_ylabel("soldiers")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax = axes[1, 0]
    into = (ds["route_receiver"] == dfd) & (ds["route_good"] == "arms")
    for k, route in enumerate(ds["route"].values[into.values]):
        if float(ds["flow"].sel(route=route).max()) > 0.01:  # suppliers that (almost) never deliver stay off the chart
            band(ax, t, ds["flow"].sel(route=route), palette[k % len(palette)],
                  f"from {ds['route_supplier'].sel(route=route).item()}")
    ax.set_title(f"Arms delivered to {dfd}")
    ax.set_ylabel("share of its full need")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    band(ax, t, ds["territory"], "#7b241c", "territory")
    ax.set_title(f"Territory of {dfd} held by {att}")
    ax.set_ylabel("% of territory")
    ax.set_ylim(0, max(40.0, 1.2 * float(ds["territory"].max())))  # a whole-country scale, not a zoom
    for ax in axes.flat:
        draw_events(ax, settings, labels=True)
        time_axis(ax)
    fig.suptitle(f"The war of attrition\n{_subtitle(ds)}", fontsize=13)
    fig.tight_layout(rect=(0, add_event_key(fig, scenario_events(settings)), 1, 1))
    return fig


def alignment(ds: xr.Dataset, settings: Settings) -> plt.Figure:
    """Predicted blocs (share of replicates with the first state) and structural balance over time."""
    actors = list(ds["actor"].values)
    t = ds["time"].values
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6.8), sharex=True, height_ratios=(1.1, 1.0))
    together = 1.0 - ds["bloc"].mean("replicate").transpose("actor", "time").values  # 1 = with actor 0
    edges = np.append(t, t[-1] + (t[-1] - t[-2] if len(t) > 1 else np.timedelta64(31, "D")))
    mesh = top.pcolormesh(mdates.date2num(edges), np.arange(len(actors) + 1), together, cmap="RdBu",
                          vmin=0.0, vmax=1.0, shading="flat")
    top.set_yticks(np.arange(len(actors)) + 0.5, actors)
    top.invert_yaxis()
    top.set_title(f"Predicted blocs (landscape theory): share of replicates in {actors[0]}'s bloc", fontsize=11)
    cbar = fig.colorbar(mesh, ax=top, pad=0.01, fraction=0.03)
    cbar.set_label(f"with {actors[0]}", fontsize=8)
    band(bottom, t, ds["balance"], "#6c3483", "balanced triads: median over replicates")
    r = ds.sizes["replicate"]
    if r > 1:
        from matplotlib.patches import Patch

        handles, labels = bottom.get_legend_handles_labels()
        handles.append(Patch(color="#6c3483", alpha=0.15, lw=0))
        labels.append("5–95% of replicates (only where they differ)")
        bottom.legend(handles, labels, loc="lower left", fontsize=8)
    else:
        bottom.legend(loc="lower left", fontsize=8)
    bottom.set_ylim(-0.06, 1.1)
    bottom.set_yticks(np.linspace(0, 1, 6))
    bottom.set_ylabel("share of triads")
    bottom.set_title("Structural balance: share of triads of states with a positive sign product", fontsize=11)
    draw_events(bottom, settings, labels=True)
    time_axis(bottom)
    spread = "single run" if r == 1 else f"{r} replicates"
    fig.suptitle(f"Alignment of the states\nscenario: {ds.attrs.get('scenario', '?')}  ·  {spread}", fontsize=12)
    fig.tight_layout(rect=(0, add_event_key(fig, scenario_events(settings)), 1, 1))
    return fig


PLOTS = {"alliance_trajectories": trajectories, "alliance_focus": focus, "network": network, "war": war,
         "alignment": alignment}


def write_all(ds: xr.Dataset, settings: Settings, outdir: str | Path) -> list[Path]:
    """Save the standard plots as PNG files in ``outdir``; return their paths."""
    outdir = Path(outdir)
    paths = []
    for name, make in PLOTS.items():
        fig = make(ds, settings)
        path = outdir / (f"alliance_{settings['output.focus_dyad']}.png" if name == "alliance_focus" else f"{name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------------------------
# Distributions over replicates (docs/ensembles.md). They take results Datasets only, in full
# mode (one trajectory per replicate) or summary mode (quantiles, histograms and a sample).
# --------------------------------------------------------------------------------------------

BANDS = ((0.05, 0.95), (0.25, 0.75))
SCENARIO_COLORS = ("#222222", "#c0392b", "#2471a3", "#229954", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")
STRENGTH_LABEL = "strength (−1 hostile … +1 allied)"


def _config(ds: xr.Dataset) -> dict:
    import yaml

    return yaml.safe_load(ds.attrs.get("config", "")) or {}


def _dyad(ds: xr.Dataset, dyad: str | None) -> str:
    """The dyad label (``Russia–Iran``) from a label, a key (``russia-iran``) or the run's focus dyad."""
    labels, keys = list(ds["dyad"].values), list(ds["dyad_key"].values)
    if dyad is None:
        dyad = (_config(ds).get("output") or {}).get("focus_dyad", keys[0])
    if dyad in labels:
        return dyad
    if dyad in keys:
        return labels[keys.index(dyad)]
    a, _, b = str(dyad).partition("-")
    if f"{b}-{a}" in keys:
        return labels[keys.index(f"{b}-{a}")]
    from .errors import ConfigError

    raise ConfigError(f"plots: dyad {dyad!r} is not in the results; allowed: {', '.join(keys)}")


def _is_summary(ds: xr.Dataset) -> bool:
    return ds.attrs.get("ensemble_mode") == "summary"


def _values(ds: xr.Dataset, variable: str, **sel) -> np.ndarray:
    """Per-replicate values, shape (time, replicate), of a full-mode Dataset."""
    if _is_summary(ds):
        from .errors import ConfigError

        raise ConfigError(f"plots: this needs every replicate's {variable}; the results are in summary mode "
                          "(run with ensemble.mode=full)")
    return np.asarray(ds[variable].sel(**sel).transpose("time", "replicate").values, dtype=float)


def _quantiles(ds: xr.Dataset, variable: str, quantiles, **sel) -> tuple[np.ndarray, np.ndarray]:
    """(quantiles, shape (time, len(quantiles)); a few replicates, shape (time, k)) of either mode."""
    if _is_summary(ds):
        if variable not in ds:
            from .errors import ConfigError

            raise ConfigError(f"plots: {variable} was not summarised; add it to ensemble.summary_variables")
        from .ensemble import histogram_quantiles

        hist = ds[f"{variable}_histogram"].sel(**sel).transpose("time", "bin").values
        get = {k: ds[f"{variable}_{k}"].sel(**sel).values.astype(float) for k in ("bin_low", "bin_high", "min", "max")}
        q = histogram_quantiles(hist, get["bin_low"], get["bin_high"], get["min"], get["max"], quantiles)
        lines = ds[f"{variable}_sample"].sel(**sel).transpose("time", "replicate").values
        return q, np.asarray(lines, dtype=float)
    if variable in ds and "quantile" in ds[variable].dims:  # results kept as output.results=summary
        stored = ds[variable].sel(**sel)
        have = [float(x) for x in stored["quantile"].values]
        missing = [q for q in quantiles if not any(abs(q - h) < 1e-9 for h in have)]
        if missing:
            from .errors import ConfigError

            raise ConfigError(f"plots: these results keep the quantiles {have} of {variable}, not {missing}")
        q = np.stack([stored.sel(quantile=q, method="nearest").values for q in quantiles], axis=1)
        return np.asarray(q, dtype=float), np.zeros((ds.sizes["time"], 0))
    values = _values(ds, variable, **sel)
    return np.quantile(values, quantiles, axis=1).T, values


def _all_events(datasets) -> list[tuple[int, str, np.datetime64, np.datetime64]]:
    """The events of several runs, each once, numbered in the order they first appear."""
    seen: dict[tuple, int] = {}
    for ds in datasets:
        for _n, label, first, last in scenario_events(ds):
            seen.setdefault((label, first, last), len(seen) + 1)
    return [(n, label, first, last) for (label, first, last), n in seen.items()]


def _events_of(ds: xr.Dataset, numbered) -> list:
    """The numbered events (of :func:`_all_events`) that belong to ``ds``'s scenario."""
    own = {(label, first, last) for _n, label, first, last in scenario_events(ds)}
    return [e for e in numbered if (e[1], e[2], e[3]) in own]


def _fan_panel(ax, ds: xr.Dataset, variable: str, color: str, lines: int, **sel) -> None:
    t = ds["time"].values
    qs = (0.5, *(q for band in BANDS for q in band))
    q, sample = _quantiles(ds, variable, qs, **sel)
    for k, (lo, hi) in enumerate(BANDS):
        i, j = 1 + 2 * k, 2 + 2 * k
        ax.fill_between(t, q[:, i], q[:, j], color=color, alpha=0.15 if k == 0 else 0.3, lw=0,
                        label=f"{int(lo * 100)}–{int(hi * 100)}% of replicates")
    for r in range(min(lines, sample.shape[1])):
        ax.plot(t, sample[:, r], color=color, lw=0.5, alpha=0.6, label="single replicates" if r == 0 else None)
    ax.plot(t, q[:, 0], color=color, lw=2.0, label="median")
    time_axis(ax)


def _replicates_note(ds: xr.Dataset) -> str:
    n = ds.attrs.get("replicates", ds.sizes.get("replicate", 0))
    mode = " (summary mode)" if _is_summary(ds) else ""
    sampled = ", parameters drawn per replicate" if int(ds.attrs.get("ensemble_sample_parameters", 0)) else ""
    return f"scenario {ds.attrs.get('scenario', '?')} · {int(n):,} replicates{mode}{sampled}"


def fan(ds: xr.Dataset, dyad: str | None = None, channels=("military", "economic", "diplomatic", "composite"),
        lines: int = 5, variable: str = "strength", **sel) -> plt.Figure:
    """Fan chart: median, 50% and 90% bands and ``lines`` single replicates drawn thinly.

    For ``strength`` one panel per channel of ``dyad`` (a key such as ``russia-iran``, a label,
    or by default the run's focus dyad); for another variable one panel, selected with
    ``sel`` (e.g. ``fan(ds, variable="troops_sent", actor="North Korea")``).
    """
    if variable == "strength":
        label = _dyad(ds, dyad)
        panels = [(c, {"dyad": label, "channel": c}, COLORS.get(c, "#222222")) for c in channels]
        title, unit = f"{label}: alliance strength by channel", STRENGTH_LABEL
    else:
        panels = [(variable.replace("_", " "), sel, "#7b241c")]
        title, unit = variable.replace("_", " "), ds[variable].attrs.get("units", "")
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.6 * len(panels) + 1.3), sharex=True, squeeze=False)
    events = scenario_events(ds)
    for ax, (name, where, color) in zip(axes[:, 0], panels, strict=True):
        _fan_panel(ax, ds, variable, color, lines, **where)
        mark_events(ax, events)
        ax.set_title(name, fontsize=10, loc="left")
        ax.set_ylabel(unit if variable != "strength" else "strength\n(−1 hostile … +1 allied)", fontsize=8)
        if variable == "strength":
            ax.axhline(0, color="#555555", lw=0.6)
            strength_axis(ax)
    axes[-1, 0].set_xlabel("month")
    axes[0, 0].legend(loc="lower left", fontsize=7, ncol=4, framealpha=0.9)
    fig.suptitle(f"{title}\n{_replicates_note(ds)}", fontsize=11)
    fig.tight_layout(rect=(0, add_event_key(fig, events), 1, 1))
    return fig


def _named(datasets) -> dict[str, xr.Dataset]:
    if isinstance(datasets, xr.Dataset):
        datasets = [datasets]
    if isinstance(datasets, dict):
        return dict(datasets)
    return {str(d.attrs.get("scenario", f"run {i}")): d for i, d in enumerate(datasets)}


def _end_distribution(ds: xr.Dataset, variable: str, time, **sel) -> tuple[np.ndarray, np.ndarray]:
    """(values, weights) of the distribution at ``time``: the replicates, or the histogram's bins."""
    if not _is_summary(ds):
        v = np.asarray(ds[variable].sel(time=time, **sel).values, dtype=float).ravel()
        return v, np.full(v.size, 1.0 / v.size)
    hist = ds[f"{variable}_histogram"].sel(time=time, **sel).values.astype(float)
    lo, hi = (float(ds[f"{variable}_bin_{k}"].sel(time=time, **sel)) for k in ("low", "high"))
    vmin, vmax = (float(ds[f"{variable}_{k}"].sel(time=time, **sel)) for k in ("min", "max"))
    nb = hist.size - 2
    centres = np.concatenate([[(vmin + lo) / 2], lo + (np.arange(nb) + 0.5) * (hi - lo) / nb, [(hi + vmax) / 2]])
    return centres, hist / hist.sum()


def end_states(datasets, dyad: str | None = None, channel: str = "composite", time=None, variable: str = "strength",
               **sel) -> plt.Figure:
    """End-state distribution per scenario: violins (left) and empirical CDFs (right), one figure.

    ``datasets`` is a Dataset, a list of them or ``{name: Dataset}``; ``time`` defaults to the
    last month. For ``strength`` the value is ``channel`` of ``dyad``; otherwise ``sel`` selects.
    """
    named = _named(datasets)
    first = next(iter(named.values()))
    if variable == "strength":
        sel = {"dyad": _dyad(first, dyad), "channel": channel}
        what, unit = f"{sel['dyad']} {channel} strength", STRENGTH_LABEL
    else:
        what, unit = variable.replace("_", " "), first[variable].attrs.get("units", "")
    time = first["time"].values[-1] if time is None else np.datetime64(f"{format_month(parse_month(str(time)))}-01", "ns")
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.2, 1]})
    positions, violins = [], []
    for k, (name, ds) in enumerate(named.items()):
        values, weights = _end_distribution(ds, variable, time, **sel)
        color = SCENARIO_COLORS[k % len(SCENARIO_COLORS)]
        order = np.argsort(values)
        cdf = np.cumsum(weights[order])
        right.step(values[order], cdf, where="post", color=color, label=name, **overlap_style(k))
        # violins from a resample of the weighted values (weights are 1/N or histogram shares)
        resampled = np.repeat(values, np.maximum(0, np.round(weights * 2000)).astype(int))
        if resampled.size == 0 or np.ptp(resampled) == 0:
            left.scatter([k], [values[order][np.searchsorted(cdf, 0.5)]], color=color)
        else:
            violins.append(resampled)
            positions.append(k)
            part = left.violinplot([resampled], positions=[k], showmedians=True, widths=0.8)
            for body in part["bodies"]:
                body.set_facecolor(color)
                body.set_alpha(0.45)
            for key in ("cmedians", "cmins", "cmaxes", "cbars"):
                part[key].set_color(color)
    left.set_xticks(range(len(named)), list(named), rotation=20, fontsize=8)
    left.set_xlabel("scenario")
    left.set_ylabel(unit)
    left.set_title("distribution over replicates (violin, line = median)", fontsize=10)
    right.set_xlabel(unit)
    right.set_ylabel("share of replicates at or below (ECDF)")
    right.set_ylim(-0.04, 1.06)
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8, handlelength=3.5)
    right.set_title("empirical cumulative distribution (equal curves: dashes inside a thicker line)", fontsize=9)
    month = str(time)[:7]
    fig.suptitle(f"{what} in {month}, by scenario\n{_replicates_note(first).split(' · ', 1)[1]}", fontsize=11)
    fig.tight_layout()
    return fig


def crossing_probability(ds: xr.Dataset, level: float, dyad: str | None = None, channel: str = "military",
                         direction: str = "below") -> np.ndarray:
    """P(the channel of the dyad has gone ``below``/``above`` ``level`` by month t), per month."""
    if _is_summary(ds):
        a = ds["crossing_share"].attrs
        wanted = (_dyad(ds, dyad), channel, float(level), direction)
        stored = (_dyad(ds, a["crossing_dyad"]), a["crossing_channel"], float(a["crossing_level"]), a["crossing_direction"])
        if wanted != stored:
            from .errors import ConfigError

            raise ConfigError(f"plots: summary results hold the crossing {stored}, not {wanted}; set "
                              "output.crossing.* before the run (or run in full mode)")
        return ds["crossing_share"].values
    values = _values(ds, "strength", dyad=_dyad(ds, dyad), channel=channel)
    crossed = values < level if direction == "below" else values > level
    return np.logical_or.accumulate(crossed, axis=0).mean(axis=1)


def crossing(datasets, level: float = 0.2, dyad: str | None = None, channel: str = "military",
             direction: str = "below") -> plt.Figure:
    """Probability curves: P(the dyad's channel has crossed ``level`` by date t), per scenario."""
    named = _named(datasets)
    first = next(iter(named.values()))
    label = _dyad(first, dyad)
    fig, ax = plt.subplots(figsize=(10, 5.2))
    for k, (name, ds) in enumerate(named.items()):
        ax.plot(ds["time"].values, crossing_probability(ds, level, dyad, channel, direction),
                color=SCENARIO_COLORS[k % len(SCENARIO_COLORS)], label=name, **overlap_style(k))
    events = _all_events(named.values())
    mark_events(ax, events)
    time_axis(ax)
    ax.set_ylim(-0.05, 1.1)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel("month")
    ax.set_ylabel(f"share of replicates gone {direction} {level:g} by then")
    ax.legend(fontsize=8, loc="center left", handlelength=3.5, title="equal curves: dashes inside a thicker line",
              title_fontsize=7)
    fig.suptitle(f"Probability that {label} {channel} strength has gone {direction} {level:g} (−1 hostile … +1 "
                 f"allied)\n{_replicates_note(first).split(' · ', 1)[1]}", fontsize=11)
    fig.tight_layout(rect=(0, add_event_key(fig, events), 1, 1))
    return fig


def comparison(datasets, reference: xr.Dataset, dyad: str | None = None,
               channels=("military", "economic", "diplomatic", "composite"), lines: int = 5) -> plt.Figure:
    """Scenario minus reference, replicate by replicate (common random numbers): median, 50% and
    90% bands of the difference, and a few single differences. One row per scenario.

    Both runs must be full mode with the same seed and replicates, so that replicate i of each
    shares its random numbers and its drawn parameters: the difference is then the scenario's
    effect, not noise between two independent samples.
    """
    from .errors import ConfigError

    named = {k: v for k, v in _named(datasets).items() if v is not reference}
    for ds in (reference, *named.values()):
        if _is_summary(ds):
            raise ConfigError("plots: comparison pairs replicates; the results are in summary mode "
                              "(run with ensemble.mode=full)")
    for name, ds in named.items():
        for key in ("seed", "replicates", "ensemble_block", "ensemble_sample_parameters"):
            if ds.attrs.get(key) != reference.attrs.get(key):
                raise ConfigError(f"plots: comparison needs common random numbers, but {name} and the reference "
                                  f"differ in {key} ({ds.attrs.get(key)} vs {reference.attrs.get(key)})")
    label = _dyad(reference, dyad)
    fig, axes = plt.subplots(len(named), len(channels), figsize=(3.6 * len(channels), 2.8 * len(named) + 1.0),
                             sharex=True, sharey=True, squeeze=False)
    t = reference["time"].values
    events = _all_events([reference, *named.values()])
    for row, (name, ds) in enumerate(named.items()):
        for col, channel in enumerate(channels):
            ax = axes[row, col]
            diff = _values(ds, "strength", dyad=label, channel=channel) - _values(reference, "strength", dyad=label,
                                                                                   channel=channel)
            q = np.quantile(diff, (0.5, 0.05, 0.95, 0.25, 0.75), axis=1)
            ax.fill_between(t, q[1], q[2], color=COLORS[channel], alpha=0.15, lw=0, label="5–95%")
            ax.fill_between(t, q[3], q[4], color=COLORS[channel], alpha=0.3, lw=0, label="25–75%")
            for r in range(min(lines, diff.shape[1])):
                ax.plot(t, diff[:, r], color=COLORS[channel], lw=0.5, alpha=0.6)
            ax.plot(t, q[0], color=COLORS[channel], lw=2, label="median")
            ax.axhline(0, color="#555555", lw=0.6)
            mark_events(ax, _events_of(ds, events))
            time_axis(ax)
            ax.set_title(f"{name}: {channel}", fontsize=9, loc="left")
            ax.set_ylabel("difference in strength" if col == 0 else "")
    for ax in axes[-1]:
        ax.set_xlabel("month")
    lo, hi = axes[0, 0].get_ylim()
    axes[0, 0].set_ylim(lo, hi + 0.15 * (hi - lo))  # room for the event numbers above the curves (shared y)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    ref = reference.attrs.get("scenario", "reference")
    fig.suptitle(f"{label}: scenario minus {ref}, replicate by replicate (common random numbers; strength −1…+1, "
                 f"so a difference of −0.5 is a quarter of the scale)\n"
                 f"{_replicates_note(reference).split(' · ', 1)[1]}", fontsize=11)
    fig.tight_layout(rect=(0, add_event_key(fig, events), 1, 1))
    return fig


DISTRIBUTION_PLOTS = ("fan", "end_states", "crossing", "comparison")


def write_distribution_plots(ds: xr.Dataset, settings: Settings, outdir: str | Path,
                             others: dict[str, xr.Dataset] | None = None) -> list[Path]:
    """Save the plots named in ``output.distribution_plots`` as PNG; ``others`` are the runs of
    ``output.compare_scenarios`` (same configuration and seed). Returns the paths written."""
    outdir = Path(outdir)
    wanted = settings["output.distribution_plots"]
    others = dict(others or {})
    level, channel, direction = (settings[f"output.crossing.{k}"] for k in ("level", "channel", "direction"))
    figures = []
    if "fan" in wanted:
        figures.append((f"fan_{settings['output.focus_dyad']}", fan(ds)))
    if "end_states" in wanted and others:
        figures.append(("end_states", end_states(others, channel=channel)))
    if "crossing" in wanted and others:
        figures.append(("crossing", crossing(others, level=level, channel=channel, direction=direction)))
    if "comparison" in wanted and len(others) > 1 and not _is_summary(ds):
        reference = next(iter(others.values()))
        figures.append(("comparison", comparison(others, reference)))
    paths = []
    for name, fig in figures:
        path = outdir / f"{name}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
