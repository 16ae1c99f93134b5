"""Mutation fuzzing of the contract decoder: the valid vectors, bit-flipped, cut, spliced and re-valued.

The property tests in tests/yukimizu/contract generate documents from scratch; these start from real
device messages, so they reach the deep paths (a reading that is nearly right). The decoder must raise
nothing but ContractError, and whatever it accepts must be within the contract's ranges and writable.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from yukimizu.contract import FIELDS, ContractError, decode, reading_line

VECTORS = Path(__file__).resolve().parents[3] / "contract" / "vectors" / "valid"
CASES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(VECTORS.glob("*.json"))]


def _check(topic: str, payload: bytes, now_unix_s: float) -> None:
    try:
        out = decode(topic, payload, now_unix_s=now_unix_s)
    except ContractError as e:
        assert e.code and str(e)
        return
    for r in out.readings:
        assert r.values, "an accepted reading has values"
        for name, value in r.values.items():
            spec = FIELDS[name]
            if isinstance(value, float):
                assert math.isfinite(value), (name, value)
            if spec.min is not None:
                assert spec.min <= value <= spec.max, (name, value)
        reading_line(r)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes, float]:
    case = draw(st.sampled_from(CASES))
    data = bytearray(case["payload"].encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "splice", "truncate"]))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete" and data:
            del data[i:i + draw(st.integers(1, 8))]
        elif op == "insert":
            data[i:i] = draw(st.sampled_from([b"-", b"1e999", b"NaN", b'"', b"\\u0000", b"{}", b"[", b"0" * 40,
                                              b"\xff", b",", b'"t":1e308', b"true", b"null"]))
        elif op == "splice":
            other = draw(st.sampled_from(CASES))["payload"].encode()
            j = draw(st.integers(0, len(other)))
            data[i:] = other[j:]
        elif op == "truncate":
            del data[i:]
    return case["topic"], bytes(data), case["now_unix_s"]


@FUZZ
@given(mutated())
def test_mutated_device_messages_raise_only_contract_errors(msg: tuple[str, bytes, float]) -> None:
    _check(*msg)


json_numbers = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=False), st.sampled_from([0, -0.0, 1e308, -1e308]))
json_any = st.one_of(json_numbers, st.text(max_size=12), st.booleans(), st.none(), st.lists(json_numbers, max_size=2),
                     st.dictionaries(st.text(max_size=4), json_numbers, max_size=2))


@FUZZ
@given(case=st.sampled_from(CASES), data=st.data())
def test_valid_messages_with_one_value_replaced(case: dict, data: st.DataObject) -> None:
    doc = json.loads(case["payload"])
    readings = doc.get("readings") or [{}]
    r = data.draw(st.integers(0, len(readings) - 1))
    key = data.draw(st.sampled_from(sorted(set(readings[r]) | {"seq", "t", "bogus"} | set(FIELDS))))
    readings[r][key] = data.draw(json_any)
    doc["readings"] = readings
    _check(case["topic"], json.dumps(doc).encode(), case["now_unix_s"])
