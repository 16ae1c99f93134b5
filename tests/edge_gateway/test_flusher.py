"""The flusher against a real InfluxDB: one request at a time, in spool order, nothing deleted before it is confirmed."""
from __future__ import annotations

import threading
import time

from gateway_harness import BASE_T_UNIX_S, soil_lines, stored, wait_for

from edge_gateway.flusher import Flusher
from edge_gateway.metrics import Gauges
from edge_gateway.settings import InfluxSettings, SpoolSettings
from edge_gateway.sink import V1Sink
from edge_gateway.spool import Spool
from yukimizu.influx import InfluxV1


class RecordingSink(V1Sink):
    """The real v1 sink, keeping the batches InfluxDB confirmed, in the order it confirmed them."""

    def __init__(self, s: InfluxSettings):
        super().__init__(s)
        self.confirmed: list[str] = []

    def write(self, body: str) -> float:
        ms = super().write(body)
        self.confirmed.append(body)
        return ms


def seqs_in_write_order(bodies: list[str]) -> dict[str, list[int]]:
    """{device_id: seqs in the order InfluxDB received them}."""
    out: dict[str, list[int]] = {}
    for body in bodies:
        for ln in body.split("\n"):
            dev = ln.split(",", 2)[1].removeprefix("device_id=")
            out.setdefault(dev, []).append(int(ln.split("seq=", 1)[1].split("i", 1)[0]))
    return out


N_DEVICES = 20
MSGS_PER_DEVICE = 250  # 20 x 250 messages x 10 lines = 50,000 lines, 100 batches of 500


def test_influxdb_stopped_while_a_deep_spool_drains_skips_nothing_and_writes_each_line_once(make_influxdb, tmp_path):
    server = make_influxdb()
    db = InfluxV1(server.url, "yukimizu")
    db.create_database()
    path = tmp_path / "spool.sqlite3"
    intake_side = Spool(path)
    body_of = {}
    rows = []
    for k in range(MSGS_PER_DEVICE):  # devices interleaved, as messages arrive
        for d in range(N_DEVICES):
            body = soil_lines(f"fl-{d:02d}", range(k * 10, k * 10 + 10))
            body_of[(d, k)] = body
            rows.append((time.time(), 10, len(body), body))
    intake_side.begin()
    intake_side.append(rows)
    intake_side.commit()

    influx = InfluxSettings(url=server.url, database="yukimizu", batch_size=500, flush_interval_ms=50,
                            retry_min_ms=50, retry_max_ms=200, timeout_ms=5000)
    gauges = Gauges()
    stop, wake = threading.Event(), threading.Event()
    sink = RecordingSink(influx)
    flusher = Flusher(Spool(path), sink, influx, SpoolSettings(path=path), gauges, stop, wake)
    flusher.start()
    try:
        wait_for(lambda: gauges.batches_written >= 3, 20, "the first batches written", every_s=0.005)
        server.stop()  # mid-stream: a request in flight fails, with the next batch already read ahead
        assert intake_side.counters()["spool_lines"] > 0, "InfluxDB must go away while the spool still drains"
        time.sleep(0.5)
        server.start()
        wait_for(lambda: intake_side.counters()["spool_lines"] == 0, 60, "the spool to drain after InfluxDB came back")
    finally:
        stop.set()
        wake.set()
        flusher.join(10)
    assert "unreachable" in gauges.last_error
    every_seq = list(range(MSGS_PER_DEVICE * 10))
    assert seqs_in_write_order(sink.confirmed) == {f"fl-{d:02d}": every_seq for d in range(N_DEVICES)}, \
        "each device's readings reach InfluxDB once each, in the order they arrived"
    assert stored(db) == {(f"fl-{d:02d}", q): 20 + q / 4 for d in range(N_DEVICES) for q in range(MSGS_PER_DEVICE * 10)}
    c = intake_side.counters()
    assert c["written"] == N_DEVICES * MSGS_PER_DEVICE * 10, "each line counted written once"
    assert c["spool_rows"] == 0 and c["spool_bytes"] == 0
    db.close()


def test_a_refused_batch_is_taken_apart_before_the_batch_queued_after_it_is_sent(make_influxdb, tmp_path):
    # InfluxDB 1.x fixes a field's type per shard: after a string level_cm, a float level_cm is a
    # "field type conflict" (HTTP 400) for the batch holding it, while the batch after it is fine.
    server = make_influxdb()
    db = InfluxV1(server.url, "yukimizu")
    db.create_database()
    t_ms = (BASE_T_UNIX_S + 5) * 1000
    db.write([f'water,device_id=paddy-00,site=goshogawara level_cm="dry" {t_ms}'])
    path = tmp_path / "spool.sqlite3"
    intake_side = Spool(path)
    conflict = f"water,device_id=paddy-00,site=goshogawara level_cm=5.5 {t_ms}"
    bodies = [soil_lines("ord-00", range(0, 10)) + "\n" + conflict, soil_lines("ord-00", range(10, 20)),
              soil_lines("ord-00", range(20, 30))]
    intake_side.begin()
    intake_side.append([(time.time() - 60, b.count("\n") + 1, len(b), b) for b in bodies])
    intake_side.commit()

    influx = InfluxSettings(url=server.url, database="yukimizu", batch_size=10, flush_interval_ms=50,
                            retry_min_ms=50, retry_max_ms=200, timeout_ms=5000)
    stop, wake = threading.Event(), threading.Event()
    sink = RecordingSink(influx)
    flusher = Flusher(Spool(path), sink, influx, SpoolSettings(path=path), Gauges(), stop, wake)
    flusher.start()  # two batches go to the writer at once: the refused one, and the next one queued
    try:
        wait_for(lambda: intake_side.counters()["spool_lines"] == 0, 30, "the spool to drain")
    finally:
        stop.set()
        wake.set()
        flusher.join(10)
    assert seqs_in_write_order(sink.confirmed)["ord-00"] == list(range(30)), \
        "the refused batch's good lines reach InfluxDB before anything queued after it"
    assert [d.code for d in intake_side.dead_letters()] == ["influx_refused"]
    assert stored(db) == {("ord-00", q): 20 + q / 4 for q in range(30)}
    db.close()
