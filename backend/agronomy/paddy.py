"""Paddy water management for cold-region rice: growth stage, target depth band, cold trigger, alerts.

The agronomy is data: `paddy_rules.toml` (stages, bands, temperature triggers, leak thresholds, with sources).
This module only evaluates that table for many fields at once (arrays of shape (n,)).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

F = NDArray[np.float64]
RULES_PATH = Path(__file__).with_name("paddy_rules.toml")
MODES = ("flooded", "drain_until_cracks", "intermittent", "drained")
COLD_TRIGGERS = ("none", "naro", "night")
ANCHORS = ("transplant", "heading")


@dataclass(frozen=True)
class Stage:
    """One growth stage row of the rules table."""

    id: str
    name_ja: str
    name_en: str
    anchor: str
    start_day: int
    band_min_cm: float
    band_max_cm: float
    end_band_min_cm: float
    end_band_max_cm: float
    cold_band_min_cm: float  # NaN: cold does not change the depth in this stage
    cold_band_max_cm: float
    cold_trigger: str  # "naro", "night" or "none"
    cold_night_c: float  # the night minimum that fires a "night" trigger (naro stages: [cold] cold_night_c)
    mode: str
    leak_check: bool
    source: str


@dataclass(frozen=True)
class PaddyRules:
    """The whole rules table, validated."""

    stages: tuple[Stage, ...]
    transplant_to_heading_days: int
    tolerance_cm: float
    overflow_margin_cm: float
    percolation_mm_day: float
    running_mean_days: int
    deep_water_below_c: float
    sensitive_variety_below_c: float
    consider_below_c: float
    cold_night_c: float
    forecast_days: int
    trend_days: int
    leak_window_h: float
    leak_min_points: int
    leak_excess_factor: float
    leak_excess_margin_cm_h: float
    leak_significance: float
    stale_after_h: float

    def stage_ids(self) -> list[str]:
        """Stage ids in season order."""
        return [s.id for s in self.stages]


def _need(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ValueError(f"paddy rules: {where}: missing key {key!r}")
    return table[key]


def load_rules(path: Path | str | None = None) -> PaddyRules:
    """Read and validate the rules table; every error names the stage and key to fix."""
    p = Path(path) if path is not None else RULES_PATH
    with open(p, "rb") as fh:
        raw = tomllib.load(fh)
    d, cold, leak = raw.get("defaults", {}), raw.get("cold", {}), raw.get("leak", {})
    stages = []
    seen: set[str] = set()
    for i, row in enumerate(raw.get("stage", [])):
        where = f"stage #{i + 1} ({row.get('id', '?')})"
        sid = _need(row, "id", where)
        if sid in seen:
            raise ValueError(f"paddy rules: {where}: duplicate stage id")
        seen.add(sid)
        anchor = _need(row, "anchor", where)
        if anchor not in ANCHORS:
            raise ValueError(f"paddy rules: {where}: anchor {anchor!r} is not one of {ANCHORS}")
        mode = _need(row, "mode", where)
        if mode not in MODES:
            raise ValueError(f"paddy rules: {where}: mode {mode!r} is not one of {MODES}")
        bmin, bmax = float(_need(row, "band_min_cm", where)), float(_need(row, "band_max_cm", where))
        emin, emax = float(row.get("end_band_min_cm", bmin)), float(row.get("end_band_max_cm", bmax))
        cmin, cmax = float(row.get("cold_band_min_cm", np.nan)), float(row.get("cold_band_max_cm", np.nan))
        for lo, hi, name in ((bmin, bmax, "band"), (emin, emax, "end_band"), (cmin, cmax, "cold_band")):
            if lo > hi:
                raise ValueError(f"paddy rules: {where}: {name}_min_cm {lo} is above {name}_max_cm {hi}")
        trigger = row.get("cold_trigger", "none")
        if trigger not in COLD_TRIGGERS:
            raise ValueError(f"paddy rules: {where}: cold_trigger {trigger!r} is not one of {COLD_TRIGGERS}")
        if (trigger == "none") != np.isnan(cmin):
            raise ValueError(f"paddy rules: {where}: cold_band_min_cm/max_cm and cold_trigger go together")
        night_c = float(row.get("cold_night_c", cold.get("cold_night_c", np.nan)))
        if trigger == "night" and "cold_night_c" not in row:
            raise ValueError(f"paddy rules: {where}: cold_trigger 'night' needs its own cold_night_c")
        stages.append(Stage(sid, _need(row, "name_ja", where), _need(row, "name_en", where), anchor,
                            int(_need(row, "start_day", where)), bmin, bmax, emin, emax, cmin, cmax, trigger,
                            night_c, mode, bool(_need(row, "leak_check", where)), _need(row, "source", where)))
    if not stages:
        raise ValueError(f"paddy rules: {p}: no [[stage]] rows")
    return PaddyRules(
        tuple(stages), int(_need(d, "transplant_to_heading_days", "[defaults]")),
        float(_need(d, "tolerance_cm", "[defaults]")), float(_need(d, "overflow_margin_cm", "[defaults]")),
        float(_need(d, "percolation_mm_day", "[defaults]")), int(_need(cold, "running_mean_days", "[cold]")),
        float(_need(cold, "deep_water_below_c", "[cold]")), float(_need(cold, "sensitive_variety_below_c", "[cold]")),
        float(_need(cold, "consider_below_c", "[cold]")), float(_need(cold, "cold_night_c", "[cold]")),
        int(_need(cold, "forecast_days", "[cold]")), int(_need(cold, "trend_days", "[cold]")),
        float(_need(leak, "window_h", "[leak]")),
        int(_need(leak, "min_points", "[leak]")), float(_need(leak, "excess_factor", "[leak]")),
        float(_need(leak, "excess_margin_cm_h", "[leak]")), float(_need(leak, "significance", "[leak]")),
        float(_need(leak, "stale_after_h", "[leak]")),
    )


def heading_or_default(rules: PaddyRules, transplant: ArrayLike, heading: ArrayLike) -> NDArray[np.datetime64]:
    """Heading date per field; unknown (NaT) ones are transplant + the table's default days."""
    tp = np.asarray(transplant, dtype="datetime64[D]")
    hd = np.asarray(heading, dtype="datetime64[D]")
    return np.where(np.isnat(hd), tp + np.timedelta64(rules.transplant_to_heading_days, "D"), hd)


@dataclass(frozen=True)
class StageState:
    """Stage of each field today: index into rules.stages (-1 before transplanting) and progress 0-1 in it."""

    index: NDArray[np.int64]
    progress: F
    next_start: NDArray[np.datetime64]  # first day of the following stage (NaT after the last stage)


def stage_today(rules: PaddyRules, today: np.datetime64, transplant: ArrayLike, heading: ArrayLike,
                override: ArrayLike | None = None) -> StageState:
    """The last stage whose start is on or before today; a farmer's override (stage id) wins."""
    tp = np.asarray(transplant, dtype="datetime64[D]")
    hd = heading_or_default(rules, tp, heading)
    n = tp.shape[0]
    starts = np.empty((n, len(rules.stages)), dtype="datetime64[D]")
    for k, st in enumerate(rules.stages):
        anchor = tp if st.anchor == "transplant" else hd
        starts[:, k] = anchor + np.timedelta64(st.start_day, "D")
    today_d = np.asarray(today).astype("datetime64[D]")
    begun = (starts <= today_d) & ~np.isnat(starts)
    # last begun stage in table order (later stages win when anchors overlap)
    k_idx = np.arange(len(rules.stages))
    index = np.where(begun.any(axis=1), np.max(np.where(begun, k_idx, -1), axis=1), -1)
    if override is not None:
        ids = {s: i for i, s in enumerate(rules.stage_ids())}
        ov = np.asarray(override, dtype=object)
        for i, sid in enumerate(ov):
            if sid:
                if sid not in ids:
                    raise ValueError(f"field row {i}: stage override {sid!r} is not one of {list(ids)}")
                index[i] = ids[sid]
    # progress through the stage: days since its start / days until the next stage's start
    safe = np.maximum(index, 0)
    start = starts[np.arange(n), safe]
    nxt = starts[np.arange(n), np.minimum(safe + 1, len(rules.stages) - 1)]
    span = (nxt - start).astype(np.float64)
    done = (today_d - start).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(span > 0, np.clip(done / span, 0.0, 1.0), 0.0)
    progress = np.where(np.isfinite(progress), progress, 0.0)
    last = safe + 1 >= len(rules.stages)
    return StageState(index.astype(np.int64), progress, np.where(last | (index < 0), np.datetime64("NaT", "D"), nxt))


def _stage_column(rules: PaddyRules, attr: str) -> NDArray[Any]:
    return np.array([getattr(s, attr) for s in rules.stages])


def target_band_cm(rules: PaddyRules, state: StageState, cold: ArrayLike) -> tuple[F, F]:
    """Target depth band (min, max) in cm: the stage band, ramped to its end band, or its cold band when cold."""
    k = np.maximum(state.index, 0)
    lo = _stage_column(rules, "band_min_cm")[k] + state.progress * (
        _stage_column(rules, "end_band_min_cm")[k] - _stage_column(rules, "band_min_cm")[k])
    hi = _stage_column(rules, "band_max_cm")[k] + state.progress * (
        _stage_column(rules, "end_band_max_cm")[k] - _stage_column(rules, "band_max_cm")[k])
    cmin, cmax = _stage_column(rules, "cold_band_min_cm")[k], _stage_column(rules, "cold_band_max_cm")[k]
    use_cold = np.asarray(cold, bool) & np.isfinite(cmin)
    lo = np.where(use_cold, np.maximum(lo, cmin), lo)
    hi = np.where(use_cold, np.maximum(hi, cmax), hi)
    before = state.index < 0
    return np.where(before, np.nan, lo), np.where(before, np.nan, hi)


class ColdLevel(IntEnum):
    """NARO Tohoku 7-day running mean classes."""

    NO_RISK = 0
    CONSIDER = 1
    DEEP_WATER = 2


@dataclass(frozen=True)
class ColdRisk:
    """Cold assessment per field, before the stage decides what it means."""

    level: NDArray[np.int64]  # ColdLevel from the running mean
    running_mean_c: F
    coldest_night_c: F  # forecast (or trended) coldest minimum in the window, NaN if unknown
    coldest_night_in_days: NDArray[np.int64]  # 0 = tonight
    from_trend: NDArray[np.bool_]  # the coldest night comes from the sensor trend (no forecast)


@dataclass(frozen=True)
class ColdCall:
    """What the cold assessment means in each field's stage (all False outside stages with a cold trigger)."""

    fires: NDArray[np.bool_]  # use the stage's cold band
    naro_deep: NDArray[np.bool_]  # running mean in the deep-water class (naro stages)
    naro_consider: NDArray[np.bool_]  # running mean in the "consider" class (naro stages)
    cold_night: NDArray[np.bool_]  # a night at or below the stage's threshold is coming


def cold_call(rules: PaddyRules, cold: ColdRisk, stage: StageState) -> ColdCall:
    """Apply each field's stage trigger (rules column cold_trigger / cold_night_c) to the cold assessment."""
    k = np.maximum(stage.index, 0)
    trigger = _stage_column(rules, "cold_trigger")[k]
    night_c = _stage_column(rules, "cold_night_c")[k]
    staged = stage.index >= 0
    naro = staged & (trigger == "naro")
    night = staged & (trigger == "night")
    with np.errstate(invalid="ignore"):
        cold_night = (naro | night) & (cold.coldest_night_c <= night_c)
    naro_deep = naro & (cold.level == ColdLevel.DEEP_WATER)
    naro_consider = naro & (cold.level == ColdLevel.CONSIDER)
    return ColdCall(naro_deep | cold_night, naro_deep, naro_consider, cold_night)


def cold_risk(rules: PaddyRules, *, daily_mean_c: ArrayLike, daily_min_c: ArrayLike, cold_sensitive: ArrayLike,
              forecast_min_c: ArrayLike | None) -> ColdRisk:
    """Cold assessment from the 7-day running mean (NARO classes) and the coming nights (forecast, else trend).

    `daily_mean_c` and `daily_min_c` are the observed days (n, d), the last column being yesterday.
    Without a forecast, the coming nights are the least-squares line through the last 3 observed minima,
    extended `trend_days` ahead (a falling trend towards the threshold still warns).
    """
    mean = np.asarray(daily_mean_c, float)
    n = mean.shape[0]
    window = mean[:, -rules.running_mean_days:]
    counts = np.isfinite(window).sum(axis=1)
    with np.errstate(invalid="ignore"):
        running = np.where(counts > 0, np.nansum(window, axis=1) / np.maximum(counts, 1), np.nan)
    sensitive = np.asarray(cold_sensitive, bool)
    deep = (running < rules.deep_water_below_c) | (sensitive & (running < rules.sensitive_variety_below_c))
    consider = ~deep & (running < rules.consider_below_c)
    level = np.where(deep, ColdLevel.DEEP_WATER, np.where(consider, ColdLevel.CONSIDER, ColdLevel.NO_RISK))
    h = rules.forecast_days
    if forecast_min_c is not None:
        nights = np.broadcast_to(np.asarray(forecast_min_c, float), (n, np.shape(forecast_min_c)[-1]))[:, :h]
        from_trend = np.zeros(n, dtype=bool)
    else:
        mins = np.asarray(daily_min_c, float)[:, -3:]
        x = np.arange(mins.shape[1], dtype=float)
        ok = np.isfinite(mins)
        cnt = ok.sum(axis=1)
        xm = np.where(cnt > 0, (x * ok).sum(axis=1) / np.maximum(cnt, 1), 0.0)
        ym = np.where(cnt > 0, np.where(ok, mins, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)
        dx = np.where(ok, x - xm[:, None], 0.0)
        var = (dx ** 2).sum(axis=1)
        slope = np.where(var > 0, (dx * np.where(ok, mins - ym[:, None], 0.0)).sum(axis=1) / np.where(var > 0, var, 1),
                         0.0)
        ahead = np.arange(1, rules.trend_days + 1, dtype=float) + (mins.shape[1] - 1)
        nights = ym[:, None] + slope[:, None] * (ahead[None, :] - xm[:, None])
        from_trend = np.isfinite(ym)
    finite = np.isfinite(nights)
    coldest = np.where(finite.any(axis=1), np.where(finite, nights, np.inf).min(axis=1), np.nan)
    coldest_day = np.where(finite, nights, np.inf).argmin(axis=1)
    return ColdRisk(level.astype(np.int64), running, coldest, coldest_day.astype(np.int64),
                    from_trend & np.isfinite(coldest))


@dataclass(frozen=True)
class LevelTrend:
    """Least-squares line through each field's recent level readings."""

    fall_cm_h: F  # positive = falling; NaN with fewer than 2 readings
    fall_se_cm_h: F  # standard error of fall_cm_h from the residual scatter (sensor noise, waves)
    points: NDArray[np.int64]


def level_trend(t_unix_s: ArrayLike, level_cm: ArrayLike, now_unix_s: float, window_h: float) -> LevelTrend:
    """Fall rate of the level over the last window_h hours, cm/h, with its standard error.

    `level_cm` is (n, m) with NaN gaps; `t_unix_s` is (m,) shared or (n, m).
    """
    lvl = np.asarray(level_cm, float)
    t_in = np.asarray(t_unix_s, float)
    if t_in.ndim == 1:  # shared time axis: keep only the window's columns before the per-field work
        cols = (t_in > now_unix_s - window_h * 3600.0) & (t_in <= now_unix_s)
        lvl, t_in = lvl[:, cols], t_in[cols]
    t = np.broadcast_to(t_in, lvl.shape)
    mask = np.isfinite(lvl) & (t > now_unix_s - window_h * 3600.0) & (t <= now_unix_s)
    cnt = mask.sum(axis=1)
    th = np.where(mask, (t - now_unix_s) / 3600.0, 0.0)
    lv = np.where(mask, lvl, 0.0)
    denom = np.maximum(cnt, 1)
    tm = th.sum(axis=1) / denom
    lm = lv.sum(axis=1) / denom
    dt = np.where(mask, th - tm[:, None], 0.0)
    dl = np.where(mask, lvl - lm[:, None], 0.0)
    var = (dt ** 2).sum(axis=1)
    ok = (cnt >= 2) & (var > 0)
    slope = np.where(ok, (dt * dl).sum(axis=1) / np.where(var > 0, var, 1.0), np.nan)
    residual = np.where(mask, dl - slope[:, None] * dt, 0.0)
    s2 = (residual ** 2).sum(axis=1) / np.maximum(cnt - 2, 1)
    se = np.where(ok & (cnt > 2), np.sqrt(s2 / np.where(var > 0, var, 1.0)), np.nan)
    return LevelTrend(-slope, se, cnt.astype(np.int64))


def expected_loss_cm_h(etc_mm_day: ArrayLike, percolation_mm_day: ArrayLike) -> F:
    """Level fall that ET and percolation explain, cm/h (the day's ETc + percolation spread over 24 h)."""
    return (np.asarray(etc_mm_day, float) + np.asarray(percolation_mm_day, float)) / 24.0 / 10.0


def leak_suspected(rules: PaddyRules, trend: LevelTrend, expected_cm_h: ArrayLike) -> NDArray[np.bool_]:
    """True where the level falls faster than ET + percolation explain (leak or open outlet).

    The fall must beat the threshold by `significance` standard errors, so a noisy sensor (waves, wind) needs
    a clearer fall before it raises an alarm, while a clean series is flagged as soon as the fall is real.
    """
    exp = np.asarray(expected_cm_h, float)
    threshold = np.maximum(rules.leak_excess_factor * exp, exp + rules.leak_excess_margin_cm_h)
    with np.errstate(invalid="ignore"):
        return ((trend.points >= rules.leak_min_points)
                & (trend.fall_cm_h - rules.leak_significance * trend.fall_se_cm_h > threshold))


def latest_level_cm(t_unix_s: ArrayLike, level_cm: ArrayLike, now_unix_s: float) -> tuple[F, F]:
    """Latest reading at or before now per field and its age in hours (NaN when there is none)."""
    lvl = np.asarray(level_cm, float)
    t = np.broadcast_to(np.asarray(t_unix_s, float), lvl.shape)
    ok = np.isfinite(lvl) & (t <= now_unix_s)
    tt = np.where(ok, t, -np.inf)
    j = tt.argmax(axis=1)
    rows = np.arange(lvl.shape[0])
    have = ok.any(axis=1)
    return np.where(have, lvl[rows, j], np.nan), np.where(have, (now_unix_s - t[rows, j]) / 3600.0, np.nan)
