"""The whole pipeline as real processes: simulator -> Mosquitto -> gateway -> InfluxDB -> API, and `make demo`."""
from __future__ import annotations

import datetime as dt
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from yukimizu.influx import InfluxV1
from yukimizu.demo import farm_timeline
from yukimizu.stack import DATABASE, REPO, SITE_DIR, Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    s = Stack(tmp_path_factory.mktemp("stack")).start()
    yield s
    s.stop()


def _stored(db: InfluxV1, measurement: str) -> set[tuple[str, int]]:
    rows = db.rows(f'SELECT "seq", "device_id" FROM "{measurement}"')
    return {(r["device_id"], int(r["seq"])) for r in rows}


def test_every_reading_the_simulator_sent_is_in_influxdb_once(stack: Stack, tmp_path: Path) -> None:
    sent_log = tmp_path / "sent.jsonl"
    sim = stack.simulate("sim-e2e", "snowstorm-night", "--speed", "400", "--duration-s", "3600", "--seed", "7",
                         "--sent-log", str(sent_log))
    assert sim.wait(180) == 0, stack.log_tail("sim-e2e")
    sent: dict[str, set[tuple[str, int]]] = {}
    for line in sent_log.read_text().splitlines():
        r = json.loads(line)
        sent.setdefault(r["kind"], set()).add((r["device_id"], r["seq"]))
    assert sum(map(len, sent.values())) > 1000 and "plow" in sent
    assert stack.influxdb is not None
    db = InfluxV1(stack.influxdb.url, DATABASE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = {kind: _stored(db, kind) for kind in sent}
        if all(sent[k] <= stored[k] for k in sent):
            break
        time.sleep(1)
    for kind in sent:
        missing = sent[kind] - stored[kind]
        assert not missing, f"{len(missing)} {kind} readings sent but not in InfluxDB, e.g. {sorted(missing)[:3]}"
    # The backend's history API returns exactly what was written (InfluxQL over /query, as the engines read it).
    ts = [json.loads(line)["t"] for line in sent_log.read_text().splitlines()]
    r = httpx.get(f"{stack.api_url}/api/v1/history/plow", headers=stack.headers, timeout=60,
                  params={"field": "seq", "start": str(int(min(ts) * 1000)), "end": str(int(max(ts) * 1000) + 1)})
    assert r.status_code == 200, r.text
    via_api = {(s["tags"]["device_id"], int(v)) for s in r.json()["series"] for v in s["values"]["seq"]}
    assert via_api == sent["plow"]
    # Nothing else arrived, and each reading is one point (a doubled write would be a second seq or a second point).
    for kind in sent:
        assert stored[kind] == sent[kind]
        n = sum(int(r["n"]) for r in db.rows(f'SELECT count("seq") AS n FROM "{kind}" GROUP BY "device_id"'))
        assert n == len(sent[kind])


def test_the_api_sees_what_the_simulator_sent(stack: Stack) -> None:
    health = httpx.get(f"{stack.api_url}/healthz", timeout=10)
    assert health.status_code == 200
    assert httpx.get(f"{stack.api_url}/api/v1/registry/devices", timeout=10).status_code == 401
    devices = httpx.get(f"{stack.api_url}/api/v1/registry/devices", headers=stack.headers, timeout=10).json()["devices"]
    assert {d["kind"] for d in devices} >= {"plow", "water", "soil"}


def test_make_demo_answers_its_health_url_within_60_s(tmp_path: Path) -> None:
    started = time.monotonic()
    # 80 columns, as on a small terminal or a phone's SSH app: the links must still come out whole.
    proc = subprocess.Popen([sys.executable, "-m", "yukimizu.cli", "demo", "--var", str(tmp_path / "demo"), "--smoke"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**__import__("os").environ, "COLUMNS": "80"})
    health_at = None
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if "/healthz" in line and health_at is None:
            health_at = time.monotonic() - started  # printed once /healthz has answered 200
    rc = proc.wait(timeout=200)
    out = "".join(lines)
    assert health_at is not None and health_at < 60, out
    assert rc == 0 and "smoke ok" in out, out
    # It says what is a replay, so last night's plow fixes are not taken for a stalled map.
    assert "plows: last night's storm replayed at 20x" in out and "then in real time" in out, out
    # Each page's link on its label's line, with the same whole token: one a clerk can copy.
    tokens = set()
    for label, page in (("live plow map", "map"), ("fields (farmers)", "fields"), ("fleet health", "fleet")):
        line = next((ln for ln in lines if label in ln), "")
        m = re.search(rf"http://127\.0\.0\.1:\d+/{page}#token=(\S+)$", line.rstrip("\n"))
        assert m, f"the {page} link is not whole on the line of its label: {line!r}\n{out}"
        tokens.add(m.group(1))
    assert len(tokens) == 1, tokens
    # The backend got the paddies' dates moved onto the season the farm simulator plays (tests/yukimizu/test_demo.py).
    _start_s, shift_days = farm_timeline(20000.0)
    moved = json.loads((tmp_path / "demo" / "registry.json").read_text(encoding="utf-8"))["fields"]["features"]
    source = json.loads((SITE_DIR / "registry.json").read_text(encoding="utf-8"))["fields"]["features"]
    want = {f["id"]: (dt.date.fromisoformat(f["properties"]["transplant_date"]) + dt.timedelta(days=shift_days)).isoformat()
            for f in source if f["properties"]["transplant_date"]}
    assert {f["id"]: f["properties"]["transplant_date"] for f in moved if f["id"] in want} == want


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM (kill, systemd, timeout)",
                                                                      "SIGHUP (the SSH session closed)"])
def test_the_demo_stopped_by_a_signal_takes_its_servers_with_it(tmp_path: Path, sig: signal.Signals) -> None:
    # Left running, the old broker, InfluxDB, gateway and API would hold their ports and the folder that the
    # next `make demo` clears.
    proc = subprocess.Popen([sys.executable, "-m", "yukimizu.cli", "demo", "--var", str(tmp_path / "demo")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**__import__("os").environ, "COLUMNS": "200"})
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "Ctrl-C" in line:
            break
    out = "".join(lines)
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", out)]
    assert len(set(ports)) >= 3, out  # the API, the broker and InfluxDB
    proc.send_signal(sig)
    proc.communicate(timeout=60)

    def answers(port: int) -> bool:
        with socket.socket() as s:
            s.settimeout(1)
            return s.connect_ex(("127.0.0.1", port)) == 0
    assert [p for p in set(ports) if answers(p)] == [], out
