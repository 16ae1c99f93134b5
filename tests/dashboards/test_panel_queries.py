"""Every panel query, rendered as Grafana would send it, returns the right data from the real InfluxDB.

The expectations come from the synthetic site's hand-chosen facts (dash_site_data), never from
running the code under test. Every target of every built dashboard (both languages) must have an
expectation here, so a new panel cannot ship unproven.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_site_data as sd
import pytest
from dash_harness import column, rows, tag_values

from dashboards import schema
from dashboards.build import dashboards
from dashboards.check import panel_queries, rendered

Series = list[dict[str, Any]]
DASHBOARDS = dashboards()
ALL_FIELDS = sd.FIELDS
VARIABLES = {"site": sd.SITE, "field": ALL_FIELDS, "schedule_pct": "80"}
GOSHOGAWARA_DEVICES = set(sd.FIELD_DEVICES) | set(sd.WEATHER_DEVICES) | set(sd.PLOWS)


def _devices_in(field: str, kinds: tuple[str, ...]) -> set[str]:
    return {d for d, (k, f, _s) in sd.FIELD_DEVICES.items() if f == field and k in kinds}


def advice(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "field_id") == set(sd.BAND_CM)
    for r in rows(s):
        lo, hi = sd.BAND_CM[r["field_id"]]
        assert (r["target_min_cm"], r["target_max_cm"]) == (lo, hi)
        assert r["action"] == "hold"
        assert ("保ってください" in r["message"]) == (lang == "ja"), r["message"]
    assert all(len(x["values"]) == 1 for x in s), "only the latest advice per field"


def farmer_last_seen(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "device_id") == set(sd.FIELD_DEVICES), "every field sensor of the site, no weather, no other site"
    by_dev = {r["device_id"]: r for r in rows(s)}
    for dev, (_k, field_id, silent_s) in sd.FIELD_DEVICES.items():
        assert by_dev[dev]["field_id"] == field_id
        assert by_dev[dev]["time"] // 1000 == pytest.approx(SITE_NOW["s"] - silent_s, abs=sd.FIELD_INTERVAL_S)


def rain(s: Series, lang: str, field: str | None) -> None:
    hours = sd.RAIN_HOURS_AGO[1] - sd.RAIN_HOURS_AGO[0]
    expected_mm = sd.RAIN_MM_PER_READING * hours * 3600 / sd.WEATHER_INTERVAL_S
    assert sum(column(s, "rain_mm")) == pytest.approx(expected_mm)
    assert max(column(s, "rain_mm")) > 0


def water_level(s: Series, lang: str, field: str | None) -> None:
    devices = _devices_in(field, ("water",))
    if not devices:
        assert s == [], "a field without a water sensor shows no level"
        return
    assert tag_values(s, "field_id") == {field}
    levels = column(s, "level_cm")
    assert len(levels) > 100 and set(levels) == {sd.LEVEL_CM[d] for d in devices}


def water_band(edge: int) -> Callable[[Series, str, str | None], None]:
    name = ("target_min_cm", "target_max_cm")[edge]

    def check(s: Series, lang: str, field: str | None) -> None:
        if field not in sd.BAND_CM:
            assert s == [], "no advice, no band"
            return
        assert tag_values(s, "field_id") == {field}
        assert rows(s)[-1][name] == sd.BAND_CM[field][edge]
        assert len(column(s, name)) > 100, "the band holds between advice points (fill(previous))"
    return check


def soil_moisture(s: Series, lang: str, field: str | None) -> None:
    devices = _devices_in(field, ("soil",))
    assert tag_values(s, "device_id") == devices
    if devices:
        assert all(24.0 <= v <= 31.0 for v in column(s, "vwc_pct")) and column(s, "vwc_pct")


def soil_temp(s: Series, lang: str, field: str | None) -> None:
    if not _devices_in(field, ("soil",)):
        assert s == []
        return
    assert set(column(s, "soil_temp_c")) == {16.0}


def water_temp(s: Series, lang: str, field: str | None) -> None:
    if not _devices_in(field, ("water",)):
        assert s == []
        return
    assert set(column(s, "water_temp_c")) == {16.5}


def plow_map(s: Series, lang: str, field: str | None) -> None:
    by_vehicle = {r["vehicle_id"]: r for r in rows(s)}
    assert set(by_vehicle) == set(sd.PLOWS)
    for vehicle, (route, legs) in sd.PLOWS.items():
        r = by_vehicle[vehicle]
        assert r["route"] == route
        assert r["blade_down"] is legs[-1][3]
        assert r["speed_km_h"] == legs[-1][2]
        assert 40.8 < r["latitude"] < 41.2 and r["longitude"] == 140.44, "the last fix, even if the last reading had none"


def plows_reporting(s: Series, lang: str, field: str | None) -> None:
    assert column(s, "reporting") == [len(sd.PLOWS)]


def plows_clearing(s: Series, lang: str, field: str | None) -> None:
    assert column(s, "clearing") == [sum(legs[-1][3] for _r, legs in sd.PLOWS.values())]


def km_tonight(s: Series, lang: str, field: str | None) -> None:
    (km,) = column(s, "km")
    # 1-minute buckets: each blade-down stretch may gain up to one minute (0.5 km at 30 km/h)
    assert sd.KM_BLADE_DOWN <= km <= sd.KM_BLADE_DOWN + 2 * 0.5


def coverage(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "route") == set(sd.COVERAGE_END_PCT)
    for x in s:
        assert x["values"][-1][1] == sd.COVERAGE_END_PCT[x["tags"]["route"]]


def behind(s: Series, lang: str, field: str | None) -> None:
    late = {route for route, pct in sd.COVERAGE_END_PCT.items() if pct < float(VARIABLES["schedule_pct"])}
    assert tag_values(s, "route") == late == {"route-b"}
    assert column(s, "coverage_pct") == [sd.COVERAGE_END_PCT["route-b"]]


def fleet_last_seen(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "device_id") == GOSHOGAWARA_DEVICES


def silent(kind: str) -> Callable[[Series, str, str | None], None]:
    def check(s: Series, lang: str, field: str | None) -> None:
        assert tag_values(s, "device_id") == sd.SILENT[kind]
        assert column(s, "recent") == [0] * len(sd.SILENT[kind])
    return check


def battery(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "device_id") == GOSHOGAWARA_DEVICES
    soil1 = [x for x in s if x["tags"]["device_id"] == "soil-001"][0]
    vals = [v[1] for v in soil1["values"] if v[1] is not None]
    assert vals[0] > vals[-1], "soil-001's battery falls"


def battery_days(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "device_id") == {"soil-001"}, "only falling batteries are projected"
    (days,) = column(s, "days_left")
    last_v = sd.BATTERY_START_V - 7 * sd.BATTERY_FALL_V_PER_DAY
    assert days == pytest.approx((last_v - schema.BATTERY_EMPTY_V) / sd.BATTERY_FALL_V_PER_DAY, abs=1.0)  # 53 days


def rssi(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "device_id") == GOSHOGAWARA_DEVICES
    assert all(-130 <= v <= 0 for v in column(s, "rssi_dbm"))


def firmware(s: Series, lang: str, field: str | None) -> None:
    got = {r["device_id"]: r["fw_version"] for r in rows(s)}
    want = {d: sd.FW_VERSION[k] for d, (k, _f, _s) in sd.FIELD_DEVICES.items()}
    want.update({v: sd.FW_VERSION["plow"] for v in sd.PLOWS})
    assert got == want


def spool(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "gateway") == {"gw-1"}
    assert max(column(s, "spool_depth_lines")) == 6


def spool_age(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "gateway") == {"gw-1"}
    assert max(column(s, "spool_age_s")) == 6.0


def latency(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "gateway") == {"gw-1"}
    assert all(12.5 <= v <= 16.5 for v in column(s, "write_latency_ms")) and column(s, "write_latency_ms")


def rejected(s: Series, lang: str, field: str | None) -> None:
    assert tag_values(s, "gateway") == {"gw-1"}
    assert set(s[0]["columns"]) == {"time", *schema.REJECTION_CODES}
    # 12 clock rejections and 8 out_of_range in 2 h; the first bucket has no predecessor to difference
    assert 0 < sum(column(s, "clock")) <= 12 and 0 < sum(column(s, "out_of_range")) <= 8
    assert column(s, "bad_json") == []


EXPECT: dict[tuple[str, int, str], Callable[[Series, str, str | None], None]] = {
    ("yukimizu-farmer", 1, "A"): advice,
    ("yukimizu-farmer", 2, "A"): farmer_last_seen,
    ("yukimizu-farmer", 3, "A"): rain,
    ("yukimizu-farmer", 10, "A"): water_level,
    ("yukimizu-farmer", 10, "B"): water_band(0),
    ("yukimizu-farmer", 10, "C"): water_band(1),
    ("yukimizu-farmer", 11, "A"): soil_moisture,
    ("yukimizu-farmer", 12, "A"): soil_temp,
    ("yukimizu-farmer", 12, "B"): water_temp,
    ("yukimizu-road", 1, "A"): plow_map,
    ("yukimizu-road", 2, "A"): plows_reporting,
    ("yukimizu-road", 2, "B"): plows_clearing,
    ("yukimizu-road", 3, "A"): km_tonight,
    ("yukimizu-road", 4, "A"): coverage,
    ("yukimizu-road", 5, "A"): behind,
    ("yukimizu-fleet", 1, "A"): fleet_last_seen,
    ("yukimizu-fleet", 2, "A"): silent("soil"),
    ("yukimizu-fleet", 2, "B"): silent("water"),
    ("yukimizu-fleet", 2, "C"): silent("weather"),
    ("yukimizu-fleet", 3, "A"): battery,
    ("yukimizu-fleet", 4, "A"): battery_days,
    ("yukimizu-fleet", 5, "A"): rssi,
    ("yukimizu-fleet", 6, "A"): firmware,
    ("yukimizu-fleet", 7, "A"): spool,
    ("yukimizu-fleet", 7, "B"): spool_age,
    ("yukimizu-fleet", 8, "A"): latency,
    ("yukimizu-fleet", 9, "A"): rejected,
}
SITE_NOW: dict[str, int] = {}

CASES = [(uid, pq) for uid, d in DASHBOARDS.items() for pq in panel_queries(d)]


def test_every_target_has_an_expectation() -> None:
    """A panel added without proving its query fails here."""
    keys = {pq.key for _uid, pq in CASES}
    assert keys == set(EXPECT), f"missing: {keys - set(EXPECT)}, stale: {set(EXPECT) - keys}"


@pytest.mark.parametrize(("uid", "pq"), CASES, ids=[f"{u} panel {pq.panel['id']} query {pq.target['refId']} returns "
                                                   "the expected data" for u, pq in CASES])
def test_panel_query_returns_expected_data(site: Any, uid: str, pq: Any) -> None:
    """Render with the variables, run against the real InfluxDB, check series, columns and values."""
    SITE_NOW["s"] = site.now_s
    dash = DASHBOARDS[uid]
    lang = "en" if uid.endswith("-en") else "ja"
    # a panel in a repeated row runs once per value of the row's variable, with that one value
    values = [[f] for f in ALL_FIELDS] if pq.repeat_var == "field" else [None]
    for one in values:
        variables = dict(VARIABLES)
        if one is not None:
            variables["field"] = one
        series = site.db.query(rendered(dash, pq, variables, site.now_s * 1000))
        EXPECT[pq.key](series, lang, one[0] if one else None)
