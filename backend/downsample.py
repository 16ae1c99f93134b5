"""Downsampling: hourly and daily aggregates of the raw readings, written back as `<measurement>_1h` / `_1d`.

The job is plain InfluxQL query + line-protocol write, so it runs the same on InfluxDB 1.x, 2.x and
3.x (3.x has no continuous queries or tasks). Per numeric field it keeps `<field>_mean`, `_min`,
`_max`, `_last` (and `rain_mm_sum`), plus `n`, the number of readings; boolean fields keep `_last`.
Every aggregate field is written as a float, whatever the raw type, so its type never changes.
Tags are kept as they are (site, device_id, field_id, vehicle_id, route).

Hourly buckets are UTC hours; daily buckets are JST days (00:00-24:00 +09:00), the day a farmer and
a road division mean. Idempotent: a point is identified by measurement + tags + time, so writing a
bucket again replaces it. Resumable: after each chunk the end of the last complete bucket is saved
per (measurement, interval); a crash repeats at most one chunk. A bucket is only aggregated once it
is `settle_s` old, so readings that devices batch and send late are in it.

Raw retention (default 580 days: the longest season, paddy April-October, plus a year):
  InfluxDB 1.x:  CREATE RETENTION POLICY "raw" ON "yukimizu" DURATION 580d REPLICATION 1 DEFAULT
                 CREATE RETENTION POLICY "forever" ON "yukimizu" DURATION INF REPLICATION 1
                 and set [influxdb] raw_retention_policy = "raw", aggregate_retention_policy = "forever"
                 (`yukimizu downsample --print-retention` prints these for the configured names).
  InfluxDB 2.x:  `influx bucket update --id <raw bucket> --retention 580d`; a second bucket with
                 infinite retention mapped with `influx v1 dbrp create --db yukimizu --rp forever --bucket-id <id>`.
  InfluxDB 3.x:  retention is per database: raw in one with `--retention-period 580d`, aggregates in
                 another named by [influxdb] aggregate_database.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from yukimizu.contract.lineproto import line
from yukimizu.influx import quote_ident
from yukimizu.jst import JST_OFFSET_MS

from .history import History, where_clause
from .registry.db import Database, utc_now_iso
from .settings import BackendSettings

log = logging.getLogger("yukimizu.downsample")

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True)
class Interval:
    """A bucket size: name (suffix), length, offset of bucket starts from the epoch, buckets per query."""

    name: str
    ms: int
    offset_ms: int
    chunk_buckets: int

    def floor(self, t_ms: int) -> int:
        """Start of the bucket holding t_ms."""
        return (t_ms - self.offset_ms) // self.ms * self.ms + self.offset_ms

    def group_by(self) -> str:
        """InfluxQL GROUP BY time() clause; JST days start at 15:00 UTC, i.e. offset -9h."""
        if self.offset_ms:
            return f"time({self.ms // 1000}s, {self.offset_ms // 1000}s)"
        return f"time({self.ms // 1000}s)"


# JST midnight is 15:00 UTC: bucket starts sit at 15:00 UTC, i.e. offset -9 h (== +15 h) from the epoch.
# One query covers a day of raw readings either way: 100 plows at 1 Hz is 8.6 M points a day, which
# InfluxDB aggregates in one pass and answers with a few thousand rows.
INTERVALS = (Interval("1h", HOUR_MS, 0, 24), Interval("1d", DAY_MS, DAY_MS - JST_OFFSET_MS, 1))
SUM_FIELDS = frozenset({"rain_mm"})  # accumulated quantities: the bucket's total is what people read


@dataclass
class RunReport:
    """What one run did per measurement and interval."""

    buckets_written: dict[str, int] = field(default_factory=dict)
    points_written: int = 0
    checkpoints: dict[str, int] = field(default_factory=dict)


def _parse_iso_ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp() * 1000)


class Downsampler:
    """The downsampling job over one History and the checkpoint table in the backend database."""

    def __init__(self, settings: BackendSettings, history: History, db: Database):
        self.settings = settings
        self.history = history
        self.db = db

    def checkpoint(self, measurement: str, interval: str) -> int | None:
        """End (ms, exclusive) of the last bucket written, or None."""
        rows = self.db.query("SELECT done_until_ms FROM downsample_checkpoints WHERE measurement = ? AND interval = ?",
                             (measurement, interval))
        return int(rows[0][0]) if rows else None

    def _save(self, measurement: str, interval: str, done_until_ms: int) -> None:
        self.db.execute(
            "INSERT INTO downsample_checkpoints (measurement, interval, done_until_ms, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(measurement, interval) DO UPDATE SET done_until_ms = excluded.done_until_ms, "
            "updated_at = excluded.updated_at", (measurement, interval, done_until_ms, utc_now_iso()))

    async def field_types(self, measurement: str) -> dict[str, str]:
        """{field: float|integer|boolean|string} of a raw measurement (empty when it does not exist)."""
        series = await self.history.query(f"SHOW FIELD KEYS FROM {quote_ident(measurement)}")
        out: dict[str, str] = {}
        for s in series:
            for key, ftype in s.get("values") or []:
                out[key] = ftype
        return out

    @staticmethod
    def select_list(types: dict[str, str]) -> list[tuple[str, str, str]]:
        """(function, raw field, aggregate field name) for every aggregate to compute."""
        out: list[tuple[str, str, str]] = []
        if "seq" in types:
            out.append(("count", "seq", "n"))
        for f, t in sorted(types.items()):
            if f == "seq" or t == "string":
                continue
            if t == "boolean":
                out.append(("last", f, f"{f}_last"))
                continue
            out += [("mean", f, f"{f}_mean"), ("min", f, f"{f}_min"), ("max", f, f"{f}_max"), ("last", f, f"{f}_last")]
            if f in SUM_FIELDS:
                out.append(("sum", f, f"{f}_sum"))
        return out

    async def _first_ms(self, measurement: str, field_name: str, start_ms: int, end_ms: int) -> int | None:
        q = (f"SELECT first({quote_ident(field_name)}) FROM {self.history._from(measurement)}"
             f"{where_clause(start_ms, end_ms, {})}")
        series = await self.history.query(q)
        for s in series:
            for row in s.get("values") or []:
                return int(row[0])
        return None

    async def run(self, now_ms: int | None = None, *, max_chunks: int | None = None) -> RunReport:
        """Aggregate every configured measurement up to now - settle.

        `max_chunks` bounds the queries per measurement and interval in this run, so a long backlog is
        caught up over several runs without starving the other measurements.
        """
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        cfg = self.settings.downsample
        report = RunReport()
        for measurement in cfg.measurements:
            types = await self.field_types(measurement)
            selects = self.select_list(types)
            if not selects:
                continue
            probe = selects[0][1]
            for iv in INTERVALS:
                key = f"{measurement}_{iv.name}"
                limit_ms = iv.floor(now_ms - int(cfg.settle_s * 1000))
                cp = self.checkpoint(measurement, iv.name)
                start = iv.floor(_parse_iso_ms(cfg.start)) if cp is None else cp
                report.buckets_written.setdefault(key, 0)
                chunks_left = max_chunks
                while start < limit_ms:
                    if chunks_left is not None and chunks_left <= 0:
                        break
                    # Skip empty stretches in one query instead of walking them chunk by chunk.
                    first = await self._first_ms(measurement, probe, start, limit_ms)
                    if first is None:
                        start = limit_ms
                        self._save(measurement, iv.name, start)
                        break
                    start = max(start, iv.floor(first))
                    end = min(limit_ms, start + iv.chunk_buckets * iv.ms)
                    n_buckets, n_points = await self._chunk(measurement, iv, selects, start, end)
                    self._save(measurement, iv.name, end)
                    report.buckets_written[key] += n_buckets
                    report.points_written += n_points
                    start = end
                    if chunks_left is not None:
                        chunks_left -= 1
                report.checkpoints[key] = self.checkpoint(measurement, iv.name) or start
        return report

    async def _chunk(self, measurement: str, iv: Interval, selects: list[tuple[str, str, str]],
                     start_ms: int, end_ms: int) -> tuple[int, int]:
        sel = ", ".join(f"{fn}({quote_ident(f)}) AS {quote_ident(name)}" for fn, f, name in selects)
        q = (f"SELECT {sel} FROM {self.history._from(measurement)}{where_clause(start_ms, end_ms, {})}"
             f" GROUP BY {iv.group_by()}, * fill(none)")
        series = await self.history.query(q)
        lines: list[str] = []
        buckets: set[int] = set()
        target = f"{measurement}_{iv.name}"
        for s in series:
            cols = s["columns"]
            tags = {k: v for k, v in (s.get("tags") or {}).items() if v}
            for row in s.get("values") or []:
                fields: dict[str, Any] = {}
                for c, v in zip(cols[1:], row[1:]):
                    if v is None or isinstance(v, str):
                        continue
                    fields[c] = float(v)  # frozen type: every aggregate field is a float
                if fields:
                    buckets.add(int(row[0]))
                    lines.append(line(target, tags, fields, int(row[0])))
        for i in range(0, len(lines), 5000):
            await self.history.write(lines[i:i + 5000], retention_policy=self.history.agg_rp,
                                     database=self.history.agg_database)
        return len(buckets), len(lines)

    async def run_forever(self, stop: Any) -> None:
        """Run every downsample.interval_s until `stop` (an asyncio.Event) is set."""
        import asyncio

        while not stop.is_set():
            try:
                report = await self.run(max_chunks=100)
                if report.points_written:
                    log.info("downsampled %d points: %s", report.points_written, report.buckets_written)
            except Exception:
                log.exception("downsampling failed; it resumes from its checkpoint next time")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.downsample.interval_s)
            except asyncio.TimeoutError:
                pass


def retention_statements(settings: BackendSettings, raw_rp: str = "raw", aggregate_rp: str = "forever") -> list[str]:
    """InfluxQL (1.x) that creates the raw and aggregate retention policies for the configured database."""
    db = quote_ident(settings.influxdb.database)
    days = settings.downsample.raw_retention_days
    return [
        f"CREATE RETENTION POLICY {quote_ident(raw_rp)} ON {db} DURATION {days}d REPLICATION 1 DEFAULT",
        f"CREATE RETENTION POLICY {quote_ident(aggregate_rp)} ON {db} DURATION INF REPLICATION 1",
    ]
