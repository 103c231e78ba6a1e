"""Forecasts that can be checked: observation files, ABC-SMC calibration, posterior ensembles,
hindcasts scored with proper rules (docs/forecasting.md)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyabc")  # the analysis extra (installed by make test)

from sim import ConfigError  # noqa: E402
from sim.analysis import abc, hindcast, observe, scores  # noqa: E402
from sim.config import compose, validate  # noqa: E402

HEADER = "id,quantity,selector,start,end,aggregate,relation,ref_selector,ref_start,ref_end,value,low,high,published,dating,source"


@pytest.fixture(scope="module")
def reference():
    return observe.reference_run(["scenario=combined"])


def _write(tmp_path: Path, *rows: str, name: str = "obs.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Observation files
# --------------------------------------------------------------------------------------------

def test_shipped_file_loads_and_dates_every_row(reference):
    obs = observe.load(observe.resolve_paths(None), reference)
    assert len(obs) >= 12
    ids = {o.id for o in obs}
    assert {"A4-2023", "A4-2024", "ctx6-2023", "A11-dec", "B4-pillar"} <= ids
    for o in obs:
        assert o.dating in observe.DATINGS
        assert o.published >= o.end or o.dating == "event"
    a4 = next(o for o in obs if o.id == "A4-2024")
    assert a4.value is None and a4.low == 11000 and a4.binary  # ">11,000" is a bound, not a point


GOOD = "x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,,11000,,2025-01,after_period,A4"
BAD_ROWS = [
    ("x1,drones_flown,actor=Russia,2024-01,2024-12,sum,,,,,,11000,,2025-01,after_period,A4", "quantity", "drones_flown"),
    ("x1,drones_launched,actor=Mars,2024-01,2024-12,sum,,,,,,11000,,2025-01,after_period,A4", "selector", "Mars"),
    ("x1,drones_launched,dyad=Russia–Iran,2024-01,2024-12,sum,,,,,,11000,,2025-01,after_period,A4", "selector", "dyad"),
    ("x1,strength,dyad=Russia–Iran,2024-01,2024-12,mean,,,,,0.3,,,2025-01,after_period,B4", "selector", "channel"),
    ("x1,drones_launched,actor=Russia,2024-12,2024-01,sum,,,,,,11000,,2025-01,after_period,A4", "end", "before start"),
    ("x1,drones_launched,actor=Russia,2024-13,2024-12,sum,,,,,,11000,,2025-01,after_period,A4", "start", "month"),
    ("x1,drones_launched,actor=Russia,24-01,2024-12,sum,,,,,,11000,,2025-01,after_period,A4", "start", "YYYY-MM"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,,11000,,,after_period,A4", "published", "empty"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,,12000,11000,2025-01,after_period,A4", "low", "above high"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,>11000,,,2025-01,after_period,A4", "value", "low or high"),
    ("x1,drones_launched,actor: Russia,2024-01,2024-12,sum,,,,,,11000,,2025-01,after_period,A4", "selector", "YAML"),
    ('x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,"[11000, 12000]",,,2025-01,after_period,A4', "value", "YAML"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,total,,,,,,11000,,2025-01,after_period,A4", "aggregate", "total"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,,11000,,2024-06,reported,A4", "published", "before"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,,11000,,2025-03,after_period,A4", "published", "month after"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,higher,,,,,,,2025-01,after_period,A4", "ref_start", "reference"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,higher,,2023-01,2023-12,5,,,2025-01,after_period,A4", "value", "no value"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,,,,2025-01,after_period,A4", "value", "empty"),
    ("x1,drones_launched,actor=Russia,2021-01,2021-12,sum,,,,,,100,,2022-01,after_period,A4", "start", "before the run"),
    ("x1,drones_launched,actor=Russia,2024-01,2024-12,sum,,,,,,11000,,2025-01,monthly,A4", "dating", "monthly"),
]


@pytest.mark.parametrize(("row", "column", "word"), BAD_ROWS)
def test_bad_row_names_file_line_column(tmp_path, reference, row, column, word):
    path = _write(tmp_path, GOOD.replace("x1", "ok"), row)
    with pytest.raises(ConfigError) as err:
        observe.load([path], reference)
    msg = str(err.value)
    assert "\n" not in msg
    assert f"{path}:3:" in msg and f"column '{column}'" in msg and "allowed" in msg and word in msg


def test_bad_files(tmp_path, reference):
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    cases = [
        (binary, "binary"),
        (_write(tmp_path, GOOD, name="col.csv", header=HEADER + ",colour"), "colour"),
        (_write(tmp_path, GOOD, name="miss.csv", header=HEADER.replace(",published", "")), "published"),
        (_write(tmp_path, GOOD, GOOD, name="dup.csv"), "twice"),
        (_write(tmp_path, name="empty.csv"), "no observation rows"),
        (tmp_path / "absent.csv", "not found"),
    ]
    for path, word in cases:
        with pytest.raises(ConfigError) as err:
            observe.load(observe.resolve_paths([str(path)]) if path.exists() else [path], reference)
        assert word in str(err.value) and "\n" not in str(err.value)


def test_cli_bad_observation_file_exit_2_nothing_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for i, (row, column, _word) in enumerate(BAD_ROWS[:4] + BAD_ROWS[7:9] + BAD_ROWS[10:11]):
        path = _write(tmp_path, row, name=f"bad{i}.csv")
        with pytest.raises(SystemExit) as ex:
            hindcast.main(["--cutoff", "2023-12", "--observations", str(path), "--out", str(tmp_path / "out")])
        assert ex.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"bad{i}.csv:2:" in err[0] and column in err[0] and "allowed" in err[0]
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(SystemExit) as ex:
        abc.main(["--cutoff", "2023-12", "--observations", str(binary), "--out", str(tmp_path / "out")])
    assert ex.value.code == 2 and "bin.csv" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ex:
        hindcast.main(["--cutoff", "2023-1x", "--out", str(tmp_path / "out")])
    assert ex.value.code == 2 and "--cutoff" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "outputs").exists()


def test_unknown_calibrated_parameter_is_one_line(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("parameters: [war.drones.demand_max, war.drones.no_such]\n")
    with pytest.raises(ConfigError, match=r"'war.drones.no_such' is not a parameter with a continuous distribution"):
        abc.load_plan(plan)
    assert abc.load_plan().parameters  # the shipped plan names parameters of this registry


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------

def test_crps_against_a_hand_computed_case():
    # ensemble 1, 2, 3, 4 and observation 2.5: E|X - y| = 1.0, E|X - X'| = 20/16, CRPS = 1 - 0.625
    assert scores.crps(2.5, np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.375)
    assert scores.crps(7.0, np.full(10, 4.0)) == pytest.approx(3.0)  # a sharp ensemble scores its error
    assert scores.crps_point(7.0, 4.0) == 3.0
    assert scores.pit(2.5, np.array([1.0, 2.0, 3.0, 4.0])) == 0.5
    assert scores.covered(2.5, np.arange(1.0, 101.0), 0.5) is False
    assert scores.covered(50.0, np.arange(1.0, 101.0), 0.5) is True
    assert scores.brier(0.8) == pytest.approx(0.04)
    assert scores.skill(np.array([1.0, 2.0]), np.array([2.0, 4.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
    assert scores.skill(np.array([np.nan]), np.array([1.0]), np.array([1.0])) is None


def test_persistence_rescales_sums_by_period_length(tmp_path, reference):
    path = _write(tmp_path,
                  "a,drones_produced,actor=Russia,2023-01,2023-12,sum,,,,,1200,,,2024-01,after_period,ctx6",
                  "b,drones_produced,actor=Russia,2024-01,2024-09,sum,,,,,5760,,,2024-12,reported,ctx6")
    a, b = observe.load([path], reference)
    assert hindcast.persistence(b, [a]) == pytest.approx(900.0)  # 100 a month, for nine months


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------

def test_toy_conjugate_normal_posterior_is_recovered(tmp_path):
    import pyabc

    n, y_bar = 4, 1.0  # y_i ~ N(mu, 1), mu ~ N(0, 1): posterior N(n y_bar / (n + 1), 1 / (n + 1))

    def simulate(thetas, seed):
        rng = np.random.default_rng(seed)
        mu = np.array([t["p0"] for t in thetas])
        return [{"y": float(v)} for v in mu + rng.normal(size=len(mu)) / np.sqrt(n)]

    result = abc.run_abc(pyabc.Distribution(p0=pyabc.RV("norm", 0, 1)), simulate, {"y": y_bar},
                         lambda x, x0: abs(x["y"] - x0["y"]), tmp_path / "toy.db", population=400,
                         max_generations=5, seed=3, min_eps_drop=0.0)
    mean = float(result.weights @ result.values[:, 0])
    sd = float(np.sqrt(result.weights @ (result.values[:, 0] - mean) ** 2))
    assert mean == pytest.approx(0.8, abs=0.08)
    assert sd == pytest.approx(np.sqrt(1 / 5), rel=0.2)
    assert len(result.generations) == 5


def test_simulation_based_recovery_on_the_real_model(tmp_path):
    """Observations generated by the model with known parameter values: the 90% credible
    interval of the posterior holds the truth."""
    from sim import posterior as post
    from sim.run import run

    truth = {"war.drones.demand_max": 1200.0, "war.troops.scale": 23_000.0}  # inside the priors' bulk
    rows = [
        ("L", "drones_launched", "actor=Russia", "2024-01", "2024-06", "sum"),
        ("T", "troops_sent", "actor=North Korea", "2024-12", "2024-12", "last"),
    ]
    overrides = ["scenario=combined"]
    settings = abc.base_settings(overrides, [], end=observe.parse_month("2024-12"))
    settings.values.update({"ensemble.replicates": 1, "seed": 12345})
    ds = run(settings, param_values={k: np.array([v]) for k, v in truth.items()})
    lines = []
    for rid, q, sel, s, e, agg in rows:
        da = ds[q].sel(dict(p.split("=") for p in [sel])).sel(time=slice(f"{s}-01", f"{e}-01"))
        v = float((da.sum("time") if agg == "sum" else da.isel(time=-1)).values[0])
        lines.append(f"{rid},{q},{sel},{s},{e},{agg},,,,,{v:.6g},{0.97 * v:.6g},{1.03 * v:.6g},2025-01,reported,test")
    path = _write(tmp_path, *lines)
    observations = observe.load([path], observe.reference_run(overrides))
    plan = abc.Plan(parameters=tuple(truth), population=300, max_generations=4, min_eps_drop=0.05, replicates=50)
    info = abc.calibrate(overrides, observations, observe.parse_month("2025-01"), plan, 7, tmp_path / "cal", quiet=True)
    p = post.read(info["posterior"])
    lo, hi = p.quantile(0.05), p.quantile(0.95)
    from sim.parameters import registry

    reg = registry()
    for name, value in truth.items():
        assert lo[name] <= value <= hi[name], (name, lo[name], value, hi[name])
        prior_draws = reg[name].dist.draw(np.random.default_rng(0), 20_000)
        prior_width = np.subtract(*np.quantile(prior_draws, [0.95, 0.05]))
        assert hi[name] - lo[name] < prior_width  # the data inform it


def _calibrate_cmd(out: Path, obs: Path) -> list[str]:
    return [sys.executable, "-m", "sim.analysis.abc", "--cutoff", "2025-01", "--observations", str(obs),
            "--population", "60", "--generations", "3", "--replicates", "20", "--seed", "5", "--out", str(out),
            "scenario=combined"]


def _populations(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_killed_calibration_resumes_to_the_same_posterior(tmp_path):
    obs = _write(tmp_path,
                 "L,drones_launched,actor=Russia,2024-01,2024-06,sum,,,,,4000,,,2024-07,after_period,test",
                 "T,troops_sent,actor=North Korea,2024-12,2024-12,last,,,,,11000,,,2025-01,after_period,test")
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    abc.main(_calibrate_cmd(tmp_path / "whole", obs)[3:])  # uninterrupted, in this process
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_calibrate_cmd(killed, obs), cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.time() + 300
    while _populations(killed / "abc.db") < 1 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the calibration finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _populations(killed / "abc.db")
    assert 1 <= done < 3 and not (killed / "posterior.csv").exists()
    again = subprocess.run(_calibrate_cmd(killed, obs), cwd=root, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert (killed / "posterior.csv").read_text() == (tmp_path / "whole" / "posterior.csv").read_text()


# --------------------------------------------------------------------------------------------
# Posterior ensembles
# --------------------------------------------------------------------------------------------

def test_posterior_draws_do_not_depend_on_chunking(tmp_path):
    from sim import posterior as post
    from sim.run import run

    file = post.write(tmp_path / "posterior.csv", ["war.troops.scale", "war.drones.demand_max"],
                      np.array([[20_000.0, 1000.0], [24_000.0, 1100.0], [27_000.0, 1300.0]]),
                      np.array([0.2, 0.5, 0.3]), {"cutoff": "test"})
    common = ["time.end=2022-09", "output.plots=false", f"ensemble.posterior={file}", "ensemble.block=16"]
    a = run(validate(compose([*common, "ensemble.replicates=200", "ensemble.chunk=16"])))
    b = run(validate(compose([*common, "ensemble.replicates=200", "ensemble.chunk=4000"])))
    c = run(validate(compose([*common, "ensemble.replicates=50"])))
    x = a["param:war.troops.scale"].values
    np.testing.assert_array_equal(x, b["param:war.troops.scale"].values)
    np.testing.assert_array_equal(x[:50], c["param:war.troops.scale"].values)
    assert set(np.unique(x)) == {20_000.0, 24_000.0, 27_000.0}
    assert np.mean(x == 24_000.0) == pytest.approx(0.5, abs=0.1)
    pairs = set(zip(x, a["param:war.drones.demand_max"].values, strict=True))
    assert pairs == {(20_000.0, 1000.0), (24_000.0, 1100.0), (27_000.0, 1300.0)}  # one particle per replicate
    # the runs behind the distribution plots (other scenarios, same configuration) draw from it too
    s = validate(compose([*common, "ensemble.sample_parameters=true"]))
    assert validate({**s.config, "scenario": "baseline"})["ensemble.posterior"] == str(file)
    bad = tmp_path / "bad.csv"
    bad.write_text("weight,war.drones.nonsense\n1,2\n")
    with pytest.raises(ConfigError, match="war.drones.nonsense"):
        validate(compose(["time.end=2022-09", f"ensemble.posterior={bad}", "ensemble.replicates=2"]))
    with pytest.raises(ConfigError, match="ensemble.posterior .*not found"):
        validate(compose([f"ensemble.posterior={tmp_path / 'absent.csv'}"]))


# --------------------------------------------------------------------------------------------
# Hindcast end to end
# --------------------------------------------------------------------------------------------

def test_hindcast_command_end_to_end(tmp_path):
    obs = _write(tmp_path,
                 "L23,drones_launched,actor=Russia,2023-01,2023-06,sum,,,,,,400,,2023-07,after_period,test",
                 "L24,drones_launched,actor=Russia,2024-01,2024-06,sum,,,,,,3000,,2024-07,after_period,test",
                 "P23,drones_produced,actor=Russia,2023-01,2023-06,sum,,,,,600,,,2023-07,after_period,test",
                 "P24,drones_produced,actor=Russia,2024-01,2024-06,sum,,,,,2800,,,2024-07,after_period,test",
                 "T,troops_sent,actor=North Korea,2024-12,2024-12,last,,,,,11000,9000,13000,2025-01,after_period,A11",
                 "S,strength,dyad=russia-iran; channel=military,2025-01,2025-01,last,lower,,2024-11,2024-11,,,,2025-02,"
                 "after_period,B4")
    exe = Path(sys.executable).parent / "geosim-hindcast"
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    out = tmp_path / "hc"
    proc = subprocess.run([str(exe), "--cutoff", "2023-12", "--observations", str(obs), "--population", "50",
                           "--generations", "2", "--replicates", "40", "--out", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("n_scored", "coverage_50", "coverage_90", "crps_skill_vs_prior", "crps_skill_vs_persistence", "brier"):
        assert key in result
    assert result["n_scored"] == 4 and result["n_values"] == 2 and result["n_binary"] == 2
    assert result["crps_skill_vs_persistence"] is not None and result["n_persistence"] == 1  # P24 from P23
    assert 0 <= result["brier"] <= 1 and result["coverage_90"] in (0.0, 0.5, 1.0)
    import pandas as pd

    table = pd.read_csv(out / "scores.csv")
    assert list(table["id"]) == ["L24", "P24", "T", "S"]
    p24 = table.set_index("id").loc["P24"]
    assert p24["persistence"] == pytest.approx(600.0)  # the same six months' sum carried forward
    assert p24["persistence_crps"] == pytest.approx(2200.0)
    for name in ("forecast_drones_launched.png", "forecast_drones_produced.png", "forecast_troops_sent.png",
                 "forecast_strength.png", "posterior.csv", "posterior.png", "predictive.csv"):
        assert (out / name).stat().st_size > 0, name
    assert (tmp_path / "outputs" / "calibrations").is_dir()  # the cached calibration
    again = subprocess.run([str(exe), "--cutoff", "2023-12", "--observations", str(obs), "--population", "50",
                            "--generations", "2", "--replicates", "40", "--out", str(tmp_path / "hc2")],
                           cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and json.loads(again.stdout.strip().splitlines()[-1])["brier"] == result["brier"]
    assert (tmp_path / "hc2" / "scores.csv").read_text() == (out / "scores.csv").read_text()


def test_nothing_known_gives_prior_draws_and_a_folder_keeps_its_inputs(tmp_path, reference):
    from sim import posterior as post

    obs = observe.load([_write(tmp_path, GOOD)], reference)
    plan = abc.Plan(parameters=("war.drones.demand_max",), population=50, replicates=10)
    info = abc.calibrate(["scenario=combined"], obs, observe.parse_month("2023-12"), plan, 1, tmp_path / "cal", quiet=True)
    p = post.read(info["posterior"])
    assert p.size == 50 and np.allclose(p.weights, 1 / 50) and "prior draws" in p.meta["note"]
    assert abc.calibrate(["scenario=combined"], obs, observe.parse_month("2023-12"), plan, 1, tmp_path / "cal")["cached"]
    with pytest.raises(ConfigError, match="other inputs"):
        abc.calibrate(["scenario=combined"], obs, observe.parse_month("2023-12"), plan, 2, tmp_path / "cal")
