"""A small synthetic Goshogawara, written through the wire contract, for proving the dashboards' queries.

Device readings go through `yukimizu.contract.decode` (topic + JSON payload, as a device sends them)
and `reading_line` with the registry tags, exactly as the gateway writes them. The backend's and
the gateway's own measurements (advice, coverage, gateway, device_status) are written with the
contract's `line()` in the shapes dashboards/schema.py names. The simulators' scenarios can replace
this later; the facts the tests check are the constants below, chosen by hand.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from yukimizu.contract import decode, line, reading_line, topic

SITE = "goshogawara"
OTHER_SITE = "kizukuri"  # must never leak into goshogawara's panels
DAY_S = 86_400
FIELD_INTERVAL_S = 900
WEATHER_INTERVAL_S = 600
PLOW_INTERVAL_S = 10
HISTORY_S = 7 * DAY_S

# field devices: device -> (kind, field_id, silent for the last N s (0 = reporting now))
FIELD_DEVICES = {
    "water-001": ("water", "paddy-01", 0),
    "water-002": ("water", "paddy-02", 0),
    "water-003": ("water", "paddy-03", 5 * 3600),
    "soil-001": ("soil", "paddy-01", 0),
    "soil-002": ("soil", "paddy-02", 2 * 3600),
    "soil-003": ("soil", "orchard-01", 0),
}
WEATHER_DEVICES = {"weather-01": 0, "weather-02": 3 * 3600}
SILENT = {"soil": {"soil-002"}, "water": {"water-003"}, "weather": {"weather-02"}}
FIELDS = ["orchard-01", "paddy-01", "paddy-02", "paddy-03"]
LEVEL_CM = {"water-001": 3.0, "water-002": 8.0, "water-003": 5.0}
# advice band per field: (target_min_cm, target_max_cm); paddy-01 is at booting (deep water)
BAND_CM = {"paddy-01": (10.0, 20.0), "paddy-02": (3.0, 6.0)}
AIR_TEMP_C = 15.0  # a yamase week: under the 17 C cold-damage line
RAIN_MM_PER_READING = 0.5
RAIN_HOURS_AGO = (10, 12)  # it rained from 12 h ago to 10 h ago
# soil-001's battery falls 0.01 V/day from 3.90 V seven days ago: 53 days left to 3.3 V
BATTERY_START_V, BATTERY_FALL_V_PER_DAY = 3.90, 0.01
# plows: vehicle -> (route, [(seconds ago from, to, speed_km_h, blade_down)])
PLOWS = {
    "plow-01": ("route-a", [(3600, 0, 30.0, True)]),
    "plow-02": ("route-b", [(3600, 1800, 30.0, True), (1800, 0, 0.0, True)]),
    "plow-03": ("route-c", [(1800, 0, 40.0, False)]),
}
KM_BLADE_DOWN = 30.0 + 15.0  # plow-01 1 h at 30 km/h, plow-02 0.5 h at 30 km/h
COVERAGE_END_PCT = {"route-a": 90.0, "route-b": 40.0, "route-c": 85.0}
FW_VERSION = {"water": "1.2.0", "soil": "1.2.0", "weather": "1.0.4", "plow": "1.1.3"}
REJECTED_CLOCK_PER_10_MIN = 1


@dataclass
class Dataset:
    """Lines to write plus the time they were made for."""

    now_s: int
    lines: list[str] = field(default_factory=list)


def _readings(ds: Dataset, site: str, kind: str, device: str, tags: dict[str, str], readings: list[dict]) -> None:
    for i in range(0, len(readings), 1000):  # the contract allows 1000 readings per message
        payload = json.dumps({"v": 1, "readings": readings[i:i + 1000]}).encode()
        out = decode(topic(site, kind, device), payload, now_unix_s=ds.now_s)
        assert not out.rejections, out.rejections
        ds.lines.extend(reading_line(r, tags) for r in out.readings)


def _times(ds: Dataset, interval_s: int, silent_s: int = 0, history_s: int = HISTORY_S) -> list[int]:
    end = ds.now_s - silent_s
    return list(range(ds.now_s - history_s, end + 1, interval_s))


def build(now_s: int) -> Dataset:
    """Every line of the synthetic site, timed relative to now_s."""
    ds = Dataset(now_s)
    seq = 0
    for device, (kind, field_id, silent_s) in FIELD_DEVICES.items():
        rows = []
        for seq, t in enumerate(_times(ds, FIELD_INTERVAL_S, silent_s), start=1):
            days_ago = (now_s - t) / DAY_S
            battery_v = 3.85 if device != "soil-001" else BATTERY_START_V - BATTERY_FALL_V_PER_DAY * (7 - days_ago)
            r: dict = {"seq": seq, "t": t, "battery_v": round(battery_v, 5), "rssi_dbm": -70.0 - len(device)}
            if kind == "water":
                r.update(level_cm=LEVEL_CM[device], water_temp_c=16.5)
            else:
                r.update(vwc_pct=24.0 + (seq % 7), soil_temp_c=16.0)
            rows.append(r)
        _readings(ds, SITE, kind, device, {"field_id": field_id}, rows)
    for device, silent_s in WEATHER_DEVICES.items():
        rows = []
        for seq, t in enumerate(_times(ds, WEATHER_INTERVAL_S, silent_s), start=1):
            hours_ago = (now_s - t) / 3600
            rain = RAIN_MM_PER_READING if device == "weather-01" and RAIN_HOURS_AGO[0] <= hours_ago < RAIN_HOURS_AGO[1] \
                else 0.0
            rows.append({"seq": seq, "t": t, "air_temp_c": AIR_TEMP_C, "rh_pct": 90.0, "rain_mm": rain,
                         "battery_v": 3.95, "rssi_dbm": -60.0})
        _readings(ds, SITE, "weather", device, {}, rows)
    for vehicle, (route, legs) in PLOWS.items():
        rows, lat = [], 40.80
        start = max(leg[0] for leg in legs)
        for seq, t in enumerate(range(now_s - start, now_s + 1, PLOW_INTERVAL_S), start=1):
            ago = now_s - t
            leg = next((lg for lg in legs if lg[1] <= ago <= lg[0]), legs[-1])
            lat += leg[2] / 3600 * PLOW_INTERVAL_S / 111.0  # km -> degrees of latitude
            r = {"seq": seq, "t": t, "speed_km_h": leg[2], "blade_down": leg[3], "sats": 9, "hdop": 0.9,
                 "battery_v": 12.6, "rssi_dbm": -80.0}
            if seq % 13:  # every 13th reading has no GPS fix: lat/lon left out, still alive
                r.update(lat=round(lat, 6), lon=140.44)
            rows.append(r)
        _readings(ds, SITE, "plow", vehicle, {"vehicle_id": vehicle, "route": route}, rows)
    # the other site: one soil sensor in one field
    rows = [{"seq": i, "t": t, "vwc_pct": 30.0, "battery_v": 3.7} for i, t in
            enumerate(_times(ds, FIELD_INTERVAL_S, history_s=DAY_S), start=1)]
    _readings(ds, OTHER_SITE, "soil", "soil-k1", {"field_id": "kz-01"}, rows)

    ms = 1000
    for field_id, (lo, hi) in BAND_CM.items():
        for hours_ago in range(48, 0, -6):
            t = now_s - hours_ago * 3600
            ds.lines.append(line("advice", {"site": SITE, "field_id": field_id}, {
                "message_ja": f"{field_id}: 水位を {lo:g}〜{hi:g} cm に保ってください",
                "message_en": f"{field_id}: keep the water at {lo:g}-{hi:g} cm",
                "action": "hold", "target_min_cm": lo, "target_max_cm": hi}, t * ms))
    for route, end_pct in COVERAGE_END_PCT.items():
        steps = 36  # every 10 min for 6 h
        for k in range(steps + 1):
            t = now_s - (steps - k) * 600
            ds.lines.append(line("coverage", {"route": route}, {"coverage_pct": round(end_pct * k / steps, 2)}, t * ms))
    clock = out_of_range = 0
    for k in range(121):  # gateway health every minute for 2 h
        t = now_s - (120 - k) * 60
        if k % 10 == 0:
            clock += REJECTED_CLOCK_PER_10_MIN
        if k % 30 == 0:
            out_of_range += 2
        ds.lines.append(line("gateway", {"gateway": "gw-1"}, {
            "readings_received": 100 * k, "written": 100 * k, "duplicates": k // 20, "spool_depth_lines": k % 7,
            "spool_age_s": float(k % 7), "write_latency_ms": 12.5 + k % 5, "rejected_clock": clock,
            "rejected_out_of_range": out_of_range}, t * ms))
    for device, (kind, _f, _s) in FIELD_DEVICES.items():
        ds.lines.append(line("device_status", {"site": SITE, "device_id": device},
                             {"online": True, "fw_version": FW_VERSION[kind]}, (now_s - 3 * DAY_S) * ms))
    for vehicle in PLOWS:
        ds.lines.append(line("device_status", {"site": SITE, "device_id": vehicle},
                             {"online": True, "fw_version": FW_VERSION["plow"]}, (now_s - 3600) * ms))
    return ds
