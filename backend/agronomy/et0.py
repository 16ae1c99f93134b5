"""Reference evapotranspiration ET0, FAO-56 (Allen, Pereira, Raes & Smith 1998, FAO Irrigation and Drainage Paper 56).

Every function takes numpy arrays (or scalars) of any broadcastable shapes and returns arrays of the
broadcast shape, so one call covers many fields and many days. Equation numbers are those of FAO-56.

Longitudes are east-positive everywhere in yukimizu (Goshogawara is about +140.4). FAO-56 writes its
hourly solar-time correction (eq. 31) with longitudes in degrees *west* of Greenwich; we convert, see
`solar_time_angle_mid_rad`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

F = NDArray[np.float64]

SOLAR_CONSTANT_MJ_M2_MIN = 0.0820  # Gsc - FAO-56 eq. 21
STEFAN_BOLTZMANN_MJ_K4_M2_DAY = 4.903e-9  # sigma - FAO-56 eq. 39
STEFAN_BOLTZMANN_MJ_K4_M2_HOUR = 2.043e-10  # sigma per hour - FAO-56 eq. 53 notes / Example 19
ALBEDO_GRASS = 0.23  # FAO-56 eq. 38
ANGSTROM_AS = 0.25  # FAO-56 eq. 35, when not calibrated
ANGSTROM_BS = 0.50
KRS_INTERIOR = 0.16  # FAO-56 eq. 50: interior locations
KRS_COASTAL = 0.19  # FAO-56 eq. 50: coastal locations
DEFAULT_WIND_2M_M_S = 2.0  # FAO-56 ch. 3 "missing wind speed data": 2 m/s as a temporary estimate
MJ_M2_TO_MM = 0.408  # 1 / lambda, lambda = 2.45 MJ/kg - FAO-56 eq. 20
# Rs/Rso bounds for the cloudiness factor: FAO-56 eq. 39 caps it at 1.0; ASCE-EWRI (2005) floors it at 0.3
# (total cloud), which keeps Rnl positive on very dull days.
RS_RSO_MIN = 0.3
RS_RSO_MAX = 1.0


def _f(x: ArrayLike) -> F:
    return np.asarray(x, dtype=np.float64)


def atmospheric_pressure_kpa(elevation_m: ArrayLike) -> F:
    """Atmospheric pressure, kPa, from elevation - FAO-56 eq. 7."""
    return 101.3 * ((293.0 - 0.0065 * _f(elevation_m)) / 293.0) ** 5.26  # FAO-56 eq. 7


def psychrometric_constant_kpa_c(pressure_kpa: ArrayLike) -> F:
    """Psychrometric constant gamma, kPa/degC - FAO-56 eq. 8."""
    return 0.665e-3 * _f(pressure_kpa)  # FAO-56 eq. 8


def saturation_vapour_pressure_kpa(temp_c: ArrayLike) -> F:
    """Saturation vapour pressure e°(T), kPa - FAO-56 eq. 11."""
    t = _f(temp_c)
    return 0.6108 * np.exp(17.27 * t / (t + 237.3))  # FAO-56 eq. 11


def slope_vapour_pressure_kpa_c(temp_c: ArrayLike) -> F:
    """Slope of the saturation vapour pressure curve Delta, kPa/degC - FAO-56 eq. 13."""
    t = _f(temp_c)
    return 4098.0 * saturation_vapour_pressure_kpa(t) / (t + 237.3) ** 2  # FAO-56 eq. 13


def actual_vapour_pressure_from_rh_kpa(tmax_c: ArrayLike, tmin_c: ArrayLike, rh_max_pct: ArrayLike,
                                       rh_min_pct: ArrayLike) -> F:
    """Actual vapour pressure ea, kPa, from RHmax and RHmin - FAO-56 eq. 17."""
    return (saturation_vapour_pressure_kpa(tmin_c) * _f(rh_max_pct) / 100.0
            + saturation_vapour_pressure_kpa(tmax_c) * _f(rh_min_pct) / 100.0) / 2.0  # FAO-56 eq. 17


def wind_speed_2m(wind_m_s: ArrayLike, height_m: ArrayLike) -> F:
    """Wind speed at 2 m, m/s, from a reading at height_m above ground - FAO-56 eq. 47."""
    return _f(wind_m_s) * 4.87 / np.log(67.8 * _f(height_m) - 5.42)  # FAO-56 eq. 47


def inverse_relative_distance(day_of_year: ArrayLike) -> F:
    """Inverse relative Earth-Sun distance dr, dimensionless - FAO-56 eq. 23."""
    return 1.0 + 0.033 * np.cos(2.0 * np.pi * _f(day_of_year) / 365.0)  # FAO-56 eq. 23


def solar_declination_rad(day_of_year: ArrayLike) -> F:
    """Solar declination delta, rad - FAO-56 eq. 24."""
    return 0.409 * np.sin(2.0 * np.pi * _f(day_of_year) / 365.0 - 1.39)  # FAO-56 eq. 24


def sunset_hour_angle_rad(latitude_deg: ArrayLike, day_of_year: ArrayLike) -> F:
    """Sunset hour angle omega_s, rad - FAO-56 eq. 25 (clipped so polar day/night stay defined)."""
    phi = np.deg2rad(_f(latitude_deg))
    x = -np.tan(phi) * np.tan(solar_declination_rad(day_of_year))
    return np.arccos(np.clip(x, -1.0, 1.0))  # FAO-56 eq. 25


def _ra_and_sunset(latitude_deg: ArrayLike, day_of_year: ArrayLike) -> tuple[F, F]:
    """Ra (MJ/m2/day) and omega_s (rad) together: the latitude terms are per field, the sun terms per day,
    so only arccos and sin run on the full fields x days grid."""
    phi = np.deg2rad(_f(latitude_deg))
    dr = inverse_relative_distance(day_of_year)  # FAO-56 eq. 23
    delta = solar_declination_rad(day_of_year)  # FAO-56 eq. 24
    ws = np.arccos(np.clip(-np.tan(phi) * np.tan(delta), -1.0, 1.0))  # FAO-56 eq. 25
    ra = (24.0 * 60.0 / np.pi * SOLAR_CONSTANT_MJ_M2_MIN * dr
          * (ws * (np.sin(phi) * np.sin(delta)) + (np.cos(phi) * np.cos(delta)) * np.sin(ws)))  # FAO-56 eq. 21
    return ra, ws


def extraterrestrial_radiation_daily_mj_m2(latitude_deg: ArrayLike, day_of_year: ArrayLike) -> F:
    """Extraterrestrial radiation Ra, MJ/m2/day - FAO-56 eq. 21."""
    return _ra_and_sunset(latitude_deg, day_of_year)[0]


def daylight_hours(latitude_deg: ArrayLike, day_of_year: ArrayLike) -> F:
    """Daylight hours N, h - FAO-56 eq. 34."""
    return 24.0 / np.pi * sunset_hour_angle_rad(latitude_deg, day_of_year)  # FAO-56 eq. 34


def solar_radiation_from_sunshine_mj_m2(sunshine_h: ArrayLike, latitude_deg: ArrayLike, day_of_year: ArrayLike) -> F:
    """Solar radiation Rs, MJ/m2/day, from sunshine duration n (Angstrom) - FAO-56 eq. 35."""
    ra = extraterrestrial_radiation_daily_mj_m2(latitude_deg, day_of_year)
    n_max = daylight_hours(latitude_deg, day_of_year)  # FAO-56 eq. 34
    return (ANGSTROM_AS + ANGSTROM_BS * _f(sunshine_h) / n_max) * ra  # FAO-56 eq. 35


def solar_radiation_from_temperature_mj_m2(tmax_c: ArrayLike, tmin_c: ArrayLike, latitude_deg: ArrayLike,
                                           day_of_year: ArrayLike, krs: ArrayLike = KRS_INTERIOR) -> F:
    """Solar radiation Rs, MJ/m2/day, from the temperature range (Hargreaves) - FAO-56 eq. 50."""
    ra = extraterrestrial_radiation_daily_mj_m2(latitude_deg, day_of_year)
    trange = np.maximum(_f(tmax_c) - _f(tmin_c), 0.0)
    return _f(krs) * np.sqrt(trange) * ra  # FAO-56 eq. 50


def clear_sky_radiation_mj_m2(extraterrestrial_mj_m2: ArrayLike, elevation_m: ArrayLike) -> F:
    """Clear-sky solar radiation Rso (per the period of Ra) - FAO-56 eq. 37."""
    return (0.75 + 2e-5 * _f(elevation_m)) * _f(extraterrestrial_mj_m2)  # FAO-56 eq. 37


def _cloudiness_factor(rs: F, rso: F) -> F:
    """1.35 Rs/Rso - 0.35 with Rs/Rso bounded to [0.3, 1.0] - FAO-56 eq. 39."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.clip(rs / rso, RS_RSO_MIN, RS_RSO_MAX)
    return 1.35 * ratio - 0.35  # FAO-56 eq. 39


def net_longwave_radiation_daily_mj_m2(tmax_c: ArrayLike, tmin_c: ArrayLike, actual_vapour_pressure_kpa: ArrayLike,
                                       solar_radiation_mj_m2: ArrayLike, clear_sky_mj_m2: ArrayLike) -> F:
    """Net outgoing longwave radiation Rnl, MJ/m2/day - FAO-56 eq. 39."""
    tmax_k2 = np.square(_f(tmax_c) + 273.16)
    tmin_k2 = np.square(_f(tmin_c) + 273.16)
    tk4 = (np.square(tmax_k2) + np.square(tmin_k2)) / 2.0
    emissivity = 0.34 - 0.14 * np.sqrt(_f(actual_vapour_pressure_kpa))
    return (STEFAN_BOLTZMANN_MJ_K4_M2_DAY * tk4 * emissivity
            * _cloudiness_factor(_f(solar_radiation_mj_m2), _f(clear_sky_mj_m2)))  # FAO-56 eq. 39


@dataclass(frozen=True)
class DailyTerms:
    """Every intermediate of the daily FAO-56 Penman-Monteith calculation (arrays, units in names)."""

    tmean_c: F
    pressure_kpa: F
    gamma_kpa_c: F
    delta_kpa_c: F
    es_kpa: F
    ea_kpa: F
    ra_mj_m2: F
    rs_mj_m2: F
    rso_mj_m2: F
    rns_mj_m2: F
    rnl_mj_m2: F
    rn_mj_m2: F
    g_mj_m2: F
    u2_m_s: F
    et0_mm_day: F


def penman_monteith_daily_terms(*, tmax_c: ArrayLike, tmin_c: ArrayLike, latitude_deg: ArrayLike,
                                elevation_m: ArrayLike, day_of_year: ArrayLike, wind_2m_m_s: ArrayLike | None,
                                rh_max_pct: ArrayLike | None = None, rh_min_pct: ArrayLike | None = None,
                                actual_vapour_pressure_kpa: ArrayLike | None = None,
                                sunshine_h: ArrayLike | None = None,
                                solar_radiation_mj_m2: ArrayLike | None = None,
                                soil_heat_flux_mj_m2: ArrayLike = 0.0, krs: ArrayLike = KRS_INTERIOR) -> DailyTerms:
    """Daily FAO-56 Penman-Monteith ET0 with its intermediates (see `penman_monteith_daily`)."""
    tmax, tmin = _f(tmax_c), _f(tmin_c)
    tmean = (tmax + tmin) / 2.0  # FAO-56 eq. 9
    pressure = atmospheric_pressure_kpa(elevation_m)  # FAO-56 eq. 7
    gamma = psychrometric_constant_kpa_c(pressure)  # FAO-56 eq. 8
    delta = slope_vapour_pressure_kpa_c(tmean)  # FAO-56 eq. 13
    e_tmax = saturation_vapour_pressure_kpa(tmax)  # FAO-56 eq. 11
    e_tmin = saturation_vapour_pressure_kpa(tmin)
    es = (e_tmax + e_tmin) / 2.0  # FAO-56 eq. 12
    # Humidity: a given ea wins; else RH extremes (eq. 17); else RHmax alone (eq. 18); else the missing-data rule
    # ea = e°(Tmin) (eq. 48).
    # NaN entries inside given arrays fall back the same way, so one call can mix fields with and without sensors.
    ea = e_tmin  # FAO-56 eq. 48
    if rh_max_pct is not None:
        ea_max_only = e_tmin * _f(rh_max_pct) / 100.0  # FAO-56 eq. 18 (RHmin missing or unreliable)
        ea = np.where(np.isfinite(ea_max_only), ea_max_only, ea)
        if rh_min_pct is not None:
            ea_rh = (e_tmin * _f(rh_max_pct) + e_tmax * _f(rh_min_pct)) / 200.0  # FAO-56 eq. 17
            ea = np.where(np.isfinite(ea_rh), ea_rh, ea)
    if actual_vapour_pressure_kpa is not None:
        ea_given = _f(actual_vapour_pressure_kpa)
        ea = np.where(np.isfinite(ea_given), ea_given, ea)
    # Radiation: measured Rs wins; else sunshine hours (eq. 35); else Hargreaves' formula (eq. 50).
    ra, ws = _ra_and_sunset(latitude_deg, day_of_year)  # FAO-56 eqs. 21, 25
    rs_given = None if solar_radiation_mj_m2 is None else _f(solar_radiation_mj_m2)
    if rs_given is not None and np.isfinite(rs_given).all():
        rs = rs_given
    else:  # some day needs a fallback
        rs = _f(krs) * np.sqrt(np.maximum(tmax - tmin, 0.0)) * ra  # FAO-56 eq. 50
        if sunshine_h is not None:
            rs_n = (ANGSTROM_AS + ANGSTROM_BS * _f(sunshine_h) / (24.0 / np.pi * ws)) * ra  # FAO-56 eqs. 34, 35
            rs = np.where(np.isfinite(rs_n), rs_n, rs)
        if rs_given is not None:
            rs = np.where(np.isfinite(rs_given), rs_given, rs)
    rso = clear_sky_radiation_mj_m2(ra, elevation_m)  # FAO-56 eq. 37
    rns = (1.0 - ALBEDO_GRASS) * rs  # FAO-56 eq. 38
    rnl = net_longwave_radiation_daily_mj_m2(tmax, tmin, ea, rs, rso)  # FAO-56 eq. 39
    rn = rns - rnl  # FAO-56 eq. 40
    g = _f(soil_heat_flux_mj_m2)  # FAO-56 eq. 42: about 0 for a day
    u2 = _f(DEFAULT_WIND_2M_M_S if wind_2m_m_s is None else wind_2m_m_s)
    u2 = np.where(np.isfinite(u2), u2, DEFAULT_WIND_2M_M_S)  # FAO-56 ch. 3: 2 m/s when wind is missing
    et0 = ((MJ_M2_TO_MM * delta * (rn - g) + gamma * 900.0 / (tmean + 273.0) * u2 * (es - ea))
           / (delta + gamma * (1.0 + 0.34 * u2)))  # FAO-56 eq. 6
    return DailyTerms(tmean, pressure, gamma, delta, es, np.broadcast_to(ea, es.shape).astype(np.float64), ra, rs, rso,
                      rns, rnl, rn, np.asarray(g, dtype=np.float64), u2, np.maximum(et0, 0.0))


def penman_monteith_daily(*, tmax_c: ArrayLike, tmin_c: ArrayLike, latitude_deg: ArrayLike, elevation_m: ArrayLike,
                          day_of_year: ArrayLike, wind_2m_m_s: ArrayLike | None,
                          rh_max_pct: ArrayLike | None = None, rh_min_pct: ArrayLike | None = None,
                          actual_vapour_pressure_kpa: ArrayLike | None = None, sunshine_h: ArrayLike | None = None,
                          solar_radiation_mj_m2: ArrayLike | None = None, soil_heat_flux_mj_m2: ArrayLike = 0.0,
                          krs: ArrayLike = KRS_INTERIOR) -> F:
    """Reference evapotranspiration ET0, mm/day, FAO-56 Penman-Monteith (eq. 6, inputs by eqs. 7-52).

    Humidity comes from `actual_vapour_pressure_kpa`, else RH extremes (eq. 17), else RHmax alone (eq. 18), else
    ea = e°(Tmin) (eq. 48).
    Radiation comes from measured `solar_radiation_mj_m2`, else `sunshine_h` (eq. 35), else the temperature
    range (eq. 50, `krs` 0.16 interior / 0.19 coastal). A missing wind (None or NaN) uses 2 m/s (FAO-56 ch. 3).
    NaN entries fall back per element. The rare negative result (a dewy day) is returned as 0.
    """
    return penman_monteith_daily_terms(
        tmax_c=tmax_c, tmin_c=tmin_c, latitude_deg=latitude_deg, elevation_m=elevation_m, day_of_year=day_of_year,
        wind_2m_m_s=wind_2m_m_s, rh_max_pct=rh_max_pct, rh_min_pct=rh_min_pct,
        actual_vapour_pressure_kpa=actual_vapour_pressure_kpa, sunshine_h=sunshine_h,
        solar_radiation_mj_m2=solar_radiation_mj_m2, soil_heat_flux_mj_m2=soil_heat_flux_mj_m2, krs=krs,
    ).et0_mm_day


def hargreaves_daily(*, tmax_c: ArrayLike, tmin_c: ArrayLike, latitude_deg: ArrayLike, day_of_year: ArrayLike) -> F:
    """Reference evapotranspiration ET0, mm/day, Hargreaves - FAO-56 eq. 52."""
    tmax, tmin = _f(tmax_c), _f(tmin_c)
    ra_mm = MJ_M2_TO_MM * extraterrestrial_radiation_daily_mj_m2(latitude_deg, day_of_year)  # Ra as mm/day
    tmean = (tmax + tmin) / 2.0  # FAO-56 eq. 9
    return 0.0023 * (tmean + 17.8) * np.sqrt(np.maximum(tmax - tmin, 0.0)) * ra_mm  # FAO-56 eq. 52


def solar_time_angle_mid_rad(*, longitude_deg: ArrayLike, timezone_meridian_deg: ArrayLike, day_of_year: ArrayLike,
                             hour_mid_local: ArrayLike) -> F:
    """Solar time angle omega at the middle of the period, rad - FAO-56 eqs. 31-33, east-positive longitudes.

    FAO-56 eq. 31 uses degrees west of Greenwich: omega = pi/12 [(t + 0.06667 (Lz - Lm) + Sc) - 12]. With
    east-positive longitude L and time-zone meridian Z we have Lz = -Z and Lm = -L, so Lz - Lm = L - Z: a site
    east of its zone meridian (Goshogawara, 140.4 E, in JST at 135 E) sees the sun earlier than clock time.
    """
    b = 2.0 * np.pi * (_f(day_of_year) - 81.0) / 364.0  # FAO-56 eq. 33
    sc = 0.1645 * np.sin(2.0 * b) - 0.1255 * np.cos(b) - 0.025 * np.sin(b)  # FAO-56 eq. 32, hours
    correction_h = 0.06667 * (_f(longitude_deg) - _f(timezone_meridian_deg))  # FAO-56 eq. 31 (Lz - Lm), east-positive
    return np.pi / 12.0 * ((_f(hour_mid_local) + correction_h + sc) - 12.0)  # FAO-56 eq. 31


def extraterrestrial_radiation_hourly_mj_m2(*, latitude_deg: ArrayLike, longitude_deg: ArrayLike,
                                            timezone_meridian_deg: ArrayLike, day_of_year: ArrayLike,
                                            hour_mid_local: ArrayLike, period_h: ArrayLike = 1.0) -> F:
    """Extraterrestrial radiation Ra for a period of period_h hours, MJ/m2/period - FAO-56 eqs. 28-30.

    The period's start and end angles are clipped to sunrise/sunset (-omega_s, omega_s), so a period entirely
    at night gives 0 (as FAO-56 says below eq. 28) and the period holding sunrise or sunset counts its sunlit part.
    """
    phi = np.deg2rad(_f(latitude_deg))
    dr = inverse_relative_distance(day_of_year)  # FAO-56 eq. 23
    delta = solar_declination_rad(day_of_year)  # FAO-56 eq. 24
    ws = sunset_hour_angle_rad(latitude_deg, day_of_year)  # FAO-56 eq. 25
    w = solar_time_angle_mid_rad(longitude_deg=longitude_deg, timezone_meridian_deg=timezone_meridian_deg,
                                 day_of_year=day_of_year, hour_mid_local=hour_mid_local)  # FAO-56 eq. 31
    # Wrap to (-pi, pi] so late-evening clock hours on the far side of midnight stay at night.
    w = (w + np.pi) % (2.0 * np.pi) - np.pi
    w1 = np.clip(w - np.pi * _f(period_h) / 24.0, -ws, ws)  # FAO-56 eq. 29
    w2 = np.clip(w + np.pi * _f(period_h) / 24.0, -ws, ws)  # FAO-56 eq. 30
    ra = (12.0 * 60.0 / np.pi * SOLAR_CONSTANT_MJ_M2_MIN * dr
          * ((w2 - w1) * np.sin(phi) * np.sin(delta)
             + np.cos(phi) * np.cos(delta) * (np.sin(w2) - np.sin(w1))))  # FAO-56 eq. 28
    return np.maximum(ra, 0.0)


@dataclass(frozen=True)
class HourlyTerms:
    """Every intermediate of the hourly FAO-56 Penman-Monteith calculation (arrays, units in names)."""

    pressure_kpa: F
    gamma_kpa_c: F
    delta_kpa_c: F
    es_kpa: F
    ea_kpa: F
    ra_mj_m2: F
    rso_mj_m2: F
    rns_mj_m2: F
    rnl_mj_m2: F
    rn_mj_m2: F
    g_mj_m2: F
    daytime: NDArray[np.bool_]
    et0_mm_hour: F


# Rso below this (MJ/m2/hour) means the sun is too low for Rs/Rso to say anything about clouds: use the night
# ratio, as ASCE-EWRI (2005) does for low sun angles.
_LOW_SUN_RSO_MJ_M2_H = 0.05


def penman_monteith_hourly_terms(*, temp_c: ArrayLike, rh_pct: ArrayLike, wind_2m_m_s: ArrayLike,
                                 solar_radiation_mj_m2: ArrayLike, latitude_deg: ArrayLike, longitude_deg: ArrayLike,
                                 timezone_meridian_deg: ArrayLike, elevation_m: ArrayLike, day_of_year: ArrayLike,
                                 hour_mid_local: ArrayLike, night_rs_rso: ArrayLike = 0.8) -> HourlyTerms:
    """Hourly FAO-56 Penman-Monteith ET0 with its intermediates (see `penman_monteith_hourly`)."""
    t = _f(temp_c)
    pressure = atmospheric_pressure_kpa(elevation_m)  # FAO-56 eq. 7
    gamma = psychrometric_constant_kpa_c(pressure)  # FAO-56 eq. 8
    delta = slope_vapour_pressure_kpa_c(t)  # FAO-56 eq. 13 at Thr
    es = saturation_vapour_pressure_kpa(t)  # FAO-56 eq. 11 at Thr
    ea = es * _f(rh_pct) / 100.0  # FAO-56 eq. 54
    ra = extraterrestrial_radiation_hourly_mj_m2(
        latitude_deg=latitude_deg, longitude_deg=longitude_deg, timezone_meridian_deg=timezone_meridian_deg,
        day_of_year=day_of_year, hour_mid_local=hour_mid_local)  # FAO-56 eq. 28
    rso = clear_sky_radiation_mj_m2(ra, elevation_m)  # FAO-56 eq. 37
    rs = _f(solar_radiation_mj_m2)
    rns = (1.0 - ALBEDO_GRASS) * rs  # FAO-56 eq. 38
    sunlit = rso > _LOW_SUN_RSO_MJ_M2_H
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(sunlit, np.clip(rs / rso, RS_RSO_MIN, RS_RSO_MAX), _f(night_rs_rso))
    rnl = (STEFAN_BOLTZMANN_MJ_K4_M2_HOUR * (t + 273.16) ** 4 * (0.34 - 0.14 * np.sqrt(ea))
           * (1.35 * ratio - 0.35))  # FAO-56 eq. 39 with hourly sigma and Thr
    rn = rns - rnl  # FAO-56 eq. 40
    daytime = ra > 0.0
    g = np.where(daytime, 0.1 * rn, 0.5 * rn)  # FAO-56 eqs. 45 (day) and 46 (night)
    u2 = _f(wind_2m_m_s)
    et0 = ((MJ_M2_TO_MM * delta * (rn - g) + gamma * 37.0 / (t + 273.0) * u2 * (es - ea))
           / (delta + gamma * (1.0 + 0.34 * u2)))  # FAO-56 eq. 53
    return HourlyTerms(pressure, gamma, delta, es, ea, ra, rso, rns, rnl, rn, g, daytime, et0)


def penman_monteith_hourly(*, temp_c: ArrayLike, rh_pct: ArrayLike, wind_2m_m_s: ArrayLike,
                           solar_radiation_mj_m2: ArrayLike, latitude_deg: ArrayLike, longitude_deg: ArrayLike,
                           timezone_meridian_deg: ArrayLike, elevation_m: ArrayLike, day_of_year: ArrayLike,
                           hour_mid_local: ArrayLike, night_rs_rso: ArrayLike = 0.8) -> F:
    """Reference evapotranspiration ET0, mm/hour, FAO-56 hourly Penman-Monteith (eq. 53 with eqs. 28-33).

    Longitudes are east-positive (JST: timezone_meridian_deg = 135). `hour_mid_local` is the clock time at the
    middle of the hour (14.5 for 14:00-15:00). At night, and when the sun is too low for Rs/Rso to mean anything,
    Rs/Rso is `night_rs_rso` (FAO-56 Example 19 uses 0.8 in an arid climate; 0.4-0.6 suits humid climates).
    Small negative night values (dew) are returned as computed, like FAO-56's 0.00 in Example 19.
    """
    return penman_monteith_hourly_terms(
        temp_c=temp_c, rh_pct=rh_pct, wind_2m_m_s=wind_2m_m_s, solar_radiation_mj_m2=solar_radiation_mj_m2,
        latitude_deg=latitude_deg, longitude_deg=longitude_deg, timezone_meridian_deg=timezone_meridian_deg,
        elevation_m=elevation_m, day_of_year=day_of_year, hour_mid_local=hour_mid_local, night_rs_rso=night_rs_rso,
    ).et0_mm_hour
