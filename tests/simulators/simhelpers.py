"""Helpers for the simulator tests: short versions of the shipped scenarios (a uniquely named module: test folders have no __init__.py)."""
from __future__ import annotations

from functools import lru_cache

from simulators import scenario
from simulators.clock import anchored_start_unix_s
from simulators.world import World

NOW = 1_795_680_000.0  # 2026-11-26 15:00 JST: a fixed "now" so runs are reproducible


@lru_cache(maxsize=32)
def short_world(name: str, *, duration_s: float, seed: int = 1, devices: int = 0, speed: float | None = None,
                start: float | None = None, seq_base: int = 0, **changes: object) -> World:
    """A shipped scenario cut to duration_s, at a fixed start, as a World (cached: treat it as read-only)."""
    sc = scenario.load(name)
    sc = scenario.replace(sc, duration_s=duration_s, seed=seed, devices=devices, speed=speed or sc.speed, **changes)
    if start is None:
        start = sc.start_unix_s()
        if start is None:
            hour = sc.start_local_hour if sc.start_local_hour is not None else 6.0
            start = anchored_start_unix_s(hour, duration_s, sc.speed, now_unix_s=NOW)
    return World(sc, start, seq_base=seq_base)
