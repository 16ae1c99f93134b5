"""A constructed snowstorm night for the snow API tests: roads, plows, readings written like the gateway does.

A module with a unique name (not conftest.py) so the test modules can import it.
Roads and drives are laid out in metres east/north of Goshogawara city hall and stored in WGS84;
readings go through the wire contract (decode, then reading_line), the same path as the gateway's.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from backend.snow.roads import LocalProjection
from yukimizu.contract import decode, reading_line, topic
from yukimizu.influx import InfluxV1

SITE = "goshogawara"
ORIGIN = LocalProjection(40.8078, 140.4470)
NIGHT_T0_S = 1768489200.0  # 2026-01-16T00:00:00+09:00; the night starts half an hour before
NIGHT_DAY = "2026-01-16"
ROUTES = {"ekimae": "駅前線", "kita": "北通り線"}
VEHICLES = {"v-1": ("除雪ドーザ1号", "grader_3_7m", "plow-001", "ekimae"),
            "v-2": ("小型除雪車2号", "loader_small", "plow-002", "kita")}
HEADER = "device_id,t,lat,lon,blade_down,speed_km_h,heading_deg"


def lonlat(x_m: float, y_m: float) -> list[float]:
    """[lon, lat] of a point in metres from ORIGIN."""
    lat, lon = ORIGIN.to_latlon(np.array(x_m), np.array(y_m))
    return [float(lon), float(lat)]


def road(rid: str, route: str | None, name: str, *points_m: tuple[float, float]) -> dict[str, Any]:
    """A GeoJSON road feature (LineString) from points in metres."""
    props: dict[str, Any] = {"id": rid, "name": name}
    if route:
        props["route"] = route
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": [lonlat(x, y) for x, y in points_m]}}


def roads() -> dict[str, Any]:
    """The network, ids in sorted order (the registry lists roads by id): two routes, a parallel street, a lane."""
    return {"type": "FeatureCollection", "features": [
        road("r-01", "ekimae", "駅前通り", (0, 0), (400, 0), (400, 200)),
        road("r-02", "ekimae", "駅前通り北", (0, 22), (400, 22)),  # parallel, 22 m north: must not be cleared by r-01's plow
        road("r-03", "kita", "北大通り", (200, -200), (200, 300)),
        road("r-04", "kita", "北裏通り", (-100, 150), (300, 150)),
        road("r-05", None, "小路", (-100, -100), (100, -100)),
    ]}


def drive(path_m: Sequence[tuple[float, float]], speed_km_h: float, t0_s: float, *, blade: bool = True,
          every_s: float = 1.0, noise_m: float = 0.0, seed: int = 0, heading: bool = True) -> list[dict[str, Any]]:
    """Readings (contract fields) of a plow driving the polyline at constant speed, one every every_s seconds."""
    pts = np.asarray(path_m, dtype=float)
    leg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.r_[0.0, np.cumsum(leg)]
    t = np.arange(0.0, cum[-1] / (speed_km_h / 3.6) + 1e-9, every_s)
    s = t * speed_km_h / 3.6
    x, y = np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])
    seg = np.minimum(np.searchsorted(cum, s, side="right") - 1, len(leg) - 1)
    d = np.diff(pts, axis=0)[seg]
    hd = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 360.0
    if noise_m:
        rng = np.random.default_rng(seed)
        x, y = x + rng.normal(0, noise_m, len(x)), y + rng.normal(0, noise_m, len(y))
    lat, lon = ORIGIN.to_latlon(x, y)
    out = []
    for k in range(len(t)):
        r: dict[str, Any] = {"t": round(float(t0_s + t[k]), 3), "lat": round(float(lat[k]), 7),
                             "lon": round(float(lon[k]), 7), "blade_down": blade, "speed_km_h": float(speed_km_h)}
        if heading:
            r["heading_deg"] = round(float(hd[k]), 1)
        out.append(r)
    return out


def night() -> dict[str, list[dict[str, Any]]]:
    """Readings per device for the night of 2026-01-16 (JST), crossing midnight."""
    t0 = NIGHT_T0_S - 30.0  # across midnight: the report counts the share after 00:00 JST
    # plow-001: r-01 (both legs) blade down with 3 m noise, then home with the blade up.
    first = drive([(-20, 0), (400, 0), (400, 220)], 40, t0, noise_m=3.0, seed=1)
    end = first[-1]["t"]
    p1 = first + drive([(400, 220), (400, 300), (200, 300)], 30, end + 1, blade=False, heading=False)
    # plow-002: north-south along r-03 across midnight, a 90 s tunnel without fixes in the middle,
    # then r-04 westwards; no speed reported on part of it.
    a = drive([(200, -220), (200, 0)], 30, NIGHT_T0_S - 20)
    b = drive([(200, 150), (200, 320)], 30, a[-1]["t"] + 90)  # 150 m on in 90 s without a fix: not joined
    c = drive([(320, 150), (-120, 150)], 25, b[-1]["t"] + 120, noise_m=5.0, seed=2)
    p2 = a + b + c
    # A fix from far away (a GPS glitch in Tokyo) and a reading without a fix (blade state only).
    p2.insert(len(a) + 3, {"t": b[2]["t"] + 0.5, "lat": 35.68, "lon": 139.76, "blade_down": True})
    p2.insert(5, {"t": a[4]["t"] + 0.25, "blade_down": True})
    return {"plow-001": p1, "plow-002": p2}


def contract_lines(device: str, readings: list[dict[str, Any]], *, site: str = SITE,
                   tags: dict[str, str] | None = None, first_seq: int = 0) -> list[str]:
    """Line protocol for readings, through the wire contract's decoder and line builder (the gateway's path)."""
    lines: list[str] = []
    for i in range(0, len(readings), 500):
        batch = [{"seq": first_seq + i + k, **r} for k, r in enumerate(readings[i:i + 500])]
        decoded = decode(topic(site, "plow", device), json.dumps({"v": 1, "readings": batch}).encode())
        assert not decoded.rejections, decoded.rejections
        lines += [reading_line(r, tags) for r in decoded.readings]
    return lines


def write_night(influx: InfluxV1, readings: dict[str, list[dict[str, Any]]]) -> None:
    """Write every device's readings with the registry tags the gateway adds (vehicle_id, route)."""
    by_dev = {dev: (vid, route) for vid, (_n, _c, dev, route) in VEHICLES.items()}
    for dev, rows in readings.items():
        vid, route = by_dev.get(dev, ("", ""))
        influx.write(contract_lines(dev, rows, tags={"vehicle_id": vid, "route": route}))


def export_tracks_csv(influx: InfluxV1, where: str = "") -> str:
    """tracks.csv for the offline CLI from the plow points in InfluxDB (readings without a fix have no place in it)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER.split(","))
    series = influx.query('SELECT "lat", "lon", "blade_down", "speed_km_h", "heading_deg" FROM "plow"'
                          f'{where} GROUP BY "device_id"')
    for s in series:
        dev = s["tags"]["device_id"]
        for t_ms, lat, lon, blade, speed, heading in s["values"]:
            if lat is None or lon is None or blade is None:
                continue
            w.writerow([dev, f"{t_ms // 1000}.{t_ms % 1000:03d}", repr(lat), repr(lon), int(blade),
                        "" if speed is None else repr(speed), "" if heading is None else repr(heading)])
    return out.getvalue()


def seed_registry(c: Any) -> None:
    """Site, routes with names, vehicles with machine classes, plow devices, and the roads (imported as GeoJSON)."""
    assert c.post("/api/v1/sites", json={"id": SITE, "name": "五所川原"}).status_code == 201
    for rid, name in ROUTES.items():
        assert c.post("/api/v1/routes", json={"id": rid, "site": SITE, "name": name}).status_code == 201
    for vid, (name, cls, dev, route) in VEHICLES.items():
        r = c.post("/api/v1/vehicles", json={"id": vid, "site": SITE, "name": name, "machine_class": cls})
        assert r.status_code == 201, r.text
        r = c.post("/api/v1/devices", json={"device_id": dev, "kind": "plow", "site": SITE, "vehicle_id": vid,
                                            "route": route, "expected_interval_s": 1})
        assert r.status_code == 201, r.text
    r = c.post("/api/v1/registry/import/roads", params={"site": SITE}, json=roads())
    assert r.status_code == 200, r.text
