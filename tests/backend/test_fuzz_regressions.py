"""Requests the fuzzers (tests/backend/fuzz, `make fuzz`) found mishandled, kept as regression tests."""
from __future__ import annotations

from fastapi.testclient import TestClient


def test_a_site_filter_with_a_line_break_matches_nothing_instead_of_breaking_the_query(client: TestClient) -> None:
    # schemathesis: GET /api/v1/devices/health?site=...%0D... made InfluxDB refuse the query (InfluxQL
    # string literals cannot hold CR, LF or NUL), answered 422 with a bare string.
    for value in ("a\rb", "a\nb", "a\x00b"):
        r = client.get("/api/v1/devices/health", params={"site": value})
        assert r.status_code == 200, r.text
        assert r.json()["devices"] == []
        r = client.get("/api/v1/history/soil", params={"field": "vwc_pct", "site": value, "device_id": ["x", value]})
        assert r.status_code == 200 and r.json()["series"] == []


def test_a_query_influxdb_refuses_is_422_in_the_documented_shape(client: TestClient) -> None:
    # schemathesis (response schema check): the 422 body was {"detail": "<text>"}, the document says a list.
    # A bucket length InfluxDB cannot hold as a duration is refused by InfluxDB itself.
    r = client.get("/api/v1/history/gateway_1h", params={"field": "x", "every": "99999999999999999999w"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"] == ["query"] and "InfluxDB" in detail[0]["msg"]


def test_a_field_name_with_control_characters_is_422_naming_it(client: TestClient) -> None:
    # schemathesis: GET /api/v1/history/gateway?field=...%0D... made InfluxDB answer with a CR inside its
    # X-Influxdb-Error header, which httpx refuses: the backend answered 503 "InfluxDB unreachable".
    r = client.get("/api/v1/history/gateway", params={"field": ["spool_depth_lines", "a\rb"]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "field"] and "'a\\rb'" in r.json()["detail"][0]["msg"]
