"""The dashboard's "forecast vs observed" view: the page's hindcast equals the command's, its words,
and a headless render that runs a hindcast and shows the fan and the scores."""

from __future__ import annotations

import time

import ipyvuetify as v
import ipywidgets as widgets
import pandas as pd
import pytest

pytest.importorskip("pyabc")
pytest.importorskip("scoringrules")

import solara  # noqa: E402

from sim.analysis import hindcast  # noqa: E402
from sim.calendar import format_month  # noqa: E402
from sim.dashboard import components  # noqa: E402
from sim.dashboard import forecast as fc  # noqa: E402

from .dashboard_helpers import shown_texts  # noqa: E402

TINY = {"population": 40, "generations": 2, "replicates": 40, "seed": 3}


@pytest.fixture
def tiny(monkeypatch, tmp_path):
    """Tiny page settings, the calibration cache in a temporary folder, no result kept across tests."""
    monkeypatch.setattr(fc, "PAGE_SETTINGS", dict(TINY))
    monkeypatch.chdir(tmp_path)
    fc.run.cache_clear()
    yield tmp_path
    fc.run.cache_clear()


def test_cutoff_choices_follow_the_shipped_observations():
    obs = fc.shipped_observations()
    choices = fc.cutoff_choices()
    months = list(choices.values())
    assert months == sorted(months) and len(set(months)) == len(months)
    first = min(o.published for o in obs)
    assert list(choices)[0].startswith(f"{format_month(first - 1)}: 0 facts known")  # before the first fact
    for label, m in choices.items():
        known = sum(format_month(o.published) <= m for o in obs)
        assert f"{known} fact" in label and f"{len(obs) - known} to forecast" in label
        assert len(obs) - known >= 1
    assert "2023-12: 1 fact known" in " ".join(choices)


def test_page_hindcast_gives_the_commands_numbers(tiny):
    h = fc.run("2023-12")
    assert fc.run("2023-12") is h  # kept for the session
    s = TINY
    hindcast.main(["--cutoff", "2023-12", "--population", str(s["population"]), "--generations",
                   str(s["generations"]), "--replicates", str(s["replicates"]), "--seed", str(s["seed"]),
                   "--out", str(tiny / "cli"), "scenario=combined"])
    cli = pd.read_csv(tiny / "cli" / "scores.csv")
    assert list(cli["id"]) == list(h.table["id"]) == [o.id for o in h.scored]
    for col in ("q05", "q50", "q95", "crps", "prior_crps", "pit", "probability", "brier"):
        pd.testing.assert_series_equal(cli[col].astype(float), h.table[col].astype(float), rtol=1e-5,
                                       check_names=False)
    assert h.headline["cutoff"] == "2023-12" and h.headline["n_known"] == len(h.known) == 1
    assert "--population 40 --generations 2 --replicates 40 --seed 3" in fc.command("2023-12")


def test_scores_in_words():
    value = {"kind": "value", "pit": 0.97, "in_50": False, "in_90": False}
    assert fc.verdict(value) == "outside the range of 9 in 10 runs; higher than 97% of the runs"
    assert "inside the middle half" in fc.verdict({**value, "pit": 0.4, "in_50": True, "in_90": True})
    assert "lower than 80%" in fc.verdict({**value, "pit": 0.2, "in_90": True})
    binary = {"kind": "binary", "probability": 0.06, "prior_probability": 0.1}
    assert fc.verdict(binary) == "the model gave it 6%: a surprise to the model"
    assert fc.verdict({**binary, "probability": 1.0}).endswith("expected")


def test_summary_and_rows_describe_a_hindcast(tiny):
    h = fc.run("2023-12")
    lines = fc.summary(h)
    text = " ".join(lines)
    hl = h.headline
    assert f"Calibrated on 1 fact published by 2023-12, the model forecast {hl['n_scored']} facts" in text
    assert f"of {hl['n_values']} fell inside the middle half" in text
    assert "Skill against the uncalibrated model" in text and "Brier" in text
    if hl["crps_skill_vs_persistence"] is None:
        assert "none, because no figure of the same kind was known" in text
    rows = fc.rows(h)
    assert [r["fact"] for r in rows] == [f"{i} ({p})" for i, p in zip(h.table["id"], h.table["published"], strict=True)]
    assert set(fc.COLUMNS) <= set(rows[0])
    a4 = next(r for r in rows if r["fact"] == "A4-2024 (2025-01)")  # a bound without a value: a yes/no fact
    assert "11,000" in a4["what"] and a4["CRPS"] == "–" and a4["Brier"] != "–"
    assert a4["observed"] == "more than 11,000" and "the model gave it" in a4["in words"]
    assert a4["P(fact)"].endswith("%)")  # with the uncalibrated model's in brackets
    a11 = next(r for r in rows if r["fact"].startswith("A11-dec"))
    assert a11["observed"] == "11,000" and a11["CRPS"].count(" / ") == 2
    assert next(r for r in rows if r["fact"].startswith("B4-pillar"))["observed"] == "lower"


def _wait(rc, what, timeout=180):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            return what()
        except (AssertionError, LookupError, ValueError):
            time.sleep(0.2)
    return what()


def test_forecast_view_runs_a_hindcast_headless(tiny):
    box, rc = solara.render(components.ForecastView(), handle_error=False)
    try:
        text = " ".join(shown_texts(rc))
        assert "Kept small for the page: 40 particles" in text and "40 runs per forecast" in text
        assert not rc.find(widgets.Image).widgets  # nothing drawn before the user asks
        rc.find(v.Select, label="Cutoff month (facts known by then)").widget.v_model = next(
            lab for lab in fc.cutoff_choices() if lab.startswith("2023-12"))
        rc.find(v.Btn, children=["Run the hindcast"]).widget.click()

        def done():
            tables = rc.find(v.SimpleTable, class_="geosim-hindcast-table").widgets
            assert tables
            return tables[0]

        table = _wait(rc, done)
        h = fc.run("2023-12")
        body = next(c for c in table.children if c.tag == "tbody")
        assert len(body.children) == len(h.scored)
        text = " ".join(shown_texts(rc))
        assert "Calibrated on 1 fact published by 2023-12" in text
        assert "geosim-hindcast --cutoff 2023-12 --population 40" in text
        images = rc.find(widgets.Image).widgets
        assert len(images) == 1 and len(images[0].value) > 10_000
        before = images[0].value
        pick = rc.find(v.Select, label="Quantity in the chart").widget
        assert pick.items == h.quantities() and len(pick.items) >= 3
        pick.v_model = "troops_sent"
        assert rc.find(widgets.Image).widget.value != before
    finally:
        rc.close()


def test_observations_in_words():
    from dataclasses import replace

    o = next(o for o in fc.shipped_observations() if o.id == "A11-dec")
    assert fc.observed(replace(o, low=9000.0, high=13000.0)) == "11,000 (9,000–13,000)"
    assert fc.observed(replace(o, value=None, low=9000.0, high=13000.0)) == "9,000–13,000"
    assert fc.observed(replace(o, value=None, high=500.0)) == "less than 500"
    assert fc.observed(replace(o, value=None, low=2.0, relation="ratio")) == "more than 2 × the reference"
    assert fc.observed(replace(o, relation="lower")) == "lower"
