"""The provisioned alert rules: their InfluxQL runs on the real InfluxDB and fires for exactly the right things."""
from __future__ import annotations

from typing import Any

import dash_site_data as sd
import pytest
from dash_sse import math, reduce_last

from dashboards import alerts
from dashboards.common import DATASOURCE_UID
from dashboards.macros import render

DOC = alerts.provisioning()
RULES = {r["uid"]: r for g in DOC["groups"] for r in g["rules"]}


def _site(**tags: str) -> frozenset[tuple[str, str]]:
    return frozenset({"site": sd.SITE, **tags}.items())


EXPECTED_FIRING = {
    "yukimizu-water-below-band": {_site(field_id="paddy-01")},
    "yukimizu-water-overflow": {_site(field_id="paddy-02")},
    "yukimizu-cold-booting": {_site(field_id="paddy-01")},
    "yukimizu-silent-soil": {_site(device_id="soil-002")},
    "yukimizu-silent-water": {_site(device_id="water-003")},
    "yukimizu-silent-weather": {_site(device_id="weather-02")},
    "yukimizu-plow-stopped": {_site(vehicle_id="plow-02", route="route-b")},
}
IDS = {
    "yukimizu-water-below-band": "paddy-01 at 3 cm under its 10-20 cm band fires, paddy-02 inside its band does not",
    "yukimizu-water-overflow": "paddy-02 at 8 cm over its 3-6 cm band fires",
    "yukimizu-cold-booting": "a 15 C week fires for the field at booting (band from 10 cm) only",
    "yukimizu-silent-soil": "the soil sensor silent for 2 h fires, reporting ones do not",
    "yukimizu-silent-water": "the water sensor silent for 5 h fires",
    "yukimizu-silent-weather": "the weather station silent for 3 h fires",
    "yukimizu-plow-stopped": "the plow standing 30 min with its blade down fires, moving plows do not",
}


def evaluate(rule: dict[str, Any], db: Any) -> dict[frozenset[tuple[str, str]], float]:
    """Run a provisioned rule's queries and expressions; return the condition's value per label set."""
    results: dict[str, Any] = {}
    for d in rule["data"]:
        model = d["model"]
        if d["datasourceUid"] == DATASOURCE_UID:
            # alert queries carry no Grafana macros: render must leave them as they are
            assert render(model["query"], variables={}, from_ms=0, to_ms=1) == model["query"]
            results[d["refId"]] = db.query(model["query"])
        elif model["type"] == "reduce":
            assert model["reducer"] == "last"
            results[d["refId"]] = reduce_last(results[model["expression"]])
        elif model["type"] == "math":
            refs = {k: v for k, v in results.items() if isinstance(v, dict)}
            results[d["refId"]] = math(model["expression"], refs)
        else:
            raise AssertionError(f"expression type {model['type']} not covered by dash_sse")
    return results[rule["condition"]]


def test_every_rule_has_an_expectation() -> None:
    """A new rule must come with its proof."""
    assert set(RULES) == set(EXPECTED_FIRING)


@pytest.mark.parametrize("uid", list(EXPECTED_FIRING), ids=[IDS[u] for u in EXPECTED_FIRING])
def test_rule_fires_for_exactly_the_expected_series(site: Any, uid: str) -> None:
    """Queries return data for the whole site, and the condition singles out the right field/device/plow."""
    values = evaluate(RULES[uid], site.db)
    assert values, "the rule's queries returned nothing to evaluate"
    firing = {labels for labels, v in values.items() if v != 0}
    assert firing == EXPECTED_FIRING[uid]
    assert any(v == 0 for v in values.values()), "a series that must not fire was evaluated too (the negative case)"


def test_rules_have_no_dollar_where_grafana_expands_environment_variables() -> None:
    """Grafana expands $NAME in provisioned titles and labels; a stray $ would be eaten."""
    for r in RULES.values():
        assert "$" not in r["title"] and all("$" not in v for v in r["labels"].values()), r["uid"]


def test_rules_are_grouped_in_the_folder_with_stable_uids_under_40_chars() -> None:
    """Folder, interval and uids as Grafana's file provisioning wants them."""
    assert DOC["apiVersion"] == 1
    for g in DOC["groups"]:
        assert g["folder"] == alerts.FOLDER and g["orgId"] == 1 and g["interval"] in ("1m", "5m")
        for r in g["rules"]:
            assert len(r["uid"]) <= 40 and r["condition"] == "COND"
            assert {"folderUID", "orgID", "ruleGroup"}.isdisjoint(r), "API-only keys do not belong in the file"
    assert alerts.provisioning() == DOC, "the same rules every build"
