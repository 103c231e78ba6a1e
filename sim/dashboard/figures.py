"""The dashboard's pictures, as matplotlib Figures (no pyplot: the server draws in threads).

Each function reads a :class:`~sim.dashboard.model.LiveRun` at its current month and
returns a Figure; the Solara components only display them.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch

from ..calendar import format_month, month_range
from ..plots import COLORS, band, draw_events, dyad_panel, time_axis
from .model import LiveRun

COOPERATION, HOSTILITY = "#1e8449", "#c0392b"
SCENARIO_COLOR, BASELINE_COLOR, HIGHLIGHT = "#6c3483", "#7f8c8d", "#f7dc6f"


def _spread(model: LiveRun) -> str:
    r = model.geo.R
    return "one run" if r == 1 else f"line = median of {r} runs, band = 5–95% of runs"


def _period(model: LiveRun) -> tuple[np.datetime64, np.datetime64]:
    t = month_range(model.settings.start, model.settings.end)
    return t[0] - np.timedelta64(15, "D"), t[-1] + np.timedelta64(15, "D")


def dyad_label(model: LiveRun, dyad_key: str) -> str:
    a, b = dyad_key.split("-")
    return model.settings.dyad_label(a, b)


def alliance(model: LiveRun, dyad_key: str) -> Figure:
    """One pair of states over time: military, economic, diplomatic channel and composite."""
    label = dyad_label(model, dyad_key)
    # fixed margins: constrained layout would double the drawing time of every month
    fig = Figure(figsize=(6.6, 4.3))
    fig.subplots_adjust(left=0.13, right=0.985, top=0.855, bottom=0.175)
    ax = fig.add_subplot()
    dyad_panel(ax, model.dataset(), model.settings, label, event_labels=False)
    ax.set_xlim(*_period(model))
    _number_events(ax, model)
    ax.set_title("")
    fig.text(0.01, 0.975, f"{label}: alliance strength by channel", fontsize=12, fontweight="bold", va="top")
    fig.text(0.01, 0.915, f"scenario {model.settings.scenario.name} · {_spread(model)}", fontsize=8.5,
             color="#555555", va="top")
    if not model.months_done:
        ax.text(0.5, 0.62, "press Step or ▶ to simulate the first month", transform=ax.transAxes,
                ha="center", va="center", fontsize=11, color="#555555")
    ax.text(0.995, 0.02, "below 0 (pink) = hostility", transform=ax.transAxes, ha="right", fontsize=8,
            color="#922b21")
    handles = [Line2D([0], [0], color=COLORS[c], lw=2, ls="--" if c == "composite" else "-", label=c)
               for c in ("military", "economic", "diplomatic", "composite")]
    handles.append(Line2D([0], [0], color="#7f8c8d", ls=":", lw=1.2, label="event (numbered)"))
    if model.geo.R > 1:
        handles.append(Patch(color="#999999", alpha=0.3, label="5–95% of runs"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False,
               handlelength=2.0, handletextpad=0.4, columnspacing=0.8, bbox_to_anchor=(0.5, 0.0))
    return fig


def _number_events(ax, model: LiveRun) -> None:
    """Number the event lines above the plot (the page lists the events with the same numbers);
    names would overlap when two events are a month or two apart."""
    for i, ev in enumerate(model.settings.scenario.events, start=1):
        x = np.datetime64(f"{format_month(ev.month)}-01")
        ax.annotate(str(i), (x, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 1.5),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8, fontweight="bold",
                    color="#555555")


def _positions(n: int) -> np.ndarray:
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    return np.c_[np.cos(angles), np.sin(angles)]


def network(model: LiveRun, dyad_key: str | None = None) -> Figure:
    """The states at the current month: line width = |composite strength|, colour = its sign."""
    s = model.settings
    names = [s.names[a] for a in s.actors]
    pos = _positions(len(names))
    values = model.composite_now()
    fig = Figure(figsize=(4.4, 4.8))
    ax = fig.add_axes((0.01, 0.08, 0.98, 0.8))
    for d, (a, b) in enumerate(s.dyads):
        v = float(values[d])
        (x1, y1), (x2, y2) = pos[s.actors.index(a)], pos[s.actors.index(b)]
        if dyad_key == s.dyad_key(a, b):
            ax.plot([x1, x2], [y1, y2], color=HIGHLIGHT, lw=7 + 9 * abs(v), solid_capstyle="butt", zorder=0.5)
        ax.plot([x1, x2], [y1, y2], color=COOPERATION if v >= 0 else HOSTILITY, lw=0.5 + 9 * abs(v),
                alpha=0.35 + 0.6 * abs(v), solid_capstyle="butt", zorder=1)
        ax.text((x1 + x2) / 2, (y1 + y2) / 2, f"{v:+.2f}", fontsize=9, ha="center", va="center",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#bbbbbb", lw=0.5), zorder=3)
    for name, (x, y) in zip(names, pos, strict=True):
        ax.add_patch(Circle((x, y), 0.25, fc="#fdfefe", ec="#34495e", lw=1.5, zorder=2))
        ax.text(x, y, name.replace(" ", "\n"), ha="center", va="center", fontsize=9.5, fontweight="bold", zorder=4)
    when = f"end of {model.month_label}" if model.months_done else f"start, {model.first_month}"
    fig.text(0.5, 0.975, f"The network at the {when}", fontsize=12, fontweight="bold", ha="center", va="top")
    spread = "median of the runs" if model.geo.R > 1 else "one run"
    fig.text(0.5, 0.915, f"number and line width = composite strength, −1 … +1\n({spread})", ha="center",
             va="top", fontsize=8.5, color="#555555")
    ax.set_xlim(-1.3, 1.3)
    ax.set_ylim(-1.15, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    handles = [Line2D([0], [0], color=COOPERATION, lw=5, label="cooperation (> 0)"),
               Line2D([0], [0], color=HOSTILITY, lw=5, label="hostility (< 0)")]
    if dyad_key:
        handles.append(Line2D([0], [0], color=HIGHLIGHT, lw=7, label="pair in the charts"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False,
               handlelength=1.8, columnspacing=1.0, bbox_to_anchor=(0.5, 0.0))
    return fig


def comparison(model: LiveRun, dyad_key: str) -> Figure:
    """The chosen scenario against baseline: one pair over time, and every pair at this month."""
    s = model.settings
    label = dyad_label(model, dyad_key)
    base, now = model.baseline(), model.dataset()
    name = s.scenario.name
    fig = Figure(figsize=(10, 4.1))
    fig.subplots_adjust(left=0.095, right=0.975, top=0.9, bottom=0.2, wspace=0.5)
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])

    comp = "composite"
    t = base["time"].values
    left.axhspan(-1, 0, color="#f5b7b1", alpha=0.18, lw=0)
    left.axhline(0, color="#555555", lw=0.8)
    band(left, t, base["strength"].sel(dyad=label, channel=comp), BASELINE_COLOR, "baseline (whole period)", "--")
    if model.months_done:
        band(left, now["time"].values, now["strength"].sel(dyad=label, channel=comp), SCENARIO_COLOR,
              f"{name} (so far)")
    draw_events(left, s, labels=False)
    _number_events(left, model)
    time_axis(left)
    left.set_xlim(*_period(model))
    left.set_ylim(-1.05, 1.05)
    left.set_ylabel("composite strength\n(−1 hostile … +1 allied)", fontsize=9)
    left.set_title(f"{label}: {name} against baseline", fontsize=12, fontweight="bold", loc="left", pad=14)
    left.legend(loc="lower left", fontsize=9, framealpha=0.9)

    right.axvline(0, color="#555555", lw=0.8)
    dyads = list(base["dyad"].values)
    right.set_yticks(range(len(dyads)), dyads, fontsize=8.5)
    right.invert_yaxis()
    right.set_xlabel(f"composite strength: {name} minus baseline", fontsize=9)
    right.grid(True, axis="x", alpha=0.3)
    if not model.months_done:
        right.text(0.5, 0.5, "no month simulated yet", transform=right.transAxes, ha="center", va="center",
                   color="#555555")
        diff = np.zeros(len(dyads))
    else:
        k = model.months_done - 1
        here = now["strength"].isel(time=k).sel(channel=comp).values  # (replicate, dyad)
        there = base["strength"].isel(time=k).sel(channel=comp).values
        diff = np.median(here - there, axis=0)  # same seed: paired runs
    colors = [COOPERATION if d >= 0 else HOSTILITY for d in diff]
    right.barh(range(len(dyads)), diff, color=colors, height=0.6)
    lim = max(0.1, float(np.abs(diff).max()) * 1.35)
    right.set_xlim(-lim, lim)
    for i, d in enumerate(diff):
        if abs(d) >= 0.005:
            right.text(d, i, f" {d:+.2f} ", ha="left" if d > 0 else "right", va="center", fontsize=8)
    when = model.month_label or model.first_month
    right.set_title(f"All pairs at {when}", fontsize=12, fontweight="bold", loc="left", pad=14)
    right.tick_params(axis="x", labelsize=8.5)
    if name == "baseline":
        right.text(0.5, 0.08, "the chosen scenario is the baseline:\npick another one to see a difference",
                   transform=right.transAxes, ha="center", fontsize=9, color="#555555")
    right.text(1.0, -0.17, "green = closer than in the baseline, red = further apart", transform=right.transAxes,
               ha="right", va="top", fontsize=8, color="#555555")
    return fig
