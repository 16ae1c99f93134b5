"""Japan Standard Time, the time people in Goshogawara read (stored times are UTC)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")
JST_OFFSET_S = 9 * 3600
JST_OFFSET_MS = JST_OFFSET_S * 1000


def iso_to_unix_s(text: str) -> float:
    """Unix seconds from an ISO 8601 time; one without an offset is JST. ValueError if it is not ISO 8601."""
    d = datetime.fromisoformat(text)
    if d.tzinfo is None:
        d = d.replace(tzinfo=JST)
    return d.timestamp()
