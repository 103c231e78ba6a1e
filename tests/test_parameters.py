"""The registry: every parameter has a unit, a range and a provenance; docs stay in step."""

import re

import pytest

from sim import parameters as prm
from sim.cli import params_table

from .conftest import ROOT, SHARED

FACT = re.compile(r"\b(A\d{1,2}|B\d|ctx\d{1,2})\b")


def domain_ids() -> set[str]:
    text = (SHARED / "domain.md").read_text(encoding="utf-8")
    return set(re.findall(r"^- (A\d+|B\d+|ctx\d+) ", text, flags=re.M))


@pytest.mark.parametrize("path,p", list(prm.iter_params()))
def test_every_parameter_is_documented(path, p):
    assert p.unit, f"{path} has no unit"
    assert p.doc, f"{path} has no description"
    assert p.source, f"{path} has no provenance"
    assert FACT.search(p.source) or p.source.startswith("assumption") or "domain.md" in p.source, \
        f"{path}: provenance {p.source!r} cites no fact id and is not marked as an assumption"
    if p.kind in ("float", "int"):
        assert p.low is not None and p.high is not None and p.low < p.high
        assert p.low <= p.default <= p.high, f"{path}: default {p.default} outside [{p.low}, {p.high}]"


def test_cited_fact_ids_exist_in_domain_brief():
    known = domain_ids()
    assert {"A4", "B7", "ctx8"} <= known  # the brief parsed
    cited = {fid for _, p in prm.iter_params() for fid in FACT.findall(p.source)}
    assert cited and cited <= known, f"unknown fact ids cited: {sorted(cited - known)}"


def test_capabilities_match_ctx8():
    # ctx8: CINC shares, Correlates of War NMC v7.0, 2022
    expected = {"united_states": 0.1236, "russia": 0.0382, "iran": 0.0164, "north_korea": 0.0141, "ukraine": 0.0086}
    for actor, cinc in expected.items():
        assert prm.actor_param(actor, "cinc").default == cinc


def test_docs_parameters_md_is_generated_from_the_registry():
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert params_table(markdown=True) in doc, "docs/parameters.md is stale: run `make docs`"


def test_one_source_of_truth_for_actor_names():
    names = [prm.actor_param(a, "name").default for a in prm.ACTORS]
    assert names == ["Russia", "Iran", "United States", "Ukraine", "North Korea"]
