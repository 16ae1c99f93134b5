"""The intake: MQTT messages in, one group commit to the spool, then their PUBACKs.

Each message is checked against the registry, decoded with the wire contract, deduplicated by
(device_id, seq) and turned into line protocol with the registry's tags. Messages that cannot be
stored go to the dead-letter table with the reason; per-field and per-reading rejections are
counted by code. All of it, counters included, commits in one transaction per batch, and only
after that commit are the batch's messages acknowledged to the broker.
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
from yukimizu.contract.topics import parse_topic

from .decoding import DecoderPool, Job, decode_chunk
from .registry import Registry
from .settings import SpoolSettings, WhenFull
from .spool import Spool, hour_of

if TYPE_CHECKING:
    from .mqtt_source import MqttSource

log = logging.getLogger("edge_gateway.intake")


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
    """One message after decoding: a dead-letter reason, or its device and (seq, line) pairs."""

    msg: Incoming
    dead: tuple[str, str] | None  # (code, reason)
    device_id: str
    lines: list[tuple[int, str]]
    counts: dict[str, int]


@dataclass
class BatchResult:
    """What one group commit did: messages to acknowledge, messages left for later (spool full)."""

    done: list[Incoming]
    left: list[Incoming]
    counts: Counter[str]


class Intake:
    """Turns batches of messages into spool transactions."""

    def __init__(self, spool: Spool, registry: Registry, settings: SpoolSettings, pool: DecoderPool | None = None):
        self.spool = spool
        self.registry = registry
        self.s = settings
        self.pool = pool

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
                t = parse_topic(m.topic)
            except ContractError as e:
                out.append(Prepared(m, (e.code, str(e)), "", [], {}))
                continue
            if t.channel is not Channel.TELEMETRY:
                # The default filter yukimizu/v1/# also brings devices' retained status and the
                # server's config messages: not readings, not faults. Counted and acknowledged.
                out.append(Prepared(m, None, "", [], {f"ignored_{t.channel.value}": 1}))
                continue
            tags, code, reason = self.registry.check(t.site, t.kind, t.device_id)
            if tags is None:
                out.append(Prepared(m, (code, reason), "", [], {}))
                continue
            todo.append(len(out))
            out.append(None)
            jobs.append((m.topic, m.payload, m.received_s, tags))
        results = self.pool.run(jobs) if self.pool is not None else decode_chunk(jobs)
        for i, (dead, lines, counts) in zip(todo, results):
            m = batch[i]
            out[i] = Prepared(m, dead, parse_topic(m.topic).device_id if dead is None else "", lines, counts)
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
            held = self._held()
            for i, p in enumerate(prepared):
                if self.s.when_full is WhenFull.BLOCK and held >= self.s.max_bytes:
                    # Leave the rest unacknowledged: the broker keeps them until the flusher makes room.
                    left = batch[i:]
                    c["spool_full_waits"] += 1
                    break
                held += self._store(p, held, c)
                done.append(p.msg)
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

    def _store(self, p: Prepared, held: int, c: Counter[str]) -> int:
        """Store one prepared message inside the open transaction; return the spool bytes it added (may be < 0)."""
        sp = self.spool
        c.update(p.counts)
        if p.dead is not None:
            self._dead(p.msg, p.dead[0], p.dead[1], c)
            return 0
        if not p.lines:
            return 0
        stored = sp.seen_of(p.device_id, [seq for seq, _ln in p.lines])
        new: list[tuple[int, str]] = []
        for seq, ln in p.lines:
            if seq in stored:
                c["duplicates"] += 1
                continue
            stored.add(seq)  # the same seq twice in one message is a duplicate too
            new.append((seq, ln))
        if not new:
            return 0
        lines = [ln for _seq, ln in new]
        n_bytes = sum(len(x) for x in lines) + len(lines)
        policy = self.s.when_full
        if policy is WhenFull.DROP_NEWEST and held + n_bytes > self.s.max_bytes:
            c["dropped_newest"] += len(lines)
            return 0
        freed = 0
        if policy is WhenFull.DROP_OLDEST and held + n_bytes > self.s.max_bytes:
            lost_lines, freed = sp.drop_oldest(held + n_bytes - self.s.max_bytes)
            c["dropped_oldest"] += lost_lines
        sp.remember(p.device_id, [seq for seq, _ln in new], hour_of(p.msg.received_s))
        added = sp.append(p.msg.received_s, lines)
        c["spooled"] += len(lines)
        return added - freed


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
            self.source.gauges.queue_depth = q.qsize() + len(pending)
            self._prune()
            if not pending:
                try:
                    pending.append(q.get(timeout=0.5))
                except queue.Empty:
                    continue
            deadline = time.monotonic() + self.s.commit_interval_ms / 1000
            while len(pending) < self.s.commit_max_messages:
                try:
                    pending.append(q.get_nowait())
                except queue.Empty:
                    left_s = deadline - time.monotonic()
                    if left_s <= 0 or len(pending) >= self.s.commit_max_messages // 2:
                        break
                    try:
                        pending.append(q.get(timeout=left_s))
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
            for m in result.done:
                self.source.ack(m)
            if result.done:
                wake_flusher.set()
            pending = result.left
            if pending:
                stop.wait(0.1)  # spool full under the "block" policy: let the flusher make room

    def _prune(self) -> None:
        h = hour_of(time.time())
        if h == self.last_prune_h:
            return
        self.last_prune_h = h
        sp = self.intake.spool
        sp.begin()
        try:
            n = sp.prune_seen(h - self.s.dedup_window_h)
            sp.commit()
        except BaseException:
            sp.rollback()
            raise
        if n:
            log.info("dedup keys past the window forgotten", extra={"event": "dedup_pruned", "keys": n})
