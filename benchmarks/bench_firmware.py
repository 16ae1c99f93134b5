"""Firmware on the MicroPython unix port: bundle sizes, heap high-water per app cycle, time awake per
soil-node cycle with the broker on loopback, and the plow logger's headroom (10 Hz NMEA in, 1 Hz out).

Figures come from the unix port on this machine, as ratios against baselines measured in the same
run; an ESP32 (240 MHz Xtensa) is much slower, so read the ratios, not the milliseconds.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from yukimizu.firmware import LIB, build
from yukimizu.servers import Mosquitto, free_port

MICROPYTHON = shutil.which("micropython", path=str(Path(sys.executable).parent))


def _nmea(body: str) -> str:
    c = 0
    for ch in body:
        c ^= ord(ch)
    return f"${body}*{c:02X}\r\n"


def _epoch(t: float) -> bytes:
    tm = time.gmtime(t)
    hms = time.strftime("%H%M%S", tm) + f".{int(t * 10) % 10}0"
    dmy = time.strftime("%d%m%y", tm)
    return (_nmea(f"GPRMC,{hms},A,4048.4860,N,14026.4060,E,14.58,91.0,{dmy},,,A")
            + _nmea(f"GPGGA,{hms},4048.4860,N,14026.4060,E,1,11,0.9,12.0,M,39.0,M,,")).encode()


class Board:
    """A board folder and one process run per call."""

    def __init__(self, root: Path, bundle: Path, cfg: dict[str, Any], feed: dict[str, Any]):
        self.root, self.bundle = root, bundle
        root.mkdir(parents=True, exist_ok=True)
        (root / "config.json").write_text(json.dumps(cfg))
        self.feed = root.parent / f"{root.name}-feed.json"
        self.feed.write_text(json.dumps(feed))

    def run(self, heap: str = "100K", timeout_s: float = 120) -> tuple[int, dict[str, Any], float]:
        env = {**os.environ, "MICROPYPATH": f".frozen:{self.bundle / 'lib'}", "YUKIMIZU_SIM_FEED": str(self.feed)}
        t0 = time.perf_counter()
        p = subprocess.run([MICROPYTHON, "-X", f"heapsize={heap}", str(self.bundle / "main.py")], cwd=self.root, env=env,
                           capture_output=True, text=True, timeout=timeout_s)
        wall = time.perf_counter() - t0
        rep: dict[str, Any] = {}
        for line in p.stdout.splitlines():
            if line.startswith(("CYCLE ", "STATS ")):
                rep = json.loads(line.split(" ", 1)[1])
        return (0 if rep else 1), rep, wall


def min_heap_kb(make: Any, lo: int = 24, hi: int = 100) -> int:
    """Smallest -X heapsize (KB) at which a fresh board completes its cycle: the true high-water."""
    while lo < hi:
        mid = (lo + hi) // 2
        rc, _, _ = make(mid).run(heap=f"{mid}K")
        if rc == 0:
            hi = mid
        else:
            lo = mid + 1
    return lo


def main() -> None:
    """Print the firmware figures."""
    if MICROPYTHON is None:
        print("MicroPython unix port not installed (no wheel for this platform): skipped")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-fw-"))
    broker = Mosquitto(tmp / "mq")
    broker.start()
    try:
        _run(tmp, broker)
    finally:
        broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _run(tmp: Path, broker: Mosquitto) -> None:
    apps = ["soil"] + (["plow"] if (LIB / "nmea.py").exists() else [])
    bundles = {a: build(a, tmp / "build") for a in apps}
    print("bundle sizes (mpy-cross bytecode + main.py):")
    for a, b in bundles.items():
        print(f"  {a:<5} {b.total_bytes:>7} B in {len(b.sizes)} files, largest "
              + ", ".join(f"{k} {v} B" for k, v in sorted(b.sizes.items(), key=lambda kv: -kv[1])[:3]))

    soil_cfg = {"device_id": "soil-001", "site": "goshogawara", "kind": "soil",
                "broker_url": f"mqtt://127.0.0.1:{broker.port}", "connect_timeout_ms": 2000}
    counter = iter(range(10_000))

    def soil_board(_heap: int = 0, conversion_ms: int = 0, url: str | None = None) -> Board:
        cfg = dict(soil_cfg, broker_url=url or soil_cfg["broker_url"], device_id=f"soil-{next(counter)}")
        return Board(tmp / f"soil{next(counter)}", bundles["soil"].path, cfg, {"conversion_ms": conversion_ms})

    # Heap: smallest heap that runs a whole online soil cycle, and the firmware's own live-heap marks.
    soil_min = min_heap_kb(soil_board)
    _, rep, _ = soil_board().run()
    print(f"soil node heap: a full online cycle runs in a {soil_min} KB heap (bisected -X heapsize); "
          f"live heap after collection peaks at {rep['heap_peak_b'] / 1024:.1f} KB; cap 100 KB")

    # Awake time per cycle, broker on loopback: median of 7, against an offline cycle (refused port).
    def awake(conversion_ms: int, url: str | None = None) -> tuple[float, float]:
        b = soil_board(conversion_ms=conversion_ms, url=url)
        runs = [b.run() for _ in range(7)]
        return (statistics.median(r[1]["awake_ms"] for r in runs), statistics.median(r[2] * 1000 for r in runs))

    dead = f"mqtt://127.0.0.1:{free_port()}"
    on0, on0_wall = awake(0)
    off0, _ = awake(0, dead)
    on750, _ = awake(750)
    t0 = time.perf_counter()
    for _ in range(7):
        subprocess.run([MICROPYTHON, "-c", "pass"], check=True)
    empty_ms = (time.perf_counter() - t0) / 7 * 1000
    print(f"soil node awake per cycle (wake to deep sleep, median of 7): {on0:.0f} ms online vs {off0:.0f} ms offline "
          f"(ratio {on0 / max(off0, 1):.1f}); with the real 750 ms DS18B20 conversion {on750:.0f} ms "
          f"({on750 / 750:.2f}x the conversion alone: connect and publish overlap it)")
    print(f"  process wall time {on0_wall:.0f} ms vs {empty_ms:.0f} ms for an empty MicroPython run "
          f"(ratio {on0_wall / empty_ms:.1f})")

    if "plow" not in bundles:
        print("plow logger: firmware/lib/nmea.py not merged yet, skipped")
        return
    _plow(tmp, broker, bundles["plow"].path)


def _plow(tmp: Path, broker: Mosquitto, bundle: Path) -> None:
    port = free_port()
    run_s = 10
    cfg = {"device_id": "plow-1", "site": "goshogawara", "kind": "plow", "broker_url": f"mqtt://127.0.0.1:{broker.port}",
           "sample_ms": 1000, "batch_ms": 5000, "run_s": run_s, "sim_uart": f"udp:{port}"}
    board = Board(tmp / "plow", bundle, cfg, {"blade": 1})
    (board.root / "sim_clock").write_text("0")
    sent = 0
    stop = threading.Event()

    def gps() -> None:  # a 10 Hz receiver: RMC + GGA every 100 ms
        nonlocal sent
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        due = time.monotonic()
        while not stop.is_set():
            s.sendto(_epoch(time.time()), ("127.0.0.1", port))
            sent += 2
            due += 0.1
            time.sleep(max(0, due - time.monotonic()))

    th = threading.Thread(target=gps, daemon=True)
    time.sleep(0.01)
    th.start()
    rc, st, wall = board.run(timeout_s=run_s + 30)
    stop.set()
    th.join()
    busy = st["gps_busy_ms"] / (run_s * 1000)
    print(f"plow logger, 10 Hz NMEA in / 1 Hz out for {run_s} s: {st['nmea_used']} of {sent} sentences used "
          f"({st['nmea_skipped']} skipped), {st['samples']} readings, {st['sent']} sent, backlog at the end {st['pending']}; "
          f"parsing took {busy * 100:.2f} % of the time (headroom {1 / max(busy, 1e-6):.0f}x), "
          f"sampler at most {st['max_sample_lag_ms']} ms late; live heap peak {st['heap_b'] / 1024:.1f} KB")
    plow_min = min_heap_kb(lambda heap: Board(tmp / f"plowh{heap}", bundle, dict(cfg, run_s=3, sim_uart=""), {"blade": 1}))
    print(f"plow logger heap: a 3 s drive (built-in 1 Hz GPS, publishing) runs in a {plow_min} KB heap (bisected)")


if __name__ == "__main__":
    main()
