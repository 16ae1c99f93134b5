"""Harness for the gateway tests: the gateway as a real subprocess, a publishing client, workloads.

The gateway runs as `python -m edge_gateway` so kill -9 is a real power cut; readings are published
by our own paho client at QoS 1 (mosquitto_pub -l drops queued messages, DOMAIN.md).
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from yukimizu.influx import InfluxV1
from yukimizu.servers import Mosquitto, free_port

SITE = "goshogawara"


def _root_broker_config() -> str:
    """`user root` when running as root and the harness does not already set a user.

    Started as root, Mosquitto drops to user `mosquitto`, which cannot write its persistence file in our
    temp folder: queued messages would vanish on restart. (Newer yukimizu.servers set `user` themselves,
    and Mosquitto refuses a second one.)"""
    if os.geteuid() != 0:
        return ""
    with tempfile.TemporaryDirectory() as d:
        conf = Mosquitto(Path(d)).write_config().read_text()
    return "" if any(ln.startswith("user ") for ln in conf.splitlines()) else "user root\n"


ROOT_BROKER_CONFIG = _root_broker_config()
BASE_T_UNIX_S = int(time.time()) - 10 * 86400  # ten days ago: inside the contract's clock window


@dataclass
class Message:
    """One telemetry message and the readings it carries: {(device_id, seq): vwc_pct or level_cm}."""

    topic: str
    payload: bytes
    readings: dict[tuple[str, int], float]


def soil_message(device: str, first_seq: int, n: int, *, value_offset: float = 0.0, site: str = SITE) -> Message:
    """A soil message with n readings seq first_seq.. at one-second steps; vwc encodes the seq."""
    readings = {}
    rows = []
    for seq in range(first_seq, first_seq + n):
        vwc = round((seq % 1000) / 10 + value_offset, 1) % 100
        rows.append({"seq": seq, "t": BASE_T_UNIX_S + seq, "vwc_pct": vwc, "battery_v": 3.7})
        readings[(device, seq)] = vwc
    body = json.dumps({"v": 1, "readings": rows}).encode()
    return Message(f"yukimizu/v1/{site}/soil/{device}/telemetry", body, readings)


def workload(n_devices: int, msgs_per_device: int, readings_per_msg: int = 10) -> list[Message]:
    """Messages from many devices, interleaved as devices would report (round-robin)."""
    out = []
    for k in range(msgs_per_device):
        for d in range(n_devices):
            out.append(soil_message(f"soil-{d:03d}", k * readings_per_msg, readings_per_msg))
    return out


def expected(messages: list[Message]) -> dict[tuple[str, int], float]:
    """The union of readings the messages carry (first occurrence wins, as the gateway keeps it)."""
    out: dict[tuple[str, int], float] = {}
    for m in messages:
        for k, v in m.readings.items():
            out.setdefault(k, v)
    return out


def registry_doc(devices: list[dict[str, Any]]) -> dict[str, Any]:
    """A registry document in the shared shape."""
    full = []
    for d in devices:
        e = {"device_id": d["device_id"], "site": d.get("site", SITE), "kind": d.get("kind", "soil"),
             "field_id": d.get("field_id"), "vehicle_id": d.get("vehicle_id"), "route": d.get("route"),
             "expected_interval_s": d.get("expected_interval_s", 600)}
        full.append(e)
    return {"devices": full}


def soil_registry(n_devices: int, field_id: str | None = "f-1") -> dict[str, Any]:
    """Registry listing soil-000.. as soil devices at the test site."""
    return registry_doc([{"device_id": f"soil-{d:03d}", "field_id": field_id} for d in range(n_devices)])


def soil_lines(device_id: str, seqs: range) -> str:
    """Line protocol of soil readings, one per seq, as the spool hands it to a sink."""
    return "\n".join(f"soil,device_id={device_id},site=goshogawara seq={q}i,vwc_pct={20 + q / 4} "
                     f"{(BASE_T_UNIX_S + q) * 1000}" for q in seqs)


def stored(db: InfluxV1, measurement: str = "soil", value: str = "vwc_pct") -> dict[tuple[str, int], float]:
    """What InfluxDB holds: {(device_id, seq): value}; raises if a (device_id, seq) appears twice."""
    out: dict[tuple[str, int], float] = {}
    for s in db.query(f'SELECT "seq", "{value}" FROM "{measurement}" GROUP BY "device_id"'):
        dev = s["tags"]["device_id"]
        for _t, seq, v in s["values"]:
            key = (dev, int(seq))
            assert key not in out, f"{key} stored twice (different timestamps)"
            out[key] = v
    return out


def count(db: InfluxV1, measurement: str = "soil") -> int:
    """Number of points in a measurement."""
    r = db.query(f'SELECT count("seq") FROM "{measurement}"')
    return int(r[0]["values"][0][1]) if r else 0


def wait_for(cond: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.2) -> Any:
    """Poll until cond() is truthy; fail saying what did not happen."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


def end_session(port: int, client_id: str) -> None:
    """Discard a persistent session on a shared broker, so later tests do not feed a dead gateway."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    try:
        c.connect("127.0.0.1", port)
        c.loop_start()
        c.disconnect()
        c.loop_stop()
    except OSError:
        pass  # the broker is already gone, and its sessions with it


class Publisher:
    """Our own paho client publishing at QoS 1 with a persistent session; survives broker restarts."""

    def __init__(self, port: int, client_id: str):
        self.port = port
        self.client_id = client_id
        self.acked = 0
        self._lock = threading.Lock()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        c.max_inflight_messages_set(200)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(0.1, 1)
        c.on_publish = self._on_publish
        c.connect("127.0.0.1", port)
        c.loop_start()
        self.client = c
        self.sent = 0
        self.done = threading.Event()

    def _on_publish(self, *_a: Any) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, messages: list[Message], rate_msgs_s: float | None = None) -> None:
        """Publish in order, optionally paced; returns once all are queued (not yet acknowledged)."""
        t0 = time.monotonic()
        for i, m in enumerate(messages):
            if rate_msgs_s:
                ahead_s = t0 + i / rate_msgs_s - time.monotonic()
                if ahead_s > 0:
                    time.sleep(ahead_s)
            self.client.publish(m.topic, m.payload, qos=1)
            self.sent += 1

    def publish_in_background(self, messages: list[Message], rate_msgs_s: float | None = None) -> threading.Thread:
        """Publish from a thread; `done` is set when every message is queued."""
        def go() -> None:
            self.publish(messages, rate_msgs_s)
            self.done.set()
        t = threading.Thread(target=go, daemon=True)
        t.start()
        return t

    def wait_acked(self, n: int, timeout_s: float = 60) -> None:
        """Wait until the broker acknowledged n messages."""
        wait_for(lambda: self.acked >= n, timeout_s, f"broker PUBACK of {n} messages", 0.05)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class GatewayProc:
    """One gateway process with its own config, spool and health port."""

    root: Path
    config: dict[str, dict[str, Any]]
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)
    starts: int = 0

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path = self.root / "gateway.log"
        self.config_path = self.root / "gateway.toml"
        lines = []
        for section, keys in self.config.items():
            if section.startswith("_"):
                continue
            lines.append(f"[{section}]")
            for k, v in keys.items():
                lines.append(f"{k} = {json.dumps(v) if not isinstance(v, bool) else str(v).lower()}")
        self.config_path.write_text("\n".join(lines) + "\n")

    @property
    def health_port(self) -> int:
        return int(self.config["health"]["port"])

    @property
    def spool_path(self) -> Path:
        return Path(self.config["spool"]["path"])

    def start(self, wait: bool = True) -> "GatewayProc":
        """Start `python -m edge_gateway --config ...` and wait for its health endpoint."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "edge_gateway", "--config", str(self.config_path)],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env=dict(os.environ, **self.config.get("_env", {})))
        log.close()
        self.starts += 1
        if wait:
            wait_for(lambda: self._answers(), 20, f"gateway health on port {self.health_port}\n{self.tail()}", 0.05)
        return self

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"gateway exited with {self.proc.returncode}:\n{self.tail()}")
        try:
            return bool(self.health()["mqtt_subscribed"])
        except httpx.HTTPError:
            return False

    def health(self) -> dict[str, Any]:
        """The gateway's health snapshot."""
        r = httpx.get(f"http://127.0.0.1:{self.health_port}/health", timeout=5)
        r.raise_for_status()
        return r.json()

    def kill9(self) -> None:
        """Power cut."""
        assert self.proc is not None and self.proc.poll() is None, f"gateway not running:\n{self.tail()}"
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def counters(self) -> dict[str, int]:
        """Persistent counters straight from the spool file (works with the gateway stopped)."""
        with sqlite3.connect(self.spool_path) as db:
            return dict(db.execute("SELECT name, n FROM counters").fetchall())

    def dead_letters(self) -> list[tuple[str, str, str, bytes]]:
        """(topic, code, reason, payload) of every dead letter."""
        with sqlite3.connect(self.spool_path) as db:
            return db.execute("SELECT topic, code, reason, payload FROM dead_letter ORDER BY id").fetchall()

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


