"""The Advisor: advice for a site's fields (or one field) from the registry and InfluxDB, written back on a schedule.

One computation per site: registry rows -> FieldTable (fields.py), InfluxDB -> History and station days
(readings.py), the site's forecast feed (forecast.py), then the vectorised engine (backend.agronomy.advise).
Every row says what it lacked (`missing`): weather parts the engine named, registry values, sensor data.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from backend.agronomy import paddy
from backend.agronomy.advice import Advice, advise
from backend.agronomy.codes import PART_REASON, Action, ReasonCode, Urgency
from backend.agronomy.crops import Crop
from backend.agronomy.inputs import FieldTable
from backend.agronomy.inputs import History as EngineHistory
from backend.agronomy.weather import WeatherInput, jst_day

from ..history import History
from ..registry import NotFound, Registry
from ..settings import BackendSettings
from . import forecast as feed
from .fields import to_field_table
from .readings import daily_weather, field_history
from .writeback import advice_lines, bucket_ms

log = logging.getLogger("yukimizu.advice")

# Reasons that say a part of the input was missing -> the part's name in `missing`.
_MISSING_OF: dict[ReasonCode, tuple[str, ...]] = {r: (p.value,) for p, r in PART_REASON.items()}
_MISSING_OF.update({ReasonCode.NO_ET_AHEAD: ("station", "forecast"), ReasonCode.NO_STATION_MEAN: ("station",),
                    ReasonCode.NO_COLD_CHECK: ("station", "forecast"), ReasonCode.NO_LEVEL: ("water_level",),
                    ReasonCode.LEVEL_STALE: ("water_level",)})


@dataclass
class FieldAdvice:
    """One field's advice, ready for the API and the `advice` measurement."""

    site: str
    field_id: str
    name: str
    crop: str  # registry crop
    action: str
    urgency: int
    amount_mm: float | None
    amount_l: float | None
    days: int | None
    target_min_cm: float | None
    target_max_cm: float | None
    stage: str | None
    stage_ja: str | None
    stage_en: str | None
    reasons: list[str]
    message_ja: str
    message_en: str
    missing: list[str]
    figures: dict[str, float | None]

    @property
    def urgency_name(self) -> str:
        """none, low, medium, high, critical."""
        return Urgency(self.urgency).name.lower()

    def sort_key(self) -> tuple[int, int, str]:
        """Most urgent first, then soonest, then by field id (the engine's order)."""
        return (-self.urgency, self.days if self.days is not None else 0, self.field_id)

    def point_values(self) -> dict[str, object]:
        """The values the `advice` measurement stores."""
        return {"action": self.action, "urgency": float(self.urgency), "amount_mm": self.amount_mm,
                "amount_l": self.amount_l, "target_min_cm": self.target_min_cm, "target_max_cm": self.target_max_cm,
                "message_ja": self.message_ja, "message_en": self.message_en}


@dataclass
class SiteAdvice:
    """Advice for the fields of one site at `as_of_ms`, most urgent first, with what the weather input lacked."""

    site: str
    as_of_ms: int
    first_day: str
    last_day: str
    stations: int
    weather_missing: list[str]
    forecast_source: str | None
    forecast_error: str | None
    fields: list[FieldAdvice] = field(default_factory=list)


def _num(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def _text(s: str) -> str:
    # A field without a registered area has no litres: the templates format NaN as 'nan'.
    return s.replace("nan L", "? L")


class Advisor:
    """Computes and writes irrigation advice; one per app (and one per alert tick for the paddy rules)."""

    def __init__(self, settings: BackendSettings, registry: Registry, history: History,
                 http: httpx.AsyncClient | None = None, rules: paddy.PaddyRules | None = None):
        self.settings = settings
        self.cfg = settings.advice
        self.registry = registry
        self.history = history
        self.http = http
        self.rules = rules or paddy.load_rules()
        self.last_run: dict[str, Any] | None = None

    async def _feed(self, site: str) -> feed.FeedResult:
        source = self.cfg.feeds().get(site)
        if self.http is not None or not source or not source.startswith("http"):
            return await feed.load(source, self.http, self.cfg.forecast_timeout_s)  # type: ignore[arg-type]
        async with httpx.AsyncClient() as http:  # the alert rules' Advisor has no shared client
            return await feed.load(source, http, self.cfg.forecast_timeout_s)

    def sites(self) -> list[str]:
        """Sites that have fields."""
        return sorted({f["site"] for f in self.registry.list("fields")})

    async def for_field(self, field_id: str, now_ms: int | None = None) -> tuple[SiteAdvice, FieldAdvice]:
        """One field's advice (NotFound naming the id when the field does not exist)."""
        row = self.registry.get("fields", field_id)
        report = await self.for_rows(row["site"], [row], now_ms)
        return report, report.fields[0]

    async def for_site(self, site: str, now_ms: int | None = None) -> SiteAdvice:
        """Every field of the site, most urgent first (NotFound when the site does not exist)."""
        self.registry.get("sites", site)
        return await self.for_rows(site, self.registry.list("fields", site=site), now_ms, whole_site=True)

    async def for_rows(self, site: str, rows: list[dict[str, Any]], now_ms: int | None,
                       whole_site: bool = False) -> SiteAdvice:
        """Advice for these registry rows of one site (whole_site: all of its fields), most urgent first."""
        now_ms = int(time.time() * 1000) if now_ms is None else int(now_ms)
        today = jst_day(np.array([now_ms // 1000]))[0]
        sites = {site: self.registry.get("sites", site)} if rows else {}
        split = to_field_table(rows, sites, today.item(), self.rules)
        days = self._window(today, split.table)
        ids = [r["id"] for r in split.rows]

        async def fields_history() -> EngineHistory | None:
            if split.table is None:
                return None
            return await field_history(self.history, site, ids, days, now_ms, self.cfg.level_hours,
                                       self.cfg.level_every, whole_site)

        # the station, the fields' sensors and the feed are independent: ask InfluxDB and the feed at once
        weather, hist, fc = await asyncio.gather(
            daily_weather(self.history, site, days, self.cfg.station_wind_height_m), fields_history(), self._feed(site))
        if weather.observed is not None and weather.first_index > 0:
            k = weather.first_index  # the balance starts where the station does
            days, weather = days[k:], weather.from_index(k)
            if hist is not None:
                hist = EngineHistory(days, None if hist.vwc_pct is None else hist.vwc_pct[:, k:],
                                     level_t_unix_s=hist.level_t_unix_s, level_cm=hist.level_cm)
        wx = WeatherInput(weather.observed, fc.forecast)
        report = SiteAdvice(site, now_ms, str(days[0]), str(days[-1]), weather.stations,
                            [p.value for p in wx.missing()], fc.source, fc.error)
        out: list[FieldAdvice] = []
        if split.table is not None and hist is not None:
            advice = advise(split.table, hist, wx, now_unix_s=now_ms / 1000.0, rules=self.rules)
            has_vwc = np.zeros(len(ids), bool) if hist.vwc_pct is None else np.isfinite(hist.vwc_pct).any(axis=1)
            has_vwc = np.asarray(has_vwc, bool)
            for i, (row, a) in enumerate(zip(split.rows, advice)):
                missing = list(split.gaps.get(row["id"], []))
                if row["crop"] != "paddy" and not has_vwc[i] and a.action is not Action.OFF_SEASON:
                    missing.append("soil_moisture")
                out.append(self._row(site, row, a, missing))
        for fid, (row, ja, en, missing) in split.unadvisable.items():
            urgency = Urgency.NONE if missing == ["crop"] else Urgency.LOW
            out.append(FieldAdvice(site, fid, row.get("name") or fid, row["crop"], Action.NO_DATA.value, int(urgency),
                                   None, None, None, None, None, None, None, None, [], ja, en, missing, {}))
        report.fields = sorted(out, key=FieldAdvice.sort_key)
        return report

    def _window(self, today: np.datetime64, table: FieldTable | None) -> np.ndarray:
        """The history days: the last history_days, or back to the earliest upland season start when that is
        earlier (soil at field capacity after snowmelt at the start of the season), at most max_history_days."""
        back = self.cfg.history_days
        if table is not None:
            upland = np.asarray(table.crop) != Crop.RICE.value
            starts = np.asarray(table.season_start, dtype="datetime64[D]")[upland]
            starts = starts[starts < today]
            if starts.size:
                back = max(back, int((today - starts.min()).astype(int)))
        back = min(back, self.cfg.max_history_days)
        return today - np.arange(back, 0, -1).astype("timedelta64[D]")

    def _row(self, site: str, row: dict[str, Any], a: Advice, missing: list[str]) -> FieldAdvice:
        for r in a.reasons:
            missing.extend(m for m in _MISSING_OF.get(r, ()) if m not in missing)
        stage = next((s for s in self.rules.stages if s.id == a.stage), None)
        figures = {k: _num(v) for k, v in a.values.items()
                   if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)}
        return FieldAdvice(
            site, row["id"], row.get("name") or row["id"], row["crop"], a.action.value, int(a.urgency),
            _num(a.amount_mm), _num(a.amount_l), a.days, a.target_min_cm, a.target_max_cm, a.stage,
            stage.name_ja if stage else None, stage.name_en if stage else None, [r.value for r in a.reasons],
            _text(a.message_ja), _text(a.message_en), missing, figures)

    async def write(self, report: SiteAdvice) -> int:
        """Write the report's advice as `advice` points at the start of its bucket; the bucket start (ms)."""
        t_ms = bucket_ms(report.as_of_ms, self.cfg.bucket_s)
        await self.history.write(advice_lines(((f.site, f.field_id, f.point_values()) for f in report.fields), t_ms))
        return t_ms

    async def run_once(self, now_ms: int | None = None, site: str | None = None) -> dict[str, Any]:
        """Compute and write advice for one site or every site with fields; per-site errors are reported."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        written: dict[str, int] = {}
        errors: dict[str, str] = {}
        t_ms = bucket_ms(now_ms, self.cfg.bucket_s)
        for s in ([site] if site else self.sites()):
            try:
                report = await self.for_site(s, now_ms)
                await self.write(report)
                written[s] = len(report.fields)
            except NotFound:
                raise
            except Exception as e:  # one site's trouble (InfluxDB, a bad feed) must not stop the others
                errors[s] = f"{type(e).__name__}: {e}"
                log.warning("advice for site %s failed: %s", s, e)
        self.last_run = {"at_ms": now_ms, "bucket_ms": t_ms, "written": written, "errors": errors}
        return self.last_run

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Compute and write every advice.interval_s until `stop` is set (the app's lifespan task)."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # keep the schedule alive; the error is in the log
                log.exception("advice run failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.cfg.interval_s)
            except asyncio.TimeoutError:
                pass

