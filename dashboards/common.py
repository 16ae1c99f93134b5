"""What every dashboard shares: language, the data source reference, variables and query fragments."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import geomap, stat, table, timeseries
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from . import schema as s
from .influxql import DATASOURCE_TYPE, InfluxQL

P = TypeVar("P", table.Panel, geomap.Panel)
DATASOURCE_UID = "yukimizu-influxdb"
DATASOURCE = dm.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)
TIMEZONE = "Asia/Tokyo"  # shown in JST, stored in UTC
TAGS = ["yukimizu", "雪水"]


class Lang(str, enum.Enum):
    """Dashboard language; Japanese is the default, English a variant with its own uids."""

    JA = "ja"
    EN = "en"


@dataclass(frozen=True)
class Text:
    """Picks the Japanese or English side of each label."""

    lang: Lang

    def __call__(self, ja: str, en: str) -> str:
        """The label in this dashboard's language."""
        return ja if self.lang is Lang.JA else en


def uid(base: str, lang: Lang) -> str:
    """A stable uid: the base for Japanese, base + '-en' for English (Grafana allows 40 chars)."""
    out = base if lang is Lang.JA else f"{base}-en"
    assert len(out) <= 40, out
    return out


def q(query: str, ref: str = "A") -> InfluxQL:
    """A raw InfluxQL target on the yukimizu data source."""
    return InfluxQL(query, ref).datasource(DATASOURCE)


def regex_match(tag: str, var: str) -> str:
    """`"tag" =~ /^$var$/`: Grafana fills the variable regex-escaped, `(a|b)` for several values."""
    return f'"{tag}" =~ /^${var}$/'


def site_variable(t: Text) -> db.QueryVariable:
    """`site`: every site that has sent anything."""
    return (db.QueryVariable("site").label(t("地区", "Site")).datasource(DATASOURCE)
            .query(f'SHOW TAG VALUES WITH KEY = "{s.TAG_SITE}"')
            .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD).sort(dm.VariableSort.ALPHABETICAL_ASC)
            .description(t("観測地区 (site タグ)", "Site (the site tag)")))


def field_variable(t: Text) -> db.QueryVariable:
    """`field`: paddies and orchards of the chosen site(s); several at once, or all."""
    return (db.QueryVariable("field").label(t("圃場", "Field")).datasource(DATASOURCE)
            .query(f'SHOW TAG VALUES WITH KEY = "{s.TAG_FIELD}" WHERE {regex_match(s.TAG_SITE, "site")}')
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).sort(dm.VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))  # every field at first
            .description(t("圃場 (field_id タグ)", "Field (the field_id tag)")))


def grid(w: int, h: int) -> dm.GridPos:
    """A grid position of w columns (of 24) by h rows; the dashboard builder places it."""
    return dm.GridPos(w=w, h=h)


def threshold_steps(*steps: tuple[float | None, str]) -> db.ThresholdsConfig:
    """Absolute thresholds: (None, base colour), then (value, colour) upwards."""
    return (db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE)
            .steps([dm.Threshold(value=v, color=c) for v, c in steps]))


def base_dashboard(title: str, uid_: str, description: str) -> db.Dashboard:
    """A dashboard with our defaults: JST, tags, refresh, editable off (provisioned from code)."""
    return (db.Dashboard(title).uid(uid_).description(description).tags(TAGS).timezone(TIMEZONE)
            .refresh("1m").time("now-24h", "now").readonly())


def timeseries_panel() -> timeseries.Panel:
    """A time series panel with the legend below and a shared tooltip (readable on a phone)."""
    return (timeseries.Panel().line_width(2).span_nulls(False)
            .legend(cb.VizLegendOptions().show_legend(True).display_mode(cm.LegendDisplayMode.LIST)
                    .placement(cm.LegendPlacement.BOTTOM))
            .tooltip(cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.NONE)))


def stat_panel() -> stat.Panel:
    """A stat panel showing the latest non-null value of each series."""
    return (stat.Panel().reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .graph_mode(cm.BigValueGraphMode.NONE).text_mode(cm.BigValueTextMode.VALUE_AND_NAME))


def tag_columns(t: Text) -> dict[str, str]:
    """Display names of tag columns in tables."""
    return {s.TAG_FIELD: t("圃場", "Field"), s.TAG_DEVICE: t("機器", "Device"), s.TAG_ROUTE: t("路線", "Route"),
            s.TAG_VEHICLE: t("車両", "Vehicle"), s.TAG_GATEWAY: t("ゲートウェイ", "Gateway")}


def name_columns(panel: P, t: Text, *tags: str) -> P:
    """Give tag columns their display names in this dashboard's language."""
    names = tag_columns(t)
    for tag in tags:
        panel = panel.override_by_name(tag, [dm.DynamicConfigValue("displayName", names[tag])])
    return panel
