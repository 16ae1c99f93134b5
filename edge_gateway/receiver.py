"""The MQTT receiver: paho-mqtt in a small process of its own, feeding the gateway through a pipe.

paho spends 35-45 µs of Python per message here (packet parsing, callbacks, locks); in the gateway's
process that would compete for the one GIL with decoding, formatting and the spool. In its own
process it runs on another core, and the gateway reads finished messages from a pipe in large chunks.
One thread runs paho's external-loop API and the acknowledgements together (see `Receiver.serve`).

Started as `python -m edge_gateway.receiver` by `spawn()`, never by hand: `yukimizu gateway` starts
it before importing the rest of the gateway (their start-ups overlap), `MqttSource` starts another if
it dies. It imports only paho and the standard library, so it stays small (about 23 MB resident).

stdin: one JSON line with the settings, then acknowledgement records (connection generation, mid, qos).
stdout: frames, each a FRAME header then topic and payload bytes. A message frame carries the
generation of the connection it came on; an event frame (connected, subscribed, disconnected, refused)
carries a JSON object in place of the topic. stdin closing (the gateway stopped or died) ends this
process, leaving every unacknowledged message with the broker.
"""
from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
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
# Frames reach the gateway this long after the first of them at most (sooner at 64 KB): one pipe
# write per message would wake the gateway's reader thousands of times a second, and each wake-up
# takes the GIL from its intake. A few ms of delay is invisible.
FLUSH_S = 0.003
FLUSH_BYTES = 1 << 16
# While this much output waits for the gateway (its pipe is full: it has enough to do), the broker
# socket is not read, so TCP holds the backlog at the broker. The pipe is written without blocking,
# so acknowledgements from the gateway are read meanwhile: a blocking write here used to hold them
# up, and the gateway's intake with them, for over a second.
OUT_HIGH_BYTES = 1 << 18
READ_BURST = 256  # packets handled between looks at the acknowledgements (about 150 KB of telemetry)
F_SETPIPE_SZ = 1031  # Linux: a 1 MB pipe lets one read of the gateway take a thousand messages
# Lower CPU priority than the gateway and InfluxDB: draining a backlog, the receiver only has to stay
# ahead of the intake, and on a busy machine the CPU it would spend running further ahead goes to
# the stages behind it. Paired bench runs: 9 of 10 faster, median +12 % (2 cores).
NICE = 5


class ReadAhead:
    """A broker socket whose small reads are served from one large `recv`, and whose small writes
    leave together.

    paho reads each packet's fixed header a byte at a time, one system call per byte: four calls for
    every message. paho asks `pending()` before it waits in select, so bytes held here are never left
    waiting for the next packet to arrive. paho also sends each 4-byte PUBACK with a `send` of its
    own; here they are queued and `flush` sends them in one call."""

    __slots__ = ("buf", "error", "out", "pos", "sock")

    def __init__(self, sock: Any):
        self.sock = sock
        self.buf = b""
        self.pos = 0
        self.out = bytearray()  # queued by paho's send(), not yet given to the socket
        self.error: OSError | None = None  # a failed flush, raised to paho at its next read or write

    def recv(self, n: int) -> bytes:
        """Up to `n` bytes: from the buffer, or from one `recv` of at least 64 KB."""
        if self.error is not None:
            raise self.error
        pos = self.pos
        if pos >= len(self.buf):
            data = self.sock.recv(max(n, 65536))
            if len(data) <= n:
                return data
            self.buf = data
            pos = 0
        # Never past the end: a short read used to leave pos beyond it, pending() negative (and so
        # true), and the serve loop calling loop_read on an empty socket until the broker hung up.
        end = min(pos + n, len(self.buf))
        self.pos = end
        return self.buf[pos:end]

    def pending(self) -> int:
        """Bytes received but not yet read, here and in a TLS layer below."""
        inner = getattr(self.sock, "pending", None)
        return len(self.buf) - self.pos + (inner() if inner else 0)

    def send(self, data: bytes) -> int:
        """Queue `data` for `flush` and say it was all taken (paho then queues the next packet)."""
        if self.error is not None:
            raise self.error
        self.out += data
        return len(data)

    def flush(self) -> None:
        """Send what is queued, as far as the socket takes it now; the rest waits for the next flush."""
        out = self.out
        while out:
            try:
                n = self.sock.send(out)
            except BlockingIOError:
                return
            except OSError as e:
                import ssl  # not at the top: the gateway imports this module too, and never needs ssl

                if isinstance(e, (ssl.SSLWantWriteError, ssl.SSLWantReadError)):
                    return  # a TLS socket that would block
                self.error = e  # the connection is gone: paho hears of it and reconnects
                out.clear()
                return
            del out[:n]

    def close(self) -> None:
        """Send what is queued (paho closes right after its DISCONNECT), then close."""
        self.flush()
        self.sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class Receiver:
    """One paho client with manual acknowledgements, writing frames to `out_fd`."""

    def __init__(self, cfg: dict[str, Any], out_fd: int):
        import paho.mqtt.client as mqtt

        self.cfg = cfg
        self.out_fd = out_fd
        os.set_blocking(out_fd, False)
        self.out = bytearray()  # frames not yet taken by the gateway's pipe
        self.out_blocked = False  # the pipe was full at the last write: wait until select says writable
        self.generation = 0
        self.connected = False
        self.unflushed_at = 0.0  # monotonic time of the first frame not yet handed to the gateway
        self.retry_at = 0.0
        self.retry_s = 1.0
        self.messages = 0  # on the current connection, and when the last one came: said on disconnect
        self.last_message_at = 0.0
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg["client_id"], clean_session=False,
                        protocol=mqtt.MQTTv311, manual_ack=True)
        if cfg["username"]:
            c.username_pw_set(cfg["username"], cfg["password"] or None)
        if cfg["tls"]:
            import ssl

            c.tls_set(ca_certs=cfg["ca_file"] or None, cert_reqs=ssl.CERT_REQUIRED)
        if hasattr(c, "_create_socket"):  # paho 2.x's one place a socket is made; without it, plain reads
            make = c._create_socket
            c._create_socket = lambda: ReadAhead(make())  # type: ignore[method-assign]
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self.client = c

    def _send(self, kind: int, mid: int, qos: int, topic: bytes, payload: bytes) -> None:
        out = self.out
        out += FRAME.pack(kind, self.generation, mid, qos, time.time(), len(topic), len(payload))
        out += topic
        out += payload
        if not self.unflushed_at:
            self.unflushed_at = time.monotonic()
        if len(out) >= FLUSH_BYTES and not self.out_blocked:
            self._flush()

    def _flush(self) -> None:
        """Write queued frames to the gateway's pipe, as much as it takes without waiting."""
        out = self.out
        while out:
            try:
                n = os.write(self.out_fd, out)
            except BlockingIOError:
                self.out_blocked = True
                return
            except OSError:
                os._exit(0)  # the gateway is gone (killed): nothing here is acknowledged, the broker keeps it all
            del out[:n]
        self.out_blocked = False
        self.unflushed_at = 0.0

    def _event(self, **what: Any) -> None:
        self._send(EVENT, 0, 0, json.dumps(what).encode(), b"")
        self._flush()

    def _on_connect(self, c: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any = None) -> None:
        if rc.is_failure:
            self._event(event="refused", reason=str(rc))
            return
        self.generation = (self.generation + 1) & 0xFFFFFFFF
        self.connected = True
        self.retry_s = 1.0
        self.messages = 0
        self.last_message_at = time.monotonic()
        self._event(event="connected", session_present=bool(getattr(flags, "session_present", False)))
        c.subscribe(self.cfg["subscription"], qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, rcs: Any, _p: Any = None) -> None:
        refused = [str(rc) for rc in rcs if rc.is_failure]
        self._event(event="subscribed", refused=refused)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        self.connected = False
        self._back_off()
        self._event(event="disconnected", reason=str(rc), messages=self.messages,
                    silent_s=round(time.monotonic() - self.last_message_at, 1))

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._send(MESSAGE, msg.mid, msg.qos, msg._topic, msg.payload)
        self.messages += 1
        self.last_message_at = time.monotonic()

    def _acks(self, data: bytes) -> bytes:
        """PUBACK the committed messages in `data`; return a trailing partial record. Acks for an older
        connection are dropped: the broker redelivers those messages itself after a reconnect."""
        n = len(data) - len(data) % ACK.size
        if self.connected:
            gen, ack = self.generation, self.client.ack
            for g, mid, qos in ACK.iter_unpack(data[:n]):
                if g == gen:
                    ack(mid, qos)
        return data[n:]

    def _connect(self) -> None:
        try:
            self.client.reconnect()
        except OSError:  # broker down or unreachable
            self._back_off()

    def _back_off(self) -> None:
        """Wait before the next connect, twice as long each time until a CONNACK, like paho's own loop."""
        self.retry_at = time.monotonic() + self.retry_s
        self.retry_s = min(self.retry_s * 2, float(self.cfg["reconnect_max_s"]))

    def _write(self, sock: Any) -> None:
        """Hand paho's queued packets (PUBACKs, mostly) to the socket: with the read-ahead, one `send`."""
        self.client.loop_write()
        flush = getattr(sock, "flush", None)
        if flush is not None:
            flush()
            if sock.error is not None and self.client.socket() is sock:
                self.client.loop_read()  # paho meets the error there and handles the lost connection

    def _want_write(self, sock: Any) -> bool:
        return self.client.want_write() or bool(getattr(sock, "out", None))

    def serve(self, in_fd: int) -> None:
        """Run paho's network loop and read acknowledgements, both in this one thread, until stdin closes.

        One thread, not paho's loop thread plus an acknowledgement thread: with three threads, handing
        the GIL back and forth cost more system calls than the messages themselves."""
        c = self.client
        c.on_socket_register_write = lambda *_: None  # ack() queues its PUBACK; `_write` sends them together
        rest = b""
        misc_at = 0.0
        while True:
            now = time.monotonic()
            sock = c.socket()
            if sock is None and now >= self.retry_at:
                self._connect()
                sock = c.socket()
            timeout = misc_at - now
            if self.unflushed_at and not self.out_blocked:
                timeout = min(timeout, self.unflushed_at + FLUSH_S - now)
            if sock is None:
                timeout = min(timeout, self.retry_at - now)
            reading = sock is not None and len(self.out) < OUT_HIGH_BYTES
            pending = getattr(sock, "pending", None)
            if reading and pending is not None and pending():
                timeout = 0.0  # bytes already read ahead: select would not wake for them
            writing = [sock] if sock is not None and self._want_write(sock) else []
            if self.out_blocked:
                writing.append(self.out_fd)
            r, w, _ = select.select([in_fd, sock] if reading else [in_fd], writing, [], max(timeout, 0.0))
            if self.out_fd in w:
                self._flush()
            if in_fd in r:
                chunk = os.read(in_fd, 1 << 16)
                if not chunk:
                    return
                rest = self._acks(rest + chunk)
            if reading and (sock in r or (pending is not None and pending())):
                # The packets read ahead, paho taking one per call; at most a burst, so that the
                # acknowledgements and the pipe get their turn while a backlog streams in (reading
                # ahead, paho's next packet header refills the buffer from the socket).
                for _ in range(READ_BURST):
                    c.loop_read()
                    if c.socket() is not sock or not (pending and pending()) or len(self.out) >= OUT_HIGH_BYTES:
                        break
            sock = c.socket()
            if sock is not None and self._want_write(sock):
                self._write(sock)
            now = time.monotonic()
            if now >= misc_at:
                c.loop_misc()  # keepalive pings, and noticing a broker gone silent
                misc_at = now + 1.0
            if self.unflushed_at and not self.out_blocked and now - self.unflushed_at >= FLUSH_S:
                self._flush()


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
    try:
        os.nice(NICE)
    except OSError:
        pass  # not allowed here: same priority as the gateway, which works too
    out_fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the frames
    r = Receiver(cfg, out_fd)
    r.client.connect_async(cfg["host"], cfg["port"], keepalive=cfg["keepalive_s"])
    try:
        r.serve(stdin.fileno())
    finally:
        if r.client.socket() is not None:
            r.client.disconnect()
            r.client.loop_write()


if __name__ == "__main__":
    try:
        main()
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    sys.exit(0)
