"""UTC stamping of readings, and holding readings taken before the clock is set.

A device whose clock was never set (first power-on, no NTP or GPS yet) counts from 2000 or
1970. We never send such a time as if it were real. Instead the reading is *held* with its raw
clock value and the `boot` it was taken in. The raw clock keeps running through deep sleep, so
when NTP or GPS time arrives, `offset = true - raw` is exact for every reading of the same boot:
it gets `t = raw + offset` and joins the spool. Readings held from an earlier boot (power was
lost before the clock was ever set) cannot be placed in time; they are sent with their raw t,
which the contract decoder rejects with code "clock", so the gateway can tell and count them.
When `max_held` readings are held, further readings also go out with their raw t for the same
reason: nothing is silently lost and nothing carries a made-up time.
"""
import os

from micropython import const

import encoder

MIN_T_S = const(1577836800)  # 2020-01-01T00:00:00Z, contract fields.MIN_T_UNIX_S


def is_set(t_s):
    """True when a clock reading in Unix seconds is believable (2020 or later)."""
    return t_s >= MIN_T_S


class Stamper:
    """Turns (seq, time, fields) into records, holding them on flash while the clock is unset."""

    def __init__(self, path="held", max_held=512):
        self.path = path
        self.max_held = max_held
        self.held = 0
        try:
            with open(path) as f:
                for _ in f:
                    self.held += 1
        except OSError:
            pass

    def record(self, seq, t_s, t_ms, boot, tail):
        """A record ready for the spool, or None when held until the clock is set."""
        if is_set(t_s) or self.held >= self.max_held:
            return encoder.head(seq, t_s, t_ms) + tail.encode()
        with open(self.path, "a") as f:
            f.write("%d %d %d %d %s\n" % (boot, t_s, t_ms, seq, tail))
        self.held += 1
        return None

    def release(self, boot, offset_s, spool):
        """The clock is now set (true = raw + offset_s for this boot): stamp every held reading into spool."""
        if not self.held:
            return 0
        n = 0
        with open(self.path) as f:
            for line in f:
                b, raw, ms, seq, tail = line.rstrip("\n").split(" ", 4)
                t_s = int(raw) + (offset_s if int(b) == boot else 0)
                spool.append(encoder.head(int(seq), t_s, int(ms)) + tail.encode())
                n += 1
        os.remove(self.path)
        self.held = 0
        return n
