"""/api/v1/alerts: alert history and an on-demand evaluation."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from ..deps import AlertsDep, AlertStoreDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.get("", summary="Alerts, newest first, with their deliveries")
def list_alerts(store: AlertStoreDep, site: str | None = None, rule: str | None = None,
                open: bool = Query(False, description="only alerts not yet cleared"),
                limit: int = Query(200, ge=1, le=5000)) -> dict[str, Any]:
    """Each alert: rule, subject, severity, messages in Japanese and English, raised_at, cleared_at."""
    return {"alerts": store.history(site=site, rule=rule, open_only=open, limit=limit)}


@router.post("/evaluate", summary="Evaluate every rule now and deliver what is pending")
async def evaluate(engine: AlertsDep) -> dict[str, Any]:
    """The same step the schedule runs every alerts.interval_s."""
    r = await engine.tick()
    return {"raised": [list(x) for x in r.raised], "cleared": [list(x) for x in r.cleared],
            "rule_errors": r.rule_errors, "delivered": r.delivered, "delivery_errors": r.delivery_errors}


@router.get("/rules", summary="The rules this backend evaluates")
def rules(engine: AlertsDep) -> dict[str, Any]:
    """Rule names and their descriptions."""
    return {"rules": [{"name": r.name, "description": (type(r).__doc__ or "").strip().splitlines()[0]}
                      for r in engine.rules]}
