"""The gateway's compiled decode path gives the contract's bytes, or hands the message to the contract."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from edge_gateway.fastdecode import fast_lines
from edge_gateway.fastline import LineBuilder
from yukimizu.contract import FIELDS, Channel, ContractError, FieldType, Kind, decode, parse_topic
from yukimizu.contract.fields import MIN_T_UNIX_S



def _telemetry_topic(path: Path) -> bool:
    """Vectors the intake hands to a decoder: the rest are refused or set aside by topic first."""
    try:
        return parse_topic(json.loads(path.read_text())["topic"]).channel is Channel.TELEMETRY
    except ContractError:
        return False


VECTORS = [p for p in sorted((Path(__file__).resolve().parents[2] / "contract" / "vectors").glob("*/*.json"))
           if _telemetry_topic(p)]
NOW_S = 1_795_700_000.0
TAGS = {"field_id": "f 1,a=b"}


def _payload(v: dict) -> bytes:
    return v["payload"].encode() if "payload" in v else bytes.fromhex(v["payload_hex"])


def contract_lines(topic: str, payload: bytes, now_s: float) -> tuple[list[int], list[str]] | None:
    """What the contract decoder gives, when it accepts every reading whole; None otherwise."""
    try:
        d = decode(topic, payload, now_unix_s=now_s)
    except ContractError:
        return None
    if d.rejections:
        return None
    b = LineBuilder()
    return [r.seq for r in d.readings], [b.line(r, TAGS) for r in d.readings]


def fast(topic: str, payload: bytes, now_s: float) -> tuple[list[int], list[str]] | None:
    t = parse_topic(topic)
    return fast_lines(t.kind, LineBuilder().head(t.site, t.kind, t.device_id, TAGS), payload, now_s)


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_contract_vectors_take_the_fast_path_only_when_nothing_is_rejected(path):
    v = json.loads(path.read_text())
    now_s = v.get("now_unix_s", NOW_S)
    assert fast(v["topic"], _payload(v), now_s) == contract_lines(v["topic"], _payload(v), now_s)


def _value(draw, name: str):
    f = FIELDS[name]
    if f.type is FieldType.BOOL:
        return draw(st.booleans() | st.sampled_from([0, 1, None]))
    if f.type is FieldType.INT:
        return draw(st.integers(int(f.min) - 2, int(f.max) + 2) | st.sampled_from([1.0, 2**64, True]))
    edges = [f.min, f.max, -0.0, 85.0, -127.0, 360.0, int(f.max), int(f.min), f.max + 1e-9, 10**400, "1"]
    return draw(st.floats(f.min - 1, f.max + 1, allow_nan=False) | st.sampled_from(edges))


@st.composite
def messages(draw):
    """Mostly valid messages of every kind, with the faults the contract must see spread thin."""
    kind = draw(st.sampled_from(list(Kind)))
    names = sorted(n for n, f in FIELDS.items() if kind in f.kinds)
    readings = []
    for _ in range(draw(st.integers(1, 4))):
        r: dict = {"seq": draw(st.integers(0, 2**53 - 1) | st.sampled_from([-1, 2**53, 1.0, True])),
                   "t": draw(st.floats(MIN_T_UNIX_S - 10, NOW_S + 700) | st.integers(MIN_T_UNIX_S, int(NOW_S)))}
        for n in draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names))):
            r[n] = _value(draw, n)
        if draw(st.integers(0, 20)) == 0:
            r["bogus"] = 1
        readings.append(r)
    body = json.dumps({"v": draw(st.sampled_from([1, 1, 1, 1, 1.0, 2])), "readings": readings})
    if draw(st.integers(0, 10)) == 0:  # a key sent twice: the contract refuses the message
        body = body.replace('{"seq":', '{"seq": 7, "seq":', 1).replace('{"seq": ', '{"seq": 7, "seq": ', 1)
    return f"yukimizu/v1/goshogawara/{kind.value}/dev-1/telemetry", body.encode()


@settings(max_examples=600, deadline=None)
@given(messages())
@example(("yukimizu/v1/goshogawara/soil/dev-1/telemetry", b'{"v":1,"readings":[{"seq":1,"seq":2,"t":1795600000,"vwc_pct":3}]}'))
@example(("yukimizu/v1/goshogawara/plow/dev-1/telemetry", b'{"v":1,"readings":[{"seq":1,"t":1795600000,"lat":40.8}]}'))
@example(("yukimizu/v1/goshogawara/soil/dev-1/telemetry", b'{"v":1,"readings":[{"seq":1,"t":1795600000}]}'))
def test_the_fast_path_agrees_with_the_contract_or_declines(msg):
    topic, payload = msg
    got = fast(topic, payload, NOW_S)
    if got is not None:
        assert got == contract_lines(topic, payload, NOW_S)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(list(Kind)), data=st.data())
def test_plainly_valid_messages_take_the_fast_path(kind, data):
    names = sorted(n for n, f in FIELDS.items() if kind in f.kinds and n not in ("soil_temp_c", "water_temp_c",
                                                                                   "heading_deg", "lat", "lon"))
    readings = []
    for seq in range(data.draw(st.integers(1, 20))):
        r: dict = {"seq": seq, "t": data.draw(st.floats(MIN_T_UNIX_S, NOW_S))}
        for n in data.draw(st.lists(st.sampled_from(names), unique=True, min_size=1)):
            f = FIELDS[n]
            r[n] = (data.draw(st.booleans()) if f.type is FieldType.BOOL else
                    data.draw(st.integers(int(f.min), int(f.max))) if f.type is FieldType.INT else
                    data.draw(st.floats(f.min, f.max)))
        readings.append(r)
    topic = f"yukimizu/v1/goshogawara/{kind.value}/dev-1/telemetry"
    payload = json.dumps({"v": 1, "readings": readings}, indent=data.draw(st.sampled_from([None, 1]))).encode()
    got = fast(topic, payload, NOW_S)
    assert got is not None, "a plainly valid message fell back to the slow path"
    assert got == contract_lines(topic, payload, NOW_S)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["v", "readings", "seq", "t", "vwc_pct", "lat", "x"]) | st.text(max_size=8), children,
        max_size=5),
    max_leaves=15,
)


@settings(max_examples=400, deadline=None)
@given(payload=st.binary(max_size=300) | json_values.map(lambda d: json.dumps(d).encode()),
       kind=st.sampled_from(list(Kind)))
def test_arbitrary_bytes_never_raise_and_never_disagree_with_the_contract(payload, kind):
    topic = f"yukimizu/v1/goshogawara/{kind.value}/dev-1/telemetry"
    got = fast(topic, payload, NOW_S)
    if got is not None:
        assert got == contract_lines(topic, payload, NOW_S)


@settings(max_examples=300, deadline=None)
@given(text=st.from_regex(r"[1-9]?[0-9]\.[0-9]{10,30}(e-?[0-9])?", fullmatch=True))
def test_numbers_with_more_digits_than_a_double_holds_round_the_same_way(text):
    # A device's printf may send 20 digits: both parsers must pick the same nearest double.
    payload = f'{{"v":1,"readings":[{{"seq":1,"t":1795600000,"vwc_pct":{text}}}]}}'.encode()
    topic = "yukimizu/v1/goshogawara/soil/dev-1/telemetry"
    assert fast(topic, payload, NOW_S) == contract_lines(topic, payload, NOW_S)


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(list(Kind)), data=st.data())
def test_readings_with_every_field_of_their_kind_take_the_fast_path(kind, data):
    # What devices send: the one-f-string branch of the generated formatter.
    readings = []
    for seq in range(data.draw(st.integers(1, 5))):
        r: dict = {"seq": seq, "t": data.draw(st.floats(MIN_T_UNIX_S, NOW_S))}
        for n, f in FIELDS.items():
            if kind in f.kinds:
                r[n] = (data.draw(st.booleans()) if f.type is FieldType.BOOL else
                        data.draw(st.integers(int(f.min), int(f.max))) if f.type is FieldType.INT else
                        data.draw(st.floats(f.min, 359.9 if n == "heading_deg" else f.max)))
        readings.append(r)
    topic = f"yukimizu/v1/goshogawara/{kind.value}/dev-1/telemetry"
    payload = json.dumps({"v": 1, "readings": readings}).encode()
    got = fast(topic, payload, NOW_S)
    assert got is not None
    assert got == contract_lines(topic, payload, NOW_S)


def test_remembered_float_texts_keep_the_sign_of_zero_and_match_repr():
    topic = "yukimizu/v1/goshogawara/soil/dev-1/telemetry"
    values = [21.5, 0.0, -0.0, 21.5, 3.71, -0.0, 0.0, 1e-7, 21.5]
    payload = json.dumps({"v": 1, "readings": [{"seq": i, "t": NOW_S - 100 + i, "vwc_pct": v, "soil_temp_c": -v}
                                                for i, v in enumerate(values)]}).encode()
    got = fast(topic, payload, NOW_S)
    assert got is not None and got == contract_lines(topic, payload, NOW_S)
    assert [ln.split("vwc_pct=")[1].split(" ")[0] for ln in got[1]] == [repr(v) for v in values]
