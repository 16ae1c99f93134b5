"""A token bucket per client address, in memory: the rate limit on the routes open without a token.

Each address may make `burst_n` requests at once and then `rate_per_min` per minute. The buckets live
in this process only (one backend per site; a restart forgets them, which only ever lets a client in).
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """`take(key)` returns 0 when a request may go on, else the seconds until it may (Retry-After)."""

    def __init__(self, rate_per_min: float, burst_n: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000):
        self.rate_per_s = rate_per_min / 60.0
        self.burst_n = burst_n
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at_s)
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Spend one request from `key`'s bucket; 0 if allowed, else whole seconds to wait (at least 1)."""
        now_s = self.clock()
        with self._lock:
            tokens, at_s = self._buckets.get(key, (float(self.burst_n), now_s))
            tokens = min(float(self.burst_n), tokens + (now_s - at_s) * self.rate_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now_s)
                if len(self._buckets) > self.max_keys:
                    self._forget_full(now_s)
                return 0
            self._buckets[key] = (tokens, now_s)
            return max(1, math.ceil((1.0 - tokens) / self.rate_per_s)) if self.rate_per_s > 0 else 3600

    def _forget_full(self, now_s: float) -> None:
        # A bucket that has refilled is the same as no bucket: drop those so memory stays bounded.
        full = [k for k, (t, at) in self._buckets.items() if t + (now_s - at) * self.rate_per_s >= self.burst_n]
        for k in full:
            del self._buckets[k]
        while len(self._buckets) > self.max_keys:  # still too many (a flood of addresses): drop the oldest
            del self._buckets[next(iter(self._buckets))]
