"""Grafana alert rules (file provisioning) for the moments someone must be woken.

Each rule is built with the SDK's alerting and expression builders: InfluxQL queries (no template
variables: alert rules run without a dashboard), a `reduce` (last value per series) for each, and
one `math` expression as the condition. Series are matched by their tags, so a rule fires per
field, per device or per plow.

Grafana interpolates environment variables (`$NAME`) in provisioned rule titles and labels, so
those hold no `$`; annotations and queries are not interpolated and may use `{{ $labels.x }}` and
`$A`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafana_foundation_sdk.builders import alerting, expr
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import alerting as am
from grafana_foundation_sdk.models import dashboard as dm

from . import farmer, fleet, road
from . import schema as s
from .common import DATASOURCE, DATASOURCE_UID
from .influxql import InfluxQL

EXPR = dm.DataSourceRef(type_val="__expr__", uid="__expr__")
NO_RANGE = am.RelativeTimeRange(from_val=0, to=0)  # expressions run on their inputs, not on a range
FOLDER = "yukimizu"
BAND_LOOKBACK = "2d"  # the backend re-advises at least daily; an older band is stale
BOOTING_MIN_CM = 10.0  # a target band starting at 10 cm or more means the cold-sensitive stage (DOMAIN.md)


@dataclass(frozen=True)
class AlertQuery:
    """One InfluxQL query of a rule, by letter."""

    ref: str
    query: str
    window_s: int


@dataclass(frozen=True)
class AlertRule:
    """A rule as data: queries, the math condition over their last values, and the texts."""

    uid: str
    group: str
    title: str
    queries: tuple[AlertQuery, ...]
    condition: str  # SSE math over $R<ref>, the last value of each query's series
    summary: str
    description: str
    for_: str
    dashboard_uid: str
    panel_id: int
    severity: str


def _gb(*tags: str) -> str:
    return ", ".join(f'"{t}"' for t in tags)


def rules() -> list[AlertRule]:
    """Every rule; queries use fixed windows relative to now()."""
    fid = _gb(s.TAG_SITE, s.TAG_FIELD)
    veh = _gb(s.TAG_SITE, s.TAG_VEHICLE, s.TAG_ROUTE)
    level = AlertQuery("A", f'SELECT mean("{s.LEVEL_CM}") AS "level_cm" FROM "{s.WATER}" WHERE time > now() - 1h '
                            f'GROUP BY {fid}', 3600)
    band_min = AlertQuery("B", f'SELECT last("{s.ADVICE_TARGET_MIN_CM}") AS "target_min_cm" FROM "{s.ADVICE}" '
                               f'WHERE time > now() - {BAND_LOOKBACK} GROUP BY {fid}', 2 * 86400)
    band_max = AlertQuery("C", f'SELECT last("{s.ADVICE_TARGET_MAX_CM}") AS "target_max_cm" FROM "{s.ADVICE}" '
                               f'WHERE time > now() - {BAND_LOOKBACK} GROUP BY {fid}', 2 * 86400)
    out = [
        AlertRule("yukimizu-water-below-band", "farm", "水位が目標範囲より低い / Water below target band",
                  (level, band_min), "$RA < $RB",
                  "{{ $labels.field_id }}: 水位が目標下限を下回っています / water is below the target band",
                  "過去1時間の平均水位が生育段階の目標下限より低い。入水してください。/ "
                  "The last hour's mean depth is under the band for the growth stage: let water in.",
                  "30m", farmer.UID, 10, "warning"),
        AlertRule("yukimizu-water-overflow", "farm", "水田があふれそう / Paddy overflowing",
                  (level, band_max), "$RA > $RC",
                  "{{ $labels.field_id }}: 水位が目標上限を超えています / water is above the target band",
                  "過去1時間の平均水位が目標上限を超えた。水口を閉じ、畦を確認してください。/ "
                  "The last hour's mean depth is over the band: close the inlet and check the levees.",
                  "15m", farmer.UID, 10, "critical"),
        AlertRule("yukimizu-cold-booting", "farm", "穂ばらみ期の冷害の恐れ / Cold-damage risk at booting",
                  (AlertQuery("A", f'SELECT mean("{s.AIR_TEMP_C}") AS "air_temp_c" FROM "{s.WEATHER}" '
                                   f'WHERE time > now() - 7d GROUP BY "{s.TAG_SITE}"', 7 * 86400), band_min),
                  f"$RA < {s.COLD_DAMAGE_C:g} && $RB >= {BOOTING_MIN_CM:g}",
                  "{{ $labels.field_id }}: 冷害の恐れ、深水にしてください / cold-damage risk: deepen the water",
                  f"7日平均気温が {s.COLD_DAMAGE_C:g}℃ 未満で穂ばらみ期 (目標下限 {BOOTING_MIN_CM:g} cm 以上)。"
                  "早朝に15〜20 cm の深水に。/ 7-day mean air temperature under 17 C during booting: "
                  "fill to 15-20 cm in the early morning (NARO Tohoku).",
                  "1h", farmer.UID, 12, "critical"),
    ]
    for kind in s.EXPECTED_INTERVAL_S:
        every_min = s.EXPECTED_INTERVAL_S[kind] // 60
        out.append(AlertRule(
            f"yukimizu-silent-{kind}", "fleet", f"{kind} センサー応答なし / {kind} sensor silent",
            (AlertQuery("A", fleet.silence_query(kind, "time > now() - 2d", (s.TAG_SITE, s.TAG_DEVICE), keep_all=True),
                        2 * 86400),),
            "$RA < 0.1",
            "{{ $labels.device_id }}: " + f"{s.SILENT_AFTER_INTERVALS * every_min}分以上データなし / "
            f"no data for {s.SILENT_AFTER_INTERVALS * every_min} min",
            f"送信間隔 {every_min} 分の{s.SILENT_AFTER_INTERVALS}倍以上届いていません。電池・電波・設置を確認してください。/ "
            f"Silent for {s.SILENT_AFTER_INTERVALS} reporting intervals: check battery, radio and mounting.",
            "0s", fleet.UID, 2, "warning"))
    out.append(AlertRule(
        "yukimizu-plow-stopped", "road", "除雪車が作業中に停止 / Plow stopped mid-route",
        (AlertQuery("A", f'SELECT max("{s.SPEED_KM_H}") AS "max_speed_km_h" FROM "{s.PLOW}" '
                         f'WHERE time > now() - {s.PLOW_STOPPED_MIN}m GROUP BY {veh}', s.PLOW_STOPPED_MIN * 60),
         AlertQuery("B", f'SELECT count("{s.SEQ}") AS "before" FROM "{s.PLOW}" WHERE time > now() - '
                         f'{s.PLOW_STOPPED_MIN + 10}m AND time <= now() - {s.PLOW_STOPPED_MIN}m GROUP BY {veh}',
                    (s.PLOW_STOPPED_MIN + 10) * 60),
         AlertQuery("C", f'SELECT count("{s.SEQ}") AS "blade_down" FROM "{s.PLOW}" WHERE "{s.BLADE_DOWN}" = true '
                         f'AND time > now() - 5m GROUP BY {veh}', 300)),
        f"$RA < {s.PLOW_STOPPED_KM_H:g} && $RB > 0 && $RC > 0",
        "{{ $labels.vehicle_id }} ({{ $labels.route }}): " + f"{s.PLOW_STOPPED_MIN}分停止 / stopped for "
        f"{s.PLOW_STOPPED_MIN} min",
        f"排土板を下げたまま {s.PLOW_STOPPED_MIN} 分間動いていません。運転手に連絡してください。/ "
        f"Blade down and not moving for {s.PLOW_STOPPED_MIN} min: call the driver.",
        "0s", road.UID, 1, "critical"))
    return out


def _sdk_rule(r: AlertRule) -> alerting.Rule:
    """The rule through the SDK builders (typed; the provisioning file is derived from it)."""
    b = (alerting.Rule(r.title).uid(r.uid).condition("COND").for_val(r.for_).no_data_state("OK")
         .exec_err_state("Error").labels({"team": "yukimizu", "severity": r.severity})
         .annotations({"summary": r.summary, "description": r.description,
                       "__dashboardUid__": r.dashboard_uid, "__panelId__": str(r.panel_id)}))
    for aq in r.queries:
        b = b.with_query(alerting.Query(aq.ref).datasource_uid(DATASOURCE_UID)
                         .relative_time_range(am.RelativeTimeRange(from_val=aq.window_s, to=0))
                         .model(InfluxQL(aq.query, aq.ref).datasource(DATASOURCE)))
        b = b.with_query(alerting.Query(f"R{aq.ref}").datasource_uid("__expr__").relative_time_range(NO_RANGE)
                         .model(expr.TypeReduce().ref_id(f"R{aq.ref}").expression(aq.ref).reducer("last")
                                .datasource(EXPR)))
    return b.with_query(alerting.Query("COND").datasource_uid("__expr__").relative_time_range(NO_RANGE)
                        .model(expr.TypeMath().ref_id("COND").expression(r.condition).datasource(EXPR)))


def provisioning(folder: str = FOLDER) -> dict[str, Any]:
    """The alerting provisioning document (apiVersion 1, one group per audience) for a folder title."""
    groups: dict[str, dict[str, Any]] = {}
    intervals = {"farm": "5m", "fleet": "1m", "road": "1m"}
    for r in rules():
        rule = json.loads(json.dumps(_sdk_rule(r).build(), cls=JSONEncoder))
        for api_only in ("folderUID", "orgID", "ruleGroup"):  # the file names these on the group
            rule.pop(api_only, None)
        rule["isPaused"] = False
        g = groups.setdefault(r.group, {"orgId": 1, "name": f"yukimizu-{r.group}", "folder": folder,
                                        "interval": intervals[r.group], "rules": []})
        g["rules"].append(rule)
    return {"apiVersion": 1, "groups": list(groups.values())}
