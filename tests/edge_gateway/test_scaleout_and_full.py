"""Two gateways on one shared subscription; the spool-full policies."""
from __future__ import annotations

import time

import pytest
from gateway_harness import expected, soil_registry, stored, wait_for, workload

from yukimizu.influx import InfluxV1


def test_two_gateways_on_one_shared_subscription_split_the_stream_exactly(mosquitto, influx, make_gateway, publisher):
    messages = workload(n_devices=40, msgs_per_device=50, readings_per_msg=10)  # 20,000 readings
    gws = [make_gateway(mosquitto.port, influx.url, influx.database, registry=soil_registry(40), name=f"gw-{i}",
                        settings={"mqtt": {"shared_group": "yukimizu-gateways"}}).start() for i in range(2)]
    pub = publisher(mosquitto.port)
    pub.publish(messages)
    pub.wait_acked(len(messages))
    wait_for(lambda: sum(g.health()["written"] for g in gws) >= 20_000, 60, "both gateways to write everything")
    assert stored(influx) == expected(messages)
    written = [g.health()["written"] for g in gws]
    assert sum(written) == 20_000, f"nothing doubled between the gateways: {written}"
    assert min(written) > 2_000, f"both gateways did a real share of the work: {written}"


@pytest.mark.parametrize("policy", ["block", "drop_oldest", "drop_newest"], ids=[
    "block: the spool stops at its limit, the broker keeps the rest, all arrive once InfluxDB is back",
    "drop_oldest: the oldest readings make room, each one counted, the newest kept",
    "drop_newest: new readings are refused while full, each one counted, the oldest kept",
])
def test_spool_full_follows_the_policy_and_keeps_running(mosquitto, make_influxdb, make_gateway, publisher, policy):
    server = make_influxdb()
    db = InfluxV1(server.url, "yukimizu")
    db.create_database()
    server.stop()  # InfluxDB down from the start: everything has to wait in the spool
    max_bytes = 40_000  # about 40 messages of 10 readings
    messages = workload(n_devices=10, msgs_per_device=20, readings_per_msg=10)  # 200 messages, ~2,000 readings
    gw = make_gateway(mosquitto.port, server.url, "yukimizu", registry=soil_registry(10),
                      settings={"spool": {"max_bytes": max_bytes, "when_full": policy}}).start()
    pub = publisher(mosquitto.port)
    pub.publish(messages)
    pub.wait_acked(len(messages))
    if policy == "block":
        h = wait_for(lambda: (lambda h: h if h["spool_full_waits"] > 0 else None)(gw.health()), 20, "spool full")
        time.sleep(1.0)
        h = gw.health()
        assert h["spool_bytes"] <= max_bytes + 1200, "at most one message beyond the limit"
        assert h["received_msgs"] < len(messages), "the rest stays unacknowledged with the broker"
    else:
        h = wait_for(lambda: (lambda h: h if h["received_msgs"] == len(messages) else None)(gw.health()), 20,
                     "every message taken")
        assert h["spool_bytes"] <= max_bytes
        assert h[f"dropped_{policy.split('_')[1]}"] > 0
    assert h["mqtt_connected"], "the gateway keeps running with a full spool"
    server.start()
    wait_for(lambda: (lambda h: h["received_msgs"] == len(messages) and h["spool_depth_lines"] == 0)(gw.health()),
             60, "spool to drain")
    got = stored(db)
    want = expected(messages)
    h = gw.health()
    if policy == "block":
        assert got == want
        assert h["dropped_oldest"] == 0
    elif policy == "drop_oldest":
        assert len(got) + h["dropped_oldest"] == len(want), "every reading is either stored or counted as dropped"
        assert set(got) <= set(want)
        assert set(messages[-1].readings) <= set(got), "the newest readings were kept"
        assert not set(messages[0].readings) & set(got), "the oldest readings made room"
    else:
        assert len(got) + h["dropped_newest"] == len(want), "every reading is either stored or counted as dropped"
        assert set(got) <= set(want)
        assert set(messages[0].readings) <= set(got), "the oldest readings were kept"
        assert not set(messages[-1].readings) & set(got), "the newest readings were refused"
    db.close()
