"""Fleet health for engineers: who is silent, whose battery is going, how the gateway copes.

"Offline longer than its interval" cannot be asked of InfluxQL directly: a query returns no row for
a series with no point in its time range, and `now()` is not a value a query can subtract from.
So the silence queries count readings in buckets of the kind's expected interval with `fill(0)`,
average the last 4 buckets (`moving_average(count, 4)`), and keep devices whose latest average is
0: the last 3 whole buckets and the current partial one are empty, so the device has been silent
for at least 3 intervals (and is reported at most one interval late). `silence_query` is shared
with the alert rule.
"""
from __future__ import annotations

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import table, timeseries
from grafana_foundation_sdk.models import dashboard as dm

from . import schema as s
from .common import (Lang, Text, base_dashboard, grid, name_columns, q, regex_match, site_variable, timeseries_panel,
                     uid)
from .macros import format_duration

UID = "yukimizu-fleet"
TREND_DAYS = 7  # battery trend window for the projection


def _where(*extra: str) -> str:
    return " AND ".join([regex_match(s.TAG_SITE, "site"), *extra, "$timeFilter"])


def _from_devices() -> str:
    return ", ".join(f'"{m}"' for m in s.DEVICE_MEASUREMENTS)


def silence_query(kind: str, where: str, group_tags: tuple[str, ...] = (s.TAG_DEVICE,), keep_all: bool = False) -> str:
    """Devices of `kind` silent for SILENT_AFTER_INTERVALS intervals: one row each, column "recent" = 0.

    With keep_all, every device seen in the range gets its row (the alert rule compares "recent" itself).
    """
    step = format_duration(s.EXPECTED_INTERVAL_S[kind] * 1000)
    window = s.SILENT_AFTER_INTERVALS + 1  # whole buckets + the current partial one
    tags = ", ".join(f'"{t}"' for t in group_tags)
    inner = (f'SELECT moving_average(count("{s.SEQ}"), {window}) AS "recent" FROM "{kind}" WHERE {where} '
             f'GROUP BY time({step}), {tags} fill(0)')
    latest = f'SELECT last("recent") AS "recent" FROM ({inner}) GROUP BY {tags}'
    if keep_all:
        return latest
    return f'SELECT "recent" FROM ({latest}) WHERE "recent" = 0 GROUP BY {tags}'


def last_seen_panel(t: Text) -> table.Panel:
    """Every device with the time of its latest reading."""
    query = f'SELECT last("{s.SEQ}") AS "seq" FROM {_from_devices()} WHERE {_where()} GROUP BY "{s.TAG_DEVICE}"'
    return (table.Panel().id(1).title(t("機器の最終受信", "Devices last seen"))
            .description(t("全機器の最後の受信時刻 (古い順に並べ替え可)", "Latest reading of every device"))
            .with_target(q(query).table()).unit("none").show_header(True).grid_pos(grid(12, 9))
            .override_by_name("Time", [dm.DynamicConfigValue("displayName", t("最終受信", "Last seen")),
                                        dm.DynamicConfigValue("unit", "dateTimeFromNow")])
            .override_by_name("device_id", [dm.DynamicConfigValue("displayName", t("機器", "Device"))])
            .override_by_name("seq", [dm.DynamicConfigValue("displayName", t("通番", "Seq"))]))


def offline_panel(t: Text) -> table.Panel:
    """Field devices silent for 3 of their reporting intervals (plows are parked when silent)."""
    p = (table.Panel().id(2).title(t("応答のない機器 (間隔の3倍以上)", "Devices silent for 3 intervals"))
         .description(t("予定の送信間隔の3倍以上データが届いていない機器 (土壌・水位 15分、気象 10分)。"
                        "表示期間内に一度は送信した機器が対象",
                        "No reading for 3 expected intervals (soil and water 15 min, weather 10 min), among "
                        "devices heard at least once in the time range"))
         .unit("none").no_value(t("全機器が応答中", "All devices reporting")).show_header(True).grid_pos(grid(12, 9))
         .with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
         .override_by_name("device_id", [dm.DynamicConfigValue("displayName", t("機器", "Device"))]))
    for ref, kind in zip("ABC", s.EXPECTED_INTERVAL_S):
        p = p.with_target(q(silence_query(kind, _where()), ref).table())
    return p


def battery_panel(t: Text) -> timeseries.Panel:
    """Battery voltage per device."""
    query = (f'SELECT mean("{s.BATTERY_V}") AS "battery_v" FROM {_from_devices()} WHERE {_where()} '
             f'GROUP BY time($__interval), "{s.TAG_DEVICE}" fill(none)')
    return (timeseries_panel().id(3).title(t("電池電圧の推移", "Battery voltage"))
            .description(t(f"{s.BATTERY_EMPTY_V} V を下回ると停止の恐れ", f"Devices stop below about {s.BATTERY_EMPTY_V} V"))
            .with_target(q(query).alias("$tag_device_id")).unit("volt").interval("10m").grid_pos(grid(12, 8)))


def battery_days_panel(t: Text) -> table.Panel:
    """Days until each battery reaches BATTERY_EMPTY_V at its 7-day rate of fall (only falling ones)."""
    # days = (V_now - V_empty) / ((V_first - V_now) / window_days): a straight-line projection.
    inner = (f'SELECT (last("{s.BATTERY_V}") - {s.BATTERY_EMPTY_V}) / ((first("{s.BATTERY_V}") - last("{s.BATTERY_V}")) '
             f'/ {TREND_DAYS}) AS "days_left" FROM {_from_devices()} WHERE {_where()} GROUP BY "{s.TAG_DEVICE}"')
    query = f'SELECT "days_left" FROM ({inner}) WHERE "days_left" > 0 GROUP BY "{s.TAG_DEVICE}"'
    return name_columns(table.Panel().id(4).title(t("電池の残り日数 (推定)", "Battery days left (projected)"))
            .description(t("過去7日の電圧低下が続くと仮定した停止までの日数", "Days to empty if the last 7 days' fall continues"))
            .with_target(q(query).table()).time_from(f"{TREND_DAYS}d").unit("d").decimals(0).show_header(True)
            .sort_by([cb.TableSortByFieldState().display_name(t("残り日数", "Days left"))])
            .override_by_name("days_left", [dm.DynamicConfigValue("displayName", t("残り日数", "Days left"))])
            .grid_pos(grid(12, 8)), t, s.TAG_DEVICE)


def rssi_panel(t: Text) -> timeseries.Panel:
    """Radio signal strength per device."""
    query = (f'SELECT mean("{s.RSSI_DBM}") AS "rssi_dbm" FROM {_from_devices()} WHERE {_where()} '
             f'GROUP BY time($__interval), "{s.TAG_DEVICE}" fill(none)')
    return (timeseries_panel().id(5).title(t("電波強度 (RSSI)", "Signal strength (RSSI)"))
            .description(t("-90 dBm より弱いと通信が途切れやすい", "Below about -90 dBm links drop often"))
            .with_target(q(query).alias("$tag_device_id")).unit("dBm").interval("10m").grid_pos(grid(12, 8)))


def firmware_panel(t: Text) -> table.Panel:
    """Firmware version each device last announced on its status topic."""
    query = (f'SELECT last("{s.STATUS_FW_VERSION}") AS "fw_version" FROM "{s.DEVICE_STATUS}" WHERE {_where()} '
             f'GROUP BY "{s.TAG_DEVICE}"')
    return name_columns(table.Panel().id(6).title(t("ファームウェアの版", "Firmware version"))
            .description(t("各機器が status で報告した版", "Version each device reported on its status topic"))
            .with_target(q(query).table()).unit("string").show_header(True).grid_pos(grid(12, 8))
            .override_by_name("fw_version", [dm.DynamicConfigValue("displayName", t("版", "Version"))]), t, s.TAG_DEVICE)


def spool_panel(t: Text) -> timeseries.Panel:
    """Lines waiting in each gateway's spool (not yet in InfluxDB), and the age of the oldest."""
    depth = (f'SELECT max("{s.GW_SPOOL_DEPTH}") AS "spool_depth_lines" FROM "{s.GATEWAY}" WHERE $timeFilter '
             f'GROUP BY time($__interval), "{s.TAG_GATEWAY}" fill(none)')
    age = (f'SELECT max("{s.GW_SPOOL_AGE_S}") AS "spool_age_s" FROM "{s.GATEWAY}" WHERE $timeFilter '
           f'GROUP BY time($__interval), "{s.TAG_GATEWAY}" fill(none)')
    return (timeseries_panel().id(7).title(t("ゲートウェイの未送信", "Gateway spool"))
            .description(t("InfluxDB にまだ書けていない行数 (左) と最古の行の待ち時間 (右)。増え続けるなら書き込み先の障害",
                           "Lines not yet written to InfluxDB (left) and the wait of the oldest (right); "
                           "a steady rise means the database is not taking writes"))
            .with_target(q(depth, "A").alias(t("$tag_gateway 未送信行数", "$tag_gateway lines")))
            .with_target(q(age, "B").alias(t("$tag_gateway 最古の待ち時間", "$tag_gateway oldest wait")))
            .override_by_query("B", [dm.DynamicConfigValue("unit", "s"),
                                     dm.DynamicConfigValue("custom.axisPlacement", "right")])
            .unit("short").min(0).grid_pos(grid(8, 8)))


def latency_panel(t: Text) -> timeseries.Panel:
    """How long each gateway's InfluxDB writes take."""
    query = (f'SELECT mean("{s.GW_WRITE_LATENCY_MS}") AS "write_latency_ms" FROM "{s.GATEWAY}" WHERE $timeFilter '
             f'GROUP BY time($__interval), "{s.TAG_GATEWAY}" fill(none)')
    return (timeseries_panel().id(8).title(t("書き込み遅延", "Write latency"))
            .description(t("ゲートウェイから InfluxDB への1回の書き込み時間", "Time of one gateway write to InfluxDB"))
            .with_target(q(query).alias("$tag_gateway")).unit("ms").min(0).grid_pos(grid(8, 8)))


def rejected_panel(t: Text) -> timeseries.Panel:
    """Readings the gateway refused, per contract rejection code, per interval."""
    cols = ", ".join(f'non_negative_difference(last("{s.GW_REJECTED_PREFIX}{c}")) AS "{c}"' for c in s.REJECTION_CODES)
    query = f'SELECT {cols} FROM "{s.GATEWAY}" WHERE $timeFilter GROUP BY time($__interval), "{s.TAG_GATEWAY}" fill(none)'
    return (timeseries_panel().id(9).title(t("拒否された読み取り (理由別)", "Rejected readings by reason"))
            .description(t("契約に合わず保存されなかった読み取りの数 (clock=時計未設定、out_of_range=範囲外 など)",
                           "Readings refused by the contract (clock = clock not set, out_of_range, ...)"))
            .with_target(q(query).alias("$col")).unit("short").min(0).interval("5m").grid_pos(grid(8, 8)))


def build(lang: Lang | str = Lang.JA) -> db.Dashboard:
    """The fleet health dashboard in one language (uid yukimizu-fleet or yukimizu-fleet-en)."""
    lang = Lang(lang)
    t = Text(lang)
    d = base_dashboard(t("雪水 機器の健康状態", "yukimizu fleet health"), uid(UID, lang),
                       t("センサー・除雪車・ゲートウェイの稼働状況", "Sensors, plows and gateways at a glance"))
    return (d.time("now-7d", "now").with_variable(site_variable(t))
            .with_panel(last_seen_panel(t)).with_panel(offline_panel(t))
            .with_panel(battery_panel(t)).with_panel(battery_days_panel(t))
            .with_panel(rssi_panel(t)).with_panel(firmware_panel(t))
            .with_panel(spool_panel(t)).with_panel(latency_panel(t)).with_panel(rejected_panel(t)))
