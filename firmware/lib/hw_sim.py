"""The simulated board for the MicroPython unix port: same API as hw_esp32.Board.

Sensor values come from a *feed*: a JSON object in a file named by the config key `sim_feed`
or the environment variable YUKIMIZU_SIM_FEED, re-read when it changes (keys and meaning in
firmware/README.md, "Simulator feed"). Without a feed every sensor gives plausible values of
its own. GPS bytes come from `sim_uart` / YUKIMIZU_SIM_UART: `udp:PORT` (datagrams sent to
127.0.0.1:PORT), `file:PATH` (played at the configured baud rate), or, when empty, a built-in
receiver driving east through Goshogawara at 27 km/h with 1 Hz RMC+GGA.

Board state that a real ESP32 keeps across deep sleep is kept in files in the current folder
(the board's flash): `sim_rtc.json` (RTC memory) and `sim_clock` (RTC clock offset). Deleting
both is a power cut. Deep sleep prints `DEEPSLEEP <ms>` and ends the process: the next run is
the next wake.
"""
import gc
import json
import math
import os
import sys
import time

from micropython import const

import sensors

_POWER_ON_UNIX_S = const(946684800)  # an unset ESP32 RTC starts at 2000-01-01
_RTC_FILE = "sim_rtc.json"
_CLOCK_FILE = "sim_clock"
_FEED_CHECK_MS = const(100)


def _nmea(body):
    """A sentence with its checksum: XOR of the characters between $ and * (NMEA 0183)."""
    c = 0
    for ch in body:
        c ^= ord(ch)
    return "$%s*%02X\r\n" % (body, c)


def _dm(deg, lat):
    d = int(abs(deg))
    m = (abs(deg) - d) * 60
    return ("%02d%07.4f,%s" if lat else "%03d%07.4f,%s") % (d, m, ("N" if deg >= 0 else "S") if lat else ("E" if deg >= 0 else "W"))


class Board:
    """Simulated board: sensors from the feed, GPS from UDP/file/built-in, radio and clock in files."""

    is_sim = True

    def __init__(self, cfg):
        self.cfg = cfg
        self.heap_peak_b = 0
        self._feed_path = cfg.get("sim_feed") or os.getenv("YUKIMIZU_SIM_FEED") or ""
        self._feed = {}
        self._feed_stamp = None
        self._feed_checked = time.ticks_add(time.ticks_ms(), -1000)
        self._uart_spec = cfg.get("sim_uart") or os.getenv("YUKIMIZU_SIM_UART") or ""
        self._uart = None
        self._uart_file = None
        self._uart_t0 = time.ticks_ms()
        self._uart_sent = 0
        self._gps_next = time.ticks_ms()
        self._gps_t0 = None
        self._wifi = False
        self.ds18b20_conversion_ms = 750
        self._offset_s = self._load_clock()

    # --- the feed ------------------------------------------------------------------------
    def feed(self):
        """The current feed dict (re-read at most every 100 ms when the file changed)."""
        if not self._feed_path:
            return self._feed
        now = time.ticks_ms()
        if time.ticks_diff(now, self._feed_checked) >= _FEED_CHECK_MS:
            self._feed_checked = now
            try:
                st = os.stat(self._feed_path)
                stamp = (st[6], st[8])
                if stamp != self._feed_stamp:
                    with open(self._feed_path) as f:
                        self._feed = json.load(f)
                    self._feed_stamp = stamp
            except (OSError, ValueError):
                pass  # a feed being rewritten: keep the last values
            self.ds18b20_conversion_ms = int(self._feed.get("conversion_ms", 750))
        return self._feed

    def _wave(self, period_s, amp):
        return amp * math.sin(2 * math.pi * (time.time() % period_s) / period_s)

    # --- sensors -------------------------------------------------------------------------
    def soil_raw(self):
        """ADC counts of the soil probe (feed `soil_raw`, else about 2200 drifting)."""
        return int(self.feed().get("soil_raw", 2200 + self._wave(3600, 100)))

    def battery_mv(self):
        """Divider pin voltage, mV (feed `battery_v` divided by the configured ratio)."""
        v = self.feed().get("battery_v", 3.9 + self._wave(86400, 0.1))
        return int(v * 1000 / self.cfg["battery_divider"])

    def ds18b20_start(self):
        """Start a conversion (nothing to do in simulation)."""
        self.feed()

    def ds18b20_scratch(self):
        """Scratchpad for feed `temp_c`: a number, or power_on / disconnected / crc_error / absent."""
        v = self.feed().get("temp_c", 12.0 + self._wave(86400, 3.0))
        if v == "absent":
            return None
        if v == "power_on":
            return sensors.ds18b20_scratch(85.0)
        if v == "disconnected":
            return sensors.ds18b20_scratch(-127.0)
        if v == "crc_error":
            b = sensors.ds18b20_scratch(12.0)
            b[0] ^= 0x04  # one flipped bit on the wire
            return b
        return sensors.ds18b20_scratch(float(v))

    def echo_us(self):
        """Echo pulse for feed `distance_cm` (null: no echo, -1) through air at feed `temp_c` (else 10 C)."""
        f = self.feed()
        d = f.get("distance_cm", 114.0 + self._wave(7200, 2.0))
        if d is None:
            return -1
        air_c = f.get("temp_c", 10.0)
        if not isinstance(air_c, (int, float)):
            air_c = 10.0
        return int(d * 20000 / sensors.sound_m_s(air_c) + 0.5)

    def blade(self):
        """Blade level from feed `blade` (else lowered for 40 s of every 60 s)."""
        f = self.feed()
        if "blade" in f:
            return 1 if f["blade"] else 0
        return 1 if time.time() % 60 < 40 else 0

    def gps_readinto(self, buf):
        """Move bytes that arrived on the simulated GPS UART into buf; returns how many (0 when none).

        `udp:PORT` takes one datagram per call (a datagram longer than buf is cut, as a UART
        overrun loses bytes); `file:PATH` replays a capture at gps_baud; else a built-in drive.
        Feed `gps_fault` ("MemoryError" or "OSError") makes every read fail so while it is set.
        """
        fault = self.feed().get("gps_fault")
        if fault == "MemoryError":
            raise MemoryError("memory allocation failed, allocating %d bytes" % len(buf))
        if fault:
            raise OSError(5)  # EIO, as a UART driver reports a hardware fault
        spec = self._uart_spec
        if spec.startswith("udp:"):
            if self._uart is None:
                import socket

                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(socket.getaddrinfo("127.0.0.1", int(spec[4:]))[0][-1])
                s.setblocking(False)
                self._uart = s
            try:
                return self._uart.readinto(buf) or 0
            except OSError:
                return 0
        if spec.startswith("file:"):
            if self._uart_file is None:
                self._uart_file = open(spec[5:], "rb")
                self._uart_t0 = time.ticks_ms()
            due = time.ticks_diff(time.ticks_ms(), self._uart_t0) * self.cfg["gps_baud"] // 10000
            n = due - self._uart_sent
            if n <= 0:
                return 0
            got = self._uart_file.readinto(memoryview(buf)[:min(n, len(buf))]) or 0
            self._uart_sent += got if got else n
            return got
        data = self._builtin_gps()
        if data is None:
            return 0
        n = min(len(data), len(buf))
        buf[:n] = data[:n]
        return n

    def _builtin_gps(self):
        now = time.ticks_ms()
        if time.ticks_diff(now, self._gps_next) < 0:
            return None
        self._gps_next = time.ticks_add(now, 1000)
        t_ns = time.time_ns()
        t = t_ns // 1000000000
        cs = t_ns // 10000000 % 100
        if self._gps_t0 is None:
            self._gps_t0 = t
        east_m = (t - self._gps_t0) * 7.5  # 27 km/h
        lat = 40.8081
        lon = 140.4401 + east_m / (111320.0 * math.cos(math.radians(lat)))
        tm = time.gmtime(t)
        hms = "%02d%02d%02d.%02d" % (tm[3], tm[4], tm[5], cs)
        dmy = "%02d%02d%02d" % (tm[2], tm[1], tm[0] % 100)
        rmc = _nmea("GPRMC,%s,A,%s,%s,14.58,90.0,%s,,,A" % (hms, _dm(lat, True), _dm(lon, False), dmy))
        gga = _nmea("GPGGA,%s,%s,%s,1,09,0.9,12.0,M,39.0,M,," % (hms, _dm(lat, True), _dm(lon, False)))
        return (rmc + gga).encode()

    # --- radio ---------------------------------------------------------------------------
    async def wifi_up(self, timeout_ms):
        """Associated unless the feed says `"wifi": false`."""
        self._wifi = bool(self.feed().get("wifi", True))
        return self._wifi

    def wifi_down(self):
        """Radio off."""
        self._wifi = False

    def rssi_dbm(self):
        """Feed `rssi_dbm` (default -61) while associated."""
        return self.feed().get("rssi_dbm", -61) if self._wifi else None

    # --- clock ---------------------------------------------------------------------------
    def _load_clock(self):
        try:
            with open(_CLOCK_FILE) as f:
                return int(f.read())
        except (OSError, ValueError):
            # Power-on: the RTC starts at 2000-01-01, like an ESP32 that was never set.
            off = _POWER_ON_UNIX_S - int(time.time())
            self._save_clock(off)
            return off

    def _save_clock(self, off):
        with open(_CLOCK_FILE, "w") as f:
            f.write(str(off))

    def time_s(self):
        """Board clock, Unix seconds (before 2020 until NTP or GPS set it)."""
        return int(time.time()) + self._offset_s

    def set_time(self, t_s):
        """Set the board clock; returns true - old raw time."""
        before = self.time_s()
        self._offset_s = t_s - int(time.time())
        self._save_clock(self._offset_s)
        return t_s - before

    async def ntp_sync(self, host):
        """NTP from the host's clock, unless the feed says `"ntp": false`."""
        if not self.feed().get("ntp", True) or not self._wifi:
            return None
        return self.set_time(int(time.time()))

    # --- power ---------------------------------------------------------------------------
    def rtc_load(self):
        """RTC memory kept across deep sleep, None after a power cut."""
        try:
            with open(_RTC_FILE) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def rtc_save(self, state):
        """Keep state for the next wake."""
        with open(_RTC_FILE, "w") as f:
            json.dump(state, f)

    def wdt_start(self, timeout_ms):
        """No watchdog in simulation."""

    def wdt_feed(self):
        """No watchdog in simulation."""

    def deepsleep(self, ms):
        """Print the sleep and end the process: the next run is the next wake."""
        print("DEEPSLEEP %d" % ms)
        sys.exit(0)

    def heap_mark(self):
        """Record the live heap after a collection (high-water over the marks)."""
        gc.collect()
        used = gc.mem_alloc()
        if used > self.heap_peak_b:
            self.heap_peak_b = used
        return used
