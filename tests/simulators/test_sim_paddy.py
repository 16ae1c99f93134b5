"""Paddy water balance: the books close, faults do what a farmer would see, single steps match hand sums."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from simulators.models.et0 import hargreaves_et0_mm_day
from simulators.models.paddy import RICE_KC, Farmer, Paddy, PaddyFault, PaddyFaultKind
from simulators.models.weather import LAT_DEG, summer_series

START = 1_780_239_600.0  # 2026-06-01 00:00 JST
DAYS = 70
STEP_S = 600.0


def season(faults: list[PaddyFault], *, rain_scale: float = 1.0, seed: int = 3) -> tuple[Paddy, list[float]]:
    """Run one paddy through 70 days of seeded weather with the farmer's stage plan; return it and its levels."""
    weather = summer_series(START, DAYS, seed)
    paddy = Paddy(faults=faults)
    farmer = Farmer(START - 10 * 86400)
    levels = []
    dt_h = STEP_S / 3600
    for k in range(int(DAYS * 86400 / STEP_S)):
        t = START + k * STEP_S
        day = weather.daily(t)
        et0_step = hargreaves_et0_mm_day(day.tmax_c, day.tmin_c, LAT_DEG, day.day_of_year) * dt_h / 24
        stage = farmer.act(paddy, t, dt_h)
        paddy.step(t, dt_h, et0_step, rain_scale * weather.rain_mm_between(t, t + STEP_S), kc=RICE_KC[stage])
        levels.append(paddy.level_mm)
    return paddy, levels


DAY = 86400.0
CASES = [
    ([], 1.0),
    ([PaddyFault(PaddyFaultKind.LEAK, START + 20 * DAY, START + 23 * DAY, leak_mm_h=4.0)], 1.0),
    ([PaddyFault(PaddyFaultKind.GATE_FORGOTTEN_OPEN, START + 12 * DAY, START + 14 * DAY)], 1.0),
    ([PaddyFault(PaddyFaultKind.LEAK, START + 5 * DAY, START + 60 * DAY, leak_mm_h=30.0),
      PaddyFault(PaddyFaultKind.GATE_FORGOTTEN_OPEN, START + 30 * DAY, START + 40 * DAY)], 1.0),
    ([], 8.0),
]
IDS = [
    "a season without faults closes",
    "a three-day levee leak closes",
    "a gate forgotten open for two days closes",
    "a leak draining faster than the gate fills, overlapping a forgotten gate, closes",
    "eightfold rain with heavy overflow closes",
]


@pytest.mark.parametrize("faults,rain_scale", CASES, ids=IDS)
def test_mass_balance_closes_over_a_season(faults: list[PaddyFault], rain_scale: float) -> None:
    paddy, _ = season(faults, rain_scale=rain_scale)
    lg = paddy.ledger
    assert lg.in_mm > 500, "the season must move real water for the check to mean anything"
    assert abs(lg.in_mm - lg.out_mm - (paddy.storage_mm - paddy.initial_storage_mm)) <= 0.1
    assert abs(paddy.balance_error_mm()) <= 0.1


def test_a_leak_lowers_the_water_and_is_booked_as_leak() -> None:
    fault = PaddyFault(PaddyFaultKind.LEAK, START + 20 * DAY, START + 23 * DAY, leak_mm_h=4.0)
    clean, clean_levels = season([])
    leaky, leaky_levels = season([fault])
    assert clean.ledger.leak_mm == 0
    assert leaky.ledger.leak_mm > 50
    i0, i1 = int(20 * DAY / STEP_S), int(23 * DAY / STEP_S)
    mean_drop_mm = sum(b - a for a, b in zip(leaky_levels[i0:i1], clean_levels[i0:i1])) / (i1 - i0)
    assert mean_drop_mm > 5  # the farmer refills twice a day, so the level sags between visits
    assert leaky.ledger.inflow_mm > clean.ledger.inflow_mm + 50  # and the leak shows on the water bill


def test_a_forgotten_open_gate_overflows_at_the_weir() -> None:
    fault = PaddyFault(PaddyFaultKind.GATE_FORGOTTEN_OPEN, START + 12 * DAY, START + 14 * DAY)
    clean, _ = season([])
    forgot, levels = season([fault])
    assert forgot.ledger.overflow_mm > clean.ledger.overflow_mm + 100
    i = int(13.5 * DAY / STEP_S)
    assert levels[i] > 30.0  # held at or above the weir crest (50 mm at tillering) minus what overflows


def test_one_step_matches_a_hand_sum() -> None:
    # 8 L/s for 1 h onto 3000 m2: 8 * 3600 / 3000 = 9.6 mm. Start 40 mm, weir at 60 mm: no overflow.
    # ET 0.5 mm; percolation 10/24 = 0.41667 mm; seepage 3/24 = 0.125 mm.
    p = Paddy(area_m2=3000, storage_mm=40.0, gate_flow_l_s=8.0, weir_crest_mm=60.0, gate_open=True)
    p.step(START, 1.0, et0_mm=0.5 / 1.2, rain_mm=2.0, kc=1.2)
    assert_allclose(p.ledger.inflow_mm, 9.6, rtol=1e-12)
    assert_allclose(p.ledger.percolation_mm, 10 / 24, rtol=1e-12)
    assert_allclose(p.storage_mm, 40 + 9.6 + 2.0 - 0.5 - 10 / 24 - 3 / 24, rtol=1e-12)


def test_weir_overflow_follows_the_francis_formula() -> None:
    # Head 20 mm over a 0.3 m crest: Q = 1.84 * 0.3 * 0.02^1.5 = 1.5613e-3 m3/s; one hour over 3000 m2:
    # 1.5613e-3 * 3600 / 3000 * 1000 = 1.8736 mm (the head falls only 1.9 mm, so one step is close).
    p = Paddy(area_m2=3000, storage_mm=80.0, weir_crest_mm=60.0, percolation_mm_day=0, seepage_mm_day=0)
    p.step(START, 1.0, et0_mm=0.0, rain_mm=0.0)
    assert_allclose(p.ledger.overflow_mm, 1.84 * 0.3 * 0.02 ** 1.5 * 3600 / 3000 * 1000, rtol=1e-9)
    assert_allclose(p.ledger.overflow_mm, 1.8736, atol=1e-4)


def test_drained_paddy_reads_a_falling_water_table_below_the_surface() -> None:
    p = Paddy(storage_mm=2.0, weir_crest_mm=0.0)
    for k in range(48):
        p.step(START + k * 3600, 1.0, et0_mm=0.2, rain_mm=0.0)
    assert p.level_mm < -20  # ET keeps drawing water out of the soil: Sy 0.15 turns 1 mm into about 6.7 mm of fall
    assert math.isclose(p.balance_error_mm(), 0.0, abs_tol=1e-9)


@settings(max_examples=80, deadline=None)
@given(start_mm=st.floats(-40, 250), crest_mm=st.floats(0, 200), steps=st.lists(
    st.tuples(st.booleans(), st.floats(0, 60), st.floats(0, 1.5), st.floats(0, 40)), min_size=1, max_size=60))
def test_any_sequence_of_gate_rain_et_and_leaks_closes_the_books(start_mm: float, crest_mm: float,
                                                                 steps: list[tuple[bool, float, float, float]]) -> None:
    p = Paddy(storage_mm=start_mm, weir_crest_mm=crest_mm)
    for k, (gate, rain_mm, et0_mm, leak_mm_h) in enumerate(steps):
        t = START + k * 3600
        p.gate_open = gate
        p.faults = [PaddyFault(PaddyFaultKind.LEAK, t, t + 3600, leak_mm_h=leak_mm_h)]
        p.step(t, 1.0, et0_mm, rain_mm)
        assert p.level_mm >= p.min_level_mm - 1e-9
    assert abs(p.balance_error_mm()) <= 1e-6
    assert all(v >= 0 for v in vars(p.ledger).values())
