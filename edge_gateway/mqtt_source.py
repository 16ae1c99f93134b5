"""The broker side: a persistent QoS 1 subscription whose messages are acknowledged only on request.

paho-mqtt 2.x with a fixed client id, clean_session=False (the broker keeps our subscription and
queues QoS 1 messages while we are away) and manual_ack=True (no PUBACK until `ack()`), so a
message the gateway has not committed to its spool is redelivered after any crash.

paho runs in a receiver process of its own (`receiver.py`: it costs most of what decoding and
spooling a message cost, and one process has one GIL). This module starts it, reads its frames
into batches for the intake, and sends back the acknowledgements. If the receiver dies it is started
again; whatever it had not acknowledged comes again from the broker.
"""
from __future__ import annotations

import json
import logging
import queue
import subprocess
import threading
import time
from typing import IO, Any

from .intake import Incoming
from .metrics import Gauges
from .receiver import ACK, EVENT, FRAME, spawn, write_all
from .settings import MqttSettings

log = logging.getLogger("edge_gateway.mqtt")

READ_BYTES = 1 << 20
RESTART_MAX_S = 30.0
# Messages waiting for the intake, at most (plus one pipe read). Mosquitto does not hold a client to
# its inflight window once acknowledgements flow (2.0.11: 16,000 outstanding with a window of 1,000),
# so a backlog would otherwise pour into memory as fast as the receiver reads it. Past this the
# reader stops reading; the pipe fills, the receiver stops reading its socket, and TCP keeps the
# backlog at the broker, where it is persistent.
QUEUE_MAX_MSGS = 4000


class MqttSource:
    """Feeds `self.queue` with batches of Incoming messages; `ack()` sends their PUBACKs."""

    def __init__(self, s: MqttSettings, gauges: Gauges, receiver: subprocess.Popen[bytes] | None = None,
                 max_queued: int = QUEUE_MAX_MSGS):
        """`receiver`: one already started with `receiver.spawn` (the gateway starts it before its imports);
        `max_queued`: stop reading from the receiver while this many messages wait for the intake."""
        self.s = s
        self._first = receiver
        self.gauges = gauges
        self.queue: queue.Queue[list[Incoming]] = queue.Queue()
        self.queued = 0  # messages in `queue`, for the health output
        self.max_queued = max_queued
        self._room = threading.Condition()  # guards `queued`; notified when the intake takes messages
        self.generation = -1  # (receiver process number << 32) | its connection number
        self._epoch = 0
        self._read_on_connection = 0  # messages read from the receiver since its last "connected"
        self._proc: subprocess.Popen[bytes] | None = None
        self._ack_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-receiver", daemon=True)

    def put(self, batch: list[Incoming]) -> None:
        """Queue messages for the intake (the receiver's and the LoRa ingest's)."""
        with self._room:
            self.queued += len(batch)
        self.queue.put(batch)

    def taken(self, n: int) -> None:
        """The intake took `n` messages off the queue."""
        with self._room:
            self.queued -= n
            if self.queued < self.max_queued:
                self._room.notify_all()

    def _wait_for_room(self) -> None:
        with self._room:
            while self.queued >= self.max_queued and not self._stopping.is_set():
                self._room.wait(0.5)

    def start(self) -> None:
        """Start the receiver process (it connects, and reconnects, in the background)."""
        self._thread.start()

    def stop(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker for next time."""
        self._stopping.set()
        with self._room:
            self._room.notify_all()
        p = self._proc
        if p is not None and p.stdin is not None:
            with self._ack_lock:
                p.stdin.close()  # the receiver disconnects and exits
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        self._thread.join(5)

    def ack(self, msgs: list[Incoming]) -> None:
        """PUBACK these messages, those that came on the broker connection still current.

        After a reconnect the broker redelivers every unacknowledged message itself; those copies
        are acknowledged when they come through (dedup drops their readings).
        """
        gen = self.generation
        if not self.gauges.mqtt_connected:
            return
        recs = b"".join([ACK.pack(gen & 0xFFFFFFFF, m.mid, m.qos) for m in msgs if m.qos and m.generation == gen])
        p = self._proc
        if not recs or p is None or p.stdin is None:
            return
        with self._ack_lock:
            try:
                write_all(p.stdin, recs)
            except (OSError, ValueError):
                pass  # the receiver is gone; the broker redelivers these to the next one

    def _run(self) -> None:
        delay_s = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            p, self._first = self._first or spawn(self.s), None
            assert p.stdout is not None
            self._epoch += 1
            self._proc = p
            try:
                self._read(p.stdout)
            except OSError:
                pass
            rc = p.wait()
            self.gauges.mqtt_connected = self.gauges.mqtt_subscribed = False
            if self._stopping.is_set():
                return
            if time.monotonic() - started > 60:
                delay_s = 1.0
            log.error("MQTT receiver process ended; starting it again", extra={
                "event": "mqtt_receiver_died", "exit_status": rc, "restart_in_s": delay_s})
            self.gauges.error(f"MQTT receiver process ended with status {rc}")
            self._stopping.wait(delay_s)
            delay_s = min(delay_s * 2, RESTART_MAX_S)

    def _read(self, out: IO[bytes]) -> None:
        """Parse frames until the receiver's stdout closes."""
        # One buffer for the life of the receiver: os.read(1 MB) would allocate (and the kernel
        # zero-fill) a fresh megabyte on every call, about 90 µs each.
        buf = bytearray(READ_BYTES)
        view = memoryview(buf)
        base = self._epoch << 32
        head = FRAME.size
        end = 0
        while True:
            if end == len(buf):  # one frame larger than the buffer: make room for it
                view.release()
                buf.extend(bytes(len(buf)))
                view = memoryview(buf)
            self._wait_for_room()
            n = out.readinto(view[end:])  # type: ignore[attr-defined]
            if not n:
                return
            end += n
            pos, batch = 0, []
            while end - pos >= head:
                kind, gen, mid, qos, t_s, n_topic, n_payload = FRAME.unpack_from(buf, pos)
                a = pos + head
                b = a + n_topic
                e = b + n_payload
                if e > end:
                    break
                if kind == EVENT:
                    if batch:  # messages before a new connection belong to the old one
                        self._read_on_connection += len(batch)
                        self.put(batch)
                        batch = []
                    self._event(json.loads(buf[a:b]), base | gen, t_s)
                else:
                    raw = bytes(view[a:b])
                    try:
                        topic = raw.decode()
                    except UnicodeDecodeError:  # the contract decoder explains bad topics; keep them readable
                        topic = raw.decode("utf-8", "replace")
                    batch.append(Incoming(topic, bytes(view[b:e]), mid, qos, base | gen, t_s))
                pos = e
            if pos:
                buf[:end - pos] = buf[pos:end]  # the start of a frame still coming, to the front
                end -= pos
            if batch:
                self.gauges.last_message_s = batch[-1].received_s
                self._read_on_connection += len(batch)
                self.put(batch)

    def _event(self, ev: dict[str, Any], gen: int, t_s: float) -> None:
        what = ev.get("event")
        if what == "connected":
            self._read_on_connection = 0
            self.generation = gen
            self.gauges.mqtt_connected_s = t_s
            self.gauges.mqtt_connected = True
            self.gauges.mqtt_connects += 1
            log.info("connected to the broker", extra={
                "event": "mqtt_connected", "host": self.s.host, "port": self.s.port, "client_id": self.s.client_id,
                "session_present": ev.get("session_present"), "subscription": self.s.subscription})
        elif what == "subscribed":
            refused = ev.get("refused") or []
            self.gauges.mqtt_subscribed = not refused
            for reason in refused:
                log.error("subscription refused", extra={"event": "mqtt_subscribe_refused", "reason": reason,
                                                          "subscription": self.s.subscription})
                self.gauges.error(f"MQTT subscription {self.s.subscription} refused: {reason}")
        elif what == "disconnected":
            self.gauges.mqtt_connected = False
            self.gauges.mqtt_subscribed = False
            # How many messages the connection brought (as the receiver counted them, and as read here)
            # and how long it had been quiet: a broker that stops delivering shows as a long silence
            # ended by the keepalive; messages lost on the way here as messages_read < messages.
            log.warning("disconnected from the broker, reconnecting", extra={
                "event": "mqtt_disconnected", "reason": ev.get("reason"), "messages": ev.get("messages"),
                "messages_read": self._read_on_connection, "silent_s": ev.get("silent_s")})
        elif what == "refused":
            log.error("broker refused the connection", extra={"event": "mqtt_refused", "reason": ev.get("reason")})
            self.gauges.error(f"MQTT connect refused: {ev.get('reason')}")
