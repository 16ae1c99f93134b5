"""The field table of wire contract v1: every reading field, its unit, type and valid range.

docs/contract.md is generated from the same facts by hand; `tests/yukimizu/contract/test_docs.py`
checks the two agree, so the table here is the single source for code.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    """Device kinds; each is one InfluxDB measurement."""

    SOIL = "soil"
    WATER = "water"
    WEATHER = "weather"
    PLOW = "plow"


class FieldType(str, Enum):
    """InfluxDB field types. A field's type is frozen forever (InfluxDB rejects a change)."""

    FLOAT = "float"
    INT = "int"
    BOOL = "bool"


@dataclass(frozen=True)
class FieldSpec:
    """One reading field: name (with unit), type, inclusive valid range, kinds that may send it."""

    name: str
    type: FieldType
    min: float | None
    max: float | None
    kinds: frozenset[Kind]
    description: str


_ALL = frozenset(Kind)
_F, _I, _B = FieldType.FLOAT, FieldType.INT, FieldType.BOOL


def _k(*kinds: Kind) -> frozenset[Kind]:
    return frozenset(kinds)


FIELDS: dict[str, FieldSpec] = {
    f.name: f
    for f in [
        FieldSpec("vwc_pct", _F, 0.0, 100.0, _k(Kind.SOIL), "volumetric water content, % by volume"),
        FieldSpec("soil_temp_c", _F, -30.0, 60.0, _k(Kind.SOIL), "soil temperature, deg C (DS18B20)"),
        FieldSpec("level_cm", _F, -30.0, 100.0, _k(Kind.WATER), "paddy water depth above the field surface, cm"),
        FieldSpec("water_temp_c", _F, -5.0, 45.0, _k(Kind.WATER), "water temperature, deg C (DS18B20)"),
        FieldSpec("air_temp_c", _F, -40.0, 50.0, _k(Kind.WEATHER), "air temperature, deg C"),
        FieldSpec("rh_pct", _F, 0.0, 100.0, _k(Kind.WEATHER), "relative humidity, %"),
        FieldSpec("rain_mm", _F, 0.0, 200.0, _k(Kind.WEATHER), "rain since the previous reading, mm"),
        FieldSpec("wind_m_s", _F, 0.0, 75.0, _k(Kind.WEATHER), "wind speed at the sensor height, m/s"),
        FieldSpec("solar_w_m2", _F, 0.0, 1500.0, _k(Kind.WEATHER), "global solar irradiance, W/m2"),
        FieldSpec("snow_depth_cm", _F, 0.0, 500.0, _k(Kind.WEATHER), "snow depth on the ground, cm"),
        FieldSpec("lat", _F, 20.0, 46.0, _k(Kind.PLOW), "latitude, decimal degrees WGS84 (Japan's box)"),
        FieldSpec("lon", _F, 122.0, 154.0, _k(Kind.PLOW), "longitude, decimal degrees WGS84 (Japan's box)"),
        FieldSpec("speed_km_h", _F, 0.0, 150.0, _k(Kind.PLOW), "ground speed, km/h"),
        FieldSpec("heading_deg", _F, 0.0, 360.0, _k(Kind.PLOW), "course over ground, degrees from true north"),
        FieldSpec("hdop", _F, 0.0, 99.99, _k(Kind.PLOW), "horizontal dilution of precision"),
        FieldSpec("sats", _I, 0, 64, _k(Kind.PLOW), "satellites used in the fix"),
        FieldSpec("blade_down", _B, None, None, _k(Kind.PLOW), "plow blade lowered (clearing) when true"),
        FieldSpec("battery_v", _F, 0.0, 30.0, _ALL, "supply or battery voltage, V"),
        FieldSpec("rssi_dbm", _F, -130.0, 0.0, _ALL, "radio signal strength, dBm"),
    ]
}

# Sensor sentinel values that are in no sense measurements (DOMAIN.md, "Sensors on the ESP32").
SENTINELS: dict[str, dict[float, str]] = {
    "soil_temp_c": {85.0: "DS18B20 power-on value 85.0 (conversion never ran)", -127.0: "DS18B20 disconnected (-127.0)"},
    "water_temp_c": {85.0: "DS18B20 power-on value 85.0 (conversion never ran)", -127.0: "DS18B20 disconnected (-127.0)"},
}

# Fields that must come together or not at all.
PAIRS: tuple[tuple[str, str], ...] = (("lat", "lon"),)

# Earliest believable reading time: a device whose clock was never set reports 1970 or 2000.
MIN_T_UNIX_S = 1_577_836_800  # 2020-01-01T00:00:00Z
# Latest believable reading time relative to the receiver's clock.
MAX_FUTURE_S = 600
MAX_SEQ = 2**53 - 1  # exact in a double, so JSON readers in any language agree
MAX_READINGS = 1000
MAX_PAYLOAD_BYTES = 256 * 1024
