"""The farmer's overview: each field's open alerts and today's advice, which must not contradict each other."""
from __future__ import annotations

import time

from backend_helpers import SITE, seed_site, square, write_readings
from fastapi.testclient import TestClient

from yukimizu.influx import InfluxV1

# Tillering: the default band is 2-4 cm. Levels around both edges, each in a paddy of its own, so
# every field gets its first evaluation (no alert open yet, no hysteresis).
LEVELS_CM = [0.2, 0.9, 1.2, 1.9, 2.0, 3.0, 4.0, 4.1, 4.9, 6.5]


def steady_paddy(client: TestClient, influx: InfluxV1, fid: str, dev: str, stage: str, level_cm: float,
                 lon: float, lat: float, name: str | None = None) -> None:
    """A paddy in `stage` with one water sensor that read `level_cm` twice, 10 min apart (steady: no leak)."""
    field = {"id": fid, "site": SITE, "crop": "paddy", "soil_texture": "clay", "growth_stage": stage,
             "geometry": square(lon, lat)}
    if name:
        field["name"] = name
    assert client.post("/api/v1/fields", json=field).status_code == 201
    assert client.post("/api/v1/devices", json={"device_id": dev, "kind": "water", "site": SITE, "field_id": fid,
                                                "expected_interval_s": 600}).status_code == 201
    now_s = int(time.time())
    write_readings(influx, "water", dev, [(now_s - 900, {"level_cm": level_cm}), (now_s - 300, {"level_cm": level_cm})],
                   tags={"field_id": fid})


def level_alert_sides(field: dict) -> set[str]:
    """'low' and/or 'high': the sides of the field's open water-level alerts (subjects like 'p-3:low')."""
    return {a["subject"].rsplit(":", 1)[-1] for a in field["alerts"] if a["rule"] == "water_level"}


def test_alerts_and_advice_agree_on_every_paddy_around_its_band(client: TestClient, influx: InfluxV1) -> None:
    seed_site(client)
    for i, level in enumerate(LEVELS_CM):
        steady_paddy(client, influx, f"p-{i}", f"lv-{i:02d}", "tillering", level, 140.40 + i * 0.002, 40.70, name=f"田{i}")
    assert client.post("/api/v1/alerts/evaluate").status_code == 200
    fields = {f["id"]: f for f in client.get("/api/v1/overview/fields").json()["fields"]}
    seen = []
    for i, level in enumerate(LEVELS_CM):
        f = fields[f"p-{i}"]
        sides = level_alert_sides(f)
        action = f["advice"]["action"]
        seen.append((level, sorted(sides), action))
        # The alert that says "let water in" and the advice to fill come and go together; so do
        # "above the band, check the outlet" and the advice to lower the level.
        assert ("low" in sides) == (action in ("fill", "deepen")), seen[-1]
        assert ("high" in sides) == (action == "lower"), seen[-1]
        assert f["advice"]["message_ja"] and f["advice"]["message_en"]
    assert [a for _lv, _r, a in seen] == ["fill"] * 4 + ["hold"] * 3 + ["lower"] * 3, seen


STAGES = ["establishment", "tillering", "midseason_drainage", "panicle_formation", "meiosis", "heading_ripening",
          "final_drainage"]
DEPTHS_CM = [0.5, 1.5, 2.5, 4.5, 9.0, 11.0, 13.0, 16.0]
LETS_WATER_IN = {"fill", "deepen"}
TAKES_WATER_OUT = {"lower", "drain"}


def test_no_stage_has_an_alert_and_advice_that_pull_the_water_opposite_ways(client: TestClient,
                                                                           influx: InfluxV1) -> None:
    seed_site(client)
    for si, stage in enumerate(STAGES):
        for di, depth in enumerate(DEPTHS_CM):
            steady_paddy(client, influx, f"s{si}-d{di}", f"lv{si}{di}", stage, depth,
                         140.30 + di * 0.002, 40.60 + si * 0.002)
    assert client.post("/api/v1/alerts/evaluate").status_code == 200
    fields = {f["id"]: f for f in client.get("/api/v1/overview/fields").json()["fields"]}
    wrong = []
    for si, stage in enumerate(STAGES):
        for di, depth in enumerate(DEPTHS_CM):
            f = fields[f"s{si}-d{di}"]
            sides = level_alert_sides(f)
            action = f["advice"]["action"]
            if ("low" in sides and action in TAKES_WATER_OUT) or ("high" in sides and action in LETS_WATER_IN) \
                    or ("low" in sides and action == "hold") or ("high" in sides and action == "hold"):
                wrong.append((stage, depth, sorted(sides), action))
    assert not wrong, wrong
