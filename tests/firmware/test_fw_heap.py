"""Heap high-water: each app's full cycle must leave a tenth of an ESP32-sized heap unused."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mpy_harness import Collector, SimBoard, bundles, plow_bundle  # noqa: F401

# 100 KB is the cap every test runs under; a cycle must also finish in 90 KB, so that heap
# fragmentation and a longer backlog on a real board still have 10 KB of room. (The unix port
# is 64-bit: its objects and 32-byte GC blocks take more heap than on the 32-bit ESP32.)
HEADROOM_HEAP = "90K"



def test_soil_cycle_with_a_backlog_fits_in_90_kb(
    micropython: str, bundles: dict[str, Path], tmp_path: Path, broker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    board = SimBoard(micropython, bundles["soil"], tmp_path / "b", {
        "device_id": "soil-001", "site": "goshogawara", "kind": "soil", "broker_url": f"mqtt://127.0.0.1:{broker.port}"})
    (board.root / "sim_clock").write_text("0")
    broker.stop()
    for _ in range(40):  # a backlog of 40 readings: the node sends it as two 32/8 batches
        board.run()
    broker.start()
    c = Collector(broker.port).start()
    try:
        r = board.run(heap=HEADROOM_HEAP).check().report
        assert r["sent"] == 41 and c.wait_for(lambda: len(c.by_seq()[0]) == 41)
    finally:
        c.stop()
    with capsys.disabled():
        print(f"\n[heap] soil cycle sending a 41-reading backlog: live peak {r['heap_peak_b'] / 1024:.1f} KB, runs in {HEADROOM_HEAP}")


def test_plow_drive_fits_in_90_kb(
    micropython: str, plow_bundle: Path, tmp_path: Path, broker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    board = SimBoard(micropython, plow_bundle, tmp_path / "b", {
        "device_id": "plow-12", "site": "goshogawara", "kind": "plow", "broker_url": f"mqtt://127.0.0.1:{broker.port}",
        "sample_ms": 100, "batch_ms": 500, "run_s": 2}, {"blade": 1})
    (board.root / "sim_clock").write_text("0")
    r = board.run(heap=HEADROOM_HEAP).check().report
    assert r["samples"] >= 15 and r["pending"] == 0
    with capsys.disabled():
        print(f"\n[heap] plow logger 2 s drive: live peak {r['heap_b'] / 1024:.1f} KB, runs in {HEADROOM_HEAP}")
