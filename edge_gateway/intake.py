"""The intake: MQTT messages in, one group commit to the spool, then their PUBACKs.

Each message is checked against the registry, decoded with the wire contract, deduplicated by
(device_id, seq) and turned into line protocol with the registry's tags. Messages that cannot be
stored go to the dead-letter table with the reason; per-field and per-reading rejections are
counted by code. All of it, counters and dedup keys included, commits in one transaction per batch
(spool rows of many messages each, written with one statement), and only after that commit are the
batch's messages acknowledged to the broker.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from yukimizu.contract import Channel, ContractError

from .decoding import DecoderPool, Job, decode_chunk, topic_of
from .registry import Registry
from .settings import SpoolSettings, WhenFull
from .spool import Spool, hour_of

if TYPE_CHECKING:
    from .mqtt_source import MqttSource

log = logging.getLogger("edge_gateway.intake")

# One spool row holds the readings of many messages, in arrival order: the flusher then reads and
# deletes a few large rows per batch instead of one row per message (SQLite's cost is per row).
ROW_MAX_LINES = 1000


@dataclass(slots=True)
class Incoming:
    """One MQTT message as received, with what is needed to acknowledge it later."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int  # which broker connection it came on: a PUBACK is only valid on that one
    received_s: float


@dataclass(slots=True)
class Prepared:
    """One message after decoding: a dead-letter reason, or its device and its readings' seqs and lines."""

    msg: Incoming
    dead: tuple[str, str] | None  # (code, reason)
    device_id: str
    seqs: list[int]
    lines: list[str]
    counts: dict[str, int]


@dataclass
class BatchResult:
    """What one group commit did: messages to acknowledge, messages left for later (spool full)."""

    done: list[Incoming]
    left: list[Incoming]
    counts: Counter[str]


class Intake:
    """Turns batches of messages into spool transactions."""

    def __init__(self, spool: Spool, registry: Registry, settings: SpoolSettings, pool: DecoderPool | None = None,
                 row_lines: int = ROW_MAX_LINES):
        """`row_lines`: readings per spool row at most (the service passes the InfluxDB batch size, if smaller)."""
        self.spool = spool
        self.registry = registry
        self.s = settings
        self.pool = pool
        self._rows: list[tuple[float, int, int, str]] = []  # this transaction's spool rows, not yet written
        self._held_bytes = 0  # spool bytes, counting those rows
        self.row_lines = row_lines
        self.row_bytes = max(1, settings.max_bytes // 16)  # so drop_oldest never has to drop more than this
        self._chunk: list[str] = []  # the bodies of the messages in the row being filled
        self._chunk_lines = self._chunk_bytes = 0
        self._chunk_s = 0.0  # when its first message arrived

    def _dead(self, m: Incoming, code: str, reason: str, c: Counter[str]) -> None:
        self.spool.dead_letter(m.received_s, m.topic, code, reason, m.payload,
                               self.s.dead_letter_max_payload_bytes, self.s.dead_letter_max_rows)
        c["dead_letters"] += 1
        c[f"dead_letter_{code}"] += 1
        log.info("message dead-lettered", extra={"event": "dead_letter", "topic": m.topic[:200], "code": code,
                                                  "reason": reason[:300], "payload_bytes": len(m.payload)})

    def prepare(self, batch: list[Incoming]) -> list[Prepared]:
        """Check topics and the registry here, decode and format (here or in the pool): no transaction yet."""
        out: list[Prepared | None] = []
        jobs: list[Job] = []
        todo: list[int] = []
        for m in batch:
            try:
                t = topic_of(m.topic)
            except ContractError as e:
                out.append(Prepared(m, (e.code, str(e)), "", [], [], {}))
                continue
            if t.channel is not Channel.TELEMETRY:
                # The default filter yukimizu/v1/# also brings devices' retained status and the
                # server's config messages: not readings, not faults. Counted and acknowledged.
                out.append(Prepared(m, None, "", [], [], {f"ignored_{t.channel.value}": 1}))
                continue
            tags, code, reason = self.registry.check(t.site, t.kind, t.device_id)
            if tags is None:
                out.append(Prepared(m, (code, reason), "", [], [], {}))
                continue
            todo.append(len(out))
            out.append(None)
            jobs.append((m.topic, m.payload, m.received_s, tags))
        results = self.pool.run(jobs) if self.pool is not None else decode_chunk(jobs)
        for i, (dead, seqs, lines, counts) in zip(todo, results):
            m = batch[i]
            out[i] = Prepared(m, dead, topic_of(m.topic).device_id if dead is None else "", seqs, lines, counts)
        return [p for p in out if p is not None]

    def commit(self, batch: list[Incoming]) -> BatchResult:
        """Process `batch` in one transaction; returns which messages are now safe to acknowledge."""
        # Decoding and formatting happen before BEGIN, so the write lock (which the flusher needs to
        # delete what InfluxDB confirmed) is held only for the short SQL part.
        if self.s.when_full is WhenFull.BLOCK and self._held() >= self.s.max_bytes:
            # Still full: do not decode what cannot be stored; count the wait.
            self.spool.begin()
            self.spool.bump({"spool_full_waits": 1})
            self.spool.commit()
            return BatchResult([], batch, Counter({"spool_full_waits": 1}))
        prepared = self.prepare(batch)
        c: Counter[str] = Counter()
        done: list[Incoming] = []
        left: list[Incoming] = []
        sp = self.spool
        sp.begin()
        try:
            self._rows = []
            self._chunk = []
            self._chunk_lines = self._chunk_bytes = 0
            self._held_bytes = self._held()
            for i, p in enumerate(prepared):
                if self.s.when_full is WhenFull.BLOCK and self._held_bytes >= self.s.max_bytes:
                    # Leave the rest unacknowledged: the broker keeps them until the flusher makes room.
                    left = batch[i:]
                    c["spool_full_waits"] += 1
                    break
                self._store(p, c)
                done.append(p.msg)
            self._write_rows()
            sp.seen.write()
            c["received"] += len(done)
            sp.bump(c)
            sp.commit()
        except BaseException:
            sp.rollback()
            raise
        return BatchResult(done, left, c)

    def _held(self) -> int:
        row = self.spool.db.execute("SELECT n FROM counters WHERE name = 'spool_bytes'").fetchone()
        return int(row[0]) if row else 0

    def _store(self, p: Prepared, c: Counter[str]) -> None:
        """Queue one prepared message's new readings as a spool row, inside the open transaction."""
        sp = self.spool
        c.update(p.counts)
        if p.dead is not None:
            self._dead(p.msg, p.dead[0], p.dead[1], c)
            return
        if not p.lines:
            return
        seqs, lines = p.seqs, p.lines
        keep = sp.seen.fresh(p.device_id, seqs)
        if False in keep:
            c["duplicates"] += keep.count(False)
            seqs = [s for s, k in zip(seqs, keep) if k]
            lines = [ln for ln, k in zip(lines, keep) if k]
            if not lines:
                return
        body = "\n".join(lines)
        n_bytes = len(body) if body.isascii() else len(body.encode("utf-8"))
        policy = self.s.when_full
        over = self._held_bytes + n_bytes - self.s.max_bytes
        if policy is WhenFull.DROP_NEWEST and over > 0:
            c["dropped_newest"] += len(lines)
            return
        if policy is WhenFull.DROP_OLDEST and over > 0:
            self._write_rows()  # the oldest may be in this very batch
            lost_lines, freed = sp.drop_oldest(over)
            c["dropped_oldest"] += lost_lines
            self._held_bytes -= freed
        sp.seen.add(p.device_id, seqs, hour_of(p.msg.received_s))
        if self._chunk:
            n_bytes += 1  # the newline between this message's lines and the previous one's
        else:
            self._chunk_s = p.msg.received_s
        self._chunk.append(body)
        self._chunk_lines += len(lines)
        self._chunk_bytes += n_bytes
        self._held_bytes += n_bytes
        if self._chunk_lines >= self.row_lines or self._chunk_bytes >= self.row_bytes:
            self._close_row()
        c["spooled"] += len(lines)

    def _close_row(self) -> None:
        if self._chunk:
            self._rows.append((self._chunk_s, self._chunk_lines, self._chunk_bytes, "\n".join(self._chunk)))
            self._chunk = []
            self._chunk_lines = self._chunk_bytes = 0

    def _write_rows(self) -> None:
        self._close_row()
        if self._rows:
            self.spool.append(self._rows)
            self._rows = []


class IntakeWorker:
    """The loop that takes messages off the MQTT queue in groups, commits them, then acknowledges them."""

    def __init__(self, intake: Intake, source: "MqttSource", settings: SpoolSettings, require_registry: bool):
        self.intake = intake
        self.source = source
        self.s = settings
        self.require_registry = require_registry
        self.heartbeat_s = time.monotonic()
        self.last_prune_h = -1

    def run(self, stop: threading.Event, wake_flusher: threading.Event) -> None:
        """Loop until `stop` is set and the queue is empty of what was already taken."""
        q = self.source.queue
        pending: list[Incoming] = []
        while not stop.is_set():
            self.heartbeat_s = time.monotonic()
            self.source.gauges.queue_depth = self.source.queued + len(pending)
            self._prune()
            if not pending:
                try:
                    pending.extend(self._take(q.get(timeout=0.5)))
                except queue.Empty:
                    continue
            deadline = time.monotonic() + self.s.commit_interval_ms / 1000
            while len(pending) < self.s.commit_max_messages:
                try:
                    pending.extend(self._take(q.get_nowait()))
                except queue.Empty:
                    left_s = deadline - time.monotonic()
                    if left_s <= 0 or len(pending) >= self.s.commit_max_messages // 2:
                        break
                    try:
                        pending.extend(self._take(q.get(timeout=left_s)))
                    except queue.Empty:
                        break
            if self.require_registry and not self.intake.registry.loaded:
                # Without any device list every message would be refused: hold them unacknowledged
                # (the broker keeps them) until the registry or its cache can be read.
                log.error("no device registry yet; holding messages", extra={"event": "registry_missing"})
                stop.wait(2.0)
                self.intake.registry.refresh()
                continue
            result = self.intake.commit(pending)
            self.source.ack(result.done)
            if result.done:
                wake_flusher.set()
            pending = result.left
            if pending:
                stop.wait(0.1)  # spool full under the "block" policy: let the flusher make room

    def _take(self, batch: list[Incoming]) -> list[Incoming]:
        self.source.taken(len(batch))
        return batch

    def _prune(self) -> None:
        h = hour_of(time.time())
        if h == self.last_prune_h:
            return
        self.last_prune_h = h
        sp = self.intake.spool
        sp.begin()
        try:
            n = sp.seen.prune(h - self.s.dedup_window_h)
            sp.commit()
        except BaseException:
            sp.rollback()
            raise
        if n:
            log.info("dedup keys past the window forgotten", extra={"event": "dedup_pruned", "keys": n})
