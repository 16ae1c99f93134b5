"""Weather: seeded and reproducible, a cool Tsugaru summer with yamase spells, snow nights, CSV replay."""
from __future__ import annotations

from pathlib import Path

import pytest

from simulators.models.weather import WeatherSeries, summer_series, winter_series

JUNE_1 = 1_780_239_600.0  # 2026-06-01 00:00 JST


def test_same_seed_same_weather_and_another_seed_differs() -> None:
    a, b, c = summer_series(JUNE_1, 30, 7), summer_series(JUNE_1, 30, 7), summer_series(JUNE_1, 30, 8)
    assert a.hours == b.hours
    assert a.hours != c.hours


def test_summer_is_cool_with_colder_yamase_days() -> None:
    w = summer_series(JUNE_1, 92, 11, yamase_per_day=0.08)
    july = [h.air_temp_c for h in w.hours if 30 * 24 <= (h.t_unix_s - JUNE_1) / 3600 < 61 * 24 and not h.yamase]
    assert 17 < sum(july) / len(july) < 25  # Goshogawara July normal about 21 C
    yamase = [h for h in w.hours if h.yamase]
    other = [h for h in w.hours if not h.yamase and 20 * 24 <= (h.t_unix_s - JUNE_1) / 3600]
    assert len(yamase) >= 3 * 24, "a season at 8 %/day should have yamase spells"
    assert sum(h.air_temp_c for h in yamase) / len(yamase) < sum(h.air_temp_c for h in other) / len(other) - 2
    assert sum(h.solar_w_m2 for h in yamase) / len(yamase) < sum(h.solar_w_m2 for h in other) / len(other)
    rain_mm = sum(h.rain_mm for h in w.hours)
    assert 150 < rain_mm < 900
    assert all(h.solar_w_m2 == 0 for h in w.hours if ((h.t_unix_s + 9 * 3600) % 86400) / 3600 in (0, 1, 2, 22, 23))


def test_a_winter_night_snows_what_it_was_told() -> None:
    w = winter_series(JUNE_1, 12, 3, snowfall_total_cm=24.0, snow_start_h=1.0, snow_hours=6.0, base_depth_cm=40.0)
    assert abs(sum(h.snowfall_cm for h in w.hours) - 24.0) < 0.05
    assert all(h.snowfall_cm == 0 for h in w.hours[8:])
    assert w.hours[7].snow_depth_cm > 60 and w.hours[-1].snow_depth_cm < w.hours[7].snow_depth_cm  # settles
    assert all(h.air_temp_c < 2 for h in w.hours)


def test_rain_between_two_times_takes_partial_hours_pro_rata() -> None:
    w = summer_series(JUNE_1, 10, 5)
    total = sum(h.rain_mm for h in w.hours)
    halves = w.rain_mm_between(JUNE_1, JUNE_1 + 5 * 86400 + 1800) + w.rain_mm_between(JUNE_1 + 5 * 86400 + 1800, w.end_unix_s)
    assert abs(halves - total) < 1e-9


def test_csv_round_trip_replays_the_same_weather(tmp_path: Path) -> None:
    w = summer_series(JUNE_1, 3, 2)
    w.to_csv(tmp_path / "w.csv")
    r = WeatherSeries.from_csv(tmp_path / "w.csv")
    assert [(h.t_unix_s, h.air_temp_c, h.rain_mm, h.solar_w_m2) for h in r.hours] == \
        [(h.t_unix_s, h.air_temp_c, h.rain_mm, h.solar_w_m2) for h in w.hours]


@pytest.mark.parametrize("text,needle", [
    ("t_unix_s,air_temp_c\n1780239600,20\n", "header lacks column(s) rh_pct"),
    ("t_unix_s,air_temp_c,rh_pct,rain_mm,wind_m_s,solar_w_m2\n1780239600,20,80,0,2,0\n1780243200,warm,80,0,2,0\n",
     "line 3: column air_temp_c is not a number"),
    ("t_unix_s,air_temp_c,rh_pct,rain_mm,wind_m_s,solar_w_m2\n1780239600,20,80,0,2,0\n1780246800,20,80,0,2,0\n",
     "line 3: t_unix_s 1780246800 is not one hour after"),
], ids=["a missing column is named", "a bad number names line and column", "a gap in time names the line"])
def test_bad_csv_says_where(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(ValueError) as e:
        WeatherSeries.from_csv(p)
    assert needle in str(e.value)
