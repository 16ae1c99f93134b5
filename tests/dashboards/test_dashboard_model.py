"""The built JSON: valid against the SDK's models, stable uids, Japanese labels, a unit on every panel."""
from __future__ import annotations

import json
import re
from typing import Any

import dash_site_data as sd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import alerting as am
from grafana_foundation_sdk.models.dashboard import RowPanel

from dashboards import alerts
from dashboards.build import dashboards, validate
from dashboards.common import DATASOURCE, DATASOURCE_UID
from dashboards.influxql import InfluxQL, InfluxQLQuery
from dashboards.macros import render

DASHBOARDS = dashboards()
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
STABLE_UIDS = ["yukimizu-farmer", "yukimizu-road", "yukimizu-fleet",
               "yukimizu-farmer-en", "yukimizu-road-en", "yukimizu-fleet-en"]


def _panels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in doc["panels"]:
        out.extend(p.get("panels") or []) if p["type"] == "row" else out.append(p)
    return out


def _json(model: object) -> Any:
    return json.loads(json.dumps(model, cls=JSONEncoder))


@pytest.mark.parametrize("uid", STABLE_UIDS)
def test_dashboard_round_trips_through_the_sdk_models(uid: str) -> None:
    """Decoding into the SDK's Dashboard model and encoding again gives the same JSON, targets typed."""
    doc = DASHBOARDS[uid]
    model = validate(doc)
    assert _json(model) == doc
    for p in model.panels or []:
        if isinstance(p, RowPanel):
            continue
        assert p.targets and all(isinstance(t, InfluxQLQuery) for t in p.targets), p.title
        # panel options decode into the panel plugin's own typed model (timeseries.Options, ...)
        assert type(p.options).__module__.endswith(f"models.{p.type_val}"), (p.title, type(p.options))


def test_uids_are_stable_and_distinct_per_language() -> None:
    """Same uids every build; the English variant has its own uid; panel ids unique and fixed."""
    assert list(DASHBOARDS) == STABLE_UIDS
    again = dashboards()
    assert json.dumps(again, sort_keys=True) == json.dumps(DASHBOARDS, sort_keys=True)
    for doc in DASHBOARDS.values():
        ids = [p["id"] for p in doc["panels"]]
        assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)


@pytest.mark.parametrize("uid", [u for u in STABLE_UIDS if not u.endswith("-en")])
def test_japanese_dashboards_label_everything_in_japanese(uid: str) -> None:
    """Title, every panel title and description, every variable label: Japanese text present."""
    doc = DASHBOARDS[uid]
    assert JAPANESE.search(doc["title"])
    for p in doc["panels"]:
        assert JAPANESE.search(p["title"]), p["title"]
        if p["type"] != "row":
            assert JAPANESE.search(p.get("description", "")), p["title"]
    for v in doc["templating"]["list"]:
        assert JAPANESE.search(v["label"]), v["name"]
    for p in _panels(doc):
        if p["type"] not in ("table", "geomap"):
            continue
        shown = {o["matcher"]["options"]: prop["value"] for o in p["fieldConfig"]["overrides"]
                 for prop in o["properties"] if prop["id"] == "displayName"}
        for t in p["targets"]:
            group_by = t["query"].rsplit("GROUP BY", 1)[1] if "GROUP BY" in t["query"] else ""
            for tag in re.findall(r'"(\w+)"', group_by):
                assert JAPANESE.search(shown.get(tag, "")), f"{p['title']}: column {tag} has no Japanese name"


@pytest.mark.parametrize("uid", [u for u in STABLE_UIDS if u.endswith("-en")])
def test_english_variant_has_english_titles(uid: str) -> None:
    """The English dashboards carry no Japanese in titles and labels (the tag 雪水 aside)."""
    doc = DASHBOARDS[uid]
    texts = [doc["title"]] + [p["title"] for p in doc["panels"]] + [v["label"] for v in doc["templating"]["list"]]
    assert not [t for t in texts if JAPANESE.search(t)]


@pytest.mark.parametrize("uid", STABLE_UIDS)
def test_every_panel_has_a_unit(uid: str) -> None:
    """No panel leaves its numbers without a unit."""
    for p in _panels(DASHBOARDS[uid]):
        assert p["fieldConfig"]["defaults"].get("unit"), p["title"]


def test_every_target_queries_the_provisioned_influxdb_with_raw_influxql() -> None:
    """Panels point at the data source uid the provisioning file creates."""
    for doc in DASHBOARDS.values():
        for p in _panels(doc):
            for t in p["targets"]:
                assert t["datasource"] == {"type": "influxdb", "uid": DATASOURCE_UID}
                assert t["rawQuery"] is True and t["query"].lstrip().upper().startswith("SELECT")


def test_template_variable_queries_return_the_sites_and_fields(site: Any) -> None:
    """`site` lists every site; `field` lists the chosen site's fields only."""
    for doc in DASHBOARDS.values():
        for v in doc["templating"]["list"]:
            if v["type"] != "query":
                continue
            q = render(v["query"], variables={"site": sd.SITE}, from_ms=0, to_ms=site.now_s * 1000)
            values = {row[1] for s in site.db.query(q) for row in s["values"]}
            if v["name"] == "site":
                assert values == {sd.SITE, sd.OTHER_SITE}
            else:
                assert v["name"] == "field" and values == set(sd.FIELDS)


def test_alert_rules_round_trip_through_the_sdk_rule_model() -> None:
    """Each provisioned rule, with its group's API keys added back, decodes into the SDK's Rule model."""
    for g in alerts.provisioning()["groups"]:
        for rule in g["rules"]:
            full = {**rule, "folderUID": "", "orgID": 0, "ruleGroup": ""}
            model = am.Rule.from_json(full)
            assert _json(model) == full
            assert all(isinstance(q.model, InfluxQLQuery) for q in model.data if q.datasource_uid == DATASOURCE_UID)


@given(query=st.text(min_size=1, max_size=200), ref=st.from_regex(r"[A-Z]{1,3}", fullmatch=True),
       table=st.booleans(), alias=st.none() | st.text(max_size=30))
def test_influxql_target_decodes_back_to_itself(query: str, ref: str, table: bool, alias: str | None) -> None:
    """Any raw InfluxQL target survives to_json -> from_json unchanged."""
    b = InfluxQL(query, ref).datasource(DATASOURCE)
    if table:
        b = b.table()
    if alias is not None:
        b = b.alias(alias)
    data = b.build().to_json()
    assert InfluxQLQuery.from_json(json.loads(json.dumps(data))).to_json() == data


def test_a_target_that_is_not_raw_influxql_is_refused_by_name() -> None:
    """A query-builder target (rawQuery false) would not be what we tested; decoding it fails naming it."""
    with pytest.raises(ValueError, match="'B'"):
        InfluxQLQuery.from_json({"refId": "B", "rawQuery": False, "measurement": "soil"})
