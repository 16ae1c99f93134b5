"""Decode (topic, payload bytes) into typed readings, or a ContractError that says what was wrong.

Message-level faults (bad topic, not JSON, wrong version, no readings list) raise ContractError.
Reading-level faults (missing seq or t) and field-level faults (out of range, wrong type, unknown
field, sensor sentinel) never raise: the bad reading or field is left out and listed in
`Decoded.rejections`, so one broken value never costs the good ones beside it.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from .errors import ContractError
from .fields import (
    FIELDS,
    MAX_FUTURE_S,
    MAX_PAYLOAD_BYTES,
    MAX_READINGS,
    MAX_SEQ,
    MIN_T_UNIX_S,
    PAIRS,
    SENTINELS,
    FieldType,
    Kind,
)
from .topics import Channel, parse_topic

FieldValue = float | int | bool


@dataclass(frozen=True, slots=True)
class Reading:
    """One decoded reading. `t_unix_s` is UTC seconds; `values` maps field name to value."""

    site: str
    kind: Kind
    device_id: str
    seq: int
    t_unix_s: float
    values: dict[str, FieldValue] = field(hash=False)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A reading or field left out. `field` is None when the whole reading was left out."""

    index: int
    seq: int | None
    field: str | None
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class Decoded:
    """The outcome of decoding one telemetry message."""

    readings: tuple[Reading, ...]
    rejections: tuple[Rejection, ...]


def _no_constants(name: str) -> Any:
    raise ContractError("bad_json", f"{name} is not a number JSON allows")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ContractError("bad_json", f"key {k[:64]!r} appears twice in one object")
        out[k] = v
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# Per kind: field name -> (type, min, max, sentinel reasons, plain). Built once: decoding is the gateway's
# hot path. `plain` marks float fields with no sentinel or special case, whose in-range floats pass as they are.
_KIND_SPECS: dict[Kind, dict[str, tuple[FieldType, float, float, dict[float, str] | None, bool]]] = {
    kind: {
        name: (spec.type, -math.inf if spec.min is None else spec.min, math.inf if spec.max is None else spec.max,
               SENTINELS.get(name), spec.type is FieldType.FLOAT and name not in SENTINELS and name != "heading_deg")
        for name, spec in FIELDS.items()
        if kind in spec.kinds
    }
    for kind in Kind
}
_FLOAT, _INT, _BOOL = FieldType.FLOAT, FieldType.INT, FieldType.BOOL
# Beyond this an integer has no float (float() would raise OverflowError); every range is far inside it.
_HUGE = 1e300


def _check_field(specs: dict, name: str, value: Any, kind: Kind) -> tuple[FieldValue | None, str, str]:
    """Return (value, code, reason); value None means rejected with code and reason."""
    spec = specs.get(name)
    if spec is None:
        return None, "unknown_field", f"field {name[:64]!r} is not part of kind {kind.value} in contract v1"
    typ, lo, hi, sentinels, _ = spec
    tv = type(value)
    if typ is _FLOAT:
        if tv is float:
            v: float | int = value
        elif tv is int and -_HUGE < value < _HUGE:
            v = float(value)
        elif tv is int:
            return None, "out_of_range", f"{name} is too large"
        else:
            return None, "wrong_type", f"{name} must be a number, got {tv.__name__}"
    elif typ is _INT:
        if tv is not int:
            return None, "wrong_type", f"{name} must be an integer, got {tv.__name__}"
        v = value
    else:
        if tv is not bool:
            return None, "wrong_type", f"{name} must be true or false, got {tv.__name__}"
        return value, "", ""
    if sentinels is not None and v in sentinels:
        return None, "sensor_fault", sentinels[v]
    if not lo <= v <= hi:  # also false for NaN and infinities
        return None, "out_of_range", f"{name}={v!r} outside {lo}..{hi}"
    if v == 360.0 and name == "heading_deg":
        v = 0.0
    return v, "", ""


def decode(topic: str | bytes, payload: bytes, *, now_unix_s: float | None = None) -> Decoded:
    """Decode one telemetry message. Raises only ContractError, whatever the bytes."""
    t = parse_topic(topic)
    if t.channel is not Channel.TELEMETRY:
        raise ContractError("bad_topic", f"channel {t.channel.value} carries no telemetry", field="topic")
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ContractError("bad_json", "payload must be bytes")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ContractError("too_large", f"payload is {len(payload)} bytes, limit {MAX_PAYLOAD_BYTES}")
    try:
        text = bytes(payload).decode("utf-8")
        doc = json.loads(text, parse_constant=_no_constants, object_pairs_hook=_no_duplicates)
    except ContractError:
        raise
    except UnicodeDecodeError as e:
        raise ContractError("bad_json", f"payload is not UTF-8 (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ContractError("bad_json", f"payload is not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except (RecursionError, ValueError) as e:  # nesting too deep; int too long to convert
        raise ContractError("bad_json", f"payload is not usable JSON: {type(e).__name__}") from None
    if not isinstance(doc, dict):
        raise ContractError("bad_json", f"payload must be a JSON object, got {type(doc).__name__}")
    v = doc.get("v")
    if v != 1 or isinstance(v, bool):
        raise ContractError("version", f"payload version {v!r} is not 1", field="v")
    extra = set(doc) - {"v", "readings"}
    if extra:
        raise ContractError("unknown_field", f"unknown top-level keys {sorted(extra)[:5]}", field=sorted(extra)[0][:64])
    readings = doc.get("readings")
    if not isinstance(readings, list):
        raise ContractError("bad_json", "readings must be a list", field="readings")
    if not readings:
        raise ContractError("bad_json", "readings is empty", field="readings")
    if len(readings) > MAX_READINGS:
        raise ContractError("too_large", f"{len(readings)} readings, limit {MAX_READINGS}", field="readings")
    now = time.time() if now_unix_s is None else now_unix_s
    specs = _KIND_SPECS[t.kind]
    out: list[Reading] = []
    rejected: list[Rejection] = []
    for i, r in enumerate(readings):
        if not isinstance(r, dict):
            rejected.append(Rejection(i, None, None, "bad_json", f"readings[{i}] must be an object"))
            continue
        seq = r.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
            rejected.append(Rejection(i, None, "seq", "bad_seq", f"seq must be an integer 0..2^53-1, got {seq!r:.40}"))
            continue
        ts = r.get("t")
        if not _is_number(ts) or not -_HUGE < ts < _HUGE:
            rejected.append(Rejection(i, seq, "t", "bad_time", f"t must be Unix seconds, got {ts!r:.40}"))
            continue
        if ts < MIN_T_UNIX_S:
            rejected.append(Rejection(i, seq, "t", "clock", f"device clock not set: t={ts!r:.20} is before 2020-01-01"))
            continue
        if ts > now + MAX_FUTURE_S:
            rejected.append(Rejection(i, seq, "t", "clock", f"t={ts!r:.20} is {ts - now:.0f} s in the future"))
            continue
        values: dict[str, FieldValue] = {}
        for name, raw in r.items():
            if name == "seq" or name == "t":
                continue
            spec = specs.get(name)
            if spec is not None and spec[4] and type(raw) is float and spec[1] <= raw <= spec[2]:
                values[name] = raw
                continue
            val, code, reason = _check_field(specs, name, raw, t.kind)
            if val is None:
                rejected.append(Rejection(i, seq, name[:64], code, reason))
            else:
                values[name] = val
        for a, b in PAIRS:
            if (a in values) != (b in values):
                lone = a if a in values else b
                del values[lone]
                rejected.append(Rejection(i, seq, lone, "incomplete", f"{a} and {b} must come together"))
        if not values:
            rejected.append(Rejection(i, seq, None, "no_fields", "no valid measurement fields left"))
            continue
        out.append(Reading(t.site, t.kind, t.device_id, seq, float(ts), values))
    return Decoded(tuple(out), tuple(rejected))
