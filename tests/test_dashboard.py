"""The dashboard without a browser: choices, the live model, figures, and headless renders."""

from __future__ import annotations

import subprocess
import sys
import time

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pytest
import solara
from matplotlib.figure import Figure

from sim import parameters as prm
from sim.config import compose, validate
from sim.dashboard import components, figures, serve
from sim.dashboard.app import Page
from sim.dashboard.choices import Choices, incentive_groups, scenario_names
from sim.dashboard.model import LiveRun
from sim.results import load
from sim.run import run
from sim.scenario import presets

from .dashboard_helpers import shown_texts

SMALL = Choices().set("ensemble.replicates", 5)


# --- choices --------------------------------------------------------------------------------

def test_choices_are_cli_overrides():
    c = Choices().set("scenario", "assad_fall").set("seed", 3).set("war.drones.import_capacity", 0.1 + 0.2)
    assert c.overrides() == ["scenario=assad_fall", "seed=3", "war.drones.import_capacity=0.3"]
    assert c.command() == "geosim scenario=assad_fall seed=3 war.drones.import_capacity=0.3"
    assert c.set("seed", 4).overrides()[-1] == "seed=4"  # a later change replaces the earlier one
    assert c.keep_only("scenario").overrides() == ["scenario=assad_fall"]
    assert Choices().overrides() == []


def test_scenarios_are_the_cli_presets():
    assert sorted(scenario_names()) == sorted(presets())
    assert scenario_names()[0] == "baseline"


def test_sliders_read_the_registry():
    reg = prm.registry()
    specs = [s for group in incentive_groups().values() for s in group]
    assert len(specs) >= 6
    for s in specs:
        p = reg[s.path]
        assert (s.default, s.unit, s.source, s.doc) == (p.default, p.unit, p.source, p.doc)
        assert p.low <= s.low <= s.default <= s.high <= p.high
        position = (s.default - s.low) / s.step
        assert abs(position - round(position)) < 1e-6, f"{s.path}: default off the slider grid"
        assert (s.high - s.low) / s.step <= 1000
        assert s.unit in s.caption and s.source in s.caption


# --- the live model equals the CLI ----------------------------------------------------------

def _run_to_end(model: LiveRun) -> None:
    while model.running:
        model.step()


def test_dashboard_numbers_equal_the_cli(tmp_path):
    choices = (Choices().set("scenario", "combined").set("seed", 11).set("ensemble.replicates", 7)
               .set("dynamics.weight.glue", 1.25))
    model = LiveRun(choices)
    _run_to_end(model)
    assert model.months_done == model.settings.months and model.month_label == "2028-12"
    live = model.dataset()

    subprocess.run([sys.executable, "-m", "sim", *choices.overrides(), "output.plots=false", "output.lossless=true",
                    f"hydra.run.dir={tmp_path}"], check=True, capture_output=True, timeout=120)
    cli = load(tmp_path / "results.nc")
    for name in ("strength", "trust", "dependence", "flow", "drones_launched", "territory", "troops_sent"):
        np.testing.assert_array_equal(live[name].values, cli[name].values, err_msg=name)
    assert cli.attrs["scenario"] == "combined" and cli.attrs["seed"] == 11


def test_stepping_records_month_by_month():
    model = LiveRun(SMALL.set("scenario", "assad_fall"))
    assert model.months_done == 0 and model.month_label is None and model.dataset().sizes["time"] == 0
    reference = run(SMALL.set("scenario", "assad_fall").settings())
    for _ in range(3):
        model.step()
    assert model.month_label == "2022-09"
    ds = model.dataset()
    assert ds.sizes["time"] == 3
    np.testing.assert_array_equal(ds["strength"].values, reference["strength"].values[:3])


def test_model_stops_at_the_end_of_the_period():
    model = LiveRun(SMALL)
    for _ in range(model.settings.months + 2):
        model.step()
    assert model.months_done == 78 and model.month_label == "2028-12" and not model.running


def test_baseline_uses_the_same_settings_except_the_scenario():
    model = LiveRun(SMALL.set("scenario", "snapback").set("seed", 5))
    base = model.baseline()
    assert base.attrs["scenario"] == "baseline" and base.attrs["seed"] == 5
    assert base.sizes["replicate"] == 5
    assert model.baseline() is base  # computed once
    other = LiveRun(SMALL.set("seed", 5).set("scenario", "assad_fall"))
    assert other.baseline() is base  # and shared by a model that differs only in the scenario


def test_reset_reads_the_current_choices_from_a_reactive():
    holder = solara.reactive(SMALL.set("scenario", "trump_talks"))
    assert LiveRun(holder).settings.scenario.name == "trump_talks"
    holder.set(SMALL)
    assert LiveRun(holder).settings.scenario.name == "baseline"


# --- figures --------------------------------------------------------------------------------

@pytest.mark.parametrize("months", [0, 30])
@pytest.mark.parametrize("replicates", [1, 5])
def test_figures_draw_at_any_month(months, replicates):
    model = LiveRun(SMALL.set("scenario", "assad_fall").set("ensemble.replicates", replicates))
    for _ in range(months):
        model.step()
    for make in (figures.alliance, figures.network, figures.comparison):
        fig = make(model, "russia-iran")
        assert isinstance(fig, Figure)
        fig.canvas.draw()  # draws without error or warning
    texts = " ".join(t.get_text() for t in figures.network(model, "russia-iran").texts)
    assert ("at the end of 2024-12" if months else "at the start, 2022-07") in texts


# --- headless renders -----------------------------------------------------------------------

def _month(rc) -> str:
    return rc.find(v.Html, class_="geosim-month geosim-current-month").widget.children[0]


@pytest.fixture
def page():
    box, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    yield rc
    rc.close()


def test_page_renders_with_controls_plots_and_month(page):
    buttons = [b.children[0] for b in page.find(v.Btn).widgets]
    for label in ("Step", "▶ Play", "Run to the end", "Start again"):
        assert label in buttons
    assert _month(page) == "not started"
    assert len(page.find(widgets.Image).widgets) == 3  # alliance, network, comparison
    assert page.find(v.Html, class_="geosim-command").widget.children == ["geosim"]  # the default: no overrides
    step = page.find(v.Btn, children=["Step"]).widget
    for _ in range(3):
        step.click()
    assert _month(page) == "2022-09"
    assert "3 of 78 months simulated (2022-07 … 2028-12)" in shown_texts(page)


def test_sidebar_order_scenario_run_incentives(page):
    import re

    drawer = repr(page.find(v.NavigationDrawer).widget)
    assert re.findall(r"CardTitle\(children=\['([^']+)'", drawer) == ["Scenario", "Run", "Incentives"]


FRAMEWORK_WORDS = ("Play Interval", "Render Interval", "Use Threads", "Time: 0.0", "Model Parameters", "Information")


def test_no_framework_words_on_the_page(page):
    words = " ".join(shown_texts(page)) + repr(page.find(v.NavigationDrawer).widget) + repr(page.container)
    assert not [w for w in FRAMEWORK_WORDS if w in words]


def test_run_to_the_end_and_start_again(page):
    page.find(v.Btn, children=["Run to the end"]).widget.click()
    assert _month(page) == "2028-12"
    assert page.find(v.Btn, children=["Step"]).widget.disabled
    rows = page.find(v.Html, tag="tbody").widget.children
    assert len(rows) == 10  # every pair: scenario, baseline, difference
    page.find(v.Btn, children=["Start again"]).widget.click()
    assert _month(page) == "not started"


def test_choosing_a_scenario_starts_a_new_run(page):
    page.find(v.Btn, children=["Step"]).widget.click()
    assert _month(page) == "2022-07"
    page.find(v.Select, label="Scenario").widget.v_model = "assad_fall"
    assert _month(page) == "not started"
    texts = " ".join(shown_texts(page))
    assert "Scenario: assad_fall." in texts and "· 2  2024-12 Assad falls" in texts
    assert "geosim scenario=assad_fall" in texts
    page.find(v.Btn, children=["Step"]).widget.click()
    assert _month(page) == "2022-07"
    page.find(v.Btn, children=["Start again"]).widget.click()  # keeps the choices
    assert _month(page) == "not started"
    assert "Scenario: assad_fall." in " ".join(shown_texts(page))


def test_moving_a_slider_changes_the_run_and_restore_undoes_it(page):
    slider = page.find(v.Slider, max=1000.0).widget  # drones Iran can ship per month
    assert slider.v_model == 250.0
    slider.fire_event("change", 400.0)
    assert "geosim war.drones.import_capacity=400" in shown_texts(page)
    assert "400 (default 250)" in shown_texts(page)
    page.find(v.Btn, children=["Restore the defaults"]).widget.click()
    assert "geosim" in shown_texts(page) and "400 (default 250)" not in shown_texts(page)


def test_seed_and_replicates(page):
    page.find(v.Select, label="Runs (replicates)").widget.v_model = 20
    seed = page.find(v.TextField, label="Seed (random numbers)").widget
    seed.v_model = "7"
    seed.fire_event("keyup.enter", None)  # the field applies its value on Enter or leaving it
    assert "geosim ensemble.replicates=20 seed=7" in shown_texts(page)


def test_choosing_a_dyad_redraws_without_a_new_run(page):
    page.find(v.Btn, children=["Step"]).widget.click()
    before = page.find(widgets.Image).widgets[0].value
    page.find(v.Select, label="Pair of states in the charts").widget.v_model = "Russia–North Korea"
    assert _month(page) == "2022-07"  # same run
    assert page.find(widgets.Image).widgets[0].value != before


def test_a_bad_choice_shows_an_error_and_keeps_the_run():
    model = solara.reactive(LiveRun(SMALL))
    session = components.Session(solara.reactive(SMALL), model, solara.reactive(""))
    session.change("scenario", "no_such_scenario")
    assert "unknown scenario 'no_such_scenario'" in session.error.value
    assert model.value.settings.scenario.name == "baseline"
    box, rc = solara.render(components.ErrorLine(session), handle_error=False)
    assert "no_such_scenario" in repr(box)


@pytest.mark.parametrize("name", ["MonthBanner", "AllianceView", "NetworkView", "ComparisonView", "CommandLine"])
def test_each_view_renders_alone(name):
    model = LiveRun(SMALL.set("scenario", "combined"))
    for _ in range(35):
        model.step()
    component = getattr(components, name)
    args = (model,) if name in ("MonthBanner", "CommandLine") else (model, "russia-iran")
    box, rc = solara.render(component(*args), handle_error=False)
    if name == "MonthBanner":
        texts = shown_texts(rc)
        assert "2025-05" in texts and "✓ 3  2025-02 US–Russia talks" in texts and "· 4  2025-09 UN snapback" in texts
    elif name == "CommandLine":
        assert "geosim ensemble.replicates=5 scenario=combined" in shown_texts(rc)
    else:
        assert len(rc.find(widgets.Image).widgets) == 1


def test_panels_render_alone():
    model = solara.reactive(LiveRun(SMALL))
    session = components.Session(solara.reactive(SMALL), model, solara.reactive(""))
    box, rc = solara.render(components.ScenarioPanel(session), handle_error=False)
    assert rc.find(v.Select, label="Scenario").widget.items == scenario_names()
    box, rc = solara.render(components.IncentivesPanel(session), handle_error=False)
    specs = [s for group in incentive_groups().values() for s in group]
    assert len(rc.find(v.Slider).widgets) == len(specs)
    texts = shown_texts(rc)
    for s in specs:
        assert s.label in texts and s.caption in texts
    picked = []
    box, rc = solara.render(components.DyadPicker(model.value, "russia-iran", picked.append), handle_error=False)
    rc.find(v.Select).widget.v_model = "Iran–Ukraine"
    assert picked == ["iran-ukraine"]


# --- the command ----------------------------------------------------------------------------

def test_serve_command_is_loopback_only(monkeypatch, capsys):
    cmd = serve.command(8123)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--production" in cmd and str(serve.APP) in cmd
    assert serve.environment()["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    started = []

    class FakeServer:
        def __init__(self, command, env):
            started.append(command)

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(serve.subprocess, "Popen", FakeServer)
    monkeypatch.setattr(serve.signal, "signal", lambda *args: None)
    with pytest.raises(SystemExit) as exit_:
        serve.main(["--port", "8124"])
    assert exit_.value.code == 0
    assert "http://127.0.0.1:8124/" in capsys.readouterr().out
    assert started[0][started[0].index("--port") + 1] == "8124"


def test_stopping_the_command_stops_the_server(tmp_path):
    port = serve.free_port()
    command = subprocess.Popen([sys.executable, "-c", f"from sim.dashboard.serve import main; main(['--port', '{port}'])"],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert f"http://127.0.0.1:{port}/" in command.stdout.readline()
        deadline = time.monotonic() + 90
        while serve.free_port(port) == port:  # until the server listens
            assert time.monotonic() < deadline and command.poll() is None
            time.sleep(0.3)
    finally:
        command.terminate()
        command.wait(timeout=30)
    time.sleep(0.5)
    assert serve.free_port(port) == port  # the server is gone as well


def test_free_port_avoids_a_taken_port():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert serve.free_port(port) != port


def test_compose_path_is_the_clis():
    choices = SMALL.set("scenario", "snapback")
    assert choices.settings().values == validate(compose(choices.overrides())).values
