"""LoRa receiver lines over a real pseudo-terminal feed the same spool as MQTT."""
from __future__ import annotations

import os
import tty

import pytest
from gateway_harness import (
    expected,
    soil_message,
    soil_registry,
    stored,
    wait_for,
)

from edge_gateway.lora import parse_frame


@pytest.mark.parametrize("line, topic, payload", [
    (b'yukimizu/v1/s/soil/d/telemetry {"v":1}\r\n', "yukimizu/v1/s/soil/d/telemetry", b'{"v":1}'),
    (b'yukimizu/v1/s/soil/d/telemetry {"a": 1, "b": 2}\n', "yukimizu/v1/s/soil/d/telemetry", b'{"a": 1, "b": 2}'),
    (b"garbage\n", "garbage", b""),
    (b"\xff\xfe {}\n", "\ufffd\ufffd", b"{}"),
], ids=["topic, one space, payload; CRLF dropped", "spaces inside the JSON stay", "no space: all topic",
        "broken UTF-8 in the topic is kept readable"])
def test_parse_frame(line, topic, payload):
    assert parse_frame(line) == (topic, payload)


def test_lora_lines_over_a_pty_are_stored_beside_mqtt_and_garbage_is_dead_lettered(
        mosquitto, influx, make_gateway, publisher):
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo or line editing before pyserial opens it (it sets raw mode itself too)
    try:
        gw = make_gateway(mosquitto.port, influx.url, influx.database, registry=soil_registry(4),
                          settings={"lora": {"port": os.ttyname(slave), "baudrate": 9600}}).start()
        # Opening the port flushes what it already held, so write only once the gateway says it is open.
        wait_for(lambda: gw.health()["lora_open"], 10, "the gateway to open the LoRa port")
        over_lora = [soil_message(f"soil-00{d}", k * 10, 10) for k in range(10) for d in range(2)]
        over_mqtt = [soil_message("soil-003", k * 10, 10) for k in range(5)]
        replay = over_lora[0]  # a repeat heard twice over the air is stored once
        lines = [f"{m.topic} {m.payload.decode()}\n".encode() for m in over_lora + [replay]]
        lines.insert(7, b"\x00\x17 noise from the radio\n")
        lines.insert(3, b'yukimizu/v1/goshogawara/soil/soil-001/telemetry {"v":1,"readings":[\n')
        for ln in lines:
            os.write(master, ln)
        pub = publisher(mosquitto.port)
        pub.publish(over_mqtt)
        want = expected(over_lora + over_mqtt)
        wait_for(lambda: gw.health()["written"] >= len(want), 30, "LoRa and MQTT readings written")
        assert stored(influx) == want
        assert sorted(c for _t, c, _r, _p in gw.dead_letters()) == ["bad_json", "bad_topic"]
        assert gw.health()["duplicates"] == 10
    finally:
        os.close(master)
        os.close(slave)
