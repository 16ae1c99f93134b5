"""`yukimizu flash` records land in the registry: firmware version, calibration and date per device."""
from __future__ import annotations

import json
from pathlib import Path

from backend.registry import Database, Registry
from backend.registry.provisioning import apply_records


def _record(device_id: str, site: str = "goshogawara", kind: str = "soil", fw: str = "v0.1-3-gabc") -> str:
    return json.dumps({"device_id": device_id, "site": site, "kind": kind, "app": "soil", "firmware_version": fw,
                       "bundle_sha256": "ab" * 32, "calibration": {"raw_dry": 3000, "raw_wet": 1300},
                       "provisioned_at": "2026-11-26T08:00:00+00:00", "port": "/dev/ttyUSB0",
                       "board_platform": "esp32"})


def test_records_update_known_devices_add_new_ones_and_name_bad_lines(tmp_path: Path) -> None:
    db = Database(tmp_path / "r.sqlite3")
    reg = Registry(db)
    reg.create("sites", {"id": "goshogawara", "name": "五所川原"})
    reg.create("devices", {"device_id": "soil-001", "kind": "soil", "site": "goshogawara", "expected_interval_s": 900})
    records = tmp_path / "records.jsonl"
    records.write_text("\n".join([
        _record("soil-001", fw="v0.1"), _record("soil-001", fw="v0.2"), "not json",
        _record("plow-09", kind="plow"), _record("soil-777", site="hirosaki")]) + "\n")
    done = apply_records(reg, records)
    assert done.updated == ["soil-001", "soil-001"] and done.created == ["plow-09"]
    assert len(done.problems) == 2 and ":3:" in done.problems[0] and "soil-777" in done.problems[1]
    dev = reg.get("devices", "soil-001")
    assert dev["firmware_version"] == "v0.2+" + "ab" * 6
    assert dev["calibration"] == {"raw_dry": 3000, "raw_wet": 1300} and dev["expected_interval_s"] == 900
    assert reg.get("devices", "plow-09")["expected_interval_s"] == 5
    db.close()
