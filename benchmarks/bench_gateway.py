"""Edge gateway throughput, latency and memory, against baselines measured in the same run.

    make bench            (all benchmarks)      .venv/bin/python -m benchmarks gateway   (this one)

Own Mosquitto and InfluxDB 1.x on free loopback ports in a temp folder. Three ways from MQTT to
queryable in InfluxDB, each draining the same pre-queued backlog (200 devices, 10 readings per
message) from a persistent session, clock running from its broker connection until a count query sees
every reading (for the gateway, its receiver process's connection: the first moment it can work, even
if the gateway's own imports are still running then):
  * the gateway (subprocess with its MQTT receiver process; durability on: spool fsync per group
    commit, PUBACK after commit);
  * a naive subscriber: one HTTP /write per message (what a quick script or a per-message flow does);
  * the raw ceiling: the same line protocol POSTed straight to InfluxDB in 5,000-line batches.
Then latency publish -> queryable at a steady 2,000 readings/s, and the gateway's peak RSS (VmHWM of
the gateway and its child processes, added up), in the runs above and draining a backlog of a
million readings (the size of the backlog must not show in it).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt

from yukimizu.contract import decode, reading_line
from yukimizu.influx import InfluxError, InfluxV1
from yukimizu.servers import InfluxDB, Mosquitto, free_port

SITE = "goshogawara"
N_DEVICES = 200
READINGS_PER_MSG = 10
# 300,000 readings: a drain of about 4 s. At 100,000 (sessions 1-8) the first 0.12-0.21 s of a
# 1.3 s drain went to the pipeline filling (the gateway's imports, its first group commit) and the
# tail to InfluxDB finishing the last batches: start-up, weighing on one side of the ratios only.
GATEWAY_MSGS = 30_000
NAIVE_MSGS = 2_000  # 20,000 readings: enough for a stable rate at one request per message
BIG_BACKLOG_MSGS = 100_000  # 1,000,000 readings: memory must not grow with the backlog
LATENCY_RATE_READINGS_S = 2_000
LATENCY_SECONDS = 15
# Interleaved rounds of the three throughput cases; each figure is their median. This machine's speed
# moves by a third within minutes; one odd round stays out of the medians.
ROUNDS = 5
BASE_T = int(time.time()) - 5 * 86400


def messages(n_msgs: int, t0: float = BASE_T, prefix: str = "soil") -> list[tuple[str, bytes]]:
    """Round-robin messages from N_DEVICES soil devices, 10 readings each."""
    out = []
    for k in range(n_msgs):
        d = k % N_DEVICES
        first = (k // N_DEVICES) * READINGS_PER_MSG
        rows = [{"seq": s, "t": t0 + s, "vwc_pct": round(20 + (s % 300) / 10, 1), "soil_temp_c": 8.5, "battery_v": 3.71,
                 "rssi_dbm": -67.0} for s in range(first, first + READINGS_PER_MSG)]
        out.append((f"yukimizu/v1/{SITE}/soil/{prefix}-{d:03d}/telemetry", json.dumps({"v": 1, "readings": rows}).encode()))
    return out


def publish(port: int, msgs: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 and wait for every PUBACK from the broker."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{time.monotonic_ns()}")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    for k in range(0, len(msgs), 20_000):  # paho refuses more than 65,535 messages waiting at once
        infos = [c.publish(t, p, qos=1) for t, p in msgs[k:k + 20_000]]
        for i in infos:
            i.wait_for_publish(120)
    c.disconnect()
    c.loop_stop()


def register_session(port: int, client_id: str, topic: str = "yukimizu/v1/#") -> None:
    """Create a persistent QoS 1 subscription so the backlog queues for this client while it is away."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.subscribe(topic, qos=1)
    done.wait(10)
    c.disconnect()
    c.loop_stop()


def drop_session(port: int, client_id: str) -> None:
    """End a case's persistent session. Left in place, it would queue every later case's backlog too, and
    the broker's periodic save of all those queues could land in the middle of a later measurement."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    done = threading.Event()
    c.on_connect = lambda *a: done.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    done.wait(10)
    c.disconnect()
    c.loop_stop()


def count(db: InfluxV1) -> int:
    r = db.query('SELECT count("seq") FROM "soil"')
    return int(r[0]["values"][0][1]) if r else 0


def points_accepted(db: InfluxV1) -> int:
    """Points InfluxDB's shards of this database have accepted, from its own counters (/debug/vars)."""
    stats = db.http.get(f"{db.url}/debug/vars").json()
    return sum(v["values"].get("writePointsOk", 0) for k, v in stats.items()
               if k.startswith("shard:") and v.get("tags", {}).get("database") == db.database)


def wait_count(db: InfluxV1, n: int, timeout_s: float = 600) -> float:
    """Block until `n` readings are queryable; return the monotonic time it happened.

    The count query is the proof, but over 100,000 points it costs InfluxDB about 50 ms of CPU;
    polled every 50 ms it would take a third of a two-core machine from the run being measured.
    So this polls InfluxDB's write counter (about 2 ms of its CPU), more often as the count nears
    `n` (every 10 ms at the end, at most every 200 ms before), and counts only once the counter says
    every reading may be there."""
    t_first = time.monotonic()
    deadline = t_first + timeout_s
    while time.monotonic() < deadline:
        accepted = points_accepted(db)
        if accepted >= n and count(db) >= n:
            return time.monotonic()
        rate = accepted / max(time.monotonic() - t_first, 1e-3)
        time.sleep(min(max((n - accepted) / max(rate, 1.0) / 4, 0.01), 0.2))
    raise RuntimeError(f"only {count(db)} of {n} readings queryable after {timeout_s} s")


def gateway_config(root: Path, broker: Mosquitto, influx: InfluxDB, db: str, client_id: str,
                   shared_group: str = "", workers: int = 0) -> tuple[Path, int]:
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    reg = root / "devices.json"
    reg.write_text(json.dumps({"devices": [
        {"device_id": f"{p}-{d:03d}", "site": SITE, "kind": "soil", "field_id": f"f-{d % 17}", "vehicle_id": None,
         "route": None, "expected_interval_s": 600} for p in ("soil", "lat") for d in range(N_DEVICES)]}))
    cfg = root / f"{client_id}.toml"
    cfg.write_text(
        f'[mqtt]\nport = {broker.port}\nclient_id = "{client_id}"\nshared_group = "{shared_group}"\n'
        f'[influxdb]\nurl = "{influx.url}"\ndatabase = "{db}"\nbatch_size = 5000\nflush_interval_ms = 200\n'
        f'[spool]\npath = "{root / (client_id + ".sqlite3")}"\nsynchronous = "full"\n'
        f'[registry]\npath = "{reg}"\ncache_path = "{root / "reg-cache.json"}"\n'
        f'[intake]\nworkers = {workers}\n'
        f'[health]\nport = {port}\ninterval_s = 5\n[log]\nlevel = "warning"\n')
    return cfg, port


def launch_gateway(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start the gateway subprocess (not waiting for it)."""
    return subprocess.Popen([sys.executable, "-m", "edge_gateway", "--config", str(cfg)], stdout=open(log, "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_health(p: subprocess.Popen[bytes], port: int, log: Path, subscribed: bool) -> float:
    """Wait until the gateway's health endpoint answers and shows a broker connection (and, if asked,
    an active subscription); return the monotonic time that connection was made.

    The connection is the gateway's first moment of work, as `connect()` is the naive subscriber's.
    The receiver process starts before the gateway's own imports: when it connects first, the time
    those imports still take is counted; when the endpoint answers first, the gateway only waits."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            now = time.monotonic()
            h = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
            age_s = h.get("mqtt_connection_age_s")
            if age_s is not None and (h.get("mqtt_subscribed") or not subscribed):
                return now - age_s
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    p.kill()
    raise RuntimeError(f"gateway did not start; see {log}")


def start_gateway(cfg: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start the gateway subprocess and wait until its subscription is active."""
    p = launch_gateway(cfg, log)
    wait_health(p, port, log, subscribed=True)
    return p


def children(pid: int) -> list[int]:
    """Direct child processes of pid (the decoder workers)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return out


def peak_rss_mb(pid: int, with_children: bool = False) -> float:
    """VmHWM (peak resident set) of a live process, MB; with its children added when asked."""
    total = 0.0
    for p in [pid, *(children(pid) if with_children else [])]:
        for ln in Path(f"/proc/{p}/status").read_text().splitlines():
            if ln.startswith("VmHWM:"):
                total += int(ln.split()[1]) / 1024
    return total


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a live process has used (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_s(broker: Mosquitto, influx: InfluxDB) -> dict[str, float]:
    """CPU seconds InfluxDB and Mosquitto have used so far."""
    assert broker.proc is not None and influx.proc is not None
    return {"influxdb": cpu_s(influx.proc.pid), "mosquitto": cpu_s(broker.proc.pid)}


def run_gateway(root: Path, broker: Mosquitto, influx: InfluxDB, msgs: list[tuple[str, bytes]],
                name: str, processes: int = 1, workers: int = 0) -> tuple[float, float, float, dict[str, float]]:
    """Readings/s draining a pre-queued backlog through the gateway (1 process, or N on $share); peak RSS;
    readings per CPU-second of the gateway processes (independent of what else loads the machine); CPU
    seconds per process kind during the drain (gateway, its receiver and workers, InfluxDB, Mosquitto)."""
    db = InfluxV1(influx.url, name)
    db.create_database()
    group = name if processes > 1 else ""
    cfgs = []
    for i in range(processes):
        cid = f"bench-{name}-{i}"
        cfgs.append(gateway_config(root, broker, influx, name, cid, group, workers))
        register_session(broker.port, cid, f"$share/{group}/yukimizu/v1/#" if group else "yukimizu/v1/#")
    publish(broker.port, msgs)
    n = len(msgs) * READINGS_PER_MSG
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs = [launch_gateway(cfg, root / f"gateway-{i}.log") for i, (cfg, _port) in enumerate(cfgs)]
        # The clock starts when the first gateway's receiver connects: start-up is not throughput.
        t0 = min(wait_health(p, port, root / f"gateway-{i}.log", subscribed=False)
                 for i, (p, (_cfg, port)) in enumerate(zip(procs, cfgs)))
        def split() -> dict[str, float]:
            return {"gateway": sum(cpu_s(p.pid) for p in procs),
                    "receiver": sum(cpu_s(c) for p in procs for c in children(p.pid)), **server_cpu_s(broker, influx)}

        before = split()
        t1 = wait_count(db, n)
        used = {k: v - before[k] for k, v in split().items()}
        rss = max(peak_rss_mb(p.pid, with_children=True) for p in procs)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        for i in range(processes):
            drop_session(broker.port, f"bench-{name}-{i}")
    return n / (t1 - t0), rss, n / (used["gateway"] + used["receiver"]), used


def run_naive(broker: Mosquitto, influx: InfluxDB, msgs: list[tuple[str, bytes]], rep: int) -> float:
    """Readings/s for a subscriber that decodes each message and POSTs it alone (auto PUBACK)."""
    name = f"naive{rep}"
    db = InfluxV1(influx.url, name)
    db.create_database()
    register_session(broker.port, f"bench-{name}")
    publish(broker.port, msgs)
    http = httpx.Client()
    url = f"{influx.url}/write"

    def on_message(_c: mqtt.Client, _u: object, m: mqtt.MQTTMessage) -> None:
        body = "\n".join(reading_line(r) for r in decode(m.topic, m.payload).readings)
        http.post(url, params={"db": name, "precision": "ms"}, content=body.encode())

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{name}", clean_session=False)
    c.on_message = on_message
    t0 = time.monotonic()
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    t1 = wait_count(db, len(msgs) * READINGS_PER_MSG)
    c.disconnect()
    c.loop_stop()
    http.close()
    drop_session(broker.port, f"bench-{name}")
    return len(msgs) * READINGS_PER_MSG / (t1 - t0)


def run_raw(influx: InfluxDB, msgs: list[tuple[str, bytes]], rep: int) -> tuple[float, float]:
    """Readings/s posting the same line protocol straight to InfluxDB in 5,000-line batches; InfluxDB's CPU s."""
    db = InfluxV1(influx.url, f"raw{rep}")
    db.create_database()
    lines = [reading_line(r, {"field_id": "f-1"}) for t, p in msgs for r in decode(t, p).readings]
    http = httpx.Client(timeout=60)
    assert influx.proc is not None
    cpu0 = cpu_s(influx.proc.pid)
    t0 = time.monotonic()
    for i in range(0, len(lines), 5000):
        r = http.post(f"{influx.url}/write", params={"db": f"raw{rep}", "precision": "ms"},
                      content="\n".join(lines[i:i + 5000]).encode())
        assert r.status_code == 204, r.text
    t1 = wait_count(db, len(lines))
    http.close()
    return len(lines) / (t1 - t0), cpu_s(influx.proc.pid) - cpu0


def run_latency(root: Path, broker: Mosquitto, influx: InfluxDB) -> tuple[float, float, float]:
    """p50/p99/max seconds from publish to queryable at a steady LATENCY_RATE_READINGS_S."""
    root.mkdir(parents=True, exist_ok=True)
    db = InfluxV1(influx.url, "lat")
    db.create_database()
    cfg, port = gateway_config(root, broker, influx, "lat", "bench-latency")
    p = start_gateway(cfg, port, root / "gateway-latency.log")
    try:
        return _latency(p, broker, db)
    finally:
        p.terminate()
        p.wait()
        drop_session(broker.port, "bench-latency")


def _latency(p: subprocess.Popen[bytes], broker: Mosquitto, db: InfluxV1) -> tuple[float, float, float]:
    n_msgs = LATENCY_RATE_READINGS_S * LATENCY_SECONDS // READINGS_PER_MSG
    sent_at: list[tuple[str, int, float]] = []  # (device, last seq in message, wall time of publish)
    seen: dict[str, list[tuple[int, float]]] = {}
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            now = time.time()
            try:
                series = db.query('SELECT max("seq") FROM "soil" GROUP BY "device_id"')
            except InfluxError:
                continue  # a dropped keep-alive connection; the next poll reconnects
            for s in series:
                seen.setdefault(s["tags"]["device_id"], []).append((int(s["values"][0][1]), now))
            time.sleep(0.02)

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-lat-pub")
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    per_s = LATENCY_RATE_READINGS_S / READINGS_PER_MSG
    t0 = time.monotonic()
    wall0 = time.time()
    for k in range(n_msgs):
        ahead = t0 + k / per_s - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        d = k % N_DEVICES
        first = (k // N_DEVICES) * READINGS_PER_MSG
        now = time.time()
        # Device time from the schedule (each device reports once a second, readings 1 ms apart), not from
        # the wall clock: a publisher that stalls and catches up must not give two readings one timestamp.
        t_msg = wall0 + k / per_s
        rows = [{"seq": s, "t": round(t_msg - 0.001 * (first + READINGS_PER_MSG - s), 3), "vwc_pct": 25.0}
                for s in range(first, first + READINGS_PER_MSG)]
        dev = f"lat-{d:03d}"
        c.publish(f"yukimizu/v1/{SITE}/soil/{dev}/telemetry", json.dumps({"v": 1, "readings": rows}), qos=1)
        sent_at.append((dev, first + READINGS_PER_MSG - 1, now))
    wait_count(db, n_msgs * READINGS_PER_MSG, 60)
    time.sleep(0.1)
    stop.set()
    poller.join()
    c.disconnect()
    c.loop_stop()
    lat = []
    for dev, seq, t_pub in sent_at:
        t_seen = next(t for s, t in seen[dev] if s >= seq)
        lat.append(t_seen - t_pub)
    lat.sort()
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]


def _root_broker_config(root: Path) -> str:
    """`user root` when running as root and yukimizu.servers does not set a user itself (Mosquitto run
    as root drops to user `mosquitto`, which cannot write its persistence file in our temp folder)."""
    if os.geteuid() != 0:
        return ""
    conf = Mosquitto(root / "probe").write_config().read_text()
    return "" if any(ln.startswith("user ") for ln in conf.splitlines()) else "user root\n"


def compile_gateway() -> None:
    """Compile the gateway's modules to bytecode, as an installed package is (pip does it on install).

    Each run starts the gateway afresh, as after a power cut. Where PYTHONDONTWRITEBYTECODE is set (it
    is on the development machine) Python never saves what it compiles, and every start would compile
    the gateway again: about 50 ms, counted against it whenever its receiver connects first."""
    import compileall

    import edge_gateway
    import yukimizu

    for pkg in (edge_gateway, yukimizu):
        compileall.compile_dir(str(Path(pkg.__file__).parent), quiet=1)


def main() -> None:
    """Run the three throughput cases, the latency case, and print the table with ratios."""
    compile_gateway()
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        root = Path(tmp)
        broker = Mosquitto(root / "mosquitto", extra_config=_root_broker_config(root)).start()
        influx = InfluxDB(root / "influxdb").start()
        try:
            gw_rates, rss, per_cpu = [], [], []
            raw_rates = []
            splits: list[dict[str, float]] = []  # CPU seconds per process kind, each gateway run
            raw_influx_cpu = []
            naive_rates = []
            for rep in range(ROUNDS):
                # Interleaved, so each case sees the machine in the same minutes: its speed drifts.
                print(f"  run {rep + 1}/{ROUNDS}: gateway, raw ceiling, naive subscriber", flush=True)
                r, m, c, used = run_gateway(root / f"gw{rep}", broker, influx, messages(GATEWAY_MSGS), f"gw{rep}")
                gw_rates.append(r)
                splits.append(used)
                rss.append(m)
                per_cpu.append(c)
                raw_rate, raw_cpu = run_raw(influx, messages(GATEWAY_MSGS), rep)
                raw_rates.append(raw_rate)
                raw_influx_cpu.append(raw_cpu)
                naive_rates.append(run_naive(broker, influx, messages(NAIVE_MSGS), rep))
            print("  two gateway processes on one shared subscription", flush=True)
            two, _rss2, _cpu2, _used2 = run_gateway(root / "gw-shared", broker, influx, messages(GATEWAY_MSGS), "gwshared", 2)
            print("  gateway with 2 decoder worker processes", flush=True)
            wk, rss_wk, _cpu_wk, _used_wk = run_gateway(root / "gw-workers", broker, influx, messages(GATEWAY_MSGS), "gwworkers",
                                              workers=2)
            print(f"  a backlog of {BIG_BACKLOG_MSGS * READINGS_PER_MSG:,} readings (peak RSS)", flush=True)
            big, rss_big, _cpu_big, _used_big = run_gateway(root / "gw-big", broker, influx, messages(BIG_BACKLOG_MSGS),
                                                            "gwbig")
            print(f"  latency at {LATENCY_RATE_READINGS_S:,} readings/s", flush=True)
            p50, p99, pmax = run_latency(root / "lat", broker, influx)
        finally:
            broker.stop()
            influx.stop()
    gw, raw, naive = statistics.median(gw_rates), statistics.median(raw_rates), statistics.median(naive_rates)
    print(f"readings per case: gateway {GATEWAY_MSGS * READINGS_PER_MSG:,} (median of {ROUNDS}; 1 run with 2 processes), "
          f"raw {GATEWAY_MSGS * READINGS_PER_MSG:,} (median of {ROUNDS}), naive {NAIVE_MSGS * READINGS_PER_MSG:,} "
          f"(median of {ROUNDS}); {N_DEVICES} devices, {READINGS_PER_MSG} readings/message")
    print(f"{'case':<46}{'readings/s':>12}")
    print(f"{'gateway (spool fsync, PUBACK after commit)':<46}{gw:>12,.0f}   runs {', '.join(f'{x:,.0f}' for x in gw_rates)}")
    print(f"{'two gateways on $share (scale-out, 2 cores)':<46}{two:>12,.0f}   ratio to raw {two / raw:.2f}")
    print(f"{'gateway, [intake] workers = 2':<46}{wk:>12,.0f}   ratio to raw {wk / raw:.2f}, "
          f"RSS with workers {rss_wk:.0f} MB")
    print(f"{'naive subscriber (one HTTP write per message)':<46}{naive:>12,.0f}   runs {', '.join(f'{x:,.0f}' for x in naive_rates)}")
    print(f"{'raw ceiling (5,000-line batches, no MQTT)':<46}{raw:>12,.0f}   runs {', '.join(f'{x:,.0f}' for x in raw_rates)}")
    print(f"gateway / raw ceiling  {gw / raw:6.2f}   (target >= 0.50)   run by run "
          + ", ".join(f"{g / r:.2f}" for g, r in zip(gw_rates, raw_rates)))
    print(f"gateway / naive        {gw / naive:6.1f}   (target >= 20)     run by run "
          + ", ".join(f"{g / n:.1f}" for g, n in zip(gw_rates, naive_rates)))
    print(f"latency publish->queryable at {LATENCY_RATE_READINGS_S:,} readings/s for {LATENCY_SECONDS} s: "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {pmax * 1000:.0f} ms   (target p99 < 2000 ms; "
          f"poll every 20 ms)")
    print(f"gateway CPU cost: {statistics.median(per_cpu):,.0f} readings per CPU-second (gateway and receiver "
          f"processes together, whatever else runs)")
    per_100k = 100_000 / (GATEWAY_MSGS * READINGS_PER_MSG)
    kinds = ("receiver", "gateway", "influxdb", "mosquitto")
    med = {k: statistics.median(u[k] for u in splits) * per_100k for k in kinds}
    print(f"CPU seconds per 100,000 readings while draining (median of {ROUNDS}): "
          + ", ".join(f"{k} {med[k]:.2f}" for k in kinds) + f"; sum {sum(med.values()):.2f} on {os.cpu_count()} cores. "
          f"Raw ceiling: InfluxDB {statistics.median(raw_influx_cpu) * per_100k:.2f}")
    print(f"gateway peak RSS (VmHWM) {max(rss):.1f} MB, its receiver process included   (target < 80 MB); "
          f"draining {BIG_BACKLOG_MSGS * READINGS_PER_MSG:,} readings: {rss_big:.1f} MB at {big:,.0f} readings/s")
    print(f"machine load while measuring (1-min load average, {os.cpu_count()} cores): {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
