"""The ESP32 board: ADC1 pins at 11 dB, DS18B20 on 1-Wire, JSN-SR04T, GPS UART, Wi-Fi, RTC, WDT.

Only this module (and hw_sim) touch machine/network. ADC1 only (GPIO32-39): ADC2 is unusable
while Wi-Fi is on. 11 dB attenuation reads about 150-2450 mV linearly; read_uv() applies the
chip's eFuse calibration (DOMAIN.md, "Sensors on the ESP32").
"""
import asyncio
import gc
import json
import time

import machine
import network
from micropython import const

_EPOCH_OFFSET_S = const(946684800)  # 1970-01-01 to 2000-01-01, for ports whose epoch is 2000
_ADC_SAMPLES = const(16)


class Board:
    """ESP32 implementation of the board interface (see hw_sim.Board for the same API in simulation)."""

    is_sim = False
    ds18b20_conversion_ms = 750  # 12-bit conversion time (DS18B20 datasheet)

    def __init__(self, cfg):
        self.cfg = cfg
        self._epoch_s = _EPOCH_OFFSET_S if time.gmtime(0)[0] == 2000 else 0
        self._wlan = None
        self._wdt = None
        self._uart = None
        self._blade = None
        self._ow = None
        self._roms = None
        self.heap_peak_b = 0

    # --- sensors -------------------------------------------------------------------------
    def _adc(self, pin):
        adc = machine.ADC(machine.Pin(pin))
        adc.atten(machine.ADC.ATTN_11DB)
        return adc

    def soil_raw(self):
        """Capacitive probe, mean of 16 ADC counts (0..4095)."""
        adc = self._adc(self.cfg["soil_adc_pin"])
        total = 0
        for _ in range(_ADC_SAMPLES):
            total += adc.read_u16() >> 4
        return total // _ADC_SAMPLES

    def battery_mv(self):
        """Battery divider pin voltage, mV (eFuse-calibrated)."""
        adc = self._adc(self.cfg["battery_adc_pin"])
        total = 0
        for _ in range(_ADC_SAMPLES):
            total += adc.read_uv()
        return total // _ADC_SAMPLES // 1000

    def ds18b20_start(self):
        """Start a temperature conversion on every DS18B20 on the bus (read it 750 ms later)."""
        import onewire

        if self._ow is None:
            self._ow = onewire.OneWire(machine.Pin(self.cfg["ds18b20_pin"]))
        try:
            self._roms = [r for r in self._ow.scan() if r[0] == 0x28]
            self._ow.reset(True)
            self._ow.writebyte(0xCC)  # SKIP ROM: all sensors convert at once
            self._ow.writebyte(0x44)  # CONVERT T
        except OSError:
            self._roms = []

    def ds18b20_scratch(self):
        """The first sensor's raw 9-byte scratchpad, or None when no sensor answered."""
        ow = self._ow
        if not self._roms or ow is None:
            return None
        buf = bytearray(9)
        try:
            ow.reset(True)
            ow.select_rom(self._roms[0])
            ow.writebyte(0xBE)  # READ SCRATCHPAD
            ow.readinto(buf)
        except OSError:
            return None
        return buf

    def echo_us(self):
        """JSN-SR04T: 10+ us trigger pulse, then the echo pulse width in us (negative on timeout)."""
        trig = machine.Pin(self.cfg["trig_pin"], machine.Pin.OUT, value=0)
        echo = machine.Pin(self.cfg["echo_pin"], machine.Pin.IN)
        time.sleep_us(5)
        trig.value(1)
        time.sleep_us(20)
        trig.value(0)
        return machine.time_pulse_us(echo, 1, 40000)

    def blade(self):
        """Blade switch level: 1 when lowered (input pulled up, switch to ground inverts)."""
        if self._blade is None:
            self._blade = machine.Pin(self.cfg["blade_pin"], machine.Pin.IN, machine.Pin.PULL_UP)
        return 0 if self._blade.value() else 1

    def gps_readinto(self, buf):
        """Move bytes waiting on the GPS UART into buf; returns how many (0 when none).

        Into a buffer the caller keeps: reading a fresh bytes object every 20 ms all night fragments
        the heap until a read of a few hundred bytes fails.
        """
        if self._uart is None:
            self._uart = machine.UART(self.cfg["gps_uart"], baudrate=self.cfg["gps_baud"],
                                      rx=self.cfg["gps_rx_pin"], tx=self.cfg["gps_tx_pin"], rxbuf=2048,
                                      timeout=0)
        if not self._uart.any():
            return 0
        return self._uart.readinto(buf) or 0

    # --- radio ---------------------------------------------------------------------------
    async def wifi_up(self, timeout_ms):
        """Bring Wi-Fi up; True when associated with an address before timeout_ms."""
        if self._wlan is None:
            self._wlan = network.WLAN(network.STA_IF)
        w = self._wlan
        if w.isconnected():
            return True
        w.active(True)
        try:
            w.connect(self.cfg["wifi_ssid"], self.cfg["wifi_password"])
        except OSError:
            return False
        t0 = time.ticks_ms()
        while not w.isconnected():
            if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
                w.active(False)  # give up: Wi-Fi draws 120-260 mA while it searches
                return False
            await asyncio.sleep_ms(50)
        return True

    def wifi_down(self):
        """Switch the radio off."""
        if self._wlan is not None:
            self._wlan.active(False)

    def rssi_dbm(self):
        """Signal strength of the access point, dBm, or None when not connected."""
        try:
            return self._wlan.status("rssi") if self._wlan and self._wlan.isconnected() else None
        except (OSError, ValueError):
            return None

    # --- clock ---------------------------------------------------------------------------
    def time_s(self):
        """RTC time as Unix seconds (before 2020 means never set)."""
        return time.time() + self._epoch_s

    def set_time(self, t_s):
        """Set the RTC to Unix seconds t_s; returns the offset true - old raw time."""
        before = self.time_s()
        tm = time.gmtime(t_s - self._epoch_s)
        machine.RTC().datetime((tm[0], tm[1], tm[2], tm[6] + 1, tm[3], tm[4], tm[5], 0))
        return t_s - before

    async def ntp_sync(self, host):
        """Set the RTC from NTP; returns the offset true - old raw time, or None on failure."""
        import ntptime

        ntptime.host = host
        before = self.time_s()
        t0 = time.ticks_ms()
        try:
            ntptime.settime()
        except (OSError, OverflowError, IndexError):
            return None
        return self.time_s() - before - time.ticks_diff(time.ticks_ms(), t0) // 1000

    # --- power ---------------------------------------------------------------------------
    def rtc_load(self):
        """The dict kept in RTC memory across deep sleep, or None after power-on."""
        raw = machine.RTC().memory()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def rtc_save(self, state):
        """Keep `state` in RTC memory (2 KB at most) for the next wake."""
        machine.RTC().memory(json.dumps(state))

    def wdt_start(self, timeout_ms):
        """Arm the watchdog: a hang resets the board instead of draining the battery."""
        if timeout_ms:
            self._wdt = machine.WDT(timeout=timeout_ms)

    def wdt_feed(self):
        """Tell the watchdog we are alive."""
        if self._wdt is not None:
            self._wdt.feed()

    def deepsleep(self, ms):
        """Sleep until the timer wakes us; execution restarts at boot."""
        self.wifi_down()
        machine.deepsleep(ms)

    def heap_mark(self):
        """Record the live heap after a collection (high-water over the marks)."""
        gc.collect()
        used = gc.mem_alloc()
        if used > self.heap_peak_b:
            self.heap_peak_b = used
        return used
