"""Fixtures for the backend: settings on the real InfluxDB, the app, and a local HTTP receiver for alert deliveries."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from backend_helpers import Receiver, admin_token_for
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import BackendSettings, load_settings
from yukimizu.influx import InfluxV1


@pytest.fixture
def settings(tmp_path: Path, influx: InfluxV1) -> BackendSettings:
    """Settings for a backend on the test's own InfluxDB database and SQLite file; schedules off (tests tick)."""
    return load_settings(None, {
        "YUKIMIZU_API__INFLUXDB__URL": influx.url,
        "YUKIMIZU_API__INFLUXDB__DATABASE": influx.database,
        "YUKIMIZU_API__REGISTRY__PATH": str(tmp_path / "registry.sqlite3"),
        "YUKIMIZU_API__ALERTS__ENABLED": "false",
        "YUKIMIZU_API__DOWNSAMPLE__ENABLED": "false",
        "YUKIMIZU_API__ADVICE__ENABLED": "false",
    })


@pytest.fixture
def admin_token(settings: BackendSettings) -> str:
    """An admin API token in the test's registry database (created the way `yukimizu api token create` does)."""
    return admin_token_for(settings)


@pytest.fixture
def client(settings: BackendSettings, admin_token: str) -> Iterator[TestClient]:
    """The real app (lifespan run) on the real InfluxDB, called with an admin token."""
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


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
