"""/api/v1/plows/live and /api/v1/plows/stream: where every plow is now; `/map`, the road division's map."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response

from ..deps import SnowDep
from ..plows import Position
from ..snow.result import iso_jst
from ..snowservice import SnowService

router = APIRouter(tags=["snow"])
MAP_HTML = Path(__file__).resolve().parent.parent / "web" / "map.html"


def feature(p: Position, now_s: float, *, public: bool, vehicles: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A plow position as a GeoJSON Feature; the public form has no vehicle or device identity."""
    props: dict[str, Any] = {"route": p.route, "speed_km_h": p.speed_km_h, "blade_down": p.blade_down,
                             "heading_deg": p.heading_deg, "age_s": round(max(0.0, now_s - p.t_ms / 1000.0), 1),
                             "observed_at": iso_jst(p.t_ms / 1000.0)}
    if not public:
        v = vehicles.get(p.vehicle_id or "") or {}
        props = {"vehicle_id": p.vehicle_id, "vehicle_name": v.get("name") or None, "device_id": p.device_id,
                 **props, "t_ms": p.t_ms}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon_deg, p.lat_deg]},
            "properties": props}


async def live_collection(snow: SnowService, site: str | None, *, public: bool) -> tuple[dict[str, Any], bytes]:
    """The latest positions as a FeatureCollection and its JSON bytes (public: delayed, anonymous).

    Built once per refresh of the positions (snow.live_cache_s) and shared by every request until the
    next one, so a hundred map pages cost one InfluxDB query and one JSON encoding per interval; ages
    are as of the refresh (`as_of`).
    """
    delay_s = snow.settings.public_delay_min * 60.0 if public else 0.0
    as_of, positions = await snow.positions(site=site, delay_s=delay_s)
    memo = snow.live_docs.get((site, public))
    if memo is not None and memo[0] == as_of:
        return memo[1], memo[2]
    vehicles = {} if public else snow.vehicles(site)
    features = [feature(p, as_of, public=public, vehicles=vehicles) for p in positions]
    if public:
        # Order by place, not by device, so the list itself does not tell the plows apart over time.
        features.sort(key=lambda f: tuple(f["geometry"]["coordinates"]))
    doc: dict[str, Any] = {"type": "FeatureCollection", "as_of": iso_jst(as_of), "features": features}
    if public:
        doc["delay_min"] = snow.settings.public_delay_min
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    snow.live_docs[(site, public)] = (as_of, doc, body)
    return doc, body


@router.get("/api/v1/plows/live", summary="Latest position of every plow (GeoJSON), refreshed every snow.live_cache_s")
async def plows_live(snow: SnowDep, site: str | None = Query(None)) -> Response:
    """Points with vehicle_id, device_id, route, speed_km_h, blade_down, heading_deg, age_s (and observed_at in JST)."""
    _doc, body = await live_collection(snow, site, public=False)
    return Response(body, media_type="application/json")


@router.websocket("/api/v1/plows/stream")
async def plows_stream(websocket: WebSocket, site: str | None = None) -> None:
    """JSON messages: first {"type": "snapshot", "features": [...]}, then {"type": "update", "features": [...]}
    with each plow whose position is newer than the last one sent (checked every snow.stream_interval_s)."""
    snow: SnowService = websocket.app.state.snow
    await websocket.accept()
    sent: dict[str, int] = {}
    kind = "snapshot"
    try:
        while True:
            doc, _body = await live_collection(snow, site, public=False)
            fresh = [f for f in doc["features"] if sent.get(f["properties"]["device_id"]) != f["properties"]["t_ms"]]
            if fresh or kind == "snapshot":
                await websocket.send_text(json.dumps({"type": kind, "as_of": doc["as_of"],
                                                      "features": fresh}, ensure_ascii=False))
                for f in fresh:
                    sent[f["properties"]["device_id"]] = f["properties"]["t_ms"]
                kind = "update"
            await asyncio.sleep(snow.settings.stream_interval_s)
    except (WebSocketDisconnect, RuntimeError):
        return


def map_page(request: Request, *, public: bool) -> HTMLResponse:
    """The map page with its settings (basemap, public delay) filled in."""
    s = request.app.state.settings.snow
    config = {"public": public, "basemap_url": s.basemap_url, "basemap_attribution": s.basemap_attribution,
              "delay_min": s.public_delay_min if public else 0, "stream_interval_s": s.stream_interval_s}
    html = MAP_HTML.read_text(encoding="utf-8").replace("/*CONFIG*/{}", json.dumps(config, ensure_ascii=False))
    return HTMLResponse(html)


@router.get("/map", include_in_schema=False)
def map_view(request: Request) -> HTMLResponse:
    """Plows moving and roads coloured by time since last cleared (road division)."""
    return map_page(request, public=False)
