"""Which (device_id, seq) pairs are already in the spool or in InfluxDB: kept as runs of seqs.

A device numbers its readings 0, 1, 2, ... and the numbers survive a power cut, so what a gateway
has stored from one device is a few runs of consecutive seqs, not millions of keys. Each run is one
row, (device_id, lo, hi, received_h), written in the same transaction as the readings it covers;
a message that continues its device's run of this hour updates that row instead of adding ten.
The hour lets the dedup window forget old keys at the granularity it always had.

The intake thread is the only writer. It keeps each device's runs merged in memory (loaded on the
device's first message) and must call `forget()` when a transaction it took part in rolls back.
"""
from __future__ import annotations

import sqlite3
from bisect import bisect_right

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_run(
    device_id TEXT NOT NULL,
    lo INTEGER NOT NULL,
    hi INTEGER NOT NULL,
    received_h INTEGER NOT NULL,
    PRIMARY KEY (device_id, lo)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_run_by_hour ON seen_run(received_h);
"""

_UPSERT = ("INSERT INTO seen_run(device_id, lo, hi, received_h) VALUES (?, ?, ?, ?) "
           "ON CONFLICT(device_id, lo) DO UPDATE SET hi = excluded.hi, received_h = excluded.received_h")


def _runs(seqs: list[int]) -> list[tuple[int, int]]:
    """Sorted distinct seqs as (lo, hi) runs of consecutive numbers."""
    out: list[tuple[int, int]] = []
    lo = hi = seqs[0]
    for s in seqs[1:]:
        if s != hi + 1:
            out.append((lo, hi))
            lo = s
        hi = s
    out.append((lo, hi))
    return out


class SeenRuns:
    """Dedup keys for the intake: `fresh()` says which seqs are new, `add()` records them."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        db.executescript(SCHEMA)
        self._migrate_per_seq_table()
        self._merged: dict[str, list[list[int]]] = {}  # device -> sorted disjoint [lo, hi], all hours
        self._tail: dict[str, tuple[int, int, int]] = {}  # device -> (lo, hi, hour) of its row written last
        self._dirty: dict[tuple[str, int], tuple[int, int]] = {}  # (device, lo) -> (hi, hour) to upsert

    def _migrate_per_seq_table(self) -> None:
        """Spools written before runs kept one row per seq in `seen`: fold them into runs, once."""
        if not self._has_per_seq_table():
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if not self._has_per_seq_table():  # another connection to the file migrated it meanwhile
                self.db.execute("ROLLBACK")
                return
            rows: list[tuple[str, int, int, int]] = []
            cur_dev, lo, hi, h = None, 0, 0, 0
            for dev, seq, rh in self.db.execute("SELECT device_id, seq, received_h FROM seen ORDER BY device_id, seq"):
                if dev == cur_dev and seq == hi + 1 and rh == h:
                    hi = seq
                    continue
                if cur_dev is not None:
                    rows.append((cur_dev, lo, hi, h))
                cur_dev, lo, hi, h = dev, seq, seq, rh
            if cur_dev is not None:
                rows.append((cur_dev, lo, hi, h))
            self.db.executemany(_UPSERT, rows)
            self.db.execute("DROP TABLE seen")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _has_per_seq_table(self) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seen'").fetchone() is not None

    def _load(self, device_id: str) -> list[list[int]]:
        merged: list[list[int]] = []
        tail = None
        for lo, hi, h in self.db.execute("SELECT lo, hi, received_h FROM seen_run WHERE device_id = ? ORDER BY lo",
                                         (device_id,)):
            if merged and lo == merged[-1][1] + 1:
                merged[-1][1] = hi
            else:
                merged.append([lo, hi])
            tail = (lo, hi, h)
        self._merged[device_id] = merged
        if tail is not None:
            self._tail[device_id] = tail
        return merged

    def fresh(self, device_id: str, seqs: list[int]) -> list[bool]:
        """For each seq, True when it was never stored (nor earlier in `seqs`): the readings to keep."""
        merged = self._merged.get(device_id)
        if merged is None:
            merged = self._load(device_id)
        last = merged[-1][1] if merged else -1
        # The common case: seqs rising past everything stored, one message after another.
        if seqs[0] > last and all(a < b for a, b in zip(seqs, seqs[1:])):
            return [True] * len(seqs)
        out = []
        seen_here: set[int] = set()
        for s in seqs:
            i = bisect_right(merged, s, key=lambda run: run[0]) - 1
            old = (i >= 0 and s <= merged[i][1]) or s in seen_here
            seen_here.add(s)
            out.append(not old)
        return out

    def add(self, device_id: str, seqs: list[int], received_h: int) -> None:
        """Record new seqs (all of them `fresh`) as stored, in the open transaction."""
        merged = self._merged[device_id]
        for lo, hi in _runs(sorted(seqs)):
            tail = self._tail.get(device_id)
            if tail is not None and tail[1] + 1 == lo and tail[2] == received_h:
                lo = tail[0]  # this hour's row of this device grows instead of a new row
            self._tail[device_id] = (lo, hi, received_h)
            self._dirty[(device_id, lo)] = (hi, received_h)
            self._merge(merged, lo, hi)

    @staticmethod
    def _merge(merged: list[list[int]], lo: int, hi: int) -> None:
        i = bisect_right(merged, lo, key=lambda run: run[0])
        merged.insert(i, [lo, hi])
        # Coalesce with the neighbours this run touches or (after tail growth) overlaps.
        if i + 1 < len(merged) and merged[i + 1][0] <= hi + 1:
            merged[i][1] = max(hi, merged[i + 1][1])
            del merged[i + 1]
        if i > 0 and merged[i - 1][1] + 1 >= merged[i][0]:
            merged[i - 1][1] = max(merged[i - 1][1], merged[i][1])
            del merged[i]

    def write(self) -> None:
        """Write the runs changed since the last call, inside the caller's transaction."""
        if self._dirty:
            self.db.executemany(_UPSERT, [(d, lo, hi, h) for (d, lo), (hi, h) in self._dirty.items()])
            self._dirty.clear()

    def forget(self) -> None:
        """Drop what memory holds (after a rollback or a prune); reloaded from the file when needed."""
        self._merged.clear()
        self._tail.clear()
        self._dirty.clear()

    def prune(self, before_h: int) -> int:
        """Forget runs last written before hour `before_h` (the dedup window); return the seqs forgotten."""
        n = self.db.execute("SELECT coalesce(sum(hi - lo + 1), 0) FROM seen_run WHERE received_h < ?",
                            (before_h,)).fetchone()[0]
        self.db.execute("DELETE FROM seen_run WHERE received_h < ?", (before_h,))
        self.forget()
        return int(n)
