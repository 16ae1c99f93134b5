"""Configuration validation on the MicroPython unix port: every bad key is named, nothing bad is applied."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mpy_harness import bundles, run_script  # noqa: F401

BOARD = {"device_id": "soil-001", "site": "goshogawara", "kind": "soil", "broker_url": "mqtt://127.0.0.1:1883"}

# (id, board doc, remote payload or None, expected: dict of cfg values or an error substring)
CASES: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("a minimal board config gets the documented defaults", BOARD, None, {"interval_s": 600, "raw_dry": 3000, "spool_max_readings": 4096}),
    ("a missing device id is named", {k: v for k, v in BOARD.items() if k != "device_id"}, None, "config key device_id: required"),
    ("an upper-case device id is refused", {**BOARD, "device_id": "Soil-1"}, None, "config key device_id: must be a contract id"),
    ("a broker url without mqtt:// is refused", {**BOARD, "broker_url": "http://example:1883"}, None, "config key broker_url: must start with mqtt://"),
    ("a broker port that is not a number is refused", {**BOARD, "broker_url": "mqtt://host:abc"}, None, "port 'abc' is not a number"),
    ("a 5 s interval is below the minimum", {**BOARD, "interval_s": 5}, None, "config key interval_s: must be an integer 10..86400, got 5"),
    ("an interval given as text is refused", {**BOARD, "interval_s": "600"}, None, "config key interval_s: must be an integer"),
    ("true is not an interval", {**BOARD, "interval_s": True}, None, "config key interval_s: must be an integer"),
    ("equal dry and wet calibration points are refused", {**BOARD, "raw_dry": 2000, "raw_wet": 2000}, None, "config key raw_wet: must differ from raw_dry"),
    ("an unknown key is refused", {**BOARD, "intervall_s": 600}, None, "config key intervall_s: unknown key"),
    ("a pin on ADC2 is refused for the soil probe", {**BOARD, "soil_adc_pin": 4}, None, "config key soil_adc_pin: must be an integer 32..39"),
    ("mqtts without a port defaults to 8883", {**BOARD, "broker_url": "mqtts://broker.example"}, None, {"broker": ["broker.example", 8883, True]}),
    ("a remote interval override applies", BOARD, {"interval_s": 300}, {"interval_s": 300, "error": None}),
    ("a remote override may not change identity", BOARD, {"device_id": "other"}, "config key device_id: cannot be set remotely"),
    ("a remote document that is not JSON keeps the last good", BOARD, "{not json", "config message is not a JSON object"),
    ("a remote mount height of 5 cm is refused", BOARD, {"mount_height_cm": 5}, "config key mount_height_cm: must be a number 10..500, got 5"),
    ("an empty retained message restores the board config", BOARD, "", {"interval_s": 600, "error": None}),
]

SCRIPT = """
import sys, json, config
for line in sys.stdin:
    board, remote = json.loads(line)
    try:
        cfg = config.validate(board)
    except ValueError as e:
        print(json.dumps({"error": str(e)}))
        continue
    out = {"interval_s": cfg["interval_s"], "raw_dry": cfg["raw_dry"], "spool_max_readings": cfg["spool_max_readings"],
           "broker": list(config.broker(cfg["broker_url"]))}
    if remote is not None:
        r = config.Remote(cfg, config.validate(board, None))
        r.apply(remote if isinstance(remote, str) else json.dumps(remote))
        out["interval_s"] = r.cfg["interval_s"]
        out["error"] = r.error
    print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def results(micropython: str, bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    stdin = "\n".join(json.dumps([board, remote]) for _, board, remote, _ in CASES) + "\n"
    out = run_script(micropython, bundles["soil"], SCRIPT, tmp_path_factory.mktemp("cfg"), stdin=stdin)
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("i", range(len(CASES)), ids=[c[0] for c in CASES])
def test_config_validation(i: int, results: list[dict[str, Any]]) -> None:
    _, _, remote, want = CASES[i]
    got = results[i]
    if isinstance(want, str):
        err = got.get("error")
        assert err and want in err, got
        if remote is not None:
            assert got["interval_s"] == 600, "a refused override leaves the last good config in force"
    else:
        for k, v in want.items():
            assert got[k] == v, (k, got)
