"""Plow readings from InfluxDB: tracks for the coverage engine and the latest position of every plow.

InfluxQL over /query (InfluxDB 1.8, 2.x through DBRP, 3.x). Tracks are read with `chunked=true`, so a
night of 100 plows at 1 Hz (4.3 M rows) never has to fit in one JSON document, and never meets a
server's `max-row-limit`. A plow reading without a GPS fix (no lat/lon) is not a track point.
"""
from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from yukimizu.influx import InfluxError, quote_ident

from .history import History, where_clause
from .snow.roads import RoadNetwork
from .snow.tracks import BadRow, Tracks

MEASUREMENT = "plow"
TRACK_FIELDS = ("lat", "lon", "blade_down", "speed_km_h", "heading_deg")
LIVE_FIELDS = ("lat", "lon", "speed_km_h", "heading_deg", "blade_down")
OUTSIDE_MARGIN_KM = 2.0  # the same margin as the offline reader (tracks.read_tracks)
_CHUNK_ROWS = 20000


@dataclass(frozen=True)
class Position:
    """A plow's newest fix: UTC ms, WGS84 degrees, speed, heading, blade, and the tags it was written with."""

    device_id: str
    vehicle_id: str | None
    route: str | None
    site: str | None
    t_ms: int
    lat_deg: float
    lon_deg: float
    speed_km_h: float | None
    heading_deg: float | None
    blade_down: bool | None


def _f(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


async def _chunked_rows(history: History, q: str) -> dict[str, list[list[Any]]]:
    """Rows per device_id of a GROUP BY device_id query, read in chunks; columns are time + TRACK_FIELDS."""
    out: dict[str, list[list[Any]]] = {}
    params = {"q": q, "db": history.database, "epoch": "ms", "chunked": "true", "chunk_size": str(_CHUNK_ROWS)}
    try:
        async with history.http.stream("GET", f"{history.url}/query", params=params) as r:
            if r.status_code != 200:
                text = (await r.aread()).decode(errors="replace")
                raise InfluxError(f"InfluxDB query refused ({r.status_code}): {text.strip()[:500]}", r.status_code)
            async for line in r.aiter_lines():
                if not line.strip():
                    continue
                # Parsing a chunk (20,000 rows) and building arrays run in a worker thread: a night's
                # catch-up read must not stall the event loop that answers /plows/live meanwhile.
                doc = await asyncio.to_thread(json.loads, line)
                for res in doc.get("results") or []:
                    if "error" in res:
                        raise InfluxError(f"InfluxQL error: {res['error']} in {q[:300]!r}", 400)
                    for s in res.get("series") or []:
                        cols = s["columns"]
                        if cols != ["time", *TRACK_FIELDS]:
                            idx = [cols.index(c) if c in cols else None for c in ("time", *TRACK_FIELDS)]
                            rows = [[row[i] if i is not None else None for i in idx] for row in s.get("values") or []]
                        else:
                            rows = s.get("values") or []
                        out.setdefault((s.get("tags") or {}).get("device_id", ""), []).extend(rows)
                if "error" in doc:
                    raise InfluxError(f"InfluxQL error: {doc['error']}", 400)
    except httpx.HTTPError as e:
        raise InfluxError(f"InfluxDB at {history.url} unreachable: {e}") from e
    return out


async def read_tracks(history: History, network: RoadNetwork, *, site: str | None, start_ms: int | None,
                      end_ms: int | None) -> Tracks:
    """Plow fixes in [start_ms, end_ms) as the offline tools' Tracks, with the same 2 km outside rule.

    Devices are in name order, each device's fixes in time order (what `yukimizu coverage` reads from a
    tracks.csv exported in that order). Readings without a fix or without blade state are left out.
    """
    sel = ", ".join(quote_ident(f) for f in TRACK_FIELDS)
    q = (f"SELECT {sel} FROM {history._from(MEASUREMENT)}{where_clause(start_ms, end_ms, {'site': site})}"
         " GROUP BY \"device_id\"")
    rows_by_dev = await _chunked_rows(history, q)
    return await asyncio.to_thread(_tracks, rows_by_dev, network)


def _tracks(rows_by_dev: dict[str, list[list[Any]]], network: RoadNetwork) -> Tracks:
    """Tracks from rows (time, lat, lon, blade_down, speed, heading) per device, minus points far outside."""
    names: list[str] = []
    code: list[np.ndarray] = []
    cols: list[list[list[Any]]] = []
    for dev in sorted(d for d in rows_by_dev if d):
        rows = [r for r in rows_by_dev[dev] if _f(r[1]) is not None and _f(r[2]) is not None and isinstance(r[3], bool)]
        if not rows:
            continue
        code.append(np.full(len(rows), len(names), dtype=np.int64))
        names.append(dev)
        cols.append(rows)
    flat = [r for rows in cols for r in rows]
    n = len(flat)
    t_s = np.fromiter((int(r[0]) for r in flat), dtype=np.int64, count=n) / 1000.0
    lat = np.fromiter((float(r[1]) for r in flat), dtype=np.float64, count=n)
    lon = np.fromiter((float(r[2]) for r in flat), dtype=np.float64, count=n)
    blade = np.fromiter((bool(r[3]) for r in flat), dtype=bool, count=n)
    speed = np.fromiter((math.nan if _f(r[4]) is None else float(r[4]) for r in flat), dtype=np.float64, count=n)
    heading = np.fromiter((math.nan if _f(r[5]) is None else float(r[5]) % 360.0 for r in flat), dtype=np.float64, count=n)
    tracks = Tracks(names, np.concatenate(code) if code else np.zeros(0, dtype=np.int64), t_s, lat, lon, blade, speed,
                    heading, np.arange(1, n + 1, dtype=np.int64))
    if n:
        inside = network.contains_lonlat(lat, lon, OUTSIDE_MARGIN_KM)
        tracks.bad = [BadRow(0, f"{names[tracks.code[k]]} at {lat[k]:.6f}, {lon[k]:.6f} is more than "
                                f"{OUTSIDE_MARGIN_KM:g} km outside the road network's area") for k in np.flatnonzero(~inside)]
        tracks = tracks.select(inside)
    return tracks


async def latest_positions(history: History, *, start_ms: int, end_ms: int, site: str | None = None) -> list[Position]:
    """The newest fix of every plow in [start_ms, end_ms): one InfluxQL query, newest row per device.

    `ORDER BY time DESC LIMIT 1` rather than last() per field, so every value is from the same reading;
    the `lat` condition skips readings without a fix (a plow in a snow-wall canyon keeps its last position).
    """
    sel = ", ".join(quote_ident(f) for f in LIVE_FIELDS)
    where = where_clause(start_ms, end_ms, {"site": site}) + ' AND "lat" >= -90'
    q = (f"SELECT {sel} FROM {history._from(MEASUREMENT)}{where}"
         ' GROUP BY "device_id", "vehicle_id", "route", "site" ORDER BY time DESC LIMIT 1')
    newest: dict[str, Position] = {}
    for s in await history.query(q):
        cols = s["columns"]
        for row in s.get("values") or []:
            v = dict(zip(cols, row))
            tags = s.get("tags") or {}
            lat, lon = _f(v.get("lat")), _f(v.get("lon"))
            if lat is None or lon is None:
                continue
            p = Position(tags.get("device_id") or "", tags.get("vehicle_id") or None, tags.get("route") or None,
                         tags.get("site") or None, int(v["time"]), lat, lon, _f(v.get("speed_km_h")),
                         _f(v.get("heading_deg")), v.get("blade_down") if isinstance(v.get("blade_down"), bool) else None)
            old = newest.get(p.device_id)
            if old is None or p.t_ms > old.t_ms:
                newest[p.device_id] = p
    return [newest[k] for k in sorted(newest)]
