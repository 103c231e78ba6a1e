"""Ensembles at scale: replicates in chunks, in this process, on worker processes or on Dask.

:func:`sim.run` hands every run to :func:`run_ensemble`. The replicates ``0 .. N-1`` are cut
into chunks of ``ensemble.chunk`` replicates (rounded up to whole blocks of ``ensemble.block``);
each chunk is one :class:`~sim.model.GeoModel` holding its replicates in lockstep. With
``ensemble.workers=1`` the chunks run in this process. Otherwise they are tasks of a
``concurrent.futures`` executor made for the run and shut down when it returns: a
``ProcessPoolExecutor`` (``ensemble.executor=local``) or a Dask cluster
(``ensemble.executor=dask``). A task returns its chunk's results as ordinary arrays (pickled
back by the executor), except that in full mode the local pool's processes write their
trajectories into the result arrays in shared memory (:class:`SharedResults`); nothing
outlives the run.
Because every random number is tied to its replicate (:mod:`sim.streams`) and results are
merged in chunk order, the results are bit-identical whatever the chunk size, the executor
and the number of workers, and equal to one model holding all replicates.

``ensemble.mode=full`` keeps every trajectory.
``ensemble.mode=summary`` keeps, per month and element of the variables in
``ensemble.summary_variables``: a histogram, the mean and standard deviation, the minimum and
maximum, and the quantiles read off the histogram; plus the full trajectories of the first
:data:`SAMPLE` replicates and the running probability of the crossing set in
``output.crossing.*``. Memory then grows with the chunk size, not with the replicates.

Histogram bins are fixed before the chunks run, from block 0 (the first ``ensemble.block``
replicates, the same whatever the chunking): ``BINS`` equal bins between its minimum and
maximum per month and element, plus one bin below and one above. Counts, minima and maxima
are merged exactly; sums are added block by block in block order. Summary results are
therefore bit-identical across chunk sizes and worker counts too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import parameters as prm
from .config import Settings
from .errors import ConfigError
from .model import GeoModel
from .results import (
    CHANNELS4,
    VARIABLES,
    Recorder,
    attributes,
    dataset,
    provenance,
    replicates_first,
    shapes,
    storage,
    written,
)
from .scenario import yaml_text

BINS = 100
"""Regular histogram bins per month and element in summary mode (plus under- and overflow)."""
SAMPLE = 20
"""Replicates whose full trajectories summary mode keeps (for thin lines in fan charts)."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles that summary mode reports (others can be read off the stored histograms)."""


# --------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------

def chunks(replicates: int, chunk: int, block: int) -> list[tuple[int, int]]:
    """(first replicate, count) of each chunk: ``chunk`` rounded up to whole blocks."""
    size = max(block, -(-chunk // block) * block)
    return [(first, min(size, replicates - first)) for first in range(0, replicates, size)]


def balanced_chunks(replicates: int, chunk: int, block: int, workers: int) -> list[tuple[int, int]]:
    """Chunks for ``workers`` processes: whole blocks, at most ``chunk`` replicates (rounded up
    to blocks) each, at least two per process (processes differ in speed; more chunks cost more
    fixed time each), their number a multiple of
    ``workers`` where the blocks allow, sizes differing by at most one block, largest first (so
    that the processes, taking chunks in order, finish together)."""
    n_blocks = -(-replicates // block)
    per_chunk = max(1, -(-chunk // block))
    count = max(-(-n_blocks // per_chunk), 2 * workers)
    count = min(n_blocks, -(-count // workers) * workers)
    out, first = [], 0
    for blocks in np.array_split(np.arange(n_blocks), count):
        size = min(len(blocks) * block, replicates - first)
        out.append((first, size))
        first += size
    return out


def worker_count(settings: Settings, n_chunks: int | None = None) -> int:
    """``ensemble.workers`` (0: one per core), at most ``n_chunks``."""
    workers = settings["ensemble.workers"] or (os.cpu_count() or 1)
    return max(1, workers if n_chunks is None else min(workers, n_chunks))


def check(settings: Settings, param_values: dict | None = None) -> dict[str, np.ndarray]:
    """Check what ``run`` gets beyond the validated configuration; returns the per-replicate values."""
    bad = [v for v in settings["ensemble.summary_variables"] if v not in VARIABLES]
    if bad:
        raise ConfigError(f"config: ensemble.summary_variables contains {bad[0]!r}; allowed: {', '.join(VARIABLES)}")
    n = settings["ensemble.replicates"]
    registry = prm.registry(settings.actors)
    out = {}
    for path, values in (param_values or {}).items():
        p = registry.get(path)
        if p is None or p.kind != "float" or path.startswith("relations."):
            raise ConfigError(f"param_values: {path!r} is not a numeric parameter that can vary by replicate; "
                              "allowed: float parameters except relations.* (geosim-params lists them)")
        array = np.asarray(values, dtype=float)
        if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != n):
            raise ConfigError(f"param_values: {path} has shape {array.shape}; allowed: one value or "
                              f"one per replicate ({n})")
        out[path] = np.broadcast_to(array, (n,))
    return out


def _seed(settings: Settings) -> np.random.SeedSequence:
    return np.random.SeedSequence(settings["seed"])


def _slice(param_values: dict[str, np.ndarray], first: int, count: int) -> dict[str, np.ndarray]:
    return {k: np.ascontiguousarray(v[first:first + count]) for k, v in param_values.items()}


def parameter_draws(settings: Settings, first: int = 0, count: int | None = None) -> dict[str, np.ndarray]:
    """The parameter values that ``ensemble.sample_parameters`` gives replicates ``first .. first+count-1``.

    They depend only on the seed, the block size and the replicate numbers, so they can be
    regenerated for a summary-mode run (which stores them only for its sample replicates).
    """
    from .distributions import sample
    from .streams import PARAMETER, ReplicateStreams

    count = settings["ensemble.replicates"] - first if count is None else count
    streams = ReplicateStreams(_seed(settings), first, count, settings["ensemble.block"])
    dists = {path: p.dist for path, p in prm.registry(settings.actors).items() if p.dist is not None}
    return sample(dists, streams, PARAMETER)


# --------------------------------------------------------------------------------------------
# Chunks (run in this process or in a worker; module-level functions so that they pickle)
# --------------------------------------------------------------------------------------------

@dataclass
class ChunkResult:
    first: int
    count: int
    sampled: dict[str, np.ndarray]
    events: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    summary: dict | None = None
    data: dict[str, np.ndarray] | None = None  # full mode on a worker: the written elements, (time, k, count)


def model_for(settings: Settings, first: int, count: int, param_values: dict) -> GeoModel:
    """The model of replicates ``first .. first+count-1``, seeded as every run seeds them (one
    model holding all replicates gives the numbers of any chunked run)."""
    return GeoModel(settings, count, rng=_seed(settings), first=first, param_values=param_values)


def _rows(model: GeoModel) -> dict[str, tuple]:
    """Per variable, the index of the elements that chunks write (all of them: ``()``)."""
    return {name: () if mask.all() else np.nonzero(mask) for name, mask in written(model).items()}


def _events(model: GeoModel, rows=slice(None)) -> dict:
    return {k: (d.month[rows], d.happens[rows], d.strength[rows]) for k, d in model.event_draws.items()}


@dataclass(frozen=True)
class SharedResults:
    """The ensemble's result arrays in one ``multiprocessing.shared_memory`` segment: each
    variable's (time, ..., replicates) float32 array starts at ``layout[name][0]`` bytes."""
    name: str
    layout: dict[str, tuple[int, tuple[int, ...]]]

    @classmethod
    def create(cls, probe: GeoModel, months: int, replicates: int):
        """(descriptor, segment) for new zero-filled arrays; the caller closes and unlinks the segment."""
        from multiprocessing.shared_memory import SharedMemory

        layout, size = {}, 0
        for name, shape in shapes(probe).items():
            full = (months, *shape, replicates)
            layout[name] = (size, full)
            size += int(np.prod(full)) * 4
        segment = SharedMemory(create=True, size=max(size, 1))  # zero-filled, pages taken when first written
        return cls(segment.name, layout), segment

    def arrays(self, segment) -> dict[str, np.ndarray]:
        return {name: np.ndarray(shape, np.float32, buffer=segment.buf, offset=offset)
                for name, (offset, shape) in self.layout.items()}

    def attach(self):
        """This segment, opened in a worker (the process that created it keeps it registered)."""
        import sys
        from multiprocessing.shared_memory import SharedMemory

        untracked = {"track": False} if sys.version_info >= (3, 13) else {}  # (the argument is new in 3.13)
        return SharedMemory(name=self.name, **untracked)


def _full_chunk(settings: Settings, first: int, count: int, param_values: dict, out=None) -> ChunkResult:
    """Run one chunk and write its trajectories into its columns of the ensemble's arrays,
    shaped (time, ..., replicates): ``out`` is those arrays (this process) or a
    :class:`SharedResults` (a worker of this machine's pool). With ``out`` None (a Dask worker)
    return the elements that chunks write (:func:`~sim.results.written`) in ``data`` instead."""
    model = model_for(settings, first, count, param_values)
    segment = out.attach() if isinstance(out, SharedResults) else None
    try:
        if out is None:
            views = storage(model, settings.months)
        else:
            arrays = out.arrays(segment) if segment is not None else out
            views = {name: array[..., first:first + count] for name, array in arrays.items()}  # replicates last
            del arrays
        recorder = Recorder(model, settings.months, out=views)
        for t in range(settings.months):
            model.step()
            recorder.record(t)
        rows = _rows(model)
        data = None if out is not None else {name: v[(slice(None), *rows[name])] for name, v in views.items()}
        del recorder, views  # (the segment closes only once no array refers to it)
    finally:
        if segment is not None:
            segment.close()
    result = ChunkResult(first, count, model.sampled, _events(model), data=data)
    model.remove_all_agents()
    return result


def _summary_chunk(settings: Settings, first: int, count: int, param_values: dict,
                   edges: dict | None) -> ChunkResult:
    """Run one chunk and return its summary (only ranges when ``edges`` is None: the pilot).

    Values are summarised as float32, as full mode stores them.
    """
    model = model_for(settings, first, count, param_values)
    recorder = Recorder(model, settings.months, out={})
    names = settings["ensemble.summary_variables"]
    months, block = settings.months, settings["ensemble.block"]
    starts = np.arange(0, count, block)
    size = {name: int(np.prod(shape)) for name, shape in shapes(model).items()}
    acc = {name: {"min": np.empty((months, size[name]), np.float32), "max": np.empty((months, size[name]), np.float32)}
           for name in names}
    if edges is not None:
        for name in names:
            acc[name].update(hist=np.zeros((months, size[name] * (BINS + 2)), dtype=np.int32),  # counts <= chunk
                             sum=np.empty((months, len(starts), size[name])),
                             sumsq=np.empty((months, len(starts), size[name])))
    keep = max(0, min(SAMPLE - first, count)) if edges is not None else 0
    model.measuring = bool(keep) or any(name in ("dependence", "demand") for name in names)
    samples = {name: np.zeros((months, *shape, keep), dtype=np.float32)
               for name, shape in shapes(model).items()} if keep else {}
    crossing = _crossing_spec(settings, model) if edges is not None else None
    crossed = np.zeros(count, dtype=bool)
    crossings = np.zeros(months, dtype=np.int64)
    for t in range(months):
        model.step()
        strength = recorder.current("strength") if crossing is not None else None
        for name in names:
            value = strength if name == "strength" and strength is not None else recorder.current(name)
            x = np.asarray(value, dtype=np.float32).reshape(size[name], count)  # replicates last
            a = acc[name]
            np.min(x, axis=1, out=a["min"][t])
            np.max(x, axis=1, out=a["max"][t])
            if edges is None:
                continue
            scale, shift, low, high = (e[t][:, None] for e in edges[name])
            bins = x * scale
            bins += shift
            np.maximum(bins, low, out=bins)  # (faster than np.clip with array bounds)
            np.minimum(bins, high, out=bins)
            a["hist"][t] += np.bincount(bins.astype(np.intp).ravel(), minlength=a["hist"].shape[1])
            np.add.reduceat(x, starts, axis=1, dtype=np.float64, out=a["sum"][t].T)
            np.add.reduceat(np.square(x, dtype=np.float64), starts, axis=1, out=a["sumsq"][t].T)
        if crossing is not None:
            d, c, level, below = crossing
            value = strength[d, c]
            crossed |= value < level if below else value > level
            crossings[t] = np.count_nonzero(crossed)
        for name in samples:
            samples[name][t] = recorder.current(name)[..., :keep]
    summary = {"acc": acc, "samples": samples, "crossings": crossings}
    result = ChunkResult(first, count, {k: v[:keep].copy() for k, v in model.sampled.items()},
                         _events(model, slice(0, keep)), summary)
    model.remove_all_agents()
    return result


def _crossing_spec(settings: Settings, model: GeoModel):
    d = model.dyad_index[settings["output.focus_dyad"]]
    c = CHANNELS4.index(settings["output.crossing.channel"])
    return d, c, settings["output.crossing.level"], settings["output.crossing.direction"] == "below"


# --------------------------------------------------------------------------------------------
# Driving the chunks
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pool:
    """Where tasks run: ``executor`` (a ``concurrent.futures.Executor``; None: in this process,
    one after the other), how many run at once (``slots``), and whether its workers are child
    processes of this one that can write into shared memory (``shares_memory``).
    :func:`executor` makes one."""
    executor: object | None
    slots: int = 1
    shares_memory: bool = False


IN_PROCESS = Pool(None, 1)


def ordered(pool: Pool, tasks, progress=None):
    """Run ``(function, args...)`` tasks on ``pool``; yield their results in task order.

    At most two tasks per slot are in flight, so finished results wait for at most a few
    others. Results come back in task order whoever ran them, so what is merged from them does
    not depend on the timing. When the consumer stops early (an error, Ctrl-C) the tasks not
    started are cancelled. ``progress`` (a tqdm bar) is advanced by each result's ``count``.
    """
    from collections import deque

    def advance(result):
        if progress is not None:
            progress.update(getattr(result, "count", 1))
        return result

    if pool.executor is None:
        for fn, *args in tasks:
            yield advance(fn(*args))
        return
    running: deque = deque()
    pending = iter(tasks)
    try:
        while True:
            while len(running) < 2 * pool.slots and (task := next(pending, None)) is not None:
                running.append(pool.executor.submit(*task))
            if not running:
                break
            yield advance(running.popleft().result())
    finally:
        for future in running:
            future.cancel()


@contextmanager
def executor(settings: Settings, workers: int | None = None):
    """The :class:`Pool` that ``settings`` asks for, made for a block of work and shut down after it.

    ``ensemble.executor=local``: this process when ``workers`` (default ``ensemble.workers``;
    0 = one per core) is 1, else a ``ProcessPoolExecutor`` of that many processes, started
    with ``spawn`` (no copy of the caller's threads or state). ``dask``: the Dask cluster at
    ``ensemble.dask.address`` or described by ``ensemble.dask.scheduler_file``, or else a
    ``distributed.LocalCluster`` of ``workers`` processes (one thread each). Dask reruns the
    tasks of a worker that dies; tasks here are pure functions of their arguments, so the rerun
    gives the same numbers. Several runs can share one pool: ``sim.run(settings, pool=...)``.
    """
    if workers is None:
        workers = worker_count(settings)
    if settings["ensemble.executor"] == "local":
        if workers <= 1:
            yield IN_PROCESS
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            yield Pool(pool, workers, shares_memory=True)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    with _dask(settings, workers) as pool:
        yield pool


@contextmanager
def _dask(settings: Settings, workers: int):
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("config: ensemble.executor = dask needs the package 'distributed'; "
                          "install it with: pip install -e '.[analysis]'") from None
    address, scheduler_file = settings["ensemble.dask.address"], settings["ensemble.dask.scheduler_file"]
    cluster = None
    try:
        if address or scheduler_file:
            client = Client(address or None, scheduler_file=scheduler_file or None, timeout=settings["ensemble.dask.timeout"])
        else:
            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ for its workers by default. Any value of it
            # turns off glibc's adaptive mmap threshold, so each month's temporaries (about a
            # megabyte) would be fresh mappings, page-faulted in and given back every time: a
            # chunk took 2.6 times as long. Our workers get the C library's defaults instead.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"ensemble.dask.address = {address}" if address else f"ensemble.dask.scheduler_file = {scheduler_file}"
        raise ConfigError(f"config: {where}: cannot connect to a Dask scheduler ({str(exc).splitlines()[0]})") from None
    try:
        slots = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()))
        yield Pool(client.get_executor(pure=False), slots)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _progress(settings: Settings, total: int):
    """A progress bar: silent off a terminal and in worker processes (a run that is one task of
    an analysis). Its class has no monitor thread (tqdm starts one per process by default,
    which would outlive the run)."""
    import multiprocessing

    from tqdm.auto import tqdm

    bar = type("Progress", (tqdm,), {"monitor_interval": 0})
    worker = multiprocessing.parent_process() is not None
    return bar(total=total, unit="rep", unit_scale=True, disable=True if worker else None, leave=False,
                desc=f"{settings.scenario.name} ({settings['ensemble.mode']})")


def run_ensemble(settings: Settings, param_values: dict[str, np.ndarray] | None = None,
                 pool: Pool | None = None) -> xr.Dataset:
    """Run every replicate of ``settings`` (see the module docstring) and return the Dataset.

    ``pool`` (from :func:`executor`) runs the chunks on workers that outlive this run, so that
    many runs share them; without it the run makes its own, as ``settings`` asks."""
    values = check(settings, param_values)
    if settings["ensemble.posterior"]:  # every replicate draws a particle; given param_values win
        from .posterior import draws

        values = {**draws(settings), **values}
    n, block = settings["ensemble.replicates"], settings["ensemble.block"]
    workers = pool.slots if pool is not None else worker_count(settings, -(-n // block))  # <= one per block
    if workers > 1:  # several chunks per process, so that none waits long for the last one
        plan = balanced_chunks(n, settings["ensemble.chunk"], block, workers)
    else:
        plan = chunks(n, settings["ensemble.chunk"], block)
    probe = model_for(settings, 0, 1, _slice(values, 0, 1))  # routes, anchors and shapes (same in every chunk)
    with nullcontext(pool) if pool is not None else executor(settings, workers) as pool:
        if settings["ensemble.mode"] == "summary":
            ds = _run_summary(settings, values, plan, probe, pool)
        else:
            _check_memory(settings, probe, pool, max(count for _, count in plan))
            ds = _run_full(settings, values, plan, probe, pool)
    # (not "mode": scipy's netCDF writer keeps global attributes as attributes of its file object)
    ds.attrs.update({"ensemble_mode": settings["ensemble.mode"], "replicates": int(n),
                     "ensemble_block": int(settings["ensemble.block"]),
                     "ensemble_sample_parameters": int(settings["ensemble.sample_parameters"])})
    return ds


def _check_memory(settings: Settings, probe: GeoModel, pool: Pool = IN_PROCESS, chunk: int = 0) -> None:
    """Refuse a full-mode ensemble whose trajectories would not fit in memory (one line, not a MemoryError).

    With a local pool the arrays in shared memory and their copy are counted; with Dask, the
    chunks in flight (two per worker) on top of the results."""
    per_replicate = sum(int(np.prod(shape)) for shape in shapes(probe).values()) * 4 * settings.months  # float32
    n = settings["ensemble.replicates"]
    if pool.shares_memory:
        need = per_replicate * n * 2
    elif pool.executor is not None:
        need = per_replicate * (n + 2 * pool.slots * chunk)
    else:
        need = per_replicate * n
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if need > 0.6 * total:
        most = int(0.6 * total // per_replicate)
        raise ConfigError(f"config: ensemble.replicates = {settings['ensemble.replicates']:,} in full mode needs "
                          f"{need / 2**30:,.1f} GiB for the trajectories, more than this machine can hold "
                          f"({total / 2**30:,.0f} GiB); allowed: at most about {most:,} in full mode, "
                          "or ensemble.mode=summary for any number")


def _run_full(settings, values, plan, probe, pool: Pool) -> xr.Dataset:
    """Full trajectories. A chunk run here writes straight into the result arrays. Workers of
    this machine's process pool write into the result arrays in shared memory
    (:class:`SharedResults`), copied into this process's memory at the end and removed; Dask
    workers send back each chunk's written elements, copied into place here."""
    n, months = settings["ensemble.replicates"], settings.months
    segment = None
    try:
        if pool.shares_memory:
            out, segment = SharedResults.create(probe, months, n)
            arrays = out.arrays(segment)
        else:
            arrays = storage(probe, months, n)
            out = arrays if pool.executor is None else None
        rows = _rows(probe)
        sampled, events = {}, {}
        with _progress(settings, n) as bar:
            tasks = [(_full_chunk, settings, first, count, _slice(values, first, count), out) for first, count in plan]
            results = ordered(pool, tasks, bar)
            try:
                for result in results:
                    if result.data is not None:
                        for name, chunk in result.data.items():
                            arrays[name][..., result.first:result.first + result.count][(slice(None), *rows[name])] = chunk
                    _collect(result, sampled, events, n)
            finally:
                results.close()  # cancels what has not started
        data = {name: np.array(a) for name, a in arrays.items()} if segment is not None else arrays
    finally:
        if segment is not None:
            arrays = out = tasks = None  # no view of the segment may be left when it closes
            segment.close()
            segment.unlink()
    ds = _dataset(replicates_first(data), settings, probe, np.arange(n))
    _add_inputs(ds, settings, {**values, **sampled}, events)
    return ds


def _collect(result: ChunkResult, sampled: dict, events: dict, n: int) -> None:
    rows = slice(result.first, result.first + len(next(iter(result.sampled.values()), np.empty(result.count))))
    for path, v in result.sampled.items():
        sampled.setdefault(path, np.empty(n))[rows] = v
    for key, (month, happens, strength) in result.events.items():
        m, h, s = events.setdefault(key, (np.empty(n, dtype=np.int64), np.empty(n, dtype=bool), np.empty(n)))
        size = len(month)
        m[result.first:result.first + size], h[result.first:result.first + size] = month, happens
        s[result.first:result.first + size] = strength


def _dataset(data, settings, probe, replicates) -> xr.Dataset:
    attrs = {
        "title": f"geosim results: scenario {settings.scenario.name}",
        "scenario": settings.scenario.name,
        "scenario_description": settings.scenario.description,
        "scenario_yaml": settings.scenario.to_yaml(),
        "config": yaml_text(settings.config),
        "seed": int(settings["seed"]),
        **provenance(),
    }
    return dataset(data, settings, probe.routes, probe.anchors, attrs, replicates=replicates)


def _add_inputs(ds: xr.Dataset, settings: Settings, values: dict, events: dict) -> None:
    """Per-replicate parameter values and event realisations, so outcomes can be related to inputs."""
    n = ds.sizes["replicate"]
    registry = prm.registry(settings.actors) if values else {}
    for path, v in values.items():
        p = registry.get(path)
        ds[f"param:{path}"] = ("replicate", np.asarray(v[:n], dtype=float),
                               {"description": f"value of {path} in each replicate" + (f": {p.doc}" if p and p.doc else ""),
                                "units": p.unit if p is not None else ""})
    if events:
        from .calendar import format_month

        keys = list(events)
        month = np.stack([events[k][0][:n] for k in keys], axis=1)
        ds.coords["event"] = keys
        ds["event_month"] = (("replicate", "event"),
                             np.array([[f"{format_month(int(m))}-01" for m in row] for row in month],
                                      dtype="datetime64[ns]").reshape(n, len(keys)),
                             {"description": "month in which the uncertain event was drawn to happen"})
        ds["event_happens"] = (("replicate", "event"), np.stack([events[k][1][:n] for k in keys], axis=1).astype(np.int8),
                               {"description": "1 if the event happens in this replicate, 0 if not"})
        ds["event_strength"] = (("replicate", "event"), np.stack([events[k][2][:n] for k in keys], axis=1),
                                {"description": "strength drawn for the event (0–1)"})


# --------------------------------------------------------------------------------------------
# Summary mode
# --------------------------------------------------------------------------------------------

def _edges(settings: Settings, values: dict) -> tuple[dict, dict]:
    """Histogram bins from block 0, per month and element: ``x * scale + shift`` is the bin
    number, counted from the element's first bin (below the range) to its last (above)."""
    count = min(settings["ensemble.block"], settings["ensemble.replicates"])
    pilot = _summary_chunk(settings, 0, count, _slice(values, 0, count), None)
    edges, ranges = {}, {}
    for name, a in pilot.summary["acc"].items():
        lo, hi = a["min"].astype(float), a["max"].astype(float)
        span = hi - lo
        pad = np.where(span > 0, 1e-6 * span, 1e-9 * np.maximum(1.0, np.abs(lo)))
        lo, hi = lo - pad, hi + pad
        scale = BINS / (hi - lo)
        first_bin = np.arange(lo.shape[1]) * (BINS + 2)  # element e owns bins e*(BINS+2) .. e*(BINS+2)+BINS+1
        shift = first_bin + 1.0 - lo * scale  # regular bins are first+1 .. first+BINS
        low = np.broadcast_to(first_bin, lo.shape).astype(np.float32)
        edges[name] = (scale.astype(np.float32), shift.astype(np.float32), low, low + np.float32(BINS + 1))
        ranges[name] = (lo, hi)
    return edges, ranges


def _run_summary(settings, values, plan, probe, pool: Pool) -> xr.Dataset:
    n, months = settings["ensemble.replicates"], settings.months
    edges, ranges = _edges(settings, values)
    names = settings["ensemble.summary_variables"]
    total = None
    samples, sampled, events = {}, {}, {}
    crossings = np.zeros(months, dtype=np.int64)
    with _progress(settings, n) as bar:
        tasks = [(_summary_chunk, settings, first, count, _slice(values, first, count), edges) for first, count in plan]
        results = ordered(pool, tasks, bar)
        try:
            for result in results:
                acc = result.summary["acc"]
                if total is None:
                    total = {name: {"hist": np.zeros(a["hist"].shape, np.int64), "min": a["min"].copy(), "max": a["max"].copy(),
                                    "sum": np.zeros(a["min"].shape), "sumsq": np.zeros(a["min"].shape)}
                             for name, a in acc.items()}
                for name, a in acc.items():
                    t = total[name]
                    t["hist"] += a["hist"]
                    np.minimum(t["min"], a["min"], out=t["min"])
                    np.maximum(t["max"], a["max"], out=t["max"])
                    for b in range(a["sum"].shape[1]):  # block by block, in block order: the same for any chunking
                        t["sum"] += a["sum"][:, b]
                        t["sumsq"] += a["sumsq"][:, b]
                crossings += result.summary["crossings"]
                for name, v in result.summary["samples"].items():
                    samples.setdefault(name, []).append(v)
                if result.summary["samples"]:
                    _collect(result, sampled, events, SAMPLE)
        finally:
            results.close()
    keep = min(n, SAMPLE)
    ds = _dataset(replicates_first({k: np.concatenate(v, axis=-1) for k, v in samples.items()}), settings, probe,
                  np.arange(keep))
    ds = ds.rename({name: f"{name}_sample" for name in VARIABLES})
    for name in VARIABLES:
        ds[f"{name}_sample"].attrs["description"] = f"{VARIABLES[name][2]} (the first {keep} replicates only)"
    ds.coords["quantile"] = list(QUANTILES)
    ds.coords["bin"] = np.arange(BINS + 2)
    new = {}
    for name in names:
        dims, shape = VARIABLES[name][0], shapes(probe)[name]
        t = total[name]
        lo, hi = ranges[name]
        mean = t["sum"] / n
        sd = np.sqrt(np.maximum(t["sumsq"] / n - mean**2, 0.0))
        hist = t["hist"].reshape(months, -1, BINS + 2)
        q = histogram_quantiles(hist, lo, hi, t["min"].astype(float), t["max"].astype(float), QUANTILES)
        attrs = attributes(name)
        new[name] = (("time", "quantile", *dims), q.reshape(months, len(QUANTILES), *shape).astype(np.float32),
                     {**attrs, "description": f"{attrs['description']}: quantiles over the replicates "
                                              "(read off the histogram)"})
        for stat, v in (("mean", mean), ("sd", sd), ("min", t["min"]), ("max", t["max"])):
            new[f"{name}_{stat}"] = (("time", *dims), v.reshape(months, *shape).astype(np.float32),
                                     {"units": attrs["units"], "description": f"{stat} over the replicates"})
        new[f"{name}_histogram"] = (("time", *dims, "bin"), hist.reshape(months, *shape, BINS + 2).astype(np.int32),
                                    {"description": f"replicates per bin: bin 0 below {name}_bin_low, bins 1..{BINS} "
                                                    f"equal between {name}_bin_low and {name}_bin_high, the last above"})
        new[f"{name}_bin_low"] = (("time", *dims), lo.reshape(months, *shape), {"units": attrs["units"]})
        new[f"{name}_bin_high"] = (("time", *dims), hi.reshape(months, *shape), {"units": attrs["units"]})
    spec = {"crossing_dyad": settings["output.focus_dyad"], "crossing_channel": settings["output.crossing.channel"],
            "crossing_level": float(settings["output.crossing.level"]),
            "crossing_direction": settings["output.crossing.direction"]}
    new["crossing_share"] = ("time", crossings / n, {
        "units": "share 0–1",
        "description": f"share of replicates whose {spec['crossing_dyad']} {spec['crossing_channel']} strength has "
                       f"gone {spec['crossing_direction']} {spec['crossing_level']:g} by this month", **spec})
    ds = ds.assign(new)
    _add_inputs(ds, settings, sampled, events)
    for key in list(ds.data_vars):
        if key.startswith(("param:", "event_")):
            ds[key].attrs["description"] += f" (the first {keep} replicates only)"
    return ds


def histogram_quantiles(hist: np.ndarray, lo: np.ndarray, hi: np.ndarray, vmin: np.ndarray, vmax: np.ndarray,
                        quantiles) -> np.ndarray:
    """Quantiles from histograms with BINS regular bins in [lo, hi] and one bin either side.

    ``hist`` has shape (..., BINS + 2); the others (...). Within a bin the values are taken as
    spread evenly (linear interpolation of the empirical distribution function); the outer
    bins reach to the exact minimum and maximum. Returns shape (T, len(quantiles), ...rest).
    """
    nbins = hist.shape[-1] - 2
    width = (hi - lo) / nbins
    left = np.concatenate([vmin[..., None], lo[..., None] + width[..., None] * np.arange(nbins), hi[..., None]], axis=-1)
    right = np.concatenate([np.minimum(lo, vmax)[..., None], lo[..., None] + width[..., None] * np.arange(1, nbins + 1),
                            vmax[..., None]], axis=-1)
    left[..., 0] = np.minimum(left[..., 0], right[..., 0])
    right[..., -1] = np.maximum(right[..., -1], left[..., -1])
    cum = np.cumsum(hist, axis=-1)
    total = cum[..., -1:]
    out = []
    for q in quantiles:
        target = q * total
        k = np.argmax(cum >= np.maximum(target, 1e-12), axis=-1)[..., None]
        before = np.take_along_axis(cum, k, axis=-1) - np.take_along_axis(hist, k, axis=-1)
        inside = np.take_along_axis(hist, k, axis=-1)
        frac = np.clip((target - before) / np.maximum(inside, 1), 0.0, 1.0)
        a, b = np.take_along_axis(left, k, axis=-1), np.take_along_axis(right, k, axis=-1)
        out.append(np.clip((a + frac * (b - a))[..., 0], vmin, vmax))
    return np.stack(out, axis=1)


def summary_table(ds: xr.Dataset, settings: Settings):
    """The terminal/CSV table of a summary-mode run: median and 5–95% per quantity and month
    (same columns as :func:`sim.summary.summarize`), read from the streamed quantiles."""
    import pandas as pd

    from .summary import report_months

    focus = ds["dyad"].values[list(ds["dyad_key"].values).index(settings["output.focus_dyad"])]
    wanted = []
    for name in settings["ensemble.summary_variables"]:
        da = ds[name]
        if name == "strength":
            wanted += [(f"{focus} {c}", da.sel(dyad=focus, channel=c)) for c in CHANNELS4]
            wanted += [(f"{d} composite", da.sel(dyad=d, channel="composite")) for d in ds["dyad"].values if d != focus]
            continue
        extra = [d for d in da.dims if d not in ("time", "quantile")]
        for index in np.ndindex(*(da.sizes[d] for d in extra)):
            where = dict(zip(extra, index, strict=True))
            series = da.isel(where)
            if float(ds[f"{name}_min"].isel(where).min()) == float(ds[f"{name}_max"].isel(where).max()) == 0.0:
                continue  # structurally zero (e.g. drones of states that launch none)
            label = " ".join(str(series[d].item()) for d in extra)
            wanted.append((f"{name.replace('_', ' ')} {label}".strip(), series))
    rows = []
    for month, at in report_months(ds, settings):
        t = np.datetime64(f"{month}-01", "ns")
        for quantity, series in wanted:
            q = series.sel(time=t)
            rows.append({"quantity": quantity, "month": month, "at": at, "unit": series.attrs.get("units", ""),
                         "median": float(q.sel(quantile=0.5)), "p05": float(q.sel(quantile=0.05)),
                         "p95": float(q.sel(quantile=0.95))})
    return pd.DataFrame(rows)


def render_summary(table, replicates: int) -> str:
    from .summary import render

    return render(table, replicates).replace("replicates)", "replicates, summary mode: quantiles from histograms)")
