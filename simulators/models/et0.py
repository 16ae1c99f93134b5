"""Reference evapotranspiration ET0 (mm/day) by Hargreaves, FAO-56 eq. 52, with Ra from eqs. 21-25.

The simulator keeps its own simple ET0 on purpose: the backend computes ET0 with its own
(Penman-Monteith) code, and a simulator that shared it could not catch the backend's mistakes.
Source: Allen, Pereira, Raes, Smith (1998), FAO Irrigation and Drainage Paper 56, chapter 3.
"""
from __future__ import annotations

import math

GSC_MJ_M2_MIN = 0.0820  # solar constant, MJ m-2 min-1 (FAO-56 eq. 21)
MJ_TO_MM = 0.408  # 1 MJ m-2 day-1 of radiation evaporates 0.408 mm of water (FAO-56 eq. 20 factor)


def extraterrestrial_radiation_mj_m2_day(lat_deg: float, day_of_year: int) -> float:
    """Ra, MJ m-2 day-1, extraterrestrial radiation for daily periods - FAO-56 eq. 21."""
    phi_rad = math.radians(lat_deg)  # FAO-56 eq. 22
    dr = 1 + 0.033 * math.cos(2 * math.pi / 365 * day_of_year)  # inverse relative distance Earth-Sun, eq. 23
    delta_rad = 0.409 * math.sin(2 * math.pi / 365 * day_of_year - 1.39)  # solar declination, eq. 24
    ws_rad = math.acos(max(-1.0, min(1.0, -math.tan(phi_rad) * math.tan(delta_rad))))  # sunset hour angle, eq. 25
    return (24 * 60 / math.pi) * GSC_MJ_M2_MIN * dr * (
        ws_rad * math.sin(phi_rad) * math.sin(delta_rad) + math.cos(phi_rad) * math.cos(delta_rad) * math.sin(ws_rad)
    )  # eq. 21


def hargreaves_et0_mm_day(tmax_c: float, tmin_c: float, lat_deg: float, day_of_year: int) -> float:
    """ET0, mm/day, by Hargreaves - FAO-56 eq. 52 (Tmean taken as (Tmax + Tmin) / 2, as eq. 52 states)."""
    tmean_c = (tmax_c + tmin_c) / 2
    ra_mm_day = MJ_TO_MM * extraterrestrial_radiation_mj_m2_day(lat_deg, day_of_year)
    return max(0.0, 0.0023 * (tmean_c + 17.8) * math.sqrt(max(0.0, tmax_c - tmin_c)) * ra_mm_day)  # eq. 52
