"""The registry -> engine adapter and the `advice` line: names, dates and frozen field types."""
from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from backend.advisor.fields import to_field_table
from backend.advisor.writeback import advice_line, bucket_ms
from backend.agronomy import paddy

RULES = paddy.load_rules()
SITES = {"s": {"id": "s", "latitude_deg": 40.81, "elevation_m": 10.0}}
TODAY = date(2026, 7, 27)


def row(**values: Any) -> dict[str, Any]:
    base = {"id": "f1", "site": "s", "name": "", "crop": "apple", "soil_texture": "loam", "area_m2": 1000.0,
            "root_depth_m": None, "transplant_date": None, "bloom_date": "2026-05-20", "growth_stage": None,
            "cold_sensitive_variety": False, "level_min_cm": None, "level_max_cm": None, "geometry": None}
    return {**base, **values}


@pytest.mark.parametrize("values, column, expected", [
    ({}, "field_id", "f1"),
    ({}, "season_start", np.datetime64("2026-04-25")),
    ({"crop": "paddy", "transplant_date": "2026-05-20", "bloom_date": None}, "season_start", np.datetime64("2026-05-20")),
    ({"crop": "paddy", "transplant_date": "2026-05-20", "growth_stage": "meiosis"}, "stage_override", "meiosis"),
    ({"growth_stage": "meiosis"}, "stage_override", ""),
    ({"crop": "paddy", "transplant_date": "2026-05-20", "cold_sensitive_variety": True}, "cold_sensitive", True),
    ({"crop": "paddy", "transplant_date": "2026-05-20", "level_max_cm": 18.0}, "outlet_height_cm", 18.0),
    ({"crop": "soy", "transplant_date": "2026-06-01"}, "crop", "soybean"),
    ({"crop": "vegetable", "transplant_date": "2026-06-01"}, "crop", "vegetables"),
    ({"crop": "paddy", "transplant_date": "2026-05-20"}, "crop", "rice"),
], ids=["the registry id is the engine's field_id",
        "an apple's season starts at green tip, 25 days before full bloom",
        "a paddy's season starts at transplanting",
        "a paddy's growth stage set by the farmer overrides the dates",
        "an orchard's growth stage is not a paddy stage override",
        "a cold-sensitive variety is cold_sensitive",
        "a paddy's level_max_cm is its outlet height",
        "soy is the engine's soybean", "vegetable is the engine's vegetables", "paddy is the engine's rice"])
def test_registry_names_map_onto_the_engines(values: dict[str, Any], column: str, expected: Any) -> None:
    got = to_field_table([row(**values)], SITES, TODAY, RULES)
    assert got.table is not None and not got.unadvisable
    assert getattr(got.table, column)[0] == expected


@pytest.mark.parametrize("values, missing", [
    ({"crop": "wheat"}, ["crop"]),
    ({"crop": "vegetable", "transplant_date": None}, ["transplant_date"]),
    ({"soil_texture": None}, ["soil_texture"]),
    ({"site": "nowhere"}, ["latitude_deg"]),
], ids=["wheat has no advice yet", "vegetables without a sowing date cannot be advised",
        "an orchard without soil texture has no water balance", "a field without any location has no sun angle"])
def test_fields_that_cannot_be_advised_say_why(values: dict[str, Any], missing: list[str]) -> None:
    got = to_field_table([row(**values)], SITES, TODAY, RULES)
    assert got.table is None and got.unadvisable["f1"][3] == missing


@pytest.mark.parametrize("values, gaps", [
    ({"bloom_date": None}, ["bloom_date"]),
    ({"area_m2": None}, ["area_m2"]),
    ({"crop": "paddy", "growth_stage": "tillering", "bloom_date": None}, ["transplant_date"]),
    ({"crop": "paddy", "transplant_date": "2026-05-20", "growth_stage": "booting"}, ["growth_stage"]),
], ids=["an orchard without a bloom date is advised from 25 April and says so",
        "a field without an area gets no litres and says so",
        "a paddy with a stage but no transplant date is advised by its stage",
        "an unknown stage id is ignored and said"])
def test_gaps_are_advised_around_and_named(values: dict[str, Any], gaps: list[str]) -> None:
    got = to_field_table([row(**values)], SITES, TODAY, RULES)
    assert got.table is not None and got.gaps["f1"] == gaps


def test_the_advice_line_keeps_frozen_types_and_leaves_out_what_does_not_apply() -> None:
    values = {"action": "not_needed", "urgency": 0, "amount_mm": 0.0, "amount_l": float("nan"), "target_min_cm": None,
              "target_max_cm": None, "message_ja": 'かん水は不要です。"雨"', "message_en": "No irrigation needed."}
    # urgency 0 is written 0.0 (a float, never 0i), NaN and None are left out, quotes escaped
    assert advice_line("s", "f1", values, 1_785_106_800_000) == (
        'advice,field_id=f1,site=s action="not_needed",urgency=0.0,amount_mm=0.0,'
        'message_ja="かん水は不要です。\\"雨\\"",message_en="No irrigation needed." 1785106800000')


def test_a_bucket_starts_on_the_hour() -> None:
    assert bucket_ms(1_785_106_800_000 + 59 * 60_000, 3600) == 1_785_106_800_000
    assert bucket_ms(1_785_106_800_000 + 3_600_000, 3600) == 1_785_106_800_000 + 3_600_000


def test_a_fields_daily_soil_moisture_is_the_mean_of_its_probes() -> None:
    from backend.advisor.readings import _by_field, day_start_ms
    from backend.history import Series

    day = np.datetime64("2026-07-08")
    t = np.array([day_start_ms(day) + 3_600_000, day_start_ms(day) + 86_400_000 + 3_600_000], dtype=np.int64)
    series = [Series({"field_id": "f1", "device_id": "s-01"}, t, {"vwc_pct": np.array([12.0, np.nan])}),
              Series({"field_id": "f1", "device_id": "s-02"}, t, {"vwc_pct": np.array([16.0, 20.0])}),
              Series({"field_id": "other", "device_id": "s-03"}, t, {"vwc_pct": np.array([50.0, 50.0])})]
    got = _by_field(series, ["f1", "f2"], "vwc_pct", day, 3)
    np.testing.assert_array_equal(got, [[14.0, 20.0, np.nan], [np.nan, np.nan, np.nan]])
