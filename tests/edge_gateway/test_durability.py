"""No reading lost, none doubled: kill -9 of the gateway, InfluxDB down, broker restarted."""
from __future__ import annotations

import os
import random
import signal
import time

import pytest

from yukimizu.influx import InfluxV1

from gateway_harness import ROOT_BROKER_CONFIG, expected, soil_message, soil_registry, stored, wait_for, workload

pytestmark = pytest.mark.slow


def test_kill_9_five_times_during_100k_readings_stores_each_exactly_once(mosquitto, influx, make_gateway, publisher):
    """200 devices x 50 messages x 10 readings, plus device replays carrying different values."""
    messages = workload(n_devices=200, msgs_per_device=50, readings_per_msg=10)
    rng = random.Random(5)

    def replay(ms):  # the same (device_id, seq) sent again later, with a different value
        return [soil_message(m.topic.split("/")[4], min(k[1] for k in m.readings), 10, value_offset=7.3) for m in ms]

    # If dedup failed, InfluxDB would overwrite the first value with the replay's: the value check catches it.
    stream = messages[:5000] + replay(rng.sample(messages[:5000], 100)) + messages[5000:] + replay(
        rng.sample(messages, 100))
    want = expected(stream)  # first occurrence of each (device_id, seq) wins
    assert len(want) == 100_000

    gw = make_gateway(mosquitto.port, influx.url, influx.database, registry=soil_registry(200)).start()
    pub = publisher(mosquitto.port)
    # Slow enough that all five kills land while traffic still flows, however fast the machine drains it.
    pub.publish_in_background(stream, rate_msgs_s=600)  # about 17 s of traffic
    for _ in range(5):
        time.sleep(rng.uniform(0.5, 0.9))
        h = gw.health()
        assert 0 < h["received_msgs"] and h["written"] < len(want), f"kill -9 must hit a gateway mid-run: {h}"
        gw.kill9()
        gw.start()
    pub.done.wait(60)
    pub.wait_acked(len(stream))

    wait_for(lambda: gw.health()["written"] >= len(want) and gw.health()["spool_depth_lines"] == 0, 60,
             "gateway to drain its spool")
    got = stored(influx)
    assert len(got) == len(want)
    assert got == want  # same identities and the first value of every replayed reading
    c = gw.counters()
    assert c["written"] == 100_000, "each reading went from the spool to InfluxDB exactly once"
    assert c["duplicates"] >= 2000, "the 200 replayed messages (2000 readings) were recognised as duplicates"
    assert gw.starts == 6


def test_influxdb_stopped_mid_run_spool_holds_then_drains_exactly(mosquitto, make_influxdb, make_gateway, publisher):
    server = make_influxdb()
    db = InfluxV1(server.url, "yukimizu")
    db.create_database()
    messages = workload(n_devices=50, msgs_per_device=40, readings_per_msg=10)  # 20,000 readings
    gw = make_gateway(mosquitto.port, server.url, "yukimizu", registry=soil_registry(50)).start()
    pub = publisher(mosquitto.port)
    pub.publish(messages[:500])
    wait_for(lambda: gw.health()["written"] >= 1000, 20, "first readings written")
    server.stop()
    pub.publish(messages[500:])
    pub.wait_acked(len(messages))
    h = wait_for(lambda: (lambda h: h if h["received_msgs"] == len(messages) else None)(gw.health()), 30,
                 "every message received while InfluxDB is down")
    assert h["spool_depth_lines"] > 0, "readings wait in the spool while InfluxDB is down"
    assert "unreachable" in h["last_error"]
    time.sleep(1.0)
    server.start()
    wait_for(lambda: gw.health()["spool_depth_lines"] == 0, 60, "spool to drain after InfluxDB came back")
    assert stored(db) == expected(messages)
    assert gw.counters()["written"] == 20_000
    db.close()


def test_broker_restarted_mid_run_session_resumes_exactly(make_mosquitto, influx, make_gateway, publisher):
    broker = make_mosquitto(extra_config=ROOT_BROKER_CONFIG)
    messages = workload(n_devices=50, msgs_per_device=40, readings_per_msg=10)
    gw = make_gateway(broker.port, influx.url, influx.database, registry=soil_registry(50)).start()
    pub = publisher(broker.port)
    pub.publish_in_background(messages, rate_msgs_s=800)  # 2.5 s of traffic
    time.sleep(1.0)
    broker.restart()  # SIGTERM: Mosquitto saves queued QoS 1 messages of the persistent session
    pub.done.wait(60)
    pub.wait_acked(len(messages))
    wait_for(lambda: gw.health()["written"] >= 20_000, 60, "all readings written after the broker restart")
    assert stored(influx) == expected(messages)
    h = gw.health()
    assert h["mqtt_connects"] >= 2, "the gateway reconnected to the restarted broker"
    assert h["written"] == 20_000


def test_decoder_worker_processes_store_the_same_and_die_with_the_gateway(mosquitto, influx, make_gateway, publisher):
    messages = workload(n_devices=20, msgs_per_device=50, readings_per_msg=10)  # 10,000 readings
    gw = make_gateway(mosquitto.port, influx.url, influx.database, registry=soil_registry(20),
                      settings={"intake": {"workers": 2}}).start()
    pub = publisher(mosquitto.port)
    pub.publish_in_background(messages, rate_msgs_s=1000)
    wait_for(lambda: gw.health()["written"] > 0, 20, "first readings written")
    group = gw.proc.pid  # start_new_session: the gateway leads its own process group, workers included
    gw.kill9()

    def group_gone() -> bool:
        try:
            os.killpg(group, 0)
            return False
        except ProcessLookupError:
            return True
    wait_for(group_gone, 10, "decoder workers to exit after the gateway was killed")
    gw.start()
    pub.done.wait(30)
    pub.wait_acked(len(messages))
    wait_for(lambda: gw.health()["written"] >= 10_000, 60, "all readings written")
    assert stored(influx) == expected(messages)
    assert gw.counters()["written"] == 10_000


def _receiver_pid(gw) -> int | None:
    """The gateway's MQTT receiver process (`python -m edge_gateway.receiver`), if one is running."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == gw.proc.pid and b"edge_gateway.receiver" in cmd:
            return int(d)
    return None


def test_receiver_process_killed_mid_run_is_started_again_and_nothing_is_lost(mosquitto, influx, make_gateway,
                                                                               publisher):
    messages = workload(n_devices=50, msgs_per_device=40, readings_per_msg=10)  # 20,000 readings
    gw = make_gateway(mosquitto.port, influx.url, influx.database, registry=soil_registry(50)).start()
    pub = publisher(mosquitto.port)
    pub.publish_in_background(messages, rate_msgs_s=800)  # 2.5 s of traffic
    wait_for(lambda: gw.health()["received_msgs"] > 0, 20, "first messages received")
    first = _receiver_pid(gw)
    assert first is not None, f"no receiver process under the gateway:\n{gw.tail()}"
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: _receiver_pid(gw) not in (None, first) and gw.health()["mqtt_subscribed"], 20,
             "a new receiver process, subscribed again")
    pub.done.wait(60)
    pub.wait_acked(len(messages))
    wait_for(lambda: gw.health()["written"] >= 20_000, 60, "all readings written after the receiver restart")
    assert stored(influx) == expected(messages)
    assert gw.counters()["written"] == 20_000
    h = gw.health()
    assert h["mqtt_connects"] >= 2
    assert "receiver process ended" in h["last_error"]
    assert gw.proc.poll() is None, "the gateway itself kept running"
