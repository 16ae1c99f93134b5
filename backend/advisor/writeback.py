"""Advice -> the `advice` measurement, so Grafana shows it beside the readings (dashboards/schema.py reads it).

    advice,field_id=<id>,site=<site> action="fill",urgency=2.0,amount_mm=25.0,amount_l=25000.0,
        target_min_cm=2.0,target_max_cm=4.0,message_ja="...",message_en="..." <bucket start, ms>

Frozen types: action and the messages are strings, every number a float (urgency too); a number that does not
apply (target band of an orchard) is left out, never written as another type. The timestamp is the start of the
`[advice] bucket_s` bucket holding the computation time, so a second computation in the same bucket overwrites
the first (InfluxDB identifies a point by measurement, tags and time): idempotent per field per bucket.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from yukimizu.contract.lineproto import line

MEASUREMENT = "advice"
TAG_SITE, TAG_FIELD = "site", "field_id"
ACTION, URGENCY, AMOUNT_MM, AMOUNT_L = "action", "urgency", "amount_mm", "amount_l"
TARGET_MIN_CM, TARGET_MAX_CM, MESSAGE_JA, MESSAGE_EN = "target_min_cm", "target_max_cm", "message_ja", "message_en"
FLOAT_FIELDS = (URGENCY, AMOUNT_MM, AMOUNT_L, TARGET_MIN_CM, TARGET_MAX_CM)


def bucket_ms(t_ms: int, bucket_s: float) -> int:
    """Start of the bucket holding t_ms (UTC, buckets counted from the epoch)."""
    size = int(bucket_s * 1000)
    return t_ms // size * size


def advice_line(site: str, field_id: str, values: dict[str, object], t_ms: int) -> str:
    """One `advice` point; `values` holds action, urgency, amounts, band and messages (None/NaN: left out)."""
    fields: dict[str, object] = {ACTION: str(values[ACTION])}
    for name in FLOAT_FIELDS:
        v = values.get(name)
        if v is not None and math.isfinite(float(v)):  # type: ignore[arg-type]
            fields[name] = float(v)  # type: ignore[arg-type]
    fields[MESSAGE_JA] = str(values[MESSAGE_JA])
    fields[MESSAGE_EN] = str(values[MESSAGE_EN])
    return line(MEASUREMENT, {TAG_SITE: site, TAG_FIELD: field_id}, fields, t_ms)


def advice_lines(rows: Iterable[tuple[str, str, dict[str, object]]], t_ms: int) -> list[str]:
    """Lines for (site, field_id, values) rows, all at t_ms."""
    return [advice_line(site, fid, values, t_ms) for site, fid, values in rows]
