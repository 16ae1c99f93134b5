"""The registry's facts about each device, written to InfluxDB as `device_status` so Grafana can show them.

Grafana reads only InfluxDB. The firmware version (from `yukimizu flash` provisioning records) and the
expected reporting interval live in the registry, so the backend copies them across on a schedule.
Points are stamped at the start of the interval, so a re-run in the same interval replaces its point.
"""
from __future__ import annotations

import asyncio
import logging
import time

from yukimizu.contract.lineproto import line

from .history import History
from .registry import Registry

log = logging.getLogger(__name__)
MEASUREMENT = "device_status"


def status_lines(devices: list[dict], t_ms: int) -> list[str]:
    """One point per device: tags site, device_id, kind; fields expected_interval_s and fw_version when known."""
    out = []
    for d in devices:
        fields: dict[str, object] = {"expected_interval_s": float(d["expected_interval_s"])}
        if d.get("firmware_version"):
            fields["fw_version"] = str(d["firmware_version"])
        out.append(line(MEASUREMENT, {"site": d["site"], "device_id": d["device_id"], "kind": d["kind"]}, fields, t_ms))
    return out


async def write_once(registry: Registry, history: History, interval_s: float, now_s: float | None = None) -> int:
    """Write every device's status point for the current interval; returns how many."""
    now = time.time() if now_s is None else now_s
    t_ms = int(now // interval_s * interval_s * 1000)
    lines = status_lines(registry.list("devices"), t_ms)
    if lines:
        await history.write(lines)
    return len(lines)


async def run_forever(registry: Registry, history: History, interval_s: float, stop: asyncio.Event) -> None:
    """Write every interval until `stop` is set (an app lifespan task)."""
    while not stop.is_set():
        try:
            await write_once(registry, history, interval_s)
        except Exception:  # keep the schedule alive; the error is in the log
            log.exception("device_status write failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        except asyncio.TimeoutError:
            pass
