"""Contract v1 encoder: readings -> `{"v":1,"readings":[...]}` bytes, byte-exact and float-safe.

A reading is kept as one *record*: `,{"seq":..,"t":..,<fields>}` with a leading comma, so the
spool can store records back to back and a whole batch becomes a payload with no copying:
PREFIX + body[1:] + SUFFIX (see `parts`).

Numbers: ESP32 floats are single precision, so `t` is never a float. It is written from two
ints, whole seconds and milliseconds ("1795600000.5"). Float fields are written with a fixed
number of decimals per field (its useful resolution, table below) and trailing zeros removed,
always keeping one decimal so a float field always reads as a float in JSON (frozen types).
"""
from micropython import const

PREFIX = b'{"v":1,"readings":['
SUFFIX = b"]}"
TOPIC_PREFIX = "yukimizu/v1/"

# Decimal places per float field: the finest step worth sending (DS18B20 steps 0.0625 C
# need 4; lat/lon 7 is about 1 cm). Unknown float fields get 4; an
# int given for a field listed here is written as a float (a field's type never changes).
_DECIMALS = {
    "vwc_pct": 2, "soil_temp_c": 4, "level_cm": 2, "water_temp_c": 4,
    "air_temp_c": 2, "rh_pct": 2, "rain_mm": 2, "wind_m_s": 2, "solar_w_m2": 1, "snow_depth_cm": 2,
    "lat": 7, "lon": 7, "speed_km_h": 2, "heading_deg": 2, "hdop": 2,
    "battery_v": 3, "rssi_dbm": 1,
}
_DEFAULT_DECIMALS = const(4)
_MAX_ID_LEN = const(64)


def number(name, value):
    """JSON text for one field value: true/false, an integer, or a float with the field's decimals."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    places = _DECIMALS.get(name, -1)
    if isinstance(value, int) and places < 0:
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("field %s is not finite" % name)
    s = "%.*f" % (places if places >= 0 else _DEFAULT_DECIMALS, value)
    s = s.rstrip("0")
    if s.endswith("."):
        s += "0"
    if s == "-0.0":
        s = "0.0"
    return s


def time_text(t_s, t_ms=0):
    """Unix seconds as JSON text from int seconds and int milliseconds (no float on the way)."""
    if not t_ms:
        return str(t_s)
    return ("%d.%03d" % (t_s, t_ms)).rstrip("0")


def tail(fields):
    """The part of a record after `"t":<t>`: `,"name":value,...}` for (name, value) pairs."""
    out = []
    for name, value in fields:
        if value is None:
            continue
        out.append(',"%s":%s' % (name, number(name, value)))
    out.append("}")
    return "".join(out)


def record(seq, t_s, t_ms, fields):
    """One reading as record bytes (with its leading comma). `fields` is a sequence of (name, value)."""
    return head(seq, t_s, t_ms) + tail(fields).encode()


def head(seq, t_s, t_ms=0):
    """The record start `,{"seq":N,"t":T` as bytes."""
    return (',{"seq":%d,"t":%s' % (seq, time_text(t_s, t_ms))).encode()


def parts(body):
    """The payload for records stored back to back in `body`, as three buffers (no copy)."""
    return (PREFIX, memoryview(body)[1:], SUFFIX)


def payload(body):
    """The payload as one bytes object (tests and small messages)."""
    return PREFIX + bytes(body[1:]) + SUFFIX


def check_id(what, value):
    """Return value if it is a valid site/device id (contract topics.ID_RE), else raise ValueError."""
    ok = isinstance(value, str) and 0 < len(value) <= _MAX_ID_LEN
    if ok:
        for i, c in enumerate(value):
            if not ("a" <= c <= "z" or "0" <= c <= "9" or (i and c in "_-")):
                ok = False
                break
    if not ok:
        raise ValueError("%s %r must be 1-64 of a-z 0-9 _ - starting with a letter or digit" % (what, value))
    return value


def topic(site, kind, device_id, channel="telemetry"):
    """The topic yukimizu/v1/{site}/{kind}/{device_id}/{channel} (contract topics.py)."""
    check_id("site", site)
    check_id("device_id", device_id)
    if kind not in ("soil", "water", "weather", "plow"):
        raise ValueError("kind %r is not soil, water, weather or plow" % (kind,))
    if channel not in ("telemetry", "status", "config"):
        raise ValueError("channel %r is not telemetry, status or config" % (channel,))
    return TOPIC_PREFIX + site + "/" + kind + "/" + device_id + "/" + channel
