"""Upland advice scenarios on constructed series: what a farmer would see each morning."""
from __future__ import annotations

import numpy as np
from agronomy_builders import day_range, fields, forecast, observed, unix_s
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backend.agronomy.advice import Action, History, ReasonCode, Urgency, advise, sort_by_urgency
from backend.agronomy.weather import WeatherInput

SEASON = "2026-04-25"  # green tip; July is mid-season for apples
FIRST = "2026-07-01"


def _hot_dry(count: int):
    tmax = 30.0 + 2.0 * np.sin(np.arange(count))
    tmin = 20.0 + np.cos(np.arange(count))
    return tmax, tmin


def _morning(k: int, tmax, tmin, rain, table, horizon=7, vwc=None):
    """Advice on the morning of day k (0-based from FIRST) with a perfect forecast of the next days."""
    days = day_range(FIRST, k)
    today = str(day_range(FIRST, k + 1)[-1])
    hist = History(days, vwc_pct=None if vwc is None else vwc[:, :k])
    wx = WeatherInput(observed(tmax[:k], tmin[:k], rain[:k]),
                      forecast(today, list(tmin[k:k + horizon]), list(tmax[k:k + horizon]), list(rain[k:k + horizon])))
    return advise(table, hist, wx, now_unix_s=unix_s(today + "T05:30"))[0]


def test_drying_orchard_is_told_to_irrigate_before_depletion_crosses_raw_not_after():
    count = 40
    tmax, tmin = _hot_dry(count)
    rain = np.zeros(count)
    table = fields(["apple"], season_start=SEASON)
    mornings = [_morning(k, tmax, tmin, rain, table) for k in range(1, 30)]
    raw = mornings[0].values["raw_mm"]
    depletion = [a.values["depletion_mm"] for a in mornings]  # depletion at the start of each morning
    # first morning whose starting depletion is above RAW: the crossing happened during the day before
    crossed = next(i for i, d in enumerate(depletion) if d > raw)
    cross_day = crossed - 1  # index (in `mornings`) of the day that ends above RAW
    assert mornings[cross_day].action is Action.IRRIGATE_NOW
    assert mornings[cross_day].values["depletion_mm"] <= raw  # told while still below RAW, not after
    assert mornings[cross_day - 1].action is Action.IRRIGATE_IN_DAYS and mornings[cross_day - 1].days == 1
    for i, a in enumerate(mornings[:cross_day]):
        if a.action is Action.IRRIGATE_IN_DAYS:
            assert a.days == cross_day - i  # the date it names is the crossing day's morning, every time
        else:
            assert a.action is Action.NOT_NEEDED and cross_day - i >= 7  # beyond the 7-day forecast
    now = mornings[cross_day]
    assert now.urgency is Urgency.HIGH
    assert np.isclose(now.amount_l, now.amount_mm * 1000.0)  # 1000 m2 field: 1 mm = 1000 L
    assert "かん水してください" in now.message_ja and "Irrigate today" in now.message_en


def test_after_heavy_rain_the_orchard_needs_no_water():
    count = 20
    tmax, tmin = _hot_dry(count)
    table = fields(["apple"], season_start=SEASON)
    dry = _morning(16, tmax, tmin, np.zeros(count), table, horizon=4)
    rain = np.zeros(count)
    rain[15] = 80.0  # yesterday
    wet = _morning(16, tmax, tmin, rain, table, horizon=4)
    assert dry.action in (Action.IRRIGATE_NOW, Action.IRRIGATE_IN_DAYS)
    assert wet.action is Action.NOT_NEEDED
    assert wet.values["depletion_mm"] < dry.values["depletion_mm"] - 60.0
    assert "不要" in wet.message_ja


def test_forecast_rain_is_counted_and_said():
    count = 20
    tmax, tmin = _hot_dry(count)
    rain = np.zeros(count)
    table = fields(["apple"], season_start=SEASON)
    base = _morning(9, tmax, tmin, rain, table)
    rain[10] = 40.0  # tomorrow
    rained = _morning(9, tmax, tmin, rain, table)
    assert ReasonCode.RAIN_AHEAD in rained.reasons
    assert (rained.action, rained.days or 0) != (base.action, base.days or 0)
    assert "40 mm" in rained.message_en


def test_without_a_forecast_the_recent_trend_is_used_and_the_advice_says_so():
    count = 12
    tmax, tmin = _hot_dry(count)
    table = fields(["apple"], season_start=SEASON)
    days = day_range(FIRST, count)
    a = advise(table, History(days), WeatherInput(observed(tmax, tmin, np.zeros(count)), None),
               now_unix_s=unix_s("2026-07-13T05:30"))[0]
    assert ReasonCode.NO_FORECAST in a.reasons
    assert a.action in (Action.IRRIGATE_IN_DAYS, Action.IRRIGATE_NOW)
    assert "天気予報がない" in a.message_ja and "No forecast" in a.message_en


def test_without_a_station_the_soil_sensor_alone_decides_and_without_both_there_is_no_advice():
    days = day_range(FIRST, 10)
    table = fields(["apple", "apple"], season_start=SEASON)
    vwc = np.full((2, 10), np.nan)
    vwc[0, -1] = 14.0  # loam FC 0.25: 1000 (0.25 - 0.14) 1.0 = 110 mm, RAW 65
    got = advise(table, History(days, vwc_pct=vwc), WeatherInput(None, None), now_unix_s=unix_s("2026-07-11T05:30"))
    assert got[0].action is Action.IRRIGATE_NOW and ReasonCode.NO_STATION in got[0].reasons
    assert np.isclose(got[0].amount_mm, 110.0)
    assert got[1].action is Action.NO_DATA and got[1].urgency is Urgency.LOW
    assert "助言できません" in got[1].message_ja


def test_missing_humidity_radiation_and_wind_are_named():
    count = 5
    tmax, tmin = _hot_dry(count)
    a = advise(fields(["soybean"], season_start="2026-06-01"), History(day_range(FIRST, count)),
               WeatherInput(observed(tmax, tmin, np.zeros(count)), forecast("2026-07-06", [20], [30])),
               now_unix_s=unix_s("2026-07-06T05:30"))[0]
    assert {ReasonCode.NO_HUMIDITY, ReasonCode.NO_RADIATION, ReasonCode.NO_WIND} <= set(a.reasons)


def test_apple_in_winter_is_out_of_season():
    a = advise(fields(["apple"], season_start=SEASON), History(day_range("2026-01-10", 5)),
               WeatherInput(observed(np.full(5, 2.0), np.full(5, -5.0), np.zeros(5)), None),
               now_unix_s=unix_s("2026-01-15T06:00"))[0]
    assert a.action is Action.OFF_SEASON and a.urgency is Urgency.NONE


def test_sorted_advice_puts_today_before_later_before_nothing():
    count = 3
    tmax, tmin = _hot_dry(count)
    table = fields(["apple", "apple", "apple"], season_start=SEASON)
    hist = History(day_range(FIRST, count), start_depletion_mm=np.array([0.0, 100.0, 40.0]))
    got = advise(table, hist, WeatherInput(observed(tmax, tmin, np.zeros(count)),
                                           forecast("2026-07-04", [20] * 7, [30] * 7)),
                 now_unix_s=unix_s("2026-07-04T05:30"))
    ordered = sort_by_urgency(got)
    # the driest field (100 mm depleted) first, then the half-dry one, then the one at field capacity
    assert [a.field_id for a in ordered] == ["f00001", "f00002", "f00000"]
    assert ordered[0].action is Action.IRRIGATE_NOW
    assert ordered[1].action is Action.IRRIGATE_IN_DAYS
    assert ordered[2].action is Action.NOT_NEEDED


def _rank(a) -> tuple[int, int]:
    order = {Action.NOT_NEEDED: 0, Action.IRRIGATE_IN_DAYS: 1, Action.IRRIGATE_NOW: 2}
    return order[a.action], -(a.days or 0)


@settings(max_examples=40, deadline=None)
@given(rain=arrays(np.float64, 10, elements=st.floats(0, 30)), extra=arrays(np.float64, 10, elements=st.floats(0, 30)),
       frain=arrays(np.float64, 5, elements=st.floats(0, 20)), fextra=arrays(np.float64, 5, elements=st.floats(0, 20)),
       vwc=arrays(np.float64, 10, elements=st.one_of(st.just(np.nan), st.floats(5, 40))),
       start=st.floats(0, 130), trust=st.floats(0, 1))
def test_more_rain_never_makes_the_advice_more_urgent(rain, extra, frain, fextra, vwc, start, trust):
    tmax, tmin = _hot_dry(15)
    table = fields(["apple"], season_start=SEASON, sensor_trust=np.array([trust]))
    days = day_range(FIRST, 10)

    def run(r, fr):
        wx = WeatherInput(observed(tmax[:10], tmin[:10], r), forecast("2026-07-11", list(tmin[10:]), list(tmax[10:]),
                                                                      list(fr)))
        return advise(table, History(days, vwc_pct=vwc[None, :], start_depletion_mm=np.array([start])), wx,
                      now_unix_s=unix_s("2026-07-11T05:30"))[0]

    dry, wet = run(rain, frain), run(rain + extra, frain + fextra)
    assert _rank(wet) <= _rank(dry)
    assert wet.urgency <= dry.urgency


def test_with_neither_station_nor_forecast_the_advice_says_it_judged_today_only():
    days = day_range(FIRST, 10)
    vwc = np.full((1, 10), np.nan)
    vwc[0, -1] = 22.0  # loam FC 0.25: 30 mm depleted, RAW 65
    a = advise(fields(["apple"], season_start=SEASON), History(days, vwc_pct=vwc), WeatherInput(None, None),
               now_unix_s=unix_s("2026-07-11T05:30"))[0]
    assert a.action is Action.NOT_NEEDED
    assert ReasonCode.NO_ET_AHEAD in a.reasons and ReasonCode.NO_FORECAST not in a.reasons
    assert "today's state only" in a.message_en


def test_a_site_without_fields_gets_an_empty_list():
    table = fields([], season_start=[])
    got = advise(table, History(day_range(FIRST, 3)), WeatherInput(observed(np.full(3, 25.0), np.full(3, 15.0)), None),
                 now_unix_s=unix_s("2026-07-04T05:30"))
    assert got == []


def test_a_site_wide_weather_row_gives_the_same_advice_as_one_row_per_field():
    count = 12
    tmax, tmin = _hot_dry(count)
    table = fields(["apple", "soybean", "vegetables"], season_start="2026-05-01")
    shared = observed(tmax, tmin, np.zeros(count))
    per_field = observed(np.tile(tmax, (3, 1)), np.tile(tmin, (3, 1)), np.zeros((3, count)))
    fc = forecast("2026-07-13", [20.0] * 5, [30.0] * 5)
    hist = History(day_range(FIRST, count), start_depletion_mm=np.array([10.0, 20.0, 30.0]))
    a = advise(table, hist, WeatherInput(shared, fc), now_unix_s=unix_s("2026-07-13T05:30"))
    b = advise(table, hist, WeatherInput(per_field, fc), now_unix_s=unix_s("2026-07-13T05:30"))
    assert [x.to_dict() for x in a] == [x.to_dict() for x in b]
