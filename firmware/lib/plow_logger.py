"""Snowplow logger: GPS (NMEA on a UART) and blade state, sampled at 1 Hz, published in batches.

Four asyncio tasks share one event loop and never wait on each other:
- gps: reads the UART every 20 ms, splits lines, `nmea.parse`s each; RMC/GGA are used,
  everything else (other sentence types, garbage, bad checksums) is counted as skipped;
- blade: polls the blade input every 5 ms through a debouncer;
- sampler: every `sample_ms` takes one reading (position when there is a fresh fix, blade state
  always) into the spool's RAM tail; it never awaits the network;
- publisher: every `batch_ms` brings the link up if needed and sends the spool oldest first.
While the link is down the spool writes full RAM tails to flash (one write per
`spool_segment_readings` readings) and drops its oldest segment when full (counted).

Time: a reading carries the time of the RMC fix it uses (exact GPS time). Without a new fix the
time is carried forward from the last RMC with the millisecond tick counter (crystal-driven),
so readings stay strictly increasing. Before any GPS time the board clock is used if set, else
the readings are held (clock.py) and stamped when the first GPS time arrives. A GPS time before
2020 (a receiver hit by the GPS week rollover, or a replayed old capture) is not believed: it
neither sets the clock nor stamps readings.
"""
import asyncio
import gc
import json
import sys
import time

from micropython import const

import clock
import config
import encoder
import nmea
import sensors
from seqno import Seq
from spool import Spool

_GPS_POLL_MS = const(20)
_BLADE_POLL_MS = const(5)
_LINE_MAX = const(128)  # NMEA 0183 allows 82 characters; anything longer is noise
_UART_CHUNK = const(256)  # bytes per UART read: 0.27 s of 9600 baud, far more than one 20 ms poll brings
_FIX_FRESH_MS = const(3000)  # a position older than this is not reported
_ANCHOR_MAX_MS = const(86400000)  # carry GPS time forward for at most a day of ticks
_STATUS_EVERY_BATCHES = const(12)


class Gps:
    """The latest GPS state from RMC and GGA sentences, with counters for what was rejected."""

    def __init__(self):
        self.fix = False
        self.lat = self.lon = None
        self.speed_km_h = self.heading_deg = self.hdop = None
        self.sats = 0
        self.fix_ms = 0  # ticks when the position arrived
        self.new_fix = False
        self.anchor_s = None  # last RMC time (Unix s, ms) and the tick it arrived at
        self.anchor_ms = 0
        self.anchor_tick = 0
        self.used = 0  # RMC/GGA sentences taken
        self.skipped = 0  # lines that were not a well-formed RMC/GGA (other types, noise, bad checksum)
        self.busy_ms = 0
        # Lines are assembled in one buffer kept for the whole run (no per-read allocation);
        # _n is the length so far, _LINE_MAX + 1 while skipping the rest of an over-long line.
        self._buf = bytearray(_LINE_MAX)
        self._mv = memoryview(self._buf)
        self._n = 0

    def feed(self, data, now, n=-1):
        """Take the first n bytes of data (all when n < 0) from the UART; parses every complete line."""
        if n < 0:
            n = len(data)
        buf = self._buf
        k = self._n
        for i in range(n):
            c = data[i]
            if c == 10:
                if k <= _LINE_MAX:
                    while k and buf[k - 1] in (13, 32):
                        k -= 1
                    if k:
                        self._line(bytes(self._mv[:k]), now)
                k = 0
            elif k < _LINE_MAX:
                buf[k] = c
                k += 1
            elif k == _LINE_MAX:  # longer than any NMEA sentence: noise; skip to the next newline
                self.skipped += 1
                k = _LINE_MAX + 1
        self._n = k

    def _line(self, line, now):
        line = line.strip()
        try:
            d = nmea.parse(line)  # bytes straight from the UART: no decode, nothing for noise to break
        except Exception:  # noqa: BLE001 - the parser never raises; if it ever did, sampling must go on
            d = None
        if d is None:
            self.skipped += 1
            return
        self.used += 1
        kind = d["kind"]
        if kind == "RMC":
            t = d.get("t")
            if t is not None and clock.is_set(t):
                self.anchor_s = int(t)
                self.anchor_ms = d.get("t_ms") or 0
                self.anchor_tick = now
            self.fix = d["fix"] and d["lat"] is not None
            if self.fix:
                self.lat = d["lat"]
                self.lon = d["lon"]
                self.speed_km_h = d.get("speed_km_h")
                self.heading_deg = d.get("heading_deg")
                self.fix_ms = now
                self.new_fix = True
        elif kind == "GGA":
            self.hdop = d.get("hdop")
            self.sats = d.get("sats") or 0
            if not d["fix"]:
                self.fix = False

    def now(self, tick):
        """(Unix s, ms) carried forward from the last RMC time, or None before any GPS time."""
        if self.anchor_s is None:
            return None
        dt = time.ticks_diff(tick, self.anchor_tick)
        if dt < 0 or dt > _ANCHOR_MAX_MS:
            return None
        total = self.anchor_ms + dt
        return self.anchor_s + total // 1000, total % 1000


class Logger:
    """The plow logger's state and tasks."""

    def __init__(self, board, board_cfg, cfg):
        self.board = board
        self.cfg = cfg
        self.remote = config.Remote(board_cfg, cfg)
        self.seq = Seq("seq", cfg["seq_block"], None)
        self.spool = Spool("spool", cfg["spool_max_readings"], cfg["spool_segment_readings"])
        self.stamper = clock.Stamper("held", cfg["max_held"])
        self.gps = Gps()
        self.blade = sensors.Debouncer(cfg["debounce_ms"], board.blade())
        self.samples = 0
        self.sent = 0
        self.last_t = (0, 0)
        self._board_anchor = None
        self.max_lag_ms = 0
        self.task_errors = 0
        self.last_error = None
        self.batches = 0
        self.link = None

    def _time(self, tick):
        """(t_s, t_ms) for a reading taken at `tick`: GPS fix time, carried GPS time or board clock."""
        g = self.gps
        if g.new_fix and g.anchor_s is not None and g.anchor_tick == g.fix_ms:
            t = (g.anchor_s, g.anchor_ms)
        else:
            t = g.now(tick)
            if t is None:
                # No GPS time: the board clock (set or not; clock.py holds unset times), its
                # milliseconds carried by the tick counter from the moment we first read it.
                a = self._board_anchor
                if a is None or time.ticks_diff(tick, a[1]) > _ANCHOR_MAX_MS:
                    a = self._board_anchor = (self.board.time_s(), tick)
                total = time.ticks_diff(tick, a[1])
                t = (a[0] + total // 1000, total % 1000)
        if t <= self.last_t:
            # Two readings must never share a timestamp (InfluxDB would keep only one).
            ms = self.last_t[1] + 1
            t = (self.last_t[0] + ms // 1000, ms % 1000)
        return t

    def _set_clock(self):
        g = self.gps
        if g.anchor_s is None:
            return
        b = self.board
        if not clock.is_set(b.time_s()) or abs(b.time_s() - g.anchor_s) > 2:
            offset = b.set_time(g.anchor_s)
            self._board_anchor = None
            self.stamper.release(self.seq.boot, offset, self.spool)

    def sample(self, tick):
        """Take one reading now into the spool."""
        g = self.gps
        # A position goes out only with the time of its own fix, so only a fix newer than the
        # last reading is used; without one the reading keeps the blade state (and satellites).
        fresh = g.new_fix and g.fix and time.ticks_diff(tick, g.fix_ms) < _FIX_FRESH_MS
        t_s, t_ms = self._time(tick)
        blade = self.blade.state == 1
        if fresh:
            tail = encoder.tail((("lat", g.lat), ("lon", g.lon), ("speed_km_h", g.speed_km_h),
                                 ("heading_deg", g.heading_deg), ("hdop", g.hdop), ("sats", g.sats),
                                 ("blade_down", blade)))
        else:
            tail = encoder.tail((("sats", g.sats), ("blade_down", blade)))
        g.new_fix = False
        rec = self.stamper.record(self.seq.take(), t_s, t_ms, self.seq.boot, tail)
        if rec is not None:
            self.spool.append(rec)
            self.last_t = (t_s, t_ms)
        self.samples += 1

    async def gps_task(self):
        """Read and parse the UART, and set the board clock from GPS time; never ends before the run does."""
        board = self.board
        g = self.gps
        buf = bytearray(_UART_CHUNK)
        while True:
            try:
                n = board.gps_readinto(buf)
                if n:
                    t0 = time.ticks_ms()
                    g.feed(buf, t0, n)
                    self._set_clock()
                    g.busy_ms += time.ticks_diff(time.ticks_ms(), t0)
            except Exception as e:  # noqa: BLE001 - a task that died here would leave the plow without GPS all night
                self._task_error(e)
            await asyncio.sleep_ms(_GPS_POLL_MS)

    def _task_error(self, e):
        """Count an error a task survived; a MemoryError is met with a collection."""
        self.task_errors += 1
        self.last_error = "%s: %s" % (type(e).__name__, e)
        sys.print_exception(e)  # to the console (stderr on the unix port): where, for the engineer
        if isinstance(e, MemoryError):
            gc.collect()

    async def blade_task(self):
        """Debounce the blade input."""
        board = self.board
        b = self.blade
        diff = time.ticks_diff
        while True:
            b.hold_ms = self.remote.cfg["debounce_ms"]  # a remote override applies at once
            b.update(board.blade(), time.ticks_ms(), diff)
            await asyncio.sleep_ms(_BLADE_POLL_MS)

    async def sample_task(self):
        """One reading every sample_ms on a fixed schedule (no drift), feeding the watchdog."""
        due = time.ticks_ms()
        while True:
            now = time.ticks_ms()
            lag = time.ticks_diff(now, due)
            if lag > self.max_lag_ms:
                self.max_lag_ms = lag
            try:
                self.sample(now)
            except Exception as e:  # noqa: BLE001 - one lost sample, not a logger that stops sampling
                self._task_error(e)
            self.board.wdt_feed()
            due = time.ticks_add(due, self.remote.cfg["sample_ms"])
            wait = time.ticks_diff(due, time.ticks_ms())
            if wait < 0:  # fell behind by more than a period: skip, never burst
                due = time.ticks_ms()
                wait = 0
            await asyncio.sleep_ms(wait)

    def stats(self):
        """Counters for the status topic and the console."""
        s = self.spool
        return {
            "seq_next": self.seq.next, "samples": self.samples, "sent": self.link.sent if self.link else 0,
            "pending": s.pending, "on_flash": s.on_flash, "dropped": s.dropped, "held": self.stamper.held,
            "nmea_used": self.gps.used, "nmea_skipped": self.gps.skipped, "fix": self.gps.fix,
            "max_sample_lag_ms": self.max_lag_ms, "gps_busy_ms": self.gps.busy_ms,
            "heap_b": self.board.heap_peak_b, "task_errors": self.task_errors, "last_error": self.last_error,
        }

    async def publish_task(self):
        """Every batch_ms: link up (backing off while it fails), send the spool, status now and then."""
        from link import Link

        self.link = link = Link(self.board, self.cfg, self.remote)
        while True:
            # Collect between batches, while little is live: on a heap that runs for a whole
            # night of plowing this keeps fragmentation from building up (as mqtt_as does).
            gc.collect()
            try:
                if await link.up():
                    await link.drain(self.spool)
                    self.batches += 1
                    if self.batches % _STATUS_EVERY_BATCHES == 1 or link.reported_error != self.remote.error:
                        self.board.heap_mark()
                        await link.status("online", self.stats())
            except Exception as e:  # noqa: BLE001 - the batch stays spooled; the next round sends it
                self._task_error(e)
            await asyncio.sleep_ms(self.remote.cfg["batch_ms"])

    async def run(self, run_s=0):
        """Run the tasks; forever on a board, `run_s` seconds in simulation, then flush and report."""
        self.board.wdt_start(self.cfg["wdt_ms"])
        tasks = [asyncio.create_task(c) for c in
                 (self.gps_task(), self.blade_task(), self.sample_task(), self.publish_task())]
        if not run_s:
            await asyncio.gather(*tasks)
        await asyncio.sleep(run_s)
        for t in tasks:
            t.cancel()
        await asyncio.sleep_ms(0)
        gc.collect()
        if self.link is not None:
            try:
                await self.link.drain(self.spool)
                await self.link.close()
            except Exception as e:  # noqa: BLE001 - what was not sent is flushed to flash below
                self._task_error(e)
        self.spool.flush()
        self.board.heap_mark()
        print("STATS", json.dumps(self.stats()))


def main():
    """Entry point from main.py."""
    import hw

    board_cfg, cfg = config.load()
    board = hw.board(cfg)
    logger = Logger(board, board_cfg, cfg)
    asyncio.run(logger.run(cfg["run_s"]))
