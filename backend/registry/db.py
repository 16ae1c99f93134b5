"""The backend's SQLite database: one connection, numbered SQL migrations applied at open.

Migrations are `migrations/NNNN_name.sql`, applied in order, each in its own transaction, and
recorded in `schema_version`; a database newer than this code is refused rather than guessed at.
"""
from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).with_name("migrations")
_NAME_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class DatabaseError(RuntimeError):
    """The database file cannot be opened or migrated; the message says which file and step."""


def utc_now_iso() -> str:
    """Now as UTC ISO 8601 with 'Z', seconds precision (what every stored time uses)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every migration shipped with the code, in order."""
    out = []
    for p in sorted(MIGRATIONS.glob("*.sql")):
        m = _NAME_RE.match(p.name)
        if not m:
            raise DatabaseError(f"migration file {p} is not named NNNN_name.sql")
        out.append((int(m.group(1)), p.name, p.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in out]
    if versions != list(range(1, len(versions) + 1)):
        raise DatabaseError(f"migrations in {MIGRATIONS} are not numbered 1..N without gaps: {versions}")
    return out


class Database:
    """A thread-safe SQLite connection (FastAPI runs sync endpoints in worker threads)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10.0)
        except sqlite3.Error as e:
            raise DatabaseError(f"cannot open registry database {self.path}: {e}") from e
        self.conn.row_factory = sqlite3.Row
        self.lock = threading.RLock()
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.migrate()

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()

    def schema_version(self) -> int:
        """The highest migration applied (0 for a new file)."""
        row = self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        return int(row[0])

    def migrate(self) -> int:
        """Apply every migration not yet applied; return the resulting schema version."""
        with self.lock:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TEXT NOT NULL)"
            )
            current = self.schema_version()
            known = migrations()
            if current > len(known):
                raise DatabaseError(
                    f"registry database {self.path} is at schema version {current}, newer than this code "
                    f"({len(known)}); upgrade yukimizu instead of opening it with an older version"
                )
            for version, name, sql in known[current:]:
                # executescript commits first, so the migration runs as one explicit transaction.
                try:
                    self.conn.executescript(
                        "BEGIN;\n" + sql + "\nINSERT INTO schema_version (version, name, applied_at) VALUES "
                        f"({version}, '{name}', '{utc_now_iso()}');\nCOMMIT;"
                    )
                except sqlite3.Error as e:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise DatabaseError(f"migration {name} failed on {self.path}: {e}") from e
            return self.schema_version()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT, rolled back on any exception."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run a SELECT and return all rows."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run one statement outside an explicit transaction (autocommit)."""
        with self.lock:
            return self.conn.execute(sql, params)

    def ok(self) -> bool:
        """True when the database answers a query (for /healthz)."""
        try:
            self.query("SELECT 1")
            return True
        except sqlite3.Error:
            return False
