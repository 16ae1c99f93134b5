"""Every action and reason has a Japanese and an English sentence that renders with the engine's figures."""
from __future__ import annotations

import string

import numpy as np
import pytest
from agronomy_builders import day_range, fields, forecast, level_series, observed, unix_s

from backend.agronomy import advice as adv
from backend.agronomy.advice import Action, History, ReasonCode, advise
from backend.agronomy.weather import WeatherInput


def _fields_used(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("kind, code", [("action", a.value) for a in Action] + [("reason", r.value) for r in ReasonCode])
def test_each_code_has_both_languages_quoting_only_known_figures(kind, code):
    t10 = adv._MESSAGES[kind][code]
    assert set(t10) == {"ja", "en"} and t10["ja"] and t10["en"]
    # a figure each advice row carries (engine numbers, dates as text, stage names, days)
    known = {"amount_mm", "amount_l", "days", "cross_days", "depletion_mm", "raw_mm", "taw_mm", "rain_mm", "level_cm",
             "level_age_h", "fall_cm_h", "expected_cm_h", "outlet_cm", "target_min_cm", "target_max_cm",
             "running_mean_c", "coldest_night_c", "stage_end_ja", "stage_end_en", "night_date_ja", "night_date_en",
             "stage_ja", "stage_en"}
    assert _fields_used(t10["ja"]) <= known and _fields_used(t10["en"]) <= known
    def same(names: set[str]) -> set[str]:
        return {x.removesuffix("_ja").removesuffix("_en") for x in names}
    assert same(_fields_used(t10["ja"])) == same(_fields_used(t10["en"]))  # both languages quote the same figures


def test_a_mixed_morning_renders_every_text_without_error():
    n = 6
    table = fields(["apple", "soybean", "vegetables", "rice", "rice", "rice"], season_start="2026-05-20",
                   heading_date=np.array(["2026-08-06"] * n, dtype="datetime64[D]"),
                   outlet_height_cm=np.full(n, 20.0))
    days = day_range("2026-07-13", 14)
    t, lvl = level_series("2026-07-27T05:00", 6, 20, lambda h: 11.0 + 0 * h)
    levels = np.repeat(lvl[None, :], n, axis=0)
    levels[4] = np.nan
    got = advise(table, History(days, vwc_pct=np.full((n, 14), 20.0), level_t_unix_s=t, level_cm=levels),
                 WeatherInput(observed(np.full(14, 26.0), np.full(14, 15.0), np.zeros(14)),
                              forecast("2026-07-27", [16.0] * 5, [24.0] * 5)), now_unix_s=unix_s("2026-07-27T05:00"))
    for a in got:
        assert a.message_ja and a.message_en
        assert "{" not in a.message_ja + a.message_en and "nan" not in a.message_en.lower()
