"""Dedup keys kept as runs of seqs: the same answers as a set of every key, in a few rows."""
from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_gateway.dedup import SeenRuns


def _db(path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def _rows(db: sqlite3.Connection) -> int:
    return db.execute("SELECT count(*) FROM seen_run").fetchone()[0]


def _store(runs: SeenRuns, db: sqlite3.Connection, device: str, seqs: list[int], hour: int) -> list[bool]:
    """What the intake does with one message, in its own transaction."""
    db.execute("BEGIN IMMEDIATE")
    keep = runs.fresh(device, seqs)
    new = [s for s, k in zip(seqs, keep) if k]
    if new:
        runs.add(device, new, hour)
    runs.write()
    db.execute("COMMIT")
    return keep


# A message: (device, seqs, what happens after it). Seqs mostly rise, with replays, gaps and repeats;
# half are consecutive runs, as devices send them (the fast paths), overlapping what came before or not.
seq_lists = st.one_of(st.lists(st.integers(0, 60), min_size=1, max_size=8),
                      st.builds(lambda lo, n: list(range(lo, lo + n)), st.integers(0, 60), st.integers(1, 10)))
messages = st.lists(st.tuples(st.sampled_from(["a", "b"]),
                              seq_lists,
                              st.sampled_from(["commit", "commit", "commit", "rollback", "reopen", "next_hour"])),
                    min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_runs_answer_like_a_set_of_every_key_across_rollbacks_and_restarts(tmp_path_factory, msgs):
    path = tmp_path_factory.mktemp("dedup") / "spool.sqlite3"
    db = _db(path)
    runs = SeenRuns(db)
    stored: set[tuple[str, int]] = set()
    hour = 1000
    for device, seqs, then in msgs:
        db.execute("BEGIN IMMEDIATE")
        keep = runs.fresh(device, seqs)
        expected, here = [], set()
        for s in seqs:
            expected.append((device, s) not in stored and s not in here)
            here.add(s)
        assert keep == expected
        new = [s for s, k in zip(seqs, keep) if k]
        if new:
            runs.add(device, new, hour)
        runs.write()
        if then == "rollback":
            db.execute("ROLLBACK")
            runs.forget()
            continue
        db.execute("COMMIT")
        stored.update((device, s) for s in new)
        if then == "reopen":  # a gateway restart: only the file is left
            db.close()
            db = _db(path)
            runs = SeenRuns(db)
        elif then == "next_hour":
            hour += 1
    db.close()


def test_a_device_counting_up_needs_one_row_per_hour(tmp_path):
    db = _db(tmp_path / "s.sqlite3")
    runs = SeenRuns(db)
    for m in range(1000):
        assert _store(runs, db, "soil-001", list(range(10 * m, 10 * m + 10)), 500 + m // 500) == [True] * 10
    assert _rows(db) == 2
    assert _store(runs, db, "soil-001", [0, 9_999, 10_000], 502) == [False, False, True]


def test_pruning_forgets_hours_before_the_window_and_keeps_the_rest(tmp_path):
    db = _db(tmp_path / "s.sqlite3")
    runs = SeenRuns(db)
    _store(runs, db, "d", [1, 2, 3], 10)
    _store(runs, db, "d", [4, 5], 11)
    _store(runs, db, "d", [6], 12)
    db.execute("BEGIN IMMEDIATE")
    assert runs.prune(12) == 5
    db.execute("COMMIT")
    assert runs.fresh("d", [1, 5, 6, 7]) == [True, True, False, True]


def test_a_spool_with_one_row_per_seq_is_folded_into_runs_on_open(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = _db(path)
    db.executescript("CREATE TABLE seen(device_id TEXT NOT NULL, seq INTEGER NOT NULL, received_h INTEGER NOT NULL,"
                     " PRIMARY KEY (device_id, seq)) WITHOUT ROWID;")
    old = [("a", s, 7) for s in range(100)] + [("a", s, 8) for s in range(100, 150)] + [("a", 500, 8), ("b", 3, 8)]
    db.executemany("INSERT INTO seen VALUES (?, ?, ?)", old)
    runs = SeenRuns(db)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'seen'").fetchone() is None
    assert _rows(db) == 4
    assert runs.fresh("a", [0, 149, 150, 499, 500]) == [False, False, True, True, False]
    assert runs.fresh("b", [3, 4]) == [False, True]
    db.execute("BEGIN IMMEDIATE")
    assert runs.prune(8) == 100, "the hours came along"
    db.execute("COMMIT")
