"""Frames from the receiver process, cut anywhere by the pipe, come out as the same messages and events."""
from __future__ import annotations

import json
import os
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_gateway import mqtt_source
from edge_gateway.metrics import Gauges
from edge_gateway.mqtt_source import MqttSource
from edge_gateway.receiver import ACK, EVENT, FRAME, MESSAGE
from edge_gateway.settings import MqttSettings


def frame(kind: int, gen: int, mid: int, topic: bytes, payload: bytes, t_s: float = 1_795_700_000.5) -> bytes:
    return FRAME.pack(kind, gen, mid, 1, t_s, len(topic), len(payload)) + topic + payload


def event(gen: int, **what) -> bytes:
    return frame(EVENT, gen, 0, json.dumps(what).encode(), b"")


def read_through_pipe(data: bytes, cuts: list[int]) -> MqttSource:
    """Write `data` into a real pipe in pieces ending at `cuts`; let MqttSource._read parse it to EOF."""
    src = MqttSource(MqttSettings(client_id="t"), Gauges())
    src._epoch = 3
    r, w = os.pipe()

    def write() -> None:
        last = 0
        for c in sorted(set(cuts)) + [len(data)]:
            os.write(w, data[last:c])
            last = c
        os.close(w)

    t = threading.Thread(target=write)
    t.start()
    with os.fdopen(r, "rb", buffering=0) as out:
        src._read(out)
    t.join()
    return src


STREAM = (event(1, event="connected", session_present=True) + event(1, event="subscribed", refused=[])
          + frame(MESSAGE, 1, 7, b"yukimizu/v1/s/soil/d-1/telemetry", b'{"v":1}')
          + frame(MESSAGE, 1, 8, b"yukimizu/v1/s/soil/\xff/telemetry", b"\x00" * 3000)
          + event(1, event="disconnected", reason="keepalive")
          + event(2, event="connected", session_present=True)
          + frame(MESSAGE, 2, 7, b"yukimizu/v1/s/soil/d-1/telemetry", b""))


# (topic, payload, mid, generation): the receiver's 3rd process start, its connections 1 and 2
EXPECTED = [
    ("yukimizu/v1/s/soil/d-1/telemetry", b'{"v":1}', 7, 3 << 32 | 1),
    ("yukimizu/v1/s/soil/\ufffd/telemetry", b"\x00" * 3000, 8, 3 << 32 | 1),  # kept readable for the dead letter
    ("yukimizu/v1/s/soil/d-1/telemetry", b"", 7, 3 << 32 | 2),
]


def messages_of(src: MqttSource) -> list:
    got = []
    while not src.queue.empty():
        got.extend(src.queue.get_nowait())
    return got


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(1, len(STREAM) - 1), max_size=40))
def test_frames_cut_at_any_byte_give_the_same_messages_and_generations(cuts):
    src = read_through_pipe(STREAM, cuts)
    got = messages_of(src)
    assert [(m.topic, m.payload, m.mid, m.generation) for m in got] == EXPECTED
    assert all(m.received_s == 1_795_700_000.5 for m in got)
    assert src.queued == 3
    assert src.generation == 3 << 32 | 2, "acks go only to the connection that is current"
    assert src.gauges.mqtt_connects == 2 and src.gauges.mqtt_connected and not src.gauges.mqtt_subscribed


def test_a_frame_larger_than_the_read_buffer_grows_it(monkeypatch):
    monkeypatch.setattr(mqtt_source, "READ_BYTES", 64)
    src = read_through_pipe(STREAM, [10, 100, 2000])
    assert [(m.topic, m.payload, m.mid, m.generation) for m in messages_of(src)] == EXPECTED


def test_acks_for_an_older_connection_are_not_sent():
    src = read_through_pipe(STREAM, [])
    msgs = messages_of(src)
    r, w = os.pipe()

    class Proc:  # the receiver's stdin, as MqttSource writes to it
        stdin = os.fdopen(w, "wb", buffering=0)

    src._proc = Proc()  # type: ignore[assignment]
    src.ack(msgs)
    Proc.stdin.close()
    with os.fdopen(r, "rb") as f:
        sent = f.read()
    # One ack, for connection 2's message: the broker redelivers connection 1's two itself.
    assert [ACK.unpack(sent[i:i + ACK.size]) for i in range(0, len(sent), ACK.size)] == [(2, 7, 1)]


def test_a_disconnect_is_logged_with_the_messages_read_on_that_connection(caplog):
    # Set against the receiver's own count (the event's "messages"), it shows whether messages the
    # broker delivered went missing on the way to the gateway: here the receiver says 3, 2 arrived.
    topic = b"yukimizu/v1/s/soil/d-1/telemetry"
    data = (event(1, event="connected", session_present=True)
            + frame(MESSAGE, 1, 7, topic, b"{}") + frame(MESSAGE, 1, 8, topic, b"{}")
            + event(1, event="disconnected", reason="keepalive", messages=3, silent_s=31.5)
            + event(2, event="connected", session_present=True) + frame(MESSAGE, 2, 9, topic, b"{}"))
    with caplog.at_level("WARNING", logger="edge_gateway.mqtt"):
        read_through_pipe(data, [])
    lost = [r for r in caplog.records if getattr(r, "event", "") == "mqtt_disconnected"]
    assert [(r.messages, r.messages_read, r.silent_s) for r in lost] == [(3, 2, 31.5)]
