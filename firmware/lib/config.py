"""Per-device configuration: JSON on the board plus remote overrides from the retained config topic.

`config.json` on the board holds identity, Wi-Fi, broker and calibration; every key is checked
against SCHEMA before anything touches the network. The retained message on
yukimizu/v1/{site}/{kind}/{device_id}/config may override the keys marked remote (intervals,
calibration, mounting height). A remote document is applied only if every key in it is valid;
otherwise the last good configuration stays in force and the reason (key, rule, value) is
reported on the status topic. The last good remote override is kept in `config_remote.json`
so it survives deep sleep and power loss.
"""
import json
import os

from micropython import const

import encoder

BOARD_PATH = "config.json"
REMOTE_PATH = "config_remote.json"

_ID = const(0)
_STR = const(1)
_INT = const(2)
_NUM = const(3)
_BOOL = const(4)
_KIND = const(5)

# name: (type, min, max, may be set remotely, default). None default = required on the board.
SCHEMA = {
    "device_id": (_ID, 0, 0, False, None),
    "site": (_ID, 0, 0, False, None),
    "kind": (_KIND, 0, 0, False, None),
    "wifi_ssid": (_STR, 0, 32, False, ""),
    "wifi_password": (_STR, 0, 64, False, ""),
    "broker_url": (_STR, 8, 200, False, None),
    "broker_user": (_STR, 0, 64, False, ""),
    "broker_password": (_STR, 0, 128, False, ""),
    "broker_ca_file": (_STR, 0, 64, False, ""),  # DER CA on the board; mqtts:// then verifies the broker
    "ntp_host": (_STR, 0, 64, False, "pool.ntp.org"),
    "keepalive_s": (_INT, 10, 3600, True, 120),
    "connect_timeout_ms": (_INT, 200, 60000, True, 15000),
    "ack_timeout_ms": (_INT, 100, 60000, True, 3000),
    "backoff_max_ms": (_INT, 500, 600000, True, 60000),  # longest wait between reconnect attempts
    "interval_s": (_INT, 10, 86400, True, 600),
    "raw_dry": (_INT, 0, 4095, True, 3000),
    "raw_wet": (_INT, 0, 4095, True, 1300),
    "mount_height_cm": (_NUM, 10, 500, True, 120.0),
    "battery_divider": (_NUM, 1, 20, True, 2.0),
    "sample_ms": (_INT, 50, 60000, True, 1000),
    "batch_ms": (_INT, 100, 600000, True, 5000),
    "debounce_ms": (_INT, 1, 1000, True, 50),
    "spool_max_readings": (_INT, 1, 200000, False, 4096),
    "spool_segment_readings": (_INT, 1, 256, False, 32),
    "seq_block": (_INT, 1, 65536, False, 256),
    "max_held": (_INT, 0, 100000, False, 512),
    "soil_adc_pin": (_INT, 32, 39, False, 34),
    "battery_adc_pin": (_INT, 32, 39, False, 35),
    "ds18b20_pin": (_INT, 0, 39, False, 4),
    "trig_pin": (_INT, 0, 39, False, 5),
    "echo_pin": (_INT, 0, 39, False, 18),
    "blade_pin": (_INT, 0, 39, False, 27),
    "gps_uart": (_INT, 1, 2, False, 2),
    "gps_rx_pin": (_INT, 0, 39, False, 16),
    "gps_tx_pin": (_INT, 0, 39, False, 17),
    "gps_baud": (_INT, 4800, 921600, False, 9600),
    "wdt_ms": (_INT, 0, 600000, False, 60000),
    "run_s": (_INT, 0, 864000, False, 0),
    "sim_feed": (_STR, 0, 200, False, ""),
    "sim_uart": (_STR, 0, 200, False, ""),
}
_TYPE_TEXT = ("a contract id (a-z 0-9 _ -)", "a string", "an integer", "a number", "true or false", "soil, water or plow")


def check(name, value):
    """Return value (floats widened from ints) if valid for key `name`, else raise ValueError saying why."""
    spec = SCHEMA.get(name)
    if spec is None:
        raise ValueError("config key %s: unknown key" % name)
    typ, lo, hi = spec[0], spec[1], spec[2]
    ok = True
    if typ == _ID:
        try:
            encoder.check_id(name, value)
        except ValueError:
            ok = False
    elif typ == _KIND:
        ok = value in ("soil", "water", "plow")
    elif typ == _STR:
        ok = isinstance(value, str) and lo <= len(value) <= hi
    elif typ == _BOOL:
        ok = type(value) is bool
    elif type(value) is bool or not isinstance(value, (int, float)):
        ok = False
    elif typ == _INT and not isinstance(value, int):
        ok = False
    else:
        ok = lo <= value <= hi
        if ok and typ == _NUM:
            value = float(value)
    if not ok:
        rng = (" %s..%s" % (lo, hi)) if typ in (_INT, _NUM) else ((" of length %d..%d" % (lo, hi)) if typ == _STR else "")
        raise ValueError("config key %s: must be %s%s, got %r" % (name, _TYPE_TEXT[typ], rng, value))
    return value


def _cross_check(cfg):
    if cfg["raw_dry"] == cfg["raw_wet"]:
        raise ValueError("config key raw_wet: must differ from raw_dry (%d)" % cfg["raw_dry"])
    if cfg["spool_max_readings"] < cfg["spool_segment_readings"]:
        raise ValueError("config key spool_max_readings: must be >= spool_segment_readings")
    url = cfg["broker_url"]
    if not (url.startswith("mqtt://") or url.startswith("mqtts://")):
        raise ValueError("config key broker_url: must start with mqtt:// or mqtts://, got %r" % url)
    broker(url)


def broker(url):
    """(host, port, tls) from mqtt://host[:port] or mqtts://host[:port]."""
    tls = url.startswith("mqtts://")
    rest = url[8:] if tls else url[7:]
    rest = rest.split("/")[0]
    port = 8883 if tls else 1883
    if ":" in rest:
        host, p = rest.rsplit(":", 1)
        try:
            port = int(p)
        except ValueError:
            raise ValueError("config key broker_url: port %r is not a number" % p)
    else:
        host = rest
    if not host or not 0 < port < 65536:
        raise ValueError("config key broker_url: no host or bad port in %r" % url)
    return host, port, tls


def validate(doc, base=None, remote=False):
    """A full config from `doc` over `base` (or the defaults). Raises ValueError naming the first bad key."""
    if not isinstance(doc, dict):
        raise ValueError("config must be a JSON object")
    cfg = dict(base) if base else {}
    if base is None:
        for name in SCHEMA:
            default = SCHEMA[name][4]
            if default is not None:
                cfg[name] = default
    for name, value in doc.items():
        spec = SCHEMA.get(name)
        if spec is None:
            raise ValueError("config key %s: unknown key" % name)
        if remote and not spec[3]:
            raise ValueError("config key %s: cannot be set remotely (board config only)" % name)
        cfg[name] = check(name, value)
    for name in SCHEMA:
        if name not in cfg:
            raise ValueError("config key %s: required in %s" % (name, BOARD_PATH))
    _cross_check(cfg)
    return cfg


def load():
    """(board, cfg): the board config and it with the last good remote override; ValueError if the board config is bad."""
    try:
        with open(BOARD_PATH) as f:
            doc = json.load(f)
    except OSError:
        raise ValueError("no %s on the board" % BOARD_PATH)
    except ValueError:
        raise ValueError("%s is not valid JSON" % BOARD_PATH)
    board = validate(doc)
    cfg = board
    try:
        with open(REMOTE_PATH) as f:
            cfg = validate(json.load(f), board, remote=True)
    except (OSError, ValueError):
        pass  # none yet, or written by an older firmware: the board config stands
    return board, cfg


class Remote:
    """Applies retained config documents: valid ones are kept on flash, bad ones are reported."""

    def __init__(self, board, cfg):
        self.board = board
        self.cfg = cfg
        self.error = None
        self.changed = False

    def apply(self, payload):
        """Apply one config message; returns True when the configuration changed."""
        try:
            # An empty retained message clears the overrides: back to the board config.
            doc = json.loads(payload) if len(payload) else {}
            cfg = validate(doc, self.board, remote=True)
        except ValueError as e:
            self.error = str(e) if str(e).startswith("config") else "config message is not a JSON object: " + str(e)
            return False
        self.error = None
        if cfg == self.cfg:
            return False
        tmp = REMOTE_PATH + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.rename(tmp, REMOTE_PATH)
        self.cfg = cfg
        self.changed = True
        return True
