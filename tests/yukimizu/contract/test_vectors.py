"""Every shared contract vector through the CPython decoder and line-protocol encoder."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from yukimizu.contract import ContractError, decode, reading_line

VECTORS = Path(__file__).resolve().parents[3] / "contract" / "vectors"
VALID = sorted((VECTORS / "valid").glob("*.json"))
INVALID = sorted((VECTORS / "invalid").glob("*.json"))


def _load(p: Path) -> dict:
    return json.loads(p.read_text(encoding="utf-8"))


def _payload(v: dict) -> bytes:
    return bytes.fromhex(v["payload_hex"]) if "payload_hex" in v else v["payload"].encode("utf-8")


def test_there_are_vectors_of_both_sorts() -> None:
    assert len(VALID) >= 10 and len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=[_load(p)["name"] for p in VALID])
def test_valid_vector_decodes_to_its_readings(path: Path) -> None:
    v = _load(path)
    out = decode(v["topic"], _payload(v), now_unix_s=v["now_unix_s"])
    got = [{"seq": r.seq, "t": r.t_unix_s, "values": r.values} for r in out.readings]
    assert got == v["readings"]
    for r, want in zip(out.readings, v["readings"]):
        # types are frozen: bools stay bools, ints stay ints, everything else is float
        for name, value in r.values.items():
            assert type(value) is type(want["values"][name]) or isinstance(want["values"][name], float), name
    got_rej = sorted((x.index, x.seq, x.field, x.code) for x in out.rejections)
    want_rej = sorted((x["index"], x["seq"], x["field"], x["code"]) for x in v["rejections"])
    assert got_rej == want_rej
    assert all(x.reason for x in out.rejections)


@pytest.mark.parametrize("path", VALID, ids=[_load(p)["name"] for p in VALID])
def test_valid_vector_gives_its_line_protocol(path: Path) -> None:
    v = _load(path)
    out = decode(v["topic"], _payload(v), now_unix_s=v["now_unix_s"])
    assert [reading_line(r, v.get("tags")) for r in out.readings] == v["line_protocol"]


@pytest.mark.parametrize("path", INVALID, ids=[_load(p)["name"] for p in INVALID])
def test_invalid_vector_raises_its_error(path: Path) -> None:
    v = _load(path)
    with pytest.raises(ContractError) as info:
        decode(v["topic"], _payload(v), now_unix_s=1795700000)
    assert info.value.code == v["error"]["code"]
    assert info.value.field == v["error"]["field"]
    assert str(info.value)
