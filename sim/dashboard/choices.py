"""What a student has picked on the page, held as Hydra overrides.

The dashboard builds its model from exactly the overrides the command line would get, through
:func:`sim.config.compose` and :func:`sim.config.validate`, so that ``geosim <overrides>`` and
the page show the same numbers. Defaults, units, ranges and provenance of the sliders all come
from the registry in :mod:`sim.parameters`; this module only decides which parameters get a
slider and how a student reads their names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .. import parameters as prm
from ..config import Settings, compose, validate
from ..scenario import presets
from .builder import Draft

# Which parameters a student can move, grouped, with a plain-language label. Everything else
# (default, unit, range, provenance) is read from the registry.
INCENTIVES: dict[str, dict[str, str]] = {
    "What binds states": {
        "dynamics.weight.glue": "Pull of a shared enemy",
        "dynamics.weight.flow": "Pull of what flows between them",
        "dynamics.weight.anchor": "Pull of the Syria project on military ties",
    },
    "The war and its supplies": {
        "war.drones.import_capacity": "Drones Iran can ship per month",
        "war.drones.production_max": "Russia's own drone output at full scale",
        "exchange.overextension": "Russia's reluctance to give arms while at war",
        "exchange.threshold.troops": "Closeness needed before troops are sent",
    },
    "Size of the shocks (when the scenario has them)": {
        "shocks.assad_fall.insecurity": "Iran's extra insecurity after Assad falls",
        "shocks.trump_talks.detente": "US–Russia détente in the talks",
        "shocks.snapback.sanctions": "Extra UN sanctions on Iran (snapback)",
    },
}

MAX_REPLICATES = 1000  # the page stays responsive; the command line accepts more
_WIDE = 10  # a registry range wider than this many times the default is cut for the slider


@dataclass(frozen=True)
class SliderSpec:
    """One slider: a registry parameter, its label, and the range the slider covers."""

    path: str
    label: str
    unit: str
    default: float
    low: float
    high: float
    step: float
    source: str
    doc: str

    @property
    def caption(self) -> str:
        return f"{self.unit} · source: {self.source}"


def _grid(low: float, high: float, default: float) -> tuple[float, float, float]:
    """(low, high, step) of a slider: the finest round step (1, 2 or 5 x 10^k) with at most 100
    positions, on a grid anchored at the default so that the default is always a position
    (e.g. 733 drones/month on a grid of 20: 13, 33, ..., 733, ...).
    """
    exp = math.floor(math.log10((high - low) / 100))
    steps = sorted(b * 10.0**k for k in range(exp - 1, exp + 3) for b in (1, 2, 5))
    step = next(s for s in steps if (high - low) / s <= 100)
    below = math.floor((default - low) / step + 1e-9)
    above = math.floor((high - default) / step + 1e-9)
    # rounding keeps float noise (0.6 - 12 x 0.05 = -1e-16) from stepping outside the range
    return max(low, round(default - below * step, 12)), min(high, round(default + above * step, 12)), step


def slider(path: str, label: str) -> SliderSpec:
    """The slider of a registry parameter: its range (0…4×default when that is very wide)."""
    p = prm.registry()[path]
    low, high, default = float(p.low), float(p.high), float(p.default)
    if default > 0 and high > _WIDE * default:
        high = 4 * default
    low, high, step = _grid(low, high, default)
    return SliderSpec(path, label, p.unit, default, low, high, step, p.source, p.doc)


@cache
def incentive_groups() -> dict[str, tuple[SliderSpec, ...]]:
    """The sliders by group (computed once: the registry does not change)."""
    return {group: tuple(slider(path, label) for path, label in items.items()) for group, items in INCENTIVES.items()}


def _override_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if "e" not in f"{value:.6g}" else repr(value)
    return str(value)


@dataclass(frozen=True)
class Choices:
    """The student's changes to the configuration, as ``(path, value)`` pairs in the order made,
    and the scenario built in the page (``draft``), if any.

    An empty Choices is the CLI's default configuration (``geosim`` with no arguments). With a
    draft the scenario is the file the page offers for download (``scenario=<name>.yaml``).
    """

    changes: tuple[tuple[str, Any], ...] = field(default=())
    draft: Draft | None = None

    def set(self, path: str, value: Any) -> Choices:
        if isinstance(value, float):
            value = float(f"{value:.6g}")  # slider arithmetic leaves 0.35000000000000003
        rest = tuple((p, v) for p, v in self.changes if p != path)
        # picking a preset leaves the built scenario
        return Choices((*rest, (path, value)), None if path == "scenario" else self.draft)

    def with_draft(self, draft: Draft | None) -> Choices:
        return Choices(tuple((p, v) for p, v in self.changes if p != "scenario"), draft)

    def get(self, path: str, settings: Settings) -> Any:
        return dict(self.changes).get(path, settings[path])

    def keep_only(self, *paths: str) -> Choices:
        return Choices(tuple((p, v) for p, v in self.changes if p in paths), self.draft)

    def overrides(self) -> list[str]:
        """Hydra overrides, as one would type them after ``geosim`` (a built scenario as its file)."""
        scenario = [f"scenario={self.draft.filename}"] if self.draft is not None else []
        return [*scenario, *(f"{path}={_override_value(value)}" for path, value in self.changes)]

    def command(self) -> str:
        return " ".join(["geosim", *self.overrides()])

    def settings(self) -> Settings:
        """Compose and validate exactly as ``geosim`` does (raises ``ConfigError``); a built
        scenario is validated by the code that reads scenario files."""
        if self.draft is None:
            return validate(compose(self.overrides()))
        settings = validate(compose([f"{p}={_override_value(v)}" for p, v in self.changes]))
        settings.scenario = self.draft.scenario(settings)
        settings.values["scenario"] = self.draft.filename
        return settings

    @property
    def scenario(self) -> str | None:
        return dict(self.changes).get("scenario")


def scenario_names() -> list[str]:
    """The presets, baseline first, then the single shocks, then the rest."""
    names = presets()
    return sorted(names, key=lambda n: (n != "baseline", n == "combined", n))
