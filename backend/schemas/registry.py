"""Request and response models of the site registry (sites, fields, routes, roads, vehicles, devices).

Create models forbid unknown keys and check every value, so a 422 names the field that is wrong.
Update models (PATCH) take any subset; sending null for a required column is refused by name.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from enum import Enum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from yukimizu.contract.fields import Kind
from yukimizu.contract.topics import ID_RE

from ..registry.geo import GeometryError, check_line, check_polygon

# Ids become MQTT topic levels and InfluxDB tags, so they follow the contract's id rule.
Id = Annotated[str, StringConstraints(pattern=ID_RE.pattern)]
Stage = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Crop(str, Enum):
    """Crops grown on the Tsugaru plain that the engines know."""

    PADDY = "paddy"
    APPLE = "apple"
    VEGETABLE = "vegetable"
    SOY = "soy"
    WHEAT = "wheat"
    OTHER = "other"


class SoilTexture(str, Enum):
    """Soil texture classes of FAO-56 table 19."""

    SAND = "sand"
    LOAMY_SAND = "loamy_sand"
    SANDY_LOAM = "sandy_loam"
    LOAM = "loam"
    SILT_LOAM = "silt_loam"
    SILT = "silt"
    SILTY_CLAY_LOAM = "silty_clay_loam"
    SILTY_CLAY = "silty_clay"
    CLAY = "clay"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Update(_In):
    # Columns that may not be set to null once they exist.
    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "_Update":
        for name in self.NOT_NULL:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


def _polygon(v: Any) -> Any:
    if v is None:
        return v
    try:
        return check_polygon(v)
    except GeometryError as e:
        raise ValueError(f"invalid GeoJSON: {e}") from None


def _line(v: Any) -> Any:
    try:
        return check_line(v)
    except GeometryError as e:
        raise ValueError(f"invalid GeoJSON: {e}") from None


# ---- sites ---------------------------------------------------------------------------------------

class SiteCreate(_In):
    """A site (one city or farm area; the first topic level)."""

    id: Id
    name: str = ""
    latitude_deg: float | None = Field(None, ge=-90, le=90)
    longitude_deg: float | None = Field(None, ge=-180, le=180)
    elevation_m: float | None = Field(None, ge=-500, le=9000)


class SiteUpdate(_Update):
    """Changes to a site."""

    NOT_NULL = ("name",)
    name: str | None = None
    latitude_deg: float | None = Field(None, ge=-90, le=90)
    longitude_deg: float | None = Field(None, ge=-180, le=180)
    elevation_m: float | None = Field(None, ge=-500, le=9000)


class SiteOut(BaseModel):
    """A site as stored."""

    id: str
    name: str
    latitude_deg: float | None
    longitude_deg: float | None
    elevation_m: float | None


# ---- fields --------------------------------------------------------------------------------------

class _FieldValues(_In):
    name: str | None = None
    crop: Crop | None = None
    soil_texture: SoilTexture | None = None
    area_m2: float | None = Field(None, gt=0)
    root_depth_m: float | None = Field(None, gt=0, le=5)
    transplant_date: date | None = None
    bloom_date: date | None = None
    growth_stage: Stage | None = None
    cold_sensitive_variety: bool | None = None
    level_min_cm: float | None = Field(None, ge=-30, le=100)
    level_max_cm: float | None = Field(None, ge=-30, le=100)
    geometry: dict[str, Any] | None = None

    @field_validator("geometry")
    @classmethod
    def _geometry(cls, v: Any) -> Any:
        return _polygon(v)

    @model_validator(mode="after")
    def _band_ordered(self) -> "_FieldValues":
        if self.level_min_cm is not None and self.level_max_cm is not None and self.level_min_cm > self.level_max_cm:
            raise ValueError(f"level_min_cm {self.level_min_cm} is above level_max_cm {self.level_max_cm}")
        return self


class FieldCreate(_FieldValues):
    """A field (paddy, orchard, ...) with its crop, soil, dates and outline."""

    id: Id
    site: Id
    name: str = ""
    crop: Crop
    cold_sensitive_variety: bool = False


class FieldUpdate(_FieldValues, _Update):
    """Changes to a field; the farmer sets `growth_stage` here."""

    NOT_NULL = ("name", "crop", "cold_sensitive_variety")


class FieldOut(BaseModel):
    """A field as stored; `area_m2` is computed from the outline when not given."""

    id: str
    site: str
    name: str
    crop: Crop
    soil_texture: SoilTexture | None
    area_m2: float | None
    root_depth_m: float | None
    transplant_date: date | None
    bloom_date: date | None
    growth_stage: str | None
    cold_sensitive_variety: bool
    level_min_cm: float | None
    level_max_cm: float | None
    geometry: dict[str, Any] | None


# ---- routes and roads ----------------------------------------------------------------------------

class RouteCreate(_In):
    """A plowing route (a contractor's beat); roads belong to at most one."""

    id: Id
    site: Id
    name: str = ""
    priority: int | None = Field(None, ge=0)


class RouteUpdate(_Update):
    """Changes to a route."""

    NOT_NULL = ("name",)
    name: str | None = None
    priority: int | None = Field(None, ge=0)


class RouteOut(BaseModel):
    """A route as stored."""

    id: str
    site: str
    name: str
    priority: int | None


class RoadCreate(_In):
    """A road segment to be plowed (GeoJSON LineString/MultiLineString in WGS84)."""

    id: Id
    site: Id
    name: str = ""
    route: Id | None = None
    priority: int | None = Field(None, ge=0)
    oneway: bool = False
    geometry: dict[str, Any]

    @field_validator("geometry")
    @classmethod
    def _geometry(cls, v: Any) -> Any:
        return _line(v)


class RoadUpdate(_Update):
    """Changes to a road."""

    NOT_NULL = ("name", "oneway", "geometry")
    name: str | None = None
    route: Id | None = None
    priority: int | None = Field(None, ge=0)
    oneway: bool | None = None
    geometry: dict[str, Any] | None = None

    @field_validator("geometry")
    @classmethod
    def _geometry(cls, v: Any) -> Any:
        return None if v is None else _line(v)


class RoadOut(BaseModel):
    """A road as stored."""

    id: str
    site: str
    name: str
    route: str | None
    priority: int | None
    oneway: bool
    geometry: dict[str, Any]


# ---- vehicles ------------------------------------------------------------------------------------

class VehicleCreate(_In):
    """A plow or other machine; its class sets the contractor's unit price."""

    id: Id
    site: Id
    name: str = ""
    machine_class: str = ""
    contractor: str = ""


class VehicleUpdate(_Update):
    """Changes to a vehicle."""

    NOT_NULL = ("name", "machine_class", "contractor")
    name: str | None = None
    machine_class: str | None = None
    contractor: str | None = None


class VehicleOut(BaseModel):
    """A vehicle as stored."""

    id: str
    site: str
    name: str
    machine_class: str
    contractor: str


# ---- devices -------------------------------------------------------------------------------------

class _DeviceValues(_In):
    field_id: Id | None = None
    vehicle_id: Id | None = None
    route: Id | None = None
    expected_interval_s: int | None = Field(None, gt=0, le=7 * 86400)
    calibration: dict[str, Any] | None = None
    firmware_version: str | None = Field(None, max_length=64)
    provisioned_at: datetime | None = None

    @field_validator("provisioned_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("provisioned_at needs a time zone (e.g. 2026-04-01T09:00:00+09:00 or ...Z)")
        return None if v is None else v.astimezone(timezone.utc)


class DeviceCreate(_DeviceValues):
    """A provisioned device: what it measures, where, and how often it should report."""

    device_id: Id
    kind: Kind
    site: Id
    expected_interval_s: int = Field(..., gt=0, le=7 * 86400)
    calibration: dict[str, Any] = Field(default_factory=dict)
    firmware_version: str = Field("", max_length=64)

    @field_validator("device_id")
    @classmethod
    def _not_reserved(cls, v: str) -> str:
        if v == "health":
            raise ValueError("'health' is reserved (GET /api/v1/devices/health is the fleet health)")
        return v

    @model_validator(mode="after")
    def _attachment_fits_kind(self) -> "DeviceCreate":
        if self.kind == Kind.PLOW and self.field_id is not None:
            raise ValueError("field_id: a plow logger belongs to a vehicle, not a field")
        if self.kind != Kind.PLOW and self.vehicle_id is not None:
            raise ValueError(f"vehicle_id: a {self.kind.value} sensor belongs to a field, not a vehicle")
        return self


class DeviceUpdate(_DeviceValues, _Update):
    """Changes to a device (re-provisioning updates firmware_version and provisioned_at)."""

    NOT_NULL = ("expected_interval_s", "calibration", "firmware_version")


class DeviceOut(BaseModel):
    """A device as stored."""

    device_id: str
    kind: Kind
    site: str
    field_id: str | None
    vehicle_id: str | None
    route: str | None
    expected_interval_s: int
    calibration: dict[str, Any]
    firmware_version: str
    provisioned_at: datetime | None


class GatewayDevice(BaseModel):
    """One device as the gateway needs it (tags it adds to every reading, and its reporting interval)."""

    device_id: str
    site: str
    kind: Kind
    field_id: str | None
    vehicle_id: str | None
    route: str | None
    expected_interval_s: int


class GatewayDevices(BaseModel):
    """GET /api/v1/registry/devices: the gateway's view of the registry."""

    devices: list[GatewayDevice]
