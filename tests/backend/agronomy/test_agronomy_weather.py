"""Weather input: station readings to JST days, forecast feeds (CSV/JSON), and naming what is missing."""
from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest
from agronomy_builders import day_range, fields, observed, unix_s
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from backend.agronomy.advice import Action, History, ReasonCode, advise
from backend.agronomy.weather import (WeatherInput, WeatherPart, daily_from_readings, forecast_from,
                                      parse_forecast_csv, parse_forecast_json)


def test_station_readings_aggregate_into_jst_days():
    # 14:30 UTC on 1 July is 23:30 JST on the 1st; 15:30 UTC is 00:30 JST on the 2nd
    t = np.array([unix_s("2026-07-01T06:00"), unix_s("2026-07-01T23:30"), unix_s("2026-07-02T00:30"),
                  unix_s("2026-07-02T14:00")])
    temps = np.array([[18.0, 25.0, 12.0, 30.0], [np.nan, 20.0, np.nan, np.nan]])
    days = day_range("2026-07-01", 3)
    assert_allclose(daily_from_readings(t, temps, days, "max"), [[25.0, 30.0, np.nan], [20.0, np.nan, np.nan]])
    assert_allclose(daily_from_readings(t, temps, days, "min"), [[18.0, 12.0, np.nan], [20.0, np.nan, np.nan]])
    assert_allclose(daily_from_readings(t, temps, days, "sum"), [[43.0, 42.0, np.nan], [20.0, np.nan, np.nan]])
    assert_allclose(daily_from_readings(t, temps, days, "mean"), [[21.5, 21.0, np.nan], [20.0, np.nan, np.nan]])
    with pytest.raises(ValueError, match="how='median'"):
        daily_from_readings(t, temps, days, "median")


def test_csv_forecast_with_japanese_headers_and_a_blank_rain_cell():
    fc = parse_forecast_csv("日付,最低気温,最高気温,降水量\n2026-07-28,16.0,23.5,\n2026-07-27,18,25,3.5\n")
    assert [str(d) for d in fc.days] == ["2026-07-27", "2026-07-28"]
    assert_allclose(fc.tmin_c, [18.0, 16.0])
    assert_allclose(fc.rain_mm, [3.5, np.nan])


@pytest.mark.parametrize("text, message", [
    ("date,tmin_c,tmax_c,rain_mm\n2026-07-27,cold,25,0\n", "CSV line 2 column tmin_c: 'cold' is not a number"),
    ("date,tmax_c\n2026-07-27,25\n", "CSV line 1: no 'tmin_c' column"),
    ("date,tmin_c,tmax_c\n2026-07-27,18,25\n2026-07-29,18,25\n", "days must be consecutive"),
    ("date,tmin_c,tmax_c\n27/07/2026,18,25\n", "CSV line 2 column date: '27/07/2026' is not a date")],
    ids=["a word in a number column names the line and column", "a missing column is named",
         "a gap in the days is refused", "a date in another format names the line"])
def test_bad_csv_forecast_errors_say_where(text, message):
    with pytest.raises(ValueError, match=message):
        parse_forecast_csv(text)


def test_json_forecast_and_its_errors():
    fc = parse_forecast_json('{"days": [{"date": "2026-07-27", "tmin_c": 16.5, "tmax_c": 24, "rain_mm": null}]}')
    assert_allclose(fc.tmin_c, [16.5]) and np.isnan(fc.rain_mm[0])
    with pytest.raises(ValueError, match=r"days\[1\].tmax_c: 'hot'"):
        parse_forecast_json('{"days": [{"date": "2026-07-27", "tmin_c": 16, "tmax_c": 24},'
                            ' {"date": "2026-07-28", "tmin_c": 16, "tmax_c": "hot"}]}')
    with pytest.raises(ValueError, match="forecast JSON line 1"):
        parse_forecast_json('{"days": [')


def test_a_stale_forecast_without_today_counts_as_no_forecast():
    fc = parse_forecast_csv("date,tmin_c,tmax_c\n2026-07-20,18,25\n2026-07-21,18,25\n")
    assert forecast_from(np.datetime64("2026-07-27"), fc, 3) is None
    fresh = forecast_from(np.datetime64("2026-07-21"), fc, 3)
    assert fresh is not None and fresh.tmin_c.shape == (3, 1)


def test_missing_parts_are_named_in_order():
    assert WeatherInput().missing() == [WeatherPart.STATION, WeatherPart.FORECAST]
    obs = observed(np.full(3, 25.0), np.full(3, 15.0), None)
    fc = parse_forecast_csv("date,tmin_c,tmax_c\n2026-07-27,18,25\n")
    assert WeatherInput(obs, fc).missing() == [WeatherPart.STATION_RAIN, WeatherPart.HUMIDITY, WeatherPart.RADIATION,
                                               WeatherPart.WIND, WeatherPart.FORECAST_RAIN]


def test_forecast_without_rain_amounts_is_said_in_the_advice():
    fc = parse_forecast_csv("date,tmin_c,tmax_c\n2026-07-11,20,30\n2026-07-12,20,30\n")
    a = advise(fields(["apple"], season_start="2026-04-25"), History(day_range("2026-07-01", 10)),
               WeatherInput(observed(np.full(10, 30.0), np.full(10, 20.0), np.zeros(10)), fc),
               now_unix_s=unix_s("2026-07-11T05:00"))[0]
    assert ReasonCode.NO_FORECAST_RAIN in a.reasons and "降水量がない" in a.message_ja
    assert a.action is not Action.NO_DATA


def test_history_that_does_not_end_before_today_is_refused():
    with pytest.raises(ValueError, match="end before today"):
        advise(fields(["apple"], season_start="2026-04-25"), History(day_range("2026-07-01", 11)),
               WeatherInput(observed(np.full(11, 30.0), np.full(11, 20.0), np.zeros(11)), None),
               now_unix_s=unix_s("2026-07-11T05:00"))


@settings(max_examples=50, deadline=None)
@given(first=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 1)),
       rows=st.lists(st.tuples(st.one_of(st.none(), st.floats(-30, 40)), st.one_of(st.none(), st.floats(-20, 45)),
                               st.one_of(st.none(), st.floats(0, 300))), min_size=1, max_size=10),
       shuffle=st.randoms())
def test_csv_and_json_forecasts_round_trip_whatever_the_row_order(first, rows, shuffle):
    days = [first + timedelta(days=i) for i in range(len(rows))]
    lines = [f"{d.isoformat()},{'' if a is None else repr(a)},{'' if b is None else repr(b)},"
             f"{'' if c is None else repr(c)}" for d, (a, b, c) in zip(days, rows)]
    shuffle.shuffle(lines)
    fc = parse_forecast_csv("date,tmin_c,tmax_c,rain_mm\n" + "\n".join(lines) + "\n")
    doc = {"days": [{"date": d.isoformat(), "tmin_c": a, "tmax_c": b, "rain_mm": c} for d, (a, b, c) in zip(days, rows)]}
    fj = parse_forecast_json(json.dumps(doc))
    want = np.array([[np.nan if v is None else v for v in r] for r in rows], dtype=float)
    for got in (fc, fj):
        assert [str(d) for d in got.days] == [d.isoformat() for d in days]
        assert_allclose(np.stack([got.tmin_c, got.tmax_c, got.rain_mm], axis=1), want, equal_nan=True)


def test_arrays_that_do_not_line_up_are_refused_by_name():
    table = fields(["apple", "apple"], season_start="2026-04-25")
    days = day_range("2026-07-01", 10)
    wx = WeatherInput(observed(np.full(10, 30.0), np.full(10, 20.0), np.zeros(10)), None)
    with pytest.raises(ValueError, match=r"history.vwc_pct has shape \(2, 9\), expected \(2 or 1, 10\)"):
        advise(table, History(days, vwc_pct=np.zeros((2, 9))), wx, now_unix_s=unix_s("2026-07-11T05:00"))
    short = WeatherInput(observed(np.full(9, 30.0), np.full(9, 20.0), np.zeros(9)), None)
    with pytest.raises(ValueError, match=r"weather.observed.tmax_c has shape \(1, 9\)"):
        advise(table, History(days), short, now_unix_s=unix_s("2026-07-11T05:00"))


def test_field_table_from_registry_rows_names_the_field_and_key_it_cannot_use():
    from backend.agronomy.inputs import FieldTable
    rows = [{"field_id": "kanagi-01", "crop": "apple", "area_m2": 1200, "latitude_deg": 40.9, "elevation_m": 30,
             "season_start": "2026-04-25", "soil_texture": "loam", "sensor_trust": 0.8},
            {"field_id": "tate-07", "crop": "rice", "area_m2": 3000, "latitude_deg": 40.8, "elevation_m": 5,
             "season_start": "2026-05-20", "soil_texture": "clay", "heading_date": None, "outlet_height_cm": 18}]
    table = FieldTable.from_records(rows)
    assert table.n == 2 and table.crop.tolist() == ["apple", "rice"]
    assert np.isnat(table.heading_date[1]) and np.isnan(table.sensor_trust[1]) and table.outlet_height_cm[1] == 18
    assert table.theta_fc is None  # a column nobody gave stays absent
    a = advise(table, History(day_range("2026-07-01", 5)),
               WeatherInput(observed(np.full(5, 28.0), np.full(5, 18.0), np.zeros(5)), None),
               now_unix_s=unix_s("2026-07-06T05:00"))
    assert [x.field_id for x in a] == ["kanagi-01", "tate-07"] and a[0].action is not Action.NO_DATA
    with pytest.raises(ValueError, match="field tate-07: missing season_start"):
        FieldTable.from_records([rows[0], {**rows[1], "season_start": None}])
    with pytest.raises(ValueError, match=r"field kanagi-01: area_m2='big' is not a number"):
        FieldTable.from_records([{**rows[0], "area_m2": "big"}])
