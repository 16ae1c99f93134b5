"""The public view for residents: plows and clearing delayed by snow.public_delay_min, without vehicle identities."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..deps import SnowDep
from ..snow.result import coverage_geojson
from .coverage import coverage_for, result_document
from .plows import live_collection, map_page

router = APIRouter(tags=["public"])
# What a resident sees of a road: no devices (they would name the plows), no passes.
PUBLIC_ROAD_KEYS = ("id", "name", "route", "route_name", "length_m", "cleared", "cleared_fraction", "first_cleared", "last_cleared")


@router.get("/api/v1/public/plows", summary="Plow positions as of snow.public_delay_min ago, without identities")
async def public_plows(snow: SnowDep, site: str | None = Query(None)) -> Response:
    """GeoJSON points with route, speed_km_h, blade_down, heading_deg, age_s (no vehicle_id, no device_id)."""
    _doc, body = await live_collection(snow, site, public=True)
    return Response(body, media_type="application/json")


@router.get("/api/v1/public/coverage", summary="Roads and when they were last cleared, as of snow.public_delay_min ago")
async def public_coverage(snow: SnowDep, route: str | None = Query(None), site: str | None = Query(None)
                          ) -> dict[str, Any]:
    """GeoJSON roads with cleared, cleared_fraction, first_cleared, last_cleared; until is at most now minus the delay."""
    delay_s = snow.settings.public_delay_min * 60.0
    cov, _ = await coverage_for(snow, site, None, None, route, delay_s=delay_s)
    doc = result_document(cov, route, snow.params)
    gj = coverage_geojson(cov.network, cov.state, doc)
    names = snow.route_names(cov.site)
    for f in gj["features"]:
        f["properties"]["route_name"] = names.get(f["properties"]["route"] or "", f["properties"]["route"])
    for f in gj["features"]:
        f["properties"] = {k: f["properties"].get(k) for k in PUBLIC_ROAD_KEYS}
    gj["input"] = {"since": doc["input"]["since"], "until": doc["input"]["until"], "delay_min": snow.settings.public_delay_min}
    return gj


@router.get("/public/map", include_in_schema=False)
def public_map(request: Request) -> HTMLResponse:
    """The residents' map (delayed, anonymous)."""
    return map_page(request, public=True)
