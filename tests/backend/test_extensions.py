"""Plugins add routers and alert rules; geometry checks never fail with anything but a clear GeometryError;
road files create their routes."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from backend_helpers import SITE, seed_site
from fastapi.testclient import TestClient
from hypothesis import given, settings as hsettings, strategies as st

from backend.app import create_app
from backend.registry.geo import GeometryError, check_line, check_polygon
from backend.settings import BackendSettings


def test_a_plugin_adds_a_router_and_a_rule(settings: BackendSettings, admin_token: str) -> None:
    s = replace(settings, api=replace(settings.api, plugins=["backend_plugin_example"]))
    with TestClient(create_app(s), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        seed_site(c)
        assert c.get("/api/v1/example-plugin/paddies").json() == {"paddies": ["paddy-1"]}
        assert "example_stage_not_set" in [r["name"] for r in c.get("/api/v1/alerts/rules").json()["rules"]]
        c.patch("/api/v1/fields/paddy-1", json={"growth_stage": None})
        assert ["example_stage_not_set", "paddy-1"] in c.post("/api/v1/alerts/evaluate").json()["raised"]
        c.patch("/api/v1/fields/paddy-1", json={"growth_stage": "tillering"})
        assert ["example_stage_not_set", "paddy-1"] in c.post("/api/v1/alerts/evaluate").json()["cleared"]


def test_road_file_creates_the_routes_it_names(client: TestClient) -> None:
    seed_site(client)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"rd-{i}", "properties": {"route": route, "name": f"市道{i}号", "oneway": i == 2},
         "geometry": {"type": "LineString", "coordinates": [[140.44, 40.80 + i * 0.001], [140.45, 40.80 + i * 0.001]]}}
        for i, route in enumerate(["r-east", "r-east", "r-west"])]}
    r = client.post("/api/v1/registry/import/roads", params={"site": SITE}, json=fc)
    assert r.status_code == 200, r.text
    assert r.json()["imported"]["roads"] == 3
    assert [(x["id"], x["site"]) for x in client.get("/api/v1/routes").json()] == [("r-east", SITE), ("r-west", SITE)]
    assert [x["id"] for x in client.get("/api/v1/roads", params={"site": SITE}).json() if x["oneway"]] == ["rd-2"]
    r = client.post("/api/v1/devices", json={"device_id": "health", "kind": "soil", "site": SITE, "expected_interval_s": 60})
    assert r.status_code == 422 and "reserved" in r.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(["type", "coordinates", "x"]), inner,
                                                                 max_size=3),
    max_leaves=30)
geometry_like = st.fixed_dictionaries({"type": st.sampled_from(["Polygon", "MultiPolygon", "LineString",
                                                                "MultiLineString", "Point"]),
                                       "coordinates": json_values})


@hsettings(max_examples=150, deadline=None)
@given(st.one_of(json_values, geometry_like))
def test_geometry_checks_accept_or_explain_never_crash(value: Any) -> None:
    for check in (check_polygon, check_line):
        try:
            assert check(value) is value
        except GeometryError as e:
            assert str(e)
