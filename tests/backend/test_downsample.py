"""Downsampling on the real InfluxDB: hourly and JST-daily aggregates, idempotent and resumable."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from backend_helpers import NOW_S, write_readings

from backend.downsample import Downsampler, retention_statements
from backend.history import History
from backend.registry import Database
from backend.settings import BackendSettings, load_settings
from yukimizu.influx import InfluxV1

START_S = (NOW_S - 12 * 86400) // 3600 * 3600 + 1200  # 12 days ago, 20 min past an hour
WATER_T = START_S + 600 * np.arange(10 * 144)  # every 10 min for 10 days
RAIN_T = START_S + 3600 * np.arange(10 * 24)


@pytest.fixture
def job(tmp_path: Path, influx: InfluxV1) -> Iterator[tuple[Downsampler, BackendSettings]]:
    settings = load_settings(None, {"YUKIMIZU_API__INFLUXDB__URL": influx.url,
                                    "YUKIMIZU_API__INFLUXDB__DATABASE": influx.database,
                                    "YUKIMIZU_API__DOWNSAMPLE__START": "2026-01-01T00:00:00Z"})
    rng = np.random.default_rng(7)
    level = np.round(3 + 2 * np.sin(WATER_T / 40000.0) + rng.normal(0, 0.1, WATER_T.size), 2)
    write_readings(influx, "water", "w-01", [(float(t), {"level_cm": float(v)}) for t, v in zip(WATER_T, level)],
                   tags={"field_id": "paddy-1"})
    rain = np.where(rng.random(RAIN_T.size) < 0.2, np.round(rng.random(RAIN_T.size) * 4, 1), 0.0)
    write_readings(influx, "weather", "met-1", [(float(t), {"rain_mm": float(r), "air_temp_c": 18.0})
                                                for t, r in zip(RAIN_T, rain)])
    db = Database(tmp_path / "r.sqlite3")
    loop = asyncio.new_event_loop()  # one loop for the whole test: the HTTP pool belongs to it
    hist = History(influx.url, influx.database)
    job = Downsampler(settings, hist, db)
    job.expected = {"level": level, "rain": rain}  # type: ignore[attr-defined]
    job.sync = loop.run_until_complete  # type: ignore[attr-defined]
    yield job, settings
    loop.run_until_complete(hist.aclose())
    loop.close()
    db.close()


def aggregates(influx: InfluxV1, measurement: str) -> list[dict[str, Any]]:
    return influx.rows(f'SELECT * FROM "{measurement}" GROUP BY *')


def test_hourly_and_daily_aggregates_match_the_raw_data(job: tuple[Downsampler, BackendSettings], influx: InfluxV1) -> None:
    ds, _ = job
    ds.sync(ds.run(NOW_S * 1000))
    level = ds.expected["level"]  # type: ignore[attr-defined]
    hourly = aggregates(influx, "water_1h")
    hour_of = (WATER_T // 3600) * 3600
    hours = np.unique(hour_of)
    assert [r["time"] // 1000 for r in hourly] == hours.tolist()
    for r, h in zip(hourly, hours):
        sel = level[hour_of == h]
        assert (r["device_id"], r["field_id"], r["site"]) == ("w-01", "paddy-1", "goshogawara")
        assert r["level_cm_mean"] == pytest.approx(sel.mean(), abs=1e-9)
        assert (r["level_cm_min"], r["level_cm_max"], r["level_cm_last"], r["n"]) == (sel.min(), sel.max(), sel[-1], sel.size)
    # Daily buckets are JST days: they start at 15:00 UTC.
    rain = ds.expected["rain"]  # type: ignore[attr-defined]
    jst_day = (RAIN_T + 9 * 3600) // 86400
    daily = aggregates(influx, "weather_1d")
    assert [r["time"] // 1000 for r in daily] == (np.unique(jst_day) * 86400 - 9 * 3600).tolist()
    for r, d in zip(daily, np.unique(jst_day)):
        assert r["rain_mm_sum"] == pytest.approx(rain[jst_day == d].sum(), abs=1e-9)
        assert r["air_temp_c_mean"] == 18.0
    assert all("level_cm_sum" not in r for r in hourly)  # sums only where a total means something


def test_running_twice_gives_the_same_result(job: tuple[Downsampler, BackendSettings], influx: InfluxV1) -> None:
    ds, _ = job
    first = ds.sync(ds.run(NOW_S * 1000))
    snapshot = {m: aggregates(influx, m) for m in ("water_1h", "water_1d", "weather_1h", "weather_1d")}
    assert first.points_written == sum(len(v) for v in snapshot.values())
    again = ds.sync(ds.run(NOW_S * 1000))
    assert again.points_written == 0  # nothing new since the checkpoint
    ds.db.execute("DELETE FROM downsample_checkpoints")  # forget everything: a full rerun
    rerun = ds.sync(ds.run(NOW_S * 1000))
    assert rerun.points_written == first.points_written
    assert {m: aggregates(influx, m) for m in snapshot} == snapshot


def test_an_interrupted_run_resumes_from_its_checkpoint(job: tuple[Downsampler, BackendSettings], influx: InfluxV1) -> None:
    ds, _ = job
    partial = ds.sync(ds.run(NOW_S * 1000, max_chunks=1))  # one query per measurement and interval: a day
    cp = ds.checkpoint("water", "1h")
    assert cp is not None and START_S * 1000 < cp < WATER_T[-1] * 1000
    written = aggregates(influx, "water_1h")
    assert written and written[-1]["time"] < cp and partial.buckets_written["water_1h"] == len(written) == 24
    ds.sync(ds.run(NOW_S * 1000))
    resumed = aggregates(influx, "water_1h")
    assert [r["time"] // 1000 for r in resumed] == np.unique((WATER_T // 3600) * 3600).tolist()
    assert resumed[:len(written)] == written


def test_retention_statements_use_the_configured_days(job: tuple[Downsampler, BackendSettings], influx: InfluxV1) -> None:
    _, settings = job
    stmts = retention_statements(settings)
    assert stmts[0] == f'CREATE RETENTION POLICY "raw" ON "{influx.database}" DURATION 580d REPLICATION 1 DEFAULT'
    for s in stmts:  # InfluxDB 1.x accepts them
        influx.query(s)
    assert {r["name"]: r["duration"] for r in influx.rows("SHOW RETENTION POLICIES")}["raw"] == "13920h0m0s"


def test_buckets_read_the_aggregates_and_only_the_rest_from_raw(job: tuple[Downsampler, BackendSettings],
                                                                influx: InfluxV1) -> None:
    ds, _ = job
    spec = {"rain_mm": "sum", "air_temp_c": "max"}
    start, end = int(RAIN_T[0]) * 1000, (int(RAIN_T[-1]) + 1) * 1000
    from_raw = ds.sync(ds.history.buckets("weather", spec, start_ms=start, end_ms=end, interval="1d"))
    ds.sync(ds.run(NOW_S * 1000, max_chunks=4))  # the first 4 JST days are downsampled, the rest is not
    assert 4 <= len(aggregates(influx, "weather_1d")) < len(from_raw[0])
    # Make the stored aggregates recognisable: if they are read, the result shows it.
    influx.write([f'weather_1d,device_id=met-1,site=goshogawara rain_mm_sum=-1.0 {aggregates(influx, "weather_1d")[0]["time"]}'])
    mixed = ds.sync(ds.history.buckets("weather", spec, start_ms=start, end_ms=end, interval="1d"))
    np.testing.assert_array_equal(mixed[0].times_ms, from_raw[0].times_ms)
    assert mixed[0].values["rain_mm"][0] == -1.0
    np.testing.assert_allclose(mixed[0].values["rain_mm"][1:], from_raw[0].values["rain_mm"][1:], atol=1e-9)
    np.testing.assert_array_equal(mixed[0].values["air_temp_c"], from_raw[0].values["air_temp_c"])
    rain = ds.expected["rain"]  # type: ignore[attr-defined]
    jst_day = (RAIN_T + 9 * 3600) // 86400
    np.testing.assert_allclose(from_raw[0].values["rain_mm"], [rain[jst_day == d].sum() for d in np.unique(jst_day)],
                               atol=1e-9)
