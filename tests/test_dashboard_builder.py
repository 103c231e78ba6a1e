"""The scenario builder without a browser: drafts, the form's choices, the checks, the page."""

from __future__ import annotations

import subprocess
import sys

import ipyvuetify as v
import numpy as np
import pytest
import solara
import yaml

from sim import parameters as prm
from sim import scenario as scn
from sim.dashboard import builder, components
from sim.dashboard.builder import Draft, make_event
from sim.dashboard.choices import Choices
from sim.dashboard.model import LiveRun
from sim.errors import ConfigError
from sim.results import load

SMALL = Choices().set("ensemble.replicates", 4).set("seed", 2)


@pytest.fixture(scope="module")
def settings():
    return SMALL.settings()


def test_a_preset_is_copied_with_its_includes_written_out(settings):
    draft = Draft.from_preset("combined", settings)
    preset = scn.load_scenario("combined", settings)
    assert [e["id"] for e in draft.events] == [ev.id for ev in preset.events]
    assert "include" not in draft.doc() and draft.filename == "my_combined.yaml"
    again = draft.scenario(settings)  # validates as a file does
    assert [(ev.id, ev.month, ev.strength) for ev in again.events] == \
        [(ev.id, ev.month, ev.strength) for ev in preset.events]
    first = yaml.safe_load(draft.yaml())["events"][0]
    assert list(first)[:4] == ["id", "label", "type", "date"]


def test_add_change_remove(settings):
    draft = Draft.from_preset("baseline", settings)
    draft = draft.with_event(make_event("snapback", "2025-01", draft.new_id("snapback"), value=0.5))
    draft = draft.with_event(make_event("snapback", "2026-01", draft.new_id("snapback"), value=1.0))
    assert [e["id"] for e in draft.events][-2:] == ["snapback", "snapback_2"]
    old = draft.events[0]
    changed = draft.with_event(make_event("shift", "2024-08", old["id"], value=1.0, parameter=old["parameter"],
                                          base=old), 0)
    assert changed.events[0]["date"] == "2024-08" and changed.events[0]["note"] == old["note"]  # notes kept
    assert [e["id"] for e in changed.without(1).events] == [old["id"], "snapback_2"]
    assert Draft().renamed("My Scenario 2!").name == "my_scenario_2"


def test_form_lists_come_from_the_scenario_module_and_the_registry(settings):
    assert builder.EVENT_TYPES == scn.EVENT_TYPES
    params = builder.parameters(settings)
    assert params == scn.changeable_parameters(settings) and "actors.iran.sanctions" in params
    assert not any(p.startswith(("shocks.", "relations.", "seed")) for p in params)
    assert builder.channels() == [*prm.CHANNELS, "all"]
    assert builder.months(settings)[0] == "2022-07" and builder.months(settings)[-1] == "2028-12"
    assert len(builder.relations(settings)) == len(settings.dyads)
    # every listed parameter is accepted by the scenario checks at its current value, and the
    # shown range is the one the checks enforce
    draft = Draft(events=tuple(make_event("set", "2024-01", f"e{i}", value=float(settings[p]), parameter=p)
                               for i, p in enumerate(params)))
    assert len(draft.scenario(settings).events) == len(params)
    spec = builder.value_spec("set", settings, "actors.iran.sanctions")
    assert spec.allowed == prm.registry()["actors.iran.sanctions"].allowed()


@pytest.mark.parametrize("event, expected", [
    (make_event("set", "2025-01", "x", value=7.0, parameter="actors.iran.sanctions"),
     "my.yaml: events[0] (x): value 7 for actors.iran.sanctions is out of range; allowed: [0, 1] (index 0–1)"),
    (make_event("snapback", "2025-01", "x", value=1.5), "my.yaml: events[0] (x): strength: 1.5 is out of range"),
    (make_event("shift", "2025-01", "x", value="a lot", relation="russia-iran", channel="military"),
     "my.yaml: events[0] (x): value: 'a lot' is not a number"),
    (make_event("shift", "2025-01", "x", value=1.0, parameter="seed"), "my.yaml: events[0] (x): parameter seed cannot"),
    (make_event("snapback", "2025-01", "x", value=1.0, probability=1.5),
     "my.yaml: events[0] (x): probability: 1.5 is out of range; allowed: [0, 1]"),
])
def test_invalid_entries_get_the_files_message(settings, tmp_path, event, expected):
    draft = Draft(name="my", events=(event,))
    with pytest.raises(ConfigError) as page:
        draft.scenario(settings)
    assert str(page.value).startswith(expected)
    (tmp_path / "my.yaml").write_text(draft.yaml())
    with pytest.raises(ConfigError) as cli:
        scn.load_scenario(str(tmp_path / "my.yaml"), settings)
    assert str(cli.value) == str(page.value).replace("my.yaml", str(tmp_path / "my.yaml"), 1)


def test_a_built_scenario_runs_like_its_file_on_the_command_line(settings, tmp_path):
    draft = Draft.from_preset("snapback", settings)
    draft = draft.with_event(make_event("assad_fall", "2024-03", "early_fall", value=0.7))
    draft = draft.with_event(make_event("set", "2026-01", "rupture", value=-0.2, relation="iran-russia", channel="all"))
    choices = SMALL.with_draft(draft)
    live = LiveRun(choices)
    live.run_to_end()
    assert choices.command() == "geosim scenario=my_snapback.yaml ensemble.replicates=4 seed=2"
    (tmp_path / draft.filename).write_text(draft.yaml())
    subprocess.run([sys.executable, "-m", "sim", *choices.overrides(), "output.plots=false", "output.lossless=true",
                    f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    cli = load(tmp_path / "run" / "results.nc")
    np.testing.assert_array_equal(live.dataset()["strength"].values, cli["strength"].values)
    assert cli.attrs["scenario"] == "my_snapback"
    # against the baseline with common random numbers: pairs the events do not reach barely move
    numbers = dict((pair, (a, b)) for pair, a, b in live.numbers())
    assert numbers["Russia–Iran"][0] < numbers["Russia–Iran"][1] - 0.05
    assert abs(numbers["United States–Ukraine"][0] - numbers["United States–Ukraine"][1]) < 1e-3


def test_picking_a_preset_leaves_the_built_scenario(settings):
    draft = Draft.from_preset("snapback", settings)
    choices = SMALL.with_draft(draft).set("seed", 3)
    assert choices.draft is draft and choices.overrides()[0] == "scenario=my_snapback.yaml"
    assert SMALL.with_draft(draft).set("scenario", "assad_fall").draft is None


def _session():
    model = solara.reactive(LiveRun(SMALL))
    return components.Session(solara.reactive(SMALL), model, solara.reactive(""))


def _select(rc, cls: str, value) -> None:
    rc.find(v.Select, class_=cls).widget.v_model = value


def test_builder_form_adds_an_event_and_refuses_a_bad_one():
    session = _session()
    box, rc = solara.render(components.ScenarioBuilder(session), handle_error=False)
    rc.find(v.Btn, children=["Add an event"]).widget.click()
    _select(rc, "geosim-event-type", "shift")
    _select(rc, "geosim-event-year", "2025")
    _select(rc, "geosim-event-month", "04")
    _select(rc, "geosim-event-target", "a relation")
    _select(rc, "geosim-event-channel", "diplomatic")
    value = rc.find(v.TextField, class_="geosim-event-value").widget
    assert value.v_model == "-0.3"  # the default of a jolt to a relation, not the strength of the first type
    value.v_model = "-0.4"
    rc.find(v.TextField, class_="geosim-event-chance").widget.v_model = "0.5"
    rc.find(v.Btn, children=["Add this event"]).widget.click()
    draft = session.choices.value.draft
    assert draft is not None and draft.events[-1] == {"id": "shift", "type": "shift", "date": "2025-04",
                                                      "probability": 0.5, "relation": "russia-iran",
                                                      "channel": "diplomatic", "value": -0.4}
    assert "relation Russia–Iran (diplomatic) shifted by -0.4, in 50% of the runs" in repr(box)
    assert session.model.value.settings.scenario.events[-1].id == "shift"

    rc.find(v.Btn, children=["Add an event"]).widget.click()
    _select(rc, "geosim-event-type", "set")
    rc.find(v.Autocomplete, class_="geosim-event-parameter").widget.v_model = "actors.iran.sanctions"
    assert "allowed: [0, 1] (index 0–1)" in repr(box)  # the range beside the value
    rc.find(v.TextField, class_="geosim-event-value").widget.v_model = "1.5"
    rc.find(v.Btn, children=["Add this event"]).widget.click()
    assert session.choices.value.draft is draft  # refused
    assert "my_baseline.yaml: events[2] (set): value 1.5 for actors.iran.sanctions is out of range" in repr(box)

    rc.find(v.Btn, children=["Cancel"]).widget.click()
    rc.find(v.Btn, children=["Remove"]).widgets[0].click()  # the treaty
    assert [e["id"] for e in session.choices.value.draft.events] == ["shift"]
    rc.close()
