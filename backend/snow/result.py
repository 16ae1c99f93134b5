"""Coverage results as JSON (per road, per route, total) and as GeoJSON, with times in JST.

A route's cleared_length_m is the sum of its roads' cleared lengths (cleared pieces), so a road at
95 % adds 95 % of its length; `cleared` per road says whether it passed min_fraction.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from yukimizu.jst import JST

from .coverage import RoadState
from .roads import RoadNetwork


def iso_jst(t_s: float) -> str | None:
    """ISO 8601 with the +09:00 offset, or None for NaN."""
    if t_s is None or not math.isfinite(t_s):
        return None
    return datetime.fromtimestamp(t_s, tz=JST).isoformat(timespec="seconds")


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole > 0 else 0.0


def coverage_result(network: RoadNetwork, state: RoadState, route: str | None = None) -> dict[str, Any]:
    """The result.json document; with route given, only that route's roads."""
    keep = np.array([route is None or r == route for r in network.routes], dtype=bool)
    segments = []
    for k in np.flatnonzero(keep):
        segments.append({
            "id": network.ids[k],
            "cleared": bool(state.cleared[k]),
            "cleared_fraction": round(float(state.cleared_fraction[k]), 4),
            "first_cleared": iso_jst(float(state.first_cleared_t_s[k])),
            "last_cleared": iso_jst(float(state.last_cleared_t_s[k])),
            "passes": int(state.passes[k]),
            "devices": state.devices[k],
        })
    routes = []
    for name in sorted({r for r, k in zip(network.routes, keep) if r is not None and k}):
        sel = np.array([r == name for r in network.routes], dtype=bool)
        length, cleared = float(state.length_m[sel].sum()), float(state.cleared_length_m[sel].sum())
        routes.append({"route": name, "length_m": round(length, 1), "cleared_length_m": round(cleared, 1),
                       "coverage_pct": _pct(cleared, length)})
    length, cleared = float(state.length_m[keep].sum()), float(state.cleared_length_m[keep].sum())
    return {"segments": segments, "routes": routes,
            "total": {"length_m": round(length, 1), "cleared_length_m": round(cleared, 1),
                      "coverage_pct": _pct(cleared, length)}}


def coverage_geojson(network: RoadNetwork, state: RoadState, result: dict[str, Any]) -> dict[str, Any]:
    """Roads as a GeoJSON FeatureCollection with their coverage in the properties."""
    by_id = {str(s["id"]): s for s in result["segments"]}
    features = []
    for k, rid in enumerate(network.ids):
        seg = by_id.get(str(rid))
        if seg is None:
            continue
        lines = network.lines_lonlat[k]
        geometry = ({"type": "LineString", "coordinates": [list(p) for p in lines[0]]} if len(lines) == 1 else
                    {"type": "MultiLineString", "coordinates": [[list(p) for p in line] for line in lines]})
        props = dict(seg)
        props.update({"route": network.routes[k], "name": network.names[k], "length_m": round(float(network.length_m[k]), 1)})
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}
