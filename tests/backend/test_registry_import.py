"""Registry import/export as files: bad GeoJSON and unknown crops are refused precisely, all or nothing."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from backend_helpers import SITE, seed_site, square
from fastapi.testclient import TestClient

from yukimizu.cli import main as yukimizu_main


def feature(fid: str, geometry: Any, **props: Any) -> dict[str, Any]:
    """A field feature with crop paddy unless given."""
    return {"type": "Feature", "id": fid, "properties": {"crop": "paddy", **props}, "geometry": geometry}


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


GOOD = square(140.44, 40.80)
OPEN_RING = {"type": "Polygon", "coordinates": [[[140.44, 40.80], [140.441, 40.80], [140.441, 40.801], [140.44, 40.801]]]}
SWAPPED = {"type": "Polygon", "coordinates": [[[40.80, 140.44], [40.80, 140.441], [40.801, 140.441], [40.80, 140.44]]]}


@pytest.mark.parametrize(
    "bad, index, fid, field, reason",
    [
        (feature("f-2", GOOD, crop="rice"), 1, "f-2", "crop", "got 'rice'"),
        (feature("f-2", OPEN_RING), 1, "f-2", "geometry", "ring 0: ring is not closed"),
        (feature("f-2", SWAPPED), 1, "f-2", "geometry", "latitude 140.44 is outside -90..90 (are [lat, lon] swapped?)"),
        (feature("f-2", {"type": "LineString", "coordinates": [[140.4, 40.8], [140.5, 40.8]]}), 1, "f-2", "geometry",
         "geometry type 'LineString' is not Polygon or MultiPolygon"),
        (feature("f-2", {"type": "Polygon", "coordinates": [[[140.44, 40.8], [140.44, "x"], [140.45, 40.8], [140.44, 40.8]]]}),
         1, "f-2", "geometry", "ring 0 position 1: latitude 'x' is not a finite number"),
        (feature("f-2", None), 1, "f-2", "geometry", "missing"),
        ({"type": "Feature", "properties": {"crop": "paddy"}, "geometry": GOOD}, 1, None, "id", "Input should be a valid string"),
        (feature("f-1", GOOD), 1, "f-1", "id", "same id as fields 0"),
        ({"type": "Point", "coordinates": [140, 40]}, 1, None, None, "expected 'Feature'"),
    ],
    ids=["unknown crop", "ring not closed", "latitude and longitude swapped", "a line is not a field",
         "a coordinate that is text", "feature without geometry", "feature without id", "duplicate id",
         "a geometry where a feature should be"],
)
def test_bad_field_features_are_refused_with_index_id_and_reason(client: TestClient, bad: dict, index: int,
                                                                 fid: str | None, field: str | None, reason: str) -> None:
    seed_site(client)
    fc = collection(feature("f-1", GOOD, name="good one"), bad)
    r = client.post("/api/v1/registry/import/fields", params={"site": SITE}, json=fc)
    assert r.status_code == 422, r.text
    problems = r.json()["detail"]
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p["collection"], p["index"], p["id"], p["field"]) == ("fields", index, fid, field)
    assert reason in p["reason"], p
    assert p["msg"].startswith(f"fields feature {index}")
    # All or nothing: the good feature next to the bad one was not imported either.
    assert client.get("/api/v1/fields/f-1").status_code == 404


def test_every_problem_is_reported_at_once_and_nothing_changes(client: TestClient) -> None:
    seed_site(client)
    before = client.get("/api/v1/registry/export").json()
    doc = copy.deepcopy(before)
    doc["fields"]["features"][0]["properties"]["crop"] = "rice"
    doc["fields"]["features"][1]["properties"]["name"] = "renamed"  # valid change that must not land
    doc["roads"] = collection({"type": "Feature", "id": "rd-1", "properties": {"site": SITE, "route": "r-x"},
                               "geometry": {"type": "MultiLineString", "coordinates": [[[140.4, 40.8]]]}})
    doc["devices"].append({"device_id": "w-09", "kind": "water", "site": SITE, "field_id": "ghost",
                           "expected_interval_s": 600})
    r = client.post("/api/v1/registry/import", json=doc)
    assert r.status_code == 422
    got = {(p["collection"], p["id"], p["field"]) for p in r.json()["detail"]}
    assert got == {("fields", doc["fields"]["features"][0]["id"], "crop"), ("roads", "rd-1", "geometry")}
    # Reference problems are found once the shape is right, still before anything is written.
    doc["fields"]["features"][0]["properties"]["crop"] = "paddy"
    doc["roads"] = collection()
    r = client.post("/api/v1/registry/import", json=doc)
    assert r.status_code == 422
    assert [(p["collection"], p["id"], p["field"], p["reason"]) for p in r.json()["detail"]] == [
        ("devices", "w-09", "field_id", "field 'ghost' does not exist")]
    after = client.get("/api/v1/registry/export").json()
    before.pop("exported_at"), after.pop("exported_at")
    assert after == before


def test_export_then_import_into_an_empty_registry_gives_the_same_registry(client: TestClient, tmp_path: Path,
                                                                          settings: Any) -> None:
    seed_site(client)
    client.post("/api/v1/routes", json={"id": "r-1", "site": SITE, "name": "駅前線", "priority": 1})
    client.post("/api/v1/roads", json={"id": "rd-1", "site": SITE, "route": "r-1", "oneway": True,
                                       "geometry": {"type": "LineString", "coordinates": [[140.44, 40.8], [140.45, 40.8]]}})
    exported = client.get("/api/v1/registry/export").json()
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(exported, ensure_ascii=False))
    # Through the CLI, into another database file (the same way an operator moves a registry).
    toml = tmp_path / "other.toml"
    toml.write_text(f'[registry]\npath = "{tmp_path / "other.sqlite3"}"\n')
    assert yukimizu_main(["registry", "import", str(path), "--config", str(toml)]) == 0
    assert yukimizu_main(["registry", "export", str(tmp_path / "again.json"), "--config", str(toml)]) == 0
    again = json.loads((tmp_path / "again.json").read_text())
    exported.pop("exported_at"), again.pop("exported_at")
    assert again == exported


def test_cli_import_prints_the_precise_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    toml = tmp_path / "b.toml"
    toml.write_text(f'[registry]\npath = "{tmp_path / "r.sqlite3"}"\n')
    (tmp_path / "sites.json").write_text(json.dumps({"sites": [{"id": SITE}]}))
    assert yukimizu_main(["registry", "import", str(tmp_path / "sites.json"), "--config", str(toml)]) == 0
    (tmp_path / "fields.geojson").write_text(json.dumps(collection(feature("a", GOOD), feature("b", GOOD, crop="rice"))))
    code = yukimizu_main(["registry", "import", str(tmp_path / "fields.geojson"), "--as", "fields", "--site", SITE,
                          "--config", str(toml)])
    err = capsys.readouterr().err
    assert code == 1
    assert "fields feature 1 (id 'b'): crop:" in err and "(got 'rice')" in err and "nothing imported" in err
