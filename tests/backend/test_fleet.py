"""Fleet health from real readings: silence, battery trend and days left, signal, clock problems; problems first."""
from __future__ import annotations

import time

import numpy as np
import pytest
from backend_helpers import SITE, seed_site, write_readings
from fastapi.testclient import TestClient

from backend.fleet import battery_trend
from yukimizu.influx import InfluxV1


def test_battery_trend_is_the_least_squares_slope_and_its_projection() -> None:
    t_ms = np.arange(0, 4 * 86_400_000, 3_600_000, dtype=np.int64)
    volts = 4.0 - 0.1 * t_ms / 86_400_000 + np.tile([0.01, -0.01], t_ms.size // 2)
    slope, days = battery_trend(t_ms, volts, cutoff_v=3.3)
    assert slope == pytest.approx(-0.1, rel=0.01)
    assert days == pytest.approx((4.0 - 0.1 * t_ms[-1] / 86_400_000 - 3.3) / 0.1, rel=0.02)
    assert battery_trend(t_ms, np.full(t_ms.size, 3.9), cutoff_v=3.3) == (pytest.approx(0.0, abs=1e-12), None)
    assert battery_trend(t_ms[:5], volts[:5], cutoff_v=3.3) == (None, None)  # five hours say nothing about a trend


def test_fleet_health_lists_problems_first_with_reasons(client: TestClient, influx: InfluxV1) -> None:
    seed_site(client)
    now = int(time.time())
    provisioned = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 86400))
    for dev, fw in (("s-02", "1.2.0"), ("s-03", "1.1.9"), ("s-04", "1.2.0"), ("s-05", "1.2.0"), ("s-06", "1.2.0")):
        r = client.post("/api/v1/devices", json={"device_id": dev, "kind": "soil", "site": SITE, "field_id": "apple-1",
                                                 "expected_interval_s": 600, "firmware_version": fw,
                                                 "provisioned_at": provisioned})
        assert r.status_code == 201, r.text
    hours = np.arange(4 * 24)[::-1]  # 4 days, hourly, oldest first
    # w-01: draining 0.1 V/day, 3.6 V now: about 3 days to the 3.3 V cutoff.
    write_readings(influx, "water", "w-01", [(float(now - 60 - 3600 * h), {"level_cm": 4.0, "battery_v": float(3.6 + 0.1 * h / 24),
                                                                     "rssi_dbm": -61.0}) for h in hours],
                   tags={"field_id": "paddy-1"})
    write_readings(influx, "soil", "s-01", [(now - 7200, {"vwc_pct": 31.0, "battery_v": 3.9})])  # silent: 2 h > 3 x 10 min
    write_readings(influx, "soil", "s-02", [(now - 30, {"vwc_pct": 30.0, "battery_v": 3.95, "rssi_dbm": -58.0})])
    write_readings(influx, "soil", "s-03", [(now - 30, {"vwc_pct": 30.0, "battery_v": 3.35})])  # below 3.45 V
    write_readings(influx, "soil", "s-04", [(1_640_995_200.0, {"vwc_pct": 30.0}), (now - 40, {"vwc_pct": 30.0})])  # 2022
    write_readings(influx, "soil", "s-05", [(now + 400, {"vwc_pct": 30.0})])  # 400 s ahead of the server
    write_readings(influx, "soil", "s-06", [(now - 30, {"vwc_pct": 30.0, "rssi_dbm": -95.0})])
    write_readings(influx, "soil", "stray-9", [(now - 30, {"vwc_pct": 30.0})])  # not in the registry
    doc = client.get("/api/v1/devices/health").json()
    by_id = {d["device_id"]: d for d in doc["devices"]}
    assert [d["device_id"] for d in doc["devices"]] == [
        "s-01", "s-03", "s-04", "s-05",  # problems, by id
        "s-06", "stray-9", "w-01",  # warnings
        "s-02",  # healthy
    ]
    assert by_id["s-01"]["problems"] == ["silent"] and by_id["s-01"]["silent"]
    assert by_id["s-01"]["age_s"] == pytest.approx(7200, abs=30)
    assert by_id["s-03"]["problems"] == ["battery_low"]
    assert by_id["s-04"]["problems"] == ["clock_behind"] and "before provisioning" in by_id["s-04"]["clock_problem"]
    assert by_id["s-05"]["problems"] == ["clock_ahead"]
    assert by_id["s-06"]["problems"] == ["weak_signal"] and by_id["s-06"]["rssi_dbm"] == -95.0
    assert by_id["stray-9"]["problems"] == ["unregistered"] and not by_id["stray-9"]["registered"]
    w = by_id["w-01"]
    assert w["problems"] == ["battery_draining"]
    assert w["battery_v"] == pytest.approx(3.6) and w["rssi_dbm"] == -61.0
    assert w["battery_slope_v_per_day"] == pytest.approx(-0.1, rel=0.02)
    assert w["battery_days_left"] == pytest.approx(3.0, abs=0.15)
    assert by_id["s-02"]["status"] == "ok" and by_id["s-03"]["firmware_version"] == "1.1.9"
    assert doc["counts"] == {"problem": 4, "warning": 3, "ok": 1}
    assert by_id["s-01"]["problem_texts"] == [{"code": "silent", "ja": "受信が途絶えています", "en": "silent"}]


def test_gateways_appear_from_their_own_measurement(client: TestClient, influx: InfluxV1) -> None:
    from yukimizu.contract import line

    now = int(time.time())

    def gw(name: str, age_s: int, connected: bool, spool_age_s: float) -> list[str]:
        # The fields the edge gateway writes every [health] interval_s (10 s), tag `gateway`.
        return [line("gateway", {"gateway": name}, {"uptime_s": 3600.0 + i, "mqtt_connected": connected,
                                                    "spool_age_s": spool_age_s, "written": 1000 + i},
                     (now - age_s - 10 * i) * 1000) for i in range(3)]

    influx.write(gw("gw-north", 5, True, 0.0) + gw("gw-south", 600, True, 0.0) + gw("gw-east", 5, False, 900.0))
    doc = client.get("/api/v1/devices/health").json()
    by_id = {d["device_id"]: d for d in doc["devices"] if d["kind"] == "gateway"}
    assert by_id["gw-north"]["status"] == "ok"
    assert by_id["gw-south"]["problems"] == ["silent"]
    assert by_id["gw-east"]["problems"] == ["mqtt_disconnected", "spool_backlog"]
    report = client.post("/api/v1/alerts/evaluate").json()
    assert ["device_silent", "gateway:gw-south"] in report["raised"]
    assert ["device_silent", "gateway:gw-north"] not in report["raised"]


def test_registry_facts_reach_influxdb_as_device_status_for_grafana(settings, influx) -> None:
    """The fleet dashboard's firmware column reads `device_status`; the backend writes it from the registry."""
    import asyncio

    from backend import devicestatus
    from backend.history import History
    from backend.registry import Database, Registry
    from dashboards import schema

    db = Database(settings.registry.path)
    reg = Registry(db)
    reg.create("sites", {"id": "goshogawara"})
    reg.create("devices", {"device_id": "soil-001", "kind": "soil", "site": "goshogawara", "expected_interval_s": 600,
                           "firmware_version": "v0.1-7-g1234+abcdef012345"})
    reg.create("devices", {"device_id": "plow-01", "kind": "plow", "site": "goshogawara", "expected_interval_s": 5})

    async def go() -> None:
        hist = History(influx.url, influx.database)
        try:
            assert await devicestatus.write_once(reg, hist, 300.0, now_s=1795600210.0) == 2
            assert await devicestatus.write_once(reg, hist, 300.0, now_s=1795600290.0) == 2  # same interval: replaces
        finally:
            await hist.aclose()

    asyncio.run(go())
    rows = influx.rows(f'SELECT "{schema.STATUS_FW_VERSION}", "expected_interval_s" FROM "{schema.DEVICE_STATUS}" '
                       'GROUP BY "device_id"')
    by_device = {r["device_id"]: r for r in rows}
    assert len(rows) == 2 and by_device["soil-001"]["fw_version"] == "v0.1-7-g1234+abcdef012345"
    assert by_device["plow-01"]["fw_version"] is None and by_device["plow-01"]["expected_interval_s"] == 5.0
    db.close()
