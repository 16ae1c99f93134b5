"""Advice for a whole site through the API (registry + InfluxDB + engine) vs asking field by field.

A site with N fields (40 % paddies with 10-minute level readings over 12 h, the rest apple orchards with a soil
sensor every 3 h for 30 days) and one weather station reporting hourly, in an own InfluxDB 1.x started here.
Measured: `GET /api/v1/advice?site=` (one computation for all fields: 5 InfluxQL queries, one engine call) against
the baseline a dashboard would do without it, `GET /api/v1/fields/{id}/advice` for every field (the same
queries and engine call per field). The baseline runs on every LOOP_EVERY-th field and is scaled to N.
Medians of 3 wall-clock runs; both go through the app in-process (FastAPI TestClient), so HTTP parsing is in both.
Run: `.venv/bin/python -m benchmarks advice_api` (BENCH_ADVICE_API_FIELDS, BENCH_ADVICE_API_LOOP_EVERY).
"""
from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import load_settings
from yukimizu.contract import decode, reading_line, topic
from yukimizu.influx import InfluxV1
from yukimizu.servers import InfluxDB

N_FIELDS = int(os.environ.get("BENCH_ADVICE_API_FIELDS", "200"))
LOOP_EVERY = int(os.environ.get("BENCH_ADVICE_API_LOOP_EVERY", "10"))
SITE = "goshogawara"
JST = timezone(timedelta(hours=9))
NOW = datetime(2026, 7, 27, 5, 30, tzinfo=JST)
NOW_MS = int(NOW.timestamp() * 1000)


def _lines(kind: str, device: str, rows: list[tuple[float, dict[str, float]]], field_id: str | None) -> list[str]:
    out: list[str] = []
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        payload = json.dumps({"v": 1, "readings": [{"seq": start + i, "t": t, **v} for i, (t, v) in enumerate(chunk)]})
        decoded = decode(topic(SITE, kind, device), payload.encode())
        out += [reading_line(r, {"field_id": field_id} if field_id else None) for r in decoded.readings]
    return out


def seed(c: TestClient, influx: InfluxV1, n: int, rng: np.random.Generator) -> list[str]:
    """Registry rows and readings for n fields; their ids."""
    assert c.post("/api/v1/sites", json={"id": SITE, "latitude_deg": 40.81, "longitude_deg": 140.44,
                                          "elevation_m": 10}).status_code == 201
    now_s = NOW.timestamp()
    lines: list[str] = []
    station = []
    for h in range(30 * 24):
        t = now_s - (30 * 24 - h) * 3600
        x = -np.cos(2 * np.pi * ((h + 5) % 24 - 2) / 24)
        station.append((t, {"air_temp_c": round(23.5 + 3.5 * x, 2), "rh_pct": round(70 - 20 * x, 1), "wind_m_s": 2.0,
                            "solar_w_m2": round(max(0.0, 600 * x), 1), "rain_mm": 10.0 if h % 120 == 0 else 0.0}))
    lines += _lines("weather", "wx-01", station, None)
    ids = []
    for i in range(n):
        fid = f"f{i:04d}"
        ids.append(fid)
        paddy = i % 5 < 2
        body = {"id": fid, "site": SITE, "crop": "paddy" if paddy else "apple", "area_m2": 1000.0 + i,
                "soil_texture": "clay" if paddy else "loam"}
        body.update({"transplant_date": "2026-05-20", "level_max_cm": 25.0} if paddy else {"bloom_date": "2026-05-20"})
        assert c.post("/api/v1/fields", json=body).status_code == 201
        if paddy:
            rows = [(now_s - 600 * k, {"level_cm": round(11.0 + rng.normal(0, 0.2), 2)}) for k in range(72, -1, -1)]
            lines += _lines("water", f"w{fid}", rows, fid)
        else:
            rows = [(now_s - 3 * 3600 * k, {"vwc_pct": round(22.0 + rng.normal(0, 1), 2)}) for k in range(240, 0, -1)]
            lines += _lines("soil", f"s{fid}", rows, fid)
    for start in range(0, len(lines), 5000):
        influx.write(lines[start:start + 5000])
    return ids


def _median_s(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Print site-at-once vs field-by-field API time for N fields."""
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as tmp:
        server = InfluxDB(Path(tmp) / "influxdb")
        server.start()
        try:
            influx = InfluxV1(server.url, "bench_advice")
            influx.create_database()
            settings = load_settings(None, {
                "YUKIMIZU_API__INFLUXDB__URL": server.url, "YUKIMIZU_API__INFLUXDB__DATABASE": "bench_advice",
                "YUKIMIZU_API__REGISTRY__PATH": str(Path(tmp) / "registry.sqlite3"),
                "YUKIMIZU_API__ALERTS__ENABLED": "false", "YUKIMIZU_API__DOWNSAMPLE__ENABLED": "false",
                "YUKIMIZU_API__ADVICE__ENABLED": "false"})
            with TestClient(create_app(settings)) as c:
                ids = seed(c, influx, N_FIELDS, rng)

                def site() -> None:
                    r = c.get("/api/v1/advice", params={"site": SITE, "at": NOW_MS})
                    assert r.status_code == 200 and len(r.json()["advice"]) == N_FIELDS, r.text[:300]

                sample = ids[::LOOP_EVERY]

                def loop() -> None:
                    for fid in sample:
                        assert c.get(f"/api/v1/fields/{fid}/advice", params={"at": NOW_MS}).status_code == 200

                site()  # warm up (imports, SQLite and InfluxDB caches)
                site_s = _median_s(site)
                loop_s = _median_s(loop) * len(ids) / len(sample)
            influx.close()
        finally:
            server.stop()
    load = os.getloadavg()[0]
    print(f"fields {N_FIELDS} (40 % paddies), 30 days, InfluxDB 1.x on loopback; load average {load:.1f}")
    print(f"GET /api/v1/advice?site=        {site_s * 1000:8.0f} ms  ({site_s / N_FIELDS * 1000:.2f} ms per field)")
    print(f"GET /api/v1/fields/{{id}}/advice x N {loop_s * 1000:8.0f} ms  (every {LOOP_EVERY}th field, scaled)")
    print(f"ratio field-by-field / site-at-once: {loop_s / site_s:.1f}x")
