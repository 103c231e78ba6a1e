"""Pictures a student can read: trajectories, the network of states, the war.

Every function takes a results Dataset (and the settings it came from) and returns a
matplotlib Figure; :func:`write_all` saves the standard set as PNG.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

from .calendar import format_month, parse_month  # noqa: E402
from .config import Settings  # noqa: E402

COLORS = {"military": "#c0392b", "economic": "#2471a3", "diplomatic": "#229954", "composite": "#222222"}
STYLE = {"military": "-", "economic": "-", "diplomatic": "-", "composite": "--"}


def _band(ax, t, da: xr.DataArray, color, label, style="-"):
    """Median line, and the 5–95% band when there are several replicates."""
    values = np.asarray(da.transpose("time", "replicate").values, dtype=float)
    ax.plot(t, np.median(values, axis=1), style, color=color, lw=2 if style == "-" else 1.6, label=label)
    if values.shape[1] > 1:
        lo, hi = np.percentile(values, [5, 95], axis=1)
        ax.fill_between(t, lo, hi, color=color, alpha=0.15, lw=0)


def event_label(ev) -> str:
    """The event's ``label`` from its scenario file, else its id in words."""
    return str(ev.spec.get("label") or ev.id.replace("_", " ").capitalize())


def _events(ax, settings: Settings, labels: bool = True):
    for k, ev in enumerate(settings.scenario.in_period(settings)):
        x = np.datetime64(f"{format_month(max(ev.month, settings.start))}-01")
        ax.axvline(x, color="#7f8c8d", ls=":", lw=1.2, zorder=0)
        if labels:  # alternate heights so that close events do not overlap
            ax.annotate(event_label(ev), (x, 0.98 - 0.09 * (k % 2)), xycoords=("data", "axes fraction"),
                        xytext=(3, 0), textcoords="offset points", va="top", ha="left", fontsize=7,
                        color="#444444", bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75))


def _time_axis(ax):
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.grid(True, axis="y", alpha=0.3)


def _subtitle(ds: xr.Dataset, band: bool = True) -> str:
    r = ds.sizes["replicate"]
    spread = "single run" if r == 1 else f"median of {r} replicates" + (", band = 5–95%" if band else "")
    return f"scenario: {ds.attrs.get('scenario', '?')}  ·  {spread}"


def dyad_panel(ax, ds: xr.Dataset, settings: Settings, dyad: str, event_labels: bool = True, legend: bool = False):
    t = ds["time"].values
    ax.axhspan(-1, 0, color="#f5b7b1", alpha=0.18, lw=0)
    ax.axhline(0, color="#555555", lw=0.8)
    for c in ("military", "economic", "diplomatic", "composite"):
        _band(ax, t, ds["strength"].sel(dyad=dyad, channel=c), COLORS[c], c, STYLE[c])
    _events(ax, settings, labels=event_labels)
    ax.set_ylim(-1.05, 1.05)
    ax.set_title(dyad, fontsize=11, fontweight="bold")
    ax.set_ylabel("strength\n(−1 hostile … +1 allied)", fontsize=8)
    _time_axis(ax)
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
    fig.tight_layout(rect=(0, 0, 1, top))
    return fig


def focus(ds: xr.Dataset, settings: Settings, dyad_key: str | None = None) -> plt.Figure:
    """One dyad, large, with its events labelled."""
    key = dyad_key or settings["output.focus_dyad"]
    dyad = ds["dyad"].values[list(ds["dyad_key"].values).index(key)]
    fig, ax = plt.subplots(figsize=(11, 5.5))
    dyad_panel(ax, ds, settings, dyad, legend=True)
    ax.set_title(f"{dyad}: alliance strength by channel\n{_subtitle(ds)}", fontsize=12)
    ax.text(0.995, 0.02, "below 0 (shaded) = hostility", transform=ax.transAxes, ha="right", fontsize=8, color="#922b21")
    fig.tight_layout()
    return fig


def _positions(n: int) -> np.ndarray:
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.c_[np.cos(angles), np.sin(angles)]


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
            if abs(v) >= 0.15:
                ax.text((x1 + x2) / 2, (y1 + y2) / 2, f"{v:+.2f}", fontsize=7, ha="center", va="center",
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8), zorder=3)
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
    fig.suptitle(f"The {len(actors)} states as a network — line width and number = composite strength (median)\n"
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
    for var, label, color in [("drones_launched", "launched", "#c0392b"), ("drones_produced", "built at home", "#2471a3"),
                              ("drones_imported", "imported", "#e67e22")]:
        _band(ax, t, ds[var].sel(actor=att), color, label)
    ax.set_title(f"Attack drones used and supplied by {att}")
    ax.set_ylabel("drones per month")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    palette = ["#8e44ad", "#16a085", "#d35400", "#2c3e50", "#b7950b"]
    for k, actor in enumerate(ds["actor"].values):
        troops = ds["troops_sent"].sel(actor=actor)
        if float(troops.max()) > 0:
            _band(ax, t, troops, palette[k % len(palette)], f"from {actor}")
    ax.set_title(f"Foreign soldiers serving with {att}'s forces")
    ax.set_ylabel("soldiers")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax = axes[1, 0]
    into = (ds["route_receiver"] == dfd) & (ds["route_good"] == "arms")
    for k, route in enumerate(ds["route"].values[into.values]):
        if float(ds["flow"].sel(route=route).max()) > 0:  # suppliers that never deliver stay off the chart
            _band(ax, t, ds["flow"].sel(route=route), palette[k % len(palette)],
                  f"from {ds['route_supplier'].sel(route=route).item()}")
    ax.set_title(f"Arms delivered to {dfd}")
    ax.set_ylabel("share of its full need")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    _band(ax, t, ds["territory"], "#7b241c", "territory")
    ax.set_title(f"Territory of {dfd} held by {att}")
    ax.set_ylabel("% of territory")
    ax.set_ylim(0, max(40.0, 1.2 * float(ds["territory"].max())))  # a whole-country scale, not a zoom
    for ax in axes.flat:
        _events(ax, settings, labels=ax is axes[0, 0])
        _time_axis(ax)
    fig.suptitle(f"The war of attrition\n{_subtitle(ds)}", fontsize=13)
    fig.tight_layout()
    return fig


def alignment(ds: xr.Dataset, settings: Settings) -> plt.Figure:
    """Predicted blocs and structural balance over time (drawn by sim.analysis.plots)."""
    from .analysis.plots import alignment as draw

    return draw(ds, settings)


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
