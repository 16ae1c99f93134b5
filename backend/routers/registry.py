"""/api/v1/registry: the gateway's device list, and import/export of the whole registry as a file."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Query

from ..deps import RegistryDep
from ..registry import export_document, import_document, wrap_features
from ..schemas.registry import GatewayDevices

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])


@router.get("/devices", response_model=GatewayDevices, summary="Devices as the gateway needs them")
def gateway_devices(registry: RegistryDep, site: str | None = Query(None)) -> dict[str, Any]:
    """Every device with the tags the gateway adds to its readings and its expected interval."""
    keys = ("device_id", "site", "kind", "field_id", "vehicle_id", "route", "expected_interval_s")
    return {"devices": [{k: d[k] for k in keys} for d in registry.list("devices", site=site)]}


@router.get("/export", summary="The registry as one JSON file (fields and roads as GeoJSON)")
def export(registry: RegistryDep, site: str | None = Query(None, description="only this site")) -> dict[str, Any]:
    """A document that POST /import accepts unchanged."""
    return export_document(registry, site=site)


@router.post("/import", summary="Import a registry document (all or nothing)",
             responses={422: {"description": "every problem, with collection, feature index, id, field and reason"}})
def import_registry(registry: RegistryDep, doc: Any = Body(..., description="a yukimizu-registry document"),
                    site: str | None = Query(None, description="site for items that do not name one")) -> dict[str, Any]:
    """Check every item; write nothing unless all are valid; replace rows with the same id."""
    return {"imported": import_document(registry, doc, site=site)}


@router.post("/import/{collection}", summary="Import a GeoJSON FeatureCollection of fields or roads",
             responses={422: {"description": "every problem, with feature index, id, field and reason"}})
def import_features(collection: Literal["fields", "roads"], registry: RegistryDep,
                    feature_collection: Any = Body(..., description="GeoJSON FeatureCollection"),
                    site: str | None = Query(None, description="site for features whose properties do not name one"),
                    ) -> dict[str, Any]:
    """Fields (Polygon/MultiPolygon) or roads (LineString/MultiLineString) from a GeoJSON file."""
    return {"imported": import_document(registry, wrap_features(collection, feature_collection), site=site)}
