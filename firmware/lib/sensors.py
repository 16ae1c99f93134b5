"""Sensor conversions shared by every board: pure functions, no hardware access.

Units are in every name. The hardware layer returns raw values (ADC counts, DS18B20
scratchpad bytes, echo pulse microseconds, pin levels); the physics lives here, where the
unix-port tests reach it.
"""
from micropython import const

DS18B20_POWER_ON_C = 85.0  # scratchpad reset value: the conversion never ran (datasheet, p. 6)
DS18B20_DISCONNECTED_C = -127.0  # what several drivers report for a missing sensor
_SR04T_MIN_CM = const(20)  # JSN-SR04T blind zone (about 20-25 cm) and its longest range
_SR04T_MAX_CM = const(600)


def crc8(data):
    """Dallas/Maxim 1-Wire CRC-8 (polynomial x^8+x^5+x^4+1, reflected 0x8C; Maxim AN27)."""
    crc = 0
    for b in data:
        for _ in range(8):
            mix = (crc ^ b) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            b >>= 1
    return crc


def ds18b20_c(scratch):
    """(temperature deg C, "") from a 9-byte DS18B20 scratchpad, or (None, reason) when it is not a reading."""
    if scratch is None:
        return None, "no DS18B20 on the bus"
    if len(scratch) != 9 or crc8(memoryview(scratch)[:8]) != scratch[8]:
        return None, "DS18B20 CRC error"
    raw = scratch[0] | (scratch[1] << 8)
    if raw & 0x8000:
        raw -= 0x10000
    temp_c = raw / 16.0  # 12-bit resolution, 0.0625 C per count (datasheet, Table 1)
    if temp_c == DS18B20_POWER_ON_C:
        return None, "DS18B20 power-on value 85.0 (conversion never ran)"
    if temp_c == DS18B20_DISCONNECTED_C:
        return None, "DS18B20 disconnected (-127.0)"
    return temp_c, ""


def ds18b20_scratch(temp_c):
    """The scratchpad a DS18B20 holding `temp_c` returns (for the simulator and tests)."""
    raw = int(round(temp_c * 16)) & 0xFFFF
    b = bytearray((raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0))
    b[8] = crc8(memoryview(b)[:8])
    return b


def vwc_pct(raw, raw_dry, raw_wet):
    """Volumetric water content, % (two-point linear calibration, clamped to 0..100).

    vwc = 100 * (raw_dry - raw) / (raw_dry - raw_wet): raw_dry is the probe's ADC count in
    air-dry soil, raw_wet in saturated soil (capacitive probes read lower when wet). This is a
    relative index per device; true VWC needs a per-soil fit (DOMAIN.md, "Sensors on the ESP32").
    """
    v = 100.0 * (raw_dry - raw) / (raw_dry - raw_wet)
    if v < 0.0:
        return 0.0
    if v > 100.0:
        return 100.0
    return v


def sound_m_s(air_c):
    """Speed of sound in air, m/s: 331.3 + 0.606 T (linearised ideal-gas law, e.g. Kinsler et al.)."""
    return 331.3 + 0.606 * air_c


def distance_cm(echo_us, air_c=10.0):
    """Distance to the water surface, cm, from the ultrasonic echo round trip in us; None if out of range."""
    if echo_us is None or echo_us <= 0:
        return None
    d = echo_us * sound_m_s(air_c) / 20000.0  # us * m/s -> cm, halved for the round trip
    if d < _SR04T_MIN_CM or d > _SR04T_MAX_CM:
        return None
    return d


def median(values):
    """Median of a small list (sorted in place)."""
    values.sort()
    n = len(values)
    if n % 2:
        return values[n // 2]
    return (values[n // 2 - 1] + values[n // 2]) / 2


def level_cm(mount_height_cm, dist_cm):
    """Water depth above the field surface, cm: sensor mounting height above the surface minus the distance."""
    return mount_height_cm - dist_cm


def battery_v(pin_mv, divider):
    """Battery voltage, V, from the ADC pin voltage in mV behind a resistor divider of ratio `divider`."""
    return pin_mv * divider / 1000.0


class Debouncer:
    """A digital input that changes state only after holding the new level for `hold_ms`."""

    def __init__(self, hold_ms, level=0):
        self.hold_ms = hold_ms
        self.state = level
        self._cand = level
        self._since = 0

    def update(self, level, now_ms, ticks_diff):
        """Feed one sampled level at time now_ms; returns the debounced state."""
        if level != self._cand:
            self._cand = level
            self._since = now_ms
        elif level != self.state and ticks_diff(now_ms, self._since) >= self.hold_ms:
            self.state = level
        return self.state
