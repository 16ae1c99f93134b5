"""Irrigation advice for many fields at once: the entry point the API calls.

    advise(fields, history, weather, now_unix_s=...) -> list[Advice]

Inputs are column arrays, one row per field (FieldTable), fields x days (History, WeatherInput). The science
is vectorised over fields (et0, waterbalance, paddy); only the final Advice objects and their texts are built
per field. Upland crops get irrigate now / in N days / not needed from the FAO-56 water balance; rice gets a
target depth band from the paddy rules table and level alerts. Missing inputs degrade the advice and say so.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backend.agronomy import crops, et0, paddy, soils, waterbalance
from backend.agronomy.weather import DailyObserved, Forecast, WeatherInput, WeatherPart, forecast_from, jst_day

F = NDArray[np.float64]
MESSAGES_PATH = Path(__file__).with_name("messages.toml")
TREND_DAYS = 7  # without a forecast, ETc ahead = mean ET0 of the last 7 days x Kc, for 7 days
SENSOR_ONLY_MAX_AGE_DAYS = 3  # without a station, a soil reading older than this is no basis for advice
DEFAULT_SENSOR_TRUST = 0.6


class Action(str, Enum):
    """What the farmer should do."""

    IRRIGATE_NOW = "irrigate_now"
    IRRIGATE_IN_DAYS = "irrigate_in_days"
    NOT_NEEDED = "not_needed"
    OFF_SEASON = "off_season"
    FILL = "fill"
    DEEPEN = "deepen"
    LOWER = "lower"
    DRAIN = "drain"
    HOLD = "hold"
    CHECK_LEAK = "check_leak"
    NO_DATA = "no_data"


class Urgency(IntEnum):
    """Sortable urgency: higher first."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class ReasonCode(str, Enum):
    """Why; each has a sentence in messages.toml."""

    DEPLETION = "depletion"
    CROSSES_RAW = "crosses_raw"
    RAIN_AHEAD = "rain_ahead"
    SENSOR_CORRECTED = "sensor_corrected"
    SENSOR_DISAGREES = "sensor_disagrees"
    SENSOR_REJECTED = "sensor_rejected"
    NO_STATION = "no_station"
    NO_STATION_RAIN = "no_station_rain"
    NO_HUMIDITY = "no_humidity"
    NO_RADIATION = "no_radiation"
    NO_WIND = "no_wind"
    NO_FORECAST = "no_forecast"
    NO_FORECAST_RAIN = "no_forecast_rain"
    STAGE = "stage"
    BEFORE_TRANSPLANT = "before_transplant"
    COLD_RUNNING_MEAN = "cold_running_mean"
    COLD_SENSITIVE_VARIETY = "cold_sensitive_variety"
    COLD_CONSIDER = "cold_consider"
    COLD_NIGHT_FORECAST = "cold_night_forecast"
    COLD_NIGHT_TREND = "cold_night_trend"
    LEAK_RATE = "leak_rate"
    OVERFLOW = "overflow"
    NO_LEVEL = "no_level"
    LEVEL_STALE = "level_stale"
    DRAIN_UNTIL_CRACKS = "drain_until_cracks"
    FINAL_DRAINAGE = "final_drainage"
    INTERMITTENT = "intermittent"


_PART_REASON = {WeatherPart.STATION: ReasonCode.NO_STATION, WeatherPart.STATION_RAIN: ReasonCode.NO_STATION_RAIN,
                WeatherPart.HUMIDITY: ReasonCode.NO_HUMIDITY, WeatherPart.RADIATION: ReasonCode.NO_RADIATION,
                WeatherPart.WIND: ReasonCode.NO_WIND, WeatherPart.FORECAST: ReasonCode.NO_FORECAST,
                WeatherPart.FORECAST_RAIN: ReasonCode.NO_FORECAST_RAIN}


@dataclass(frozen=True)
class Advice:
    """One field's advice: what, how urgent, how much, why, in Japanese and English."""

    field_id: str
    action: Action
    urgency: Urgency
    amount_mm: float  # net water to add (upland: to field capacity; paddy: to the middle of the band); 0 if none
    amount_l: float  # amount_mm over the field's area (1 mm on 1 m2 = 1 L)
    days: int | None  # upland: days until irrigating (0 = today)
    target_min_cm: float | None  # paddy depth band
    target_max_cm: float | None
    stage: str | None  # paddy stage id
    reasons: tuple[ReasonCode, ...]
    message_ja: str
    message_en: str
    values: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # numbers behind the text

    def sort_key(self) -> tuple[int, int, str]:
        """Most urgent first, then soonest, then by field id."""
        return (-int(self.urgency), self.days if self.days is not None else 0, self.field_id)


def sort_by_urgency(advice: list[Advice]) -> list[Advice]:
    """Advice sorted most urgent first (the order of `GET /api/v1/advice?site=`)."""
    return sorted(advice, key=Advice.sort_key)


def _col(values: ArrayLike | None, n: int, default: Any, dtype: Any = float) -> NDArray[Any]:
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr = np.asarray(values, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"field table: column has shape {arr.shape}, expected ({n},)")
    return arr


@dataclass(frozen=True)
class FieldTable:
    """The fields to advise, one row each (columns as arrays of length n). Optional columns may be None."""

    field_id: NDArray[np.str_]
    crop: NDArray[np.str_]  # crops.Crop codes
    area_m2: F
    latitude_deg: F
    elevation_m: F
    season_start: NDArray[np.datetime64]  # planting; green tip for apples; transplanting for rice
    soil_texture: NDArray[np.str_] | None = None  # FAO-56 Table 19 keys; needed unless theta_fc/theta_wp given
    theta_fc: F | None = None  # measured field capacity, m3/m3 (NaN: from texture)
    theta_wp: F | None = None
    root_depth_m: F | None = None  # NaN: crop table
    sensor_trust: F | None = None  # 0-1 weight of the soil moisture sensor against the model
    coastal: NDArray[np.bool_] | None = None  # FAO-56 eq. 50 kRs 0.19 instead of 0.16
    heading_date: NDArray[np.datetime64] | None = None  # rice; NaT: transplant + rules default
    stage_override: NDArray[np.str_] | None = None  # rice stage id set by the farmer ('' none)
    cold_sensitive: NDArray[np.bool_] | None = None  # rice variety weak against cold
    outlet_height_cm: F | None = None  # rice: level at which water leaves over the outlet / levee
    percolation_mm_day: F | None = None  # rice: measured percolation (NaN: rules default)

    @property
    def n(self) -> int:
        """Number of fields."""
        return len(self.field_id)

    def take(self, idx: ArrayLike) -> FieldTable:
        """The rows at idx (e.g. one field for `GET /api/v1/fields/{id}/advice`)."""
        kw = {k: (None if v is None else np.asarray(v)[idx]) for k, v in self.__dict__.items()}
        return FieldTable(**kw)


@dataclass(frozen=True)
class History:
    """What the fields recorded: consecutive JST days (d,) ending yesterday, and level series for paddies."""

    days: NDArray[np.datetime64]
    vwc_pct: F | None = None  # (n, d) daily mean soil moisture, % (NaN: none)
    irrigation_mm: F | None = None  # (n, d) water applied
    level_t_unix_s: F | None = None  # (m,) or (n, m) times of paddy level readings, UTC
    level_cm: F | None = None  # (n, m) paddy water level (NaN gaps)
    start_depletion_mm: F | None = None  # (n,) depletion before the first day (default: field capacity)

    def take(self, idx: ArrayLike) -> History:
        """The rows at idx."""
        def rows(a: Any) -> Any:
            return None if a is None else np.asarray(a)[idx]
        t = self.level_t_unix_s
        t_rows = None if t is None else (np.asarray(t)[idx] if np.ndim(t) == 2 else t)
        return History(self.days, rows(self.vwc_pct), rows(self.irrigation_mm), t_rows, rows(self.level_cm),
                       None if self.start_depletion_mm is None else np.asarray(self.start_depletion_mm)[idx])


def take_weather(weather: WeatherInput, idx: ArrayLike) -> WeatherInput:
    """Weather rows at idx (arrays shared by all fields, with a first axis of 1, stay shared)."""
    def rows(a: Any) -> Any:
        if a is None:
            return None
        arr = np.asarray(a)
        return arr if arr.ndim < 2 or arr.shape[0] == 1 else arr[np.atleast_1d(idx)]
    o = weather.observed
    obs = None if o is None else DailyObserved(*(rows(getattr(o, k)) for k in o.__dataclass_fields__))
    f = weather.forecast
    fc = None if f is None else Forecast(f.days, rows(f.tmin_c), rows(f.tmax_c), rows(f.rain_mm))
    return WeatherInput(obs, fc)


def _load_messages() -> dict[str, dict[str, dict[str, str]]]:
    with open(MESSAGES_PATH, "rb") as fh:
        return tomllib.load(fh)


_MESSAGES = _load_messages()


def _day_of_year(days: NDArray[np.datetime64]) -> F:
    d = np.asarray(days, dtype="datetime64[D]")
    return (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.float64) + 1.0


def _row_fill(a: F) -> F:
    """NaN entries of each row replaced by the row's finite mean (station gaps); all-NaN rows stay NaN."""
    finite = np.isfinite(a)
    cnt = finite.sum(axis=1, keepdims=True)
    mean = np.where(cnt > 0, np.where(finite, a, 0.0).sum(axis=1, keepdims=True) / np.maximum(cnt, 1), np.nan)
    return np.where(finite, a, mean)


@dataclass
class _Computed:
    """Vectorised results for all fields, (n,) arrays unless noted."""

    n: int
    missing: list[WeatherPart]
    is_paddy: NDArray[np.bool_]
    taw: F
    raw: F
    decision: waterbalance.UplandDecision
    rain_ahead_mm: F
    sensor_used_today: NDArray[np.bool_]
    sensor_rejected_recent: NDArray[np.bool_]
    sensor_clipped_recent: NDArray[np.bool_]
    no_basis: NDArray[np.bool_]
    stage: paddy.StageState
    cold: paddy.ColdRisk | None
    band_lo: F
    band_hi: F
    level_cm: F
    level_age_h: F
    fall_cm_h: F
    expected_cm_h: F
    leak: NDArray[np.bool_]
    paddy_action: NDArray[np.int64]


_PADDY_ACTIONS = (Action.NO_DATA, Action.CHECK_LEAK, Action.LOWER, Action.DRAIN, Action.HOLD, Action.DEEPEN,
                  Action.FILL, Action.OFF_SEASON)
_PA = {a: i for i, a in enumerate(_PADDY_ACTIONS)}


def _compute(fields: FieldTable, history: History, weather: WeatherInput, now_unix_s: float,
             rules: paddy.PaddyRules) -> _Computed:
    n = fields.n
    days = np.asarray(history.days, dtype="datetime64[D]")
    d = days.shape[0]
    today = jst_day(np.array([now_unix_s]))[0]
    if d == 0 or np.any(np.diff(days) != np.timedelta64(1, "D")) or days[-1] >= today:
        raise ValueError(f"history days must be consecutive and end before today ({today}); got {days[:1]}..{days[-1:]}")
    crop_idx = crops.crop_index(list(fields.crop))
    is_paddy = crop_idx == crops.CROP_ORDER.index(crops.Crop.RICE)
    lat = np.asarray(fields.latitude_deg, float)[:, None]
    elev = np.asarray(fields.elevation_m, float)[:, None]
    krs = np.where(_col(fields.coastal, n, False, bool), et0.KRS_COASTAL, et0.KRS_INTERIOR)[:, None]
    start = np.asarray(fields.season_start, dtype="datetime64[D]")
    missing = weather.missing()

    # --- past days: ET0, ETc, effective rain (n, d)
    since = (days[None, :] - start[:, None]).astype(np.float64)
    kc = crops.crop_coefficient(crop_idx, since)
    o = weather.observed
    have_station = WeatherPart.STATION not in missing
    if have_station and o is not None:
        shape = (n, d)

        def b(a: F | None) -> F | None:
            return None if a is None else np.broadcast_to(np.asarray(a, float), shape)

        et0_hist = _row_fill(et0.penman_monteith_daily(
            tmax_c=b(o.tmax_c), tmin_c=b(o.tmin_c), latitude_deg=lat, elevation_m=elev,
            day_of_year=_day_of_year(days)[None, :], wind_2m_m_s=b(o.wind_2m_m_s), rh_max_pct=b(o.rh_max_pct),
            rh_min_pct=b(o.rh_min_pct), solar_radiation_mj_m2=b(o.solar_radiation_mj_m2), krs=krs))
        et0_hist = np.nan_to_num(et0_hist, nan=0.0)
        rain_hist = np.zeros(shape) if o.rain_mm is None else b(o.rain_mm)
        tmax_h, tmin_h = b(o.tmax_c), b(o.tmin_c)
    else:
        et0_hist = np.zeros((n, d))
        rain_hist = np.zeros((n, d))
        tmax_h = tmin_h = np.full((n, d), np.nan)
    etc_hist = kc * et0_hist
    pe_hist = waterbalance.effective_rain_mm(rain_hist, et0_hist)

    # --- soil: TAW, RAW (n,)
    fc = _col(fields.theta_fc, n, np.nan)
    wp = _col(fields.theta_wp, n, np.nan)
    if np.any(~np.isfinite(fc) | ~np.isfinite(wp)):
        if fields.soil_texture is None:
            raise ValueError("field table: soil_texture is needed where theta_fc/theta_wp are not given")
        tfc, twp = soils.theta_fc_wp(list(fields.soil_texture))
        fc, wp = np.where(np.isfinite(fc), fc, tfc), np.where(np.isfinite(wp), wp, twp)
    zr = _col(fields.root_depth_m, n, np.nan)
    zr = np.where(np.isfinite(zr), zr, crops.ROOT_DEPTH_M[crop_idx])
    taw = waterbalance.total_available_water_mm(fc, wp, zr)  # FAO-56 eq. 82
    raw = waterbalance.readily_available_water_mm(taw, crops.DEPLETION_FRACTION[crop_idx])  # FAO-56 eq. 83

    # --- balance over the past days
    trust = _col(fields.sensor_trust, n, DEFAULT_SENSOR_TRUST)
    ds = None
    if history.vwc_pct is not None:
        ds = waterbalance.sensor_depletion_mm(history.vwc_pct, fc, zr, taw)
    irr = np.zeros((n, d)) if history.irrigation_mm is None else np.asarray(history.irrigation_mm, float)
    start_dep = 0.0 if history.start_depletion_mm is None else history.start_depletion_mm
    if have_station:
        bal = waterbalance.run_balance(etc_mm=etc_hist, rain_eff_mm=pe_hist, irrigation_mm=irr, taw_mm=taw,
                                       start_depletion_mm=start_dep, sensor_depletion=ds, sensor_trust=trust)
        depletion_now = bal.depletion_mm[:, -1]
        sensor_used_today = bal.sensor_used[:, -1]
        recent = slice(max(0, d - 3), d)
        rejected_recent = bal.sensor_rejected[:, recent].any(axis=1)
        clipped_recent = bal.sensor_clipped[:, recent].all(axis=1) & bal.sensor_used[:, recent].all(axis=1)
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
                               cold_sensitive=_col(fields.cold_sensitive, n, False, bool),
                               forecast_min_c=None if fcast is None else fcast.tmin_c)
    cold_fires = np.zeros(n, dtype=bool) if cold is None else cold.fires
    band_lo, band_hi = paddy.target_band_cm(rules, stage, cold_fires)
    if history.level_cm is not None and history.level_t_unix_s is not None:
        level, age = paddy.latest_level_cm(history.level_t_unix_s, history.level_cm, now_unix_s)
        fall, pts = paddy.level_fall_rate_cm_h(history.level_t_unix_s, history.level_cm, now_unix_s,
                                               rules.leak_window_h)
    else:
        level = age = fall = np.full(n, np.nan)
        pts = np.zeros(n, dtype=np.int64)
    perc = _col(fields.percolation_mm_day, n, np.nan)
    perc = np.where(np.isfinite(perc), perc, rules.percolation_mm_day)
    expected = paddy.expected_loss_cm_h(etc_f[:, 0], perc)
    k = np.maximum(stage.index, 0)
    mode = np.array([s.mode for s in rules.stages])[k]
    leak_check = np.array([s.leak_check for s in rules.stages])[k]
    fresh = np.isfinite(level) & (age <= rules.stale_after_h)
    leak = fresh & leak_check & paddy.leak_suspected(rules, fall, pts, expected)
    outlet = _col(fields.outlet_height_cm, n, np.nan)
    overflow = fresh & np.isfinite(outlet) & (level >= outlet - rules.overflow_margin_cm)
    tol = rules.tolerance_cm
    drying = (mode == "drain_until_cracks") | (mode == "drained")
    deep_cold = cold_fires & np.isfinite(np.array([s.cold_band_min_cm for s in rules.stages])[k])
    low = level < band_lo - tol
    if_intermittent_low = (mode == "intermittent") & ~deep_cold
    pa = np.full(n, _PA[Action.HOLD])
    pa = np.where(low & if_intermittent_low & (level > 0.0), _PA[Action.HOLD], np.where(low, np.where(
        deep_cold, _PA[Action.DEEPEN], _PA[Action.FILL]), pa))
    pa = np.where((level > band_hi + tol) & ~deep_cold, _PA[Action.LOWER], pa)  # deeper never hurts in the cold
    pa = np.where(drying & (level > tol), _PA[Action.DRAIN], np.where(drying, _PA[Action.HOLD], pa))
    pa = np.where(overflow, _PA[Action.LOWER], pa)
    pa = np.where(leak, _PA[Action.CHECK_LEAK], pa)
    pa = np.where(fresh, pa, _PA[Action.NO_DATA])
    pa = np.where(stage.index < 0, _PA[Action.OFF_SEASON], pa)
    return _Computed(n, missing, is_paddy, taw, raw, decision, rain_ahead, sensor_used_today, rejected_recent,
                     clipped_recent, no_basis, stage, cold, band_lo, band_hi, level, age, fall, expected, leak,
                     pa.astype(np.int64))


_UPLAND_ACTION = {waterbalance.UplandCall.OFF_SEASON: Action.OFF_SEASON,
                  waterbalance.UplandCall.NOT_NEEDED: Action.NOT_NEEDED,
                  waterbalance.UplandCall.IRRIGATE_IN_DAYS: Action.IRRIGATE_IN_DAYS,
                  waterbalance.UplandCall.IRRIGATE_NOW: Action.IRRIGATE_NOW}
_WEATHER_REASONS_UPLAND = (WeatherPart.STATION, WeatherPart.STATION_RAIN, WeatherPart.HUMIDITY,
                           WeatherPart.RADIATION, WeatherPart.WIND, WeatherPart.FORECAST, WeatherPart.FORECAST_RAIN)
_WEATHER_REASONS_PADDY = (WeatherPart.STATION, WeatherPart.FORECAST)


def _urgency(action: Action, days: int | None, overflow: bool) -> Urgency:
    if action is Action.CHECK_LEAK:
        return Urgency.CRITICAL
    if action in (Action.DEEPEN, Action.IRRIGATE_NOW) or (action is Action.LOWER and overflow):
        return Urgency.HIGH
    if action in (Action.FILL, Action.DRAIN) or (action is Action.IRRIGATE_IN_DAYS and (days or 0) <= 2):
        return Urgency.MEDIUM
    if action in (Action.IRRIGATE_IN_DAYS, Action.LOWER, Action.NO_DATA):
        return Urgency.LOW
    return Urgency.NONE


def _dates(name: str, day: np.datetime64) -> dict[str, str]:
    """A date as '8月1日' and '1 Aug' for the templates ('' when unknown)."""
    if np.isnat(day):
        return {f"{name}_ja": "", f"{name}_en": ""}
    d = day.astype("datetime64[D]").item()
    return {f"{name}_ja": f"{d.month}月{d.day}日", f"{name}_en": d.strftime("%d %b").lstrip("0")}


def _text(action: Action, reasons: list[ReasonCode], values: dict[str, Any], lang: str) -> str:
    parts = [_MESSAGES["action"][action.value][lang].format(**values)]
    parts += [_MESSAGES["reason"][r.value][lang].format(**values) for r in reasons]
    return ("" if lang == "ja" else " ").join(parts)


def _upland_advice(c: _Computed, i: int, fid: str, area: float) -> Advice:
    dec = c.decision
    action = _UPLAND_ACTION[waterbalance.UplandCall(int(dec.call[i]))]
    reasons: list[ReasonCode] = []
    if c.no_basis[i] and action is not Action.OFF_SEASON:
        action = Action.NO_DATA
    days = int(dec.days[i]) if action in (Action.IRRIGATE_NOW, Action.IRRIGATE_IN_DAYS) else None
    amount = round(float(dec.amount_mm[i]), 1) if days is not None else 0.0
    values: dict[str, Any] = {"amount_mm": amount, "amount_l": amount * area, "days": days,
                              "depletion_mm": float(dec.depletion_now_mm[i]), "raw_mm": float(c.raw[i]),
                              "taw_mm": float(c.taw[i]), "cross_days": days if days is not None else 0,
                              "rain_mm": float(c.rain_ahead_mm[i])}
    if action is not Action.OFF_SEASON and action is not Action.NO_DATA:
        reasons.append(ReasonCode.DEPLETION)
        if action is Action.IRRIGATE_IN_DAYS:
            values["cross_days"] = days + 1 if days is not None else 0
            reasons.append(ReasonCode.CROSSES_RAW)
        if c.rain_ahead_mm[i] >= 1.0:
            reasons.append(ReasonCode.RAIN_AHEAD)
        if c.sensor_used_today[i]:
            reasons.append(ReasonCode.SENSOR_CORRECTED)
        if c.sensor_clipped_recent[i]:
            reasons.append(ReasonCode.SENSOR_DISAGREES)
        if c.sensor_rejected_recent[i]:
            reasons.append(ReasonCode.SENSOR_REJECTED)
    if action is not Action.OFF_SEASON:
        reasons += [_PART_REASON[p] for p in _WEATHER_REASONS_UPLAND if p in c.missing]
    urgency = _urgency(action, days, False)
    return Advice(fid, action, urgency, amount, amount * area, days, None, None, None, tuple(reasons),
                  _text(action, reasons, values, "ja"), _text(action, reasons, values, "en"), values)


def _paddy_advice(c: _Computed, i: int, fid: str, area: float, rules: paddy.PaddyRules, outlet_cm: float,
                  today: np.datetime64) -> Advice:
    action = _PADDY_ACTIONS[int(c.paddy_action[i])]
    reasons: list[ReasonCode] = []
    k = int(c.stage.index[i])
    st = rules.stages[k] if k >= 0 else None
    lo, hi, level = float(c.band_lo[i]), float(c.band_hi[i]), float(c.level_cm[i])
    values: dict[str, Any] = {"target_min_cm": lo, "target_max_cm": hi, "level_cm": level,
                              "level_age_h": float(c.level_age_h[i]), "fall_cm_h": float(c.fall_cm_h[i]),
                              "expected_cm_h": float(c.expected_cm_h[i]), "outlet_cm": outlet_cm,
                              "stage_ja": st.name_ja if st else "", "stage_en": st.name_en if st else "",
                              **_dates("stage_end", c.stage.next_start[i])}
    amount = 0.0
    if action in (Action.FILL, Action.DEEPEN):
        amount = round(max(0.0, ((lo + hi) / 2.0 - level) * 10.0), 1)  # cm of water -> mm
    values.update(amount_mm=amount, amount_l=amount * area)
    if st is None:
        reasons.append(ReasonCode.BEFORE_TRANSPLANT)
    else:
        reasons.append(ReasonCode.STAGE)
        if action is Action.CHECK_LEAK:
            reasons.append(ReasonCode.LEAK_RATE)
        if action is Action.LOWER and np.isfinite(outlet_cm) and level >= outlet_cm - rules.overflow_margin_cm:
            reasons.append(ReasonCode.OVERFLOW)
        if action is Action.NO_DATA:
            reasons.append(ReasonCode.LEVEL_STALE if np.isfinite(level) else ReasonCode.NO_LEVEL)
        if st.mode == "drain_until_cracks":
            reasons.append(ReasonCode.DRAIN_UNTIL_CRACKS)
        elif st.mode == "drained":
            reasons.append(ReasonCode.FINAL_DRAINAGE)
        elif st.mode == "intermittent" and not (c.cold is not None and c.cold.fires[i]):
            reasons.append(ReasonCode.INTERMITTENT)
        cold = c.cold
        if cold is not None and np.isfinite(st.cold_band_min_cm):
            values["running_mean_c"] = float(cold.running_mean_c[i])
            values["coldest_night_c"] = float(cold.coldest_night_c[i])
            lvl = paddy.ColdLevel(int(cold.level[i]))
            if lvl is paddy.ColdLevel.DEEP_WATER:
                below_17 = cold.running_mean_c[i] < rules.deep_water_below_c
                reasons.append(ReasonCode.COLD_RUNNING_MEAN if below_17 else ReasonCode.COLD_SENSITIVE_VARIETY)
            elif lvl is paddy.ColdLevel.CONSIDER:
                reasons.append(ReasonCode.COLD_CONSIDER)
            if cold.cold_night[i]:
                if cold.from_trend[i]:
                    reasons.append(ReasonCode.COLD_NIGHT_TREND)
                else:
                    night = (today + np.timedelta64(int(cold.coldest_night_in_days[i]), "D")).item()
                    values["night_date_ja"] = f"{night.month}月{night.day}日"
                    values["night_date_en"] = night.strftime("%d %b").lstrip("0")
                    reasons.append(ReasonCode.COLD_NIGHT_FORECAST)
        reasons += [_PART_REASON[p] for p in _WEATHER_REASONS_PADDY if p in c.missing]
    urgency = _urgency(action, None, ReasonCode.OVERFLOW in reasons)
    return Advice(fid, action, urgency, amount, amount * area, None, lo if st else None, hi if st else None,
                  st.id if st else None, tuple(reasons), _text(action, reasons, values, "ja"),
                  _text(action, reasons, values, "en"), values)


def advise(fields: FieldTable, history: History, weather: WeatherInput, *, now_unix_s: float,
           rules: paddy.PaddyRules | None = None) -> list[Advice]:
    """Advice for every field (in the table's order) at time now_unix_s (UTC); see the module docstring."""
    rules = rules or _default_rules()
    c = _compute(fields, history, weather, now_unix_s, rules)
    today = jst_day(np.array([now_unix_s]))[0]
    ids = [str(x) for x in fields.field_id]
    areas = np.asarray(fields.area_m2, float).tolist()
    outlets = _col(fields.outlet_height_cm, c.n, np.nan).tolist()
    out: list[Advice] = []
    for i in range(c.n):
        if c.is_paddy[i]:
            a = _paddy_advice(c, i, ids[i], areas[i], rules, outlets[i], today)
        else:
            a = _upland_advice(c, i, ids[i], areas[i])
        out.append(a)
    return out


_RULES: paddy.PaddyRules | None = None


def _default_rules() -> paddy.PaddyRules:
    global _RULES
    if _RULES is None:
        _RULES = paddy.load_rules()
    return _RULES
