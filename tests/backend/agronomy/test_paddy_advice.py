"""Paddy rules and advice scenarios: stages, cold-water deepening, leaks, overflow, drainage, degraded data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from agronomy_builders import day_range, fields, forecast, level_series, observed, unix_s
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.agronomy import paddy
from backend.agronomy.advice import Action, History, ReasonCode, Urgency, advise, sort_by_urgency
from backend.agronomy.weather import WeatherInput

TRANSPLANT = "2026-05-20"
HEADING = np.datetime64("2026-08-06")
RULES = paddy.load_rules()


def _paddy(n: int = 1, **columns):
    cols = dict(heading_date=np.full(n, HEADING), outlet_height_cm=np.full(n, 20.0))
    cols.update(columns)
    return fields(["rice"] * n, season_start=TRANSPLANT, **cols)


def _advise(today: str, level_at, *, tmax=27.0, tmin=20.0, fc_tmin=None, n=1, hours=6.0, step_min=10.0,
            now_time="05:00", **columns):
    """One paddy on the morning of `today`: 14 station days of tmax/tmin, optional forecast, a level series."""
    days = day_range(str(np.datetime64(today) - np.timedelta64(14, "D")), 14)
    obs = observed(np.full(14, tmax), np.full(14, tmin), np.zeros(14)) if tmax is not None else None
    fc = None if fc_tmin is None else forecast(today, fc_tmin, [t + 7.0 for t in fc_tmin])
    now = f"{today}T{now_time}"
    t, lvl = level_series(now, hours, step_min, level_at)
    hist = History(days, level_t_unix_s=t, level_cm=np.repeat(lvl[None, :], n, axis=0))
    return advise(_paddy(n, **columns), hist, WeatherInput(obs, fc), now_unix_s=unix_s(now))


def flat(level_cm):
    return lambda h: np.full_like(h, level_cm)


@pytest.mark.parametrize("today, stage", [
    ("2026-05-23", "establishment"), ("2026-06-10", "tillering"), ("2026-06-25", "midseason_drainage"),
    ("2026-07-12", "panicle_formation"), ("2026-07-27", "meiosis"), ("2026-08-06", "heading_ripening"),
    ("2026-09-03", "final_drainage"), ("2026-05-01", None)],
    ids=["3 days after transplanting the seedlings are establishing",
         "3 weeks after transplanting is tillering", "5 weeks after transplanting is mid-season drainage",
         "25 days before heading is panicle formation", "10 days before heading is meiosis (booting)",
         "heading day is heading and ripening", "28 days after heading is final drainage",
         "before transplanting there is no stage"])
def test_stage_follows_transplant_and_heading_dates(today, stage):
    st = paddy.stage_today(RULES, np.datetime64(today), np.array([TRANSPLANT], dtype="datetime64[D]"),
                           np.array([HEADING]))
    got = None if st.index[0] < 0 else RULES.stages[st.index[0]].id
    assert got == stage


def test_unknown_heading_uses_the_tables_default_and_the_farmer_can_set_the_stage():
    nat = np.array(["NaT"], dtype="datetime64[D]")
    tp = np.array([TRANSPLANT], dtype="datetime64[D]")
    assert paddy.heading_or_default(RULES, tp, nat)[0] == tp[0] + np.timedelta64(RULES.transplant_to_heading_days, "D")
    st = paddy.stage_today(RULES, np.datetime64("2026-06-10"), tp, nat, override=np.array(["meiosis"], dtype=object))
    assert RULES.stages[st.index[0]].id == "meiosis"
    with pytest.raises(ValueError, match="row 0: stage override 'booting'"):
        paddy.stage_today(RULES, np.datetime64("2026-06-10"), tp, nat, override=np.array(["booting"], dtype=object))


def test_every_stage_row_names_its_source():
    assert all(s.source.strip() for s in RULES.stages)
    meiosis = RULES.stages[RULES.stage_ids().index("meiosis")]
    assert meiosis.band_min_cm >= 10.0 and meiosis.cold_band_min_cm >= 15.0  # DOMAIN.md: >= 10, >= 15 when cold


def test_the_depth_rises_to_10_cm_through_panicle_formation():
    k = RULES.stage_ids().index("panicle_formation")
    lo_start, _ = paddy.target_band_cm(RULES, paddy.StageState(np.array([k]), np.array([0.0]),
                                                               np.array(["NaT"], dtype="datetime64[D]")), [False])
    lo_end, _ = paddy.target_band_cm(RULES, paddy.StageState(np.array([k]), np.array([1.0]),
                                                             np.array(["NaT"], dtype="datetime64[D]")), [False])
    assert 4.0 <= lo_start[0] <= 6.0 and lo_end[0] >= 10.0


def test_a_broken_rules_table_is_refused_with_the_stage_and_key(tmp_path: Path):
    text = RULES_TEXT.replace('band_min_cm = 10.0\nband_max_cm = 15.0', 'band_min_cm = 16.0\nband_max_cm = 15.0')
    bad = tmp_path / "rules.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"stage #5 \(meiosis\): band_min_cm 16.0 is above band_max_cm 15.0"):
        paddy.load_rules(bad)
    bad.write_text(RULES_TEXT.replace('mode = "drained"', 'mode = "dry"'), encoding="utf-8")
    with pytest.raises(ValueError, match=r"final_drainage\): mode 'dry'"):
        paddy.load_rules(bad)


RULES_TEXT = paddy.RULES_PATH.read_text(encoding="utf-8")


def test_booting_paddy_with_a_cold_night_forecast_is_told_to_deepen_to_15_cm():
    a = _advise("2026-07-27", flat(11.0), fc_tmin=[19.0, 16.0, 18.0, 20.0, 21.0])[0]
    assert a.stage == "meiosis"
    assert a.action is Action.DEEPEN and a.urgency is Urgency.HIGH
    assert a.target_min_cm == 15.0 and a.target_max_cm == 20.0
    assert ReasonCode.COLD_NIGHT_FORECAST in a.reasons
    assert a.message_ja.startswith("深水にしてください: 15 cm 以上")
    assert "7月28日" in a.message_ja and "16 ℃" in a.message_ja
    assert "at least 15 cm" in a.message_en and "28 Jul" in a.message_en
    assert np.isclose(a.amount_mm, (17.5 - 11.0) * 10.0)  # to the middle of 15-20 cm
    warm = _advise("2026-07-27", flat(11.0), fc_tmin=[19.0, 19.5, 20.0, 20.0, 21.0])[0]
    assert warm.action is Action.HOLD and (warm.target_min_cm, warm.target_max_cm) == (10.0, 15.0)


@pytest.mark.parametrize("mean_c, sensitive, action, reason", [
    (16.5, False, Action.DEEPEN, ReasonCode.COLD_RUNNING_MEAN),
    (18.5, True, Action.DEEPEN, ReasonCode.COLD_SENSITIVE_VARIETY),
    (18.5, False, Action.HOLD, ReasonCode.COLD_CONSIDER),
    (21.0, True, Action.HOLD, ReasonCode.COLD_CONSIDER),
    (23.0, True, Action.HOLD, None)],
    ids=["a 7-day mean under 17 C calls for deep water for any variety",
         "17-20 C calls for deep water for a cold-sensitive variety",
         "17-20 C for a hardy variety is only a warning to be ready",
         "20-22 C is a warning to be ready", "22 C and above needs nothing"])
def test_naro_running_mean_trigger_in_meiosis(mean_c, sensitive, action, reason):
    a = _advise("2026-07-27", flat(11.0), tmax=mean_c + 4.0, tmin=mean_c - 4.0,
                fc_tmin=[20.0, 20.0, 20.0, 20.0, 20.0], cold_sensitive=np.array([sensitive]))[0]
    assert a.action is action
    cold_reasons = {ReasonCode.COLD_RUNNING_MEAN, ReasonCode.COLD_SENSITIVE_VARIETY, ReasonCode.COLD_CONSIDER}
    assert (cold_reasons & set(a.reasons)) == ({reason} if reason else set())


@pytest.mark.parametrize("last_nights, action", [([21.0, 19.5, 18.0], Action.DEEPEN), ([20.5, 21.0, 20.5], Action.HOLD)],
                         ids=["nights falling 1.5 C a day towards 16.5 C deepen", "steady 20-21 C nights hold"])
def test_without_a_forecast_the_night_temperature_trend_decides_and_says_so(last_nights, action):
    days = day_range("2026-07-13", 14)
    tmin = np.full(14, 21.0)
    tmin[-3:] = last_nights
    t, lvl = level_series("2026-07-27T05:00", 6, 10, flat(11.0))
    a = advise(_paddy(), History(days, level_t_unix_s=t, level_cm=lvl[None, :]),
               WeatherInput(observed(tmin + 8.0, tmin, np.zeros(14)), None), now_unix_s=unix_s("2026-07-27T05:00"))[0]
    assert a.action is action
    assert (ReasonCode.COLD_NIGHT_TREND in a.reasons) == (action is Action.DEEPEN)
    assert ReasonCode.NO_FORECAST in a.reasons
    assert "天気予報がない" in a.message_ja and "No forecast" in a.message_en


def _leaking(start_h_before_now: float, rng: np.random.Generator):
    """Normal loss 0.08 cm/h, then a leak of 1 cm/h from start_h_before_now; sensor noise sd 0.15 cm."""
    def at(h):
        normal = 12.0 + 0.08 * h
        leak = np.where(h < start_h_before_now, 1.0 * (start_h_before_now - h), 0.0)
        return normal - leak + rng.normal(0.0, 0.15, size=h.shape)
    return at


@pytest.mark.parametrize("step_min", [10, 20], ids=["10-minute level readings", "20-minute level readings (WATARAS)"])
def test_a_paddy_leaking_1_cm_per_hour_at_night_is_flagged_within_hours(step_min):
    rng = np.random.default_rng(7)
    leak_start = unix_s("2026-07-27T01:00")
    days = day_range("2026-07-12", 14)
    wx = WeatherInput(observed(np.full(14, 27.0), np.full(14, 20.0), np.zeros(14)),
                      forecast("2026-07-26", [20.0] * 5, [27.0] * 5))
    # one series from 18:00 to 06:00, advice re-run every 10 min as new readings arrive
    t, lvl = level_series("2026-07-27T06:00", 12, step_min, _leaking(5.0, rng))
    flagged_at = None
    for now in t[t >= unix_s("2026-07-26T21:00")]:
        a = advise(_paddy(), History(days, level_t_unix_s=t, level_cm=lvl[None, :]), wx, now_unix_s=float(now))[0]
        if a.action is Action.CHECK_LEAK:
            flagged_at = now
            break
        assert now <= leak_start + 3600 * 3, "not flagged within 3 hours"
    assert flagged_at is not None and leak_start < flagged_at <= leak_start + 2 * 3600  # measured: 80-100 min
    assert a.urgency is Urgency.CRITICAL and "漏水" in a.message_ja and "leak" in a.message_en


def test_normal_night_losses_never_raise_a_leak_alarm():
    days = day_range("2026-07-12", 14)
    wx = WeatherInput(observed(np.full(14, 27.0), np.full(14, 20.0), np.zeros(14)),
                      forecast("2026-07-26", [20.0] * 5, [27.0] * 5))
    for seed in range(5):
        rng = np.random.default_rng(seed)
        t, lvl = level_series("2026-07-27T06:00", 12, 10, lambda h: 12.0 + 0.08 * h + rng.normal(0, 0.15, h.shape))
        for now in t[30::3]:
            a = advise(_paddy(), History(days, level_t_unix_s=t, level_cm=lvl[None, :]), wx, now_unix_s=float(now))[0]
            assert a.action is not Action.CHECK_LEAK


def test_draining_on_purpose_is_not_a_leak():
    a = _advise("2026-06-25", lambda h: 3.0 + 1.0 * h, fc_tmin=[18.0] * 5)[0]  # falling 1 cm/h in 中干し
    assert a.action is Action.DRAIN and ReasonCode.DRAIN_UNTIL_CRACKS in a.reasons
    assert "小さなひび" in a.message_ja and "7月9日" in a.message_ja  # heading 6 Aug - 28 days


def test_water_at_the_outlet_is_an_overflow_to_lower():
    a = _advise("2026-06-10", flat(19.5), fc_tmin=[18.0] * 5)[0]
    assert a.action is Action.LOWER and a.urgency is Urgency.HIGH and ReasonCode.OVERFLOW in a.reasons


def test_too_low_in_tillering_asks_for_water_with_litres():
    a = _advise("2026-06-10", flat(0.5), fc_tmin=[18.0] * 5)[0]
    assert a.action is Action.FILL and a.target_min_cm == 2.0
    assert np.isclose(a.amount_l, (3.0 - 0.5) * 10.0 * 1000.0)  # 25 mm over 1000 m2


def test_final_drainage_25_days_after_heading():
    a = _advise("2026-09-03", flat(2.5), fc_tmin=[15.0] * 5)[0]
    assert a.action is Action.DRAIN and ReasonCode.FINAL_DRAINAGE in a.reasons
    dry = _advise("2026-09-03", flat(0.0), fc_tmin=[15.0] * 5)[0]
    assert dry.action is Action.HOLD


@pytest.mark.parametrize("today", ["2026-06-25", "2026-09-03"], ids=["mid-season drainage", "final drainage"])
def test_a_paddy_drained_on_purpose_is_told_to_keep_it_dry_not_to_hold_a_0_0_cm_band(today):
    a = _advise(today, flat(-2.0), fc_tmin=[18.0] * 5)[0]
    assert a.action is Action.HOLD
    assert a.message_ja.startswith("水を入れず、乾いたままにしてください (水位 -2.0 cm")
    assert a.message_en.startswith("Keep the paddy dry, let no water in (level -2.0 cm")
    assert "0-0 cm" not in a.message_ja + a.message_en


def test_a_silent_level_sensor_gives_no_level_advice_but_the_target():
    # readings stop 5 hours before now
    a = _advise("2026-07-27", lambda h: np.where(h > 5.0, 11.0, np.nan), hours=8, fc_tmin=[20.0] * 5)[0]
    assert a.action is Action.NO_DATA and ReasonCode.LEVEL_STALE in a.reasons
    assert "10-15 cm" in a.message_ja and "5 hours old" in a.message_en


def test_a_leak_sorts_before_a_cold_warning_before_a_quiet_paddy():
    rng = np.random.default_rng(3)
    t, leaky = level_series("2026-07-27T05:00", 6, 10, _leaking(3.0, rng))
    _, ok = level_series("2026-07-27T05:00", 6, 10, flat(11.0))
    days = day_range("2026-07-13", 14)
    levels = np.stack([ok, leaky, ok])
    table = _paddy(3, heading_date=np.array([HEADING, HEADING, HEADING + np.timedelta64(20, "D")]))
    got = advise(table, History(days, level_t_unix_s=t, level_cm=levels),
                 WeatherInput(observed(np.full(14, 27.0), np.full(14, 20.0), np.zeros(14)),
                              forecast("2026-07-27", [16.0] * 5, [23.0] * 5)),
                 now_unix_s=unix_s("2026-07-27T05:00"))
    assert [a.action for a in sort_by_urgency(got)][:2] == [Action.CHECK_LEAK, Action.DEEPEN]


def test_a_cool_june_does_not_flood_tillering_paddies_but_a_frost_night_deepens_new_seedlings():
    """The NARO 17 C trigger is for the cold-sensitive stages; early stages react only to a cold night."""
    tiller = _advise("2026-06-10", flat(3.0), tmax=20.0, tmin=12.0, fc_tmin=[12.0, 13.0, 12.0, 14.0, 13.0])[0]
    assert tiller.stage == "tillering" and tiller.action is Action.HOLD
    assert not {ReasonCode.COLD_RUNNING_MEAN, ReasonCode.COLD_NIGHT_FORECAST} & set(tiller.reasons)
    seedlings = _advise("2026-05-23", flat(3.5), tmax=18.0, tmin=9.0, fc_tmin=[11.0, 8.0, 11.0, 12.0, 12.0])[0]
    assert seedlings.stage == "establishment" and seedlings.action is Action.DEEPEN
    assert (seedlings.target_min_cm, seedlings.target_max_cm) == (5.0, 7.0)


def test_rules_refuse_a_cold_band_without_a_trigger(tmp_path: Path):
    bad = tmp_path / "rules.toml"
    bad.write_text(RULES_TEXT.replace('cold_trigger = "naro"\nmode = "flooded"\nleak_check = true\n'
                                      'source = "[naro] [iwate]: 減数分裂期',
                                      'mode = "flooded"\nleak_check = true\nsource = "[naro] [iwate]: 減数分裂期'),
                   encoding="utf-8")
    with pytest.raises(ValueError, match=r"meiosis\): cold_band_min_cm/max_cm and cold_trigger go together"):
        paddy.load_rules(bad)


def test_advice_serialises_to_json_with_texts():
    import json
    a = _advise("2026-07-27", flat(11.0), fc_tmin=[19.0, 16.0, 18.0, 20.0, 21.0])[0]
    doc = json.loads(json.dumps(a.to_dict(), ensure_ascii=False))
    assert doc["action"] == "deepen" and doc["urgency_name"] == "high" and doc["target_min_cm"] == 15.0
    assert doc["message_ja"] == a.message_ja and "cold_night_forecast" in doc["reasons"]


def test_without_a_station_the_forecast_still_protects_and_the_advice_says_what_was_skipped():
    a = _advise("2026-07-27", flat(11.0), tmax=None, fc_tmin=[19.0, 16.0, 18.0, 20.0, 21.0])[0]
    assert a.action is Action.DEEPEN
    assert ReasonCode.NO_STATION_MEAN in a.reasons and ReasonCode.NO_COLD_CHECK not in a.reasons
    blind = _advise("2026-07-27", flat(11.0), tmax=None, fc_tmin=None)[0]
    assert blind.action is Action.HOLD
    assert ReasonCode.NO_COLD_CHECK in blind.reasons and ReasonCode.NO_FORECAST not in blind.reasons
    assert "冷え込みの判定ができません" in blind.message_ja


def test_at_least_15_cm_means_at_least_when_a_cold_night_comes():
    a = _advise("2026-07-27", flat(14.6), fc_tmin=[16.0] * 5)[0]
    assert a.action is Action.DEEPEN and np.isclose(a.amount_mm, (17.5 - 14.6) * 10.0)
    ok = _advise("2026-07-27", flat(15.2), fc_tmin=[16.0] * 5)[0]
    assert ok.action is Action.HOLD


@settings(max_examples=40, deadline=None)
@given(tmin=st.lists(st.floats(8, 26), min_size=5, max_size=5), warmer=st.floats(0, 8),
       mean_c=st.floats(14, 26), day=st.integers(0, 40), sensitive=st.booleans())
def test_warmer_weather_never_asks_for_deeper_water(tmin, warmer, mean_c, day, sensitive):
    today = str(np.datetime64("2026-07-05") + np.timedelta64(day, "D"))
    kw = dict(tmax=mean_c + 4.0, cold_sensitive=np.array([sensitive]))
    cold = _advise(today, flat(8.0), tmin=mean_c - 4.0, fc_tmin=tmin, **kw)[0]
    warm = _advise(today, flat(8.0), tmin=mean_c - 4.0 + warmer, fc_tmin=[t + warmer for t in tmin], **kw)[0]
    if cold.target_min_cm is not None:
        assert warm.target_min_cm <= cold.target_min_cm
    assert not (warm.action is Action.DEEPEN and cold.action is not Action.DEEPEN)


@pytest.mark.parametrize("step_min, noise_cm", [(10, 0.3), (20, 0.3)],
                         ids=["10-minute readings with 0.3 cm of ripple", "20-minute readings with 0.3 cm of ripple"])
def test_a_noisy_level_sensor_raises_no_false_leak_alarms_over_2000_paddy_nights(step_min, noise_cm):
    rng = np.random.default_rng(11)
    t = np.arange(0.0, 3 * 3600 + 1, step_min * 60.0)
    normal = 12.0 - 0.08 * (t / 3600.0)  # ET + percolation, 0.08 cm/h
    levels = normal[None, :] + rng.normal(0.0, noise_cm, (2000, t.size))
    trend = paddy.level_trend(t, levels, t[-1], RULES.leak_window_h)
    expected = paddy.expected_loss_cm_h(5.0, 15.0)
    assert not paddy.leak_suspected(RULES, trend, np.full(2000, expected)).any()
    leaking = levels - 1.0 * (t / 3600.0)[None, :]  # the same nights with a 1 cm/h leak for the whole window
    assert paddy.leak_suspected(RULES, paddy.level_trend(t, leaking, t[-1], RULES.leak_window_h),
                                np.full(2000, expected)).mean() > 0.99
