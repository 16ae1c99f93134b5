"""Snowplows: a plow on a route covers the route, at plausible speeds, through a plausibly bad GPS."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest

from simulators.geo import GOSHOGAWARA
from simulators.models.plow import DeadZone, Fix, plan_route, track
from simulators.models.roads import RoadNetwork
from simulators.scenario import SITE_DIR

DEPART = 1_795_640_400.0
COVER_M = 12.0


@lru_cache(maxsize=1)
def network() -> RoadNetwork:
    return RoadNetwork.from_geojson(SITE_DIR / "goshogawara" / "roads.geojson", GOSHOGAWARA)


@lru_cache(maxsize=8)
def run(route: str, seed: int = 1) -> tuple[Fix, ...]:
    return tuple(track(network(), route, (0.0, 0.0), DEPART, seed, f"plow-{route}"))


def blade_down_xy(fixes: tuple[Fix, ...]) -> np.ndarray:
    """Reported positions (lat/lon back to metres) of blade-down readings that have a fix."""
    pts = [GOSHOGAWARA.to_xy(f.values["lon"], f.values["lat"]) for f in fixes if f.blade_down and "lat" in f.values]
    return np.array(pts)


def samples(xy: tuple[tuple[float, float], ...], every_m: float = 10.0) -> np.ndarray:
    out = []
    for a, b in zip(xy, xy[1:]):
        n = max(1, int(math.dist(a, b) // every_m))
        out += [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(n + 1)]
    return np.array(out)


def nearest_m(points: np.ndarray, fixes: np.ndarray) -> np.ndarray:
    return np.sqrt(((points[:, None, :] - fixes[None, :, :]) ** 2).sum(-1)).min(axis=1)


ROUTES = ["r-1", "r-3", "r-4"]
ROUTE_IDS = ["main avenue route r-1", "minor streets r-3 with a one-way street and a dead end", "minor streets r-4"]


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_every_piece_of_the_route_comes_within_12_m_of_a_blade_down_fix(route: str) -> None:
    fixes = run(route)
    reported = blade_down_xy(fixes)
    true_down = np.array([f.true_xy for f in fixes if f.blade_down])
    covered_points = total_points = 0
    for p in network().route_pieces(route):
        pts = samples(p.xy)
        d_rep = nearest_m(pts, reported)
        assert d_rep.min() <= COVER_M, f"{p.id} has no blade-down fix within {COVER_M} m"
        assert nearest_m(pts, true_down).max() <= COVER_M, f"{p.id}: the plow itself missed part of it"
        covered_points += int((d_rep <= COVER_M).sum())
        total_points += len(pts)
    assert covered_points / total_points >= 0.9  # lost fixes and multipath leave only small gaps


def segment_distance_m(points: np.ndarray, pieces: list) -> np.ndarray:
    """Distance from each point to the nearest segment of the pieces' polylines."""
    segs = np.array([(*a, *b) for p in pieces for a, b in zip(p.xy, p.xy[1:])])
    a, b = segs[None, :, :2], segs[None, :, 2:]
    ab = b - a
    t = np.clip((((points[:, None, :] - a) * ab).sum(-1)) / (ab * ab).sum(-1), 0, 1)
    closest = a + t[..., None] * ab
    return np.sqrt(((points[:, None, :] - closest) ** 2).sum(-1)).min(axis=1)


def test_blade_is_down_only_on_the_route_and_up_in_transit() -> None:
    fixes = run("r-3")
    # r-3 starts at the avenues' crossing; getting there and back is along r-1/r-2 pieces, blade up.
    down_true = np.array([f.true_xy for f in fixes if f.blade_down])
    assert segment_distance_m(down_true, network().route_pieces("r-3")).max() < 0.5
    up_moving = np.array([f.true_xy for f in fixes if not f.blade_down and f.values.get("speed_km_h", 0) > 10])
    assert len(up_moving) > 10, "the plow drives back to the depot with the blade up"


@pytest.mark.parametrize("route,lo,hi", [("r-1", 40, 50), ("r-3", 25, 30)],
                         ids=["main roads are plowed at 40-50 km/h", "minor streets are plowed at 25-30 km/h"])
def test_plowing_speed(route: str, lo: float, hi: float) -> None:
    speeds = [f.values["speed_km_h"] for f in run(route) if f.blade_down and f.values.get("speed_km_h", 0) > 5]
    assert lo - 1 <= float(np.median(speeds)) <= hi + 1


def test_one_way_streets_are_only_driven_forwards_and_dead_ends_make_a_u_turn() -> None:
    plan = plan_route(network(), "r-3", network().nearest_node((0.0, 0.0)))
    assert plan and all(e.forward for e, _ in plan if e.piece.oneway)
    reversals = [i for i in range(1, len(plan)) if plan[i][0].piece.id == plan[i - 1][0].piece.id]
    assert reversals, "the dead-end spur must be driven in and back out"
    fixes = run("r-3")
    slow_turning = [f for f in fixes if 0 < f.values.get("speed_km_h", 99) < 6 and not f.blade_down]
    assert len(slow_turning) >= 5  # the U-turn is a slow half circle


def test_gps_error_is_about_5_m_with_multipath_and_lost_fixes() -> None:
    fixes = run("r-4")
    errs = [math.dist(f.true_xy, GOSHOGAWARA.to_xy(f.values["lon"], f.values["lat"]))
            for f in fixes if "lat" in f.values and f.values["hdop"] < 2]
    rms = math.sqrt(sum(e * e for e in errs) / len(errs))
    assert 3.0 < rms < 8.0
    lost = [f for f in fixes if "lat" not in f.values]
    assert lost and all(f.values["sats"] == 0 and "blade_down" in f.values for f in lost)
    multipath = [f for f in run("r-1") if "hdop" in f.values and f.values["hdop"] >= 2.5]
    assert multipath, "the avenues pass the city centre, where multipath happens"


def test_same_seed_same_track_different_seed_differs() -> None:
    assert run("r-4", 5) == tuple(track(network(), "r-4", (0.0, 0.0), DEPART, 5, "plow-r-4"))
    assert [f.values for f in run("r-4", 5)] != [f.values for f in run("r-4", 6)]


def test_readings_in_a_dead_zone_are_marked() -> None:
    zone = DeadZone(700.0, 900.0, 150.0)
    fixes = track(network(), "r-3", (0.0, 0.0), DEPART, 1, "plow-dz", dead_zones=(zone,))
    inside = [f for f in fixes if f.in_dead_zone]
    assert inside and all(math.dist(f.true_xy, (700, 900)) <= 150 for f in inside)


def test_unknown_route_is_named() -> None:
    with pytest.raises(ValueError, match="route 'r-99'"):
        plan_route(network(), "r-99", 0)
