"""Constructed advice scenarios written to InfluxDB the way devices and the gateway do it:
JSON telemetry payload -> yukimizu.contract.decode -> reading_line -> /write."""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from yukimizu.contract import decode, reading_line, topic
from yukimizu.influx import InfluxV1

JST = timezone(timedelta(hours=9))
CHUNK = 1000  # the contract's limit of readings per message


def jst_s(text: str) -> float:
    """UTC seconds of a JST wall-clock time like '2026-07-27T05:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=JST).timestamp()


def publish(influx: InfluxV1, site: str, kind: str, device_id: str, rows: Sequence[tuple[float, Mapping[str, float]]],
            field_id: str | None = None) -> None:
    """Send readings (t_unix_s, values) through the wire contract into InfluxDB, as the gateway does."""
    tags = {"field_id": field_id} if field_id else None
    lines: list[str] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        payload = json.dumps({"v": 1, "readings": [{"seq": start + i, "t": t, **v} for i, (t, v) in enumerate(chunk)]})
        decoded = decode(topic(site, kind, device_id), payload.encode())
        assert not decoded.rejections, decoded.rejections
        lines += [reading_line(r, tags) for r in decoded.readings]
    influx.write(lines)


def station_hours(first: date, days: int, tmax_c: Callable[[int], float], tmin_c: Callable[[int], float],
                  rain_mm: Callable[[int], float] = lambda k: 0.0) -> list[tuple[float, dict[str, float]]]:
    """Hourly weather station readings for `days` JST days from `first`.

    Air temperature follows a sine with its minimum at 02:00 and its maximum at 14:00 (so the day's hourly
    extremes are tmin_c(k) and tmax_c(k)); humidity 90 % at the minimum, 50 % at the maximum; wind 2 m/s; solar
    irradiance a half sine from 05:00 to 19:00 peaking at 800 W/m2; the day's rain falls at 15:00.
    """
    out = []
    for k in range(days):
        day = first + timedelta(days=k)
        hi, lo = tmax_c(k), tmin_c(k)
        for h in range(24):
            t = datetime(day.year, day.month, day.day, h, tzinfo=JST).timestamp()
            x = -math.cos(2 * math.pi * (h - 2) / 24)  # -1 at 02:00, +1 at 14:00
            air = (hi + lo) / 2 + (hi - lo) / 2 * x
            sun = max(0.0, math.sin(math.pi * (h - 5) / 14)) if 5 <= h <= 19 else 0.0
            values = {"air_temp_c": round(air, 2), "rh_pct": round(70 - 20 * x, 1), "wind_m_s": 2.0,
                      "solar_w_m2": round(800 * sun, 1)}
            values["rain_mm"] = float(rain_mm(k)) if h == 15 else 0.0
            out.append((t, values))
    return out


def write_forecast(path: Path, first: date, tmin_c: Sequence[float], tmax_c: Sequence[float],
                   rain_mm: Sequence[float] | None = None) -> None:
    """A JMA-style daily forecast CSV (Japanese headers, as a feed fetched from JMA would have them)."""
    rain = rain_mm if rain_mm is not None else [0.0] * len(tmin_c)
    rows = ["日付,最低気温,最高気温,降水量"]
    rows += [f"{first + timedelta(days=i)},{lo},{hi},{r}" for i, (lo, hi, r) in enumerate(zip(tmin_c, tmax_c, rain))]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
