"""Weather input for advice: observed days from station readings, and a daily forecast feed (CSV or JSON).

Everything is optional; `WeatherInput.missing()` names what is absent so the advice can say what it did
instead (no forecast: the sensor trend and no rain; no humidity: ea from Tmin; ...).

Forecast feed (JMA-style daily values, as a site configures it), one row per day in JST:
    CSV:  date,tmin_c,tmax_c,rain_mm         (Japanese headers 日付,最低気温,最高気温,降水量 also accepted)
    JSON: {"days": [{"date": "2026-08-01", "tmin_c": 16.0, "tmax_c": 24.5, "rain_mm": 3.0}, ...]}
An empty cell or null is "not forecast" (NaN); rain that is not forecast counts as none in the water balance,
and the advice says so.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from yukimizu.jst import JST_OFFSET_S

F = NDArray[np.float64]


class WeatherPart(str, Enum):
    """A part of the weather input that can be missing."""

    STATION = "station"  # observed daily temperatures (and rain) from the site's weather station
    STATION_RAIN = "station_rain"
    HUMIDITY = "humidity"
    RADIATION = "radiation"
    WIND = "wind"
    FORECAST = "forecast"
    FORECAST_RAIN = "forecast_rain"


@dataclass(frozen=True)
class DailyObserved:
    """Observed daily weather, arrays (n, d) or (1, d) broadcast over fields; the last column is yesterday."""

    tmax_c: F
    tmin_c: F
    rain_mm: F | None = None
    rh_max_pct: F | None = None
    rh_min_pct: F | None = None
    wind_2m_m_s: F | None = None
    solar_radiation_mj_m2: F | None = None


@dataclass(frozen=True)
class Forecast:
    """Daily forecast from today on: days (f,) and arrays (f,) or (n, f)."""

    days: NDArray[np.datetime64]
    tmin_c: F
    tmax_c: F
    rain_mm: F


@dataclass(frozen=True)
class WeatherInput:
    """What the advice gets about the weather; either part may be None."""

    observed: DailyObserved | None = None
    forecast: Forecast | None = None

    def missing(self) -> list[WeatherPart]:
        """The parts that are absent (or all NaN), in a stable order."""
        out: list[WeatherPart] = []
        o = self.observed

        def absent(a: F | None) -> bool:
            if a is None:
                return True
            arr = np.asarray(a, float)
            # the first value nearly always settles it; scan everything only when it is missing
            return not (arr.size and np.isfinite(arr.flat[0])) and not np.isfinite(arr).any()

        if o is None or absent(o.tmax_c) or absent(o.tmin_c):
            out.append(WeatherPart.STATION)
        else:
            if absent(o.rain_mm):
                out.append(WeatherPart.STATION_RAIN)
            if absent(o.rh_max_pct):  # RHmax alone is enough (FAO-56 eq. 18)
                out.append(WeatherPart.HUMIDITY)
            if absent(o.solar_radiation_mj_m2):
                out.append(WeatherPart.RADIATION)
            if absent(o.wind_2m_m_s):
                out.append(WeatherPart.WIND)
        f = self.forecast
        if f is None or len(f.days) == 0:
            out.append(WeatherPart.FORECAST)
        elif absent(f.rain_mm):
            out.append(WeatherPart.FORECAST_RAIN)
        return out


def jst_day(t_unix_s: ArrayLike) -> NDArray[np.datetime64]:
    """Calendar day in JST of each UTC timestamp (readings are stored in UTC, days are farmers' days)."""
    return ((np.asarray(t_unix_s, dtype=np.int64) + JST_OFFSET_S) // 86400).astype("datetime64[D]")


def daily_from_readings(t_unix_s: ArrayLike, values: ArrayLike, days: ArrayLike, how: str) -> F:
    """Aggregate readings (n, m) at times (m,) or (n, m) into JST days (d,): 'min', 'max', 'sum' or 'mean'.

    Days with no finite reading are NaN. Vectorised: one scatter per statistic, no loop over fields or days.
    """
    vals = np.asarray(values, float)
    if vals.ndim == 1:
        vals = vals[None, :]
    n, m = vals.shape
    day_axis = np.asarray(days, dtype="datetime64[D]")
    d = day_axis.shape[0]
    t = np.broadcast_to(np.asarray(t_unix_s), (n, m))
    col = (jst_day(t) - day_axis[0]).astype(np.int64)
    ok = np.isfinite(vals) & (col >= 0) & (col < d)
    flat = (np.arange(n)[:, None] * d + col)[ok]
    v = vals[ok]
    count = np.bincount(flat, minlength=n * d).reshape(n, d)
    if how in ("sum", "mean"):
        total = np.bincount(flat, weights=v, minlength=n * d).reshape(n, d)
        out = total if how == "sum" else total / np.maximum(count, 1)
    elif how in ("min", "max"):
        init = np.inf if how == "min" else -np.inf
        out = np.full(n * d, init)
        (np.minimum if how == "min" else np.maximum).at(out, flat, v)
        out = out.reshape(n, d)
    else:
        raise ValueError(f"daily_from_readings: how={how!r}, expected one of min, max, sum, mean")
    return np.where(count > 0, out, np.nan)


_CSV_ALIASES = {"date": "date", "日付": "date", "tmin_c": "tmin_c", "最低気温": "tmin_c", "tmax_c": "tmax_c",
                "最高気温": "tmax_c", "rain_mm": "rain_mm", "降水量": "rain_mm"}


def _num(cell: object, where: str) -> float:
    if cell is None or (isinstance(cell, str) and cell.strip() == ""):
        return float("nan")
    try:
        return float(cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"forecast {where}: {cell!r} is not a number") from None


def _date(cell: object, where: str) -> np.datetime64:
    try:
        return np.datetime64(str(cell).strip()[:10], "D")
    except ValueError:
        raise ValueError(f"forecast {where}: {cell!r} is not a date (YYYY-MM-DD)") from None


def _forecast(rows: list[tuple[np.datetime64, float, float, float]], source: str) -> Forecast:
    if not rows:
        raise ValueError(f"forecast {source}: no days")
    rows.sort(key=lambda r: r[0])
    days = np.array([r[0] for r in rows], dtype="datetime64[D]")
    if np.any(np.diff(days) != np.timedelta64(1, "D")):
        raise ValueError(f"forecast {source}: days must be consecutive without repeats, got {[str(x) for x in days]}")
    arr = np.array([r[1:] for r in rows], dtype=float)
    return Forecast(days, arr[:, 0], arr[:, 1], arr[:, 2])


def parse_forecast_csv(text: str) -> Forecast:
    """Forecast from CSV text (see module docstring); errors name the line and the column."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise ValueError("forecast CSV: empty")
    cols = {_CSV_ALIASES.get(h.strip()): i for i, h in enumerate(header) if _CSV_ALIASES.get(h.strip())}
    for need in ("date", "tmin_c", "tmax_c"):
        if need not in cols:
            raise ValueError(f"forecast CSV line 1: no {need!r} column in header {header}")
    rows = []
    for line_no, rec in enumerate(reader, start=2):
        if not rec or all(c.strip() == "" for c in rec):
            continue

        def cell(name: str) -> str:
            i = cols.get(name)
            return rec[i] if i is not None and i < len(rec) else ""

        rows.append((_date(cell("date"), f"CSV line {line_no} column date"),
                     _num(cell("tmin_c"), f"CSV line {line_no} column tmin_c"),
                     _num(cell("tmax_c"), f"CSV line {line_no} column tmax_c"),
                     _num(cell("rain_mm"), f"CSV line {line_no} column rain_mm")))
    return _forecast(rows, "CSV")


def parse_forecast_json(text: str) -> Forecast:
    """Forecast from JSON text {"days": [{date, tmin_c, tmax_c, rain_mm}, ...]}; errors name the day index."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"forecast JSON line {exc.lineno}: {exc.msg}") from None
    days = doc.get("days") if isinstance(doc, dict) else None
    if not isinstance(days, list):
        raise ValueError('forecast JSON: expected an object with a "days" list')
    rows = []
    for i, day in enumerate(days):
        if not isinstance(day, dict) or "date" not in day:
            raise ValueError(f"forecast JSON days[{i}]: expected an object with a date")
        rows.append((_date(day["date"], f"JSON days[{i}].date"), _num(day.get("tmin_c"), f"JSON days[{i}].tmin_c"),
                     _num(day.get("tmax_c"), f"JSON days[{i}].tmax_c"),
                     _num(day.get("rain_mm"), f"JSON days[{i}].rain_mm")))
    return _forecast(rows, "JSON")


def forecast_from(today: np.datetime64, forecast: Forecast | None, n: int) -> Forecast | None:
    """The forecast from today on, broadcast to (n, f); None when it has no day from today."""
    if forecast is None:
        return None
    today_d = np.asarray(today).astype("datetime64[D]")
    keep = forecast.days >= today_d
    if not keep.any() or forecast.days[keep][0] != today_d:
        return None  # a stale feed (nothing for today) is no forecast
    f = int(keep.sum())

    def cut(a: F) -> F:
        arr = np.asarray(a, float)
        return np.broadcast_to(arr[..., keep], (n, f))

    return Forecast(forecast.days[keep], cut(forecast.tmin_c), cut(forecast.tmax_c), cut(forecast.rain_mm))
