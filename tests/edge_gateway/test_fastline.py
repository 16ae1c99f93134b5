"""The gateway's cached line builder gives exactly the contract's line protocol."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_gateway.fastline import LineBuilder
from yukimizu.contract import FIELDS, FieldType, Kind, Reading, decode, reading_line

VECTORS = sorted((Path(__file__).resolve().parents[2] / "contract" / "vectors" / "valid").glob("*.json"))


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_contract_vectors_give_the_expected_bytes(path):
    v = json.loads(path.read_text())
    d = decode(v["topic"], v["payload"].encode(), now_unix_s=v["now_unix_s"])
    b = LineBuilder()
    tags = v.get("tags") or {}
    assert [b.line(r, tags) for r in d.readings] == v["line_protocol"]
    assert [b.line(r, tags) for r in d.readings] == v["line_protocol"], "and again from the cache"


ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True)
tag_values = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12).filter(
    lambda s: "\\" not in s)


@st.composite
def readings(draw):
    kind = draw(st.sampled_from(list(Kind)))
    names = [n for n, f in FIELDS.items() if kind in f.kinds]
    values = {}
    for n in draw(st.lists(st.sampled_from(names), min_size=1, unique=True)):
        f = FIELDS[n]
        values[n] = (draw(st.booleans()) if f.type is FieldType.BOOL else
                     draw(st.integers(0, 64)) if f.type is FieldType.INT else
                     draw(st.floats(-1e6, 1e6, allow_nan=False)))
    return Reading(draw(ids), kind, draw(ids), draw(st.integers(0, 2**53 - 1)),
                   draw(st.floats(1.6e9, 2e9, allow_nan=False)), values)


@given(st.lists(readings(), min_size=1, max_size=5),
       st.dictionaries(st.sampled_from(["field_id", "vehicle_id", "route"]), tag_values, max_size=3))
def test_generated_readings_match_reading_line(rs, tags):
    b = LineBuilder()
    for r in rs + rs:
        assert b.line(r, tags) == reading_line(r, tags)
