"""Reading history from InfluxDB as numpy arrays: async InfluxQL over /query, aggregation pushed down.

Works against every InfluxDB the project supports through the one API they share: InfluxQL on
`/query` (1.8 natively, 2.x through a DBRP mapping, 3.x natively; no Flux, which 3.x lacks).
Time ranges are explicit (`start_ms`..`end_ms`, UTC milliseconds) so callers, tests and the alert
schedule decide what "now" is. Results: times as int64 ms UTC, values as float64 with NaN for nulls
(booleans become 1.0/0.0), one Series per tag combination asked for in `group_by`.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import httpx
import numpy as np

from yukimizu.influx import InfluxError, quote_ident, quote_literal

# Measurements written by the gateway: one per device kind (yukimizu.contract.fields.Kind), plus its own health.
MEASUREMENTS = ("soil", "water", "weather", "plow", "gateway")
TAGS = ("site", "device_id", "field_id", "vehicle_id", "route")
_DURATION_RE = re.compile(r"^\d+(ms|s|m|h|d|w)$")


class Agg(str, Enum):
    """Aggregations InfluxQL computes server-side for GROUP BY time()."""

    MEAN = "mean"
    LAST = "last"
    FIRST = "first"
    MAX = "max"
    MIN = "min"
    SUM = "sum"
    COUNT = "count"


@dataclass
class Series:
    """One time series: `times_ms` int64 UTC ms, `values[field]` float64 (NaN where null), and its tags."""

    tags: dict[str, str]
    times_ms: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.times_ms.shape[0])


def _num(v: Any) -> float:
    if v is None:
        return math.nan
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    return math.nan  # strings (e.g. a gateway's version) are not numbers


# Line protocol cannot store these in a tag value and InfluxQL cannot quote them in a string literal
# (found by schemathesis: `?site=a%0Db` made InfluxDB refuse the whole query).
_UNQUOTABLE = ("\n", "\r", "\x00")


def _tag_equals(key: str, value: str) -> str:
    """`"key" = 'value'`, or false for a value no stored tag can have."""
    if any(c in value for c in _UNQUOTABLE):
        return "false"
    return f"{quote_ident(key)} = {quote_literal(value)}"


def where_clause(start_ms: int | None, end_ms: int | None, tags: Mapping[str, str | Sequence[str] | None]) -> str:
    """WHERE for a half-open time range [start_ms, end_ms) and tag equality (a list means any of)."""
    parts = []
    if start_ms is not None:
        parts.append(f"time >= {int(start_ms)}ms")
    if end_ms is not None:
        parts.append(f"time < {int(end_ms)}ms")
    for k, v in tags.items():
        if v is None:
            continue
        if isinstance(v, str):
            parts.append(_tag_equals(k, v))
        else:
            vs = list(v)
            if not vs:
                parts.append("false")  # an empty 'any of' matches nothing
                continue
            parts.append("(" + " OR ".join(_tag_equals(k, x) for x in vs) + ")")
    return (" WHERE " + " AND ".join(parts)) if parts else ""


def source(measurement: str, database: str, retention_policy: str = "") -> str:
    """FROM target: "db"."rp"."measurement" when a retention policy is named, else the measurement."""
    if retention_policy:
        return f"{quote_ident(database)}.{quote_ident(retention_policy)}.{quote_ident(measurement)}"
    return quote_ident(measurement)


def series_from_json(doc_series: Iterable[Mapping[str, Any]], fields: Sequence[str] | None = None) -> list[Series]:
    """Convert InfluxDB /query JSON series (epoch=ms) into Series with numpy arrays."""
    out = []
    for s in doc_series:
        cols = list(s["columns"])
        rows = s.get("values") or []
        ti = cols.index("time")
        times = np.fromiter((int(r[ti]) for r in rows), dtype=np.int64, count=len(rows))
        wanted = [c for c in cols if c != "time"] if fields is None else list(fields)
        values = {}
        for name in wanted:
            if name not in cols:
                values[name] = np.full(len(rows), np.nan)
                continue
            ci = cols.index(name)
            values[name] = np.fromiter((_num(r[ci]) for r in rows), dtype=np.float64, count=len(rows))
        tags = {k: v for k, v in (s.get("tags") or {}).items() if v != ""}
        out.append(Series(tags=tags, times_ms=times, values=values))
    return out


class History:
    """Async reader for one database (and optional retention policy for raw readings)."""

    def __init__(self, url: str, database: str, *, username: str = "", password: str = "", token: str = "",
                 raw_retention_policy: str = "", aggregate_retention_policy: str = "", aggregate_database: str = "",
                 timeout_s: float = 30.0, client: httpx.AsyncClient | None = None):
        self.url = url.rstrip("/")
        self.database = database
        self.agg_database = aggregate_database or database
        self.raw_rp = raw_retention_policy
        self.agg_rp = aggregate_retention_policy
        auth = httpx.BasicAuth(username, password) if username else None
        headers = {"Authorization": f"Token {token}"} if token else None
        self.http = client or httpx.AsyncClient(timeout=timeout_s, auth=auth, headers=headers)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def ping(self) -> tuple[bool, str]:
        """(ok, detail): InfluxDB answers /ping and knows the database."""
        try:
            r = await self.http.get(f"{self.url}/ping")
            if r.status_code not in (200, 204):
                return False, f"/ping answered {r.status_code}"
            version = r.headers.get("X-Influxdb-Version", "?")
            await self.query("SHOW MEASUREMENTS LIMIT 1")
            return True, f"InfluxDB {version}, database {self.database!r}"
        except (httpx.HTTPError, InfluxError) as e:
            return False, f"InfluxDB at {self.url}: {e}"

    async def query_all(self, q: str, database: str | None = None) -> list[list[dict[str, Any]]]:
        """Run InfluxQL (one or more statements separated by ';'); series per statement."""
        try:
            r = await self.http.get(f"{self.url}/query",
                                    params={"q": q, "db": database or self.database, "epoch": "ms"})
        except httpx.HTTPError as e:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {e}") from e
        if r.status_code != 200:
            raise InfluxError(f"InfluxDB query refused ({r.status_code}): {r.text.strip()[:500]}", r.status_code)
        out = []
        for res in r.json().get("results") or []:
            if "error" in res:
                # A measurement that does not exist yet is not an error, it is empty.
                raise InfluxError(f"InfluxQL error: {res['error']} in {q[:300]!r}", 400)
            out.append(list(res.get("series") or []))
        return out

    async def query(self, q: str, database: str | None = None) -> list[dict[str, Any]]:
        """Run one InfluxQL statement; its series."""
        res = await self.query_all(q, database)
        return res[0] if res else []

    @staticmethod
    def is_aggregate(measurement: str) -> bool:
        """True for the downsampled measurements (soil_1h, water_1d, ...)."""
        return measurement.endswith(("_1h", "_1d"))

    def database_for(self, measurement: str) -> str:
        """The database holding a measurement (aggregates may live in their own)."""
        return self.agg_database if self.is_aggregate(measurement) else self.database

    def _from(self, measurement: str) -> str:
        if self.is_aggregate(measurement):
            return source(measurement, self.agg_database, self.agg_rp)
        return source(measurement, self.database, self.raw_rp)

    async def raw(self, measurement: str, fields: Sequence[str], *, start_ms: int, end_ms: int,
                  tags: Mapping[str, str | Sequence[str] | None] | None = None,
                  group_by: Sequence[str] = ("device_id",), limit: int | None = None,
                  newest_first: bool = False) -> list[Series]:
        """Raw points of `fields` in [start_ms, end_ms), one Series per `group_by` tag combination."""
        sel = ", ".join(quote_ident(f) for f in fields)
        q = f"SELECT {sel} FROM {self._from(measurement)}{where_clause(start_ms, end_ms, tags or {})}"
        if group_by:
            q += " GROUP BY " + ", ".join(quote_ident(t) for t in group_by)
        if newest_first:
            q += " ORDER BY time DESC"
        if limit:
            q += f" LIMIT {int(limit)}"
        series = series_from_json(await self.query(q, self.database_for(measurement)), fields)
        if newest_first:
            for s in series:  # always hand back ascending time
                order = np.argsort(s.times_ms, kind="stable")
                s.times_ms = s.times_ms[order]
                s.values = {k: v[order] for k, v in s.values.items()}
        return series

    async def aggregate(self, measurement: str, fields: Sequence[str] | Mapping[str, Agg | str], *, start_ms: int,
                        end_ms: int, every: str, tags: Mapping[str, str | Sequence[str] | None] | None = None,
                        group_by: Sequence[str] = ("device_id",), agg: Agg | str = Agg.MEAN,
                        fill_none: bool = True) -> list[Series]:
        """Aggregates per `every` bucket (e.g. '1h'), computed by InfluxDB (GROUP BY time()).

        `fields` is a list (all with `agg`) or a mapping field -> aggregation. Empty buckets are left
        out (fill(none)) or kept as NaN (fill_none=False).
        """
        if not _DURATION_RE.match(every):
            raise ValueError(f"every {every!r} is not an InfluxQL duration like 10m, 1h, 1d")
        spec = dict(fields) if isinstance(fields, Mapping) else {f: agg for f in fields}
        sel = ", ".join(f"{Agg(a).value}({quote_ident(f)}) AS {quote_ident(f)}" for f, a in spec.items())
        q = (f"SELECT {sel} FROM {self._from(measurement)}{where_clause(start_ms, end_ms, tags or {})}"
             f" GROUP BY time({every})" + "".join(f", {quote_ident(t)}" for t in group_by)
             + (" fill(none)" if fill_none else " fill(null)"))
        return series_from_json(await self.query(q, self.database_for(measurement)), list(spec))

    async def buckets(self, measurement: str, fields: Mapping[str, Agg | str], *, start_ms: int, end_ms: int,
                      interval: str, tags: Mapping[str, str | Sequence[str] | None] | None = None,
                      group_by: Sequence[str] = ("device_id",)) -> list[Series]:
        """Hourly (UTC) or daily (JST) buckets, read from the downsampled `<m>_1h`/`<m>_1d` where they exist.

        For long ranges: the aggregates written by backend.downsample are read first, and only the
        time after the newest aggregate bucket (not yet downsampled) is aggregated from raw readings,
        with the same bucket boundaries, so the result is the same as aggregating raw throughout.
        Aggregations: mean, min, max, last, sum (rain_mm only), count (readings).
        """
        from .downsample import INTERVALS, SUM_FIELDS  # the job defines bucket boundaries and stored fields

        iv = {i.name: i for i in INTERVALS}.get(interval)
        if iv is None:
            raise ValueError(f"interval {interval!r} is not one of {', '.join(i.name for i in INTERVALS)}")
        spec = {f: Agg(a) for f, a in fields.items()}
        start_ms, end_ms = iv.floor(start_ms), iv.floor(end_ms - 1) + iv.ms

        def stored(f: str, a: Agg) -> str | None:
            if a == Agg.COUNT:
                return "n"
            if a in (Agg.MEAN, Agg.MIN, Agg.MAX, Agg.LAST) or (a == Agg.SUM and f in SUM_FIELDS):
                return f"{f}_{a.value}"
            return None

        names = {f: stored(f, a) for f, a in spec.items()}
        merged: dict[tuple[str, ...], Series] = {}
        tail_ms = start_ms
        if all(names.values()):
            sel = ", ".join(f"{quote_ident(n)} AS {quote_ident(f)}" for f, n in names.items())  # type: ignore[arg-type]
            agg_m = f"{measurement}_{iv.name}"
            q = (f"SELECT {sel} FROM {self._from(agg_m)}{where_clause(start_ms, end_ms, tags or {})}"
                 + (" GROUP BY " + ", ".join(quote_ident(t) for t in group_by) if group_by else ""))
            for s in series_from_json(await self.query(q, self.database_for(agg_m)), list(spec)):
                merged[tuple(s.tags.get(t, "") for t in group_by)] = s
                if len(s):
                    tail_ms = max(tail_ms, int(s.times_ms[-1]) + iv.ms)
        if tail_ms < end_ms:
            sel = ", ".join(f"{a.value}({quote_ident(f)}) AS {quote_ident(f)}" for f, a in spec.items())
            q = (f"SELECT {sel} FROM {self._from(measurement)}{where_clause(tail_ms, end_ms, tags or {})}"
                 f" GROUP BY {iv.group_by()}" + "".join(f", {quote_ident(t)}" for t in group_by) + " fill(none)")
            for s in series_from_json(await self.query(q), list(spec)):
                key = tuple(s.tags.get(t, "") for t in group_by)
                if key not in merged:
                    merged[key] = s
                    continue
                m = merged[key]
                m.times_ms = np.concatenate([m.times_ms, s.times_ms])
                m.values = {f: np.concatenate([m.values[f], s.values[f]]) for f in spec}
        return [merged[k] for k in sorted(merged)]

    async def latest(self, measurement: str, fields: Sequence[str], *, start_ms: int, end_ms: int,
                     tags: Mapping[str, str | Sequence[str] | None] | None = None,
                     group_by: Sequence[str] = ("device_id",)) -> dict[tuple[str, ...], tuple[int, dict[str, float]]]:
        """Newest point per group in the range: {tag values: (t_ms, {field: value})}, one query per field set.

        Uses raw ORDER BY time DESC LIMIT 1 so the timestamp is the reading's own (last() with
        several fields would take each field's newest separately).
        """
        series = await self.raw(measurement, fields, start_ms=start_ms, end_ms=end_ms, tags=tags, group_by=group_by,
                                limit=1, newest_first=True)
        out = {}
        for s in series:
            if len(s):
                out[tuple(s.tags.get(t, "") for t in group_by)] = (
                    int(s.times_ms[-1]), {k: float(v[-1]) for k, v in s.values.items()})
        return out

    async def write(self, lines: Sequence[str], *, retention_policy: str = "", database: str | None = None) -> None:
        """Write line protocol (ms precision) to the database (and retention policy)."""
        if not lines:
            return
        params = {"db": database or self.database, "precision": "ms"}
        if retention_policy:
            params["rp"] = retention_policy
        try:
            r = await self.http.post(f"{self.url}/write", params=params, content="\n".join(lines).encode())
        except httpx.HTTPError as e:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {e}") from e
        if r.status_code != 204:
            raise InfluxError(f"InfluxDB write refused ({r.status_code}): {r.text.strip()[:500]}", r.status_code)
