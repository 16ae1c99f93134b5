"""Decoding a message into spool lines: the CPU-heavy, side-effect-free part of the intake.

`decode_payload` runs in the intake thread, or (with `[intake] workers` > 0) in worker processes so
a Pi's other cores decode too. It only computes: the intake process alone touches the spool, so
durability and acknowledgements do not depend on where decoding ran.
"""
from __future__ import annotations

import functools
import os
import threading
import time
from collections import Counter

from yukimizu.contract import ContractError, decode, parse_topic

from .fastdecode import fast_lines
from .fastline import LineBuilder

# (dead: (code, reason) | None, seqs, lines, counts: {name: n}); seqs[i] is the seq of lines[i]
Decoded = tuple[tuple[str, str] | None, list[int], list[str], dict[str, int]]
# (topic, payload, received_s, tags)
Job = tuple[str, bytes, float, dict[str, str]]

_builder = LineBuilder()  # one per process; caches each device's escaped line head
# Topics repeat (one per device): parse each once. Refused topics raise and are not cached.
topic_of = functools.lru_cache(maxsize=8192)(parse_topic)


def decode_payload(topic: str, payload: bytes, received_s: float, tags: dict[str, str]) -> Decoded:
    """Decode one message with the wire contract and format its readings with the registry's tags."""
    try:
        t = topic_of(topic)
        head = _builder.head(t.site, t.kind, t.device_id, tags)
    except ContractError as e:
        return (e.code, str(e)), [], [], {}
    fast = fast_lines(t.kind, head, payload, received_s)
    if fast is not None:
        return None, fast[0], fast[1], {"readings_received": len(fast[1])}
    # Anything but a plainly valid message: the contract decoder says what was wrong with it.
    c: Counter[str] = Counter()
    try:
        d = decode(topic, payload, now_unix_s=received_s)
    except ContractError as e:
        return (e.code, str(e)), [], [], {}
    for rej in d.rejections:
        c[f"rejected_{rej.code}"] += 1
    if not d.readings:
        first = "; ".join(f"readings[{r.index}].{r.field or '*'}: {r.reason}" for r in d.rejections[:5])
        return ("no_valid_readings", f"no reading survived decoding: {first}"), [], [], dict(c)
    c["readings_received"] += len(d.readings)
    seqs: list[int] = []
    lines: list[str] = []
    for r in d.readings:
        try:
            lines.append(_builder.line(r, tags))
            seqs.append(r.seq)
        except ContractError as e:  # cannot happen with registry tags checked at load; counted if it does
            c[f"rejected_{e.code}"] += 1
    return None, seqs, lines, dict(c)


def decode_chunk(jobs: list[Job]) -> list[Decoded]:
    """Decode a list of messages (the unit of work sent to a worker process)."""
    return [decode_payload(*j) for j in jobs]


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: exit as soon as the gateway is gone (kill -9 leaves no one to stop us)."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class DecoderPool:
    """Worker processes for `decode_chunk`; `run()` keeps the input order."""

    def __init__(self, workers: int):
        # Imported here: most gateways run without workers, and multiprocessing costs 1.3 MB of RSS.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the gateway has threads (reader, flusher) that a fork would copy mid-flight.
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_exit_with_parent, initargs=(os.getpid(),))

    def run(self, jobs: list[Job]) -> list[Decoded]:
        """Decode `jobs` split across the workers."""
        if len(jobs) < 2 * self.workers:
            return decode_chunk(jobs)
        size = -(-len(jobs) // self.workers)
        out: list[Decoded] = []
        for part in self.pool.map(decode_chunk, [jobs[i:i + size] for i in range(0, len(jobs), size)]):
            out.extend(part)
        return out

    def close(self) -> None:
        """Stop the workers."""
        self.pool.shutdown(wait=False, cancel_futures=True)
