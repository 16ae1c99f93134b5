"""Fleet health: per device last seen, silence, battery level and trend, signal, firmware, clock problems.

Staleness is data, not a guess: a device is silent when nothing arrived for more than
`silent_after_intervals` (default 3) of its registered `expected_interval_s`. Battery trend is the
least-squares slope of hourly mean voltage over the last `battery_trend_days`, and days left is the
straight-line projection to the cutoff voltage (a Li-ion discharge curve is flat in the middle, so the
projection is a warning, not a promise).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

import numpy as np

from yukimizu.influx import quote_ident

from .history import History, series_from_json, source, where_clause
from .registry import Registry
from .settings import FleetSection

DAY_MS = 86_400_000
CLOCK_AHEAD_TOLERANCE_MS = 120_000  # NTP-less devices drift; two minutes ahead is a clock problem
WEAK_RSSI_DBM = -90.0  # Wi-Fi below about -90 dBm drops packets and lengthens connect time
FLAT_SLOPE_V_PER_DAY = 1e-4  # 0.1 mV/day: below what an ESP32 ADC can resolve over a week
KINDS = ("soil", "water", "weather", "plow")
# A plow logger runs on the vehicle's power and stops with the engine. Its last report standing (GPS
# speed noise at rest is well under this) with the blade up means parked after a shift, not silent.
PARKED_SPEED_KM_H = 3.0


class Status(str, Enum):
    """Sort order of the fleet page: problems first."""

    PROBLEM = "problem"
    WARNING = "warning"
    OK = "ok"


# Problem code -> (status, Japanese, English).
PROBLEMS: dict[str, tuple[Status, str, str]] = {
    "never_seen": (Status.PROBLEM, "一度も受信していません", "never reported"),
    "silent": (Status.PROBLEM, "受信が途絶えています", "silent"),
    "battery_low": (Status.PROBLEM, "電池残量が少ない", "battery low"),
    "clock_ahead": (Status.PROBLEM, "時計が進んでいます", "clock ahead"),
    "clock_behind": (Status.PROBLEM, "時計が設定日時より前です", "clock set before provisioning"),
    "battery_draining": (Status.WARNING, "電池が近く切れる見込み", "battery running out soon"),
    "weak_signal": (Status.WARNING, "電波が弱い", "weak signal"),
    "unregistered": (Status.WARNING, "台帳に登録されていません", "not in the registry"),
    "mqtt_disconnected": (Status.PROBLEM, "MQTTブローカーに接続していません", "not connected to the MQTT broker"),
    "spool_backlog": (Status.WARNING, "未送信データが溜まっています", "readings waiting to be written"),
}
GATEWAY_BACKLOG_S = 300.0  # readings older than this still in the gateway's spool: InfluxDB writes are behind


@dataclass
class DeviceHealth:
    """The health of one device as the API and the fleet page show it."""

    device_id: str
    kind: str
    site: str
    field_id: str | None = None
    vehicle_id: str | None = None
    route: str | None = None
    expected_interval_s: int | None = None
    firmware_version: str = ""
    registered: bool = True
    last_seen_ms: int | None = None
    age_s: float | None = None
    silent: bool = False
    parked: bool = False  # a plow quiet since it stood with its blade up: engine off, nothing wrong
    battery_v: float | None = None
    battery_slope_v_per_day: float | None = None
    battery_days_left: float | None = None
    rssi_dbm: float | None = None
    clock_problem: str | None = None
    problems: list[str] = field(default_factory=list)
    status: Status = Status.OK

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as UTC ISO 8601 as well as ms)."""
        d = asdict(self)
        d["status"] = self.status.value
        d["last_seen"] = iso_utc(self.last_seen_ms) if self.last_seen_ms is not None else None
        return d


def iso_utc(t_ms: int) -> str:
    """UTC ISO 8601 with Z."""
    return datetime.fromtimestamp(t_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def battery_trend(times_ms: np.ndarray, volts: np.ndarray, cutoff_v: float,
                  min_span_days: float = 1.0) -> tuple[float | None, float | None]:
    """(slope V/day, days left to cutoff_v) by least squares over the points, or (None, None) if too few.

    Days left is None when the voltage is not falling; 0 when already at or below the cutoff.
    """
    ok = np.isfinite(volts)
    t, v = times_ms[ok].astype(np.float64) / DAY_MS, volts[ok]
    if t.size < 3 or (t.max() - t.min()) < min_span_days:
        return None, None
    slope, intercept = np.polyfit(t - t[-1], v, 1)  # V/day; fit centred on the newest point for precision
    v_now = intercept  # fitted voltage at the newest point (less noisy than the last reading)
    if v_now <= cutoff_v:
        return float(slope), 0.0
    if slope > -FLAT_SLOPE_V_PER_DAY:  # flat within rounding and ADC noise: no projection
        return float(slope), None
    return float(slope), float((v_now - cutoff_v) / -slope)


async def fleet_health(registry: Registry, history: History, cfg: FleetSection, *, now_ms: int,
                       site: str | None = None) -> list[DeviceHealth]:
    """Health of every registered device (and every unregistered one that reported), problems first."""
    devices = registry.list("devices", site=site)
    by_id: dict[str, DeviceHealth] = {}
    for d in devices:
        by_id[d["device_id"]] = DeviceHealth(
            device_id=d["device_id"], kind=d["kind"], site=d["site"], field_id=d["field_id"],
            vehicle_id=d["vehicle_id"], route=d["route"], expected_interval_s=d["expected_interval_s"],
            firmware_version=d["firmware_version"])
    provisioned = {d["device_id"]: d["provisioned_at"] for d in devices}
    lookback_start = now_ms - int(cfg.lookback_days * DAY_MS)
    trend_start = now_ms - int(cfg.battery_trend_days * DAY_MS)
    site_tag = {"site": site} if site else {}
    for kind in KINDS:
        src = source(kind, history.database, history.raw_rp)
        # Include readings stamped ahead of now: the device is alive, its clock is wrong (flagged below).
        seen_where = where_clause(lookback_start, now_ms + 7 * DAY_MS, site_tag)
        statements = [
            f'SELECT last("seq") AS "seq" FROM {src}{seen_where} GROUP BY "device_id", "site"',
            f'SELECT last("battery_v") AS "battery_v" FROM {src}{seen_where} GROUP BY "device_id"',
            f'SELECT last("rssi_dbm") AS "rssi_dbm" FROM {src}{seen_where} GROUP BY "device_id"',
            f'SELECT mean("battery_v") AS "battery_v" FROM {src}{where_clause(trend_start, now_ms + 1, site_tag)}'
            ' GROUP BY time(1h), "device_id" fill(none)',
            f'SELECT count("seq") AS "n" FROM {src}'
            f'{where_clause(now_ms + CLOCK_AHEAD_TOLERANCE_MS + 1, now_ms + 7 * DAY_MS, site_tag)} GROUP BY "device_id"',
        ]
        last, batt, rssi, trend, ahead = await history.query_all(";".join(statements))
        for s in series_from_json(last, ["seq"]):
            dev_id = s.tags.get("device_id", "")
            h = by_id.get(dev_id)
            if h is None:
                h = by_id[dev_id] = DeviceHealth(device_id=dev_id, kind=kind, site=s.tags.get("site", ""),
                                                 registered=False)
            if len(s) and (h.last_seen_ms is None or int(s.times_ms[-1]) > h.last_seen_ms):
                h.last_seen_ms = int(s.times_ms[-1])
        for rows, attr in ((batt, "battery_v"), (rssi, "rssi_dbm")):
            for s in series_from_json(rows, [attr]):
                h = by_id.get(s.tags.get("device_id", ""))
                if h is not None and len(s) and math.isfinite(s.values[attr][-1]):
                    setattr(h, attr, round(float(s.values[attr][-1]), 3))
        for s in series_from_json(trend, ["battery_v"]):
            h = by_id.get(s.tags.get("device_id", ""))
            if h is not None:
                slope, days = battery_trend(s.times_ms, s.values["battery_v"], cfg.battery_cutoff_v)
                h.battery_slope_v_per_day = None if slope is None else round(slope, 4)
                h.battery_days_left = None if days is None else round(days, 1)
        for s in series_from_json(ahead, ["n"]):
            h = by_id.get(s.tags.get("device_id", ""))
            if h is not None and len(s) and s.values["n"][-1] > 0:
                h.clock_problem = f"{int(s.values['n'][-1])} reading(s) stamped more than 2 min in the future"
    await _clock_behind(history, by_id, provisioned)
    await _plows_at_rest(history, by_id, where_clause(lookback_start, now_ms + 7 * DAY_MS, site_tag))
    gateways = await _gateways(history, cfg, now_ms, lookback_start)
    for h in by_id.values():
        _judge(h, cfg, now_ms, provisioned.get(h.device_id))
    for h, connected, backlog_s in gateways:
        _judge(h, cfg, now_ms, None)
        if connected is False:
            h.problems.append("mqtt_disconnected")
        if backlog_s is not None and backlog_s > GATEWAY_BACKLOG_S:
            h.problems.append("spool_backlog")
        statuses = [PROBLEMS[p][0] for p in h.problems]
        h.status = Status.PROBLEM if Status.PROBLEM in statuses else Status.WARNING if statuses else Status.OK
        by_id[f"gateway:{h.device_id}"] = h
    order = {Status.PROBLEM: 0, Status.WARNING: 1, Status.OK: 2}
    return sorted(by_id.values(), key=lambda h: (order[h.status], h.device_id))


async def _plows_at_rest(history: History, by_id: dict[str, DeviceHealth], where: str) -> None:
    """Mark plows whose last report was standing with the blade up (parked) as `parked`."""
    src = source("plow", history.database, history.raw_rp)
    speed, blade = await history.query_all(";".join(
        f'SELECT last({quote_ident(f)}) AS {quote_ident(f)} FROM {src}{where} GROUP BY "device_id"'
        for f in ("speed_km_h", "blade_down")))
    last: dict[str, dict[str, float]] = {}
    for rows, f in ((speed, "speed_km_h"), (blade, "blade_down")):
        for s in series_from_json(rows, [f]):
            if len(s):
                last.setdefault(s.tags.get("device_id", ""), {})[f] = float(s.values[f][-1])
    for dev_id, v in last.items():
        h = by_id.get(dev_id)
        if h is not None and h.kind == "plow":
            h.parked = v.get("blade_down") == 0.0 and v.get("speed_km_h", math.inf) < PARKED_SPEED_KM_H


async def _clock_behind(history: History, by_id: dict[str, DeviceHealth], provisioned: dict[str, str | None]) -> None:
    """Readings stamped before the device was provisioned: its clock was reset (lost RTC, no NTP)."""
    statements, who = [], []
    for dev_id, when in provisioned.items():
        h = by_id[dev_id]
        if not when or h.last_seen_ms is None:
            continue
        t_prov_ms = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() * 1000)
        # Allow an hour for a device flashed and tested before it was entered in the registry.
        src = source(h.kind, history.database, history.raw_rp)
        statements.append(f'SELECT count("seq") AS "n" FROM {src}'
                          f'{where_clause(1_577_836_800_000, t_prov_ms - 3_600_000, {"device_id": dev_id})}')
        who.append(h)
    if not statements:
        return
    for h, series in zip(who, await history.query_all(";".join(statements))):
        for s in series_from_json(series, ["n"]):
            if len(s) and s.values["n"][-1] > 0:
                h.clock_problem = f"{int(s.values['n'][-1])} reading(s) stamped before provisioning"


async def _gateways(history: History, cfg: FleetSection, now_ms: int,
                    lookback_start: int) -> list[tuple[DeviceHealth, bool | None, float | None]]:
    """Each edge gateway from its own `gateway` measurement (tag `gateway`): last seen, MQTT link, spool age."""
    src = source("gateway", history.database, history.raw_rp)
    where = where_clause(lookback_start, now_ms + 7 * DAY_MS, {})
    seen, link, backlog = await history.query_all(";".join(
        f'SELECT last({quote_ident(f)}) AS {quote_ident(f)} FROM {src}{where} GROUP BY "gateway"'
        for f in ("uptime_s", "mqtt_connected", "spool_age_s")))
    out = []
    values: dict[str, dict[str, float]] = {}
    for rows, f in ((link, "mqtt_connected"), (backlog, "spool_age_s")):
        for s in series_from_json(rows, [f]):
            if len(s):
                values.setdefault(s.tags.get("gateway", ""), {})[f] = float(s.values[f][-1])
    for s in series_from_json(seen, ["uptime_s"]):
        gw = s.tags.get("gateway", "")
        if not gw or not len(s):
            continue
        h = DeviceHealth(device_id=gw, kind="gateway", site="", expected_interval_s=int(cfg.gateway_interval_s),
                         last_seen_ms=int(s.times_ms[-1]))
        v = values.get(gw, {})
        connected = None if math.isnan(v.get("mqtt_connected", math.nan)) else v["mqtt_connected"] > 0.5
        backlog_s = v.get("spool_age_s")
        out.append((h, connected, None if backlog_s is None or math.isnan(backlog_s) else backlog_s))
    return out


def _judge(h: DeviceHealth, cfg: FleetSection, now_ms: int, provisioned_at: str | None) -> None:
    problems: list[str] = []
    if h.last_seen_ms is not None:
        h.age_s = max(0.0, round((now_ms - h.last_seen_ms) / 1000.0, 1))
    if not h.registered:
        problems.append("unregistered")
    if h.expected_interval_s:
        limit_s = cfg.silent_after_intervals * h.expected_interval_s
        if h.last_seen_ms is None:
            # Never seen: silent only once the device has had its chance since provisioning.
            if provisioned_at:
                t_prov_ms = datetime.fromisoformat(provisioned_at.replace("Z", "+00:00")).timestamp() * 1000
                if now_ms - t_prov_ms > limit_s * 1000:
                    problems.append("never_seen")
                    h.silent = True
        elif h.age_s is not None and h.age_s > limit_s and not h.parked:
            problems.append("silent")
            h.silent = True
        # Standing with the blade up while still reporting is a stop at a junction or idling, not parked.
        h.parked = h.parked and h.age_s is not None and h.age_s > limit_s
    else:
        h.parked = False
    if h.battery_v is not None and h.battery_v < cfg.battery_low_v:
        problems.append("battery_low")
    elif h.battery_days_left is not None and h.battery_days_left < cfg.battery_warn_days:
        problems.append("battery_draining")
    if h.clock_problem:
        problems.append("clock_ahead" if "future" in h.clock_problem else "clock_behind")
    if h.rssi_dbm is not None and h.rssi_dbm < WEAK_RSSI_DBM:
        problems.append("weak_signal")
    h.problems = problems
    statuses = [PROBLEMS[p][0] for p in problems]
    h.status = Status.PROBLEM if Status.PROBLEM in statuses else Status.WARNING if statuses else Status.OK


def problem_texts(codes: Sequence[str]) -> list[dict[str, str]]:
    """Codes with their Japanese and English labels, for the API and the page."""
    return [{"code": c, "ja": PROBLEMS[c][1], "en": PROBLEMS[c][2]} for c in codes]
