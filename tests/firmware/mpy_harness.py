"""Run the firmware's compiled bundles on the MicroPython unix port against a real Mosquitto.

A `SimBoard` is a folder that plays the board's flash (config.json, spool/, seq, held, the
simulator's RTC files); each `run()` is one wake of the board (one process with the heap capped
like an ESP32 without PSRAM). A `Collector` is a paho-mqtt subscriber with a persistent session
that decodes what arrives with the contract decoder, as the gateway would.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from yukimizu.contract import decode
from yukimizu.contract.decoder import Decoded
from yukimizu.firmware import LIB, build

HEAP = "100K"  # an ESP32 without PSRAM has about 100-110 KB of MicroPython heap
HEAP_BYTES = 100 * 1024


def build_bundles(out: Path) -> dict[str, Path]:
    """Build every app whose modules are all present; {app: bundle folder}."""
    bundles = {"soil": build("soil", out).path}
    if (LIB / "nmea.py").exists():
        bundles["plow"] = build("plow", out).path
    return bundles


@dataclass
class Run:
    """What one wake printed, and the CYCLE / STATS / DEEPSLEEP lines parsed."""

    rc: int
    stdout: str
    stderr: str
    report: dict[str, Any] = field(default_factory=dict)
    sleep_ms: int | None = None

    def check(self) -> "Run":
        """Raise with the board's output when the run crashed."""
        if self.rc != 0 or not self.report:
            raise AssertionError(f"firmware run failed (rc {self.rc}):\n{self.stdout}\n{self.stderr}")
        return self


class SimBoard:
    """A simulated board's flash in a folder, and the means to wake it."""

    def __init__(self, micropython: str, bundle: Path, root: Path, config: dict[str, Any], feed: dict[str, Any] | None = None):
        self.micropython = micropython
        self.bundle = bundle
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.feed_path = root.parent / f"{root.name}-feed.json"
        self.write_config(config)
        self.feed(**(feed or {"conversion_ms": 0}))
        self.heap_peak_b = 0

    def write_config(self, config: dict[str, Any]) -> None:
        """Write config.json on the board."""
        self.config = dict(config)
        (self.root / "config.json").write_text(json.dumps(self.config))

    def feed(self, **values: Any) -> None:
        """Replace the simulator feed (sensor values, wifi/ntp switches) atomically."""
        tmp = self.feed_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(values))
        os.replace(tmp, self.feed_path)

    def run(self, timeout_s: float = 60.0, heap: str = HEAP, env: dict[str, str] | None = None) -> Run:
        """One wake (soil) or one drive (plow, config run_s): run main.py from the bundle."""
        e = dict(os.environ)
        e["MICROPYPATH"] = f".frozen:{self.bundle / 'lib'}"
        e["YUKIMIZU_SIM_FEED"] = str(self.feed_path)
        e.update(env or {})
        p = subprocess.run([self.micropython, "-X", f"heapsize={heap}", str(self.bundle / "main.py")],
                           cwd=self.root, env=e, capture_output=True, text=True, timeout=timeout_s)
        run = Run(p.returncode, p.stdout, p.stderr)
        for line in p.stdout.splitlines():
            if line.startswith(("CYCLE ", "STATS ")):
                run.report = json.loads(line.split(" ", 1)[1])
            elif line.startswith("DEEPSLEEP "):
                run.sleep_ms = int(line.split()[1])
        self.heap_peak_b = max(self.heap_peak_b, int(run.report.get("heap_peak_b", run.report.get("heap_b", 0))))
        return run

    def wake(self, **kw: Any) -> dict[str, Any]:
        """One wake that must succeed; returns its CYCLE report."""
        return self.run(**kw).check().report

    def power_cut(self) -> None:
        """Lose RTC memory and the RTC clock (flash stays)."""
        for name in ("sim_rtc.json", "sim_clock"):
            (self.root / name).unlink(missing_ok=True)

    def spool_files(self) -> list[str]:
        """Segment files in the spool folder."""
        d = self.root / "spool"
        return sorted(p.name for p in d.iterdir() if "_" in p.name) if d.exists() else []


class Collector:
    """A persistent-session QoS 1 subscriber to yukimizu/#, decoding telemetry like the gateway."""

    def __init__(self, port: int, client_id: str = "test-collector"):
        self.port = port
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_disconnect = lambda *a: self._connected.clear()
        c.reconnect_delay_set(0.05, 0.2)
        self.client = c

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        client.subscribe("yukimizu/#", qos=1)
        self._connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def start(self) -> "Collector":
        """Connect and wait until subscribed."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        self.wait_connected()
        return self

    def wait_connected(self, timeout_s: float = 15.0) -> None:
        """Block until the (re)connection is up and the subscription was sent."""
        if not self._connected.wait(timeout_s):
            raise AssertionError("test subscriber could not connect to the broker")
        time.sleep(0.1)  # let the SUBSCRIBE reach the broker before devices publish

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def telemetry(self) -> list[tuple[str, Decoded]]:
        """Every telemetry message so far, decoded with the contract decoder."""
        with self._lock:
            msgs = list(self.messages)
        return [(t, decode(t, p)) for t, p, _ in msgs if t.endswith("/telemetry")]

    def seqs(self) -> list[int]:
        """seq of every accepted reading, in arrival order (duplicates kept)."""
        return [r.seq for _, d in self.telemetry() for r in d.readings]

    def by_seq(self) -> tuple[dict[int, Any], int]:
        """Readings keyed by seq as the gateway deduplicates them, and how many were redelivered.

        QoS 1 is at-least-once: a broker stopped between receiving a message and the PUBACK
        reaching the device gets the message again. A redelivery must be the *same* reading;
        two different readings under one (device_id, seq) fail here.
        """
        out: dict[int, Any] = {}
        dups = 0
        for _, d in self.telemetry():
            for r in d.readings:
                if r.seq in out:
                    assert out[r.seq] == r, f"seq {r.seq} names two different readings"
                    dups += 1
                out[r.seq] = r
        return out, dups

    def rejections(self) -> list[Any]:
        """Every reading or field the decoder refused."""
        return [rej for _, d in self.telemetry() for rej in d.rejections]

    def status(self) -> list[dict[str, Any]]:
        """Status documents in arrival order."""
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith("/status") and p]

    def wait_for(self, pred: Any, timeout_s: float = 10.0) -> bool:
        """Poll until pred() is true; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if pred():
                return True
            time.sleep(0.02)
        return bool(pred())


def publish_retained(port: int, topic: str, payload: bytes) -> None:
    """Publish a retained QoS 1 message (the server's config override) and wait for the PUBACK."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cfg-{time.monotonic_ns()}")
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    c.disconnect()
    c.loop_stop()


def run_script(micropython: str, bundle: Path, script: str, cwd: Path, stdin: str = "", timeout_s: float = 60.0) -> str:
    """Run a MicroPython script with the bundle's lib on the path; returns stdout or raises with stderr."""
    e = dict(os.environ)
    e["MICROPYPATH"] = f".frozen:{bundle / 'lib'}"
    path = cwd / "script.py"
    path.write_text(script)
    p = subprocess.run([micropython, "-X", f"heapsize={HEAP}", str(path)], cwd=cwd, env=e, input=stdin,
                       capture_output=True, text=True, timeout=timeout_s)
    if p.returncode != 0:
        raise AssertionError(f"MicroPython script failed:\n{p.stdout}\n{p.stderr}")
    return p.stdout


# Fixtures, imported by the test modules (a conftest.py here belongs to the NMEA work).
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def bundles(micropython: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The firmware compiled once per session with mpy-cross, as `yukimizu firmware build` does."""
    return build_bundles(tmp_path_factory.mktemp("bundles"))


@pytest.fixture
def plow_bundle(bundles: dict[str, Path]) -> Path:
    """The plow logger bundle, or skip while the NMEA parser (firmware/lib/nmea.py) is not merged."""
    if "plow" not in bundles:
        pytest.skip("firmware/lib/nmea.py is not merged yet: the plow logger cannot be built")
    return bundles["plow"]
