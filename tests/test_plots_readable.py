"""The standard and distribution plots as a student reads them: every event numbered with its
label in a key and no two numbers overlapping, every network edge numbered, equal curves kept
visible, one "month" label, readable grid numbers."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import sim
from sim import plots
from sim.analysis import plots as aplots
from sim.config import compose, validate


@pytest.fixture(scope="module")
def combined():
    s = validate(compose(["scenario=combined", "ensemble.replicates=8"]))
    return sim.run(s), s


def event_numbers(fig):
    return [t for ax in fig.axes for t in ax.texts if t.get_text().isdigit() and t.get_bbox_patch() is not None]


def test_events_are_numbered_without_overlap_and_keyed_by_label(combined):
    ds, s = combined
    for make in (plots.focus, plots.war, plots.trajectories, plots.alignment):
        fig = make(ds, s)
        fig.canvas.draw()
        key = " ".join(t.get_text() for t in fig.texts)
        assert "Russia–North Korea treaty" in key and "US–Russia talks" in key and "UN snapback" in key
        assert "russia_dprk_treaty" not in key and "dprk" not in key
        for ax in fig.axes:
            boxes = [t.get_bbox_patch().get_window_extent() for t in ax.texts
                     if t.get_text().isdigit() and t.get_bbox_patch() is not None]
            for a, b in itertools.combinations(boxes, 2):
                assert not a.overlaps(b), make.__name__
        assert len(event_numbers(fig)) >= 4
        plt.close(fig)


def test_distribution_plots_use_labels_not_ids(combined):
    ds, _ = combined
    for fig in (plots.fan(ds), plots.crossing({"combined": ds})):
        texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " ".join(t.get_text() for t in fig.texts)
        assert "Assad falls" in texts and "assad falls" not in texts and "dprk" not in texts
        assert not any(t.get_rotation() == 90 for ax in fig.axes for t in ax.texts)
        plt.close(fig)
    fig = plots.fan(ds)
    assert [ax.get_xlabel() for ax in fig.axes] == ["", "", "", "month"]
    assert all("hostile" in ax.get_ylabel() for ax in fig.axes)
    plt.close(fig)


def test_every_network_edge_has_its_number(combined):
    ds, s = combined
    fig = plots.network(ds, s)
    panels = [ax for ax in fig.axes if ax.get_title()]
    for ax in panels:
        numbers = [t for t in ax.texts if t.get_text()[:1] in "+-"]
        assert len(numbers) == ds.sizes["dyad"], ax.get_title()
    last = panels[-1]
    want = float(ds["strength"].sel(dyad="russia-iran", channel="composite").median("replicate").isel(time=-1))
    assert f"{want:+.2f}" in [t.get_text() for t in last.texts]
    plt.close(fig)


def test_equal_curves_stay_visible(combined):
    ds, _ = combined
    fig = plots.crossing({"baseline": ds, "copy": ds.copy()})  # identical curves
    lines = [ln for ln in fig.axes[0].lines if ln.get_label() in ("baseline", "copy")]
    assert lines[0].get_linewidth() > lines[1].get_linewidth() and lines[0].get_zorder() < lines[1].get_zorder()
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    plt.close(fig)


def test_lines_at_one_are_off_the_frame(combined):
    ds, s = combined
    fig = plots.focus(ds, s)
    lo, hi = fig.axes[0].get_ylim()
    assert hi >= 1.1 and lo <= -1.1
    plt.close(fig)


def test_grid_numbers_contrast_with_their_cells():
    table = pd.DataFrame({"status": "complete", "a": np.repeat([1.0, 2.0, 3.0], 3), "b": np.tile([1.0, 2.0, 3.0], 3),
                          "y": np.arange(9.0)})
    fig = aplots.sweep_grid(table, "a", "b", "y", "an outcome (units)")
    ax = fig.axes[0]
    mesh = ax.images[0]
    for t in ax.texts:
        r, g, b, _ = mesh.cmap(mesh.norm(float(t.get_text())))
        light_cell = 0.2126 * r + 0.7152 * g + 0.0722 * b >= 0.5
        assert t.get_color() == ("black" if light_cell else "white")
    assert {t.get_color() for t in ax.texts} == {"black", "white"}
    plt.close(fig)


def test_sweep_groups_get_distinct_looks():
    looks = {(aplots.group_style(k, 16)[0], aplots.group_style(k, 16)[1]["ls"]) for k in range(16)}
    assert len(looks) == 16
    looks = {(aplots.group_style(k, 25)[0], str(aplots.group_style(k, 25)[1]["ls"])) for k in range(25)}
    assert len(looks) == 25
