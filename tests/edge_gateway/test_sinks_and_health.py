"""The v2 write path against VictoriaMetrics, InfluxDB refusing a batch, health, status and the watchdog."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from gateway_harness import (
    BASE_T_UNIX_S,
    Message,
    expected,
    registry_doc,
    soil_lines,
    soil_message,
    soil_registry,
    stored,
    wait_for,
    workload,
)

from edge_gateway.settings import InfluxSettings
from edge_gateway.sink import SinkError, V1Sink
from yukimizu.influx import InfluxV1
from yukimizu.servers import VictoriaMetrics


def vm_readings(url: str) -> dict[tuple[str, int], float]:
    """{(device_id, seq): vwc_pct} from VictoriaMetrics' export of the soil series."""
    httpx.get(f"{url}/internal/force_flush").raise_for_status()
    out: dict[tuple[str, int], float] = {}
    seqs: dict[tuple[str, int], int] = {}
    for name in ("soil_seq", "soil_vwc_pct"):
        r = httpx.get(f"{url}/api/v1/export", params={"match[]": f'{{__name__="{name}"}}'})
        for ln in r.text.splitlines():
            doc = json.loads(ln)
            dev = doc["metric"]["device_id"]
            for ts, v in zip(doc["timestamps"], doc["values"]):
                if name == "soil_seq":
                    seqs[(dev, ts)] = int(v)
                else:
                    out[(dev, ts)] = v
    return {(dev, seqs[(dev, ts)]): v for (dev, ts), v in out.items()}


def test_api_v2_writes_through_influxdb_client_to_victoria_metrics(mosquitto, victoria_metrics, make_gateway, publisher):
    messages = [soil_message(f"vm-{d:02d}", k * 10, 10) for k in range(20) for d in range(10)]  # 2,000 readings
    reg = registry_doc([{"device_id": f"vm-{d:02d}", "field_id": "f-9"} for d in range(10)])
    gw = make_gateway(mosquitto.port, victoria_metrics.url, registry=reg, settings={
        "influxdb": {"api": "v2", "bucket": "yukimizu", "org": "goshogawara", "token": "not-checked-by-vm"}}).start()
    pub = publisher(mosquitto.port)
    pub.publish(messages)
    pub.wait_acked(len(messages))
    wait_for(lambda: gw.health()["written"] >= 2000, 30, "readings written over /api/v2/write")
    got = wait_for(lambda: (lambda g: g if len(g) >= 2000 else None)(vm_readings(victoria_metrics.url)), 20,
                   "VictoriaMetrics to show the readings")
    assert got == expected(messages)


def test_v1_sink_reconnects_after_influxdb_drops_its_kept_alive_connection(make_influxdb):
    server = make_influxdb()
    db = InfluxV1(server.url, "yukimizu")
    db.create_database()
    sink = V1Sink(InfluxSettings(url=server.url, database="yukimizu", timeout_ms=5000))
    assert sink.write(soil_lines("sink-00", range(10))) > 0
    assert sink.write(soil_lines("sink-00", range(10, 20))) > 0  # on the kept-alive connection
    server.restart()  # influxd exits: the server side of that connection is closed for real

    def write_at_most_twice(body: str) -> None:
        try:
            sink.write(body)
        except SinkError as e:  # allowed once: the stale connection fails, is closed, and the next write reconnects
            assert e.status == 0 and "unreachable" in str(e), e
            sink.write(body)

    write_at_most_twice(soil_lines("sink-00", range(20, 30)))
    server.stop()
    with pytest.raises(SinkError, match="unreachable") as down:
        sink.write(soil_lines("sink-00", range(30, 40)))
    assert down.value.status == 0 and not down.value.bad_batch
    server.start()
    write_at_most_twice(soil_lines("sink-00", range(30, 40)))
    assert sink.write(soil_lines("sink-00", range(40, 50))) > 0
    sink.close()
    assert stored(db) == {("sink-00", q): 20 + q / 4 for q in range(50)}
    db.close()


class PrefixedVictoriaMetrics(VictoriaMetrics):
    """VictoriaMetrics serving every path under /influx/, as InfluxDB behind a reverse proxy would be."""

    @property
    def url(self) -> str:
        return super().url + "/influx"

    def command(self) -> list[str]:
        return [*super().command(), "-http.pathPrefix=/influx"]


def test_v1_sink_keeps_a_path_prefix_in_the_url(tmp_path):
    with PrefixedVictoriaMetrics(tmp_path / "vm") as vm:
        bare = V1Sink(InfluxSettings(url=vm.url.removesuffix("/influx"), database="yukimizu"))
        with pytest.raises(SinkError) as no_prefix:  # the server really answers only under the prefix
            bare.write(soil_lines("prefix-00", range(1)))
        assert no_prefix.value.status != 0
        bare.close()
        sink = V1Sink(InfluxSettings(url=vm.url + "/", database="yukimizu"))
        sink.write(soil_lines("prefix-00", range(5)))
        sink.close()
        httpx.get(f"{vm.url}/internal/force_flush").raise_for_status()
        r = httpx.get(f"{vm.url}/api/v1/export", params={"match[]": '{__name__="soil_seq"}'})
        assert sorted(v for ln in r.text.splitlines() for v in json.loads(ln)["values"]) == [0, 1, 2, 3, 4]


def test_a_line_influxdb_refuses_is_dead_lettered_and_the_rest_are_written(mosquitto, influx, make_gateway, publisher):
    # A real refusal: InfluxDB 1.x fixes a field's type per shard; a string level_cm written first makes
    # every float level_cm in that shard a "field type conflict" (HTTP 400), forever.
    t_ms = (BASE_T_UNIX_S + 5) * 1000
    influx.write([f'water,device_id=paddy-00,site=goshogawara level_cm="dry" {t_ms}'])
    water = [Message("yukimizu/v1/goshogawara/water/paddy-00/telemetry",
                     json.dumps({"v": 1, "readings": [{"seq": s, "t": BASE_T_UNIX_S + s, "level_cm": 5.5}]}).encode(),
                     {}) for s in range(3)]
    soil = workload(n_devices=5, msgs_per_device=10)
    reg = registry_doc([{"device_id": f"soil-{d:03d}"} for d in range(5)] + [{"device_id": "paddy-00", "kind": "water"}])
    gw = make_gateway(mosquitto.port, influx.url, influx.database, registry=reg).start()
    pub = publisher(mosquitto.port)
    pub.publish(soil[:20] + water + soil[20:])
    pub.wait_acked(len(soil) + 3)
    wait_for(lambda: (lambda h: h["spool_depth_lines"] == 0 and h["received_msgs"] == 53)(gw.health()), 30,
             "spool drained past the refused lines")
    assert stored(influx) == expected(soil)
    letters = [(code, reason, payload) for _t, code, reason, payload in gw.dead_letters()]
    assert [c for c, _r, _p in letters] == ["influx_refused"] * 3
    assert all("field type conflict" in r for _c, r, _p in letters), letters[0][1]
    assert all(p.startswith(b"water,device_id=paddy-00") for _c, _r, p in letters)
    assert gw.health()["written"] == 500


def test_health_endpoint_status_command_and_gateway_measurement(mosquitto, influx, make_gateway, publisher):
    gw = make_gateway(mosquitto.port, influx.url, influx.database, registry=soil_registry(3)).start()
    pub = publisher(mosquitto.port)
    pub.publish([soil_message("soil-000", 0, 10), soil_message("soil-000", 0, 10), soil_message("soil-001", 0, 10)])
    pub.wait_acked(3)
    wait_for(lambda: gw.health()["written"] == 20, 20, "readings written")
    h = gw.health()
    assert (h["received_msgs"], h["readings_received"], h["spooled"], h["duplicates"]) == (3, 30, 20, 10)
    assert h["spool_depth_lines"] == 0 and h["write_latency_ms"] > 0 and h["registry_devices"] == 3

    out = subprocess.run([sys.executable, "-m", "yukimizu.cli", "gateway", "status", "--port", str(gw.health_port)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "readings written" in out.stdout and "InfluxDB書込済み" in out.stdout
    row = next(ln for ln in out.stdout.splitlines() if "readings written" in ln)
    assert "20" in row

    def shown(label: str) -> str:
        return next(ln for ln in out.stdout.splitlines() if label in ln)
    assert "はい / yes" in shown("broker connected")  # words, not Python's True/None
    assert "未設定 / not configured" in shown("LoRa receiver")

    def written_in_influx():
        cid = gw.config["mqtt"]["client_id"]
        r = influx.query(f"SELECT last(\"written\"), last(\"duplicates\") FROM \"gateway\" WHERE \"gateway\" = '{cid}'")
        return r and r[0]["values"][0][1:] == [20, 10]
    wait_for(written_in_influx, 10, "the gateway measurement in InfluxDB")

    gw.stop()
    down = subprocess.run([sys.executable, "-m", "yukimizu.cli", "gateway", "status", "--port", str(gw.health_port)],
                          capture_output=True, text=True, timeout=30)
    assert down.returncode == 1 and "not answering" in down.stderr


def test_systemd_readiness_and_watchdog_over_notify_socket(tmp_path, mosquitto, influx, make_gateway):
    sock_path = str(tmp_path / "notify.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(sock_path)
    srv.settimeout(10)
    gw = make_gateway(mosquitto.port, influx.url, influx.database)
    gw.config["_env"] = {"NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "1000000"}
    gw.start()
    got = set()
    deadline = time.monotonic() + 10
    while {"READY=1", "WATCHDOG=1"} - got and time.monotonic() < deadline:
        got.add(srv.recv(256).decode())
    srv.close()
    assert {"READY=1", "WATCHDOG=1"} <= got
