"""Composing the Hydra configuration and validating it into :class:`Settings`.

The command line and the Python API compose the same configuration: ``conf/config.yaml`` on
top of the node ``base`` that :func:`register` builds from :mod:`sim.parameters`. Validation
checks every value against the registry (type, range, unknown keys, actor references, dates)
and raises :class:`~sim.errors.ConfigError` with one line naming the key and what is allowed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import parameters as prm
from .calendar import format_month, parse_month
from .errors import ConfigError
from .scenario import load_scenario
from .settings import EARLIEST, LATEST, Settings, clean, one_line, suggest

if TYPE_CHECKING:
    from omegaconf import DictConfig

__all__ = ["CONFIG_MODULE", "Settings", "compose", "register", "validate"]

CONFIG_MODULE = "sim.conf"
_ROOT_KEYS = {"scenario", "seed", "ensemble", "time", "output", "actors", "relations", "policy",
              "dynamics", "exchange", "war", "anchors", "shocks"}


def register() -> None:
    """Store the registry's defaults as the config node ``base`` (idempotent)."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="base", node=prm.nested_defaults())


def compose(overrides: list[str] | None = None) -> DictConfig:
    """Compose the configuration exactly as ``geosim`` does, with Hydra override syntax."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    register()
    overrides = list(overrides or [])
    if GlobalHydra.instance().is_initialized():  # e.g. called from inside a Hydra app
        GlobalHydra.instance().clear()
    try:
        with initialize_config_module(version_base="1.3", config_module=CONFIG_MODULE):
            return hydra_compose(config_name="config", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        import re

        missing = re.search(r"Could not override '([^']+)'", str(exc))
        if missing and "not in struct" in str(exc.__cause__ or exc):
            key = missing.group(1)
            raise ConfigError(f"config override: unknown key '{key}'; {suggest(key, prm.registry())} "
                              "(to add an actor or a relation use +key=value)") from None
        hint = " (to sweep over values run geosim -m key=a,b)" if "Ambiguous value" in str(exc) else ""
        raise ConfigError(f"config override: {one_line(exc)}{hint}") from None


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(node, dict):
        if not node and prefix:
            out[prefix] = node
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(_flatten(value, path))
            else:
                out[path] = value
        return out
    out[prefix] = node
    return out


def _check_value(path: str, value: Any, p: prm.Param, where: str) -> Any:
    def bad(what: str) -> ConfigError:
        return ConfigError(f"{where}: {path} = {value!r} {what}; allowed: {p.allowed()} ({p.unit})")

    if p.kind in ("float", "int"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"is not a {'whole ' if p.kind == 'int' else ''}number")
        if p.kind == "int" and isinstance(value, float):
            if not value.is_integer():
                raise bad("is not a whole number")
            value = int(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise bad("is not a finite number")
        if (p.low is not None and value < p.low) or (p.high is not None and value > p.high):
            raise bad("is out of range")
        return float(value) if p.kind == "float" else int(value)
    if p.kind == "bool":
        if not isinstance(value, bool):
            raise bad("is not true/false")
        return value
    if p.kind == "month":
        try:
            return format_month(parse_month(value))
        except ValueError as exc:
            raise bad(f"is not a month ({exc})") from None
    if p.kind in ("str", "actor"):
        if not isinstance(value, str) or not value.strip():
            raise bad("is not a non-empty text")
        if p.choices is not None and value not in p.choices:
            raise bad("is not allowed")
        return value
    if p.kind == "path":
        if value is None:
            return ""
        if not isinstance(value, str):
            raise bad("is not a file path")
        return value.strip()
    if p.kind == "names":
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
            raise bad("is not a list of names")
        if p.choices is not None and not set(value) <= set(p.choices):
            raise bad("contains a name that is not allowed")
        return list(dict.fromkeys(value))
    if p.kind in ("actors", "months"):
        if not isinstance(value, (list, tuple)) or not value:
            raise bad("is not a non-empty list")
        return list(value)
    raise AssertionError(p.kind)


def validate(cfg: DictConfig | dict, where: str = "config") -> Settings:
    """Check a composed configuration and load its scenario. Raises ConfigError."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(cfg, (DictConfig, ListConfig)):
        try:
            raw = OmegaConf.to_container(cfg, resolve=True)
        except Exception as exc:  # interpolation errors and the like
            raise ConfigError(f"{where}: cannot resolve the configuration: {one_line(exc)}") from None
    else:
        raw = cfg
    raw = {k: v for k, v in raw.items() if k != "hydra"}
    for key in raw:
        if key not in _ROOT_KEYS:
            raise ConfigError(f"{where}: unknown key '{clean(key)}'; allowed: {', '.join(sorted(_ROOT_KEYS))}")
    for section in ("ensemble", "time", "output", "dynamics", "exchange", "war", "anchors", "shocks"):
        if section in raw and not isinstance(raw[section], dict):
            raise ConfigError(f"{where}: {section} = {clean(repr(raw[section]))} must be a mapping of parameters "
                              f"(geosim-params lists them)")

    actors_node = raw.get("actors") or {}
    if not isinstance(actors_node, dict) or len(actors_node) < 2:
        raise ConfigError(f"{where}: actors must map at least two actor keys to their parameters")
    actors = [str(a) for a in actors_node]
    for a in actors:
        if not a.replace("_", "").isalnum() or not a[0].isalpha() or a != a.lower():
            raise ConfigError(f"{where}: actors.{clean(a)}: an actor key is lower-case letters, digits and '_'")
        if not isinstance(actors_node[a], dict):
            raise ConfigError(f"{where}: actors.{clean(a)} must be a mapping of actor parameters")

    reg = prm.registry(actors)
    given = _flatten({k: v for k, v in raw.items() if k not in ("relations", "policy")})
    given.update(_relations_flat(raw, "relations", actors, where))
    given.update(_relations_flat(raw, "policy", actors, where))

    values: dict[str, Any] = {}
    for path, value in given.items():
        p = reg.get(path)
        if p is None:
            raise ConfigError(f"{where}: unknown key '{clean(path)}'; {suggest(path, reg)}")
        values[path] = _check_value(path, value, p, where)
    for path, p in reg.items():
        if path not in values:
            values[path] = list(p.default) if isinstance(p.default, list) else p.default

    names = {}
    for a in actors:
        name = values[f"actors.{a}.name"] or a.replace("_", " ").title()
        values[f"actors.{a}.name"] = name
        names[a] = name
    if len(set(names.values())) != len(names):
        raise ConfigError(f"{where}: actors: two actors share a display name ({sorted(names.values())})")

    for path, p in reg.items():
        if p.kind == "actor" and values[path] not in actors:
            raise ConfigError(f"{where}: {path} = {values[path]!r} is not an actor; allowed: {', '.join(actors)}")
        if p.kind == "actors":
            for a in values[path]:
                if a not in actors:
                    raise ConfigError(f"{where}: {path} contains {a!r}, not an actor; allowed: {', '.join(actors)}")
            if len(set(values[path])) < 2:
                raise ConfigError(f"{where}: {path} needs at least two different actors")
    if values["war.attacker"] == values["war.defender"]:
        raise ConfigError(f"{where}: war.attacker and war.defender are both {values['war.attacker']!r}; they must differ")
    if values["shocks.trump_talks.mediator"] in (values["war.attacker"], values["war.defender"]):
        raise ConfigError(f"{where}: shocks.trump_talks.mediator must be neither the attacker nor the defender")
    if sum(values[f"dynamics.composite.{c}"] for c in prm.CHANNELS) <= 0:
        raise ConfigError(f"{where}: dynamics.composite.*: at least one channel weight must be > 0")

    start, end = parse_month(values["time.start"]), parse_month(values["time.end"])
    for key, month in (("time.start", start), ("time.end", end)):
        if not EARLIEST <= month <= LATEST:
            raise ConfigError(f"{where}: {key} = {values[key]} is outside the calendar the engine handles; "
                              f"allowed: {format_month(EARLIEST)}..{format_month(LATEST)}")
    if end < start:
        raise ConfigError(f"{where}: time.end = {values['time.end']} is before time.start = {values['time.start']}")
    if end - start > 1200:
        raise ConfigError(f"{where}: time.end: at most 100 years after time.start are simulated")
    for m in values["output.network_dates"]:
        if m in ("start", "end"):
            continue
        try:
            parse_month(m)
        except ValueError:
            raise ConfigError(f"{where}: output.network_dates: {m!r} is not a month YYYY-MM, 'start' or 'end'") from None
    dyads = [(a, b) for i, a in enumerate(actors) for b in actors[i + 1:]]
    focus = values["output.focus_dyad"]
    if focus not in {f"{a}-{b}" for a, b in dyads}:
        raise ConfigError(f"{where}: output.focus_dyad = {focus!r} is not a dyad; allowed e.g. {dyads[0][0]}-{dyads[0][1]}")

    if values["ensemble.posterior"]:  # a posterior file must name parameters of this configuration
        from .posterior import check_parameters, read

        check_parameters(read(values["ensemble.posterior"]), reg, f"{where}: ensemble.posterior = "
                         f"{values['ensemble.posterior']}")
    settings = Settings(values=values, actors=actors, names=names, dyads=dyads, start=start, end=end, config=raw)
    settings.scenario = load_scenario(values["scenario"], settings)
    return settings


def _relations_flat(raw: dict, root: str, actors: list[str], where: str) -> dict[str, Any]:
    """Flatten relations/policy, accepting either order of a pair (``iran-russia``).

    The composed config always holds the canonical keys (``russia-iran``); a key in the other
    order can only come from the user, so it wins.
    """
    node = raw.get(root) or {}
    if not isinstance(node, dict):
        raise ConfigError(f"{where}: {root} must map dyads such as russia-iran to channel values")
    out: dict[str, Any] = {}
    for dyad, channels in node.items():
        parts = str(dyad).split("-")
        if len(parts) != 2 or parts[0] not in actors or parts[1] not in actors or parts[0] == parts[1]:
            raise ConfigError(f"{where}: {root}.{clean(dyad)}: not a pair of actors 'a-b'; actors: {', '.join(actors)}")
        key = prm.dyad_key(parts[0], parts[1], actors)
        if not isinstance(channels, dict):
            raise ConfigError(f"{where}: {root}.{clean(dyad)} must map channels ({', '.join(prm.CHANNELS)}) to numbers")
        for channel, value in channels.items():
            path = f"{root}.{key}.{channel}"
            if path not in out or dyad != key:
                out[path] = value
    return out


