"""The receiver's read-ahead socket: paho's reads of any size get the stream's bytes in order,
pending() says exactly how many are held (never less than zero, which Python takes as true), and
paho's many small sends leave together, in order, with a failure reported back to paho."""
from __future__ import annotations

import ssl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_gateway.receiver import ReadAhead


class Arrivals:
    """A non-blocking socket whose data comes in the given TCP-sized pieces, then would block."""

    def __init__(self, pieces: list[bytes]):
        self.pieces = pieces

    def recv(self, n: int) -> bytes:
        if not self.pieces:
            raise BlockingIOError
        piece = self.pieces.pop(0)
        if len(piece) > n:
            self.pieces.insert(0, piece[n:])
        return piece[:n]


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.binary(min_size=1, max_size=200_000), min_size=1, max_size=6),
       wants=st.lists(st.integers(1, 100_000), min_size=1, max_size=60))
def test_reads_of_any_size_get_the_stream_in_order_and_pending_is_never_negative(pieces, wants):
    stream = b"".join(pieces)
    ra = ReadAhead(Arrivals(list(pieces)))
    got = b""
    for n in wants:
        try:
            chunk = ra.recv(n)
        except BlockingIOError:
            assert ra.pending() == 0, "nothing held back when the socket has nothing either"
            break
        assert 0 < len(chunk) <= n
        got += chunk
        assert ra.pending() >= 0
        assert got + ra.buf[ra.pos:] == stream[:len(got) + ra.pending()]
    assert stream.startswith(got)


def test_a_short_read_at_the_end_of_the_buffer_leaves_nothing_pending():
    # The case that stalled a drain for 45 s: paho asks for a packet's 700 remaining bytes, 300 are
    # held; the rest then comes alone. pending() must be 0, not -400 (true), or the serve loop spins.
    ra = ReadAhead(Arrivals([b"x" * 65_536, b"y" * 400]))
    assert ra.recv(1) == b"x"  # one recv of 64 KB, held
    assert len(ra.recv(65_235)) == 65_235
    assert ra.recv(700) == b"x" * 300
    assert ra.pending() == 0
    assert ra.recv(400) == b"y" * 400
    assert ra.pending() == 0


class Taker:
    """A non-blocking socket that takes at most the given byte counts per send, then would block."""

    def __init__(self, takes: list[int], fail: OSError | None = None):
        self.takes = takes
        self.fail = fail
        self.sent = b""
        self.calls = 0
        self.closed = False

    def send(self, data: bytes) -> int:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        if not self.takes:
            raise BlockingIOError
        n = min(self.takes.pop(0), len(data))
        self.sent += bytes(data[:n])
        return n

    def close(self) -> None:
        self.closed = True


def test_packets_queued_by_paho_leave_in_one_send():
    sock = Taker([1 << 20])
    ra = ReadAhead(sock)
    pubacks = [bytes([0x40, 2, 0, mid]) for mid in range(1, 101)]
    for p in pubacks:
        assert ra.send(p) == 4  # paho takes it as sent and goes on to the next packet
    assert sock.calls == 0
    ra.flush()
    assert sock.calls == 1 and sock.sent == b"".join(pubacks)


@settings(max_examples=200, deadline=None)
@given(packets=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=40),
       takes=st.lists(st.integers(1, 2000), max_size=30))
def test_a_socket_that_takes_part_gets_the_rest_later_in_order(packets, takes):
    sock = Taker(list(takes))
    ra = ReadAhead(sock)
    for p in packets:
        ra.send(p)
        ra.flush()  # may leave some queued: the socket would block
    sock.takes = [1 << 20]  # writable again
    ra.flush()
    assert sock.sent == b"".join(packets)
    assert not ra.out


def test_a_send_that_fails_reaches_paho_at_its_next_read():
    # The connection broke under the queued PUBACKs: paho must hear of it (its read fails and it
    # reconnects), not carry on as if they had been sent.
    sock = Taker([], fail=ConnectionResetError(104, "Connection reset by peer"))
    ra = ReadAhead(sock)
    ra.send(b"\x40\x02\x00\x01")
    ra.flush()
    with pytest.raises(ConnectionResetError):
        ra.recv(1)


def test_close_sends_what_is_queued_first():
    sock = Taker([1 << 20])
    ra = ReadAhead(sock)
    ra.send(b"\xe0\x00")  # paho closes the socket right after queueing its DISCONNECT
    ra.close()
    assert sock.sent == b"\xe0\x00" and sock.closed


def test_a_tls_socket_that_would_block_keeps_the_queue():
    sock = Taker([], fail=ssl.SSLWantWriteError())
    ra = ReadAhead(sock)
    ra.send(b"\x40\x02\x00\x07")
    ra.flush()
    assert ra.error is None and bytes(ra.out) == b"\x40\x02\x00\x07"
    sock.fail, sock.takes = None, [1 << 20]
    ra.flush()
    assert sock.sent == b"\x40\x02\x00\x07"
