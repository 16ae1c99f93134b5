"""`yukimizu coverage` and `yukimizu report plows` as a user runs them: outputs, errors, nothing half-written."""
from __future__ import annotations

import json

import pytest

from snow_builders import drive, join, lonlat, road
from yukimizu.cli import main

HEADER = "device_id,t,lat,lon,blade_down,speed_km_h,heading_deg"


@pytest.fixture
def files(tmp_path):
    roads = {"type": "FeatureCollection", "features": [
        road("main", (0, 0), (600, 0), route="A", name="本町通り"),
        road("parallel", (0, 22), (600, 22), route="A"),
        road("cross", (300, -300), (300, 300), route="B")]}
    (tmp_path / "roads.geojson").write_text(json.dumps(roads, ensure_ascii=False))
    fixes = join(drive("p1", [(-50, 0), (650, 0)], 40), drive("p2", [(300, -350), (300, 350)], 30, blade=False))
    rows = [HEADER] + [f"{d},{t:.1f},{la:.8f},{lo:.8f},{int(b)},," for d, t, la, lo, b in
                       zip(fixes["device"], fixes["t_s"], fixes["lat"], fixes["lon"], fixes["blade"])]
    rows.insert(5, "p1,not-a-time,40.8,140.4,1,,")
    rows.insert(9, "p1,1767214800,35.68,139.76,1,,")  # Tokyo: kilometres outside the network
    (tmp_path / "tracks.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_coverage_writes_result_and_geojson(files, capsys):
    out, gj = files / "result.json", files / "cleared.geojson"
    rc = main(["coverage", "--roads", str(files / "roads.geojson"), "--tracks", str(files / "tracks.csv"),
               "--out", str(out), "--geojson", str(gj)])
    assert rc == 0
    res = json.loads(out.read_text())
    seg = {s["id"]: s for s in res["segments"]}
    assert {k for k, s in seg.items() if s["cleared"]} == {"main"}
    assert seg["main"]["first_cleared"].endswith("+09:00") and seg["main"]["first_cleared"].startswith("2026-01-01T06:0")
    assert seg["main"]["devices"] == ["p1"] and seg["main"]["passes"] == 1
    assert seg["cross"]["cleared_fraction"] == 0.0 and seg["cross"]["first_cleared"] is None
    routes = {r["route"]: r for r in res["routes"]}
    assert routes["A"]["length_m"] == pytest.approx(1200, abs=1) and routes["A"]["coverage_pct"] == pytest.approx(50, abs=1)
    assert res["total"]["length_m"] == pytest.approx(1800, abs=1)
    assert res["input"]["lines_skipped"] == 2 and [b["line"] for b in res["input"]["skipped"]] == [6, 10]
    err = capsys.readouterr().err
    assert "line 6: t 'not-a-time'" in err and "line 10: position" in err
    features = json.loads(gj.read_text())["features"]
    assert {f["properties"]["id"]: f["properties"]["cleared"] for f in features} == {
        "main": True, "parallel": False, "cross": False}
    assert features[0]["properties"]["name"] == "本町通り"


def test_since_and_until_select_the_fixes(files):
    out = files / "r.json"
    rc = main(["coverage", "--roads", str(files / "roads.geojson"), "--tracks", str(files / "tracks.csv"),
               "--out", str(out), "--since", "2026-01-01T06:00:30", "--until", "2026-01-01T06:10:00+09:00"])
    assert rc == 0
    seg = {s["id"]: s for s in json.loads(out.read_text())["segments"]}
    assert not seg["main"]["cleared"] and 0.3 < seg["main"]["cleared_fraction"] < 0.8  # joined 30 s into the drive


BAD_RUNS = [
    ("roads that are not GeoJSON", {"roads.geojson": "{not json"}, [], "is not JSON"),
    ("a road with one point", {"roads.geojson": json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "x"}, "geometry": {"type": "LineString", "coordinates": [lonlat(0, 0)]}}]})},
     [], "feature 0 (id 'x'): line: has 1 point(s)"),
    ("tracks without a header", {"tracks.csv": "p1,1767214800,40.8,140.4,1,,\n"}, [], "the first line must be the header"),
    ("a missing tracks file", {}, ["--tracks", "/nonexistent/tracks.csv"], "cannot read /nonexistent/tracks.csv"),
    ("an --since that is not a time", {}, ["--since", "last night"], "--since 'last night' is not an ISO 8601 time"),
    ("a --min-fraction above 1", {}, ["--min-fraction", "1.5"], "min_fraction = 1.5 is out of range"),
    ("a GeoJSON output in a missing folder", {}, ["--geojson", "/nonexistent/dir/c.geojson"], "does not exist"),
    ("a GeoJSON output that is a folder", {}, ["--geojson", "/tmp"], "/tmp is a folder"),
]


@pytest.mark.parametrize("writes,extra,message", [c[1:] for c in BAD_RUNS], ids=[c[0] for c in BAD_RUNS])
def test_bad_input_is_a_clear_error_and_the_old_result_stays(files, capsys, writes, extra, message):
    for name, text in writes.items():
        (files / name).write_text(text)
    out = files / "result.json"
    out.write_text('{"previous": "result"}')
    args = ["coverage", "--roads", str(files / "roads.geojson"), "--tracks", str(files / "tracks.csv"), "--out", str(out)]
    rc = main(args + extra)
    assert rc == 2
    assert message in capsys.readouterr().err
    assert out.read_text() == '{"previous": "result"}'
    assert sorted(p.name for p in files.iterdir() if p.name.startswith(".")) == []  # no temporary files left


def test_report_plows_csv_and_json(files, capsys):
    rc = main(["report", "plows", "--date", "2026-01-01", "--tracks", str(files / "tracks.csv"),
               "--roads", str(files / "roads.geojson")])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("車両 / vehicle,開始 / start,終了 / end,除雪時間(h) / blade-down hours")
    assert [row.split(",")[0] for row in lines[1:]] == ["p1", "p2"]
    out = files / "report.json"
    rc = main(["report", "plows", "--date", "2026-01-01", "--tracks", str(files / "tracks.csv"),
               "--roads", str(files / "roads.geojson"), "--format", "json", "--out", str(out),
               "--tariff", str(__import__("pathlib").Path(__file__).parents[3] / "backend/snow/tariff.example.toml")])
    assert rc == 0
    rep = json.loads(out.read_text())
    p1 = rep["vehicles"][0]
    assert p1["vehicle"] == "p1" and p1["transit_h"] == 0.0
    assert p1["blade_down_km"] == pytest.approx(0.7, abs=0.01)  # 700 m at 40 km/h
    assert rep["day_type"] == "holiday" and rep["tariff_is_example"] is True  # 元日
    assert p1["payment"]["lines"][0]["yen_per_hour"] == 19300


def test_report_with_a_bad_date_or_tariff(files, capsys):
    base = ["report", "plows", "--tracks", str(files / "tracks.csv"), "--roads", str(files / "roads.geojson")]
    assert main(base + ["--date", "2026-13-01"]) == 2
    assert "--date '2026-13-01' is not a date" in capsys.readouterr().err
    (files / "t.toml").write_text("bands = 3\n")
    assert main(base + ["--date", "2026-01-01", "--tariff", str(files / "t.toml")]) == 2
    assert "bands: at least one" in capsys.readouterr().err
