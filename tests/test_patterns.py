"""The observed patterns of patterns.md (P1–P12) hold with the default configuration (as geosim-validate)."""

import pytest

from sim import validate as V

from .conftest import run_script


@pytest.fixture(scope="module")
def patterns():
    rows = V.evaluate(replicates=V.MIN_REPLICATES, sanity_draws=V.SANITY_DRAWS)
    return {r.id: r for r in rows}


@pytest.mark.parametrize("pid", [f"P{i}" for i in range(1, 13)])
def test_pattern_holds(patterns, pid):
    row = patterns[pid]
    assert row.passed, f"{pid} {row.pattern}: {row.figure} (target {row.target})"


def test_patterns_fail_when_the_mechanism_is_removed():
    # without the Syria anchor the fall of Assad changes nothing: P6 must then fail
    rows = {r.id: r for r in V.evaluate(["dynamics.weight.anchor=0"], replicates=50, sanity_draws=0)}
    assert not rows["P6"].passed
    # without drone imports Iran's share cannot fall: P4 must fail
    rows = {r.id: r for r in V.evaluate(["war.drones.import_capacity=0"], replicates=50, sanity_draws=0)}
    assert not rows["P4"].passed
    # a modelled conflict of interest (a standing policy against the military channel) is hostility: P12 must fail
    rows = {r.id: r for r in V.evaluate(["policy.russia-iran.military=-1.5"], replicates=50, sanity_draws=0)}
    assert not rows["P12"].passed


def test_sanity_check_detects_out_of_range_values():
    import sim

    ds = sim.simulate("baseline", overrides=["ensemble.replicates=2", "time.end=2023-01"])
    assert V.in_range(ds)
    ds["strength"][0, 0, 0, 0] = 1.5
    assert not V.in_range(ds)


def test_geosim_validate_command_prints_the_table():
    proc = run_script("geosim-validate")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for pid in ("P1", "P6", "P11"):
        assert pid in proc.stdout
    assert "12 of 12 patterns hold" in proc.stdout
