"""Nearest-road matching gives the same answers as shapely's STRtree (the benchmark's baseline)."""
from __future__ import annotations

import numpy as np
import shapely

from backend.snow.coverage import CoverageEngine
from snow_builders import network, road

NET = network(road("a", (0, 0), (300, 0)), road("b", (0, 22), (300, 22)), road("c", (150, -100), (150, 100)),
              road("d", (0, -60), (120, -20), (240, -60)))


def test_nearest_road_agrees_with_strtree():
    rng = np.random.default_rng(7)
    x, y = rng.uniform(-30, 330, 20000), rng.uniform(-120, 120, 20000)
    road_idx, dist = CoverageEngine(NET).match_nearest(x, y)
    starts = np.r_[0, np.flatnonzero(np.diff(NET.piece_road)) + 1]
    ends = np.r_[starts[1:], len(NET.piece_road)]
    lines = [shapely.LineString(np.c_[np.r_[NET.piece_x0_m[a:b], NET.piece_x0_m[b - 1] + NET.piece_ux[b - 1] * NET.piece_length_m[b - 1]],
                                      np.r_[NET.piece_y0_m[a:b], NET.piece_y0_m[b - 1] + NET.piece_uy[b - 1] * NET.piece_length_m[b - 1]]])
             for a, b in zip(starts, ends)]
    pts = shapely.points(x, y)
    q, t = shapely.STRtree(lines).query_nearest(pts, max_distance=12.0, all_matches=False)
    base = np.full(len(x), -1)
    base[q] = t
    assert 3000 < (road_idx >= 0).sum() < 17000  # the test covers matches as well as misses
    differ = np.flatnonzero(base != road_idx)
    # Only exact ties may differ (a point equally near two roads, by a crossing).
    d_base = shapely.distance(pts[differ], np.array(lines, dtype=object)[base[differ]])
    assert np.allclose(d_base, dist[differ], atol=1e-9)
