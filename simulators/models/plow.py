"""Snowplows: plan a route over the road network, drive it, and see it through a GPS receiver.

Route plan (greedy, deterministic): from the depot, go by the shortest path to the nearest entry of a
piece of the route not yet cleared, clear it with the blade down, repeat; pieces of the route passed
on the way are cleared too; other roads are driven with the blade up; at the end, return to the depot
and idle there, parked with the blade up, for 1-3 min before the engine (and the logger) goes off.
A dead end makes the plow U-turn (a slow half circle of 6 m radius).
Speeds (DOMAIN.md, "Snow removal"): plowing 25-30 km/h on minor streets, 40-50 km/h on main roads;
transit with the blade up about 35 km/h on minor streets and 50 km/h on main roads; stops at some
junctions (traffic, a turn) of 5-30 s.
GPS (DOMAIN.md: error about 5 m, worse between buildings and snow walls): a slowly varying error per
axis (AR(1), sigma 3.5 m, so about 5 m RMS in 2-D); multipath episodes near the city centre (a 10-30 m
jump for 5-20 s with high HDOP and few satellites); lost fixes for 3-15 s (no position, sats 0, as a
real logger reports them). Cellular dead zones are circles: readings taken there are held on the
device and published with their original time when the plow drives out.
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from .roads import Edge, RoadNetwork

KM_H = 1 / 3.6  # m/s per km/h


@dataclass(frozen=True)
class DeadZone:
    """A circle with no cellular coverage, local metres."""

    x_m: float
    y_m: float
    radius_m: float

    def contains(self, xy: tuple[float, float]) -> bool:
        """True when the point is inside."""
        return math.dist(xy, (self.x_m, self.y_m)) <= self.radius_m


@dataclass(frozen=True)
class Leg:
    """Straight motion from a to b at constant speed (a == b is a stop)."""

    a: tuple[float, float]
    b: tuple[float, float]
    duration_s: float
    blade_down: bool
    heading_deg: float


@dataclass(frozen=True)
class Fix:
    """One GPS logger reading: true position for tests, what the device reports, and whether it could send."""

    t_unix_s: float
    true_xy: tuple[float, float]
    values: dict
    in_dead_zone: bool

    @property
    def blade_down(self) -> bool:
        """Blade state at this reading."""
        return bool(self.values["blade_down"])


def plan_route(network: RoadNetwork, route: str, depot_node: int) -> list[tuple[Edge, bool]]:
    """The edges a plow drives, each with its blade state, from the depot through every piece of `route` and back."""
    pieces = network.route_pieces(route)
    if not pieces:
        raise ValueError(f"route {route!r} has no road pieces in the network")
    # What is left to clear: (piece id, direction) for each side of a two-way main road (both lanes
    # are plowed), (piece id, None) where one pass in either direction clears the piece.
    todo: set[tuple[str, bool | None]] = set()
    for p in pieces:
        if p.main and not p.oneway:
            todo |= {(p.id, True), (p.id, False)}
        else:
            todo.add((p.id, None))
    order = {p.id: i for i, p in enumerate(network.pieces)}
    by_id = {p.id: p for p in pieces}
    here = depot_node
    plan: list[tuple[Edge, bool]] = []

    def take(e: Edge) -> bool:
        for key in ((e.piece.id, e.forward), (e.piece.id, None)):
            if key in todo:
                todo.discard(key)
                return True
        return False

    while todo:
        dist, via = network.shortest_paths(here)
        best: tuple[float, int, Edge] | None = None
        for pid, direction in sorted(todo, key=lambda k: (order[k[0]], str(k[1]))):
            p = by_id[pid]
            options = [direction] if direction is not None else ([True] if p.oneway else [True, False])
            for forward in options:
                e = Edge(p, forward)
                d = dist.get(e.head)
                if d is not None and (best is None or (d, order[pid]) < (best[0], best[1])):
                    best = (d, order[pid], e)
        if best is None:
            raise ValueError(f"route {route!r}: pieces {sorted(k[0] for k in todo)[:5]} cannot be reached from the depot")
        target = best[2]
        for e in RoadNetwork.path_to(via, here, target.head) + [target]:
            plan.append((e, take(e)))
        here = target.tail
    if here != depot_node:
        dist, via = network.shortest_paths(here)
        if depot_node in dist:
            plan.extend((e, False) for e in RoadNetwork.path_to(via, here, depot_node))
    return plan


def _heading_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.degrees(math.atan2(b[0] - a[0], b[1] - a[1])) % 360


def _uturn(at: tuple[float, float], heading_deg: float, radius_m: float = 6.0, steps: int = 6) -> list[Leg]:
    """A half circle to the right at 3 km/h, ending where it began, facing back."""
    legs = []
    h0 = math.radians(heading_deg)
    right = (math.cos(h0), -math.sin(h0))
    centre = (at[0] + right[0] * radius_m / 2, at[1] + right[1] * radius_m / 2)
    prev = at
    speed_m_s = 3 * KM_H
    for k in range(1, steps + 1):
        ang = math.pi * k / steps
        # rotate the vector centre->start by -ang (clockwise seen from above: a right turn)
        vx, vy = at[0] - centre[0], at[1] - centre[1]
        c, s = math.cos(-ang), math.sin(-ang)
        pt = (centre[0] + vx * c - vy * s, centre[1] + vx * s + vy * c)
        legs.append(Leg(prev, pt, math.dist(prev, pt) / speed_m_s, False, _heading_deg(prev, pt)))
        prev = pt
    return legs


def drive(plan: list[tuple[Edge, bool]], rng: random.Random) -> list[Leg]:
    """Turn a plan into timed legs with plowing/transit speeds, junction stops and U-turns."""
    legs: list[Leg] = []
    prev: Edge | None = None
    for e, clearing in plan:
        if prev is not None and prev.piece.id == e.piece.id and prev.forward != e.forward:
            legs.extend(_uturn(e.xy[0], legs[-1].heading_deg if legs else 0.0))
        elif prev is not None and rng.random() < 0.15:
            legs.append(Leg(e.xy[0], e.xy[0], rng.uniform(5, 30), clearing, legs[-1].heading_deg if legs else 0.0))
        main = e.piece.main
        if clearing:
            speed_km_h = rng.uniform(40, 50) if main else rng.uniform(25, 30)
        else:
            speed_km_h = rng.uniform(45, 55) if main else rng.uniform(30, 40)
        for a, b in zip(e.xy, e.xy[1:]):
            legs.append(Leg(a, b, math.dist(a, b) / (speed_km_h * KM_H), clearing, _heading_deg(a, b)))
        prev = e
    if legs:  # back at the depot: park, blade up, and idle a minute or two before the engine goes off
        legs.append(Leg(legs[-1].b, legs[-1].b, rng.uniform(60, 180), False, legs[-1].heading_deg))
    return legs


class GpsReceiver:
    """Error model of a GNSS receiver in a snowy town (see module docstring), seeded per device."""

    def __init__(self, rng: random.Random, urban_radius_m: float = 600.0, sigma_m: float = 3.5):
        self.rng = rng
        self.urban_radius_m = urban_radius_m
        self.sigma_m = sigma_m
        self.err = [rng.gauss(0, sigma_m), rng.gauss(0, sigma_m)]
        self.multipath_left = 0
        self.multipath_bias = (0.0, 0.0)
        self.lost_left = 0

    def observe(self, true_xy: tuple[float, float], dt_s: float) -> tuple[tuple[float, float] | None, float, int]:
        """(measured xy or None when there is no fix, hdop, sats) for one epoch."""
        rho = 0.95 ** dt_s
        for k in range(2):  # AR(1) keeps the stationary sigma: innovation sigma * sqrt(1 - rho^2)
            self.err[k] = rho * self.err[k] + math.sqrt(1 - rho * rho) * self.rng.gauss(0, self.sigma_m)
        if self.lost_left == 0 and self.rng.random() < 0.002:
            self.lost_left = self.rng.randint(3, 15)
        if self.lost_left > 0:
            self.lost_left -= 1
            return None, 0.0, 0
        urban = math.hypot(*true_xy) < self.urban_radius_m
        if self.multipath_left == 0 and urban and self.rng.random() < 0.01:
            self.multipath_left = self.rng.randint(5, 20)
            ang = self.rng.uniform(0, 2 * math.pi)
            mag = self.rng.uniform(10, 30)
            self.multipath_bias = (mag * math.cos(ang), mag * math.sin(ang))
        if self.multipath_left > 0:
            self.multipath_left -= 1
            bx, by = self.multipath_bias
            return (true_xy[0] + self.err[0] + bx, true_xy[1] + self.err[1] + by), self.rng.uniform(2.5, 4.0), self.rng.randint(5, 7)
        return (true_xy[0] + self.err[0], true_xy[1] + self.err[1]), self.rng.uniform(0.7, 1.3), self.rng.randint(8, 12)


def legs_for(network: RoadNetwork, route: str, depot_xy: tuple[float, float], seed: int, device_id: str) -> list[Leg]:
    """The timed legs one plow drives (cheap once the route is planned; same seed, same legs)."""
    rng = random.Random(f"plow:{seed}:{device_id}")
    depot = network.nearest_node(depot_xy)
    # The plan depends only on the network, route and depot: plan once, drive many (a fleet of clones).
    plans = network.__dict__.setdefault("_plans", {})
    if (route, depot) not in plans:
        plans[(route, depot)] = plan_route(network, route, depot)
    return drive(plans[(route, depot)], rng)


def iter_track(network: RoadNetwork, legs: list[Leg], depart_unix_s: float, seed: int, device_id: str, *,
               fix_interval_s: float = 1.0, dead_zones: tuple[DeadZone, ...] = ()) -> Iterator[Fix]:
    """The logger's readings along the legs, one every fix_interval_s, computed as they are asked for."""
    gps = GpsReceiver(random.Random(f"gps:{seed}:{device_id}"))
    leg_i, leg_t0 = 0, 0.0
    t = 0.0
    total_s = sum(leg.duration_s for leg in legs)
    frame = network.frame
    while t <= total_s:
        while leg_i < len(legs) - 1 and t > leg_t0 + legs[leg_i].duration_s:
            leg_t0 += legs[leg_i].duration_s
            leg_i += 1
        leg = legs[leg_i]
        f = 0.0 if leg.duration_s <= 0 else min(1.0, (t - leg_t0) / leg.duration_s)
        xy = (leg.a[0] + (leg.b[0] - leg.a[0]) * f, leg.a[1] + (leg.b[1] - leg.a[1]) * f)
        speed_km_h = 0.0 if leg.duration_s <= 0 else math.dist(leg.a, leg.b) / leg.duration_s / KM_H
        measured, hdop, sats = gps.observe(xy, fix_interval_s)
        values: dict = {"blade_down": leg.blade_down, "sats": sats}
        if measured is not None:
            lon, lat = frame.to_lonlat(*measured)
            values.update({
                "lat": round(lat, 6), "lon": round(lon, 6),
                "speed_km_h": round(max(0.0, speed_km_h + gps.rng.gauss(0, 0.5)) if speed_km_h > 0 else 0.0, 1),
                "heading_deg": round((leg.heading_deg + gps.rng.gauss(0, 2.0)) % 360, 1) % 360.0,
                "hdop": round(hdop, 2),
            })
        yield Fix(depart_unix_s + t, xy, values, any(z.contains(xy) for z in dead_zones))
        t += fix_interval_s


def track(network: RoadNetwork, route: str, depot_xy: tuple[float, float], depart_unix_s: float, seed: int,
          device_id: str, *, fix_interval_s: float = 1.0, dead_zones: tuple[DeadZone, ...] = ()) -> list[Fix]:
    """Every reading a plow's GPS logger takes from leaving the depot to returning (same seed, same track)."""
    legs = legs_for(network, route, depot_xy, seed, device_id)
    return list(iter_track(network, legs, depart_unix_s, seed, device_id, fix_interval_s=fix_interval_s,
                           dead_zones=dead_zones))
