"""The snowplow logger on the MicroPython unix port (100 KB heap): NMEA through the simulated UART,
real gpsd captures, a real Mosquitto that is down for part of the drive, and a silent broker."""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mpy_harness import HEAP_BYTES, Collector, SimBoard, bundles, plow_bundle  # noqa: F401
from yukimizu.servers import Mosquitto



@pytest.fixture
def captures(shared_dir: Path) -> Path:
    """Real receiver captures from gpsd's regression suite (../shared/data/nmea)."""
    return shared_dir / "data" / "nmea"

TOPIC = "yukimizu/v1/goshogawara/plow/plow-12/telemetry"


def _cs(body: str) -> str:
    c = 0
    for ch in body:
        c ^= ord(ch)
    return f"${body}*{c:02X}"


def _dm(deg: float, lat: bool) -> str:
    d = int(abs(deg))
    m = (abs(deg) - d) * 60
    hemi = ("N" if deg >= 0 else "S") if lat else ("E" if deg >= 0 else "W")
    return (f"{d:02d}" if lat else f"{d:03d}") + f"{m:07.4f},{hemi}"


def fix_epoch(t: float, lat: float, lon: float, speed_kn: float = 14.58, course: float = 91.0) -> list[str]:
    """One GPS epoch (RMC + GGA with a fix) at Unix time t, as a receiver in Goshogawara would send it."""
    tm = time.gmtime(t)
    hms = time.strftime("%H%M%S", tm) + f".{int(round((t % 1) * 100)) % 100:02d}"
    dmy = time.strftime("%d%m%y", tm)
    return [
        _cs(f"GPRMC,{hms},A,{_dm(lat, True)},{_dm(lon, False)},{speed_kn:.2f},{course:.1f},{dmy},,,A"),
        _cs(f"GPGGA,{hms},{_dm(lat, True)},{_dm(lon, False)},1,11,0.9,12.0,M,39.0,M,,"),
    ]


def cfg(port: int, uart: str, **kw: Any) -> dict[str, Any]:
    base = {"device_id": "plow-12", "site": "goshogawara", "kind": "plow", "broker_url": f"mqtt://127.0.0.1:{port}",
            "connect_timeout_ms": 1000, "ack_timeout_ms": 1500, "sample_ms": 100, "batch_ms": 300,
            "gps_baud": 115200, "run_s": 3, "spool_segment_readings": 8, "spool_max_readings": 14400,
            "sim_uart": uart}
    base.update(kw)
    return base




def make_board(micropython: str, bundle: Path, root: Path, config: dict[str, Any], clock_set: bool, **feed: Any) -> SimBoard:
    b = SimBoard(micropython, bundle, root, config, feed or {"blade": 0})
    if clock_set:
        (root / "sim_clock").write_text("0")  # the RTC already runs on true time (set by an earlier fix)
    return b


def raw_readings(c: Collector) -> list[dict[str, Any]]:
    """Readings as published (before the decoder's range checks)."""
    return [r for t, p, _ in c.messages if t.endswith("/telemetry") for r in json.loads(p)["readings"]]


def test_fixes_are_published_with_the_receivers_position_and_time(
    micropython: str, plow_bundle: Path, tmp_path: Path, broker: Mosquitto, collector: Collector
) -> None:
    t0 = int(time.time()) - 30
    lines = []
    for i in range(20):
        lines += fix_epoch(t0 + i + 0.5, 40.8081 + i * 1e-5, 140.4401 + i * 2e-5)
    uart = tmp_path / "uart.nmea"
    uart.write_text("\r\n".join(lines) + "\r\n")
    board = make_board(micropython, plow_bundle, tmp_path / "b", cfg(broker.port, f"file:{uart}", gps_baud=38400), False, blade=1)
    stats = board.run().check().report
    assert stats["nmea_used"] == 40 and stats["nmea_skipped"] == 0
    assert collector.wait_for(lambda: len(collector.seqs()) == stats["samples"])
    readings = [r for _, d in collector.telemetry() for r in d.readings]
    assert collector.rejections() == []
    epochs = {round(t0 + i + 0.5, 3): (40.8081 + i * 1e-5, 140.4401 + i * 2e-5) for i in range(20)}
    with_fix = [r for r in readings if "lat" in r.values]
    assert len(with_fix) >= 5
    for r in with_fix:
        lat, lon = epochs[round(r.t_unix_s, 3)]  # the time is the fix's own time
        assert r.values["lat"] == pytest.approx(lat, abs=2e-6) and r.values["lon"] == pytest.approx(lon, abs=2e-6)
        assert r.values["speed_km_h"] == pytest.approx(14.58 * 1.852, abs=0.01)
        assert r.values["sats"] == 11 and r.values["blade_down"] is True
    ts = [r.t_unix_s for r in readings]
    assert ts == sorted(ts) and len(set(ts)) == len(ts), "times strictly increase (InfluxDB keeps one point per time)"
    assert stats["heap_b"] < HEAP_BYTES


def test_garbage_and_bad_checksums_in_a_real_cold_boot_capture_are_skipped(
    micropython: str, plow_bundle: Path, tmp_path: Path, broker: Mosquitto, collector: Collector, captures: Path
) -> None:
    capture = captures / "gp-320fw-2019-04-07-coldboot.nmea"  # spliced, truncated, NUL run, bad checksums
    board = make_board(micropython, plow_bundle, tmp_path / "b", cfg(broker.port, f"file:{capture}"), True)
    stats = board.run().check().report
    lines = [ln for ln in capture.read_bytes().split(b"\n") if ln.strip()]
    assert stats["nmea_used"] == 12 + 9, f"the capture's README counts 12 good RMC and 9 good GGA: {stats}"
    assert stats["nmea_used"] + stats["nmea_skipped"] == len(lines)
    assert collector.wait_for(lambda: len(raw_readings(collector)) == stats["samples"] >= 25)
    # Munich is outside the contract's Japan box; the 1999 week-rollover date is not believed,
    # so readings carry the board's (set) clock and nothing but the position is refused.
    assert {x.field for x in collector.rejections()} <= {"lat", "lon"}


def test_gps_without_a_fix_keeps_blade_state_only(
    micropython: str, plow_bundle: Path, tmp_path: Path, broker: Mosquitto, collector: Collector, captures: Path
) -> None:
    capture = tmp_path / "indoors.nmea"  # bt451 lines 1-34: `$GPRMC,,V,,,,,,,,,,N`, GGA quality 0
    capture.write_bytes(b"\n".join((captures / "bt451.nmea").read_bytes().split(b"\n")[:34]) + b"\n")
    board = make_board(micropython, plow_bundle, tmp_path / "b", cfg(broker.port, f"file:{capture}"), True, blade=1)
    stats = board.run().check().report
    assert stats["fix"] is False
    assert collector.wait_for(lambda: len(collector.seqs()) == stats["samples"])
    before = time.time()
    readings = [r for _, d in collector.telemetry() for r in d.readings]
    assert readings and collector.rejections() == []
    for r in readings:
        assert set(r.values) <= {"blade_down", "sats"} and r.values["blade_down"] is True
        assert before - 10 <= r.t_unix_s <= before + 1, "stamped from the board clock, which was set"


def test_a_real_drive_outside_japan_is_published_and_the_gateway_refuses_only_the_position(
    micropython: str, plow_bundle: Path, tmp_path: Path, broker: Mosquitto, collector: Collector, captures: Path
) -> None:
    capture = captures / "nl2008u.nmea"  # GN talker, driving in the Black Forest, 2015 date (not believed)
    board = make_board(micropython, plow_bundle, tmp_path / "b", cfg(broker.port, f"file:{capture}"), True)
    stats = board.run().check().report
    assert stats["nmea_used"] == 18, stats
    assert collector.wait_for(lambda: len(raw_readings(collector)) == stats["samples"])
    positioned = [r for r in raw_readings(collector) if "lat" in r]
    assert positioned and all(47.0 < r["lat"] < 49.0 and 7.0 < r["lon"] < 9.0 for r in positioned)
    assert {x.field for x in collector.rejections()} <= {"lat", "lon"}


@pytest.mark.parametrize("fault", ["MemoryError", "OSError"])
def test_the_gps_task_outlives_a_failing_uart_read(
    fault: str, micropython: str, plow_bundle: Path, tmp_path: Path, broker: Mosquitto, collector: Collector
) -> None:
    # On a fragmented 100 KB heap a UART read can fail; it once ended the GPS task for the rest of the night.
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    port = udp.getsockname()[1]
    udp.close()
    board = make_board(micropython, plow_bundle, tmp_path / "b", cfg(broker.port, f"udp:{port}", run_s=4), True,
                       blade=1, gps_fault=fault)
    result: dict[str, Any] = {}
    th = threading.Thread(target=lambda: result.update(run=board.run()))
    th.start()
    t0 = time.time() - 20
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(35):
            if i == 12:
                board.feed(blade=1)  # the fault clears
            sender.sendto(("\r\n".join(fix_epoch(t0 + i * 0.1, 40.8081 + i * 1e-5, 140.4401)) + "\r\n").encode(),
                          ("127.0.0.1", port))
            time.sleep(0.1)
    finally:
        sender.close()
        th.join(60)
    stats = result["run"].check().report
    assert stats["task_errors"] > 0 and stats["last_error"].startswith(fault), stats
    assert collector.wait_for(lambda: len(collector.seqs()) == stats["samples"])
    with_fix = [r for _, d in collector.telemetry() for r in d.readings if "lat" in r.values]
    assert len(with_fix) >= 10, "positions are published again once the UART reads"


def _silent_listener() -> tuple[socket.socket, int]:
    """A TCP port that accepts connections and never answers: a broker that hangs."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s, s.getsockname()[1]


def test_sampling_never_waits_for_a_broker_that_hangs(micropython: str, plow_bundle: Path, tmp_path: Path) -> None:
    srv, port = _silent_listener()
    try:
        board = make_board(micropython, plow_bundle, tmp_path / "b", cfg(port, "", run_s=3, connect_timeout_ms=2000), True)
        stats = board.run().check().report
    finally:
        srv.close()
    assert stats["sent"] == 0 and stats["pending"] == stats["samples"]
    # 3 s at 100 ms: a sampler that waited on the 2 s connect timeout would have missed ~20 samples.
    assert stats["samples"] >= 27
    assert stats["on_flash"] >= 24, "full RAM tails went to the flash spool"


def test_broker_down_mid_drive_every_reading_arrives_exactly_once(
    micropython: str, plow_bundle: Path, tmp_path: Path, broker: Mosquitto, collector: Collector
) -> None:
    # backoff_max_ms 1 s: the logger retries often enough to be back before the 5 s drive ends
    board = make_board(micropython, plow_bundle, tmp_path / "b", cfg(broker.port, "", run_s=5, backoff_max_ms=1000), True)
    result: dict[str, Any] = {}
    th = threading.Thread(target=lambda: result.update(run=board.run()))
    th.start()
    time.sleep(1.0)
    broker.stop()  # a cellular dead zone
    time.sleep(2.0)
    broker.start()
    collector.wait_connected()
    th.join(60)
    stats = result["run"].check().report
    assert stats["pending"] == 0, stats
    assert collector.wait_for(lambda: len(collector.by_seq()[0]) >= stats["samples"])
    time.sleep(0.3)
    readings, _redelivered = collector.by_seq()
    assert sorted(readings) == list(range(stats["samples"])), "every reading once by (device_id, seq), none lost"
    ts = sorted(r.t_unix_s for r in readings.values())
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    assert max(gaps) < 0.5, "sampling went on through the outage (one reading per 100 ms)"


def test_blade_input_is_debounced(micropython: str, plow_bundle: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "deb"
    out_dir.mkdir()
    from mpy_harness import run_script

    script = """
import time, sensors
d = sensors.Debouncer(50, 0)
levels = []
t = 0
# 1 ms steps: a 20 ms bounce to 1, back to 0, then 1 held for 80 ms, then a 30 ms dip to 0.
for level, ms in ((1, 20), (0, 10), (1, 80), (0, 30), (1, 10)):
    for _ in range(ms):
        levels.append(d.update(level, t, time.ticks_diff))
        t += 1
print(levels.index(1), levels.count(0), levels[-1])
"""
    first_on, zeros, last = run_script(micropython, plow_bundle, script, out_dir).split()
    # on after 50 ms of steady 1 (from t=30 to t=80), the 30 ms dip ignored
    assert (int(first_on), int(last)) == (80, 1) and int(zeros) == 80
