"""Japanese national holidays (国民の祝日), computed for 2016-2099.

Source: 国民の祝日に関する法律 (Act on National Holidays, as amended to 2018), including 振替休日
(a holiday on a Sunday moves to the next non-holiday day, art. 3-2) and 国民の休日 (a day between two
holidays is a holiday, art. 3-3); the 2019 enthronement days and the 2020/2021 Olympic moves (special
measures acts). The equinox days are fixed each February by the Cabinet from the National Astronomical
Observatory's ephemeris; here they come from the usual approximation (valid 1980-2099):
    vernal  = floor(20.8431 + 0.242194 (Y - 1980) - floor((Y - 1980) / 4))   (March)
    autumnal = floor(23.2488 + 0.242194 (Y - 1980) - floor((Y - 1980) / 4))  (September)
Contracts often add year-end days (12/29-1/3): configure those in the tariff (extra_holidays).
"""
from __future__ import annotations

import math
from datetime import date, timedelta
from functools import lru_cache


def _nth_monday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7 * (n - 1))


def _equinox_day(year: int, base: float) -> int:
    return math.floor(base + 0.242194 * (year - 1980) - math.floor((year - 1980) / 4))


@lru_cache(maxsize=256)
def japanese_holidays(year: int) -> dict[date, str]:
    """{date: name} of the national holidays of one year (2016-2099)."""
    if not 2016 <= year <= 2099:
        raise ValueError(f"holidays are computed for 2016-2099, not {year}; configure extra_holidays instead")
    h: dict[date, str] = {
        date(year, 1, 1): "元日",
        _nth_monday(year, 1, 2): "成人の日",
        date(year, 2, 11): "建国記念の日",
        date(year, 3, _equinox_day(year, 20.8431)): "春分の日",
        date(year, 4, 29): "昭和の日",
        date(year, 5, 3): "憲法記念日",
        date(year, 5, 4): "みどりの日",
        date(year, 5, 5): "こどもの日",
        _nth_monday(year, 9, 3): "敬老の日",
        date(year, 9, _equinox_day(year, 23.2488)): "秋分の日",
        date(year, 11, 3): "文化の日",
        date(year, 11, 23): "勤労感謝の日",
    }
    if year >= 2020:
        h[date(year, 2, 23)] = "天皇誕生日"
    elif year <= 2018:
        h[date(year, 12, 23)] = "天皇誕生日"
    special = {  # Olympic-year moves of 海の日, 山の日, スポーツの日
        2020: (date(2020, 7, 23), date(2020, 8, 10), date(2020, 7, 24)),
        2021: (date(2021, 7, 22), date(2021, 8, 8), date(2021, 7, 23)),
    }
    sea, mountain, sports = special.get(year, (_nth_monday(year, 7, 3), date(year, 8, 11), _nth_monday(year, 10, 2)))
    h[sea] = "海の日"
    h[mountain] = "山の日"
    h[sports] = "スポーツの日" if year >= 2020 else "体育の日"
    if year == 2019:
        h[date(2019, 5, 1)] = "即位の日"
        h[date(2019, 10, 22)] = "即位礼正殿の儀"
    # 国民の休日: a weekday (not Sunday) between two holidays.
    for d in sorted(h):
        mid = d + timedelta(days=1)
        if mid not in h and (d + timedelta(days=2)) in h and mid.weekday() != 6:
            h[mid] = "国民の休日"
    # 振替休日: a holiday on Sunday moves to the next day that is not a holiday.
    for d in sorted(h):
        if d.weekday() == 6:
            sub = d + timedelta(days=1)
            while sub in h:
                sub += timedelta(days=1)
            h[sub] = "振替休日"
    return dict(sorted(h.items()))


def is_japanese_holiday(day: date) -> bool:
    """Whether the date is a national holiday (or substitute / citizens' holiday)."""
    return day in japanese_holidays(day.year)
