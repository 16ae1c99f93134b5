"""Reading sequence numbers that survive deep sleep and power loss without wearing flash.

Between deep sleeps the counter lives in RTC memory (kept while asleep, lost at power-off).
Flash holds only a *reservation*: "numbers below N may have been used". Each time the counter
reaches the reservation, N grows by `block` (one small flash write per `block` readings: with
256 and a 10-minute cycle, one write every 42 hours). After a power loss the counter restarts
at N, so a number is never used twice; the cost is a gap of at most `block` numbers, which the
gateway reads as "power was lost", not as lost readings (they were never taken).

`boot` is the reservation at power-on: a different value for every power-on, used to tell
which held readings share the current, unset clock's timeline (see clock.py).
"""
import os


class Seq:
    """A seq counter backed by RTC memory state and a flash reservation file."""

    def __init__(self, path="seq", block=256, state=None):
        if block < 1:
            raise ValueError("seq block must be >= 1")
        self.path = path
        self.block = block
        if state and "seq" in state and "lim" in state and "boot" in state:
            self.next = int(state["seq"])
            self.limit = int(state["lim"])
            self.boot = int(state["boot"])
            self.power_on = False
        else:
            try:
                with open(path) as f:
                    base = int(f.read())
            except (OSError, ValueError):
                base = 0
            self.next = self.limit = self.boot = base
            self.power_on = True
            self._reserve()

    def _reserve(self):
        self.limit += self.block
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(self.limit))
        os.rename(tmp, self.path)

    def take(self):
        """The next seq number (reserving a new block on flash when this one is used up)."""
        if self.next >= self.limit:
            self._reserve()
        s = self.next
        self.next += 1
        return s

    def state(self):
        """What to keep in RTC memory across deep sleep."""
        return {"seq": self.next, "lim": self.limit, "boot": self.boot}
