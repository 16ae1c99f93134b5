"""The farmer's field overview: per field the latest water level or soil moisture, band, last seen, open
alerts, and today's irrigation advice."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .alerts.paddy_bands import band_for, stage_ja
from .alerts.store import AlertStore
from .history import History
from .registry import Registry

if TYPE_CHECKING:
    from .advisor.service import Advisor

# What a farmer looks at first, per device kind: (kind, fields).
LATEST = (("water", ("level_cm", "water_temp_c")), ("soil", ("vwc_pct", "soil_temp_c")))
LOOKBACK_MS = 2 * 86_400_000  # older than two days is "no recent data", not "latest"


async def field_overview(registry: Registry, history: History, alerts: AlertStore, *, now_ms: int,
                         site: str | None = None) -> list[dict[str, Any]]:
    """One entry per field: fields with critical alerts first, then other alerts, no data, OK; then by name."""
    fields = registry.list("fields", site=site)
    devices = registry.list("devices", site=site)
    per_field: dict[str, list[dict[str, Any]]] = {}
    for d in devices:
        if d["field_id"]:
            per_field.setdefault(d["field_id"], []).append(d)
    latest: dict[str, dict[str, Any]] = {}
    for kind, names in LATEST:
        ids = [d["device_id"] for d in devices if d["kind"] == kind and d["field_id"]]
        if not ids:
            continue
        got = await history.latest(kind, list(names), start_ms=now_ms - LOOKBACK_MS, end_ms=now_ms + 1,
                                   tags={"device_id": ids}, group_by=("device_id",))
        for (dev_id,), (t_ms, values) in got.items():
            latest[dev_id] = {"t_ms": t_ms, **{k: (None if math.isnan(v) else round(v, 1)) for k, v in values.items()}}
    open_alerts = alerts.history(site=site, open_only=True, limit=5000)
    out = []
    for f in fields:
        readings: dict[str, Any] = {}
        last_seen = None
        for d in per_field.get(f["id"], []):
            r = latest.get(d["device_id"])
            if not r:
                continue
            if last_seen is None or r["t_ms"] > last_seen:
                last_seen = r["t_ms"]
                readings.update({k: v for k, v in r.items() if k != "t_ms" and v is not None})
        band = band_for(f) if f["crop"] == "paddy" else None
        mine = [a for a in open_alerts
                if a["subject"] == f["id"] or a["subject"].startswith(f["id"] + ":")
                or (a["details"] or {}).get("field_id") == f["id"]
                or a["subject"] in {d["device_id"] for d in per_field.get(f["id"], [])}]
        status = "alert" if mine else ("ok" if last_seen is not None else "no_data")
        out.append({
            "id": f["id"], "site": f["site"], "name": f["name"] or f["id"], "crop": f["crop"],
            "growth_stage": f["growth_stage"], "growth_stage_ja": stage_ja(f["growth_stage"]) if f["growth_stage"] else None,
            "area_m2": f["area_m2"], "band_min_cm": band[0] if band else None, "band_max_cm": band[1] if band else None,
            "readings": readings, "last_seen_ms": last_seen, "devices": len(per_field.get(f["id"], [])),
            "status": status,
            "alerts": [{"rule": a["rule"], "subject": a["subject"], "severity": a["severity"], "message_ja": a["message_ja"],
                        "message_en": a["message_en"], "raised_at": a["raised_at"]} for a in mine],
        })
    order = {"alert": 0, "no_data": 1, "ok": 2}
    # A paddy running dry (critical) before a sensor battery warning; then by name.
    return sorted(out, key=lambda x: (order[x["status"]],
                                      0 if any(a["severity"] == "critical" for a in x["alerts"]) else 1, x["name"]))


async def attach_advice(advisor: Advisor, registry: Registry, fields: list[dict[str, Any]], *, now_ms: int) -> None:
    """Add today's irrigation advice to each overview entry (`advice`), computed once per site for the
    fields shown: what a farmer opens the page for, next to the level it is based on."""
    shown = {f["id"] for f in fields}
    advice: dict[str, dict[str, Any]] = {}
    for site in sorted({f["site"] for f in fields}):
        site_rows = registry.list("fields", site=site)
        rows = [r for r in site_rows if r["id"] in shown]
        report = await advisor.for_rows(site, rows, now_ms, whole_site=len(rows) == len(site_rows))
        for a in report.fields:
            advice[a.field_id] = {"action": a.action, "urgency": a.urgency_name, "amount_mm": a.amount_mm,
                                  "message_ja": a.message_ja, "message_en": a.message_en}
    for f in fields:
        f["advice"] = advice.get(f["id"])
