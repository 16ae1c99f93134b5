"""Advice scenarios through the simulators' physical models (simulators/models): the model makes the truth, its
simulated devices report it through the wire contract into InfluxDB, and the advice must act on it in time."""
from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from advice_scenarios import jst_s, publish, station_hours, write_forecast
from backend_helpers import Receiver, square
from fastapi.testclient import TestClient
from backend_helpers import admin_headers

from backend.app import create_app
from backend.settings import BackendSettings
from simulators.models.et0 import hargreaves_et0_mm_day
from simulators.models.paddy import LevelSensor, Paddy, PaddyFault, PaddyFaultKind
from simulators.models.soil import SoilProbe, UplandSoil
from yukimizu.influx import InfluxV1

SITE = "goshogawara"
LAT_DEG = 40.81


def app(settings: BackendSettings, feed: Path | None = None, **alerts: Any) -> TestClient:
    advice = replace(settings.advice, forecast_feeds=[f"{SITE}={feed}"] if feed else [])
    api = replace(settings.api, plugins=["backend.advisor.plugin"])
    return TestClient(create_app(replace(settings, advice=advice, api=api, alerts=replace(settings.alerts, **alerts))),
                      headers=admin_headers(settings))


def register(c: TestClient, fid: str, crop: str, **values: Any) -> None:
    if c.get(f"/api/v1/sites/{SITE}").status_code == 404:
        assert c.post("/api/v1/sites", json={"id": SITE, "latitude_deg": LAT_DEG, "longitude_deg": 140.44,
                                             "elevation_m": 10}).status_code == 201
    r = c.post("/api/v1/fields", json={"id": fid, "site": SITE, "crop": crop, "area_m2": 3000.0,
                                       "geometry": square(140.44, 40.80), **values})
    assert r.status_code == 201, r.text


@pytest.fixture
def alert_app(settings: BackendSettings, receiver: Receiver) -> Iterator[TestClient]:
    with app(settings, webhook_urls=[receiver.url + "/hook"]) as c:
        yield c


def test_simulated_leak_in_a_booting_paddy_is_flagged_within_hours_and_alerted_once(
        alert_app: TestClient, influx: InfluxV1, receiver: Receiver) -> None:
    # The simulators' paddy (percolation 10 mm/day, seepage 3 mm/day) holding 12 cm in meiosis; from 01:00 a levee
    # breach loses 10 mm/h (1 cm/h) more. Its ultrasonic sensor (0.2 cm noise) reports every 10 minutes.
    register(alert_app, "paddy", "paddy", transplant_date="2026-05-20", level_max_cm=20.0)
    start, leak_from = jst_s("2026-07-26T18:00"), jst_s("2026-07-27T01:00")
    paddy = Paddy(area_m2=3000.0, storage_mm=120.0, weir_crest_mm=200.0,
                  faults=[PaddyFault(PaddyFaultKind.LEAK, leak_from, leak_from + 12 * 3600, leak_mm_h=10.0)])
    sensor, rng = LevelSensor(offset_cm=0.3), random.Random(5)
    raised = []
    for i in range(12 * 6 + 1):  # 18:00 to 06:00
        t = start + 600 * i
        publish(influx, SITE, "water", "w-01", [(t, {"level_cm": sensor.read_level_cm(paddy.level_mm, rng)})],
                field_id="paddy")
        if i >= 18 and i % 2 == 0:  # every 20 min from 21:00, once the level window has filled
            report = alert_app.portal.call(alert_app.app.state.alerts.tick, int((t + 5) * 1000))  # type: ignore
            assert not report.rule_errors
            raised += [(rule, subject, t) for rule, subject in report.raised]
        paddy.step(t, 1 / 6, et0_mm=0.0, rain_mm=0.0)  # night: no evapotranspiration
    assert paddy.ledger.leak_mm > 40.0  # the model did leak
    assert [(r, s) for r, s, _ in raised] == [("paddy_leak", "paddy")]
    assert leak_from < raised[0][2] <= leak_from + 2 * 3600
    hooks = [(b["event"], b["alert"]["rule"]) for b in receiver.bodies()]
    assert hooks == [("raised", "paddy_leak")]


def test_simulated_drying_orchard_is_told_to_irrigate_before_its_depletion_crosses_raw(
        settings: BackendSettings, influx: InfluxV1, tmp_path: Path) -> None:
    # The simulators' root zone (loam, 1 m, apple) starts at field capacity on 1 July and dries under hot days
    # (Hargreaves ET0 spread over the sunny hours); its probe reports hourly. The station reports the same weather.
    first = date(2026, 7, 1)
    days = 24
    tmax = [30.0 + 2.0 * math.sin(k) for k in range(days + 7)]
    tmin = [20.0 + math.cos(k) for k in range(days + 7)]
    soil = UplandSoil(texture="loam", root_depth_m=1.0, crop="apple", growth_stage="mid")
    probe, rng = SoilProbe(offset_pct=0.0), random.Random(9)
    readings, truth = [], {}  # truth: depletion at 05:00 JST each morning
    for k in range(days):
        day = first + timedelta(days=k)
        et0_day = hargreaves_et0_mm_day(tmax[k], tmin[k], LAT_DEG, day.timetuple().tm_yday)
        sun = [max(0.0, math.sin(math.pi * (h - 5) / 14)) if 5 <= h <= 19 else 0.0 for h in range(24)]
        for h in range(24):
            if h == 5:
                truth[day] = soil.depletion_mm
            t = jst_s(f"{day}T{h:02d}:00")
            readings.append((t, {"vwc_pct": probe.read_vwc_pct(soil.theta, rng)}))
            soil.step(1.0, et0_day * sun[h] / sum(sun), rain_mm=0.0)
    publish(influx, SITE, "soil", "s-01", readings, field_id="orchard")
    publish(influx, SITE, "weather", "wx-01", station_hours(first, days, lambda k: tmax[k], lambda k: tmin[k]))
    feed = tmp_path / "forecast.csv"
    told = None
    with app(settings, feed) as c:
        register(c, "orchard", "apple", soil_texture="loam", root_depth_m=1.0, bloom_date="2026-05-20")
        for k in range(2, days):
            day = first + timedelta(days=k)
            write_forecast(feed, day, tmin[k:k + 7], tmax[k:k + 7])
            a = c.get("/api/v1/fields/orchard/advice", params={"at": int(jst_s(f"{day}T05:30") * 1000)}).json()["advice"]
            assert "soil_moisture" not in a["missing"]
            if a["action"] == "irrigate_now":
                told = day
                break
    assert told is not None, "never told to irrigate"
    crossed = next(d for d, dep in sorted(truth.items()) if dep > soil.raw_mm)  # first morning already past RAW
    assert told < crossed  # told while the simulated root zone was still within RAW
    assert truth[told] >= 0.5 * soil.raw_mm  # ...and not while it was still wet
