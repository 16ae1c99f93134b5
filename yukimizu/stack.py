"""The whole yukimizu pipeline on one machine: own Mosquitto and InfluxDB, the gateway, the backend API,
and simulated devices, all under one folder, on free 127.0.0.1 ports.

Used by `yukimizu demo` (folder ./var/) and by the end-to-end tests (a temp folder). Every process is a
real one started the way an operator would start it (`yukimizu gateway --config ...`, `yukimizu api
--config ...`, `yukimizu simulate ...`), so what the demo shows is what a site runs.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .influx import InfluxV1
from .servers import HOST, InfluxDB, Mosquitto, ServerError, free_port

REPO = Path(__file__).resolve().parent.parent
SITE_DIR = REPO / "simulators" / "site" / "goshogawara"
DATABASE = "yukimizu"


def shift_field_dates(src: Path, dst: Path, days: int) -> Path:
    """Write a copy of registry file `src` to `dst` with every field's `*_date` moved by `days`; return `dst`."""
    reg = json.loads(src.read_text(encoding="utf-8"))
    for feature in reg["fields"]["features"]:
        props = feature["properties"]
        for key, value in props.items():
            if key.endswith("_date") and value:
                props[key] = (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    dst.write_text(json.dumps(reg, ensure_ascii=False, indent=1), encoding="utf-8")
    return dst


def _yukimizu(*args: str) -> list[str]:
    return [sys.executable, "-m", "yukimizu.cli", *args]


@dataclass
class Stack:
    """Servers and services of one local site. `start()` brings them up; `stop()` ends them in reverse."""

    var: Path
    site_dir: Path = SITE_DIR
    api_port: int | None = None
    require_known_devices: bool = True
    advice_interval_s: float = 60.0
    # Days added to the fields' dates (transplanting, bloom) on import: the demo plays June's season
    # ending today, and the backend must count the crops' stages on that same timeline.
    field_date_shift_days: int = 0
    # `[advice] forecast_feeds` entries, "site=path or URL" (the demo's: the simulator's weather ahead).
    forecast_feeds: list[str] = field(default_factory=list)
    broker: Mosquitto | None = None
    influxdb: InfluxDB | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    admin_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        """Authorization for the stack's own admin token (created at start, only in this folder's registry)."""
        return {"Authorization": f"Bearer {self.admin_token}"}

    @property
    def api_url(self) -> str:
        """Base URL of the backend API."""
        return f"http://{HOST}:{self.api_port}"

    @property
    def broker_url(self) -> str:
        """mqtt:// URL of the site's broker."""
        assert self.broker is not None
        return self.broker.url

    def _write_configs(self) -> tuple[Path, Path]:
        assert self.broker is not None and self.influxdb is not None
        self.gateway_health_port = free_port()
        gw = self.var / "gateway.toml"
        gw.write_text(
            "[mqtt]\n"
            f'host = "{HOST}"\nport = {self.broker.port}\nclient_id = "yukimizu-gateway-demo"\n'
            "[influxdb]\n"
            f'url = "{self.influxdb.url}"\napi = "v1"\ndatabase = "{DATABASE}"\n'
            "[spool]\n"
            f'path = "{self.var / "gateway" / "spool.sqlite3"}"\n'
            "[registry]\n"
            f'path = "{self.site_dir / "devices.json"}"\n'
            f'cache_path = "{self.var / "gateway" / "registry-cache.json"}"\n'
            f"require_known_devices = {'true' if self.require_known_devices else 'false'}\n"
            "[health]\n"
            f"port = {self.gateway_health_port}\nwatchdog = false\n"
        )
        api = self.var / "backend.toml"
        api.write_text(
            "[api]\n"
            f'host = "{HOST}"\nport = {self.api_port}\n'
            'plugins = ["backend.advisor.plugin"]\n'
            "[advice]\n"
            f"interval_s = {self.advice_interval_s}\n"
            f"forecast_feeds = {json.dumps(self.forecast_feeds, ensure_ascii=False)}\n"
            "[alerts]\n"
            "interval_s = 15.0\n"
            # The demo's storm is replayed from last night, so every plow point arrives late: the live map
            # takes them in at its rebuilds, made every minute here (six plows, a cheap read).
            "[snow]\n"
            "live_rebuild_s = 60.0\n"
            "[influxdb]\n"
            f'url = "{self.influxdb.url}"\ndatabase = "{DATABASE}"\n'
            "[registry]\n"
            f'path = "{self.var / "backend" / "registry.sqlite3"}"\n'
        )
        return gw, api

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.var / f"{name}.log", "ab")
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO,
                                start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def log_tail(self, name: str, lines: int = 15) -> str:
        """The end of a service's log, for error messages."""
        try:
            return "\n".join((self.var / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def start(self, timeout_s: float = 60.0) -> "Stack":
        """Start broker, InfluxDB, registry import, gateway and API; wait until the API is healthy."""
        self.var.mkdir(parents=True, exist_ok=True)
        for sub in ("gateway", "backend"):
            (self.var / sub).mkdir(exist_ok=True)
        self.api_port = self.api_port or free_port()
        self.broker = Mosquitto(self.var / "mosquitto").start()
        self.influxdb = InfluxDB(self.var / "influxdb").start()
        InfluxV1(self.influxdb.url, DATABASE).create_database()
        gw_conf, api_conf = self._write_configs()
        registry = self.site_dir / "registry.json"
        if self.field_date_shift_days:
            registry = shift_field_dates(registry, self.var / "registry.json", self.field_date_shift_days)
        imp = subprocess.run(_yukimizu("registry", "import", "--config", str(api_conf), str(registry)),
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        if imp.returncode != 0:
            raise ServerError(f"registry import failed: {imp.stderr.strip() or imp.stdout.strip()}")
        tok = subprocess.run(_yukimizu("api", "token", "create", "--role", "admin", "--label", "local stack",
                                       "--config", str(api_conf)), cwd=REPO, capture_output=True, text=True, timeout=120)
        if tok.returncode != 0 or not tok.stdout.strip():
            raise ServerError(f"could not create the stack's admin token: {tok.stderr.strip()}")
        self.admin_token = tok.stdout.strip().splitlines()[-1]
        self._spawn("gateway", _yukimizu("gateway", "--config", str(gw_conf)))
        self._spawn("api", _yukimizu("api", "--config", str(api_conf)))
        self.wait_healthy(timeout_s)
        return self

    def wait_healthy(self, timeout_s: float) -> None:
        """Wait until /healthz answers 200, or raise with the services' last log lines."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None and name in ("gateway", "api"):
                    raise ServerError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            try:
                if httpx.get(f"{self.api_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise ServerError(f"API not healthy within {timeout_s} s:\n{self.log_tail('api')}")

    def simulate(self, name: str, scenario: str, *args: str) -> subprocess.Popen[bytes]:
        """Start `yukimizu simulate --scenario SCENARIO` against this stack's broker."""
        return self._spawn(name, _yukimizu("simulate", "--scenario", scenario, "--broker", self.broker_url,
                                           "--no-progress", *args))

    def stop(self) -> None:
        """Stop simulators, API, gateway (SIGTERM, then SIGKILL), then InfluxDB and the broker."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
        for server in (self.influxdb, self.broker):
            if server is not None:
                server.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
