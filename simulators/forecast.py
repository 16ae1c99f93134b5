"""The simulated site's weather ahead as a daily forecast feed: the CSV the backend's
`[advice] forecast_feeds` reads (JMA-style Japanese headers).

A demo has no JMA forecast to fetch, and without one the advice cannot look ahead (rain, cold
nights). The simulator knows the weather it is about to play, so the feed is that weather day by
day: a perfect forecast, which a real one never is.
"""
from __future__ import annotations

import datetime as dt

from yukimizu.jst import JST, JST_OFFSET_S

from .world import World

HEADER = "日付,最低気温,最高気温,降水量"


def forecast_csv(world: World, days: int, from_unix_s: float | None = None) -> str:
    """Daily min/max air temperature (C) and rain (mm) for `days` JST days from the day of `from_unix_s`
    (default: the run's first day)."""
    t0 = world.start_unix_s if from_unix_s is None else from_unix_s
    first_day_s = ((t0 + JST_OFFSET_S) // 86400) * 86400 - JST_OFFSET_S
    rows = [HEADER]
    for k in range(days):
        day_s = first_day_s + k * 86400
        if day_s >= world.weather.end_unix_s:
            break  # past the weather the run will play: no forecast rather than a repeated last hour
        d = world.weather.daily(day_s)
        date = dt.datetime.fromtimestamp(day_s, JST).date().isoformat()
        rows.append(f"{date},{d.tmin_c:.1f},{d.tmax_c:.1f},{d.rain_mm:.1f}")
    return "\n".join(rows) + "\n"
