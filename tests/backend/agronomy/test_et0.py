"""ET0 against FAO-56's worked examples (Allen et al. 1998), to the precision the paper prints.

Tolerances are half a unit of the last printed digit (`atol=0.005` for a value printed as 41.09).
Example numbers follow the paper: 17 is Bangkok (monthly), 18 is Brussels (daily), 19 is N'Diaye (hourly).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from backend.agronomy import et0

BRUSSELS = dict(tmax_c=21.5, tmin_c=12.3, latitude_deg=50 + 48 / 60, elevation_m=100, day_of_year=187,
                rh_max_pct=84, rh_min_pct=63, sunshine_h=9.25)
# FAO-56 Example 19: N'Diaye, Senegal, 16°13'N 16°15'W, 8 m, 1 October. The paper's Lz = 15 and Lm = 16.25 are
# degrees WEST; east-positive that is meridian -15 and longitude -16.25.
NDIAYE = dict(latitude_deg=16 + 13 / 60, longitude_deg=-(16 + 15 / 60), timezone_meridian_deg=-15.0,
              elevation_m=8, day_of_year=274)


def test_example_2_pressure_and_psychrometric_constant_at_1800_m():
    p = et0.atmospheric_pressure_kpa(1800)
    assert_allclose(p, 81.8, atol=0.05)
    assert_allclose(et0.psychrometric_constant_kpa_c(p), 0.054, atol=0.0005)


def test_example_3_saturation_vapour_pressure():
    assert_allclose(et0.saturation_vapour_pressure_kpa([24.5, 15.0]), [3.075, 1.705], atol=0.0005)


def test_example_5_actual_vapour_pressure_from_rh_extremes():
    # e°(18) = 2.064, e°(25) = 3.168; ea = (2.064 * 0.82 + 3.168 * 0.54) / 2 = 1.70 kPa
    assert_allclose(et0.actual_vapour_pressure_from_rh_kpa(25, 18, 82, 54), 1.70, atol=0.005)


def test_example_8_extraterrestrial_radiation_20s_3_september():
    assert_allclose(et0.inverse_relative_distance(246), 0.985, atol=0.0005)
    assert_allclose(et0.solar_declination_rad(246), 0.120, atol=0.0005)
    assert_allclose(et0.sunset_hour_angle_rad(-20, 246), 1.527, atol=0.0005)
    assert_allclose(et0.extraterrestrial_radiation_daily_mj_m2(-20, 246), 32.2, atol=0.05)


def test_example_9_daylight_hours():
    assert_allclose(et0.daylight_hours(-20, 246), 11.7, atol=0.05)


def test_example_10_solar_radiation_from_sunshine_rio_may():
    # 22°54'S, 15 May, 220 h of sunshine in May = 7.1 h/day; Ra 25.1, N 10.9, Rs 14.5 MJ/m2/day
    lat = -(22 + 54 / 60)
    assert_allclose(et0.extraterrestrial_radiation_daily_mj_m2(lat, 135), 25.1, atol=0.05)
    assert_allclose(et0.daylight_hours(lat, 135), 10.9, atol=0.05)
    assert_allclose(et0.solar_radiation_from_sunshine_mj_m2(220 / 31, lat, 135), 14.5, atol=0.05)


def test_example_11_clear_sky_and_net_longwave_radiation():
    rso = et0.clear_sky_radiation_mj_m2(25.1, 0)
    assert_allclose(rso, 18.8, atol=0.05)
    assert_allclose(et0.net_longwave_radiation_daily_mj_m2(25.1, 19.1, 2.1, 14.5, rso), 3.5, atol=0.05)


def test_example_14_wind_at_10_m_to_2_m():
    assert_allclose(et0.wind_speed_2m(3.2, 10), 2.4, atol=0.05)


def test_example_15_solar_radiation_from_temperature_lyon_july():
    # Lyon 45°43'N, July: Ra 40.6; Rs = 0.16 sqrt(26.6 - 14.8) 40.6 = 22.3 MJ/m2/day
    lat = 45 + 43 / 60
    assert_allclose(et0.extraterrestrial_radiation_daily_mj_m2(lat, 196), 40.6, atol=0.05)
    assert_allclose(et0.solar_radiation_from_temperature_mj_m2(26.6, 14.8, lat, 196), 22.3, atol=0.05)


def test_example_17_bangkok_april_monthly_data():
    t = et0.penman_monteith_daily_terms(tmax_c=34.8, tmin_c=25.6, latitude_deg=13 + 44 / 60, elevation_m=2,
                                        day_of_year=105, wind_2m_m_s=2.0, actual_vapour_pressure_kpa=2.85,
                                        sunshine_h=8.5, soil_heat_flux_mj_m2=0.14 * (30.2 - 29.2))  # eq. 44
    assert_allclose(t.delta_kpa_c, 0.246, atol=0.0005)
    assert_allclose(t.es_kpa, 4.42, atol=0.005)
    assert_allclose(t.ra_mj_m2, 38.06, atol=0.005)
    assert_allclose(et0.daylight_hours(13 + 44 / 60, 105), 12.31, atol=0.005)
    assert_allclose(t.rso_mj_m2, 28.54, atol=0.005)
    assert_allclose(t.rns_mj_m2, 17.44, atol=0.005)
    assert_allclose(t.rn_mj_m2, 14.33, atol=0.005)
    assert_allclose(t.et0_mm_day, 5.72, atol=0.005)


def test_example_18_brussels_6_july_daily_data_with_intermediates():
    u2 = et0.wind_speed_2m(10 / 3.6, 10)  # 10 km/h at 10 m
    assert_allclose(u2, 2.078, atol=0.0005)
    t = et0.penman_monteith_daily_terms(wind_2m_m_s=u2, **BRUSSELS)
    assert_allclose(t.tmean_c, 16.9)
    assert_allclose(t.delta_kpa_c, 0.122, atol=0.0005)
    assert_allclose(t.pressure_kpa, 100.1, atol=0.05)
    assert_allclose(t.gamma_kpa_c, 0.0666, atol=0.00005)
    assert_allclose(t.es_kpa, 1.997, atol=0.001)
    assert_allclose(t.ea_kpa, 1.409, atol=0.0005)
    assert_allclose(t.ra_mj_m2, 41.09, atol=0.005)
    assert_allclose(et0.daylight_hours(BRUSSELS["latitude_deg"], 187), 16.1, atol=0.05)
    assert_allclose(t.rs_mj_m2, 22.07, atol=0.005)
    assert_allclose(t.rso_mj_m2, 30.90, atol=0.005)
    assert_allclose(t.rns_mj_m2, 17.00, atol=0.005)
    assert_allclose(t.rnl_mj_m2, 3.71, atol=0.005)
    assert_allclose(t.rn_mj_m2, 13.28, atol=0.005)
    assert_allclose(t.et0_mm_day, 3.9, atol=0.05)


@pytest.mark.parametrize(
    "hour_mid, temp_c, rh_pct, wind, rs, omega, ra, rso, rnl, rn, g, et0_mm_h",
    [
        (2.5, 28.0, 90.0, 1.9, 0.0, -2.46, 0.0, 0.0, 0.100, -0.100, -0.050, 0.00),
        (14.5, 38.0, 52.0, 3.3, 2.450, 0.682, 3.543, 2.658, 0.137, 1.749, 0.175, 0.63),
    ],
    ids=["02:00-03:00 night hour uses Rs/Rso 0.8 and G = 0.5 Rn",
         "14:00-15:00 day hour uses measured Rs and G = 0.1 Rn"],
)
def test_example_19_ndiaye_hourly(hour_mid, temp_c, rh_pct, wind, rs, omega, ra, rso, rnl, rn, g, et0_mm_h):
    w = et0.solar_time_angle_mid_rad(longitude_deg=NDIAYE["longitude_deg"],
                                     timezone_meridian_deg=NDIAYE["timezone_meridian_deg"],
                                     day_of_year=274, hour_mid_local=hour_mid)
    assert_allclose(w, omega, atol=0.5 * 10 ** -(len(str(omega).split(".")[1])))
    t = et0.penman_monteith_hourly_terms(temp_c=temp_c, rh_pct=rh_pct, wind_2m_m_s=wind, solar_radiation_mj_m2=rs,
                                         hour_mid_local=hour_mid, **NDIAYE)
    assert_allclose(t.ra_mj_m2, ra, atol=0.0005)
    assert_allclose(t.rso_mj_m2, rso, atol=0.0005)
    assert_allclose(t.rns_mj_m2, 0.77 * rs, atol=0.0005)
    assert_allclose(t.rnl_mj_m2, rnl, atol=0.0005)
    assert_allclose(t.rn_mj_m2, rn, atol=0.0005)
    assert_allclose(t.g_mj_m2, g, atol=0.0005)
    assert_allclose(t.et0_mm_hour, et0_mm_h, atol=0.005)
    assert_allclose(t.gamma_kpa_c, 0.0673, atol=0.00005)


def test_hourly_east_positive_longitude_matches_fao_west_convention_mirrored():
    """A site 5 degrees east of its meridian sees solar noon 20 min before 12:00 clock time."""
    w_noon = et0.solar_time_angle_mid_rad(longitude_deg=140.0, timezone_meridian_deg=135.0, day_of_year=81,
                                          hour_mid_local=12.0)
    sc_81 = 0.1645 * np.sin(0.0) - 0.1255 * np.cos(0.0) - 0.025 * np.sin(0.0)  # eq. 32 at b = 0
    assert_allclose(w_noon, np.pi / 12 * (0.06667 * 5.0 + sc_81), atol=1e-9)
    assert w_noon > 0  # the sun is already past its highest point at 12:00 JST east of 135 E


def test_hargreaves_lyon_july_from_its_ra():
    # eq. 52 by hand with Example 15's Ra 40.6 MJ/m2/day (16.56 mm/day):
    # 0.0023 * (20.7 + 17.8) * sqrt(11.8) * 0.408 * 40.6 = 5.04 mm/day
    got = et0.hargreaves_daily(tmax_c=26.6, tmin_c=14.8, latitude_deg=45 + 43 / 60, day_of_year=196)
    assert_allclose(got, 0.0023 * 38.5 * np.sqrt(11.8) * 0.408 * 40.6, atol=0.01)


def test_temperature_only_day_uses_chapter_3_missing_data_rules():
    """With only Tmax/Tmin: ea = e°(Tmin) (eq. 48), Rs from eq. 50, wind 2 m/s; coastal kRs raises Rs."""
    kw = dict(tmax_c=26.6, tmin_c=14.8, latitude_deg=45 + 43 / 60, elevation_m=200, day_of_year=196)
    t = et0.penman_monteith_daily_terms(wind_2m_m_s=None, **kw)
    assert_allclose(t.ea_kpa, et0.saturation_vapour_pressure_kpa(14.8))
    assert_allclose(t.rs_mj_m2, 22.3, atol=0.05)
    assert_allclose(t.u2_m_s, 2.0)
    explicit = et0.penman_monteith_daily(wind_2m_m_s=2.0, actual_vapour_pressure_kpa=t.ea_kpa,
                                         solar_radiation_mj_m2=t.rs_mj_m2, **kw)
    assert_allclose(t.et0_mm_day, explicit)
    coastal = et0.penman_monteith_daily_terms(wind_2m_m_s=None, krs=et0.KRS_COASTAL, **kw)
    assert coastal.rs_mj_m2 > t.rs_mj_m2 and coastal.et0_mm_day > t.et0_mm_day


def test_nan_inputs_fall_back_per_element():
    """A field without an RH sensor (NaN) gets eq. 48 while its neighbour keeps eq. 17."""
    got = et0.penman_monteith_daily_terms(tmax_c=[21.5, 21.5], tmin_c=[12.3, 12.3], latitude_deg=50.8,
                                          elevation_m=100, day_of_year=187, wind_2m_m_s=[2.078, np.nan],
                                          rh_max_pct=[84, np.nan], rh_min_pct=[63, np.nan], sunshine_h=9.25)
    assert_allclose(got.ea_kpa, [1.409, et0.saturation_vapour_pressure_kpa(12.3)], atol=0.0005)
    assert_allclose(got.u2_m_s, [2.078, 2.0])


def test_vectorised_over_fields_and_days_equals_scalar_calls():
    rng = np.random.default_rng(11)
    tmin = rng.uniform(5, 20, size=(4, 6))
    tmax = tmin + rng.uniform(2, 12, size=(4, 6))
    lat = np.array([40.8, 41.0, 35.0, -20.0])[:, None]
    doy = np.arange(150, 156)[None, :]
    grid = et0.penman_monteith_daily(tmax_c=tmax, tmin_c=tmin, latitude_deg=lat, elevation_m=10, day_of_year=doy,
                                     wind_2m_m_s=2.5)
    assert grid.shape == (4, 6)
    for i in range(4):
        for j in range(6):
            one = et0.penman_monteith_daily(tmax_c=tmax[i, j], tmin_c=tmin[i, j], latitude_deg=lat[i, 0],
                                            elevation_m=10, day_of_year=doy[0, j], wind_2m_m_s=2.5)
            assert_allclose(grid[i, j], one)


@given(tmin=st.floats(-5, 30), spread=st.floats(0, 20), doy=st.integers(1, 365), lat=st.floats(-60, 60),
       wind=st.floats(0, 10))
def test_daily_et0_is_finite_and_not_negative(tmin, spread, doy, lat, wind):
    got = et0.penman_monteith_daily(tmax_c=tmin + spread, tmin_c=tmin, latitude_deg=lat, elevation_m=50,
                                    day_of_year=doy, wind_2m_m_s=wind)
    assert np.isfinite(got) and got >= 0.0


def test_hourly_sums_over_a_clear_day_near_the_daily_value():
    """24 hourly steps (eq. 53) of a calm clear day land within 20 % of the daily equation (eq. 6)."""
    hours = np.arange(24) + 0.5
    temp = 20 + 6 * np.sin((hours - 9) / 24 * 2 * np.pi)
    ra_h = et0.extraterrestrial_radiation_hourly_mj_m2(latitude_deg=40.8, longitude_deg=140.4,
                                                       timezone_meridian_deg=135.0, day_of_year=180,
                                                       hour_mid_local=hours)
    rs_h = 0.7 * ra_h
    ra_day = et0.extraterrestrial_radiation_daily_mj_m2(40.8, 180)
    assert_allclose(ra_h.sum(), ra_day, rtol=0.02)  # eq. 28 integrates to eq. 21
    hourly = et0.penman_monteith_hourly(temp_c=temp, rh_pct=60, wind_2m_m_s=2.0, solar_radiation_mj_m2=rs_h,
                                        latitude_deg=40.8, longitude_deg=140.4, timezone_meridian_deg=135.0,
                                        elevation_m=10, day_of_year=180, hour_mid_local=hours, night_rs_rso=0.6)
    ea = 0.6 * et0.saturation_vapour_pressure_kpa(temp).mean()
    daily = et0.penman_monteith_daily(tmax_c=temp.max(), tmin_c=temp.min(), latitude_deg=40.8, elevation_m=10,
                                      day_of_year=180, wind_2m_m_s=2.0, actual_vapour_pressure_kpa=ea,
                                      solar_radiation_mj_m2=rs_h.sum())
    assert_allclose(hourly.sum(), daily, rtol=0.2)


def test_rh_max_alone_uses_eq_18():
    # Example 5's day without its RHmin: ea = e°(18) x 0.82 = 2.064 x 0.82 = 1.69 kPa (eq. 18)
    t = et0.penman_monteith_daily_terms(tmax_c=25, tmin_c=18, latitude_deg=40, elevation_m=0, day_of_year=180,
                                        wind_2m_m_s=2.0, rh_max_pct=82, rh_min_pct=np.nan)
    assert_allclose(t.ea_kpa, 1.69, atol=0.005)
