"""`yukimizu simulate` as a user runs it."""
from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from simulators import scenario
from simulators.world import World
from yukimizu.cli import main
from yukimizu.servers import Mosquitto

START = "2026-11-26T01:45:00+09:00"


def test_simulate_a_snowstorm_night_logs_every_reading_the_world_made(tmp_path: Path, mosquitto: Mosquitto, capsys) -> None:
    log = tmp_path / "sent.jsonl"
    reg = tmp_path / "devices.json"
    rc = main(["simulate", "--scenario", "snowstorm-night", "--speed", "50000", "--broker", mosquitto.url,
               "--start", START, "--seed", "2", "--seq-base", "7000", "--devices", "3", "--sent-log", str(log), "--registry-out", str(reg), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0, out
    sc = scenario.replace(scenario.load("snowstorm-night"), seed=2, start=START, speed=50000, devices=3)
    expected = sum(len(m.readings) for m in World(sc, sc.start_unix_s()).messages())
    lines = log.read_text().splitlines()
    assert len(lines) == expected
    assert f"sent {expected:,} readings" in out
    devices = json.loads(reg.read_text())["devices"]
    assert sorted({d["kind"] for d in devices}) == ["plow", "weather"]
    assert {json.loads(x)["device_id"] for x in lines} == {d["device_id"] for d in devices}
    assert min(json.loads(x)["seq"] for x in lines) == 7001


def test_an_unknown_scenario_exits_2_and_lists_the_known_ones(capsys) -> None:
    rc = main(["simulate", "--scenario", "hailstorm", "--broker", "mqtt://127.0.0.1:1", "--no-progress"])
    assert rc == 2
    assert "known: outages, paddy-season, snowstorm-night" in capsys.readouterr().err


def test_a_bad_override_names_the_key(capsys) -> None:
    rc = main(["simulate", "--scenario", "outages", "--speed", "-1", "--broker", "mqtt://127.0.0.1:1", "--no-progress"])
    assert rc == 2
    assert "speed: must be > 0" in capsys.readouterr().err


def test_a_hook_command_runs_with_the_action_and_reports_failure(tmp_path: Path, mosquitto: Mosquitto, capsys) -> None:
    marks = tmp_path / "marks"
    toml = tmp_path / "drill.toml"
    toml.write_text(
        'name = "drill"\ndescription = "d"\nduration_s = 600\nspeed = 3000\nkinds = ["weather"]\n'
        '[sampling]\nweather_interval_s = 60\n'
        '[[outage]]\nat_s = 100\ntarget = "gateway-uplink"\naction = "down"\nduration_s = 200\n'
        '[[outage]]\nat_s = 400\ntarget = "influxdb"\naction = "stop"\n')
    rc = main(["simulate", "--scenario", str(toml), "--broker", mosquitto.url, "--no-progress", "--seq-base", "0",
               "--hook", f"gateway-uplink=sh -c 'echo {{action}} >> {marks}'", "--hook", "influxdb=false"])
    out = capsys.readouterr().out
    assert marks.read_text().split() == ["down", "up"]
    assert rc == 1 and "failed 1" in out  # the influxdb hook (`false`) failed, and the run says so


def test_an_unreachable_broker_is_named_and_nothing_is_logged_as_sent(tmp_path: Path, capsys) -> None:
    from yukimizu.servers import free_port

    url = f"mqtt://127.0.0.1:{free_port()}"
    rc = main(["simulate", "--scenario", "outages", "--broker", url, "--no-progress", "--connect-timeout-s", "0.5",
               "--sent-log", str(tmp_path / "sent.jsonl")])
    assert rc == 2
    assert f"cannot reach the broker at {url}" in capsys.readouterr().err
    assert (tmp_path / "sent.jsonl").read_text() == ""


def test_a_run_killed_with_sigterm_stops_its_own_broker(tmp_path: Path) -> None:
    # Without --broker the run starts a Mosquitto of its own; killed, it must not leave that one running.
    proc = subprocess.Popen([sys.executable, "-m", "yukimizu.cli", "simulate", "--scenario", "paddy-season",
                             "--speed", "1", "--no-progress", "--var", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    line = ""
    for line in proc.stdout:
        if line.startswith("broker "):
            break
    m = re.search(r"mqtt://127\.0\.0\.1:(\d+)", line)
    assert m, line
    port = int(m.group(1))
    socket.create_connection(("127.0.0.1", port), timeout=2).close()  # listening while it runs
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    with socket.socket() as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the run's own broker is still listening"
