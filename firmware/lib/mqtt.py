"""MQTT 3.1.1 client for MicroPython asyncio.

QoS 0 and 1 publish, with the PUBACK awaited and the message re-sent (DUP, same packet id) on
a new connection when it does not come; subscribe with retained delivery; keepalive (PINGREQ
when idle, connection dropped when the broker is silent for 1.5 keepalives); a last will;
reconnect with exponential backoff and jitter; TLS through the `ssl` module when asked.

Link failures never reach the application as exceptions: `connect`, `publish` and `subscribe`
return False and the client retries with backoff. Misuse (bad QoS, empty topic) raises
ValueError at once. Spec section numbers refer to MQTT 3.1.1 (OASIS, 2014).
"""
import asyncio
import struct
import time

from micropython import const

_CONNECT = const(0x10)
_CONNACK = const(0x20)
_PUBLISH = const(0x30)
_PUBACK = const(0x40)
_SUBSCRIBE = const(0x82)
_SUBACK = const(0x90)
_PINGREQ = const(0xC0)
_PINGRESP = const(0xD0)
_DISCONNECT = const(0xE0)
_DUP = const(0x08)
_MAX_REMAINING = const(268435455)  # section 2.2.3
_CHUNK = const(512)
_PING = b"\xc0\x00"
_BYE = b"\xe0\x00"
# Errors that mean "the link failed", in one place; everything else is a bug and propagates.
_LINK_ERRORS = (OSError, EOFError, asyncio.TimeoutError)
# MicroPython's TLS (mbedtls) reports a handshake or certificate failure as ValueError; while
# connecting, that too is a link failure (kept in `last_error` so a person can read why).
_CONNECT_ERRORS = (OSError, EOFError, asyncio.TimeoutError, ValueError)


def _remaining(n):
    """Remaining Length field, 1-4 bytes (section 2.2.3)."""
    if not 0 <= n <= _MAX_REMAINING:
        raise ValueError("MQTT packet too large: %d bytes" % n)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return out


def _utf8(s):
    """A length-prefixed UTF-8 string (section 1.5.3)."""
    b = s.encode() if isinstance(s, str) else bytes(s)
    return struct.pack("!H", len(b)) + b


class MQTTClient:
    """One MQTT 3.1.1 connection to one broker, kept up by the client itself."""

    def __init__(self, client_id, host, port=1883, user="", password="", keepalive_s=120, tls=False,
                 will=None, clean_session=True, ack_timeout_ms=3000, retries=2, connect_timeout_ms=10000,
                 backoff_min_ms=500, backoff_max_ms=60000, on_message=None, ca_der=None):
        if not client_id or not 0 <= keepalive_s <= 65535:
            raise ValueError("MQTT client needs a client id and keepalive_s 0..65535")
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.keepalive_s = keepalive_s
        self.tls = tls
        self.ca_der = ca_der  # DER CA certificate that must have signed the broker's (TLS only)
        self.will = will  # (topic, payload bytes, qos, retain)
        self.clean_session = clean_session
        self.ack_timeout_ms = ack_timeout_ms
        self.retries = retries
        self.connect_timeout_ms = connect_timeout_ms
        self.backoff_min_ms = backoff_min_ms
        self.backoff_max_ms = backoff_max_ms
        self.on_message = on_message
        self._r = self._w = None
        self._nodelay = False
        self._chunk = bytearray(_CHUNK)
        self._connected = False
        self._lock = asyncio.Lock()
        self._event = asyncio.Event()
        self._wait_pid = 0
        self._acked = False
        self._pid = 0
        self._subs = []
        self._tasks = []
        self._backoff_ms = backoff_min_ms
        self._next_try = time.ticks_ms()
        self._last_rx = self._last_tx = time.ticks_ms()
        self.connects = 0
        self.failed_connects = 0
        self.last_error = None
        self.resends = 0

    @property
    def connected(self):
        """True while a CONNACK-accepted connection is up."""
        return self._connected

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    async def _write(self, *bufs):
        """Send one packet made of buffers and file parts (path, offset, length), whole, in order."""
        async with self._lock:
            w = self._w
            if w is None:
                raise OSError("not connected")
            if len(bufs) == 1 and not isinstance(bufs[0], tuple):
                w.write(bufs[0])
            elif self._nodelay:
                # Nagle is off: pieces go out as they are written, and a batch on flash is
                # streamed through one 512-byte buffer instead of being loaded whole.
                for b in bufs:
                    if isinstance(b, tuple):
                        await self._stream_file(w, b)
                    else:
                        w.write(b)
            else:
                # One write per packet (TLS, where Nagle cannot be turned off here): a packet split
                # over writes meets Nagle and the peer's delayed ACK, about 40 ms per message.
                n = 0
                for b in bufs:
                    n += b[2] if isinstance(b, tuple) else len(b)
                pkt = bytearray(n)  # sized once: growing it leaves freed blocks in a small heap
                mv = memoryview(pkt)
                i = 0
                for b in bufs:
                    if isinstance(b, tuple):
                        with open(b[0], "rb") as f:
                            f.seek(b[1])
                            f.readinto(mv[i : i + b[2]])
                        i += b[2]
                    else:
                        mv[i : i + len(b)] = b
                        i += len(b)
                w.write(pkt)
                del mv, pkt
            await w.drain()
            self._last_tx = time.ticks_ms()

    async def _stream_file(self, w, part):
        path, offset, length = part
        mv = memoryview(self._chunk)
        with open(path, "rb") as f:
            f.seek(offset)
            while length > 0:
                n = f.readinto(mv[: min(length, _CHUNK)])
                if not n:
                    raise OSError("spool file %s is shorter than expected" % path)
                w.write(mv[:n])  # copied by the stream if the socket cannot take it now
                await w.drain()
                length -= n

    async def _read_packet(self):
        r = self._r
        if r is None:
            raise OSError("not connected")
        h = (await r.readexactly(1))[0]
        n = 0
        shift = 0
        while True:
            b = (await r.readexactly(1))[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 21:
                raise OSError("bad remaining length from broker")
        body = await r.readexactly(n) if n else b""
        self._last_rx = time.ticks_ms()
        return h, body

    def _connect_packet(self):
        flags = 0x02 if self.clean_session else 0
        payload = [_utf8(self.client_id)]
        if self.will:
            topic, msg, qos, retain = self.will
            flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
            payload.append(_utf8(topic))
            payload.append(_utf8(msg))
        if self.user:
            flags |= 0x80
            payload.append(_utf8(self.user))
            if self.password:
                flags |= 0x40
                payload.append(_utf8(self.password))
        var = b"\x00\x04MQTT\x04" + bytes((flags,)) + struct.pack("!H", self.keepalive_s)  # section 3.1.2
        body = var + b"".join(payload)
        return bytes((_CONNECT,)) + _remaining(len(body)) + body

    async def connect(self):
        """Connect unless connected or still backing off. True when connected; never raises on link errors."""
        if self._connected:
            return True
        if time.ticks_diff(self._next_try, time.ticks_ms()) > 0:
            return False
        try:
            await asyncio.wait_for_ms(self._open(), self.connect_timeout_ms)
        except _CONNECT_ERRORS as e:
            self.last_error = "%s: %s" % (type(e).__name__, str(e).strip() or "timeout")
            self._close()
            self.failed_connects += 1
            jitter = self._backoff_ms // 4
            if jitter:
                jitter = time.ticks_ms() % jitter  # cheap spread so a fleet does not reconnect in step
            self._next_try = time.ticks_add(time.ticks_ms(), self._backoff_ms + jitter)
            self._backoff_ms = min(self._backoff_ms * 2, self.backoff_max_ms)
            return False
        self._backoff_ms = self.backoff_min_ms
        self.connects += 1
        return True

    async def _open(self):
        if self.tls:
            import ssl  # lazy: TLS costs heap only on devices that use it

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if self.ca_der:
                ctx.load_verify_locations(cadata=self.ca_der)
                ctx.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]  # (missing from the stub)
            else:
                ctx.verify_mode = ssl.CERT_NONE  # type: ignore[attr-defined]  # encrypted, server not verified
            self._r, self._w = await asyncio.open_connection(self.host, self.port, ssl=ctx)
        else:
            self._r, self._w = await asyncio.open_connection(self.host, self.port)
        self._nodelay = False
        if not self.tls:
            try:
                sock = getattr(self._w, "s")  # MicroPython's Stream keeps its socket in .s
                sock.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY: the same numbers in Linux and lwIP
                self._nodelay = True
            except (AttributeError, OSError):
                pass
        await self._write(self._connect_packet())
        h, body = await self._read_packet()
        if h != _CONNACK or len(body) != 2:
            raise OSError("expected CONNACK, got packet type 0x%02x" % h)
        if body[1] != 0:
            # 1-5: protocol, identifier, unavailable, credentials, not authorised (section 3.2.2.3).
            raise OSError("broker refused connection, return code %d" % body[1])
        self._connected = True
        self._tasks = [asyncio.create_task(self._reader()), asyncio.create_task(self._pinger())]
        for topic, qos in self._subs:
            await self._send_subscribe(topic, qos)

    def _close(self):
        self._connected = False
        w = self._w
        self._r = self._w = None
        if w is not None:
            try:
                w.close()
            except OSError:
                pass
        for t in self._tasks:
            if t is not asyncio.current_task():
                t.cancel()
        self._tasks = []
        self._event.set()  # wake a publisher waiting for a PUBACK that will not come on this link

    async def _reader(self):
        try:
            while True:
                h, body = await self._read_packet()
                kind = h & 0xF0
                if kind == _PUBACK or kind == _SUBACK:
                    if struct.unpack("!H", body[:2])[0] == self._wait_pid:
                        self._acked = True
                        self._event.set()
                elif kind == _PUBLISH:
                    await self._incoming(h, body)
                elif kind != _PINGRESP:
                    raise OSError("unexpected packet type 0x%02x from broker" % h)
        except _LINK_ERRORS:
            self._close()

    async def _incoming(self, h, body):
        n = struct.unpack("!H", body[:2])[0]
        topic = body[2 : 2 + n].decode()
        i = 2 + n
        qos = (h >> 1) & 3
        pid = 0
        if qos:
            pid = struct.unpack("!H", body[i : i + 2])[0]
            i += 2
        if self.on_message:
            self.on_message(topic, body[i:], bool(h & 1))
        if qos == 1:
            await self._write(struct.pack("!BBH", _PUBACK, 2, pid))

    async def _pinger(self):
        ka_ms = self.keepalive_s * 1000
        if not ka_ms:
            return
        try:
            while True:
                await asyncio.sleep_ms(ka_ms // 4)
                now = time.ticks_ms()
                if time.ticks_diff(now, self._last_rx) > ka_ms * 3 // 2:
                    raise OSError("broker silent for 1.5 keepalives")  # section 3.1.2.10
                if time.ticks_diff(now, self._last_tx) >= ka_ms // 2:
                    await self._write(_PING)
        except _LINK_ERRORS:
            self._close()

    def _expect(self, pid):
        # Set before sending: the PUBACK may arrive while the send is still draining.
        self._wait_pid = pid
        self._acked = False
        self._event.clear()

    async def _await_ack(self):
        if not self._acked and self._connected:
            try:
                await asyncio.wait_for_ms(self._event.wait(), self.ack_timeout_ms)
            except asyncio.TimeoutError:
                pass
        self._wait_pid = 0
        return self._acked

    async def _send_subscribe(self, topic, qos, pid=0):
        pid = pid or self._next_pid()
        t = _utf8(topic)
        await self._write(bytes((_SUBSCRIBE,)) + _remaining(len(t) + 3), struct.pack("!H", pid), t, bytes((qos,)))
        return pid

    async def subscribe(self, topic, qos=1):
        """Subscribe now if connected (True when the SUBACK came) and again after every reconnect."""
        if not topic or qos not in (0, 1):
            raise ValueError("subscribe needs a topic and qos 0 or 1")
        if (topic, qos) not in self._subs:
            self._subs.append((topic, qos))
        if not self._connected:
            return False
        pid = self._next_pid()
        self._expect(pid)
        try:
            await self._send_subscribe(topic, qos, pid)
        except _LINK_ERRORS:
            self._close()
            return False
        return await self._await_ack()

    async def publish(self, topic, parts, qos=1, retain=False):
        """Publish `parts` as one message. True when delivered (PUBACK for QoS 1).

        `parts` is bytes, or a tuple of buffers and file parts (path, offset, length) that are
        streamed from flash (again on a re-send), so a large batch never needs to fit in RAM.
        """
        if not topic or qos not in (0, 1):
            raise ValueError("publish needs a topic and qos 0 or 1")
        if isinstance(parts, (bytes, bytearray, memoryview)):
            parts = (parts,)
        elif isinstance(parts, str):
            parts = (parts.encode(),)
        size = 0
        for p in parts:
            size += p[2] if isinstance(p, tuple) else len(p)
        t = _utf8(topic)
        pid = self._next_pid() if qos else 0
        var_n = len(t) + (2 if qos else 0)
        rem = _remaining(var_n + size)
        pid_b = struct.pack("!H", pid) if qos else b""
        for attempt in range(self.retries + 1):
            if not self._connected and not await self.connect():
                return False
            h = _PUBLISH | (qos << 1) | (1 if retain else 0) | (_DUP if attempt else 0)  # section 3.3.1
            try:
                if qos:
                    self._expect(pid)
                await self._write(bytes((h,)) + rem + t + pid_b, *parts)
            except _LINK_ERRORS:
                self._close()
                continue
            if not qos:
                return True
            if await self._await_ack():
                return True
            # No PUBACK: in 3.1.1 a message is re-sent only on a new connection (section 4.4).
            self.resends += 1
            self._close()
            self._next_try = time.ticks_ms()
        return False

    async def disconnect(self):
        """Say goodbye (DISCONNECT: the broker discards the will) and close."""
        if self._connected:
            try:
                await self._write(_BYE)
            except _LINK_ERRORS:
                pass
        self._close()
