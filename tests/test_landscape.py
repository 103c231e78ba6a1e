"""Landscape theory on the shared Syria 2016 data, checked against an independent brute force."""

from __future__ import annotations

import csv
import itertools

import numpy as np
import pytest

from sim.analysis import landscape
from sim.errors import ConfigError

from .analysis_helpers import SYRIA, run_cli, script

pytestmark = pytest.mark.skipif(not SYRIA.is_dir(), reason=f"shared data not found at {SYRIA}")


def brute_force(actors_csv, propensity_csv, neutral=3.0):
    """Local minima by plain loops over every assignment; mirror images counted once.

    Written from the README's definitions, sharing no code with sim.analysis.landscape.
    Returns {(frozenset bloc with the first actor, frozenset other bloc): energy}.
    """
    with open(actors_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    names = [r["actor"] for r in rows]
    s = [float(r["strength"]) for r in rows]
    with open(propensity_csv, newline="") as f:
        matrix = list(csv.reader(f))[1:]
    n = len(names)
    p = [[float(matrix[i][j + 1]) if i != j else neutral for j in range(n)] for i in range(n)]

    def energy(cfg):
        total = 0.0
        for i in range(n):
            frustration = sum(s[j] * (p[i][j] - neutral) * (cfg[i] != cfg[j]) for j in range(n) if j != i)
            total += s[i] * frustration
        return total

    minima = {}
    for cfg in itertools.product((0, 1), repeat=n):
        e = energy(cfg)
        flips = [energy(cfg[:k] + (1 - cfg[k],) + cfg[k + 1:]) for k in range(n)]
        if all(f >= e for f in flips):
            first = frozenset(names[i] for i in range(n) if cfg[i] == cfg[0])
            other = frozenset(names) - first
            minima[(first, other)] = e
    return minima


@pytest.mark.parametrize("actors_file", ["actors.csv", "actors_weak_syria.csv"])
def test_local_minima_match_brute_force(actors_file):
    names, size = landscape.read_actors(SYRIA / actors_file)
    _, p = landscape.read_propensity(SYRIA / "propensity.csv", len(names))
    found = landscape.local_minima(size, p - 3.0)
    ours = {(frozenset(m.members(names, 0)), frozenset(m.members(names, 1))): m.energy for m in found}
    expected = brute_force(SYRIA / actors_file, SYRIA / "propensity.csv")
    assert ours.keys() == expected.keys()
    for key, e in expected.items():
        assert ours[key] == pytest.approx(e)
    energies = [m.energy for m in found]
    assert energies == sorted(energies)
    # the global minimum is the lowest energy over all configurations
    assert found[0].energy == pytest.approx(min(expected.values()))


def test_global_minimum_on_syria_data():
    """What the theory gives for the full data: ISIS, al-Nusra and Turkey against the rest."""
    names, size = landscape.read_actors(SYRIA / "actors.csv")
    _, p = landscape.read_propensity(SYRIA / "propensity.csv", len(names))
    best = landscape.local_minima(size, p - 3.0)[0]
    assert set(best.members(names, 1)) == {"Turkey", "ISIS", "Nursa"}
    assert best.energy == pytest.approx(-83_200.0)


def test_cli_prints_minima_lowest_first(tmp_path):
    exe = script("geosim-landscape")
    out = run_cli([exe, "--actors", str(SYRIA / "actors.csv"), "--propensity", str(SYRIA / "propensity.csv")], tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "1 local minima" in lines[0]
    assert lines[2].split()[:2] == ["1", "-83,200.0"]
    assert lines[2].endswith("| Turkey, ISIS, Nursa")


def test_cli_bad_input_exits_2(tmp_path):
    exe = script("geosim-landscape")
    missing = run_cli([exe, "--actors", str(tmp_path / "nope.csv"), "--propensity", str(SYRIA / "propensity.csv")], tmp_path)
    assert missing.returncode == 2
    assert "nope.csv: file not found" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("id,actor,strength\n1,US,ten\n2,Russia,10\n")
    out = run_cli([exe, "--actors", str(bad), "--propensity", str(SYRIA / "propensity.csv")], tmp_path)
    assert out.returncode == 2
    assert "bad.csv" in out.stderr and "'ten' is not a number" in out.stderr


def test_reader_errors_name_the_file(tmp_path):
    names, _ = landscape.read_actors(SYRIA / "actors.csv")
    short = tmp_path / "short.csv"
    short.write_text(",A,B\nA,,4\nB,4,\n")
    with pytest.raises(ConfigError, match="short.csv: header has 2 column labels; the actors file lists 11"):
        landscape.read_propensity(short, len(names))
    hole = tmp_path / "hole.csv"
    hole.write_text(",A,B\nA,,\nB,4,\n")
    with pytest.raises(ConfigError, match="hole.csv: line 2, column 'B': empty"):
        landscape.read_propensity(hole, 2)
    header = tmp_path / "header.csv"
    header.write_text("name,size\nUS,1\nRussia,2\n")
    with pytest.raises(ConfigError, match="header.csv: header .* expected id,actor,strength"):
        landscape.read_actors(header)


def test_simulation_alignment_two_camps():
    """Two friendly pairs hostile to each other: blocs {0, 1} vs {2, 3}; every triad balanced."""
    pairs = list(itertools.combinations(range(4), 2))
    friendly = {(0, 1), (2, 3)}
    composite = np.array([[0.6 if pr in friendly else -0.4 for pr in pairs]])
    blocs, balance = landscape.alignment(composite, np.array([[0.1, 0.2, 0.3, 0.4]]), pairs)
    assert blocs.tolist() == [[0, 0, 1, 1]]
    assert balance.tolist() == [1.0]
    # one friendly triangle with a hostile edge: 1 of 1 triads unbalanced
    tri = list(itertools.combinations(range(3), 2))
    _, balance = landscape.alignment(np.array([[0.5, 0.5, -0.5]]), np.ones((1, 3)), tri)
    assert balance.tolist() == [0.0]


def test_simulation_alignment_is_the_global_minimum_of_the_energy():
    """The per-dyad shortcut picks the configuration of lowest E (landscape.energies) and counts
    balanced triads from the signs of the affinity matrix, for random relations and sizes."""
    rng = np.random.default_rng(5)
    n = 5
    pairs = list(itertools.combinations(range(n), 2))
    # all pairs are dyads, or only some (a pair without a relation counts as positive)
    for dyads in (pairs, [p for p in pairs if p != (0, 1) and p[1] != 4]):
        composite = rng.uniform(-1, 1, (300, len(dyads)))
        composite[:20, :3] = 0.0  # zero relations count as positive
        size = rng.uniform(0.01, 0.5, (300, n))
        blocs, balance = landscape.alignment(composite, size, dyads)
        aff = landscape.affinity_matrix(composite, dyads, n)
        configs = landscape.configurations(n)
        expected = configs[np.argmin(landscape.energies(configs, size, aff), axis=-1)]
        np.testing.assert_array_equal(blocs, expected)
        np.testing.assert_array_equal(balance, landscape.balance_index(aff))
        assert 0.0 < balance.mean() < 1.0
    composite, size = rng.uniform(-1, 1, (300, len(pairs))), rng.uniform(0.01, 0.5, (300, n))
    # one set of relations, several sets of sizes: broadcast like the rest of numpy
    blocs, balance = landscape.alignment(composite[0], size[:4], pairs)
    assert blocs.shape == (4, n) and balance.shape == (4,)
    np.testing.assert_array_equal(blocs[2], landscape.alignment(composite[0], size[2], pairs)[0])


def test_results_carry_blocs_and_balance_from_the_documented_mapping():
    """bloc/balance in the results equal a brute force on composite strengths and capability shares."""
    import sim
    from sim import parameters as prm

    ds = sim.simulate("combined", ["ensemble.replicates=3", "time.end=2026-06", "output.network_dates=[2022-07]"])
    assert ds["bloc"].dims == ("time", "replicate", "actor") and ds["balance"].dims == ("time", "replicate")
    assert (ds["bloc"].isel(actor=0) == 0).all()
    keys = list(ds["actor_key"].values)
    size = [prm.ACTORS[k]["cinc"][0] for k in keys]  # no scenario event changes capabilities
    for t in (0, -1):
        comp = ds["strength"].sel(channel="composite").isel(time=t, replicate=0)
        a = {}
        for dyad_key, value in zip(ds["dyad_key"].values, comp.values, strict=True):
            i, j = (keys.index(k) for k in dyad_key.split("-"))
            a[i, j] = a[j, i] = float(value)
        n = len(keys)

        def energy(cfg, a=a, n=n):
            return sum(size[i] * size[j] * a[i, j] for i in range(n) for j in range(n) if i != j and cfg[i] != cfg[j])

        best = min((c for c in itertools.product((0, 1), repeat=n) if c[0] == 0), key=energy)
        assert ds["bloc"].isel(time=t, replicate=0).values.tolist() == list(best)
        triads = list(itertools.combinations(range(n), 3))
        balanced = sum((a[i, j] >= 0) == ((a[j, k] >= 0) == (a[i, k] >= 0)) for i, j, k in triads)
        assert float(ds["balance"].isel(time=t, replicate=0)) == pytest.approx(balanced / len(triads))
    # the US courting Russia unbalances triads by the end of the combined path
    assert float(ds["balance"].isel(time=-1).mean()) < 1.0


def test_geosim_run_plots_alignment(tmp_path):
    out = tmp_path / "run"
    proc = run_cli([script("geosim"), "ensemble.replicates=3", "time.end=2025-12", f"hydra.run.dir={out}"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / "alignment.png").stat().st_size > 20_000


def test_many_states_get_a_local_minimum():
    """Above EXACT_STATES the blocs come from a descent: no single state can lower the energy."""
    n = landscape.EXACT_STATES + 2
    rng = np.random.default_rng(5)
    pairs = list(itertools.combinations(range(n), 2))
    composite, size = rng.uniform(-1, 1, (20, len(pairs))), rng.uniform(0.01, 0.1, (20, n))
    blocs, _ = landscape.alignment(composite, size, pairs)
    assert (blocs[:, 0] == 0).all()
    for r in range(20):
        flips = np.array([blocs[r]] + [blocs[r] ^ (np.arange(n) == k) for k in range(n)])
        e = landscape.energies(flips, size[r], landscape.affinity_matrix(composite[r], pairs, n))
        assert (e[1:] >= e[0] - 1e-12).all()
