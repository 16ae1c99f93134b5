"""`yukimizu demo`: the main job on one machine. Until the simulators land, a minimal live pipeline:
own Mosquitto and InfluxDB under ./var/, a device publishing readings, a subscriber decoding them with
the contract and writing line protocol, and the result read back with InfluxQL.
"""
from __future__ import annotations

import argparse
import json
import random
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from .contract import decode, reading_line, topic
from .influx import InfluxV1
from .servers import InfluxDB, Mosquitto


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `demo` subcommand."""
    p = sub.add_parser("demo", help="デモ: 一台で全体を動かす / run the whole pipeline on this machine")
    p.add_argument("--var", default="var", help="folder for the demo's own servers (default ./var)")
    p.add_argument("--seconds", type=float, default=10.0, help="how long the demo device publishes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the minimal pipeline and print what landed in InfluxDB."""
    var = Path(args.var).resolve()
    broker = Mosquitto(var / "mosquitto").start()
    influxdb = InfluxDB(var / "influxdb").start()
    print(f"Mosquitto {broker.url}   InfluxDB {influxdb.url}")
    db = InfluxV1(influxdb.url, "yukimizu")
    db.create_database()
    received = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        out = decode(msg.topic, msg.payload)
        db.write([reading_line(r) for r in out.readings])
        received.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-sink")
    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.subscribe("yukimizu/v1/#", qos=1)
    sub.loop_start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-paddy")
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    rng = random.Random(1)
    t_end = time.monotonic() + args.seconds
    seq = 0
    level_cm = 5.0
    try:
        while time.monotonic() < t_end:
            seq += 1
            level_cm = max(0.0, level_cm + rng.uniform(-0.3, 0.25))
            body = {"v": 1, "readings": [{"seq": seq, "t": time.time(), "level_cm": round(level_cm, 2),
                                          "water_temp_c": round(16 + rng.uniform(-1, 1), 2)}]}
            pub.publish(topic("goshogawara", "water", "paddy-demo"), json.dumps(body), qos=1).wait_for_publish(5)
            time.sleep(0.5)
        time.sleep(1.0)
        rows = db.rows("SELECT count(level_cm) AS n, last(level_cm) AS level_cm FROM water")
        print(f"InfluxDB now holds {rows[0]['n'] if rows else 0} water readings; "
              f"last level {rows[0]['level_cm'] if rows else '-'} cm / 最新水位")
    finally:
        pub.loop_stop()
        sub.loop_stop()
        broker.stop()
        influxdb.stop()
    return 0
