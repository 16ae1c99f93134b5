"""The MicroPython encoder against every contract vector, and a property test through the decoder."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpy_harness import bundles, run_script  # noqa: F401  (fixture)
from yukimizu.contract import decode
from yukimizu.contract.fields import FIELDS, FieldType

VECTORS = Path(__file__).resolve().parents[2] / "contract" / "vectors" / "valid"
VALID = sorted(VECTORS.glob("*.json"))

# Reads JSON lines {"topic":..,"readings":[[seq,t_s,t_ms,[[name,value],...]],...]} from stdin and
# prints, per line, the topic and payload the firmware would publish.
ENCODE = """
import sys, json, encoder
for line in sys.stdin:
    job = json.loads(line)
    parts = job["topic"].split("/")
    topic = encoder.topic(parts[2], parts[3], parts[4], parts[5])
    body = b""
    for seq, t_s, t_ms, fields in job["readings"]:
        body += encoder.record(seq, t_s, t_ms, [tuple(f) for f in fields])
    print(json.dumps([topic, encoder.payload(body).decode()]))
"""


def _split_t(t: float | int) -> tuple[int, int]:
    whole = math.floor(t)
    return int(whole), round((t - whole) * 1000)


def _job(topic: str, readings: list[dict[str, Any]]) -> str:
    rows = [[r["seq"], *_split_t(r["t"]), [[k, v] for k, v in r["values"].items()]] for r in readings]
    return json.dumps({"topic": topic, "readings": rows})


def _encode(micropython: str, bundle: Path, tmp: Path, jobs: list[str]) -> list[tuple[str, bytes]]:
    out = run_script(micropython, bundle, ENCODE, tmp, stdin="\n".join(jobs) + "\n")
    return [(t, p.encode()) for t, p in (json.loads(line) for line in out.splitlines())]


@pytest.fixture(scope="module")
def vector_payloads(micropython: str, bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, bytes]]:
    vs = [json.loads(p.read_text()) for p in VALID]
    out = _encode(micropython, bundles["soil"], tmp_path_factory.mktemp("enc"), [_job(v["topic"], v["readings"]) for v in vs])
    return {v["name"]: o for v, o in zip(vs, out)}


@pytest.mark.parametrize("path", VALID, ids=[json.loads(p.read_text())["name"] for p in VALID])
def test_firmware_payload_decodes_to_the_vector_readings(path: Path, vector_payloads: dict[str, tuple[str, bytes]]) -> None:
    v = json.loads(path.read_text())
    topic, payload = vector_payloads[v["name"]]
    assert topic == v["topic"]
    out = decode(topic, payload, now_unix_s=v["now_unix_s"])
    assert out.rejections == ()
    got = [{"seq": r.seq, "t": r.t_unix_s, "values": r.values} for r in out.readings]
    assert got == v["readings"]
    for r in out.readings:
        for name, value in r.values.items():
            # frozen types on the wire: a float field is written with a decimal point even when whole
            if FIELDS[name].type is FieldType.FLOAT:
                assert f'"{name}":' in payload.decode() and isinstance(value, float)


def test_whole_float_is_written_as_a_float_and_t_never_as_one(vector_payloads: dict[str, tuple[str, bytes]]) -> None:
    _, payload = vector_payloads["plow fix with blade down and fractional time"]
    text = payload.decode()
    # heading 91.0 stays "91.0" (a float field), t 1795600000.5 is built from int s + int ms.
    assert '"heading_deg":91.0' in text and '"t":1795600000.5' in text and '"sats":11' in text


# Property: any in-range reading survives encoder -> decoder to the field's written resolution.
_DECIMALS = {"vwc_pct": 2, "soil_temp_c": 4, "battery_v": 3, "rssi_dbm": 1}
_soil_reading = st.fixed_dictionaries({
    "seq": st.integers(0, 2**53 - 1),
    "t": st.integers(1_577_836_800, 1_795_700_000),
    "t_ms": st.integers(0, 999),
    "vwc_pct": st.floats(0, 100, allow_nan=False),
    "soil_temp_c": st.floats(-30, 60).filter(lambda x: x not in (85.0, -127.0)),
    "battery_v": st.floats(0, 30),
    "rssi_dbm": st.floats(-130, 0),
})


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(readings=st.lists(_soil_reading, min_size=40, max_size=40))
def test_any_valid_soil_reading_round_trips_within_its_resolution(
    readings: list[dict[str, Any]], micropython: str, bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    topic = "yukimizu/v1/goshogawara/soil/soil-001/telemetry"
    jobs = [json.dumps({"topic": topic, "readings": [[r["seq"], r["t"], r["t_ms"], [[k, r[k]] for k in _DECIMALS]]]})
            for r in readings]
    out = _encode(micropython, bundles["soil"], tmp_path_factory.mktemp("prop"), jobs)
    for r, (_, payload) in zip(readings, out):
        dec = decode(topic, payload, now_unix_s=1_795_700_000)
        assert dec.rejections == () and len(dec.readings) == 1
        got = dec.readings[0]
        assert got.seq == r["seq"]
        assert round(got.t_unix_s * 1000) == r["t"] * 1000 + r["t_ms"]
        for name, places in _DECIMALS.items():
            assert abs(got.values[name] - r[name]) <= 0.5 * 10**-places + 1e-9, name
