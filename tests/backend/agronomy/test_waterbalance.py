"""FAO-56 chapter 8 water balance: TAW/RAW, depletion, deep percolation, sensor correction, properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from backend.agronomy import crops, soils, waterbalance as wb


def test_example_36_taw_and_raw_loamy_sand():
    # FAO-56 Example 36: Zr 0.8 m, p 0.40, loamy sand theta_FC 0.15, theta_WP 0.06
    taw = wb.total_available_water_mm(0.15, 0.06, 0.8)
    assert_allclose(taw, 72.0)  # 1000 (0.15 - 0.06) 0.8
    assert_allclose(wb.readily_available_water_mm(taw, 0.40), 29.0, atol=0.5)  # 0.40 x 72 = 28.8


def test_example_36_depletion_walk_reaches_stress_after_raw():
    """From field capacity, 5 mm/day ETc depletes 5 mm a day; stress (Ks < 1) starts once Dr passes RAW 28.8."""
    etc = np.full((1, 8), 5.0)
    bal = wb.run_balance(etc_mm=etc, rain_eff_mm=0.0, irrigation_mm=0.0, taw_mm=72.0)
    assert_allclose(bal.depletion_mm[0], 5.0 * np.arange(1, 9))
    ks = wb.water_stress_coefficient(bal.depletion_mm[0], 72.0, 28.8)
    assert np.all(ks[:5] == 1.0)  # Dr 5..25 <= RAW
    assert_allclose(ks[5], (72 - 30) / (72 - 28.8))  # eq. 84 at Dr = 30 mm: 0.972


def test_rain_beyond_field_capacity_is_deep_percolation_eq_88():
    # Dr yesterday 10 mm, rain 30 mm, ETc 5 mm: DP = 30 - 5 - 10 = 15 mm, Dr back to 0 (eq. 88)
    bal = wb.run_balance(etc_mm=np.array([[5.0]]), rain_eff_mm=30.0, irrigation_mm=0.0, taw_mm=72.0,
                         start_depletion_mm=10.0)
    assert_allclose(bal.deep_percolation_mm, [[15.0]])
    assert_allclose(bal.depletion_mm, [[0.0]])


@pytest.mark.parametrize("rain, et0, expected", [(0.5, 5.0, 0.0), (1.0, 5.0, 1.0), (12.0, 3.0, 12.0), (np.nan, 3.0, 0.0)],
                         ids=["a shower under 0.2 ET0 evaporates and is ignored", "rain of exactly 0.2 ET0 counts",
                              "a real rain counts fully", "a missing rain reading counts as no rain"])
def test_effective_rain(rain, et0, expected):
    assert_allclose(wb.effective_rain_mm(rain, et0), expected)


def test_sensor_reading_maps_to_depletion_and_out_of_range_is_dropped():
    fc, zr, taw = np.array([0.25]), np.array([0.5]), np.array([65.0])
    got = wb.sensor_depletion_mm(np.array([[25.0, 15.0, 0.5, 75.0, np.nan, 30.0]]), fc, zr, taw)
    # 1000 (0.25 - 0.15) 0.5 = 50 mm; wetter than FC reads 0; 0.5 % and 75 % are not soil
    assert_allclose(got, [[0.0, 50.0, np.nan, np.nan, np.nan, 0.0]])


def test_sensor_pull_is_weighted_by_trust_and_bounded_to_a_quarter_of_taw():
    etc = np.array([[30.0]])
    near = wb.run_balance(etc_mm=etc, rain_eff_mm=0, irrigation_mm=0, taw_mm=72.0,
                          sensor_depletion=np.array([[20.0]]), sensor_trust=0.5)
    assert_allclose(near.depletion_mm, [[25.0]])  # 30 + 0.5 (20 - 30)
    far = wb.run_balance(etc_mm=etc, rain_eff_mm=0, irrigation_mm=0, taw_mm=72.0,
                         sensor_depletion=np.array([[0.0]]), sensor_trust=0.5)
    assert_allclose(far.depletion_mm, [[30.0 - 0.5 * 18.0]])  # disagreement 30 clipped to 72/4 = 18
    assert far.sensor_clipped[0, 0] and not near.sensor_clipped[0, 0]


def test_a_probe_that_suddenly_reads_bone_dry_is_rejected():
    etc = np.full((1, 3), 4.0)
    ds = np.array([[10.0, 12.0, 60.0]])  # +48 mm in a day, but 2 x 4 + 5 = 13 mm is the most soil can dry
    bal = wb.run_balance(etc_mm=etc, rain_eff_mm=0, irrigation_mm=0, taw_mm=72.0, sensor_depletion=ds,
                         sensor_trust=0.8)
    assert bal.sensor_rejected.tolist() == [[False, False, True]]
    assert bal.depletion_mm[0, 2] < 20.0


def test_an_irrigation_nobody_recorded_is_picked_up_from_the_sensor_within_days():
    """Model says 60 mm dry, the probe says wet for days in a row: the advice follows the probe soon."""
    etc = np.full((1, 5), 0.0)
    ds = np.zeros((1, 5))
    bal = wb.run_balance(etc_mm=etc, rain_eff_mm=0, irrigation_mm=0, taw_mm=72.0, start_depletion_mm=60.0,
                         sensor_depletion=ds, sensor_trust=0.6)
    assert bal.depletion_mm[0, -1] < 0.25 * 28.8  # under a quarter of RAW within 5 days
    assert np.all(np.diff(bal.depletion_mm[0]) < 0)


def test_kc_curve_follows_table_12_through_the_season():
    idx = np.array([crops.CROP_ORDER.index(crops.Crop.SOYBEAN)])
    p = crops.CROPS[crops.Crop.SOYBEAN]
    ini, dev, mid, late = p.stage_days
    t = np.array([[-1, 0, ini, ini + dev / 2, ini + dev, ini + dev + mid, ini + dev + mid + late,
                   ini + dev + mid + late + 1]], dtype=float)
    want = [0.0, p.kc_ini, p.kc_ini, (p.kc_ini + p.kc_mid) / 2, p.kc_mid, p.kc_mid, p.kc_end, 0.0]
    assert_allclose(crops.crop_coefficient(idx, t)[0], want)


def test_unknown_texture_and_crop_are_named_in_the_error():
    with pytest.raises(ValueError, match="row 1: unknown soil texture 'peat'"):
        soils.theta_fc_wp(["loam", "peat"])
    with pytest.raises(ValueError, match="row 0: unknown crop 'banana'"):
        crops.crop_index(["banana"])


def _series(draw_shape):
    return arrays(np.float64, draw_shape, elements=st.floats(0, 40, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(etc=_series((3, 12)), rain=_series((3, 12)), irr=_series((3, 12)),
       sensor=arrays(np.float64, (3, 12), elements=st.one_of(st.just(np.nan), st.floats(-20, 200))),
       trust=st.floats(0, 1), start=st.floats(-10, 300))
def test_depletion_always_stays_within_zero_and_taw(etc, rain, irr, sensor, trust, start):
    taw = np.array([72.0, 130.0, 20.0])
    bal = wb.run_balance(etc_mm=etc, rain_eff_mm=rain, irrigation_mm=irr, taw_mm=taw, start_depletion_mm=start,
                         sensor_depletion=sensor, sensor_trust=trust)
    assert np.all(bal.depletion_mm >= 0.0)
    assert np.all(bal.depletion_mm <= taw[:, None] + 1e-9)
    assert np.all(bal.deep_percolation_mm >= 0.0)


@settings(max_examples=60, deadline=None)
@given(etc=_series((2, 10)), rain=_series((2, 10)), extra=_series((2, 10)),
       sensor=arrays(np.float64, (2, 10), elements=st.one_of(st.just(np.nan), st.floats(0, 72))),
       trust=st.floats(0, 1))
def test_more_rain_never_leaves_the_root_zone_drier(etc, rain, extra, sensor, trust):
    kw = dict(etc_mm=etc, irrigation_mm=0.0, taw_mm=72.0, sensor_depletion=sensor, sensor_trust=trust)
    dry = wb.run_balance(rain_eff_mm=rain, **kw).depletion_mm
    wet = wb.run_balance(rain_eff_mm=rain + extra, **kw).depletion_mm
    assert np.all(wet <= dry + 1e-9)


def test_decide_irrigates_on_the_morning_of_the_day_that_would_cross_raw():
    # RAW 30; today at 18 mm; 5 mm/day: ends of days 23, 28, 33 -> crossing at the end of day 2 (0 = today)
    proj = wb.project_depletion(np.array([18.0]), np.full((1, 5), 5.0), 0.0, np.array([72.0]))
    dec = wb.decide(np.array([18.0]), proj, np.array([30.0]), in_season=np.array([True]))
    assert dec.call[0] == wb.UplandCall.IRRIGATE_IN_DAYS and dec.days[0] == 2
    assert_allclose(dec.amount_mm, [28.0])  # depletion on that morning, refilled to field capacity


@pytest.mark.parametrize("crop, kc, zr_range, p", [
    (crops.Crop.RICE, (1.05, 1.20, 0.75), (0.5, 1.0), 0.20),
    (crops.Crop.APPLE, (0.50, 1.20, 0.95), (1.0, 2.0), 0.50),
    (crops.Crop.SOYBEAN, (0.50, 1.15, 0.50), (0.6, 1.3), 0.50),
    (crops.Crop.VEGETABLES, (0.70, 1.05, 0.95), (0.5, 0.8), 0.45)],
    ids=["rice: Table 12 Kc and Table 22 depth/p as DOMAIN.md quotes them",
         "apples with grass cover and winter frost", "soybeans", "small vegetables (cabbage rooting)"])
def test_crop_parameters_are_the_published_table_values(crop, kc, zr_range, p):
    c = crops.CROPS[crop]
    assert (c.kc_ini, c.kc_mid, c.kc_end) == kc
    assert zr_range[0] <= c.root_depth_m <= zr_range[1] and c.p == p
