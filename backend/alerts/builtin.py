"""Built-in rules: water level out of band, cold-damage risk, device silent, battery low, plow stopped."""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from ..registry import Registry
from ..settings import BackendSettings
from .paddy_bands import COLD_DEEP_MAX_CM, COLD_SENSITIVE_STAGES, band_for, stage_ja
from .rules import Condition, Evaluation, Rule, RuleContext, Severity

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


# Rules whose open alert on a paddy asks for deep water against cold: the built-in one, and the advisor
# plugin's forecast-based one. Both run before the level rule (`before`), so this holds from the first tick.
DEEP_WATER_RULES = ("cold_damage", "paddy_cold_night")


def _paddy_sensors(registry: Registry) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Paddies by id, and the water sensors of each paddy that has any."""
    fields = {f["id"]: f for f in registry.list("fields", crop="paddy")}
    sensors: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in registry.list("devices", kind="water"):
        if d["field_id"] in fields:
            sensors[d["field_id"]].append(d)
    return fields, sensors


def judged_by_level_rule(registry: Registry, side: str) -> set[str]:
    """Paddies the level rule alerts when too low (side "low": a lower bound and a water sensor) or too
    deep ("high": an upper bound, which a field's outlet height is): no other rule need say it again."""
    fields, sensors = _paddy_sensors(registry)
    k = 0 if side == "low" else 1
    return {fid for fid in sensors if (band := band_for(fields[fid])) is not None and band[k] is not None}


class WaterLevelBand:
    """A paddy's water level below or above its band (the field's own, else the stage default).

    Subjects are `{field}:low` and `{field}:high`. Hysteresis: an open alert clears only once the
    level is `level_hysteresis_cm` back inside the band, so a level hovering at the edge does not
    send a raise/clear pair every few minutes.
    """

    name = "water_level"

    async def evaluate(self, ctx: RuleContext) -> Evaluation:
        """Compare each paddy's latest level (mean over its water sensors) with its band."""
        ev = Evaluation()
        hyst = ctx.settings.alerts.level_hysteresis_cm
        fields, sensors = _paddy_sensors(ctx.registry)
        ev.universe = {f"{fid}:{side}" for fid in sensors for side in ("low", "high")}
        if not sensors:
            return ev
        # Look back 3 reporting intervals (at least an hour): older than that is the silent rule's business.
        window_ms = max(HOUR_MS, 3 * max(d["expected_interval_s"] for ds in sensors.values() for d in ds) * 1000)
        ids = [d["device_id"] for ds in sensors.values() for d in ds]
        latest = await ctx.history.latest("water", ["level_cm"], start_ms=ctx.now_ms - window_ms,
                                          end_ms=ctx.now_ms + 1, tags={"device_id": ids}, group_by=("device_id",))
        for field_id, devs in sensors.items():
            f = fields[field_id]
            band = band_for(f)
            levels = [latest[(d["device_id"],)][1]["level_cm"] for d in devs if (d["device_id"],) in latest]
            levels = [x for x in levels if math.isfinite(x)]
            if band is None or not levels:
                continue
            lo, hi, band_source = band
            if hi is not None and any(ctx.is_open(rule, field_id) for rule in DEEP_WATER_RULES):
                hi = max(hi, COLD_DEEP_MAX_CM)  # a cold alert asks for deep water: not "too deep"
            level = float(np.mean(levels))
            stage = f.get("growth_stage")
            name = f["name"] or field_id
            details = {"field_id": field_id, "level_cm": round(level, 1), "min_cm": lo, "max_cm": hi,
                       "band_source": band_source, "growth_stage": stage}
            low, high = f"{field_id}:low", f"{field_id}:high"
            ev.checked.update({low, high})
            if lo is not None and (level < lo or (ctx.is_open(self.name, low) and level < lo + hyst)):
                ev.active.append(Condition(
                    low, f["site"], Severity.CRITICAL,
                    f"{name}: 水位 {level:.1f} cm が下限 {lo:g} cm を下回っています({stage_ja(stage)})。入水してください。",
                    f"{name}: water level {level:.1f} cm is below {lo:g} cm ({stage or 'stage not set'}). "
                    "Let water in.", details))
            if hi is not None and (level > hi or (ctx.is_open(self.name, high) and level > hi - hyst)):
                ev.active.append(Condition(
                    high, f["site"], Severity.WARNING,
                    f"{name}: 水位 {level:.1f} cm が上限 {hi:g} cm を超えています({stage_ja(stage)})。排水口を確認してください。",
                    f"{name}: water level {level:.1f} cm is above {hi:g} cm ({stage or 'stage not set'}). "
                    "Check the outlet.", details))
        return ev


class ColdDamage:
    """Cold-damage risk for paddies in the cold-sensitive stages (NARO Tohoku deep-water trigger).

    7-day mean air temperature (mean of hourly means from the site's weather stations) under
    `cold_mean_c` (17 C): deep water for every paddy; under `cold_mean_sensitive_c` (20 C): deep water
    for cold-sensitive varieties. Needs at least 4 days of hourly data in the 7 to judge.
    """

    name = "cold_damage"
    before = ("water_level",)
    min_hours = 96

    async def evaluate(self, ctx: RuleContext) -> Evaluation:
        """Check every paddy in panicle formation or meiosis against its site's 7-day mean."""
        ev = Evaluation()
        cfg = ctx.settings.alerts
        paddies = [f for f in ctx.registry.list("fields", crop="paddy") if f.get("growth_stage") in COLD_SENSITIVE_STAGES]
        ev.universe = {f["id"] for f in paddies}  # a paddy past meiosis is out of the cold-sensitive window
        for site in sorted({f["site"] for f in paddies}):
            series = await ctx.history.aggregate("weather", ["air_temp_c"], start_ms=ctx.now_ms - 7 * DAY_MS,
                                                 end_ms=ctx.now_ms + 1, every="1h", tags={"site": site}, group_by=())
            hourly = np.concatenate([s.values["air_temp_c"] for s in series]) if series else np.array([])
            hourly = hourly[np.isfinite(hourly)]
            if hourly.size < self.min_hours:
                continue
            mean_c = float(hourly.mean())
            for f in (f for f in paddies if f["site"] == site):
                ev.checked.add(f["id"])
                sensitive = bool(f["cold_sensitive_variety"])
                limit = cfg.cold_mean_sensitive_c if sensitive else cfg.cold_mean_c
                if mean_c >= limit:
                    continue
                name = f["name"] or f["id"]
                ev.active.append(Condition(
                    f["id"], site, Severity.CRITICAL,
                    f"{name}: 7日平均気温 {mean_c:.1f}℃ で冷害の危険があります({stage_ja(f['growth_stage'])})。"
                    "深水管理にしてください(10 cm以上、低温予報時は15〜20 cm、早朝に入水)。",
                    f"{name}: 7-day mean air temperature {mean_c:.1f} C, cold-damage risk ({f['growth_stage']}). "
                    "Hold deep water: at least 10 cm, 15-20 cm when cold is forecast; fill in the early morning.",
                    {"field_id": f["id"], "mean_air_temp_c": round(mean_c, 2), "limit_c": limit,
                     "cold_sensitive_variety": sensitive, "hours": int(hourly.size)}))
        return ev


class DeviceSilent:
    """A device that sent nothing for more than 3 (configurable) expected intervals, or never since provisioning."""

    name = "device_silent"

    async def evaluate(self, ctx: RuleContext) -> Evaluation:
        """Every registered device with an expected interval is checked."""
        ev = Evaluation(universe=set())
        for h in await ctx.fleet():
            if not h.registered or not h.expected_interval_s:
                continue
            ev.universe.add(f"gateway:{h.device_id}" if h.kind == "gateway" else h.device_id)  # type: ignore[union-attr]
            subject = f"gateway:{h.device_id}" if h.kind == "gateway" else h.device_id
            if h.last_seen_ms is None and not h.silent:
                continue  # nothing within fleet.lookback_days and no provisioning date: unknown, not recovered
            ev.checked.add(subject)
            if not h.silent:
                continue
            if h.kind == "gateway":
                mins = (h.age_s or 0) / 60
                ev.active.append(Condition(
                    subject, h.site, Severity.CRITICAL,
                    f"ゲートウェイ {h.device_id}: {mins:.0f} 分間応答がありません。全センサーのデータが届きません。"
                    "電源とネットワークを確認してください。",
                    f"Gateway {h.device_id} silent for {mins:.0f} min: no sensor data arrives. "
                    "Check its power and network.",
                    {"gateway": h.device_id, "last_seen_ms": h.last_seen_ms, "age_s": h.age_s}))
                continue
            if h.kind == "plow" and h.last_seen_ms is not None:
                # Parked plows are not silent (fleet.py): this one went quiet while moving or clearing.
                mins = (h.age_s or 0) / 60
                ev.active.append(Condition(
                    h.device_id, h.site, Severity.WARNING,
                    f"除雪車 {h.vehicle_id or h.device_id}(ロガー {h.device_id}): 作業中に {mins:.0f} 分間受信が途絶えています。"
                    "運転手に連絡してください。",
                    f"Plow {h.vehicle_id or h.device_id} (logger {h.device_id}) went silent while working {mins:.0f} min ago. "
                    "Call the driver.",
                    {"device_id": h.device_id, "vehicle_id": h.vehicle_id, "last_seen_ms": h.last_seen_ms,
                     "age_s": h.age_s, "expected_interval_s": h.expected_interval_s}))
                continue
            where = h.field_id or h.vehicle_id or h.site
            if h.last_seen_ms is None:
                ja, en = "一度も受信していません", "has never reported"
            else:
                mins = (h.age_s or 0) / 60
                ja, en = f"{mins:.0f} 分間受信がありません", f"silent for {mins:.0f} min"
            ev.active.append(Condition(
                h.device_id, h.site, Severity.WARNING,
                f"センサー {h.device_id}({where}): {ja}(通常 {h.expected_interval_s} 秒ごと)。電池・電波を確認してください。",
                f"Device {h.device_id} ({where}) {en} (expected every {h.expected_interval_s} s). "
                "Check its battery and signal.",
                {"device_id": h.device_id, "last_seen_ms": h.last_seen_ms, "age_s": h.age_s,
                 "expected_interval_s": h.expected_interval_s}))
        return ev


class BatteryLow:
    """Battery below `battery_low_v`, or projected to reach the cutoff within `battery_warn_days`."""

    name = "battery_low"

    async def evaluate(self, ctx: RuleContext) -> Evaluation:
        """Devices with a known battery voltage are checked."""
        ev = Evaluation(universe={h.device_id for h in await ctx.fleet() if h.registered})
        for h in await ctx.fleet():
            if h.battery_v is None:
                continue
            ev.checked.add(h.device_id)
            if "battery_low" not in h.problems and "battery_draining" not in h.problems:
                continue
            days = f"、あと約 {h.battery_days_left:.0f} 日" if h.battery_days_left is not None else ""
            days_en = f", about {h.battery_days_left:.0f} days left" if h.battery_days_left is not None else ""
            ev.active.append(Condition(
                h.device_id, h.site, Severity.WARNING,
                f"センサー {h.device_id}: 電池 {h.battery_v:.2f} V{days}。交換または充電してください。",
                f"Device {h.device_id}: battery {h.battery_v:.2f} V{days_en}. Replace or charge it.",
                {"device_id": h.device_id, "battery_v": h.battery_v, "battery_days_left": h.battery_days_left,
                 "battery_slope_v_per_day": h.battery_slope_v_per_day}))
        return ev


class PlowStopped:
    """A plow that has stood still for `plow_stopped_min` with its blade down (stuck or broken down mid-route).

    Standing still means every fix in the window under `plow_stopped_speed_km_h` and within 30 m
    of its median position (GPS error is about 5 m; snow walls make it worse). A parked plow has its
    blade up and is not alerted.
    """

    name = "plow_stopped"
    still_radius_m = 30.0

    async def evaluate(self, ctx: RuleContext) -> Evaluation:
        """Check every plow logger that reported within the window."""
        ev = Evaluation()
        cfg = ctx.settings.alerts
        plows = ctx.registry.list("devices", kind="plow")
        ev.universe = {p["device_id"] for p in plows}
        if not plows:
            return ev
        window_ms = int(cfg.plow_stopped_min * 60_000)
        series = await ctx.history.raw("plow", ["lat", "lon", "speed_km_h", "blade_down"],
                                       start_ms=ctx.now_ms - window_ms, end_ms=ctx.now_ms + 1,
                                       tags={"device_id": [p["device_id"] for p in plows]}, group_by=("device_id",))
        by_dev = {s.tags.get("device_id"): s for s in series}
        for p in plows:
            s = by_dev.get(p["device_id"])
            ev.checked.add(p["device_id"])  # no fixes in the window: not stopped here (silence is another rule)
            if s is None or len(s) < 2:
                continue
            span_ms = int(s.times_ms[-1] - s.times_ms[0])
            speed = s.values["speed_km_h"]
            lat, lon = s.values["lat"], s.values["lon"]
            blade = s.values["blade_down"]
            if span_ms < 0.8 * window_ms or not np.nanmax(np.nan_to_num(blade, nan=0.0)) > 0.5:
                continue
            if np.any(np.isfinite(speed) & (speed >= cfg.plow_stopped_speed_km_h)):
                continue
            ok = np.isfinite(lat) & np.isfinite(lon)
            if ok.sum() >= 2:
                lat0, lon0 = np.median(lat[ok]), np.median(lon[ok])
                # Equirectangular distance, m: fine over tens of metres.
                dy = (lat[ok] - lat0) * 111_195.0
                dx = (lon[ok] - lon0) * 111_195.0 * math.cos(math.radians(lat0))
                if np.max(np.hypot(dx, dy)) > self.still_radius_m:
                    continue
            mins = span_ms / 60_000
            who = p["vehicle_id"] or p["device_id"]
            route = p["route"] or "-"
            ev.active.append(Condition(
                p["device_id"], p["site"], Severity.CRITICAL,
                f"除雪車 {who}(路線 {route}): 排土板を下ろしたまま {mins:.0f} 分停止しています。運転手に確認してください。",
                f"Plow {who} (route {route}) has stood still for {mins:.0f} min with the blade down. "
                "Check with the driver.",
                {"device_id": p["device_id"], "vehicle_id": p["vehicle_id"], "route": p["route"],
                 "stopped_min": round(mins, 1)}))
        return ev


def builtin_rules(settings: BackendSettings) -> list[Rule]:
    """The rules every backend runs."""
    return [ColdDamage(), WaterLevelBand(), DeviceSilent(), BatteryLow(), PlowStopped()]
