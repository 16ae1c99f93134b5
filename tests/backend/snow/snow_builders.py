"""Builders for constructed snow scenarios: roads and plow drives laid out in metres, stored in WGS84.

A module of its own (not conftest.py): test modules import it by name, and several conftest.py
files in the tree would shadow one another.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from backend.snow.coverage import CoverageEngine, CoverageParams, RoadState
from backend.snow.roads import LocalProjection, RoadNetwork, parse_roads

# Goshogawara city hall, roughly: every scenario is laid out in metres east/north of here.
ORIGIN = LocalProjection(40.8078, 140.4470)
T0_S = 1767214800.0  # 2026-01-01T06:00:00+09:00


def lonlat(x_m: float, y_m: float) -> list[float]:
    """[lon, lat] of a point given in metres from ORIGIN."""
    lat, lon = ORIGIN.to_latlon(np.array(x_m), np.array(y_m))
    return [float(lon), float(lat)]


def road(rid: str, *points_m: tuple[float, float], **props: Any) -> dict[str, Any]:
    """A GeoJSON LineString feature from points in metres."""
    return {"type": "Feature", "properties": {"id": rid, **props},
            "geometry": {"type": "LineString", "coordinates": [lonlat(x, y) for x, y in points_m]}}


def network(*features: dict[str, Any]) -> RoadNetwork:
    """Parse a FeatureCollection of the given features."""
    return parse_roads({"type": "FeatureCollection", "features": list(features)})


def drive(device: str, path_m: list[tuple[float, float]], speed_km_h: float, t0_s: float = T0_S,
          every_s: float = 1.0, blade: bool = True, noise_m: float = 0.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Fixes every every_s seconds of a plow driving the polyline at constant speed."""
    pts = np.asarray(path_m, dtype=float)
    leg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.r_[0.0, np.cumsum(leg)]
    duration_s = cum[-1] / (speed_km_h / 3.6)
    t = np.arange(0.0, duration_s + 1e-9, every_s)
    s = t * speed_km_h / 3.6
    x, y = np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])
    if noise_m:
        rng = np.random.default_rng(seed)
        x, y = x + rng.normal(0, noise_m, len(x)), y + rng.normal(0, noise_m, len(y))
    lat, lon = ORIGIN.to_latlon(x, y)
    return {"device": np.full(len(t), device), "t_s": t0_s + t, "lat": lat, "lon": lon,
            "blade": np.full(len(t), blade)}


def join(*drives: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Several drives as one set of fixes, in time order."""
    out = {k: np.concatenate([d[k] for d in drives]) for k in drives[0]}
    o = np.argsort(out["t_s"], kind="stable")
    return {k: v[o] for k, v in out.items()}


def run(net: RoadNetwork, fixes: dict[str, np.ndarray], **params: Any) -> RoadState:
    """One batch through a fresh engine."""
    eng = CoverageEngine(net, CoverageParams(**params))
    eng.update(fixes["device"], fixes["t_s"], fixes["lat"], fixes["lon"], fixes["blade"])
    return eng.roads()


def cleared(net: RoadNetwork, state: RoadState) -> set[str]:
    """Ids of the roads counted as cleared."""
    return {str(net.ids[k]) for k in np.flatnonzero(state.cleared)}
