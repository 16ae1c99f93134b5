"""Builders for constructed agronomy scenarios (fields, weather series, paddy level series)."""
from __future__ import annotations

import numpy as np

from backend.agronomy.advice import FieldTable, History
from backend.agronomy.weather import DailyObserved, Forecast

JST = np.timedelta64(9, "h")
GOSHOGAWARA_LAT_DEG = 40.81
GOSHOGAWARA_ELEV_M = 10.0


def unix_s(jst_datetime: str) -> float:
    """UTC seconds of a JST wall-clock time like '2026-07-31T06:00'."""
    t = np.datetime64(jst_datetime, "s") - JST
    return float(t.astype("datetime64[s]").astype(np.int64))


def day_range(first: str, count: int) -> np.ndarray:
    """Consecutive days from first."""
    return np.datetime64(first, "D") + np.arange(count).astype("timedelta64[D]")


def fields(crops: list[str], *, season_start: list[str] | str, area_m2: float = 1000.0, texture: str = "loam",
           **columns: object) -> FieldTable:
    """A FieldTable at Goshogawara for the given crops; extra columns by keyword (arrays of len n)."""
    n = len(crops)
    starts = [season_start] * n if isinstance(season_start, str) else season_start
    return FieldTable(field_id=np.array([f"f{i:05d}" for i in range(n)]), crop=np.array(crops),
                      area_m2=np.full(n, area_m2), latitude_deg=np.full(n, GOSHOGAWARA_LAT_DEG),
                      elevation_m=np.full(n, GOSHOGAWARA_ELEV_M), season_start=np.array(starts, dtype="datetime64[D]"),
                      soil_texture=np.array([texture] * n), **columns)  # type: ignore[arg-type]


def observed(tmax_c: np.ndarray, tmin_c: np.ndarray, rain_mm: np.ndarray | None = None) -> DailyObserved:
    """Station days shared by all fields (first axis 1)."""
    tmax = np.atleast_2d(np.asarray(tmax_c, float))
    tmin = np.atleast_2d(np.asarray(tmin_c, float))
    rain = None if rain_mm is None else np.atleast_2d(np.asarray(rain_mm, float))
    return DailyObserved(tmax_c=tmax, tmin_c=tmin, rain_mm=rain)


def forecast(first_day: str, tmin_c: list[float], tmax_c: list[float], rain_mm: list[float] | None = None) -> Forecast:
    """A daily forecast from first_day."""
    f = len(tmin_c)
    rain = np.zeros(f) if rain_mm is None else np.asarray(rain_mm, float)
    return Forecast(day_range(first_day, f), np.asarray(tmin_c, float), np.asarray(tmax_c, float), rain)


def level_series(now_jst: str, hours: float, step_min: float, level_at) -> tuple[np.ndarray, np.ndarray]:
    """Times (UTC s) of a level series ending at now, and level_at(hours_before_now) evaluated on them."""
    end = unix_s(now_jst)
    count = int(hours * 60 / step_min) + 1
    t = end - np.arange(count)[::-1] * step_min * 60.0
    return t, np.asarray(level_at((end - t) / 3600.0), float)


def empty_history(days: np.ndarray, n: int) -> History:
    """History with days only."""
    return History(days, vwc_pct=np.full((n, len(days)), np.nan))
