"""/healthz: is the backend able to do its job (InfluxDB reachable, registry readable)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ..deps import HistoryDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="200 when InfluxDB and the registry answer, 503 otherwise")
async def healthz(request: Request, history: HistoryDep) -> JSONResponse:
    """Each check with ok and a detail a person can act on."""
    influx_ok, influx_detail = await history.ping()
    db = request.app.state.db
    reg_ok = db.ok()
    checks: dict[str, Any] = {
        "influxdb": {"ok": influx_ok, "detail": influx_detail},
        "registry": {"ok": reg_ok, "detail": f"{db.path} schema version {db.schema_version()}" if reg_ok
                     else f"{db.path} does not answer"},
    }
    engine = request.app.state.alerts
    if engine.last_tick is not None and engine.last_tick.rule_errors:
        checks["alerts"] = {"ok": True, "detail": "rules failing: " + "; ".join(
            f"{k}: {v}" for k, v in engine.last_tick.rule_errors.items())}
    ok = influx_ok and reg_ok
    return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)
