"""Registry rows -> the agronomy engine's FieldTable: the one adapter between the two vocabularies.

The registry (backend/registry) and the engine (backend/agronomy) were written apart; their names differ:

| registry (fields, sites)        | engine (FieldTable)                                                  |
|---------------------------------|----------------------------------------------------------------------|
| id                              | field_id                                                             |
| crop paddy/apple/vegetable/soy  | crop rice/apple/vegetables/soybean (wheat, other: no advice yet)     |
| transplant_date                 | season_start (rice, vegetables, soybeans: planting / transplanting)  |
| bloom_date                      | season_start of apples = green tip = bloom - 25 days (see below)     |
| growth_stage                    | stage_override (paddies only; the stage ids are the engine's)        |
| cold_sensitive_variety          | cold_sensitive                                                       |
| level_max_cm                    | outlet_height_cm (the level the outlet boards are set to)            |
| sites.latitude_deg/elevation_m  | latitude_deg, elevation_m                                            |

What a field lacks for advice is listed in `FieldRows.gaps` (field id -> what is missing) and said in the API's
`missing`; a field that cannot be advised at all is in `FieldRows.unadvisable` with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from backend.agronomy import paddy
from backend.agronomy.crops import Crop
from backend.agronomy.inputs import FieldTable

# registry crop -> engine crop; crops missing here get no advice (no FAO-56 row chosen for them yet)
CROP_OF: dict[str, Crop] = {"paddy": Crop.RICE, "apple": Crop.APPLE, "vegetable": Crop.VEGETABLES,
                            "soy": Crop.SOYBEAN}
# Apple Kc curves count from green tip (FAO-56 Table 11); the registry records full bloom. In Aomori green tip is
# mid-April and full bloom mid-May: about 25 days apart (UNVERIFIED default; the orchard's own dates win when known).
GREEN_TIP_BEFORE_BLOOM_DAYS = 25
DEFAULT_GREEN_TIP = (4, 25)  # month, day: an apple field without a bloom date
# A paddy whose stage the farmer set but whose transplant date is unknown: the stage decides the depth; the
# date only shapes the rice Kc (its expected water loss), so mid-season is assumed.
STAND_IN_DAYS_SINCE_TRANSPLANT = 45
PADDY_SOIL_STAND_IN = "clay"  # paddies are managed by depth; texture only fills the (unused) upland balance


@dataclass
class FieldRows:
    """Registry fields split into the engine's table (in `rows` order) and those it cannot advise."""

    table: FieldTable | None
    rows: list[dict[str, Any]]  # the registry rows in the table, same order
    gaps: dict[str, list[str]] = field(default_factory=dict)  # field id -> missing registry values (advised anyway)
    unadvisable: dict[str, tuple[dict[str, Any], str, str, list[str]]] = field(default_factory=dict)
    # field id -> (row, reason ja, reason en, missing)


def _location(row: dict[str, Any], site: dict[str, Any]) -> tuple[float | None, float]:
    lat = site.get("latitude_deg")
    if lat is None and row.get("geometry"):
        ring = row["geometry"]["coordinates"][0]
        lat = float(np.mean([p[1] for p in ring]))
    elev = site.get("elevation_m")
    return lat, float(elev) if elev is not None else 0.0


def to_field_table(rows: list[dict[str, Any]], sites: dict[str, dict[str, Any]], today: date,
                   rules: paddy.PaddyRules) -> FieldRows:
    """The engine's FieldTable for registry field rows (sites by id give latitude and elevation)."""
    records: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    out = FieldRows(None, kept)
    stage_ids = set(rules.stage_ids())
    for row in rows:
        fid = row["id"]
        gaps: list[str] = []
        crop = CROP_OF.get(row["crop"])
        if crop is None:
            out.unadvisable[fid] = (row, f"作物 {row['crop']} の助言はまだありません。",
                                    f"No advice for {row['crop']} yet.", ["crop"])
            continue
        lat, elev = _location(row, sites.get(row["site"], {}))
        if lat is None:
            out.unadvisable[fid] = (row, "圃場の位置 (緯度) が未登録のため助言できません。",
                                    "The field's location (latitude) is not registered: no advice.", ["latitude_deg"])
            continue
        stage = row.get("growth_stage") if crop is Crop.RICE else None
        if stage and stage not in stage_ids:
            gaps.append("growth_stage")
            stage = None
        start: date | None
        if crop is Crop.APPLE:
            bloom = row.get("bloom_date")
            if bloom:
                start = date.fromisoformat(bloom) - timedelta(days=GREEN_TIP_BEFORE_BLOOM_DAYS)
            else:
                gaps.append("bloom_date")
                start = date(today.year, *DEFAULT_GREEN_TIP)
        else:
            tp = row.get("transplant_date")
            start = date.fromisoformat(tp) if tp else None
            if start is None and crop is Crop.RICE and stage:
                gaps.append("transplant_date")
                start = today - timedelta(days=STAND_IN_DAYS_SINCE_TRANSPLANT)
        if start is None:
            out.unadvisable[fid] = (row, "田植え日・播種日が未登録のため助言できません。",
                                    "No transplanting or sowing date registered: no advice.", ["transplant_date"])
            continue
        texture = row.get("soil_texture")
        if texture is None:
            if crop is not Crop.RICE:
                out.unadvisable[fid] = (row, "土性が未登録のため水分収支を計算できません。",
                                        "No soil texture registered: cannot run the water balance.", ["soil_texture"])
                continue
            texture = PADDY_SOIL_STAND_IN
        area = row.get("area_m2")
        if area is None:
            gaps.append("area_m2")
        records.append({
            "field_id": fid, "crop": crop.value, "area_m2": area if area is not None else np.nan,
            "latitude_deg": lat, "elevation_m": elev, "season_start": start.isoformat(), "soil_texture": texture,
            "root_depth_m": row.get("root_depth_m"), "stage_override": stage or "",
            "cold_sensitive": bool(row.get("cold_sensitive_variety")),
            "outlet_height_cm": row.get("level_max_cm") if crop is Crop.RICE else None,
        })
        kept.append(row)
        if gaps:
            out.gaps[fid] = gaps
    out.table = FieldTable.from_records(records) if records else None
    return out
