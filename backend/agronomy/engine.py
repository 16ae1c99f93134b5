"""The vectorised advice engine: every field at once, as arrays (one row per field).

`compute` runs the FAO-56 balance for upland crops and the paddy rules for rice, then decides each field's
action, urgency, amounts and reasons with array operations only. advice.py turns the rows into Advice objects.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backend.agronomy import crops, et0, paddy, soils, waterbalance
from backend.agronomy.codes import PART_REASON, Action, ReasonCode, Urgency
from backend.agronomy.inputs import FieldTable, History, check_shapes, column
from backend.agronomy.weather import WeatherInput, WeatherPart, forecast_from, jst_day

F = NDArray[np.float64]
TREND_DAYS = 7  # without a forecast, ETc ahead = mean ET0 of the last 7 days x Kc, for 7 days
SENSOR_ONLY_MAX_AGE_DAYS = 3  # without a station, a soil reading older than this is no basis for advice
DEFAULT_SENSOR_TRUST = 0.6
ACTIONS: tuple[Action, ...] = tuple(Action)
REASONS: tuple[ReasonCode, ...] = tuple(ReasonCode)
_A = {a: i for i, a in enumerate(ACTIONS)}
_R = {r: i for i, r in enumerate(REASONS)}
_UPLAND_WEATHER = (WeatherPart.STATION, WeatherPart.STATION_RAIN, WeatherPart.HUMIDITY, WeatherPart.RADIATION,
                   WeatherPart.WIND, WeatherPart.FORECAST, WeatherPart.FORECAST_RAIN)


@dataclass(frozen=True)
class AdviceColumns:
    """Advice for n fields as columns; `advice.rows` turns them into Advice objects."""

    today: np.datetime64
    action: NDArray[np.int64]  # index into ACTIONS
    urgency: NDArray[np.int64]  # Urgency values
    reasons: NDArray[np.bool_]  # (n, len(REASONS)), in REASONS order
    amount_mm: F
    days: NDArray[np.int64]  # -1: not applicable
    target_min_cm: F  # NaN: not applicable
    target_max_cm: F
    stage: NDArray[np.int64]  # index into rules.stages, -1: none (upland, or before transplanting)
    numbers: dict[str, F]  # the figures the message templates quote, one array each
    dates: dict[str, NDArray[np.datetime64]]  # dates the templates quote (NaT: none)


def _day_of_year(days: NDArray[np.datetime64]) -> F:
    d = np.asarray(days, dtype="datetime64[D]")
    return (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.float64) + 1.0


def _row_fill(a: F) -> F:
    """NaN entries of each row replaced by the row's finite mean (station gaps); all-NaN rows stay NaN."""
    finite = np.isfinite(a)
    cnt = finite.sum(axis=1, keepdims=True)
    mean = np.where(cnt > 0, np.where(finite, a, 0.0).sum(axis=1, keepdims=True) / np.maximum(cnt, 1), np.nan)
    return np.where(finite, a, mean)


def compute(fields: FieldTable, history: History, weather: WeatherInput, now_unix_s: float,
            rules: paddy.PaddyRules) -> AdviceColumns:
    """All fields' advice as arrays (no per-field Python): the vectorised core of `advise`."""
    check_shapes(fields, history, weather)
    n = fields.n
    days = np.asarray(history.days, dtype="datetime64[D]")
    d = days.shape[0]
    today = jst_day(np.array([now_unix_s]))[0]
    if d == 0 or np.any(np.diff(days) != np.timedelta64(1, "D")) or days[-1] >= today:
        raise ValueError(f"history days must be consecutive and end before today ({today}); got {days[:1]}..{days[-1:]}")
    crop_idx = crops.crop_index(fields.crop)
    is_paddy = crop_idx == crops.CROP_ORDER.index(crops.Crop.RICE)
    lat = np.asarray(fields.latitude_deg, float)[:, None]
    elev = np.asarray(fields.elevation_m, float)[:, None]
    krs = np.where(column(fields.coastal, n, False, bool), et0.KRS_COASTAL, et0.KRS_INTERIOR)[:, None]
    start = np.asarray(fields.season_start, dtype="datetime64[D]")
    missing = weather.missing()

    # --- past days: ET0, ETc, effective rain (n, d)
    since = (days[None, :] - start[:, None]).astype(np.float64)
    kc = crops.crop_coefficient(crop_idx, since)
    o = weather.observed
    have_station = WeatherPart.STATION not in missing
    if have_station and o is not None:
        shape = (n, d)

        def cells(a: F, r: NDArray[np.intp], c: slice) -> F:
            arr = np.asarray(a, float)
            return arr[:, c] if arr.shape[0] == 1 else arr[r, c]  # a site-wide row stays one row (broadcasts)

        def optional(a: F | None, r: NDArray[np.intp], c: slice) -> F | None:
            return None if a is None else cells(a, r, c)

        def et0_block(r: NDArray[np.intp], c: slice) -> F:
            assert o is not None
            return _row_fill(et0.penman_monteith_daily(
                tmax_c=cells(o.tmax_c, r, c), tmin_c=cells(o.tmin_c, r, c), latitude_deg=lat[r],
                elevation_m=elev[r], day_of_year=_day_of_year(days[c])[None, :],
                wind_2m_m_s=optional(o.wind_2m_m_s, r, c), rh_max_pct=optional(o.rh_max_pct, r, c),
                rh_min_pct=optional(o.rh_min_pct, r, c),
                solar_radiation_mj_m2=optional(o.solar_radiation_mj_m2, r, c), krs=krs[r]))

        # Upland rows need every day for the balance; paddies only the last week (their recent ET trend).
        et0_hist = np.zeros(shape)
        up_rows, paddy_rows = np.flatnonzero(~is_paddy), np.flatnonzero(is_paddy)
        et0_hist[up_rows] = et0_block(up_rows, slice(None))
        week = slice(max(0, d - TREND_DAYS), d)
        et0_hist[paddy_rows, week] = et0_block(paddy_rows, week)
        et0_hist = np.nan_to_num(et0_hist, nan=0.0)
        rain_hist = np.zeros(shape) if o.rain_mm is None else np.broadcast_to(np.asarray(o.rain_mm, float), shape)
        tmax_h = np.broadcast_to(np.asarray(o.tmax_c, float), shape)
        tmin_h = np.broadcast_to(np.asarray(o.tmin_c, float), shape)
    else:
        et0_hist = np.zeros((n, d))
        rain_hist = np.zeros((n, d))
        tmax_h = tmin_h = np.full((n, d), np.nan)
    etc_hist = kc * et0_hist
    pe_hist = waterbalance.effective_rain_mm(rain_hist, et0_hist)

    # --- soil: TAW, RAW (n,)
    fc = column(fields.theta_fc, n, np.nan)
    wp = column(fields.theta_wp, n, np.nan)
    if np.any(~np.isfinite(fc) | ~np.isfinite(wp)):
        if fields.soil_texture is None:
            raise ValueError("field table: soil_texture is needed where theta_fc/theta_wp are not given")
        tfc, twp = soils.theta_fc_wp(fields.soil_texture)
        fc, wp = np.where(np.isfinite(fc), fc, tfc), np.where(np.isfinite(wp), wp, twp)
    zr = column(fields.root_depth_m, n, np.nan)
    zr = np.where(np.isfinite(zr), zr, crops.ROOT_DEPTH_M[crop_idx])
    taw = waterbalance.total_available_water_mm(fc, wp, zr)  # FAO-56 eq. 82
    raw = waterbalance.readily_available_water_mm(taw, crops.DEPLETION_FRACTION[crop_idx])  # FAO-56 eq. 83

    # --- balance over the past days
    trust = column(fields.sensor_trust, n, DEFAULT_SENSOR_TRUST)
    trust = np.where(np.isfinite(trust), trust, DEFAULT_SENSOR_TRUST)  # NaN: not set for this field
    ds = None
    if history.vwc_pct is not None:
        ds = waterbalance.sensor_depletion_mm(history.vwc_pct, fc, zr, taw)
    irr = np.zeros((n, d)) if history.irrigation_mm is None else np.asarray(history.irrigation_mm, float)
    start_dep = 0.0 if history.start_depletion_mm is None else history.start_depletion_mm
    if have_station:
        # Paddies are managed by depth, not depletion: run the balance on upland rows only.
        up = np.flatnonzero(~is_paddy)

        def rows_of(a: ArrayLike) -> ArrayLike:
            arr = np.asarray(a)
            return arr[up] if arr.ndim >= 1 and arr.shape[0] == n else arr

        bal = waterbalance.run_balance(
            etc_mm=etc_hist[up], rain_eff_mm=pe_hist[up], irrigation_mm=irr[up], taw_mm=taw[up],
            start_depletion_mm=rows_of(start_dep), sensor_depletion=None if ds is None else ds[up],
            sensor_trust=trust[up])
        depletion_now = np.zeros(n)
        sensor_used_today = np.zeros(n, dtype=bool)
        rejected_recent = np.zeros(n, dtype=bool)
        clipped_recent = np.zeros(n, dtype=bool)
        recent = slice(max(0, d - 3), d)
        depletion_now[up] = bal.depletion_mm[:, -1]
        sensor_used_today[up] = bal.sensor_used[:, -1]
        rejected_recent[up] = bal.sensor_rejected[:, recent].any(axis=1)
        clipped_recent[up] = bal.sensor_clipped[:, recent].all(axis=1) & bal.sensor_used[:, recent].all(axis=1)
        no_basis = np.zeros(n, dtype=bool)
    else:
        # No station: the sensor alone, if it read recently.
        if ds is None:
            depletion_now = np.full(n, np.nan)
        else:
            recent_ds = ds[:, -SENSOR_ONLY_MAX_AGE_DAYS:]
            have = np.isfinite(recent_ds)
            last = np.where(have.any(axis=1), have.shape[1] - 1 - have[:, ::-1].argmax(axis=1), 0)
            depletion_now = np.where(have.any(axis=1), recent_ds[np.arange(n), last], np.nan)
        sensor_used_today = np.isfinite(depletion_now)
        rejected_recent = clipped_recent = np.zeros(n, dtype=bool)
        no_basis = ~np.isfinite(depletion_now)
        depletion_now = np.nan_to_num(depletion_now, nan=0.0)

    # --- days ahead (n, h)
    fcast = forecast_from(today, weather.forecast, n)
    if fcast is not None:
        fdays = fcast.days
        et0_f = et0.penman_monteith_daily(tmax_c=fcast.tmax_c, tmin_c=fcast.tmin_c, latitude_deg=lat,
                                          elevation_m=elev, day_of_year=_day_of_year(fdays)[None, :],
                                          wind_2m_m_s=None, krs=krs)  # FAO-56 ch. 3: temperatures only
        recent_et0 = et0_hist[:, -TREND_DAYS:].mean(axis=1, keepdims=True) if have_station else np.nan
        et0_f = np.where(np.isfinite(et0_f), et0_f, recent_et0)
        et0_f = np.nan_to_num(et0_f, nan=0.0)
        rain_f = waterbalance.effective_rain_mm(fcast.rain_mm, et0_f)
    else:
        fdays = today + np.arange(TREND_DAYS).astype("timedelta64[D]")
        et0_f = np.repeat(et0_hist[:, -TREND_DAYS:].mean(axis=1, keepdims=True), TREND_DAYS, axis=1)
        rain_f = np.zeros_like(et0_f)
    kc_f = crops.crop_coefficient(crop_idx, (fdays[None, :] - start[:, None]).astype(np.float64))
    etc_f = kc_f * et0_f
    projected = waterbalance.project_depletion(depletion_now, etc_f, rain_f, taw)
    decision = waterbalance.decide(depletion_now, projected, raw, in_season=kc_f[:, 0] > 0)
    horizon = np.where(decision.call == waterbalance.UplandCall.IRRIGATE_IN_DAYS, decision.days + 1, etc_f.shape[1])
    in_horizon = np.arange(etc_f.shape[1])[None, :] < horizon[:, None]
    rain_ahead = np.where(in_horizon, rain_f, 0.0).sum(axis=1)

    # --- paddy
    heading = fields.heading_date if fields.heading_date is not None else np.full(n, np.datetime64("NaT", "D"))
    stage = paddy.stage_today(rules, today, start, heading, fields.stage_override)
    cold = None
    if have_station or fcast is not None:
        tmean_h = (tmax_h + tmin_h) / 2.0
        cold = paddy.cold_risk(rules, daily_mean_c=tmean_h, daily_min_c=tmin_h,
                               cold_sensitive=column(fields.cold_sensitive, n, False, bool),
                               forecast_min_c=None if fcast is None else fcast.tmin_c)
    no = np.zeros(n, dtype=bool)
    cold_c = paddy.ColdCall(no, no, no, no) if cold is None else paddy.cold_call(rules, cold, stage)
    cold_fires = cold_c.fires
    band_lo, band_hi = paddy.target_band_cm(rules, stage, cold_fires)
    if history.level_cm is not None and history.level_t_unix_s is not None:
        level, age = paddy.latest_level_cm(history.level_t_unix_s, history.level_cm, now_unix_s)
        trend = paddy.level_trend(history.level_t_unix_s, history.level_cm, now_unix_s, rules.leak_window_h)
    else:
        level = age = np.full(n, np.nan)
        trend = paddy.LevelTrend(np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=np.int64))
    fall = trend.fall_cm_h
    perc = column(fields.percolation_mm_day, n, np.nan)
    perc = np.where(np.isfinite(perc), perc, rules.percolation_mm_day)
    expected = paddy.expected_loss_cm_h(etc_f[:, 0], perc)
    k = np.maximum(stage.index, 0)
    mode = np.array([s.mode for s in rules.stages])[k]
    leak_check = np.array([s.leak_check for s in rules.stages])[k]
    fresh = np.isfinite(level) & (age <= rules.stale_after_h)
    leak = fresh & leak_check & paddy.leak_suspected(rules, trend, expected)
    outlet = column(fields.outlet_height_cm, n, np.nan)
    overflow = fresh & np.isfinite(outlet) & (level >= outlet - rules.overflow_margin_cm)
    tol = rules.tolerance_cm
    drying = (mode == "drain_until_cracks") | (mode == "drained")
    has_cold_band = np.isfinite(np.array([s.cold_band_min_cm for s in rules.stages])[k])
    deep_cold = cold_fires & has_cold_band
    # --- upland action per field
    call = decision.call
    up_action = np.select(
        [call == waterbalance.UplandCall.IRRIGATE_NOW, call == waterbalance.UplandCall.IRRIGATE_IN_DAYS,
         call == waterbalance.UplandCall.NOT_NEEDED], [_A[Action.IRRIGATE_NOW], _A[Action.IRRIGATE_IN_DAYS],
                                                        _A[Action.NOT_NEEDED]], _A[Action.OFF_SEASON])
    up_action = np.where(no_basis & (call != waterbalance.UplandCall.OFF_SEASON), _A[Action.NO_DATA], up_action)
    advised = np.isin(up_action, [_A[Action.IRRIGATE_NOW], _A[Action.IRRIGATE_IN_DAYS], _A[Action.NOT_NEEDED]])
    irrigating = np.isin(up_action, [_A[Action.IRRIGATE_NOW], _A[Action.IRRIGATE_IN_DAYS]])

    # --- paddy action per field, lowest priority first, each rule overriding the ones above
    pa = np.full(n, _A[Action.HOLD])
    # The band's edges are the water-level alert's (backend/alerts/builtin.py), with no tolerance: the
    # farmer's page shows both, and "hold the level" beside "below 2 cm, let water in" contradicts itself.
    low = level < band_lo
    soaking = (mode == "intermittent") & ~deep_cold & (level > 0.0)  # intermittent: let it soak away first
    pa = np.where(low & ~soaking, np.where(deep_cold, _A[Action.DEEPEN], _A[Action.FILL]), pa)
    pa = np.where((level > band_hi) & ~deep_cold, _A[Action.LOWER], pa)  # deeper never hurts in the cold
    pa = np.where(drying, np.where(level > tol, _A[Action.DRAIN], _A[Action.HOLD]), pa)
    pa = np.where(overflow, _A[Action.LOWER], pa)
    pa = np.where(leak, _A[Action.CHECK_LEAK], pa)
    pa = np.where(fresh, pa, _A[Action.NO_DATA])
    pa = np.where(stage.index < 0, _A[Action.OFF_SEASON], pa)

    action = np.where(is_paddy, pa, up_action)
    days_out = np.where(~is_paddy & irrigating, decision.days, -1)
    paddy_amount = np.where((pa == _A[Action.FILL]) | (pa == _A[Action.DEEPEN]),
                            np.maximum(0.0, ((band_lo + band_hi) / 2.0 - level) * 10.0), 0.0)  # cm -> mm
    amount = np.round(np.where(is_paddy, paddy_amount, np.where(irrigating, decision.amount_mm, 0.0)), 1).astype(
        np.float64)

    # --- urgency
    urg = np.full(n, int(Urgency.NONE))
    urg = np.where(np.isin(action, [_A[Action.IRRIGATE_IN_DAYS], _A[Action.LOWER], _A[Action.NO_DATA]]),
                   int(Urgency.LOW), urg)
    urg = np.where(np.isin(action, [_A[Action.FILL], _A[Action.DRAIN]])
                   | ((action == _A[Action.IRRIGATE_IN_DAYS]) & (days_out <= 2)), int(Urgency.MEDIUM), urg)
    overflowing = is_paddy & (action == _A[Action.LOWER]) & overflow
    urg = np.where(np.isin(action, [_A[Action.DEEPEN], _A[Action.IRRIGATE_NOW]]) | overflowing, int(Urgency.HIGH),
                   urg)
    urg = np.where(action == _A[Action.CHECK_LEAK], int(Urgency.CRITICAL), urg)

    # --- reasons (n, R)
    rs = np.zeros((n, len(REASONS)), dtype=bool)
    up = ~is_paddy
    rs[:, _R[ReasonCode.DEPLETION]] = up & advised
    rs[:, _R[ReasonCode.CROSSES_RAW]] = up & (action == _A[Action.IRRIGATE_IN_DAYS])
    rs[:, _R[ReasonCode.RAIN_AHEAD]] = up & advised & (rain_ahead >= 1.0)
    rs[:, _R[ReasonCode.SENSOR_CORRECTED]] = up & advised & sensor_used_today
    rs[:, _R[ReasonCode.SENSOR_DISAGREES]] = up & advised & clipped_recent
    rs[:, _R[ReasonCode.SENSOR_REJECTED]] = up & advised & rejected_recent
    staged = is_paddy & (stage.index >= 0)
    rs[:, _R[ReasonCode.BEFORE_TRANSPLANT]] = is_paddy & (stage.index < 0)
    rs[:, _R[ReasonCode.STAGE]] = staged
    rs[:, _R[ReasonCode.LEAK_RATE]] = staged & (action == _A[Action.CHECK_LEAK])
    rs[:, _R[ReasonCode.OVERFLOW]] = staged & overflowing
    rs[:, _R[ReasonCode.LEVEL_STALE]] = staged & (action == _A[Action.NO_DATA]) & np.isfinite(level)
    rs[:, _R[ReasonCode.NO_LEVEL]] = staged & (action == _A[Action.NO_DATA]) & ~np.isfinite(level)
    rs[:, _R[ReasonCode.DRAIN_UNTIL_CRACKS]] = staged & (mode == "drain_until_cracks")
    rs[:, _R[ReasonCode.FINAL_DRAINAGE]] = staged & (mode == "drained")
    rs[:, _R[ReasonCode.INTERMITTENT]] = staged & (mode == "intermittent") & ~cold_fires
    below_17 = np.zeros(n, dtype=bool) if cold is None else cold.running_mean_c < rules.deep_water_below_c
    from_trend = np.zeros(n, dtype=bool) if cold is None else cold.from_trend
    rs[:, _R[ReasonCode.COLD_RUNNING_MEAN]] = staged & cold_c.naro_deep & below_17
    rs[:, _R[ReasonCode.COLD_SENSITIVE_VARIETY]] = staged & cold_c.naro_deep & ~below_17
    rs[:, _R[ReasonCode.COLD_CONSIDER]] = staged & cold_c.naro_consider
    rs[:, _R[ReasonCode.COLD_NIGHT_TREND]] = staged & cold_c.cold_night & from_trend
    rs[:, _R[ReasonCode.COLD_NIGHT_FORECAST]] = staged & cold_c.cold_night & ~from_trend
    # What was missing, and what was done instead, said on the fields it affected.
    upland_said = up & (action != _A[Action.OFF_SEASON])
    for gap in missing:
        if gap in _UPLAND_WEATHER:
            rs[:, _R[PART_REASON[gap]]] |= upland_said
    if WeatherPart.STATION in missing and WeatherPart.FORECAST in missing:
        rs[:, _R[ReasonCode.NO_FORECAST]] = False  # there is no trend to fall back on either
        rs[:, _R[ReasonCode.NO_ET_AHEAD]] = upland_said
        rs[:, _R[ReasonCode.NO_COLD_CHECK]] = staged
    elif WeatherPart.STATION in missing:
        rs[:, _R[ReasonCode.NO_STATION_MEAN]] = staged
    elif WeatherPart.FORECAST in missing:
        rs[:, _R[ReasonCode.NO_FORECAST]] |= staged

    nan = np.full(n, np.nan)
    numbers = {
        "amount_mm": amount, "amount_l": amount * np.asarray(fields.area_m2, float),
        "days": days_out.astype(float), "cross_days": np.where(action == _A[Action.IRRIGATE_IN_DAYS], days_out + 1, 0.0),
        "depletion_mm": decision.depletion_now_mm, "raw_mm": raw, "taw_mm": taw, "rain_mm": rain_ahead,
        "level_cm": level, "level_age_h": age, "fall_cm_h": fall, "expected_cm_h": expected, "outlet_cm": outlet,
        "target_min_cm": band_lo, "target_max_cm": band_hi,
        "running_mean_c": nan if cold is None else cold.running_mean_c,
        "coldest_night_c": nan if cold is None else cold.coldest_night_c,
    }
    nat = np.full(n, np.datetime64("NaT", "D"))
    night = nat if cold is None else today + cold.coldest_night_in_days.astype("timedelta64[D]")
    dates = {"stage_end": stage.next_start, "night_date": night}
    return AdviceColumns(today, action.astype(np.int64), urg.astype(np.int64), rs, amount, days_out.astype(np.int64),
                         np.where(staged, band_lo, np.nan), np.where(staged, band_hi, np.nan),
                         np.where(is_paddy, stage.index, -1).astype(np.int64), numbers, dates)
