"""The on-disk spool: SQLite in WAL mode between the broker's PUBACK and InfluxDB's confirmation.

Each row holds the accepted readings of many messages (up to 1,000 lines) as line protocol, in
arrival order. The intake adds rows in group commits (many messages per transaction, one fsync) and
only then acknowledges the messages to the broker; the flusher reads the oldest rows, writes them to
InfluxDB and deletes them only after InfluxDB confirmed. Dedup keys (`dedup.SeenRuns`), the
dead-letter table and every counter live in the same file and change in the same transactions, so a
kill -9 at any instant leaves them consistent with the spool.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .dedup import SeenRuns

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_s REAL NOT NULL,
    n_lines INTEGER NOT NULL,
    n_bytes INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_s REAL NOT NULL,
    topic TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload_bytes INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""


class SpoolRow(NamedTuple):
    """Spooled messages' readings as line protocol (one line each); received_s is the first message's."""

    id: int
    received_s: float
    n_lines: int
    n_bytes: int
    body: str


@dataclass(frozen=True)
class DeadLetter:
    """A message that was not stored, with why and (the start of) its raw bytes."""

    id: int
    received_s: float
    topic: str
    code: str
    reason: str
    payload_bytes: int
    payload: bytes


class Spool:
    """One connection to the spool file. Each thread opens its own; SQLite serialises the writers."""

    def __init__(self, path: str | Path, *, synchronous: str = "full", cache_kb: int = 2000):
        """`cache_kb`: SQLite's page cache for this connection (its default is 2 MB)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per group commit.
        self.db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed (and therefore acknowledged) message survives a power cut, not only kill -9.
        self.db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.execute(f"PRAGMA cache_size=-{int(cache_kb)}")
        self.db.executescript(_SCHEMA)
        self.seen = SeenRuns(self.db)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- transactions -------------------------------------------------------------------------
    def begin(self) -> None:
        """Start a write transaction now (BEGIN IMMEDIATE), so it cannot fail half-way on a lock."""
        self.db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit: after this returns, everything in the transaction is on disk."""
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        """Abandon the open transaction (and what the dedup keys held in memory for it)."""
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        self.seen.forget()

    # -- intake side --------------------------------------------------------------------------
    def append(self, rows: list[tuple[float, int, int, str]]) -> None:
        """Add messages as rows of (received_s, n_lines, n_bytes, body), counted, in the open transaction."""
        self.db.executemany("INSERT INTO spool(received_s, n_lines, n_bytes, body) VALUES (?, ?, ?, ?)", rows)
        self.bump({"spool_rows": len(rows), "spool_lines": sum(r[1] for r in rows),
                   "spool_bytes": sum(r[2] for r in rows)})

    def drop_oldest(self, need_bytes: int) -> tuple[int, int]:
        """Delete the oldest rows until `need_bytes` are freed; return (lines, bytes) deleted."""
        freed_lines = freed_bytes = 0
        rows = 0
        while freed_bytes < need_bytes:
            row = self.db.execute("SELECT id, n_lines, n_bytes FROM spool ORDER BY id LIMIT 1").fetchone()
            if row is None:
                break
            self.db.execute("DELETE FROM spool WHERE id = ?", (row[0],))
            rows += 1
            freed_lines += row[1]
            freed_bytes += row[2]
        self.bump({"spool_rows": -rows, "spool_lines": -freed_lines, "spool_bytes": -freed_bytes})
        return freed_lines, freed_bytes

    def dead_letter(self, received_s: float, topic: str, code: str, reason: str, payload: bytes,
                    max_payload_bytes: int, max_rows: int) -> None:
        """Keep a refused message (its first `max_payload_bytes`) and trim the table to `max_rows`."""
        cur = self.db.execute(
            "INSERT INTO dead_letter(received_s, topic, code, reason, payload_bytes, payload) VALUES (?, ?, ?, ?, ?, ?)",
            (received_s, topic[:512], code, reason[:2000], len(payload), bytes(payload[:max_payload_bytes])),
        )
        # ids only grow and rows leave only from the head, so this keeps exactly the newest max_rows.
        self.db.execute("DELETE FROM dead_letter WHERE id <= ?", (int(cur.lastrowid or 0) - max_rows,))

    def bump(self, deltas: Mapping[str, int]) -> None:
        """Add to persistent counters, inside the caller's transaction."""
        self.db.executemany(
            "INSERT INTO counters(name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = n + excluded.n",
            [(k, v) for k, v in deltas.items() if v],
        )

    # -- flusher side -------------------------------------------------------------------------
    def oldest(self, max_lines: int, after_id: int = 0) -> tuple[list[SpoolRow], bool]:
        """The oldest rows (after row `after_id`) holding up to `max_lines` lines (at least one row if
        any), and whether that is a full batch: `max_lines` reached, or the next row would not fit."""
        out: list[SpoolRow] = []
        total = 0
        full = False
        cur = self.db.execute("SELECT id, received_s, n_lines, n_bytes, body FROM spool WHERE id > ? ORDER BY id",
                              (after_id,))
        make = SpoolRow._make
        try:
            for row in cur:
                if out and total + row[2] > max_lines:
                    full = True
                    break
                out.append(make(row))
                total += row[2]
        finally:
            cur.close()
        return out, full or total >= max_lines

    def delete_written(self, rows: Iterable[SpoolRow], extra: Mapping[str, int] | None = None) -> None:
        """Delete rows InfluxDB confirmed and count them as written, in one transaction.

        `rows` are consecutive spool rows, as `oldest()` gives them: no other row lies between the
        first and the last (ids only grow, and rows leave only by deletion), so they go by id range.
        """
        rows = list(rows)
        if not rows:
            return
        span = (rows[0].id, rows[-1].id)
        self.begin()
        try:
            # drop_oldest may have removed some meanwhile: count only the rows still there.
            n_rows, lines, n_bytes = self.db.execute(
                "SELECT count(*), coalesce(sum(n_lines), 0), coalesce(sum(n_bytes), 0) FROM spool WHERE id BETWEEN ? AND ?",
                span).fetchone()
            self.db.execute("DELETE FROM spool WHERE id BETWEEN ? AND ?", span)
            deltas = {"spool_rows": -n_rows, "spool_lines": -lines, "spool_bytes": -n_bytes, "written": lines}
            for k, v in (extra or {}).items():
                deltas[k] = deltas.get(k, 0) + v
            self.bump(deltas)
            self.commit()
        except BaseException:
            self.rollback()
            raise

    # -- read side ----------------------------------------------------------------------------
    def counters(self) -> dict[str, int]:
        """All persistent counters."""
        return dict(self.db.execute("SELECT name, n FROM counters").fetchall())

    def oldest_received_s(self) -> float | None:
        """When the oldest spooled message arrived (Unix s), or None when the spool is empty."""
        row = self.db.execute("SELECT received_s FROM spool ORDER BY id LIMIT 1").fetchone()
        return None if row is None else float(row[0])

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters, newest first."""
        rows = self.db.execute(
            "SELECT id, received_s, topic, code, reason, payload_bytes, payload FROM dead_letter ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [DeadLetter(*r) for r in rows]


def hour_of(t_unix_s: float) -> int:
    """Hours since the epoch: the granularity of the dedup window."""
    return int(t_unix_s // 3600)
