"""Sensitivity analysis: the SALib driver checked on Ishigami, then geosim-sensitivity end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("SALib")

from sim.analysis import sensitivity  # noqa: E402

from .analysis_helpers import run_cli, script  # noqa: E402

ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
# analytic indices for a = 7, b = 0.1
S1 = [0.3139, 0.4424, 0.0]
ST = [0.5576, 0.4424, 0.2437]


def ishigami(X: np.ndarray) -> dict[str, np.ndarray]:
    x1, x2, x3 = X.T
    return {"y": np.sin(x1) + 7.0 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)}


def test_sobol_driver_recovers_ishigami_indices():
    calls = []

    def evaluate(X):
        calls.append(X.shape)
        return ishigami(X)

    table = sensitivity.sobol_indices(ISHIGAMI, evaluate, 1024, seed=3).set_index("parameter")
    # one call per run: D + 2 = 5 runs of N = 1024 points, one point per block in each
    assert calls == [(1024, 3)] * 5
    assert np.allclose(table["S1"], S1, atol=0.05)
    assert np.allclose(table["ST"], ST, atol=0.05)
    assert (table["S1_conf"] > 0).all() and (table["S1_conf"] < 0.1).all()


def test_confidence_intervals_repeat_with_seed_0():
    """Seed 0 (the command's default) fixes the bootstrap too: the same seed, the same table."""
    first = sensitivity.sobol_indices(ISHIGAMI, ishigami, 64, seed=0)
    np.random.seed(12345)  # the global generator must not matter
    again = sensitivity.sobol_indices(ISHIGAMI, ishigami, 64, seed=0)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert (first["S1_conf"] > 0).all()


def test_budget_and_flags_on_ishigami_with_noise():
    """Ishigami plus noise: the sums match the analytic ones scaled by the noise's share, the
    directly measured noise share matches, x3's first-order index is flagged as zero."""
    rng = np.random.default_rng(0)

    def noisy(X):
        y = ishigami(X)["y"]
        return {"y": y + rng.normal(0.0, 2.0, len(y))}  # noise variance 4 of about 17.8

    table = sensitivity.sobol_indices(ISHIGAMI, noisy, 2048, seed=1)
    variance = table.groupby("outcome")["variance"].first().to_dict()
    noise = sensitivity.noise_share(noisy, ISHIGAMI, 4096, variance)
    row = sensitivity.budget(table, noise).set_index("outcome").loc["y"]
    share = 13.84 / (13.84 + 4.0)  # Ishigami's variance (a=7, b=0.1) and the noise's
    assert row["noise"] == pytest.approx(1 - share, abs=0.05)
    assert row["sum_S1"] == pytest.approx(sum(S1) * share, abs=0.1)
    assert row["left_S1"] == pytest.approx(1 - row["sum_S1"])
    flags = table.set_index("parameter")
    assert flags.loc["x3", "S1_zero"] and not flags.loc["x2", "S1_zero"] and not flags.loc["x1", "ST_zero"]
    assert set(table["flag"]) >= {""} and "S1 ~ 0" in flags.loc["x3", "flag"]


def test_flags_mark_s1_above_st_and_zero_intervals():
    import pandas as pd

    t = sensitivity.flag(pd.DataFrame({"outcome": ["y"] * 3, "parameter": ["a", "b", "c"], "S1": [0.118, 0.01, 0.5],
                                       "S1_conf": [0.02, 0.05, 0.1], "ST": [0.079, 0.02, 0.6],
                                       "ST_conf": [0.01, 0.03, 0.1]})).set_index("parameter")
    assert t.loc["a", "S1_above_ST"] and t.loc["a", "flag"] == "S1 > ST"
    assert t.loc["b", "S1_zero"] and t.loc["b", "ST_zero"] and not t.loc["c", "flag"]


def test_morris_driver_on_ishigami():
    """x1 acts in one direction; x2 (through sin^2) and x3 (only with x1) have mean effects near 0
    but large spreads."""
    table = sensitivity.morris_effects(ISHIGAMI, ishigami, 256, seed=2).set_index("parameter")
    assert table.loc["x1", "mu"] > 5
    assert abs(table.loc["x2", "mu"]) < 1 and abs(table.loc["x3", "mu"]) < 1
    assert (table["sigma"] > 5).all()
    assert (table["mu_star"] > table["mu_star_conf"]).all()


def test_uncertain_parameters_and_ranges():
    ranges = sensitivity.uncertain_parameters()
    assert len(ranges) >= 30
    assert ranges["war.drones.demand_max"] == pytest.approx((862.5, 1437.5))
    assert ranges["exchange.threshold.drones"] == pytest.approx((-0.25, 0.25))
    assert ranges["war.intensity.target"] == pytest.approx((0.75, 1.0))  # clipped to the declared range
    assert not any(p.startswith(("dynamics.composite.", "shocks.", "relations.")) for p in ranges)
    assert "exchange.outside.drones" not in ranges  # a structural zero


def test_cli_small_sobol_with_common_random_numbers(tmp_path):
    out = tmp_path / "sens"
    proc = run_cli([script("geosim-sensitivity"), "time.end=2024-06", "-N", "16", "--jobs", "1",
                    "--param", "exchange.threshold.trade", "--param", "war.territory.rate=0.05:0.3",
                    "--outcome", "russia_iran_military", "--outcome", "territory", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table.columns) >= {"outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf", "low", "high"}
    assert len(table) == 4
    t = table.set_index(["outcome", "parameter"])
    # the territory rate cannot move the military channel; with common random numbers its total index is exactly 0
    # (the horizon is mid-2024, when the front has moved: later the integrated edge passes through zero)
    assert t.loc[("russia_iran_military", "war.territory.rate"), "ST"] == 0.0
    assert t.loc[("territory", "war.territory.rate"), "ST"] > 0.5
    assert (out / "sensitivity.png").stat().st_size > 10_000
    assert {"S1_zero", "ST_zero", "S1_above_ST", "flag"} <= set(table.columns)
    shares = pd.read_csv(out / "sensitivity_budget.csv").set_index("outcome")
    assert shares.loc["territory", "sum_ST"] == pytest.approx(t.xs("territory")["ST"].sum())
    assert 0 <= shares.loc["territory", "noise"] < 0.5  # the territory rate, not the noise, drives territory
    assert "explain" in proc.stdout and "sum of S1" in proc.stdout and "noise alone" in proc.stdout
    doc = yaml.safe_load((out / "problem.yaml").read_text())
    assert doc["N"] == 16 and doc["model_replicates"] == 16 * 4
    assert doc["parameters"]["war.territory.rate"] == [0.05, 0.3]


def test_cli_morris_runs_in_two_processes(tmp_path):
    out = tmp_path / "morris"
    proc = run_cli([script("geosim-sensitivity"), "time.end=2025-12", "--method", "morris", "-N", "4", "--jobs", "2",
                    "--param", "dynamics.weight.trust", "--param", "exchange.threshold.arms", "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(out / "sensitivity.csv")
    assert {"mu", "mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    assert len(table) == 2 * 3  # two parameters x the three default outcomes


@pytest.mark.parametrize("args, message", [
    (["--param", "dynamics.weight.glu"], "unknown parameter 'dynamics.weight.glu'; did you mean dynamics.weight.glue"),
    (["--param", "dynamics.weight.glue=2:1"], "range 2:1 is empty"),
    (["--param", "shocks.snapback.sanctions"], "cannot vary between replicates"),
    (["--outcome", "nope"], "--outcome nope: unknown outcome; allowed: russia_iran_military"),
    (["-N", "1000"], "needs a power of 2"),
    (["no_such_key=1"], "config override: unknown key 'no_such_key'"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        sensitivity.main(["time.end=2025-12", "--out", str(tmp_path / "x"), *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_console_script_exit_status(tmp_path):
    proc = run_cli([script("geosim-sensitivity"), "--param", "nope.nope"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("geosim-sensitivity: error: --param nope.nope: unknown parameter")
