"""Every field of a scenario file and of an observation file, set to each of YAML's implicit
scalar types (dates valid and invalid, booleans, nulls, special floats, numbers in odd
notations): either accepted or refused with one line (ConfigError), never a Python exception."""

import csv
import io
from importlib import resources

import pytest

from sim.analysis import observe
from sim.errors import ConfigError
from sim.scenario import load_scenario
from tests.conftest import make_settings

TOKENS = ["2024-12-08", "2024-12-08 10:00:00", "2001-12-14t21:59:43.10-05:00", "2024-13-45", "2024-02-30",
          "0000-00-00", "2024-1-1", "9999-12-31", "2024-12", "yes", "no", "on", "off", "true", "False", "~", "null",
          "", ".inf", "-.inf", ".nan", ".NaN", "0x1F", "0o17", "017", "0b101", "1_000", "1e3", "1e400", "-0", "+12",
          "1:20", "190:20:30", "12.", ".5", "'x'", "[]", "{}", "[1, 2]", "{a: 1}", "!!binary aGk=",
          "!!python/object:os.system x", "&a 1", "*a", "?", "<<: {a: 1}", "!!timestamp 2024-02-30"]

TOP = {"name": "x", "description": "d", "sources": "[A1]", "include": "[baseline]"}
EVENTS = [
    {"id": "e1", "label": "L", "type": "assad_fall", "date": "2024-12", "strength": "1.0", "note": "n",
     "sources": "[ctx3]"},
    {"id": "e2", "type": "shift", "date_window": "[2025-01, 2025-03]", "probability": "0.5",
     "parameter": "actors.iran.sanctions", "value": "0.1"},
    {"id": "e3", "type": "set", "date": "2025-02", "relation": "iran-russia", "channel": "all", "value": "0.2"},
    {"id": "e4", "type": "trump_talks", "date": "2025-02", "strength": "0.5"},
    {"id": "e5", "type": "snapback", "date": "2025-09"},
]


@pytest.fixture(scope="module")
def settings():
    return make_settings()


def render(top: dict, events: list[dict]) -> str:
    lines = [f"{k}: {v}" for k, v in top.items()] + ["events:"]
    for ev in events:
        lines.append("  - " + "\n    ".join(f"{k}: {v}" for k, v in ev.items()))
    return "\n".join(lines) + "\n"


def refused_in_one_line_or_accepted(load) -> str:
    try:
        load()
    except ConfigError as exc:
        assert "\n" not in str(exc)
        return str(exc)
    return ""


@pytest.mark.parametrize("where", ["top", *range(len(EVENTS))])
def test_every_scenario_field_with_every_implicit_yaml_type(tmp_path, settings, where):
    path = tmp_path / "fuzz.yaml"
    path.write_text(render(TOP, EVENTS))
    load_scenario(str(path), settings)  # the unchanged file is valid
    refused = 0
    for key in (TOP if where == "top" else EVENTS[where]):
        for token in TOKENS:
            top, events = dict(TOP), [dict(e) for e in EVENTS]
            (top if where == "top" else events[where])[key] = token
            path.write_text(render(top, events))
            message = refused_in_one_line_or_accepted(lambda: load_scenario(str(path), settings))
            if message:
                assert str(path) in message
                refused += 1
    assert refused > 0


def test_a_date_that_does_not_exist_names_the_file_and_line(tmp_path, settings):
    path = tmp_path / "s.yaml"
    path.write_text("events:\n  - {id: x, type: snapback, date: 2024-02-30}\n")
    with pytest.raises(ConfigError, match=r"s\.yaml: invalid YAML at line 2: '2024-02-30' is not a date"):
        load_scenario(str(path), settings)


@pytest.fixture(scope="module")
def reference():
    return observe.reference_run(["scenario=combined"])


def test_every_observation_field_with_every_implicit_yaml_type(tmp_path, reference):
    text = resources.files("sim.observations").joinpath("articles.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(line for line in text.splitlines() if line.strip() and not line.startswith("#")))
    header, body = rows[0], rows[1:3]  # a relation ("higher than") and a value with its bounds
    path = tmp_path / "obs.csv"
    refused = 0
    for r in range(len(body)):
        for col in range(len(header)):
            if r and body[0][col]:
                continue  # the second row adds the columns the first leaves empty
            for token in TOKENS:
                changed = [list(row) for row in body]
                changed[r][col] = token
                out = io.StringIO()
                csv.writer(out, lineterminator="\n").writerows([header, *changed])
                path.write_text(out.getvalue())
                message = refused_in_one_line_or_accepted(lambda: observe.read(path, reference))
                if message:
                    assert str(path) in message
                    refused += 1
    assert refused > 0


@pytest.mark.parametrize("token", TOKENS)
def test_calibration_plan_with_every_implicit_yaml_type(tmp_path, token):
    from sim.analysis.abc import load_plan

    path = tmp_path / "calibration.yaml"
    path.write_text(f"parameters: [{token}]\nabc: {{population: {token}}}\n")
    message = refused_in_one_line_or_accepted(lambda: load_plan(path))
    assert str(path) in message
