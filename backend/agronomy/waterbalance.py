"""Root-zone water balance for upland fields (orchards, vegetables, soybeans), FAO-56 chapter 8.

All arrays are fields x days, (n, d); one Python-level step per day, vectorised over fields.

Depletion Dr is the water missing from the root zone relative to field capacity, mm (0 = field capacity,
TAW = wilting point). Each day (FAO-56 eq. 85, capillary rise and runoff taken as 0):

    Dr,i = Dr,i-1 - Pe,i - I,i + ETc,i + DP,i,   0 <= Dr,i <= TAW
    DP,i = max(0, Pe,i + I,i - ETc,i - Dr,i-1)    (eq. 88: water beyond field capacity drains)

Effective rain Pe: a day's rain below 0.2 ET0 wets the surface and evaporates, so it is ignored (FAO-56 ch. 8,
"precipitation ... less than about 0.2 ETo ... can usually be ignored"); runoff is not modelled separately,
because water beyond field capacity leaves as DP either way.

Soil moisture sensors correct the model, each field with its own trust w in [0, 1]:
1. A reading is discarded when it is outside 1-60 % VWC or not a number (disconnected, clipped probe).
2. A reading is discarded when it says the soil dried faster than plants and drainage can dry it: sensor
   depletion rising by more than 2 ETc + 5 mm per day since the last kept reading (a probe pulled out of the
   soil or losing contact suddenly reads dry).
3. A kept reading pulls the model by w times the disagreement, but the disagreement counted is clipped to a
   quarter of TAW: one wild reading moves the model at most w * TAW / 4, while a sensor that keeps
   disagreeing (an irrigation nobody recorded) wins within a few days. Clipped readings are counted.
These rules do not look at rain, so more rain can never make the corrected depletion larger.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

F = NDArray[np.float64]

VWC_MIN_PCT = 1.0
VWC_MAX_PCT = 60.0
MAX_DRYING_ETC_FACTOR = 2.0
MAX_DRYING_EXTRA_MM = 5.0
INNOVATION_CLIP_FRACTION_OF_TAW = 0.25
SMALL_RAIN_FRACTION_OF_ET0 = 0.2


def total_available_water_mm(theta_fc: ArrayLike, theta_wp: ArrayLike, root_depth_m: ArrayLike) -> F:
    """Total available water TAW, mm - FAO-56 eq. 82."""
    return 1000.0 * (np.asarray(theta_fc, float) - np.asarray(theta_wp, float)) * np.asarray(root_depth_m, float)


def readily_available_water_mm(taw_mm: ArrayLike, p: ArrayLike) -> F:
    """Readily available water RAW, mm - FAO-56 eq. 83."""
    return np.asarray(p, float) * np.asarray(taw_mm, float)  # FAO-56 eq. 83


def water_stress_coefficient(depletion_mm: ArrayLike, taw_mm: ArrayLike, raw_mm: ArrayLike) -> F:
    """Water stress coefficient Ks, 0-1 - FAO-56 eq. 84 (1 while Dr <= RAW)."""
    dr, taw, raw = (np.asarray(a, float) for a in (depletion_mm, taw_mm, raw_mm))
    return np.clip((taw - dr) / (taw - raw), 0.0, 1.0)  # FAO-56 eq. 84


def effective_rain_mm(rain_mm: ArrayLike, et0_mm: ArrayLike) -> F:
    """Rain that reaches the root zone, mm: 0 when the day's rain is below 0.2 ET0 (FAO-56 ch. 8)."""
    rain = np.nan_to_num(np.asarray(rain_mm, float), nan=0.0)
    return np.where(rain >= SMALL_RAIN_FRACTION_OF_ET0 * np.asarray(et0_mm, float), rain, 0.0)


def sensor_depletion_mm(vwc_pct: ArrayLike, theta_fc: ArrayLike, root_depth_m: ArrayLike, taw_mm: ArrayLike) -> F:
    """Depletion implied by a soil moisture reading, mm (NaN where the reading is out of range or missing).

    Dr = 1000 (theta_FC - theta) Zr (FAO-56 eq. 87 rearranged), the probe taken as the root-zone average.
    """
    vwc = np.asarray(vwc_pct, float)
    ok = np.isfinite(vwc) & (vwc >= VWC_MIN_PCT) & (vwc <= VWC_MAX_PCT)
    fc = np.asarray(theta_fc, float)[:, None]
    zr = np.asarray(root_depth_m, float)[:, None]
    taw = np.asarray(taw_mm, float)[:, None]
    with np.errstate(invalid="ignore"):
        dr = np.clip(1000.0 * (fc - vwc / 100.0) * zr, 0.0, taw)  # FAO-56 eq. 87 rearranged
    return np.where(ok, dr, np.nan)


@dataclass(frozen=True)
class Balance:
    """Result of `run_balance`, each (n, d) at the end of each day unless said otherwise."""

    depletion_mm: F
    deep_percolation_mm: F
    sensor_used: NDArray[np.bool_]
    sensor_rejected: NDArray[np.bool_]  # rule 1 or 2: reading discarded
    sensor_clipped: NDArray[np.bool_]  # rule 3: reading far from the model, its pull bounded


def run_balance(*, etc_mm: ArrayLike, rain_eff_mm: ArrayLike, irrigation_mm: ArrayLike, taw_mm: ArrayLike,
                start_depletion_mm: ArrayLike = 0.0, sensor_depletion: ArrayLike | None = None,
                sensor_trust: ArrayLike = 0.0) -> Balance:
    """Daily root-zone depletion for fields x days - FAO-56 eqs. 85 and 88 with sensor correction (see module)."""
    etc = np.asarray(etc_mm, float)
    n, d = etc.shape
    pe = np.broadcast_to(np.asarray(rain_eff_mm, float), (n, d))
    irr = np.broadcast_to(np.nan_to_num(np.asarray(irrigation_mm, float)), (n, d))
    taw = np.broadcast_to(np.asarray(taw_mm, float), (n,))
    w = np.broadcast_to(np.clip(np.asarray(sensor_trust, float), 0.0, 1.0), (n,))
    ds = np.full((n, d), np.nan) if sensor_depletion is None else np.broadcast_to(np.asarray(sensor_depletion, float),
                                                                                  (n, d))
    clip_mm = INNOVATION_CLIP_FRACTION_OF_TAW * taw
    depletion = np.empty((n, d))
    dp = np.empty((n, d))
    used = np.zeros((n, d), dtype=bool)
    rejected = np.zeros((n, d), dtype=bool)
    clipped = np.zeros((n, d), dtype=bool)
    prev = np.clip(np.broadcast_to(np.asarray(start_depletion_mm, float), (n,)), 0.0, taw)
    last_ds = np.full(n, np.nan)  # last kept sensor depletion
    days_since = np.zeros(n)
    has_trust = w > 0.0
    drying_limit = MAX_DRYING_ETC_FACTOR * etc + MAX_DRYING_EXTRA_MM  # (n, d), mm/day
    for i in range(d):
        water_in = pe[:, i] + irr[:, i]
        dp[:, i] = np.maximum(0.0, water_in - etc[:, i] - prev)  # FAO-56 eq. 88
        model = np.minimum(np.maximum(prev - water_in + etc[:, i] + dp[:, i], 0.0), taw)  # FAO-56 eq. 85
        s = ds[:, i]
        days_since += 1.0
        have = np.isfinite(s)
        with np.errstate(invalid="ignore"):
            too_fast = have & (s - last_ds > days_since * drying_limit[:, i])  # NaN last_ds compares False
        keep = have & ~too_fast & has_trust
        innovation = np.where(keep, s - model, 0.0)
        bounded = np.minimum(np.maximum(innovation, -clip_mm), clip_mm)
        clipped[:, i] = bounded != innovation
        corrected = np.minimum(np.maximum(model + w * bounded, 0.0), taw)
        depletion[:, i] = corrected
        used[:, i] = keep
        rejected[:, i] = too_fast
        last_ds = np.where(keep, s, last_ds)
        days_since = np.where(keep, 0.0, days_since)
        prev = corrected
    return Balance(depletion, dp, used, rejected, clipped)


def project_depletion(depletion_now_mm: ArrayLike, etc_future_mm: ArrayLike, rain_eff_future_mm: ArrayLike,
                      taw_mm: ArrayLike) -> F:
    """Depletion at the end of each coming day without irrigation, mm, (n, h) - FAO-56 eq. 85 forward."""
    etc = np.asarray(etc_future_mm, float)
    rain = np.broadcast_to(np.asarray(rain_eff_future_mm, float), etc.shape)
    taw = np.asarray(taw_mm, float)
    out = np.empty(etc.shape)
    prev = np.asarray(depletion_now_mm, float)
    for j in range(etc.shape[1]):
        prev = np.clip(prev - rain[:, j] + etc[:, j], 0.0, taw)  # FAO-56 eq. 85 (DP drops out with the clip)
        out[:, j] = prev
    return out


class UplandCall(IntEnum):
    """What the balance says about one upland field (mapped to an Advice action in advice.py)."""

    OFF_SEASON = 0
    NOT_NEEDED = 1
    IRRIGATE_IN_DAYS = 2
    IRRIGATE_NOW = 3


@dataclass(frozen=True)
class UplandDecision:
    """Per-field arrays (n,) of the irrigation decision."""

    call: NDArray[np.int64]
    days: NDArray[np.int64]  # days from today until irrigating (0 = now); horizon when not needed
    amount_mm: F  # net depth to bring the root zone back to field capacity on that day
    depletion_now_mm: F


def decide(depletion_now_mm: ArrayLike, projected_mm: ArrayLike, raw_mm: ArrayLike,
           in_season: ArrayLike) -> UplandDecision:
    """Irrigate now / in N days / not needed, from today's depletion and its projection - RAW as the trigger.

    Irrigate now when depletion already reached RAW or would cross it by the end of today; irrigate in N days
    when the first crossing is at the end of day N+1 (so watering on the morning of day N keeps it below RAW);
    the amount refills to field capacity (FAO-56 ch. 8: irrigate when Dr reaches RAW, depth = Dr).
    """
    now = np.asarray(depletion_now_mm, float)
    proj = np.asarray(projected_mm, float)
    raw = np.asarray(raw_mm, float)
    n, h = proj.shape
    over = proj > raw[:, None]
    any_over = over.any(axis=1)
    first = np.where(any_over, over.argmax(axis=1), h)  # 0-based index of the first day ending above RAW
    now_call = (now >= raw) | (first == 0)
    days = np.where(now_call, 0, first)  # irrigate on the morning of the crossing day
    # depletion on the morning of the irrigation day: today = now, day k = projection at end of day k-1
    morning = np.concatenate([now[:, None], proj], axis=1)
    amount = np.take_along_axis(morning, np.minimum(days, h)[:, None], axis=1)[:, 0]
    call = np.where(now_call, UplandCall.IRRIGATE_NOW,
                    np.where(any_over, UplandCall.IRRIGATE_IN_DAYS, UplandCall.NOT_NEEDED))
    season = np.asarray(in_season, bool)
    call = np.where(season, call, UplandCall.OFF_SEASON).astype(np.int64)
    amount = np.where((call == UplandCall.IRRIGATE_NOW) | (call == UplandCall.IRRIGATE_IN_DAYS), amount, 0.0)
    return UplandDecision(call, days.astype(np.int64), amount, now)
