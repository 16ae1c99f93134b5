"""Fixtures for the gateway tests (helpers live in gateway_harness.py)."""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import GatewayProc, Publisher, end_session

from yukimizu.servers import free_port


@pytest.fixture
def make_gateway(tmp_path: Path) -> Iterator[Callable[..., GatewayProc]]:
    """Factory: make_gateway(broker_port, influx_url, database, registry=doc|None, settings={section: {key: v}})."""
    made: list[GatewayProc] = []

    def make(mqtt_port: int, influx_url: str, database: str = "", *, registry: dict[str, Any] | None = None,
             name: str | None = None, settings: dict[str, dict[str, Any]] | None = None) -> GatewayProc:
        name = name or f"gw{len(made)}"
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        cfg: dict[str, dict[str, Any]] = {
            "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "client_id": f"test-{name}-{uuid.uuid4().hex[:8]}"},
            "influxdb": {"url": influx_url, "database": database or "yukimizu", "retry_min_ms": 100,
                         "retry_max_ms": 1000},
            "spool": {"path": str(root / "spool.sqlite3")},
            "registry": {"cache_path": str(root / "registry-cache.json")},
            "health": {"port": free_port(), "interval_s": 1.0},
        }
        if registry is not None:
            reg = root / "registry.json"
            reg.write_text(json.dumps(registry, ensure_ascii=False))
            cfg["registry"]["path"] = str(reg)
        else:
            cfg["registry"]["require_known_devices"] = False
        for section, keys in (settings or {}).items():
            cfg.setdefault(section, {}).update(keys)
        g = GatewayProc(root, cfg)
        made.append(g)
        return g

    yield make
    for g in made:
        if g.proc is not None and g.proc.poll() is None:
            g.proc.kill()
            g.proc.wait()
        end_session(g.config["mqtt"]["port"], g.config["mqtt"]["client_id"])


@pytest.fixture
def publisher(request: pytest.FixtureRequest) -> Iterator[Callable[[int], Publisher]]:
    """Factory for publishers; all are closed at the end."""
    made: list[Publisher] = []

    def make(port: int, client_id: str = "") -> Publisher:
        p = Publisher(port, client_id or f"test-publisher-{uuid.uuid4().hex[:8]}")
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
        end_session(p.port, p.client_id)
