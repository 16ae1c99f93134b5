"""Secrets stay out of the repository, the dashboards Grafana gets, and the API's logs."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from backend_helpers import serve
from secret_scan import scan_text, scan_tree

from backend.app import create_app
from backend.settings import BackendSettings
from yukimizu.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
_PEM_BEGIN = "-----BEGIN" + " PRIVATE KEY-----"


@pytest.mark.parametrize("path, text, kind", [
    ("certs/server.key", _PEM_BEGIN + "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", "private key"),
    ("docs/setup.md", "curl -H 'Authorization: Bearer yk_" + "Qx3" * 14 + "a'", "yukimizu API token"),
    ("docs/grafana.md", 'set `"password": "hunter2"` in the data source', "literal value for 'password'"),
    ("gateway.toml", '[mqtt]\npassword = "hunter2-goshogawara"\n', "literal value for 'password'"),
    ("grafana/datasource.json", '{"secureJsonData": {"password": "s3cret"}}', "literal value for 'password'"),
    ("provisioning/datasources/yukimizu.yaml", "    httpHeaderValue1: Token abcdef0123456789\n    token: abcdef0123456789",
     "literal value for 'token'"),
    ("broker/passwd", "w-01:$7$101$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==\n", "mosquitto password hash"),
    ("settings.py", 'GITHUB = "ghp_' + "a1B2" * 9 + '"', "GitHub token"),
], ids=["a private key file", "a yukimizu token pasted in docs", "a quoted password in docs", "a password in a TOML example",
        "a password in Grafana JSON", "a token in provisioning YAML", "a mosquitto password file",
        "a GitHub token in code"])
def test_the_scanner_finds_what_a_leak_looks_like(path: str, text: str, kind: str) -> None:
    assert kind in [f.kind for f in scan_text(path, text)]


@pytest.mark.parametrize("path, text", [
    ("backend.example.toml", 'password = ""\ntoken = ""   # YUKIMIZU_API__INFLUXDB__TOKEN\n'),
    ("backend.example.toml", 'channel_access_token = "CHANGE-ME"\n'),
    ("firmware/apps/soil/config.example.json", '  "wifi_password": "change-me",\n'),
    ("datasource.yaml", "secureJsonData:\n  password: $__env{YUKIMIZU_INFLUX_PASSWORD}\n"),
    ("settings.toml", 'password_env = "YUKIMIZU_INFLUX_PASSWORD"\ntoken_file = "/run/secrets/influx"\n'),
    ("README.md", "yukimizu api token create --role admin --config backend.toml\nAuthorization: Bearer <token>\n"
                  "Tokens: `yk_` + 32 random bytes; a token without the right: 403\n"),
], ids=["empty values in the example config", "the CHANGE-ME placeholder", "change-me in lower case", "a Grafana environment reference",
        "keys that name where a secret lives", "commands and prose about tokens in docs"])
def test_documented_placeholders_are_not_findings(path: str, text: str) -> None:
    assert scan_text(path, text) == []


def test_the_repository_holds_no_secrets() -> None:
    findings = scan_tree(ROOT)
    assert not findings, "likely secrets (use a placeholder or an environment variable):\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("auth", ["password", "token"])
def test_built_dashboards_and_provisioning_hold_no_credentials(tmp_path: Path, auth: str) -> None:
    from dashboards.build import write_all
    from dashboards.settings import DashboardsSettings, InfluxSettings

    cfg = DashboardsSettings(influx=InfluxSettings(auth=auth))  # type: ignore[arg-type]
    written = write_all(tmp_path, cfg)
    assert any(p.suffix == ".json" for p in written) and any(p.suffix == ".yaml" for p in written)
    assert scan_tree(tmp_path, [p for p in tmp_path.rglob("*") if p.is_file()]) == []
    assert "$__env{" in "".join(p.read_text() for p in tmp_path.rglob("*.yaml"))


@pytest.fixture
def served(settings: BackendSettings) -> Iterator[str]:
    """The app under uvicorn with its access log on, logging through the root logger (as in production)."""
    port = free_port()
    app = create_app(replace(settings, api=replace(settings.api, port=port)))
    with serve(app, port, log_config=None, log_level="debug", access_log=True) as url:
        yield url


def test_tokens_never_reach_the_logs(served: str, admin_token: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=served, headers=admin) as c:
        c.post("/api/v1/sites", json={"id": "goshogawara"})
        c.post("/api/v1/fields", json={"id": "paddy-1", "site": "goshogawara", "crop": "paddy"})
        made = c.post("/api/v1/tokens", json={"role": "farmer", "field_ids": ["paddy-1"]}).json()
        farmer = made["token"]
        c.get("/api/v1/fields/paddy-1", headers={"Authorization": f"Bearer {farmer}"})
        c.get("/api/v1/devices", headers={"Authorization": f"Bearer {farmer}"})  # 403
        c.delete(f"/api/v1/tokens/{made['id']}")
        c.get("/api/v1/fields/paddy-1", headers={"Authorization": f"Bearer {farmer}"})  # 401: revoked
        c.get("/api/v1/sites", headers={"Authorization": "Bearer yk_" + "x" * 43})  # 401: unknown
        c.get("/api/v1/sites", headers={"Authorization": "Basic bm90OmFsbG93ZWQ="})  # 401: wrong scheme
        c.post("/api/v1/sites", content=b"{not json", headers={"Content-Type": "application/json"})  # 422
    time.sleep(0.2)  # the access log line of the last request is written after its response
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    # The logs saw these requests (so they can be checked) ...
    assert "/api/v1/tokens" in logged and "refused GET /api/v1/devices" in logged and " 403" in logged
    # ... and no token, no Authorization header value.
    for secret in (admin_token, farmer, "yk_" + "x" * 43, "bm90OmFsbG93ZWQ=", "Bearer yk_"):
        assert secret not in logged
