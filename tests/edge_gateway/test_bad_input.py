"""Bad messages amid good traffic: every good reading stored, every bad message dead-lettered with its reason."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from gateway_harness import BASE_T_UNIX_S, Message, expected, registry_doc, soil_message, stored, wait_for

from yukimizu.contract.fields import MAX_PAYLOAD_BYTES

T = BASE_T_UNIX_S + 100_000


def raw(topic: str, payload: bytes | str) -> Message:
    """A message the gateway must refuse; it carries no readings we expect to see."""
    return Message(topic, payload.encode() if isinstance(payload, str) else payload, {})


SOIL = "yukimizu/v1/goshogawara/soil/soil-001/telemetry"

# (message, dead-letter code or None when only counted as a rejection)
BAD = [
    (raw(SOIL, b"\xff\xfe not json"), "bad_json"),
    (raw(SOIL, "{\"v\":1,\"readings\":["), "bad_json"),
    (raw(SOIL, json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}], "pad": "x" * MAX_PAYLOAD_BYTES})),
     "too_large"),
    (raw(SOIL, json.dumps({"v": 1, "readings": [{"seq": "9", "t": T, "vwc_pct": "31.5"}]})), "no_valid_readings"),
    (raw(SOIL, json.dumps({"v": 1, "readings": [{"seq": 9001, "t": T, "vwc_pct": "1\nsoil,device_id=x evil=1"}]})),
     "no_valid_readings"),
    (raw(SOIL, json.dumps({"v": 1, "readings": [{"seq": 9002, "t": T, "vwc_pct=1,evil": 1.0}]})), "no_valid_readings"),
    (raw("yukimizu/v1/goshogawara/soil/soil,x=1/telemetry", json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}]})),
     "bad_id"),
    (raw("yukimizu/v1/goshogawara/soil/soil 1/telemetry", json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}]})),
     "bad_id"),
    (raw("yukimizu/v1/goshogawara/soil/soil=1/telemetry", json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}]})),
     "bad_id"),
    (raw(SOIL, json.dumps({"v": 2, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}]})), "version"),
    (raw("yukimizu/v1/goshogawara/soil/soil-999/telemetry", json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}]})),
     "unknown_device"),
    (raw("yukimizu/v1/goshogawara/water/soil-001/telemetry", json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "level_cm": 1.0}]})),
     "wrong_kind"),
    (raw("yukimizu/v1/kanagi/soil/soil-001/telemetry", json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}]})),
     "wrong_site"),
    (raw("yukimizu/v1/goshogawara/soil/soil-nl/telemetry", json.dumps({"v": 1, "readings": [{"seq": 1, "t": T, "vwc_pct": 1.0}]})),
     "unknown_device"),
]
# (A topic with a newline is not here: Mosquitto itself refuses control characters in topics.)
BAD_IDS = [
    "invalid UTF-8 is not JSON", "truncated JSON", "payload over 256 KiB", "numbers sent as strings",
    "line protocol smuggled in a string value", "line protocol smuggled in a field name",
    "device id with a comma", "device id with a space", "device id with an equals sign",
    "version 2 payload on a v1 topic", "device not in the registry",
    "device publishing as another kind", "device publishing from another site",
    "registry entry with a newline in its tag is skipped, so the device is unknown",
]


def test_bad_messages_are_dead_lettered_with_reasons_and_good_readings_all_stored(mosquitto, influx, make_gateway,
                                                                                  publisher):
    registry = registry_doc([
        {"device_id": "soil-000", "field_id": "north 3,a=b"},  # tag injection attempt from the registry side
        {"device_id": "soil-001", "field_id": "水田-12"},
        {"device_id": "soil-002"},
        {"device_id": "soil-nl", "field_id": "f\nsoil evil=1"},
    ])
    gw = make_gateway(mosquitto.port, influx.url, influx.database, registry=registry).start()
    good = [soil_message(f"soil-00{d}", k * 10, 10) for k in range(30) for d in range(3)]
    # A message whose readings are partly wrong: the good fields and readings survive.
    partial = Message(SOIL, json.dumps({"v": 1, "readings": [
        {"seq": 5000, "t": T, "vwc_pct": 12.5, "battery_v": "3.7"},
        {"seq": 5001, "t": T + 1, "vwc_pct": 250.0},
        {"seq": 5002, "t": T + 2, "vwc_pct": 13.5, "soil_temp_c": 85.0},
    ]}).encode(), {("soil-001", 5000): 12.5, ("soil-001", 5002): 13.5})
    stream: list[Message] = []
    for i, g in enumerate(good):
        stream.append(g)
        if i % 5 == 0 and i // 5 < len(BAD):
            stream.append(BAD[i // 5][0])
    stream.append(partial)
    # Status and config channels match yukimizu/v1/# too: not readings and not faults, only counted.
    stream.append(raw("yukimizu/v1/goshogawara/soil/soil-001/status", '{"online": true}'))
    pub = publisher(mosquitto.port)
    pub.publish(stream)
    pub.wait_acked(len(stream))
    want = expected(good + [partial])
    wait_for(lambda: gw.health()["written"] >= len(want), 30, "good readings written")

    assert stored(influx) == want
    tags = {s["tags"]["device_id"]: s["tags"]["field_id"]
            for s in influx.query('SELECT count("seq") FROM "soil" GROUP BY "device_id", "field_id"')}
    assert tags == {"soil-000": "north 3,a=b", "soil-001": "水田-12", "soil-002": ""}

    letters = gw.dead_letters()
    assert len(BAD) == len(BAD_IDS)
    got = [(case, code) for case, (_t, code, _r, _p) in zip(BAD_IDS, letters)]
    assert got == [(case, code) for case, (_m, code) in zip(BAD_IDS, BAD)]
    assert len(letters) == len(BAD)
    for (msg, _code), (topic, _c, reason, payload) in zip(BAD, letters):
        assert topic == msg.topic
        assert reason, "every dead letter says why"
        assert payload == msg.payload[:8192], "the raw bytes are kept (bounded) for a person to inspect"
    out = subprocess.run([sys.executable, "-m", "yukimizu.cli", "gateway", "dead-letters", "--config",
                          str(gw.config_path), "--limit", "3"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("JST") == 3 and "wrong_site" in out.stdout and "kanagi" in out.stdout
    h = wait_for(lambda: (lambda h: h if h["ignored_status"] == 1 else None)(gw.health()), 10, "status counted")
    assert h["dead_letters"] == len(BAD)
    assert h["rejected_by_reason"]["wrong_type"] == 2  # the smuggled string and "3.7"
    assert h["rejected_by_reason"]["bad_seq"] == 1  # seq "9": the reading is left out before its fields
    assert h["rejected_by_reason"]["out_of_range"] == 1
    assert h["rejected_by_reason"]["sensor_fault"] == 1
    assert h["rejected_by_reason"]["unknown_field"] == 1


@pytest.mark.parametrize("require, stored_devices, dead", [
    (True, {"soil-000"}, ["unknown_device"]),
    (False, {"soil-000", "soil-777"}, []),
], ids=["require_known_devices on: an unknown device is dead-lettered",
        "require_known_devices off: an unknown device is stored without registry tags"])
def test_require_known_devices(mosquitto, influx, make_gateway, publisher, require, stored_devices, dead):
    gw = make_gateway(mosquitto.port, influx.url, influx.database,
                      registry=registry_doc([{"device_id": "soil-000", "field_id": "f-1"}]),
                      settings={"registry": {"require_known_devices": require}}).start()
    msgs = [soil_message("soil-000", 0, 10), soil_message("soil-777", 0, 10)]
    pub = publisher(mosquitto.port)
    pub.publish(msgs)
    pub.wait_acked(2)
    wait_for(lambda: gw.health()["received_msgs"] == 2 and gw.health()["spool_depth_lines"] == 0, 20, "both handled")
    assert {d for d, _s in stored(influx)} == stored_devices
    assert [c for _t, c, _r, _p in gw.dead_letters()] == dead
