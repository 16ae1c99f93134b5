"""Helpers for reading InfluxDB series in the dashboards tests."""
from __future__ import annotations

from typing import Any


def rows(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Series flattened to dicts with tags, as InfluxV1.rows does."""
    out = []
    for s in series:
        for v in s["values"]:
            row = dict(zip(s["columns"], v))
            row.update(s.get("tags") or {})
            out.append(row)
    return out


def tag_values(series: list[dict[str, Any]], tag: str) -> set[str]:
    """The values of one tag across the series."""
    return {(s.get("tags") or {}).get(tag) for s in series}


def column(series: list[dict[str, Any]], name: str) -> list[Any]:
    """Every non-null value of one column across the series."""
    return [r[name] for r in rows(series) if r.get(name) is not None]
