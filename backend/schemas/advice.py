"""Request and response models of irrigation advice (`/api/v1/advice`, `/api/v1/fields/{id}/advice`)."""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class Lang(str, Enum):
    """Language of `message` (both texts are always in message_ja and message_en)."""

    JA = "ja"
    EN = "en"


class AdviceRunRequest(BaseModel):
    """POST /api/v1/advice/run: compute and write advice now (all sites when `site` is omitted)."""

    model_config = ConfigDict(extra="forbid")
    site: str | None = None
    at_ms: int | None = Field(None, description="compute as of this time, Unix ms UTC (default: now)")


class FieldAdviceOut(BaseModel):
    """One field's advice: what to do, how urgent, how much, why; what the advice had to do without."""

    site: str
    field_id: str
    name: str
    crop: str
    action: str = Field(description="irrigate_now, irrigate_in_days, not_needed, off_season, fill, deepen, lower, "
                                    "drain, hold, check_leak, no_data")
    urgency: int = Field(description="0 none .. 4 critical")
    urgency_name: str
    amount_mm: float | None = Field(description="water to add, mm (0 when none)")
    amount_l: float | None = Field(description="water to add over the field's area, litres (null: area unknown)")
    days: int | None = Field(description="upland: irrigate in this many days (0 = today)")
    target_min_cm: float | None
    target_max_cm: float | None
    stage: str | None
    stage_name: str | None = Field(description="growth stage in the chosen language")
    reasons: list[str]
    message: str = Field(description="the advice in the chosen language (Japanese by default)")
    message_ja: str
    message_en: str
    missing: list[str] = Field(description="inputs the advice had to do without: station, station_rain, humidity, "
                                           "radiation, wind, forecast, forecast_rain, water_level, soil_moisture, "
                                           "or a registry value (area_m2, bloom_date, ...)")
    figures: dict[str, float | None] = Field(description="the numbers behind the text (depletion_mm, raw_mm, "
                                                         "level_cm, fall_cm_h, running_mean_c, ...)")


class WeatherOut(BaseModel):
    """What the site's weather input held."""

    first_day: str = Field(description="first JST day of the history used")
    last_day: str = Field(description="last JST day (yesterday)")
    stations: int = Field(description="weather stations that reported in that window")
    missing: list[str]
    forecast_source: str | None
    forecast_error: str | None = Field(description="why the configured forecast feed could not be used")


class SiteAdviceOut(BaseModel):
    """Advice for every field of a site, most urgent first."""

    site: str
    as_of_ms: int
    as_of: str = Field(description="as_of in JST, ISO 8601")
    weather: WeatherOut
    advice: list[FieldAdviceOut]


class OneAdviceOut(BaseModel):
    """Advice for one field, with the site's weather input."""

    as_of_ms: int
    as_of: str
    weather: WeatherOut
    advice: FieldAdviceOut


class AdviceRunOut(BaseModel):
    """What an advice run wrote."""

    at_ms: int
    bucket_ms: int = Field(description="timestamp of the written points (start of the advice.bucket_s bucket)")
    written: dict[str, int] = Field(description="site -> fields written")
    errors: dict[str, str]
