"""ensemble.executor=dask: the chunks of one ensemble on Dask workers, bit-identical to a local run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import ConfigError
from sim.config import compose, validate

distributed = pytest.importorskip("distributed", reason="the analysis extra installs distributed")

COMMON = ["time.end=2023-12", "ensemble.replicates=48", "ensemble.block=4", "ensemble.chunk=8",
          "ensemble.sample_parameters=true", "seed=3"]
MARK = "GEOSIM_TEST_KILL_MARK"


def settings(*overrides: str):
    return validate(compose([*COMMON, *overrides]))


def same(a, b) -> bool:
    assert sorted(a.data_vars) == sorted(b.data_vars)
    return all(np.array_equal(a[v].values, b[v].values) for v in a.data_vars)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A 2-process LocalCluster whose workers know where the kill mark goes."""
    os.environ[MARK] = str(tmp_path_factory.mktemp("kill") / "killed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        yield c
    del os.environ[MARK]


def killing_chunk(settings, first, count, values, out=None):
    """The real chunk, except that the first worker to run the chunk at replicate 16 dies."""
    from sim.ensemble import _full_chunk

    mark = Path(os.environ[MARK])
    if first == 16 and not mark.exists():
        mark.write_text(str(os.getpid()))
        os._exit(9)  # as if the kernel killed the worker mid-ensemble
    return _full_chunk(settings, first, count, values, out)


def test_dask_runs_equal_local_runs_in_both_modes(cluster):
    for mode in ("full", "summary"):
        local = sim.run(settings(f"ensemble.mode={mode}"))
        remote = sim.run(settings(f"ensemble.mode={mode}", "ensemble.executor=dask",
                                  f"ensemble.dask.address={cluster.scheduler_address}"))
        assert same(local, remote), mode
    assert "strength_histogram" in remote and "param:dynamics.weight.glue" in local


def test_without_an_address_a_local_cluster_runs_and_is_gone_after():
    import multiprocessing

    before = set(multiprocessing.active_children())  # (the module's cluster, if it runs)
    s = settings("ensemble.executor=dask", "ensemble.workers=2", "ensemble.replicates=16")
    assert same(sim.run(s), sim.run(settings("ensemble.replicates=16")))
    assert set(multiprocessing.active_children()) <= before


def test_a_worker_killed_mid_ensemble_has_its_chunk_rerun(cluster, monkeypatch):
    import sim.ensemble as ensemble

    reference = sim.run(settings())
    monkeypatch.setattr(ensemble, "_full_chunk", killing_chunk)
    result = sim.run(settings("ensemble.executor=dask", f"ensemble.dask.address={cluster.scheduler_address}"))
    assert Path(os.environ[MARK]).exists()  # a worker did die
    assert same(result, reference)


def test_an_unreachable_scheduler_is_a_one_line_error():
    s = settings("ensemble.executor=dask", "ensemble.dask.address=tcp://127.0.0.1:9", "ensemble.dask.timeout=2")
    with pytest.raises(ConfigError, match=r"ensemble.dask.address = tcp://127.0.0.1:9: cannot connect") as err:
        sim.run(s)
    assert "\n" not in str(err.value)


def test_the_slurm_preset_points_the_dask_executor_at_a_scheduler_file(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOSIM_SCHEDULER_FILE", str(tmp_path / "scheduler.json"))
    s = validate(compose(["+executor=slurm"]))
    assert s["ensemble.executor"] == "dask"
    assert s["ensemble.dask.scheduler_file"] == str(tmp_path / "scheduler.json")


def test_runs_share_one_cluster_through_a_pool(cluster):
    from sim.ensemble import executor

    s = settings("ensemble.executor=dask", f"ensemble.dask.address={cluster.scheduler_address}")
    with executor(s) as pool:
        assert pool.slots == 2
        first, second = sim.run(s, pool=pool), sim.run(settings("ensemble.mode=summary"), pool=pool)
    assert same(first, sim.run(settings()))
    assert same(second, sim.run(settings("ensemble.mode=summary")))


def test_the_slurm_preset_runs_on_a_dask_jobqueue_cluster(monkeypatch, tmp_path):
    """The SLURM set-up of docs/ensembles.md, with the job's worker command run here instead of by sbatch."""
    import shlex
    import subprocess

    from dask_jobqueue import SLURMCluster

    scheduler_file = tmp_path / "scheduler.json"
    with SLURMCluster(cores=2, processes=2, memory="2GB", walltime="00:10:00",
                      scheduler_options={"scheduler_file": str(scheduler_file), "host": "127.0.0.1"}) as cluster:
        script = cluster.job_script()
        assert "#SBATCH" in script and "--nworkers 2" in script
        job = subprocess.Popen(shlex.split(script.strip().splitlines()[-1]), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            monkeypatch.setenv("GEOSIM_SCHEDULER_FILE", str(scheduler_file))
            s = validate(compose([*COMMON, "+executor=slurm"]))
            assert same(sim.run(s), sim.run(settings()))
        finally:
            job.terminate()
            job.wait(timeout=60)
