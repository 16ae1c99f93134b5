"""`yukimizu gateway --config gateway.toml` runs the gateway; `yukimizu gateway status` prints its health;
`yukimizu gateway dead-letters` lists refused messages from the spool file."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tomllib

from yukimizu.settings import SettingsError

from . import settings as gw_settings

_LABELS = {
    "mqtt_connected": "ブローカー接続 / broker connected",
    "mqtt_connection_age_s": "接続継続 / connected for (s)",
    "lora_open": "LoRa受信機 / LoRa receiver open",
    "received_msgs": "受信メッセージ / messages received",
    "readings_received": "受信データ / readings received",
    "spooled": "スプール済み / readings spooled",
    "written": "InfluxDB書込済み / readings written",
    "duplicates": "重複 / duplicates dropped",
    "dead_letters": "不正メッセージ / dead letters",
    "dropped_oldest": "満杯で破棄(古) / dropped, spool full (oldest)",
    "dropped_newest": "満杯で破棄(新) / dropped, spool full (newest)",
    "spool_depth_lines": "スプール残 / spool depth (readings)",
    "spool_bytes": "スプール容量 / spool bytes",
    "spool_age_s": "最古の待ち時間 / oldest waiting (s)",
    "write_latency_ms": "書込遅延 / write latency (ms)",
    "last_message_age_s": "最終受信から / since last message (s)",
    "registry_devices": "登録デバイス / registered devices",
    "last_error": "最後のエラー / last error",
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `gateway` subcommand (run, status, dead-letters)."""
    p = sub.add_parser("gateway", help="エッジゲートウェイ: MQTT → InfluxDB / edge gateway: MQTT to InfluxDB, no reading lost")
    p.add_argument("--config", "-c", default=os.environ.get("YUKIMIZU_GATEWAY_CONFIG"),
                   help="gateway.toml (see edge_gateway/gateway.example.toml); env YUKIMIZU_GATEWAY__SECTION__KEY overrides")
    p.set_defaults(func=run)
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    st = actions.add_parser("status", help="稼働状況を表示 / print the running gateway's health")
    st.add_argument("--config", "-c", default=argparse.SUPPRESS, help="gateway.toml (for [health] port)")
    st.add_argument("--port", type=int, help="health port (default: [health] port from --config)")
    st.add_argument("--json", action="store_true", help="print the raw JSON")
    st.set_defaults(func=status)
    dl = actions.add_parser("dead-letters", help="不正メッセージを表示 / list refused messages in the spool")
    dl.add_argument("--config", "-c", default=argparse.SUPPRESS, help="gateway.toml (for [spool] path)")
    dl.add_argument("--limit", type=int, default=20)
    dl.set_defaults(func=dead_letters)


def _settings(args: argparse.Namespace) -> gw_settings.GatewaySettings:
    try:
        return gw_settings.load(args.config)
    except SettingsError as e:
        print(f"設定エラー / settings error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def _health_port(config: str | None) -> int:
    """[health] port from the environment, else the config file, else the default; nothing else is checked,
    so `status` works on a machine where the rest of the config is not readable."""
    env = os.environ.get(f"{gw_settings.ENV_PREFIX}__HEALTH__PORT")
    try:
        if env:
            return int(env)
        if config:
            with open(config, "rb") as f:
                return int(tomllib.load(f).get("health", {}).get("port", gw_settings.HealthSettings().port))
    except (OSError, ValueError, tomllib.TOMLDecodeError) as e:
        print(f"設定エラー / settings error: health.port: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    return gw_settings.HealthSettings().port


def run(args: argparse.Namespace) -> int:
    """Run the gateway until SIGTERM."""
    s = _settings(args)
    from .receiver import spawn

    # The receiver's start-up (Python and paho, ~150 ms) overlaps the import of the rest of the
    # gateway: after a power cut or kill -9 the backlog starts to drain sooner.
    receiver = spawn(s.mqtt)
    from . import logs
    from .service import Gateway

    logs.setup(s.log.level)
    return Gateway(s, receiver).run()


def status(args: argparse.Namespace) -> int:
    """Print the running gateway's health snapshot; exit 1 when it does not answer."""
    import httpx

    from .health import fetch

    port = args.port if args.port is not None else _health_port(args.config)
    try:
        snap = fetch(port)
    except httpx.HTTPError as e:
        print(f"ゲートウェイが応答しません / gateway not answering on 127.0.0.1:{port}: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(snap, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"yukimizu gateway {snap.get('gateway')}  稼働 / up {snap.get('uptime_s')} s")
    t.add_column("項目 / item")
    t.add_column("値 / value", justify="right")
    for key, label in _LABELS.items():
        t.add_row(label, _shown(key, snap.get(key)))
    for reason, n in (snap.get("dead_letters_by_reason") or {}).items():
        t.add_row(f"  不正 / dead letter: {reason}", str(n))
    for reason, n in (snap.get("rejected_by_reason") or {}).items():
        t.add_row(f"  除外 / rejected: {reason}", str(n))
    Console().print(t)
    return 0


def _shown(key: str, value: object) -> str:
    """A snapshot value as the status table shows it: yes/no and blanks in words, not Python's."""
    if value is None:
        return "未設定 / not configured" if key == "lora_open" else "—"
    if isinstance(value, bool):
        return "はい / yes" if value else "いいえ / no"
    return str(value)


def dead_letters(args: argparse.Namespace) -> int:
    """List the newest dead letters (time in JST) from the spool file named in the config."""
    from .spool import Spool

    s = _settings(args)
    sp = Spool(s.spool.path, synchronous=s.spool.synchronous)
    try:
        for d in sp.dead_letters(args.limit):
            jst = time.strftime("%Y-%m-%d %H:%M:%S JST", time.gmtime(d.received_s + 9 * 3600))
            print(f"{jst}  {d.code:<18} {d.topic}\n    {d.reason}\n    {d.payload[:200]!r} ({d.payload_bytes} bytes)")
    finally:
        sp.close()
    return 0
