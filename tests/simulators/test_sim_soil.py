"""Upland root zone: FAO-56 quantities by hand, water content stays physical, the books close."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from simulators.models.et0 import extraterrestrial_radiation_mj_m2_day, hargreaves_et0_mm_day
from simulators.models.soil import SOIL_WATER, SoilProbe, UplandSoil


def test_ra_matches_fao56_example_8() -> None:
    # FAO-56 Example 8: 20 deg S on 3 September (day 246): Ra = 32.2 MJ m-2 day-1.
    assert_allclose(extraterrestrial_radiation_mj_m2_day(-20.0, 246), 32.2, atol=0.05)


def test_hargreaves_by_hand() -> None:
    # Eq. 52 with Ra = 32.2 MJ (0.408 * 32.2 = 13.14 mm/day), Tmax 30, Tmin 18:
    # 0.0023 * (24 + 17.8) * sqrt(12) * 13.14 = 4.376 mm/day.
    assert_allclose(hargreaves_et0_mm_day(30.0, 18.0, -20.0, 246), 4.376, atol=0.01)


def test_taw_raw_and_ks_by_hand() -> None:
    # Sandy loam (FAO-56 Table 19 midpoints 0.23 / 0.11), Zr 1.0 m: TAW = 1000 * 0.12 * 1.0 = 120 mm (eq. 82);
    # apples p = 0.5: RAW = 60 mm (eq. 83); at Dr = 90 mm Ks = (120 - 90) / ((1 - 0.5) * 120) = 0.5 (eq. 84).
    s = UplandSoil("sandy_loam", 1.0, "apple")
    assert_allclose(s.taw_mm, 120.0)
    assert_allclose(s.raw_mm, 60.0)
    s.depletion_mm = 90.0
    assert_allclose(s.ks(), 0.5)


@settings(max_examples=60, deadline=None)
@given(texture=st.sampled_from(sorted(SOIL_WATER)), root_m=st.floats(0.2, 1.5),
       days=st.lists(st.tuples(st.floats(0, 120), st.floats(0, 8), st.booleans()), min_size=5, max_size=40))
def test_water_content_stays_between_wilting_point_and_saturation(texture: str, root_m: float,
                                                                  days: list[tuple[float, float, bool]]) -> None:
    s = UplandSoil(texture, root_m, "vegetable")
    for rain_mm, et0_mm, irrigate in days:
        for h in range(24):
            s.step(1.0, et0_mm / 24, rain_mm / 6 if h < 6 else 0.0, 25.0 if irrigate and h == 6 else 0.0)
            assert s.theta_wp - 1e-9 <= s.theta <= s.theta_sat + 1e-9
    assert abs(s.balance_error_mm()) <= 0.1


def test_rain_shows_as_a_wet_spike_that_drains_to_field_capacity() -> None:
    s = UplandSoil("loam", 0.6, "apple")
    s.step(1.0, 0.0, 40.0)  # 40 mm in one hour on a soil at field capacity
    wet = s.theta
    assert wet > s.theta_fc + 0.03
    for _ in range(96):
        s.step(1.0, 0.0, 0.0)
    assert s.theta_fc <= s.theta < s.theta_fc + 0.005
    assert s.total_drainage_mm > 35


def test_dry_weather_depletes_and_stress_slows_et() -> None:
    s = UplandSoil("sandy_loam", 0.5, "apple")
    et = []
    for _ in range(60):
        before = s.total_et_mm
        s.step(24.0, 5.0, 0.0)
        et.append(s.total_et_mm - before)
    assert s.depletion_mm > s.raw_mm
    assert et[-1] < 0.5 * et[0]


def test_probe_offset_is_per_device_and_stable() -> None:
    a1, a2 = SoilProbe.for_device("soil-001", 1), SoilProbe.for_device("soil-001", 1)
    b = SoilProbe.for_device("soil-002", 1)
    assert a1.offset_pct == a2.offset_pct != b.offset_pct
    rng = random.Random(0)
    values = [a1.read_vwc_pct(0.30, rng) for _ in range(400)]
    assert_allclose(sum(values) / len(values), 30.0 + a1.offset_pct, atol=0.15)


@pytest.mark.parametrize("kwargs,needle", [
    ({"texture": "peat", "root_depth_m": 1.0}, "soil_texture 'peat'"),
    ({"texture": "loam", "root_depth_m": 1.0, "crop": "paddy"}, "crop 'paddy'"),
    ({"texture": "loam", "root_depth_m": 9.0}, "root_depth_m 9.0"),
], ids=["an unknown texture is named", "paddy is not an upland crop", "a 9 m root zone is refused"])
def test_bad_parameters_name_the_culprit(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        UplandSoil(**kwargs)
