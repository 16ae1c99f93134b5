"""The receiver process against a real Mosquitto: over TLS, large and small messages in order, acks
honoured (unacknowledged ones come again), a refused login reported and retried without spinning."""
from __future__ import annotations

import getpass
import json
import os
import queue
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import Message, wait_for

from edge_gateway.intake import Incoming
from edge_gateway.metrics import Gauges
from edge_gateway.mqtt_source import MqttSource
from edge_gateway.receiver import EVENT, FRAME, spawn
from edge_gateway.settings import MqttSettings
from yukimizu.broker.certs import make_certs
from yukimizu.broker.passwd import hash_password
from yukimizu.servers import Mosquitto, free_port

TOPIC = "yukimizu/v1/goshogawara/soil/soil-{:03d}/telemetry"


@pytest.fixture
def tls_broker(tmp_path: Path):
    """Mosquitto with a plain listener (for the publisher) and a TLS listener with our own CA."""
    certs = make_certs(tmp_path / "certs", ["localhost"], ["127.0.0.1"])
    tls_port = free_port()
    b = Mosquitto(tmp_path / "m", extra_config=(
        f"listener {tls_port} 127.0.0.1\ncafile {certs['ca']}\ncertfile {certs['cert']}\n"
        f"keyfile {certs['key']}\n"))
    b.start()
    yield b, tls_port, certs["ca"]
    b.stop()


def take(src: MqttSource, n: int, timeout_s: float = 30,
         each_batch: Callable[[list[Incoming]], None] | None = None) -> list[Incoming]:
    """Up to `n` messages off the queue, as the intake takes them; `each_batch` sees every batch taken."""
    got: list[Incoming] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        try:
            batch = src.queue.get(timeout=0.2)
        except queue.Empty:
            continue
        src.taken(len(batch))
        got += batch
        if each_batch is not None:
            each_batch(batch)
    return got


def read_events(p: subprocess.Popen[bytes], seconds: float, until: str = "") -> list[dict[str, Any]]:
    """The receiver's event frames (message frames skipped) for `seconds`, or until event `until`."""
    assert p.stdout is not None
    events: list[dict[str, Any]] = []
    data = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and events and events[-1]["event"] == until):
        if select.select([p.stdout], [], [], 0.1)[0]:
            data += os.read(p.stdout.fileno(), 1 << 16)
        while len(data) >= FRAME.size:
            kind, _g, _m, _q, _t, n_topic, n_payload = FRAME.unpack_from(data)
            end = FRAME.size + n_topic + n_payload
            if len(data) < end:
                break
            if kind == EVENT:
                events.append(json.loads(data[FRAME.size:FRAME.size + n_topic]))
            data = data[end:]
    return events


def test_over_tls_every_size_arrives_in_order_and_only_unacked_messages_come_again(tls_broker, publisher):
    broker, tls_port, ca = tls_broker
    s = MqttSettings(port=tls_port, tls=True, ca_file=str(ca), client_id="gw-tls")
    src = MqttSource(s, Gauges())
    src.start()
    wait_for(lambda: src.gauges.mqtt_subscribed, 15, "the receiver subscribed over TLS")
    # Sizes around the receiver's 64 KB read-ahead and TLS's 16 KB records, and tiny ones between.
    sizes = [1, 200, 16_000, 16_500, 70_000, 65_536, 3, 300_000] + [500] * 300
    sent = [(TOPIC.format(i % 7), bytes([i % 251]) * n) for i, n in enumerate(sizes)]
    pub = publisher(broker.port)
    pub.publish([Message(t, p, {}) for t, p in sent])
    pub.wait_acked(len(sent))
    got = take(src, len(sent))
    assert [(m.topic, m.payload) for m in got] == sent
    src.ack(got[:200])
    src.stop()

    again = MqttSource(s, Gauges())
    again.start()
    redelivered = take(again, len(sent) - 200, timeout_s=15)
    time.sleep(1)  # anything more would be a message acknowledged above coming back
    redelivered += take(again, 1, timeout_s=0.5)
    again.stop()
    assert [(m.topic, m.payload) for m in redelivered] == sent[200:]


def test_a_refused_login_is_reported_and_retried_with_backoff_not_in_a_loop(tmp_path: Path):
    (tmp_path / "passwd").write_text(f"gateway:{hash_password('right')}\n")
    port = free_port()
    conf = tmp_path / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {tmp_path / 'passwd'}\n"
                    f"user {getpass.getuser()}\n")
    broker = Mosquitto(tmp_path, port=port, config_path=conf).start()
    p = spawn(MqttSettings(port=port, username="gateway", password="wrong", client_id="gw-refused",
                           reconnect_max_s=30))
    try:
        events = [e["event"] for e in read_events(p, 4.5)]
    finally:
        p.stdin.close()  # type: ignore[union-attr]
        p.wait(5)
        broker.stop()
    refused = events.count("refused")
    # Tries at 0, 1 and 3 s (then 7 s): each one reported, and no connect storm against the broker.
    assert 2 <= refused <= 4, events
    assert "connected" not in events


def test_a_lost_connection_is_reported_with_the_messages_it_brought_and_how_long_it_had_been_quiet(
        tmp_path: Path, publisher):
    # What an operator needs to tell a broker that stopped delivering (a long silence before the
    # keepalive ends the connection) from a network that dropped mid-stream.
    broker = Mosquitto(tmp_path / "m").start()
    p = spawn(MqttSettings(port=broker.port, client_id="gw-lost"))
    try:
        assert [e["event"] for e in read_events(p, 10, until="subscribed")] == ["connected", "subscribed"]
        time.sleep(2)  # quiet before the messages too: the silence counts from the last one
        pub = publisher(broker.port)
        pub.publish([Message(TOPIC.format(i), b"{}", {}) for i in range(5)])
        pub.wait_acked(5)
        pub.close()
        time.sleep(1.5)
        broker.stop()
        lost = read_events(p, 10, until="disconnected")
    finally:
        p.stdin.close()  # type: ignore[union-attr]
        p.wait(5)
    assert lost and lost[-1]["event"] == "disconnected", lost
    assert lost[-1]["messages"] == 5
    assert 1.3 <= lost[-1]["silent_s"] < 3


def peak_rss_mb(pid: int) -> float:
    for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
        if ln.startswith("VmHWM:"):
            return int(ln.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def test_a_backlog_stays_at_the_broker_while_the_intake_is_behind(make_mosquitto, publisher):
    """After an outage the broker holds a large backlog. Mosquitto sends past its inflight window once
    acknowledgements flow, so what the receiver and the gateway hold must be bounded by them, not by
    the backlog: a Pi Zero drained a million readings in 150 MB before."""
    broker = make_mosquitto()
    s = MqttSettings(port=broker.port, client_id="gw-backlog")
    first = MqttSource(s, Gauges())
    first.start()
    wait_for(lambda: first.gauges.mqtt_subscribed, 15, "the persistent session subscribed")
    first.stop()
    n = 30_000
    sent = [(TOPIC.format(i % 50), i.to_bytes(4, "big") + bytes(600)) for i in range(n)]
    pub = publisher(broker.port)
    pub.publish([Message(t, p, {}) for t, p in sent])
    pub.wait_acked(n, timeout_s=120)

    src = MqttSource(s, Gauges(), max_queued=500)
    src.start()
    most_waiting = 0

    def slow_intake(batch: list[Incoming]) -> None:
        nonlocal most_waiting
        most_waiting = max(most_waiting, src.queued + len(batch))  # waiting just before this batch was taken
        src.ack(batch)  # acknowledged as the intake would, after its commit
        time.sleep(0.01)  # an intake slower than the receiver

    try:
        got = take(src, n, timeout_s=120, each_batch=slow_intake)
        assert src._proc is not None
        receiver_mb = peak_rss_mb(src._proc.pid)
    finally:
        src.stop()
    assert [(m.topic, m.payload) for m in got] == sent
    # One pipe read (1 MB, about 1,600 of these messages) may land on top of the bound.
    assert most_waiting <= 500 + 1700, f"{most_waiting} messages waited in the gateway's memory"
    assert receiver_mb < 50, f"the receiver process grew to {receiver_mb:.0f} MB"
