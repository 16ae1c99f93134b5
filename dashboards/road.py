"""The road division's wall screen during a storm: where the plows are, what is cleared, what is late.

"km plowed tonight" is computed in InfluxQL, not from the backend's coverage: coverage_pct has no
route length to turn into km. Distance is speed times time: per vehicle and 1-minute bucket, the
mean GPS speed of the blade-down readings times 1/60 h, summed over buckets and vehicles (a
Riemann sum). INTEGRAL() would be neater but InfluxDB 3's InfluxQL does not have it. A bucket in
which the blade went down or up counts as a whole minute, so each blade-down stretch may be
overcounted by up to one minute of driving (about 0.5 km at 30 km/h); plows must report at least
once a minute while working.
"""
from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import geomap, stat, table, timeseries
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from . import schema as s
from .common import (Lang, Text, base_dashboard, grid, name_columns, q, regex_match, site_variable, stat_panel,
                     timeseries_panel, uid)
from .macros import parse_duration_ms

UID = "yukimizu-road"
# The town centre of Goshogawara (city hall, WGS84), where the map opens.
MAP_CENTRE_LAT, MAP_CENTRE_LON, MAP_ZOOM = 40.8078, 140.4404, 12
TONIGHT = "12h"  # "tonight" = the last 12 hours: a storm shift starts in the evening before
ACTIVE_WINDOW = "10m"  # a plow is active when it sent anything in the last 10 minutes
KM_BUCKET = "1m"


def _where(*extra: str) -> str:
    return " AND ".join([regex_match(s.TAG_SITE, "site"), *extra, "$timeFilter"])


def schedule_variable(t: Text) -> db.TextBoxVariable:
    """`schedule_pct`: the coverage a route should have reached by now, set by the shift lead."""
    return (db.TextBoxVariable("schedule_pct").label(t("予定の除雪率 (%)", "Scheduled coverage (%)")).default_value("80")
            .description(t("この値を下回る路線を「遅れ」と表示", "Routes below this are listed as behind schedule")))


def plow_map_panel(t: Text, backend_url: str) -> geomap.Panel:
    """Latest position of each plow in the last 30 min, coloured by blade state."""
    query = (f'SELECT last("{s.LAT}") AS "latitude", last("{s.LON}") AS "longitude", '
             f'last("{s.BLADE_DOWN}") AS "blade_down", last("{s.SPEED_KM_H}") AS "speed_km_h" FROM "{s.PLOW}" '
             f'WHERE {_where()} GROUP BY "{s.TAG_VEHICLE}", "{s.TAG_ROUTE}"')
    markers = (cb.MapLayerOptions().type("markers").name(t("除雪車", "Plows"))
               .location(cb.FrameGeometrySource().mode(cm.FrameGeometrySourceMode.COORDS).latitude("latitude")
                         .longitude("longitude"))
               .config({"showLegend": True,
                        "style": {"color": {"field": "blade_down", "fixed": "blue"}, "size": {"fixed": 10},
                                  "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
                                  "text": {"mode": "field", "field": "vehicle_id"}}}))
    blade = dm.ValueMap(options={
        "true": dm.ValueMappingResult(text=t("除雪中 (排土板下げ)", "Clearing (blade down)"), color="orange", index=0),
        "false": dm.ValueMappingResult(text=t("回送 (排土板上げ)", "Travelling (blade up)"), color="blue", index=1)})
    p = (geomap.Panel().id(1).title(t("除雪車の現在位置", "Plows now"))
            .description(t("直近30分の最終位置。橙=除雪中、青=回送", "Last position in the past 30 min; orange = clearing, "
                           "blue = travelling"))
            .with_target(q(query).table()).time_from("30m").unit("velocitykmh")
            .override_by_name("blade_down", [dm.DynamicConfigValue("mappings", [blade]),
                                             dm.DynamicConfigValue("unit", "string")])
            .override_by_regexp("latitude|longitude", [dm.DynamicConfigValue("unit", "degree")])
            # the SDK (10.1) types lat/lon as int; Grafana stores floats
            .view(geomap.MapViewConfig().id("coords").lat(MAP_CENTRE_LAT).lon(MAP_CENTRE_LON).zoom(MAP_ZOOM))  # type: ignore[arg-type]
            .basemap(cb.MapLayerOptions().type("osm-standard").name(t("地図", "Map")))
            .layers([markers]).grid_pos(grid(16, 14))
            .links([db.DashboardLink(t("詳しい除雪マップ", "Detailed plow map")).url(f"{backend_url}/map")
                    .target_blank(True)]))
    return name_columns(p, t, s.TAG_VEHICLE, s.TAG_ROUTE)


def active_panel(t: Text) -> stat.Panel:
    """How many plows are out, and how many are clearing right now."""
    reporting = (f'SELECT count("n") AS "reporting" FROM (SELECT last("{s.SEQ}") AS "n" FROM "{s.PLOW}" '
                 f'WHERE {_where()} GROUP BY "{s.TAG_VEHICLE}")')
    clearing = (f'SELECT count("blade") AS "clearing" FROM (SELECT last("{s.BLADE_DOWN}") AS "blade" FROM "{s.PLOW}" '
                f'WHERE {_where()} GROUP BY "{s.TAG_VEHICLE}") WHERE "blade" = true')
    return (stat_panel().id(2).title(t("稼働中の除雪車", "Plows active"))
            .description(t("直近10分に通信した台数と、そのうち除雪中の台数",
                           "Plows heard in the last 10 min, and how many of them are clearing"))
            .with_target(q(reporting, "A").alias(t("稼働", "Active")))
            .with_target(q(clearing, "B").alias(t("除雪中", "Clearing")))
            .time_from(ACTIVE_WINDOW).unit(t("suffix: 台", "short")).decimals(0).no_value("0").grid_pos(grid(8, 5)))


def km_tonight_panel(t: Text) -> stat.Panel:
    """Kilometres driven with the blade down in the last 12 hours, all plows together."""
    buckets_per_hour = 3_600_000 // parse_duration_ms(KM_BUCKET)
    # km in one bucket = mean speed, km/h x bucket length, h
    query = (f'SELECT sum("km") AS "km" FROM (SELECT mean("{s.SPEED_KM_H}") / {buckets_per_hour} AS "km" '
             f'FROM "{s.PLOW}" WHERE "{s.BLADE_DOWN}" = true AND {_where()} '
             f'GROUP BY time({KM_BUCKET}), "{s.TAG_VEHICLE}")')
    return (stat_panel().id(3).title(t("今夜の除雪距離", "Km plowed tonight"))
            .description(t("直近12時間、排土板を下げて走った距離 (1分ごとの平均GPS速度×時間の合計)",
                           "Distance driven with the blade down in the last 12 h (mean GPS speed per minute x time)"))
            .with_target(q(query).alias(t("除雪距離", "Plowed"))).time_from(TONIGHT).unit("lengthkm").decimals(1)
            .no_value("0").grid_pos(grid(8, 5)))


def coverage_panel(t: Text) -> timeseries.Panel:
    """Share of each route cleared, over the night (from the backend's coverage measurement)."""
    query = (f'SELECT last("{s.COVERAGE_PCT}") AS "coverage_pct" FROM "{s.COVERAGE}" WHERE $timeFilter '
             f'GROUP BY time($__interval), "{s.TAG_ROUTE}" fill(previous)')
    return (timeseries_panel().id(4).title(t("路線別の除雪率", "Coverage per route"))
            .description(t("路線ごとの除雪済みの割合 (バックエンドが計算)", "Share of each route cleared (computed by the backend)"))
            .with_target(q(query).alias("$tag_route")).unit("percent").min(0).max(100).interval("5m")
            .grid_pos(grid(16, 9)))


def behind_panel(t: Text) -> table.Panel:
    """Routes whose latest coverage is below the scheduled coverage."""
    query = (f'SELECT "coverage_pct" FROM (SELECT last("{s.COVERAGE_PCT}") AS "coverage_pct" FROM "{s.COVERAGE}" '
             f'WHERE $timeFilter GROUP BY "{s.TAG_ROUTE}") WHERE "coverage_pct" < $schedule_pct GROUP BY "{s.TAG_ROUTE}"')
    return (table.Panel().id(5).title(t("予定より遅れている路線", "Routes behind schedule"))
            .description(t("最新の除雪率が予定を下回る路線", "Routes whose latest coverage is below the scheduled coverage"))
            .with_target(q(query).table()).time_from(TONIGHT).unit("percent").no_value(t("遅れなし", "None behind"))
            .override_by_name("coverage_pct", [dm.DynamicConfigValue("displayName", t("除雪率", "Coverage"))])
            .override_by_name("route", [dm.DynamicConfigValue("displayName", t("路線", "Route"))])
            .override_by_name("Time", [dm.DynamicConfigValue("displayName", t("更新時刻", "Updated")),
                                        dm.DynamicConfigValue("unit", "dateTimeAsLocal")])
            .show_header(True).grid_pos(grid(8, 9)))


def build(lang: Lang | str = Lang.JA, backend_url: str = "http://127.0.0.1:8000") -> db.Dashboard:
    """The road division dashboard in one language (uid yukimizu-road or yukimizu-road-en)."""
    lang = Lang(lang)
    t = Text(lang)
    d = base_dashboard(t("雪水 道路課: 除雪の状況", "yukimizu road division: snow clearing"), uid(UID, lang),
                       t("除雪車の位置・路線別の除雪率・遅れている路線", "Plow positions, coverage per route, routes behind"))
    return (d.time("now-12h", "now").refresh("30s")
            .with_variable(site_variable(t)).with_variable(schedule_variable(t))
            .link(db.DashboardLink(t("除雪マップ (バックエンド)", "Plow map (backend)")).type(dm.DashboardLinkType.LINK)
                  .url(f"{backend_url}/map").target_blank(True).icon("external link"))
            .with_panel(plow_map_panel(t, backend_url)).with_panel(active_panel(t)).with_panel(km_tonight_panel(t))
            .with_panel(coverage_panel(t)).with_panel(behind_panel(t)))
