"""The scenario builder: a scenario a student edits in the page, written as a scenario file.

A :class:`Draft` holds the scenario as the mapping a scenario file holds (name, description,
sources, events). Every check is :func:`sim.scenario.scenario_from_doc`, the code that reads
scenario files, so the page refuses exactly what ``geosim scenario=<file>`` refuses, with the
same one-line message (naming the file the page offers for download). What an event may change
comes from the scenario module and the parameter registry, never from a list kept here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from .. import parameters as prm
from .. import scenario as _scenario
from ..calendar import format_month
from ..config import Settings
from ..scenario import (
    NAMED_SHOCKS,
    Scenario,
    changeable_parameters,
    event_doc,
    load_scenario,
    scenario_from_doc,
    yaml_text,
)

EVENT_TYPES = _scenario.EVENT_TYPES  # the form offers what the scenario module knows
ALL_CHANNELS = "all"
_NAME = re.compile(r"[^a-z0-9_]+")

# what each event type does, in words a student reads (the effect sizes are shocks.* parameters)
TYPE_HELP = {
    "assad_fall": "Assad's regime falls: the Syria project is lost and {actor}'s insecurity rises",
    "trump_talks": "US–Russia talks: détente, less military aid to the defender, a calmer front",
    "snapback": "UN sanctions return: {actor}'s sanctions rise",
    "shift": "add a value to a parameter (a lasting change) or to a relation (a jolt that fades)",
    "set": "set a parameter (a lasting change) or a relation (a jolt that fades) to a value",
}


def type_help(etype: str, settings: Settings) -> str:
    text = TYPE_HELP.get(etype, etype)
    actor = settings.values.get(f"shocks.{etype}.actor")
    return text.format(actor=settings.names.get(actor, actor or "the target"))


def safe_name(text: str) -> str:
    """A scenario name usable as a file name: lower-case letters, digits and '_'."""
    return _NAME.sub("_", str(text).strip().lower()).strip("_") or "my_scenario"


@dataclass(frozen=True)
class Draft:
    """A scenario being built: ``events`` are mappings exactly as a scenario file writes them."""

    name: str = "my_scenario"
    description: str = ""
    sources: tuple[str, ...] = ()
    events: tuple[dict, ...] = field(default=())
    base: str = "baseline"  # the preset it started from

    @classmethod
    def from_preset(cls, preset: str, settings: Settings) -> Draft:
        """A copy of a preset with its includes written out, so that every event can be edited."""
        sc = load_scenario(preset, settings)
        return cls(name=f"my_{safe_name(preset)}", description=f"Built in the geosim dashboard from {preset}: "
                   + sc.description, sources=tuple(sc.sources), events=tuple(event_doc(ev) for ev in sc.events),
                   base=preset)

    @property
    def filename(self) -> str:
        return f"{self.name}.yaml"

    def doc(self) -> dict:
        return {"name": self.name, "description": self.description, "sources": list(self.sources),
                "events": [_ordered(e) for e in self.events]}

    def yaml(self) -> str:
        """The scenario file: ``geosim scenario=<this file>`` runs it."""
        return yaml_text(self.doc())

    def scenario(self, settings: Settings) -> Scenario:
        """Validate as a file named :attr:`filename` is validated. Raises ConfigError."""
        return scenario_from_doc(self.doc(), settings, self.filename)

    def renamed(self, name: str) -> Draft:
        return replace(self, name=safe_name(name))

    def with_event(self, event: dict, index: int | None = None) -> Draft:
        """Add ``event`` (index None) or replace the event at ``index``."""
        events = list(self.events)
        if index is None:
            events.append(dict(event))
        else:
            events[index] = dict(event)
        return replace(self, events=tuple(events))

    def without(self, index: int) -> Draft:
        return replace(self, events=tuple(e for i, e in enumerate(self.events) if i != index))

    def new_id(self, etype: str) -> str:
        """An event id not used yet: the type, then _2, _3, ..."""
        used = {e.get("id") for e in self.events}
        for n in range(1, len(used) + 2):
            candidate = etype if n == 1 else f"{etype}_{n}"
            if candidate not in used:
                return candidate
        raise AssertionError


_KEY_ORDER = ("id", "label", "type", "date", "date_window", "probability", "strength", "parameter", "relation",
              "channel", "value")


def _ordered(event: dict) -> dict:
    """The keys in the order a person writes them (id, label, type, date first); others after."""
    return {**{k: event[k] for k in _KEY_ORDER if k in event}, **{k: v for k, v in event.items() if k not in _KEY_ORDER}}


# --- what the form offers: all read from the scenario module and the registry --------------

def months(settings: Settings) -> list[str]:
    """The months of the run's calendar (the month picker)."""
    return [format_month(m) for m in range(settings.start, settings.end + 1)]


def parameters(settings: Settings) -> list[str]:
    """Parameters an event may change (the scenario module decides)."""
    return changeable_parameters(settings)


def relations(settings: Settings) -> dict[str, str]:
    """Relation key by label: ``{"Russia–Iran": "russia-iran", ...}``."""
    return {settings.dyad_label(a, b): settings.dyad_key(a, b) for a, b in settings.dyads}


def channels() -> list[str]:
    return [*prm.CHANNELS, ALL_CHANNELS]


@dataclass(frozen=True)
class ValueSpec:
    """What the value of an event means and which values the scenario file accepts."""

    label: str
    allowed: str
    unit: str
    default: float

    @property
    def caption(self) -> str:
        return f"allowed: {self.allowed}" + (f" ({self.unit})" if self.unit else "")


def value_spec(etype: str, settings: Settings, parameter: str | None = None, relation: bool = False) -> ValueSpec:
    """The value field of an event: strength of a named shock, a parameter's value or shift, or a
    relation's strength or jolt, with the range the scenario checks accept."""
    if etype in NAMED_SHOCKS:
        return ValueSpec("strength", "[0, 1]", "1 = the full shock (shocks.* parameters)", 1.0)
    if relation:
        if etype == "set":
            return ValueSpec("strength", "[-1, 1]", prm.STRENGTH, 0.0)
        return ValueSpec("change of strength", "a finite number; the strength stays within −1…1", "", -0.3)
    p = prm.registry(settings.actors)[parameter]
    if etype == "set":
        return ValueSpec("new value", p.allowed(), p.unit, float(settings[parameter]))
    return ValueSpec("change (added)", f"a finite number; the value stays within {p.allowed()}", p.unit, 0.0)


def make_event(etype: str, month: str, eid: str, *, label: str = "", value: Any = None, parameter: str | None = None,
               relation: str | None = None, channel: str | None = None, probability: Any = 1.0,
               base: dict | None = None) -> dict:
    """An event mapping as a scenario file holds it (``probability`` only when it is not 1). Keys
    the form does not edit (notes, sources) are kept from ``base`` when an event is edited; a
    date window becomes the one month picked."""
    event = {k: v for k, v in (base or {}).items()
             if k not in ("id", "type", "date", "date_window", "label", "strength", "value", "parameter", "relation",
                          "channel", "probability")}
    event = {"id": eid, "type": etype, "date": month, **event}
    if label:
        event["label"] = label
    if probability != 1.0:
        event["probability"] = probability
    if etype in NAMED_SHOCKS:
        event["strength"] = value
    elif relation is not None:
        event.update(relation=relation, channel=channel, value=value)
    else:
        event.update(parameter=parameter, value=value)
    return event


def describe(event: dict, settings: Settings) -> str:
    """One line for the list of events: what it changes and by how much."""
    etype = event.get("type")
    chance = event.get("probability", 1.0)
    chance = f", in {chance:.0%} of the runs" if isinstance(chance, (int, float)) and chance < 1 else ""
    if etype in NAMED_SHOCKS:
        strength = event.get("strength", 1.0)
        return f"{etype}, strength {strength if isinstance(strength, list) else format(strength, 'g')}{chance}"
    verb = "set to" if etype == "set" else "shifted by"
    value = event.get("value")
    value = f"{value:+g}" if etype == "shift" and isinstance(value, (int, float)) else value
    if "relation" in event:
        labels = {v: k for k, v in relations(settings).items()}
        a_b = str(event["relation"])
        parts = a_b.split("-")
        key = settings.dyad_key(*parts) if len(parts) == 2 and all(a in settings.actors for a in parts) else a_b
        return f"relation {labels.get(key, a_b)} ({event.get('channel')}) {verb} {value}{chance}"
    return f"{event.get('parameter')} {verb} {value}{chance}"


def parameter_info(path: str, settings: Settings) -> str:
    """What a parameter is, its unit, its range and its value in this run."""
    p = prm.registry(settings.actors)[path]
    return (f"{p.doc or path} · {p.unit} · allowed {p.allowed()} · value in this run: {settings[path]:g} "
            f"(source: {p.source})")
