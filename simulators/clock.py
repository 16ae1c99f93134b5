"""Simulated clock: t_unix_s = start_unix_s + elapsed_wall_s * speed, so accelerated runs keep consistent timestamps.

With `catch_up` the clock is never ahead of the present: a season replayed at speed from weeks ago
reaches today and then goes on in real time, one run and one model, with no seam."""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SimClock:
    """A clock that runs `speed` times faster than the wall clock, from `start_unix_s`."""

    start_unix_s: float
    speed: float = 1.0
    catch_up: bool = False  # never ahead of the wall clock: at speed until the present, then real time
    _wall0_s: float = field(default_factory=time.monotonic)
    _present0_unix_s: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed!r}")

    def at(self, elapsed_wall_s: float) -> float:
        """Simulated Unix seconds after `elapsed_wall_s` of wall time."""
        t = self.start_unix_s + elapsed_wall_s * self.speed
        return min(t, self._present0_unix_s + elapsed_wall_s) if self.catch_up else t

    def now(self) -> float:
        """Simulated Unix seconds now."""
        return self.at(time.monotonic() - self._wall0_s)

    def elapsed_sim_s(self) -> float:
        """Simulated seconds since the start."""
        return self.now() - self.start_unix_s

    def wall_s_until(self, t_unix_s: float) -> float:
        """Wall seconds until the simulated clock reaches t_unix_s (negative if passed)."""
        return self.wall_s_between(self.now(), t_unix_s)

    def wall_s_between(self, from_unix_s: float, t_unix_s: float) -> float:
        """Wall seconds the clock takes from simulated time `from_unix_s` to `t_unix_s`."""
        lag_s = self._present0_unix_s - self.start_unix_s  # how far in the past the run starts
        if not self.catch_up or (lag_s > 0 and self.speed <= 1):
            return (t_unix_s - from_unix_s) / self.speed  # never reaches the present: plain speed
        if lag_s <= 0:
            return t_unix_s - from_unix_s  # starts at or past the present: real time throughout
        meet = self._present0_unix_s + lag_s / (self.speed - 1)  # where the fast clock reaches the present
        fast = (min(t_unix_s, meet) - min(from_unix_s, meet)) / self.speed
        return fast + (max(t_unix_s, meet) - max(from_unix_s, meet))


def default_start_unix_s(duration_s: float, speed: float, now_unix_s: float | None = None) -> float:
    """Start time such that the run's last timestamp lands on the wall clock's end time, never in the future.

    The contract rejects readings more than 600 s ahead of the receiver's clock, so an accelerated
    run starts in the past: start = now - D (1 - 1/speed) makes t_end = now + D/speed = the wall end.
    """
    now = time.time() if now_unix_s is None else now_unix_s
    if speed <= 1.0:
        return now
    return now - duration_s * (1.0 - 1.0 / speed)


def anchored_start_unix_s(local_hour: float, duration_s: float, speed: float, tz_offset_s: float = 9 * 3600,
                          now_unix_s: float | None = None) -> float:
    """The latest start at `local_hour` (JST by default) such that the whole run's timestamps stay in the past.

    Used for scenarios that begin at a time of day (a snowstorm from 18:00 JST): the night is replayed
    on the most recent date where it fits, so no reading is stamped in the future.
    """
    now = time.time() if now_unix_s is None else now_unix_s
    latest = default_start_unix_s(duration_s, speed, now)
    day_s = 86400.0
    local = latest + tz_offset_s
    candidate = (local // day_s) * day_s + local_hour * 3600.0 - tz_offset_s
    while candidate > latest:
        candidate -= day_s
    return candidate
