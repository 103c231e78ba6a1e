"""Distribution plots on small ensembles: each writes a file and labels its axes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

import sim
from sim import ConfigError, plots
from sim.config import compose, validate

ROOT = Path(__file__).resolve().parents[1]
COMMON = ["ensemble.replicates=40", "time.end=2025-12", "ensemble.sample_parameters=true"]


def run(*overrides: str):
    return sim.run(validate(compose([*COMMON, *overrides])))


@pytest.fixture(scope="module")
def runs():
    return {name: run(f"scenario={name}") for name in ("baseline", "assad_fall", "trump_talks")}


@pytest.fixture(scope="module")
def summary():
    return sim.run(validate(compose(["ensemble.replicates=300", "ensemble.block=100", "time.end=2025-12",
                                     "ensemble.mode=summary", "scenario=assad_fall"])))


def saved(fig, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    fig.savefig(path, dpi=60)
    plt.close(fig)
    assert path.stat().st_size > 5_000
    return path


def labelled(fig) -> None:
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes
    for ax in axes:  # an x label on each panel or, once, on the bottom one of panels that share the axis
        assert any(a.get_xlabel() for a in ax.get_shared_x_axes().get_siblings(ax)), ax.get_title()
    labels = [ax.get_xlabel() for ax in axes if ax.get_xlabel()]
    if all(len(ax.get_shared_x_axes().get_siblings(ax)) == len(axes) for ax in axes):
        assert len(labels) <= sum(1 for ax in axes if ax.get_subplotspec() and ax.get_subplotspec().is_last_row())
    assert any(ax.get_ylabel() for ax in axes)
    assert fig._suptitle is not None and fig._suptitle.get_text()


def test_fan_chart(runs, tmp_path):
    fig = plots.fan(runs["assad_fall"], dyad="russia-iran")
    labelled(fig)
    assert len(fig.axes) == 4 and all(ax.get_ylabel() for ax in fig.axes)
    assert "Russia–Iran" in fig._suptitle.get_text()
    saved(fig, tmp_path, "fan")


def test_fan_chart_of_another_variable_and_of_summary_results(runs, summary, tmp_path):
    fig = plots.fan(runs["baseline"], variable="troops_sent", actor="North Korea")
    labelled(fig)
    saved(fig, tmp_path, "fan_troops")
    fig = plots.fan(summary, dyad="iran-russia", channels=("military",))
    labelled(fig)
    assert "summary mode" in fig._suptitle.get_text()
    saved(fig, tmp_path, "fan_summary")


def test_end_states_violin_and_ecdf(runs, summary, tmp_path):
    fig = plots.end_states(runs, channel="military")
    labelled(fig)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == list(runs)
    assert len(right.get_lines()) == len(runs) and "ECDF" in right.get_ylabel()
    saved(fig, tmp_path, "end_states")
    fig = plots.end_states({"full": runs["assad_fall"], "summary": summary}, time="2025-06")
    labelled(fig)
    saved(fig, tmp_path, "end_states_mixed")


def test_crossing_probability_curves(runs, summary, tmp_path):
    fig = plots.crossing(runs, level=0.2, channel="military")
    labelled(fig)
    assert len(fig.axes[0].get_lines()) >= len(runs)
    saved(fig, tmp_path, "crossing")
    p = plots.crossing_probability(runs["assad_fall"], 0.2)
    assert p[0] == 0.0 and (p[1:] >= p[:-1]).all() and p[-1] > 0.5  # the fall breaks the military pillar
    saved(plots.crossing({"summary": summary}, level=0.2), tmp_path, "crossing_summary")
    with pytest.raises(ConfigError, match="output.crossing"):
        plots.crossing(summary, level=0.5)


def test_scenario_minus_baseline(runs, tmp_path):
    fig = plots.comparison(runs, reference=runs["baseline"], channels=("military", "composite"))
    labelled(fig)
    assert len(fig.axes) == 4  # two scenarios x two channels
    saved(fig, tmp_path, "comparison")


def test_comparison_refuses_runs_without_common_random_numbers(runs, summary):
    other_seed = run("scenario=assad_fall", "seed=99")
    with pytest.raises(ConfigError, match="common random numbers"):
        plots.comparison({"assad_fall": other_seed}, reference=runs["baseline"])
    with pytest.raises(ConfigError, match="summary mode"):
        plots.comparison({"x": runs["assad_fall"]}, reference=summary)


def test_unknown_dyad_is_a_one_line_error(runs):
    with pytest.raises(ConfigError, match="allowed: russia-iran"):
        plots.fan(runs["baseline"], dyad="russia-mars")


def test_cli_writes_the_distribution_plots(tmp_path):
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    done = subprocess.run([sys.executable, "-m", "sim", "scenario=assad_fall", "ensemble.replicates=20",
                           "time.end=2025-06", "output.distribution_plots=[fan,end_states,crossing,comparison]",
                           "output.compare_scenarios=[baseline,assad_fall]", f"hydra.run.dir={out}"],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("fan_russia-iran", "end_states", "crossing", "comparison"):
        assert (out / f"{name}.png").stat().st_size > 5_000, name
    assert (out / "results.nc").exists()
