"""Import and export of the registry as one JSON file (fields and roads as GeoJSON FeatureCollections).

Document format (version 1):

    {"format": "yukimizu-registry", "version": 1,
     "sites": [{...}], "routes": [{...}], "vehicles": [{...}],
     "fields": {"type": "FeatureCollection", "features": [{"type": "Feature", "id": "f-01",
                "properties": {"site": ..., "crop": ..., ...}, "geometry": {"type": "Polygon", ...}}]},
     "roads": {"type": "FeatureCollection", "features": [...LineString/MultiLineString...]},
     "devices": [{...}]}

Every item is checked by the same request models as the API. An import is all or nothing: every
problem is collected (collection, index, id, field, reason) and reported together, and nothing is
written unless there are none, so what is already in the registry is never half-replaced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..schemas import registry as s
from .store import TABLES, Registry, RegistryError

FORMAT = "yukimizu-registry"
VERSION = 1
# Order matters: what is referred to comes first.
ORDER: list[tuple[str, type[BaseModel], bool]] = [
    ("sites", s.SiteCreate, False),
    ("routes", s.RouteCreate, False),
    ("vehicles", s.VehicleCreate, False),
    ("fields", s.FieldCreate, True),
    ("roads", s.RoadCreate, True),
    ("devices", s.DeviceCreate, False),
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an import: where (collection, index, id, field) and why."""

    collection: str
    index: int | None
    id: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.collection
        if self.index is not None:
            where += f" feature {self.index}" if self.collection in ("fields", "roads") else f" item {self.index}"
        if self.id is not None:
            where += f" (id {self.id!r})"
        return f"{where}: {self.field + ': ' if self.field else ''}{self.reason}"

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the API's 422 body."""
        return {"collection": self.collection, "index": self.index, "id": self.id, "field": self.field,
                "reason": self.reason, "message": str(self)}


class ImportRejected(ValueError):
    """The import had problems; nothing was written. `problems` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s), nothing imported:\n" + "\n".join(str(p) for p in problems))


def _validation_problems(e: ValidationError, collection: str, index: int, ident: str | None) -> list[Problem]:
    out = []
    for err in e.errors():
        loc = ".".join(str(x) for x in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        inp = err.get("input")
        if err["type"] in ("enum", "literal_error", "string_pattern_mismatch") and not isinstance(inp, (dict, list)):
            msg += f" (got {inp!r})"
        out.append(Problem(collection, index, ident, loc, msg))
    return out


def _feature_to_item(feature: Any, default_site: str | None) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(item, id, error) from one GeoJSON Feature."""
    if not isinstance(feature, dict):
        return None, None, f"a feature must be a JSON object, got {type(feature).__name__}"
    props = feature.get("properties") or {}
    ident = feature.get("id", props.get("id") if isinstance(props, dict) else None)
    ident = str(ident) if ident is not None else None
    if feature.get("type") != "Feature":
        return None, ident, f"type is {feature.get('type')!r}, expected 'Feature'"
    if not isinstance(props, dict):
        return None, ident, "properties must be a JSON object"
    if "geometry" not in feature or feature["geometry"] is None:
        return None, ident, "geometry: missing (a feature needs its outline or line)"
    item = {k: v for k, v in props.items() if k != "id"}
    item["id"] = ident
    item["geometry"] = feature["geometry"]
    if default_site and "site" not in item:
        item["site"] = default_site
    return item, ident, None


def _items(doc: dict[str, Any], collection: str, is_geo: bool, default_site: str | None,
           problems: list[Problem]) -> list[tuple[int, str | None, dict[str, Any] | None]]:
    raw = doc.get(collection)
    if raw is None:
        return []
    if is_geo:
        if not isinstance(raw, dict) or raw.get("type") != "FeatureCollection" or not isinstance(raw.get("features"), list):
            problems.append(Problem(collection, None, None, None, "must be a GeoJSON FeatureCollection with a features list"))
            return []
        out: list[tuple[int, str | None, dict[str, Any] | None]] = []
        for i, f in enumerate(raw["features"]):
            item, ident, err = _feature_to_item(f, default_site)
            if err:
                field, _, reason = err.partition(": ") if err.startswith("geometry:") else (None, "", err)
                problems.append(Problem(collection, i, ident, field, reason))
            out.append((i, ident, item))
        return out
    if not isinstance(raw, list):
        problems.append(Problem(collection, None, None, None, "must be a list of objects"))
        return []
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            problems.append(Problem(collection, i, None, None, "must be a JSON object"))
            out.append((i, None, None))
            continue
        key = TABLES[collection].key
        if default_site and collection != "sites" and "site" not in item:
            item = {**item, "site": default_site}
        out.append((i, str(item[key]) if item.get(key) is not None else None, item))
    return out


def import_document(registry: Registry, doc: Any, *, site: str | None = None) -> dict[str, int]:
    """Check and import a registry document (or a bare FeatureCollection of fields/roads via wrap_features).

    Existing rows with the same id are replaced; returns counts per collection. Raises ImportRejected.
    """
    problems: list[Problem] = []
    if not isinstance(doc, dict):
        raise ImportRejected([Problem("document", None, None, None, "must be a JSON object")])
    if doc.get("format", FORMAT) != FORMAT:
        problems.append(Problem("document", None, None, "format", f"{doc.get('format')!r} is not {FORMAT!r}"))
    if doc.get("version", VERSION) != VERSION:
        problems.append(Problem("document", None, None, "version", f"{doc.get('version')!r} is not {VERSION}"))
    unknown = set(doc) - {"format", "version", "exported_at"} - {c for c, _, _ in ORDER}
    for k in sorted(unknown):
        problems.append(Problem("document", None, None, k, "unknown collection"))
    checked: list[tuple[str, int, str | None, dict[str, Any]]] = []
    for collection, model, is_geo in ORDER:
        seen: dict[str, int] = {}
        for i, ident, item in _items(doc, collection, is_geo, site, problems):
            if item is None:
                continue
            try:
                obj = model.model_validate(item)
            except ValidationError as e:
                problems.extend(_validation_problems(e, collection, i, ident))
                continue
            if ident is not None and ident in seen:
                problems.append(Problem(collection, i, ident, TABLES[collection].key,
                                        f"same id as {collection} {seen[ident]}"))
                continue
            if ident is not None:
                seen[ident] = i
            checked.append((collection, i, ident, obj.model_dump()))
    if problems:
        raise ImportRejected(problems)
    checked = _add_missing_routes(registry, checked)
    counts = {c: 0 for c, _, _ in ORDER}

    class _Rollback(Exception):
        pass

    try:
        with registry.db.transaction() as conn:
            for collection, i, ident, values in checked:
                try:
                    registry.create(collection, values, conn=conn, upsert=True)
                    counts[collection] += 1
                except RegistryError as e:
                    msg = str(e)
                    field = e.field
                    if field and msg.startswith(field + ": "):
                        msg = msg[len(field) + 2:]
                    problems.append(Problem(collection, i, ident, field, msg))
            if problems:
                raise _Rollback
    except _Rollback:
        raise ImportRejected(problems) from None
    return counts


def _add_missing_routes(registry: Registry, checked: list[tuple[str, int, str | None, dict[str, Any]]]
                        ) -> list[tuple[str, int, str | None, dict[str, Any]]]:
    """A road file names its routes (GeoJSON property `route`); create the ones the registry lacks.

    Road networks come from GIS exports that know route names but not our routes table, so a road
    import creates each unknown route (id = name = the route value, on the road's site) before the roads.
    """
    known = {v["id"] for c, _, _, v in checked if c == "routes"} | {r["id"] for r in registry.list("routes")}
    new: dict[str, dict[str, Any]] = {}
    for c, _, _, v in checked:
        if c == "roads" and v.get("route") and v["route"] not in known and v["route"] not in new:
            new[v["route"]] = {"id": v["route"], "site": v["site"], "name": v["route"], "priority": None}
    if not new:
        return checked
    routes: list[tuple[str, Any, str | None, dict[str, Any]]] = [("routes", None, rid, v) for rid, v in new.items()]
    first_road = next(i for i, (c, _, _, _) in enumerate(checked) if c == "roads")
    return checked[:first_road] + routes + checked[first_road:]


def wrap_features(collection: str, feature_collection: Any) -> dict[str, Any]:
    """A registry document holding only one FeatureCollection ('fields' or 'roads')."""
    if collection not in ("fields", "roads"):
        raise ValueError(f"only fields and roads are GeoJSON, not {collection}")
    return {"format": FORMAT, "version": VERSION, collection: feature_collection}


def _feature(row: dict[str, Any], key: str) -> dict[str, Any]:
    props = {k: v for k, v in row.items() if k not in (key, "geometry")}
    return {"type": "Feature", "id": row[key], "properties": props, "geometry": row.get("geometry")}


def export_document(registry: Registry, *, site: str | None = None) -> dict[str, Any]:
    """The whole registry (or one site) as a document that import_document accepts unchanged."""
    from .db import utc_now_iso

    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION, "exported_at": utc_now_iso()}
    for collection, _, is_geo in ORDER:
        rows = registry.list(collection, id=site) if collection == "sites" else registry.list(collection, site=site)
        if is_geo:
            doc[collection] = {"type": "FeatureCollection", "features": [_feature(r, "id") for r in rows]}
        else:
            doc[collection] = rows
    return doc
