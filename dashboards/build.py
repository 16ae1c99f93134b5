"""Build every dashboard and provisioning file, in memory or into a folder Grafana can provision from.

Layout written by `write_all(out)`:

    out/dashboards/<uid>.json                    one file per dashboard and language
    out/provisioning/datasources/yukimizu.yaml   the InfluxDB data source
    out/provisioning/dashboards/yukimizu.yaml    the provider reading grafana.dashboards_path
    out/provisioning/alerting/yukimizu.yaml      the alert rules

Copy `out/dashboards/` to `grafana.dashboards_path` and `out/provisioning/*` into Grafana's
provisioning folder (e.g. /etc/grafana/provisioning/).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from . import alerts, farmer, fleet, influxql, provisioning, road
from .common import Lang
from .settings import DashboardsSettings


def dashboards(cfg: DashboardsSettings | None = None) -> dict[str, dict[str, Any]]:
    """Every dashboard as Grafana JSON, keyed by uid (Japanese first, then English)."""
    cfg = cfg or DashboardsSettings()
    soil = farmer.SoilWater(cfg.farm.field_capacity_pct, cfg.farm.wilting_point_pct, cfg.farm.depletion_fraction)
    out: dict[str, dict[str, Any]] = {}
    for lang in Lang:
        for builder in (farmer.build(lang, soil), road.build(lang, cfg.backend_url), fleet.build(lang)):
            doc = to_json(builder.build())
            validate(doc)
            out[doc["uid"]] = doc
    return out


def validate(doc: dict[str, Any]) -> Dashboard:
    """Decode dashboard JSON into the SDK's typed models (panel options, field config, targets) and back.

    Raises ValueError when the round trip loses or changes anything: the JSON is then not what
    the SDK's Grafana schema describes.
    """
    plugins.register_default_plugins()  # panel option models (timeseries.Options, ...) for from_json
    influxql.register()
    model = Dashboard.from_json(doc)
    back = to_json(model)
    if back != doc:
        changed = sorted(k for k in set(doc) | set(back) if doc.get(k) != back.get(k))
        raise ValueError(f"dashboard {doc.get('uid')!r} does not survive the SDK model round trip: {changed}")
    return model


def to_json(model: object) -> dict[str, Any]:
    """An SDK model as plain JSON data."""
    return json.loads(json.dumps(model, cls=JSONEncoder))


def dumps(doc: dict[str, Any]) -> str:
    """Stable text for a JSON document (sorted keys, Japanese kept readable)."""
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_all(out: Path, cfg: DashboardsSettings | None = None) -> list[Path]:
    """Write dashboards and provisioning files under `out`; return the paths written."""
    cfg = cfg or DashboardsSettings()
    files: dict[Path, str] = {}
    for uid, doc in dashboards(cfg).items():
        files[Path("dashboards") / f"{uid}.json"] = dumps(doc)
    prov = Path("provisioning")
    files[prov / "datasources" / "yukimizu.yaml"] = provisioning.as_yaml(
        provisioning.datasource(cfg), "yukimizu: InfluxDB data source (InfluxQL)")
    files[prov / "dashboards" / "yukimizu.yaml"] = provisioning.as_yaml(
        provisioning.dashboard_provider(cfg), "yukimizu: dashboards provider")
    files[prov / "alerting" / "yukimizu.yaml"] = provisioning.as_yaml(
        alerts.provisioning(cfg.grafana.folder), "yukimizu: alert rules")
    written = []
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
