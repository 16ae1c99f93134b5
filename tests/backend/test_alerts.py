"""Alerts end to end: rules on real InfluxDB data, deduplicated, delivered to a local receiver and to LINE."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from backend_helpers import NOW_S, SITE, Receiver, seed_site, square, write_readings
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import AlertsSection, BackendSettings, LineSection
from yukimizu.influx import InfluxV1

T0 = NOW_S - 6 * 3600  # the scenario happened in the last hours (the contract refuses future readings)


@pytest.fixture
def alert_client(settings: BackendSettings, receiver: Receiver, admin_token: str) -> Iterator[TestClient]:
    """The app delivering to a generic webhook and to LINE, both on the test's local receiver."""
    alerts = replace(settings.alerts, webhook_urls=[receiver.url + "/hook"],
                     line=LineSection(enabled=True, base_url=receiver.url, channel_access_token="test-token", to=["U0001"]))
    with TestClient(create_app(replace(settings, alerts=alerts)), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        seed_site(c)
        yield c


def tick(c: TestClient, t_s: float) -> Any:
    """Run one evaluation as if the clock said t_s (on the app's own event loop)."""
    engine = c.app.state.alerts  # type: ignore[attr-defined]
    return c.portal.call(engine.tick, int(t_s * 1000))  # type: ignore[union-attr]


def hook_events(rec: Receiver) -> list[tuple[str, str, str]]:
    return [(b["event"], b["alert"]["rule"], b["alert"]["subject"]) for r, b in zip(rec.requests, rec.bodies())
            if r["path"] == "/hook"]


def test_paddy_drying_out_raises_one_alert_and_one_cleared(alert_client: TestClient, influx: InfluxV1,
                                                           receiver: Receiver) -> None:
    # Tillering: default band 2-4 cm. The level falls below 2 cm, stays low for 40 min, then the farmer lets water in.
    levels = [4.0, 3.5, 3.0, 2.5, 2.2, 1.8, 1.5, 1.2, 1.0, 1.1, 2.2, 3.0, 3.4, 3.6]
    raised_at = cleared_at = None
    for i, level in enumerate(levels):
        t = T0 + 600 * i
        write_readings(influx, "water", "w-01", [(t, {"level_cm": level, "water_temp_c": 17.0})],
                       tags={"field_id": "paddy-1"})
        report = tick(alert_client, t + 5)
        if report.raised:
            assert raised_at is None, f"second raise at {level} cm"
            raised_at = level
        if report.cleared:
            assert cleared_at is None, f"second clear at {level} cm"
            cleared_at = level
        assert not report.rule_errors
    assert (raised_at, cleared_at) == (1.8, 3.0)  # 2.2 is back in band but inside the 0.5 cm hysteresis
    assert hook_events(receiver) == [("raised", "water_level", "paddy-1:low"), ("cleared", "water_level", "paddy-1:low")]
    raised = [b for r, b in zip(receiver.requests, receiver.bodies()) if r["path"] == "/hook"][0]
    assert raised["alert"]["details"]["level_cm"] == 1.8 and raised["alert"]["details"]["min_cm"] == 2.0
    assert "北の田: 水位 1.8 cm が下限 2 cm を下回っています" in raised["text"]
    assert "water level 1.8 cm is below 2 cm" in raised["text"]
    line = [r for r in receiver.requests if r["path"] == "/v2/bot/message/push"]
    assert len(line) == 2
    assert line[0]["headers"]["Authorization"] == "Bearer test-token"
    assert line[0]["json"]["to"] == "U0001"
    assert line[0]["json"]["messages"][0]["text"].startswith("【警報】北の田")
    assert line[1]["json"]["messages"][0]["text"].startswith("【解除】北の田")
    history = alert_client.get("/api/v1/alerts", params={"rule": "water_level"}).json()["alerts"]
    assert len(history) == 1 and history[0]["cleared_at"] is not None
    assert sorted((d["event"], d["status"]) for d in history[0]["deliveries"]) == [
        ("cleared", "sent"), ("cleared", "sent"), ("raised", "sent"), ("raised", "sent")]


def test_silent_device_alerts_after_three_intervals_not_before(alert_client: TestClient, influx: InfluxV1,
                                                               receiver: Receiver) -> None:
    last = T0
    write_readings(influx, "water", "w-01", [(last - 600, {"level_cm": 3.0}), (last, {"level_cm": 3.0})],
                   tags={"field_id": "paddy-1"})
    for after_s in (0, 600, 1200, 1790):  # up to just under 3 x 600 s
        assert ("device_silent", "w-01") not in tick(alert_client, last + after_s).raised
    assert ("device_silent", "w-01") in tick(alert_client, last + 1810).raised
    assert ("device_silent", "w-01") not in tick(alert_client, last + 2400).raised  # still silent: no second alert
    write_readings(influx, "water", "w-01", [(last + 2500, {"level_cm": 3.1})], tags={"field_id": "paddy-1"})
    assert ("device_silent", "w-01") in tick(alert_client, last + 2510).cleared
    assert [e for e in hook_events(receiver) if e[1] == "device_silent" and e[2] == "w-01"] == [
        ("raised", "device_silent", "w-01"), ("cleared", "device_silent", "w-01")]


def test_a_receiver_that_is_down_gets_the_alert_later_exactly_once(alert_client: TestClient, influx: InfluxV1,
                                                                   receiver: Receiver) -> None:
    receiver.status = 503
    write_readings(influx, "water", "w-01", [(T0, {"level_cm": 0.5})], tags={"field_id": "paddy-1"})
    report = tick(alert_client, T0 + 5)
    assert report.raised == [("water_level", "paddy-1:low")] and report.delivered == 0 and report.delivery_errors
    receiver.status = 200
    n_before = len(receiver.requests)
    report = tick(alert_client, T0 + 65)
    assert report.raised == [] and report.delivered == 2
    assert [(b["event"], b["alert"]["subject"]) for b in receiver.bodies()[n_before:] if "event" in b] == [
        ("raised", "paddy-1:low")]
    assert tick(alert_client, T0 + 125).delivered == 0


def test_influxdb_down_neither_raises_nor_clears(settings: BackendSettings, receiver: Receiver, influx: InfluxV1,
                                                 admin_token: str) -> None:
    alerts = replace(settings.alerts, webhook_urls=[receiver.url + "/hook"])
    with TestClient(create_app(replace(settings, alerts=alerts)), headers={"Authorization": f"Bearer {admin_token}"}) as c:
        seed_site(c)
        write_readings(influx, "water", "w-01", [(T0, {"level_cm": 0.5})], tags={"field_id": "paddy-1"})
        assert tick(c, T0 + 5).raised == [("water_level", "paddy-1:low")]
        # Point the reader at a port where nothing listens: every rule fails, and the open alert stays open.
        c.app.state.history.url = "http://127.0.0.1:9"  # type: ignore[attr-defined]
        report = tick(c, T0 + 65)
        assert report.cleared == [] and "water_level" in report.rule_errors
        assert c.get("/healthz").status_code == 503
        assert c.get("/api/v1/alerts", params={"open": True}).json()["alerts"][0]["subject"] == "paddy-1:low"


def test_cold_spell_in_meiosis_alerts_cold_sensitive_paddy_only_below_its_threshold(
        alert_client: TestClient, influx: InfluxV1) -> None:
    alert_client.post("/api/v1/devices", json={"device_id": "met-1", "kind": "weather", "site": SITE,
                                               "expected_interval_s": 3600})
    alert_client.patch("/api/v1/fields/paddy-1", json={"growth_stage": "meiosis"})
    # A week of hourly air temperatures averaging 18.5 C: under 20 C (cold-sensitive) but not under 17 C.
    rows = [(T0 - 3600 * h, {"air_temp_c": 18.5 + (1.5 if h % 2 else -1.5)}) for h in range(7 * 24)]
    write_readings(influx, "weather", "met-1", rows)
    assert [r for r in tick(alert_client, T0 + 60).raised if r[0] == "cold_damage"] == []
    alert_client.patch("/api/v1/fields/paddy-1", json={"cold_sensitive_variety": True})
    report = tick(alert_client, T0 + 120)
    assert ("cold_damage", "paddy-1") in report.raised
    alert = [a for a in alert_client.get("/api/v1/alerts", params={"rule": "cold_damage"}).json()["alerts"]][0]
    assert alert["details"]["mean_air_temp_c"] == pytest.approx(18.5, abs=0.05)
    assert "深水" in alert["message_ja"] and "deep water" in alert["message_en"]


def test_deep_water_asked_for_against_cold_is_not_alerted_as_too_deep(alert_client: TestClient,
                                                                      influx: InfluxV1) -> None:
    # Meiosis, band 10-15 cm. The farmer keeps 17 cm: too deep on a warm week ("check the outlet"),
    # but what the cold-damage alert asks for (15-20 cm) on a cold one. Two alerts on one paddy must
    # not say both, not even for one evaluation: a LINE message each way at 4 a.m.
    alert_client.post("/api/v1/devices", json={"device_id": "met-1", "kind": "weather", "site": SITE,
                                               "expected_interval_s": 3600})
    alert_client.patch("/api/v1/fields/paddy-1", json={"growth_stage": "meiosis"})
    week_s = 7 * 86400
    write_readings(influx, "water", "w-01", [(T0 - week_s - 300, {"level_cm": 17.0}), (T0, {"level_cm": 17.0})],
                   tags={"field_id": "paddy-1"})
    warm = [(T0 - week_s - 3600 * h, {"air_temp_c": 24.0}) for h in range(7 * 24)]
    write_readings(influx, "weather", "met-1", warm)
    report = tick(alert_client, T0 - week_s)  # a warm week: 17 cm is above the band
    assert ("water_level", "paddy-1:high") in report.raised and not any(r == "cold_damage" for r, _ in report.raised)
    cold = [(T0 - 3600 * h, {"air_temp_c": 15.0 + (1.0 if h % 2 else -1.0)}) for h in range(7 * 24)]
    write_readings(influx, "weather", "met-1", cold)
    # A second paddy at 17 cm, first evaluated in the cold week: never alerted as too deep at all.
    alert_client.post("/api/v1/fields", json={"id": "paddy-2", "site": SITE, "crop": "paddy", "growth_stage": "meiosis",
                                              "geometry": square(140.46, 40.80)})
    alert_client.post("/api/v1/devices", json={"device_id": "w-02", "kind": "water", "site": SITE,
                                               "field_id": "paddy-2", "expected_interval_s": 600})
    write_readings(influx, "water", "w-02", [(T0, {"level_cm": 17.0})], tags={"field_id": "paddy-2"})
    report = tick(alert_client, T0 + 60)  # a cold week: deep water is the remedy
    assert {("cold_damage", "paddy-1"), ("cold_damage", "paddy-2")} <= set(report.raised)
    assert ("water_level", "paddy-1:high") in report.cleared
    open_now = {(a["rule"], a["subject"]) for a in alert_client.get("/api/v1/alerts", params={"open": True}).json()["alerts"]}
    assert open_now == {("cold_damage", "paddy-1"), ("cold_damage", "paddy-2")}
    # 22 cm is deeper than even the cold asks: the outlet alert comes back.
    write_readings(influx, "water", "w-01", [(T0 + 600, {"level_cm": 22.0})], tags={"field_id": "paddy-1"})
    assert ("water_level", "paddy-1:high") in tick(alert_client, T0 + 660).raised


def test_plow_standing_still_with_blade_down_alerts(alert_client: TestClient, influx: InfluxV1) -> None:
    alert_client.post("/api/v1/vehicles", json={"id": "plow-7", "site": SITE, "machine_class": "4t"})
    alert_client.post("/api/v1/devices", json={"device_id": "gps-7", "kind": "plow", "site": SITE,
                                               "vehicle_id": "plow-7", "expected_interval_s": 5})
    moving = [(T0 + 5 * i, {"lat": 40.80 + 0.0001 * i, "lon": 140.44, "speed_km_h": 30.0, "blade_down": True})
              for i in range(60)]
    stuck = [(T0 + 300 + 5 * i, {"lat": 40.806, "lon": 140.44, "speed_km_h": 0.0, "blade_down": True})
             for i in range(150)]
    write_readings(influx, "plow", "gps-7", moving + stuck, tags={"vehicle_id": "plow-7"})
    assert ("plow_stopped", "gps-7") not in tick(alert_client, T0 + 300 + 5 * 60).raised  # 5 min still: not yet
    assert ("plow_stopped", "gps-7") in tick(alert_client, T0 + 300 + 5 * 149).raised


def test_a_parked_plow_is_not_silent_but_one_gone_quiet_mid_route_is(alert_client: TestClient,
                                                                     influx: InfluxV1) -> None:
    # A plow's logger runs on the vehicle's power: after a shift the engine is off and nothing comes until
    # the next snowfall. Only a logger that went quiet while working (moving or blade down) needs a call.
    for vehicle, device in (("v-1", "gps-1"), ("v-2", "gps-2")):
        alert_client.post("/api/v1/vehicles", json={"id": vehicle, "site": SITE, "machine_class": "4t"})
        alert_client.post("/api/v1/devices", json={"device_id": device, "kind": "plow", "site": SITE,
                                                   "vehicle_id": vehicle, "expected_interval_s": 10})
    drive_home = [(T0 + 10 * i, {"lat": 40.80 + 0.0001 * i, "lon": 140.44, "speed_km_h": 30.0, "blade_down": i < 20})
                  for i in range(30)]
    idle_at_depot = [(T0 + 300 + 10 * i, {"lat": 40.803, "lon": 140.44, "speed_km_h": 0.0, "blade_down": False})
                     for i in range(6)]
    write_readings(influx, "plow", "gps-1", drive_home + idle_at_depot, tags={"vehicle_id": "v-1"})
    clearing = [(T0 + 10 * i, {"lat": 40.81 + 0.0001 * i, "lon": 140.45, "speed_km_h": 28.0, "blade_down": True})
                for i in range(36)]
    write_readings(influx, "plow", "gps-2", clearing, tags={"vehicle_id": "v-2"})
    alert_client.post("/api/v1/vehicles", json={"id": "v-3", "site": SITE, "machine_class": "4t"})
    alert_client.post("/api/v1/devices", json={"device_id": "gps-3", "kind": "plow", "site": SITE,
                                               "vehicle_id": "v-3", "expected_interval_s": 10})
    waiting_at_a_light = [(time.time() - 10 * i, {"lat": 40.82, "lon": 140.45, "speed_km_h": 0.0, "blade_down": False})
                          for i in range(3)]
    write_readings(influx, "plow", "gps-3", waiting_at_a_light, tags={"vehicle_id": "v-3"})
    report = tick(alert_client, T0 + 360 + 3600)  # an hour after both last reported
    assert [s for r, s in report.raised if r == "device_silent" and s.startswith("gps-")] == ["gps-2"]
    alert = alert_client.get("/api/v1/alerts", params={"rule": "device_silent"}).json()["alerts"]
    lost = next(a for a in alert if a["subject"] == "gps-2")
    assert "作業中" in lost["message_ja"] and "運転手" in lost["message_ja"]
    assert "while working" in lost["message_en"] and "driver" in lost["message_en"]
    health = {d["device_id"]: d for d in alert_client.get("/api/v1/devices/health").json()["devices"]}
    assert health["gps-1"]["parked"] and health["gps-1"]["problems"] == [] and health["gps-1"]["status"] == "ok"
    assert not health["gps-2"]["parked"] and health["gps-2"]["problems"] == ["silent"]
    assert not health["gps-3"]["parked"] and health["gps-3"]["status"] == "ok"  # reporting: not engine off


def test_settings_for_alerts_are_checked() -> None:
    from backend.settings import load_settings
    from yukimizu.settings import SettingsError

    with pytest.raises(SettingsError, match="alerts.line.channel_access_token"):
        load_settings(None, {"YUKIMIZU_API__ALERTS__LINE__ENABLED": "true", "YUKIMIZU_API__ALERTS__LINE__TO": "U1"})
    with pytest.raises(SettingsError, match=r"alerts.webhook_urls\[0\]"):
        load_settings(None, {"YUKIMIZU_API__ALERTS__WEBHOOK_URLS": "ftp://x"})
    assert AlertsSection().interval_s == 60.0


def test_alert_for_a_sensor_removed_from_the_registry_is_cleared(alert_client: TestClient, influx: InfluxV1,
                                                                 receiver: Receiver) -> None:
    write_readings(influx, "water", "w-01", [(T0, {"level_cm": 0.5})], tags={"field_id": "paddy-1"})
    assert tick(alert_client, T0 + 5).raised == [("water_level", "paddy-1:low")]
    assert alert_client.delete("/api/v1/devices/w-01").status_code == 204
    # No sensor watches the paddy any more: its alert must not stay open for ever.
    assert tick(alert_client, T0 + 65).cleared == [("water_level", "paddy-1:low")]
    assert alert_client.get("/api/v1/alerts", params={"open": True}).json()["alerts"] == []
