"""The plainly valid message, decoded in C and formatted straight to line protocol.

Almost every message a gateway sees is plainly valid: known fields, in range, clock set. For those,
msgspec structs built from the contract's field table check types and ranges while parsing, and
the readings go straight to line protocol without `Reading` objects. Anything else (a rejected
field, a sentinel, a lone lat, a duplicate key, v = 1.0, ...) returns None and the caller takes the
contract decoder, so every rejection and its reason stay the contract's. Both paths give the same
bytes: tests/edge_gateway/test_fastdecode.py checks them against each other on generated messages.
"""
from __future__ import annotations

from typing import Annotated, Any, Union

import msgspec
from msgspec import UNSET, Meta, UnsetType

from yukimizu.contract import FIELDS, FieldType, Kind
from yukimizu.contract.fields import MAX_FUTURE_S, MAX_PAYLOAD_BYTES, MAX_READINGS, MAX_SEQ, MIN_T_UNIX_S, PAIRS, SENTINELS
from yukimizu.contract.lineproto import escape_key

_PY_TYPES = {FieldType.FLOAT: float, FieldType.INT: int, FieldType.BOOL: bool}


def _field_type(name: str) -> Any:
    spec = FIELDS[name]
    typ: Any = _PY_TYPES[spec.type]
    if spec.min is not None and spec.max is not None:
        cast = int if spec.type is FieldType.INT else float
        typ = Annotated[typ, Meta(ge=cast(spec.min), le=cast(spec.max))]
    return Union[typ, UnsetType]


# Sensor values are quantised (0.1 %, 0.1 °C, 0.01 V, whole dBm), so the same few hundred floats come
# back all day; `repr` of a float costs about five dict lookups. Bounded; zeros never cached, because
# 0.0 and -0.0 are one key but print differently.
_REPR: dict[float, str] = {}
_REPR_MAX = 4096


def float_text(v: float) -> str:
    """repr(v), remembered for the next reading that carries the same value."""
    text = repr(v)
    if v:
        if len(_REPR) >= _REPR_MAX:
            _REPR.clear()
        _REPR[v] = text
    return text


def _formatter_source(names: list[str]) -> str:
    """Python source of one kind's formatter: a loop over the readings with each field spelled out.

    Generated (as dataclasses generates __init__) because a loop over the field table costs this hot
    path twice as much. A reading with every field of its kind (what devices send) is written by one
    f-string; others field by field. It returns None at the first reading the contract must judge,
    else (seqs, lines, keys): keys counts the JSON keys the readings had.
    """
    fs = [f"f{i}" for i in range(len(names))]
    src = ["def format_readings(readings, head, t_max):",
           "    seqs = []", "    lines = []", "    keys = 0",
           "    for r in readings:",
           "        t = r.t",
           "        if not MIN_T_UNIX_S <= t <= t_max:", "            return None",
           "        seq = r.seq"]
    src += [f"        {f} = r.{n}" for f, n in zip(fs, names)]
    whole, one_by_one = [], []
    for f, n in zip(fs, names):
        spec = FIELDS[n]
        key = escape_key(n, "field key")
        inside = [v for v in SENTINELS.get(n, {}) if spec.min is not None and spec.min <= v <= spec.max]  # type: ignore[operator]
        if inside:  # sentinels outside the range never get here: the struct refused them
            src += [f"        if {f} in {tuple(inside)!r}:", "            return None"]
        if n == "heading_deg":  # stored as 0 by the contract: its case to handle
            src += [f"        if {f} == 360.0:", "            return None"]
        if spec.type is FieldType.BOOL:
            whole.append(f"{key}={{'true' if {f} else 'false'}}")
            text = f"(',{key}=true' if {f} else ',{key}=false')"
        elif spec.type is FieldType.INT:
            whole.append(f"{key}={{{f}}}i")
            text = f"f',{key}={{{f}}}i'"
        else:
            whole.append(f"{key}={{REPR.get({f}) or float_text({f})}}")
            text = f"',{key}=' + (REPR.get({f}) or float_text({f}))"
        one_by_one += [f"            if {f} is not UNSET:", f"                line += {text}", "                n += 1"]
    for a, b in PAIRS:
        if a in names and b in names:
            fa, fb = fs[names.index(a)], fs[names.index(b)]
            src += [f"        if ({fa} is UNSET) is not ({fb} is UNSET):", "            return None"]
    src += ["        if " + " and ".join(f"{f} is not UNSET" for f in fs) + ":",
            f"            keys += {len(names) + 2}",
            '            lines.append(f"{head} seq={seq}i,' + ",".join(whole) + ' {round(t * 1000)}")',
            "        else:",
            "            line = f'{head} seq={seq}i'", "            n = 2",
            *one_by_one,
            "            if n == 2:", "                return None",
            "            keys += n",
            "            lines.append(f'{line} {round(t * 1000)}')",
            "        seqs.append(seq)",
            "    return seqs, lines, keys"]
    return "\n".join(src)


class _KindPlan:
    """One kind's msgspec decoder and generated formatter."""

    def __init__(self, kind: Kind):
        names = sorted(n for n, spec in FIELDS.items() if kind in spec.kinds)
        if not all(n.isidentifier() for n in names):
            raise RuntimeError(f"contract field names of {kind.value} must be Python identifiers for the fast path")
        reading = msgspec.defstruct(
            f"{kind.value}_reading",
            [("seq", Annotated[int, Meta(ge=0, le=MAX_SEQ)]), ("t", float)]
            + [(n, _field_type(n), UNSET) for n in names],
            forbid_unknown_fields=True)
        message = msgspec.defstruct(f"{kind.value}_message", [("v", int), ("readings", list[reading])],  # type: ignore[valid-type]
                                    forbid_unknown_fields=True)
        self.decoder = msgspec.json.Decoder(message)
        self.source = _formatter_source(names)
        scope: dict[str, Any] = {"UNSET": UNSET, "MIN_T_UNIX_S": MIN_T_UNIX_S, "REPR": _REPR, "float_text": float_text}
        exec(compile(self.source, f"<fastdecode {kind.value}>", "exec"), scope)
        self.format_readings = scope["format_readings"]


_PLANS = {kind: _KindPlan(kind) for kind in Kind}


def fast_lines(kind: Kind, head: str, payload: bytes, now_unix_s: float) -> tuple[list[int], list[str]] | None:
    """(seqs, lines) for a plainly valid telemetry payload, or None: use the contract decoder."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    plan = _PLANS[kind]
    try:
        msg: Any = plan.decoder.decode(payload)
    except msgspec.MsgspecError:
        return None
    readings = msg.readings
    if msg.v != 1 or not readings or len(readings) > MAX_READINGS:
        return None
    out = plan.format_readings(readings, head, now_unix_s + MAX_FUTURE_S)
    if out is None:
        return None
    seqs, lines, keys = out
    # Every string in a payload that got this far is a known key (values are numbers and bools, and
    # no field name holds a quote), so the quotes count the keys. More keys than fields decoded
    # means a key came twice, which JSON parsers (msgspec too) settle silently and the contract refuses.
    if payload.count(b'"') != 2 * (keys + 2):  # + "v" and "readings"
        return None
    return seqs, lines
