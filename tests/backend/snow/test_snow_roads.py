"""Road GeoJSON import: invalid features named with their index, id and reason; pieces of at most 10 m."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.snow.roads import RoadNetworkError, parse_roads
from snow_builders import lonlat, network, road


def fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def line(rid, coords, gtype="LineString", **props):
    return {"type": "Feature", "properties": {"id": rid, **props}, "geometry": {"type": gtype, "coordinates": coords}}


A, B = lonlat(0, 0), lonlat(100, 0)
INVALID = [
    ("not a FeatureCollection", {"type": "Feature"}, "not a GeoJSON FeatureCollection"),
    ("a Point is not a road", fc(line("r1", A, "Point")), "feature 0 (id 'r1'): geometry type 'Point'"),
    ("a line of one point", fc(line("r1", [A])), "feature 0 (id 'r1'): line: has 1 point(s)"),
    ("latitude and longitude swapped", fc(line("r1", [[40.8, 140.4], [40.81, 140.41]])), "outside WGS84"),
    ("a NaN coordinate", fc(line("r1", [A, [math.nan, 40.8]])), "not finite"),
    ("a duplicate id", fc(line("r1", [A, B]), line("r1", [B, A])), "feature 1 (id 'r1'): duplicate id (also feature 0)"),
    ("zero length", fc(line("r1", [A, A])), "feature 0 (id 'r1'): zero length"),
    ("no id", fc(line(None, [A, B])), "feature 0: properties.id is missing"),
    ("a bad MultiLineString part", fc(line("m", [[A, B], [A]], "MultiLineString")), "line 1: has 1 point(s)"),
    ("oneway not a boolean", fc(line("r1", [A, B], oneway="sometimes")), "oneway must be true or false"),
]


@pytest.mark.parametrize("data,message", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_roads_are_rejected_with_the_reason(data, message):
    with pytest.raises(RoadNetworkError) as e:
        parse_roads(data)
    assert message in str(e.value)


def test_every_bad_feature_is_reported_at_once():
    with pytest.raises(RoadNetworkError) as e:
        parse_roads(fc(line("ok", [A, B]), line("bad1", [A]), line("bad2", [A, B], "Polygon")))
    assert [p[0] for p in e.value.problems] == [1, 2]


def test_pieces_are_at_most_10_m_and_add_up_to_the_road():
    net = network(road("bend", (0, 0), (95, 0), (95, 33), route="A", oneway=True),
                  {"type": "Feature", "properties": {"id": 7},
                   "geometry": {"type": "MultiLineString", "coordinates": [[lonlat(0, 50), lonlat(25, 50)],
                                                                           [lonlat(0, 60), lonlat(0, 64)]]}})
    assert net.ids == ["bend", 7]
    assert net.length_m == pytest.approx([128.0, 29.0], abs=0.05)  # projection error well under 0.1 %
    assert net.piece_length_m.max() <= 10.0 + 1e-9
    per_road = np.bincount(net.piece_road, weights=net.piece_length_m)
    assert per_road == pytest.approx(net.length_m)
    bearings = net.piece_bearing_deg[net.piece_road == 0]
    assert set(np.round(bearings).astype(int)) == {90, 0}  # east, then north
    assert net.oneway.tolist() == [True, False] and net.routes == ["A", None]


JSON = st.recursive(st.none() | st.booleans() | st.integers(-200, 200) | st.floats(allow_nan=True) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
                        ["type", "features", "geometry", "coordinates", "properties", "id", "oneway", "route"]), inner,
                        max_size=4), max_leaves=30)
GEOMETRY = st.fixed_dictionaries({"type": st.sampled_from(["LineString", "MultiLineString", "Point"]),
                                  "coordinates": JSON | st.lists(st.lists(st.floats(-200, 200), min_size=2, max_size=3),
                                                                 max_size=4)})
FEATURE = st.fixed_dictionaries({"type": st.just("Feature"), "geometry": GEOMETRY | JSON,
                                 "properties": st.fixed_dictionaries({"id": JSON}, optional={"oneway": JSON}) | JSON})


@settings(max_examples=300, deadline=None)
@given(st.lists(FEATURE | JSON, max_size=5))
def test_any_json_is_imported_or_rejected_with_reasons(features):
    """Whatever the file holds, the import either succeeds or raises RoadNetworkError with reasons."""
    try:
        net = parse_roads(fc(*features))
    except RoadNetworkError as e:
        assert e.problems and all(reason for _, _, reason in e.problems)
    else:
        assert net.n_roads >= 1 and np.all(net.piece_length_m > 0) and np.all(net.piece_length_m <= 10.0 + 1e-9)
