"""The simulated weather ahead, as the daily forecast feed the backend reads."""
from __future__ import annotations

import datetime as dt

import numpy as np

from backend.agronomy.weather import parse_forecast_csv
from simulators.forecast import forecast_csv
from yukimizu.jst import JST

from simhelpers import short_world


def test_the_feed_is_the_weather_the_run_will_play_day_by_day_from_its_first_jst_day() -> None:
    w = short_world("paddy-season", duration_s=10 * 86400)
    fc = parse_forecast_csv(forecast_csv(w, 7))  # the backend's own reader
    first = dt.datetime.fromtimestamp(w.start_unix_s, JST).date()
    assert [str(d) for d in fc.days] == [(first + dt.timedelta(days=k)).isoformat() for k in range(7)]
    for k in range(1, 7):  # whole days (the first is partly before the run)
        day = w.weather.daily(w.start_unix_s + k * 86400)
        assert np.isclose(fc.tmin_c[k], day.tmin_c, atol=0.05) and np.isclose(fc.tmax_c[k], day.tmax_c, atol=0.05)
        assert np.isclose(fc.rain_mm[k], day.rain_mm, atol=0.05)
    assert len(set(np.round(fc.tmin_c, 1))) > 1  # the days differ: June weather, not one repeated day


def test_the_feed_stops_where_the_simulated_weather_stops() -> None:
    w = short_world("paddy-season", duration_s=3 * 86400)
    fc = parse_forecast_csv(forecast_csv(w, 30))
    assert 3 <= len(fc.days) <= 6  # the run's days (and the series' spare day or two), not 30 copies of its last hour
