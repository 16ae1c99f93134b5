"""Request body size limit, the rate limit on open routes, and CORS locked to the configured origins."""
from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.ratelimit import RateLimiter
from backend.settings import BackendSettings, load_settings
from yukimizu.settings import SettingsError


def test_a_body_over_the_limit_is_413_and_nothing_is_written(settings: BackendSettings, admin_token: str) -> None:
    s = replace(settings, api=replace(settings.api, max_body_bytes=2048))
    auth = {"Authorization": f"Bearer {admin_token}"}
    big = {"id": "big", "name": "x" * 4000}
    with TestClient(create_app(s), headers=auth) as c:
        r = c.post("/api/v1/sites", json=big)
        assert r.status_code == 413 and "the limit is 2048 bytes (api.max_body_bytes)" in r.json()["detail"]
        # Streamed without Content-Length (chunked): refused as it arrives.
        chunks = iter([b'{"id": "big", "name": "', b"x" * 4000, b'"}'])
        r = c.post("/api/v1/sites", content=chunks, headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        assert c.get("/api/v1/sites").json() == []
        assert c.post("/api/v1/sites", json={"id": "small"}).status_code == 201


def test_open_routes_are_rate_limited_per_address_but_not_for_token_holders(settings: BackendSettings,
                                                                             admin_token: str) -> None:
    s = replace(settings, api=replace(settings.api, public_burst_n=3, public_rate_per_min=6))
    with TestClient(create_app(s)) as c:
        assert [c.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
        r = c.get("/healthz")
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 10
        assert "too many requests" in r.json()["detail"]
        auth = {"Authorization": f"Bearer {admin_token}"}
        assert [c.get("/healthz", headers=auth).status_code for _ in range(5)] == [200] * 5


def test_a_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    lim = RateLimiter(rate_per_min=60, burst_n=2, clock=lambda: now[0])
    assert [lim.take("a"), lim.take("a")] == [0, 0]
    assert lim.take("a") == 1 and lim.take("b") == 0  # another address has its own bucket
    now[0] = 1.0
    assert lim.take("a") == 0 and lim.take("a") == 1


def test_bucket_memory_stays_bounded_under_a_flood_of_addresses() -> None:
    lim = RateLimiter(rate_per_min=60, burst_n=5, clock=lambda: 0.0, max_keys=100)
    for i in range(1000):
        lim.take(f"10.0.{i // 256}.{i % 256}")
    assert len(lim._buckets) <= 100


def test_cors_answers_only_the_configured_origin(settings: BackendSettings) -> None:
    s = replace(settings, api=replace(settings.api, cors_origins=["https://www.city.goshogawara.example"]))
    pre = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    with TestClient(create_app(s)) as c:
        ok = c.options("/api/v1/fields", headers={"Origin": "https://www.city.goshogawara.example", **pre})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://www.city.goshogawara.example"
        evil = c.options("/api/v1/fields", headers={"Origin": "https://evil.example", **pre})
        assert "access-control-allow-origin" not in evil.headers
        assert "access-control-allow-origin" not in c.get("/healthz", headers={"Origin": "https://evil.example"}).headers
    with TestClient(create_app(settings)) as c:  # no origins configured: same origin only
        assert "access-control-allow-origin" not in c.options(
            "/api/v1/fields", headers={"Origin": "https://www.city.goshogawara.example", **pre}).headers


@pytest.mark.parametrize("env, message", [
    ({"YUKIMIZU_API__API__CORS_ORIGINS": '["*"]'}, "api.cors_origins[0]"),
    ({"YUKIMIZU_API__API__CORS_ORIGINS": '["https://a.example/path"]'}, "no path"),
    ({"YUKIMIZU_API__API__MAX_BODY_BYTES": "10"}, "api.max_body_bytes"),
], ids=["a wildcard origin", "an origin with a path", "a body limit too small for any request"])
def test_bad_security_settings_name_the_key(env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as e:
        load_settings(None, env)
    assert message in str(e.value)
