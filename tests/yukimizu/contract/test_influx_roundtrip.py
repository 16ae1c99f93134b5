"""Line protocol round-trips through the real InfluxDB 1.x and, via influxdb-client, VictoriaMetrics."""
from __future__ import annotations

import json
import math
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yukimizu.contract import decode, reading_line
from yukimizu.influx import InfluxV1, quote_literal

VALID = sorted((Path(__file__).resolve().parents[3] / "contract" / "vectors" / "valid").glob("*.json"))


def test_every_valid_vector_reads_back_equal_from_influxdb(influx: InfluxV1) -> None:
    expected: dict[tuple[str, str, int], dict] = {}
    for p in VALID:
        v = json.loads(p.read_text(encoding="utf-8"))
        out = decode(v["topic"], v["payload"].encode(), now_unix_s=v["now_unix_s"])
        lines = [reading_line(r, v.get("tags")) for r in out.readings]
        influx.write(lines)
        for r in out.readings:
            tags = {"site": r.site, "device_id": r.device_id, **(v.get("tags") or {})}
            expected[(r.kind.value, r.device_id, round(r.t_unix_s * 1000))] = {"seq": r.seq, **r.values, **tags}
    got: dict[tuple[str, str, int], dict] = {}
    for measurement in ("soil", "water", "weather", "plow"):
        for row in influx.rows(f'SELECT * FROM "{measurement}"'):
            key = (measurement, row["device_id"], row["time"])
            got[key] = {k: v for k, v in row.items() if v is not None and k != "time"}
    assert got == expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tag=st.text(st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\\"), min_size=1, max_size=20),
    level=st.floats(-30, 100),
)
def test_any_tag_text_and_level_survive_the_round_trip(influx: InfluxV1, tag: str, level: float) -> None:
    if tag.strip() != tag or not tag.strip():
        tag = f"x{tag.strip()}x"
    payload = json.dumps({"v": 1, "readings": [{"seq": 1, "t": 1795600000, "level_cm": level}]}).encode()
    (r,) = decode("yukimizu/v1/goshogawara/water/w-1/telemetry", payload, now_unix_s=1795700000).readings
    influx.write([reading_line(r, {"field_id": tag})])
    rows = influx.rows(f"SELECT level_cm, seq FROM water WHERE field_id = {quote_literal(tag)}")
    assert len(rows) == 1
    assert rows[0]["seq"] == 1 and math.isclose(rows[0]["level_cm"], level, rel_tol=0, abs_tol=0)
    influx.query("DELETE FROM water")


def test_influxdb_client_v2_write_path_lands_in_victoriametrics(victoria_metrics) -> None:
    from influxdb_client import InfluxDBClient, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    payload = b'{"v":1,"readings":[{"seq":41,"t":1795600000,"vwc_pct":31.5},{"seq":42,"t":1795600600,"vwc_pct":30.25}]}'
    out = decode("yukimizu/v1/goshogawara/soil/soil-vm/telemetry", payload, now_unix_s=1795700000)
    with InfluxDBClient(url=victoria_metrics.url, token="unused", org="yukimizu") as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket="yukimizu", record=[reading_line(r) for r in out.readings], write_precision=WritePrecision.MS
        )
    urllib.request.urlopen(f"{victoria_metrics.url}/internal/force_flush").read()
    q = urllib.parse.quote('{__name__="soil_vwc_pct",device_id="soil-vm"}')
    with urllib.request.urlopen(f"{victoria_metrics.url}/api/v1/export?match[]={q}") as resp:
        series = [json.loads(line) for line in resp.read().decode().splitlines() if line]
    assert len(series) == 1
    assert series[0]["metric"]["site"] == "goshogawara"
    assert series[0]["values"] == [31.5, 30.25]
    assert series[0]["timestamps"] == [1795600000000, 1795600600000]


def test_influxdb_refuses_a_field_type_change_so_types_are_frozen(influx: InfluxV1) -> None:
    from yukimizu.influx import InfluxError

    influx.write(["water,device_id=a,site=s seq=1i,level_cm=3.0 1795600000000"])
    with pytest.raises(InfluxError) as info:
        influx.write(["water,device_id=a,site=s seq=2i,level_cm=3i 1795600001000"])
    assert info.value.status == 400 and "conflict" in str(info.value)
