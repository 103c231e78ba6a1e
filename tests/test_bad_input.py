"""Bad input never crashes or lies: a catalogue of malformed inputs, each with one clear line.

Scenario-file cases live in test_scenario.py (test_malformed_scenarios_*, binary, huge,
missing, cycle); this file holds the configuration and results-file cases, the command-line
behaviour (exit status 2, one line on stderr, no traceback, no results file) and property-based
tests of the loader and the validation.
"""

from __future__ import annotations

import string

import numpy as np
import pytest
import xarray as xr
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim import ConfigError, posterior
from sim.analysis import abc, landscape, observe
from sim.errors import read_text
from sim.parameters import registry
from sim.scenario import load_scenario

from .conftest import make_settings, run_cli

CONFIG_CASES = [
    (["actors.iran.sanctions=1.5"], ["actors.iran.sanctions", "1.5", "[0, 1]"]),
    (["actors.iran.sanctions=-0.1"], ["actors.iran.sanctions", "out of range"]),
    (["actors.iran.sanctions=abc"], ["actors.iran.sanctions", "not a number"]),
    (["ensemble.replicates=0"], ["ensemble.replicates", "out of range"]),
    (["ensemble.replicates=-5"], ["ensemble.replicates", "out of range"]),
    (["ensemble.replicates=1.5"], ["ensemble.replicates", "whole number"]),
    (["ensemble.replicates=true"], ["ensemble.replicates", "whole number"]),
    (["ensemble.replicates=100000000"], ["ensemble.replicates", "out of range"]),
    (["seed=-1"], ["seed", "out of range"]),
    (["dynamics.weight.glue=nan"], ["dynamics.weight.glue", "finite"]),
    (["dynamics.weight.glue=-inf"], ["dynamics.weight.glue", "finite"]),
    (["war.drones.demand_max=1e9"], ["war.drones.demand_max", "out of range"]),
    (["war.attacker=china"], ["war.attacker", "china", "allowed"]),
    (["war.attacker=ukraine"], ["war.attacker", "must differ"]),
    (["shocks.trump_talks.mediator=russia"], ["mediator"]),
    (["anchors.syria.members=[]"], ["anchors.syria.members", "non-empty list"]),
    (["anchors.syria.members=[russia]"], ["anchors.syria.members", "two different actors"]),
    (["anchors.syria.members=[russia,mars]"], ["anchors.syria.members", "mars"]),
    (["output.network_dates=[]"], ["output.network_dates", "non-empty list"]),
    (["output.network_dates=[2024-15]"], ["output.network_dates", "2024-15"]),
    (["output.plots=maybe"], ["output.plots", "true/false"]),
    (["output.focus_dyad=iran"], ["output.focus_dyad", "not a dyad"]),
    (["time.start=2022-7x"], ["time.start", "month"]),
    (["time.end=2020-01"], ["time.end", "before time.start"]),
    (["time.end=2200-01"], ["time.end", "100 years"]),
    (["actors.iran.name="], ["actors.iran.name", "non-empty text"]),
    (["actors.iran.bogus=1"], ["unknown key", "actors.iran.bogus"]),
    (["dynamics.weight.glu=1"], ["unknown key", "dynamics.weight.glue"]),
    (["+relations.mars-iran.military=1"], ["relations.mars-iran", "not a pair of actors"]),
    (["+relations.iran-iran.military=1"], ["relations.iran-iran", "not a pair of actors"]),
    (["+relations.russia-iran.cultural=1"], ["unknown key", "relations.russia-iran.cultural"]),
    (["+actors.Israel.name=Israel"], ["actors.Israel", "lower-case"]),
    (["+actors.israel.name=Iran"], ["share a display name"]),
    (["dynamics.composite.military=0", "dynamics.composite.economic=0", "dynamics.composite.diplomatic=0"],
     ["dynamics.composite", "> 0"]),
    (["scenario=atlantis"], ["unknown scenario 'atlantis'", "presets"]),
    (["scenario=/no/such/file.yaml"], ["file not found", "/no/such/file.yaml"]),
    (["scenario=/tmp"], ["/tmp", "not a file"]),
    (["seed=0,1"], ["seed", "-m"]),
    (["time.start=1600-01"], ["time.start", "1900-01..2200-12"]),
    (["time.start=2250-01", "time.end=2260-12"], ["time.start", "outside the calendar"]),
    (["dynamics=null"], ["dynamics", "must be a mapping"]),
]


@pytest.mark.parametrize("overrides,words", CONFIG_CASES, ids=[" ".join(c[0])[:60] for c in CONFIG_CASES])
def test_bad_configuration(overrides, words):
    with pytest.raises(ConfigError) as info:
        make_settings(*overrides)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def _not_geosim(path):
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(path, engine="scipy")


RESULT_CASES = {
    "missing": (lambda p: None, "not found"),
    "empty": (lambda p: p.write_bytes(b""), "not a readable netCDF"),
    "text": (lambda p: p.write_text("hello"), "not a readable netCDF"),
    "random bytes": (lambda p: p.write_bytes(bytes(range(256)) * 4), "not a readable netCDF"),
    "other netCDF": (_not_geosim, "not geosim results"),
    "directory": (lambda p: p.mkdir(), "not a file"),
}


@pytest.mark.parametrize("case", list(RESULT_CASES))
def test_bad_results_file(tmp_path, case):
    make, expected = RESULT_CASES[case]
    path = tmp_path / "results.nc"
    make(path)
    with pytest.raises(ConfigError) as info:
        sim.load(path)
    assert expected in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


USER_FILE_CASES = {
    "missing": (lambda p: None, "file not found"),
    "directory": (lambda p: p.mkdir(), "a directory"),
    "binary": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00"), "not a text file (binary content"),
    "latin-1": (lambda p: p.write_bytes("id,n\xe4me\n".encode("latin-1")), "not a text file (not UTF-8 at byte 4)"),
}
# Each reader of a user file, as (call, what its message says is allowed). The file checks come
# before any use of the observation reader's reference run, so it gets none here.
USER_FILE_READERS = {
    "scenario": (lambda p: load_scenario(str(p), make_settings()), "a UTF-8 YAML text file"),
    "observations": (lambda p: observe.read(p, None), "a UTF-8 CSV file with a header row"),
    "posterior": (lambda p: posterior.read(p), "a posterior.csv written by geosim-calibrate"),
    "landscape": (lambda p: landscape._rows(p), "a UTF-8 CSV file"),
    "calibration plan": (lambda p: abc.load_plan(p), "a YAML file with a list of parameters"),
}


@pytest.mark.parametrize("case", list(USER_FILE_CASES))
@pytest.mark.parametrize("reader", list(USER_FILE_READERS))
def test_every_user_file_reader_refuses_a_bad_file_in_one_line(tmp_path, reader, case):
    make, expected = USER_FILE_CASES[case]
    call, allowed = USER_FILE_READERS[reader]
    path = tmp_path / "input.yaml"
    make(path)
    with pytest.raises(ConfigError) as info:
        call(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    if reader == "scenario" and case in ("missing", "directory"):  # refused when the name is resolved
        assert ("file not found" if case == "missing" else "is not a file") in message
    else:
        assert expected in message and f"allowed: {allowed}" in message


def test_read_text_drops_a_byte_order_mark_and_refuses_a_file_too_large(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffid,value\n1,2\n".encode())
    assert read_text(path, "CSV file", "x") == "id,value\n1,2\n"
    with pytest.raises(ConfigError, match=r"excel\.csv: the CSV file is 16 bytes, more than the 15 allowed; allowed: x$"):
        read_text(path, "CSV file", "x", max_bytes=15)
    assert read_text(path, "CSV file", "x", max_bytes=16).startswith("id")


CLI_CASES = [
    ["actors.iran.sanctions=1.5"],
    ["actors.iran.charisma=1"],
    ["scenario=/no/such/file.yaml"],
    ["-m", "seed=0,1", "scenario=baseline,atlantis"],  # a sweep is checked before its first job
    ["hydra.run.dir=/proc/no/such/dir"],
]


@pytest.mark.parametrize("overrides", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, overrides):
    out = tmp_path / "run"
    where = f"hydra.sweep.dir={out}" if "-m" in overrides else f"hydra.run.dir={out}"
    proc = run_cli(*overrides, *([] if any(o.startswith("hydra.run.dir") for o in overrides) else [where]))
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("geosim: error:"), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (out / "results.nc").exists()


def test_cli_malformed_scenario_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("events:\n  - {id: a, type: snapback, date: 2025-01\n")
    proc = run_cli(f"scenario={path}", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2 and str(path) in proc.stderr and "invalid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- property-based: anything either loads or raises the documented error --------------------

_SETTINGS = None


def base_settings():
    global _SETTINGS
    if _SETTINGS is None:
        _SETTINGS = make_settings()
    return _SETTINGS


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(string.printable, max_size=12), st.sampled_from(["2024-12", "2025-13", "2031-01", "x"]))
event_like = st.fixed_dictionaries(
    {"id": st.one_of(st.text(string.ascii_letters, min_size=0, max_size=5), st.integers()),
     "type": st.sampled_from(["assad_fall", "trump_talks", "snapback", "set", "shift", "meteor", ""]),
     "date": st.one_of(st.sampled_from(["2024-12", "2023-01", "2025-13", "1800-01", "12/2024"]), scalars)},
    optional={"strength": scalars, "value": scalars, "parameter": st.sampled_from(
        ["actors.iran.sanctions", "policy.iran-russia.military", "time.end", "war.attacker", "nope.x", ""]),
        "relation": st.sampled_from(["russia-iran", "iran-russia", "iran-iran", "mars-iran", ""]),
        "channel": st.sampled_from(["military", "all", "cultural", ""]), "note": scalars})
documents = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.fixed_dictionaries({}, optional={
        "description": scalars, "sources": st.one_of(scalars, st.lists(scalars, max_size=2)),
        "include": st.one_of(scalars, st.lists(st.sampled_from(["baseline", "snapback", "nope", "x.yaml"]), max_size=2)),
        "events": st.one_of(scalars, st.lists(st.one_of(event_like, scalars), max_size=4)),
        "extra": scalars}),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_scenario_loader_property(tmp_path, doc):
    path = tmp_path / "prop.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    try:
        sc = load_scenario(str(path), base_settings())
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        sc.operations(base_settings())  # a loaded scenario also expands


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_scenario_loader_property_raw_text(tmp_path, text):
    path = tmp_path / "raw.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass") if "\ud800" not in text else None
    if not path.exists():
        return
    try:
        load_scenario(str(path), base_settings())
    except ConfigError:
        pass


PATHS = sorted(registry())
values = st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.booleans(), st.sampled_from(["abc", "2024-06", "russia", "[]", "[russia,iran]", "null", "''"]))


python_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=True, allow_infinity=True),
              st.text(max_size=10), st.sampled_from(["2024-06", "russia", "iran", "end"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


def _set(tree: dict, path: str, value) -> dict:
    import copy

    tree = copy.deepcopy(tree)
    node = tree
    *parents, leaf = path.split(".")
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[leaf] = value
    return tree


@settings(max_examples=400, deadline=None)
@given(path=st.one_of(st.sampled_from(PATHS), st.sampled_from(["actors.mars", "relations.x", "extra", "actors",
                                                                "relations", "war", "actors.iran.needs"])),
       value=python_values)
def test_validation_property_on_any_value(path, value):
    from sim.config import validate

    raw = _set(base_settings().config, path, value)
    try:
        s = validate(raw)
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert s.actors and s.months >= 1


@settings(max_examples=25, deadline=None)
@given(path=st.sampled_from(PATHS), value=values, plus=st.booleans())
def test_config_validation_property(path, value, plus):
    """The same through Hydra's override parser (slower: fewer examples)."""
    text = value if isinstance(value, str) else repr(value).lower() if isinstance(value, bool) else str(value)
    override = f"{'+' if plus else ''}{path}={text}"
    try:
        s = make_settings(override)
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        p = registry(s.actors)[path]
        if p.kind in ("float", "int"):
            assert p.low <= s[path] <= p.high


def test_full_mode_ensemble_too_large_for_memory_is_refused():
    with pytest.raises(ConfigError, match="ensemble.mode=summary"):
        sim.simulate("baseline", overrides=["ensemble.replicates=9000000"])
