"""The firmware's MQTT 3.1.1 client on the MicroPython unix port against a real Mosquitto, with
real link faults: a TCP relay that loses PUBACKs or goes silent, a closed port, kill -9."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any


from mpy_harness import Collector, SimBoard, bundles, plow_bundle, run_script  # noqa: F401
from yukimizu.servers import Mosquitto, free_port


class FaultyLink:
    """A TCP relay between device and broker that can swallow PUBACKs or go silent (a dead cell)."""

    def __init__(self, broker_port: int):
        self.broker_port = broker_port
        self.drop_pubacks = 0
        self.silent = False
        self.dropped = 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                dev, _ = self.srv.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", self.broker_port))
            threading.Thread(target=self._pipe, args=(dev, up, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(up, dev, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, from_broker: bool) -> None:
        buf = b""
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                if not from_broker:
                    if not self.silent:
                        dst.sendall(data)
                    continue
                buf += data
                while len(buf) >= 2:  # whole MQTT packets: fixed header + remaining length
                    n, shift, i = 0, 0, 1
                    while i < len(buf) and buf[i] & 0x80:
                        n |= (buf[i] & 0x7F) << shift
                        shift += 7
                        i += 1
                    if i >= len(buf):
                        break
                    n |= (buf[i] & 0x7F) << shift
                    end = i + 1 + n
                    if len(buf) < end:
                        break
                    pkt, buf = buf[:end], buf[end:]
                    if pkt[0] & 0xF0 == 0x40 and self.drop_pubacks:
                        self.drop_pubacks -= 1
                        self.dropped += 1
                        continue
                    if not self.silent:
                        dst.sendall(pkt)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self.srv.close()




CLIENT = """
import asyncio, json, time
from mqtt import MQTTClient
async def main():
    c = MQTTClient("dev-1", "127.0.0.1", PORT, keepalive_s=KEEPALIVE, ack_timeout_ms=ACK_MS,
                   backoff_min_ms=100, connect_timeout_ms=1000, retries=3)
    out = []
    for i in range(N):
        ok = await c.publish("yukimizu/v1/goshogawara/soil/dev-1/telemetry",
                             b'{"v":1,"readings":[{"seq":%d,"t":1795600000,"vwc_pct":1.0}]}' % i)
        out.append(ok)
        await asyncio.sleep_ms(PAUSE_MS)
    print(json.dumps({"ok": out, "resends": c.resends, "connects": c.connects}))
    await c.disconnect()
asyncio.run(main())
"""


def _client(micropython: str, bundle: Path, tmp: Path, port: int, n: int = 3, keepalive: int = 60,
            ack_ms: int = 1000, pause_ms: int = 0) -> dict[str, Any]:
    script = (CLIENT.replace("PORT", str(port)).replace("KEEPALIVE", str(keepalive)).replace("ACK_MS", str(ack_ms))
              .replace("PAUSE_MS", str(pause_ms)).replace("N)", f"{n})"))
    return json.loads(run_script(micropython, bundle, script, tmp).splitlines()[-1])


def test_a_lost_puback_is_resent_with_the_same_reading_on_a_new_connection(
    micropython: str, bundles: dict[str, Path], tmp_path: Path, broker: Mosquitto, collector: Collector
) -> None:
    link = FaultyLink(broker.port)
    link.drop_pubacks = 1
    try:
        out = _client(micropython, bundles["soil"], tmp_path, link.port, n=3)
    finally:
        link.close()
    assert out["ok"] == [True, True, True] and out["resends"] == 1 and out["connects"] == 2
    assert collector.wait_for(lambda: len(collector.seqs()) >= 4)
    readings, redelivered = collector.by_seq()
    assert sorted(readings) == [0, 1, 2] and redelivered == 1, "at least once; the gateway dedups on (device_id, seq)"


def test_a_silent_link_is_noticed_by_keepalive_and_the_client_reconnects(
    micropython: str, bundles: dict[str, Path], tmp_path: Path, broker: Mosquitto, collector: Collector
) -> None:
    link = FaultyLink(broker.port)
    script = """
import asyncio, json
from mqtt import MQTTClient
async def main():
    c = MQTTClient("dev-2", "127.0.0.1", PORT, keepalive_s=1, backoff_min_ms=100, connect_timeout_ms=500)
    up = await c.connect()
    open("up", "w").close()
    while c.connected:
        await asyncio.sleep_ms(50)
    print("LOST")
    while True:
        try:
            open("heal")
            break
        except OSError:
            await asyncio.sleep_ms(50)
    ok = await c.publish("yukimizu/v1/goshogawara/soil/dev-2/telemetry", b'{"v":1,"readings":[{"seq":7,"t":1795600000,"vwc_pct":2.0}]}')
    print(json.dumps({"up": up, "ok": ok, "connects": c.connects}))
asyncio.run(main())
""".replace("PORT", str(link.port))
    (tmp_path / "s.py").write_text(script)
    env = {**os.environ, "MICROPYPATH": f".frozen:{bundles['soil'] / 'lib'}"}
    proc = subprocess.Popen([micropython, "-X", "heapsize=100K", "s.py"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "up").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        link.silent = True  # the cell goes dead: nothing in either direction, no FIN
        t0 = time.monotonic()
        line = proc.stdout.readline()  # type: ignore[union-attr]
        noticed_s = time.monotonic() - t0
        assert line.strip() == "LOST" and noticed_s < 5, "lost within about 1.5 keepalives"
        link.silent = False
        (tmp_path / "heal").touch()
        out = json.loads(proc.communicate(timeout=20)[0].splitlines()[-1])
    finally:
        proc.kill()
        link.close()
    assert out == {"up": True, "ok": True, "connects": 2}
    assert collector.wait_for(lambda: 7 in collector.seqs())


def test_reconnect_attempts_back_off_instead_of_hammering_a_dead_broker(
    micropython: str, bundles: dict[str, Path], tmp_path: Path
) -> None:
    port = free_port()  # nothing listens
    script = """
import asyncio, json, time
from mqtt import MQTTClient
async def main():
    c = MQTTClient("dev-3", "127.0.0.1", PORT, backoff_min_ms=100, backoff_max_ms=2000, connect_timeout_ms=500)
    t0 = time.ticks_ms()
    calls = 0
    while time.ticks_diff(time.ticks_ms(), t0) < 3000:
        await c.connect()
        calls += 1
        await asyncio.sleep_ms(10)
    print(json.dumps({"calls": calls, "attempts": c.failed_connects}))
asyncio.run(main())
""".replace("PORT", str(port))
    out = json.loads(run_script(micropython, bundles["soil"], script, tmp_path).splitlines()[-1])
    # 100, 200, 400, 800, 1600 ms (+ up to 25 % jitter) between attempts: 5-6 in 3 s, not one per call.
    assert out["calls"] > 100 and 4 <= out["attempts"] <= 7


def test_the_last_will_says_offline_when_a_plow_loses_power(
    micropython: str, plow_bundle: Path, tmp_path: Path, broker: Mosquitto, collector: Collector
) -> None:
    board = SimBoard(micropython, plow_bundle, tmp_path / "b",
                     {"device_id": "plow-9", "site": "goshogawara", "kind": "plow", "broker_url": f"mqtt://127.0.0.1:{broker.port}",
                      "sample_ms": 200, "batch_ms": 200, "run_s": 60})
    env = {**os.environ, "MICROPYPATH": f".frozen:{plow_bundle / 'lib'}", "YUKIMIZU_SIM_FEED": str(board.feed_path)}
    proc = subprocess.Popen([micropython, "-X", "heapsize=100K", str(plow_bundle / "main.py")], cwd=board.root, env=env,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        assert collector.wait_for(lambda: any(s.get("online") for s in collector.status()), 15)
        os.killpg(proc.pid, signal.SIGKILL)  # power cut: no DISCONNECT
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert collector.wait_for(lambda: collector.status()[-1] == {"v": 1, "online": False}, 10)
