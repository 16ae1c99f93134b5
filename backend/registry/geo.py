"""GeoJSON geometry checks (RFC 7946, WGS84 [lon, lat]) with reasons a person can fix, and polygon area.

Each check raises GeometryError saying where (ring and position index) and what is wrong, so an
import can report "feature 3 (id 'f-03'): geometry: ring 0 is not closed".
"""
from __future__ import annotations

import math
from typing import Any

from ..snow.roads import RoadGeometryError, road_lines

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius


class GeometryError(ValueError):
    """A geometry is not valid GeoJSON of the expected type; the message says where and why."""


def _position(p: Any, where: str) -> tuple[float, float]:
    if not isinstance(p, (list, tuple)) or len(p) < 2:
        raise GeometryError(f"{where}: a position must be [longitude, latitude], got {str(p)[:60]}")
    lon, lat = p[0], p[1]
    for name, v in (("longitude", lon), ("latitude", lat)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise GeometryError(f"{where}: {name} {v!r} is not a finite number")
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(f"{where}: longitude {lon} is outside -180..180 (are [lat, lon] swapped?)")
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(f"{where}: latitude {lat} is outside -90..90 (are [lat, lon] swapped?)")
    return float(lon), float(lat)


def _ring(ring: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(ring, list):
        raise GeometryError(f"{where}: a linear ring must be a list of positions")
    pts = [_position(p, f"{where} position {i}") for i, p in enumerate(ring)]
    if len(pts) < 4:
        raise GeometryError(f"{where}: a linear ring needs at least 4 positions, has {len(pts)}")
    if pts[0] != pts[-1]:
        raise GeometryError(f"{where}: ring is not closed (first position {pts[0]} differs from last {pts[-1]})")
    if abs(_ring_area_m2(pts)) == 0.0:
        raise GeometryError(f"{where}: ring has zero area (all positions on one line)")
    return pts


def _geometry(geom: Any, allowed: tuple[str, ...]) -> tuple[str, Any]:
    if not isinstance(geom, dict):
        raise GeometryError(f"geometry must be a GeoJSON object, got {type(geom).__name__}")
    gtype = geom.get("type")
    if gtype not in allowed:
        raise GeometryError(f"geometry type {gtype!r} is not {' or '.join(allowed)}")
    if "coordinates" not in geom:
        raise GeometryError(f"{gtype} has no 'coordinates'")
    return gtype, geom["coordinates"]


def check_polygon(geom: Any) -> dict[str, Any]:
    """Validate a Polygon or MultiPolygon (field outlines); return it unchanged."""
    gtype, coords = _geometry(geom, ("Polygon", "MultiPolygon"))
    polys = [coords] if gtype == "Polygon" else coords
    if not isinstance(polys, list) or not polys:
        raise GeometryError(f"{gtype} has no polygons")
    for pi, poly in enumerate(polys):
        prefix = f"polygon {pi} " if gtype == "MultiPolygon" else ""
        if not isinstance(poly, list) or not poly:
            raise GeometryError(f"{prefix}has no rings".strip())
        for ri, ring in enumerate(poly):
            _ring(ring, f"{prefix}ring {ri}")
    return geom


def check_line(geom: Any) -> dict[str, Any]:
    """Validate a LineString or MultiLineString road; return it unchanged.

    Roads have one definition of valid, the snow engine's (backend.snow.roads.road_lines), so a road
    the registry accepts is always one the coverage engine and `yukimizu coverage` accept too.
    """
    try:
        road_lines(geom)
    except RoadGeometryError as e:
        raise GeometryError(str(e)) from None
    return geom


def _ring_area_m2(pts: list[tuple[float, float]]) -> float:
    """Signed ring area, m2: shoelace on an equirectangular projection about the ring's mean latitude.

    Good to well under 0.1 % for field-sized rings (hundreds of metres), which is all a field needs.
    """
    lat0 = math.radians(sum(p[1] for p in pts) / len(pts))
    kx = EARTH_RADIUS_M * math.cos(lat0) * math.pi / 180.0
    ky = EARTH_RADIUS_M * math.pi / 180.0
    s = 0.0
    for (x1, y1), (x2, y2) in zip(pts, pts[1:]):
        s += (x1 * kx) * (y2 * ky) - (x2 * kx) * (y1 * ky)
    return s / 2.0


def polygon_area_m2(geom: dict[str, Any]) -> float:
    """Area of a checked Polygon/MultiPolygon, m2 (outer rings minus holes)."""
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    total = 0.0
    for poly in polys:
        rings = [[(float(p[0]), float(p[1])) for p in r] for r in poly]
        total += abs(_ring_area_m2(rings[0])) - sum(abs(_ring_area_m2(r)) for r in rings[1:])
    return total
