"""The MQTT receiver: paho-mqtt in a small process of its own, feeding the gateway through a pipe.

paho spends 80-90 µs of Python per message (packet parsing, callbacks, locks); in the gateway's
process that competes for the one GIL with decoding, formatting and the spool. In its own process it
runs on another core, and the gateway reads finished messages from a pipe in large chunks.

Started as `python -m edge_gateway.receiver` by `spawn()`, never by hand: `yukimizu gateway` starts
it before importing the rest of the gateway (their start-ups overlap), `MqttSource` starts another if
it dies. It imports only paho and the standard library, so it stays small (about 22 MB resident).

stdin: one JSON line with the settings, then acknowledgement records (connection generation, mid, qos).
stdout: frames, each a FRAME header then topic and payload bytes. A message frame carries the
generation of the connection it came on; an event frame (connected, subscribed, disconnected, refused)
carries a JSON object in place of the topic. stdin closing (the gateway stopped or died) ends this
process, leaving every unacknowledged message with the broker.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the gateway imports this module (frames, spawn) but never paho: that stays in the receiver
    import paho.mqtt.client as mqtt

    from .settings import MqttSettings

# kind (0 message, 1 event), generation, mid, qos, received_s (for an event: when it happened),
# then the byte counts of the topic and the payload that follow
FRAME = struct.Struct("<BIHBdHI")
ACK = struct.Struct("<IHB")  # generation, mid, qos
MESSAGE, EVENT = 0, 1
FLUSH_S = 0.003
F_SETPIPE_SZ = 1031  # Linux: a 1 MB pipe lets one read of the gateway take a thousand messages


class Receiver:
    """One paho client with manual acknowledgements, writing frames to `out_fd`."""

    def __init__(self, cfg: dict[str, Any], out_fd: int):
        import paho.mqtt.client as mqtt

        self.cfg = cfg
        self.out = os.fdopen(out_fd, "wb", buffering=1 << 16)
        self.out_lock = threading.Lock()  # paho's thread writes messages; the ack thread may write events
        self.generation = 0
        self.connected = False
        self.unflushed = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg["client_id"], clean_session=False,
                        protocol=mqtt.MQTTv311, manual_ack=True)
        if cfg["username"]:
            c.username_pw_set(cfg["username"], cfg["password"] or None)
        if cfg["tls"]:
            import ssl

            c.tls_set(ca_certs=cfg["ca_file"] or None, cert_reqs=ssl.CERT_REQUIRED)
        c.reconnect_delay_set(1, cfg["reconnect_max_s"])
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self.client = c

    def _send(self, kind: int, mid: int, qos: int, topic: bytes, payload: bytes) -> None:
        head = FRAME.pack(kind, self.generation, mid, qos, time.time(), len(topic), len(payload))
        with self.out_lock:
            try:
                self.out.write(head)
                self.out.write(topic)
                self.out.write(payload)
            except OSError:
                os._exit(0)  # the gateway is gone (killed): nothing here is acknowledged, the broker keeps it all
        if not self.unflushed.is_set():
            self.unflushed.set()

    def flush_after(self, delay_s: float) -> None:
        """Hand the gateway what arrived, `delay_s` after the first unflushed message (sooner at 64 KB).

        One pipe write per message would wake the gateway's reader thread thousands of times a
        second, and each wake-up takes the GIL from the intake. A few ms of delay is invisible."""
        while True:
            self.unflushed.wait()
            time.sleep(delay_s)
            with self.out_lock:
                self.unflushed.clear()
                self._flush()

    def _flush(self) -> None:
        try:
            self.out.flush()
        except OSError:
            os._exit(0)

    def _event(self, **what: Any) -> None:
        self._send(EVENT, 0, 0, json.dumps(what).encode(), b"")
        with self.out_lock:
            self._flush()

    def _on_connect(self, c: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any = None) -> None:
        if rc.is_failure:
            self._event(event="refused", reason=str(rc))
            return
        self.generation = (self.generation + 1) & 0xFFFFFFFF
        self.connected = True
        self._event(event="connected", session_present=bool(getattr(flags, "session_present", False)))
        c.subscribe(self.cfg["subscription"], qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, rcs: Any, _p: Any = None) -> None:
        refused = [str(rc) for rc in rcs if rc.is_failure]
        self._event(event="subscribed", refused=refused)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        self.connected = False
        self._event(event="disconnected", reason=str(rc))

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._send(MESSAGE, msg.mid, msg.qos, msg._topic, msg.payload)

    def serve_acks(self, in_fd: int) -> None:
        """PUBACK what the gateway committed, until stdin closes. Acks for an older connection are dropped:
        the broker redelivers those messages itself after a reconnect."""
        rest = b""
        while True:
            chunk = os.read(in_fd, 1 << 16)
            if not chunk:
                return
            data = rest + chunk
            n = len(data) - len(data) % ACK.size
            for gen, mid, qos in ACK.iter_unpack(data[:n]):
                if gen == self.generation and self.connected:
                    self.client.ack(mid, qos)
            rest = data[n:]


def spawn(s: MqttSettings) -> subprocess.Popen[bytes]:
    """Start a receiver process for these settings (it connects in the background)."""
    p = subprocess.Popen([sys.executable, "-m", "edge_gateway.receiver"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, bufsize=0)
    assert p.stdin is not None and p.stdout is not None
    try:
        import fcntl

        fcntl.fcntl(p.stdout.fileno(), F_SETPIPE_SZ, 1 << 20)
    except OSError:
        pass  # a smaller pipe only means smaller batches
    cfg = {"host": s.host, "port": s.port, "tls": s.tls, "ca_file": s.ca_file, "username": s.username,
           "password": s.password, "client_id": s.client_id, "subscription": s.subscription,
           "keepalive_s": s.keepalive_s, "reconnect_max_s": s.reconnect_max_s}
    try:
        write_all(p.stdin, json.dumps(cfg).encode() + b"\n")  # the password on stdin, not on the command line
    except OSError:
        pass  # it died at once: the caller sees its stdout close
    return p


def write_all(f: IO[bytes], data: bytes) -> None:
    """An unbuffered pipe write may take only part of the bytes (a signal in between): write the rest."""
    view = memoryview(data)
    while view:
        view = view[f.write(view) or 0:]


def main() -> None:
    """Read the settings line, connect, pass messages on and acknowledgements back until stdin closes."""
    stdin = sys.stdin.buffer.raw  # type: ignore[attr-defined]
    line = b""
    while not line.endswith(b"\n"):
        ch = os.read(stdin.fileno(), 1)  # byte by byte: what follows the line is binary acks
        if not ch:
            return
        line += ch
    cfg = json.loads(line)
    out_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the frames
    r = Receiver(cfg, out_fd)
    r.client.connect_async(cfg["host"], cfg["port"], keepalive=cfg["keepalive_s"])
    r.client.loop_start()
    threading.Thread(target=r.flush_after, args=(FLUSH_S,), name="flush", daemon=True).start()
    try:
        r.serve_acks(stdin.fileno())
    finally:
        r.client.disconnect()
        r.client.loop_stop()


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    sys.exit(0)
