"""Codes shared by the advice engine and its output: actions, urgency, reasons (each reason has a sentence in
messages.toml)."""
from __future__ import annotations

from enum import Enum, IntEnum

from backend.agronomy.weather import WeatherPart


class Action(str, Enum):
    """What the farmer should do."""

    IRRIGATE_NOW = "irrigate_now"
    IRRIGATE_IN_DAYS = "irrigate_in_days"
    NOT_NEEDED = "not_needed"
    OFF_SEASON = "off_season"
    FILL = "fill"
    DEEPEN = "deepen"
    LOWER = "lower"
    DRAIN = "drain"
    HOLD = "hold"
    CHECK_LEAK = "check_leak"
    NO_DATA = "no_data"


class Urgency(IntEnum):
    """Sortable urgency: higher first."""

    NONE = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class ReasonCode(str, Enum):
    """Why; each has a sentence in messages.toml."""

    DEPLETION = "depletion"
    CROSSES_RAW = "crosses_raw"
    RAIN_AHEAD = "rain_ahead"
    SENSOR_CORRECTED = "sensor_corrected"
    SENSOR_DISAGREES = "sensor_disagrees"
    SENSOR_REJECTED = "sensor_rejected"
    STAGE = "stage"
    BEFORE_TRANSPLANT = "before_transplant"
    COLD_RUNNING_MEAN = "cold_running_mean"
    COLD_SENSITIVE_VARIETY = "cold_sensitive_variety"
    COLD_CONSIDER = "cold_consider"
    COLD_NIGHT_FORECAST = "cold_night_forecast"
    COLD_NIGHT_TREND = "cold_night_trend"
    LEAK_RATE = "leak_rate"
    OVERFLOW = "overflow"
    NO_LEVEL = "no_level"
    LEVEL_STALE = "level_stale"
    DRAIN_UNTIL_CRACKS = "drain_until_cracks"
    FINAL_DRAINAGE = "final_drainage"
    INTERMITTENT = "intermittent"
    # what was missing and what was done instead: said last
    NO_STATION = "no_station"
    NO_STATION_RAIN = "no_station_rain"
    NO_HUMIDITY = "no_humidity"
    NO_RADIATION = "no_radiation"
    NO_WIND = "no_wind"
    NO_FORECAST = "no_forecast"
    NO_FORECAST_RAIN = "no_forecast_rain"
    NO_ET_AHEAD = "no_et_ahead"  # upland: neither station nor forecast, so no evapotranspiration ahead
    NO_STATION_MEAN = "no_station_mean"  # paddy: no station, so no 7-day mean temperature check
    NO_COLD_CHECK = "no_cold_check"  # paddy: neither station nor forecast, so no cold check at all


PART_REASON = {WeatherPart.STATION: ReasonCode.NO_STATION, WeatherPart.STATION_RAIN: ReasonCode.NO_STATION_RAIN,
                WeatherPart.HUMIDITY: ReasonCode.NO_HUMIDITY, WeatherPart.RADIATION: ReasonCode.NO_RADIATION,
                WeatherPart.WIND: ReasonCode.NO_WIND, WeatherPart.FORECAST: ReasonCode.NO_FORECAST,
                WeatherPart.FORECAST_RAIN: ReasonCode.NO_FORECAST_RAIN}
