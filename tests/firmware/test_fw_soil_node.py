"""The soil/water node on the MicroPython unix port (100 KB heap) against a real Mosquitto.

Each `wake()` is one process run: wake, read, connect, publish, deep sleep. Faults are real:
the broker is stopped and started, RTC memory and clock are deleted for a power cut.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from mpy_harness import HEAP_BYTES, Collector, SimBoard, bundles, publish_retained  # noqa: F401
from yukimizu.servers import Mosquitto

SITE = "goshogawara"


def cfg(port: int, **kw: Any) -> dict[str, Any]:
    base = {"device_id": "soil-001", "site": SITE, "kind": "soil", "broker_url": f"mqtt://127.0.0.1:{port}",
            "connect_timeout_ms": 1500, "ack_timeout_ms": 2000, "raw_dry": 3000, "raw_wet": 1300}
    base.update(kw)
    return base




@pytest.fixture
def board(micropython: str, bundles: dict[str, Path], tmp_path: Path, broker: Mosquitto) -> SimBoard:
    return SimBoard(micropython, bundles["soil"], tmp_path / "board", cfg(broker.port),
                    {"conversion_ms": 0, "soil_raw": 2150, "temp_c": 8.25, "battery_v": 3.7})


def test_each_wake_publishes_one_calibrated_reading_without_writing_flash(board: SimBoard, collector: Collector) -> None:
    before = int(time.time())
    runs = [board.run().check() for _ in range(3)]
    after = int(time.time()) + 1
    assert collector.wait_for(lambda: len(collector.seqs()) == 3)
    readings = [r for _, d in collector.telemetry() for r in d.readings]
    assert [r.seq for r in readings] == [0, 1, 2]
    for r in readings:
        # vwc = 100 (3000 - 2150) / (3000 - 1300) = 50.0 (two-point calibration)
        assert r.values == {"vwc_pct": 50.0, "soil_temp_c": 8.25, "battery_v": 3.7, "rssi_dbm": -61.0}
        assert before <= r.t_unix_s <= after
    assert all(run.sleep_ms == 600_000 for run in runs), "default cycle is 10 minutes"
    assert board.spool_files() == [], "acknowledged at once: nothing was written to the spool"
    assert (board.root / "seq").read_text() == "256", "one seq reservation on flash, not a write per wake"
    assert not (board.root / "config_remote.json").exists() and not (board.root / "held").exists()
    assert collector.wait_for(lambda: any(s.get("state") == "asleep" for s in collector.status()))
    st = collector.status()[-1]
    assert st["online"] is True and st["interval_s"] == 600 and st["pending"] == 0 and st["dropped"] == 0
    assert board.heap_peak_b < HEAP_BYTES


@pytest.mark.parametrize(
    ("raw", "vwc"),
    [(3500, 0.0), (3000, 0.0), (1300, 100.0), (900, 100.0), (2490, 30.0)],
    ids=["probe drier than its dry point reads 0 %", "dry point reads 0 %", "wet point reads 100 %",
         "probe wetter than its wet point reads 100 %", "between the points is linear"],
)
def test_soil_moisture_two_point_calibration_is_clamped(board: SimBoard, collector: Collector, raw: int, vwc: float) -> None:
    board.feed(conversion_ms=0, soil_raw=raw, temp_c=8.25)
    board.wake()
    assert collector.wait_for(lambda: len(collector.seqs()) == 1)
    assert collector.telemetry()[0][1].readings[0].values["vwc_pct"] == pytest.approx(vwc, abs=0.01)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("power_on", "85.0"), ("disconnected", "-127"), ("crc_error", "CRC"), ("absent", "no DS18B20")],
    ids=["power-on 85.0 is left out", "disconnected -127 is left out", "CRC error is left out", "no sensor on the bus is left out"],
)
def test_ds18b20_faults_drop_only_the_temperature_and_say_why(board: SimBoard, collector: Collector, fault: str, reason: str) -> None:
    board.feed(conversion_ms=0, soil_raw=2150, temp_c=fault)
    board.wake()
    assert collector.wait_for(lambda: len(collector.seqs()) == 1 and collector.status())
    (_, decoded), = collector.telemetry()
    assert decoded.rejections == ()
    assert "soil_temp_c" not in decoded.readings[0].values and decoded.readings[0].values["vwc_pct"] == 50.0
    assert reason in collector.status()[-1]["sensor_fault"]


def test_water_node_reports_level_as_mount_height_minus_echo_distance(board: SimBoard, collector: Collector, broker: Mosquitto) -> None:
    board.write_config(cfg(broker.port, kind="water", device_id="paddy-07", mount_height_cm=120.0))
    board.feed(conversion_ms=0, distance_cm=114.0, temp_c=17.0)
    board.wake()
    assert collector.wait_for(lambda: len(collector.seqs()) == 1)
    (topic, decoded), = collector.telemetry()
    assert topic == f"yukimizu/v1/{SITE}/water/paddy-07/telemetry"
    v = decoded.readings[0].values
    assert v["level_cm"] == pytest.approx(6.0, abs=0.05) and v["water_temp_c"] == 17.0


def test_water_node_without_echo_sends_temperature_only(board: SimBoard, collector: Collector, broker: Mosquitto) -> None:
    board.write_config(cfg(broker.port, kind="water", device_id="paddy-07"))
    board.feed(conversion_ms=0, distance_cm=None, temp_c=17.0)
    board.wake()
    assert collector.wait_for(lambda: len(collector.seqs()) == 1)
    assert "level_cm" not in collector.telemetry()[0][1].readings[0].values


def test_broker_down_then_back_every_reading_arrives_exactly_once_oldest_first(
    board: SimBoard, collector: Collector, broker: Mosquitto
) -> None:
    for _ in range(2):
        assert board.wake()["online"] is True
    broker.stop()
    offline = [board.wake() for _ in range(5)]
    assert [r["online"] for r in offline] == [False] * 5
    assert offline[-1]["on_flash"] == 5 and board.spool_files() != []
    broker.start()
    collector.wait_connected()
    back = board.wake()
    assert back["online"] is True and back["sent"] == 6 and back["pending"] == 0
    board.wake()
    assert collector.wait_for(lambda: len(collector.by_seq()[0]) >= 9)
    time.sleep(0.3)  # anything redelivered would arrive by now
    readings, _redelivered = collector.by_seq()
    assert sorted(readings) == list(range(9)), "every reading once by (device_id, seq), none lost"
    first_arrival = list(dict.fromkeys(collector.seqs()))
    assert first_arrival == list(range(9)), "the backlog was sent oldest first"
    assert board.spool_files() == []


def test_power_cut_keeps_the_spool_and_never_reuses_a_seq(board: SimBoard, collector: Collector, broker: Mosquitto) -> None:
    board.wake()
    broker.stop()
    board.wake()
    board.wake()
    board.power_cut()
    broker.start()
    collector.wait_connected()
    after_cut = board.wake()
    assert collector.wait_for(lambda: len(collector.seqs()) >= 4)
    seqs = collector.seqs()
    assert seqs[:3] == [0, 1, 2] and len(set(seqs)) == 4
    assert seqs[3] >= 256, "after a power cut numbering resumes at the next reserved block"
    assert after_cut["seq_next"] == seqs[3] + 1


def test_spool_full_drops_the_oldest_and_counts_them(board: SimBoard, collector: Collector, broker: Mosquitto) -> None:
    board.write_config(cfg(broker.port, spool_max_readings=4, spool_segment_readings=2))
    broker.stop()
    pending = [board.wake()["pending"] for _ in range(7)]
    assert max(pending) <= 4, "the spool never holds more than spool_max_readings"
    broker.start()
    collector.wait_connected()
    last = board.wake()
    assert collector.wait_for(lambda: collector.seqs() and collector.seqs()[-1] == 7)
    seqs = collector.seqs()
    taken = 8
    assert seqs == list(range(taken - len(seqs), taken)), "the newest readings survive, in order"
    assert last["dropped"] == taken - len(seqs) > 0
    assert collector.wait_for(lambda: collector.status() and collector.status()[-1]["dropped"] == last["dropped"])


def test_clock_not_set_readings_are_held_then_stamped_with_true_time(board: SimBoard, collector: Collector) -> None:
    board.feed(conversion_ms=0, soil_raw=2150, temp_c=8.25, ntp=False)
    wake_times = []
    for _ in range(3):
        wake_times.append(time.time())
        r = board.wake()
        assert r["online"] is True
        time.sleep(1.1)
    assert r["held"] == 3
    assert collector.seqs() == [] and collector.rejections() == [], "nothing with a made-up time was sent"
    board.feed(conversion_ms=0, soil_raw=2150, temp_c=8.25, ntp=True)
    wake_times.append(time.time())
    r = board.wake()
    assert r["held"] == 0
    assert collector.wait_for(lambda: len(collector.seqs()) == 4)
    readings = [x for _, d in collector.telemetry() for x in d.readings]
    assert [x.seq for x in readings] == [0, 1, 2, 3]
    for x, woke in zip(readings, wake_times):
        assert abs(x.t_unix_s - woke) <= 2.0, "stamped with the time it was taken, not the time it was sent"


def test_clock_never_set_before_a_power_cut_is_told_apart_by_the_gateway(board: SimBoard, collector: Collector) -> None:
    board.feed(conversion_ms=0, soil_raw=2150, temp_c=8.25, ntp=False)
    board.wake()
    board.wake()
    board.power_cut()  # the raw clock those two readings were taken on is gone
    board.wake()
    board.feed(conversion_ms=0, soil_raw=2150, temp_c=8.25, ntp=True)
    board.wake()
    assert collector.wait_for(lambda: len(collector.seqs()) + len(collector.rejections()) >= 4)
    clock = [r for r in collector.rejections() if r.code == "clock"]
    assert sorted(r.seq for r in clock) == [0, 1], "old-boot readings keep their raw time and are refused as 'clock'"
    assert all(s >= 256 for s in collector.seqs()) and len(collector.seqs()) == 2


def test_remote_config_applies_and_a_bad_one_keeps_the_last_good_and_says_why(
    board: SimBoard, collector: Collector, broker: Mosquitto
) -> None:
    topic = f"yukimizu/v1/{SITE}/soil/soil-001/config"
    publish_retained(broker.port, topic, json.dumps({"interval_s": 300, "raw_dry": 3100}).encode())
    first = board.run().check()
    assert first.sleep_ms == 300_000 and first.report["config_error"] is None
    publish_retained(broker.port, topic, json.dumps({"interval_s": 5}).encode())
    bad = board.run().check()
    assert bad.sleep_ms == 300_000, "the last good interval stays in force"
    assert "interval_s" in bad.report["config_error"] and "got 5" in bad.report["config_error"]
    assert collector.wait_for(lambda: any(s.get("config_error") and "interval_s" in s["config_error"] for s in collector.status()))
    publish_retained(broker.port, topic, json.dumps({"device_id": "someone-else"}).encode())
    assert "cannot be set remotely" in board.wake()["config_error"]
    broker.stop()
    board.power_cut()
    offline = board.run().check()
    assert offline.sleep_ms == 300_000, "the last good override survives a power cut"


def test_a_bad_board_config_is_reported_on_the_console_and_the_node_sleeps(board: SimBoard, broker: Mosquitto) -> None:
    board.write_config(cfg(broker.port, raw_wet=3000))
    run = board.run()
    assert run.rc == 0 and "CONFIG ERROR config key raw_wet" in run.stdout and run.sleep_ms == 600_000


def test_without_a_simulator_attached_the_sim_board_gives_plausible_readings(
    micropython: str, bundles: dict[str, Path], tmp_path: Path, broker: Mosquitto, collector: Collector
) -> None:
    board = SimBoard(micropython, bundles["soil"], tmp_path / "b", cfg(broker.port))
    board.feed_path.unlink()  # no feed file at all
    board.run(env={"YUKIMIZU_SIM_FEED": ""}, timeout_s=30).check()
    assert collector.wait_for(lambda: len(collector.seqs()) == 1)
    (_, decoded), = collector.telemetry()
    assert decoded.rejections == ()
    v = decoded.readings[0].values
    assert set(v) == {"vwc_pct", "soil_temp_c", "battery_v", "rssi_dbm"}
    assert 0 < v["vwc_pct"] < 100 and 0 < v["soil_temp_c"] < 30 and 3.0 < v["battery_v"] < 4.3
