"""A typed InfluxDB (InfluxQL, raw query) target for grafana-foundation-sdk.

The SDK (10.1 line, installed here) generates dataquery models for Prometheus, Loki, Elasticsearch
and others but has none for InfluxDB. This module adds one in the SDK's own shape: a model class
that is a `cogvariants.Dataquery` with `to_json`/`from_json`, a builder, and a registration with
the SDK runtime so `Dashboard.from_json` decodes our targets back into this class (not into an
untyped `UnknownDataquery`). The JSON is what Grafana's InfluxDB data source stores for a raw
InfluxQL query: `query` + `rawQuery: true` + `resultFormat`.
"""
from __future__ import annotations

import enum
from typing import Any, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

DATASOURCE_TYPE = "influxdb"


class ResultFormat(str, enum.Enum):
    """How Grafana turns InfluxDB series into data frames."""

    TIME_SERIES = "time_series"
    TABLE = "table"


class InfluxQLQuery(cogvariants.Dataquery):
    """One raw InfluxQL target of a panel or alert rule."""

    def __init__(self, ref_id: str = "A", query: str = "", result_format: ResultFormat = ResultFormat.TIME_SERIES,
                 alias: str | None = None, datasource: dashboard.DataSourceRef | None = None,
                 hide: bool | None = None) -> None:
        self.ref_id = ref_id
        self.query = query
        self.result_format = ResultFormat(result_format)
        self.alias = alias
        self.datasource = datasource
        self.hide = hide

    def to_json(self) -> dict[str, object]:
        """Grafana's stored form of the target."""
        out: dict[str, object] = {"refId": self.ref_id, "query": self.query, "rawQuery": True,
                                  "resultFormat": self.result_format.value}
        if self.alias is not None:
            out["alias"] = self.alias
        if self.datasource is not None:
            out["datasource"] = self.datasource.to_json()
        if self.hide is not None:
            out["hide"] = self.hide
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Read a stored target; refuses anything but a raw InfluxQL query (the only kind we emit)."""
        if data.get("rawQuery") is not True or not isinstance(data.get("query"), str):
            raise ValueError(f"target {data.get('refId')!r} is not a raw InfluxQL query: {sorted(data)}")
        ds = data.get("datasource")
        return cls(ref_id=data.get("refId", "A"), query=data["query"],
                   result_format=ResultFormat(data.get("resultFormat", "time_series")), alias=data.get("alias"),
                   datasource=dashboard.DataSourceRef.from_json(ds) if isinstance(ds, dict) else None,
                   hide=data.get("hide"))


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """Builder for `InfluxQLQuery`, in the SDK's fluent style."""

    def __init__(self, query: str, ref_id: str = "A") -> None:
        self._internal = InfluxQLQuery(ref_id=ref_id, query=query)

    def build(self) -> InfluxQLQuery:
        """The target."""
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        """Query letter (A, B, ...), unique within a panel."""
        self._internal.ref_id = ref_id
        return self

    def table(self) -> Self:
        """Return rows (one per series and time) instead of time series."""
        self._internal.result_format = ResultFormat.TABLE
        return self

    def alias(self, alias: str) -> Self:
        """Series name pattern ($tag_field_id, $col ...)."""
        self._internal.alias = alias
        return self

    def datasource(self, ref: dashboard.DataSourceRef) -> Self:
        """The data source this target queries."""
        self._internal.datasource = ref
        return self


def register() -> None:
    """Teach the SDK runtime to decode `influxdb` targets into InfluxQLQuery (idempotent)."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=DATASOURCE_TYPE, from_json_hook=InfluxQLQuery.from_json))


register()
