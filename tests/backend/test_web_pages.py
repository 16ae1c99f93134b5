"""The farmer and fleet pages render in headless Chromium with real data (uvicorn, InfluxDB, registry)."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from browser import CHROMIUM, render, serve, text_of
from fastapi.responses import HTMLResponse
from backend_helpers import seed_site, write_readings

from backend.access import OPEN
from backend.app import create_app
from backend.settings import BackendSettings
from yukimizu.influx import InfluxV1
from yukimizu.servers import free_port



# A same-origin page (added by the test only) that drives the farmer page like a person would:
# it waits for /fields to render in a frame, picks a stage in the paddy's selector, then reports
# what the API says afterwards.
HARNESS = """<!doctype html><meta charset="utf-8"><body><pre id="out">waiting</pre>
<iframe id="f" src="/fields#token=TOKEN" style="width:400px;height:800px"></iframe>
<script>
const out = document.getElementById("out");
async function step() {
  const doc = document.getElementById("f").contentDocument;
  const sel = doc && doc.body && doc.body.dataset.ready === "1" && doc.querySelector('select[data-stage-for="paddy-1"]');
  if (!sel) { setTimeout(step, 100); return; }
  sel.value = "meiosis";
  sel.dispatchEvent(new Event("change"));
  for (let i = 0; i < 50; i++) {
    const f = await (await fetch("/api/v1/fields/paddy-1", {headers: {"Authorization": "Bearer TOKEN"}})).json();
    if (f.growth_stage === "meiosis") { out.textContent = "stage now " + f.growth_stage; return; }
    await new Promise(r => setTimeout(r, 100));
  }
  out.textContent = "stage not changed";
}
step();
</script>"""


@pytest.fixture
def server(settings: BackendSettings, admin_token: str) -> Iterator[str]:
    """The app served by uvicorn on a free port in a thread; its base URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed; `make setup` installs the Debian package")
    port = free_port()
    app = create_app(replace(settings, api=replace(settings.api, port=port)))
    app.add_api_route("/test-harness", lambda: HTMLResponse(HARNESS.replace("TOKEN", admin_token)), include_in_schema=False)
    app.state.access_rules["GET /test-harness"] = OPEN
    with serve(app, port) as url:
        yield url




def seed(server: str, influx: InfluxV1, token: str) -> int:
    """Registry, readings and one evaluated alert; returns the time of the last readings (Unix s)."""
    now_s = int(time.time())
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {token}"}) as c:
        seed_site(c)  # type: ignore[arg-type]
        c.post("/api/v1/devices", json={"device_id": "s-09", "kind": "soil", "site": "goshogawara",
                                        "field_id": "apple-1", "expected_interval_s": 600, "firmware_version": "1.1.0"})
        t = now_s - 300  # the last reading, shown in JST on the page
        write_readings(influx, "water", "w-01", [(t - 600, {"level_cm": 2.6}), (t, {"level_cm": 1.2, "water_temp_c": 16.5,
                                                                                       "battery_v": 3.91, "rssi_dbm": -67.0})],
                       tags={"field_id": "paddy-1"})
        write_readings(influx, "soil", "s-01", [(t, {"vwc_pct": 27.5, "soil_temp_c": 14.2, "battery_v": 3.35})],
                       tags={"field_id": "apple-1"})
        write_readings(influx, "soil", "s-09", [(now_s - 5 * 3600, {"vwc_pct": 26.0})], tags={"field_id": "apple-1"})
        r = c.post("/api/v1/alerts/evaluate")
        assert ["water_level", "paddy-1:low"] in r.json()["raised"], r.text
    return t


def jst_hhmm(t_s: float) -> str:
    return time.strftime("%H:%M", time.gmtime(t_s + 9 * 3600))


def test_farmer_page_shows_level_alert_and_jst_time(server: str, influx: InfluxV1, tmp_path: Path,
                                                    admin_token: str) -> None:
    t_last = seed(server, influx, admin_token)
    dom = render(server + f"/fields#token={admin_token}", tmp_path)
    assert 'data-ready="1"' in dom
    text = text_of(dom)
    # The paddy needing water comes first, in Japanese, with its level, band and last reading in JST.
    assert text.index("北の田") < text.index("りんご園")
    assert "北の田 要対応" in text and "水位 1.2 cm" in text and "目安 2〜4 cm" in text and "分げつ期" in text
    assert "下限 2 cm を下回っています" in text
    assert f"{jst_hhmm(t_last)} JST" in text
    assert "土壌水分 27.5 %" in text
    # The farmer can change the paddy's stage on the page: a selector showing the current one.
    select = re.search(r'<select data-stage-for="paddy-1">(.*?)</select>', dom, flags=re.S)
    assert select and re.search(r'<option value="tillering" selected="">分げつ期</option>', select.group(1))
    assert 'data-stage-for="apple-1"' not in dom
    en = text_of(render(server + f"/fields?lang=en#token={admin_token}", tmp_path))
    assert "Needs attention" in en and "Water level 1.2 cm" in en and "water level 1.2 cm is below 2 cm" in en


def test_fleet_page_lists_problems_first(server: str, influx: InfluxV1, tmp_path: Path, admin_token: str) -> None:
    seed(server, influx, admin_token)
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {admin_token}"}) as c:
        c.post("/api/v1/vehicles", json={"id": "v-1", "site": "goshogawara", "machine_class": "grader"})
        c.post("/api/v1/devices", json={"device_id": "gps-1", "kind": "plow", "site": "goshogawara",
                                        "vehicle_id": "v-1", "expected_interval_s": 10})
    parked_s = time.time() - 2 * 3600  # back at the depot two hours ago, engine off since
    write_readings(influx, "plow", "gps-1", [(parked_s, {"lat": 40.8, "lon": 140.44, "speed_km_h": 0.0,
                                                         "blade_down": False})], tags={"vehicle_id": "v-1"})
    dom = render(server + f"/fleet#token={admin_token}", tmp_path)
    assert 'data-ready="1"' in dom
    text = text_of(dom)
    rows = re.findall(r'data-device="([^"]+)" data-status="([^"]+)"', dom)
    assert rows == [("s-01", "problem"), ("s-09", "problem"), ("gps-1", "ok"), ("w-01", "ok")]
    assert "電池残量が少ない" in text and "3.35 V" in text
    assert "受信が途絶えています" in text and "-67 dBm" in text
    assert "駐車中(エンジン停止)" in text
    assert "異常 2 · 注意 0 · 正常 2" in text


def test_farmer_sets_the_paddy_stage_on_the_page(server: str, influx: InfluxV1, tmp_path: Path, admin_token: str) -> None:
    seed(server, influx, admin_token)
    assert "stage now meiosis" in text_of(render(server + "/test-harness", tmp_path))
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {admin_token}"}) as c:
        field = c.get("/api/v1/fields/paddy-1").json()
        assert field["growth_stage"] == "meiosis"
        # The band follows the stage: meiosis wants at least 10 cm.
        overview = c.get("/api/v1/overview/fields").json()["fields"]
        assert [(f["band_min_cm"], f["band_max_cm"]) for f in overview if f["id"] == "paddy-1"] == [(10.0, 15.0)]


def test_a_farmer_sees_todays_advice_for_their_own_fields_only(server: str, influx: InfluxV1, tmp_path: Path,
                                                              admin_token: str) -> None:
    seed(server, influx, admin_token)
    now_s = int(time.time())
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {admin_token}"}) as c:
        # A second paddy of the same farmer, losing 3 cm an hour: a leak, the most urgent advice there is.
        c.post("/api/v1/fields", json={"id": "paddy-2", "site": "goshogawara", "name": "南の田", "crop": "paddy",
                                       "soil_texture": "clay", "growth_stage": "tillering",
                                       "geometry": {"type": "Polygon", "coordinates": [[[140.43, 40.8], [140.431, 40.8],
                                                    [140.431, 40.801], [140.43, 40.801], [140.43, 40.8]]]}})
        c.post("/api/v1/devices", json={"device_id": "w-02", "kind": "water", "site": "goshogawara",
                                        "field_id": "paddy-2", "expected_interval_s": 600})
        write_readings(influx, "water", "w-02", [(now_s - 3600 + 300 * k, {"level_cm": 3.8 - 0.25 * k}) for k in range(12)],
                       tags={"field_id": "paddy-2"})
        made = c.post("/api/v1/tokens", json={"role": "farmer", "field_ids": ["paddy-1", "paddy-2"], "label": "山田さん"})
        farmer = made.json()["token"]
        # The page shows what the advice API computes for each field, word for word, in each language.
        ja = {f: c.get(f"/api/v1/fields/{f}/advice").json()["advice"] for f in ("paddy-1", "paddy-2")}
        en = {f: c.get(f"/api/v1/fields/{f}/advice", params={"lang": "en"}).json()["advice"] for f in ("paddy-1", "paddy-2")}
    assert (ja["paddy-1"]["action"], ja["paddy-2"]["action"]) == ("fill", "check_leak")
    dom = render(server + f"/fields#token={farmer}", tmp_path)
    assert 'data-ready="1"' in dom
    cards = dict(re.findall(r'data-field="([^"]+)".*?<p class="advice[^"]*" data-advice="([^"]+)"', dom, flags=re.DOTALL))
    assert cards == {"paddy-1": "fill", "paddy-2": "check_leak"}  # not the apple orchard: not theirs
    text = text_of(dom)
    assert f"今日の水管理: {ja['paddy-1']['message']}" in text
    assert f"至急 今日の水管理: {ja['paddy-2']['message']}" in text  # the leak says it is urgent, in words
    assert f"至急 今日の水管理: {ja['paddy-1']['message']}" not in text  # filling is not
    en_text = text_of(render(server + f"/fields?lang=en#token={farmer}", tmp_path))
    assert f"Water today: {en['paddy-1']['message']}" in en_text
    assert f"Urgent Water today: {en['paddy-2']['message']}" in en_text
