"""Fleet mode end to end against a real Mosquitto: every reading in the sent log arrives, exactly once."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from simulators import scenario
from simulators.faults import server_hook
from simulators.fleet import Fleet
from simulators.runner import Progress, run
from simulators.world import World
from yukimizu.contract import decode
from yukimizu.servers import Mosquitto

from simhelpers import NOW

FIELDS_SCENARIO = """
name = "fleet-test"
description = "field devices every minute"
duration_s = {duration_s}
speed = {speed}
seed = 3
kinds = ["water", "soil", "weather"]
devices = {devices}
[sampling]
water_interval_s = 60
soil_interval_s = 60
weather_interval_s = 60
readings_per_message = {per_message}
"""


def make_world(tmp_path: Path, *, duration_s: float = 1200, speed: float = 1200, devices: int = 0,
               per_message: int = 1, outages: str = "") -> World:
    p = tmp_path / "fleet-test.toml"
    p.write_text(FIELDS_SCENARIO.format(duration_s=duration_s, speed=speed, devices=devices, per_message=per_message) + outages)
    return World(scenario.load(p), NOW - duration_s)


class Subscriber:
    """A paho subscriber that decodes with the contract and counts (device_id, seq)."""

    def __init__(self, broker: Mosquitto):
        self.got: Counter[tuple[str, int]] = Counter()
        self.values: dict[tuple[str, int], tuple[float, dict]] = {}
        self.lock = threading.Lock()
        self.ready = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fleet-test-sub", clean_session=False)
        c.on_connect = lambda cl, *_: (cl.subscribe("yukimizu/v1/+/+/+/telemetry", qos=1), self.ready.set())
        c.on_message = self.on_message
        c.connect("127.0.0.1", broker.port)
        c.loop_start()
        self.client = c
        assert self.ready.wait(5)
        time.sleep(0.2)  # SUBACK

    def on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        out = decode(msg.topic, msg.payload, now_unix_s=NOW + 60)
        assert not out.rejections
        with self.lock:
            for r in out.readings:
                self.got[(r.device_id, r.seq)] += 1
                self.values[(r.device_id, r.seq)] = (r.t_unix_s, dict(r.values))

    def wait_for(self, n: int, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        while sum(self.got.values()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # anything extra (a duplicate) would arrive now

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def sent_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_reading_in_the_sent_log_is_received_exactly_once(tmp_path: Path, make_mosquitto) -> None:
    broker = make_mosquitto()
    sub = Subscriber(broker)
    world = make_world(tmp_path, devices=150, per_message=2)
    expected = sum(len(m.readings) for m in make_world(tmp_path, devices=150, per_message=2).messages())
    fleet = Fleet(broker.url, [d.device_id for d in world.devices], sent_log=tmp_path / "sent.jsonl",
                  devices_per_connection=50)
    try:
        assert fleet.wait_connected(5)
        assert len(fleet.conns) == 3  # 150 devices share three connections
        report = run(world, fleet, speed=world.sc.speed)
    finally:
        fleet.close()
    log = sent_log(tmp_path / "sent.jsonl")
    assert report.unacked == 0 and len(log) == report.readings_acked == expected
    sub.wait_for(len(log))
    sub.close()
    assert Counter((r["device_id"], r["seq"]) for r in log) == sub.got
    assert set(sub.got.values()) == {1}, "a reading arrived twice"
    for r in log[:: max(1, len(log) // 200)]:
        assert sub.values[(r["device_id"], r["seq"])] == (r["t"], r["values"])


def test_readings_held_while_the_devices_uplink_is_down_arrive_later_with_their_own_time(tmp_path: Path, make_mosquitto) -> None:
    broker = make_mosquitto()
    sub = Subscriber(broker)
    outage = '[[outage]]\nat_s = 300\ntarget = "devices-uplink"\naction = "down"\nduration_s = 400\n'
    world = make_world(tmp_path, duration_s=1200, speed=1200, outages=outage)
    fleet = Fleet(broker.url, [d.device_id for d in world.devices], sent_log=tmp_path / "sent.jsonl")
    held: list[int] = []
    try:
        assert fleet.wait_connected(5)
        report = run(world, fleet, speed=world.sc.speed, on_progress=lambda p: held.append(p.held), progress_every_s=0.05)
    finally:
        fleet.close()
    assert [(f.action, f.outcome) for f in report.faults] == [("down", "done"), ("up", "done")]
    assert max(held) > 0
    log = sent_log(tmp_path / "sent.jsonl")
    sub.wait_for(len(log))
    sub.close()
    assert Counter((r["device_id"], r["seq"]) for r in log) == sub.got and set(sub.got.values()) == {1}
    in_outage = [r for r in log if world.start_unix_s + 300 <= r["t"] < world.start_unix_s + 700]
    assert len(in_outage) > 50 and all(sub.values[(r["device_id"], r["seq"])][0] == r["t"] for r in in_outage)


@pytest.mark.slow
def test_a_broker_killed_mid_run_loses_no_reading_on_the_devices_side(tmp_path: Path, make_mosquitto) -> None:
    broker = make_mosquitto()
    outage = '[[outage]]\nat_s = 600\ntarget = "broker"\naction = "kill"\nduration_s = 600\n'
    world = make_world(tmp_path, duration_s=1800, speed=1200, outages=outage)
    expected = Counter((m.device.device_id, r["seq"]) for m in make_world(tmp_path, duration_s=1800, speed=1200).messages()
                       for r in m.readings)
    fleet = Fleet(broker.url, [d.device_id for d in world.devices], sent_log=tmp_path / "sent.jsonl")
    seen_down: list[Progress] = []
    try:
        assert fleet.wait_connected(5)
        report = run(world, fleet, speed=world.sc.speed, hooks={"broker": server_hook(broker)},
                     on_progress=lambda p: seen_down.append(p) if p.devices_online == 0 else None, progress_every_s=0.05)
    finally:
        fleet.close()
    assert [(f.target, f.action, f.outcome) for f in report.faults] == [("broker", "kill", "done"), ("broker", "start", "done")]
    assert seen_down, "the display showed the devices offline while the broker was down"
    log = sent_log(tmp_path / "sent.jsonl")
    assert report.unacked == 0
    assert Counter((r["device_id"], r["seq"]) for r in log) == expected  # every reading acknowledged once, none lost


def test_a_background_scenario_can_be_watched_and_stopped(tmp_path: Path, mosquitto: Mosquitto) -> None:
    from simulators.runner import start_scenario

    h = start_scenario("outages", mosquitto.url, speed=600, sent_log=str(tmp_path / "sent.jsonl"))
    deadline = time.monotonic() + 10
    while (h.progress is None or h.progress.readings_acked < 50) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert h.running and h.progress is not None and h.progress.devices_online > 0
    h.stop()
    report = h.join(15)
    assert not h.running and h.error is None and report is not None
    assert 50 <= report.readings_acked < 2040  # stopped early: not the whole two hours
    assert len(sent_log(tmp_path / "sent.jsonl")) == report.readings_acked


CATCH_UP_SCENARIO = """
name = "catch-up-test"
description = "water sensors every 2 s, replayed from 30 s ago"
duration_s = 40
speed = 30
seed = 3
kinds = ["water"]
catch_up = true
[sampling]
water_interval_s = 2
"""


def test_a_catch_up_run_replays_the_past_at_speed_then_goes_on_in_real_time(tmp_path: Path, make_mosquitto) -> None:
    # 30 s of the past at 30x take about a second; the last 10 s then take 10 s: no reading is ever
    # published before its own time (the gateway would refuse readings from the future).
    broker = make_mosquitto()
    p = tmp_path / "catch-up.toml"
    p.write_text(CATCH_UP_SCENARIO)
    world = World(scenario.load(p), time.time() - 30)
    early: list[float] = []  # seconds by which a received reading's time was ahead of the wall clock
    got = Counter()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="catch-up-sub")
    ready = threading.Event()
    c.on_connect = lambda cl, *_: cl.subscribe("yukimizu/v1/+/+/+/telemetry", qos=1)
    c.on_subscribe = lambda *_: ready.set()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        for r in json.loads(msg.payload)["readings"]:
            early.append(r["t"] - now)
            got[msg.topic] += 1

    c.on_message = on_message
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    fleet = Fleet(broker.url, [d.device_id for d in world.devices])
    try:
        assert ready.wait(5) and fleet.wait_connected(5)
        report = run(world, fleet, speed=world.sc.speed)
        time.sleep(0.3)
    finally:
        fleet.close()
        c.loop_stop()
        c.disconnect()
    assert report.unacked == 0 and sum(got.values()) == report.readings_acked > 0
    assert max(early) < 0.5, f"a reading arrived {max(early):.1f} s before its own time"
    assert 9.0 < report.wall_s < 14.0  # about 1 s of replay, then 10 s in real time (not 40 / 30 = 1.3 s)
