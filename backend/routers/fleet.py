"""/api/v1/devices/health: fleet health, problems first."""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Query

from ..deps import HistoryDep, RegistryDep, SettingsDep
from ..fleet import fleet_health, iso_utc, problem_texts

router = APIRouter(prefix="/api/v1/devices", tags=["fleet"])


@router.get("/health", summary="Every device's last seen, silence, battery trend, signal, firmware, clock")
async def devices_health(registry: RegistryDep, history: HistoryDep, settings: SettingsDep,
                         site: str | None = Query(None)) -> dict[str, Any]:
    """Problems first, then warnings, then healthy devices."""
    now_ms = int(time.time() * 1000)
    devices = await fleet_health(registry, history, settings.fleet, now_ms=now_ms, site=site)
    out = []
    for h in devices:
        d = h.as_dict()
        d["problem_texts"] = problem_texts(h.problems)
        out.append(d)
    counts = {s: sum(1 for h in devices if h.status.value == s) for s in ("problem", "warning", "ok")}
    return {"generated_at": iso_utc(now_ms), "silent_after_intervals": settings.fleet.silent_after_intervals,
            "counts": counts, "devices": out}
