"""Bounded spool of readings not yet acknowledged by the broker: RAM tail + flash segments.

New records go to a RAM tail. When the tail holds `segment_readings` records, or when the app
is about to sleep with records unacknowledged (`flush`), the tail is written to flash as a
*segment* file; the broker online, records are acknowledged from RAM and flash is never written
(no wear while the link is up). Batches leave oldest first: every flash segment before the RAM
tail. One batch is one MQTT message; the batch is removed only when its PUBACK arrived.

Segment files are `<dir>/<id:08d>_<count>`: the name carries the record count so start-up needs
one listdir and no reads. A segment is written under a temporary name and renamed (atomic on
LittleFS), so a power cut leaves either the old or the new file, never half a batch.

Policy when full (`max_readings`, flash + RAM): the *oldest* flash segment is deleted and its
records are counted in `dropped` (persisted in `<dir>/dropped`, reported on the status topic).
Newest data is what an irrigation decision or a live plow map needs; a gap in old data is
visible to the gateway as a jump in `seq`.
"""
import gc
import os

from micropython import const

import encoder

_RAM = const(-1)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


class Spool:
    """Readings waiting for a PUBACK, oldest first, bounded, on flash only when needed."""

    def __init__(self, folder="spool", max_readings=4096, segment_readings=32):
        if segment_readings < 1 or max_readings < segment_readings:
            raise ValueError("spool needs 1 <= segment_readings <= max_readings")
        self.folder = folder
        self.max_readings = max_readings
        self.segment_readings = segment_readings
        self._ram = bytearray()
        self._ram_n = 0
        self._flight = None  # key of the batch being published: segment id or _RAM
        self._flight_n = 0
        self._flight_b = 0
        self._segs = []  # [id, count] oldest first
        self._flash_n = 0
        self.dropped = 0
        if not _exists(folder):
            os.mkdir(folder)
        for name in os.listdir(folder):
            if name.endswith(".tmp"):
                os.remove(folder + "/" + name)  # a write the power cut interrupted
            elif "_" in name:
                i, n = name.split("_")
                self._segs.append([int(i), int(n)])
                self._flash_n += int(n)
        self._segs.sort()
        try:
            with open(folder + "/dropped") as f:
                self.dropped = int(f.read())
        except (OSError, ValueError):
            self.dropped = 0

    @property
    def pending(self):
        """Records not yet acknowledged (flash + RAM)."""
        return self._flash_n + self._ram_n

    @property
    def on_flash(self):
        """Records kept in flash segments."""
        return self._flash_n

    def append(self, rec):
        """Add one record (bytes with a leading comma); spills a full RAM tail to flash."""
        try:
            self._ram.extend(rec)
        except MemoryError:
            # Growing the tail needs one contiguous block, which a fragmented heap may not have:
            # collect, and failing that spill the tail to flash and start a small one.
            gc.collect()
            try:
                self._ram.extend(rec)
            except MemoryError:
                self.flush()
                self._ram.extend(rec)
        self._ram_n += 1
        if self._ram_n - (self._flight_n if self._flight == _RAM else 0) >= self.segment_readings:
            self.flush()

    def _name(self, seg):
        return "%s/%08d_%d" % (self.folder, seg[0], seg[1])

    def flush(self):
        """Write the RAM tail (except a batch in flight) to flash, dropping oldest segments when full."""
        skip_b = self._flight_b if self._flight == _RAM else 0
        skip_n = self._flight_n if self._flight == _RAM else 0
        n = self._ram_n - skip_n
        if n <= 0:
            return
        last = self._segs[-1] if self._segs else None
        if last is not None and last[1] + n <= self.segment_readings and self._flight != last[0]:
            old = self._name(last)
            with open(old, "ab") as f:
                f.write(memoryview(self._ram)[skip_b:])
            last[1] += n
            os.rename(old, self._name(last))
        else:
            seg = [last[0] + 1 if last else 1, n]
            tmp = "%s/%08d.tmp" % (self.folder, seg[0])
            with open(tmp, "wb") as f:
                f.write(memoryview(self._ram)[skip_b:])
            os.rename(tmp, self._name(seg))
            self._segs.append(seg)
        self._flash_n += n
        self._ram = self._ram[:skip_b] if skip_b else bytearray()  # MicroPython cannot del a slice
        self._ram_n = skip_n
        self._enforce_cap()

    def _enforce_cap(self):
        dropped = 0
        while self._segs and self.pending > self.max_readings and self._segs[0][0] != self._flight:
            seg = self._segs.pop(0)
            os.remove(self._name(seg))
            self._flash_n -= seg[1]
            dropped += seg[1]
        if dropped:
            self.dropped += dropped
            with open(self.folder + "/dropped", "w") as f:
                f.write(str(self.dropped))

    def next_batch(self):
        """The oldest batch as (key, payload parts, readings), or None when empty. Marks it in flight.

        A flash batch is handed out as a file part (path, offset, length) that the MQTT client
        streams; only a RAM batch is copied (it is at most one segment).
        """
        if self._flight is not None:
            raise ValueError("a batch is already in flight; ack or nack it first")
        if self._segs:
            seg = self._segs[0]
            name = self._name(seg)
            self._flight = seg[0]
            return seg[0], (encoder.PREFIX, (name, 1, os.stat(name)[6] - 1), encoder.SUFFIX), seg[1]
        if self._ram_n:
            try:
                data = bytes(self._ram)
            except MemoryError:
                # A fragmented heap has no room for the copy: the tail goes to flash, which is
                # streamed from the file without a copy.
                self.flush()
                return self.next_batch()
            self._flight = _RAM
            self._flight_n = self._ram_n
            self._flight_b = len(self._ram)
            return _RAM, encoder.parts(data), self._ram_n
        return None

    def ack(self, key):
        """The broker acknowledged batch `key`: forget it for good."""
        if key != self._flight:
            raise ValueError("ack for a batch that is not in flight")
        if key == _RAM:
            rest = len(self._ram) - self._flight_b
            self._ram = self._ram[self._flight_b :] if rest else bytearray()
            self._ram_n -= self._flight_n
        else:
            seg = self._segs.pop(0)
            os.remove(self._name(seg))
            self._flash_n -= seg[1]
        self._flight = None
        self._flight_n = self._flight_b = 0

    def nack(self, key):
        """Batch `key` was not acknowledged: keep it, oldest first, for the next try."""
        if key != self._flight:
            raise ValueError("nack for a batch that is not in flight")
        self._flight = None
        self._flight_n = self._flight_b = 0
        self._enforce_cap()
