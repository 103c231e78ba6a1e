"""A validated configuration (:class:`Settings`) and the helpers its checks share.

This module sits at the bottom of the layers (next to :mod:`sim.parameters`): the scenario,
the model and everything above them read a ``Settings``; :func:`sim.config.validate` builds it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from . import parameters as prm
from .calendar import parse_month

EARLIEST, LATEST = 1900 * 12, 2200 * 12 + 11  # month indices; numpy datetime64[ns] spans 1678-2262


@dataclass
class Settings:
    """A validated configuration: flat parameter values plus what was derived from them."""

    values: dict[str, Any]
    actors: list[str]
    names: dict[str, str]
    dyads: list[tuple[str, str]]
    start: int
    end: int
    config: dict = field(repr=False, default_factory=dict)
    scenario: Any = None  # sim.scenario.Scenario, set by validate()

    def __getitem__(self, path: str) -> Any:
        return self.values[path]

    @property
    def months(self) -> int:
        return self.end - self.start + 1

    def month_index(self, month) -> int:
        """0-based index of a month in the simulated period."""
        return parse_month(month) - self.start

    def dyad_key(self, a: str, b: str) -> str:
        return prm.dyad_key(a, b, self.actors)

    def dyad_label(self, a: str, b: str) -> str:
        i, j = sorted((self.actors.index(a), self.actors.index(b)))
        return f"{self.names[self.actors[i]]}–{self.names[self.actors[j]]}"


def clean(text: object) -> str:
    """A user-given key made safe for a one-line message (control characters escaped)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


def suggest(path: str, reg: dict[str, prm.Param]) -> str:
    close = difflib.get_close_matches(path, list(reg), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(close) + "? (geosim-params lists every key)"
    parent = path.rsplit(".", 1)[0]
    siblings = sorted(k.rsplit(".", 1)[1] for k in reg if "." in k and k.rsplit(".", 1)[0] == parent)
    if siblings:
        return f"allowed under {clean(parent)}: {', '.join(siblings)}"
    return "geosim-params lists every key"
