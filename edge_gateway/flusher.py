"""The flusher: oldest spooled readings to InfluxDB in batches, deleted only after InfluxDB confirms.

A batch goes out when it is full (`batch_size` lines, or as many whole spool rows as fit) or its
oldest line has waited `flush_interval_ms`.
A failed write is retried (same batch, same order) after an exponential backoff with jitter, for as
long as it takes: hours offline just means a deeper spool. A batch InfluxDB refuses as bad data
(HTTP 400) is split row by row and then in halves down to single lines, so one bad line goes to the
dead-letter table and never blocks the readings behind it.
"""
from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor

from .metrics import Gauges
from .settings import InfluxSettings, SpoolSettings
from .sink import Sink, SinkError
from .spool import Spool, SpoolRow

log = logging.getLogger("edge_gateway.flusher")


def backoff_s(attempt: int, min_ms: int, max_ms: int, rng: random.Random) -> float:
    """Delay before retry number `attempt` (1, 2, ...): capped exponential with "equal jitter"."""
    cap_ms = min(max_ms, min_ms * 2 ** min(attempt - 1, 30))
    return (cap_ms / 2 + rng.uniform(0, cap_ms / 2)) / 1000


class _Halted(Exception):
    """A queued write not sent because the one before it failed."""


class Flusher(threading.Thread):
    """Background thread moving the spool into InfluxDB."""

    def __init__(self, spool: Spool, sink: Sink, influx: InfluxSettings, spool_settings: SpoolSettings,
                 gauges: Gauges, stop: threading.Event, wake: threading.Event):
        super().__init__(name="flusher", daemon=True)
        self.spool = spool
        self.sink = sink
        self.s = influx
        self.ss = spool_settings
        self.gauges = gauges
        self.stop_event = stop
        self.wake = wake
        self.rng = random.Random()
        self.attempt = 0
        self.heartbeat_s = time.monotonic()
        self.confirmed: list[SpoolRow] = []  # written to InfluxDB, not yet deleted from the spool
        # Batches handed to the one writer thread, oldest first: the one InfluxDB is working on and
        # the next, queued so the writer sends it the moment the first is answered.
        self.inflight: deque[tuple[list[SpoolRow], Future[float]]] = deque()
        self.halted = False  # set by the writer when a write fails: it sends nothing more until cleared
        self.idle_s = 0.0
        self.http = ThreadPoolExecutor(max_workers=1, thread_name_prefix="influx-write")

    def run(self) -> None:
        """Loop until stopped; never raises (errors are logged and retried)."""
        while not self.stop_event.is_set():
            self.heartbeat_s = time.monotonic()
            try:
                self._fill()
                if not self.inflight:
                    self._delete_confirmed()  # nothing to overlap it with: do it now
                    # Not a full batch yet: give the stream a moment to fill it, and look again as soon
                    # as the intake commits more (a backlog fills a batch in milliseconds).
                    self.wake.wait(self.idle_s)
                    self.wake.clear()
                    continue
                self._finish_oldest()
            except SinkError as e:
                self.attempt += 1
                delay = backoff_s(self.attempt, self.s.retry_min_ms, self.s.retry_max_ms, self.rng)
                self.gauges.error(str(e))
                log.warning("InfluxDB write failed, will retry", extra={
                    "event": "write_retry", "error": str(e)[:300], "attempt": self.attempt, "retry_in_s": round(delay, 2)})
                self.stop_event.wait(delay)
            except Exception as e:  # a spool (disk) problem: say so, wait, try again
                self._abandon()
                self.gauges.error(f"spool: {type(e).__name__}: {e}")
                log.exception("flusher error", extra={"event": "flusher_error"})
                self.stop_event.wait(1.0)
        try:
            while self.inflight:  # what InfluxDB confirms before we stop is deleted now, not resent
                self._finish_oldest()
            self._delete_confirmed()
        except (SinkError, sqlite3.Error) as e:  # resent after the restart: InfluxDB overwrites them with the same values
            self._abandon()
            log.warning("stopped with batches still in the spool", extra={"event": "flusher_stop", "error": str(e)[:300]})
        self.http.shutdown(wait=False)

    def _fill(self) -> None:
        """Hand the writer the next batches, up to two, each full or waited for long enough."""
        interval_s = self.s.flush_interval_ms / 1000
        while len(self.inflight) < 2:
            last = self.inflight[-1][0] if self.inflight else self.confirmed
            rows, full = self.spool.oldest(self.s.batch_size, after_id=last[-1].id if last else 0)
            if not rows:
                self.idle_s = max(interval_s, 0.05)
                return
            wait_s = rows[0].received_s + interval_s - time.time()
            if not full and wait_s > 0:
                self.idle_s = max(min(wait_s, interval_s), 0.05)
                return
            # Each row's body is already its lines joined by newlines: join rows, no re-splitting.
            body = "\n".join(r.body for r in rows)
            self.inflight.append((rows, self.http.submit(self._write, body)))

    def _write(self, body: str) -> float:
        """In the writer thread: one request, unless an earlier one failed (order is kept)."""
        if self.halted:
            raise _Halted
        try:
            return self.sink.write(body)
        except BaseException:
            self.halted = True
            raise

    def _finish_oldest(self) -> None:
        """Wait for the oldest batch in flight; deleting the one before meanwhile (a commit, an fsync)."""
        rows, pending = self.inflight[0]
        self._delete_confirmed()
        try:
            latency_ms = pending.result()
        except BaseException as e:
            self._abandon()  # the batches after it were not sent; they follow once this one is through
            if isinstance(e, SinkError) and e.bad_batch:
                self._isolate(rows, e)
                return
            raise
        self.inflight.popleft()
        self.confirmed = rows
        self.gauges.written(latency_ms, sum(r.n_lines for r in rows))
        if self.attempt:
            log.info("InfluxDB writes resumed", extra={"event": "write_resumed", "after_attempts": self.attempt})
        self.attempt = 0

    def _abandon(self) -> None:
        """Wait out the writer and forget what was in flight: it is read from the spool again."""
        for _rows, pending in self.inflight:
            pending.exception()
        self.inflight.clear()
        self.halted = False

    def _delete_confirmed(self) -> None:
        """Delete (and count as written) the batch InfluxDB confirmed last."""
        if self.confirmed:
            self.spool.delete_written(self.confirmed)
            self.confirmed = []

    def _isolate(self, rows: list[SpoolRow], first: SinkError) -> None:
        """InfluxDB refused the content: write row by row, halving a refused row down to the bad lines,
        which go to the dead-letter table. A few bad lines among a thousand cost a few dozen requests."""
        log.warning("InfluxDB refused a batch as bad data, isolating the bad lines",
                    extra={"event": "batch_refused", "error": str(first)[:300], "rows": len(rows)})
        for r in rows:
            refused: list[tuple[str, str]] = []
            self._write_halving(r.body.split("\n"), refused)
            if refused:
                self._dead_letter_refused(r, refused)
            else:
                self.spool.delete_written([r])

    def _write_halving(self, lines: list[str], refused: list[tuple[str, str]]) -> None:
        try:
            self.sink.write("\n".join(lines))
            return
        except SinkError as e:
            if not e.bad_batch:
                raise  # InfluxDB is away: the whole batch is tried again later (rewrites are harmless)
            if len(lines) == 1:
                refused.append((lines[0], str(e)))
                return
        half = len(lines) // 2
        self._write_halving(lines[:half], refused)
        self._write_halving(lines[half:], refused)

    def _dead_letter_refused(self, row: SpoolRow, refused: list[tuple[str, str]]) -> None:
        sp = self.spool
        sp.begin()
        try:
            for ln, reason in refused:
                sp.dead_letter(row.received_s, "(spool)", "influx_refused", reason, ln.encode("utf-8"),
                               self.ss.dead_letter_max_payload_bytes, self.ss.dead_letter_max_rows)
            sp.commit()
        except BaseException:
            sp.rollback()
            raise
        c = Counter({"dead_letters": len(refused), "dead_letter_influx_refused": len(refused),
                     "written": -len(refused)})
        sp.delete_written([row], extra=c)
