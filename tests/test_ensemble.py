"""Ensembles: invariance to chunks and workers, summary mode, sampled parameters, uncertain events."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import ConfigError
from sim import parameters as prm
from sim.config import compose, validate
from sim.ensemble import balanced_chunks, chunks, histogram_quantiles, parameter_draws
from sim.model import GeoModel
from sim.results import Recorder
from sim.scenario import Event, realise

from .conftest import shm_entries, shm_leaks

SHORT = ["time.end=2025-06"]  # three years: fast, and past the first shocks
UNCERTAIN = """
description: snapback at an uncertain month, perhaps not at all, with an uncertain strength
include: [baseline]
events:
  - {id: snap, type: snapback, date_window: [2023-03, 2023-08], probability: 0.6, strength: [0.4, 1.0]}
"""


def settings(*overrides: str):
    return validate(compose([*SHORT, *overrides]))


@pytest.fixture(scope="module")
def uncertain(tmp_path_factory):
    path = tmp_path_factory.mktemp("scen") / "uncertain.yaml"
    path.write_text(UNCERTAIN, encoding="utf-8")
    return str(path)


def same(a, b) -> bool:
    """Every variable bit-identical (NaN-free data)."""
    assert sorted(a.data_vars) == sorted(b.data_vars)
    return all(np.array_equal(a[v].values, b[v].values) for v in a.data_vars)


def test_chunks_are_whole_blocks():
    assert chunks(10, 3, 4) == [(0, 4), (4, 4), (8, 2)]
    assert chunks(10, 8, 4) == [(0, 8), (8, 2)]
    assert chunks(3, 100, 4) == [(0, 3)]
    assert sum(c for _, c in chunks(1_000_003, 4000, 1000)) == 1_000_003


@pytest.mark.parametrize(("n", "chunk", "block", "workers"), [(10_000, 4000, 1000, 2), (1_000_003, 4000, 1000, 2),
                                                              (10, 3, 4, 2), (5, 4000, 1000, 2), (70_000, 4000, 1000, 3)])
def test_chunks_for_workers_are_balanced_whole_blocks(n, chunk, block, workers):
    plan = balanced_chunks(n, chunk, block, workers)
    assert [f for f, _ in plan] == list(np.cumsum([0] + [c for _, c in plan])[:-1]) and sum(c for _, c in plan) == n
    assert all(f % block == 0 for f, _ in plan) and all(c <= -(-chunk // block) * block for _, c in plan)
    blocks = [-(-c // block) for _, c in plan]
    assert max(blocks) - min(blocks) <= 1 and blocks == sorted(blocks, reverse=True)
    if len(plan) >= 2 * workers:  # several chunks per process, a multiple of their number
        assert len(plan) % workers == 0
    assert balanced_chunks(10_000, 4000, 1000, 2) == [(0, 3000), (3000, 3000), (6000, 2000), (8000, 2000)]


def test_results_do_not_depend_on_chunk_size_or_workers(uncertain):
    common = ["ensemble.replicates=26", "ensemble.block=4", "ensemble.sample_parameters=true",
              f"scenario={uncertain}", "seed=7"]
    reference = sim.run(settings(*common, "ensemble.chunk=4"))
    for extra in (["ensemble.chunk=8"], ["ensemble.chunk=12", "ensemble.workers=2"], ["ensemble.chunk=1000"]):
        assert same(reference, sim.run(settings(*common, *extra))), extra
    assert "param:dynamics.weight.glue" in reference and "event_month" in reference


def test_one_model_equals_the_chunked_run():
    s = settings("ensemble.replicates=9", "ensemble.block=2", "ensemble.chunk=2", "seed=3")
    ds = sim.run(s)
    model = GeoModel(s, 9, rng=np.random.SeedSequence(3))
    recorder = Recorder(model, s.months)
    for t in range(s.months):
        model.step()
        recorder.record(t)
    for name, data in recorder.data.items():
        np.testing.assert_array_equal(data, ds[name].values, err_msg=name)


@pytest.mark.parametrize("sample", [False, True])
def test_separate_one_replicate_models_equal_the_batched_model(sample):
    s = settings("ensemble.replicates=6", "ensemble.block=4", "seed=11", f"ensemble.sample_parameters={sample}")
    values = {"actors.iran.sanctions": np.linspace(0.3, 0.9, 6), "dynamics.weight.glue": np.linspace(0.5, 1.5, 6)}
    batched = sim.run(s, param_values=values)
    for r in range(6):
        one = GeoModel(s, 1, rng=11, first=r, param_values={k: v[r:r + 1] for k, v in values.items()})
        recorder = Recorder(one, s.months)
        for t in range(s.months):
            one.step()
            recorder.record(t)
        for name, data in recorder.data.items():
            np.testing.assert_array_equal(data[:, 0], batched[name].values[:, r], err_msg=f"{name}, replicate {r}")


def test_a_smaller_ensemble_is_the_start_of_a_larger_one():
    small = sim.run(settings("ensemble.replicates=5", "ensemble.block=4"))
    large = sim.run(settings("ensemble.replicates=13", "ensemble.block=4"))
    np.testing.assert_array_equal(small["strength"].values, large["strength"].values[:, :5])


def test_common_random_numbers_with_sampled_parameters():
    base = sim.run(settings("ensemble.replicates=8", "ensemble.sample_parameters=true", "time.end=2025-06"))
    fall = sim.run(settings("ensemble.replicates=8", "ensemble.sample_parameters=true", "time.end=2025-06",
                            "scenario=assad_fall"))
    before = slice(None, "2024-11-01")
    np.testing.assert_array_equal(base["strength"].sel(time=before).values, fall["strength"].sel(time=before).values)
    np.testing.assert_array_equal(base["param:war.troops.scale"].values, fall["param:war.troops.scale"].values)
    assert not np.array_equal(base["strength"].values, fall["strength"].values)


def test_summary_mode_does_not_depend_on_chunk_size_or_workers(uncertain):
    common = ["ensemble.replicates=40", "ensemble.block=8", "ensemble.mode=summary", f"scenario={uncertain}",
              "ensemble.sample_parameters=true"]
    reference = sim.run(settings(*common, "ensemble.chunk=8"))
    assert same(reference, sim.run(settings(*common, "ensemble.chunk=24", "ensemble.workers=2")))


def test_summary_quantiles_agree_with_full_mode():
    common = ["ensemble.replicates=1500", "ensemble.block=500", "time.end=2025-12", "scenario=combined"]
    full = sim.run(settings(*common))
    summary = sim.run(settings(*common, "ensemble.mode=summary", "ensemble.chunk=500",
                               "ensemble.summary_variables=[strength,territory,troops_sent]"))
    assert summary.attrs["ensemble_mode"] == "summary" and "replicate" not in summary["strength"].dims
    for name in ("strength", "territory", "troops_sent"):
        exact = full[name].quantile(list(summary["quantile"].values), dim="replicate").transpose("time", "quantile", ...)
        width = (summary[f"{name}_bin_high"] - summary[f"{name}_bin_low"]) / 100
        # within about a bin of the exact quantile (the two also define a quantile between two
        # order statistics slightly differently)
        error = np.abs(exact - summary[name]) - 1.5 * width.broadcast_like(exact) - 1e-6 * np.abs(exact)
        assert float(error.max()) <= 0.0, name
        np.testing.assert_array_equal(full[name].min("replicate").values, summary[f"{name}_min"].values)
        np.testing.assert_array_equal(full[name].max("replicate").values, summary[f"{name}_max"].values)
        np.testing.assert_allclose(full[name].astype(float).mean("replicate").values, summary[f"{name}_mean"].values,
                                   rtol=1e-5, atol=1e-6)
    # the first replicates are kept whole, and the crossing share is exact
    np.testing.assert_array_equal(summary["strength_sample"].values, full["strength"].values[:, :20])
    mil = full["strength"].sel(dyad="Russia–Iran", channel="military").values
    expected = np.logical_or.accumulate(mil < 0.2, axis=0).mean(axis=1)
    np.testing.assert_allclose(summary["crossing_share"].values, expected)


def test_summary_mode_measures_dependence_only_where_it_is_kept():
    # chunks skip the reported measures unless they are summarised or hold the sample replicates
    common = ["ensemble.replicates=60", "ensemble.block=20", "ensemble.chunk=20", "time.end=2024-06"]
    full = sim.run(settings(*common))
    asked = sim.run(settings(*common, "ensemble.mode=summary", "ensemble.summary_variables=[strength,dependence]"))
    np.testing.assert_array_equal(full["dependence"].max("replicate").values, asked["dependence_max"].values)
    np.testing.assert_array_equal(full["dependence"].min("replicate").values, asked["dependence_min"].values)
    plain = sim.run(settings(*common, "ensemble.mode=summary"))
    assert "dependence_max" not in plain
    np.testing.assert_array_equal(plain["dependence_sample"].values, full["dependence"].values[:, :20])
    assert float(plain["dependence_sample"].max()) > 0


def test_summary_memory_does_not_grow_with_replicates():
    a = sim.run(settings("ensemble.replicates=300", "ensemble.block=100", "ensemble.mode=summary"))
    b = sim.run(settings("ensemble.replicates=900", "ensemble.block=100", "ensemble.mode=summary"))
    assert a.nbytes == b.nbytes  # the results hold no per-replicate arrays beyond the sample


def test_histogram_quantiles_of_a_known_distribution():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.0, 10.0, 100_000)
    lo, hi = np.array([[2.0]]), np.array([[8.0]])  # values outside go to the outer bins
    edges = np.linspace(2.0, 8.0, 101)
    hist = np.concatenate([[np.sum(x < 2.0)], np.histogram(x, edges)[0], [np.sum(x >= 8.0)]])[None, None]
    q = histogram_quantiles(hist, lo, hi, np.array([[x.min()]]), np.array([[x.max()]]), (0.1, 0.5, 0.9))
    np.testing.assert_allclose(q[0, :, 0], np.quantile(x, [0.1, 0.5, 0.9]), atol=0.07)


def test_sampled_parameters_stay_in_their_declared_ranges():
    s = settings("ensemble.replicates=400", "ensemble.sample_parameters=true", "ensemble.block=100")
    ds = sim.run(s)
    registry = prm.registry(s.actors)
    uncertain = {path: p for path, p in registry.items() if p.dist is not None}
    assert len(uncertain) >= 40
    for path, p in uncertain.items():
        v = ds[f"param:{path}"].values
        lo, hi = p.dist.support()
        assert p.low <= lo and hi <= p.high, path
        assert lo <= v.min() and v.max() <= hi, path
        assert np.unique(v).size > 1, path
    choice = ds["param:shocks.snapback.sanctions"].values
    assert set(np.unique(choice)) == {0.15, 0.25, 0.35}
    assert 0.4 < np.mean(choice == 0.25) < 0.6  # weights 1:2:1
    glue = ds["param:dynamics.weight.glue"].values  # normal(0.3, 0.05) truncated to [0.15, 0.45]
    assert abs(glue.mean() - 0.3) < 0.01 and 0.04 < glue.std() < 0.06
    # the model uses the drawn values; they can be regenerated from the seed
    np.testing.assert_allclose(ds["sanctions"].sel(actor="Iran").isel(time=0).values,
                               ds["param:actors.iran.sanctions"].values, rtol=1e-6)
    again = parameter_draws(s, first=100, count=50)
    np.testing.assert_array_equal(again["war.troops.scale"], ds["param:war.troops.scale"].values[100:150])


def test_explicit_values_win_over_draws():
    s = settings("ensemble.replicates=5", "ensemble.sample_parameters=true")
    ds = sim.run(s, param_values={"dynamics.weight.glue": np.full(5, 2.5)})
    np.testing.assert_array_equal(ds["param:dynamics.weight.glue"].values, np.full(5, 2.5))


def test_uncertain_event_is_realised_per_replicate(uncertain):
    s = settings("ensemble.replicates=600", f"scenario={uncertain}", "ensemble.block=200")
    ds = sim.run(s)
    months = ds["event_month"].sel(event="snap").values.astype("datetime64[M]")
    happens = ds["event_happens"].sel(event="snap").values.astype(bool)
    strength = ds["event_strength"].sel(event="snap").values
    window = np.arange(np.datetime64("2023-03"), np.datetime64("2023-09"))
    assert set(np.unique(months)) == set(window)  # every month of the window, none outside
    assert 0.5 < happens.mean() < 0.7 and strength.min() >= 0.4 and strength.max() <= 1.0
    sanctions = ds["sanctions"].sel(actor="Iran").values
    jump = np.diff(sanctions, axis=0).max(axis=0) > 1e-6
    np.testing.assert_array_equal(jump, happens)  # sanctions rise only where the event happens ...
    for r in np.flatnonzero(happens)[:20]:  # ... in the drawn month, by the drawn strength
        t = int(np.argmax(np.diff(sanctions[:, r]) > 1e-6)) + 1
        assert ds["time"].values[t].astype("datetime64[M]") == months[r]
        rise = sanctions[t, r] - sanctions[t - 1, r]
        assert rise == pytest.approx(strength[r] * s["shocks.snapback.sanctions"], rel=1e-5)


def test_realise_spreads_months_evenly():
    ev = Event(id="x", type="snapback", month=10, strength=1.0, spec={}, file="", window=(10, 13), probability=0.25)
    u = np.random.default_rng(0).random((40_000, 3))
    draw = realise(ev, u)
    counts = np.bincount(draw.month - 10)
    assert counts.size == 4 and counts.min() > 9_500 and abs(draw.happens.mean() - 0.25) < 0.01


@pytest.mark.parametrize("event,message", [
    ("{id: x, type: snapback, date: 2023-05, date_window: [2023-05, 2023-06]}", "either date"),
    ("{id: x, type: snapback, date_window: [2023-05]}", "date_window"),
    ("{id: x, type: snapback, date_window: [2023-08, 2023-05]}", "before"),
    ("{id: x, type: snapback, date_window: [2023-05, 2231-01]}", "implausible"),
    ("{id: x, type: snapback, date: 2023-05, probability: 1.5}", "probability"),
    ("{id: x, type: snapback, date: 2023-05, strength: [0.9, 0.2]}", "strength"),
    ("{id: x, type: snapback, date: 2023-05, strength: [0.1, 0.2, 0.3]}", "strength"),
])
def test_bad_uncertain_events_are_one_line_errors(tmp_path, event, message):
    path = tmp_path / "bad.yaml"
    path.write_text(f"events:\n  - {event}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        settings(f"scenario={path}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("override,message", [
    ("ensemble.mode=everything", "ensemble.mode = 'everything' is not allowed; allowed: one of full, summary"),
    ("ensemble.block=0", "ensemble.block"),
    ("ensemble.workers=-1", "ensemble.workers"),
    ("output.distribution_plots=[fan,pie]", "output.distribution_plots"),
    ("output.crossing.direction=sideways", "allowed: one of below, above"),
])
def test_bad_ensemble_keys_are_one_line_errors(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as err:
        settings(override)
    assert "\n" not in str(err.value)


def test_bad_run_inputs_are_one_line_errors():
    with pytest.raises(ConfigError, match="summary_variables contains 'wealth'"):
        sim.run(settings("ensemble.replicates=2", "ensemble.mode=summary", "ensemble.summary_variables=[wealth]"))
    with pytest.raises(ConfigError, match="not a numeric parameter"):
        sim.run(settings("ensemble.replicates=2"), param_values={"war.attacker": [1, 2]})
    with pytest.raises(ConfigError, match="one per replicate"):
        sim.run(settings("ensemble.replicates=2"), param_values={"dynamics.weight.glue": [1.0, 2.0, 3.0]})


def test_no_progress_output_off_a_terminal(capsys):
    sim.run(settings("ensemble.replicates=8", "ensemble.block=2", "ensemble.chunk=2"))
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_float32_precision_is_a_faithful_approximation():
    common = ["ensemble.replicates=200", "ensemble.block=50"]
    f64 = sim.run(settings(*common, "ensemble.precision=float64"))
    model = GeoModel(settings(*common, "ensemble.precision=float64"), 3, rng=0)
    model.step()
    assert model.strength.dtype == np.float64 and model.flows.dtype == np.float64
    f32 = sim.run(settings(*common, "ensemble.precision=float32", "ensemble.chunk=50"))
    assert same(f32, sim.run(settings(*common, "ensemble.chunk=200")))  # float32 is the default
    model = GeoModel(settings(*common, "ensemble.precision=float32"), 3, rng=0)
    model.step()
    for name in ("strength", "flows", "dependence", "demand", "needs", "trust", "threat", "drone_stock"):
        assert getattr(model, name).dtype == np.float32, name
    assert same(f32, sim.run(settings(*common, "ensemble.precision=float32", "ensemble.chunk=200")))
    # same random numbers, float32 arithmetic: trajectories agree to a few thousandths
    assert float(np.abs(f64["strength"] - f32["strength"]).max()) < 5e-3
    assert not np.array_equal(f64["strength"].values, f32["strength"].values)


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """A temporary directory of this test's own for everything ``tempfile`` creates."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def leftovers(tmp) -> set[str]:
    """Shared-memory entries in /dev/shm (machine-wide) and files in ``tmp``."""
    return {*shm_entries(), *map(str, tmp.iterdir())}


def left_behind(tmp, before: set[str]) -> set[str]:
    """Files new in ``tmp``, and shared memory new since ``before`` that no live process uses."""
    return {str(f) for f in tmp.iterdir()} - before | shm_leaks(before)


def failing_chunk(settings, first, count, values, out=None):
    if first > 0:
        raise RuntimeError(f"chunk at {first} failed")
    from sim.ensemble import _full_chunk

    return _full_chunk(settings, first, count, values, out)


def dying_chunk(settings, first, count, values, out=None):
    import os

    os._exit(3)  # as if the kernel killed the worker


@pytest.mark.parametrize("chunk", [failing_chunk, dying_chunk], ids=["raises", "dies"])
def test_a_failing_worker_stops_the_run_and_leaves_nothing(monkeypatch, own_tmp, chunk):
    import multiprocessing
    import threading
    from concurrent.futures.process import BrokenProcessPool

    import sim.ensemble as ensemble

    s = settings("ensemble.replicates=40", "ensemble.block=4", "ensemble.workers=2", "time.end=2023-06")
    before, threads = leftovers(own_tmp), threading.active_count()
    monkeypatch.setattr(ensemble, "_full_chunk", chunk)  # (a module-level function: the workers import it)
    with pytest.raises((RuntimeError, BrokenProcessPool)):
        sim.run(s)
    assert not multiprocessing.active_children()  # the pool is gone when run returns
    assert threading.active_count() == threads
    assert not left_behind(own_tmp, before)
    monkeypatch.undo()
    assert same(sim.run(s), sim.run(settings("ensemble.replicates=40", "ensemble.block=4", "time.end=2023-06")))


def test_a_run_changes_nothing_in_the_calling_process(own_tmp):
    import multiprocessing
    import sys
    import threading

    before, threads = leftovers(own_tmp), threading.active_count()
    modules = set(sys.modules)
    sim.run(settings("ensemble.replicates=40", "ensemble.block=4", "ensemble.workers=2", "time.end=2023-06"))
    assert not multiprocessing.active_children()
    assert threading.active_count() == threads
    assert not left_behind(own_tmp, before)
    assert not {m for m in set(sys.modules) - modules if m.split(".")[0] in ("ctypes", "joblib", "loky")}


def test_same_month_operations_apply_in_file_order_whatever_the_chunk(tmp_path):
    # a certain set and a windowed shock of the same parameter: where the shock is drawn for the
    # month of the set, their order must not depend on which replicates share a model
    path = tmp_path / "order.yaml"
    path.write_text("description: a set and an uncertain snapback of the same parameter\n"
                    "include: [baseline]\nevents:\n"
                    "  - {id: fix, type: set, date: 2023-06, parameter: actors.iran.sanctions, value: 0.2}\n"
                    "  - {id: snap, type: snapback, date_window: [2023-03, 2023-09], probability: 1.0,"
                    " strength: [0.9, 1.0]}\n")
    common = ["ensemble.replicates=16", "ensemble.block=1", "time.end=2024-06", f"scenario={path}", "seed=1"]
    one_by_one = sim.run(settings(*common, "ensemble.chunk=1"))
    together = sim.run(settings(*common, "ensemble.chunk=16"))
    month = (one_by_one["event_month"].sel(event="snap").values.astype("datetime64[M]").astype(int) % 12) + 1
    assert (month == 6).any() and (month != 6).any()  # some replicates meet the set, some do not
    assert same(one_by_one, together)


def test_runs_sharing_one_pool_equal_runs_on_their_own(own_tmp):
    import multiprocessing

    from sim.ensemble import executor

    a = settings("ensemble.replicates=24", "ensemble.block=4", "ensemble.chunk=8", "time.end=2023-06")
    b = settings("ensemble.replicates=16", "ensemble.block=4", "ensemble.mode=summary", "seed=5", "time.end=2023-06")
    before = leftovers(own_tmp)
    with executor(a, workers=2) as pool:
        assert pool.slots == 2 and pool.executor is not None
        shared = [sim.run(s, pool=pool) for s in (a, b, a)]
    assert not multiprocessing.active_children()
    assert not left_behind(own_tmp, before)
    assert same(shared[0], sim.run(a)) and same(shared[2], shared[0])
    assert same(shared[1], sim.run(b))
