"""End to end: simulated plows -> real Mosquitto -> real gateway -> real InfluxDB -> /api/v1/coverage and the
daily report, equal to the offline CLI on the same points (exported from InfluxDB); nothing the broker
acknowledged is missing."""
from __future__ import annotations

import json
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from snowapi_night import export_tracks_csv

from yukimizu.cli import main as yukimizu_main
from yukimizu.influx import InfluxV1

JST = timezone(timedelta(hours=9))


def test_simulated_night_through_the_pipeline_gives_the_cli_answer(tmp_path: Path) -> None:
    from yukimizu.stack import DATABASE, Stack

    sent = tmp_path / "sent.jsonl"
    with Stack(tmp_path / "var") as stack:
        # 22:00 to 03:00 JST: the plows are dispatched at 02:00 and are done within the hour; 1200x: about 15 s.
        sim = stack.simulate("snow", "snowstorm-night", "--speed", "1200", "--duration-s", "18000", "--seed", "1",
                             "--sent-log", str(sent))
        assert sim.wait(180) == 0, stack.log_tail("snow")
        acked = [json.loads(line) for line in sent.read_text().splitlines() if line.strip()]
        fixes = [r for r in acked if r["kind"] == "plow" and "lat" in r["values"]]
        assert len(fixes) > 5000, len(fixes)
        influx = InfluxV1(stack.influxdb.url, DATABASE)  # type: ignore[union-attr]
        deadline = time.monotonic() + 90
        while True:  # the gateway writes in batches: wait until every acknowledged fix is in InfluxDB
            rows = influx.query('SELECT count("lat") FROM "plow"')
            n = rows[0]["values"][0][1] if rows else 0
            if n >= len(fixes):
                break
            assert time.monotonic() < deadline, f"{n} of {len(fixes)} acknowledged fixes reached InfluxDB"
            time.sleep(0.5)
        assert n == len(fixes)

        api = httpx.Client(base_url=stack.api_url, timeout=120, headers=stack.headers)
        # The roads as the registry holds them, as the GeoJSON file an auditor would be given.
        roads = sorted(api.get("/api/v1/roads").json(), key=lambda r: r["id"])
        (tmp_path / "roads.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {k: r[k] for k in ("id", "route", "name", "priority", "oneway")},
             "geometry": r["geometry"]} for r in roads]}, ensure_ascii=False), encoding="utf-8")
        (tmp_path / "tracks.csv").write_text(export_tracks_csv(influx), encoding="utf-8")
        t0 = math.floor(min(r["t"] for r in fixes))
        t1 = math.ceil(max(r["t"] for r in fixes)) + 1
        since = datetime.fromtimestamp(t0, JST).isoformat()
        until = datetime.fromtimestamp(t1, JST).isoformat()

        assert yukimizu_main(["coverage", "--roads", str(tmp_path / "roads.geojson"), "--tracks",
                              str(tmp_path / "tracks.csv"), "--since", since, "--until", until,
                              "--out", str(tmp_path / "result.json")]) == 0
        cli = json.loads((tmp_path / "result.json").read_text())
        r = api.get("/api/v1/coverage", params={"since": since, "until": until})
        assert r.status_code == 200, r.text
        got = r.json()
        for key in ("segments", "routes", "total"):
            assert got[key] == cli[key], key
        assert got["input"]["fixes_used"] == cli["input"]["fixes_used"]
        # Six plows from 02:00 clear the town before 03:00 (the simulator's own figure for seed 1: 99.3 %).
        assert got["total"]["coverage_pct"] > 90 and sum(s["cleared"] for s in got["segments"]) > 300

        day = datetime.fromtimestamp(t1, JST).date().isoformat()
        out = tmp_path / "report.json"
        assert yukimizu_main(["report", "plows", "--date", day, "--tracks", str(tmp_path / "tracks.csv"), "--roads",
                              str(tmp_path / "roads.geojson"), "--format", "json", "--out", str(out)]) == 0
        r = api.get("/api/v1/reports/plows", params={"date": day, "format": "json"})
        assert r.status_code == 200, r.text
        assert r.json() == json.loads(out.read_text())
        assert len(r.json()["vehicles"]) == 6
