"""Scenario files: presets, composition, and errors naming the file and the problem."""

from pathlib import Path

import pytest

from sim import ConfigError
from sim.scenario import load_scenario, presets

from .conftest import make_settings

PRESETS = {"baseline", "assad_fall", "trump_talks", "snapback", "combined"}


@pytest.fixture(scope="module")
def settings():
    return make_settings()


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def load_error(settings, spec) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(spec, settings)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_presets_are_shipped():
    assert PRESETS <= set(presets())


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_loads_with_a_description(settings, name):
    sc = load_scenario(name, settings)
    assert sc.description and sc.events


def test_combined_is_the_union_of_the_three_shocks(settings):
    combined = load_scenario("combined", settings)
    ids = [e.id for e in combined.events]
    parts = set()
    for name in ("assad_fall", "trump_talks", "snapback"):
        parts |= {e.id for e in load_scenario(name, settings).events}
    assert sorted(ids) == sorted(parts)  # baseline's treaty appears once, not three times
    assert {e.type for e in combined.events} == {"shift", "assad_fall", "trump_talks", "snapback"}


def test_named_shocks_expand_with_config_magnitudes(settings):
    ops = load_scenario("snapback", settings).operations(settings)
    snap = [o for o in ops if o.event == "un_snapback"]
    assert len(snap) == 1 and snap[0].path == "actors.iran.sanctions"
    assert snap[0].value == pytest.approx(settings["shocks.snapback.sanctions"])
    assert snap[0].month == settings.month_index("2025-09")


def test_user_file_with_generic_events(tmp_path, settings):
    spec = write(tmp_path, """
description: a user's scenario
include: [baseline]
events:
  - {id: half_fall, type: assad_fall, date: 2025-06, strength: 0.5}
  - {id: cut, type: shift, date: 2026-01, parameter: policy.iran-russia.economic, value: -0.4}
  - {id: rupture, type: set, date: 2026-02, relation: iran-russia, channel: all, value: 0.0}
""")
    sc = load_scenario(spec, settings)
    ops = sc.operations(settings)
    assert [o.path for o in ops if o.event == "cut"] == ["policy.russia-iran.economic"]
    assert len([o for o in ops if o.event == "rupture"]) == 3
    fall = [o for o in ops if o.event == "half_fall" and o.path == "anchors.syria.status"]
    assert fall[0].value == 0.5


@pytest.mark.parametrize("text,expected", [
    ("events:\n  - {id: x, type: meteor, date: 2025-01}", "unknown event type 'meteor'"),
    ("events:\n  - {id: x, type: snapback, date: 2025-13}", "date"),
    ("events:\n  - {id: x, type: snapback, date: 2231-01}", "implausible"),
    ("events:\n  - {id: x, type: snapback}", "give either date"),
    ("events:\n  - {id: x, type: snapback, date: 2025-01, strength: 3}", "strength"),
    ("events:\n  - {id: x, type: shift, date: 2025-01, parameter: actors.iran.charisma, value: 1}", "does not exist"),
    ("events:\n  - {id: x, type: shift, date: 2025-01, parameter: time.end, value: 1}", "cannot change"),
    ("events:\n  - {id: x, type: set, date: 2025-01, relation: iran-mars, channel: all, value: 0}", "not a pair of actors"),
    ("events:\n  - {id: x, type: set, date: 2025-01, parameter: actors.iran.sanctions, value: 7}", "out of range"),
    ("events:\n  - {id: x, type: set, date: 2025-01, relation: iran-russia, channel: all, value: 2}", "out of range"),
    ("events:\n  - {id: x, type: set, date: 2025-01, relation: iran-russia, channel: cultural, value: 0}", "channel"),
    ("events:\n  - {id: x, type: snapback, date: 2025-01}\n  - {id: x, type: snapback, date: 2025-02}", "duplicate event id 'x'"),
    ("events:\n  - {id: x, type: snapback, date: 2025-01, colour: red}", "unknown key 'colour'"),
    ("events: [1, 2]", "an event is a mapping"),
    ("events: {a: 1}", "events must be a list"),
    ("scenery: 1", "unknown key 'scenery'"),
    ("- just\n- a list", "must be a mapping"),
    ("", "empty"),
    ("events: [unclosed", "invalid YAML at line"),
    ("include: [no_such_preset]", "unknown scenario 'no_such_preset'"),
])
def test_malformed_scenarios_give_one_line_naming_the_file(tmp_path, settings, text, expected):
    spec = write(tmp_path, text)
    msg = load_error(settings, spec)
    assert spec in msg and expected in msg


def test_a_scenario_that_includes_itself(tmp_path, settings):
    spec = write(tmp_path, "include: [loop.yaml]\n", name="loop.yaml")
    assert "cycle" in load_error(settings, spec)


def test_binary_file(tmp_path, settings):
    path = tmp_path / "bin.yaml"
    path.write_bytes(bytes(range(256)))
    assert "not a text file" in load_error(settings, str(path))


def test_huge_file(tmp_path, settings):
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * 1_100_000)
    assert "more than the 1,000,000 allowed" in load_error(settings, str(path))


def test_missing_file_and_unknown_preset(settings):
    assert "file not found" in load_error(settings, "no/such/file.yaml")
    assert "presets:" in load_error(settings, "atlantis")


def test_events_outside_the_period(settings_factory):
    s = settings_factory("scenario=combined", "time.start=2024-09", "time.end=2025-03")
    ops = s.scenario.operations(s)
    months = {o.event: o.month for o in ops}
    assert months["russia_dprk_treaty"] == 0  # before the start: in force from the first month
    assert months["assad_falls"] == 3 and months["us_russia_talks"] == 5
    assert "un_snapback" not in months  # 2025-09: after the last month, not part of this run
