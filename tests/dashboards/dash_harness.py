"""Walk built dashboards the way Grafana would: panels, their time ranges, variables, and rendered queries."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dashboards.macros import parse_duration_ms, render

DATASOURCE_MIN_INTERVAL = "1m"  # provisioning.datasource jsonData.timeInterval default


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel, with what Grafana would put around it."""

    dashboard_uid: str
    base_uid: str
    panel: dict[str, Any]
    target: dict[str, Any]
    repeat_var: str | None  # the variable of the repeated row the panel sits in

    @property
    def key(self) -> tuple[str, int, str]:
        """(dashboard base uid, panel id, refId)."""
        return (self.base_uid, int(self.panel["id"]), self.target["refId"])


def base_uid(uid: str) -> str:
    """The uid without the language suffix."""
    return uid.removesuffix("-en")


def panel_queries(dash: dict[str, Any]) -> Iterator[PanelQuery]:
    """Every target of every panel, knowing which repeated row (if any) the panel belongs to."""
    repeat: str | None = None
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            repeat = p.get("repeat") or None
            inner = p.get("panels") or []
        else:
            inner = [p]
        for panel in inner:
            for t in panel.get("targets") or []:
                yield PanelQuery(dash["uid"], base_uid(dash["uid"]), panel, t, repeat)


def time_range_ms(dash: dict[str, Any], panel: dict[str, Any], now_ms: int) -> tuple[int, int]:
    """The panel's range: its relative time override, else the dashboard's default range (now-X to now)."""
    if panel.get("timeFrom"):
        return now_ms - parse_duration_ms(panel["timeFrom"]), now_ms
    start = dash["time"]["from"]
    assert start.startswith("now-") and dash["time"]["to"] == "now", dash["time"]
    return now_ms - parse_duration_ms(start.removeprefix("now-")), now_ms


def rendered(dash: dict[str, Any], pq: PanelQuery, variables: dict[str, str | Sequence[str]], now_ms: int) -> str:
    """The InfluxQL Grafana would send for this target."""
    from_ms, to_ms = time_range_ms(dash, pq.panel, now_ms)
    return render(pq.target["query"], variables=variables, from_ms=from_ms, to_ms=to_ms,
                  max_data_points=int(pq.panel.get("maxDataPoints") or 1000),
                  min_interval=pq.panel.get("interval") or DATASOURCE_MIN_INTERVAL)


def rows(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Series flattened to dicts with tags, as InfluxV1.rows does."""
    out = []
    for s in series:
        for v in s["values"]:
            row = dict(zip(s["columns"], v))
            row.update(s.get("tags") or {})
            out.append(row)
    return out


def tag_values(series: list[dict[str, Any]], tag: str) -> set[str]:
    """The values of one tag across the series."""
    return {(s.get("tags") or {}).get(tag) for s in series}


def column(series: list[dict[str, Any]], name: str) -> list[Any]:
    """Every non-null value of one column across the series."""
    return [r[name] for r in rows(series) if r.get(name) is not None]
