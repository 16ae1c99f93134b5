"""Helpers shared by the backend tests (a module with a unique name: `conftest` is ambiguous once
other areas add their own conftest.py under tests/backend/)."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from yukimizu.contract import Kind, Reading, reading_line
from yukimizu.influx import InfluxV1

SITE = "goshogawara"
NOW_S = int(time.time())


def square(lon: float, lat: float, d: float = 0.001) -> dict[str, Any]:
    """A closed square polygon with its south-west corner at (lon, lat)."""
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]}


def write_readings(influx: InfluxV1, kind: str, device_id: str, rows: list[tuple[float, Mapping[str, object]]],
                   *, site: str = SITE, tags: Mapping[str, str] | None = None) -> None:
    """Write readings (t_unix_s, values) the way the gateway does: contract Reading -> line protocol."""
    lines = [reading_line(Reading(site, Kind(kind), device_id, i, t, dict(values)), tags)
             for i, (t, values) in enumerate(rows)]
    influx.write(lines)


def seed_site(c: TestClient) -> None:
    """A site with a paddy and an orchard, each with a sensor, through the API."""
    assert c.post("/api/v1/sites", json={"id": SITE, "name": "五所川原", "latitude_deg": 40.81,
                                          "longitude_deg": 140.44, "elevation_m": 10}).status_code == 201
    r = c.post("/api/v1/fields", json={"id": "paddy-1", "site": SITE, "name": "北の田", "crop": "paddy",
                                       "soil_texture": "clay", "growth_stage": "tillering",
                                       "geometry": square(140.44, 40.80)})
    assert r.status_code == 201, r.text
    r = c.post("/api/v1/fields", json={"id": "apple-1", "site": SITE, "name": "りんご園", "crop": "apple",
                                       "soil_texture": "loam", "root_depth_m": 1.0, "geometry": square(140.45, 40.80)})
    assert r.status_code == 201, r.text
    for dev, kind, fid in (("w-01", "water", "paddy-1"), ("s-01", "soil", "apple-1")):
        r = c.post("/api/v1/devices", json={"device_id": dev, "kind": kind, "site": SITE, "field_id": fid,
                                            "expected_interval_s": 600, "firmware_version": "1.2.0"})
        assert r.status_code == 201, r.text


@dataclass
class Receiver:
    """A local HTTP server that records every POST (path, headers, JSON body) and answers `status`."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies received, in order."""
        return [r["json"] for r in self.requests]


def admin_token_for(settings) -> str:  # type: ignore[no-untyped-def]
    """A fresh admin token in the settings' registry (created the way `yukimizu api token create` does)."""
    from backend.access import Role
    from backend.registry import Database
    from backend.tokens import TokenStore

    db = Database(settings.registry.path)
    try:
        return TokenStore(db).create(Role.ADMIN, label="tests")[0]
    finally:
        db.close()


def admin_headers(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Authorization headers with a fresh admin token in the settings' registry."""
    return {"Authorization": f"Bearer {admin_token_for(settings)}"}


@contextmanager
def serve(app: FastAPI, port: int, **options: Any) -> Iterator[str]:
    """Run the app under uvicorn in a thread on 127.0.0.1:port (lifespan on); yields its base URL.

    `options` go to uvicorn.Config (log_level, access_log, log_config, ...).
    """
    options = {"log_level": "warning", "lifespan": "on", **options}
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
