"""/api/v1/overview/fields: what the farmer's phone page shows."""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Query

from ..access import visible_fields
from ..alerts.paddy_bands import paddy_stages
from ..deps import AlertStoreDep, HistoryDep, PrincipalDep, RegistryDep
from ..overview import attach_advice, field_overview
from .advice import AdvisorDep

router = APIRouter(prefix="/api/v1/overview", tags=["overview"])


@router.get("/fields", summary="Every field's latest level or moisture, its band, last seen, open alerts and "
                               "today's irrigation advice")
async def fields_overview(registry: RegistryDep, history: HistoryDep, alerts: AlertStoreDep, advisor: AdvisorDep,
                          who: PrincipalDep, site: str | None = Query(None)) -> dict[str, Any]:
    """Fields with open alerts first (a farmer sees only their own); times are Unix ms UTC (the page shows JST)."""
    now_ms = int(time.time() * 1000)
    mine = visible_fields(who)
    fields = await field_overview(registry, history, alerts, now_ms=now_ms, site=site)
    if mine is not None:
        fields = [f for f in fields if f["id"] in mine]
    await attach_advice(advisor, registry, fields, now_ms=now_ms)
    return {"generated_at_ms": now_ms, "paddy_stages": paddy_stages(), "fields": fields}
