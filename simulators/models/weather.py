"""Weather for the Tsugaru plain: hourly series generated from a seed, or replayed from a CSV.

Two generators:
- `summer_series`: a growing season. Daily mean temperature follows approximate monthly normals for
  Goshogawara (rounded figures, not checked against current JMA normals: configure or replay a CSV for
  real data), with an AR(1) anomaly, wet/dry days from a two-state Markov chain (Richardson 1981 style)
  with gamma-distributed amounts, and cold 'yamase' spells in June-August: cool, cloudy, drizzly days
  with a steady north-east wind, as the Tsugaru plain gets them off the Pacific.
- `winter_series`: nights of the snow season with a snowfall event (cm/h), snow depth that settles,
  for the snowstorm scenario.
Series are hourly; values at an instant are those of the hour it falls in; rain and snowfall are
hourly totals, so a partial hour gets its proportional share.
"""
from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, fields
from pathlib import Path

from yukimizu.jst import JST_OFFSET_S

from .et0 import extraterrestrial_radiation_mj_m2_day

HOUR_S = 3600
LAT_DEG = 40.81  # Goshogawara

# Approximate monthly mean air temperature, deg C, Goshogawara (index 1..12). Rounded, unverified.
MONTHLY_MEAN_C = [None, -1.5, -1.0, 2.0, 8.0, 13.0, 17.0, 21.0, 23.0, 19.0, 12.5, 6.0, 1.0]


@dataclass(frozen=True)
class WeatherSample:
    """Weather during one hour; rain_mm and snowfall_cm are totals over that hour."""

    t_unix_s: float
    air_temp_c: float
    rh_pct: float
    rain_mm: float
    wind_m_s: float
    solar_w_m2: float
    snowfall_cm: float
    snow_depth_cm: float
    yamase: bool = False


@dataclass(frozen=True)
class DailyWeather:
    """Daily aggregates (JST day) for crop water models."""

    day_start_unix_s: float
    tmax_c: float
    tmin_c: float
    rain_mm: float
    day_of_year: int


class WeatherSeries:
    """Hourly weather from `t0_unix_s` (a whole hour); `at(t)` and `rain_mm_between(t0, t1)` read it."""

    def __init__(self, t0_unix_s: float, hours: list[WeatherSample]):
        if not hours:
            raise ValueError("a weather series needs at least one hour")
        self.t0_unix_s = float(t0_unix_s)
        self.hours = hours
        self._daily: dict[float, DailyWeather] = {}
        # Seconds (whole days) from a timestamp to the date whose climate it plays: a June season can be
        # replayed ending today, stamped now but with June's sun and temperatures.
        self.calendar_shift_s = 0.0

    @property
    def end_unix_s(self) -> float:
        """End of the last hour."""
        return self.t0_unix_s + len(self.hours) * HOUR_S

    def index(self, t_unix_s: float) -> int:
        """Hour index for time t, clamped to the series (the first/last hour repeats outside it)."""
        return min(len(self.hours) - 1, max(0, int((t_unix_s - self.t0_unix_s) // HOUR_S)))

    def at(self, t_unix_s: float) -> WeatherSample:
        """The hour that t falls in."""
        return self.hours[self.index(t_unix_s)]

    def _between(self, t0: float, t1: float, attr: str) -> float:
        total = 0.0
        t = t0
        while t < t1:
            i = self.index(t)
            hour_end = self.t0_unix_s + (i + 1) * HOUR_S
            seg_end = min(t1, hour_end) if hour_end > t else t1
            total += getattr(self.hours[i], attr) * (seg_end - t) / HOUR_S
            t = seg_end
        return total

    def rain_mm_between(self, t0_unix_s: float, t1_unix_s: float) -> float:
        """Rain, mm, fallen in [t0, t1), with partial hours pro rata."""
        return self._between(t0_unix_s, t1_unix_s, "rain_mm")

    def daily(self, t_unix_s: float) -> DailyWeather:
        """Aggregates of the JST day containing t (hours outside the series are left out)."""
        local = t_unix_s + JST_OFFSET_S
        day0 = (local // 86400) * 86400 - JST_OFFSET_S
        if day0 in self._daily:
            return self._daily[day0]
        i0, i1 = self.index(day0), self.index(day0 + 86400 - 1)
        hs = self.hours[i0:i1 + 1]
        doy = _day_of_year(day0 + self.calendar_shift_s)
        self._daily[day0] = DailyWeather(day0, max(h.air_temp_c for h in hs), min(h.air_temp_c for h in hs),
                                         sum(h.rain_mm for h in hs), doy)
        return self._daily[day0]

    @classmethod
    def from_csv(cls, path: str | Path) -> "WeatherSeries":
        """Replay hourly weather from CSV with a header: t_unix_s, air_temp_c, rh_pct, rain_mm, wind_m_s, solar_w_m2[, snowfall_cm, snow_depth_cm]."""
        p = Path(path)
        required = ["t_unix_s", "air_temp_c", "rh_pct", "rain_mm", "wind_m_s", "solar_w_m2"]
        hours: list[WeatherSample] = []
        with p.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{p}: header lacks column(s) {', '.join(missing)}")
            for row in reader:
                line = reader.line_num
                vals: dict[str, float] = {}
                for name in required + ["snowfall_cm", "snow_depth_cm"]:
                    raw = row.get(name)
                    if raw in (None, "") and name in ("snowfall_cm", "snow_depth_cm"):
                        vals[name] = 0.0
                        continue
                    try:
                        vals[name] = float(raw)  # type: ignore[arg-type]
                    except (TypeError, ValueError):
                        raise ValueError(f"{p} line {line}: column {name} is not a number: {raw!r}") from None
                if hours and vals["t_unix_s"] != hours[-1].t_unix_s + HOUR_S:
                    raise ValueError(f"{p} line {line}: t_unix_s {vals['t_unix_s']:.0f} is not one hour after the previous row")
                hours.append(WeatherSample(**vals))  # type: ignore[arg-type]
        if not hours:
            raise ValueError(f"{p}: no rows")
        return cls(hours[0].t_unix_s, hours)

    def to_csv(self, path: str | Path) -> None:
        """Write the series in the format `from_csv` reads."""
        names = [f.name for f in fields(WeatherSample) if f.name != "yamase"]
        with Path(path).open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(names)
            for h in self.hours:
                w.writerow([getattr(h, n) for n in names])


def _day_of_year(t_unix_s: float) -> int:
    import datetime as dt

    return dt.datetime.fromtimestamp(t_unix_s + JST_OFFSET_S, dt.timezone.utc).timetuple().tm_yday


def _month_day(t_unix_s: float) -> tuple[int, int]:
    import datetime as dt

    d = dt.datetime.fromtimestamp(t_unix_s + JST_OFFSET_S, dt.timezone.utc)
    return d.month, d.day


def climate_mean_c(t_unix_s: float) -> float:
    """Approximate normal daily mean temperature, deg C, interpolated between mid-month normals."""
    month, day = _month_day(t_unix_s)
    frac = (day - 15) / 30.0
    nxt = month % 12 + 1 if frac >= 0 else (month - 2) % 12 + 1
    return MONTHLY_MEAN_C[month] + (MONTHLY_MEAN_C[nxt] - MONTHLY_MEAN_C[month]) * abs(frac)  # type: ignore[operator]


def _hour_start(t_unix_s: float) -> float:
    return math.floor(t_unix_s / HOUR_S) * HOUR_S


def _diurnal(hour_local: float, tmin_c: float, tmax_c: float) -> float:
    """Air temperature over the day: minimum near 05:00, maximum near 14:00 (cosine between them)."""
    if 5 <= hour_local < 14:
        return tmin_c + (tmax_c - tmin_c) * (1 - math.cos(math.pi * (hour_local - 5) / 9)) / 2
    h = hour_local - 14 if hour_local >= 14 else hour_local + 10
    return tmax_c - (tmax_c - tmin_c) * (1 - math.cos(math.pi * h / 15)) / 2


def _solar_profile_w_m2(hour_local: float, daily_mj_m2: float, daylength_h: float) -> float:
    """Half-sine of global radiation between sunrise and sunset holding the day's total (MJ m-2)."""
    rise = 12 - daylength_h / 2
    x = (hour_local + 0.5 - rise) / daylength_h
    if not 0 < x < 1:
        return 0.0
    peak_w_m2 = daily_mj_m2 * 1e6 * math.pi / (2 * daylength_h * 3600)  # integral of half-sine = 2/pi peak N
    return peak_w_m2 * math.sin(math.pi * x)


def summer_series(start_unix_s: float, days: int, seed: int, *, yamase_per_day: float = 0.04,
                  calendar_shift_s: float = 0.0) -> WeatherSeries:
    """An hourly growing-season series of `days` days from a seed (same seed, same weather).

    calendar_shift_s (whole days) plays the climate of another date: timestamps stay as given.
    """
    if calendar_shift_s % 86400:
        raise ValueError(f"calendar_shift_s must be whole days, got {calendar_shift_s}")
    rng = random.Random(f"summer:{seed}")
    t0 = _hour_start(start_unix_s)
    hours: list[WeatherSample] = []
    anomaly_c = 0.0
    wet = False
    yamase_left = 0
    n_days = days + 1
    for d in range(n_days):
        day_t = t0 + d * 86400
        cal_t = day_t + calendar_shift_s
        month, _ = _month_day(cal_t)
        if yamase_left == 0 and month in (6, 7, 8) and rng.random() < yamase_per_day:
            yamase_left = rng.randint(3, 8)
        yamase = yamase_left > 0
        yamase_left = max(0, yamase_left - 1)
        anomaly_c = 0.7 * anomaly_c + rng.gauss(0, 1.2)  # AR(1) day-to-day persistence
        mean_c = climate_mean_c(cal_t) + anomaly_c - (rng.uniform(4.0, 6.0) if yamase else 0.0)
        # Two-state Markov chain of wet days; P(wet | wet) > P(wet | dry) gives rainy spells.
        wet = rng.random() < (0.55 if wet else 0.30) or (yamase and rng.random() < 0.6)
        rain_day_mm = rng.gammavariate(0.75, 14.0) if wet else 0.0
        if yamase and wet:
            rain_day_mm = min(rain_day_mm, rng.uniform(0.5, 4.0))  # yamase brings drizzle, not downpours
        cloud = 0.35 if yamase else (0.55 if wet else rng.uniform(0.7, 1.0))
        range_c = (3.5 if yamase else 6.0 if wet else 9.0) + rng.uniform(-1, 1)
        tmax_c, tmin_c = mean_c + range_c / 2, mean_c - range_c / 2
        doy = _day_of_year(cal_t)
        ra = extraterrestrial_radiation_mj_m2_day(LAT_DEG, doy)
        rs_mj = 0.75 * ra * cloud  # Rso = 0.75 Ra (FAO-56 eq. 37) scaled by cloudiness
        delta = 0.409 * math.sin(2 * math.pi / 365 * doy - 1.39)
        daylength_h = 24 / math.pi * math.acos(-math.tan(math.radians(LAT_DEG)) * math.tan(delta))  # FAO-56 eq. 34
        rain_start = rng.randint(0, 23)
        rain_len = rng.randint(3, 12)
        wind_base = rng.uniform(5.0, 8.0) if yamase else rng.lognormvariate(math.log(2.5), 0.35)
        for h in range(24):
            t = day_t + h * HOUR_S
            hour_local = ((t + JST_OFFSET_S) % 86400) / 3600
            temp_c = _diurnal(hour_local, tmin_c, tmax_c) + rng.gauss(0, 0.3)
            in_rain = wet and (rain_start <= h < rain_start + rain_len or h < rain_start + rain_len - 24)
            rain_mm = rain_day_mm / rain_len if in_rain else 0.0
            rh = 95.0 if in_rain else min(98.0, 60 + 25 * (tmax_c - temp_c) / max(range_c, 1) + (15 if yamase else 0))
            hours.append(WeatherSample(
                t_unix_s=t, air_temp_c=round(temp_c, 2), rh_pct=round(rh, 1), rain_mm=round(rain_mm, 3),
                wind_m_s=round(max(0.0, wind_base + rng.gauss(0, 0.6)), 2),
                solar_w_m2=round(_solar_profile_w_m2(hour_local, rs_mj, daylength_h), 1),
                snowfall_cm=0.0, snow_depth_cm=0.0, yamase=yamase))
    series = WeatherSeries(t0, hours[: days * 24])
    series.calendar_shift_s = calendar_shift_s
    return series


def winter_series(start_unix_s: float, hours_n: int, seed: int, *, snowfall_total_cm: float = 20.0,
                  snow_start_h: float = 1.0, snow_hours: float = 8.0, base_depth_cm: float = 40.0) -> WeatherSeries:
    """An hourly winter series with one snowfall event of `snowfall_total_cm` spread over `snow_hours`.

    Intensity rises and falls (a sine bump) with seeded gusts of heavier snow; new snow settles by
    about 1 %/h of the new layer (a rough figure for fresh snow compaction, not from a model).
    """
    rng = random.Random(f"winter:{seed}")
    t0 = _hour_start(start_unix_s)
    weights = []
    for h in range(hours_n):
        x = (h + 0.5 - snow_start_h) / snow_hours
        weights.append(max(0.0, math.sin(math.pi * x)) * rng.uniform(0.6, 1.4) if 0 < x < 1 else 0.0)
    total_w = sum(weights) or 1.0
    depth_cm = base_depth_cm
    new_cm = 0.0
    base_c = rng.uniform(-5.0, -2.0)
    hours: list[WeatherSample] = []
    for h in range(hours_n):
        t = t0 + h * HOUR_S
        snowfall_cm = snowfall_total_cm * weights[h] / total_w
        settle_cm = 0.01 * new_cm
        new_cm += snowfall_cm - settle_cm
        depth_cm += snowfall_cm - settle_cm
        hour_local = ((t + JST_OFFSET_S) % 86400) / 3600
        temp_c = base_c + _diurnal(hour_local, -1.5, 1.5) + rng.gauss(0, 0.3)
        hours.append(WeatherSample(
            t_unix_s=t, air_temp_c=round(temp_c, 2), rh_pct=round(90 if snowfall_cm > 0 else 80 + rng.uniform(-5, 5), 1),
            rain_mm=0.0, wind_m_s=round(max(0.0, rng.uniform(3, 9) if snowfall_cm > 0 else rng.uniform(1, 4)), 2),
            solar_w_m2=0.0 if not 7 <= hour_local < 16 else round(rng.uniform(20, 120), 1),
            snowfall_cm=round(snowfall_cm, 3), snow_depth_cm=round(depth_cm, 2)))
    return WeatherSeries(t0, hours)
