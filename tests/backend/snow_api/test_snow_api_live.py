"""Live plows: latest positions with ages, the delayed anonymous public view, and the WebSocket stream."""
from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from backend_helpers import admin_headers
from snowapi_night import VEHICLES, contract_lines, drive, seed_registry

from yukimizu.influx import InfluxV1


def write(influx: InfluxV1, device: str, readings: list[dict], first_seq: int = 0) -> None:
    vid, route = next((v, r) for v, (_n, _c, d, r) in VEHICLES.items() if d == device) if device in (
        "plow-001", "plow-002") else ("", "")
    influx.write(contract_lines(device, readings, tags={"vehicle_id": vid, "route": route}, first_seq=first_seq))


def fix(t_s: float, x_m: float, y_m: float, **extra: object) -> dict:
    """One reading at (x, y) metres, blade down, 30 km/h heading east unless given."""
    r = drive([(x_m, y_m), (x_m + 10, y_m)], 30, t_s)[0]
    r.update(extra)
    return r


def test_live_positions_have_ages_and_the_public_view_is_delayed_and_anonymous(snow_client: TestClient,
                                                                              influx: InfluxV1) -> None:
    c = snow_client
    seed_registry(c)
    now = time.time()
    write(influx, "plow-001", [fix(now - 60, 0, 0), fix(now - 5, 100, 0, speed_km_h=42.0, heading_deg=90.0)])
    write(influx, "plow-002", [fix(now - 50 * 60, 200, -100), fix(now - 40 * 60, 200, 0, blade_down=False)])
    # A plow between snow walls: its newest reading has no fix, so its last known position stays on the map.
    write(influx, "plow-009", [fix(now - 20, 300, 150), {"t": now - 10, "blade_down": True}])

    r = c.get("/api/v1/plows/live")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["type"] == "FeatureCollection"
    got = {f["properties"]["device_id"]: f for f in doc["features"]}
    assert set(got) == {"plow-001", "plow-002", "plow-009"}
    p1 = got["plow-001"]["properties"]
    assert (p1["vehicle_id"], p1["vehicle_name"], p1["route"]) == ("v-1", "除雪ドーザ1号", "ekimae")
    assert (p1["speed_km_h"], p1["heading_deg"], p1["blade_down"]) == (42.0, 90.0, True)
    assert 4 <= p1["age_s"] < 30 and p1["observed_at"].endswith("+09:00")
    assert 40 * 60 - 5 <= got["plow-002"]["properties"]["age_s"] < 40 * 60 + 30
    assert got["plow-002"]["properties"]["blade_down"] is False
    assert 19 <= got["plow-009"]["properties"]["age_s"] < 45  # the fix, not the newer reading without one
    lon, lat = got["plow-001"]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((fix(0, 100, 0)["lon"], fix(0, 100, 0)["lat"]), abs=1e-7)

    # The public view (30 min late): only what was there 30 minutes ago, and no identities at all.
    r = c.get("/api/v1/public/plows")
    assert r.status_code == 200, r.text
    pub = r.json()
    assert pub["delay_min"] == 30.0 and len(pub["features"]) == 1
    p = pub["features"][0]["properties"]
    assert p["blade_down"] is False and 10 * 60 - 5 <= p["age_s"] < 10 * 60 + 30
    assert set(p) == {"route", "speed_km_h", "blade_down", "heading_deg", "age_s", "observed_at"}
    for ident in ("plow-00", "v-1", "v-2", "除雪ドーザ", "小型除雪車"):
        assert ident not in r.text


def test_public_coverage_shows_clearing_only_after_the_delay(snow_client: TestClient, influx: InfluxV1) -> None:
    c = snow_client
    seed_registry(c)
    now = time.time()
    # r-01's first leg cleared 10 minutes ago, r-04 cleared 50 minutes ago.
    write(influx, "plow-001", drive([(-20, 0), (400, 0)], 40, now - 600))
    write(influx, "plow-002", drive([(320, 150), (-120, 150)], 30, now - 3000))
    inside = {f["properties"]["id"]: f["properties"] for f in c.get("/api/v1/coverage?format=geojson").json()["features"]}
    assert inside["r-01"]["cleared_fraction"] > 0.5 and inside["r-04"]["cleared"]
    r = c.get("/api/v1/public/coverage")
    assert r.status_code == 200, r.text
    public = {f["properties"]["id"]: f["properties"] for f in r.json()["features"]}
    assert public["r-01"]["cleared_fraction"] == 0.0 and public["r-04"]["cleared"]
    assert public["r-04"]["route_name"] == "北通り線"
    assert "devices" not in public["r-04"] and "plow-002" not in r.text


def test_the_stream_delivers_a_new_position_after_it_is_written(snow_client: TestClient, influx: InfluxV1) -> None:
    c = snow_client
    seed_registry(c)
    now = time.time()
    write(influx, "plow-001", [fix(now - 30, 0, 0)])
    with c.websocket_connect("/api/v1/plows/stream") as ws:
        first = json.loads(ws.receive_text())
        assert first["type"] == "snapshot"
        assert [f["properties"]["device_id"] for f in first["features"]] == ["plow-001"]
        t_new = time.time()
        write(influx, "plow-002", [fix(t_new, 200, 0, speed_km_h=28.5)], first_seq=10)
        deadline = time.monotonic() + 10
        while True:
            msg = json.loads(ws.receive_text())
            assert msg["type"] == "update"
            new = [f for f in msg["features"] if f["properties"]["device_id"] == "plow-002"]
            if new:
                break
            assert time.monotonic() < deadline, "no update for the new point"
        p = new[0]["properties"]
        assert p["t_ms"] == round(t_new * 1000) and p["speed_km_h"] == 28.5 and p["vehicle_id"] == "v-2"
        # Only what changed: plow-001 was not sent again.
        assert [f["properties"]["device_id"] for f in msg["features"]] == ["plow-002"]


def _live_app(snow_settings, **snow_changes):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from backend.app import create_app

    return create_app(replace(snow_settings, snow=replace(snow_settings.snow, **snow_changes)))


def test_tonights_coverage_is_kept_by_the_background_engine(snow_settings, influx: InfluxV1) -> None:
    now = time.time()
    with TestClient(_live_app(snow_settings, live_engine=False), headers=admin_headers(snow_settings)) as c:
        seed_registry(c)
    write(influx, "plow-001", drive([(-20, 0), (400, 0), (400, 220)], 40, now - 300, noise_m=3.0, seed=4))
    with TestClient(_live_app(snow_settings, live_engine=True, live_interval_s=0.2, live_read_lag_s=0.0), headers=admin_headers(snow_settings)) as c:
        deadline = time.monotonic() + 15
        while (live := c.get("/api/v1/coverage").json())["input"]["source"] != "live":
            assert time.monotonic() < deadline, "the background engine never answered"
            time.sleep(0.2)
        assert {s["id"]: s["cleared"] for s in live["segments"]}["r-01"] is True
        batch = c.get("/api/v1/coverage", params={"since": live["input"]["since"], "until": live["input"]["until"]}).json()
        assert batch["input"]["source"] == "request"
        for key in ("segments", "routes", "total"):
            assert live[key] == batch[key], key


def test_the_live_engine_joins_new_points_to_old_ones_and_equals_a_batch(snow_settings, influx: InfluxV1) -> None:
    now = time.time()
    with TestClient(_live_app(snow_settings, live_engine=False, live_read_lag_s=0.0), headers=admin_headers(snow_settings)) as c:
        seed_registry(c)
        snow = c.app.state.snow  # type: ignore[attr-defined]
        first = drive([(-20, 0), (400, 0)], 40, now - 200, noise_m=3.0, seed=4)
        write(influx, "plow-001", first)
        c.portal.call(snow.live_step, first[-1]["t"] + 1.5)  # type: ignore[union-attr]
        one = c.get("/api/v1/coverage").json()
        assert one["input"]["source"] == "live"
        assert {s["id"]: s["cleared"] for s in one["segments"]}["r-01"] is False  # only the first leg so far
        # The next points arrive; the engine reads only them and joins them to the first batch.
        second = drive([(400, 0), (400, 220)], 40, first[-1]["t"] + 2, noise_m=3.0, seed=5)  # after what was read
        write(influx, "plow-001", second, first_seq=len(first))
        c.portal.call(snow.live_step, second[-1]["t"] + 1.5)  # type: ignore[union-attr]
        two = c.get("/api/v1/coverage").json()
        assert two["input"]["fixes_used"] == len(first) + len(second)
        batch = c.get("/api/v1/coverage", params={"since": two["input"]["since"], "until": two["input"]["until"]}).json()
        for key in ("segments", "routes", "total"):
            assert two[key] == batch[key], key
        assert {s["id"]: s["cleared"] for s in two["segments"]}["r-01"] is True


def test_points_that_arrive_late_reach_the_live_map_at_the_next_rebuild(snow_settings, influx: InfluxV1) -> None:
    # A plow clears a lane inside a dead zone; its logger sends the fixes when it is back in reach, long
    # after the live engine has read past their time. The road division must still see the lane cleared.
    now = time.time()
    with TestClient(_live_app(snow_settings, live_engine=False, live_read_lag_s=0.0, live_rebuild_s=300.0),
                    headers=admin_headers(snow_settings)) as c:
        seed_registry(c)
        snow = c.app.state.snow  # type: ignore[attr-defined]
        on_air = drive([(-20, 0), (400, 0), (400, 220)], 40, now - 400, noise_m=3.0, seed=4)
        write(influx, "plow-001", on_air)
        step_s = on_air[-1]["t"] + 1.5
        c.portal.call(snow.live_step, step_s)  # type: ignore[union-attr]
        late = drive([(-120, -100), (120, -100)], 30, now - 500)  # the dead zone's lane, stamped before that
        write(influx, "plow-002", late)

        def cleared(at_s: float) -> dict[str, bool]:
            c.portal.call(snow.live_step, at_s)  # type: ignore[union-attr]
            return {s["id"]: s["cleared"] for s in c.get("/api/v1/coverage").json()["segments"]}
        assert cleared(step_s + 60)["r-05"] is False  # behind the read position: not yet
        after = cleared(step_s + 301)  # the rebuild reads the whole night again
        assert after["r-05"] is True and after["r-01"] is True
        live = c.get("/api/v1/coverage").json()
        batch = c.get("/api/v1/coverage", params={"since": live["input"]["since"], "until": live["input"]["until"]}).json()
        for key in ("segments", "routes", "total"):
            assert live[key] == batch[key], key


def test_a_road_changed_in_the_registry_counts_at_once(snow_client: TestClient, influx: InfluxV1) -> None:
    from snowapi_night import lonlat

    c = snow_client
    seed_registry(c)
    now = time.time()
    write(influx, "plow-002", drive([(-120, -100), (120, -100)], 30, now - 120))
    before = {s["id"]: s for s in c.get("/api/v1/coverage").json()["segments"]}
    assert before["r-05"]["cleared"] and "r-06" not in before
    # The lane is redrawn 100 m further north and a new road added where the plow went.
    r = c.patch("/api/v1/roads/r-05", json={"geometry": {"type": "LineString", "coordinates": [lonlat(-100, 0), lonlat(-50, 0)]}})
    assert r.status_code == 200, r.text
    r = c.post("/api/v1/roads", json={"id": "r-06", "site": "goshogawara", "geometry": {
        "type": "LineString", "coordinates": [lonlat(-100, -100), lonlat(100, -100)]}})
    assert r.status_code == 201, r.text
    time.sleep(2.1)  # the service compares its network with the registry at most every 2 s
    after = {s["id"]: s for s in c.get("/api/v1/coverage").json()["segments"]}
    assert not after["r-05"]["cleared"] and after["r-06"]["cleared"]
