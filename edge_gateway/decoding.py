"""Decoding a message into spool lines: the CPU-heavy, side-effect-free part of the intake.

`decode_payload` runs in the intake thread, or (with `[intake] workers` > 0) in worker processes so
a Pi's other cores decode too. It only computes: the intake process alone touches the spool, so
durability and acknowledgements do not depend on where decoding ran.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from yukimizu.contract import ContractError, decode

from .fastline import LineBuilder

# (dead: (code, reason) | None, lines: [(seq, line)], counts: {name: n})
Decoded = tuple[tuple[str, str] | None, list[tuple[int, str]], dict[str, int]]
# (topic, payload, received_s, tags)
Job = tuple[str, bytes, float, dict[str, str]]

_builder = LineBuilder()  # one per process; caches each device's escaped line head


def decode_payload(topic: str, payload: bytes, received_s: float, tags: dict[str, str]) -> Decoded:
    """Decode one message with the wire contract and format its readings with the registry's tags."""
    c: Counter[str] = Counter()
    try:
        d = decode(topic, payload, now_unix_s=received_s)
    except ContractError as e:
        return (e.code, str(e)), [], {}
    for rej in d.rejections:
        c[f"rejected_{rej.code}"] += 1
    if not d.readings:
        first = "; ".join(f"readings[{r.index}].{r.field or '*'}: {r.reason}" for r in d.rejections[:5])
        return ("no_valid_readings", f"no reading survived decoding: {first}"), [], dict(c)
    c["readings_received"] += len(d.readings)
    lines: list[tuple[int, str]] = []
    for r in d.readings:
        try:
            lines.append((r.seq, _builder.line(r, tags)))
        except ContractError as e:  # cannot happen with registry tags checked at load; counted if it does
            c[f"rejected_{e.code}"] += 1
    return None, lines, dict(c)


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
        # spawn, not fork: the gateway has threads (paho, flusher) that a fork would copy mid-flight.
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
