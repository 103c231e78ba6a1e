"""Pictures of the analysis tools: alignment over time, sweep comparisons, sensitivity indices.

Each function returns a matplotlib Figure; the callers save it.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from ..plots import OVERLAP, alignment, time_axis  # noqa: F401  (alignment: the run's figure, drawn by sim.plots)


def sweep_outcomes(table: pd.DataFrame, outcomes: list[str], group_cols: list[str],
                   titles: dict[str, str] | None = None) -> plt.Figure:
    """One panel per outcome: each job as a dot, the mean of its group as a bar. ``titles``
    names the outcomes in words with their units (default: the column names)."""
    done = table[table["status"] == "complete"]
    labels = (done[group_cols].astype(str).agg(" ".join, axis=1) if group_cols else done["job"].astype(str))
    order = list(dict.fromkeys(labels))
    cols = min(3, len(outcomes)) or 1
    rows = max(1, (len(outcomes) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 2.2 + 0.32 * len(order) * rows + 0.8 * rows),
                             squeeze=False)
    y = {g: k for k, g in enumerate(order)}
    for ax, name in zip(axes.flat, outcomes, strict=False):
        values = done[name].astype(float)
        means = values.groupby(labels).mean()
        ax.barh([y[g] for g in means.index], means.values, color="#aed6f1", edgecolor="#2471a3")
        ax.plot(values.values, [y[g] for g in labels], "o", color="#1b4f72", ms=3.5)
        ax.set_yticks(range(len(order)), order, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(textwrap.fill((titles or {}).get(name, name), 48), fontsize=8.5)
        ax.grid(True, axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    fig.suptitle("Sweep: scalar outcomes by job (dot = job median over replicates, bar = mean over the group)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def sweep_trajectories(curves: dict[str, xr.DataArray], title: str, ylabel: str) -> plt.Figure:
    """Median trajectories, one line per group (dashed thin lines: the single jobs)."""
    n = len(curves)
    rows = (n + 1) // 2
    height = 5.0 + 0.2 * rows + 0.4
    fig, ax = plt.subplots(figsize=(11, height))
    for k, (label, das) in enumerate(curves.items()):
        color, style = group_style(k, n)
        for da in das:
            ax.plot(da["time"].values, da.values, color=color, lw=0.7, alpha=0.35)
        mean = sum(das) / len(das)
        ax.plot(mean["time"].values, mean.values, color=color, label=label, **style)
    ax.axhline(0, color="#555555", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    time_axis(ax)
    bottom = (0.2 * rows + 0.5) / height
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=8, handlelength=3.5,
               frameon=False, title="thin lines: single jobs; equal curves: each later line is thinner, drawn on "
                                    "the earlier one", title_fontsize=7.5)
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig


def group_style(k: int, n: int) -> tuple[str, dict]:
    """Colour and line of group ``k`` of ``n``: distinct colours up to 20 groups (tab10, then
    tab20), then line styles; later groups are thinner and on top, so equal curves stay visible."""
    palette = list(plt.get_cmap("tab10" if n <= 10 else "tab20").colors)
    color = palette[k % len(palette)]
    style, width = OVERLAP[(k // len(palette)) % len(OVERLAP)] if n > len(palette) else ("-", 2.6 - 1.4 * k / max(1, n))
    return color, {"ls": style, "lw": width, "zorder": 3 + k}


def sweep_grid(table: pd.DataFrame, x: str, y: str, outcome: str, title: str | None = None) -> plt.Figure:
    """Heat map of an outcome over a two-parameter grid (mean over the other overrides)."""
    done = table[table["status"] == "complete"]
    grid = done.pivot_table(index=y, columns=x, values=outcome, aggfunc="mean")
    fig, ax = plt.subplots(figsize=(7, 5.2))
    mesh = ax.imshow(grid.values, origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
    for (i, j), v in np.ndenumerate(grid.values):
        r, g, b, _ = mesh.cmap(mesh.norm(v)) if np.isfinite(v) else (1, 1, 1, 1)
        dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5  # relative luminance of the cell
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(mesh, ax=ax, label=textwrap.fill(title or outcome, 45))
    ax.set_title(f"{textwrap.fill(title or outcome, 70)}\n(mean over the other overrides)", fontsize=10)
    fig.tight_layout()
    return fig


def sensitivity_bars(table: pd.DataFrame, method: str) -> plt.Figure:
    """Per outcome, the indices of every parameter with confidence intervals, largest first."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    n_par = table["parameter"].nunique()
    first, total = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5.2 * len(outcomes), 1.9 + 0.24 * n_par), squeeze=False)
    for ax, name in zip(axes.flat, outcomes, strict=False):
        part = table[table["outcome"] == name].sort_values(total, ascending=True)
        y = np.arange(len(part))
        if method == "sobol":
            ax.barh(y + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], color="#e59866", label="total (ST)",
                    error_kw={"lw": 0.8})
            ax.barh(y - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], color="#2471a3", label="first order (S1)",
                    error_kw={"lw": 0.8})
            ax.set_xlim(left=min(0.0, float(part["S1"].min()) - 0.05))
        else:
            ax.barh(y, part["mu_star"], 0.6, xerr=part["mu_star_conf"], color="#2471a3", label="mu* (mean |effect|)",
                    error_kw={"lw": 0.8})
            ax.plot(part["sigma"], y, "D", color="#e67e22", ms=4, label="sigma (interactions)")
        ax.set_yticks(y, part["parameter"], fontsize=7)
        if method == "sobol":
            ax.set_title(f"{name}\nΣS1 = {part['S1'].sum():.2f}, ΣST = {part['ST'].sum():.2f} of the variance",
                         fontsize=9)
        else:
            ax.set_title(name, fontsize=10)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    label = ("Sobol indices with 95% confidence intervals (shares of a variance that includes the model's noise; "
             "1 − ΣST is left to noise)" if method == "sobol" else "Morris elementary effects")
    fig.suptitle(textwrap.fill(f"Global sensitivity: {label}", 40 * len(outcomes) + 20), fontsize=11)
    fig.tight_layout()
    return fig
