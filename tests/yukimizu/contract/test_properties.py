"""Property tests: the decoder never raises anything but ContractError, and what it accepts is sane."""
from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from yukimizu.contract import FIELDS, ContractError, Kind, decode, reading_line
from yukimizu.contract.fields import MIN_T_UNIX_S

GOOD_TOPIC = "yukimizu/v1/goshogawara/soil/soil-001/telemetry"

topics = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda parts: "/".join(parts),
        st.lists(st.sampled_from(["yukimizu", "v1", "goshogawara", "soil", "plow", "x", "", "#", "+", "telemetry", "A b"]),
                 max_size=8),
    ),
    st.binary(max_size=60),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12,
)


def _check(topic: object, payload: bytes) -> None:
    try:
        out = decode(topic, payload)  # type: ignore[arg-type]
    except ContractError as e:
        assert e.code and str(e)
        return
    for r in out.readings:
        assert r.t_unix_s >= MIN_T_UNIX_S and r.values
        for name, value in r.values.items():
            spec = FIELDS[name]
            if spec.min is not None:
                assert spec.min <= value <= spec.max and math.isfinite(value)
        reading_line(r)  # whatever was accepted can be written


@settings(max_examples=400, deadline=None)
@given(topic=topics, payload=st.binary(max_size=300))
def test_arbitrary_bytes_and_topics_raise_only_contract_errors(topic: object, payload: bytes) -> None:
    _check(topic, payload)


@settings(max_examples=400, deadline=None)
@given(doc=json_values)
def test_arbitrary_json_documents_raise_only_contract_errors(doc: object) -> None:
    _check(GOOD_TOPIC, json.dumps(doc).encode())


field_names = st.sampled_from(sorted(FIELDS) + ["seq", "t", "bogus"])
reading = st.dictionaries(field_names, json_values, max_size=8)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(list(Kind)), readings=st.lists(reading, min_size=1, max_size=4))
def test_wellformed_envelopes_with_arbitrary_readings(kind: Kind, readings: list) -> None:
    payload = json.dumps({"v": 1, "readings": readings}).encode()
    _check(f"yukimizu/v1/goshogawara/{kind.value}/dev-1/telemetry", payload)


@settings(max_examples=200, deadline=None)
@given(seq=st.integers(0, 2**53 - 1), t=st.floats(MIN_T_UNIX_S, 1.9e9), vwc=st.floats(0, 100))
def test_every_valid_soil_reading_is_accepted_whole(seq: int, t: float, vwc: float) -> None:
    payload = json.dumps({"v": 1, "readings": [{"seq": seq, "t": t, "vwc_pct": vwc}]}).encode()
    out = decode(GOOD_TOPIC, payload, now_unix_s=2e9)
    assert not out.rejections
    assert out.readings[0].seq == seq and out.readings[0].values == {"vwc_pct": vwc}
