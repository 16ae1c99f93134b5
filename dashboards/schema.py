"""Every InfluxDB name the dashboards and alert rules read, in one place, so a rename is one edit.

Three sources:
- the wire contract (docs/contract.md, yukimizu/contract/fields.py): measurements soil, water,
  weather, plow; tags site, device_id, field_id, vehicle_id, route; the reading fields. Field names
  are taken from the contract's table so a typo fails at import, not on a wall screen at 4 a.m.
- the edge gateway's own health measurement `gateway` (tag `gateway` = its MQTT client id;
  edge_gateway/metrics.py `gateway_line`): counters are cumulative integers since the spool was
  created, rejected readings as one field per contract code `rejected_<code>`.
- the backend's write-backs: irrigation advice (`advice`) and snow coverage (`coverage`).

Names marked PROPOSED are not written by anyone yet; they are what the dashboards expect and must
be agreed at merge (see the report of the dashboards branch).
"""
from __future__ import annotations

from yukimizu.contract import FIELDS, Kind


def _f(name: str) -> str:
    """A contract field name, checked against the field table."""
    if name not in FIELDS:
        raise KeyError(f"{name} is not a field of wire contract v1")
    return name


# --- contract v1 measurements, tags and fields --------------------------------------------------
SOIL, WATER, WEATHER, PLOW = Kind.SOIL.value, Kind.WATER.value, Kind.WEATHER.value, Kind.PLOW.value
DEVICE_MEASUREMENTS = (SOIL, WATER, WEATHER, PLOW)
FIELD_MEASUREMENTS = (SOIL, WATER)  # carry the registry tag field_id

TAG_SITE = "site"
TAG_DEVICE = "device_id"
TAG_FIELD = "field_id"
TAG_VEHICLE = "vehicle_id"
TAG_ROUTE = "route"

SEQ = "seq"  # integer on every reading: counting it counts readings
VWC_PCT = _f("vwc_pct")
SOIL_TEMP_C = _f("soil_temp_c")
LEVEL_CM = _f("level_cm")
WATER_TEMP_C = _f("water_temp_c")
AIR_TEMP_C = _f("air_temp_c")
RAIN_MM = _f("rain_mm")
LAT = _f("lat")
LON = _f("lon")
SPEED_KM_H = _f("speed_km_h")
BLADE_DOWN = _f("blade_down")
BATTERY_V = _f("battery_v")
RSSI_DBM = _f("rssi_dbm")

# --- edge gateway health (edge_gateway/metrics.py) -----------------------------------------------
GATEWAY = "gateway"
TAG_GATEWAY = "gateway"
GW_RECEIVED = "readings_received"
GW_WRITTEN = "written"
GW_DUPLICATES = "duplicates"
GW_SPOOL_DEPTH = "spool_depth_lines"
GW_SPOOL_AGE_S = "spool_age_s"
GW_WRITE_LATENCY_MS = "write_latency_ms"
GW_REJECTED_PREFIX = "rejected_"
# Reading- and field-level codes of docs/contract.md ("Rejection codes"); message-level codes are
# dead letters, not rejected readings.
REJECTION_CODES = ("bad_json", "unknown_field", "bad_seq", "bad_time", "clock", "no_fields",
                   "wrong_type", "out_of_range", "sensor_fault", "incomplete")

# --- backend write-backs --------------------------------------------------------------------------
ADVICE = "advice"  # tags site, field_id
ADVICE_MESSAGE_JA = "message_ja"
ADVICE_MESSAGE_EN = "message_en"
ADVICE_ACTION = "action"
ADVICE_TARGET_MIN_CM = "target_min_cm"
ADVICE_TARGET_MAX_CM = "target_max_cm"
ADVICE_URGENCY = "urgency"  # float 0 (none) .. 4 (critical)
ADVICE_AMOUNT_MM = "amount_mm"
ADVICE_AMOUNT_L = "amount_l"

COVERAGE = "coverage"  # tag route only (no site tag: routes are city-unique)
COVERAGE_PCT = "coverage_pct"

# --- PROPOSED: device status (retained MQTT `status` channel, written by the gateway) ------------
DEVICE_STATUS = "device_status"  # tags site, device_id
STATUS_FW_VERSION = "fw_version"  # string field

# --- thresholds and intervals (defaults to configure, with their sources) ------------------------
# Cold damage to rice: 7-day mean air temperature under 17 C calls for deep water (NARO; DOMAIN.md).
COLD_DAMAGE_C = 17.0
# Expected reporting interval per kind, s: field sensors wake every 15 min like the farmo paddy
# sensor (DOMAIN.md); weather stations every 10 min. Plows report only while switched on, so a
# silent plow is parked, not broken, and is left out of the silence checks.
EXPECTED_INTERVAL_S = {SOIL: 900, WATER: 900, WEATHER: 600}
SILENT_AFTER_INTERVALS = 3
# ESP32 boards brown out below about 3.3 V on a single Li-ion cell behind an LDO (unverified; configure).
BATTERY_EMPTY_V = 3.3
# A plow is stopped when its speed stays under this, km/h (GPS speed noise at rest is ~1 km/h).
PLOW_STOPPED_KM_H = 2.0
PLOW_STOPPED_MIN = 20
