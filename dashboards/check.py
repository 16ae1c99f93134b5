"""Run every panel query of the built dashboards against an InfluxDB, as Grafana would, without Grafana.

Used by the tests against the harness InfluxDB, and by `yukimizu dashboards check` against a real
one after deployment: which panels error, which are empty. Variables get the values Grafana would
offer: query variables run their own query (all values, as "All" would), text boxes their default;
a panel in a row repeated over a variable runs once per value.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yukimizu.influx import InfluxError, InfluxV1

from .macros import parse_duration_ms, render

DATASOURCE_MIN_INTERVAL = "1m"  # provisioning.datasource jsonData.timeInterval default


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel, with what Grafana would put around it."""

    dashboard_uid: str
    panel: dict[str, Any]
    target: dict[str, Any]
    repeat_var: str | None  # the variable of the repeated row the panel sits in

    @property
    def key(self) -> tuple[str, int, str]:
        """(dashboard uid without language suffix, panel id, refId)."""
        return (self.dashboard_uid.removesuffix("-en"), int(self.panel["id"]), self.target["refId"])


@dataclass(frozen=True)
class Result:
    """What one query returned."""

    query: PanelQuery
    repeat_value: str | None
    influxql: str
    series: int
    rows: int
    error: str = ""


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
                yield PanelQuery(dash["uid"], panel, t, repeat)


def time_range_ms(dash: dict[str, Any], panel: dict[str, Any], now_ms: int) -> tuple[int, int]:
    """The panel's range: its relative time override, else the dashboard's default range (now-X to now)."""
    if panel.get("timeFrom"):
        return now_ms - parse_duration_ms(panel["timeFrom"]), now_ms
    start, end = dash["time"]["from"], dash["time"]["to"]
    if not (start.startswith("now-") and end == "now"):
        raise ValueError(f"dashboard {dash['uid']}: only now-X to now ranges are supported, got {start} to {end}")
    return now_ms - parse_duration_ms(start.removeprefix("now-")), now_ms


def rendered(dash: dict[str, Any], pq: PanelQuery, variables: Mapping[str, str | Sequence[str]], now_ms: int) -> str:
    """The InfluxQL Grafana would send for this target."""
    from_ms, to_ms = time_range_ms(dash, pq.panel, now_ms)
    return render(pq.target["query"], variables=variables, from_ms=from_ms, to_ms=to_ms,
                  max_data_points=int(pq.panel.get("maxDataPoints") or 1000),
                  min_interval=pq.panel.get("interval") or DATASOURCE_MIN_INTERVAL)


def variable_values(dash: dict[str, Any], db: InfluxV1, fixed: Mapping[str, str], now_ms: int) -> dict[str, Any]:
    """Values for the dashboard's variables: `fixed` first, then query results (all of them) or text defaults."""
    values: dict[str, Any] = dict(fixed)
    for v in dash.get("templating", {}).get("list", []):
        name = v["name"]
        if name in values:
            continue
        if v["type"] == "textbox":
            values[name] = str(v.get("query") or "")
        elif v["type"] == "query":
            q = render(v["query"], variables=values, from_ms=now_ms - 86_400_000, to_ms=now_ms)
            found = sorted({row[1] for s in db.query(q) for row in s["values"]})
            values[name] = found if v.get("multi") or v.get("includeAll") else (found[0] if found else "")
    return values


def check(db: InfluxV1, docs: Sequence[dict[str, Any]], fixed: Mapping[str, str], now_ms: int) -> list[Result]:
    """Run every panel query of `docs`; one Result per query (per repeated value)."""
    out: list[Result] = []
    for dash in docs:
        variables = variable_values(dash, db, fixed, now_ms)
        for pq in panel_queries(dash):
            repeat_values: list[str | None] = [None]
            if pq.repeat_var and isinstance(variables.get(pq.repeat_var), list):
                repeat_values = list(variables[pq.repeat_var]) or [None]
            for one in repeat_values:
                vs = dict(variables)
                if one is not None:
                    vs[pq.repeat_var] = [one]  # type: ignore[index]
                q = rendered(dash, pq, vs, now_ms)
                try:
                    series = db.query(q)
                except InfluxError as e:
                    out.append(Result(pq, one, q, 0, 0, str(e)))
                    continue
                out.append(Result(pq, one, q, len(series), sum(len(s["values"]) for s in series)))
    return out
