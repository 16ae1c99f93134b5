"""Fixtures for the snow API tests: the backend with a tariff and short caches on the real InfluxDB."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from backend_helpers import admin_headers

from backend.app import create_app
from backend.settings import BackendSettings

EXAMPLE_TARIFF = Path(__file__).resolve().parents[3] / "backend" / "snow" / "tariff.example.toml"


def tariff_without_vehicles() -> str:
    """The example tariff minus its device table and default class: machine classes come from the registry."""
    text = EXAMPLE_TARIFF.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^default_machine_class = .*\n", "", text)
    return text[: text.index("[vehicles]")]


@pytest.fixture
def snow_settings(settings: BackendSettings, tmp_path: Path) -> BackendSettings:
    """Backend settings with the tariff, caches short enough for a test to see new points, no basemap."""
    tariff = tmp_path / "tariff.toml"
    tariff.write_text(tariff_without_vehicles(), encoding="utf-8")
    # "Tonight" began six hours ago, whenever the tests run (the default 18:00 JST would move under a test).
    six_hours_ago = time.strftime("%H:%M", time.gmtime(time.time() + 9 * 3600 - 6 * 3600))
    snow = replace(settings.snow, tariff=str(tariff), live_cache_s=0.2, stream_interval_s=0.2, coverage_cache_s=0.0,
                   basemap_url="", night_start_jst=six_hours_ago, live_engine=False)
    return replace(settings, snow=snow)


@pytest.fixture
def snow_client(snow_settings: BackendSettings) -> Iterator[TestClient]:
    """The real app (lifespan run) with the snow settings."""
    with TestClient(create_app(snow_settings), headers=admin_headers(snow_settings)) as c:
        yield c
