"""`yukimizu api --config`: settings from TOML and environment, /healthz, and the real server process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import load_settings
from yukimizu.influx import InfluxV1
from yukimizu.servers import free_port
from yukimizu.settings import SettingsError

EXAMPLE = Path(__file__).resolve().parents[2] / "backend" / "backend.example.toml"


def test_example_file_is_valid_and_environment_overrides_it() -> None:
    s = load_settings(EXAMPLE, {"YUKIMIZU_API__INFLUXDB__DATABASE": "farm", "YUKIMIZU_API__ALERTS__LINE__TO": "U1,U2",
                                "YUKIMIZU_API__FLEET__SILENT_AFTER_INTERVALS": "4"})
    assert (s.influxdb.database, s.alerts.line.to, s.fleet.silent_after_intervals) == ("farm", ["U1", "U2"], 4.0)
    assert s.downsample.raw_retention_days == 580 and s.api.port == 8080


@pytest.mark.parametrize(
    "env, message",
    [
        ({"YUKIMIZU_API__API__PORT": "80000"}, "api.port: 80000 is not a TCP port"),
        ({"YUKIMIZU_API__FLEET__BATTERY_CUTOFF_V": "3.6"}, "fleet.battery_cutoff_v: 3.6 V must be below"),
        ({"YUKIMIZU_API__INFLUXDB__URL": "localhost:8086"}, "influxdb.url"),
        ({"YUKIMIZU_API__ALERTS__INTERVAL_S": "soon"}, "alerts.interval_s (environment YUKIMIZU_API__ALERTS__INTERVAL_S)"),
        ({"YUKIMIZU_API__API__ENVIRONMENT": "production", "YUKIMIZU_API__INFLUXDB__PASSWORD": "CHANGE-ME"},
         "influxdb.password: still the placeholder"),
    ],
    ids=["port out of range", "cutoff above the low-battery level", "URL without scheme", "interval that is a word",
         "placeholder password in production"],
)
def test_bad_settings_name_the_key(env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as e:
        load_settings(None, env)
    assert message in str(e.value)


def test_healthz_checks_influxdb_and_registry(tmp_path: Path, influx: InfluxV1) -> None:
    s = load_settings(None, {"YUKIMIZU_API__INFLUXDB__URL": influx.url, "YUKIMIZU_API__INFLUXDB__DATABASE": influx.database,
                             "YUKIMIZU_API__REGISTRY__PATH": str(tmp_path / "r.sqlite3"),
                             "YUKIMIZU_API__ALERTS__ENABLED": "false", "YUKIMIZU_API__DOWNSAMPLE__ENABLED": "false"})
    with TestClient(create_app(s)) as c:
        r = c.get("/healthz")
        assert r.status_code == 200 and r.json()["checks"]["registry"]["detail"].endswith("schema version 4")
    dead = load_settings(None, {"YUKIMIZU_API__INFLUXDB__URL": f"http://127.0.0.1:{free_port()}",
                                "YUKIMIZU_API__REGISTRY__PATH": str(tmp_path / "r.sqlite3"),
                                "YUKIMIZU_API__ALERTS__ENABLED": "false", "YUKIMIZU_API__DOWNSAMPLE__ENABLED": "false"})
    with TestClient(create_app(dead)) as c:
        r = c.get("/healthz")
        assert r.status_code == 503
        assert r.json()["checks"]["influxdb"]["ok"] is False and r.json()["checks"]["registry"]["ok"] is True


def test_yukimizu_api_serves_with_its_schedules_running(tmp_path: Path, influx: InfluxV1) -> None:
    port = free_port()
    toml = tmp_path / "backend.toml"
    toml.write_text(EXAMPLE.read_text().replace('path = "var/backend/registry.sqlite3"',
                                                f'path = "{tmp_path / "reg.sqlite3"}"'))
    env = {**os.environ, "YUKIMIZU_API__API__PORT": str(port), "YUKIMIZU_API__INFLUXDB__URL": influx.url,
           "YUKIMIZU_API__INFLUXDB__DATABASE": influx.database, "YUKIMIZU_API__ALERTS__INTERVAL_S": "1"}
    exe = Path(sys.executable).with_name("yukimizu")
    proc = subprocess.Popen([str(exe), "api", "--config", str(toml)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60  # generous: the test machine is shared
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "yukimizu api did not answer"
                time.sleep(0.2)
        assert r.status_code == 200, r.text
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
        # The first admin token is made offline with the CLI (printed once on stdout).
        made = subprocess.run([str(exe), "api", "token", "create", "--role", "admin", "--config", str(toml)], env=env,
                              capture_output=True, text=True, check=True)
        token = made.stdout.strip()
        assert "not shown again" in made.stderr and token not in made.stderr
        # The alert schedule runs on its own: a device provisioned long ago that never reported alerts within seconds.
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})
        c.post("/api/v1/sites", json={"id": "goshogawara"})
        c.post("/api/v1/devices", json={"device_id": "w-77", "kind": "water", "site": "goshogawara",
                                        "expected_interval_s": 60, "provisioned_at": "2026-01-01T00:00:00Z"})
        deadline = time.monotonic() + 20
        while not c.get("/api/v1/alerts", params={"rule": "device_silent"}).json()["alerts"]:
            assert time.monotonic() < deadline, "the alert schedule never ran"
            time.sleep(0.3)
        c.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says what stopped it.
    log = proc.stdout.read().decode() if proc.stdout else ""
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in log and "Traceback" not in log
