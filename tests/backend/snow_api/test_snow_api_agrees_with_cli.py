"""/api/v1/coverage and /api/v1/reports/plows answer exactly what the offline CLI answers on the same points."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import tariff_without_vehicles
from fastapi.testclient import TestClient
from snowapi_night import NIGHT_DAY, VEHICLES, export_tracks_csv, night, roads, seed_registry, write_night

from yukimizu.cli import main as yukimizu_main
from yukimizu.influx import InfluxV1


def _cli_inputs(tmp_path: Path, influx: InfluxV1) -> tuple[Path, Path, Path]:
    """roads.geojson (the file imported), tracks.csv (exported from InfluxDB), and the tariff with the registry's classes."""
    (tmp_path / "roads.geojson").write_text(json.dumps(roads(), ensure_ascii=False), encoding="utf-8")
    (tmp_path / "tracks.csv").write_text(export_tracks_csv(influx), encoding="utf-8")
    vehicles = "".join(f'"{dev}" = "{cls}"\n' for _n, cls, dev, _r in VEHICLES.values())
    (tmp_path / "cli-tariff.toml").write_text(tariff_without_vehicles() + "[vehicles]\n" + vehicles, encoding="utf-8")
    return tmp_path / "roads.geojson", tmp_path / "tracks.csv", tmp_path / "cli-tariff.toml"


def test_coverage_and_report_agree_with_the_offline_cli(snow_client: TestClient, influx: InfluxV1, tmp_path: Path) -> None:
    c = snow_client
    seed_registry(c)
    write_night(influx, night())
    roads_file, tracks_file, tariff_file = _cli_inputs(tmp_path, influx)
    since, until = "2026-01-15T23:00:00+09:00", "2026-01-16T02:00:00+09:00"

    assert yukimizu_main(["coverage", "--roads", str(roads_file), "--tracks", str(tracks_file), "--since", since,
                          "--until", until, "--out", str(tmp_path / "result.json")]) == 0
    cli = json.loads((tmp_path / "result.json").read_text())
    r = c.get("/api/v1/coverage", params={"since": since, "until": until})
    assert r.status_code == 200, r.text
    api = r.json()
    for key in ("segments", "routes", "total"):
        assert api[key] == cli[key], key
    assert api["input"]["fixes_used"] == cli["input"]["fixes_used"] > 200
    # The night is what was constructed: r-01 by plow-001 only, r-03 across midnight by plow-002 despite the
    # 90 s tunnel (only partly), the parallel street 22 m away and the lane left alone; the Tokyo fix is skipped.
    seg = {s["id"]: s for s in api["segments"]}
    assert seg["r-01"]["cleared"] and seg["r-01"]["devices"] == ["plow-001"]
    assert seg["r-02"]["cleared_fraction"] < 0.5 and not seg["r-02"]["cleared"]
    assert seg["r-04"]["cleared"] and seg["r-04"]["devices"] == ["plow-002"]
    assert seg["r-05"]["cleared_fraction"] == 0.0
    assert 0.5 < seg["r-03"]["cleared_fraction"] < 0.9
    assert api["input"]["fixes_skipped"] == cli["input"]["lines_skipped"] == 1

    # One route: the route's roads and entry from the same computation.
    r = c.get("/api/v1/coverage", params={"since": since, "until": until, "route": "kita"})
    assert r.status_code == 200, r.text
    assert r.json()["segments"] == [s for s in cli["segments"] if s["id"] in ("r-03", "r-04")]
    assert r.json()["routes"] == [x for x in cli["routes"] if x["route"] == "kita"]
    # GeoJSON: the roads with the same coverage, their names and the route's name from the registry.
    gj = c.get("/api/v1/coverage", params={"since": since, "until": until, "format": "geojson"}).json()
    props = {f["properties"]["id"]: f["properties"] for f in gj["features"]}
    assert {k: p["cleared"] for k, p in props.items()} == {s["id"]: s["cleared"] for s in cli["segments"]}
    assert props["r-01"]["route_name"] == "駅前線" and props["r-01"]["name"] == "駅前通り"

    # The daily report for the JST day, with each vehicle's machine class from the registry.
    for fmt in ("json", "csv"):
        out = tmp_path / f"report.{fmt}"
        assert yukimizu_main(["report", "plows", "--date", NIGHT_DAY, "--tracks", str(tracks_file), "--roads",
                              str(roads_file), "--tariff", str(tariff_file), "--format", fmt, "--out", str(out)]) == 0
        r = c.get("/api/v1/reports/plows", params={"date": NIGHT_DAY, "format": fmt})
        assert r.status_code == 200, r.text
        if fmt == "json":
            report = r.json()
            assert report == json.loads(out.read_text())
            pay = {v["vehicle"]: v["payment"]["machine_class"] for v in report["vehicles"]}
            assert pay == {"plow-001": "grader_3_7m", "plow-002": "loader_small"}
            assert all(v["payment"]["total_yen"] > 0 for v in report["vehicles"])
            # plow-002's 90 s tunnel is a data gap in its report.
            gaps = {v["vehicle"]: len(v["gaps"]) for v in report["vehicles"]}
            assert gaps["plow-002"] >= 1
        else:
            assert r.headers["content-type"].startswith("text/csv")
            assert r.text == out.read_text()
            assert r.text.startswith("車両 / vehicle,開始 / start")
