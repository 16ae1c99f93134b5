"""The registry over REST: create, read, update, delete; errors name the field; the gateway's device list."""
from __future__ import annotations

import pytest
from backend_helpers import SITE, seed_site, square
from fastapi.testclient import TestClient


def test_crud_round_trip_and_farmer_sets_growth_stage(client: TestClient) -> None:
    seed_site(client)
    assert [f["id"] for f in client.get("/api/v1/fields").json()] == ["apple-1", "paddy-1"]
    paddy = client.get("/api/v1/fields/paddy-1").json()
    # Area computed from the outline: 0.001 deg square at 40.8 N is about 84 m x 111 m.
    assert 9000 < paddy["area_m2"] < 9700
    r = client.patch("/api/v1/fields/paddy-1", json={"growth_stage": "meiosis", "cold_sensitive_variety": True})
    assert r.status_code == 200, r.text
    assert (r.json()["growth_stage"], r.json()["cold_sensitive_variety"], r.json()["crop"]) == ("meiosis", True, "paddy")
    assert client.get("/api/v1/fields/paddy-1").json()["growth_stage"] == "meiosis"
    assert [f["id"] for f in client.get("/api/v1/fields", params={"crop": "paddy"}).json()] == ["paddy-1"]
    assert client.delete("/api/v1/devices/w-01").status_code == 204
    assert client.delete("/api/v1/fields/paddy-1").status_code == 204
    assert client.get("/api/v1/fields/paddy-1").status_code == 404


def test_gateway_device_list_has_exactly_the_agreed_shape(client: TestClient) -> None:
    seed_site(client)
    client.post("/api/v1/vehicles", json={"id": "plow-7", "site": SITE, "machine_class": "4t", "contractor": "津軽建設"})
    client.post("/api/v1/routes", json={"id": "r-1", "site": SITE, "name": "駅前線"})
    r = client.post("/api/v1/devices", json={"device_id": "gps-7", "kind": "plow", "site": SITE, "vehicle_id": "plow-7",
                                             "route": "r-1", "expected_interval_s": 1})
    assert r.status_code == 201, r.text
    doc = client.get("/api/v1/registry/devices").json()
    assert set(doc) == {"devices"}
    by_id = {d["device_id"]: d for d in doc["devices"]}
    assert by_id["gps-7"] == {"device_id": "gps-7", "site": SITE, "kind": "plow", "field_id": None,
                              "vehicle_id": "plow-7", "route": "r-1", "expected_interval_s": 1}
    assert by_id["w-01"] == {"device_id": "w-01", "site": SITE, "kind": "water", "field_id": "paddy-1",
                             "vehicle_id": None, "route": None, "expected_interval_s": 600}


@pytest.mark.parametrize(
    "path, body, field, words",
    [
        ("/api/v1/fields", {"id": "f9", "site": SITE, "crop": "rice"}, "crop", "'paddy'"),
        ("/api/v1/fields", {"id": "f9", "site": SITE, "crop": "paddy", "soil_texture": "mud"}, "soil_texture", "'loam'"),
        ("/api/v1/fields", {"id": "F 9", "site": SITE, "crop": "paddy"}, "id", "pattern"),
        ("/api/v1/fields", {"id": "f9", "site": SITE, "crop": "paddy", "area_m2": -5}, "area_m2", "greater than 0"),
        ("/api/v1/fields", {"id": "f9", "site": SITE, "crop": "paddy", "geometry": {"type": "Point",
                                                                                    "coordinates": [140, 40]}},
         "geometry", "Point"),
        ("/api/v1/fields", {"id": "f9", "site": "nowhere", "crop": "paddy"}, "site", "'nowhere' does not exist"),
        ("/api/v1/fields", {"id": "f9", "site": SITE, "crop": "paddy", "colour": "green"}, "colour", "Extra inputs"),
        ("/api/v1/devices", {"device_id": "d9", "kind": "radar", "site": SITE, "expected_interval_s": 60}, "kind", "'soil'"),
        ("/api/v1/devices", {"device_id": "d9", "kind": "soil", "site": SITE, "expected_interval_s": 0},
         "expected_interval_s", "greater than 0"),
        ("/api/v1/devices", {"device_id": "d9", "kind": "soil", "site": SITE, "field_id": "ghost",
                             "expected_interval_s": 60}, "field_id", "'ghost' does not exist"),
        ("/api/v1/roads", {"id": "rd9", "site": SITE, "geometry": {"type": "LineString", "coordinates": [[140.4, 40.8]]}},
         "geometry", "at least 2 positions"),
    ],
    ids=["unknown crop", "unknown soil texture", "id with a space and capitals", "negative area",
         "a point is not a field outline", "site that does not exist", "misspelt key", "unknown device kind",
         "zero reporting interval", "device on a field that does not exist", "road with one position"],
)
def test_invalid_values_are_refused_naming_the_field(client: TestClient, path: str, body: dict, field: str,
                                                     words: str) -> None:
    seed_site(client)
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert any(e["loc"][-1] == field and words in e["msg"] for e in errors), errors
    assert client.get(path + "/" + str(body.get("id") or body.get("device_id"))).status_code == 404


def test_conflicts_and_references(client: TestClient) -> None:
    seed_site(client)
    r = client.post("/api/v1/fields", json={"id": "paddy-1", "site": SITE, "crop": "paddy"})
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = client.delete("/api/v1/fields/paddy-1")
    assert r.status_code == 409 and "w-01" in r.json()["detail"]
    r = client.patch("/api/v1/fields/paddy-1", json={"crop": None})
    assert r.status_code == 422 and "crop may not be null" in r.text
    r = client.patch("/api/v1/fields/paddy-1", json={"level_min_cm": 8, "level_max_cm": 4})
    assert r.status_code == 422 and "level_min_cm" in r.text
    # A sensor of one site may not be attached to another site's field (its readings would be tagged wrongly).
    client.post("/api/v1/sites", json={"id": "kanagi"})
    r = client.post("/api/v1/devices", json={"device_id": "w-02", "kind": "water", "site": "kanagi",
                                             "field_id": "paddy-1", "expected_interval_s": 600})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "field_id"]
    # Changing one column may not break a rule across columns already stored.
    client.patch("/api/v1/fields/paddy-1", json={"level_min_cm": 3, "level_max_cm": 6})
    r = client.patch("/api/v1/fields/paddy-1", json={"level_max_cm": 2})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "level_min_cm"]
    client.post("/api/v1/vehicles", json={"id": "plow-1", "site": SITE})
    r = client.patch("/api/v1/devices/w-01", json={"vehicle_id": "plow-1"})
    assert r.status_code == 422 and "a water sensor belongs to a field" in r.text
    r = client.patch("/api/v1/fields/nothing", json={"name": "x"})
    assert r.status_code == 404


def test_openapi_documents_every_resource(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/v1/sites", "/api/v1/fields/{item_id}", "/api/v1/roads", "/api/v1/routes", "/api/v1/vehicles",
              "/api/v1/devices", "/api/v1/devices/health", "/api/v1/registry/devices", "/api/v1/registry/import",
              "/api/v1/history/{measurement}", "/api/v1/alerts", "/healthz"):
        assert p in paths, p
    assert client.get("/docs").status_code == 200


def test_growth_stage_patch_keeps_other_values(client: TestClient) -> None:
    seed_site(client)
    before = client.get("/api/v1/fields/apple-1").json()
    client.patch("/api/v1/fields/apple-1", json={"bloom_date": "2026-05-08", "geometry": square(140.46, 40.81, 0.002)})
    after = client.get("/api/v1/fields/apple-1").json()
    assert after["bloom_date"] == "2026-05-08"
    assert after["root_depth_m"] == before["root_depth_m"] and after["soil_texture"] == "loam"
    assert after["area_m2"] == pytest.approx(4 * before["area_m2"], rel=0.01)  # recomputed for the new outline
