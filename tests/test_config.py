"""Configuration: composition, validation, and one clear line per error."""

import pytest

from sim import ConfigError
from sim.config import compose, validate

from .conftest import make_settings


def error(*overrides: str) -> str:
    with pytest.raises(ConfigError) as info:
        make_settings(*overrides)
    message = str(info.value)
    assert "\n" not in message, "an error message is one line"
    return message


def test_defaults_compose_and_validate():
    s = make_settings()
    assert s.actors == ["russia", "iran", "united_states", "ukraine", "north_korea"]
    assert s["ensemble.replicates"] == 200 and s.months == 78  # 2022-07 .. 2028-12
    assert len(s.dyads) == 10


def test_override_reaches_the_value():
    s = make_settings("actors.iran.sanctions=0.9", "seed=7")
    assert s["actors.iran.sanctions"] == 0.9 and s["seed"] == 7


def test_out_of_range_names_key_value_and_range():
    msg = error("actors.iran.sanctions=1.5")
    assert "actors.iran.sanctions" in msg and "1.5" in msg and "[0, 1]" in msg


def test_wrong_type():
    msg = error("ensemble.replicates=many")
    assert "ensemble.replicates" in msg and "whole number" in msg


def test_fractional_count():
    assert "whole number" in error("ensemble.replicates=2.5")


def test_negative_count():
    assert "out of range" in error("ensemble.replicates=-3")


def test_nan_and_inf_rejected():
    assert "finite" in error("dynamics.weight.glue=nan")
    assert "finite" in error("dynamics.weight.glue=inf")


def test_unknown_key_from_override():
    msg = error("actors.iran.bogus=1")
    assert "bogus" in msg


def test_unknown_key_in_a_config_dict_suggests_alternatives():
    cfg = compose()
    raw = dict(validate(cfg).config)
    raw["dynamics"] = {**raw["dynamics"], "weight": {**raw["dynamics"]["weight"], "glu": 1.0}}
    with pytest.raises(ConfigError, match="did you mean dynamics.weight.glue"):
        validate(raw)


def test_unknown_actor_reference():
    msg = error("war.attacker=china")
    assert "war.attacker" in msg and "china" in msg and "russia" in msg


def test_time_end_before_start():
    assert "before time.start" in error("time.end=2021-01")


def test_malformed_month():
    assert "time.end" in error("time.end=2028-13")


def test_focus_dyad_must_be_a_dyad():
    assert "output.focus_dyad" in error("output.focus_dyad=russia-mars")


def test_relations_accept_either_order_of_a_pair():
    s = make_settings("+relations.iran-russia.military=0.1")
    assert s["relations.russia-iran.military"] == 0.1


def test_unknown_actor_in_relations():
    assert "not a pair of actors" in error("+relations.russia-mars.military=0.1")


def test_a_sixth_actor_is_a_config_change():
    s = make_settings("+actors.israel.name=Israel", "+actors.israel.cinc=0.0063",
                      "+actors.israel.offers.arms=0.5", "+relations.iran-israel.military=-0.8",
                      "ensemble.replicates=3")
    assert s.actors[-1] == "israel" and s.names["israel"] == "Israel"
    assert len(s.dyads) == 15
    assert s["relations.iran-israel.military"] == -0.8
    assert s["actors.israel.needs.trade"] == 0.0  # schema default for unset fields
    import sim

    ds = sim.run(s)
    assert "Israel" in ds["actor"].values and "Iran–Israel" in ds["dyad"].values
    assert float(ds["strength"].sel(dyad="Iran–Israel", channel="military").isel(time=0).mean()) < -0.5
