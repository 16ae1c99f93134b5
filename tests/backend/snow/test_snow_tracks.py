"""tracks.csv reader: good lines parsed, bad lines skipped with their line numbers, never a crash."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.snow.tracks import TracksError, parse_time, parse_tracks_text, read_tracks
from snow_builders import lonlat, network, road

HEADER = "device_id,t,lat,lon,blade_down,speed_km_h,heading_deg"
NET = network(road("main", (0, 0), (600, 0)))
LON, LAT = lonlat(100, 0)

BAD = [
    ("t is not a time", f"p1,yesterday,{LAT},{LON},1,,", "neither Unix seconds nor an ISO 8601 time"),
    ("t in milliseconds", f"p1,1767214800000,{LAT},{LON},1,,", "outside 2000-2099"),
    ("lat is NaN", f"p1,1767214800,nan,{LON},1,,", "lat 'nan' is not finite"),
    ("lon out of range", f"p1,1767214800,{LAT},200,1,,", "lon 200.0 is outside"),
    ("blade_down is not 0/1/true/false", f"p1,1767214800,{LAT},{LON},up,,", "blade_down 'up'"),
    ("speed is negative", f"p1,1767214800,{LAT},{LON},1,-5,", "speed_km_h -5.0 is outside"),
    ("too few fields", f"p1,1767214800,{LAT}", "3 fields; expected 7"),
    ("device_id is empty", f",1767214800,{LAT},{LON},1,,", "device_id is empty"),
    ("position kilometres away from the network", "p1,1767214800,35.68,139.76,1,,", "outside the road network's area"),
]


@pytest.mark.parametrize("line,reason", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_line_is_skipped_with_its_number_and_reason(line, reason):
    good = f"p1,1767214801,{LAT},{LON},true,30.5,90"
    tr = parse_tracks_text("\n".join([HEADER, good, line, good.replace("1767214801", "1767214802")]) + "\n", NET)
    assert len(tr) == 2
    assert [b.line for b in tr.bad] == [3]
    assert reason in tr.bad[0].reason


def test_values_are_parsed():
    text = "\r\n".join([HEADER, f"p1,2026-01-01T06:00:00+09:00,{LAT},{LON},1,,",
                        f"p2,2026-01-01T06:00:01,{LAT},{LON},false,25,359.5", "", f"p1,1767214802.5,{LAT},{LON},TRUE,0,"])
    tr = parse_tracks_text(text, NET)
    assert tr.bad == []
    assert tr.names == ["p1", "p2"]
    assert tr.code.tolist() == [0, 1, 0]
    assert tr.t_s.tolist() == [1767214800.0, 1767214801.0, 1767214802.5]  # no offset means JST
    assert tr.blade_down.tolist() == [True, False, True]
    assert math.isnan(tr.speed_km_h[0]) and tr.speed_km_h[1] == 25.0
    assert tr.heading_deg[1] == 359.5 and math.isnan(tr.heading_deg[2])
    assert tr.line.tolist() == [2, 3, 5]


def test_columns_in_another_order():
    tr = parse_tracks_text(f"t,device_id,lon,lat,blade_down,heading_deg,speed_km_h\n1767214800,p9,{LON},{LAT},0,,\n")
    assert tr.names == ["p9"] and tr.lat_deg[0] == pytest.approx(LAT)


def test_missing_header_is_a_file_error(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text(f"p1,1767214800,{LAT},{LON},1,,\n")
    with pytest.raises(TracksError, match="line 1: the first line must be the header"):
        read_tracks(f)


@pytest.mark.parametrize("text,expected", [("1767214800", 1767214800.0), ("2026-01-01T06:00:00+09:00", 1767214800.0),
                                           ("2025-12-31T21:00:00Z", 1767214800.0), ("2026-01-01 06:00", 1767214800.0)],
                         ids=["Unix seconds", "ISO with offset", "ISO in UTC", "ISO without offset is JST"])
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=60), max_size=15))
def test_never_raises_and_numbers_every_bad_line(lines):
    text = "\n".join([HEADER, *lines])
    tr = parse_tracks_text(text, NET)
    n_lines = len(text.split("\n"))
    assert all(1 <= b.line <= n_lines for b in tr.bad)
    content = [i for i, line in enumerate(text.split("\n"), start=1) if line.strip() and i > 1]
    # Every non-empty line after the header is either a fix or a reported bad line, never both.
    assert sorted(tr.line.tolist() + [b.line for b in tr.bad]) == content
    assert np.isfinite(tr.t_s).all() and np.isfinite(tr.lat_deg).all()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text):
    tr = parse_tracks_text(text)
    assert all(b.line >= 1 for b in tr.bad)
