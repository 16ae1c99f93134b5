"""/api/v1/coverage: which roads were plowed, from the plow tracks in InfluxDB (the same answer as `yukimizu coverage`)."""
from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Query

from ..deps import SnowDep
from ..snow.result import coverage_geojson, coverage_result, iso_jst
from ..snowservice import Coverage, SnowRequestError, SnowService, night_start_s, parse_time_param

router = APIRouter(prefix="/api/v1", tags=["snow"])


async def coverage_for(snow: SnowService, site: str | None, since: str | None, until: str | None,
                       route: str | None, *, delay_s: float = 0.0) -> tuple[Coverage, str]:
    """Resolve and check the parameters, then the (cached) coverage; SnowRequestError for bad input."""
    since_s = parse_time_param(since, "since")
    until_s = parse_time_param(until, "until")
    if since_s is None and until_s is None and not delay_s:
        # Tonight until now: the background engine's state when it has one for this site.
        site_id = snow.site_for(site)
        network, _ = snow.network(site_id)
        snow.check_route(network, route)
        live = snow.live_coverage.get(site_id)
        if live is not None and live.network is network:
            return live, site_id
    until_is_now = until_s is None
    if until_s is None:
        until_s = float(int(time.time() - delay_s))
    elif delay_s:
        until_s = min(until_s, time.time() - delay_s)  # the public view never shows newer work
    if since_s is None:
        since_s = night_start_s(until_s, snow.settings.night_start_jst)
    if since_s >= until_s:
        raise SnowRequestError(422, "since", f"since ({iso_jst(since_s)}) must be before until ({iso_jst(until_s)})")
    site_id = snow.site_for(site)
    network, _ = snow.network(site_id)
    snow.check_route(network, route)
    key = (since, until, delay_s) if until_is_now else (since_s, until_s, delay_s)
    return await snow.coverage(site_id, since_s, until_s, request_key=key), site_id


def result_document(cov: Coverage, route: str | None, params: Any) -> dict[str, Any]:
    """result.json as `yukimizu coverage` writes it, with the API's input summary."""
    doc = coverage_result(cov.network, cov.state, route=route)
    doc["input"] = {"site": cov.site, "source": cov.source, "since": iso_jst(cov.since_s), "until": iso_jst(cov.until_s),
                    "route": route,
                    "fixes_used": cov.fixes_used, "fixes_repeated": cov.fixes_repeated,
                    "fixes_skipped": cov.fixes_skipped,
                    "params": {"buffer_m": params.buffer_m, "max_gap_s": params.max_gap_s,
                               "min_fraction": params.min_fraction, "max_heading_deg": params.max_heading_deg}}
    return doc


@router.get("/coverage", summary="Road clearing coverage (per road, per route, total) from the plow tracks",
            responses={404: {"description": "unknown site or route, or no roads imported"},
                       422: {"description": "a time that cannot be read, or since not before until"}})
async def coverage(snow: SnowDep,
                   since: str | None = Query(None, description="ISO 8601 (JST without offset) or Unix s; default "
                                                                "tonight's start (snow.night_start_jst)"),
                   until: str | None = Query(None, description="exclusive; default now"),
                   route: str | None = Query(None, description="only this route's roads"),
                   site: str | None = Query(None, description="needed only when several sites have roads"),
                   format: Literal["json", "geojson"] = Query("json", description="json: result.json; geojson: roads")
                   ) -> dict[str, Any]:
    """The same document as `yukimizu coverage --out result.json` on the same fixes (times in JST)."""
    cov, _ = await coverage_for(snow, site, since, until, route)
    doc = result_document(cov, route, snow.params)
    if format == "geojson":
        gj = coverage_geojson(cov.network, cov.state, doc)
        names = snow.route_names(cov.site)
        for f in gj["features"]:
            f["properties"]["route_name"] = names.get(f["properties"]["route"] or "", f["properties"]["route"])
        gj["input"] = doc["input"]
        return gj
    return doc
