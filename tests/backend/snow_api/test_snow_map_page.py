"""/map and /public/map render in headless Chromium (no basemap tiles offline) with routes, roads and plows."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
from backend_helpers import admin_headers
import pytest
from browser import CHROMIUM, serve, text_of
from browser import render as _render
from snowapi_night import contract_lines, drive, seed_registry

from backend.app import create_app
from backend.settings import BackendSettings
from yukimizu.influx import InfluxV1
from yukimizu.servers import free_port



@pytest.fixture
def server(snow_settings: BackendSettings) -> Iterator[str]:
    """The app under uvicorn on a free port (a thread); basemap tiles from an address that does not answer."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed; `make setup` installs the Debian package")
    port = free_port()
    dead = free_port()  # nothing listens here: the page must work without its tiles
    snow = replace(snow_settings.snow, basemap_url=f"http://127.0.0.1:{dead}/{{z}}/{{x}}/{{y}}.png")
    app = create_app(replace(snow_settings, api=replace(snow_settings.api, port=port), snow=snow))
    with serve(app, port) as url:
        yield url




def test_map_shows_routes_roads_and_plows_and_the_public_map_hides_vehicles(server: str, influx: InfluxV1,
                                                                          tmp_path: Path, snow_settings) -> None:
    headers = admin_headers(snow_settings)
    with httpx.Client(base_url=server, headers=headers) as c:
        seed_registry(c)
    now = time.time()
    # r-01 cleared 20 minutes ago by plow-001, which is now standing at its end.
    influx.write(contract_lines("plow-001", drive([(-20, 0), (400, 0), (400, 200)], 40, now - 1200),
                                tags={"vehicle_id": "v-1", "route": "ekimae"}))
    influx.write(contract_lines("plow-001", drive([(400, 200), (400, 210)], 5, now - 3), first_seq=1000,
                                tags={"vehicle_id": "v-1", "route": "ekimae"}))

    # The road division's link carries its token in the fragment, as the city sends it.
    dom = render(server + "/map#token=" + headers["Authorization"].removeprefix("Bearer "), tmp_path)
    assert 'data-ready="1"' in dom
    text = text_of(dom)
    assert "除雪マップ" in text and "駅前線" in text and "北通り線" in text
    assert "除雪ドーザ1号" in text  # the plow on the map and in the list, by its vehicle name
    # Every road drawn; r-01 cleared under an hour ago (green), the lane never cleared (grey).
    strokes = {road: colour for colour, road in re.findall(r'<polyline[^>]*stroke="([^"]+)"[^>]*data-road="([^"]+)"', dom)}
    assert strokes == {"r-01": "#1a9850", "r-02": "#9e9e9e", "r-03": "#9e9e9e", "r-04": "#9e9e9e", "r-05": "#9e9e9e"}
    # The basemap was asked for (its attribution shows), its tiles failed (nothing listens) and were removed.
    assert "地理院タイル" in text and "<image" not in dom

    public = render(server + "/public/map?lang=en", tmp_path)
    assert 'data-ready="1"' in public
    ptext = text_of(public)
    assert "Routes" in ptext and "駅前線" in ptext and "Shown 30 minutes late" in ptext
    assert "除雪ドーザ1号" not in ptext and "plow-001" not in public and "v-1" not in ptext
    # 30 minutes ago r-01 had not been cleared yet.
    assert re.search(r'stroke="#9e9e9e"[^>]*data-road="r-01"', public)


def render(url: str, tmp_path: Path) -> str:
    """The map page needs less virtual time than the farmer pages."""
    return _render(url, tmp_path, budget_ms=8000)
