"""The demo site (Goshogawara, synthetic) shipped as data, and loaders that check it and name what is wrong."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from yukimizu.contract.topics import ID_RE

CROPS = ("paddy", "apple", "vegetable", "soy")


class SiteError(ValueError):
    """A site file is missing or holds a bad entry; the message names the file, the entry and the key."""


@dataclass(frozen=True)
class DeviceSpec:
    """One row of devices.json (the registry the gateway and the backend read)."""

    device_id: str
    site: str
    kind: str
    field_id: str | None
    vehicle_id: str | None
    route: str | None
    expected_interval_s: float

    def as_json(self) -> dict:
        """The registry row."""
        return {"device_id": self.device_id, "site": self.site, "kind": self.kind, "field_id": self.field_id,
                "vehicle_id": self.vehicle_id, "route": self.route, "expected_interval_s": self.expected_interval_s}


@dataclass(frozen=True)
class FieldSpec:
    """One row of fields.json."""

    id: str
    site: str
    name: str
    crop: str
    soil_texture: str
    area_m2: float
    root_depth_m: float
    transplant_date: str | None
    growth_stage: str | None
    geometry: dict


def _read(path: Path, key: str) -> list[dict]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteError(f"{path}: file is missing") from None
    except json.JSONDecodeError as e:
        raise SiteError(f"{path}: not JSON: {e}") from None
    rows = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise SiteError(f"{path}: expected an object with a {key!r} list")
    return rows


def _id(path: Path, i: int, row: dict, key: str, nullable: bool = False) -> str | None:
    v = row.get(key)
    if v is None and nullable:
        return None
    if not isinstance(v, str) or not ID_RE.match(v):
        raise SiteError(f"{path}: entry {i} ({row.get('device_id') or row.get('id')!r}): {key} {v!r} must match [a-z0-9][a-z0-9_-]{{0,63}}")
    return v


def load_devices(site_dir: Path) -> list[DeviceSpec]:
    """devices.json: {"devices": [{device_id, site, kind, field_id, vehicle_id, route, expected_interval_s}]}."""
    path = Path(site_dir) / "devices.json"
    out = []
    seen: set[str] = set()
    for i, row in enumerate(_read(path, "devices")):
        dev = DeviceSpec(
            device_id=_id(path, i, row, "device_id"),  # type: ignore[arg-type]
            site=_id(path, i, row, "site"),  # type: ignore[arg-type]
            kind=row.get("kind"),  # type: ignore[arg-type]
            field_id=_id(path, i, row, "field_id", nullable=True),
            vehicle_id=_id(path, i, row, "vehicle_id", nullable=True),
            route=_id(path, i, row, "route", nullable=True),
            expected_interval_s=row.get("expected_interval_s"),  # type: ignore[arg-type]
        )
        if dev.kind not in ("soil", "water", "weather", "plow"):
            raise SiteError(f"{path}: entry {i} ({dev.device_id}): kind {dev.kind!r} is not soil, water, weather or plow")
        if not isinstance(dev.expected_interval_s, (int, float)) or dev.expected_interval_s <= 0:
            raise SiteError(f"{path}: entry {i} ({dev.device_id}): expected_interval_s must be a positive number")
        if dev.kind in ("soil", "water") and dev.field_id is None:
            raise SiteError(f"{path}: entry {i} ({dev.device_id}): a {dev.kind} device needs a field_id")
        if dev.kind == "plow" and (dev.vehicle_id is None or dev.route is None):
            raise SiteError(f"{path}: entry {i} ({dev.device_id}): a plow needs a vehicle_id and a route")
        if dev.device_id in seen:
            raise SiteError(f"{path}: entry {i}: device_id {dev.device_id!r} appears twice")
        seen.add(dev.device_id)
        out.append(dev)
    return out


def load_fields(site_dir: Path) -> dict[str, FieldSpec]:
    """fields.json: {"fields": [{id, site, name, crop, soil_texture, area_m2, root_depth_m, transplant_date, growth_stage, geometry}]}."""
    path = Path(site_dir) / "fields.json"
    out: dict[str, FieldSpec] = {}
    for i, row in enumerate(_read(path, "fields")):
        fid = _id(path, i, row, "id")
        try:
            f = FieldSpec(**{k: row[k] for k in FieldSpec.__dataclass_fields__})
        except KeyError as e:
            raise SiteError(f"{path}: entry {i} ({fid}): key {e.args[0]!r} is missing") from None
        if f.crop not in CROPS:
            raise SiteError(f"{path}: entry {i} ({fid}): crop {f.crop!r} is not one of {', '.join(CROPS)}")
        if not isinstance(f.area_m2, (int, float)) or f.area_m2 <= 0:
            raise SiteError(f"{path}: entry {i} ({fid}): area_m2 must be a positive number")
        out[f.id] = f
    return out


def load_vehicles(site_dir: Path) -> list[dict]:
    """vehicles.json: {"vehicles": [{id, site, machine_class, contractor}]}."""
    path = Path(site_dir) / "vehicles.json"
    rows = _read(path, "vehicles")
    for i, row in enumerate(rows):
        _id(path, i, row, "id")
        for key in ("machine_class", "contractor"):
            if not isinstance(row.get(key), str):
                raise SiteError(f"{path}: entry {i} ({row.get('id')}): {key} is missing")
    return rows
