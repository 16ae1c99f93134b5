"""`/api/v1/plows/live` latency at 100 concurrent clients, as a ratio to a static file from the same server.

Setup: a real InfluxDB 1.x (own instance, temp folder) holding 100 plows with 10 minutes of 1 Hz fixes
each; the backend under uvicorn in a subprocess on 127.0.0.1 (`yukimizu api --config`), alerts and
downsampling off. 100 clients (asyncio, one keep-alive connection each; see _Conn for why not httpx)
each send REQUESTS_PER_CLIENT requests, first to the baseline (`/static/common.js`, served by
Starlette without touching InfluxDB), then to `/api/v1/plows/live`, in two patterns: each client once a second (a map page refreshing) and back to
back (saturation). Reported: p50 and p99 latency of each, and their ratios. Target (issue 8):
live p99 under 50 ms. Client and server share the machine's cores (and other work on it): the ratio
is the figure to compare across machines.

Run: `make bench` or `.venv/bin/python -m benchmarks snow_api`.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from yukimizu.contract import Kind, Reading, reading_line
from yukimizu.influx import InfluxV1
from yukimizu.servers import InfluxDB, free_port

CLIENTS = 100
REQUESTS_PER_CLIENT = 10
POLL_PERIOD_S = 1.0  # a live map page refreshes about once a second (snow.live_cache_s)
PLOWS = 100
SITE = "goshogawara"


def _seed_influx(influx: InfluxV1, now_s: float) -> None:
    rng = np.random.default_rng(3)
    lines = []
    for p in range(PLOWS):
        lat0, lon0 = 40.80 + rng.uniform(0, 0.03), 140.43 + rng.uniform(0, 0.04)
        for k in range(600):
            t = now_s - 600 + k
            r = Reading(SITE, Kind.PLOW, f"plow-{p:03d}", k, t,
                        {"lat": lat0 + k * 2e-6, "lon": lon0, "speed_km_h": 30.0, "heading_deg": 0.0, "blade_down": True})
            lines.append(reading_line(r, {"vehicle_id": f"v-{p:03d}", "route": f"route-{p % 10}"}))
    for i in range(0, len(lines), 5000):
        influx.write(lines[i:i + 5000])


class _Conn:
    """One keep-alive HTTP/1.1 connection doing GETs: the load generator's client.

    Not httpx here: measured on this machine, httpx.AsyncClient spends about 10 ms of CPU per request
    with 100 connections open (3 ms with one), so it, not the server, would be what is timed.
    httpx is used for everything else (setup, checks).
    """

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """(status, body) of GET path."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        """Close the connection."""
        if self.writer is not None:
            self.writer.close()


async def _load(port: int, path: str, period_s: float | None) -> np.ndarray:
    """Latencies (s) of CLIENTS clients, each on its own connection, sending REQUESTS_PER_CLIENT GETs of path.

    period_s: each client asks once per period (a map page refreshing), starting at a random moment in
    the first period; None: back to back (saturation; latency is then mostly queueing).
    """
    conns = [_Conn(port) for _ in range(CLIENTS)]

    async def client(k: int) -> list[float]:
        conn = conns[k]
        await conn.get(path)  # warm-up: the connection is open and the caches filled before timing
        out = []
        start = time.perf_counter() + (k / CLIENTS) * (period_s or 0.0)
        for i in range(REQUESTS_PER_CLIENT):
            if period_s:
                await asyncio.sleep(max(0.0, start + i * period_s - time.perf_counter()))
            t0 = time.perf_counter()
            status, body = await conn.get(path)
            out.append(time.perf_counter() - t0)
            if status != 200:
                raise RuntimeError(f"{path}: {status} {body[:200]!r}")
        return out

    try:
        lat = await asyncio.gather(*(client(k) for k in range(CLIENTS)))
    finally:
        for c in conns:
            c.close()
    return np.array([x for xs in lat for x in xs])


def main() -> None:
    """Print p50/p99 for the baseline and /api/v1/plows/live, and the ratios."""
    with tempfile.TemporaryDirectory(prefix="bench_snow_api_") as tmp:
        root = Path(tmp)
        influxdb = InfluxDB(root / "influxdb")
        influxdb.start()
        proc = None
        try:
            influx = InfluxV1(influxdb.url, "yukimizu")
            influx.create_database()
            _seed_influx(influx, time.time())
            port = free_port()
            (root / "backend.toml").write_text(
                f'[api]\nport = {port}\n[influxdb]\nurl = "{influxdb.url}"\ndatabase = "yukimizu"\n'
                f'[registry]\npath = "{root / "registry.sqlite3"}"\n[alerts]\nenabled = false\n'
                "[downsample]\nenabled = false\n", encoding="utf-8")
            # The server's log goes to a file: an unread pipe fills up and stalls the server.
            log = open(root / "api.log", "wb")  # noqa: SIM115 (closed with the process below)
            proc = subprocess.Popen([sys.executable, "-c", "import sys; from yukimizu.cli import main; sys.exit(main(sys.argv[1:]))",
                                     "api", "--config", str(root / "backend.toml")],
                                    stdout=subprocess.DEVNULL, stderr=log, env={**os.environ})
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(base + "/static/common.js").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("backend did not start: " + (root / "api.log").read_text()[-2000:])
                time.sleep(0.2)
            with httpx.Client(base_url=base) as c:
                c.post("/api/v1/sites", json={"id": SITE, "name": "五所川原"})
                for p in range(PLOWS):
                    c.post("/api/v1/vehicles", json={"id": f"v-{p:03d}", "site": SITE, "name": f"除雪車{p}号"})
                n = len(c.get("/api/v1/plows/live").json()["features"])
            results = {(path, mode): asyncio.run(_load(port, path, period))
                       for mode, period in (("polling", POLL_PERIOD_S), ("saturation", None))
                       for path in ("/static/common.js", "/api/v1/plows/live")}
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(15)
                log.close()
            influxdb.stop()
    print(f"{CLIENTS} concurrent clients x {REQUESTS_PER_CLIENT} requests each; {n} plows on the live map; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (others' work slows both figures alike)")
    summary = {}
    for mode, how in (("polling", f"each client once per {POLL_PERIOD_S:g} s"), ("saturation", "back to back")):
        b50, b99 = np.percentile(results[("/static/common.js", mode)], [50, 99]) * 1000
        l50, l99 = np.percentile(results[("/api/v1/plows/live", mode)], [50, 99]) * 1000
        print(f"{mode} ({how}):")
        print(f"  baseline /static/common.js: p50 {b50:.1f} ms, p99 {b99:.1f} ms")
        print(f"  /api/v1/plows/live:         p50 {l50:.1f} ms, p99 {l99:.1f} ms")
        print(f"  ratio live / baseline: p50 {l50 / b50:.2f}x, p99 {l99 / b99:.2f}x")
        summary[mode] = {"baseline_p99_ms": round(b99, 1), "live_p99_ms": round(l99, 1), "p99_ratio": round(l99 / b99, 2)}
    print(f"target (issue 8) live p99 < 50 ms at 100 polling clients: "
          f"{'met' if summary['polling']['live_p99_ms'] < 50 else 'NOT met'} on this machine now")
    print(json.dumps(summary))

if __name__ == "__main__":
    main()
