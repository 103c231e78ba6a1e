"""Scenario files: what happens when.

A scenario is a YAML file in ``scenarios/`` (or anywhere, given by path)::

    description: Assad's regime collapses.
    sources: [B4, B6, ctx3]
    include: [baseline]          # other scenarios whose events come first
    events:
      - id: assad_falls
        type: assad_fall         # a named shock: assad_fall, trump_talks, snapback
        date: 2024-12
        strength: 1.0            # 0..1, scales the shock's magnitudes (shocks.* parameters)
      - id: treaty
        type: shift              # generic: shift (add) or set a value at a date
        date: 2024-06
        parameter: policy.russia-north_korea.military
        value: 1.0
      - id: rupture
        type: set
        date: 2026-01
        relation: russia-iran    # or a relation's current strength
        channel: military        # military, economic, diplomatic or all
        value: 0.0
      - id: snapback
        type: snapback
        date_window: [2025-06, 2025-09]   # uncertain timing: any month of the window, equally likely
        probability: 0.8                  # uncertain occurrence: happens in 80% of replicates
        strength: [0.5, 1.0]              # uncertain strength (named shocks): uniform in the range

Every event becomes one or more :class:`Operation` on parameters or relations; named shocks
are expanded with the magnitudes of the ``shocks.*`` parameters, so the scenario file holds the
dates and strengths, and the configuration holds the effect sizes.

An event with ``date_window``, ``probability`` < 1 or a strength range is *uncertain*: each
replicate draws its own month, whether the event happens and its strength (:func:`realise`,
from the replicate's own random stream, see :mod:`sim.streams`). Its operations then hold one
month, value and "happens" flag per replicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import parameters as prm
from .calendar import format_month, parse_month
from .errors import ConfigError, read_text
from .settings import EARLIEST, LATEST, Settings, clean, suggest

NAMED_SHOCKS = ("assad_fall", "trump_talks", "snapback")
GENERIC = ("set", "shift")
EVENT_TYPES = NAMED_SHOCKS + GENERIC
_FILE_KEYS = {"name", "description", "sources", "include", "events"}
_COMMON_KEYS = {"id", "type", "date", "date_window", "probability", "label", "note", "sources"}
_NAMED_KEYS = _COMMON_KEYS | {"strength"}
_GENERIC_KEYS = _COMMON_KEYS | {"parameter", "relation", "channel", "value"}
MAX_BYTES = 1_000_000
# Parameters a scenario may not change during a run: they are read once at the start or they
# are the shocks' own magnitudes (edit those in the configuration instead).
_FIXED_PREFIXES = ("scenario", "seed", "ensemble.", "time.", "output.", "relations.", "shocks.",
                   "war.intensity.initial", "war.territory.initial", "actors.")
_CHANGEABLE_ACTOR_FIELDS = {"insecurity", "sanctions", "cinc", "prestige", "troop_aversion"} | {f"{k}.{g}" for k in ("needs", "offers")
                                                                  for g in prm.GOODS}


@dataclass(frozen=True, eq=False)
class Operation:
    """A change applied at the start of a month: ``op`` (set/shift) on a parameter or relation.

    For an uncertain event ``month`` and ``value`` may be arrays over replicates and ``active``
    says in which replicates the event happens at all.
    """

    month: int | np.ndarray  # 0-based index into the simulated period
    op: str  # "set" | "shift"
    target: str  # "parameter" | "relation"
    path: str  # parameter path, or "<dyad>.<channel>" for a relation
    value: float | np.ndarray
    event: str  # id of the event it comes from
    active: np.ndarray | None = None  # per replicate: does the event happen (None: everywhere)

    @property
    def first_month(self) -> int:
        return int(np.min(self.month))


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    month: int  # absolute month index (the first month of the window for uncertain timing)
    strength: float  # the middle of the range for an uncertain strength
    spec: dict  # the event as written (validated)
    file: str
    window: tuple[int, int] | None = None  # absolute months, inclusive: uncertain timing
    probability: float = 1.0  # chance that the event happens at all
    strength_range: tuple[float, float] | None = None  # uncertain strength (named shocks)

    @property
    def uncertain(self) -> bool:
        return self.window is not None or self.probability < 1.0 or self.strength_range is not None


@dataclass(frozen=True, eq=False)
class EventDraw:
    """One uncertain event as realised in each replicate."""

    month: np.ndarray  # absolute month index, int
    happens: np.ndarray  # bool
    strength: np.ndarray  # float


def realise(ev: Event, uniforms: np.ndarray) -> EventDraw:
    """Realise an event in each replicate from three uniform numbers per replicate, shape (R, 3).

    month = a month of the window, each equally likely; happens = u < probability;
    strength = uniform in the strength range (or the fixed strength).
    """
    u = np.asarray(uniforms, dtype=float)
    first, last = ev.window if ev.window is not None else (ev.month, ev.month)
    month = first + np.minimum(np.floor(u[:, 0] * (last - first + 1)).astype(np.int64), last - first)
    happens = u[:, 1] < ev.probability
    lo, hi = ev.strength_range if ev.strength_range is not None else (ev.strength, ev.strength)
    return EventDraw(month=month, happens=happens, strength=lo + (hi - lo) * u[:, 2])


@dataclass
class Scenario:
    name: str
    description: str
    sources: list[str]
    events: list[Event]
    file: str

    def operations(self, settings: Settings, values=None, draws: dict[str, EventDraw] | None = None) -> list[Operation]:
        """The timed operations of the run.

        ``values(path)`` gives a shock magnitude (``shocks.*``), a number or an array over
        replicates (default: the configured value); ``draws`` holds the realisation of each
        uncertain event (without it an uncertain event is expanded at the start of its window
        with the middle of its strength range, in every replicate). An event dated before the
        first month takes effect in the first month (its state holds when the run starts); an
        event after the last month is not part of the run.
        """
        ops: list[Operation] = []
        for ev in self.in_period(settings):
            ops.extend(_expand(ev, settings, values, (draws or {}).get(ev.id)))
        # file order: the model applies each month's operations in this order; sorting by the
        # drawn month would make the order of same-month operations depend on which replicates
        # share a model (the earliest draw among them), and with it the results
        return ops

    @property
    def uncertain_events(self) -> list[Event]:
        return [ev for ev in self.events if ev.uncertain]

    def in_period(self, settings: Settings) -> list[Event]:
        return [ev for ev in self.events if ev.month <= settings.end]

    def to_yaml(self) -> str:
        """The resolved scenario (includes flattened), for embedding in results."""
        doc = {
            "name": self.name,
            "description": self.description,
            "sources": self.sources,
            "events": [event_doc(ev) for ev in self.events],
        }
        return yaml_text(doc)


def event_doc(ev: Event) -> dict:
    """An event as a scenario file writes it (its validated keys with ``date`` or ``date_window``)."""
    if ev.window is not None:
        return {**ev.spec, "date_window": [format_month(m) for m in ev.window]}
    return {**ev.spec, "date": format_month(ev.month)}


def yaml_text(doc) -> str:
    """``doc`` as YAML text for embedding in results: safe types, keys in order, libyaml's
    emitter when PyYAML has it (compiled, faster than the pure-Python one)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True)


def presets_dir() -> Path:
    return Path(str(resources.files("sim.scenarios")))


def presets() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in presets_dir().glob("*.yaml"))


def load_scenario(spec: str, settings: Settings) -> Scenario:
    """Load a preset name or a path; resolve includes; validate every event. Raises ConfigError."""
    path = _resolve(spec, None)
    return _load(path, settings, stack=())


def _resolve(spec: Any, base: Path | None) -> Path:
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"scenario: {spec!r} is not a scenario name or path; presets: {', '.join(presets())}")
    looks_like_path = spec.endswith((".yaml", ".yml")) or "/" in spec or "\\" in spec
    if not looks_like_path:
        path = presets_dir() / f"{spec}.yaml"
        if not path.is_file():
            raise ConfigError(f"scenario: unknown scenario {spec!r}; presets: {', '.join(presets())} "
                              "(or give a path to a .yaml file)")
        return path
    path = Path(spec).expanduser()
    if not path.is_absolute() and base is not None and (base / path).exists():
        path = base / path
    if not path.exists():
        raise ConfigError(f"scenario: file not found: {spec}")
    if not path.is_file():
        raise ConfigError(f"scenario: {spec} is not a file")
    return path


def scenario_from_doc(doc: Any, settings: Settings, where: str = "scenario.yaml") -> Scenario:
    """Validate a scenario given as a mapping, as if read from a file named ``where`` (the
    dashboard's builder: the same checks and one-line messages as a file). Includes name presets."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a scenario file must be a mapping with keys {', '.join(sorted(_FILE_KEYS))}")
    return _build(doc, where, presets_dir(), settings, stack=(), default_name=Path(where).stem)


def _load(path: Path, settings: Settings, stack: tuple[Path, ...]) -> Scenario:
    where = str(path)
    real = path.resolve()
    if real in stack:
        chain = " -> ".join(p.stem for p in (*stack, real))
        raise ConfigError(f"{where}: include: scenarios include each other in a cycle ({chain})")
    return _build(_read_yaml(path), where, path.parent, settings, (*stack, real), path.stem)


def _build(doc: dict, where: str, base: Path, settings: Settings, stack: tuple[Path, ...],
           default_name: str) -> Scenario:
    unknown = set(doc) - _FILE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}; allowed: {', '.join(sorted(_FILE_KEYS))}")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: description must be text")
    sources = doc.get("sources", []) or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(f"{where}: sources must be a list of fact ids such as [B4, ctx3]")
    include = doc.get("include", []) or []
    if isinstance(include, str):
        include = [include]
    if not isinstance(include, list):
        raise ConfigError(f"{where}: include must be a list of scenario names or paths")
    events_raw = doc.get("events", []) or []
    if not isinstance(events_raw, list):
        raise ConfigError(f"{where}: events must be a list of events (each a mapping with id, type, date)")

    events: list[Event] = []
    seen: dict[str, Event] = {}

    def add(ev: Event) -> None:
        prev = seen.get(ev.id)
        if prev is not None:
            if prev.file == ev.file and prev.spec == ev.spec and prev.month == ev.month:
                return  # the same event reached through two includes
            raise ConfigError(f"{ev.file}: events: duplicate event id {ev.id!r} (also in {prev.file})")
        seen[ev.id] = ev
        events.append(ev)

    for inc in include:
        try:
            inc_path = _resolve(inc, base)
        except ConfigError as exc:
            raise ConfigError(f"{where}: include: {str(exc).removeprefix('scenario: ')}") from None
        sub = _load(inc_path, settings, stack=stack)
        for ev in sub.events:
            add(ev)
    for i, raw in enumerate(events_raw):
        add(_event(raw, i, where, settings))
    name = doc.get("name", default_name)
    if not isinstance(name, str):
        raise ConfigError(f"{where}: name must be text")
    return Scenario(name=name, description=description.strip(), sources=list(sources), events=events,
                    file=where)


def _read_yaml(path: Path) -> dict:
    where = str(path)
    text = read_text(path, "scenario file", "a UTF-8 YAML text file (README.md, section Scenarios)", max_bytes=MAX_BYTES)
    doc = parse_yaml(text, where)
    if doc is None:
        raise ConfigError(f"{where}: the file is empty; a scenario needs at least 'events' or 'include'")
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a scenario file must be a mapping with keys {', '.join(sorted(_FILE_KEYS))}")
    return doc


def _event(raw: Any, i: int, where: str, settings: Settings) -> Event:
    loc = f"{where}: events[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{loc}: an event is a mapping with id, type and date")
    etype = raw.get("type")
    if etype not in EVENT_TYPES:
        raise ConfigError(f"{loc}: unknown event type {etype!r}; allowed: {', '.join(EVENT_TYPES)}")
    allowed = _NAMED_KEYS if etype in NAMED_SHOCKS else _GENERIC_KEYS
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{loc}: unknown key {sorted(map(str, unknown))[0]!r} for type {etype}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    eid = raw.get("id")
    if not isinstance(eid, str) or not eid.strip():
        raise ConfigError(f"{loc}: id must be a non-empty text")
    loc = f"{where}: events[{i}] ({clean(eid)})"
    if ("date" in raw) == ("date_window" in raw):
        raise ConfigError(f"{loc}: give either date (YYYY-MM) or date_window ([YYYY-MM, YYYY-MM])")
    window = None
    if "date" in raw:
        month = _month(raw["date"], f"{loc}: date", settings)
    else:
        dates = raw["date_window"]
        if not isinstance(dates, list) or len(dates) != 2:
            raise ConfigError(f"{loc}: date_window: {dates!r} is not two months [first, last]; e.g. [2024-11, 2025-02]")
        window = (_month(dates[0], f"{loc}: date_window", settings), _month(dates[1], f"{loc}: date_window", settings))
        if window[1] < window[0]:
            raise ConfigError(f"{loc}: date_window: {format_month(window[1])} is before {format_month(window[0])}; "
                              "allowed: [first, last] with first <= last")
        month = window[0]
    probability = _number(raw.get("probability", 1.0), f"{loc}: probability", 0.0, 1.0)
    spec = {k: v for k, v in raw.items() if k not in ("date", "date_window")}
    if "probability" in raw:
        spec["probability"] = probability
    strength, strength_range = 1.0, None
    if etype in NAMED_SHOCKS:
        given = raw.get("strength", 1.0)
        if isinstance(given, list):
            if len(given) != 2:
                raise ConfigError(f"{loc}: strength: {given!r} is neither a number nor a range [low, high] in [0, 1]")
            lo, hi = (_number(x, f"{loc}: strength", 0.0, 1.0) for x in given)
            if hi < lo:
                raise ConfigError(f"{loc}: strength: [{lo:g}, {hi:g}] has low > high; allowed: [low, high] in [0, 1]")
            strength, strength_range = (lo + hi) / 2, (lo, hi)
            spec["strength"] = [lo, hi]
        else:
            strength = _number(given, f"{loc}: strength", 0.0, 1.0)
            spec["strength"] = strength
    else:
        if "value" not in raw:
            raise ConfigError(f"{loc}: value is missing")
        spec["value"] = _number(raw["value"], f"{loc}: value", None, None)
        has_p, has_r = "parameter" in raw, "relation" in raw
        if has_p == has_r:
            raise ConfigError(f"{loc}: give either 'parameter' or 'relation' (with 'channel')")
        if has_p:
            if "channel" in raw:
                raise ConfigError(f"{loc}: 'channel' goes with 'relation', not with 'parameter'")
            _changeable(raw["parameter"], loc, settings)
            p = prm.registry(settings.actors)[_canonical_policy(raw["parameter"], settings)]
            if etype == "set" and not p.low <= spec["value"] <= p.high:
                raise ConfigError(f"{loc}: value {spec['value']:g} for {raw['parameter']} is out of range; "
                                  f"allowed: {p.allowed()} ({p.unit})")
        elif etype == "set" and not -1.0 <= spec["value"] <= 1.0:
            raise ConfigError(f"{loc}: value {spec['value']:g} for a relation is out of range; allowed: [-1, 1]")
        else:
            _relation(raw["relation"], raw.get("channel"), loc, settings)
    return Event(id=eid, type=etype, month=month, strength=strength, spec=spec, file=where, window=window,
                 probability=probability, strength_range=strength_range)


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, with a date that does not exist (``2024-02-30``) a parse error at its
    line rather than a Python exception from the date constructor."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"{node.value!r} is not a date ({exc})",
                                                    node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def parse_yaml(text: str, where: str) -> Any:
    """The document in ``text`` (safe YAML); anything malformed is a one-line ConfigError naming
    ``where`` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise ConfigError(f"{where}: invalid YAML{line}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{where}: invalid YAML: nested too deeply") from None


def _month(value: Any, loc: str, settings: Settings) -> int:
    try:
        month = parse_month(value)
    except ValueError as exc:
        raise ConfigError(f"{loc}: {exc}") from None
    if not EARLIEST <= month <= LATEST:
        raise ConfigError(f"{loc}: {format_month(month)} is implausible; allowed: "
                          f"{format_month(EARLIEST)}..{format_month(LATEST)}")
    return month


def _number(value: Any, loc: str, low: float | None, high: float | None) -> float:
    import math

    rng = f"[{low:g}, {high:g}]" if low is not None else "a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{loc}: {value!r} is not a number; allowed: {rng}")
    if low is not None and not low <= value <= high:
        raise ConfigError(f"{loc}: {value!r} is out of range; allowed: {rng}")
    return float(value)


def _canonical_policy(path: str, settings: Settings) -> str:
    """``policy.iran-russia.military`` -> ``policy.russia-iran.military`` (either order accepted)."""
    parts = path.split(".")
    if len(parts) == 3 and parts[0] == "policy":
        pair = parts[1].split("-")
        if len(pair) == 2 and all(a in settings.actors for a in pair) and pair[0] != pair[1]:
            return f"policy.{settings.dyad_key(*pair)}.{parts[2]}"
    return path


def changeable_parameters(settings: Settings) -> list[str]:
    """Every parameter a ``shift``/``set`` event may change, in registry order."""
    reg = prm.registry(settings.actors)
    return [path for path, p in reg.items() if _can_change(path, p)]


def _can_change(path: str, p: prm.Param) -> bool:
    actor_field = path.split(".", 2)[2] if path.startswith("actors.") else None
    fixed = path.startswith(_FIXED_PREFIXES) and actor_field not in _CHANGEABLE_ACTOR_FIELDS
    return p.kind == "float" and not fixed


def _changeable(path: Any, loc: str, settings: Settings) -> None:
    reg = prm.registry(settings.actors)
    if isinstance(path, str):
        path = _canonical_policy(path, settings)
    if not isinstance(path, str) or path not in reg:
        raise ConfigError(f"{loc}: parameter {path!r} does not exist; {suggest(str(path), reg)}")
    if not _can_change(path, reg[path]):
        raise ConfigError(f"{loc}: parameter {path} cannot change during a run; events may change numeric "
                          "parameters under actors (insecurity, sanctions, cinc, prestige, troop_aversion, needs, offers), policy, dynamics, "
                          "exchange, war and anchors.*.status (relations: use 'relation')")


def _relation(dyad: Any, channel: Any, loc: str, settings: Settings) -> None:
    parts = str(dyad).split("-")
    if len(parts) != 2 or any(a not in settings.actors for a in parts) or parts[0] == parts[1]:
        raise ConfigError(f"{loc}: relation {dyad!r} is not a pair of actors 'a-b'; actors: {', '.join(settings.actors)}")
    if channel not in (*prm.CHANNELS, "all"):
        raise ConfigError(f"{loc}: channel {channel!r}; allowed: {', '.join(prm.CHANNELS)}, all")


def _expand(ev: Event, s: Settings, values=None, draw: EventDraw | None = None) -> list[Operation]:
    """Turn an event into operations. Named shocks read their magnitudes from ``shocks.*``."""
    if draw is not None:
        m, k = np.maximum(draw.month - s.start, 0), draw.strength
        active = None if ev.probability >= 1.0 else draw.happens
    else:
        m, k, active = max(ev.month - s.start, 0), ev.strength, None
    magnitude = values or (lambda path: s[path])

    def op(kind: str, path: str, value, target: str = "parameter") -> Operation:
        value = float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)
        return Operation(month=m, op=kind, target=target, path=path, value=value, event=ev.id, active=active)

    if ev.type == "assad_fall":
        actor = s["shocks.assad_fall.actor"]
        return [op("set", "anchors.syria.status", 1.0 - k),
                op("shift", f"actors.{actor}.insecurity", k * magnitude("shocks.assad_fall.insecurity"))]
    if ev.type == "trump_talks":
        us = s["shocks.trump_talks.mediator"]
        attacker, defender = s["war.attacker"], s["war.defender"]
        with_attacker = s.dyad_key(us, attacker)
        out = [op("shift", f"policy.{with_attacker}.{c}", k * magnitude("shocks.trump_talks.detente")) for c in prm.CHANNELS]
        out.append(op("shift", f"policy.{s.dyad_key(us, defender)}.military", -k * magnitude("shocks.trump_talks.aid_cut")))
        out.append(op("shift", "war.intensity.target", -k * magnitude("shocks.trump_talks.deescalation")))
        return out
    if ev.type == "snapback":
        return [op("shift", f"actors.{s['shocks.snapback.actor']}.sanctions", k * magnitude("shocks.snapback.sanctions"))]
    value = ev.spec["value"]
    if "parameter" in ev.spec:
        return [op(ev.type, _canonical_policy(ev.spec["parameter"], s), value)]
    a, b = str(ev.spec["relation"]).split("-")
    channels = prm.CHANNELS if ev.spec["channel"] == "all" else (ev.spec["channel"],)
    return [op(ev.type, f"{s.dyad_key(a, b)}.{c}", value, target="relation") for c in channels]
