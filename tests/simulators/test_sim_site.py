"""The demo site: committed files are the generator's output, shaped as the gateway and backend read them."""
from __future__ import annotations

import json
import math

import pytest

from simulators.geo import GOSHOGAWARA
from simulators.models.roads import RoadNetwork
from simulators.site import SiteError, load_devices, load_fields, load_vehicles
from simulators.site.generate import HERE, build, render
from yukimizu.contract.topics import ID_RE


@pytest.mark.parametrize("name", sorted(build()))
def test_committed_site_file_equals_the_generator_output(name: str) -> None:
    assert (HERE / name).read_text(encoding="utf-8") == render(build()[name]), \
        f"{name} differs: run `python -m simulators.site.generate`"


def test_registry_has_exactly_the_agreed_shape() -> None:
    doc = json.loads((HERE / "devices.json").read_text())
    assert list(doc) == ["devices"]
    keys = ["device_id", "site", "kind", "field_id", "vehicle_id", "route", "expected_interval_s"]
    fields = load_fields(HERE)
    routes = {p.route for p in RoadNetwork.from_geojson(HERE / "roads.geojson", GOSHOGAWARA).pieces}
    vehicles = {v["id"] for v in load_vehicles(HERE)}
    for row in doc["devices"]:
        assert list(row) == keys
        assert ID_RE.match(row["device_id"]) and row["site"] == "goshogawara"
        if row["kind"] in ("soil", "water"):
            assert row["field_id"] in fields and row["vehicle_id"] is None and row["route"] is None
            assert (fields[row["field_id"]].crop == "paddy") == (row["kind"] == "water")
        if row["kind"] == "plow":
            assert row["vehicle_id"] in vehicles and row["route"] in routes and row["field_id"] is None
    assert {r["kind"] for r in doc["devices"]} == {"soil", "water", "weather", "plow"}
    assert len(load_devices(HERE)) == len(doc["devices"])


def shoelace_m2(ring: list[list[float]]) -> float:
    xy = [GOSHOGAWARA.to_xy(lon, lat) for lon, lat in ring]
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(xy, xy[1:]))) / 2


def test_fields_are_near_goshogawara_with_areas_matching_their_polygons() -> None:
    fields = load_fields(HERE)
    assert {f.crop for f in fields.values()} == {"paddy", "apple", "vegetable", "soy"}
    for f in fields.values():
        ring = f.geometry["coordinates"][0]
        assert ring[0] == ring[-1]
        for lon, lat in ring:
            assert math.dist(GOSHOGAWARA.to_xy(lon, lat), GOSHOGAWARA.to_xy(140.44, 40.81)) < 5000
        assert abs(shoelace_m2(ring) - f.area_m2) / f.area_m2 < 0.01, f.id
        assert ID_RE.match(f.id)


def test_roads_form_routes_that_connect() -> None:
    net = RoadNetwork.from_geojson(HERE / "roads.geojson", GOSHOGAWARA)
    routes = sorted({p.route for p in net.pieces})
    assert routes == ["r-1", "r-2", "r-3", "r-4", "r-5", "r-6"]
    dist, _ = net.shortest_paths(net.nearest_node((0.0, 0.0)))
    assert all(p.start in dist and p.end in dist for p in net.pieces), "every piece reachable from the depot"
    assert any(p.oneway for p in net.pieces) and {p.main for p in net.pieces} == {True, False}


@pytest.mark.parametrize("row,needle", [
    ({"device_id": "Soil 1", "site": "goshogawara", "kind": "soil", "field_id": "f-01", "vehicle_id": None, "route": None,
      "expected_interval_s": 600}, "device_id 'Soil 1'"),
    ({"device_id": "soil-9", "site": "goshogawara", "kind": "soil", "field_id": None, "vehicle_id": None, "route": None,
      "expected_interval_s": 600}, "needs a field_id"),
    ({"device_id": "plow-9", "site": "goshogawara", "kind": "plow", "field_id": None, "vehicle_id": "v-01", "route": None,
      "expected_interval_s": 60}, "needs a vehicle_id and a route"),
    ({"device_id": "x-1", "site": "goshogawara", "kind": "drone", "field_id": None, "vehicle_id": None, "route": None,
      "expected_interval_s": 60}, "kind 'drone'"),
], ids=["an id with a capital and a space is refused", "a soil probe without a field is refused",
        "a plow without a route is refused", "an unknown kind is refused"])
def test_bad_registry_rows_are_named(tmp_path, row: dict, needle: str) -> None:
    (tmp_path / "devices.json").write_text(json.dumps({"devices": [row]}))
    with pytest.raises(SiteError) as e:
        load_devices(tmp_path)
    assert needle in str(e.value) and "entry 0" in str(e.value)


def test_registry_json_is_the_backend_import_document_of_the_same_site() -> None:
    doc = json.loads((HERE / "registry.json").read_text())
    assert (doc["format"], doc["version"]) == ("yukimizu-registry", 1)
    assert set(doc) == {"format", "version", "sites", "routes", "vehicles", "fields", "roads", "devices"}
    assert doc["devices"] == json.loads((HERE / "devices.json").read_text())["devices"]
    assert doc["vehicles"] == json.loads((HERE / "vehicles.json").read_text())["vehicles"]
    assert [f["id"] for f in doc["fields"]["features"]] == list(load_fields(HERE))
    assert {f["properties"]["route"] for f in doc["roads"]["features"]} == {r["id"] for r in doc["routes"]}
    # The backend's road and field models forbid unknown properties: only these may appear.
    assert all(set(f["properties"]) <= {"site", "name", "route", "priority", "oneway", "id"} for f in doc["roads"]["features"])
    assert all(isinstance(f["properties"]["priority"], int) for f in doc["roads"]["features"])
