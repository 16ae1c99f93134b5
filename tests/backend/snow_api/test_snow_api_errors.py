"""Bad input to the snow API gets a clear 4xx naming the parameter; a bad road file imports nothing."""
from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from fastapi.testclient import TestClient
from snowapi_night import SITE, lonlat, roads, seed_registry


@pytest.mark.parametrize(
    "path, params, status, param, words",
    [
        ("/api/v1/reports/plows", {"date": "16/01/2026"}, 422, "date", "is not a day YYYY-MM-DD"),
        ("/api/v1/reports/plows", {"date": "2026-02-30"}, 422, "date", "is not a day YYYY-MM-DD"),
        ("/api/v1/reports/plows", {}, 422, "date", "Field required"),
        ("/api/v1/reports/plows", {"date": "2026-01-16", "format": "xlsx"}, 422, "format", "'csv' or 'json'"),
        ("/api/v1/coverage", {"route": "minami"}, 404, "route", "route 'minami' has no roads at this site; routes: ekimae, kita"),
        ("/api/v1/coverage", {"since": "2026-01-16T05:00", "until": "2026-01-16T04:00"}, 422, "since",
         "since (2026-01-16T05:00:00+09:00) must be before until (2026-01-16T04:00:00+09:00)"),
        ("/api/v1/coverage", {"since": "yesterday"}, 422, "since", "'yesterday' is not an ISO 8601 time"),
        ("/api/v1/coverage", {"site": "hirosaki"}, 404, "site", "'hirosaki' is not a site in the registry"),
        ("/api/v1/coverage", {"format": "kml"}, 422, "format", "'json' or 'geojson'"),
        ("/api/v1/public/coverage", {"route": "minami"}, 404, "route", "route 'minami' has no roads"),
    ],
    ids=["a date in another format", "a day that does not exist", "no date", "an unknown report format",
         "an unknown route", "since after until", "a time that is not a time", "an unknown site",
         "an unknown coverage format", "an unknown route on the public view"],
)
def test_bad_query_parameters_are_refused_with_a_reason(snow_client: TestClient, path: str, params: dict, status: int,
                                                        param: str, words: str) -> None:
    seed_registry(snow_client)
    r = snow_client.get(path, params=params)
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    assert any(d["loc"][-1] == param and words in d["msg"] for d in detail), detail


def test_coverage_before_any_road_is_imported_says_what_to_do(snow_client: TestClient) -> None:
    r = snow_client.get("/api/v1/coverage")
    assert r.status_code == 404
    assert "import a road network" in r.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    "geometry, reason",
    [
        ({"type": "LineString", "coordinates": [lonlat(0, 0)]}, "line: has 1 point(s); a line needs at least 2 positions"),
        ({"type": "MultiLineString", "coordinates": [[lonlat(0, 0), lonlat(0, 0)], [lonlat(0, 0), lonlat(0, 0)]]},
         "zero length (all its points are the same)"),
        ({"type": "LineString", "coordinates": [[40.8, 140.4], [40.8, 140.5]]}, "is outside WGS84"),
        ({"type": "Polygon", "coordinates": [[lonlat(0, 0), lonlat(9, 0), lonlat(9, 9), lonlat(0, 0)]]},
         "roads must be LineString or MultiLineString"),
        ({"type": "LineString", "coordinates": [lonlat(0, 0), [140.44, float("nan")]]}, "not finite"),
    ],
    ids=["a line of one point", "a road of zero length", "latitude and longitude swapped", "a polygon for a road",
         "a coordinate that is NaN"],
)
def test_a_bad_road_is_refused_with_feature_and_reason_and_nothing_is_imported(snow_client: TestClient, geometry: dict,
                                                                               reason: str) -> None:
    c = snow_client
    seed_registry(c)
    before = c.get("/api/v1/roads").json()
    fc = copy.deepcopy(roads())
    for f in fc["features"]:
        f["properties"]["name"] += " (改)"
    fc["features"].append({"type": "Feature", "properties": {"id": "r-99", "route": "kita"}, "geometry": geometry})
    # NaN is not JSON, but broken GIS exports write the bare token (json.dumps does too); Python reads it.
    body = json.dumps(fc, ensure_ascii=False)
    r = c.post("/api/v1/registry/import/roads", params={"site": SITE}, content=body,
               headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    problems = r.json()["detail"]
    assert [(p["collection"], p["index"], p["id"], p["field"]) for p in problems] == [("roads", 5, "r-99", "geometry")]
    assert reason in problems[0]["reason"]
    assert c.get("/api/v1/roads").json() == before  # the renamed roads next to it were not written either


@pytest.mark.parametrize(
    "toml, words",
    [
        ('[snow]\ntariff = "{tmp}/missing.toml"\n', "snow.tariff: cannot read"),
        ('[snow]\ntariff = "{tmp}/bad.toml"\n', "snow.tariff: bands"),
        ('[snow]\nnight_start_jst = "6pm"\n', "snow.night_start_jst: '6pm' is not a time HH:MM"),
        ('[snow]\nbasemap_url = "https://tiles.example/{{z}}/{{x}}.png"\n', "snow.basemap_url"),
        ('[snow]\nmin_fraction = 1.5\n', "snow.min_fraction: must be in (0, 1]"),
    ],
    ids=["a tariff file that is not there", "a tariff without bands", "a night start that is not HH:MM",
         "a basemap template without {y}", "a cleared fraction above 1"],
)
def test_bad_snow_settings_stop_the_check_naming_the_key(tmp_path, capsys, toml: str, words: str) -> None:
    from yukimizu.cli import main

    (tmp_path / "bad.toml").write_text('example = true\n[machine_classes.x]\nweekday = {}\n', encoding="utf-8")
    (tmp_path / "backend.toml").write_text(toml.format(tmp=tmp_path), encoding="utf-8")
    try:
        code = main(["api", "--config", str(tmp_path / "backend.toml"), "--check"])
    except SystemExit as e:  # settings errors leave through SystemExit(2), the tariff check returns 2
        code = e.code
    assert code == 2
    assert words in capsys.readouterr().err


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.from_regex(r"20\d\d-[01]\d-[0-3]\d(T[0-2]\d:[0-5]\d(:[0-5]\d)?([+-][01]\d:\d\d|Z)?)?",
                                            fullmatch=True) | st.floats(allow_nan=True).map(str))
def test_time_parameters_are_read_or_refused_with_the_parameter_named(text: str) -> None:
    from backend.snowservice import SnowRequestError, parse_time_param

    try:
        t = parse_time_param(text, "since")
    except SnowRequestError as e:
        assert e.status == 422 and e.param == "since" and "ISO 8601" in str(e)
    else:
        assert t is None or math.isfinite(t)
