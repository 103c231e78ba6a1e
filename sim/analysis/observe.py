"""Observations as data: files of observed facts that calibration and hindcasts compare with runs.

An observation file is a CSV with a header row, one row per observed fact (``docs/forecasting.md``
describes every column with an example). A row names a variable of the results Dataset
(``quantity``), one label for each of its dimensions besides time and replicate (``selector``,
e.g. ``actor=Russia`` or ``dyad=Russia–Iran; channel=military``), a period of months and how the
monthly values aggregate over it (``sum``, ``mean``, ``last``), and what was observed:

- a **level** (``relation`` empty): ``value`` and/or an admissible range ``low``..``high``
  (``>11,000`` is ``low=11000`` with no value);
- a **ratio** (``relation=ratio``): the aggregate over the period divided by the same aggregate
  over a reference period (``ref_start``..``ref_end``) or of another selector (``ref_selector``);
- a **direction** (``relation=higher`` or ``lower``): the aggregate is higher (lower) than the
  reference; no value.

Every row says when the fact became known (``published``, a month) and where it comes from
(``source``), and how it was dated (``dating``: ``after_period`` = the month after the period
ends, ``reported`` = the month it was first reported, ``event`` = the month it happened).

Lines starting with ``#`` are comments. Files are checked against a small run of the same
configuration, so quantities and selector labels are whatever the engine's results hold;
every malformed row raises :class:`~sim.errors.ConfigError` naming file, line, column and
what is allowed.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import xarray as xr

from ..calendar import format_month, parse_month
from ..errors import ConfigError, read_text

REQUIRED = ("id", "quantity", "selector", "start", "end", "aggregate", "published", "source")
OPTIONAL = ("relation", "ref_selector", "ref_start", "ref_end", "value", "low", "high", "dating", "note")
COLUMNS = REQUIRED + OPTIONAL
AGGREGATES = ("sum", "mean", "last")
RELATIONS = ("", "ratio", "higher", "lower")
DATINGS = ("after_period", "reported", "event")
TOLERANCE = 0.1
"""Relative scale of a figure reported without a range (10%): its miss in the calibration distance
is counted in units of 10% of the figure."""
PACKAGE = "sim.observations"

_MONTH = re.compile(r"^\d{4}-\d{2}$")
_YAML = re.compile(r"^\s*([\[{]|-\s|[A-Za-z_][\w.]*:\s|[A-Za-z_][\w.]*:$|\|$|>$|~$|!!)")


@dataclass(frozen=True)
class Observation:
    """One observed fact (a row of an observation file)."""

    file: str
    line: int
    id: str
    quantity: str
    selector: tuple[tuple[str, str], ...]
    start: int
    end: int
    aggregate: str
    published: int
    source: str
    relation: str = ""
    ref_selector: tuple[tuple[str, str], ...] = ()
    ref_start: int = 0
    ref_end: int = 0
    value: float | None = None
    low: float | None = None
    high: float | None = None
    dating: str = ""
    note: str = field(default="", compare=False)

    @property
    def binary(self) -> bool:
        """True if the fact is an event that happened: a direction, or a range without a value."""
        return self.relation in ("higher", "lower") or self.value is None

    @property
    def scale(self) -> float:
        """Unit in which a miss counts in the calibration distance: the half-width of the stated
        range, else :data:`TOLERANCE` times the figure (value or bound)."""
        if self.low is not None and self.high is not None and self.high > self.low:
            return 0.5 * (self.high - self.low)
        ref = self.value if self.value is not None else (self.low if self.low is not None else self.high)
        return max(TOLERANCE * abs(ref or 0.0), 1e-6)

    @property
    def months(self) -> int:
        return self.end - self.start + 1

    @property
    def ref_months(self) -> int:
        return self.ref_end - self.ref_start + 1

    def describe(self) -> str:
        sel = ", ".join(v for _, v in self.selector)
        what = f"{self.quantity}[{sel}] {self.aggregate} {format_month(self.start)}..{format_month(self.end)}"
        if self.relation:
            ref = ", ".join(v for _, v in (self.ref_selector or self.selector))
            what += f" {self.relation} vs [{ref}] {format_month(self.ref_start)}..{format_month(self.ref_end)}"
        return what

    def observed_text(self) -> str:
        if self.relation in ("higher", "lower"):
            return self.relation
        parts = []
        if self.value is not None:
            parts.append(f"{self.value:g}")
        if self.low is not None or self.high is not None:
            lo = "" if self.low is None else f"{self.low:g}"
            hi = "" if self.high is None else f"{self.high:g}"
            parts.append(f"[{lo}, {hi}]")
        return " ".join(parts)

    def key(self) -> tuple:
        """What persistence matches on: the same quantity, selectors, aggregate and relation."""
        return (self.quantity, self.selector, self.aggregate, self.relation, self.ref_selector)


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------

def packaged() -> dict[str, Path]:
    """The observation files shipped with geosim, by stem (``articles``)."""
    folder = resources.files(PACKAGE)
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".csv")}


def resolve_paths(names: list[str] | None) -> list[Path]:
    """Files given by path or by the stem of a packaged file; default: every packaged file."""
    shipped = packaged()
    if not names:
        return [shipped[k] for k in sorted(shipped)]
    out = []
    for name in names:
        p = Path(name)
        if p.exists():
            out.append(p)
        elif name in shipped:
            out.append(shipped[name])
        else:
            raise ConfigError(f"{name}: observation file not found; allowed: a CSV file path or a shipped file "
                              f"({', '.join(sorted(shipped))})")
    return out


def load(paths: list[str | Path], reference: xr.Dataset) -> list[Observation]:
    """Read and check observation files against ``reference`` (any run of the configuration:
    only its variables and labels are read, see :func:`reference_run`). Raises ConfigError."""
    out: list[Observation] = []
    seen: dict[str, str] = {}
    for path in paths:
        for obs in read(path, reference):
            where = f"{obs.file}:{obs.line}"
            if obs.id in seen:
                raise ConfigError(f"{where}: column 'id': {obs.id!r} is used twice (also {seen[obs.id]}); "
                                  "allowed: an id unique across the observation files")
            seen[obs.id] = where
            out.append(obs)
    return out


def read(path: str | Path, reference: xr.Dataset) -> list[Observation]:
    path = Path(path)
    name = str(path)
    allowed = "a UTF-8 CSV file with a header row (docs/forecasting.md)"
    text = read_text(path, "observation file", allowed)
    allowed_text = f"allowed: {allowed}"
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines())]
    body = [(n, ln) for n, ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not body:
        raise ConfigError(f"{name}: no header row; {allowed_text}")
    try:
        rows = list(csv.reader(io.StringIO("\n".join(ln for _, ln in body)), strict=True))
    except csv.Error as exc:
        raise ConfigError(f"{name}: not a valid CSV file ({exc}); {allowed_text}") from None
    if len(rows) != len(body):
        raise ConfigError(f"{name}: a quoted cell spans several lines; allowed: one row per line")
    header_line, header = body[0][0], [h.strip() for h in rows[0]]
    for h in header:
        if h not in COLUMNS:
            raise ConfigError(f"{name}:{header_line}: column {h!r} is not known; allowed: {', '.join(COLUMNS)}")
    if len(set(header)) != len(header):
        raise ConfigError(f"{name}:{header_line}: a column appears twice in the header")
    for h in REQUIRED:
        if h not in header:
            raise ConfigError(f"{name}:{header_line}: column {h!r} is missing; required: {', '.join(REQUIRED)}")
    if len(rows) == 1:
        raise ConfigError(f"{name}: no observation rows after the header")
    return [_row(name, line, dict(zip(header, cells, strict=False)), len(cells), len(header), reference)
            for (line, _), cells in zip(body[1:], rows[1:], strict=True)]


def _row(name: str, line: int, cells: dict[str, str], n_cells: int, n_header: int,
         reference: xr.Dataset) -> Observation:
    where = f"{name}:{line}"

    def fail(column: str, what: str, allowed: str) -> ConfigError:
        return ConfigError(f"{where}: column '{column}': {what}; allowed: {allowed}")

    if n_cells != n_header:
        raise ConfigError(f"{where}: {n_cells} cells for {n_header} columns; allowed: one cell per header column "
                          "(quote a cell that contains a comma)")
    c = {k: (v or "").strip() for k, v in cells.items()}
    for k, v in c.items():
        if k not in ("note", "source") and _YAML.match(v):
            raise fail(k, f"{v!r} looks like YAML", "one plain value per cell (text, a number or a month YYYY-MM)")
    for k in REQUIRED:
        if not c.get(k):
            raise fail(k, "is empty", _ALLOWED.get(k, "a value"))
    quantity = c["quantity"]
    if quantity not in _quantities(reference):
        raise fail("quantity", f"{quantity!r} is not a results variable", ", ".join(_quantities(reference)))

    def month(column: str) -> int:
        v = c.get(column, "")
        if not _MONTH.match(v):
            raise fail(column, f"{v!r} is not a month", "YYYY-MM, e.g. 2024-12")
        try:
            return parse_month(v)
        except ValueError:
            raise fail(column, f"{v!r} is not a month", "YYYY-MM with a month 01..12") from None

    def number(column: str) -> float | None:
        v = c.get(column, "")
        if not v:
            return None
        try:
            x = float(v.replace("_", ""))
        except ValueError:
            hint = " (a bound such as >11000 goes into low or high)" if v[:1] in "<>≥≤" else ""
            raise fail(column, f"{v!r} is not a number{hint}", "a plain number such as 11000 or 0.25") from None
        if not math.isfinite(x):
            raise fail(column, f"{v!r} is not a finite number", "a plain number such as 11000 or 0.25")
        return x

    start, end = month("start"), month("end")
    first = parse_month(str(reference["time"].values[0])[:7])
    if start < first:
        raise fail("start", f"{c['start']} is before the run starts ({format_month(first)})",
                   f"a month from {format_month(first)} on (or an earlier time.start)")
    if end < start:
        raise fail("end", f"{c['end']} is before start {c['start']}", f"a month from {c['start']} on")
    aggregate = c["aggregate"]
    if aggregate not in AGGREGATES:
        raise fail("aggregate", f"{aggregate!r} is not known", ", ".join(AGGREGATES))
    relation = c.get("relation", "")
    if relation not in RELATIONS:
        raise fail("relation", f"{relation!r} is not known", "empty (a level), " + ", ".join(RELATIONS[1:]))
    selector = _selector(c["selector"], quantity, reference, lambda what, allowed: fail("selector", what, allowed))
    ref_selector: tuple = ()
    ref_start = ref_end = 0
    has_ref = any(c.get(k) for k in ("ref_selector", "ref_start", "ref_end"))
    if relation:
        if not has_ref:
            raise fail("ref_start", f"relation {relation} needs a reference", "ref_start and ref_end, or ref_selector")
        if c.get("ref_selector"):
            ref_selector = _selector(c["ref_selector"], quantity, reference,
                                     lambda what, allowed: fail("ref_selector", what, allowed))
        if c.get("ref_start") or c.get("ref_end"):
            ref_start, ref_end = month("ref_start"), month("ref_end")
            if ref_start < first:
                raise fail("ref_start", f"{c['ref_start']} is before the run starts ({format_month(first)})",
                           f"a month from {format_month(first)} on (or an earlier time.start)")
            if ref_end < ref_start:
                raise fail("ref_end", f"{c['ref_end']} is before ref_start {c['ref_start']}",
                           f"a month from {c['ref_start']} on")
        else:
            ref_start, ref_end = start, end
        if (ref_selector or selector) == selector and (ref_start, ref_end) == (start, end):
            raise fail("ref_start", "the reference is the observation itself", "another period or selector")
    elif has_ref:
        col = next(k for k in ("ref_selector", "ref_start", "ref_end") if c.get(k))
        raise fail(col, "a reference needs a relation", "empty, or set relation to ratio, higher or lower")
    value, low, high = number("value"), number("low"), number("high")
    if relation in ("higher", "lower"):
        for k, x in (("value", value), ("low", low), ("high", high)):
            if x is not None:
                raise fail(k, f"relation {relation} takes no {k}", "empty (the direction is the observation)")
    elif value is None and low is None and high is None:
        raise fail("value", "is empty and so are low and high", "a value, a range low..high, or a bound")
    if low is not None and high is not None and low > high:
        raise fail("low", f"{low:g} is above high {high:g}", f"a number <= {high:g}")
    if value is not None and low is not None and value < low:
        raise fail("value", f"{value:g} is below low {low:g}", f"a number in the range [{low:g}, {high if high is not None else ''}]")
    if value is not None and high is not None and value > high:
        raise fail("value", f"{value:g} is above high {high:g}", f"a number in the range [{low if low is not None else ''}, {high:g}]")
    published = month("published")
    last = max(end, ref_end if relation else end)
    dating = c.get("dating", "")
    if dating and dating not in DATINGS:
        raise fail("dating", f"{dating!r} is not known", ", ".join(DATINGS))
    if dating != "event" and published < last:
        raise fail("published", f"{c['published']} is before the observed period ends ({format_month(last)})",
                   f"a month from {format_month(last)} on (dating=event for events known as they happen)")
    if dating == "after_period" and published != last + 1:
        raise fail("published", f"{c['published']} is not the month after the period ({format_month(last + 1)})",
                   f"{format_month(last + 1)}, or dating=reported")
    return Observation(file=name, line=line, id=c["id"], quantity=quantity, selector=selector, start=start, end=end,
                       aggregate=aggregate, published=published, source=c["source"], relation=relation,
                       ref_selector=ref_selector, ref_start=ref_start, ref_end=ref_end, value=value, low=low,
                       high=high, dating=dating, note=c.get("note", ""))


_ALLOWED = {
    "id": "a short unique name such as A4-2024",
    "quantity": "a results variable (drones_launched, strength, ...)",
    "selector": "dimension=label pairs separated by ';' (actor=Russia), or '-' for a variable without dimensions",
    "start": "YYYY-MM", "end": "YYYY-MM", "published": "YYYY-MM",
    "aggregate": ", ".join(AGGREGATES),
    "source": "a fact id such as A4 or ctx6",
}


def _quantities(reference: xr.Dataset) -> list[str]:
    return [str(k) for k, v in reference.data_vars.items()
            if v.dims[:2] == ("time", "replicate") and np.issubdtype(v.dtype, np.number)]


def _norm(label: str) -> str:
    return (str(label).strip().lower().replace("–", "-").replace("—", "-").replace("→", "->")
            .replace("_", " ").replace(" -> ", "->").replace("  ", " "))


def _selector(text: str, quantity: str, reference: xr.Dataset, fail) -> tuple[tuple[str, str], ...]:
    dims = [d for d in reference[quantity].dims if d not in ("time", "replicate")]
    if text.strip() in ("", "-"):
        pairs = []
    else:
        pairs = []
        for part in text.split(";"):
            if "=" not in part:
                raise fail(f"{part.strip()!r} is not dimension=label", f"dimensions of {quantity}: "
                           + (", ".join(dims) or "none (use '-')"))
            k, v = (s.strip() for s in part.split("=", 1))
            pairs.append((k, v))
    out = {}
    for k, v in pairs:
        if k not in dims:
            raise fail(f"{k!r} is not a dimension of {quantity}", ", ".join(dims) or "none (use '-')")
        if k in out:
            raise fail(f"{k} is given twice", "each dimension once")
        labels = [str(x) for x in reference[k].values]
        match = _match(v, k, labels, reference)
        if match is None:
            shown = ", ".join(labels[:16]) + (", …" if len(labels) > 16 else "")
            raise fail(f"{k}={v!r} is not a label of {k}", shown)
        out[k] = match
    for d in dims:
        if d not in out:
            labels = [str(x) for x in reference[d].values]
            raise fail(f"{quantity} needs a label for {d}", f"{d}=" + " | ".join(labels[:16]))
    return tuple((d, out[d]) for d in dims)


def _match(value: str, dim: str, labels: list[str], reference: xr.Dataset) -> str | None:
    """The label for ``value``: the label itself, or its actor/dyad key (case, dashes and arrows loose)."""
    want = _norm(value)
    for label in labels:
        if _norm(label) == want:
            return label
    key_coord = f"{dim}_key"
    if key_coord in reference.coords:
        for label, key in zip(labels, reference[key_coord].values, strict=True):
            if _norm(key) == want:
                return label
    return None


# --------------------------------------------------------------------------------------------
# What a run says about an observation
# --------------------------------------------------------------------------------------------

def _aggregate(ds: xr.Dataset, obs: Observation, selector, start: int, end: int) -> np.ndarray:
    da = ds[obs.quantity]
    if selector:
        da = da.sel(dict(selector))
    t0, t1 = (np.datetime64(f"{format_month(m)}-01", "ns") for m in (start, end))
    times = ds["time"].values
    if times[0] > t0 or times[-1] < t1:
        raise ConfigError(f"{obs.file}:{obs.line}: observation {obs.id} needs {format_month(start)}..{format_month(end)} "
                          f"but the run covers {str(times[0])[:7]}..{str(times[-1])[:7]}; allowed: a run covering "
                          "the period (time.start, time.end)")
    x = da.sel(time=slice(t0, t1)).transpose("time", "replicate").values.astype(np.float64)
    if obs.aggregate == "sum":
        return x.sum(axis=0)
    if obs.aggregate == "mean":
        return x.mean(axis=0)
    return x[-1]


def components(ds: xr.Dataset, obs: Observation) -> tuple[np.ndarray, np.ndarray | None]:
    """The aggregate per replicate, and that of the reference (None for a level)."""
    a = _aggregate(ds, obs, obs.selector, obs.start, obs.end)
    if not obs.relation:
        return a, None
    b = _aggregate(ds, obs, obs.ref_selector or obs.selector, obs.ref_start, obs.ref_end)
    return a, b


def forecast(obs: Observation, a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """The forecast quantity per replicate: the level, the ratio, or the difference a − b."""
    if obs.relation == "ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b != 0, a / np.where(b != 0, b, 1.0), np.nan)
    if obs.relation in ("higher", "lower"):
        return a - b
    return a


def happened(obs: Observation, x: np.ndarray) -> np.ndarray:
    """Per replicate: does the forecast agree with the binary fact (direction, or inside the range)?"""
    if obs.relation == "higher":
        return x > 0
    if obs.relation == "lower":
        return x < 0
    lo = -np.inf if obs.low is None else obs.low
    hi = np.inf if obs.high is None else obs.high
    return (x >= lo) & (x <= hi)


def miss(obs: Observation, a: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """Per replicate, how far the run is from the fact in units of the row's scale (0 = agrees).

    A level or ratio misses by its distance to the admissible range ``low..high`` (0 inside),
    or to the value when no range is given, divided by :attr:`Observation.scale`. A direction
    misses by the shortfall of the difference relative to the larger of the two magnitudes
    (a relative miss: 0.1 = the wrong way round by 10%)."""
    x = forecast(obs, a, b)
    if obs.relation in ("higher", "lower"):
        size = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-9)
        wrong = np.maximum(-x, 0.0) if obs.relation == "higher" else np.maximum(x, 0.0)
        return wrong / size / TOLERANCE
    x = np.where(np.isfinite(x), x, np.inf)
    if obs.low is None and obs.high is None:
        return np.abs(x - obs.value) / obs.scale
    lo = -np.inf if obs.low is None else obs.low
    hi = np.inf if obs.high is None else obs.high
    return (np.maximum(lo - x, 0.0) + np.maximum(x - hi, 0.0)) / obs.scale


def misses(ds: xr.Dataset, observations: list[Observation]) -> np.ndarray:
    """(replicates, observations) array of :func:`miss`."""
    return np.stack([miss(o, *components(ds, o)) for o in observations], axis=1)


def last_month(observations: list[Observation]) -> int:
    return max(max(o.end, o.ref_end if o.relation else o.end) for o in observations)


def first_month(observations: list[Observation]) -> int:
    return min(min(o.start, o.ref_start if o.relation else o.start) for o in observations)


def reference_run(overrides: list[str]) -> xr.Dataset:
    """A one-replicate, one-month run of the configuration: its variables and labels."""
    from ..config import compose, validate
    from ..run import run

    settings = validate(compose([*overrides, "ensemble.replicates=1", "output.plots=false"]))
    start = format_month(settings.start)
    settings = validate(compose([*overrides, "ensemble.replicates=1", "output.plots=false", f"time.end={start}"]))
    return run(settings)
