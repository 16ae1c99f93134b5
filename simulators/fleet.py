"""Fleet mode: many lightweight simulated devices publishing exactly what the firmware would, over a few MQTT connections.

Scale: one paho-mqtt connection carries up to `devices_per_connection` devices (default 500, at most 8
connections): thousands of devices do not need thousands of sockets and threads. The topics, payloads
and QoS are the firmware's (topic per device from yukimizu.contract.topic, {"v":1,"readings":[...]},
QoS 1), so the gateway cannot tell the difference, except that a broker ACL binding a client id to
its device (`%c` patterns) would refuse the shared connections: run the fleet against a broker
without per-device ACLs.
The sent log (JSONL, one line per reading) is written when the broker acknowledges (PUBACK) the
message: it holds what the broker has accepted, which is what an end-to-end test must find downstream.
While a connection is down paho keeps the QoS 1 messages and sends them after reconnecting (the
device's spool); while the simulated devices' uplink is down the fleet holds messages itself.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

from .world import Message


@dataclass
class FleetStats:
    """Counters a progress display shows."""

    messages_published: int = 0
    messages_acked: int = 0
    readings_acked: int = 0
    held_messages: int = 0  # waiting for the devices' uplink
    connections_up: int = 0
    connections: int = 0


def parse_broker_url(url: str) -> tuple[str, int]:
    """(host, port) of mqtt://host:port; only loopback or named hosts, no TLS here."""
    u = urlparse(url)
    if u.scheme != "mqtt" or not u.hostname:
        raise ValueError(f"broker URL {url!r} must look like mqtt://127.0.0.1:1883")
    return u.hostname, u.port or 1883


class _Conn:
    """One MQTT connection shared by many devices."""

    def __init__(self, fleet: "Fleet", index: int, host: str, port: int, client_id: str):
        self.fleet = fleet
        self.index = index
        self.lock = threading.Lock()
        self.pending: dict[int, Message] = {}
        self.early: set[int] = set()
        self.connected = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                        protocol=mqtt.MQTTv311)
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)  # unbounded: the spool of the devices this connection carries
        c.reconnect_delay_set(0.1, 2)  # type: ignore[arg-type]  # paho takes float seconds; its hint says int
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        self.client = c
        c.connect_async(host, port, keepalive=30)
        c.loop_start()

    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, rc: mqtt.ReasonCode, _p: object = None) -> None:
        if not rc.is_failure:
            self.connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self.connected.clear()

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, _rc: object = None, _p: object = None) -> None:
        with self.lock:
            msg = self.pending.pop(mid, None)
            if msg is None:
                self.early.add(mid)  # PUBACK beat publish() back to us; settle it there
                return
        self.fleet._acked(msg)

    def publish(self, msg: Message) -> None:
        info = self.client.publish(msg.topic, msg.payload(), qos=1)
        with self.lock:
            if info.mid in self.early:
                self.early.discard(info.mid)
                acked = True
            else:
                self.pending[info.mid] = msg
                acked = False
        if acked:
            self.fleet._acked(msg)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Fleet:
    """Publish messages of many devices with QoS 1 and log every acknowledged reading."""

    def __init__(self, broker_url: str, device_ids: Iterable[str], *, sent_log: str | Path | None = None,
                 devices_per_connection: int = 500, max_connections: int = 8, client_prefix: str = "yukimizu-sim"):
        host, port = parse_broker_url(broker_url)
        ids = list(device_ids)
        n = max(1, min(max_connections, -(-len(ids) // devices_per_connection)))
        self._conn_of = {d: i % n for i, d in enumerate(ids)}
        self.stats = FleetStats(connections=n)
        self._stats_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._log = open(sent_log, "a", encoding="utf-8") if sent_log else None
        self._last_flush = time.monotonic()
        self._uplink_up = True
        self._held: list[Message] = []
        # Publishing and cutting/restoring the uplink happen in different threads (the fault worker):
        # one lock keeps held messages in order and none stranded in a list nobody will empty.
        self._uplink_lock = threading.Lock()
        self.last_acked_t: dict[str, float] = {}
        self.conns = [_Conn(self, i, host, port, f"{client_prefix}-{i}") for i in range(n)]

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        """True once every connection is up."""
        deadline = time.monotonic() + timeout_s
        return all(c.connected.wait(max(0.0, deadline - time.monotonic())) for c in self.conns)

    def _acked(self, msg: Message) -> None:
        with self._stats_lock:
            self.stats.messages_acked += 1
            self.stats.readings_acked += len(msg.readings)
            self.last_acked_t[msg.device.device_id] = msg.publish_t_unix_s
        if self._log is not None:
            lines = "".join(
                json.dumps({"device_id": msg.device.device_id, "kind": msg.device.kind, "site": msg.device.site,
                            "seq": r["seq"], "t": r["t"], "values": {k: v for k, v in r.items() if k not in ("seq", "t")}},
                           separators=(",", ":")) + "\n" for r in msg.readings)
            with self._log_lock:
                self._log.write(lines)
                if time.monotonic() - self._last_flush > 1.0:
                    self._log.flush()
                    self._last_flush = time.monotonic()

    def publish(self, msg: Message) -> None:
        """Send one device's message (or hold it while the devices' uplink is down)."""
        with self._uplink_lock:
            if not self._uplink_up:
                self._held.append(msg)
                self.stats.held_messages = len(self._held)
                return
            self._send(msg)

    def _send(self, msg: Message) -> None:
        self.conns[self._conn_of.get(msg.device.device_id, 0)].publish(msg)
        self.stats.messages_published += 1

    def set_uplink(self, up: bool) -> None:
        """Cut or restore the devices' uplink; restoring sends what was held, oldest first, original times kept."""
        with self._uplink_lock:
            self._uplink_up = up
            if up:
                held, self._held = self._held, []
                for m in held:
                    self._send(m)
                self.stats.held_messages = 0

    @property
    def uplink_up(self) -> bool:
        """False while the devices' uplink is cut."""
        return self._uplink_up

    def in_flight(self) -> int:
        """Messages published but not yet acknowledged."""
        return sum(len(c.pending) for c in self.conns)

    def refresh(self) -> FleetStats:
        """Update connection counts and return the stats."""
        self.stats.connections_up = sum(c.connected.is_set() for c in self.conns)
        return self.stats

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Wait until every published message is acknowledged; True if none is left."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.in_flight() == 0

    def close(self) -> None:
        """Disconnect and close the sent log."""
        for c in self.conns:
            c.close()
        if self._log is not None:
            with self._log_lock:
                self._log.close()
                self._log = None
