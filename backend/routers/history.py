"""/api/v1/history: readings from InfluxDB, raw or aggregated by InfluxDB itself."""
from __future__ import annotations

import math
import re
import time
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query

from yukimizu.contract.fields import FIELDS

from ..deps import HistoryDep
from ..history import TAGS, Agg

router = APIRouter(prefix="/api/v1/history", tags=["history"])
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
RAW = ("soil", "water", "weather", "plow", "gateway")
MEASUREMENTS = RAW + tuple(f"{m}_{i}" for m in RAW for i in ("1h", "1d"))


def _ms(text: str | None, default_ms: int, name: str) -> int:
    if text is None:
        return default_ms
    try:
        if text.lstrip("-").isdigit():
            return int(text)
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(422, detail=[{"loc": ["query", name], "msg": f"{text!r} is not ISO 8601 or Unix ms",
                                          "type": "value_error"}]) from None
    if dt.tzinfo is None:
        raise HTTPException(422, detail=[{"loc": ["query", name], "msg": "needs a time zone (Z or +09:00)",
                                          "type": "value_error"}])
    return int(dt.timestamp() * 1000)


def _clean(values: Any) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


@router.get("/{measurement}", summary="Readings of one measurement, optionally aggregated per time bucket")
async def history(
    measurement: Literal[MEASUREMENTS],  # type: ignore[valid-type]
    history: HistoryDep,
    field: list[str] = Query(..., description="field names, e.g. level_cm (repeat for several)"),
    start: str | None = Query(None, description="ISO 8601 with zone or Unix ms; default 24 h ago"),
    end: str | None = Query(None, description="ISO 8601 with zone or Unix ms (exclusive); default now"),
    every: str | None = Query(None, pattern=r"^\d+(s|m|h|d|w)$", description="bucket, e.g. 1h; omit for raw points"),
    agg: Agg = Query(Agg.MEAN, description="aggregation per bucket"),
    site: str | None = None, device_id: str | None = None, field_id: str | None = None,
    vehicle_id: str | None = None, route: str | None = None,
    group_by: list[str] = Query(["device_id"], description="tags that split the result into series"),
) -> dict[str, Any]:
    """Times are Unix ms UTC; null where a value is missing."""
    odd = [f for f in field if not _FIELD_NAME.fullmatch(f)]
    if odd:
        # Every field name is an ASCII identifier (contract fields, aggregates, gateway counters); others could
        # not be quoted in InfluxQL (found by schemathesis: a CR in a name broke InfluxDB's error header).
        raise HTTPException(422, detail=[{"loc": ["query", "field"], "type": "value_error",
                                          "msg": f"field name(s) {', '.join(map(repr, odd))} are not letters, digits and _"}])
    if measurement in RAW and measurement != "gateway":
        unknown = [f for f in field if f not in FIELDS and f != "seq"]
        if unknown:
            raise HTTPException(422, detail=[{"loc": ["query", "field"], "type": "value_error",
                                              "msg": f"unknown field(s) {', '.join(unknown)} for {measurement}"}])
    bad_tags = [t for t in group_by if t not in TAGS]
    if bad_tags:
        raise HTTPException(422, detail=[{"loc": ["query", "group_by"], "type": "value_error",
                                          "msg": f"{', '.join(bad_tags)} not among the tags {', '.join(TAGS)}"}])
    now_ms = int(time.time() * 1000)
    end_ms = _ms(end, now_ms, "end")
    start_ms = _ms(start, end_ms - 86_400_000, "start")
    if start_ms >= end_ms:
        raise HTTPException(422, detail=[{"loc": ["query", "start"], "msg": "start must be before end",
                                          "type": "value_error"}])
    tags = {"site": site, "device_id": device_id, "field_id": field_id, "vehicle_id": vehicle_id, "route": route}
    if every:
        series = await history.aggregate(measurement, field, start_ms=start_ms, end_ms=end_ms, every=every, agg=agg,
                                         tags=tags, group_by=group_by)
    else:
        series = await history.raw(measurement, field, start_ms=start_ms, end_ms=end_ms, tags=tags, group_by=group_by)
    return {
        "measurement": measurement, "start_ms": start_ms, "end_ms": end_ms, "every": every,
        "agg": agg.value if every else None,
        "series": [{"tags": s.tags, "times_ms": s.times_ms.tolist(), "values": {k: _clean(v) for k, v in s.values.items()}}
                   for s in series],
    }
