"""The snow-clearing service behind the API: road networks from the registry, coverage, reports, live plows.

Tonight's coverage (since the latest `snow.night_start_jst`) is kept per site by a background task
(`run_live`): every `snow.live_interval_s` it reads the points written since its last read, up to now
minus `snow.live_read_lag_s`, into one incremental CoverageEngine per site, so `/api/v1/coverage`
without since/until answers at once. A point that reaches InfluxDB later than that lag behind its own
time (a plow's backlog from a dead zone) is taken in when the engine is rebuilt from the whole night,
every `snow.live_rebuild_s`; any coverage asked for with since/until has it at once. Other windows are
computed per request from the plow tracks in InfluxDB (the same engine and input rules as
`yukimizu coverage`) and kept for `snow.coverage_cache_s`, so a map that refreshes, or many people
opening it at once, costs one computation. The latest positions are kept
for `snow.live_cache_s` and computed by one request at a time (the others wait for it), so 100 clients
polling `/api/v1/plows/live` cost one InfluxDB query per interval.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from yukimizu.jst import JST

from .history import History
from .plows import Position, latest_positions, read_tracks
from .registry import Registry
from .settings import SnowSection
from .snow.coverage import CoverageEngine, CoverageParams, RoadState
from .snow.report import day_bounds_s, plows_report
from .snow.roads import RoadNetwork, parse_roads
from .snow.tariff import Tariff
from .snow.tracks import Tracks

log = logging.getLogger("yukimizu.api.snow")
_NETWORK_CHECK_S = 2.0  # a road import shows in coverage at most this much later


class SnowRequestError(ValueError):
    """A request the service cannot answer as asked: `status` (404/422), the query parameter, the reason."""

    def __init__(self, status: int, param: str | None, message: str):
        super().__init__(message)
        self.status = status
        self.param = param


@dataclass
class Coverage:
    """One computed coverage: the network, per-road state, and what the engine did with the fixes."""

    site: str
    network: RoadNetwork
    state: RoadState
    since_s: float
    until_s: float
    fixes_used: int
    fixes_repeated: int
    fixes_skipped: int
    computed_at_s: float
    source: str = "request"  # "request": computed for this window; "live": tonight's background engine


def night_start_s(now_s: float, hhmm: str) -> float:
    """Unix s of the latest HH:MM JST at or before now_s: when tonight's clearing began."""
    h, m = (int(x) for x in hhmm.split(":"))
    now = datetime.fromtimestamp(now_s, JST)
    start = now.replace(hour=h, minute=m, second=0, microsecond=0)
    if start > now:
        start -= timedelta(days=1)
    return start.timestamp()


@dataclass
class _LiveSite:
    """One site's engine for tonight and how far it has read."""

    network: RoadNetwork
    engine: CoverageEngine
    since_s: float
    read_until_ms: int
    built_s: float  # when this engine began (it is replaced by a fresh read of the night after live_rebuild_s)
    used: int = 0
    repeated: int = 0
    skipped: int = 0


def roads_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Registry road rows as the GeoJSON FeatureCollection the snow engine reads (id, route, name, priority, oneway)."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": r["id"], "route": r["route"], "name": r["name"],
                                           "priority": r["priority"], "oneway": bool(r["oneway"])},
         "geometry": r["geometry"]} for r in rows]}


class SnowService:
    """Per app: networks per site (rebuilt when the registry's roads change), coverage and live caches."""

    def __init__(self, settings: SnowSection, registry: Registry, history: History, tariff: Tariff | None):
        self.settings = settings
        self.registry = registry
        self.history = history
        self.tariff = tariff
        self.params = CoverageParams(buffer_m=settings.buffer_m, max_gap_s=settings.max_gap_s,
                                     min_fraction=settings.min_fraction)
        # site -> (fingerprint of its roads, network, grid, when last compared with the registry)
        self._networks: dict[str, tuple[str, RoadNetwork, Any, float]] = {}
        self._coverage: dict[tuple[Any, ...], Coverage] = {}
        self._coverage_lock = asyncio.Lock()
        self._live: dict[tuple[Any, ...], tuple[float, list[Position]]] = {}
        self._live_lock = asyncio.Lock()
        self._live_sites: dict[str, _LiveSite] = {}
        self.live_coverage: dict[str, Coverage] = {}  # site -> tonight's latest state (replaced whole, never edited)
        self.live_docs: dict[tuple[Any, ...], tuple[float, dict[str, Any], bytes]] = {}  # routers.plows' built answers

    # ---- road networks ---------------------------------------------------------------------------
    def site_for(self, site: str | None) -> str:
        """The site asked for, or the only site with roads; SnowRequestError naming the choices otherwise."""
        with_roads = sorted({r["site"] for r in self.registry.db.query("SELECT DISTINCT site FROM roads")})
        if site is not None:
            if site not in with_roads:
                known = [r["id"] for r in self.registry.list("sites")]
                why = "has no roads in the registry" if site in known else "is not a site in the registry"
                raise SnowRequestError(404, "site", f"site {site!r} {why}; sites with roads: {', '.join(with_roads) or 'none'}")
            return site
        if not with_roads:
            raise SnowRequestError(404, None, "no roads in the registry yet: import a road network "
                                              "(POST /api/v1/registry/import/roads)")
        if len(with_roads) > 1:
            raise SnowRequestError(422, "site", f"several sites have roads; choose one with site=: {', '.join(with_roads)}")
        return with_roads[0]

    def network(self, site: str) -> tuple[RoadNetwork, Any]:
        """The site's road network from the registry (and the engine grid), rebuilt only when its roads changed.

        The registry is compared at most every _NETWORK_CHECK_S; the network is rebuilt only when the
        roads differ (a 20,000-road network takes a second or two to build).
        """
        cached = self._networks.get(site)
        now = time.monotonic()
        if cached and now - cached[3] < _NETWORK_CHECK_S:
            return cached[1], cached[2]  # checked a moment ago: reading every road again costs more than the answer
        rows = self.registry.list("roads", site=site)
        doc = roads_geojson(rows)
        fp = hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        if cached and cached[0] == fp:
            self._networks[site] = (fp, cached[1], cached[2], now)
            return cached[1], cached[2]
        net = parse_roads(doc)
        grid = CoverageEngine(net, self.params).grid
        self._networks[site] = (fp, net, grid, now)
        return net, grid

    def check_route(self, network: RoadNetwork, route: str | None) -> None:
        """SnowRequestError unless route is None or a route of the network's roads."""
        routes = sorted({r for r in network.routes if r is not None})
        if route is not None and route not in routes:
            raise SnowRequestError(404, "route", f"route {route!r} has no roads at this site; routes: {', '.join(routes) or 'none'}")

    # ---- coverage --------------------------------------------------------------------------------
    async def coverage(self, site: str, since_s: float, until_s: float, *, request_key: Any) -> Coverage:
        """Coverage of the site's roads by the fixes in [since_s, until_s), cached briefly.

        `request_key` is what the request asked for (e.g. "until now"), so the same question asked again a
        second later is answered from the cache although "now" moved.
        """
        network, grid = await asyncio.to_thread(self.network, site)
        key = (site, id(network), request_key)
        now = time.monotonic()
        hit = self._coverage.get(key)
        if hit is not None and now - hit.computed_at_s < self.settings.coverage_cache_s:
            return hit
        async with self._coverage_lock:
            hit = self._coverage.get(key)
            if hit is not None and time.monotonic() - hit.computed_at_s < self.settings.coverage_cache_s:
                return hit
            tracks = await read_tracks(self.history, network, site=site, start_ms=_ms(since_s), end_ms=_ms(until_s))
            cov = await asyncio.to_thread(self._compute, site, network, grid, tracks, since_s, until_s)
            for k in [k for k, v in self._coverage.items() if time.monotonic() - v.computed_at_s >= self.settings.coverage_cache_s]:
                del self._coverage[k]
            self._coverage[key] = cov
            return cov

    def _compute(self, site: str, network: RoadNetwork, grid: Any, tracks: Tracks, since_s: float,
                 until_s: float) -> Coverage:
        engine = CoverageEngine(network, self.params, grid=grid)
        stats = engine.update_codes(tracks.code, tracks.names, tracks.t_s, tracks.lat_deg, tracks.lon_deg,
                                    tracks.blade_down, tracks.heading_deg)
        return Coverage(site, network, engine.roads(), since_s, until_s, stats.used, stats.late_or_duplicate,
                        len(tracks.bad), time.monotonic())

    def route_names(self, site: str) -> dict[str, str]:
        """Registry route id -> name (the id when the route has no name)."""
        return {r["id"]: r["name"] or r["id"] for r in self.registry.list("routes", site=site)}

    def vehicles(self, site: str | None) -> dict[str, dict[str, Any]]:
        """Registry vehicles by id."""
        return {v["id"]: v for v in self.registry.list("vehicles", site=site)}

    # ---- tonight, kept up to date in the background ----------------------------------------------
    async def live_step(self, now_s: float | None = None) -> None:
        """Read every site's new points into its engine (a new engine when the night or the roads changed)."""
        now_s = time.time() if now_s is None else now_s
        sites = sorted({r["site"] for r in self.registry.db.query("SELECT DISTINCT site FROM roads")})
        for site in sites:
            network, grid = await asyncio.to_thread(self.network, site)
            night = night_start_s(now_s, self.settings.night_start_jst)
            live = self._live_sites.get(site)
            rebuild_s = self.settings.live_rebuild_s
            if (live is None or live.network is not network or live.since_s != night
                    or (rebuild_s > 0 and now_s - live.built_s >= rebuild_s)):
                # A fresh engine reads the whole night at once: it also takes in points that reached
                # InfluxDB behind the previous engine's read position. Until its first read is done,
                # the previous state is what the map shows.
                live = _LiveSite(network, CoverageEngine(network, self.params, grid=grid), night, _ms(night), now_s)
                self._live_sites[site] = live
            # Whole seconds, so the window in the answer (ISO 8601 to the second) is exactly what was read.
            end_ms = int(now_s - self.settings.live_read_lag_s) * 1000
            if end_ms <= live.read_until_ms and site in self.live_coverage:
                continue
            tracks = await read_tracks(self.history, network, site=site, start_ms=live.read_until_ms, end_ms=end_ms)
            stats = await asyncio.to_thread(live.engine.update_codes, tracks.code, tracks.names, tracks.t_s,
                                            tracks.lat_deg, tracks.lon_deg, tracks.blade_down, tracks.heading_deg)
            live.used += stats.used
            live.repeated += stats.late_or_duplicate
            live.skipped += len(tracks.bad)
            live.read_until_ms = max(end_ms, live.read_until_ms)
            state = await asyncio.to_thread(live.engine.roads)
            self.live_coverage[site] = Coverage(site, network, state, live.since_s, live.read_until_ms / 1000.0,
                                                live.used, live.repeated, live.skipped, time.monotonic(), "live")
        for gone in set(self.live_coverage) - set(sites):
            self.live_coverage.pop(gone, None)
            self._live_sites.pop(gone, None)

    async def run_live(self, stop: asyncio.Event) -> None:
        """live_step every snow.live_interval_s until stop is set; a failing step is logged and retried."""
        while not stop.is_set():
            try:
                await self.live_step()
            except Exception as e:  # InfluxDB down, a bad row: say so, keep the last state, try again
                log.warning("snow live coverage step failed (retrying in %.0f s): %s", self.settings.live_interval_s, e)
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.live_interval_s)
            except asyncio.TimeoutError:
                pass

    # ---- reports ---------------------------------------------------------------------------------
    def tariff_for(self, site: str) -> Tariff | None:
        """The configured tariff with each plow device's machine class from its vehicle in the registry."""
        if self.tariff is None:
            return None
        vehicles = {v["id"]: v for v in self.registry.list("vehicles", site=site)}
        classes = dict(self.tariff.vehicles)
        for d in self.registry.list("devices", site=site):
            v = vehicles.get(d["vehicle_id"] or "")
            if d["kind"] == "plow" and v and v["machine_class"]:
                classes[d["device_id"]] = v["machine_class"]
        return replace(self.tariff, vehicles=classes)

    async def report(self, site: str, day: date) -> dict[str, Any]:
        """The daily work report (and payment breakdown with a tariff) for a JST day, as report.plows_report."""
        network, _grid = await asyncio.to_thread(self.network, site)
        d0, d1 = day_bounds_s(day)
        gap = self.params.max_gap_s
        # Fixes up to max_gap_s either side of the day: segments joined across midnight count their share.
        tracks = await read_tracks(self.history, network, site=site, start_ms=_ms(d0 - gap), end_ms=_ms(d1 + gap) + 1)
        tariff = self.tariff_for(site)
        report = await asyncio.to_thread(plows_report, tracks, network, day, self.params, tariff)
        if tariff is not None:
            unknown = sorted({c for c in tariff.vehicles.values() if c not in tariff.classes})
            if unknown:
                report["problems"] = [f"machine class {c!r} of a vehicle is not in the tariff" for c in unknown]
        return report

    # ---- live ------------------------------------------------------------------------------------
    async def positions(self, *, site: str | None, delay_s: float = 0.0) -> tuple[float, list[Position]]:
        """(as of, Unix s; newest fixes up to then), cached for snow.live_cache_s, one InfluxDB query at a time."""
        key = (site, delay_s)
        hit = self._live.get(key)
        now = time.time()
        if hit is not None and now - hit[0] - delay_s < self.settings.live_cache_s:
            return hit
        async with self._live_lock:
            hit = self._live.get(key)
            now = time.time()
            if hit is not None and now - hit[0] - delay_s < self.settings.live_cache_s:
                return hit
            as_of = now - delay_s
            end_ms = _ms(as_of) + 1
            start_ms = end_ms - int(self.settings.live_lookback_h * 3_600_000)
            got = (as_of, await latest_positions(self.history, start_ms=start_ms, end_ms=end_ms, site=site))
            self._live[key] = got
            return got


def _ms(t_s: float) -> int:
    return int(round(t_s * 1000.0))


def parse_time_param(text: str | None, name: str) -> float | None:
    """Unix seconds from a query parameter: ISO 8601 (no offset means JST, as the CLI) or Unix seconds, 2000-2099."""
    if text is None or text == "":
        return None
    from .snow.cli import parse_iso
    from .snow.tracks import parse_time

    try:
        t = parse_time(text) if text.replace(".", "", 1).isdigit() else parse_iso(text, name)
        if not 946684800.0 <= t < 4102444800.0:  # the same years the tracks reader accepts
            raise ValueError(f"{name} {text!r} is outside 2000-2099")
    except (ValueError, OverflowError) as e:
        raise SnowRequestError(422, name, f"{e}; give ISO 8601 like 2026-01-15T05:00+09:00 (JST when no offset) "
                                          "or Unix seconds") from None
    return t
