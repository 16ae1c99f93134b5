"""The gateway's own numbers: persistent counters from the spool plus live gauges, as one snapshot.

The snapshot is what the local HTTP endpoint serves, what `yukimizu gateway status` prints and what
goes to InfluxDB as the `gateway` measurement.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from yukimizu.contract import line


class Gauges:
    """Live values that need no durability (they are rebuilt after a restart)."""

    def __init__(self) -> None:
        self.started_s = time.time()
        self.mqtt_connected = False
        self.mqtt_subscribed = False
        self.mqtt_connects = 0
        self.mqtt_connected_s: float | None = None  # when the current broker connection was made
        self.last_message_s: float | None = None
        self.last_write_s: float | None = None
        self.write_latency_ms: float | None = None
        self.write_latency_max_ms = 0.0
        self.batches_written = 0
        self.last_error = ""
        self.last_error_s: float | None = None
        self.queue_depth = 0
        self.lora_open: bool | None = None  # None: no LoRa receiver configured
        self._lock = threading.Lock()

    def error(self, message: str) -> None:
        """Remember the latest error for the status output."""
        self.last_error = message[:500]
        self.last_error_s = time.time()

    def written(self, latency_ms: float, n_lines: int) -> None:
        """Record one confirmed InfluxDB write."""
        with self._lock:
            self.write_latency_ms = latency_ms
            self.write_latency_max_ms = max(self.write_latency_max_ms, latency_ms)
            self.batches_written += 1
            self.last_write_s = time.time()


def snapshot(counters: dict[str, int], gauges: Gauges, oldest_received_s: float | None,
             client_id: str, registry_devices: int, registry_error: str) -> dict[str, Any]:
    """One JSON-able view of the gateway's health."""
    now = time.time()
    rejected = {k.removeprefix("rejected_"): v for k, v in sorted(counters.items()) if k.startswith("rejected_") and v}
    dead = {k.removeprefix("dead_letter_"): v for k, v in sorted(counters.items())
            if k.startswith("dead_letter_") and v}
    return {
        "gateway": client_id,
        "time_unix_s": round(now, 3),
        "uptime_s": round(now - gauges.started_s, 1),
        "mqtt_connected": gauges.mqtt_connected,
        "mqtt_subscribed": gauges.mqtt_subscribed,
        "mqtt_connects": gauges.mqtt_connects,
        "mqtt_connection_age_s": (round(now - gauges.mqtt_connected_s, 3)
                                  if gauges.mqtt_connected and gauges.mqtt_connected_s else None),
        "lora_open": gauges.lora_open,
        "received_msgs": counters.get("received", 0),
        "readings_received": counters.get("readings_received", 0),
        "spooled": counters.get("spooled", 0),
        "written": counters.get("written", 0),
        "duplicates": counters.get("duplicates", 0),
        "dead_letters": counters.get("dead_letters", 0),
        "dead_letters_by_reason": dead,
        "rejected_by_reason": rejected,
        "ignored_status": counters.get("ignored_status", 0),
        "ignored_config": counters.get("ignored_config", 0),
        "dropped_oldest": counters.get("dropped_oldest", 0),
        "dropped_newest": counters.get("dropped_newest", 0),
        "spool_full_waits": counters.get("spool_full_waits", 0),
        "spool_depth_lines": counters.get("spool_lines", 0),
        "spool_bytes": counters.get("spool_bytes", 0),
        "spool_age_s": round(now - oldest_received_s, 3) if oldest_received_s is not None else 0.0,
        "queue_depth_msgs": gauges.queue_depth,
        "write_latency_ms": round(gauges.write_latency_ms, 2) if gauges.write_latency_ms is not None else None,
        "write_latency_max_ms": round(gauges.write_latency_max_ms, 2),
        "batches_written": gauges.batches_written,
        "last_message_age_s": round(now - gauges.last_message_s, 1) if gauges.last_message_s else None,
        "last_write_age_s": round(now - gauges.last_write_s, 1) if gauges.last_write_s else None,
        "registry_devices": registry_devices,
        "registry_error": registry_error,
        "last_error": gauges.last_error,
        "last_error_age_s": round(now - gauges.last_error_s, 1) if gauges.last_error_s else None,
    }


def gateway_line(snap: dict[str, Any]) -> str:
    """The snapshot as one `gateway` line (tag: gateway = client id); numbers only, types frozen."""
    fields: dict[str, object] = {}
    for k, v in snap.items():
        if k in ("gateway", "time_unix_s") or isinstance(v, str) or v is None:
            continue
        if isinstance(v, bool):
            fields[k] = v
        elif isinstance(v, dict):
            for sub, n in v.items():
                fields[f"{k.removesuffix('_by_reason')}_{sub}"] = int(n)
        elif isinstance(v, int):
            fields[k] = v
        else:
            fields[k] = float(v)
    fields["last_error_set"] = bool(snap.get("last_error"))
    return line("gateway", {"gateway": snap["gateway"]}, fields, round(snap["time_unix_s"] * 1000))
