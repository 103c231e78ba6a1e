"""What the analysis commands share: the executor their runs go to, and the command wrapper.

Sobol and Morris designs (``geosim-sensitivity``), ABC generations (``geosim-calibrate``,
``geosim-hindcast``) and EMA experiments run on the one executor mechanism of
:mod:`sim.ensemble`: :func:`pool` opens the pool that the user's overrides ask for
(``ensemble.executor``, ``ensemble.workers``, ``ensemble.dask.*``) once for a whole analysis,
and :func:`sim.ensemble.ordered` hands it tasks. Every random number belongs to a replicate and
results come back in task order, so an analysis gives the same numbers on any executor.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager

from ..errors import ConfigError

EXECUTOR = ("ensemble.executor=", "ensemble.workers=", "ensemble.dask.", "executor=")
"""Override prefixes that choose where runs execute (``executor=``: the presets in conf/executor/,
given as ``+executor=dask``)."""
SAME_NUMBERS = (*EXECUTOR, "ensemble.chunk=")
"""Override prefixes that change how runs execute, never their numbers (chunks are bit-identical too)."""


def _key_starts(override: str, prefixes: tuple[str, ...]) -> bool:
    return override.lstrip("+~").startswith(prefixes)


def same_numbers(override: str) -> bool:
    """True for an override that changes how runs execute, not what they compute."""
    return _key_starts(override, SAME_NUMBERS)


def split_overrides(overrides) -> tuple[list[str], list[str]]:
    """(the overrides that choose the executor, the others)."""
    overrides = list(overrides)
    chosen = [o for o in overrides if _key_starts(o, EXECUTOR)]
    return chosen, [o for o in overrides if o not in chosen]


@contextmanager
def pool(overrides, workers: int | None = None):
    """The :class:`sim.ensemble.Pool` that ``overrides`` ask for (this process by default),
    open for the block of work inside ``with`` and shut down after it.

    ``workers`` overrides ``ensemble.workers`` (``--jobs`` of geosim-sensitivity)."""
    from ..config import compose, validate
    from ..ensemble import executor

    chosen, _ = split_overrides(overrides)
    settings = validate(compose(["ensemble.workers=1", *chosen]))
    with executor(settings, workers) as p:
        yield p


def command(prog: str, parse: Callable, body: Callable) -> None:
    """Run a command: figures to files (matplotlib's Agg backend), arguments from ``parse()``,
    then ``body(args)``; a :class:`sim.ConfigError` becomes one line on stderr and exit status 2."""
    import matplotlib

    matplotlib.use("Agg")  # a command writes figure files: no window (library code leaves the backend alone)
    args = parse()
    try:
        body(args)
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        sys.exit(2)
