"""The run the page steps: the engine's GeoModel, built as the CLI builds it, plus its history.

:class:`LiveRun` holds :func:`sim.run.build_model` (the very Mesa model :func:`sim.run.run`
steps) and a :class:`sim.results.Recorder`, so that after every month of the period the recorded
arrays equal what ``geosim`` with the same overrides writes to results.nc. It is a plain object,
not a second Mesa model around the first: the page's own controls step it.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
import xarray as xr

from ..calendar import format_month
from ..results import Recorder
from ..run import build_model, run
from .choices import Choices


class LiveRun:
    """One live run of the chosen configuration, month by month (``choices``: a :class:`Choices`,
    or anything holding one in ``.value``; raises ``ConfigError`` for a bad choice)."""

    def __init__(self, choices: Choices | None = None):
        choices = getattr(choices, "value", choices) or Choices()
        settings = choices.settings()
        self.choices = choices
        self._lock = threading.Lock()  # Play steps in a thread; a click may step at the same time
        self.settings = settings
        self.geo = build_model(settings)
        self.recorder = Recorder(self.geo, settings.months)

    # --- time -------------------------------------------------------------------------------
    @property
    def months_done(self) -> int:
        """Months simulated so far (0 before the first step)."""
        return self.geo.month

    @property
    def month_label(self) -> str | None:
        """The last simulated month as ``YYYY-MM``; None before the first step."""
        return format_month(self.settings.start + self.months_done - 1) if self.months_done else None

    @property
    def first_month(self) -> str:
        return format_month(self.settings.start)

    @property
    def last_month(self) -> str:
        return format_month(self.settings.end)

    @property
    def running(self) -> bool:
        """Months are left to simulate."""
        return self.months_done < self.settings.months

    def step(self) -> None:
        """Simulate the next month and record it; nothing at the end of the period."""
        with self._lock:
            if self.running:
                self.geo.step()
                self.recorder.record(self.months_done - 1)

    def run_to_end(self) -> None:
        while self.running:
            self.step()

    # --- what the plots read ----------------------------------------------------------------
    def dataset(self) -> xr.Dataset:
        """The months simulated so far, labelled like the CLI's results (time may be empty)."""
        attrs = {"scenario": self.settings.scenario.name, "replicates": self.geo.R}
        return self.recorder.dataset(self.settings, attrs).isel(time=slice(0, self.months_done))

    def composite_now(self) -> np.ndarray:
        """Median composite strength of every dyad now (the starting values before the first step)."""
        return np.median(self.geo.composite(), axis=0)

    def baseline(self) -> xr.Dataset:
        """The whole period under the baseline scenario with the same seed and settings.

        Cached across models: choosing another scenario or pressing Reset does not rerun it.
        """
        return _baseline(tuple((p, v) for p, v in self.choices.changes if p != "scenario"))

    def numbers(self) -> list[tuple[str, float, float]]:
        """Median composite strength of every pair at the last simulated month, under the scenario
        and under the baseline (same seed and settings): ``[(pair label, scenario, baseline)]``."""
        if not self.months_done:
            return []
        k = self.months_done - 1
        now = self.dataset()["strength"].isel(time=k).sel(channel="composite")
        base = self.baseline()["strength"].isel(time=k).sel(channel="composite")
        return [(str(d), float(now.sel(dyad=d).median("replicate")), float(base.sel(dyad=d).median("replicate")))
                for d in now["dyad"].values]


@lru_cache(maxsize=4)
def _baseline(changes: tuple) -> xr.Dataset:
    return run(Choices(changes).set("scenario", "baseline").settings())
