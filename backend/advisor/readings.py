"""InfluxDB history -> the engine's inputs, with every aggregation computed by InfluxDB.

- soil `vwc_pct`: daily (JST) mean per device, averaged over each field's probes -> History.vwc_pct (n, d)
- weather station: daily (JST) max/min air temperature and humidity, rain total, mean wind and solar
  irradiance per station, averaged over the site's stations -> DailyObserved (1, d)
- water `level_cm`: mean per `level_every` bucket (10 min by default) per field_id over the last
  `level_hours` -> History.level_t_unix_s (m,), level_cm (n, m)

Daily values come from `History.buckets` (the downsampled `<m>_1d` where it exists, the raw tail aggregated
with the same JST day boundaries).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backend.agronomy import et0
from backend.agronomy.inputs import History as EngineHistory
from backend.agronomy.weather import DailyObserved
from yukimizu.jst import JST_OFFSET_MS

from ..history import Agg, History, Series

DAY_MS = 86_400_000
F = NDArray[np.float64]
_DURATION_MS = {"s": 1000, "m": 60_000, "h": 3_600_000}


def day_start_ms(day: np.datetime64) -> int:
    """UTC ms of 00:00 JST on a calendar day."""
    return int(np.asarray(day, dtype="datetime64[D]").astype(np.int64)) * DAY_MS - JST_OFFSET_MS


def _day_columns(s: Series, first_day: np.datetime64, d: int) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    col = (s.times_ms + JST_OFFSET_MS) // DAY_MS - int(np.asarray(first_day, dtype="datetime64[D]").astype(np.int64))
    return col, (col >= 0) & (col < d)


def _by_field(series: list[Series], ids: list[str], name: str, first_day: np.datetime64, d: int) -> F:
    """Daily values (n, d): the mean over each field's devices (one series per field and device)."""
    total = np.zeros((len(ids), d))
    count = np.zeros((len(ids), d))
    row_of = {fid: i for i, fid in enumerate(ids)}
    for s in series:
        i = row_of.get(s.tags.get("field_id", ""))
        if i is None:
            continue
        col, ok = _day_columns(s, first_day, d)
        v = s.values[name]
        ok &= np.isfinite(v)
        np.add.at(total[i], col[ok], v[ok])
        np.add.at(count[i], col[ok], 1.0)
    return np.where(count > 0, total / np.maximum(count, 1.0), np.nan)


@dataclass
class SiteWeather:
    """A site's observed days, or None when its station sent nothing in the window."""

    observed: DailyObserved | None
    stations: int  # weather devices that reported
    first_index: int = 0  # first day (column) with an observed temperature

    def from_index(self, k: int) -> SiteWeather:
        """The days from column k on."""
        o = self.observed
        if o is None:
            return self
        def cut(a: F | None) -> F | None:
            return None if a is None else a[:, k:]

        return SiteWeather(DailyObserved(o.tmax_c[:, k:], o.tmin_c[:, k:], cut(o.rain_mm), cut(o.rh_max_pct),
                                         cut(o.rh_min_pct), cut(o.wind_2m_m_s), cut(o.solar_radiation_mj_m2)),
                           self.stations, 0)


async def daily_weather(history: History, site: str, days: NDArray[np.datetime64], wind_height_m: float) -> SiteWeather:
    """The site's station days (1, d): each statistic per station by InfluxDB, then the mean over stations."""
    d = len(days)
    start_ms, end_ms = day_start_ms(days[0]), day_start_ms(days[-1]) + DAY_MS
    tags = {"site": site}
    highs, lows = await asyncio.gather(
        history.buckets("weather", {"air_temp_c": Agg.MAX, "rh_pct": Agg.MAX, "rain_mm": Agg.SUM,
                                    "wind_m_s": Agg.MEAN, "solar_w_m2": Agg.MEAN},
                        start_ms=start_ms, end_ms=end_ms, interval="1d", tags=tags, group_by=("device_id",)),
        history.buckets("weather", {"air_temp_c": Agg.MIN, "rh_pct": Agg.MIN}, start_ms=start_ms, end_ms=end_ms,
                        interval="1d", tags=tags, group_by=("device_id",)))
    if not any(len(s) for s in highs):
        return SiteWeather(None, 0)

    def per_station(series: list[Series], name: str) -> F:
        grid = np.full((max(len(series), 1), d), np.nan)
        for k, s in enumerate(series):
            col, ok = _day_columns(s, days[0], d)
            grid[k, col[ok]] = s.values[name][ok]
        finite = np.isfinite(grid)
        count = finite.sum(axis=0)
        total = np.where(finite, grid, 0.0).sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)[None, :]

    def optional(a: F) -> F | None:
        return a if np.isfinite(a).any() else None

    wind = per_station(highs, "wind_m_s")
    solar_w_m2 = per_station(highs, "solar_w_m2")
    observed = DailyObserved(
        tmax_c=per_station(highs, "air_temp_c"), tmin_c=per_station(lows, "air_temp_c"),
        rain_mm=optional(per_station(highs, "rain_mm")),
        rh_max_pct=optional(per_station(highs, "rh_pct")), rh_min_pct=optional(per_station(lows, "rh_pct")),
        wind_2m_m_s=optional(et0.wind_speed_2m(wind, wind_height_m)),  # FAO-56 eq. 47
        # mean irradiance over the day, W/m2 x 86400 s = J/m2 per day; / 1e6 -> MJ/m2/day (FAO-56 Rs units)
        solar_radiation_mj_m2=optional(solar_w_m2 * 86400.0 / 1e6))
    seen = np.flatnonzero(np.isfinite(observed.tmax_c[0]) & np.isfinite(observed.tmin_c[0]))
    return SiteWeather(observed, sum(1 for s in highs if len(s)), int(seen[0]) if seen.size else 0)


async def field_history(history: History, site: str, ids: list[str], days: NDArray[np.datetime64], now_ms: int,
                        level_hours: float, level_every: str, whole_site: bool = False) -> EngineHistory:
    """Daily soil moisture and the recent paddy level series of the fields `ids` (rows in that order).

    whole_site: ids are all the site's fields, so the queries filter on the site alone (no long OR of ids).
    """
    d = len(days)
    tags: dict[str, str | list[str]] = {"site": site} if whole_site else {"site": site, "field_id": ids}
    every_ms = int(level_every[:-1]) * _DURATION_MS[level_every[-1]]
    start_ms = now_ms - int(level_hours * 3_600_000)
    soil, water = await asyncio.gather(
        history.buckets("soil", {"vwc_pct": Agg.MEAN}, start_ms=day_start_ms(days[0]),
                        end_ms=day_start_ms(days[-1]) + DAY_MS, interval="1d", tags=tags,
                        group_by=("field_id", "device_id")),  # the daily aggregates are kept per device
        history.aggregate("water", {"level_cm": Agg.MEAN}, start_ms=start_ms, end_ms=now_ms + 1, every=level_every,
                          tags=tags, group_by=("field_id",)))
    vwc = _by_field(soil, ids, "vwc_pct", days[0], d)
    water = [s for s in water if len(s)]
    if not water:
        return EngineHistory(days, vwc_pct=vwc)
    grid_ms = np.unique(np.concatenate([s.times_ms for s in water]))
    level = np.full((len(ids), grid_ms.shape[0]), np.nan)
    row_of = {fid: i for i, fid in enumerate(ids)}
    for s in water:
        i = row_of.get(s.tags.get("field_id", ""))
        if i is not None:
            level[i, np.searchsorted(grid_ms, s.times_ms)] = s.values["level_cm"]
    # A bucket's mean stands for its middle; the newest (still filling) bucket's middle may lie after now.
    t_s = np.minimum(grid_ms + every_ms // 2, now_ms) / 1000.0
    return EngineHistory(days, vwc_pct=vwc, level_t_unix_s=t_s, level_cm=level)
