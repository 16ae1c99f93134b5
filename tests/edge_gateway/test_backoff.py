"""Retry delays: capped exponential growth with jitter, so many gateways do not retry in lockstep."""
from __future__ import annotations

import random

import pytest

from edge_gateway.flusher import backoff_s


@pytest.mark.parametrize("attempt, low_s, high_s", [
    (1, 0.125, 0.25), (2, 0.25, 0.5), (5, 2.0, 4.0), (8, 15.0, 30.0), (50, 15.0, 30.0),
], ids=["first retry waits about the minimum", "second doubles", "fifth is 16 times the minimum",
        "eighth reaches the cap", "the cap holds forever"])
def test_backoff_grows_to_the_cap(attempt, low_s, high_s):
    rng = random.Random(attempt)
    delays = [backoff_s(attempt, 250, 30_000, rng) for _ in range(200)]
    assert all(low_s <= d <= high_s for d in delays)
    assert max(delays) - min(delays) > (high_s - low_s) / 2, "jitter spreads the retries"
