"""Fixtures for the backend: settings on the real InfluxDB, the app, readings written through the contract,
and a local HTTP receiver for alert deliveries."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import BackendSettings, load_settings
from yukimizu.contract import Kind, Reading, reading_line
from yukimizu.influx import InfluxV1

SITE = "goshogawara"
NOW_S = int(time.time())


def square(lon: float, lat: float, d: float = 0.001) -> dict[str, Any]:
    """A closed square polygon with its south-west corner at (lon, lat)."""
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]}


@pytest.fixture
def settings(tmp_path: Path, influx: InfluxV1) -> BackendSettings:
    """Settings for a backend on the test's own InfluxDB database and SQLite file; schedules off (tests tick)."""
    return load_settings(None, {
        "YUKIMIZU_API__INFLUXDB__URL": influx.url,
        "YUKIMIZU_API__INFLUXDB__DATABASE": influx.database,
        "YUKIMIZU_API__REGISTRY__PATH": str(tmp_path / "registry.sqlite3"),
        "YUKIMIZU_API__ALERTS__ENABLED": "false",
        "YUKIMIZU_API__DOWNSAMPLE__ENABLED": "false",
    })


@pytest.fixture
def client(settings: BackendSettings) -> Iterator[TestClient]:
    """The real app (lifespan run) on the real InfluxDB."""
    with TestClient(create_app(settings)) as c:
        yield c


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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP receiver on a free 127.0.0.1 port, stopped at the end."""
    rec = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"null")})
            self.send_response(rec.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()
