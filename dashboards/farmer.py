"""The farmer dashboard: per field, water against the target band, soil moisture, cold risk, advice.

Farmers open it on a phone in the morning, so it leads with the advice text and the last time each
sensor was heard, then one row per field (a row repeated over the `field` variable).
"""
from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import table, timeseries
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from . import schema as s
from .common import (Lang, Text, base_dashboard, field_variable, grid, name_columns, q, regex_match, site_variable,
                     threshold_steps, timeseries_panel, uid)

UID = "yukimizu-farmer"
CM = "suffix: cm"  # Grafana has no centimetre unit; a custom suffix unit


@dataclass(frozen=True)
class SoilWater:
    """Soil water limits of the orchard soil, % by volume (defaults for a loam; configure per site)."""

    field_capacity_pct: float = 32.0
    wilting_point_pct: float = 12.0
    depletion_fraction: float = 0.5  # p for apples, FAO-56 Table 22

    @property
    def irrigation_threshold_pct(self) -> float:
        """VWC at which readily available water is used up, %: FAO-56 eqs. 82-83 (RAW = p TAW) in VWC terms."""
        taw_pct = self.field_capacity_pct - self.wilting_point_pct  # TAW per unit root depth - FAO-56 eq. 82
        return round(self.field_capacity_pct - self.depletion_fraction * taw_pct, 2)  # FC - RAW - FAO-56 eq. 83


def _where(*extra: str) -> str:
    return " AND ".join([regex_match(s.TAG_SITE, "site"), *extra, "$timeFilter"])


def _field_where() -> str:
    return _where(regex_match(s.TAG_FIELD, "field"))


def advice_panel(t: Text, lang: Lang) -> table.Panel:
    """The latest advice per field: what to do with the water today."""
    message = s.ADVICE_MESSAGE_JA if lang is Lang.JA else s.ADVICE_MESSAGE_EN
    query = (f'SELECT "{message}" AS "message", "{s.ADVICE_ACTION}" AS "action", '
             f'"{s.ADVICE_TARGET_MIN_CM}" AS "target_min_cm", "{s.ADVICE_TARGET_MAX_CM}" AS "target_max_cm" '
             f'FROM "{s.ADVICE}" WHERE {_field_where()} GROUP BY "{s.TAG_FIELD}" ORDER BY time DESC LIMIT 1')
    p = (table.Panel().id(1).title(t("今日の水管理の助言", "Today's water advice"))
            .description(t("圃場ごとの最新の助言 (バックエンドが計算)", "Latest advice per field (computed by the backend)"))
            .with_target(q(query).table()).unit("string").show_header(True).grid_pos(grid(24, 6))
            .override_by_name("message", [dm.DynamicConfigValue("displayName", t("助言", "Advice"))])
            .override_by_name("action", [dm.DynamicConfigValue("displayName", t("操作", "Action"))])
            .override_by_name("target_min_cm", [dm.DynamicConfigValue("displayName", t("目標下限", "Target min")),
                                                 dm.DynamicConfigValue("unit", CM)])
            .override_by_name("target_max_cm", [dm.DynamicConfigValue("displayName", t("目標上限", "Target max")),
                                                 dm.DynamicConfigValue("unit", CM)])
            .override_by_name("Time", [dm.DynamicConfigValue("displayName", t("助言時刻", "Advised at")),
                                        dm.DynamicConfigValue("unit", "dateTimeAsLocal")]))
    return name_columns(p, t, s.TAG_FIELD)


def last_seen_panel(t: Text) -> table.Panel:
    """When each field sensor was last heard: a silent sensor means stale numbers below."""
    query = (f'SELECT last("{s.SEQ}") AS "seq" FROM "{s.SOIL}", "{s.WATER}" WHERE {_field_where()} '
             f'GROUP BY "{s.TAG_FIELD}", "{s.TAG_DEVICE}"')
    p = (table.Panel().id(2).title(t("センサー最終受信", "Sensors last seen"))
            .description(t("各センサーから最後にデータが届いた時刻", "When each sensor last sent a reading"))
            .with_target(q(query).table()).unit("none").show_header(True).grid_pos(grid(12, 7))
            .override_by_name("Time", [dm.DynamicConfigValue("displayName", t("最終受信", "Last seen")),
                                        dm.DynamicConfigValue("unit", "dateTimeFromNow")])
            .override_by_name("seq", [dm.DynamicConfigValue("displayName", t("通番", "Seq"))]))
    return name_columns(p, t, s.TAG_FIELD, s.TAG_DEVICE)


def rain_panel(t: Text) -> timeseries.Panel:
    """Hourly rain at the site's weather station(s)."""
    query = (f'SELECT sum("{s.RAIN_MM}") AS "rain_mm" FROM "{s.WEATHER}" WHERE {_where()} '
             f'GROUP BY time($__interval) fill(0)')
    return (timeseries_panel().id(3).title(t("雨量 (1時間ごと)", "Rain (hourly)"))
            .description(t("気象センサーの降水量", "Rain measured by the weather station"))
            .with_target(q(query).alias(t("雨量", "Rain"))).unit("lengthmm").min(0).interval("1h")
            .draw_style(cm.GraphDrawStyle.BARS).fill_opacity(60).grid_pos(grid(12, 7)))


def water_level_panel(t: Text) -> timeseries.Panel:
    """Paddy water depth against the target band for the growth stage (band from the backend's advice)."""
    level = (f'SELECT mean("{s.LEVEL_CM}") AS "level_cm" FROM "{s.WATER}" WHERE {_field_where()} '
             f'GROUP BY time($__interval), "{s.TAG_FIELD}" fill(none)')

    def band(name: str) -> str:
        return (f'SELECT last("{name}") AS "{name}" FROM "{s.ADVICE}" WHERE {_field_where()} '
                f'GROUP BY time($__interval), "{s.TAG_FIELD}" fill(previous)')

    low, high = t("目標下限", "Target min"), t("目標上限", "Target max")
    dashed = [dm.DynamicConfigValue("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
              dm.DynamicConfigValue("color", {"mode": "fixed", "fixedColor": "green"})]
    return (timeseries_panel().id(10).title(t("水位と目標範囲", "Water level and target band"))
            .description(t("田面からの水深。緑の帯は生育段階に応じた目標範囲 (バックエンドの助言)",
                           "Water depth above the field surface; green band: target for the growth stage (backend advice)"))
            .with_target(q(level, "A").alias(t("水位", "Water level")))
            .with_target(q(band(s.ADVICE_TARGET_MIN_CM), "B").alias(low))
            .with_target(q(band(s.ADVICE_TARGET_MAX_CM), "C").alias(high))
            .override_by_query("B", dashed)
            # shade the band: the upper line fills down to the lower one
            .override_by_query("C", [*dashed, dm.DynamicConfigValue("custom.fillBelowTo", low),
                                     dm.DynamicConfigValue("custom.fillOpacity", 15)])
            .unit(CM).grid_pos(grid(12, 8)))


def soil_moisture_panel(t: Text, soil: SoilWater) -> timeseries.Panel:
    """Soil moisture against field capacity and the irrigation threshold (lines from the thresholds)."""
    query = (f'SELECT mean("{s.VWC_PCT}") AS "vwc_pct" FROM "{s.SOIL}" WHERE {_field_where()} '
             f'GROUP BY time($__interval), "{s.TAG_DEVICE}" fill(none)')
    return (timeseries_panel().id(11).title(t("土壌水分", "Soil moisture"))
            .description(t(f"体積含水率。赤線 {soil.irrigation_threshold_pct}% を下回ったら灌水、"
                           f"青線 {soil.field_capacity_pct}% は圃場容水量",
                           f"Volumetric water content. Irrigate below the red line ({soil.irrigation_threshold_pct} %); "
                           f"blue line: field capacity ({soil.field_capacity_pct} %)"))
            .with_target(q(query).alias("$tag_device_id"))
            .unit("percent").min(0).max(60)
            .thresholds(threshold_steps((None, "red"), (soil.irrigation_threshold_pct, "green"),
                                        (soil.field_capacity_pct, "blue")))
            .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.LINE))
            .grid_pos(grid(12, 8)))


def temperature_panel(t: Text) -> timeseries.Panel:
    """Soil and water temperature with the 17 C cold-damage line."""
    soil_t = (f'SELECT mean("{s.SOIL_TEMP_C}") AS "soil_temp_c" FROM "{s.SOIL}" WHERE {_field_where()} '
              f'GROUP BY time($__interval) fill(none)')
    water_t = (f'SELECT mean("{s.WATER_TEMP_C}") AS "water_temp_c" FROM "{s.WATER}" WHERE {_field_where()} '
               f'GROUP BY time($__interval) fill(none)')
    return (timeseries_panel().id(12).title(t("地温・水温と冷害警戒線", "Soil and water temperature, cold-damage line"))
            .description(t(f"{s.COLD_DAMAGE_C:g}℃ 以下が続くと冷害の恐れ (穂ばらみ期は深水で保温)",
                           f"Below {s.COLD_DAMAGE_C:g} °C rice risks cold damage (deep water during booting)"))
            .with_target(q(soil_t, "A").alias(t("地温", "Soil temperature")))
            .with_target(q(water_t, "B").alias(t("水温", "Water temperature")))
            .unit("celsius")
            .thresholds(threshold_steps((None, "blue"), (s.COLD_DAMAGE_C, "transparent")))
            .thresholds_style(cb.GraphThresholdsStyleConfig().mode(cm.GraphTresholdsStyleMode.LINE_AND_AREA))
            .grid_pos(grid(24, 8)))


def build(lang: Lang | str = Lang.JA, soil: SoilWater = SoilWater()) -> db.Dashboard:
    """The farmer dashboard in one language (uid yukimizu-farmer or yukimizu-farmer-en)."""
    lang = Lang(lang)
    t = Text(lang)
    d = base_dashboard(t("雪水 農家向け: 水田・畑の見守り", "yukimizu for farmers: paddies and fields"), uid(UID, lang),
                       t("圃場ごとの水位・土壌水分・温度・助言", "Water, soil moisture, temperature and advice per field"))
    d = (d.time("now-2d", "now").with_variable(site_variable(t)).with_variable(field_variable(t))
         .with_panel(advice_panel(t, lang)).with_panel(last_seen_panel(t)).with_panel(rain_panel(t))
         # One row per selected field: Grafana repeats the row and the panels below it.
         .with_row(db.Row(t("圃場 $field", "Field $field")).id(9).repeat("field"))
         .with_panel(water_level_panel(t)).with_panel(soil_moisture_panel(t, soil))
         .with_panel(temperature_panel(t)))
    return d
