"""Firmware in the loop: the real firmware on the MicroPython unix port reports what the models made."""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from simulators.fil import echo_distance_cm, firmware_bundles, nmea_sentences, run_fil, soil_raw_counts
from simulators.models.plow import Fix
from yukimizu.contract import decode
from yukimizu.servers import Mosquitto

from simhelpers import short_world

REPO = Path(__file__).resolve().parents[2]
NMEA = REPO / "firmware" / "lib" / "nmea.py"


def test_sensor_inverses_undo_the_firmware_conversions() -> None:
    # sensors.vwc_pct: 100 (raw_dry - raw) / (raw_dry - raw_wet); with 3000/1300, 30 % is 3000 - 0.3 * 1700 = 2490.
    assert soil_raw_counts(30.0) == 2490
    assert 100 * (3000 - soil_raw_counts(41.3)) / 1700 == pytest.approx(41.3, abs=100 / 1700)
    # sensors.level_cm: mounting height minus distance; 120 cm up, 4.5 cm of water: 115.5 cm to the surface.
    assert echo_distance_cm(4.5) == 115.5


def test_nmea_sentences_carry_the_fix_with_valid_checksums() -> None:
    fix = Fix(1_795_600_000.5, (0.0, 0.0), {"lat": 40.8081, "lon": 140.4401, "speed_km_h": 27.78, "heading_deg": 91.0,
                                            "hdop": 0.9, "sats": 11, "blade_down": True}, False)
    lines = nmea_sentences(fix).decode().split("\r\n")[:2]
    for line in lines:
        body, star, check = line[1:].partition("*")
        x = 0
        for ch in body:
            x ^= ord(ch)
        assert star and f"{x:02X}" == check
    # 1795600000 s = 2026-11-25 09:46:40 UTC; 0.8081 deg = 48.486'; 0.4401 deg = 26.406'; 27.78 km/h = 15.00 kn.
    rmc = lines[0].split(",")
    assert rmc[0] == "$GPRMC" and rmc[1] == "094640.50" and rmc[2] == "A"
    assert rmc[3] == "4048.48600" and rmc[5] == "14026.40600" and rmc[7] == "15.00" and rmc[9] == "251126"
    void = nmea_sentences(Fix(1_795_600_001.0, (0, 0), {"blade_down": True, "sats": 0}, False)).decode()
    assert ",V," in void.split("\r\n")[0]


def test_udp_port_bound_sees_a_socket_open_and_closed() -> None:
    import socket

    from simulators.fil import udp_port_bound

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    assert udp_port_bound(port)
    s.close()
    assert not udp_port_bound(port)


def firmware_or_skip() -> None:
    if not (REPO / "firmware" / "lib" / "hw_sim.py").exists():
        pytest.skip("firmware/lib/hw_sim.py is not in this checkout yet (firmware branch not merged)")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The firmware bundles, built once for this module with the firmware's own build."""
    firmware_or_skip()
    apps = ("soil", "plow") if NMEA.exists() else ("soil",)
    return firmware_bundles(tmp_path_factory.mktemp("fw-build"), apps=apps)


def test_soil_and_water_nodes_on_the_real_firmware_report_the_models(tmp_path: Path, micropython: str,
                                                                      mosquitto: Mosquitto, bundles: dict) -> None:
    got: dict[str, list] = defaultdict(list)
    lock = threading.Lock()

    def on_message(_c, _u, msg) -> None:
        if msg.topic.endswith("/telemetry"):
            with lock:
                for r in decode(msg.topic, msg.payload, now_unix_s=time.time() + 60).readings:
                    got[r.device_id].append(r)

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fil-test-sub")
    sub.on_message = on_message
    sub.connect("127.0.0.1", mosquitto.port)
    sub.subscribe("yukimizu/v1/#", qos=1)
    sub.loop_start()
    time.sleep(0.2)
    world = short_world("paddy-season", duration_s=3 * 600, speed=900, devices=0)
    picks = [d for d in world.devices if d.device_id in ("water-001", "soil-001")]
    world.devices = picks  # read-only elsewhere; this world is only ours (different args from other tests)
    report = run_fil(world, micropython=micropython, bundles=bundles, workdir=tmp_path / "boards",
                     broker_url=mosquitto.url, speed=900)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(len(v) for v in got.values()) < len(report.wakes):
        time.sleep(0.05)
    sub.loop_stop()
    assert all(w.rc == 0 and w.report.get("online") for w in report.wakes), [w.stderr for w in report.wakes]
    assert len(report.wakes) >= 4
    for w in report.wakes:
        readings = [r for r in got[w.device_id] if abs(r.t_unix_s - w.sim_t_unix_s) <= 2]
        assert len(readings) == 1, (w.device_id, w.sim_t_unix_s, [r.t_unix_s for r in got[w.device_id]])
        field = "vwc_pct" if w.device_id.startswith("soil") else "level_cm"
        assert readings[0].values[field] == pytest.approx(w.truth, abs=0.15)
    for dev, rs in got.items():
        seqs = [r.seq for r in rs]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), dev


def test_a_plow_logger_on_the_real_firmware_reports_the_track(tmp_path: Path, micropython: str, mosquitto: Mosquitto,
                                                              bundles: dict) -> None:
    if "plow" not in bundles:
        pytest.skip("firmware/lib/nmea.py (the NMEA parser) is not in this checkout yet")
    got = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fil-plow-sub")
    sub.on_message = lambda _c, _u, m: got.extend(decode(m.topic, m.payload, now_unix_s=time.time() + 60).readings) \
        if m.topic.endswith("/telemetry") else None
    sub.connect("127.0.0.1", mosquitto.port)
    sub.subscribe("yukimizu/v1/#", qos=1)
    sub.loop_start()
    time.sleep(0.2)
    world = short_world("snowstorm-night", duration_s=22500, speed=10, devices=3)
    plow = next(d for d in world.devices if d.kind == "plow")
    track = world.plow_track(plow)
    # Start the world 15 simulated seconds before departure (the logger is powered on and its GPS port open
    # before the clock starts, however slowly the machine boots it) and stop 15 s into the drive.
    from simulators.world import World

    w = World(world.sc, track[0].t_unix_s - 15, devices=[plow])
    w.__dict__["end_unix_s"] = track[0].t_unix_s + 15
    w.__dict__["dispatch_unix_s"] = world.dispatch_unix_s
    w.__dict__["_tracks"] = {plow.device_id: track}
    # Speed 3: one fix every 333 ms of wall time, which a loaded CI machine's firmware process keeps up with.
    report = run_fil(w, micropython=micropython, bundles=bundles, workdir=tmp_path / "boards",
                     broker_url=mosquitto.url, speed=3)
    time.sleep(1.0)
    sub.loop_stop()
    stats = report.plow_stats[plow.device_id]
    assert stats and "error" not in stats, stats
    sent = [f for f in track if f.t_unix_s < w.end_unix_s and "lat" in f.values]
    with_fix = [r for r in got if "lat" in r.values]
    assert len(with_fix) >= 0.6 * len(sent)
    by_t = {round(f.t_unix_s, 1): f for f in sent}
    matched = [r for r in with_fix if round(r.t_unix_s, 1) in by_t]
    assert len(matched) >= 0.6 * len(sent)
    for r in matched:
        f = by_t[round(r.t_unix_s, 1)]
        assert r.values["lat"] == pytest.approx(f.values["lat"], abs=2e-6)
        assert r.values["blade_down"] == f.blade_down
    print(json.dumps(stats))


def test_simulate_with_fil_runs_firmware_devices_beside_the_fleet(tmp_path: Path, micropython: str,
                                                                  mosquitto: Mosquitto, capsys) -> None:
    firmware_or_skip()  # builds its own bundles under --var, as a user's run does
    from yukimizu.cli import main

    rc = main(["simulate", "--scenario", "paddy-season", "--fil", "1", "--duration-s", "1200", "--speed", "1200",
               "--broker", mosquitto.url, "--no-progress", "--var", str(tmp_path), "--seq-base", "0"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "firmware in the loop: water-001" in out and "(0 failed), 0 plow loggers" in out
    assert (tmp_path / "boards" / "water-001" / "config.json").exists()
