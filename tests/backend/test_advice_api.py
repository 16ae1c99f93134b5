"""Irrigation advice end to end: readings through the wire contract into the real InfluxDB, fields in the real
registry, advice from the API, written back as the `advice` measurement, paddy alerts delivered to a receiver."""
from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from advice_scenarios import jst_s, publish, station_hours, write_forecast
from backend_helpers import Receiver, square
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import BackendSettings
from dashboards import schema
from yukimizu.influx import InfluxV1
from backend_helpers import admin_headers

SITE = "goshogawara"


def make_client(settings: BackendSettings, feed: Path | str | None, **alerts: Any) -> TestClient:
    """The app with the site's forecast feed (a file or URL) and optional alert settings."""
    advice = replace(settings.advice, forecast_feeds=[f"{SITE}={feed}"] if feed else [])
    api = replace(settings.api, plugins=["backend.advisor.plugin"])
    return TestClient(create_app(replace(settings, advice=advice, api=api,
                                         alerts=replace(settings.alerts, **alerts))), headers=admin_headers(settings))


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    """Where the site's forecast feed file lives (written by each test)."""
    return tmp_path / "forecast.csv"


@pytest.fixture
def client(settings: BackendSettings, feed: Path) -> Iterator[TestClient]:
    with make_client(settings, feed) as c:
        site(c)
        yield c


def site(c: TestClient) -> None:
    r = c.post("/api/v1/sites", json={"id": SITE, "name": "五所川原", "latitude_deg": 40.81, "longitude_deg": 140.44,
                                      "elevation_m": 10})
    assert r.status_code == 201, r.text


def add_field(c: TestClient, fid: str, crop: str, **values: Any) -> None:
    body = {"id": fid, "site": SITE, "name": fid, "crop": crop, "geometry": square(140.44, 40.80), "area_m2": 1000.0}
    r = c.post("/api/v1/fields", json={**body, **values})
    assert r.status_code == 201, r.text


def at_ms(jst: str) -> int:
    return int(jst_s(jst) * 1000)


def field_advice(c: TestClient, fid: str, jst: str, **params: Any) -> dict[str, Any]:
    r = c.get(f"/api/v1/fields/{fid}/advice", params={"at": at_ms(jst), **params})
    assert r.status_code == 200, r.text
    return r.json()


# ---- upland ----------------------------------------------------------------------------------------------------

def _hot(k: int) -> tuple[float, float]:
    return 30.0 + 2.0 * math.sin(k), 20.0 + math.cos(k)


def test_drying_orchard_is_told_to_irrigate_before_depletion_crosses_raw_and_not_after_rain(
        client: TestClient, influx: InfluxV1, feed: Path) -> None:
    # Apple orchard, loam, 1 m roots (TAW 130 mm, RAW 65 mm); full bloom 20 May = green tip 25 April (mid-season
    # in July). 150 mm of rain on 1 July refill the root zone, then hot dry days; 80 mm more rain on 18 July.
    add_field(client, "orchard", "apple", soil_texture="loam", root_depth_m=1.0, bloom_date="2026-05-20")
    first = date(2026, 6, 10)
    rain = {date(2026, 7, 1): 150.0, date(2026, 7, 18): 80.0}
    temps = [_hot(k) for k in range(45)]
    publish(influx, SITE, "weather", "wx-01", station_hours(
        first, 40, lambda k: temps[k][0], lambda k: temps[k][1], lambda k: rain.get(first + timedelta(days=k), 0.0)))
    mornings = []
    for day in range(2, 18):  # 2-17 July, every morning at 05:30 with a perfect 7-day forecast
        today = date(2026, 7, day)
        k0 = (today - first).days
        write_forecast(feed, today, [temps[k][1] for k in range(k0, k0 + 7)], [temps[k][0] for k in range(k0, k0 + 7)])
        got = field_advice(client, "orchard", f"{today}T05:30")
        # the balance runs from green tip (25 April) or, as here, from the station's first day if that is later
        assert (got["weather"]["first_day"], got["weather"]["last_day"]) == ("2026-06-10", str(today - timedelta(1)))
        mornings.append(got["advice"])
    raw = mornings[0]["figures"]["raw_mm"]
    assert raw == pytest.approx(65.0)
    depletion = [m["figures"]["depletion_mm"] for m in mornings]
    assert depletion == sorted(depletion), "dry days only deplete"
    crossed = next(i for i, d in enumerate(depletion) if d > raw)  # the first morning already past RAW
    told = crossed - 1  # the morning of the day that ends above RAW
    assert mornings[told]["action"] == "irrigate_now" and depletion[told] <= raw  # before the crossing, not after
    assert mornings[told - 1]["action"] == "irrigate_in_days" and mornings[told - 1]["days"] == 1
    assert all(m["action"] in ("not_needed", "irrigate_in_days") for m in mornings[:told])
    now = mornings[told]
    assert now["urgency_name"] == "high" and now["amount_l"] == pytest.approx(now["amount_mm"] * 1000.0)
    assert now["message"].startswith("今日かん水してください") and now["message_en"].startswith("Irrigate today")
    assert mornings[0]["action"] == "not_needed"  # the day after the 150 mm rain
    # 18 July: 80 mm. On the 19th the orchard needs nothing, though it was past RAW before the rain.
    write_forecast(feed, date(2026, 7, 19), [20.0] * 7, [30.0] * 7)
    before = field_advice(client, "orchard", "2026-07-18T05:30")["advice"]
    after = field_advice(client, "orchard", "2026-07-19T05:30", lang="en")["advice"]
    assert before["action"] == "irrigate_now"
    assert after["action"] == "not_needed" and after["message"].startswith("No irrigation needed.")
    assert after["figures"]["depletion_mm"] < before["figures"]["depletion_mm"] - 60.0
    assert "soil_moisture" in after["missing"] and "station" not in after["missing"]


def test_advice_without_station_or_a_readable_forecast_says_which_part_is_missing(
        client: TestClient, influx: InfluxV1, feed: Path) -> None:
    add_field(client, "veg", "vegetable", soil_texture="loam", transplant_date="2026-06-20")
    feed.write_text("日付,最低気温,最高気温\n2026-07-10,abc,25\n", encoding="utf-8")
    publish(influx, SITE, "soil", "s-01", [(jst_s("2026-07-09T12:00"), {"vwc_pct": 14.0})], field_id="veg")
    got = field_advice(client, "veg", "2026-07-10T05:30")
    assert got["weather"]["stations"] == 0 and "station" in got["weather"]["missing"]
    assert "forecast" in got["weather"]["missing"]
    assert "line 2 column tmin_c: 'abc' is not a number" in got["weather"]["forecast_error"]
    a = got["advice"]
    assert {"station", "forecast"} <= set(a["missing"]) and "soil_moisture" not in a["missing"]
    assert a["action"] == "irrigate_now"  # the sensor alone: loam at 14 % is far below field capacity
    assert "土壌水分センサーだけで判断" in a["message_ja"] and "sensor alone" in a["message_en"]


# ---- paddies, a whole site, the advice measurement ---------------------------------------------------------------

def _level(influx: InfluxV1, fid: str, end_jst: str, hours: float, level_at) -> list[float]:
    end = jst_s(end_jst)
    times = [end - 600 * i for i in range(int(hours * 6), -1, -1)]
    publish(influx, SITE, "water", f"w-{fid}", [(t, {"level_cm": round(float(level_at((end - t) / 3600)), 2)})
                                                 for t in times], field_id=fid)
    return times


def test_site_advice_is_sorted_by_urgency_and_written_back_once_per_bucket(
        client: TestClient, influx: InfluxV1, feed: Path) -> None:
    # 27 July 05:00 JST. Heading 6 August (transplant 20 May + 78 days): the paddies are in meiosis (booting).
    now = "2026-07-27T05:00"
    for fid in ("cold-paddy", "leak-paddy"):
        add_field(client, fid, "paddy", transplant_date="2026-05-20", level_max_cm=25.0)
    add_field(client, "orchard", "apple", soil_texture="loam", bloom_date="2026-05-20")
    add_field(client, "wheat", "wheat", soil_texture="loam")
    publish(influx, SITE, "weather", "wx-01", station_hours(date(2026, 6, 27), 30, lambda k: 27.0, lambda k: 20.0,
                                                            lambda k: 150.0 if k == 29 else 0.0))  # rain on the 26th
    write_forecast(feed, date(2026, 7, 27), [19.0, 16.0, 18.0, 20.0, 21.0], [27.0] * 5)  # 16 C on the 28th
    _level(influx, "cold-paddy", now, 6, lambda h: 11.0 + 0.0 * h)
    _level(influx, "leak-paddy", now, 6, lambda h: 12.0 + 1.0 * h)  # falling 1 cm/h all night

    got = client.get("/api/v1/advice", params={"site": SITE, "at": at_ms(now)})
    assert got.status_code == 200, got.text
    rows = got.json()["advice"]
    assert [r["field_id"] for r in rows] == ["leak-paddy", "cold-paddy", "orchard", "wheat"]
    assert [r["urgency_name"] for r in rows] == ["critical", "high", "none", "none"]
    leak, cold, orchard, wheat = rows
    assert leak["action"] == "check_leak" and "漏水の疑い" in leak["message"]
    assert cold["action"] == "deepen" and cold["stage"] == "meiosis" and cold["stage_name"] == "減数分裂期"
    assert (cold["target_min_cm"], cold["target_max_cm"]) == (15.0, 20.0)
    assert cold["message"].startswith("深水にしてください: 15 cm 以上") and "7月28日" in cold["message"]
    assert "cold_night_forecast" in cold["reasons"]
    assert orchard["action"] == "not_needed" and orchard["target_min_cm"] is None
    assert wheat["action"] == "no_data" and wheat["missing"] == ["crop"]
    en = client.get("/api/v1/advice", params={"site": SITE, "at": at_ms(now), "lang": "en"}).json()["advice"]
    assert en[1]["message"].startswith("Deepen the water to at least 15 cm") and en[1]["stage_name"] == "booting (meiosis)"

    # Written back: twice in the same hour is one point per field; the next hour adds one.
    for t in (now, "2026-07-27T05:40", "2026-07-27T06:10"):
        r = client.post("/api/v1/advice/run", json={"site": SITE, "at_ms": at_ms(t)})
        assert r.status_code == 200 and r.json()["written"] == {SITE: 4} and not r.json()["errors"], r.text
    q = (f'SELECT "{schema.ADVICE_ACTION}", "{schema.ADVICE_URGENCY}", "{schema.ADVICE_AMOUNT_MM}", '
         f'"{schema.ADVICE_AMOUNT_L}", "{schema.ADVICE_TARGET_MIN_CM}", '
         f'"{schema.ADVICE_TARGET_MAX_CM}", "{schema.ADVICE_MESSAGE_JA}", "{schema.ADVICE_MESSAGE_EN}" '
         f'FROM "{schema.ADVICE}" WHERE "{schema.TAG_SITE}" = \'{SITE}\' GROUP BY "{schema.TAG_FIELD}"')
    points = {}
    for s in influx.query(q):
        points[s["tags"][schema.TAG_FIELD]] = [dict(zip(s["columns"], v)) for v in s["values"]]
    assert {k: [p["time"] for p in v] for k, v in points.items()} == {
        k: [at_ms("2026-07-27T05:00"), at_ms("2026-07-27T06:00")] for k in ("cold-paddy", "leak-paddy", "orchard", "wheat")}
    cold_point = points["cold-paddy"][0]
    assert cold_point["action"] == "deepen" and cold_point["urgency"] == 3.0
    assert (cold_point["target_min_cm"], cold_point["target_max_cm"]) == (15.0, 20.0)
    assert cold_point["amount_mm"] == pytest.approx((17.5 - cold["figures"]["level_cm"]) * 10.0, abs=0.1)
    assert cold_point["message_ja"] == cold["message_ja"] and cold_point["message_en"] == cold["message_en"]
    assert points["orchard"][0]["target_min_cm"] is None and points["orchard"][0]["target_max_cm"] is None
    keys = {r["fieldKey"]: r["fieldType"] for r in influx.rows(f'SHOW FIELD KEYS FROM "{schema.ADVICE}"')}
    assert keys == {"action": "string", "urgency": "float", "amount_mm": "float", "amount_l": "float",
                    "target_min_cm": "float", "target_max_cm": "float", "message_ja": "string", "message_en": "string"}


def test_unknown_field_or_site_is_a_clear_404(client: TestClient) -> None:
    r = client.get("/api/v1/fields/no-such-field/advice")
    assert r.status_code == 404 and r.json()["detail"] == "field 'no-such-field' does not exist"
    r = client.get("/api/v1/advice", params={"site": "atlantis"})
    assert r.status_code == 404 and r.json()["detail"] == "site 'atlantis' does not exist"


def test_leaking_paddy_is_flagged_within_hours_and_alerted_once(settings: BackendSettings, influx: InfluxV1,
                                                               receiver: Receiver) -> None:
    # Night of 26-27 July, meiosis, level about 12 cm losing 0.08 cm/h; from 01:00 a levee hole adds 1 cm/h.
    # 10-minute readings with sensor noise; the alert engine ticks after each reading.
    rng = np.random.default_rng(11)
    leak_start = jst_s("2026-07-27T01:00")
    with make_client(settings, None, webhook_urls=[receiver.url + "/hook"]) as c:
        site(c)
        add_field(c, "paddy", "paddy", transplant_date="2026-05-20", level_max_cm=25.0)
        t0 = jst_s("2026-07-26T18:00")
        raised = []
        for i in range(12 * 6 + 1):  # to 06:00
            t = t0 + 600 * i
            level = 12.0 - 0.08 * (t - t0) / 3600 - max(0.0, (t - leak_start) / 3600) + rng.normal(0, 0.15)
            publish(influx, SITE, "water", "w-01", [(t, {"level_cm": round(level, 2)})], field_id="paddy")
            if t < jst_s("2026-07-26T21:00"):
                continue
            report = c.portal.call(c.app.state.alerts.tick, int((t + 5) * 1000))  # type: ignore[attr-defined,union-attr]
            assert not report.rule_errors
            raised += [(rule, subject, t) for rule, subject in report.raised]
    assert [(r, s) for r, s, _ in raised] == [("paddy_leak", "paddy")]
    assert leak_start < raised[0][2] <= leak_start + 2 * 3600  # flagged within 2 hours of the leak starting
    hooks = [b for r, b in zip(receiver.requests, receiver.bodies()) if r["path"] == "/hook"]
    assert [(b["event"], b["alert"]["rule"], b["alert"]["subject"]) for b in hooks] == [("raised", "paddy_leak", "paddy")]
    assert hooks[0]["alert"]["severity"] == "critical"
    assert "漏水の疑い" in hooks[0]["text"] and "Possible leak" in hooks[0]["text"]


def test_paddy_alerts_are_raised_once_per_condition_and_cleared_when_it_ends(
        settings: BackendSettings, influx: InfluxV1, receiver: Receiver, feed: Path) -> None:
    # 10 June 05:00 JST: two paddies tillering (band 2-4 cm), one set to meiosis by the farmer; 16 C tomorrow night.
    now = jst_s("2026-06-10T05:00")
    levels = {"dry": 0.5, "brim": 7.5, "booting": 11.0}
    write_forecast(feed, date(2026, 6, 10), [18.0, 16.0, 18.0], [25.0] * 3)
    with make_client(settings, feed, webhook_urls=[receiver.url + "/hook"]) as c:
        site(c)
        add_field(c, "dry", "paddy", transplant_date="2026-05-20")
        add_field(c, "brim", "paddy", transplant_date="2026-05-20", level_max_cm=8.0)  # outlet boards at 8 cm
        add_field(c, "booting", "paddy", transplant_date="2026-05-20", growth_stage="meiosis")

        def tick(t: float) -> Any:
            for fid, level in levels.items():
                publish(influx, SITE, "water", f"w-{fid}", [(t - 600 * i, {"level_cm": level}) for i in range(6)],
                        field_id=fid)
            report = c.portal.call(c.app.state.alerts.tick, int(t * 1000))  # type: ignore[attr-defined,union-attr]
            assert not report.rule_errors
            return report

        first = tick(now)
        assert sorted(first.raised) == [("paddy_cold_night", "booting"), ("paddy_low", "dry"),
                                        ("paddy_overflow", "brim")]
        assert tick(now + 1800).raised == []  # still true: no second alert
        levels["dry"] = 3.0  # the farmer let water in
        third = tick(now + 3600)
        assert third.raised == [] and third.cleared == [("paddy_low", "dry")]
    hooks = [(b["event"], b["alert"]["rule"], b["alert"]["subject"]) for b in receiver.bodies()]
    assert sorted(hooks) == [("cleared", "paddy_low", "dry"), ("raised", "paddy_cold_night", "booting"),
                             ("raised", "paddy_low", "dry"), ("raised", "paddy_overflow", "brim")]
    cold = next(b for b in receiver.bodies() if b["alert"]["rule"] == "paddy_cold_night")
    assert "深水にしてください: 15 cm 以上" in cold["text"] and "6月11日" in cold["text"]


def test_the_advice_alerts_and_the_water_level_alert_never_say_the_same_or_the_opposite(
        settings: BackendSettings, influx: InfluxV1, feed: Path) -> None:
    # 10 June 05:00 JST, 16 C forecast for tomorrow night. Each paddy has a water sensor in the registry,
    # so the built-in level rule judges every paddy whose stage the farmer has set.
    now = jst_s("2026-06-10T05:00")
    write_forecast(feed, date(2026, 6, 10), [18.0, 16.0, 18.0], [25.0] * 3)
    levels = {"deep": 17.0, "dry": 0.5, "unset": 0.5, "brim": 8.5}
    with make_client(settings, feed) as c:
        site(c)
        add_field(c, "deep", "paddy", transplant_date="2026-05-20", growth_stage="meiosis")  # band 10-15 cm
        add_field(c, "dry", "paddy", transplant_date="2026-05-20", growth_stage="tillering")  # band 2-4 cm
        add_field(c, "unset", "paddy", transplant_date="2026-05-20")  # stage only from the calendar
        add_field(c, "brim", "paddy", transplant_date="2026-05-20", level_max_cm=8.0)  # outlet boards at 8 cm
        for fid in levels:
            r = c.post("/api/v1/devices", json={"device_id": f"w-{fid}", "kind": "water", "site": SITE,
                                                "field_id": fid, "expected_interval_s": 600})
            assert r.status_code == 201, r.text

        def tick(t: float) -> set[tuple[str, str]]:
            for fid, level in levels.items():
                publish(influx, SITE, "water", f"w-{fid}", [(t - 600 * i, {"level_cm": level}) for i in range(6)],
                        field_id=fid)
            report = c.portal.call(c.app.state.alerts.tick, int(t * 1000))  # type: ignore[attr-defined,union-attr]
            assert not report.rule_errors
            return set(report.raised)

        # 17 cm at meiosis is above the 10-15 cm band, but the cold-night alert asks for 15 cm or more: one
        # message, not "deepen" and "check the outlet" together. A paddy too low gets one "let water in",
        # from whichever rule can judge it: the level rule where the farmer set the stage, else the advice.
        # Water over the outlet boards: one "check the outlet", not that and "lower the water" as well.
        assert tick(now) == {("paddy_cold_night", "deep"), ("water_level", "dry:low"), ("paddy_low", "unset"),
                             ("water_level", "brim:high")}
        levels["deep"] = 22.0  # deeper than even the cold asks: the outlet alert comes
        assert tick(now + 1800) == {("water_level", "deep:high")}


def test_a_cold_week_with_a_cold_night_ahead_is_one_deep_water_alert_not_two(
        settings: BackendSettings, influx: InfluxV1, feed: Path) -> None:
    # Meiosis in a cold week (7-day mean 15 C, the built-in NARO check) and 16 C forecast for tomorrow night
    # (the advice's check): both ask for deep water, and the farmer should get that once.
    now = jst_s("2026-06-10T05:00")
    write_forecast(feed, date(2026, 6, 10), [18.0, 16.0, 18.0], [25.0] * 3)
    with make_client(settings, feed) as c:
        site(c)
        add_field(c, "booting", "paddy", transplant_date="2026-05-20", growth_stage="meiosis")
        for device, kind, fid in (("w-booting", "water", "booting"), ("met-1", "weather", None)):
            r = c.post("/api/v1/devices", json={"device_id": device, "kind": kind, "site": SITE, "field_id": fid,
                                                "expected_interval_s": 600 if kind == "water" else 3600})
            assert r.status_code == 201, r.text
        week = [row for row in station_hours(date(2026, 6, 3), 8, lambda k: 19.0, lambda k: 11.0) if row[0] <= now]
        publish(influx, SITE, "weather", "met-1", week)
        publish(influx, SITE, "water", "w-booting", [(now - 600 * i, {"level_cm": 16.0}) for i in range(6)],
                field_id="booting")
        report = c.portal.call(c.app.state.alerts.tick, int(now * 1000))  # type: ignore[attr-defined,union-attr]
        assert not report.rule_errors
        assert report.raised == [("cold_damage", "booting")]


def test_the_advice_job_in_the_app_writes_advice_on_its_own(settings: BackendSettings, influx: InfluxV1) -> None:
    advice = replace(settings.advice, enabled=True, interval_s=1.0)
    start_ms = int(time.time() * 1000)
    with TestClient(create_app(replace(settings, advice=advice)), headers=admin_headers(settings)) as c:
        site(c)
        add_field(c, "paddy", "paddy", transplant_date="2026-05-20")
        deadline = time.monotonic() + 10
        rows: list[dict[str, Any]] = []
        while not rows and time.monotonic() < deadline:
            time.sleep(0.2)
            rows = influx.rows(f'SELECT "action", "message_ja" FROM "{schema.ADVICE}" GROUP BY "{schema.TAG_FIELD}"')
    end_ms = int(time.time() * 1000)
    assert rows, "the job wrote nothing within 10 s"
    hour_ms = 3_600_000
    assert [r["field_id"] for r in rows] == ["paddy"]
    assert rows[0]["time"] in {start_ms // hour_ms * hour_ms, end_ms // hour_ms * hour_ms}  # the hour's bucket
    assert rows[0]["action"] and rows[0]["message_ja"]


@pytest.fixture
def feed_server() -> Iterator[tuple[str, dict[str, tuple[int, str, bytes]]]]:
    """A local HTTP server answering GET path -> (status, content type, body) from a dict the test fills."""
    pages: dict[str, tuple[int, str, bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            status, ctype, body = pages.get(self.path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()
    server.server_close()


def test_a_forecast_feed_over_http_is_used_and_a_failing_one_is_named(
        settings: BackendSettings, influx: InfluxV1, feed_server: tuple[str, dict[str, tuple[int, str, bytes]]]) -> None:
    url, pages = feed_server
    days = [{"date": f"2026-07-{27 + i}", "tmin_c": t, "tmax_c": 26.0, "rain_mm": 0.0}
            for i, t in enumerate([19.0, 15.5, 18.0])]
    pages["/jma/goshogawara"] = (200, "application/json", json.dumps({"days": days}).encode())
    for path, expect_deepen in (("/jma/goshogawara", True), ("/jma/missing", False)):
        with make_client(settings, url + path) as c:
            if path == "/jma/goshogawara":
                site(c)
                add_field(c, "paddy", "paddy", transplant_date="2026-05-20", growth_stage="meiosis")
                _level(influx, "paddy", "2026-07-27T05:00", 2, lambda h: 11.0 + 0.0 * h)
            got = field_advice(c, "paddy", "2026-07-27T05:00")
        assert got["weather"]["forecast_source"] == url + path
        assert got["weather"]["first_day"] == "2026-06-27"  # paddies only: the last advice.history_days (30)
        if expect_deepen:
            assert got["weather"]["forecast_error"] is None and "forecast" not in got["advice"]["missing"]
            assert got["advice"]["action"] == "deepen" and "7月28日" in got["advice"]["message"]
        else:
            assert got["weather"]["forecast_error"] == f"forecast feed {url}{path} answered 404"
            assert "forecast" in got["advice"]["missing"] and got["advice"]["action"] == "hold"
