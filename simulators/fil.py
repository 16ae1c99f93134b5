"""Firmware in the loop: a handful of devices run the real firmware on the MicroPython unix port, fed by the models.

It uses the firmware's simulation hardware layer (firmware/lib/hw_sim.py) as it stands:
- sensor values come from a *feed* file (JSON, re-read by the board when it changes, named by the
  environment variable YUKIMIZU_SIM_FEED): `soil_raw` (ADC counts), `distance_cm` (ultrasonic
  echo distance), `temp_c` (DS18B20), `battery_v`, `blade`, `wifi`, `ntp`, `conversion_ms`;
- a soil/water node is one process per wake (it prints `CYCLE {...}` and `DEEPSLEEP ms`); its flash
  is a folder (config.json, spool, seq) that persists between wakes, so seq and the spool behave
  as on a board;
- a plow logger is one long process reading NMEA from `sim_uart = "udp:PORT"`, printing `STATS {...}`.
The models give the truth; this module turns it into what the sensors would deliver:
    soil:  soil_raw = raw_dry - vwc/100 (raw_dry - raw_wet)   (the inverse of the firmware's two-point
           calibration, sensors.vwc_pct), vwc being what the probe sees (SoilProbe: offset + noise)
    water: distance_cm = mount_height_cm - level_cm            (the inverse of sensors.level_cm)
    plow:  RMC + GGA sentences per fix (NMEA 0183), blade from the plan, wifi off in dead zones
Time: the board's RTC is set to the simulated clock before each wake (hw_sim keeps the RTC as an
offset from the host clock in the file `sim_clock`) and NTP is off in the feed, so readings carry
simulated timestamps at any speed. A plow takes its time from the GPS sentences, which carry
simulated time; its sampler runs at 1000/speed ms, so plows run at speed 10 at most.
"""
from __future__ import annotations

import heapq
import json
import os
import random
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .clock import SimClock
from .models.paddy import LevelSensor
from .models.plow import Fix
from .models.soil import SoilProbe
from .site import DeviceSpec
from .world import World

HEAP = "100K"  # an ESP32 without PSRAM has about 100 KB of MicroPython heap (tests/firmware/mpy_harness.py)
MAX_PLOW_SPEED = 10.0  # faster, the logger (GPS polled every 20 ms, sampled every 1000/speed ms) misses fixes
RAW_DRY, RAW_WET, MOUNT_HEIGHT_CM = 3000, 1300, 120.0  # the firmware's config defaults


class FilError(RuntimeError):
    """Firmware in the loop cannot run here; the message says what is missing."""


def firmware_bundles(out: Path, apps: tuple[str, ...] = ("soil", "plow")) -> dict[str, Path]:
    """Build the firmware bundles with the firmware's own build (yukimizu.firmware), or say what is missing."""
    try:
        from yukimizu.firmware import BuildError, build  # type: ignore[import-not-found]
    except ImportError:
        raise FilError("yukimizu.firmware (the firmware build) is not in this checkout: merge the firmware branch") from None
    out.mkdir(parents=True, exist_ok=True)
    bundles = {}
    for app in apps:
        try:
            bundles[app] = build(app, out).path
        except BuildError as e:
            raise FilError(f"cannot build the {app} firmware: {e}") from None
    return bundles


def soil_raw_counts(vwc_pct: float, raw_dry: int = RAW_DRY, raw_wet: int = RAW_WET) -> int:
    """ADC counts a capacitive probe gives at vwc_pct under the firmware's two-point calibration."""
    return int(round(raw_dry - vwc_pct / 100.0 * (raw_dry - raw_wet)))


def echo_distance_cm(level_cm: float, mount_height_cm: float = MOUNT_HEIGHT_CM) -> float:
    """Distance from an ultrasonic sensor mounted mount_height_cm above the soil to water level_cm deep."""
    return mount_height_cm - level_cm


def _nmea(body: str) -> str:
    c = 0
    for ch in body:
        c ^= ord(ch)
    return f"${body}*{c:02X}\r\n"  # checksum: XOR of the characters between $ and * (NMEA 0183)


def _dm(deg: float, lat: bool) -> str:
    d = int(abs(deg))
    m = (abs(deg) - d) * 60
    hemi = ("N" if deg >= 0 else "S") if lat else ("E" if deg >= 0 else "W")
    return f"{d:02d}{m:08.5f},{hemi}" if lat else f"{d:03d}{m:08.5f},{hemi}"


def nmea_sentences(fix: Fix) -> bytes:
    """RMC and GGA for one logger reading: position, speed (knots), course, HDOP, satellites; void without a fix."""
    t = fix.t_unix_s
    tm = time.gmtime(int(t))
    hms = f"{tm.tm_hour:02d}{tm.tm_min:02d}{tm.tm_sec:02d}.{int(round((t % 1) * 100)) % 100:02d}"
    dmy = f"{tm.tm_mday:02d}{tm.tm_mon:02d}{tm.tm_year % 100:02d}"
    v = fix.values
    if "lat" not in v:
        return (_nmea(f"GPRMC,{hms},V,,,,,,,{dmy},,,N") + _nmea(f"GPGGA,{hms},,,,,0,00,,,M,,M,,")).encode()
    lat, lon = _dm(v["lat"], True), _dm(v["lon"], False)
    knots = v["speed_km_h"] / 1.852
    rmc = _nmea(f"GPRMC,{hms},A,{lat},{lon},{knots:.2f},{v['heading_deg']:.1f},{dmy},,,A")
    gga = _nmea(f"GPGGA,{hms},{lat},{lon},1,{v['sats']:02d},{v['hdop']:.1f},12.0,M,39.0,M,,")
    return (rmc + gga).encode()


@dataclass
class Wake:
    """One wake of a soil/water node: what it was fed and what it printed."""

    device_id: str
    sim_t_unix_s: float
    feed: dict
    truth: float  # vwc_pct or level_cm the sensor was made to see
    rc: int
    report: dict = field(default_factory=dict)
    stderr: str = ""


class FirmwareBoard:
    """One simulated board: its flash folder, its feed, and the firmware bundle it runs."""

    def __init__(self, spec: DeviceSpec, root: Path, bundle: Path, micropython: str, broker_url: str,
                 config: dict | None = None):
        self.spec = spec
        self.root = root
        self.bundle = bundle
        self.micropython = micropython
        root.mkdir(parents=True, exist_ok=True)
        self.feed_path = root.parent / f"{root.name}-feed.json"
        self.config = {"device_id": spec.device_id, "site": spec.site, "kind": spec.kind, "broker_url": broker_url,
                       "connect_timeout_ms": 3000, "wdt_ms": 0, **(config or {})}
        (root / "config.json").write_text(json.dumps(self.config))

    def write_feed(self, values: dict) -> None:
        """Replace the feed atomically (the board must never read half a file)."""
        tmp = self.feed_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(values))
        os.replace(tmp, self.feed_path)

    def set_rtc(self, t_unix_s: float) -> None:
        """Set the board's RTC to simulated time (hw_sim keeps it as an offset from the host clock)."""
        (self.root / "sim_clock").write_text(str(int(round(t_unix_s - time.time()))))

    def env(self) -> dict[str, str]:
        """Environment of a firmware process: the bundle's modules and the feed."""
        e = dict(os.environ)
        e["MICROPYPATH"] = f".frozen:{self.bundle / 'lib'}"
        e["YUKIMIZU_SIM_FEED"] = str(self.feed_path)
        return e

    def command(self) -> list[str]:
        """The firmware process."""
        return [self.micropython, "-X", f"heapsize={HEAP}", str(self.bundle / "main.py")]


def _report(stdout: str) -> dict:
    for line in stdout.splitlines():
        if line.startswith(("CYCLE ", "STATS ")):
            return json.loads(line.split(" ", 1)[1])
    return {}


class FieldNode:
    """A soil or water node: the model's truth through the sensor into the feed, one process per wake."""

    def __init__(self, world: World, board: FirmwareBoard):
        self.world = world
        self.board = board
        d = board.spec
        self.rng = random.Random(f"fil:{world.seed}:{d.device_id}")
        self.probe = SoilProbe.for_device(d.device_id, world.seed) if d.kind == "soil" else None
        self.level = LevelSensor.for_device(d.device_id, world.seed) if d.kind == "water" else None

    def feed_at(self, t_unix_s: float) -> tuple[dict, float]:
        """(feed, what the sensor sees) at simulated time t."""
        value, temp_c = self.world.traces[self.board.spec.field_id or ""].at(t_unix_s)
        feed = {"temp_c": round(temp_c, 2), "battery_v": 3.95, "conversion_ms": 0, "ntp": False, "wifi": True}
        if self.probe is not None:
            seen = self.probe.read_vwc_pct(value, self.rng)
            feed["soil_raw"] = soil_raw_counts(seen, self.board.config.get("raw_dry", RAW_DRY),
                                               self.board.config.get("raw_wet", RAW_WET))
        else:
            assert self.level is not None
            seen = self.level.read_level_cm(value, self.rng)
            feed["distance_cm"] = round(echo_distance_cm(seen, self.board.config.get("mount_height_cm", MOUNT_HEIGHT_CM)), 2)
        return feed, seen

    def wake(self, t_unix_s: float, timeout_s: float = 60.0) -> Wake:
        """Run one wake of the firmware at simulated time t."""
        feed, seen = self.feed_at(t_unix_s)
        b = self.board
        b.write_feed(feed)
        b.set_rtc(t_unix_s)
        p = subprocess.run(b.command(), cwd=b.root, env=b.env(), capture_output=True, text=True, timeout=timeout_s)
        return Wake(b.spec.device_id, t_unix_s, feed, seen, p.returncode, _report(p.stdout), p.stderr[-2000:])


class PlowNode:
    """A plow logger: one long firmware process; NMEA over UDP and the blade/wifi feed follow the model's track."""

    def __init__(self, world: World, board: FirmwareBoard, udp_port: int):
        self.world = world
        self.board = board
        self.udp_port = udp_port
        self.fixes = [f for f in world.plow_track(board.spec) if f.t_unix_s < world.end_unix_s]
        self.proc: subprocess.Popen | None = None
        self.wall_s = 0.0

    def power_on(self, speed: float) -> None:
        """Start the logger's firmware; wait_ready() then waits for its GPS port."""
        self.proc = None
        if not self.fixes:
            return
        b = self.board
        self.wall_s = (self.fixes[-1].t_unix_s - self.world.start_unix_s) / speed
        b.write_feed({"blade": self.fixes[0].blade_down, "wifi": True, "ntp": False})
        cfg = json.loads((b.root / "config.json").read_text())
        cfg["run_s"] = max(1, int(self.wall_s) + 3)  # counted from boot; then it flushes and prints STATS
        (b.root / "config.json").write_text(json.dumps(cfg))
        b.set_rtc(self.world.start_unix_s)  # readings before the first fix carry board time; GPS time takes over
        self.proc = subprocess.Popen(b.command(), cwd=b.root, env=b.env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until the firmware has opened its GPS port, as a driver switches the logger on before leaving.

        Datagrams sent before the firmware binds its port are lost, as bytes on a UART that nobody reads;
        on a loaded machine booting the firmware can take longer than the first fixes.
        """
        proc, b = self.proc, self.board
        if proc is None:
            return
        deadline = time.monotonic() + timeout_s
        while not udp_port_bound(self.udp_port):
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise FilError(f"{b.spec.device_id}: the plow logger exited {proc.returncode} before opening its "
                               f"GPS port:\n{out[-1500:]}\n{err[-1500:]}")
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise FilError(f"{b.spec.device_id}: the plow logger did not open its GPS port (udp:{self.udp_port}) "
                               f"within {timeout_s:g} s of power-on")
            time.sleep(0.02)

    def run(self, clock: SimClock, stop: threading.Event | None = None) -> dict:
        """Drive the whole track in step with the clock (after boot()); returns the logger's STATS."""
        proc = self.proc
        if proc is None:
            return {}
        b = self.board
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            state = (self.fixes[0].blade_down, True)
            for f in self.fixes:
                while clock.now() < f.t_unix_s:
                    if stop is not None and stop.is_set():
                        raise KeyboardInterrupt
                    time.sleep(min(0.05, max(0.001, clock.wall_s_until(f.t_unix_s))))
                now_state = (f.blade_down, not f.in_dead_zone)
                if now_state != state:
                    b.write_feed({"blade": f.blade_down, "wifi": not f.in_dead_zone, "ntp": False})
                    state = now_state
                sock.sendto(nmea_sentences(f), ("127.0.0.1", self.udp_port))
            out, err = proc.communicate(timeout=self.wall_s + 60)
        finally:
            sock.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stats = _report(out)
        if not stats:
            raise FilError(f"{b.spec.device_id}: the plow logger exited {proc.returncode} without STATS:\n{out[-1500:]}\n{err[-1500:]}")
        return stats


def udp_port_bound(port: int) -> bool:
    """Whether some process has a UDP socket bound to this local port (Linux /proc/net/udp)."""
    want = f":{port:04X} "
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                if any(want in line.split(None, 2)[1] + " " for line in f):
                    return True
        except FileNotFoundError:
            continue
    return False


@dataclass
class FilReport:
    """What the firmware devices did."""

    wakes: list[Wake]
    plow_stats: dict[str, dict]


def run_fil(world: World, *, micropython: str, bundles: dict[str, Path], workdir: Path, broker_url: str,
            speed: float, max_devices: int = 8, parallel: int = 2, stop: threading.Event | None = None,
            on_wake=None) -> FilReport:
    """Run up to max_devices of the world's devices on the real firmware until the world's end."""
    devices = world.devices[:max_devices]
    nodes: list[FieldNode] = []
    plows: list[PlowNode] = []
    for d in devices:
        root = workdir / d.device_id
        if d.kind in ("soil", "water"):
            interval_s = int(world.sc.sampling.soil_interval_s if d.kind == "soil" else world.sc.sampling.water_interval_s)
            nodes.append(FieldNode(world, FirmwareBoard(d, root, bundles["soil"], micropython, broker_url,
                                                        {"interval_s": max(10, interval_s)})))
        elif d.kind == "plow":
            if speed > MAX_PLOW_SPEED:
                raise FilError(f"{d.device_id}: a plow logger on the unix port runs at speed {MAX_PLOW_SPEED:g} at most, not {speed:g}")
            if "plow" not in bundles:
                raise FilError(f"{d.device_id}: no plow firmware bundle")
            from yukimizu.servers import free_port

            port = free_port()
            # Sample a little faster than the 1 Hz fixes arrive: at exactly the same rate the two schedules
            # alias, and with scheduling jitter two samples can fall between the same pair of fixes (one fix lost).
            cfg = {"sim_uart": f"udp:{port}", "sample_ms": max(50, int(900 / speed)),
                   "batch_ms": max(100, int(10000 / speed))}
            plows.append(PlowNode(world, FirmwareBoard(d, root, bundles["plow"], micropython, broker_url, cfg), port))
        # weather stations have no firmware yet: they stay in fleet mode
    wakes: list[Wake] = []
    plow_stats: dict[str, dict] = {}
    for p in plows:  # power the loggers on together, before the world's clock starts
        p.power_on(speed)
    for p in plows:
        try:
            p.wait_ready()
        except FilError as e:
            p.proc = None
            plow_stats[p.board.spec.device_id] = {"error": str(e)}
    plows = [p for p in plows if p.proc is not None]
    clock = SimClock(world.start_unix_s, speed, catch_up=world.sc.catch_up)

    def drive(p: PlowNode) -> None:
        try:
            plow_stats[p.board.spec.device_id] = p.run(clock, stop)
        except Exception as e:  # noqa: BLE001 - reported in the result, not lost with the thread
            plow_stats[p.board.spec.device_id] = {"error": f"{type(e).__name__}: {e}"}

    threads = [threading.Thread(target=drive, args=(p,), daemon=True) for p in plows]
    for th in threads:
        th.start()
    heap = [(world.start_unix_s + i * 7.0, i) for i in range(len(nodes))]  # stagger the first wakes
    heapq.heapify(heap)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        while heap and not (stop is not None and stop.is_set()):
            t, i = heap[0]
            if t >= world.end_unix_s:
                break
            if clock.now() < t:
                time.sleep(min(0.05, max(0.001, clock.wall_s_until(t))))
                continue
            due = []
            while heap and heap[0][0] <= clock.now() and heap[0][0] < world.end_unix_s:
                due.append(heapq.heappop(heap))
            for (t, i), w in zip(due, pool.map(lambda ti: nodes[ti[1]].wake(ti[0]), due)):
                wakes.append(w)
                if on_wake:
                    on_wake(w)
                interval_s = w.report.get("interval_s") or nodes[i].board.config["interval_s"]
                heapq.heappush(heap, (t + interval_s, i))
    for th in threads:
        th.join()
    return FilReport(wakes, plow_stats)
